"""The scenario contract, checked like scikit-learn's ``check_estimator``: every check in tests/harness.py over
every case. No fixtures: each check is a plain function of the case's key, so the toy-case test runs the same
ones over a case it builds by the README's recipe."""

from __future__ import annotations

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
