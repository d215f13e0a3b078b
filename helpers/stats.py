"""The small pieces of arithmetic the lessons rest on: the loss/accuracy bound, binomial and seed spreads."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LN2 = math.log(2.0)


# The one statement of the bound the suite uses (lesson 00 proves it; 04, the doctor and the README cite it).
BOUND_CONDITIONS: tuple[str, ...] = (
    "the loss is log-loss (binary or categorical cross-entropy; label-smoothed targets included, focal loss not)",
    "the accuracy decides by argmax, or at 0.5 for one sigmoid output",
    "loss and accuracy come from the same forward pass on the same samples",
    "with per-sample weights w (class_weight, sample_weight) the loss is mean(w * loss): the bound is then on the "
    "weighted accuracy, with the mean weight in the denominator; the unweighted accuracy is bounded only through "
    "the smallest weight (1 - L / (min(w) ln 2)), which says nothing once some weights are small",
)


def accuracy_floor(loss: float | np.ndarray, mean_weight: float = 1.0) -> float | np.ndarray:
    """Lowest accuracy a mean log-loss ``loss`` allows: ``1 - loss / (mean_weight * ln 2)``, clipped to [0, 1].

    A misclassified sample gives its true class p <= 1/2 (argmax or the 0.5 threshold), so its log-loss is at
    least ln 2; with label-smoothed targets the loss on p <= 1/2 is still at least ln 2 (it is convex with its
    minimum at the target, above 1/2). Hence error rate <= loss / ln 2. With Keras's weighted mean
    ``mean(w * loss)`` the same step bounds the *weighted* error, sum of w over wrong samples / sum of w, by
    ``loss / (mean(w) * ln 2)``; the unweighted error only by ``loss / (min(w) * ln 2)`` (pass the smallest
    weight as ``mean_weight`` for that), which is vacuous once some weights are small. The conditions are in
    ``BOUND_CONDITIONS``; focal loss ((1/2)**gamma * ln 2 per wrong sample), a threshold other than 0.5 and a
    metric from another forward pass break it. It is one-sided (a high accuracy at a high loss is always
    possible: over-confident mistakes) and says nothing once ``loss >= mean_weight * ln 2`` (the floor is 0).
    """
    if not mean_weight > 0:
        raise ValueError(f"mean_weight={mean_weight} must be > 0 (the mean per-sample weight; 1 when unweighted).")
    floor = 1.0 - np.asarray(loss, dtype=float) / (mean_weight * LN2)
    floor = np.clip(floor, 0.0, 1.0)
    return float(floor) if np.ndim(floor) == 0 else floor


def prior_entropy(labels_or_shares: Sequence[float] | np.ndarray, *, shares: bool = False) -> float:
    """Cross-entropy of a model that knows only the class frequencies: -sum(pi_k ln pi_k), in nats.

    A freshly initialised K-class model scores about ln K before any step; within its first steps it learns
    the class frequencies and falls to this value, which is far below ln K when the classes are imbalanced
    (2 % positives: 0.098 against ln 2 = 0.693). labels_or_shares: integer labels, or class shares with
    ``shares=True``.
    """
    values = np.asarray(labels_or_shares, dtype=float)
    if shares:
        if values.ndim != 1 or (values < 0).any() or not np.isclose(values.sum(), 1.0):
            raise ValueError(f"shares={values.tolist()} must be non-negative and sum to 1.")
        p = values
    else:
        if values.size == 0 or (values < 0).any() or (values != np.round(values)).any():
            raise ValueError("labels must be a non-empty array of non-negative integer class labels.")
        p = np.bincount(values.astype(int)) / values.size
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def binomial_se(accuracy: float | np.ndarray, n: int) -> float | np.ndarray:
    """Standard error of an accuracy measured on ``n`` independent samples (for shading a curve)."""
    if n < 1:
        raise ValueError(f"n={n} must be a positive number of samples.")
    p = np.clip(np.asarray(accuracy, dtype=float), 0.0, 1.0)
    se = np.sqrt(p * (1.0 - p) / n)
    return float(se) if np.ndim(se) == 0 else se


def wilson_interval(accuracy: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson interval of an accuracy on ``n`` samples: honest near 0 and 1, where the Wald SE is not."""
    from scipy.stats import binomtest

    if n < 1:
        raise ValueError(f"n={n} must be a positive number of samples.")
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy={accuracy} must lie in [0, 1].")
    ci = binomtest(round(accuracy * n), n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


ONE_SE = 0.6827  # the coverage of ±1 standard error: error bars drawn at this level read like "± 1 s.e."


def wilson_errors(accuracy: float | Sequence[float] | np.ndarray, n: int,
                  level: float = ONE_SE) -> tuple[np.ndarray, np.ndarray]:
    """Distances below and above each accuracy to its Wilson interval (for ``errorbar``/``fill_between``)."""
    acc = np.atleast_1d(np.asarray(accuracy, dtype=float))
    bounds = np.array([wilson_interval(float(np.clip(a, 0.0, 1.0)), n, level) for a in acc])
    return np.clip(acc - bounds[:, 0], 0.0, None), np.clip(bounds[:, 1] - acc, 0.0, None)


@dataclass(frozen=True)
class Spread:
    """One claim's number over seeds: mean, min, max and the values themselves."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def low(self) -> float:
        return float(np.min(self.values))

    @property
    def high(self) -> float:
        return float(np.max(self.values))

    @property
    def std(self) -> float:
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else 0.0

    def __str__(self) -> str:
        return f"{self.mean:.3g} [{self.low:.3g}, {self.high:.3g}] over {len(self.values)} seeds"


def spread(values: Sequence[float]) -> Spread:
    """A Spread of ``values`` (one per seed)."""
    values = tuple(float(v) for v in values)
    if not values:
        raise ValueError("spread() needs one value per seed; got none.")
    return Spread(values)
