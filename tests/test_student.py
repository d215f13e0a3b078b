"""Student copies (`make student`): no answer text survives, nothing else is lost, and a copy still runs headless.

Answers are marked as INSTRUCTORS.md ("Marking answers") says; these tests read the committed notebooks, so a
new exercise whose answer is not marked that way fails here. Executing a copy costs CPU (20–80 s a notebook),
so the clinic (no training, about 20 s alone) runs, marked slow; the others are checked structurally.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from helpers.course import cell_text, notebook_paths
from helpers.course.student import ANSWER_TAGS, details_blocks, main, output_text, studentize

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebook_paths()


def md(text: str, **meta) -> dict:
    return {"cell_type": "markdown", "metadata": meta, "source": text}


def code(text: str, out: str = "", **meta) -> dict:
    outputs = [{"output_type": "stream", "name": "stdout", "text": out}] if out else []
    return {"cell_type": "code", "metadata": meta, "source": text, "execution_count": 1, "outputs": outputs}


def visible_text(nb: dict) -> str:
    return "\n".join(cell_text(c) + "\n" + output_text(c) for c in nb["cells"])


def distinctive_lines(text: str) -> list[str]:
    """Lines long enough to be an answer's own words (not '</details>' or a blank)."""
    lines = (re.sub(r"<[^>]+>", "", line).strip() for line in text.splitlines())
    return [line for line in lines if len(line) >= 25]


def test_every_marking_is_removed_and_nothing_else():
    nb = {"metadata": {}, "nbformat": 4, "nbformat_minor": 5, "cells": [
        md("# Title\n\n<details><summary>The detail (depth)</summary>\n\nDEPTH STAYS\n</details>"),
        md("## Exercise\n\n1. Question one?\n\n<details><summary>Answers</summary>\n\nANSWER ONE\n"
           "<details><summary>nested</summary>NESTED ANSWER</details>\n</details>\n\nAfter the block."),
        code("print('computes answer one')", out="ANSWER COMPUTED"),
        code("print('kept on purpose')", out="KEPT", tags=["student"]),
        md("Question two?\n<details><summary>Answer</summary>ANSWER TWO</details>\n\n## Next section\n\nIts text."),
        code("print('the next section')", out="NEXT SECTION CODE"),
        md("<details><summary>An answer for patient A (open once you have answered)</summary>\nPATIENT A IS X\n"
           "</details>"),
        code("check_answer('A', diagnosis='?')", out="not answered yet"),
        md("---\n## Solutions\n\nThe cell below holds them."),
        code("print(solution())", out="SOLUTION TEXT", tags=["solution"]),
        md("A markdown answer cell: MARKDOWN ANSWER", tags=["answer"]),
        md("Lessons, still in the Solutions section: PATIENT A SPOILER"),
        md("### A sub-heading inside it\n\nSUB SPOILER"),
        md("## The next part\n\nClosing words."),
    ]}
    copy, removed = studentize(nb)
    text = visible_text(copy)
    for gone in ("ANSWER ONE", "ANSWER TWO", "NESTED ANSWER", "ANSWER COMPUTED", "PATIENT A IS X", "SOLUTION TEXT",
                 "MARKDOWN ANSWER", "## Solutions", "<summary>Answers", "PATIENT A SPOILER", "SUB SPOILER"):
        assert gone not in text, gone
    for kept in ("DEPTH STAYS", "Question one?", "After the block.", "KEPT", "Question two?", "NEXT SECTION CODE",
                 "not answered yet", "Closing words."):
        assert kept in text, kept
    assert removed.blocks == 3 and removed.cells == 7
    assert copy["metadata"]["gap_clinic"] == {"student_copy": True}
    assert len(nb["cells"]) == 14, "the instructor's notebook is left as it was"


def test_an_unclosed_details_block_runs_to_the_end():
    assert details_blocks("a <details><summary>Answer</summary> b") == [(2, 38, "Answer")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_answer_survives_in_the_student_copy(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    copy, removed = studentize(nb)
    text = visible_text(copy)
    leaked = [line for t in removed.texts for line in distinctive_lines(t) if line in text]
    assert not leaked, f"answer text left in the student copy of {path.name}: {leaked[:3]}"
    for cell in copy["cells"]:
        assert not {t.lower() for t in cell.get("metadata", {}).get("tags", [])} & ANSWER_TAGS
        for _, _, summary in details_blocks(cell_text(cell)):
            assert not re.search(r"\b(answers?|solutions?)\b", summary, re.I), f"{path.name}: {summary!r}"
    # A notebook with exercises must have had answers to remove: an unmarked answer fails here.
    exercises = [c for c in nb["cells"] if re.search(r"(?m)^#+[^\n]*\bExercises?\b", cell_text(c))]
    if exercises:
        assert removed.blocks + removed.cells >= len(exercises), f"{path.name}: exercises, but no marked answer"
        assert any(re.search(r"(?m)^#+[^\n]*\bExercises?\b", cell_text(c)) for c in copy["cells"]), "questions kept"
    kept_code = sum(c["cell_type"] == "code" for c in copy["cells"])
    assert kept_code >= sum(c["cell_type"] == "code" for c in nb["cells"]) - removed.cells


def test_the_clinic_copy_keeps_every_patient_and_no_solution():
    path = next(p for p in NOTEBOOKS if p.stem.endswith("clinic"))
    nb = json.loads(path.read_text(encoding="utf-8"))
    copy, _ = studentize(nb)
    text = "\n".join(cell_text(c) for c in copy["cells"])
    assert "solution(" not in text
    assert not re.search(r"(?m)^#+\s*Solutions?\b", text)
    for patient in re.findall(r'(?m)^## Patient (\w)\b', "\n".join(cell_text(c) for c in nb["cells"])):
        assert f"## Patient {patient}" in text
        assert f'check_answer("{patient}"' in text, f"patient {patient}'s exercise cell is gone"


def test_make_student_writes_every_copy(tmp_path):
    assert main(["--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    import nbformat

    for p in tmp_path.glob("*.ipynb"):
        nbformat.validate(nbformat.read(p, as_version=4))


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["06_clinic"])
def test_a_student_copy_runs_headless(stem, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    path = ROOT / "notebooks" / f"{stem}.ipynb"
    if not path.exists():
        pytest.skip(f"{path.name} is not in this checkout")
    main(["--out", str(tmp_path), str(path)])
    nb = nbformat.read(tmp_path / path.name, as_version=4)
    # The kernel imports this checkout's helpers, wherever the shared environment's editable install points.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
