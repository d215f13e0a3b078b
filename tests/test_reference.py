"""A committed reference cannot go stale silently: an edit to the code a run comes from makes it stale,
and ``--check``, ``load``, ``claims`` and the panels' ``stored_run`` all say so."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import digest, paths, reference
from helpers.cases import CASES

CASE = "03_tiny_dataset"


def test_every_committed_reference_is_current(capsys):
    """`python -m helpers.reference --check`, as `make test` runs it: exit 0, one line, nothing stale."""
    assert reference.main(["--check"]) == 0, capsys.readouterr().out
    assert "every reference is current" in capsys.readouterr().out


@pytest.fixture
def edited_copy(tmp_path, monkeypatch):
    """A copy of helpers/ whose case-03 data generator has another SIGNAL; the digest reads the copy."""
    copy = tmp_path / "helpers"
    shutil.copytree(digest.CODE_ROOT / "helpers", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(digest, "CODE_ROOT", tmp_path)
    module = copy / "scenarios" / "case03_tiny_dataset" / "runs.py"
    source = module.read_text()
    assert "\nSIGNAL = 0.8 " in source
    module.write_text(source.replace("\nSIGNAL = 0.8 ", "\nSIGNAL = 0.7 "))
    return copy


def test_editing_a_trainer_makes_its_references_stale(edited_copy, capsys):
    from helpers.scenarios import case03_tiny_dataset as case

    stale = reference.problems(CASE)
    assert set(stale) == set(case.reference_configs())  # every run draws its images with SIGNAL
    assert all(why.startswith("code changed") for why in stale.values())
    assert reference.problems("05_leaky_and_shuffled_splits") == {}  # another case's code did not change
    assert reference.main(["--check", CASE, "05_leaky_and_shuffled_splits"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert reference.variants(CASE) == ["portable", "threads2"]  # the numerics variants go stale with the reference
    assert len(lines) == 3 and lines[0].startswith(f"{CASE}: stale: ")
    assert lines[0].endswith(f"retrain: python -m helpers.reference {CASE}")
    for line, variant in zip(lines[1:], ("portable", "threads2"), strict=True):
        assert line.startswith(f"{CASE} (variant {variant}): stale: ")
        assert line.endswith(f"retrain: python -m helpers.reference {CASE} --variant {variant}")
    with pytest.raises(reference.StaleReference, match=f"python -m helpers.reference {CASE}"):
        reference.load(CASE)
    with pytest.raises(reference.StaleReference, match="--variant portable"):
        reference.load(CASE, "portable")
    with pytest.raises(reference.StaleReference):
        reference.claims(CASE)
    assert reference.stored_run(case.configs()["LSTM removed"]) is None  # the panel trains it instead


def test_a_stored_run_is_served_while_its_code_is_current():
    from helpers.scenarios import case03_tiny_dataset as case

    stored = reference.stored_run(case.configs()["LSTM removed"])
    assert stored is not None and stored == reference.load(CASE)[0]["LSTM removed"]


def _reference_copy(tmp_path, monkeypatch, key: str) -> Path:
    shutil.copytree(paths.REFERENCE / key, tmp_path / "reference" / key)
    monkeypatch.setattr(paths, "REFERENCE", tmp_path / "reference")
    return tmp_path / "reference" / key / "meta.json"


def test_a_changed_field_names_the_field(tmp_path, monkeypatch):
    meta_path = _reference_copy(tmp_path, monkeypatch, CASE)
    info = json.loads(meta_path.read_text())
    info["runs"]["LSTM removed"]["fields"]["dropout"] = 0.5
    meta_path.write_text(json.dumps(info))
    assert reference.problems(CASE) == {"LSTM removed": "fields changed (dropout 0.5 -> 0.25)"}


def test_library_versions_are_compared(tmp_path, monkeypatch):
    meta_path = _reference_copy(tmp_path, monkeypatch, CASE)
    info = json.loads(meta_path.read_text())
    info["versions"]["torch"] = "1.0.0+cpu"
    info["versions"]["python"] = "3.0.0"  # not compared: the suite runs on 3.11-3.13
    meta_path.write_text(json.dumps(info))
    assert set(reference.version_drift(CASE)) == {"torch"}
    assert "trained with other library versions: torch 1.0.0 -> " in reference.check(CASE)


@pytest.mark.skipif(not (paths.CODE_ROOT / ".git").exists(), reason="needs the git history")
def test_a_format_1_reference_is_stale_until_upgraded_from_the_commit_that_wrote_it(tmp_path, monkeypatch):
    wrote = subprocess.run(["git", "log", "-1", "--format=%H", "--", str(paths.REFERENCE / CASE / "meta.json")],
                           capture_output=True, text=True, check=True, cwd=paths.CODE_ROOT).stdout.strip()
    meta_path = _reference_copy(tmp_path, monkeypatch, CASE)
    info = json.loads(meta_path.read_text())
    digests = {name: run["code"] for name, run in info["runs"].items()}
    for run in info["runs"].values():
        del run["code"]
    info["format"] = 1
    meta_path.write_text(json.dumps(info))
    assert all("format 1" in why for why in reference.problems(CASE).values())
    assert reference.upgrade(CASE, wrote) == digests  # the code of the commit that trained it, as recorded
    assert reference.problems(CASE) == {}


def test_every_case_has_a_reference_folder():
    assert {p.name for p in paths.REFERENCE.iterdir() if p.is_dir()} == set(CASES)


def test_a_variant_is_trained_under_its_own_settings_only(monkeypatch):
    with pytest.raises(ValueError, match=r"choose one of \['onednn', 'portable', 'threads2'\]"):
        reference.folder(CASE, "fast")
    for name in reference.VARIANTS["portable"]:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match=r"needs .*GAP_CLINIC_THREADS.*--variant portable"):
        reference.make(CASE, variant="portable")  # refused before anything trains or is written
    assert reference.variants(CASE) == ["portable", "threads2"] and reference.check(CASE) is None
