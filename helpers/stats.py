"""The small pieces of arithmetic the lessons rest on."""

from __future__ import annotations

import math

import numpy as np

LN2 = math.log(2.0)


def accuracy_floor(loss: float | np.ndarray) -> float | np.ndarray:
    """Lowest accuracy a mean cross-entropy ``loss`` allows: ``1 - loss / ln 2`` (clipped at 0).

    A misclassified sample has p(true class) <= 1/2, so it costs at least ln 2;
    hence error rate <= loss / ln 2. Holds for binary and categorical cross-entropy.
    """
    floor = 1.0 - np.asarray(loss, dtype=float) / LN2
    floor = np.clip(floor, 0.0, 1.0)
    return float(floor) if np.ndim(floor) == 0 else floor


def binomial_se(accuracy: float | np.ndarray, n: int) -> float | np.ndarray:
    """Standard error of an accuracy measured on ``n`` independent samples."""
    if n < 1:
        raise ValueError(f"n={n} must be a positive number of samples.")
    p = np.clip(np.asarray(accuracy, dtype=float), 0.0, 1.0)
    se = np.sqrt(p * (1.0 - p) / n)
    return float(se) if np.ndim(se) == 0 else se
