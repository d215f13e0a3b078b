"""Notebook 06's clinic: every log parses and shows what its patient is there for; the checker grades evidence."""

import json

import pytest

from helpers import doctor
from helpers.scenarios import clinic


@pytest.mark.parametrize("patient", clinic.PATIENTS, ids=lambda p: p.id)
def test_each_log_parses_and_the_doctor_gives_its_codes(patient):
    curves = doctor.read_log(patient.log)
    assert {"loss", "val_loss"} <= set(curves.metrics)
    assert doctor.codes(clinic.examine(patient.id), at_least="warn") == patient.doctor_codes


@pytest.mark.parametrize("patient", clinic.PATIENTS, ids=lambda p: p.id)
def test_the_example_answer_is_the_intended_diagnosis_and_is_supported(patient):
    diagnosis, evidence = clinic.EXAMPLE_EVIDENCE[patient.id]
    codes = clinic._codes(diagnosis)
    assert codes == (set(patient.expected) or {clinic.HEALTHY})
    feedback = clinic.check_answer(patient.id, diagnosis, evidence)
    assert "supported by your numbers" in feedback and "✗" not in feedback and "more in this log" not in feedback


def test_enough_patients_from_every_case_and_beyond():
    sources = [p.source for p in clinic.PATIENTS]
    assert len(clinic.PATIENTS) >= 14
    for case in ("01", "02", "03", "04", "05"):
        assert sum(s.startswith(f"case {case}") for s in sources) >= 2, case
    assert sum(s == "notebook 00" for s in sources) <= 3
    assert sum("write_new_keras_logs" in s for s in sources) == 3
    new = {p.id for p in clinic.PATIENTS if p.id in clinic.KERAS_LOGS or p.id in clinic.COPIED}
    assert new == {"F", "L", "O", "P"}
    assert clinic.BY_ID["F"].weighted and clinic.BY_ID["L"].label_smoothing == 0.1
    assert "real_logs" in clinic.BY_ID["P"].source


def test_the_validation_freq_log_has_blank_validation_cells():
    log = clinic.Log(clinic.BY_ID["O"])
    assert list(log.val_epochs) == list(range(5, 61, 5))
    assert ",," in clinic.BY_ID["O"].log.read_text()


def test_patients_json_lists_every_log_patient():
    listed = json.loads((clinic.CLINIC_DIR / "patients.json").read_text())
    assert [p["id"] for p in listed] == [p.id for p in clinic.PATIENTS]


@pytest.mark.parametrize("patient", clinic.PROBE_PATIENTS, ids=lambda p: p.id)
def test_probe_patients(patient):
    assert doctor.codes(clinic.examine(patient.id)) == patient.doctor_codes
    assert "correct" in clinic.check_answer(patient.id, set(patient.expected))


def test_wrong_numbers_are_rejected_with_what_the_log_shows():
    feedback = clinic.check_answer("A", "OVERFITTING", {"best_epoch": 40, "rise": 0.29})
    assert "do not match" in feedback and "best_epoch: you cite 40, the log shows 25" in feedback
    feedback = clinic.check_answer("B", "STALE_NORM_STATS", {"epoch": 3, "val_loss/loss": 40})
    assert "the log shows 169.3" in feedback
    assert "no validation at epoch 3" in clinic.check_answer("O", "OVERFITTING", {"epoch": 3, "val_loss": 1.0})
    assert "not in the evidence vocabulary" in clinic.check_answer("A", "OVERFITTING", {"bogus": 1})
    assert "cite a number" in clinic.check_answer("A", "OVERFITTING", {"best_epoch": "twenty-five"})
    assert "is read at an epoch" in clinic.check_answer("A", "OVERFITTING", {"val_loss": 1})


def test_the_issue_example_is_read_right_and_asks_for_the_collapse():
    feedback = clinic.check_answer("B", diagnosis="STALE_NORM_STATS", evidence={"epoch": 3, "val_loss/loss": 150})
    assert "not supported" in feedback and "fallen at least 3×" in feedback


def test_class_weight_patient_refutes_metric_inconsistent_and_shift():
    feedback = clinic.check_answer("F", "METRIC_INCONSISTENT", {"epoch": 1, "loss": 0.133, "accuracy": 0.3725})
    assert "not supported" in feedback and "UNWEIGHTED" in feedback
    assert "class_weight" in clinic.BY_ID["F"].facts  # the student is told
    assert "not supported" in clinic.check_answer("F", "POPULATION_SHIFT", {"epoch": 1, "val_loss/loss": 5.4})
    assert "not supported" in clinic.check_answer("F", "NOTHING_LEARNT",
                                                  {"epoch": 20, "accuracy": 0.895, "val_accuracy": 0.899})
    assert "METRIC_INCONSISTENT" in clinic.BY_ID["F"].doctor_codes  # the doctor cannot know the weights


def test_the_same_numbers_support_metric_inconsistent_on_an_unweighted_log():
    assert "supported by" in clinic.check_answer("C", "METRIC_INCONSISTENT", {"epoch": 2, "loss": 0.527,
                                                                               "accuracy": 0.017})
    # at epoch 1 the loss is 5.4: its floor is negative, so an accuracy of 0.11 breaks nothing
    assert "not supported" in clinic.check_answer("C", "METRIC_INCONSISTENT", {"epoch": 1, "loss": 5.37,
                                                                                "accuracy": 0.114})


def test_label_smoothing_patient_is_not_underfitting():
    feedback = clinic.check_answer("L", "UNDERFITTING", {"loss@30": 0.62})
    assert "not supported" in feedback and "label_smoothing=0.1" in feedback
    assert clinic.smoothed_minimum(10, 0.1) == pytest.approx(0.50, abs=0.01)


