"""The doctor's thresholds (each with its reason) and the Context every check reads: the history, what the
user stated, and the noise of each curve."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from helpers.doctor.findings import Finding
from helpers.runs import History

CROSS_ENTROPY_LOSSES = ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy")
# Losses whose minimum is 0, so "how much of its first value is left" means something (UNDERFITTING).
ZERO_FLOOR_LOSSES = (*CROSS_ENTROPY_LOSSES, "mse", "mae", "huber")
LOSSES = (*ZERO_FLOOR_LOSSES, "other")

# --- thresholds and the principle behind each ---------------------------------------------------------------
# Logs print floats rounded to ~4 decimals (Keras' progress bar) and the bound compares two of them.
BOUND_TOLERANCE = 2e-3
# A change counts when it exceeds Z noise standard deviations: one-sided p ≈ 0.001 per test, so a log that
# faces a dozen tests rarely raises a false alarm from noise alone.
Z = 3.0
# Median |x_t − (x_{t−1} + x_{t+1})/2| of white noise with SD σ is 0.6745·√1.5·σ = 0.826σ; the second
# difference removes a locally linear trend, so this measures the jitter around the curve, not its slope.
MAD_TO_SIGMA = 0.826
# Below 0.1 % of its value a change is rounding of the printed number, whatever the measured jitter says
# (smooth synthetic or heavily averaged curves have a jitter of ~0).
RESOLUTION = 1e-3
# A cross-entropy network that has not seen the data yet scores ln K; training loss averaged over epoch 1
# already lies below. A validation loss ≥ 3× the training loss before training has had time to overfit
# (first epochs) means validation is scored by something other than the model training sees: stale
# BatchNorm statistics when it then collapses, another population when it stays. 3× is e^{1.1}: more than
# any generalisation gap a model can build in its first epochs, where it has memorised nothing yet.
EARLY_RATIO = 3.0
# The collapse of stale statistics happens within a few epochs (moving averages with momentum 0.99 over
# 50–500 steps an epoch catch up in 1–4 epochs); a slower fall is ordinary learning.
COLLAPSE_WINDOW = 4
# Stale statistics are stale from the start; the first epoch's training loss (an average over an epoch of
# learning) can hide it for an epoch or two, so the high phase must begin in the first 3 epochs.
STALE_START = 3
# Below twice the training loss a validation loss is an ordinary gap; from EARLY_RATIO on it is abnormal;
# in between, a shift must persist (and a stale collapse must come back below it).
NORMAL_RATIO = 2.0
# An accuracy difference is material at 2 binomial SEs of a typical validation set (p = 0.8, n = 256:
# SE = 0.025): smaller gaps and swings are what another seed or split gives. Used when val_size is unknown.
MATERIAL_ACCURACY = 0.05
SMALL_VAL_SE = MATERIAL_ACCURACY / 2  # a val set whose binomial SE exceeds this cannot separate fixes
NOISE_FACTOR = Z
# Underfitting: a model whose training loss still holds half of ln K (what a classifier that learnt nothing
# scores), or, for a regression loss (floor 0, no untrained level to compare with), half of its own first
# epoch's value, has not fit its data; a network that fits drives it down many-fold. A cross-entropy is never
# judged against its first logged value: that value is an epoch average (or a pretrained model's first
# window) that already holds most of the learning, and ln K is the level that means "learnt nothing"; with
# no class count, given or guessed, the check stays silent.
UNDERFIT_SHARE = 0.5
# A constant prediction repeats the same accuracy exactly. A model that still changes repeats a value on
# consecutive epochs with some probability q, measured on the log itself outside the run (1/2 with nothing
# to measure); a run of r equal values is a freeze when q^(r−1) ≤ FROZEN_P = 1/32 (and r ≥ 6, i.e. ≤ 1/32
# even at q = 1/2) while training accuracy moves.
FROZEN_REPEATS = 6
FROZEN_P = 1 / 32
# An untrained K-class classifier scores cross-entropy ln K; a first-epoch val loss within this share of
# ln K for an integer K names the class count when none is given.
LN_K_TOLERANCE = 0.05
# Plateau overfitting: the gap at the best epoch is what the model generalises with; when it has grown by
# half of that since (final ≥ 1.5× best), the growth is visible on the plot and is the story of the run.
WIDEN_SHARE = 0.5
MODE_GAP_RATIO = 1.5  # train-mode / inference-mode loss on the same data (probes.py)
MODE_GAP_ACCURACY = MATERIAL_ACCURACY

VERDICT_ORDER = ("DIVERGED", "METRIC_INCONSISTENT", "STALE_NORM_STATS", "VAL_AT_CHANCE", "NOTHING_LEARNT",
                 "POPULATION_SHIFT", "VAL_NOISY", "OVERFITTING", "UNDERFITTING")
VERDICT_WORDS = {"DIVERGED": "training diverged", "METRIC_INCONSISTENT": "the accuracy metric is not what it "
                 "seems", "STALE_NORM_STATS": "stale BatchNorm statistics", "VAL_AT_CHANCE": "validation at "
                 "chance", "NOTHING_LEARNT": "nothing learnt", "POPULATION_SHIFT": "validation from another "
                 "population", "VAL_NOISY": "noisy validation", "OVERFITTING": "overfitting",
                 "UNDERFITTING": "underfitting"}
# Metrics where higher is better; everything else (loss, mse, mae ...) is lower-is-better.
HIGHER_IS_BETTER = ("acc", "auc", "f1", "dice", "iou", "r2", "precision", "recall", "map", "score", "jaccard")


# --- numbers ------------------------------------------------------------------------------------------------


def noise_sigma(values: np.ndarray, *, tail: bool = True) -> float:
    """Robust SD of a curve's epoch-to-epoch jitter, trend removed (see MAD_TO_SIGMA).

    tail: use the last half only (early epochs move fast; their curvature is trend, not noise).
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if tail and len(x) >= 8:
        x = x[len(x) // 2 :]
    if len(x) < 3:
        return 0.0
    residual = x[1:-1] - (x[:-2] + x[2:]) / 2
    return float(np.median(np.abs(residual))) / MAD_TO_SIGMA


def smooth(values: np.ndarray) -> np.ndarray:
    """Running median over 3 epochs (5 from 15 epochs on): one-epoch spikes do not set a best epoch."""
    x = np.asarray(values, dtype=float)
    w = 5 if len(x) >= 15 else 3
    if len(x) < w:
        return x.copy()
    padded = np.pad(x, w // 2, mode="edge")  # the ends repeat their value, as scipy's mode="nearest"
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, w), axis=1)


