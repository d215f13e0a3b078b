"""History checks: everything the doctor reads from per-epoch numbers alone.

The checks run as ONE ordered list (``CHECKS``). Each sees the findings of the checks before it, and the
rules between findings are written out here, once:

1. DIVERGED first: epochs after the loss turned NaN/inf are dropped for every later check.
2. METRIC_INCONSISTENT (cross-entropy losses only) is reported beside whatever else the loss curves show,
   but it suppresses VAL_AT_CHANCE and NOTHING_LEARNT: an accuracy column that is not an accuracy says
   nothing about chance.
3. STALE_NORM_STATS: the epochs before its collapse are not the model's real validation, so every later
   check sees only the epochs from the collapse on, and POPULATION_SHIFT is not tested (a collapse is not
   a shift).
4. VAL_NOISY runs before POPULATION_SHIFT and suppresses its route (b) (single epochs of a noisy curve
   cannot show that validation "never followed").
5. VAL_AT_CHANCE before NOTHING_LEARNT; NOTHING_LEARNT (train at chance too) suppresses OVERFITTING and
   UNDERFITTING (it says more than either).
6. OVERFITTING, POPULATION_SHIFT and VAL_NOISY may stand together (they are separate facts); the verdict
   (``ordered_codes``) follows VERDICT_ORDER, except that OVERFITTING leads when the numbers say it
   explains more of the gap: at least half of the final gap built after validation stopped improving
   (before POPULATION_SHIFT), a widening larger than the loss's swings (before VAL_NOISY).
7. UNDERFITTING (info) only when nothing above explains the curves.
8. GAP last: one summary line on every log with a train and a val curve; its verdict is the first code of
   ``ordered_codes``, else what the gap itself says.

Thresholds come from two principles, stated beside each constant: the binomial noise of an accuracy
measured on ``val_size`` rows, and the log's own epoch-to-epoch jitter (``noise_sigma``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from helpers.doctor.findings import Finding
from helpers.doctor.readers import as_history
from helpers.runs import History
from helpers.stats import BOUND_CONDITIONS, accuracy_floor, binomial_se

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
STALE_RATIO = EARLY_RATIO  # kept for callers of the old module
SHIFT_RATIO = EARLY_RATIO
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
OVERFIT_RISE = RESOLUTION  # kept for callers of the old module; the rise must also beat the noise

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


# --- the checks ---------------------------------------------------------------------------------------------


def check_diverged(ctx: Context) -> list[Finding]:
    """DIVERGED: the losses are NaN or infinite from some epoch to the end, after finite epochs.

    Both losses must go (when both are logged): one blank column at the end is a skipped evaluation or an
    unfinished epoch, not a divergence.
    """
    names = [n for n in ("loss", "val_loss") if ctx.col(n) is not None]
    if not names:
        return []
    finite = np.logical_or.reduce([np.isfinite(ctx.col(n)) for n in names])
    if not finite.any() or finite[-1]:
        return []
    at = int(np.flatnonzero(finite)[-1]) + 1
    if at < 2:
        return []
    epochs = ctx.epochs
    ctx.stop = ctx.start + at
    return [Finding(
        "DIVERGED", "warn",
        f"{' and '.join(names)} are NaN or infinite from {ctx.at(epochs[at])} to the end ({len(finite) - at} of "
        f"{len(finite)} {ctx.unit}): training diverged; the other checks read the epochs before.",
        {"epoch": int(epochs[at]), "epochs_non_finite": len(finite) - at},
        "Lower the learning rate, clip gradients, check the inputs for NaN/inf and the loss for log(0).",
    )]


def check_metric_consistency(ctx: Context) -> list[Finding]:
    """METRIC_INCONSISTENT: an accuracy below ``helpers.stats.accuracy_floor`` at the same epoch.

    The bound and its conditions are stated once, in ``helpers.stats`` (BOUND_CONDITIONS): label smoothing keeps
    it; with per-sample weights it bounds the *weighted* accuracy, with the mean weight in the denominator. So a
    weighted log is checked only when its mean weight is known (``mean_weight``); ``weighted`` without it stays
    silent (the unweighted accuracy is not bounded). With the loss assumed (not given), the finding is a
    warning that names the assumption; with the loss given, an error.
    """
    if ctx.loss not in CROSS_ENTROPY_LOSSES or (ctx.weighted and ctx.mean_weight is None):
        return []
    findings = []
    for prefix, split in (("", "training"), ("val_", "validation")):
        got = ctx.pair(f"{prefix}loss", f"{prefix}accuracy")
        if got is None or not len(got[0]):
            continue
        epochs, loss, acc = got
        # Multi-label (binary cross-entropy over K > 2 outputs): the loss is a mean over K labels, so the
        # expected number of wrong labels is ≤ K·L/ln 2 and subset accuracy ≥ 1 − K·L/ln 2.
        labels = ctx.n_classes if ctx.loss == "binary_crossentropy" and (ctx.n_classes or 0) > 2 else 1
        # Validation is weighted only when the user's validation data carry weights; Keras's class_weight
        # weights training alone, so the weighted form applies to the training split.
        weight = ctx.mean_weight if (ctx.mean_weight is not None and prefix == "") else 1.0
        if ctx.weighted and prefix == "val_":
            continue  # whether validation was weighted too is not in the log
        floor = accuracy_floor(labels * loss, weight)
        bad = np.flatnonzero(acc < floor - BOUND_TOLERANCE)
        if not len(bad):
            continue
        worst = int(bad[np.argmax((floor - acc)[bad])])
        form = "1 − L/ln 2" if labels == 1 else f"1 − {labels}·L/ln 2"
        if weight != 1.0:
            form = f"1 − L/({weight:.3g}·ln 2) (weighted accuracy, mean weight {weight:.3g})"
        assumed = ("assuming the loss is a cross-entropy (--loss not given; a focal or multi-label loss breaks "
                   "the bound: pass --loss other), " if ctx.loss_assumed else "")
        findings.append(Finding(
            "METRIC_INCONSISTENT", "warn" if ctx.loss_assumed else "error",
            f"{split} accuracy {acc[worst]:.4f} is impossible at loss {loss[worst]:.4f} ({ctx.at(epochs[worst])}): "
            f"{assumed}a log-loss L allows no accuracy below {form} = {floor[worst]:.4f}, provided "
            f"{'; '.join(BOUND_CONDITIONS[1:3])}"
            + ("" if ctx.weighted else " and the loss is unweighted (pass --weighted for class_weight/sample_weight)")
            + ".",
            {"split": split, "epochs_inconsistent": len(bad), "epochs_logged": len(epochs),
             "epoch": float(epochs[worst]), "loss": float(loss[worst]), "accuracy": float(acc[worst]),
             "accuracy_floor": float(floor[worst]), "mean_weight": weight, "loss_assumed": ctx.loss_assumed},
            "The metric is not the accuracy you think (e.g. keras.metrics.Accuracy() tests exact equality of "
            "probabilities and labels; use BinaryAccuracy/'binary_accuracy' or SparseCategoricalAccuracy), or the "
            "labels do not match the outputs. Fix the metric before tuning anything.",
        ))
    return findings


def _ratio(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    got = ctx.pair("loss", "val_loss")
    if got is None or not len(got[0]):
        return None
    epochs, train, val = got
    if np.any(train < 0) or np.any(val < 0):  # a loss that can go negative has no meaningful ratio
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = val / np.maximum(train, 1e-12)
    return epochs, train, val, ratio


def check_stale_norm_stats(ctx: Context) -> list[Finding]:
    """STALE_NORM_STATS: val ≥ EARLY_RATIO × train in the first epochs, then a collapse of that ratio.

    Within COLLAPSE_WINDOW epochs the ratio falls by EARLY_RATIO (training loss alone cannot do that) and
    stays down, or (high from the first epoch) falls back below 2 and stays there: BatchNorm's moving
    statistics caught up. The fall must come from validation: the validation loss itself falls by the factor the
    ratio had to fall (a training loss that jumps up also shrinks the ratio, and says nothing about BatchNorm).

    Only BatchNorm explains the collapse, and a log cannot show whether the network has it: ``batchnorm=False``
    silences the check, ``None`` (unknown) makes the finding say that it assumes BatchNorm.
    """
    if ctx.batchnorm is False or ctx.weighted:  # weighted training loss: the ratio compares unlike things
        return []
    got = _ratio(ctx)
    if got is None or len(got[0]) < 3:
        return []
    epochs, _, val, ratio = got
    high = ratio >= EARLY_RATIO
    # Stale statistics are stale from the start: the high phase includes one of the first STALE_START epochs
    # (the first epoch's training loss is an average over an epoch of learning and may hide it).
    early = np.flatnonzero(high[:STALE_START])
    if not len(early):
        return []
    i = int(early[0])
    # The high phase starts early and lasts without a break until the collapse (which may come late: with
    # momentum 0.99 and few steps an epoch the statistics take several epochs to catch up).
    while i < len(ratio) and high[i]:
        for j in range(i + 1, len(ratio)):
            if epochs[j] - epochs[i] > COLLAPSE_WINDOW:
                break
            after = float(np.median(ratio[j:]))
            # The excess disappears: the ratio falls by the factor that made it abnormal and stays down, or,
            # high from the very first epoch, it falls back into the normal range (below 2, where
            # POPULATION_SHIFT's "stays" begins).
            fell = ratio[i] / max(ratio[j], 1e-12) >= EARLY_RATIO and after * EARLY_RATIO <= ratio[i]
            back = i == 0 and ratio[j] < NORMAL_RATIO and after < NORMAL_RATIO
            # The ratio fell because validation itself collapsed, by the factor the ratio had to fall (not
            # because the training loss jumped up).
            from_val = val[i] / max(val[j], 1e-12) >= (EARLY_RATIO if fell else ratio[i] / NORMAL_RATIO)
            if from_val and (fell or back):
                start = int(np.flatnonzero(ctx.epochs == epochs[j])[0])
                ctx.start += start
                return [Finding(
                    "STALE_NORM_STATS", "warn",
                    f"validation loss was {ratio[i]:.1f}× the training loss at {ctx.at(epochs[i])}, then that "
                    f"ratio fell {ratio[i] / ratio[j]:.0f}× by {ctx.at(epochs[j])}"
                    + (": BatchNorm's moving statistics were catching up" if ctx.batchnorm else
                       ": if the network has BatchNorm (the log cannot show it; pass --no-batchnorm if not), its "
                       "moving statistics were catching up")
                    + ", and this is not overfitting.",
                    {"epoch_high": float(epochs[i]), "ratio_high": float(ratio[i]),
                     "epoch_collapse_start": float(epochs[i]), "epoch_collapsed": float(epochs[j]),
                     "collapse_factor": float(val[i] / max(val[j], 1e-12)),
                     "ratio_fall": float(ratio[i] / max(ratio[j], 1e-12)),
                     "assumes_batchnorm": ctx.batchnorm is None},
                    "Score the training set in inference mode too (it shows the same high loss); lower the "
                    "BatchNorm momentum (e.g. 0.9) or train more steps per epoch; judge the model after the collapse.",
                )]
        i += 1
    return []


def check_population_shift(ctx: Context) -> list[Finding]:
    """POPULATION_SHIFT: validation never followed training down, from the first epochs on.

    (a) The first epoch already has val loss ≥ EARLY_RATIO × train loss and the median ratio stays there.
    (b) While training loss falls to 1/EARLY_RATIO of its start (too early for overfitting to open a gap;
    validation normally follows), validation recovers less than half of what training gained, and the ratio
    is ≥ 2 there and after; validation either never improved on its first epoch or was already ≥ 2× training
    at its best epoch (so the gap was there before any overfitting), and its best epoch is not in the last
    third (it stopped following). Not on a VAL_NOISY curve.

    A validation best at the first epoch (or evaluation) that was then no worse than the training loss had
    everything training had: the gap that opens after is overfitting (the commonest fine-tuning shape: a
    pretrained model is already fit at its first evaluation), not another population. Not on a weighted log
    (its training loss is a weighted mean, its validation loss not: their ratio compares unlike things).
    """
    if "STALE_NORM_STATS" in ctx.found or ctx.weighted:
        return []
    got = _ratio(ctx)
    if got is None:
        return []
    epochs, train, val, ratio = got
    median_all = float(np.median(ratio))
    evidence: dict[str, Any] = {"epoch1_ratio": float(ratio[0]), "median_ratio": median_all,
                                "final_ratio": float(ratio[-1])}
    if ratio[0] >= EARLY_RATIO and median_all >= EARLY_RATIO:
        message = (f"validation loss is {ratio[0]:.1f}× the training loss at {ctx.at(epochs[0])} and stays "
                   f"{median_all:.1f}× (median): validation looks drawn from another population.")
    else:
        fallen = np.flatnonzero(train <= train[0] / EARLY_RATIO)
        best = int(np.argmin(smooth(val)))
        still_improving = best >= len(val) - max(1, len(val) // 3)
        # At epoch 1 the training loss is an average over a learning epoch, so the ordinary-gap test is
        # val ≤ train there; later, val < NORMAL_RATIO × train.
        followed = ratio[best] < (NORMAL_RATIO if best > 0 else 1.0)
        if not len(fallen) or followed or "VAL_NOISY" in ctx.found or still_improving:
            # Validation that improved and was close to training at its best epoch comes from the same
            # population: a gap that opens after it is overfitting. A validation still reaching its best in
            # the last third of the run is following training, only more slowly. And a noisy validation
            # curve cannot show "never followed" with single epochs.
            return []
        e = int(fallen[0])
        gain_share = float((val[0] - val[e]) / max(train[0] - train[e], 1e-12))
        after = float(np.median(ratio[e:]))
        if not (gain_share < 0.5 and ratio[e] >= NORMAL_RATIO and after >= NORMAL_RATIO):
            return []
        evidence.update(early_epoch=float(epochs[e]), val_gain_share=gain_share, ratio_at_best=float(ratio[best]),
                        ratio_at_early_epoch=float(ratio[e]), median_ratio_after=after)
        message = (f"by {ctx.at(epochs[e])} training loss fell to a third, but validation recovered only "
                   f"{100 * max(gain_share, 0):.0f}% of that gain and stays {after:.1f}× the training loss: validation "
                   "looks drawn from another population (or nothing learnt carries over to it).")
    return [Finding(
        "POPULATION_SHIFT", "warn", message, evidence,
        "Check how validation was split: validation_split takes the last rows (another period if data is "
        "ordered), sorted file lists give one end of each class, recordings differ. Shuffle/stratify, or split "
        "by time or group on purpose and keep an independent test set.",
    )]


def _chance_band(chance: float, val_size: int | None) -> float:
    """2 binomial SEs around chance when the val size is known, else MATERIAL_ACCURACY."""
    return max(2 * binomial_se(chance, val_size), 1.0 / val_size) if val_size else MATERIAL_ACCURACY


def _frozen_run(values: np.ndarray) -> tuple[int, int]:
    """(length, start) of the longest run of repeated values (to 1e-6: two different counts over n ≤ 10⁶ rows
    differ by at least 1/n, while float32 rounding of the same count differs by ~1e-7)."""
    if len(values) == 0:
        return 0, 0
    same = np.abs(np.diff(values)) <= 1e-6
    # Runs of "same as the previous value": boundaries where `same` switches on and off.
    edges = np.flatnonzero(np.diff(np.concatenate([[0], same.astype(int), [0]])))
    if not len(edges):
        return 1, 0
    starts, ends = edges[::2], edges[1::2]
    k = int(np.argmax(ends - starts))
    return int(ends[k] - starts[k]) + 1, int(starts[k])


def _inferred_chance(ctx: Context) -> tuple[float | None, str]:
    """Chance from the user, from a frozen val accuracy, or from a first-epoch val loss ≈ ln K."""
    if ctx.chance is not None:
        return ctx.chance, "given"
    got = ctx.pair("val_loss")
    # A guess needs a cross-entropy (ln K is what an untrained classifier scores) and is said as a guess.
    stated = ctx.loss in CROSS_ENTROPY_LOSSES and not ctx.weighted
    if stated and got is not None and len(got[0]):
        first = float(got[1][0])
        k = round(math.exp(first)) if first < 10 else 0
        if k >= 2 and abs(first - math.log(k)) <= LN_K_TOLERANCE * math.log(k):
            return 1.0 / k, f"guessed: {k} classes, from the first-epoch val loss {first:.3f} ≈ ln {k}"
    return None, ""


def check_val_at_chance(ctx: Context) -> list[Finding]:
    """VAL_AT_CHANCE: val accuracy frozen (a constant prediction) or within noise of chance while train climbs."""
    got = ctx.pair("accuracy", "val_accuracy")
    if got is None or len(got[0]) < 2 or "METRIC_INCONSISTENT" in ctx.found:
        return []  # an accuracy column that is not an accuracy says nothing about chance
    epochs, train, val = got
    run, at = _frozen_run(val)
    if not 0.0 < val[at] < 1.0:  # a constant prediction scores its class's share, strictly between 0 and 1
        run = 0
    train_noise = max(noise_sigma(train), RESOLUTION)
    # How often this log repeats a value outside the run (Laplace's rule; 1/2 with nothing to go on): a small
    # val set repeats often, so its runs must be longer before they are exceptional (q^(run−1) ≤ 1/32).
    pairs = np.abs(np.diff(val)) <= 1e-6
    outside = np.ones(len(pairs), dtype=bool)
    outside[at : at + run - 1] = False
    q = (int(pairs[outside].sum()) + 1) / (int(outside.sum()) + 2)
    if run >= FROZEN_REPEATS and q ** (run - 1) <= FROZEN_P:
        moved = float(np.ptp(train[at : at + run]))
        if moved > Z * train_noise and moved >= MATERIAL_ACCURACY / 2:
            return [Finding(
                "VAL_AT_CHANCE", "warn",
                f"validation accuracy is exactly {val[at]:.6g} for {run} {ctx.unit} in a row (from "
                f"{ctx.at(epochs[at])}) while training accuracy moved {moved:.3f}: the model predicts one class for "
                f"every validation sample, so {val[at]:.3f} is that class's share (chance/majority).",
                {"frozen_value": float(val[at]), "frozen_epochs": run, "from_epoch": float(epochs[at]),
                 "repeat_rate_elsewhere": q,
                 "train_accuracy_moved": moved, "chance": float(val[at]), "chance_from": "frozen value"},
                "A constant prediction: check the output layer (activation and units match the loss), the label "
                "encoding, the learning rate (too high kills ReLUs), class imbalance (weight or resample).",
            )]
    chance, source = _inferred_chance(ctx)
    if chance is None:
        return []
    ctx.notes["chance"], ctx.notes["chance_from"] = chance, source
    tail = val[-max(1, len(val) // 3) :]
    band = _chance_band(chance, ctx.val_size)
    climbed = train[-1] - chance >= 3 * MATERIAL_ACCURACY and train[-1] - train[0] >= MATERIAL_ACCURACY
    if np.all(np.abs(tail - chance) <= band) and climbed:
        guessed = f" ({source}; pass --classes)" if source.startswith("guessed") else ""
        return [Finding(
            "VAL_AT_CHANCE", "warn",
            f"validation accuracy stays within {band:.3f} of chance ({chance:.3f}{guessed}) while training accuracy "
            f"climbed to {train[-1]:.3f}: the model learns nothing that carries to validation.",
            {"chance": chance, "chance_from": source, "val_accuracy_last": float(val[-1]),
             "train_accuracy_last": float(train[-1]), "noise_band": band},
            "Check that inputs and labels are still paired (X and y shuffled together), that validation labels use "
            "the same encoding, and that the split is not broken; with far too little data this is memorisation.",
        )]
    return []


def check_nothing_learnt(ctx: Context) -> list[Finding]:
    """NOTHING_LEARNT: training and validation accuracy both stay at chance: the model cannot fit its data."""
    chance = ctx.chance if ctx.chance is not None else ctx.notes.get("chance")
    got = ctx.pair("accuracy", "val_accuracy")
    if chance is None or got is None or len(got[0]) < 5 or ctx.found & {"VAL_AT_CHANCE", "METRIC_INCONSISTENT"}:
        return []
    epochs, train, val = got
    tail = slice(-max(2, len(epochs) // 3), None)
    band = _chance_band(chance, ctx.val_size)
    # Training accuracy is an average over many batches, so it sits closer to chance than validation does.
    if np.all(np.abs(train[tail] - chance) <= max(band, MATERIAL_ACCURACY)) and np.all(
            np.abs(val[tail] - chance) <= band):
        return [Finding(
            "NOTHING_LEARNT", "warn",
            f"after {len(epochs)} {ctx.unit} training accuracy ({train[-1]:.3f}) and validation accuracy "
            f"({val[-1]:.3f}) both sit at chance ({chance:.3f}"
            + (f"; {ctx.notes.get('chance_from')}; pass --classes" if str(ctx.notes.get("chance_from", "")).startswith(
                "guessed") and ctx.chance is None else "")
            + "): the model cannot fit even the data it trains on, "
            "so this is not overfitting.",
            {"chance": chance, "train_accuracy_last": float(train[-1]), "val_accuracy_last": float(val[-1]),
             "noise_band": band, "epochs": len(epochs)},
            "Check that inputs and labels are still paired (one permutation for X and y), that the labels are the "
            "ones you think (print a few beside their inputs), that the inputs are not constant, and that the "
            "learning rate is neither zero nor huge. Then try to overfit a handful of samples.",
        )]
    return []


def check_val_noise(ctx: Context) -> list[Finding]:
    """VAL_NOISY: validation jitters beyond its binomial error or beyond what the gap can be read through.

    With val_size: accuracy jitter > NOISE_FACTOR × binomial SE (warn), or an SE ≥ SMALL_VAL_SE (info).
    Without: the val curve's noise is NOISE_FACTOR × the train curve's, its swings (±2σ) are as large as
    the train–val gap and their range (4σ) as large as the curve's improvement: no single epoch tells either.
    """
    acc = ctx.pair("accuracy", "val_accuracy")
    val_only = ctx.pair("val_accuracy")
    if ctx.val_size and val_only is not None and len(val_only[0]) >= 3:
        val = val_only[1]
        half = val[len(val) // 2 :] if len(val) >= 6 else val
        p = float(np.clip(half.mean(), 0.0, 1.0))
        se = float(binomial_se(p, ctx.val_size))
        # What moves validation accuracy between epochs when nothing is wrong: the binomial error of
        # val_size rows, and the weights themselves changing (the training curve's own jitter). On a large
        # validation set the first is tiny and the second dominates, so both belong to the noise floor.
        s_val = noise_sigma(val)
        s_train = noise_sigma(acc[1]) if acc is not None and len(acc[0]) >= 3 else 0.0
        expected = math.sqrt(max(se, 1.0 / ctx.val_size) ** 2 + s_train ** 2)
        sv = smooth(val)
        improvement = float(abs(sv.max() - sv[0]))
        gap = abs(float(np.median((acc[1] - acc[2])[-max(3, len(acc[0]) // 3) :]))) if acc is not None and len(
            acc[0]) else 0.0
        # Noise is a problem when it also hides the story: swings (±2σ) as large as the gap, range (4σ) as
        # large as the curve's improvement.
        hides = 2 * s_val >= max(gap, 2 * se) or 4 * s_val >= improvement
        if s_val > NOISE_FACTOR * expected and hides:
            return [Finding(
                "VAL_NOISY", "warn",
                f"validation accuracy swings ±{2 * s_val:.3f} around its trend from one {ctx.row} to the "
                f"next, {s_val / expected:.0f}× what {ctx.val_size} rows (binomial SE {se:.4f}) and the training "
                f"curve's own jitter ({s_train:.4f}) explain: something besides sampling moves it.",
                {"val_noise_sd": s_val, "binomial_se": se, "train_noise_sd": s_train, "val_size": ctx.val_size,
                 "gap": gap, "val_improvement": improvement, "metric": "accuracy", "swing": 2 * s_val},
                "Look for randomness reaching validation (augmentation, dropout at inference), a learning rate that "
                "is too high, or BatchNorm statistics that move between epochs.",
            )]
        if se >= SMALL_VAL_SE:
            return [Finding(
                "VAL_NOISY", "info",
                f"with {ctx.val_size} validation rows, accuracy near {p:.2f} is only known to ±{se:.3f} (1 SE): "
                f"differences smaller than {2 * se:.2f} between runs are noise.",
                {"binomial_se": se, "val_size": ctx.val_size, "val_noise_sd": s_val},
                "Use a larger validation set, cross-validation, or report the error bar beside every number.",
            )]
        return []
    for name, got in (("accuracy", acc), ("loss", ctx.pair("loss", "val_loss"))):
        if got is None or len(got[0]) < 5:
            continue
        _, train, val = got
        if name == "loss":
            if np.any(train <= 0) or np.any(val <= 0):
                continue
            train, val = np.log(train), np.log(val)  # relative swings: a loss's noise scales with its level
        s_val = noise_sigma(val, tail=False)
        s_train = max(noise_sigma(train, tail=False), RESOLUTION)
        sv = smooth(val)
        gap = abs(float(np.median((val - train)[-max(3, len(val) // 3) :])))
        improvement = float(abs(sv[0] - (sv.max() if name == "accuracy" else sv.min())))
        floor = MATERIAL_ACCURACY if name == "accuracy" else RESOLUTION
        # ±2σ covers 95 % of the swings; 4σ peak to peak. Noise hides the story when the swings are as large
        # as the gap and their range as large as the curve's whole improvement.
        # A loss's gap on the log scale grows without bound as training loss goes to 0, so for losses only
        # the improvement is the story; for accuracies both are.
        hides_gap = 2 * s_val >= max(gap, floor) or name == "loss"
        if s_val > NOISE_FACTOR * s_train and hides_gap and 4 * s_val >= improvement:
            unit = "" if name == "accuracy" else " (log scale: relative swings)"
            return [Finding(
                "VAL_NOISY", "warn",
                f"validation {name} swings ±{2 * s_val:.3f}{unit} from one {ctx.row} to the next, "
                f"{s_val / s_train:.0f}× the training curve's jitter and as large as what the curves show "
                f"(gap {gap:.3f}, improvement {improvement:.3f}): read the trend, not any single {ctx.row}.",
                {"metric": name, "val_noise_sd": s_val, "train_noise_sd": s_train, "gap": gap,
                 "val_improvement": improvement,
                 # the swing in the loss's own units (±2σ; σ is relative on the log scale)
                 "swing": 2 * s_val * (float(np.exp(np.median(val))) if name == "loss" else 1.0)},
                "Validate on more rows (or average over several evaluations); look for randomness reaching "
                "validation and for a learning rate that is too high; pick checkpoints on a smoothed curve.",
            )]
    return []


def _overfit_analysis(ctx: Context) -> dict[str, Any] | None:
    """Best val epoch, rise and widening of the loss gap since then, each measured against the log's noise."""
    got = ctx.pair("loss", "val_loss")
    if got is None or len(got[0]) < 4:
        return None
    epochs, train, val = got
    sv, st = smooth(val), smooth(train)
    w = 5 if len(val) >= 15 else 3
    # The smoothed curve finds the region of the best epoch; the raw values inside its window pick the epoch
    # (the checkpoint one would keep).
    m = int(np.argmin(sv))
    lo = max(0, m - w // 2)
    b = lo + int(np.argmin(val[lo : m + w // 2 + 1]))
    level = max(abs(float(sv[b])), 1e-12)
    s_val = max(noise_sigma(val), RESOLUTION * level)
    # Validation stopped improving at the first epoch whose smoothed value is within noise of the best (a
    # running median of w points has SD ≈ 1.25σ/√w); on a noisy plateau the minimum itself is a late dip.
    p = min(b, int(np.flatnonzero(sv <= sv[m] + Z * 1.25 * s_val / math.sqrt(w))[0]))
    after, plateau = len(val) - 1 - b, len(val) - 1 - p
    k = max(2, after // 2)
    kp = max(2, plateau // 2)
    end_val = float(np.mean(val[-k:]))
    gap = val - train
    s_gap = max(noise_sigma(gap), RESOLUTION * level)
    rise = end_val - float(sv[m])
    end_gap = float(np.mean(gap[-kp:]))
    gap_at_plateau = float(sv[p]) - float(st[p])
    widen = end_gap - gap_at_plateau
    # A mean of k points minus a running median of w points: SD ≈ σ√(1/k + 1.25²/w).
    # A rise needs epochs after the best one (the mean of the last two epochs of a curve still falling at its
    # end lies above its last value, and is no rise).
    rise_sig = after >= 2 and rise > Z * s_val * math.sqrt(1 / k + 1.5625 / w)
    widen_sig = widen > Z * s_gap * math.sqrt(1 / kp + 1.5625 / w)
    train_noise = max(noise_sigma(train), RESOLUTION * abs(float(st[p])))
    still_learning = float(np.mean(train[-kp:])) < float(st[p]) - Z * train_noise * math.sqrt(1 / kp + 1.5625 / w)
    # The best value printed is the logged one at the logged epoch (the checkpoint one would keep), never the
    # smoothed curve's; the rise is measured from it too.
    rise = end_val - float(val[b])
    return {"epochs": epochs, "best": b, "best_epoch": float(epochs[b]), "best_val_loss": float(val[b]),
            "plateau_epoch": float(epochs[p]), "after": after, "plateau": plateau, "rise": rise,
            "gap_at_best": gap_at_plateau, "rise_share": rise / max(abs(float(val[b])), 1e-12), "widen": widen,
            "end_k": k, "end_val": end_val, "train_at_best": float(train[b]),
            "lowest_epoch": float(epochs[int(np.argmin(val))]), "lowest_val_loss": float(np.min(val)),
            "final_gap": end_gap, "rise_significant": bool(rise_sig),
            "widen_significant": bool(widen_sig), "train_still_falling": bool(still_learning),
            "final_val_loss": float(val[-1]), "final_train_loss": float(train[-1])}


def check_overfitting(ctx: Context) -> list[Finding]:
    """OVERFITTING: since its best epoch val loss rose, or stayed flat while the gap widened, beyond noise.

    Rise: the mean of the last epochs is above the (smoothed) best by Z noise SDs, while training loss kept
    falling. Plateau: val loss has stayed within noise of its best for ≥ 2 epochs and ≥ a fifth of the run,
    while training loss kept falling, the train–val gap widened by Z noise SDs and by WIDEN_SHARE of its size at
    the best epoch, and (when accuracies are logged) the accuracy gap at the end is material.
    """
    if ctx.found & {"NOTHING_LEARNT"}:
        return []
    a = _overfit_analysis(ctx)
    if a is None or a["after"] < 2:
        return []
    ctx.notes["overfit"] = a
    span_ok = a["plateau"] >= max(2, len(a["epochs"]) // 5)
    rise = a["rise_significant"] and a["train_still_falling"]
    acc = ctx.pair("accuracy", "val_accuracy")
    material = acc is None or not len(acc[0]) or float(np.mean((acc[1] - acc[2])[-3:])) >= MATERIAL_ACCURACY
    plateau = (span_ok and a["widen_significant"] and a["train_still_falling"] and material
               and a["widen"] >= WIDEN_SHARE * a["gap_at_best"])
    if not (rise or plateau):
        return []
    extra = {}
    if acc is not None and len(acc[0]):  # the same story in accuracy, for --explain
        at_best = int(np.argmin(np.abs(acc[0] - a["best_epoch"])))
        extra = {"accuracy_gap_at_best": float(acc[1][at_best] - acc[2][at_best]),
                 "accuracy_gap_final": float(np.mean((acc[1] - acc[2])[-3:]))}
    how = (f"the mean of its last {a['end_k']} {ctx.unit}, {a['end_val']:.4g}, is {a['rise']:.3g} "
           f"({100 * a['rise_share']:.0f}%) above it," if rise else
           f"has been flat within its noise since {ctx.at(a['plateau_epoch'])} (now {a['final_val_loss']:.4g}); the "
           f"gap to training widened by {a['widen']:.3g},")
    caveat = ""
    if a["best"] == 0 and a["best_val_loss"] > a["train_at_best"]:
        caveat = (f" Best at the first {ctx.unit[:-1]}, already above the training loss: either the model fit "
                  "validation as well as it ever would from the start (usual when fine-tuning a pretrained model) "
                  "and then overfit, or validation comes from another population; the log alone cannot tell.")
    elif a["best"] == 0:
        caveat = (f" At the first {ctx.unit[:-1]} validation was no worse than training: it came from the same "
                  "population, and the gap that opened after is overfitting (usual when fine-tuning a pretrained "
                  "model: stop at the first evaluation, or lower the learning rate).")
    if a["lowest_epoch"] == a["best_epoch"]:
        where = f"validation loss was lowest at {ctx.at(a['best_epoch'])} ({a['best_val_loss']:.4g}, as logged)"
    else:  # the single lowest value is a dip inside the noise; say both, each as logged
        where = (f"validation loss was at its best around {ctx.at(a['best_epoch'])} ({a['best_val_loss']:.4g} logged "
                 f"there; its single lowest value, {a['lowest_val_loss']:.4g} at {ctx.at(a['lowest_epoch'])}, is a dip "
                 "within its noise)")
    return [Finding(
        "OVERFITTING", "warn",
        f"{where} and {how} while training loss kept falling.{caveat}",
        {"best_epoch": a["best_epoch"], "best_val_loss": a["best_val_loss"], "lowest_epoch": a["lowest_epoch"],
         "lowest_val_loss": a["lowest_val_loss"], "plateau_epoch": a["plateau_epoch"],
         "rise": a["rise_share"], "rise_abs": a["rise"],
         "widening": a["widen"], "final_gap": a["final_gap"], "final_val_loss": a["final_val_loss"],
         "final_train_loss": a["final_train_loss"], "kind": "rise" if rise else "plateau", **extra},
        "Keep the weights of the best epoch (early stopping / checkpoint); then regularise (weight decay, "
        "dropout, augmentation), shrink the model, or get more data.",
    )]


def check_underfitting(ctx: Context) -> list[Finding]:
    """UNDERFITTING (info): training loss ends above UNDERFIT_SHARE × ln K (a single-label cross-entropy with a
    known class count), is identical every epoch, or (a regression loss: mse, mae, huber) kept more than
    UNDERFIT_SHARE of its first epoch's value and is flat. A cross-entropy without a class count is not judged
    by its fall from the first logged value (an epoch average, or a pretrained model already fit)."""
    if ctx.found:
        return []
    got = ctx.pair("loss")
    if got is None or len(got[0]) < 2:
        return []
    _, train = got
    if train[0] <= 0 or np.any(train < 0):
        return []
    k = max(2, len(train) // 3)
    end = float(np.mean(train[-k:]))
    level_noise = max(noise_sigma(train), RESOLUTION * abs(end))
    recent_fall = float(np.mean(train[-2 * k : -k]) - end) if len(train) >= 2 * k else float(train[0] - end)
    flat = recent_fall <= Z * level_noise
    frozen = float(np.ptp(train)) <= RESOLUTION * abs(end)
    # Only a class count names ln K: given by the user, or guessed from a first val loss ≈ ln K and then said
    # in the message; a majority share (whose untrained loss is the label entropy, not −ln p) or a weighted loss
    # would invent the level.
    single_label = ctx.loss in ("categorical_crossentropy", "sparse_categorical_crossentropy") or (
        ctx.loss == "binary_crossentropy" and (ctx.n_classes or 2) <= 2)
    k_classes, guessed = ctx.n_classes, ""
    if k_classes is None and str(ctx.notes.get("chance_from", "")).startswith("guessed"):
        k_classes = round(1 / ctx.notes["chance"])
        guessed = f"; {ctx.notes['chance_from']}, pass --classes"
    chance = 1.0 / k_classes if k_classes else None
    untrained = math.log(k_classes) if k_classes and single_label and not ctx.weighted else None
    if untrained is not None and end >= UNDERFIT_SHARE * untrained:
        assumed = " (assuming the loss is a cross-entropy; pass --loss" + guessed + ")" if ctx.loss_assumed else (
            f" ({guessed[2:]})" if guessed else "")
        return [Finding(
            "UNDERFITTING", "info",
            f"training loss ends at {end:.4g}, {100 * end / untrained:.0f}% of ln {k_classes} = {untrained:.3f}, "
            f"the loss of a {k_classes}-class classifier that learnt nothing{assumed}: the model has not fit its "
            "own training data.",
            {"final_train_loss": end, "untrained_loss": untrained, "chance": chance},
            "Add capacity or features, train longer or with a better learning rate; check the inputs are informative.",
        )]
    regression = ctx.loss in ZERO_FLOOR_LOSSES and ctx.loss not in CROSS_ENTROPY_LOSSES
    if flat and (frozen or (regression and end >= UNDERFIT_SHARE * train[0])):
        return [Finding(
            "UNDERFITTING", "info",
            (f"training loss is identical every {ctx.unit[:-1]} ({end:.5g}): the weights are not updating."
             if frozen else
             f"training loss fell only from {train[0]:.4g} to {end:.4g} ({100 * (1 - end / train[0]):.0f}%) and "
             "is flat: the model does not fit its own training data."),
            {"first_train_loss": float(train[0]), "final_train_loss": end, "frozen": frozen},
            "Check the learning rate and that the loss reaches the weights (trainable layers, no stop-gradient); "
            "then add capacity or features, or train longer with a schedule.",
        )]
    return []


def _gap_metric(ctx: Context) -> tuple[str, np.ndarray, np.ndarray, np.ndarray] | None:
    for name in ("accuracy", "loss", *[n[4:] for n in ctx.history.metrics if n.startswith("val_")]):
        got = ctx.pair(name, f"val_{name}")
        if got is not None and len(got[0]):
            return name, *got
    return None


def check_gap(ctx: Context) -> list[Finding]:
    """GAP (summary): how big the train–val gap is, at the end and at the best epoch, its trend, the verdict.

    The trend is of the gap's size on the side where it ends: when validation ends ahead of training (dropout,
    augmentation or mixup on the training curve), "widening" means validation pulling further ahead. A gap is
    small when it is under MATERIAL_ACCURACY in accuracy, or (in loss) when validation is under NORMAL_RATIO ×
    the training loss.
    """
    got = _gap_metric(ctx)
    if got is None:
        return []
    name, epochs, train, val = got
    higher = _higher_is_better(name)
    gap = (train - val) if higher else (val - train)  # positive: training looks better
    n = len(epochs)
    best = int(np.argmax(smooth(val)) if higher else np.argmin(smooth(val)))
    a = ctx.notes.get("overfit") or _overfit_analysis(ctx)
    if a is not None:  # the best epoch by validation loss, when there is one
        best = int(np.argmin(np.abs(epochs - a["best_epoch"])))
    sg = smooth(gap)
    val_ahead = float(sg[-1]) < 0
    size, sg = (-gap, -sg) if val_ahead else (gap, sg)  # the gap measured on the side where it ends
    trend, since = "steady", None
    if n >= 4:
        s_gap = max(noise_sigma(gap), RESOLUTION * max(abs(float(np.median(val))), 1e-12))
        w = 5 if n >= 15 else 3
        band = Z * 1.25 * s_gap / math.sqrt(w)  # a running median's noise (see _overfit_analysis)
        # Widening since the last epoch at which the gap was as small as it ever got (within noise), so
        # an epoch-1 gap below zero (training loss averaged over a learning epoch) does not date it.
        lo = int(np.flatnonzero(sg[:-1] <= sg[:-1].min() + band)[-1])
        hi = int(np.flatnonzero(sg[:-1] >= sg[:-1].max() - band)[-1])
        k = max(2, (n - 1 - lo) // 2)
        sd = s_gap * math.sqrt(1 / k + 1.5625 / w)
        if float(np.mean(size[-k:])) - sg[lo] > Z * sd and lo < n - 2:
            trend, since = "widening", float(epochs[lo])
        else:
            k = max(2, (n - 1 - hi) // 2)
            if sg[hi] - float(np.mean(size[-k:])) > Z * s_gap * math.sqrt(1 / k + 1.5625 / w) and hi < n - 2:
                trend, since = "narrowing", float(epochs[hi])
    val_state = ""
    if a is not None:
        if a["rise_significant"]:
            val_state = f"val loss rising since {ctx.at(a['best_epoch'])}"
        elif a["plateau"] >= 2:
            val_state = f"val loss flat since {ctx.at(a['plateau_epoch'])}"
        else:
            val_state = "val loss still falling"
    if name == "accuracy":
        small = abs(float(gap[-1])) < MATERIAL_ACCURACY
        size_words = f"{abs(float(gap[-1])):.2f}"
    elif not higher and train[-1] > 0 and val[-1] > 0:
        ratio = float(val[-1] / train[-1])
        small = 1 / NORMAL_RATIO < ratio < NORMAL_RATIO
        size_words = f"val {ratio:.2g}× train"
    else:
        small = trend != "widening"
        size_words = f"{abs(float(gap[-1])):.3g}"
    verdict_code = verdict(ctx.findings)
    if verdict_code == "UNDERFITTING" and trend == "widening" and not val_ahead:
        # Both facts stand (training loss still high, the gap growing); neither is the whole story.
        words = "training loss still high (underfitting) while the gap widens: the model memorises more than it learns"
    elif verdict_code is not None:
        words = VERDICT_WORDS[verdict_code]
    elif val_ahead:
        words = (f"validation ahead of training ({size_words}): usual when the logged training curve carries "
                 "dropout, augmentation or an epoch average that validation does not")
    elif val_state == "val loss still falling" or (a is None and best >= n - 2 and n >= 3):
        words = ("still improving: no overfitting yet" if small else
                 f"still improving, but the gap is large ({size_words}): training learns faster than validation")
    elif small and trend == "widening":
        words = f"a small gap ({size_words}), but widening: watch it"
    elif small:
        words = "small gap: healthy"
    elif trend == "widening":  # material and growing, validation not (yet) rising: memorising faster than learning
        words = f"a material gap ({size_words}) that keeps widening: training improves faster than validation"
    else:
        words = f"a large steady gap ({size_words}), nothing is diverging"
    fmt = ".2f" if name == "accuracy" else ".4g"
    parts = [f"{name}: train {train[-1]:{fmt}} vs val {val[-1]:{fmt}} at {ctx.at(epochs[-1])}"]
    if best != n - 1:
        parts[0] += f" (at the best {ctx.unit[:-1]}, {epochs[best]:.0f}: {train[best]:{fmt}} vs {val[best]:{fmt}})"
    if trend != "steady":
        parts.append(f"{'validation lead ' if val_ahead else 'gap '}{trend} since {ctx.at(since)}")
    if val_state:
        parts.append(f"{'while ' if trend != 'steady' else ''}{val_state}")
    message = ", ".join(parts[:2]) + (f" {parts[2]}" if len(parts) > 2 else "") + f": {words}"
    message += f"; best {ctx.at(epochs[best])}."
    return [Finding(
        "GAP", "summary", message,
        {"metric": name, "train_last": float(train[-1]), "val_last": float(val[-1]), "gap_last": float(gap[-1]),
         "best_epoch": float(epochs[best]), "gap_at_best": float(gap[best]), "trend": trend,
         "trend_since_epoch": since, "val_state": val_state, "val_ahead": val_ahead, "small": bool(small),
         "verdict": words, "verdict_code": verdict_code},
        "Judge the model at its best epoch; the findings above say what to fix. A gap that widens while "
        "validation stalls is overfitting: stop early, regularise, or get more data.",
    )]


def ordered_codes(findings: list[Finding]) -> list[str]:
    """The warn/error codes (and UNDERFITTING) in verdict order, the first being the verdict.

    VERDICT_ORDER, with two rules decided by the numbers, naming what explains more of the gap: OVERFITTING
    comes before POPULATION_SHIFT if at least half of the final loss gap was built after validation stopped
    improving; before a VAL_NOISY loss curve if the gap widened by more than the loss swings. (Measured in
    accuracy instead, the corpus agreed less: a shifted validation's accuracy gap is there from the start
    while its loss gap keeps growing.)
    """
    present = {f.code for f in findings if f.severity in ("error", "warn") or f.code == "UNDERFITTING"}
    order = [c for c in VERDICT_ORDER if c in present]
    if {"OVERFITTING", "VAL_NOISY"} <= present:
        noisy = next(f.evidence for f in findings if f.code == "VAL_NOISY" and f.severity == "warn")
        ev = next(f.evidence for f in findings if f.code == "OVERFITTING")
        if noisy.get("metric") == "loss" and noisy["swing"] < ev.get("widening", 0.0):
            order.remove("OVERFITTING")  # the gap widened by more than the loss swings: overfitting leads
            order.insert(order.index("VAL_NOISY"), "OVERFITTING")
    if {"OVERFITTING", "POPULATION_SHIFT"} <= present:
        ev = next(f.evidence for f in findings if f.code == "OVERFITTING")
        if ev.get("widening", 0.0) >= 0.5 * ev.get("final_gap", math.inf):
            order.remove("OVERFITTING")
            order.insert(order.index("POPULATION_SHIFT"), "OVERFITTING")
    return order


def verdict(findings: list[Finding]) -> str | None:
    """The code the GAP line's verdict names (see ordered_codes), or None when nothing stands."""
    order = ordered_codes(findings)
    return order[0] if order else None


@dataclass(frozen=True)
class Check:
    """One history check: its code(s) and the function that runs it on the shared Context."""

    name: str
    run: Callable[[Context], list[Finding]]


CHECKS: tuple[Check, ...] = (
    Check("DIVERGED", check_diverged),
    Check("METRIC_INCONSISTENT", check_metric_consistency),
    Check("STALE_NORM_STATS", check_stale_norm_stats),
    Check("VAL_NOISY", check_val_noise),
    Check("POPULATION_SHIFT", check_population_shift),
    Check("VAL_AT_CHANCE", check_val_at_chance),
    Check("NOTHING_LEARNT", check_nothing_learnt),
    Check("OVERFITTING", check_overfitting),
    Check("UNDERFITTING", check_underfitting),
    Check("GAP", check_gap),
)


def diagnose_history(
    history: Any,
    *,
    loss: str | None = None,
    n_classes: int | None = None,
    val_size: int | None = None,
    chance: float | None = None,
    weighted: bool = False,
    mean_weight: float | None = None,
    batchnorm: bool | None = None,
) -> list[Finding]:
    """Every check that needs only per-epoch numbers, in the order of CHECKS.

    history: a Keras History, a Gap Clinic History, a dict of per-epoch lists or a log path.
    loss: the loss in the ``loss`` column: a cross-entropy (the accuracy bound applies), "mse", "mae", "huber"
    (losses with a floor at 0), or "other"; None (not given): a cross-entropy is assumed, and every finding
    that rests on it says so (and is a warning, not an error).
    n_classes: for the chance-level checks (or pass ``chance``, e.g. the majority rate).
    val_size: validation rows, for the binomial-noise checks.
    weighted: the training loss is a weighted mean (class_weight, sample_weight): the accuracy bound then holds
    for the weighted accuracy only, with the mean weight in the denominator (``helpers.stats.accuracy_floor``),
    and the val/train loss ratio compares unlike things, so the ratio checks are skipped.
    mean_weight: the mean per-sample weight (implies ``weighted``); with it the training bound is checked.
    batchnorm: whether the network has BatchNorm; None (unknown) makes STALE_NORM_STATS say it assumes it,
    False silences it.
    """
    loss_assumed = loss is None
    loss = "categorical_crossentropy" if loss is None else loss
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r}; choose one of {', '.join(CROSS_ENTROPY_LOSSES)}, mse, mae, huber or 'other'.")
    if n_classes is not None and (not isinstance(n_classes, int) or n_classes < 2):
        raise ValueError(f"n_classes={n_classes!r} must be an integer ≥ 2.")
    if val_size is not None and (not isinstance(val_size, int) or val_size < 1):
        raise ValueError(f"val_size={val_size!r} must be a positive integer.")
    if chance is not None and not 0.0 < chance < 1.0:
        raise ValueError(f"chance={chance!r} must be a share between 0 and 1.")
    if mean_weight is not None and not (isinstance(mean_weight, (int, float)) and mean_weight > 0):
        raise ValueError(f"mean_weight={mean_weight!r} must be > 0 (the mean per-sample weight).")
    if batchnorm not in (None, True, False):
        raise ValueError(f"batchnorm={batchnorm!r}; choose True, False or None (unknown).")
    h = as_history(history)
    if chance is None and n_classes is not None:
        chance = 1.0 / n_classes
    ctx = Context(h, loss, n_classes, val_size, chance, loss_assumed=loss_assumed,
                  weighted=weighted or mean_weight is not None,
                  mean_weight=float(mean_weight) if mean_weight is not None else None, batchnorm=batchnorm)
    with np.errstate(all="ignore"):  # all-zero or all-NaN rows: the checks handle them; numpy need not shout
        for check in CHECKS:
            ctx.findings += check.run(ctx)
    return ctx.findings
