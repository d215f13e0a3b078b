"""The scenario contract, checked like scikit-learn's ``check_estimator``: every check in tests/harness.py over
every case. No fixtures: each check is a plain function of the case's key, so the toy-case test runs the same
ones over a case it builds by the README's recipe."""

from __future__ import annotations

import harness
import pytest
from harness import CHECKS, HERE_CHECKS

from helpers import paths
from helpers.cases import CASES, load_case


def test_every_case_notebook_is_registered():
    stems = {p.stem for p in paths.NOTEBOOKS.glob("*.ipynb")} - {"06_clinic"}
    assert stems == set(CASES)


def test_an_unknown_case_names_the_known_ones():
    with pytest.raises(ValueError, match="choose one of"):
        load_case("07_nothing")


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("key", sorted(CASES))
def test_case(key, check):
    check(key)


@pytest.mark.slow
@pytest.mark.here
@pytest.mark.parametrize("check", HERE_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("key", sorted(CASES))
def test_case_here(key, check):
    check(key)


def test_a_variant_that_repeats_a_trajectory_is_not_counted(monkeypatch):
    """The spread needs two variants with numbers of their own: one that repeats another variant's runs, or the
    reference's, to the bit emulates no other machine, and the check says so."""
    key = "00_reading_learning_curves"
    harness.check_every_numerics_variant_holds_each_claim(key)  # as committed: two trajectories of their own
    real = harness.variant_runs
    for repeated in (lambda: real(key, "portable"), lambda: harness.reference_runs(key)):
        monkeypatch.setattr(harness, "variant_runs",
                            lambda k, v, repeated=repeated: repeated() if v == "threads2" else real(k, v))
        with pytest.raises(AssertionError, match=r"1 committed variant.*numbers of their own"):
            harness.check_every_numerics_variant_holds_each_claim(key)
