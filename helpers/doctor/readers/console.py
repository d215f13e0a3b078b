"""The Keras console reader: a fit's printed progress, pasted into a file."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from helpers.doctor.readers.common import LogError, _history
from helpers.doctor.readers.detect import CONSOLE_EPOCH, CONSOLE_METRIC, CONSOLE_SKIP, _read_bytes, _text
from helpers.runs import History


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
