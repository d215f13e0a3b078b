"""The suite as a course: a static site from the committed notebooks (`python -m helpers.course.site`)
and student copies without answers (`python -m helpers.course.student`). Neither executes a notebook."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"


def notebook_paths(notebook_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """The suite's notebooks in teaching order (their NN_ prefix)."""
    return sorted(notebook_dir.glob("[0-9][0-9]_*.ipynb"))


def cell_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


# The attribution line every case notebook's first cell carries (GUIDE: "Question from <Site> (https://…), by its
# asker; Stack Exchange content, licensed CC BY-SA …"), up to the end of its paragraph.
ATTRIBUTION = re.compile(r"Question from [^\n]*?licensed CC BY-SA[^\n]*(?:\n(?!\s*\n)[^\n]*)*", re.IGNORECASE)
# Older first cells name the post only as a link: **The post** ([Data Science SE 51961](https://…/q/51961)).
POST_LINK = re.compile(r"\[((?:Cross Validated|Data Science SE|Stack Overflow)[^\]]*)\]\((https?://[^)\s]+)\)")


def attribution(first_markdown: str) -> str | None:
    """The post's attribution from a notebook's first markdown cell (markdown text), or None for a notebook
    that quotes no post (00, 06)."""
    m = ATTRIBUTION.search(first_markdown)
    if m:
        return m.group(0).strip()
    m = POST_LINK.search(first_markdown)
    if m:
        return f"Question from [{m.group(1)}]({m.group(2)}), by its asker; Stack Exchange content, licensed CC BY-SA."
    return None
