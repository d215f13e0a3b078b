"""The shared shape of a scenario's symptom tests: train its runs once, measure, hold each number to its band."""

from __future__ import annotations

from types import ModuleType

import pytest

from helpers.runs import run


def band_suite(case: ModuleType, configs: dict):
    """Return (runs, measured, test_symptom_within_its_band) for a test module to bind at top level."""

    @pytest.fixture(scope="module")
    def runs():
        return {name: run(config) for name, config in configs.items()}

    @pytest.fixture(scope="module")
    def measured(runs):
        return case.measure(runs)

    @pytest.mark.parametrize("band", sorted(case.BANDS))
    def test_symptom_within_its_band(measured, band):
        low, high = case.BANDS[band]
        assert low <= measured[band] <= high, f"{band} = {measured[band]:.4g}, band {low}–{high}"

    return runs, measured, test_symptom_within_its_band
