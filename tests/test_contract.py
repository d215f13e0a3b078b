"""The scenario contract: every case module has the same parts, and its reference is current."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from helpers import reference
from helpers.runs import RunConfig
from helpers.scenarios import CASES, CONTRACT, load_case

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_every_case_notebook_is_registered():
    stems = {p.stem for p in NOTEBOOKS.glob("*.ipynb")} - {"06_clinic"}
    assert stems == set(CASES)


def test_an_unknown_case_names_the_known_ones():
    with pytest.raises(ValueError, match="choose one of"):
        load_case("07_nothing")


@pytest.mark.parametrize("key", sorted(CASES))
def test_case_follows_the_contract(key):
    case = load_case(key)
    missing = [name for name in CONTRACT if not hasattr(case, name)]
    assert not missing, f"{key} lacks {missing}"
    assert issubclass(case.Config, RunConfig)
    assert case.Config.trainer.partition(":")[0] == case.__name__
    assert "mini" in case.SCALES
    story, everything = case.configs("mini"), case.reference_configs("mini")
    assert story and set(story) <= set(everything), "every story run is a reference run"
    assert all(isinstance(c, case.Config) for c in everything.values())
    for name, (low, high) in case.BANDS.items():
        assert isinstance(name, str) and low <= high, name
    assert isinstance(case.POSTED, dict)
    assert isinstance(case.knobs(), list) and case.knobs()
    for name in ("load_data", "build_model", "measure"):
        assert len(inspect.signature(getattr(case, name)).parameters) >= 1, name
    assert "progress" in inspect.signature(case.train).parameters
    assert "fig" in inspect.signature(case.draw_panel).parameters
    with pytest.raises(ValueError, match="seed"):
        next(iter(story.values())).replace(seed=-1)
    with pytest.raises(ValueError, match="scale"):
        case.configs("huge")


@pytest.mark.parametrize("key", sorted(CASES))
def test_reference_is_committed_and_current(key):
    assert reference.stale_runs(key) == [], f"run `make reference {key}`"
    meta = reference.meta(key)
    assert len(meta["seeds"]) >= 3
    assert {"versions", "machine", "numerics", "written"} <= set(meta)


@pytest.mark.parametrize("key", sorted(CASES))
def test_every_claim_is_measured_on_the_reference(key):
    case = load_case(key)
    claims = reference.claims(key, case)
    assert set(case.BANDS) <= set(claims), sorted(set(case.BANDS) - set(claims))
