"""Checks of the curves' shapes: validation at chance, nothing learnt, noise, overfitting, underfitting."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from helpers.doctor.checks.context import (
    CROSS_ENTROPY_LOSSES,
    FROZEN_P,
    FROZEN_REPEATS,
    LN_K_TOLERANCE,
    MATERIAL_ACCURACY,
    NOISE_FACTOR,
    RESOLUTION,
    SMALL_VAL_SE,
    UNDERFIT_SHARE,
    WIDEN_SHARE,
    ZERO_FLOOR_LOSSES,
    Context,
    Z,
    noise_sigma,
    smooth,
)
from helpers.doctor.findings import Finding
from helpers.stats import binomial_se


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
