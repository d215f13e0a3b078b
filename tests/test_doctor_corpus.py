"""The doctor against hand labels on real public training logs (data/doctor_corpus).

The original corpus is held to its agreement floor; the unseen batch (logs from repositories the original does
not hold, labelled blind after the rules were frozen) is measured and reported apart, never tuned to.
"""

import json
import math
import re

import pytest

from helpers.doctor.corpus import (
    CODE_TO_LABEL,
    CORPUS,
    FORMAT_NAMES,
    LABELS,
    ORIGINAL,
    UNSEEN,
    agreement_table,
    evaluate_corpus,
    read_manifests,
)
from helpers.doctor.readers import read_runs

UNSEEN_MANIFEST = CORPUS / f"manifest-{UNSEEN}.json"


def test_the_corpus_is_committed_under_data_not_tests():
    assert list(CORPUS.glob("manifest-*.json")), f"no manifest-*.json under {CORPUS}: the corpus is part of the suite"
    assert CORPUS.parent.name == "data" and "tests" not in CORPUS.parts  # runtime code reads nothing under tests/


@pytest.fixture(scope="module")
def result():
    return evaluate_corpus()


def test_the_corpus_is_large_and_labelled_with_the_known_labels():
    entries = read_manifests()
    assert len(entries) >= 60
    assert sum(e["format"] not in ("keras_csv", "keras_json") for e in entries) >= 15  # Lightning + HF
    assert all((CORPUS / e["file"]).exists() for e in entries)
    assert set(CODE_TO_LABEL.values()) <= set(LABELS)


def test_agreement_with_hand_labels_on_the_original_corpus_is_at_least_85_percent(result):
    assert all(r["detected"] for r in result.rows), [r["error"] for r in result.rows if r["error"]]
    original = result.batch(ORIGINAL)
    assert len(original.rows) >= 60
    assert original.agreement >= 0.85, agreement_table(result)


def test_no_metric_inconsistent_false_alarm(result):
    assert result.metric_false_alarms == []


def test_the_table_reports_every_label_and_format(result):
    table = agreement_table(result)
    assert "| hand label |" in table and "| format |" in table
    for fmt in {r["format"] for r in result.rows}:
        assert f"| {fmt} |" in table


# --- the unseen batch (issue 35 item 9) ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def unseen_entries():
    return json.loads(UNSEEN_MANIFEST.read_text(encoding="utf-8"))


def test_the_unseen_batch_is_large_enough_and_a_third_hf_or_lightning(unseen_entries):
    assert len(unseen_entries) >= 30
    hf_or_lightning = [e for e in unseen_entries if FORMAT_NAMES[e["format"]] in ("hf", "lightning")]
    assert 3 * len(hf_or_lightning) >= len(unseen_entries)


def test_the_unseen_entries_are_well_formed(unseen_entries):
    fields = ("file", "format", "repo", "commit", "path", "batch", "added", "labelled", "loss", "classes",
              "labels", "note")
    for e in unseen_entries:
        assert all(k in e for k in fields), (e.get("file"), [k for k in fields if k not in e])
        assert e["batch"] == UNSEEN and re.fullmatch(r"\d{4}-\d{2}-\d{2}", e["added"]), e["file"]
        assert re.fullmatch(r"[0-9a-f]{40}", e["commit"]), e["file"]
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", e["repo"]) and e["path"], e["file"]
        assert e["format"] in FORMAT_NAMES, e["file"]
        assert e["labels"] and set(e["labels"]) <= set(LABELS) and len(set(e["labels"])) == len(e["labels"])
        assert len(e["note"]) >= 40, e["file"]  # a reason, from the numbers
        assert e["classes"] is None or (isinstance(e["classes"], int) and e["classes"] >= 2)
        # the file name says where it came from: <subfolder>/<owner>__<name>__<slug>
        sub, name = e["file"].split("/")
        assert sub == {"keras_csv": "keras", "keras_history_json": "keras", "keras_json": "keras",
                       "hf_trainer_state": "hf", "lightning_csv": "lightning"}[e["format"]]
        assert name.startswith(e["repo"].replace("/", "__") + "__"), e["file"]
    assert len({e["file"] for e in unseen_entries}) == len(unseen_entries)
    assert len({(e["repo"], e["path"], e["commit"]) for e in unseen_entries}) == len(unseen_entries)


def test_the_unseen_repositories_are_not_in_the_original_corpus(unseen_entries):
    original = {e["repo"].lower() for e in read_manifests() if e.get("batch", ORIGINAL) == ORIGINAL}
    assert not original & {e["repo"].lower() for e in unseen_entries}


def test_each_unseen_file_reads_as_its_manifest_format(unseen_entries):
    for e in unseen_entries:
        runs = read_runs(CORPUS / e["file"])
        assert runs, e["file"]
        assert runs[-1].info.get("format") == FORMAT_NAMES[e["format"]], (e["file"], runs[-1].info)
        finite = [sum(math.isfinite(v) for v in h.metrics.get("val_loss", [])) for h in runs]
        assert min(finite) >= 2, (e["file"], finite)  # a validation curve to judge


def test_the_unseen_batch_is_reported_apart_from_the_original(result, unseen_entries):
    unseen = result.batch(UNSEEN)
    assert len(unseen.rows) == len(unseen_entries)
    assert result.batches[0] == ORIGINAL and UNSEEN in result.batches
    table = agreement_table(result)
    agree = sum(r["agree"] for r in unseen.rows)
    assert f"### Unseen logs ({UNSEEN})" in table
    assert f"**{agree}/{len(unseen.rows)} agree ({100 * unseen.agreement:.0f} %)**" in table
    original = result.batch(ORIGINAL)
    head = table.split("### Unseen")[0]
    assert f"{sum(r['agree'] for r in original.rows)}/{len(original.rows)} agree" in head  # never pooled
    assert f"/{len(result.rows)} agree" not in table
