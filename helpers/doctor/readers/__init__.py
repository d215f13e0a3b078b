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

One module per reader family: ``common`` (names, aliases, LogError, History assembly), ``detect`` (bytes,
format detection, delimited text), ``tabular`` (Keras CSV and JSON, Lightning, Hugging Face), ``tensorboard``,
``console`` (pasted Keras output), ``dispatch`` (READERS, ``read_log``, ``read_runs``). Every name is re-exported
here, as the single module had it.
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

from helpers.doctor.readers.common import (
    ACCURACY_NAMES,
    AGGREGATES,
    ALIASES,
    FORMATS,
    HF_SKIP,
    SEPARATORS,
    TRAIN_PREFIXES,
    VAL_PREFIXES,
    LogError,
    _history,
    _percent_to_fraction,
    _rows_with_curves,
    _split_name,
    canonical_names,
    keras_name,
)
from helpers.doctor.readers.console import (
    read_keras_console,
)
from helpers.doctor.readers.detect import (
    CONSOLE_EPOCH,
    CONSOLE_METRIC,
    CONSOLE_SKIP,
    MISSING,
    _header,
    _is_event_file,
    _layout,
    _lines,
    _looks_like_console,
    _missing_as_nan,
    _numbers,
    _numeric_table,
    _read_bytes,
    _segments,
    _table,
    _text,
    detect_format,
)
from helpers.doctor.readers.dispatch import (
    READERS,
    as_history,
    check_readable,
    read_log,
    read_runs,
)
from helpers.doctor.readers.tabular import (
    _floats,
    _hf_run,
    _json,
    read_hf_state,
    read_keras_csv,
    read_keras_json,
    read_lightning_csv,
)
from helpers.doctor.readers.tensorboard import (
    TB_SPLITS,
    _event_accumulator,
    _tb_run,
    _tb_scalars,
    read_tensorboard,
)
from helpers.runs import History

__all__ = [  # every name the single module had: notebooks, tests and other modules read them as case.X
    "ACCURACY_NAMES",
    "AGGREGATES",
    "ALIASES",
    "CONSOLE_EPOCH",
    "CONSOLE_METRIC",
    "CONSOLE_SKIP",
    "FORMATS",
    "HF_SKIP",
    "MISSING",
    "READERS",
    "SEPARATORS",
    "TB_SPLITS",
    "TRAIN_PREFIXES",
    "VAL_PREFIXES",
    "Any",
    "History",
    "LogError",
    "Mapping",
    "Path",
    "Sequence",
    "_event_accumulator",
    "_floats",
    "_header",
    "_hf_run",
    "_history",
    "_is_event_file",
    "_json",
    "_layout",
    "_lines",
    "_looks_like_console",
    "_missing_as_nan",
    "_numbers",
    "_numeric_table",
    "_percent_to_fraction",
    "_read_bytes",
    "_rows_with_curves",
    "_segments",
    "_split_name",
    "_table",
    "_tb_run",
    "_tb_scalars",
    "_text",
    "as_history",
    "canonical_names",
    "check_readable",
    "csv",
    "detect_format",
    "io",
    "json",
    "keras_name",
    "math",
    "np",
    "re",
    "read_hf_state",
    "read_keras_console",
    "read_keras_csv",
    "read_keras_json",
    "read_lightning_csv",
    "read_log",
    "read_runs",
    "read_tensorboard",
    "sys",
    "types",
]
