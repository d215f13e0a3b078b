"""Student copies of the notebooks: answers and solutions removed, not collapsed.

    python -m helpers.course.student [--out artifacts/student] [NOTEBOOK ...]

What counts as an answer (INSTRUCTORS.md, "Marking answers", tells notebook authors):
1. a cell tagged `solution` or `answer` (code or markdown): removed with its outputs;
2. a `<details>` block whose `<summary>` names an answer or solution ("Answer", "Answers",
   "An answer for patient A", "Solution"): cut out of its markdown cell; a cell left empty is removed.
   Other `<details>` (depth, "The detail (LSTM gates …)") stay;
3. the code cells right after an exercise cell that lost its answer block (questions kept, no heading after
   the block), up to the next markdown cell (the "the cell below computes it" cells of the exercises),
   unless tagged `student`;
4. a section headed "Solutions" or "Answers" (a markdown heading), whole: every cell from that heading
   to the next heading of the same or a higher level (the clinic's "## Solutions", its solution cell and
   the lessons after it, which name each patient's diagnosis).
Nothing is executed: the copies keep the committed outputs of the cells they keep.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from helpers.course import cell_text, notebook_paths
from helpers.paths import ARTIFACTS, NOTEBOOKS

ANSWER_TAGS = frozenset({"solution", "solutions", "answer", "answers"})
KEEP_TAG = "student"
OUT_DIR = ARTIFACTS / "student"

ANSWER_SUMMARY = re.compile(r"\b(answers?|solutions?)\b", re.IGNORECASE)
SOLUTION_HEADING = re.compile(r"^\s*(?:-{3,}\s*)?(#{1,6})\s*(solutions?|answers?)\b", re.IGNORECASE)
HEADING = re.compile(r"^(#{1,6})\s", re.MULTILINE)
DETAILS_TAG = re.compile(r"<(/?)details\b[^>]*>", re.IGNORECASE)
SUMMARY = re.compile(r"<summary\b[^>]*>(.*?)</summary>", re.IGNORECASE | re.DOTALL)


@dataclass
class Removed:
    """What one notebook lost: the text of every removed piece (the test checks none of it survives)."""

    cells: int = 0
    blocks: int = 0
    texts: list[str] = field(default_factory=list)


def details_blocks(text: str) -> list[tuple[int, int, str]]:
    """Top-level <details> blocks as (start, end, summary), nesting respected. An unclosed block runs to the end."""
    blocks, depth, start = [], 0, 0
    for m in DETAILS_TAG.finditer(text):
        if not m.group(1):
            if depth == 0:
                start = m.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                blocks.append((start, m.end(), text[start:m.end()]))
    if depth:
        blocks.append((start, len(text), text[start:]))
    out = []
    for s, e, block in blocks:
        summary = SUMMARY.search(block)
        out.append((s, e, summary.group(1) if summary else ""))
    return out


def strip_answers(markdown: str) -> tuple[str, list[str], str]:
    """The markdown with every answer <details> block cut out, the blocks cut, and the text after the last one."""
    cut, kept, last = [], [], 0
    for s, e, summary in details_blocks(markdown):
        if ANSWER_SUMMARY.search(re.sub(r"<[^>]+>", "", summary)):
            kept.append(markdown[last:s])
            cut.append(markdown[s:e])
            last = e
    kept.append(markdown[last:])
    text = re.sub(r"\n{3,}", "\n\n", "".join(kept)).rstrip() + ("\n" if cut else "")
    return (text if cut else markdown), cut, kept[-1]


def tags(cell: dict) -> set[str]:
    return {t.lower() for t in cell.get("metadata", {}).get("tags", [])}


def output_text(cell: dict) -> str:
    parts = []
    for o in cell.get("outputs", []):
        if "text" in o:
            parts.append(cell_text({"source": o["text"]}))
        for mime, value in o.get("data", {}).items():
            if mime.startswith("text/"):
                parts.append(cell_text({"source": value}))
    return "\n".join(parts)


def studentize(nb: dict) -> tuple[dict, Removed]:
    """A student copy of a notebook (nbformat 4 JSON as a dict) and what was removed from it."""
    nb = copy.deepcopy(nb)
    removed = Removed()
    cells = nb["cells"]
    drop = [False] * len(cells)
    after_answer = False  # rule 3: inside the code cells that follow an answer block
    for i, cell in enumerate(cells):
        if tags(cell) & ANSWER_TAGS:
            drop[i] = True
        elif cell["cell_type"] == "markdown":
            text, cut, tail = strip_answers(cell_text(cell))
            # Only a cell that keeps its questions (the exercise) leads answer code; an answer-only cell
            # comes after its exercise, and the code after it is the next one's. A heading after the answer
            # block opens a new section, whose code is not the answer's.
            after_answer = bool(cut) and bool(text.strip()) and not HEADING.search(tail)
            if cut:
                removed.blocks += len(cut)
                removed.texts.extend(cut)
                cell["source"] = text
                drop[i] = not text.strip()
            continue
        elif cell["cell_type"] == "code" and after_answer and KEEP_TAG not in tags(cell):
            drop[i] = True
        if cell["cell_type"] != "code":
            after_answer = False
    section = 0  # rule 4: the heading level of the Solutions section we are in (0: none)
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            text = cell_text(cell)
            heading = HEADING.search(text)
            if section and heading and len(heading.group(1)) <= section:
                section = 0
            m = SOLUTION_HEADING.match(text)
            if m:
                section = len(m.group(1))
        if section:
            drop[i] = True
    for i, cell in enumerate(cells):
        if drop[i]:
            removed.cells += 1
            removed.texts.append(cell_text(cell))
            removed.texts.append(output_text(cell))
    nb["cells"] = [c for c, d in zip(cells, drop, strict=True) if not d]
    nb.setdefault("metadata", {})["gap_clinic"] = {"student_copy": True}
    return nb, removed


def write_student_copies(out_dir: Path = OUT_DIR, paths: list[Path] | None = None) -> dict[str, Removed]:
    """Write a student copy of each notebook into out_dir; returns what each lost, by file name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {}
    for path in paths or notebook_paths(NOTEBOOKS):
        nb, removed = studentize(json.loads(path.read_text(encoding="utf-8")))
        (out_dir / path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        report[path.name] = removed
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.course.student", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder for the copies (default: %(default)s)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to copy (default: every notebook)")
    args = parser.parse_args(argv)
    report = write_student_copies(args.out, args.notebooks or None)
    for name, r in report.items():
        print(f"{name}: removed {r.blocks} answer block(s) and {r.cells} cell(s)")
    print(f"student copies in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
