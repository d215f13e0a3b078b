"""Case 04 in the poster's library: the committed Keras 2.2.4 runs (make period) beside Keras 3's."""

from __future__ import annotations

import numpy as np

from helpers.paths import PERIOD_JSON
from helpers.runs import History
from helpers.scenarios.case04_metric.claims import EXACT, FORUM, WEIGHTED
from helpers.scenarios.case04_metric.lab import as_logged, load_data
from helpers.scenarios.case04_metric.runs import GOOD_WEIGHT, MetricCaseConfig, configs
from helpers.validate import check_choice, check_range

# --- the class-weight fingerprint, and the poster's own Keras ----------------------------------------------

# The period script's four setups (helpers/period/keras22_case04.py), by what the lesson calls them.
PERIOD_RUNS = {
    "post": "post: 'accuracy', unweighted, validation_split",
    "a": "(a) exact-equality acc, unweighted, validation_split",
    "b_split": "(b) class_weight, validation_split",
    "b_data": "(b) class_weight, validation_data (unweighted)",
}
POST_BAD_RATE = 0.02  # the post's epoch-1 acc 0.0207 and val_acc 0.0168, read as the share of bad parts (a guess)


def constant_optimum(bad_rate: float, good_weight: float = 1.0, val_bad_rate: float | None = None) -> dict:
    """What a network that has learnt only the class prior prints: the best constant output and its losses.

    With ``class_weight={0: 1, 1: w}`` and a share ``b`` of bad parts (label 0), Keras's loss for a constant
    output q = p(good) is w (1 - b) (-ln q) + b (-ln(1 - q)), smallest at q* = w (1 - b) / (w (1 - b) + b).
    For w = b / (1 - b) that is exactly 1/2, the training loss 2 b ln 2 and the unweighted validation loss ln 2;
    unweighted (w = 1), q* = 1 - b and both losses are the entropy of the prior. The accuracy column: every part
    called bad (b) when q* < 1/2, good (1 - b) when q* > 1/2, and anything in between when q* = 1/2.
    """
    check_range("bad_rate", bad_rate, 1e-4, 0.5)
    check_range("good_weight", good_weight, 1e-4, 1.0)
    b, w = float(bad_rate), float(good_weight)
    bv = b if val_bad_rate is None else float(val_bad_rate)
    q = w * (1 - b) / (w * (1 - b) + b)
    at_half = abs(q - 0.5) < 1e-3
    acc = (b, 1 - b) if at_half else ((b, b) if q < 0.5 else (1 - b, 1 - b))
    val_acc = (bv, 1 - bv) if at_half else ((bv, bv) if q < 0.5 else (1 - bv, 1 - bv))
    return {"output": q, "loss": -(w * (1 - b) * np.log(q) + b * np.log(1 - q)),
            "val_loss": -((1 - bv) * np.log(q) + bv * np.log(1 - q)), "mean_weight": w * (1 - b) + b,
            "acc": acc, "val_acc": val_acc}


def period() -> dict:
    """The committed output of ``make period``: the post's network in Keras 2.2.4 (data/period/*.json)."""
    import json

    if not PERIOD_JSON.exists():
        raise FileNotFoundError(f"{PERIOD_JSON} is missing: run `make period` (Python 3.7, Keras 2.2.4).")
    return json.loads(PERIOD_JSON.read_text())


def period_histories(key: str, data: dict | None = None) -> list[dict]:
    """One Keras 2.2 ``history.history`` (plus the period script's columns and bad rates) per seed, for ``key``."""
    check_choice("key", key, PERIOD_RUNS)
    data = data or period()
    seeds = data["runs"][PERIOD_RUNS[key]]["seeds"]
    return [{**{k: np.asarray(v) for k, v in s["history"].items()}, "train_bad_rate": s["train_bad_rate"],
             "val_bad_rate": s["val_bad_rate"]} for s in seeds.values()]


