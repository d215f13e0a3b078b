"""Checks that the numbers are measured right: divergence, metric consistency (the bound a loss puts on its
accuracy), stale BatchNorm statistics, a shifted population."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.doctor.checks.context import (
    BOUND_TOLERANCE,
    COLLAPSE_WINDOW,
    CROSS_ENTROPY_LOSSES,
    EARLY_RATIO,
    NORMAL_RATIO,
    STALE_START,
    Context,
    smooth,
)
from helpers.doctor.findings import Finding
from helpers.stats import BOUND_CONDITIONS, accuracy_floor

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
