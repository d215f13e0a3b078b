"""One declarative module (or package, split by job) per lesson: data, model, bug and fix configs, knobs, bands.

``CASES`` (in ``helpers.cases``, re-exported here) maps each notebook to its scenario module; ``CONTRACT``
lists the parts every scenario module has (tests/test_contract.py holds each case to it).
Optional: ``RETRAIN``, the names of the reference runs ``make test`` retrains on this machine (default: every
reference run); the rest are read from the committed reference.
"""

from __future__ import annotations

from helpers.cases import CASES, case_key, load_case

__all__ = ["CASES", "CONTRACT", "case_key", "load_case", "outside_bands"]

Bands = dict[str, tuple[float, float]]

# name -> what it is; every scenario module defines each one
CONTRACT: dict[str, str] = {
    "Config": "the frozen RunConfig subclass; every knob a field, validated with ValueErrors; its `framework`"
              ' ("torch", "keras" or "numpy") puts that library\'s versions and numerics in the cache key',
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
    "make_config": "make_config(**knob values) -> Config: the FixPanel's (and make bench's) knobs to a run",
    "draw_panel": "draw_panel(fig, history, config, ...) -> the FixPanel's figure",
    "PANEL_DEMO": '{"toggle": (knob, values), "uncached": (knob, value), "view": view knobs}: what the bench flips',
}


def outside_bands(measured: dict[str, float], bands: Bands) -> dict[str, tuple[float, tuple[float, float]]]:
    """Each measured number that falls outside its band, with the band (empty = every claim holds)."""
    missing = set(bands) - set(measured)
    if missing:
        raise ValueError(f"no measurement for band(s) {sorted(missing)}.")
    return {k: (v, bands[k]) for k, v in measured.items() if not bands[k][0] <= v <= bands[k][1]}
