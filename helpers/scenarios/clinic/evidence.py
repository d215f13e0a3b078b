"""The clinic's evidence: the quantities a student may cite, read the same way from a log for the checker
and the tests, and the check that a cited number matches the log."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from helpers.doctor.checks import Context, _overfit_analysis
from helpers.scenarios.clinic.patients import BY_ID, LOG_COLUMNS, Patient, check_id
from helpers.stats import LN2, binomial_se

# --- the evidence a student can read off a log ----------------------------------------------------------------

# name -> (what it is, absolute tolerance, relative tolerance). Per-epoch quantities are read at the answer's
# "epoch" (or at E when written "name@E"); the others describe the whole log. Tolerances: accuracies are read
# off a plot to ±0.02, losses to ±10 %, ratios to ±15 %; epochs exactly.
PER_EPOCH: dict[str, tuple[str, float, float]] = {
    "loss": ("training loss at the epoch", 0.01, 0.10),
    "accuracy": ("training accuracy at the epoch", 0.02, 0.0),
    "val_loss": ("validation loss at the epoch", 0.01, 0.10),
    "val_accuracy": ("validation accuracy at the epoch", 0.02, 0.0),
    "val_loss/loss": ("validation loss over training loss at the epoch", 0.05, 0.15),
    "floor": ("1 − loss/ln 2: the lowest training accuracy a cross-entropy of that size allows", 0.02, 0.0),
    "val_floor": ("1 − val_loss/ln 2: the same floor for validation", 0.02, 0.0),
    "gap": ("accuracy − val_accuracy at the epoch", 0.02, 0.0),
}
WHOLE_LOG: dict[str, tuple[str, float, float]] = {
    "best_epoch": ("the epoch of the lowest validation loss (the lowest single value, or where the doctor puts it: "
                   "the lowest logged value where the curve's running median is lowest)", 0.0, 0.0),
    "rise": ("how far validation loss rose from its value at best_epoch: to the last validated epoch, or (the "
             "doctor's figure) to the mean of the last epochs", 0.02, 0.20),
    "rise_share": ("the rise as a share of the best value (the doctor's percentage / 100)", 0.02, 0.20),
    "widening": ("how much the loss gap val_loss − loss grew since validation stopped improving (the doctor's "
                 "'the gap to training widened by')", 0.02, 0.20),
    "chance": ("the accuracy of a constant guess: 1/K, or the majority share when the facts give one", 0.01, 0.0),
    "swing": ("in the run's second half, the largest distance of a val_accuracy from the mean of its two "
              "neighbouring validations (a trend does not count, a jump does)", 0.02, 0.0),
    "se": ("the binomial error of val_accuracy: sqrt(p(1 − p)/n), p its mean, n the validation rows", 0.005, 0.20),
}
EVIDENCE = {**PER_EPOCH, **WHOLE_LOG}


def swing(epochs: np.ndarray, acc: np.ndarray, last_epoch: int) -> float:
    """Largest |v_t − (v_{t−1} + v_{t+1})/2| for validations t in the second half of the run (0 with too few)."""
    if len(acc) < 3:
        return 0.0
    mid = np.abs(acc[1:-1] - (acc[:-2] + acc[2:]) / 2)
    late = epochs[1:-1] > last_epoch / 2
    return float(mid[late].max()) if late.any() else 0.0


class Log:
    """A patient's log as numbers: every quantity of EVIDENCE, read the same way for the checker and the tests."""

    def __init__(self, patient: Patient):
        from helpers.doctor import read_log

        self.patient = patient
        curves = read_log(patient.log)
        self.epochs = np.asarray(curves.epochs, dtype=int)
        self.columns = {k: np.asarray(curves[k], dtype=float) for k in LOG_COLUMNS if k in curves.metrics}
        val = self.columns.get("val_loss")
        self.val_epochs = self.epochs[np.isfinite(val)] if val is not None else self.epochs[:0]

    def has(self, column: str) -> bool:
        return column in self.columns

    def at(self, name: str, epoch: int) -> float:
        """A per-epoch quantity; ValueError (saying what the log holds) when the log cannot give it."""
        needs = {"val_loss/loss": ("val_loss", "loss"), "floor": ("loss",), "val_floor": ("val_loss",),
                 "gap": ("accuracy", "val_accuracy")}.get(name, (name,))
        missing = [c for c in needs if not self.has(c)]
        if missing:
            raise ValueError(f"this log has no {' or '.join(missing)} column (it holds {', '.join(self.columns)}).")
        if epoch not in self.epochs:
            raise ValueError(f"the log has no epoch {epoch} (it runs from {self.epochs[0]} to {self.epochs[-1]}).")
        i = int(np.flatnonzero(self.epochs == epoch)[0])
        values = {c: self.columns[c][i] for c in needs}
        if any(c.startswith("val_") for c in needs) and not all(np.isfinite(v) for v in values.values()):
            shown = ", ".join(map(str, self.val_epochs[:3])) + (", …" if len(self.val_epochs) > 3 else "")
            raise ValueError(f"there is no validation at epoch {epoch}: it ran at epochs {shown}.")
        if name == "val_loss/loss":
            return float(values["val_loss"] / values["loss"])
        if name in ("floor", "val_floor"):
            return float(1.0 - next(iter(values.values())) / LN2)  # unclipped, as a student computes it
        if name == "gap":
            return float(values["accuracy"] - values["val_accuracy"])
        return float(values[name])

    @property
    def analysis(self) -> dict:
        """The doctor's own reading of the loss curves (best epoch, rise, widening, and whether each beats the
        log's noise): the clinic measures what the doctor measures, with the doctor's code."""
        if not hasattr(self, "_analysis"):
            from helpers.doctor import read_log

            h = read_log(self.patient.log)
            self._analysis = _overfit_analysis(Context(h, self.patient.loss, self.patient.n_classes,
                                                       self.patient.val_size, None)) or {}
        return self._analysis

    def candidates(self, name: str) -> list[float]:
        """Every value a whole-log quantity may be cited as (two readings of "best" and "rise"; one otherwise)."""
        if name not in ("best_epoch", "rise", "rise_share", "widening"):
            return [self.whole(name)]
        if not self.has("val_loss"):
            raise ValueError("this log has no val_loss column.")
        a = self.analysis
        val = self.columns["val_loss"]
        i = int(np.nanargmin(val))
        last = float(val[np.isfinite(val)][-1])
        if name == "best_epoch":
            return list(dict.fromkeys([float(self.epochs[i]), *([a["best_epoch"]] if a else [])]))
        if name == "rise":
            return [last - float(val[i]), *([a["rise"], last - a["best_val_loss"]] if a else [])]
        if not a:
            raise ValueError("too few validated epochs to measure this.")
        return [a["rise_share"]] if name == "rise_share" else [a["widen"]]

    def whole(self, name: str) -> float:
        if name == "chance":
            return self.patient.chance_level
        if name in ("best_epoch", "rise", "rise_share", "widening"):
            return self.candidates(name)[0]
        if not self.has("val_accuracy"):
            raise ValueError("this log has no val_accuracy column.")
        acc = self.columns["val_accuracy"][np.isfinite(self.columns["val_accuracy"])]
        if name == "swing":
            return swing(self.val_epochs, acc, int(self.epochs[-1]))
        if self.patient.val_size is None:
            raise ValueError("the facts do not say how many validation rows there are: se cannot be known.")
        return binomial_se(float(np.mean(acc)), self.patient.val_size)

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) of a per-epoch quantity wherever the log has it."""
        out = []
        for e in self.epochs:
            try:
                out.append((e, self.at(name, int(e))))
            except ValueError:
                pass
        return np.array([e for e, _ in out], dtype=int), np.array([v for _, v in out], dtype=float)


@dataclass
class Cited:
    """The evidence of an answer, each number checked against the log: {(name, epoch or None): value}."""

    values: dict[tuple[str, int | None], float]
    log: Log

    def at(self, name: str) -> list[tuple[int, float]]:
        return sorted((e, v) for (n, e), v in self.values.items() if n == name and e is not None)

    def get(self, name: str) -> float | None:
        return self.values.get((name, None))

    def epochs_with(self, *names: str) -> list[int]:
        sets = [{e for e, _ in self.at(n)} for n in names]
        return sorted(set.intersection(*sets)) if sets else []


def _parse_key(key: str, default_epoch: int | None) -> tuple[str, int | None]:
    name, _, at = key.partition("@")
    name = name.strip()
    if name not in EVIDENCE:
        raise KeyError(f"'{key}' is not in the evidence vocabulary; use one of: {', '.join(EVIDENCE)} "
                       "(per-epoch ones with an 'epoch', or written name@EPOCH).")
    if name in WHOLE_LOG:
        return name, None
    epoch = int(at) if at else default_epoch
    if epoch is None:
        raise KeyError(f"'{name}' is read at an epoch: add \"epoch\": E to the evidence, or write '{name}@E'.")
    return name, epoch


def verify(patient_id: str, evidence: dict) -> tuple[Cited, list[str]]:
    """Read every cited number back from the log: (the log's values, one line per number that is off)."""
    p = BY_ID[check_id(patient_id)]
    log = Log(p)
    default = evidence.get("epoch")
    values, problems = {}, []
    for key, cited in evidence.items():
        if key == "epoch":
            continue
        try:
            name, epoch = _parse_key(key, None if default is None else int(default))
        except KeyError as err:
            problems.append(str(err.args[0]))
            continue
        try:
            options = [log.at(name, epoch)] if epoch is not None else log.candidates(name)
        except ValueError as err:
            problems.append(f"{key}: {err}")
            continue
        _, tol_abs, tol_rel = EVIDENCE[name]
        where = f" at epoch {epoch}" if epoch is not None else ""
        try:
            cited = float(cited)
        except (TypeError, ValueError):
            problems.append(f"{key}: cite a number (you wrote {cited!r}).")
            continue

        def same(actual: float, cited: float = cited, tol_abs: float = tol_abs, tol_rel: float = tol_rel) -> bool:
            return (math.isnan(actual) and math.isnan(cited)) or abs(cited - actual) <= max(tol_abs,
                                                                                          tol_rel * abs(actual))

        matching = [a for a in options if same(a)]
        if not matching:
            shown = " or ".join(f"{a:.4g}" for a in dict.fromkeys(options))
            problems.append(f"{name}{where}: you cite {cited:g}, the log shows {shown}.")
            continue
        values[(name, epoch)] = matching[0]
    return Cited(values, log), problems
