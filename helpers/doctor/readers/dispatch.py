"""Which reader reads a file (READERS), and the entry points: read_log, read_runs, check_readable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence  # noqa: F401
from pathlib import Path
from typing import Any

import numpy as np

from helpers.doctor.readers.common import ALIASES, FORMATS, LogError, _history, canonical_names
from helpers.doctor.readers.console import read_keras_console
from helpers.doctor.readers.detect import detect_format
from helpers.doctor.readers.tabular import read_hf_state, read_keras_csv, read_keras_json, read_lightning_csv
from helpers.doctor.readers.tensorboard import read_tensorboard
from helpers.runs import History


def as_history(history: Any) -> History:
    """A ``History`` from a Keras History, a Gap Clinic History, a dict of per-epoch lists, or a log path."""
    if isinstance(history, (str, Path)):
        return read_log(history)
    if isinstance(history, History):
        if all(canonical_names(list(history.metrics))[k] == k for k in history.metrics) and not any(
                k in history.metrics for k in ALIASES):
            return history
        return _history(history.metrics, history.epoch_numbers, history.info)
    epochs = None
    if isinstance(getattr(history, "history", None), Mapping):  # keras.callbacks.History
        columns = dict(history.history)
        raw = getattr(history, "epoch", None)
        if raw is not None and len(raw) == len(next(iter(columns.values()), [])):
            epochs = [int(e) + 1 for e in raw]
    elif isinstance(history, Mapping):
        columns = dict(history)
    else:
        raise ValueError(f"cannot read a history from {type(history).__name__}; pass a Keras History, "
                         "a dict of per-epoch lists, a Gap Clinic History, or a log file path.")
    if "epoch" in columns:
        epochs = [int(e) + 1 for e in np.asarray(columns.pop("epoch"), dtype=float)]
    lengths = {len(np.atleast_1d(v)) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"every column needs one value per epoch; got lengths {sorted(lengths)}.")
    return _history({k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in columns.items()}, epochs)


# --- entry points -----------------------------------------------------------------------------------------

READERS = {"keras_csv": read_keras_csv, "keras_json": read_keras_json, "lightning": read_lightning_csv,
           "hf": read_hf_state, "tensorboard": read_tensorboard, "keras_console": read_keras_console}


def check_readable(history: History, source: str | Path = "history") -> History:
    """Raise LogError unless the history has a train and a validation curve with ≥ 2 finite epochs."""
    names = list(history.metrics)
    val = [n for n in names if n.startswith("val_")]
    train = [n for n in names if not n.startswith("val_")]
    if not val or not train:
        missing = [c for c in ("loss", "val_loss") if c not in names]
        raise LogError(f"{source}: missing column(s) {', '.join(missing)}; found {', '.join(names) or 'none'}.")
    if history.n_epochs < 2:
        raise LogError(f"{source}: {history.n_epochs} epoch(s) logged; the doctor needs at least 2.")
    pairs = [(n[4:], n) for n in val if n[4:] in history.metrics] or [(t, v) for t in train for v in val]
    best = max(pairs, key=lambda p: int(np.sum(np.isfinite(history[p[0]]) & np.isfinite(history[p[1]]))))
    finite = int(np.sum(np.isfinite(history[best[0]]) & np.isfinite(history[best[1]])))
    if finite < 2:
        raise LogError(f"{source}: {best[0]} and {best[1]} have {finite} epoch(s) with numbers in both (NaN or "
                       "infinite elsewhere); the doctor needs at least 2.")
    return history


def read_runs(path: str | Path, *, format: str = "auto") -> list[History]:
    """Every run in a log, oldest first, each checked readable.

    format: "auto" (detected from the content) or one of FORMATS.
    """
    if format not in ("auto", *FORMATS):
        raise ValueError(f"format={format!r}; choose 'auto' or one of {', '.join(FORMATS)}.")
    path = Path(path)
    fmt = detect_format(path) if format == "auto" else format
    runs = READERS[fmt](path)
    if not runs:
        raise LogError(f"{path}: 0 epoch(s) logged in this {fmt} log; the doctor needs at least 2.")
    good, errors = [], []
    for h in runs:  # a run aborted after one epoch is skipped; the file fails only if no run is readable
        h.info["format"] = fmt
        try:
            good.append(check_readable(h, path))
        except LogError as err:
            errors.append(err)
    if not good:
        raise errors[-1]
    return good


def read_log(path: str | Path, *, format: str = "auto", run: int = -1) -> History:
    """One run of a log (the last by default) as a ``History``.

    format: "auto" or one of FORMATS. run: which appended run (Python index; -1 the last).
    """
    runs = read_runs(path, format=format)
    try:
        return runs[run]
    except IndexError:
        raise ValueError(f"run={run}; this log holds {len(runs)} run(s).") from None
