"""One declarative module per lesson: data, model, bug and fix configs, knobs, symptom bands.

``CASES`` maps each notebook to its scenario module; ``CONTRACT`` lists the parts every
scenario module has (the contract test in tests/test_contract.py holds each to it).
"""

from __future__ import annotations

import importlib
from types import ModuleType

Bands = dict[str, tuple[float, float]]

# notebook stem -> scenario module (imported on demand: importing one never loads a framework)
CASES: dict[str, str] = {
    "00_reading_learning_curves": "helpers.scenarios.reading_curves",
    "01_broken_validation_generator": "helpers.scenarios.case01_generator",
    "02_batchnorm_gap_that_closes": "helpers.scenarios.case02_batchnorm",
    "03_tiny_dataset": "helpers.scenarios.case03_tiny_dataset",
    "04_mislabeled_accuracy_metric": "helpers.scenarios.case04_metric",
    "05_leaky_and_shuffled_splits": "helpers.scenarios.case05_splits",
}

# name -> what it is; every scenario module defines each one
CONTRACT: dict[str, str] = {
    "Config": "the frozen RunConfig subclass; every knob a field, validated with ValueErrors",
    "SCALES": '("mini", "forum"): the classroom miniature and the post\'s own sizes',
    "configs": "configs(scale) -> {story name: Config}: the runs the notebook tells its story with",
    "reference_configs": "reference_configs(scale) -> {name: Config}: every run a claim rests on",
    "load_data": "load_data(config) -> dict of arrays (or paths) the model trains and is scored on",
    "build_model": "build_model(config) -> the model, built as the post built it",
    "train": "train(config, progress) -> History (the trainer run() calls)",
    "measure": "measure({name: History} for one seed) -> {claim: number}",
    "BANDS": "{claim: (low, high)}: what the notebook's words say, held for every seed",
    "POSTED": "the numbers the poster reported, as data ({} when the lesson has no post)",
    "knobs": "knobs() -> the FixPanel's controls",
    "draw_panel": "draw_panel(fig, history, config, ...) -> the FixPanel's figure",
    "PANEL_DEMO": '{"toggle": (knob, values), "uncached": (knob, value), "view": view knobs}: what the bench flips',
}


def load_case(key: str) -> ModuleType:
    """The scenario module of notebook ``key`` (a key of CASES)."""
    if key not in CASES:
        raise ValueError(f"case={key!r}; choose one of {sorted(CASES)}.")
    return importlib.import_module(CASES[key])


def outside_bands(measured: dict[str, float], bands: Bands) -> dict[str, tuple[float, tuple[float, float]]]:
    """Each measured number that falls outside its band, with the band (empty = every claim holds)."""
    missing = set(bands) - set(measured)
    if missing:
        raise ValueError(f"no measurement for band(s) {sorted(missing)}.")
    return {k: (v, bands[k]) for k, v in measured.items() if not bands[k][0] <= v <= bands[k][1]}
