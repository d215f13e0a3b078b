"""Notebook 06's clinic: the committed logs are data that parse, and the doctor reads each right."""

import json

import pytest

from helpers import doctor
from helpers.scenarios import clinic


@pytest.mark.parametrize("patient", clinic.PATIENTS, ids=lambda p: p.id)
def test_doctor_gives_each_patient_its_codes(patient):
    found = doctor.codes(clinic.examine(patient.id), at_least="warn")
    assert found == patient.doctor_codes


def test_at_least_ten_patients_and_every_history_code_appears():
    assert len(clinic.PATIENTS) >= 10
    seen = set().union(*(p.doctor_codes for p in clinic.PATIENTS))
    assert {"METRIC_INCONSISTENT", "STALE_NORM_STATS", "POPULATION_SHIFT", "VAL_AT_CHANCE", "OVERFITTING",
            "VAL_NOISY"} <= seen
    assert any(not p.doctor_codes for p in clinic.PATIENTS)  # healthy-looking logs too


@pytest.mark.slow
def test_committed_logs_are_data_that_parse_with_their_facts(tmp_path):
    """The committed logs are data (another CPU would print other digits): they parse, and the index matches them."""
    from helpers.doctor import read_log

    index = {p["id"]: p for p in json.loads((clinic.CLINIC_DIR / "patients.json").read_text())}
    for patient in clinic.PATIENTS:
        history = read_log(patient.log)
        assert history.n_epochs >= 5 and {"loss", "val_loss"} <= set(history.metrics), patient.id
        assert index[patient.id]["val_size"] == patient.val_size, patient.id


@pytest.mark.parametrize("patient", clinic.PROBE_PATIENTS, ids=lambda p: p.id)
def test_probe_patients(patient):
    assert doctor.codes(clinic.examine(patient.id)) == patient.doctor_codes


def test_answer_checking():
    assert "correct" in clinic.check_answer("A", {"overfitting"})
    assert "not answered" in clinic.check_answer("A", {"?"})
    assert "missed 1" in clinic.check_answer("A", set())
    assert "STALE_NORM_STATS is not what" in clinic.check_answer("A", {"OVERFITTING", "STALE_NORM_STATS"})
    assert "also true: OVERFITTING" in clinic.check_answer("F", {"POPULATION_SHIFT"})
    assert "correct" in clinic.check_answer("D", set())
    with pytest.raises(ValueError, match=r"patient 'Z'.*A, B"):
        clinic.check_answer("Z", set())
