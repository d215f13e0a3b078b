"""The shared shape of a scenario's symptom tests.

Every claim (a band in the scenario's BANDS) must hold for every committed reference seed
(no training: reads data/reference), and on this machine: the tests retrain seed 0 of each
reference run and check that it satisfies the claim and lands inside the reference seeds'
prediction interval (Bonferroni over the case's claims, so 30 claims do not make 1.5 false
alarms a run; never narrower than a quarter of the band each side, since three seeds can agree by chance
on a coarse measurement). Another CPU, thread count or oneDNN setting is just another trajectory.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from helpers import reference
from helpers.runs import SEEDS, run
from helpers.scenarios import CASES
from helpers.stats import spread

FAMILY_LEVEL = 0.05  # chance that any one claim of a case falls outside its interval on an honest retrain
BAND_SHARE = 0.25  # the least half-width of that interval, as a share of the claim's band


def case_key(case: ModuleType) -> str:
    return next(key for key, module in CASES.items() if module == case.__name__)


def band_suite(case: ModuleType, configs: dict | None = None):
    """Return the fixtures and the three band tests for a test module to bind at top level.

    configs: the runs to retrain here (default: the case's reference_configs()).
    """
    key = case_key(case)
    configs = configs if configs is not None else case.reference_configs()
    level = 1 - FAMILY_LEVEL / len(case.BANDS)

    @pytest.fixture(scope="module")
    def runs():
        return {name: run(config) for name, config in configs.items()}

    @pytest.fixture(scope="module")
    def measured(runs):
        return case.measure(runs)

    @pytest.fixture(scope="module")
    def reference_measured():
        return reference.measured_per_seed(key, case)

    @pytest.fixture(scope="module")
    def reference_claims(reference_measured):
        return {claim: spread([m[claim] for m in reference_measured]) for claim in reference_measured[0]}

    @pytest.fixture(scope="module")
    def reference_runs():
        return reference.load(key)

    @pytest.fixture(scope="module", params=range(len(SEEDS) + 1), ids=[*(f"reference seed {s}" for s in SEEDS), "here"])
    def each_seed_runs(request, reference_runs):
        """Every reference seed's runs, then this machine's: a test of a claim runs once for each.

        Only the last one trains (seed 0 here, or reads it from the cache); the reference seeds are read.
        """
        if request.param < len(reference_runs):
            return reference_runs[request.param]
        return request.getfixturevalue("runs")

    @pytest.fixture(scope="module", params=range(len(SEEDS) + 1), ids=[*(f"reference seed {s}" for s in SEEDS), "here"])
    def each_seed_measured(request, reference_measured):
        """Each reference seed's measurements, then this machine's (only that one trains)."""
        if request.param < len(reference_measured):
            return reference_measured[request.param]
        return request.getfixturevalue("measured")

    @pytest.mark.parametrize("band", sorted(case.BANDS))
    def test_every_reference_seed_holds_the_claim(reference_claims, band):
        low, high = case.BANDS[band]
        got = reference_claims[band]
        assert got.within(low, high), f"{band} = {got} on the reference; band {low}–{high}"

    @pytest.mark.slow
    @pytest.mark.parametrize("band", sorted(case.BANDS))
    def test_this_machine_holds_the_claim(measured, band):
        low, high = case.BANDS[band]
        assert low <= measured[band] <= high, f"{band} = {measured[band]:.4g} here, band {low}–{high}"

    @pytest.mark.slow
    @pytest.mark.parametrize("band", sorted(case.BANDS))
    def test_this_machine_lands_in_the_reference_spread(measured, reference_claims, band):
        got = reference_claims[band]
        if got.std == 0:  # every seed gave the same number (a count, an exact identity): the band test says it all
            return
        low, high = got.prediction_interval(level)
        # Three seeds can agree by chance on a number measured on few samples (an accuracy on 90 images moves in
        # steps of 1/90): the interval is never narrower than a quarter of the claim's own band on each side.
        band_low, band_high = case.BANDS[band]
        floor = BAND_SHARE * (band_high - band_low)
        low, high = min(low, got.mean - floor), max(high, got.mean + floor)
        assert low <= measured[band] <= high, (
            f"{band} = {measured[band]:.4g} here; reference {got}, {level:.4f} prediction interval "
            f"{low:.4g}–{high:.4g}: rerun `make reference` if the code changed on purpose")

    return (runs, measured, reference_measured, reference_claims, each_seed_measured, reference_runs, each_seed_runs,
            test_every_reference_seed_holds_the_claim, test_this_machine_holds_the_claim,
            test_this_machine_lands_in_the_reference_spread)
