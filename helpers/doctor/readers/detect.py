"""Reading a file's bytes, detecting its format from the content, and parsing delimited text into numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence  # noqa: F401
from pathlib import Path

import numpy as np

from helpers.doctor.readers.common import SEPARATORS, LogError, _split_name

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


# --- pasted Keras console output ----------------------------------------------------------------------------

CONSOLE_EPOCH = re.compile(r"Epoch\s+(\d+)\s*/\s*(\d+)")
# "loss: 0.1229", "val_acc: 0.0168", "accuracy: 9.1e-01", "loss: nan"; a number followed by a letter ("ETA: 0s",
# "26s") is a time, not a metric.
CONSOLE_METRIC = re.compile(r"(?<![\w/])([A-Za-z_]\w*)\s*:\s*(nan|[-+]?inf|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                            r"(?![\w/.])", re.IGNORECASE)
CONSOLE_SKIP = {"eta", "epoch", "step", "steps", "lr", "learning_rate"}


def _looks_like_console(text: str) -> bool:
    return bool(CONSOLE_EPOCH.search(text)) and bool(re.search(r"\bloss\s*:\s*[-+.\d]", text))
