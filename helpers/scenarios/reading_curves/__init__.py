"""Notebook 00: the canonical learning-curve shapes, from real small runs.

A small PyTorch MLP on scikit-learn's 8×8 digits. Each named shape is one
config; the symptom bands below were measured on these seeds and are asserted
by the tests and by the notebook itself.

One module per job: ``runs`` (configs, run names), ``lab`` (data, model, training: what the cache key
hashes), ``claims`` (BANDS, measure), ``figures`` (draw functions, the exercise, knobs, panel glue),
``printers`` (the notebook's ``show_*``). Every name is re-exported here, as the single module had it; the code
digest counts statements, not files, and the config keeps its class path, so the split left the committed
reference current and the cache keys unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import LAST, History, Progress, RunConfig, keep_class_path, run
from helpers.scenarios.reading_curves.claims import (
    BANDS,
    POSTED,
    STORY,
    TRAIN_LABELS_SEED,
    _reference_seeds,
    measure,
    shape_runs,
    train_labels,
)
from helpers.scenarios.reading_curves.figures import (
    EXERCISE,
    EXERCISE_ORDER,
    EXERCISE_SEED,
    LETTERS,
    PANEL_DEMO,
    annotate_story,
    draw_bound_figure,
    draw_exercise,
    draw_gallery,
    draw_panel,
    exercise_runs,
    knobs,
    make_config,
    plot_run,
)
from helpers.scenarios.reading_curves.lab import (
    build_model,
    load_data,
    train,
)
from helpers.scenarios.reading_curves.printers import (
    one_batch,
    show_changes,
    show_clean_labels,
    show_final_model,
    show_init_losses,
    show_noisy_validation,
    show_over_confidence,
    show_train_dev_reading,
)
from helpers.scenarios.reading_curves.runs import (
    CLEAN,
    RETRAINED,
    SCALES,
    SHAPES,
    VAL_SOURCES,
    WHY,
    Config,
    CurvesConfig,
    configs,
    reference_configs,
)
from helpers.validate import check_bool, check_choice, check_range

# A config's class path is part of its cache key: the single module's, so the cache and the reference
# still find every run (a call binds no name, so the code digest does not follow it).
keep_class_path(__name__, CurvesConfig)

__all__ = [  # every name the single module had: notebooks, tests and other modules read them as case.X
    "BANDS",
    "CLEAN",
    "EXERCISE",
    "EXERCISE_ORDER",
    "EXERCISE_SEED",
    "LAST",
    "LETTERS",
    "PANEL_DEMO",
    "POSTED",
    "RETRAINED",
    "SCALES",
    "SHAPES",
    "STORY",
    "TRAIN_LABELS_SEED",
    "VAL_SOURCES",
    "WHY",
    "Config",
    "CurvesConfig",
    "History",
    "Progress",
    "RunConfig",
    "_reference_seeds",
    "annotate_story",
    "build_model",
    "check_bool",
    "check_choice",
    "check_range",
    "configs",
    "dataclass",
    "draw_bound_figure",
    "draw_exercise",
    "draw_gallery",
    "draw_panel",
    "exercise_runs",
    "knobs",
    "load_data",
    "make_config",
    "measure",
    "np",
    "one_batch",
    "plot_run",
    "reference_configs",
    "run",
    "shape_runs",
    "show_changes",
    "show_clean_labels",
    "show_final_model",
    "show_init_losses",
    "show_noisy_validation",
    "show_over_confidence",
    "show_train_dev_reading",
    "train",
    "train_labels",
]
