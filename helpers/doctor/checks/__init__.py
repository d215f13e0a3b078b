"""History checks: everything the doctor reads from per-epoch numbers alone.

The checks run as ONE ordered list (``CHECKS``). Each sees the findings of the checks before it, and the
rules between findings are written out here, once:

1. DIVERGED first: epochs after the loss turned NaN/inf are dropped for every later check.
2. METRIC_INCONSISTENT (cross-entropy losses only) is reported beside whatever else the loss curves show,
   but it suppresses VAL_AT_CHANCE and NOTHING_LEARNT: an accuracy column that is not an accuracy says
   nothing about chance.
3. STALE_NORM_STATS: the epochs before its collapse are not the model's real validation, so every later
   check sees only the epochs from the collapse on, and POPULATION_SHIFT is not tested (a collapse is not
   a shift).
4. VAL_NOISY runs before POPULATION_SHIFT and suppresses its route (b) (single epochs of a noisy curve
   cannot show that validation "never followed").
5. VAL_AT_CHANCE before NOTHING_LEARNT; NOTHING_LEARNT (train at chance too) suppresses OVERFITTING and
   UNDERFITTING (it says more than either).
6. OVERFITTING, POPULATION_SHIFT and VAL_NOISY may stand together (they are separate facts); the verdict
   (``ordered_codes``) follows VERDICT_ORDER, except that OVERFITTING leads when the numbers say it
   explains more of the gap: at least half of the final gap built after validation stopped improving
   (before POPULATION_SHIFT), a widening larger than the loss's swings (before VAL_NOISY).
7. UNDERFITTING (info) only when nothing above explains the curves.
8. GAP last: one summary line on every log with a train and a val curve; its verdict is the first code of
   ``ordered_codes``, else what the gap itself says.

Thresholds come from two principles, stated beside each constant: the binomial noise of an accuracy
measured on ``val_size`` rows, and the log's own epoch-to-epoch jitter (``noise_sigma``).

One module per family: ``context`` (thresholds, Context), ``measurement`` (divergence, metric
consistency, stale norm statistics, population shift), ``curves`` (chance, nothing learnt, noise, overfitting,
underfitting), ``verdict`` (the GAP line, CHECKS, ``diagnose_history``). Every name is re-exported here, as the
single module had it; the code digest counts statements, not files, so what a trainer reaches keeps its digest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from helpers.doctor.checks.context import (
    BOUND_TOLERANCE,
    COLLAPSE_WINDOW,
    CROSS_ENTROPY_LOSSES,
    EARLY_RATIO,
    FROZEN_P,
    FROZEN_REPEATS,
    HIGHER_IS_BETTER,
    LN_K_TOLERANCE,
    LOSSES,
    MAD_TO_SIGMA,
    MATERIAL_ACCURACY,
    MODE_GAP_ACCURACY,
    MODE_GAP_RATIO,
    NOISE_FACTOR,
    NORMAL_RATIO,
    RESOLUTION,
    SMALL_VAL_SE,
    STALE_START,
    UNDERFIT_SHARE,
    VERDICT_ORDER,
    VERDICT_WORDS,
    WIDEN_SHARE,
    ZERO_FLOOR_LOSSES,
    Context,
    Z,
    _higher_is_better,
    noise_sigma,
    smooth,
)
from helpers.doctor.checks.curves import (
    _chance_band,
    _frozen_run,
    _inferred_chance,
    _overfit_analysis,
    check_nothing_learnt,
    check_overfitting,
    check_underfitting,
    check_val_at_chance,
    check_val_noise,
)
from helpers.doctor.checks.measurement import (
    _ratio,
    check_diverged,
    check_metric_consistency,
    check_population_shift,
    check_stale_norm_stats,
)
from helpers.doctor.checks.verdict import (
    CHECKS,
    Check,
    _gap_metric,
    check_gap,
    diagnose_history,
    ordered_codes,
    verdict,
)
from helpers.doctor.findings import Finding
from helpers.doctor.readers import as_history
from helpers.runs import History
from helpers.stats import BOUND_CONDITIONS, accuracy_floor, binomial_se

__all__ = [  # every name the single module had: notebooks, tests and other modules read them as case.X
    "BOUND_CONDITIONS",
    "BOUND_TOLERANCE",
    "CHECKS",
    "COLLAPSE_WINDOW",
    "CROSS_ENTROPY_LOSSES",
    "EARLY_RATIO",
    "FROZEN_P",
    "FROZEN_REPEATS",
    "HIGHER_IS_BETTER",
    "LN_K_TOLERANCE",
    "LOSSES",
    "MAD_TO_SIGMA",
    "MATERIAL_ACCURACY",
    "MODE_GAP_ACCURACY",
    "MODE_GAP_RATIO",
    "NOISE_FACTOR",
    "NORMAL_RATIO",
    "RESOLUTION",
    "SMALL_VAL_SE",
    "STALE_START",
    "UNDERFIT_SHARE",
    "VERDICT_ORDER",
    "VERDICT_WORDS",
    "WIDEN_SHARE",
    "ZERO_FLOOR_LOSSES",
    "Any",
    "Callable",
    "Check",
    "Context",
    "Finding",
    "History",
    "Z",
    "_chance_band",
    "_frozen_run",
    "_gap_metric",
    "_higher_is_better",
    "_inferred_chance",
    "_overfit_analysis",
    "_ratio",
    "accuracy_floor",
    "as_history",
    "binomial_se",
    "check_diverged",
    "check_gap",
    "check_metric_consistency",
    "check_nothing_learnt",
    "check_overfitting",
    "check_population_shift",
    "check_stale_norm_stats",
    "check_underfitting",
    "check_val_at_chance",
    "check_val_noise",
    "dataclass",
    "diagnose_history",
    "field",
    "math",
    "noise_sigma",
    "np",
    "ordered_codes",
    "smooth",
    "verdict",
]
