"""The claims harness: every check of the scenario contract, as a plain function of a case key.

In the style of scikit-learn's ``check_estimator``: ``CHECKS`` (read only: the committed reference, no
training) and ``HERE_CHECKS`` (retrain on this machine) are functions ``check(key)`` that raise
``AssertionError`` naming what is wrong; tests/test_contract.py runs every one over every case, and the
toy-case test runs them over a case built by the README's recipe. ``check_case`` runs them all.

What a case's runs say, read once per session (``functools.cache``):

* ``reference_runs`` / ``reference_measured``: every committed seed (``reference.load`` refuses a stale one);
* ``variant_runs`` / ``variant_measured``: the same runs under each committed numerics variant (another
  trajectory of each run, as another CPU would give);
* ``retrained``: the runs ``make test`` retrains here, seed 0: the case's ``RETRAIN`` names (default: every
  reference run);
* ``here_measured``: the claims those runs measure alone. A claim that also reads a run not retrained here
  is left out, never filled in from the reference: ``measure`` runs with the other runs taken from the
  reference's seed 0, from its seed 1, and blanked (every number NaN, one epoch longer: ``blanked``); only
  the claims that come out the same all three ways depend on the retrained runs alone. (Seeds alone let a
  claim constant across seeds through, a parameter count or a zero spread, while it read committed runs.)

A band is held for every reference seed, every numerics variant's seed and here. There is no "lands in the
reference spread" test any more: it guarded against changed code, which the code digest now does (a stale
reference fails ``--check``); three seeds cannot tell a wrong value from a chaotic but correct one on another CPU.
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from collections.abc import Callable

import numpy as np

from helpers import reference
from helpers.cases import load_case
from helpers.runs import FRAMEWORK_PACKAGES, NUMERICS_ENV, SEEDS, History, RunConfig, run
from helpers.scenarios import CONTRACT, outside_bands


def retrain_configs(key: str) -> dict[str, RunConfig]:
    """{name: config} of the reference runs ``make test`` retrains on this machine (seed 0)."""
    case = load_case(key)
    everything = case.reference_configs()
    names = getattr(case, "RETRAIN", None)
    if names is None:
        return everything
    unknown = [n for n in names if n not in everything]
    if unknown:
        raise ValueError(f"{key}.RETRAIN names {unknown}, which are not reference runs; "
                         f"choose among {sorted(everything)}.")
    return {n: everything[n] for n in names}


@functools.cache
def reference_runs(key: str) -> list[dict[str, History]]:
    return reference.load(key)


@functools.cache
def reference_measured(key: str) -> list[dict[str, float]]:
    return [load_case(key).measure(dict(histories)) for histories in reference_runs(key)]


@functools.cache
def variant_runs(key: str, variant: str) -> list[dict[str, History]]:
    return reference.load(key, variant)


@functools.cache
def variant_measured(key: str, variant: str) -> list[dict[str, float]]:
    return [load_case(key).measure(dict(histories)) for histories in variant_runs(key, variant)]


@functools.cache
def retrained(key: str) -> dict[str, History]:
    return {name: run(config) for name, config in retrain_configs(key).items()}


def _same(a: float, b: float | None) -> bool:
    return b is not None and (a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b)))


def blanked(history: History) -> History:
    """A history that no claim can read a real number from: one epoch longer, every number NaN.

    Standing in for a run not retrained here, it changes every claim that reads that run: its values
    (NaN), its length (an early stop's epoch), its recorded numbers (``info``, ``arrays``). Strings and
    flags stay, so ``measure`` still finds what it dispatches on.
    """
    def blank(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float | np.number | np.ndarray):
            return value
        if isinstance(value, np.ndarray):
            return np.full(value.shape, np.nan) if np.issubdtype(value.dtype, np.number) else value
        return math.nan

    epochs = history.epoch_numbers or []
    return History(metrics={k: [math.nan] * (len(v) + 1) for k, v in history.metrics.items()},
                   arrays={k: blank(v) for k, v in history.arrays.items()},
                   info={k: blank(v) for k, v in history.info.items()},
                   epoch_numbers=[*epochs, (epochs[-1] if epochs else 0) + 1])


@functools.cache
def here_measured(key: str) -> dict[str, float]:
    """The claims measured on this machine's retrained runs alone (see the module's docstring)."""
    case, here, ref = load_case(key), retrained(key), reference_runs(key)
    first = case.measure({**ref[0], **here})
    if set(here) >= set(case.reference_configs()):
        return first
    other = case.measure({**ref[1], **here})
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            blind = case.measure({**{name: blanked(h) for name, h in ref[0].items()}, **here})
    except (ValueError, IndexError, KeyError, TypeError) as err:
        raise AssertionError(f"{key}.measure raised {type(err).__name__}: {err} on runs whose numbers are NaN; "
                             "the harness blanks the runs not retrained here to tell which claims the "
                             "retrained runs measure alone, so measure must return NaN there, not raise.") from err
    return {claim: value for claim, value in first.items()
            if _same(value, other.get(claim)) and _same(value, blind.get(claim))}


def assert_claims_hold(measured: dict[str, float], bands: dict[str, tuple[float, float]], where: str) -> None:
    """Every band's claim that ``measured`` has lies inside its band (a NaN never does)."""
    wrong = outside_bands({k: v for k, v in measured.items() if k in bands},
                          {k: bands[k] for k in bands if k in measured})
    wrong.update({k: (v, bands[k]) for k, v in measured.items() if k in bands and math.isnan(v)})
    assert not wrong, f"{where}: " + "; ".join(f"{k} = {v:.4g}, band {lo:g} to {hi:g}"
                                               for k, (v, (lo, hi)) in sorted(wrong.items()))