def _higher_is_better(name: str) -> bool:
    base = name.removeprefix("val_").lower()
    return any(k in base for k in HIGHER_IS_BETTER) and "loss" not in base


@dataclass
class Context:
    """What every check reads: the history, the user's facts, and the findings so far."""

    history: History
    loss: str
    n_classes: int | None
    val_size: int | None
    chance: float | None
    loss_assumed: bool = False  # --loss not given: a cross-entropy is assumed, and findings that need it say so
    weighted: bool = False  # the training loss is a weighted mean (class_weight, sample_weight)
    mean_weight: float | None = None  # its mean per-sample weight, when known
    batchnorm: bool | None = None  # whether the network has BatchNorm (None: unknown; the log cannot show it)
    findings: list[Finding] = field(default_factory=list)
    start: int = 0  # first row the checks look at (after a stale-statistics collapse)
    stop: int | None = None  # one past the last row (before a divergence)
    notes: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(init=False)
    all_epochs: np.ndarray = field(init=False)

    @property
    def found(self) -> set[str]:
        return {f.code for f in self.findings if f.severity in ("error", "warn")}

    def __post_init__(self) -> None:
        # History stores lists; convert each column once, not at every check (100 000-epoch logs).
        self.arrays = {k: self.history[k] for k in self.history.metrics}
        self.all_epochs = self.history.epochs.astype(float)

    def at(self, x: float) -> str:
        """How the log counts its rows: "epoch 4", or on a Hugging Face log "evaluation 4 (step 1200)"."""
        fmt = self.history.info.get("format")
        steps = self.history.info.get("steps")
        if fmt == "hf" and steps is not None and 1 <= x <= len(steps):
            return f"evaluation {x:.0f} (step {steps[int(x) - 1]:.0f})"
        if self.history.info.get("x") == "step":
            return f"step {x:.0f}"
        return f"epoch {x:.0f}"

    @property
    def row(self) -> str:
        """One row of the log in words: "epoch", "logged epoch" (when rows skip epochs), "evaluation", "step"."""
        word = self.unit[:-1]
        if word == "epoch" and len(self.all_epochs) > 1 and np.nanmax(np.diff(self.all_epochs)) > 1:
            return "logged epoch"
        return word

    @property
    def unit(self) -> str:
        """The plural of what a row is: epochs, evaluations or steps."""
        if self.history.info.get("format") == "hf":
            return "evaluations"
        return "steps" if self.history.info.get("x") == "step" else "epochs"

    def col(self, name: str) -> np.ndarray | None:
        if name not in self.arrays:
            return None
        return self.arrays[name][self.start : self.stop]

    @property
    def epochs(self) -> np.ndarray:
        return self.all_epochs[self.start : self.stop]

    def pair(self, *names: str) -> tuple[np.ndarray, ...] | None:
        """(epochs, columns...) over the rows where every named column is finite; None if one is missing."""
        cols = [self.col(n) for n in names]
        if any(c is None for c in cols):
            return None
        ok = np.logical_and.reduce([np.isfinite(c) for c in cols])
        return (self.epochs[ok], *[c[ok] for c in cols])
