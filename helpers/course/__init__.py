"""The suite as a course: a static site from the committed notebooks (`python -m helpers.course.site`)
and student copies without answers (`python -m helpers.course.student`). Neither executes a notebook."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from helpers.paths import NOTEBOOKS


def notebook_paths(notebook_dir: Path = NOTEBOOKS) -> list[Path]:
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


def executed_seconds(nb: dict) -> float | None:
    """Seconds from the first code cell's start to the last one's end in the notebook's last execution, read
    from the execution timestamps Jupyter saves in each cell's metadata (kernel start not included). None when
    the notebook was not executed with them or its cells come from different runs (a cell re-run by hand)."""
    from datetime import datetime

    stamps = [c.get("metadata", {}).get("execution", {}) for c in nb.get("cells", []) if c["cell_type"] == "code"]
    if not stamps or not all("iopub.status.idle" in s for s in stamps):
        return None
    start = datetime.fromisoformat(stamps[0].get("iopub.execute_input", stamps[0].get("iopub.status.busy", ""))
                                   .replace("Z", "+00:00"))
    ends = [datetime.fromisoformat(s["iopub.status.idle"].replace("Z", "+00:00")) for s in stamps]
    if any(b < a for a, b in itertools.pairwise(ends)) or (ends[-1] - start).total_seconds() > 3600:
        return None
    return (ends[-1] - start).total_seconds()
