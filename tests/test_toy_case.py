"""The README's "How to add a case", followed end to end on a toy case: the recipe is proven, not described.

1. the module (tests/toy_case.py) goes to helpers/scenarios/caseNN_name.py (here, in a copy of the package);
2. it is registered in CASES, with its notebook;
3. `make reference` trains its reference (here, into a temporary folder);
4. the contract's checks (tests/harness.py, what tests/test_contract.py runs over every case) all pass.
Then an edit to its trainer makes its reference stale, and the contract says so.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

import harness
import nbformat
import pytest

import helpers.scenarios
from helpers import cases, digest, paths, reference

KEY, MODULE = "99_toy", "helpers.scenarios.case99_toy"


def _forget() -> None:
    for memo in (harness.reference_runs, harness.reference_measured, harness.variant_runs, harness.variant_measured,
                 harness.retrained, harness.here_measured):
        memo.cache_clear()


@pytest.fixture
def toy_case(tmp_path, tmp_cache, monkeypatch):
    # 1. The module, in a copy of the package (the code digest reads the copy's source).
    shutil.copytree(digest.CODE_ROOT / "helpers", tmp_path / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    module_path = tmp_path / "helpers" / "scenarios" / "case99_toy.py"
    shutil.copy(Path(__file__).with_name("toy_case.py"), module_path)
    monkeypatch.setattr(digest, "CODE_ROOT", tmp_path)
    monkeypatch.setattr(helpers.scenarios, "__path__", [*helpers.scenarios.__path__, str(module_path.parent)])
    # 2. Registered under its notebook's name, with its notebook.
    monkeypatch.setitem(cases.CASES, KEY, MODULE)
    monkeypatch.setattr(paths, "NOTEBOOKS", tmp_path / "notebooks")
    paths.NOTEBOOKS.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A toy case")]),
                   paths.NOTEBOOKS / f"{KEY}.ipynb")
    monkeypatch.setattr(paths, "REFERENCE", tmp_path / "reference")
    monkeypatch.setattr(paths, "REFERENCE_VARIANTS", tmp_path / "reference-variants")
    _forget()
    yield module_path
    _forget()
    sys.modules.pop(MODULE, None)


def test_the_recipe_adds_a_case_that_meets_the_contract(toy_case, monkeypatch):
    case = cases.load_case(KEY)
    assert {p.stem for p in paths.NOTEBOOKS.glob("*.ipynb")} == {KEY}
    with pytest.raises(AssertionError, match="no reference"):
        harness.check_reference_is_current(KEY)  # step 3 not yet done
    # 3. `make reference CASES=99_toy`: the reference, then each numerics variant (the command restarts itself
    # under the variant's settings; here they are set first, so it trains in this process)
    reference.main([KEY])
    assert reference.main(["--check", KEY]) == 0
    with pytest.raises(AssertionError, match="no committed numerics variant"):
        harness.check_every_numerics_variant_holds_each_claim(KEY)
    with monkeypatch.context() as env:
        for name, value in reference.VARIANTS["portable"].items():
            env.setenv(name, value)
        reference.main([KEY, "--variant", "portable"])
    assert reference.variants(KEY) == ["portable"] and reference.main(["--check", KEY]) == 0
    # 4. Every contract check, the retraining one included.
    harness.check_case(KEY)
    assert set(harness.here_measured(KEY)) == set(case.BANDS)  # RETRAIN left out: every reference run retrains


def test_editing_the_toy_trainer_makes_its_reference_stale(toy_case):
    reference.main([KEY])
    harness.check_reference_is_current(KEY)
    source = toy_case.read_text()
    toy_case.write_text(source.replace("LEARNING_RATE = 0.5", "LEARNING_RATE = 0.4"))
    _forget()
    with pytest.raises(AssertionError, match="code changed"):
        harness.check_reference_is_current(KEY)
    with pytest.raises(reference.StaleReference, match=f"python -m helpers.reference {KEY}"):
        harness.check_every_reference_seed_holds_each_claim(KEY)
    importlib.invalidate_caches()


def test_retraining_keeps_current_runs_and_trains_only_stale_ones(toy_case, monkeypatch):
    reference.main([KEY])
    written = (reference.folder(KEY) / "meta.json").read_bytes()
    said: list[str] = []
    reference.make(KEY, log=said.append)  # nothing changed: every run kept, none trained, meta.json as it was
    assert said and all(line.endswith("current, kept") for line in said)
    assert (reference.folder(KEY) / "meta.json").read_bytes() == written
    with monkeypatch.context() as m:  # other numerics settings: another trajectory, so nothing is kept
        m.setattr(reference, "numerics", lambda framework: {"threads": "7"})
        said.clear()
        reference.make(KEY, log=said.append)
        assert said and not any("kept" in line for line in said)
        assert reference.meta(KEY)["numerics"] == {"threads": "7"}
    reference.make(KEY)  # back under this process's settings
    source = toy_case.read_text()
    toy_case.write_text(source.replace("LEARNING_RATE = 0.5", "LEARNING_RATE = 0.4"))
    _forget()
    said.clear()
    reference.make(KEY, log=said.append)  # the trainer changed: every run trains again, and is current
    assert said and not any("kept" in line for line in said)
    assert reference.main(["--check", KEY]) == 0
    said.clear()
    reference.make(KEY, log=said.append, reuse=False)  # --all retrains a current reference too
    assert not any("kept" in line for line in said)
    importlib.invalidate_caches()


PLANTED = '''
RETRAIN = (POST,)  # "fixed" is read from the reference


def _measure_with_planted(histories):
    fixed = histories["fixed"]
    # Two claims that read the committed "fixed" run yet come out the same for every seed.
    return {**_measure(histories), "fixed_epochs": float(fixed.n_epochs),
            "fixed_accuracy_above_half": float(fixed.final("val_accuracy", 3) > 0.5)}


_measure, measure = measure, _measure_with_planted
'''


def test_a_claim_that_reads_a_committed_run_is_not_counted_as_measured_here(toy_case):
    toy_case.write_text(toy_case.read_text() + PLANTED)
    case = cases.load_case(KEY)
    reference.main([KEY])
    seeds = harness.reference_measured(KEY)
    planted = ("fixed_epochs", "fixed_accuracy_above_half")
    # Seeds alone cannot tell: the planted claims agree across them, as a committed count or flag would.
    assert all(seeds[0][c] == seeds[1][c] for c in planted), [[s[c] for c in planted] for s in seeds]
    here = harness.here_measured(KEY)
    assert set(here) == {"post_train_minus_val"}, sorted(here)
    assert set(case.measure(harness.retrained(KEY) | reference.load(KEY)[0])) >= set(planted)
