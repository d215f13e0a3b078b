"""The gap doctor: probes that tell a real gap from a broken measurement.

Usable on any Keras or PyTorch project, not only on this suite's runs:

* ``read_log`` reads the logs people have (Keras CSVLogger or History JSON, Lightning metrics.csv,
  Hugging Face trainer_state.json, TensorBoard event files, Keras console output pasted into a file; the
  format detected from the content) into a Gap Clinic ``History``;
* ``diagnose_history`` checks metric consistency, curve shapes, chance level and noise, and always adds a
  GAP line (how big the gap is, its trend, the verdict);
* ``probe_modes``, ``probe_val_determinism``, ``probe_split`` and ``probe_labels`` look at the model and
  the data; ``diagnose`` runs every probe its arguments allow;
* ``gap-doctor LOG`` / ``python -m helpers.doctor LOG`` prints the findings of a log with the fix to try
  (``-`` reads standard input; ``--explain`` adds the evidence; ``--all`` every run of a file or TensorBoard
  folder, one block each; ``--weighted``, ``--mean-weight``, ``--no-batchnorm``, ``--loss``, ``--classes``,
  ``--val-size`` state what the log cannot show). A finding that rests on an assumption the user did not state
  (the loss, the class count, BatchNorm) says so.

Each finding has a stable ``code``, a ``severity`` (``error``: the numbers cannot be right or a bug is
certain; ``warn``: likely a problem; ``info``; ``summary``: the GAP line), a one-line message, the evidence
numbers and the fix to try. Importing this package imports neither TensorFlow nor PyTorch.

Modules: findings (Finding, codes, report), readers, checks (the ordered history checks and their
thresholds), probes, live (LiveDoctor, keras_callback), cli (main), corpus (agreement with hand labels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from helpers.doctor.checks import (
    BOUND_TOLERANCE,
    CHECKS,
    COLLAPSE_WINDOW,
    CROSS_ENTROPY_LOSSES,
    EARLY_RATIO,
    FROZEN_REPEATS,
    MATERIAL_ACCURACY,
    MODE_GAP_ACCURACY,
    MODE_GAP_RATIO,
    NOISE_FACTOR,
    SMALL_VAL_SE,
    VERDICT_ORDER,
    Z,
    check_diverged,
    check_gap,
    check_metric_consistency,
    check_nothing_learnt,
    check_overfitting,
    check_population_shift,
    check_stale_norm_stats,
    check_underfitting,
    check_val_at_chance,
    check_val_noise,
    diagnose_history,
    noise_sigma,
)
from helpers.doctor.cli import main
from helpers.doctor.findings import SEVERITIES, Finding, codes, is_alarming, report
from helpers.doctor.live import LiveDoctor, keras_callback
from helpers.doctor.probes import (
    cross_entropy,
    probe_labels,
    probe_modes,
    probe_split,
    probe_val_determinism,
    score_both_modes,
)
from helpers.doctor.readers import (
    ACCURACY_NAMES,
    ALIASES,
    FORMATS,
    LogError,
    as_history,
    detect_format,
    read_log,
    read_runs,
)

__all__ = [
    "ACCURACY_NAMES",
    "ALIASES",
    "BOUND_TOLERANCE",
    "CHECKS",
    "COLLAPSE_WINDOW",
    "CROSS_ENTROPY_LOSSES",
    "EARLY_RATIO",
    "FORMATS",
    "FROZEN_REPEATS",
    "MATERIAL_ACCURACY",
    "MODE_GAP_ACCURACY",
    "MODE_GAP_RATIO",
    "NOISE_FACTOR",
    "SEVERITIES",
    "SMALL_VAL_SE",
    "VERDICT_ORDER",
    "Finding",
    "LiveDoctor",
    "LogError",
    "Z",
    "as_history",
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
    "codes",
    "cross_entropy",
    "detect_format",
    "diagnose",
    "diagnose_history",
    "is_alarming",
    "keras_callback",
    "main",
    "noise_sigma",
    "probe_labels",
    "probe_modes",
    "probe_split",
    "probe_val_determinism",
    "read_log",
    "read_runs",
    "report",
    "score_both_modes",
]


def diagnose(
    history: Any = None,
    *,
    loss: str | None = None,
    n_classes: int | None = None,
    val_size: int | None = None,
    weighted: bool = False,
    mean_weight: float | None = None,
    batchnorm: bool | None = None,
    model: Any = None,
    data: tuple[Any, np.ndarray] | None = None,
    val_score_fn: Callable[[], Any] | None = None,
    train_x: np.ndarray | None = None,
    val_x: np.ndarray | None = None,
    train_labels: Sequence[Any] | None = None,
    val_labels: Sequence[Any] | None = None,
) -> list[Finding]:
    """Run every probe that the given arguments allow; see each probe for its arguments."""
    findings: list[Finding] = []
    if history is not None:
        findings += diagnose_history(history, loss=loss, n_classes=n_classes, val_size=val_size, weighted=weighted,
                                     mean_weight=mean_weight, batchnorm=batchnorm)
    if model is not None and data is not None:
        findings += probe_modes(model, *data)
    if val_score_fn is not None:
        findings += probe_val_determinism(val_score_fn)
    if train_x is not None and val_x is not None:
        findings += probe_split(train_x, val_x)
    if train_labels is not None and val_labels is not None:
        findings += probe_labels(train_labels, val_labels)
    return findings
