"""Notebook 06: the clinic — training logs to diagnose, with the numbers that show the diagnosis.

Each log patient is a training log under ``data/clinic/``: runs of cases 01–05 read from the committed
reference (``reference.load``, nothing retrains), three of notebook 00's shapes, three tiny Keras trainings
no notebook showed (``class_weight``, label smoothing, ``validation_freq=5``: ``write_new_keras_logs``), the
forum's own log and one real Hugging Face log. Two probe patients bring data or a scoring function instead.

A student answers with a diagnosis AND the evidence for it, in the vocabulary ``EVIDENCE``::

    check_answer("B", diagnosis="STALE_NORM_STATS", evidence={"epoch": 2, "val_loss/loss": 80, "val_loss/loss@9": 1.1})

``check_answer`` (a) reads every cited number back from the patient's log and says what the log shows when
one is off, and (b) accepts any diagnosis the cited numbers support by the principle behind it (``RULES``),
whether or not the doctor prints that code, and says why an answer is not supported.
``python -m helpers.scenarios.clinic --write`` re-exports the logs (they are data: the tests check that they
parse and show what they are there for, never that a retrain reproduces them bit for bit).

One module per job: ``patients`` (who they are, what they ask), ``logs`` (where each log comes from,
writing data/clinic), ``evidence`` (the quantities a student cites, read from a log, and ``verify``), ``rules``
(each diagnosis's rule), ``grading`` (``examine``, ``check_answer``), ``render`` (cards, figures, the teaching
path, the answers, ``main``). Every name is re-exported here, as the single module had it.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.doctor.checks import (
    EARLY_RATIO,
    MATERIAL_ACCURACY,
    NORMAL_RATIO,
    STALE_START,
    WIDEN_SHARE,
    Context,
    Z,
    _overfit_analysis,
)
from helpers.paths import CLINIC_LOGS, CLINIC_NOTEBOOK, DOCTOR_CORPUS, FORUM_LOG
from helpers.runs import History
from helpers.scenarios.clinic.evidence import (
    EVIDENCE,
    PER_EPOCH,
    WHOLE_LOG,
    Cited,
    Log,
    _parse_key,
    swing,
    verify,
)
from helpers.scenarios.clinic.grading import (
    _codes,
    check_answer,
    examine,
)
from helpers.scenarios.clinic.logs import (
    COPIED,
    KEPT,
    KERAS_LOGS,
    SOURCES,
    _digits_flat,
    _forum,
    _reference,
    _shape,
    export_log,
    write_all,
    write_new_keras_logs,
)
from helpers.scenarios.clinic.patients import (
    BCE,
    BY_ID,
    C01,
    C02,
    C03,
    C04,
    C05,
    CE,
    HEALTHY,
    HF_LOG,
    LOG_COLUMNS,
    PATIENTS,
    PROBE_PATIENTS,
    SCE,
    E,
    Patient,
    check_id,
    scoring_patient,
    split_patient,
)
from helpers.scenarios.clinic.render import (
    CLOSING_MINUTES,
    EXAMPLE_EVIDENCE,
    LEVELS,
    OPENING_MINUTES,
    PATH,
    Step,
    answer_markdown,
    draw_patient,
    main,
    path_markdown,
    path_minutes,
    show,
    solution,
    table,
    write_answers,
)
from helpers.scenarios.clinic.rules import (
    EARLY,
    PROBE_ONLY,
    RULES,
    Verdict,
    _accuracy_se,
    _band,
    _early_high,
    _gap_widened,
    _stale_by_accuracy,
    _weighted_chance,
    _weighted_ratio,
    rule_diverged,
    rule_healthy,
    rule_metric_inconsistent,
    rule_nothing_learnt,
    rule_overfitting,
    rule_population_shift,
    rule_stale_norm_stats,
    rule_underfitting,
    rule_val_at_chance,
    rule_val_noisy,
    smoothed_minimum,
)
from helpers.stats import BOUND_CONDITIONS, LN2, binomial_se

__all__ = [  # every name the single module had: notebooks, tests and other modules read them as case.X
    "BCE",
    "BOUND_CONDITIONS",
    "BY_ID",
    "C01",
    "C02",
    "C03",
    "C04",
    "C05",
    "CE",
    "CLINIC_LOGS",
    "CLINIC_NOTEBOOK",
    "CLOSING_MINUTES",
    "COPIED",
    "DOCTOR_CORPUS",
    "EARLY",
    "EARLY_RATIO",
    "EVIDENCE",
    "EXAMPLE_EVIDENCE",
    "FORUM_LOG",
    "HEALTHY",
    "HF_LOG",
    "KEPT",
    "KERAS_LOGS",
    "LEVELS",
    "LN2",
    "LOG_COLUMNS",
    "MATERIAL_ACCURACY",
    "NORMAL_RATIO",
    "OPENING_MINUTES",
    "PATH",
    "PATIENTS",
    "PER_EPOCH",
    "PROBE_ONLY",
    "PROBE_PATIENTS",
    "RULES",
    "SCE",
    "SOURCES",
    "STALE_START",
    "WHOLE_LOG",
    "WIDEN_SHARE",
    "Callable",
    "Cited",
    "Context",
    "E",
    "History",
    "Log",
    "Path",
    "Patient",
    "Step",
    "Verdict",
    "Z",
    "_accuracy_se",
    "_band",
    "_codes",
    "_digits_flat",
    "_early_high",
    "_forum",
    "_gap_widened",
    "_overfit_analysis",
    "_parse_key",
    "_reference",
    "_shape",
    "_stale_by_accuracy",
    "_weighted_chance",
    "_weighted_ratio",
    "answer_markdown",
    "argparse",
    "binomial_se",
    "check_answer",
    "check_id",
    "dataclass",
    "draw_patient",
    "examine",
    "export_log",
    "json",
    "main",
    "math",
    "np",
    "path_markdown",
    "path_minutes",
    "rule_diverged",
    "rule_healthy",
    "rule_metric_inconsistent",
    "rule_nothing_learnt",
    "rule_overfitting",
    "rule_population_shift",
    "rule_stale_norm_stats",
    "rule_underfitting",
    "rule_val_at_chance",
    "rule_val_noisy",
    "scoring_patient",
    "show",
    "shutil",
    "smoothed_minimum",
    "solution",
    "split_patient",
    "swing",
    "table",
    "verify",
    "write_all",
    "write_answers",
    "write_new_keras_logs",
]
