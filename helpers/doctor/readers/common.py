"""What every reader shares: the format names, metric-name aliases, LogError, and turning columns into a History."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from helpers.runs import History

FORMATS = ("keras_csv", "keras_json", "lightning", "hf", "tensorboard", "keras_console")
# Accuracy-like names, most specific last; the first present in both splits becomes "accuracy".
ACCURACY_NAMES = ("accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy")
ALIASES = {"acc": "accuracy", "val_acc": "val_accuracy"}  # kept for callers of the old module
SEPARATORS = (",", ";", "\t", "|")
TRAIN_PREFIXES = ("train_", "training_", "trn_")
AGGREGATES = {"", "epoch", "average", "avg", "mean", "total", "step", "end"}
VAL_PREFIXES = ("val_", "valid_", "validation_", "eval_", "dev_")
# HF log_history keys that are bookkeeping, not curves.
HF_SKIP = ("runtime", "samples_per_second", "steps_per_second", "epoch", "step", "flos", "grad_norm",
           "learning_rate", "num_input_tokens_seen")


class LogError(ValueError):
    """A log file the doctor cannot read; the message names the problem in one line."""


# --- names ------------------------------------------------------------------------------------------------


def _split_name(name: str) -> tuple[str, str, str]:
    """(split, base, granularity) of a logged name: split in train/val/test, granularity epoch/step/''.

    Handles ``val_loss``, ``valid_acc``, ``train_loss_epoch``, ``loss/val``, ``eval_accuracy``, ``test_f1``.
    """
    n = re.sub(r"[/\-. ]+", "_", name.strip().lower())
    n = re.sub(r"_\d+$", "", n)  # pandas/Lightning de-duplicated names: loss_0 is loss again
    granularity = ""
    for g in ("epoch", "step"):
        if n.endswith(f"_{g}"):
            n, granularity = n[: -len(g) - 1], g
    split = "train"
    for prefixes, s in ((VAL_PREFIXES, "val"), (("test_",), "test"), (TRAIN_PREFIXES, "train")):
        hit = next((p for p in prefixes if n.startswith(p)), None)
        if hit:
            n, split = n[len(hit) :], s
            break
    else:
        for suffix, s in (("_val", "val"), ("_valid", "val"), ("_validation", "val"), ("_train", "train"),
                          ("_test", "test")):
            if n.endswith(suffix):
                n, split = n[: -len(suffix)], s
                break
    if set(n.split("_")) <= AGGREGATES:  # "validation_epoch_average": a value with no metric name is the loss
        n = "loss"
    return split, n, granularity


def canonical_names(names: Sequence[str]) -> dict[str, str]:
    """Map Keras-style names to canonical ones: the accuracy both splits share becomes ``accuracy``.

    names: column names such as ``loss``, ``val_loss``, ``binary_accuracy``, ``val_binary_accuracy``.
    """
    train = {n for n in names if not n.startswith("val_")}
    val = {n[4:] for n in names if n.startswith("val_")}
    shared = [a for a in ACCURACY_NAMES if a in train and a in val]
    either = [a for a in ACCURACY_NAMES if a in train or a in val]
    chosen = (shared or either or [None])[0]
    out = {}
    for n in names:
        base, prefix = (n[4:], "val_") if n.startswith("val_") else (n, "")
        out[n] = prefix + ("accuracy" if chosen is not None and base == chosen else base)
    return out


def _percent_to_fraction(metrics: dict[str, np.ndarray], info: dict[str, Any]) -> None:
    """Accuracies logged in percent (max above 1, at most 100) become fractions, so chance and noise apply."""
    for name in ("accuracy", "val_accuracy"):
        values = metrics.get(name)
        if values is None or not np.isfinite(values).any():
            continue
        top = float(np.nanmax(values))
        if 1.0 < top <= 100.0:
            metrics[name] = values / 100.0
            info.setdefault("percent_accuracy", []).append(name)


def keras_name(name: str) -> str | None:
    """A logged name in Keras' spelling (``val_`` prefix), or None for a test-set column.

    ``validation loss`` → ``val_loss``, ``train_acc_epoch`` → ``acc``, ``loss/val`` → ``val_loss``.
    """
    split, base, _ = _split_name(name)
    if split == "test":
        return None
    return ("val_" if split == "val" else "") + base


def _history(metrics: Mapping[str, Any], epochs: Sequence[int] | None = None,
             info: dict[str, Any] | None = None, written: Mapping[str, Any] | None = None) -> History:
    """A History under canonical names, values as float arrays (NaN where nothing was logged).

    written: for each name of ``metrics``, which rows hold a cell the log wrote (a number, or NaN/inf written as
    such) rather than a blank; given by the readers that can tell, it drops the rows that hold no training and
    no validation number (``_rows_with_curves``).
    """
    spelled = {name: keras_name(name) for name in metrics}
    rename = canonical_names([n for n in spelled.values() if n is not None])
    columns: dict[str, np.ndarray] = {}
    wrote: dict[str, np.ndarray] = {}
    for name, values in metrics.items():
        if spelled[name] is None:
            continue
        canon = rename[spelled[name]]
        values = np.asarray(values, dtype=float)
        cells = np.asarray(written[name], dtype=bool) if written is not None else np.ones(len(values), bool)
        if canon in columns:  # a duplicate after renaming fills the first one's gaps
            columns[canon] = np.where(np.isfinite(columns[canon]), columns[canon], values)
            wrote[canon] = wrote[canon] | cells
        else:
            columns[canon], wrote[canon] = values, cells
    info = dict(info or {})
    keep = _rows_with_curves(wrote) if written is not None else None
    if keep is not None:
        # a column written only in the dropped rows (Final F1 Score) goes with them
        columns = {k: v[keep] for k, v in columns.items() if wrote[k][keep].any() or not wrote[k].any()}
        if isinstance(info.get("steps"), list) and len(info["steps"]) == len(keep):
            info["steps"] = [s for s, k in zip(info["steps"], keep, strict=True) if k]
        if epochs is not None:
            epochs = [e for e, k in zip(epochs, keep, strict=True) if k]
        info["dropped_rows"] = int(np.sum(~keep))
    _percent_to_fraction(columns, info)
    return History(metrics={k: v.tolist() for k, v in columns.items()}, info=info,
                   epoch_numbers=list(epochs) if epochs is not None else None)


def _rows_with_curves(written: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """Which rows hold a training or a validation number; None when every row does (or none does).

    written: canonical name -> rows where the log wrote that column's cell (a NaN written as such counts: a
    diverged epoch is an epoch). A training or validation number is a cell of a curve: ``loss``, ``accuracy``
    or any metric logged in both splits (``mae`` with ``val_mae``), either split. A row with none is not an
    epoch of training: the final test row of a Lightning ``metrics.csv`` (``Final F1 Score``, a one-off name
    that reads as a training column), a row of learning rate only, a TensorBoard step holding only
    ``hp_metric``. Kept, it would be one more epoch of NaN at the end, read as a diverged run. When no row has
    a curve, nothing is dropped and ``check_readable`` names what is missing.
    """
    curves = [n for n in written if n in ("loss", "val_loss", "accuracy", "val_accuracy")
              or (not n.startswith("val_") and f"val_{n}" in written)
              or (n.startswith("val_") and n[4:] in written)]
    if not curves:
        return None
    keep = np.zeros(len(written[curves[0]]), dtype=bool)
    for n in curves:
        keep |= written[n]
    return None if keep.all() or not keep.any() else keep
