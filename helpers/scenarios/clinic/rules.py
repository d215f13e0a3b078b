"""The clinic's rules: each diagnosis accepted when the cited evidence supports it (the doctor's thresholds,
imported, never restated)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from helpers.doctor.checks import (
    BOUND_TOLERANCE,
    EARLY_RATIO,
    MATERIAL_ACCURACY,
    NORMAL_RATIO,
    STALE_START,
    UNDERFIT_SHARE,
    WIDEN_SHARE,
    Z,
)
from helpers.scenarios.clinic.evidence import Cited, Log
from helpers.scenarios.clinic.patients import HEALTHY
from helpers.stats import BOUND_CONDITIONS, binomial_se

# --- the principles: which cited numbers support which diagnosis ------------------------------------------------

# The doctor's constants, not restated: "the first epochs" are its STALE_START (1–3, before a model has had
# time to memorise anything), an abnormal val/train loss ratio is its EARLY_RATIO, an ordinary one is under its
# NORMAL_RATIO, a change counts at Z standard errors.
EARLY = STALE_START
Verdict = tuple[bool, str]


def _band(log: Log) -> float:
    """How far from chance an accuracy may sit and still be chance: 2 binomial SEs of the validation set."""
    c, n = log.patient.chance_level, log.patient.val_size or 100
    return 2 * binomial_se(c, n) + 0.005


def _weighted_ratio(log: Log) -> str:
    return ("the training loss is class-weighted and validation's is not (Keras weights only the training loss): "
            "val_loss/loss compares two different quantities here, so no ratio of them shows a shift or stale "
            "statistics.")


def rule_metric_inconsistent(ev: Cited) -> Verdict:
    for prefix, split in (("", "training"), ("val_", "validation")):
        for e in sorted({e for e, _ in ev.at(f"{prefix}accuracy")} & ({e for e, _ in ev.at(f"{prefix}loss")}
                                                                         | {e for e, _ in ev.at(f"{prefix}floor")})):
            acc, floor = ev.log.at(f"{prefix}accuracy", e), ev.log.at(f"{prefix}floor", e)
            if acc >= floor - BOUND_TOLERANCE:
                continue
            if prefix == "" and ev.log.patient.weighted:
                return False, (f"the {split} accuracy {acc:.3f} lies below 1 − L/ln 2 = {floor:.3f} at epoch {e}, but "
                               "the bound holds only for an UNWEIGHTED mean cross-entropy over the same rows as the "
                               "accuracy. This loss is class-weighted (majority rows count 0.1), so it can sit far "
                               "below the unweighted loss: nothing here says the metric is wrong.")
            return True, (f"at epoch {e} the {split} accuracy {acc:.3f} is below 1 − L/ln 2 = {floor:.3f}: no "
                          "classifier with that unweighted cross-entropy can be that wrong (the bound holds when "
                          f"{BOUND_CONDITIONS[1]}, and {BOUND_CONDITIONS[2]}), so the column is not the accuracy "
                          "you think (or the labels do not match the outputs).")
    return False, ("cite an epoch's accuracy with its loss (or floor) where the accuracy lies below 1 − L/ln 2; "
                   "at the epochs you cite it does not.")


def _early_high(ev: Cited) -> list[tuple[int, float]]:
    return [(e, r) for e, r in ev.at("val_loss/loss") if e <= EARLY and r >= EARLY_RATIO]


def _accuracy_se(log: Log) -> float:
    """The binomial SE of a validation accuracy of this log (MATERIAL_ACCURACY / 2 when the rows are unknown)."""
    if not log.has("val_accuracy"):
        return MATERIAL_ACCURACY / 2
    acc = log.columns["val_accuracy"]
    p = float(np.nanmean(acc))
    return float(binomial_se(p, log.patient.val_size)) if log.patient.val_size else MATERIAL_ACCURACY / 2


def _stale_by_accuracy(ev: Cited) -> Verdict | None:
    """The same collapse read in accuracy: validation at chance in the first epochs while training is well above
    it, then validation back beside training (the gap shrinks by the factor that made it abnormal)."""
    log, c = ev.log, ev.log.patient.chance_level
    band = _band(log)
    pairs = ev.epochs_with("accuracy", "val_accuracy")
    early = [e for e in pairs if e <= EARLY and abs(log.at("val_accuracy", e) - c) <= band
             and log.at("accuracy", e) - log.at("val_accuracy", e) > Z * math.sqrt(2) * _accuracy_se(log)]
    if not early:
        return None
    e0 = early[0]
    gap0 = log.at("accuracy", e0) - log.at("val_accuracy", e0)
    later = [e for e in pairs if e > e0 and log.at("accuracy", e) - log.at("val_accuracy", e) <= gap0 / EARLY_RATIO
             and log.at("val_accuracy", e) - c > band]
    if not later:
        return False, (f"at epoch {e0} validation accuracy sits at chance while training's is {gap0:.2f} above it; "
                       "stale statistics catch up: cite a later epoch where the accuracy gap has shrunk "
                       f"{EARLY_RATIO:g}× or more.")
    e1 = later[0]
    gap1 = log.at("accuracy", e1) - log.at("val_accuracy", e1)
    return True, (f"at epoch {e0} validation accuracy is at chance ({log.at('val_accuracy', e0):.3f}) while training "
                  f"is {gap0:.2f} ahead; by epoch {e1} the gap is {gap1:.2f}: validation was scored by something "
                  "other than the model training sees, and it caught up — BatchNorm's moving statistics.")


def rule_stale_norm_stats(ev: Cited) -> Verdict:
    if ev.log.patient.weighted:
        return False, _weighted_ratio(ev.log)
    high = _early_high(ev)
    if not high:
        by_accuracy = _stale_by_accuracy(ev)
        if by_accuracy is not None:
            return by_accuracy
        return False, (f"stale statistics show as val_loss/loss ≥ {EARLY_RATIO:g} in the first epochs (1–{EARLY}), or "
                       "a validation accuracy at chance there while training's is well above it: cite such an "
                       "epoch (a model that has memorised nothing yet cannot have a gap that large).")
    e0, r0 = high[0]
    cited = [(e, r) for e, r in ev.at("val_loss/loss") if e >= e0]
    _, ratios = ev.log.series("val_loss/loss")
    final = float(ratios[-1])
    falls = [(a, b) for a in cited for b in cited
             if b[0] > a[0] and (a[1] / b[1] >= EARLY_RATIO or b[1] < NORMAL_RATIO)
             and (final <= a[1] / EARLY_RATIO or final < NORMAL_RATIO)]
    if not falls:
        return False, (f"val_loss/loss is {r0:.1f} at epoch {e0}, but stale statistics catch up: cite a later "
                       "epoch where the ratio has fallen at least 3× from an earlier one (or below 2) and stays down. "
                       "Without a collapse this is a shift.")
    (ea, ra), (eb, rb) = falls[0]
    return True, (f"val_loss/loss is {r0:.1f} at epoch {e0}, and falls from {ra:.1f} (epoch {ea}) to {rb:.2f} "
                  f"(epoch {eb}): validation was scored by something other than the model training sees, and it "
                  "caught up — BatchNorm's moving statistics.")


def rule_population_shift(ev: Cited) -> Verdict:
    """The code table's definition: validation never follows training down, from the first epochs on.

    Cited: val_loss/loss ≥ EARLY_RATIO at an epoch 1–EARLY that stays ≥ NORMAL_RATIO to the end (no collapse),
    while validation had not improved before it (that epoch is at or before validation's best, or validation's
    best is its first epoch and was already above training's loss there: it never improved at all).
    """
    if ev.log.patient.weighted:
        return False, _weighted_ratio(ev.log)
    _, ratios = ev.log.series("val_loss/loss")
    final = float(ratios[-1]) if len(ratios) else float("nan")
    best_log = ev.log.whole("best_epoch")
    first = int(ev.log.val_epochs[0])
    first_ratio = ev.log.at("val_loss/loss", first)
    never_improved = best_log == first and first_ratio > 1.0
    high = [(e, r) for e, r in _early_high(ev) if e <= best_log or never_improved]
    late = [(e, r) for e, r in _early_high(ev) if e > best_log and not never_improved]
    if late and not high:
        e, r = late[0]
        why = (f"val_loss/loss is {r:.1f} at epoch {e}, but validation loss had improved and was already rising "
               f"then (its best epoch is {best_log:.0f})")
        if best_log == first:
            why = (f"val_loss/loss is {r:.1f} at epoch {e}, but at validation's best epoch ({first}) its loss was no "
                   f"higher than training's ({first_ratio:.2f}×): validation followed training there")
        return False, why + ": a gap that opens after validation's best is memorising."
    if high:
        e0, r0 = high[0]
        epochs, _ = ev.log.series("val_loss/loss")
        peak = float(np.max(ratios[epochs >= e0]))
        if final < NORMAL_RATIO or peak / final >= EARLY_RATIO:
            return False, (f"val_loss/loss is {r0:.1f} at epoch {e0}, peaks at {peak:.0f} and ends at {final:.2f}: "
                           "validation came back. A population does not change during training; a collapse is "
                           "stale statistics.")
        start = (f"validation loss never improved on epoch {first}, where it was already {first_ratio:.1f}× "
                 "training's, and " if never_improved and e0 > best_log else "")
        return True, (f"{start}val_loss/loss is {r0:.1f} at epoch {e0}, before any memorising, and stays "
                      f"({final:.1f} at the end): validation is drawn from something training never saw.")
    return False, (f"a shift shows as val_loss/loss ≥ {EARLY_RATIO:g} in the first epochs (1–{EARLY}) that stays, "
                   "before validation loss has improved: cite such an epoch. A ratio that reaches that only after "
                   "validation followed training for a while is memorising (OVERFITTING).")


def _gap_widened(ev: Cited) -> Verdict | None:
    """Overfitting read in accuracy: the train − val accuracy gap at a late epoch exceeds the gap at an early one
    by Z binomial errors of the difference (√2 · se each side)."""
    log = ev.log
    pairs = sorted(set(ev.epochs_with("accuracy", "val_accuracy")) | {e for e, _ in ev.at("gap")})
    if len(pairs) < 2:
        return None
    e0, e1 = pairs[0], pairs[-1]
    if e1 < 0.8 * log.epochs[-1]:
        return False, "cite the gap at an early epoch and at one near the end of the run (its last fifth)."
    g0, g1 = log.at("gap", e0), log.at("gap", e1)
    noise = Z * math.sqrt(2) * _accuracy_se(log)
    if g1 - g0 <= noise:
        return False, (f"the accuracy gap went from {g0:.3f} (epoch {e0}) to {g1:.3f} (epoch {e1}): within "
                       f"{noise:.3f}, what {log.patient.val_size or 'these'} validation rows give by chance.")
    return True, (f"the accuracy gap grew from {g0:.3f} at epoch {e0} to {g1:.3f} at epoch {e1}, more than the "
                  f"{noise:.3f} the validation rows' noise allows: training improves faster than validation, so the "
                  "model learns its training rows themselves.")


def rule_overfitting(ev: Cited) -> Verdict:
    """Validation stops improving while training keeps improving, beyond the log's noise (the doctor's analysis):
    a rise since the best epoch, a widening loss gap on a plateau, or an accuracy gap that grows."""
    log, a = ev.log, ev.log.analysis
    best, rise = ev.get("best_epoch"), ev.get("rise")
    rise = rise if rise is not None else (None if ev.get("rise_share") is None else ev.get("rise_share"))
    widening = ev.get("widening")
    if widening is not None:
        if not a or not (a["widen_significant"] and a["train_still_falling"]
                         and a["widen"] >= WIDEN_SHARE * a["gap_at_best"]):
            return False, ("the loss gap did not widen beyond the curve's noise (or training stopped improving): "
                           "that is no plateau overfitting.")
        return True, (f"validation loss has been flat within its noise since epoch {a['plateau_epoch']:.0f} while "
                      f"training loss kept falling, and the gap between them widened by {a['widen']:.3g} (more than "
                      f"{WIDEN_SHARE:.0%} of the gap at the best epoch): overfitting on a plateau.")
    if best is None or rise is None:
        by_gap = _gap_widened(ev)
        if by_gap is not None:
            return by_gap
        return False, ("cite best_epoch and rise (validation loss at its lowest, and how far it climbed since), or "
                       "widening (how much the loss gap grew on a plateau), or the accuracy gap at an early and a "
                       "late epoch.")
    last = int(log.val_epochs[-1])
    if int(best) >= last:
        return False, f"validation loss is lowest at the last validated epoch ({last}): it has not turned up yet."
    if not a or not a["rise_significant"]:
        return False, ("that rise is within what the validation curve's own epoch-to-epoch noise gives (a single dip "
                       "then a single spike): look at the whole curve, or cite widening if the gap grew.")
    if not a["train_still_falling"]:
        return False, "training loss did not keep falling after validation's best epoch: that is not memorising."
    return True, (f"validation loss was lowest at epoch {int(best)} and its last epochs average {a['rise']:.3f} "
                  f"({a['rise_share']:.0%}) above that, beyond the curve's noise, while training loss kept falling: "
                  "the model learns the training rows themselves.")


def rule_val_at_chance(ev: Cited) -> Verdict:
    log, c = ev.log, ev.log.patient.chance_level
    band = _band(log)
    for e in ev.epochs_with("accuracy", "val_accuracy"):
        train, val = log.at("accuracy", e), log.at("val_accuracy", e)
        if e >= 0.8 * log.epochs[-1] and abs(val - c) <= band and train >= c + band:
            return True, (f"at epoch {e} validation scores {val:.3f}, chance is {c:.3f} (±{band:.3f} on "
                          f"{log.patient.val_size or '?'} rows), while training reaches {train:.3f}: what training "
                          "learns does not reach validation at all.")
    return False, (f"cite an epoch near the end (the last fifth of the run) where val_accuracy is within "
                   f"±{band:.3f} of chance ({c:.3f}) while training accuracy is above it.")


def _weighted_chance(log: Log) -> str:
    val = log.columns["val_loss"][np.isfinite(log.columns["val_loss"])]
    c = log.patient.chance_level
    prior = -(c * math.log(c) + (1 - c) * math.log(1 - c))
    return (f"with class weights the model trades majority accuracy for minority recall, so an accuracy near the "
            f"majority share ({c}) says nothing about learning. The unweighted val_loss fell from {val[0]:.3f} to "
            f"{val[-1]:.3f}, below the {prior:.3f} of always predicting the class shares: it learnt.")


def rule_nothing_learnt(ev: Cited) -> Verdict:
    log, c = ev.log, ev.log.patient.chance_level
    if log.patient.weighted:
        return False, _weighted_chance(log)
    band = _band(log)
    late = [e for e in ev.epochs_with("accuracy", "val_accuracy") if e >= log.epochs[-1] / 2]
    for e in late:
        train, val = log.at("accuracy", e), log.at("val_accuracy", e)
        if abs(train - c) <= band and abs(val - c) <= band:
            return True, (f"at epoch {e}, late in the run, training {train:.3f} and validation {val:.3f} both sit "
                          f"at chance {c:.3f} (±{band:.3f}): the model cannot fit even its training data.")
    return False, (f"cite a late epoch (from the run's middle on) where accuracy and val_accuracy both sit within "
                   f"±{band:.3f} of chance ({c:.3f}).")


def smoothed_minimum(k: int, eps: float) -> float:
    """The lowest cross-entropy reachable with label smoothing eps over k classes (the smoothed target's entropy)."""
    if eps <= 0:
        return 0.0
    hi, lo = 1 - eps + eps / k, eps / k
    return float(-(hi * math.log(hi) + (k - 1) * lo * math.log(lo)))


def rule_underfitting(ev: Cited) -> Verdict:
    log, p = ev.log, ev.log.patient
    cited = [(e, v) for e, v in ev.at("loss") if e >= 0.8 * log.epochs[-1]]
    if not cited:
        return False, "cite the training loss at an epoch near the end of the run."
    e, loss = cited[-1]
    floor = smoothed_minimum(p.n_classes, p.label_smoothing)
    start = math.log(p.n_classes)
    if log.has("accuracy") and abs(log.at("accuracy", e) - p.chance_level) <= _band(log):
        return False, (f"training accuracy is at chance at epoch {e}: the model learnt nothing at all, which a small "
                       "model would not explain (any model learns something from paired data): nothing learnt.")
    if loss - floor >= UNDERFIT_SHARE * (start - floor):
        return True, (f"at epoch {e} the training loss {loss:.3f} still holds more than half of ln K = {start:.3f} "
                      "(what a model that learnt nothing scores): the model does not fit its own data.")
    why = (f" With label_smoothing={p.label_smoothing} the loss cannot go below {floor:.3f} (the entropy of the "
           "smoothed targets), however well the model fits." if floor else "")
    return False, (f"at epoch {e} the training loss {loss:.3f} has fallen well below ln K = {start:.3f}: the model "
                   f"fits its training data.{why}")


def rule_val_noisy(ev: Cited) -> Verdict:
    swing, se = ev.get("swing"), ev.get("se")
    if swing is None or se is None:
        return False, "cite swing (the largest jump of val_accuracy) and se (its binomial error)."
    limit = Z * math.sqrt(1.5) * se  # v_t − (v_{t−1} + v_{t+1})/2 of three estimates has SE √1.5·se
    if swing > limit:
        return True, (f"a val_accuracy sits {swing:.3f} from the mean of its neighbours, more than {Z:g}·√1.5·se = "
                      f"{limit:.3f} (what three estimates on these rows allow): validation changes more than its "
                      "rows explain.")
    return False, (f"the largest jump {swing:.3f} is within {Z:g}·√1.5·se = {limit:.3f}: that is what "
                   f"{ev.log.patient.val_size} rows give; the noise is real but explained, not a fault.")


def rule_diverged(ev: Cited) -> Verdict:
    bad = [e for e, v in ev.at("loss") + ev.at("val_loss") if not math.isfinite(v)]
    if bad:
        return True, f"the loss is not a finite number at epoch {bad[0]}."
    return False, "cite an epoch where the loss is NaN or infinite (write float('nan'))."


def rule_healthy(ev: Cited) -> Verdict:
    log, p = ev.log, ev.log.patient
    if not p.weighted:  # hard faults anywhere in the log refute "nothing wrong", cited or not
        for prefix in ("", "val_"):
            if log.has(f"{prefix}accuracy"):
                epochs, floors = log.series(f"{prefix}floor")
                accs = np.array([log.at(f"{prefix}accuracy", int(e)) for e in epochs])
                if np.any(accs < floors - BOUND_TOLERANCE):
                    return False, "check each accuracy against its floor 1 − L/ln 2: at some epoch it is below it."
        epochs, ratios = log.series("val_loss/loss")
        if np.any((epochs <= EARLY) & (ratios >= EARLY_RATIO)):
            return False, "look at val_loss/loss in the first epochs: no healthy model opens a gap that fast."
    late = [e for e in log.val_epochs if e >= 0.8 * log.epochs[-1]]
    cited = [e for e in late if (("val_accuracy", e) in ev.values and ("accuracy", e) in ev.values)
             or ("gap", e) in ev.values or ("val_loss/loss", e) in ev.values]
    if not cited:
        return False, ("'nothing wrong' needs numbers too: cite accuracy and val_accuracy (or gap, or "
                       "val_loss/loss) at an epoch near the end.")
    e = int(cited[-1])
    band = _band(log)
    if log.has("accuracy"):
        train, val = log.at("accuracy", e), log.at("val_accuracy", e)
        if abs(train - p.chance_level) <= band and not p.weighted:
            return False, f"training accuracy {train:.3f} is at chance at epoch {e}: the model learnt nothing."
        if train - val > max(MATERIAL_ACCURACY, math.sqrt(2) * band):
            return False, (f"at epoch {e} training leads validation by {train - val:.3f}, more than noise: a gap "
                           "that size has a cause; name it.")
    if not p.weighted and log.has("val_loss"):
        ratio = log.at("val_loss/loss", e)
        if ratio >= NORMAL_RATIO:
            return False, f"at epoch {e} validation loss is {ratio:.1f}× training's: that gap has a cause; name it."
        a = log.analysis
        if a and a["rise_significant"] and a["train_still_falling"]:
            return False, "validation loss has turned up since its best epoch: cite best_epoch and rise; look again."
    return True, (f"at epoch {e} validation follows training within its noise (±{band:.3f} on accuracy) and nothing in "
                  "the log breaks a bound: no fault in the measurement. (Whether the model is good enough is another "
                  "question.)")


RULES: dict[str, Callable[[Cited], Verdict]] = {
    "DIVERGED": rule_diverged, "METRIC_INCONSISTENT": rule_metric_inconsistent,
    "STALE_NORM_STATS": rule_stale_norm_stats, "VAL_AT_CHANCE": rule_val_at_chance,
    "NOTHING_LEARNT": rule_nothing_learnt, "POPULATION_SHIFT": rule_population_shift,
    "VAL_NOISY": rule_val_noisy, "OVERFITTING": rule_overfitting, "UNDERFITTING": rule_underfitting,
    HEALTHY: rule_healthy,
}
PROBE_ONLY = ("MODE_GAP", "SPLIT_OVERLAP", "LABEL_SHIFT", "VAL_NONDETERMINISTIC")  # need the model or data