def test_alternative_diagnoses_are_accepted_when_their_evidence_holds():
    # not the intended diagnosis, but what the cited numbers show by the principle behind the code
    assert "✓ OVERFITTING" in clinic.check_answer("Q", "OVERFITTING", {"best_epoch": 8, "rise": 0.10})
    assert "✓ UNDERFITTING" in clinic.check_answer("M", "UNDERFITTING", {"loss@16": 1.26})
    assert "✓ VAL_AT_CHANCE" in clinic.check_answer("K", "VAL_AT_CHANCE",
                                                     {"epoch": 30, "accuracy": 1.0, "val_accuracy": 0.966})
    assert "✓ HEALTHY" in clinic.check_answer("H", set(), {"epoch": 40, "accuracy": 0.20, "val_accuracy": 0.17})
    assert "✓ VAL_NOISY" in clinic.check_answer("I", "VAL_NOISY", {"swing": 0.17, "se": 0.0024})


def test_answers_the_evidence_does_not_support_are_explained():
    # the doctor prints POPULATION_SHIFT on P; the principle does not support it
    feedback = clinic.check_answer("P", "POPULATION_SHIFT", {"best_epoch": 1, "val_loss/loss@1": 0.77})
    assert "✗ POPULATION_SHIFT" in feedback and "overfitting, not another population" in feedback
    feedback = clinic.check_answer("B", "POPULATION_SHIFT", {"epoch": 3, "val_loss/loss": 169})
    assert "came back" in feedback
    assert "floor" in clinic.check_answer("C", "HEALTHY", {"epoch": 30, "accuracy": 0.0, "val_accuracy": 0.03})
    assert "cannot be read off a log" in clinic.check_answer("A", "SPLIT_OVERLAP", {"best_epoch": 25})
    # early curves climb fast: a trend is not noise (swing measures jumps around the neighbours' mean)
    assert "✗ VAL_NOISY" in clinic.check_answer("F", "VAL_NOISY", {"swing": 0.004, "se": 0.015})
    # a ratio ≥ 3 after validation loss has turned up is memorising, not a shift (the doctor says otherwise)
    assert "✗ POPULATION_SHIFT" in clinic.check_answer("P", "POPULATION_SHIFT", {"val_loss/loss@3": 5.0})
    # a fall of the ratio that does not stay down is not a collapse (K's ratio ends at its highest)
    assert "✗ STALE_NORM_STATS" in clinic.check_answer("K", "STALE_NORM_STATS",
                                                        {"val_loss/loss@2": 3.3, "val_loss/loss@19": 358,
                                                         "val_loss/loss@21": 91})


def test_old_calls_still_answer():
    assert "not answered" in clinic.check_answer("A", {"?"})
    assert "which numbers show it" in clinic.check_answer("A", {"OVERFITTING"})
    with pytest.raises(ValueError, match=r"patient 'Z'.*A, B"):
        clinic.check_answer("Z", set())


def test_every_doctor_code_is_in_the_notebook_table_and_has_a_rule_or_probe():
    import re

    text = (clinic.ROOT / "notebooks" / "06_clinic.ipynb").read_text()
    source = "".join(p.read_text() for p in (clinic.ROOT / "helpers" / "doctor").glob("*.py"))
    given = set(re.findall(r'"([A-Z_]{3,})",\s*"(?:warn|error|info|summary)"', source))
    assert {"GAP", "MODE_GAP", "NOTHING_LEARNT", "VAL_NONDETERMINISTIC"} <= given
    for code in given | set(clinic.RULES) | set(clinic.PROBE_ONLY):
        assert f"| `{code}`" in text, code
    assert given - {"GAP"} <= set(clinic.RULES) | set(clinic.PROBE_ONLY)
    assert set(doctor.checks.VERDICT_ORDER) <= set(clinic.RULES)


@pytest.mark.slow
def test_retraining_the_keras_patients_gives_the_same_diagnoses(tmp_path):
    """The committed logs are data; a retrain (~30 s) need not match them bit for bit, only in what they show."""
    for path in clinic.write_new_keras_logs(tmp_path):
        p = clinic.BY_ID[path.stem]
        found = doctor.codes(doctor.diagnose_history(path, loss=p.loss, n_classes=p.n_classes, val_size=p.val_size),
                             at_least="warn")
        assert found == p.doctor_codes, p.id


@pytest.mark.parametrize("patient", clinic.PATIENTS, ids=lambda p: p.id)
def test_each_patient_draws_and_prints_its_numbers(patient):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    clinic.draw_patient(fig, patient.id)
    assert all(ax.lines for ax in fig.axes[:1])
    plt.close(fig)
    rows = clinic.table(patient.id).splitlines()
    assert len(rows) == len(clinic.Log(patient).epochs) + 1


def test_every_log_patient_says_where_its_log_comes_from():
    origins = set(clinic.SOURCES) | set(clinic.COPIED) | set(clinic.KERAS_LOGS) | set(clinic.KEPT)
    assert {p.id for p in clinic.PATIENTS} <= origins
    assert not set(clinic.KEPT) & set(clinic.SOURCES)  # a kept log is never re-exported over


def test_notebook_answers_are_the_patients_own_data():
    import json
    from pathlib import Path

    cells = json.loads((Path(__file__).parents[1] / "notebooks" / "06_clinic.ipynb").read_text())["cells"]
    answers = {}
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and text.startswith("<details><summary>An answer for patient "):
            answers[text.split("patient ")[1][0]] = text
    assert set(answers) == set(clinic.EXAMPLE_EVIDENCE)
    for pid, text in answers.items():
        assert text == clinic.answer_markdown(pid), f"patient {pid}: python -m helpers.scenarios.clinic --answers"