def post_setup(scale: str = "mini") -> tuple[MetricCaseConfig, dict[str, np.ndarray]]:
    """The post cell's run (hypothesis (b)'s config) and its data: a time-ordered log, good part = 1, bad = 0."""
    config = configs(scale)[WEIGHTED]
    return config, load_data(config)


def _span(values: list[float], digits: int = 4) -> str:
    values = [float(v) for v in values]
    if max(values) - min(values) < 0.5 * 10 ** -digits:
        return f"{np.mean(values):.{digits}f}"
    return f"{np.mean(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def _keras3_rows(seeds: list[dict[str, History]]) -> dict[str, list[float]]:
    rows = {}
    for label, name, metric in (("Keras 3.15, (a) Accuracy()", EXACT, "Accuracy()"),
                                ("Keras 3.15, (b) class_weight + validation_split", WEIGHTED, "'accuracy'")):
        logs = [as_logged(seed[name], metric) for seed in seeds]
        rows[label] = [[float(log[k][-1]) for log in logs] for k in ("loss", "accuracy", "val_loss", "val_accuracy")]
    return rows


def side_by_side(seeds: list[dict[str, History]], data: dict | None = None):
    """The post's last line beside (a), (b) and the fingerprint's prediction, in Keras 2.2.4 and Keras 3.15.

    Runs: last epoch, mean (lowest–highest) over the seeds. Fingerprint: computed (``constant_optimum``) at each
    data set's share of bad parts with w = b / (1 - b); an accuracy given as a range means "anywhere in it".
    """
    data = data or period()
    rows: dict[str, list[str]] = {}
    rows["the post, epoch 300/300"] = [f"{FORUM[k][-1]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy")]

    b = POST_BAD_RATE
    rows[f"fingerprint at the post's guessed b = {b}"] = at_half([b], b / (1 - b), [b])
    keys = ("loss", "acc", "val_loss", "val_acc")
    for key, label in (("a", "Keras 2.2.4, (a) home-made exact acc"),
                       ("b_split", "Keras 2.2.4, (b) class_weight + validation_split"),
                       ("b_data", "Keras 2.2.4, (b) class_weight + unweighted validation_data")):
        hs = period_histories(key, data)
        rows[label] = [_span([h[k][-1] for h in hs]) for k in keys]
    setup = data["setup"]
    hs = period_histories("b_data", data)
    rows["fingerprint at Keras 2.2.4's data (b per seed)"] = at_half(
        [h["train_bad_rate"] for h in hs], setup["good_weight"], [h["val_bad_rate"] for h in hs])
    for label, columns in _keras3_rows(seeds).items():
        rows[label] = [_span(c) for c in columns]
    rows["fingerprint at Keras 3's data (b per seed)"] = at_half(
        [seed[WEIGHTED].info["train_bad_rate"] for seed in seeds], GOOD_WEIGHT,
        [seed[WEIGHTED].info["val_bad_rate"] for seed in seeds])
    lines = ["| | loss | acc | val_loss | val_acc |", "|---|---|---|---|---|"]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows.items()]
    return MarkdownTable("\n".join(lines))


class MarkdownTable(str):
    """A markdown table that a notebook renders as a table (and prints as its source)."""

    def _repr_markdown_(self) -> str:
        return str(self)


def at_half(train_bad_rates: list[float], good_weight: float, val_bad_rates: list[float]) -> list[str]:
    """The fingerprint's row: every output 0.5, so loss = mean weight x ln 2, val_loss = ln 2, acc anywhere."""
    from helpers.stats import LN2

    losses = [(good_weight * (1 - b) + b) * LN2 for b in train_bad_rates]
    acc = f"{min(train_bad_rates):.2f} to {1 - min(train_bad_rates):.2f}"
    val_acc = f"{min(val_bad_rates):.2f} to {1 - min(val_bad_rates):.2f}"
    return [_span(losses), acc, f"{LN2:.4f}", val_acc]
