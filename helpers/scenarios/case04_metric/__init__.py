"""Case 04 — "loss 0.12, accuracy 0.02": the mislabeled accuracy metric (Keras, tabular).

Forum case: Cross Validated 444546. The post's
model (Dense 31 → 32 → 64 → 64 → 1 sigmoid, SGD lr 0.001, batch 32) on a
generated, time-ordered production log where 2.5 % of parts are bad.

Three lessons live in one config space:
* the metric — every run logs three "accuracies" side by side, because which
  one the ``accuracy`` column holds depends only on ``compile``;
* the split — ``fit(validation_split=0.2)`` takes the last 20 % of rows;
* the imbalance — 97.5 % good parts make accuracy meaningless.

One module per job: ``runs`` (configs, run names), ``lab`` (data, model, training: what the cache key
hashes), ``claims`` (BANDS, POSTED, measure, claim text), ``period`` (the Keras 2.2.4 runs beside Keras 3's),
``figures`` (draw functions, knobs, panel glue), ``printers`` (the notebook's ``show_*``). Every name is
re-exported here, as the single module had it; the code digest counts statements, not files, and the config
keeps its class path, so the split left the committed reference current and the cache keys unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.paths import FORUM_LOG, PERIOD_JSON
from helpers.runs import LAST, History, Progress, RunConfig, keep_class_path, run
from helpers.scenarios.case04_metric.claims import (
    BANDS,
    CLAIM_TEXT,
    EXACT,
    FORUM,
    GRID,
    POSTED,
    WEIGHTED,
    at_bad_rate,
    describe,
    fingerprint_loss,
    loss_ratio,
    mean_weight,
    measure,
)
from helpers.scenarios.case04_metric.figures import (
    HYPOTHESIS_COLORS,
    METRIC_LABEL,
    PANEL_DEMO,
    PRINTED,
    SPLIT_RUNS,
    _seed_band,
    draw_fingerprint,
    draw_grid,
    draw_panel,
    draw_post_vs_hypotheses,
    draw_splits,
    fraction,
    knobs,
    make_config,
    plot_logged,
)
from helpers.scenarios.case04_metric.lab import (
    as_logged,
    bad_part_scores,
    build_model,
    load_data,
    resolve_accuracy_string,
    setpoint_relative,
    split_rows,
    train,
)
from helpers.scenarios.case04_metric.period import (
    PERIOD_RUNS,
    POST_BAD_RATE,
    MarkdownTable,
    _keras3_rows,
    _span,
    at_half,
    constant_optimum,
    period,
    period_histories,
    post_setup,
    side_by_side,
)
from helpers.scenarios.case04_metric.printers import (
    KEY,
    reference_runs,
    show_bound,
    show_fingerprint,
    show_fix,
    show_imbalance,
    show_log,
    show_rivals,
)
from helpers.scenarios.case04_metric.runs import (
    BAD_RATE,
    GOOD_WEIGHT,
    METRICS,
    OPTIMIZERS,
    RIVAL_LR,
    SCALES,
    SETPOINT_WINDOW,
    SPLITS,
    STEPS_PER_EXECUTION,
    VAL_FRACTION,
    Config,
    MetricCaseConfig,
    configs,
    reference_configs,
)
from helpers.validate import check_bool, check_choice, check_range

# A config's class path is part of its cache key: the single module's, so the cache and the reference
# still find every run (a call binds no name, so the code digest does not follow it).
keep_class_path(__name__, MetricCaseConfig)

__all__ = [  # every name the single module had: notebooks, tests and other modules read them as case.X
    "BAD_RATE",
    "BANDS",
    "CLAIM_TEXT",
    "EXACT",
    "FORUM",
    "FORUM_LOG",
    "GOOD_WEIGHT",
    "GRID",
    "HYPOTHESIS_COLORS",
    "KEY",
    "LAST",
    "METRICS",
    "METRIC_LABEL",
    "OPTIMIZERS",
    "PANEL_DEMO",
    "PERIOD_JSON",
    "PERIOD_RUNS",
    "POSTED",
    "POST_BAD_RATE",
    "PRINTED",
    "RIVAL_LR",
    "SCALES",
    "SETPOINT_WINDOW",
    "SPLITS",
    "SPLIT_RUNS",
    "STEPS_PER_EXECUTION",
    "VAL_FRACTION",
    "WEIGHTED",
    "Config",
    "History",
    "MarkdownTable",
    "MetricCaseConfig",
    "Progress",
    "RunConfig",
    "_keras3_rows",
    "_seed_band",
    "_span",
    "as_logged",
    "at_bad_rate",
    "at_half",
    "bad_part_scores",
    "build_model",
    "check_bool",
    "check_choice",
    "check_range",
    "configs",
    "constant_optimum",
    "dataclass",
    "describe",
    "draw_fingerprint",
    "draw_grid",
    "draw_panel",
    "draw_post_vs_hypotheses",
    "draw_splits",
    "fingerprint_loss",
    "fraction",
    "knobs",
    "load_data",
    "loss_ratio",
    "make_config",
    "mean_weight",
    "measure",
    "np",
    "period",
    "period_histories",
    "plot_logged",
    "post_setup",
    "reference_configs",
    "reference_runs",
    "resolve_accuracy_string",
    "run",
    "setpoint_relative",
    "show_bound",
    "show_fingerprint",
    "show_fix",
    "show_imbalance",
    "show_log",
    "show_rivals",
    "side_by_side",
    "split_rows",
    "train",
]
