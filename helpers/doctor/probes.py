"""Model and data probes: the same rows in both modes, validation twice, split overlap, label shares.

Inputs are checked the way scikit-learn checks them: an empty or mis-shaped array raises ValueError
saying what is needed, never an IndexError from deep inside, and never a finding that reads as healthy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from helpers.doctor.checks import MATERIAL_ACCURACY, MODE_GAP_ACCURACY, MODE_GAP_RATIO
from helpers.doctor.findings import Finding
from helpers.scoring import cross_entropy, framework_of, unchanged


def _framework(model: Any) -> str:
    return framework_of(model)


def score_both_modes(model: Any, x: Any, y: np.ndarray, *, from_logits: bool | None = None) -> dict[str, float]:
    """Loss and accuracy of one forward pass in training mode and one in inference mode.

    Training-mode BatchNorm would update its moving statistics; they are restored,
    so probing never changes the model.
    """
    framework = _framework(model)
    with unchanged(model):  # a training-mode pass moves BatchNorm's statistics; they are put back
        if framework == "torch":
            import torch

            with torch.no_grad():
                xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
                model.train()
                out_train = model(xt).numpy()
                model.eval()
                out_eval = model(xt).numpy()
        else:
            out_train = np.asarray(model(x, training=True))
    if framework != "torch":
        out_eval = np.asarray(model(x, training=False))
    logits = (framework == "torch") if from_logits is None else from_logits
    train_loss, train_acc = cross_entropy(out_train, y, from_logits=logits)
    eval_loss, eval_acc = cross_entropy(out_eval, y, from_logits=logits)
    return {"train_mode_loss": train_loss, "train_mode_accuracy": train_acc,
            "inference_mode_loss": eval_loss, "inference_mode_accuracy": eval_acc}


def probe_modes(model: Any, x: Any, y: np.ndarray, *, from_logits: bool | None = None) -> list[Finding]:
    """MODE_GAP: the same data scored in training and in inference mode differs materially.

    from_logits: whether outputs are logits (default: True for PyTorch, False for Keras).
    """
    s = score_both_modes(model, x, y, from_logits=from_logits)
    hi, lo = sorted([s["train_mode_loss"], s["inference_mode_loss"]], reverse=True)
    ratio = hi / max(lo, 1e-12)
    acc_gap = abs(s["train_mode_accuracy"] - s["inference_mode_accuracy"])
    if ratio >= MODE_GAP_RATIO or acc_gap >= MODE_GAP_ACCURACY:
        worse = "inference" if s["inference_mode_loss"] > s["train_mode_loss"] else "training"
        return [Finding(
            "MODE_GAP", "warn",
            f"the same rows score loss {s['train_mode_loss']:.3g} in training mode and "
            f"{s['inference_mode_loss']:.3g} in inference mode ({ratio:.1f}×, accuracy differs by {acc_gap:.3f}); "
            f"{worse} mode is worse: BatchNorm statistics or dropout, not overfitting.",
            {**s, "loss_ratio": ratio, "accuracy_gap": acc_gap},
            "Compare train and val both in inference mode (re-score the training set with model.evaluate / "
            "model.eval()); if inference mode is worse, BatchNorm moving statistics lag (lower momentum, more "
            "steps); if training mode is worse, it is dropout and harmless.",
        )]
    return []


def probe_val_determinism(score_fn: Callable[[], Any], *, repeats: int = 2, tolerance: float = 1e-6) -> list[Finding]:
    """VAL_NONDETERMINISTIC: scoring validation twice with the same weights gives different numbers.

    score_fn: scores the validation pipeline once and returns a number or a dict of numbers.
    """
    if repeats < 2:
        raise ValueError(f"repeats={repeats} must be at least 2.")
    results = [score_fn() for _ in range(repeats)]
    flat = [np.atleast_1d(np.asarray(list(r.values()) if isinstance(r, Mapping) else r, dtype=float))
            for r in results]
    spread = float(np.max(np.ptp(np.stack(flat), axis=0)))
    if spread > tolerance:
        return [Finding(
            "VAL_NONDETERMINISTIC", "error",
            f"validation scored {repeats} times with the same weights differs by up to {spread:.4g}: "
            "randomness (augmentation, shuffling with dropout on) reaches validation.",
            {"scores": [r if isinstance(r, Mapping) else float(np.asarray(r)) for r in results], "spread": spread},
            "Feed validation through a pipeline without augmentation (a separate ImageDataGenerator with only "
            "rescale; augmentation layers inside the model, which are inactive at inference).",
        )]
    return []


def _thumbnails(x: np.ndarray, side: int = 16) -> np.ndarray:
    """Grey thumbnails (at most side×side), each standardised to zero mean and unit norm.

    x: (N, H, W), (N, H, W, C) with C in 1/3/4, or (N, C, H, W). Two images are near-duplicates when their
    thumbnails are close: robust to noise, rescaling and brightness, unlike an exact hash.
    """
    from PIL import Image

    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 4:
        arr = arr.mean(axis=-1) if arr.shape[-1] in (1, 3, 4) else arr.mean(axis=1)
    h, w = arr.shape[1:3]
    if h > side or w > side:
        arr = np.stack([np.asarray(Image.fromarray(im).resize((min(w, side), min(h, side)), Image.BILINEAR))
                        for im in arr])
    flat = arr.reshape(len(arr), -1).astype(np.float64)
    flat -= flat.mean(axis=1, keepdims=True)
    return flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)


def _nearest_distance(val: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Euclidean distance from each val row to its nearest train row (scikit-learn, chunked in memory)."""
    from sklearn.metrics import pairwise_distances_argmin_min

    return pairwise_distances_argmin_min(val, train, metric="euclidean")[1]


