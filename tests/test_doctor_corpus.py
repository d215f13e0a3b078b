"""The doctor against hand labels on real public training logs (data/doctor_corpus)."""

import pytest

from helpers.doctor.corpus import CODE_TO_LABEL, CORPUS, LABELS, agreement_table, evaluate_corpus, read_manifests


def test_the_corpus_is_committed():
    assert list(CORPUS.glob("manifest-*.json")), f"no manifest-*.json under {CORPUS}: the corpus is part of the suite"


@pytest.fixture(scope="module")
def result():
    return evaluate_corpus()


def test_the_corpus_is_large_and_labelled_with_the_known_labels():
    entries = read_manifests()
    assert len(entries) >= 60
    assert sum(e["format"] not in ("keras_csv", "keras_json") for e in entries) >= 15  # Lightning + HF
    assert all((CORPUS / e["file"]).exists() for e in entries)
    assert set(CODE_TO_LABEL.values()) <= set(LABELS)


def test_agreement_with_hand_labels_is_at_least_85_percent(result):
    assert all(r["detected"] for r in result.rows), [r["error"] for r in result.rows if r["error"]]
    assert result.agreement >= 0.85, agreement_table(result)


def test_no_metric_inconsistent_false_alarm(result):
    assert result.metric_false_alarms == []


def test_the_table_reports_every_label_and_format(result):
    table = agreement_table(result)
    assert "| hand label |" in table and "| format |" in table
    for fmt in {r["format"] for r in result.rows}:
        assert f"| {fmt} |" in table