# --- the checks: read only -------------------------------------------------------------------


def check_parts(key: str) -> None:
    """Every part CONTRACT names, with the signatures the suite calls."""
    case = load_case(key)
    missing = [name for name in CONTRACT if not hasattr(case, name)]
    assert not missing, f"{key} lacks {missing}"
    assert issubclass(case.Config, RunConfig)
    assert case.Config.trainer.partition(":")[0] == case.__name__
    own = case.Config.__mro__[:case.Config.__mro__.index(RunConfig)]  # RunConfig's default ("numpy") does not count
    assert any("framework" in vars(cls) for cls in own), f"{key}: Config does not declare its framework"
    assert case.Config.framework in FRAMEWORK_PACKAGES, case.Config.framework
    assert "mini" in case.SCALES
    assert isinstance(case.POSTED, dict)
    for name in ("load_data", "build_model", "measure"):
        assert len(inspect.signature(getattr(case, name)).parameters) >= 1, name
    assert "progress" in inspect.signature(case.train).parameters
    assert "fig" in inspect.signature(case.draw_panel).parameters


def check_configs(key: str) -> None:
    """Story runs are reference runs; configs validate their seed and scale with ValueErrors."""
    case = load_case(key)
    story, everything = case.configs("mini"), case.reference_configs("mini")
    assert story and set(story) <= set(everything), "every story run is a reference run"
    assert all(isinstance(c, RunConfig) for c in everything.values())
    try:
        next(iter(story.values())).replace(seed=-1)
    except ValueError as err:
        assert "seed" in str(err), err
    else:
        raise AssertionError("seed=-1 was accepted")
    try:
        case.configs("huge")
    except ValueError as err:
        assert "scale" in str(err), err
    else:
        raise AssertionError("scale='huge' was accepted")


def check_make_config(key: str) -> None:
    """The panel's knobs, at their defaults, make a config of the case's framework (what `make bench` does)."""
    case = load_case(key)
    knobs = case.knobs()
    assert isinstance(knobs, list) and knobs
    view = set(case.PANEL_DEMO.get("view", ()))
    config = case.make_config(**{k.name: k.default for k in knobs if k.name not in view})
    assert isinstance(config, RunConfig) and config.framework == case.Config.framework


def check_retrain(key: str) -> None:
    """RETRAIN names reference runs (a typo would retrain nothing and test nothing)."""
    assert retrain_configs(key), f"{key} retrains nothing here"


def check_bands(key: str) -> None:
    """Every band is finite and ordered, and every claim is measured on the reference."""
    case = load_case(key)
    for name, (low, high) in case.BANDS.items():
        assert isinstance(name, str) and math.isfinite(low) and math.isfinite(high) and low <= high, name
    measured = reference_measured(key)[0]
    assert set(case.BANDS) <= set(measured), f"never measured: {sorted(set(case.BANDS) - set(measured))}"


