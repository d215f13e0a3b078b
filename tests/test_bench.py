"""make bench's readers: the matrix rows come from the cells' JUnit XML, and a skip is not counted as a pass."""

from __future__ import annotations

from helpers import bench

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="GAP_CLINIC_THREADS=2" time="12.4">
<testcase classname="t" name="a[here]" time="1"/>
<testcase classname="t" name="b[here]" time="1"><skipped message="nothing measured"/></testcase>
<testcase classname="t" name="c[here]" time="1"><failure message="outside its band"/></testcase>
</testsuite></testsuites>"""


def test_a_matrix_row_counts_passes_skips_and_failures_apart(tmp_path):
    junit = tmp_path / "cell.xml"
    junit.write_text(JUNIT)
    section = bench.matrix_section([junit])
    assert "| `GAP_CLINIC_THREADS=2` | 1 of 3 | 1 | 1 | 12 |" in section
    assert "- `GAP_CLINIC_THREADS=2`: `c[here]`" in section


def test_a_row_from_before_the_skipped_column_says_its_skips_are_unknown():
    assert bench._with_skipped_column("| `X=1` | 27 of 27 | 0 | 2600 |") == "| `X=1` | 27 of 27 | ? | 0 | 2600 |"
    row = "| `X=1` | 26 of 27 | 1 | 0 | 980 |"
    assert bench._with_skipped_column(row) == row
