"""Readers: the training logs people have, as a Gap Clinic ``History`` under canonical names.

Formats (detected from the content; ``format=`` forces one):

* ``keras_csv``: a Keras ``CSVLogger`` file, any separator (``,`` ``;`` tab ``|``), runs appended in one
  file split where the epoch restarts (or the header repeats), a run resumed at epoch 10 keeps its numbers;
* ``keras_json``: ``History.history`` dumped as JSON (a dict of per-epoch lists);
* ``lightning``: PyTorch Lightning's ``CSVLogger`` ``metrics.csv`` (step rows, blank cells, ``*_epoch`` /
  ``*_step`` names, LR-monitor rows without an epoch, duplicate columns, a final test row);
* ``hf``: Hugging Face ``trainer_state.json`` (``log_history``: training ``loss`` per logging step,
  ``eval_*`` per evaluation; ``epoch`` may reset, so evaluations are ordered by ``step``);
* ``tensorboard``: event files (a file, or a folder with ``train/`` and ``validation/`` runs; a folder of
  several runs gives one History per run), through the ``tensorboard`` package's ``EventAccumulator``;
* ``keras_console``: Keras' printed ``fit`` output pasted into a file (``Epoch 1/300 ... - loss: 0.1229 -
  acc: 0.0207 - val_loss: ...``), as forum posts show it.

Canonical names: ``loss``, ``val_loss``, ``accuracy``, ``val_accuracy`` (any accuracy-like name:
``acc``, ``binary_accuracy``, ``sparse_categorical_accuracy`` ...); other metrics keep their names, with
``val_`` for validation. Every problem with a file raises ``LogError`` with one line naming it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
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


# --- bytes to text ----------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise LogError(f"{path}: no such file.")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise LogError(f"{path}: cannot read ({err.strerror or err}).") from None
    if not data.strip():
        raise LogError(f"{path}: the file is empty.")
    return data


def _is_event_file(path: Path, data: bytes | None = None) -> bool:
    if path.is_dir():
        return any(path.glob("**/*tfevents*"))
    return "tfevents" in path.name or (data is not None and b"brain.Event" in data[:128])


def _text(path: Path, data: bytes) -> str:
    """Decode as UTF-8 (a BOM is dropped) or as UTF-16 when it starts with a UTF-16 BOM."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # PowerShell's `>` writes UTF-16 with a BOM
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise LogError(f"{path}: starts like UTF-16 text but does not decode as UTF-16.") from None
    if b"\x00" in data[:4096]:
        raise LogError(f"{path}: not a text CSV or JSON log (binary content); for TensorBoard files pass "
                       "--format tensorboard.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise LogError(f"{path}: not a text CSV or JSON log in UTF-8 (byte 0x{data[err.start]:02x} at offset "
                       f"{err.start}); save it as UTF-8.") from None


def detect_format(path: str | Path) -> str:
    """The format of a log, from its content: one of FORMATS."""
    path = Path(path)
    if path.is_dir():
        if _is_event_file(path):
            return "tensorboard"
        raise LogError(f"{path}: a folder without TensorBoard event files; pass a log file.")
    data = _read_bytes(path)
    if _is_event_file(path, data):
        return "tensorboard"
    text = _text(path, data).lstrip()
    if text[:1] == "{" or re.match(r"\[\s*[\[{\"\d\]-]", text):  # "[site]: ..." is a pasted post, not JSON
        return "hf" if '"log_history"' in text else "keras_json"
    if _looks_like_console(text):
        return "keras_console"
    head = text[:65536]
    header = _header(path, head[: head.rfind("\n") + 1] or head)  # the first lines decide the layout
    names = {_split_name(h)[2] for h in header}
    lowered = {h.strip().lower() for h in header}
    if "step" in lowered and ("epoch" in lowered or names & {"epoch", "step"}):
        return "lightning"
    return "keras_csv"


# --- CSV --------------------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    # splitlines() ends lines at \r, \n and \r\n alike: "\r\r\n" becomes a line and a blank one, dropped here.
    return [line for line in text.splitlines() if line.strip()]


def _layout(path: Path, lines: list[str]) -> tuple[str, int]:
    """(separator, index of the header line): the separator that splits the first lines into the most equal
    field counts; the header is the first line with that count (a title line above it is skipped)."""
    head = lines[:50]
    best: tuple[int, int, str] = (0, 0, ",")
    for sep in SEPARATORS:
        counts = [len(row) for row in csv.reader(head, delimiter=sep)]
        mode = max(set(counts), key=lambda c: (counts.count(c), c))
        if mode >= 2 and (counts.count(mode), mode) > best[:2]:
            best = (counts.count(mode), mode, sep)
    if best[1] < 2:
        raise LogError(f"{path}: not a training log: no CSV header like 'epoch,loss,accuracy,val_loss,"
                       "val_accuracy' (no separator among , ; tab | splits its lines into columns), no JSON, and no "
                       "Keras console lines ('Epoch 1/10 ... - loss: 0.52 - val_loss: 0.61').")
    counts = [len(row) for row in csv.reader(head, delimiter=best[2])]
    return best[2], counts.index(best[1])


def _header(path: Path, text: str) -> list[str]:
    lines = _lines(text)
    if not lines:
        raise LogError(f"{path}: the file is empty.")
    sep, at = _layout(path, lines)
    return [h.strip() for h in next(csv.reader([lines[at]], delimiter=sep))]


def _table(path: Path, text: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows (as strings) and their line numbers; a truncated last row is dropped."""
    lines = _lines(text)
    if not lines:
        raise LogError(f"{path}: the file is empty.")
    sep, at = _layout(path, lines)
    rows = list(csv.reader(lines[at:], delimiter=sep))
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    numbers = list(range(at + 2, at + 2 + len(body)))
    widths = set(map(len, body))
    bad = [i for i, row in enumerate(body) if len(row) != len(header)] if widths - {len(header)} else []
    if bad and bad[-1] == len(body) - 1 and len(body[-1]) < len(header):  # cut while writing its last row
        body, numbers, bad = body[:-1], numbers[:-1], bad[:-1]
    if bad:
        raise LogError(f"{path}, line {numbers[bad[0]]}: {len(body[bad[0]])} fields, header has {len(header)}.")
    return header, body, numbers


def _numeric_table(path: Path, text: str) -> tuple[list[str], np.ndarray] | None:
    """The common case in one C pass: a header, then rows of numbers only (NaN allowed, no blank cell).

    None when the file needs the careful path (blank cells, text, a repeated header, a cut last row).
    """
    lines = _lines(text)
    if len(lines) < 2:
        return None
    sep, at = _layout(path, lines)
    header = [h.strip() for h in next(csv.reader([lines[at]], delimiter=sep))]
    try:
        table = np.loadtxt(io.StringIO("\n".join(lines[at + 1 :])), delimiter=sep, dtype=float, comments=None,
                           ndmin=2, quotechar='"')
    except ValueError:
        return None
    return (header, table) if table.shape[1] == len(header) else None


def _numbers(path: Path, name: str, cells: Sequence[str], lines: Sequence[int]) -> np.ndarray:
    """Cells to floats; a blank or missing-value cell is NaN (nothing logged), text raises LogError naming the line.

    Keras 3's CSVLogger writes "NA" for a metric an epoch did not compute (validation_freq > 1); pandas-style
    files write "None" or "null".
    """
    try:
        return np.array(cells, dtype=float)  # the common case: every cell a number
    except ValueError:
        pass
    try:
        return np.array([_missing_as_nan(c) for c in cells], dtype=float)
    except ValueError:
        for cell, line in zip(cells, lines, strict=True):
            try:
                float(_missing_as_nan(cell))
            except ValueError:
                raise LogError(f"{path}, line {line}: {name}={cell.strip()!r} is not a number.") from None
        raise


MISSING = frozenset({"", "na", "n/a", "none", "null"})


def _missing_as_nan(cell: str) -> str:
    return "nan" if cell.strip().lower() in MISSING else cell


def _segments(epoch: np.ndarray, *, repeats: bool = False) -> list[slice]:
    """Runs appended to one file: a new one starts wherever the epoch does not increase.

    repeats: epochs repeat over rows (Lightning's step rows), so only a decrease starts a new run.
    """
    at = np.flatnonzero(np.isfinite(epoch))
    step = np.diff(epoch[at])
    new = at[1:][(step < 0) | ((step == 0) & (not repeats))]
    starts = [0, *(int(i) for i in new)]
    return [slice(a, b) for a, b in zip(starts, [*starts[1:], len(epoch)], strict=True)]


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


# --- TensorBoard ------------------------------------------------------------------------------------------


def _event_accumulator() -> Any:
    """tensorboard's EventAccumulator, without importing TensorFlow (9 s) when it is installed."""
    if "tensorflow" not in sys.modules:
        # tensorboard.compat picks its TensorFlow stub when this marker module exists (its no-TF build).
        sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:
        raise LogError("reading TensorBoard event files needs the tensorboard package "
                       "(pip install tensorboard).") from None
    return event_accumulator


def _tb_scalars(acc: Any) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.util import tensor_util

    out: dict[str, list[tuple[int, float]]] = {}
    tags = acc.Tags()
    for tag in tags.get("scalars", []):
        out[tag] = [(e.step, float(e.value)) for e in acc.Scalars(tag)]
    for tag in tags.get("tensors", []):  # TF2's tf.summary.scalar stores scalars as tensors
        points = []
        for e in acc.Tensors(tag):
            value = tensor_util.make_ndarray(e.tensor_proto)
            if value.size == 1:
                points.append((e.step, float(value.reshape(-1)[0])))
        if points:
            out.setdefault(tag, points)
    return out


TB_SPLITS = ("train", "validation", "val", "eval", "valid")


def read_tensorboard(path: str | Path) -> list[History]:
    """TensorBoard event files: Keras' ``train/`` + ``validation/`` runs, or one run with val_* tags.

    A folder that holds several runs (``logs/fit/<time>/train``, ``logs/fit/<time>/validation`` ...) gives one
    History per run, in the order of their folder names (``info["run"]`` names each): merging them would mix
    two trainings into one curve.
    """
    path = Path(path)
    if not path.exists():
        raise LogError(f"{path}: no such file.")
    root = path if path.is_dir() else path.parent
    if not path.is_dir() and root.name.lower() in TB_SPLITS:
        root = root.parent
    files = sorted(root.glob("**/*tfevents*")) if root.is_dir() else []
    if not path.is_dir() and root == path.parent:
        files = [path]
    if not files:
        raise LogError(f"{path}: no TensorBoard event files (events.out.tfevents.*) here.")
    ea = _event_accumulator()
    groups: dict[str, list[tuple[Path, str]]] = {}
    for file in files:
        parts = file.parent.relative_to(root).parts if file.parent != root else ()
        split = "val" if parts and parts[-1].lower() in ("validation", "val", "eval", "valid") else "train"
        run = parts[:-1] if parts and parts[-1].lower() in TB_SPLITS else parts
        groups.setdefault("/".join(run) or ".", []).append((file, split))
    out = []
    for name in sorted(groups):
        h = _tb_run(path, groups[name], ea)
        if h is not None:
            h.info["run"] = name
            out.append(h)
    if not out:
        raise LogError(f"{path}: no scalar curves in the event files.")
    return out


def _tb_run(path: Path, files: list[tuple[Path, str]], ea: Any) -> History | None:
    series: dict[str, dict[int, float]] = {}
    epoch_of_step: dict[int, float] = {}
    for file, run_split in files:
        acc = ea.EventAccumulator(str(file), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
        try:
            acc.Reload()
        except Exception as err:  # a corrupt record: tensorboard raises its own types
            raise LogError(f"{file}: unreadable event file ({type(err).__name__}).") from None
        for tag, points in _tb_scalars(acc).items():
            t = tag[6:] if tag.startswith("epoch_") else tag  # Keras: epoch_loss, epoch_accuracy
            if t.lower() == "epoch":
                epoch_of_step.update({s: v for s, v in points})
                continue
            if tag.startswith(("batch_", "evaluation_")) or "vs_iterations" in tag:
                continue  # per-batch curves; the epoch curves are the story
            split, base, granularity = _split_name(t)
            if run_split == "val" and split == "train":
                split = "val"
            if split == "test" or granularity == "step" or base in ("lr", "learning_rate"):
                continue
            name = ("val_" if split == "val" else "") + base
            series.setdefault(name, {}).update({s: v for s, v in points})
    if not series:
        return None
    if epoch_of_step:  # Lightning logs an 'epoch' scalar beside each step: group by it
        steps = np.array(sorted(epoch_of_step))
        def key(step: int) -> int:
            i = int(np.searchsorted(steps, step, side="right")) - 1
            return int(epoch_of_step[int(steps[max(i, 0)])])
    else:
        def key(step: int) -> int:
            return int(step)
    keyed = {name: {} for name in series}
    for name, points in series.items():
        for step in sorted(points):
            keyed[name][key(step)] = points[step]
    xs = sorted({x for points in keyed.values() for x in points})
    metrics = {name: [points.get(x, math.nan) for x in xs] for name, points in keyed.items()}
    written = {name: np.array([x in points for x in xs], dtype=bool) for name, points in keyed.items()}
    info: dict[str, Any] = {"format": "tensorboard"}
    if epoch_of_step or xs == list(range(xs[0], xs[0] + len(xs))):
        epochs = [x + 1 for x in xs]  # 0-based epochs (Keras' step is the epoch; Lightning's epoch scalar)
    else:
        epochs, info["x"] = list(xs), "step"  # global steps: kept as they are, not renamed epochs
    return _history(metrics, epochs, info, written)


# --- pasted Keras console output ----------------------------------------------------------------------------

CONSOLE_EPOCH = re.compile(r"Epoch\s+(\d+)\s*/\s*(\d+)")
# "loss: 0.1229", "val_acc: 0.0168", "accuracy: 9.1e-01", "loss: nan"; a number followed by a letter ("ETA: 0s",
# "26s") is a time, not a metric.
CONSOLE_METRIC = re.compile(r"(?<![\w/])([A-Za-z_]\w*)\s*:\s*(nan|[-+]?inf|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                            r"(?![\w/.])", re.IGNORECASE)
CONSOLE_SKIP = {"eta", "epoch", "step", "steps", "lr", "learning_rate"}


def _looks_like_console(text: str) -> bool:
    return bool(CONSOLE_EPOCH.search(text)) and bool(re.search(r"\bloss\s*:\s*[-+.\d]", text))


def read_keras_console(path: str | Path) -> list[History]:
    """Keras' printed ``fit`` output, pasted into a file: ``Epoch 1/300`` then ``... - loss: 0.1229 - acc:
    0.0207 - val_loss: 4.3194 - val_acc: 0.0168`` (Keras 2 and 3, progress bars, lines joined into one as a
    forum post shows them). Each epoch's numbers are the last metric line before the next ``Epoch`` (the last
    one with validation numbers, when there is one: a ``model.evaluate`` line after the last epoch is no epoch); epochs
    printed with gaps (1, 50, 100 ...) keep their numbers; an epoch that restarts at 1 begins a new run.
    """
    path = Path(path)
    text = _text(path, _read_bytes(path))
    marks = list(CONSOLE_EPOCH.finditer(text))
    if not marks:
        raise LogError(f"{path}: no 'Epoch N/M' lines; not Keras console output.")
    runs: list[tuple[list[int], list[dict[str, float]]]] = []
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        segment = text[m.end() : end]
        # Progress bars redraw with \r or backspaces: the last piece that names a loss is the epoch's summary.
        pieces = [p for p in re.split(r"[\r\n\x08]+", segment) if re.search(r"\bloss\s*:", p)]
        if not pieces:
            continue
        # An epoch ends on its validation numbers: a line after that (model.evaluate after the last epoch,
        # "4/4 - loss: 0.64 - accuracy: 0.70") holds test numbers, not the epoch's.
        with_val = [p for p in pieces if re.search(r"\bval_\w*\s*:", p)]
        row = {}
        for name, value in CONSOLE_METRIC.findall((with_val or pieces)[-1]):
            if name.lower() not in CONSOLE_SKIP:
                row[name] = float(value)
        if "loss" not in row and "val_loss" not in row:
            continue
        epoch = int(m.group(1))
        if not runs or epoch <= runs[-1][0][-1]:
            runs.append(([], []))
        runs[-1][0].append(epoch)
        runs[-1][1].append(row)
    if not runs:
        raise LogError(f"{path}: 'Epoch N/M' lines without 'loss: …' numbers after them.")
    out = []
    for epochs, rows in runs:
        names = list(dict.fromkeys(n for r in rows for n in r))
        metrics = {n: np.array([r.get(n, math.nan) for r in rows]) for n in names}
        written = {n: np.array([n in r for r in rows], dtype=bool) for n in names}
        out.append(_history(metrics, epochs, {"format": "keras_console"}, written))
    return out


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
