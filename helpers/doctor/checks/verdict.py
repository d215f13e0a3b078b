"""The GAP line (how big the gap is, its trend, the verdict), the ordered list of checks and
``diagnose_history``, which runs them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field  # noqa: F401
from typing import Any

import numpy as np

from helpers.doctor.checks.context import (
    CROSS_ENTROPY_LOSSES,
    LOSSES,
    MATERIAL_ACCURACY,
    NORMAL_RATIO,
    RESOLUTION,
    VERDICT_ORDER,
    VERDICT_WORDS,
    Context,
    Z,
    _higher_is_better,
    noise_sigma,
    smooth,
)
from helpers.doctor.checks.curves import (
    _overfit_analysis,
    check_nothing_learnt,
    check_overfitting,
    check_underfitting,
    check_val_at_chance,
    check_val_noise,
)
from helpers.doctor.checks.measurement import (
    check_diverged,
    check_metric_consistency,
    check_population_shift,
    check_stale_norm_stats,
)
from helpers.doctor.findings import Finding
from helpers.doctor.readers import as_history


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
