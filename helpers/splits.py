"""Train/validation splits, the right ones and the classic mistakes.

Each function returns index arrays (train_idx, val_idx) into the data it was
given, so a split can be inspected (which rows? which frames?) before use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from helpers.datasets import rng
from helpers.validate import check_range


def _check_fraction(val_fraction: float) -> None:
    check_range("val_fraction", val_fraction, 0.01, 0.99)


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A shuffled split that keeps each class's share the same on both sides."""
    _check_fraction(val_fraction)
    generator = rng(seed)
    val = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        val.extend(generator.permutation(members)[: round(len(members) * val_fraction)])
    val = np.sort(np.asarray(val, dtype=int))
    return np.setdiff1d(np.arange(len(labels)), val), val


def tail_split(n: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Keras ``fit(validation_split=f)``: the *last* f of the rows, taken before any shuffling."""
    _check_fraction(val_fraction)
    n_train = int(n * (1 - val_fraction))
    return np.arange(n_train), np.arange(n_train, n)


def sorted_subset_split(
    file_names: Sequence[str], labels: np.ndarray, val_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Legacy ``flow_from_directory(subset=...)``: per class, the sorted *first* f of the files are validation.

    Sorting is lexicographic, as the directory iterator sorts: A1, A10, A100, A1000, A1001 …
    """
    _check_fraction(val_fraction)
    names = np.asarray(file_names)
    val = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        members = members[np.argsort(names[members], kind="stable")]
        val.extend(members[: int(val_fraction * len(members))])
    val = np.sort(np.asarray(val, dtype=int))
    return np.setdiff1d(np.arange(len(names)), val), val


def stratified_group_split(
    groups: np.ndarray, labels: np.ndarray, val_share: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Whole groups to one side, ``val_share`` of each class's groups (at least one) to validation.

    Recordings of one class stay whole and every class is validated. Returns shuffled
    (train, val) row indices.
    """
    _check_fraction(val_share)
    generator = rng(seed)
    val_groups = []
    for label in np.unique(labels):
        mine = generator.permutation(np.unique(groups[labels == label]))
        val_groups.extend(mine[: max(1, round(len(mine) * val_share))])
    is_val = np.isin(groups, val_groups)
    return generator.permutation(np.flatnonzero(~is_val)), generator.permutation(np.flatnonzero(is_val))