def _row_digests(x: np.ndarray, decimals: int) -> list[bytes]:
    rounded = np.round(np.asarray(x, dtype=np.float64).reshape(len(x), -1), decimals) + 0.0
    return [hashlib.sha1(row.tobytes()).digest() for row in rounded]


def _samples(name: str, x: Any, kind: str) -> np.ndarray:
    """x as a numeric array of samples, checked: at least one sample, 2-D tables or 3-/4-D images."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array of samples; got {type(x).__name__}.") from None
    if arr.ndim < 2 or len(arr) == 0:
        raise ValueError(f"{name} needs shape (n_samples, n_features) for tables or (n_samples, H, W[, C]) for "
                         f"images, with n_samples ≥ 1; got shape {arr.shape}.")
    if kind == "image" and arr.ndim not in (3, 4):
        raise ValueError(f"kind='image' needs {name} as (n_samples, H, W) or (n_samples, H, W, C); got shape "
                         f"{arr.shape}. Pass kind='table' for feature rows.")
    return arr


def _drop_nan_rows(name: str, arr: np.ndarray) -> tuple[np.ndarray, int]:
    """Samples with any NaN are left out (a NaN row equals every other NaN row byte for byte)."""
    bad = np.isnan(arr.reshape(len(arr), -1)).any(axis=1)
    if bad.all():
        raise ValueError(f"every sample of {name} contains NaN; the split probe needs samples with numbers "
                         "(impute or drop NaN first).")
    return arr[~bad], int(bad.sum())


def probe_split(
    train: np.ndarray | None = None,
    val: np.ndarray | None = None,
    *,
    train_groups: Sequence[Any] | None = None,
    val_groups: Sequence[Any] | None = None,
    kind: str = "auto",
    max_distance: float = 0.1,
    decimals: int = 3,
    threshold: float = 0.01,
) -> list[Finding]:
    """SPLIT_OVERLAP: samples (or groups: recordings, frames) shared by train and val.

    train/val: (N, features) tables or (N, H, W) / (N, H, W, C) images; samples with NaN are left out
    (counted in the evidence), and every sample NaN raises ValueError.
    kind: "image" (standardised 16×16 thumbnails closer than ``max_distance``: near-duplicates),
    "table" (rows rounded to ``decimals``), or "auto" (images when 3-D or 4-D).
    train_groups/val_groups: per-sample group ids (recording, frame ids); for windows,
    pass one set of frame ids per sample.
    threshold: the share of val samples with a twin in train that counts as overlap.
    """
    if kind not in ("auto", "image", "table"):
        raise ValueError(f"kind={kind!r}; choose 'auto', 'image' or 'table'.")
    evidence: dict[str, Any] = {}
    if (train is None) != (val is None):
        raise ValueError("probe_split needs both train and val samples (or neither, with groups).")
    if train is not None and val is not None:
        train, val = _samples("train", train, kind), _samples("val", val, kind)
        if train.shape[1:] != val.shape[1:]:
            raise ValueError(f"train and val samples must have the same shape; got {train.shape[1:]} and "
                             f"{val.shape[1:]}.")
        if kind == "auto":
            kind = "image" if train.ndim >= 3 else "table"
        train, skipped_train = _drop_nan_rows("train", train)
        val, skipped_val = _drop_nan_rows("val", val)
        if skipped_train or skipped_val:
            evidence.update(skipped_nan_train=skipped_train, skipped_nan_val=skipped_val)
        exact_train = set(_row_digests(train, 12))
        exact = np.array([d in exact_train for d in _row_digests(val, 12)])
        if kind == "image":
            near = _nearest_distance(_thumbnails(val), _thumbnails(train)) <= max_distance
        else:
            rounded_train = set(_row_digests(train, decimals))
            near = np.array([d in rounded_train for d in _row_digests(val, decimals)])
        evidence.update(exact_fraction=float(exact.mean()), near_fraction=float((near | exact).mean()),
                        kind=kind, n_val=len(val))
    if (train_groups is None) != (val_groups is None):
        raise ValueError("probe_split needs both train_groups and val_groups (or neither, with samples).")
    if train_groups is not None and val_groups is not None:
        if len(train_groups) == 0 or len(val_groups) == 0:
            raise ValueError(f"probe_split needs at least one group id per split; got {len(train_groups)} train "
                             f"and {len(val_groups)} val.")

        def members(g: Any) -> set:
            return set(g) if isinstance(g, (set, frozenset, list, tuple, np.ndarray)) else {g}

        train_ids = set().union(*(members(g) for g in train_groups))
        shared = np.array([bool(members(g) & train_ids) for g in val_groups])
        evidence.update(group_fraction=float(shared.mean()), n_val=len(val_groups))
    if not evidence:
        raise ValueError("probe_split needs train and val samples, or train_groups and val_groups.")
    worst = max(evidence.get("near_fraction", 0.0), evidence.get("group_fraction", 0.0))
    if worst >= threshold:
        parts = []
        if "near_fraction" in evidence:
            parts.append(f"{100 * evidence['near_fraction']:.1f}% of validation samples have an exact or "
                         f"near-duplicate in training ({100 * evidence['exact_fraction']:.1f}% exact)")
        if "group_fraction" in evidence:
            parts.append(f"{100 * evidence['group_fraction']:.1f}% share a group (recording/frame) with training")
        return [Finding(
            "SPLIT_OVERLAP", "warn", "; ".join(parts) + ": validation partly re-tests memorised samples.",
            evidence,
            "Split by group (recording, signer, patient, machine) so no near-duplicate crosses the split, and "
            "keep a test set collected separately.",
        )]
    return []


def probe_labels(train_labels: Sequence[Any], val_labels: Sequence[Any], *, alpha: float = 1e-3) -> list[Finding]:
    """LABEL_SHIFT: the splits' label distributions differ beyond sampling noise (χ² test).

    train_labels/val_labels: one class label per sample (1-D), at least one in each split.
    alpha: the χ² test's significance level.
    """
    from scipy.stats import chi2_contingency

    train_labels, val_labels = np.asarray(train_labels), np.asarray(val_labels)
    for name, labels in (("train_labels", train_labels), ("val_labels", val_labels)):
        if labels.ndim != 1 or len(labels) == 0:
            raise ValueError(f"probe_labels needs {name} as a 1-D sequence of class labels with at least one "
                             f"label; got shape {labels.shape}.")
    classes = np.union1d(train_labels, val_labels)
    table = np.array([[np.sum(train_labels == c) for c in classes], [np.sum(val_labels == c) for c in classes]])
    table = table[:, table.sum(0) > 0]
    p_train, p_val = table[0] / table[0].sum(), table[1] / table[1].sum()
    tvd = float(0.5 * np.abs(p_train - p_val).sum())
    if table.shape[1] < 2:
        return []
    p_value = float(chi2_contingency(table)[1])
    if p_value < alpha and tvd >= MATERIAL_ACCURACY:
        biggest = int(np.argmax(np.abs(p_train - p_val)))
        return [Finding(
            "LABEL_SHIFT", "warn",
            f"label shares differ between train and val (total variation {tvd:.2f}, χ² p = {p_value:.1e}); "
            f"class {classes[biggest]!s} is {100 * p_train[biggest]:.1f}% of train but {100 * p_val[biggest]:.1f}% "
            "of val.",
            {"total_variation": tvd, "p_value": p_value, "classes": [str(c) for c in classes],
             "train_share": p_train.tolist(), "val_share": p_val.tolist()},
            "Stratify the split, or check whether it took one end of ordered data (validation_split, sorted files).",
        )]
    return []


