"""Agreement of the doctor with hand labels on a corpus of real public training logs.

The corpus lives in ``data/doctor_corpus/``: log files in subfolders (keras/, lightning/, hf/ ...) and
manifests ``manifest-*.json``, each a JSON list of entries with at least ``file`` (relative to the corpus
folder), ``format``, ``repo``, ``commit``, ``path``, ``loss``, ``classes``, ``labels`` and ``note``. The
labels were written by hand, from the numbers, before the doctor saw the log.

Batches. The entries of ``manifest-keras.json`` and ``manifest-lightning-hf.json`` are the ORIGINAL corpus, the one
the doctor's rules were checked on while they were written. A later manifest adds a batch of logs from repositories
the corpus did not hold, gathered and labelled blind *after* the rules were frozen (``manifest-unseen-2026-12.json``:
each entry carries ``batch``, ``added`` and ``labelled``); it measures the doctor on logs it has never seen, so its
agreement is reported apart from the original's and no threshold is ever changed to raise it. An entry without
``batch`` belongs to ORIGINAL.

Mapping from doctor codes to hand labels (``CODE_TO_LABEL``): each warn/error code names the label of the
same name, except NOTHING_LEARNT and UNDERFITTING (info) → UNDERFITTING and DIVERGED → OTHER. A log with
no such code is HEALTHY. The doctor's *primary verdict* is the label of its first code in
``checks.ordered_codes`` (VERDICT_ORDER, the order the GAP line's verdict uses), else HEALTHY.

A file holding several appended runs is labelled by hand as a whole, so the doctor reads every run
(``gap-doctor --all``) and the file's labels are the union, primary first in the same order.

Agreement, precisely: a log agrees when the doctor's primary verdict is among its hand labels. A
METRIC_INCONSISTENT false alarm is a log where the doctor reports METRIC_INCONSISTENT (anywhere, not only as
primary) and the hand labels do not.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from helpers.doctor.checks import LOSSES, diagnose_history, ordered_codes
from helpers.doctor.findings import Finding
from helpers.doctor.readers import read_runs
from helpers.paths import DOCTOR_CORPUS

# Runtime data lives under data/, never tests/ (issue 29).
CORPUS = DOCTOR_CORPUS  # the corpus's folder (helpers.paths holds every repository path)
LABELS = ("HEALTHY", "OVERFITTING", "UNDERFITTING", "VAL_NOISY", "VAL_AT_CHANCE", "STALE_NORM_STATS",
          "METRIC_INCONSISTENT", "POPULATION_SHIFT", "OTHER")
CODE_TO_LABEL = {"METRIC_INCONSISTENT": "METRIC_INCONSISTENT", "STALE_NORM_STATS": "STALE_NORM_STATS",
                 "VAL_AT_CHANCE": "VAL_AT_CHANCE", "NOTHING_LEARNT": "UNDERFITTING",
                 "POPULATION_SHIFT": "POPULATION_SHIFT", "VAL_NOISY": "VAL_NOISY", "OVERFITTING": "OVERFITTING",
                 "UNDERFITTING": "UNDERFITTING", "DIVERGED": "OTHER"}
ORIGINAL = "original"  # the batch of entries that carry no ``batch`` field
UNSEEN = "unseen-2026-12"  # logs gathered and labelled blind after the rules were frozen (issue 35 item 9)
# What changed in the doctor after a batch was first measured: readers only, never a threshold or rule tuned to it.
CHANGES_SINCE = {
    ORIGINAL: "87/99 (88 %) before the UNDERFITTING change named under the unseen batch, which costs one log here "
              "(a cross-entropy run whose class count the manifest does not record: its 3 % fall is no longer "
              "judged).",
    UNSEEN: "First measured at 21/31 (68 %), with the rules frozen. Changed since, neither tuned to this batch: "
            "(1) a reader bug it exposed: a row with no training and no validation number is no epoch (a Lightning "
            "metrics.csv's final test-only row, `Final F1 Score` and `test_loss`, had read as one more epoch of NaN, "
            "called DIVERGED): 22/31; (2) UNDERFITTING judges a cross-entropy only against ln K, with the class "
            "count given or guessed, and no longer by its fall from the first logged value, an epoch average that "
            "may already hold most of the learning (\"fell only 23–35 %\"); a regression loss keeps that yardstick: "
            "23/31.",
}
# Manifest format names → the reader's (FORMATS); a manifest may use either.
FORMAT_NAMES = {"keras_csv": "keras_csv", "keras_json": "keras_json", "keras_history_json": "keras_json",
                "lightning_csv": "lightning", "lightning": "lightning", "hf_trainer_state": "hf", "hf": "hf",
                "tensorboard": "tensorboard"}


def loss_argument(loss: Any) -> str:
    """The ``loss=`` for diagnose_history from a manifest's loss name (cross-entropies, mse, mae, or "other")."""
    name = str(loss or "").lower().replace("-", "_").replace(" ", "_")
    if name in LOSSES:
        return name
    if name in ("mean_squared_error", "l2", "mse_loss"):
        return "mse"
    if name in ("mean_absolute_error", "l1", "l1_loss"):
        return "mae"
    if "cross_entropy" in name or "crossentropy" in name or name in ("nll", "nll_loss", "ce", "log_loss"):
        return "categorical_crossentropy"  # the accuracy bound holds for every cross-entropy
    return "other"