def check_reference_is_current(key: str) -> None:
    """The committed reference matches the code (fields and code digest) and the library versions."""
    assert reference.check(key) is None, reference.check(key)
    meta = reference.meta(key)
    assert len(meta["seeds"]) >= len(SEEDS)
    assert {"versions", "machine", "numerics", "written"} <= set(meta)


def check_every_reference_seed_holds_each_claim(key: str) -> None:
    bands = load_case(key).BANDS
    for seed, measured in zip(reference.meta(key)["seeds"], reference_measured(key), strict=True):
        assert_claims_hold(measured, bands, f"{key}, reference seed {seed}")


def _same_numbers(a: History, b: History) -> bool:
    return a.metrics.keys() == b.metrics.keys() and all(
        np.array_equal(np.asarray(a[k], dtype=float), np.asarray(b[k], dtype=float), equal_nan=True) for k in a.metrics)


def check_every_numerics_variant_holds_each_claim(key: str) -> None:
    """The reference spread covers three numerics settings at least: the reference's and two committed variants,
    current, each another trajectory (its seed-0 runs not bit-identical, on every run, to the reference's or to
    another variant's counted before it: such a variant emulates no other machine), and every seed of every
    variant holds every band (a claim that holds on one float summation order only is a trajectory)."""
    found = reference.variants(key)
    assert found, (f"{key} has no committed numerics variant; train one: "
                   f"{reference.retrain_command(key, next(iter(reference.VARIANTS)))}")
    bands, main = load_case(key).BANDS, reference_runs(key)[0]
    trajectories, own = [main], []
    for variant in found:
        info = reference.meta(key, variant)
        for seed, measured in zip(info["seeds"], variant_measured(key, variant), strict=True):
            assert_claims_hold(measured, bands, f"{key}, variant {variant}, seed {seed}")
        first = variant_runs(key, variant)[0]
        if all(any(not _same_numbers(seen[name], first[name]) for name in main) for seen in trajectories):
            trajectories.append(first)
            own.append(variant)
    framework = load_case(key).Config.framework
    if NUMERICS_ENV[framework]:  # a numpy-only case has no settings to vary
        others = [v for v in reference.VARIANTS if v not in found and framework in reference.VARIANT_FRAMEWORKS[v]]
        assert len(own) >= 2, (
            f"{key}: {len(own)} committed variant(s) give numbers of their own ({', '.join(own) or 'none'}; "
            f"committed: {', '.join(found)}); the spread needs two besides the reference: train "
            + (" or ".join(reference.retrain_command(key, v) for v in others) if others else "a new variant"))


def check_a_planted_wrong_value_fails(key: str) -> None:
    """Each band, fed a value just outside it on either side or a NaN, fails: no band test is vacuous."""
    bands, measured = load_case(key).BANDS, reference_measured(key)[0]
    for claim, (low, high) in bands.items():
        step = max((high - low) * 0.01, 1e-9 * max(1.0, abs(low), abs(high)))
        for planted in (low - step, high + step, math.nan):
            try:
                assert_claims_hold({**measured, claim: planted}, bands, "planted")
            except AssertionError as err:
                assert claim in str(err), err
            else:
                raise AssertionError(f"{key}: {claim} = {planted} passed its band {low}-{high}")


CHECKS: tuple[Callable[[str], None], ...] = (
    check_parts, check_configs, check_make_config, check_retrain, check_bands, check_reference_is_current,
    check_every_reference_seed_holds_each_claim, check_every_numerics_variant_holds_each_claim,
    check_a_planted_wrong_value_fails)


# --- the checks that retrain on this machine ----------------------------------------------------


def check_this_machine_holds_each_claim(key: str) -> None:
    """Seed 0 of RETRAIN, trained here: every claim those runs measure lies in its band."""
    measured = here_measured(key)
    bands = load_case(key).BANDS
    assert set(measured) & set(bands), f"{key}: the runs retrained here measure no claim (a test that cannot fail)"
    assert_claims_hold(measured, bands, f"{key}, this machine")


HERE_CHECKS: tuple[Callable[[str], None], ...] = (check_this_machine_holds_each_claim,)


def check_case(key: str, *, here: bool = True) -> None:
    """Run every check over ``key`` (``here``: the retraining ones too)."""
    for check in CHECKS + (HERE_CHECKS if here else ()):
        check(key)
