"""What notebook 06 shows: a patient's card and curves, the teaching path, the collapsed answers, and the
command line (python -m helpers.scenarios.clinic)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.paths import CLINIC_NOTEBOOK
from helpers.scenarios.clinic.evidence import Log
from helpers.scenarios.clinic.grading import examine
from helpers.scenarios.clinic.logs import write_all
from helpers.scenarios.clinic.patients import BY_ID, HEALTHY, LOG_COLUMNS, PATIENTS, PROBE_PATIENTS, check_id

# --- what the student sees ---------------------------------------------------------------------------------------


def show(patient_id: str) -> None:
    """Print a patient's complaint and facts, and plot its log (the notebook's one call per patient)."""
    import matplotlib.pyplot as plt

    p = BY_ID[check_id(patient_id)]
    rows = f"{p.val_size} val rows" if p.val_size else "val rows not given"
    print(f'Patient {p.id}: "{p.complaint}"\n  {p.loss}, {p.n_classes} classes, {rows}'
          + (f"; {p.facts}" if p.facts else "") + (f"; chance = {p.chance}" if p.chance else ""))
    if p in PATIENTS:
        print(f"  log: data/clinic/{p.log.name}")
        fig = plt.figure(figsize=(11, 3.4), layout="constrained")
        draw_patient(fig, p.id)
        plt.show()


def draw_patient(fig, patient_id: str) -> None:
    """A patient's log as the student would plot it: loss and accuracy, train and val (val as points if sparse)."""
    from matplotlib.ticker import MaxNLocator

    log = Log(BY_ID[check_id(patient_id)])
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for prefix, colour, label in (("", "C0", "train"), ("val_", "C1", "val")):
            values = log.columns.get(prefix + metric)
            if values is None:
                continue
            keep = np.isfinite(values)
            sparse = keep.sum() < len(keep)
            ax.plot(log.epochs[keep], values[keep], "o-" if sparse else "-", color=colour, label=label, ms=4)
        if metric == "loss" and ax.lines:
            ax.set_yscale("log")  # a ratio of two losses is a distance on this axis
        if metric == "accuracy":
            ax.axhline(log.patient.chance_level, color="grey", lw=0.8, ls=":",
                       label="chance (majority share)" if log.patient.chance is not None else "chance (1/K)")
            ax.set_ylim(-0.02, 1.02)
        if not ax.lines:
            ax.text(0.5, 0.5, f"no {metric} in this log", ha="center", va="center", transform=ax.transAxes)
        ax.set(title=f"patient {patient_id}: {metric}", xlabel="epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)


# One right answer per log patient: (diagnosis, evidence). The solutions print them; the tests check each.
EXAMPLE_EVIDENCE: dict[str, tuple[object, dict]] = {
    "A": ("OVERFITTING", {"best_epoch": 25, "rise": 0.29}),
    "B": ("STALE_NORM_STATS", {"val_loss/loss@2": 24.6, "val_loss/loss@6": 776, "val_loss/loss@10": 75}),
    "C": ("METRIC_INCONSISTENT", {"epoch": 30, "loss": 0.124, "accuracy": 0.0}),
    "D": ("OVERFITTING", {"gap@3": 0.095, "gap@10": 0.289}),
    "E": ("NOTHING_LEARNT", {"epoch": 10, "accuracy": 0.10, "val_accuracy": 0.065}),
    "F": (HEALTHY, {"epoch": 20, "accuracy": 0.895, "val_accuracy": 0.899}),
    "G": ("NOTHING_LEARNT", {"epoch": 60, "accuracy": 0.124, "val_accuracy": 0.111}),
    "H": ("UNDERFITTING", {"loss@40": 2.07}),
    "I": ({"METRIC_INCONSISTENT", "POPULATION_SHIFT"}, {"epoch": 1, "loss": 0.123, "accuracy": 0.021,
                                                        "val_loss/loss": 35, "val_loss/loss@300": 23}),
    "J": ("STALE_NORM_STATS", {"val_loss/loss@3": 292, "val_loss/loss@9": 1.44}),
    "K": ("POPULATION_SHIFT", {"best_epoch": 1, "val_loss/loss@1": 1.54, "val_loss/loss@3": 7.13}),
    "L": (HEALTHY, {"epoch": 30, "accuracy": 0.988, "val_accuracy": 0.965, "val_loss/loss": 1.07}),
    "M": ("OVERFITTING", {"best_epoch": 13, "widening": 1.03}),
    "N": ("OVERFITTING", {"best_epoch": 5, "rise": 0.47}),
    "O": ("OVERFITTING", {"best_epoch": 10, "rise": 0.23}),
    "P": ("OVERFITTING", {"best_epoch": 1, "rise": 0.65}),
    "Q": ("OVERFITTING", {"gap@3": 0.014, "gap@10": 0.459}),
    "R": (HEALTHY, {"epoch": 40, "accuracy": 0.915, "val_accuracy": 0.95}),
}


# --- the 90-minute path ------------------------------------------------------------------------------------------

LEVELS = ("warm-up", "core", "challenge")


@dataclass(frozen=True)
class Step:
    """One patient on the class's path: how hard, how long, and what the instructor watches for."""

    patient: str
    level: str
    minutes: int
    note: str


# Graded by difficulty: one fault that a single pair of numbers shows, then faults that need the shape over time,
# then logs where a bound's assumption or two readings decide. Minutes include plotting, answering and the
# feedback; the rest of the 90 is the opening (codes and evidence tables, 6 min) and the closing lessons (4 min).
PATH: tuple[Step, ...] = (
    Step("A", "warm-up", 8, "the classic: students cite best_epoch and rise; ask why the last epoch is no checkpoint"),
    Step("H", "warm-up", 8, "no alarm is not a good model: the loss still holds most of ln 10"),
    Step("C", "core", 10, "one epoch's loss and accuracy break the bound; ask which conditions the bound needs"),
    Step("B", "core", 10, "a huge early ratio, as in I, but it collapses: the shape over time decides"),
    Step("E", "core", 8, "both curves at chance: not overfitting; ask what a shuffle of X alone does"),
    Step("I", "core", 12, "two faults at once (metric and tail split); fixing one leaves the other"),
    Step("F", "challenge", 12, "the bound's weighted form: the doctor alarms unless told --weighted"),
    Step("K", "challenge", 12, "shift or overfitting from epoch 1: both are supported; ask which the facts favour"),
)
OPENING_MINUTES, CLOSING_MINUTES = 6, 4


def path_minutes() -> int:
    """The class's time: the opening, every patient on the path, the closing lessons."""
    return OPENING_MINUTES + sum(s.minutes for s in PATH) + CLOSING_MINUTES


def path_markdown() -> str:
    """Notebook 06's path table (the notebook shows it; a test checks it is this)."""
    rows = [f"| {i} | {s.patient} | {s.level} | {s.minutes} min | {s.note} |" for i, s in enumerate(PATH, start=1)]
    others = ", ".join(p.id for p in PATIENTS + PROBE_PATIENTS if p.id not in {s.patient for s in PATH})
    return ("| # | patient | level | time | for the instructor |\n|---|---|---|---|---|\n" + "\n".join(rows)
            + f"\n\nAbout {path_minutes()} minutes with the opening ({OPENING_MINUTES} min) and the closing lessons "
            f"({CLOSING_MINUTES} min). Beyond the path, for homework or a second class: {others}.")


def table(patient_id: str, first: int | None = None) -> str:
    """A patient's log as the numbers it holds, one row per epoch (blank where nothing was logged); `first` rows."""
    log = Log(BY_ID[check_id(patient_id)])
    names = [c for c in LOG_COLUMNS if log.has(c)]
    rows = [f"{'epoch':>5} " + " ".join(f"{n:>12}" for n in names)]
    for i, e in enumerate(log.epochs[:first]):
        cells = [log.columns[n][i] for n in names]
        rows.append(f"{e:>5} " + " ".join(f"{v:>12.4g}" if np.isfinite(v) else " " * 12 for v in cells))
    return "\n".join(rows)


def solution(patient_id: str) -> str:
    """What a patient was, what the doctor prints, and what the principles say (the collapsed solutions cell)."""
    p = BY_ID[check_id(patient_id)]
    answer = ", ".join(sorted(p.expected)) or f"{HEALTHY} (nothing wrong in the measurement)"
    lines = [f"{p.id}: {answer}", f"   what it was: {p.story}"]
    if p.source:
        lines.append(f"   log: {p.source}")
    if p in PATIENTS:
        if p.id in EXAMPLE_EVIDENCE:
            diagnosis, evidence = EXAMPLE_EVIDENCE[p.id]
            shown = ("{" + ", ".join(map(repr, sorted(diagnosis))) + "}" if isinstance(diagnosis, set | frozenset)
                     else repr(diagnosis))  # a set prints in hash order, which changes from run to run
            lines.append(f"   an answer: check_answer({p.id!r}, diagnosis={shown}, evidence={evidence})")
    findings = [str(f) for f in examine(p.id) if f.severity in ("warn", "error")]
    lines += [f"   doctor: {f}" for f in findings] or ["   doctor: no warning"]
    return "\n".join(lines)


def answer_markdown(patient_id: str) -> str:
    """Notebook 06's collapsed answer for a log patient, written from the patient's own data (never by hand)."""
    p = BY_ID[check_id(patient_id)]
    diagnosis, evidence = EXAMPLE_EVIDENCE[p.id]
    shown = ("{" + ", ".join(f'"{c}"' for c in sorted(diagnosis)) + "}" if isinstance(diagnosis, set | frozenset)
             else f'"{diagnosis}"')  # quoted: the line pastes into a code cell as it is
    cited = ", ".join(f'"{k}": {v!r}' for k, v in evidence.items())
    return (f"<details><summary>An answer for patient {p.id} (open once you have answered)</summary>\n\n"
            f"`check_answer(\"{p.id}\", diagnosis={shown}, evidence={{{cited}}})`\n\n"
            f"What it was: {p.story}. Source: {p.source}.\n</details>")


def write_answers(notebook: Path = CLINIC_NOTEBOOK) -> None:
    """Rewrite notebook 06's collapsed answers from the patients' data (after a patient or its log changes)."""
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and text.startswith("<details><summary>An answer for patient "):
            cell["source"] = answer_markdown(text.split("patient ")[1][0]).splitlines(keepends=True)
    notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.scenarios.clinic")
    parser.add_argument("--write", action="store_true", help="re-export every patient's log to data/clinic/")
    parser.add_argument("--answers", action="store_true", help="rewrite notebook 06's answers from the patients")
    args = parser.parse_args(argv)
    if args.answers:
        write_answers()
    if args.write:
        for path in write_all():
            print(path)
    return 0