def doctor_labels(findings: list[Finding]) -> list[str]:
    """The hand-label vocabulary for the doctor's findings, primary verdict first (HEALTHY when none).

    findings: of one run, or of every run of a file together.
    """
    labels = list(dict.fromkeys(CODE_TO_LABEL[c] for c in ordered_codes(findings)))
    return labels or ["HEALTHY"]


@dataclass
class CorpusResult:
    """Per-log rows and the agreement numbers derived from them."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def batch(self, name: str) -> CorpusResult:
        """The rows of one batch (ORIGINAL, UNSEEN ...), as a result of their own."""
        return CorpusResult([r for r in self.rows if r["batch"] == name])

    @property
    def batches(self) -> list[str]:
        """Batch names in the order their first log appears (ORIGINAL first: its manifests sort first)."""
        return list(dict.fromkeys(r["batch"] for r in self.rows))

    @property
    def agreement(self) -> float:
        return float(np.mean([r["agree"] for r in self.rows])) if self.rows else float("nan")

    @property
    def metric_false_alarms(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if "METRIC_INCONSISTENT" in r["doctor"]
                and "METRIC_INCONSISTENT" not in r["labels"]]

    def per_label(self) -> dict[str, dict[str, int]]:
        """For each hand label: logs carrying it, how many agree, and how often the doctor names it."""
        out = {}
        for label in LABELS:
            mine = [r for r in self.rows if label in r["labels"]]
            said = [r for r in self.rows if r["primary"] == label]
            out[label] = {"logs": len(mine), "agree": sum(r["agree"] for r in mine),
                          "named": sum(label in r["doctor"] for r in mine),
                          "primary": len(said), "primary_right": sum(label in r["labels"] for r in said)}
        return out

    def per_format(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in self.rows:
            d = out.setdefault(r["format"], {"logs": 0, "agree": 0})
            d["logs"] += 1
            d["agree"] += r["agree"]
        return out


def read_manifests(root: Path = CORPUS) -> list[dict[str, Any]]:
    """Every entry of every ``manifest-*.json`` under ``root``; raises ValueError naming a broken one."""
    entries = []
    for manifest in sorted(Path(root).glob("manifest-*.json")):
        try:
            doc = json.loads(manifest.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{manifest}: not valid JSON ({err}).") from None
        if not isinstance(doc, list):
            raise ValueError(f"{manifest}: expected a JSON list of entries.")
        for e in doc:
            missing = [k for k in ("file", "format", "labels") if k not in e]
            if missing:
                raise ValueError(f"{manifest}: entry {e.get('file', '?')} lacks {', '.join(missing)}.")
            unknown = set(e["labels"]) - set(LABELS)
            if unknown:
                raise ValueError(f"{manifest}: {e['file']} has labels {sorted(unknown)}; allowed: {', '.join(LABELS)}.")
            entries.append({**e, "manifest": manifest.name})
    return entries


def evaluate_corpus(root: Path = CORPUS) -> CorpusResult:
    """Run the doctor on every log of every manifest (format auto-detected) and compare with the hand labels.

    root: the corpus folder. The manifest's loss and classes are passed as a user would pass --loss and
    --classes; val_size is not (the manifests do not record it).
    """
    result = CorpusResult()
    for e in read_manifests(root):
        path = Path(root) / e["file"]
        classes = e.get("classes")
        n_classes = classes if isinstance(classes, int) and classes >= 2 else None
        row: dict[str, Any] = {"file": e["file"], "labels": list(e["labels"]),
                               "format": FORMAT_NAMES.get(e["format"], e["format"]),
                               "batch": e.get("batch", ORIGINAL), "repo": e.get("repo", "")}
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                runs = read_runs(path)
                found = [f for h in runs for f in diagnose_history(h, loss=loss_argument(e.get("loss")),
                                                                   n_classes=n_classes)]
            row.update(detected=runs[-1].info.get("format"), runs=len(runs), doctor=doctor_labels(found),
                       gap=next((f.message for f in found if f.code == "GAP"), ""), error="")
        except ValueError as err:
            row.update(detected=None, doctor=["UNREADABLE"], gap="", error=str(err))
        row["primary"] = row["doctor"][0]
        row["agree"] = row["primary"] in row["labels"]
        result.rows.append(row)
    return result


def _tables(result: CorpusResult) -> list[str]:
    """Markdown lines: per hand label, per format, and the disagreements of one set of rows."""
    lines = ["| hand label | logs | agree | doctor names it | doctor's primary | of which right |",
             "|---|---|---|---|---|---|"]
    for label, d in result.per_label().items():
        if d["logs"] or d["primary"]:
            lines.append(f"| {label} | {d['logs']} | {d['agree']} | {d['named']} | {d['primary']} | "
                         f"{d['primary_right']} |")
    lines += ["", "| format | logs | agree | share |", "|---|---|---|---|"]
    for fmt, d in sorted(result.per_format().items()):
        lines.append(f"| {fmt} | {d['logs']} | {d['agree']} | {100 * d['agree'] / d['logs']:.0f} % |")
    misses = Counter(f"{r['primary']} for {'/'.join(r['labels'])}" for r in result.rows if not r["agree"])
    if misses:
        lines += ["", "Disagreements (doctor's primary for the hand labels): "
                  + "; ".join(f"{k} ×{v}" for k, v in misses.most_common()) + "."]
    return lines


def _headline(result: CorpusResult, what: str) -> str:
    n = len(result.rows)
    agree = sum(r["agree"] for r in result.rows)
    return (f"Doctor vs hand labels on {what}: **{agree}/{n} agree ({100 * result.agreement:.0f} %)**; "
            f"METRIC_INCONSISTENT false alarms: {len(result.metric_false_alarms)}.")


def agreement_table(result: CorpusResult | None = None) -> str:
    """Markdown: agreement per batch (original corpus, then each unseen batch apart), per hand label and format.

    Runs ``evaluate_corpus`` if not given. The batches are never pooled into one headline: the original corpus
    is where the rules were checked, an unseen batch is the honest measurement.
    """
    result = result if result is not None else evaluate_corpus()
    original = result.batch(ORIGINAL)
    lines = [_headline(original, f"the original corpus, {len(original.rows)} real public logs") + " A log agrees "
             "when the doctor's primary verdict is among its hand labels.", ""]
    if ORIGINAL in CHANGES_SINCE:
        lines += [CHANGES_SINCE[ORIGINAL], ""]
    lines += _tables(original)
    for name in result.batches:
        if name == ORIGINAL:
            continue
        batch = result.batch(name)
        repos = len({r["repo"] for r in batch.rows})
        lines += ["", f"### Unseen logs ({name})", "",
                  _headline(batch, f"{len(batch.rows)} logs from {repos} repositories the original corpus does "
                            "not hold, labelled blind before the doctor ran on them"), ""]
        if name in CHANGES_SINCE:
            lines += [CHANGES_SINCE[name], ""]
        lines += _tables(batch)
        missed = [r for r in batch.rows if not r["agree"]]
        if missed:
            lines += ["", "Each miss (file: doctor's primary; hand labels):", ""]
            lines += [f"- `{r['file']}`: {r['primary']}; {'/'.join(r['labels'])}" for r in missed]
    return "\n".join(lines)


if __name__ == "__main__":
    res = evaluate_corpus()
    for r in res.rows:
        mark = "ok  " if r["agree"] else "MISS"
        print(f"{mark} [{r['batch']}] {r['file'][:70]:70s} hand={r['labels']} doctor={r['doctor']} {r['error']}")
        if not r["agree"]:
            print(f"      {r['gap']}")
    print(agreement_table(res))
