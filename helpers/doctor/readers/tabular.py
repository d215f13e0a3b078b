"""The CSV and JSON readers: Keras CSVLogger, PyTorch Lightning metrics.csv, Keras History JSON, Hugging Face
trainer_state.json."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence  # noqa: F401
from pathlib import Path
from typing import Any

import numpy as np

from helpers.doctor.readers.common import HF_SKIP, LogError, _history, _split_name
from helpers.doctor.readers.detect import MISSING, _numbers, _numeric_table, _read_bytes, _segments, _table, _text
from helpers.runs import History


def read_keras_csv(path: str | Path) -> list[History]:
    """Every run in a Keras ``CSVLogger`` file, oldest first."""
    path = Path(path)
    text = _text(path, _read_bytes(path))
    fast = _numeric_table(path, text)
    breaks: set[int] = set()
    wrote: dict[str, np.ndarray] | None = None  # the fast path has no blank cell: every row is written
    if fast is not None:
        header, table = fast
        columns = {name: table[:, j] for j, name in enumerate(header) if name not in header[:j]}
        header = list(columns)
        n = len(table)
    else:
        header, body, lines = _table(path, text)
        if len(set(header)) != len(header):
            keep = [i for i, h in enumerate(header) if h not in header[:i]]
            header, body = [header[i] for i in keep], [[r[i] for i in keep] for r in body]
        # A repeated header row marks an appended run whose epochs may not restart (resumed, append=True).
        first = header[0]
        breaks = {i for i, row in enumerate(body) if row[0] == first and [c.strip() for c in row] == header}
        if breaks:
            body = [row for i, row in enumerate(body) if i not in breaks]
            lines = [line for i, line in enumerate(lines) if i not in breaks]
        n = len(body)
        cells = list(zip(*body, strict=True)) if body else [()] * len(header)  # one tuple per column
        columns = {name: _numbers(path, name, cells[j], lines) for j, name in enumerate(header)}
        wrote = {name: np.array([c.strip().lower() not in MISSING for c in cells[j]], dtype=bool)
                 for j, name in enumerate(header)}
    epoch = columns.pop("epoch", None)
    cut = sorted({b - sum(1 for c in breaks if c < b) for b in breaks} - {0, n})
    pieces = [slice(a, b) for a, b in zip([0, *cut], [*cut, n], strict=True)]
    runs = []
    for piece in pieces:
        subs = _segments(epoch[piece]) if epoch is not None else [slice(0, piece.stop - piece.start)]
        for sub in subs:
            rows = slice(piece.start + sub.start, piece.start + sub.stop)
            if rows.stop <= rows.start:
                continue
            if epoch is not None and np.isfinite(epoch[rows]).all():
                epochs = (epoch[rows].astype(int) + 1).tolist()
            else:
                epochs = list(range(1, rows.stop - rows.start + 1))
            runs.append(_history({k: v[rows] for k, v in columns.items()}, epochs, {"format": "keras_csv"},
                                 {k: wrote[k][rows] for k in columns} if wrote is not None else None))
    return runs


def read_lightning_csv(path: str | Path) -> list[History]:
    """Every run in a PyTorch Lightning ``metrics.csv``, one row per epoch."""
    path = Path(path)
    header, body, lines = _table(path, _text(path, _read_bytes(path)))
    lowered = [h.lower() for h in header]
    if "epoch" not in lowered:
        raise LogError(f"{path}: a Lightning metrics.csv needs an 'epoch' column; found {', '.join(header)}.")
    logged = {name: np.array([bool(r[j].strip()) for r in body]) for j, name in enumerate(header)}
    raw = {}
    for j, name in enumerate(header):  # duplicate columns: the first non-blank cell wins
        values = _numbers(path, name, [r[j] for r in body], lines)
        raw[name] = values if name not in raw else np.where(np.isfinite(raw[name]), raw[name], values)
    epoch = raw[header[lowered.index("epoch")]]
    groups: dict[str, tuple[str, str, str]] = {}
    for name in raw:
        if name.lower() in ("epoch", "step"):
            continue
        split, base, granularity = _split_name(name)
        if split == "test" or base in ("lr", "learning_rate") or base.startswith(("lr_", "lr-")):
            continue
        groups[name] = (split, base, granularity)
    runs = []
    for seg in _segments(epoch, repeats=True):
        ep = epoch[seg]
        rows = np.isfinite(ep)  # LR-monitor rows have no epoch
        values = sorted({int(e) for e in ep[rows]})
        if not values:
            continue
        index = {e: i for i, e in enumerate(values)}
        row_epoch = np.array([index.get(int(e), -1) if np.isfinite(e) else -1 for e in ep])
        metrics: dict[str, np.ndarray] = {}
        wrote: dict[str, np.ndarray] = {}  # epochs where the log wrote a cell of the column (NaN included)
        any_logged = np.zeros(len(values), dtype=bool)  # an epoch where only test or LR cells were written
        chosen: dict[str, str] = {}  # canonical name -> granularity used; epoch-level beats step-level
        rank = {"epoch": 0, "": 1, "step": 2}
        for name, (split, base, granularity) in groups.items():
            canon = ("val_" if split == "val" else "") + base
            if canon in chosen and rank[chosen[canon]] < rank[granularity]:
                continue
            col = raw[name][seg]
            cells = logged[name][seg] & (row_epoch >= 0)
            any_logged[np.unique(row_epoch[cells])] = True
            has = np.zeros(len(values), dtype=bool)
            has[np.unique(row_epoch[cells])] = True
            ok = np.isfinite(col) & (row_epoch >= 0)
            if not ok.any():
                continue
            out = np.full(len(values), np.nan)
            sums = np.bincount(row_epoch[ok], weights=col[ok], minlength=len(values))
            counts = np.bincount(row_epoch[ok], minlength=len(values))
            if split == "train" and granularity != "epoch":  # per-step values: their epoch mean
                out[counts > 0] = sums[counts > 0] / counts[counts > 0]
            else:  # an epoch-level value (validation may run more than once an epoch): the last one
                last = np.full(len(values), -1)
                np.maximum.at(last, row_epoch[ok], np.flatnonzero(ok))
                out[last >= 0] = col[last[last >= 0]]
            if canon in chosen and chosen[canon] == granularity:  # a duplicate column fills the other's gaps
                out = np.where(np.isfinite(metrics[canon]), metrics[canon], out)
            if canon in chosen and chosen[canon] == granularity:
                has = has | wrote[canon]
            metrics[canon], wrote[canon] = out, has
            chosen[canon] = granularity
        if metrics and any_logged.any():
            keep = np.flatnonzero(any_logged)
            runs.append(_history({k: v[keep] for k, v in metrics.items()}, [values[i] + 1 for i in keep],
                                 {"format": "lightning"}, {k: v[keep] for k, v in wrote.items()}))
    return runs


# --- JSON -------------------------------------------------------------------------------------------------


def _json(path: Path) -> Any:
    text = _text(path, _read_bytes(path))
    try:
        return json.loads(text, parse_constant=lambda c: math.nan)
    except json.JSONDecodeError as err:
        what = "truncated" if text.rstrip()[-1:] not in ("}", "]") else "not valid"  # never closed: cut short
        raise LogError(f"{path}: {what} JSON ({err.msg} at line {err.lineno}, column {err.colno}).") from None


def _floats(path: Path, name: str, values: Any) -> np.ndarray:
    if not isinstance(values, list):
        raise LogError(f"{path}: {name} is {type(values).__name__}, expected a list with one number per epoch.")
    try:
        return np.array([math.nan if v is None else v for v in values], dtype=float)
    except (TypeError, ValueError):
        raise LogError(f"{path}: {name} holds values that are not numbers.") from None


def read_keras_json(path: str | Path) -> list[History]:
    """A Keras ``History.history`` saved as JSON: ``{"loss": [...], "val_loss": [...], ...}``."""
    path = Path(path)
    doc = _json(path)
    if isinstance(doc, Mapping) and isinstance(doc.get("history"), Mapping):
        doc = doc["history"]
    if not isinstance(doc, Mapping) or not doc:
        raise LogError(f"{path}: expected a JSON object of per-epoch lists (Keras History.history), got "
                       f"{type(doc).__name__}.")
    columns = {k: _floats(path, k, v) for k, v in doc.items() if isinstance(v, list)}
    if not columns:
        raise LogError(f"{path}: no per-epoch lists in this JSON object (keys: {', '.join(map(str, doc))}).")
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise LogError(f"{path}: lists of different lengths {sorted(lengths)}; expected one value per epoch.")
    written = {k: np.array([v is not None for v in doc[k]], dtype=bool) for k in columns}  # null: not logged
    epoch = columns.pop("epoch", None)
    epochs = [int(e) + 1 for e in epoch] if epoch is not None and np.isfinite(epoch).all() else None
    return [_history(columns, epochs, {"format": "keras_json"}, written)]


def read_hf_state(path: str | Path) -> list[History]:
    """A Hugging Face ``trainer_state.json``: one row per evaluation, ordered by ``step``.

    The training loss of a row is the mean of the training losses logged since the previous evaluation
    (the last one logged before it, when training logs less often than evaluation runs).
    """
    path = Path(path)
    doc = _json(path)
    entries = doc.get("log_history") if isinstance(doc, Mapping) else None
    if not isinstance(entries, list):
        raise LogError(f"{path}: no 'log_history' list; not a Hugging Face trainer_state.json.")
    entries = [e for e in entries if isinstance(e, Mapping)]
    runs, current, last_step = [], [], -math.inf
    for e in entries:
        step = e.get("step")
        if isinstance(step, (int, float)) and step < last_step:  # a new training started in the same state
            runs.append(current)
            current = []
        if isinstance(step, (int, float)):
            last_step = step
        current.append(e)
    runs.append(current)
    out = [h for h in (_hf_run(path, run) for run in runs) if h is not None]
    if not out:
        raise LogError(f"{path}: log_history has no eval_* entries; the Trainer never evaluated "
                       "(set eval_strategy), so there is no validation curve.")
    return out


def _hf_run(path: Path, entries: list[Mapping[str, Any]]) -> History | None:
    rows: list[dict[str, float]] = []
    fresh_train: list[bool] = []  # the row's training loss was logged since the previous evaluation
    steps: list[float] = []
    pending: list[float] = []
    last_train = math.nan
    for e in entries:
        if any(k.startswith("train_") and k.endswith("runtime") for k in e):
            continue  # the final summary: mean loss over the whole run, not a point of the curve
        evals = {k[5:]: v for k, v in e.items() if k.startswith("eval_") and isinstance(v, (int, float))
                 and not any(k.endswith(s) for s in HF_SKIP)}
        if "loss" in e and isinstance(e["loss"], (int, float)) and not evals:
            pending.append(float(e["loss"]))
            last_train = float(e["loss"])
        if evals:
            train = float(np.mean(pending)) if pending else last_train
            fresh_train.append(bool(pending))
            pending = []
            row = {"loss": train}
            row.update({f"val_{k}": float(v) for k, v in evals.items()})
            rows.append(row)
            steps.append(float(e.get("step", len(rows))))
    if not rows:
        return None
    names = list(dict.fromkeys(k for r in rows for k in r))
    metrics = {n: np.array([r.get(n, math.nan) for r in rows]) for n in names}
    # the training loss repeated from before the previous evaluation is not a new training number
    written = {n: np.array([n in r and (n != "loss" or fresh) for r, fresh in zip(rows, fresh_train, strict=True)])
               for n in names}
    return _history(metrics, None, {"format": "hf", "steps": steps}, written)
