"""``make bench``: measure the suite against the performance budget and write BENCHMARKS.md.

Measures, on this machine: every notebook headless with a cold and a warm cache
(wall time, peak RSS of the kernel, time to the first plot), the whole suite
cold and warm, FixPanel redraw latency for cached runs and the time to an
uncached run's result, and ``import helpers``. Uses only ``time.perf_counter``
and ``resource.getrusage``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from helpers.paths import CODE_ROOT

# The suite's performance budget (this 2-core machine, no GPU): what a class on laptops can wait for.
BUDGET = {"notebook_cold_s": 90, "notebook_warm_s": 15, "redraw_s": 0.1, "uncached_s": 20, "kernel_mb": 1536,
          "long_log_s": 1.0}
# Runs one notebook in a child process and reports the largest resident set among its
# descendants (the kernel): RUSAGE_CHILDREN counts waited-for grandchildren too.
RUNNER = """
import json, resource, sys, time
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], 4)
start = time.perf_counter()
NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
wall = time.perf_counter() - start
first_plot = None
for cell in nb.cells:
    if any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
        t = cell.metadata.get("execution", {}).get("shell.execute_reply")
        first_plot = t
        break
t0 = nb.cells[0].metadata.get("execution", {}).get("iopub.execute_input") or next(
    c.metadata["execution"]["iopub.execute_input"] for c in nb.cells if c.cell_type == "code")
print(json.dumps({"wall": wall, "first_plot_iso": first_plot, "start_iso": t0,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def run_notebook(path: Path, cache: Path) -> dict:
    env = {**os.environ, "GAP_CLINIC_CACHE": str(cache), "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, "-c", RUNNER, str(path), str(path.parent)], env=env,
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    first = None
    if result["first_plot_iso"] and result["start_iso"]:
        parse = dt.datetime.fromisoformat
        first = (parse(result["first_plot_iso"].replace("Z", "+00:00"))
                 - parse(result["start_iso"].replace("Z", "+00:00"))).total_seconds()
    return {"wall_s": result["wall"], "first_plot_s": first, "kernel_mb": result["maxrss_kb"] / 1024}


def import_time() -> float:
    """Seconds for ``import helpers`` in a fresh interpreter, minus a bare interpreter's start."""
    def timed(code: str) -> float:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            best = min(best, time.perf_counter() - start)
        return best

    return timed("import helpers") - timed("pass")


def panel_latency(cache: Path) -> list[dict]:
    """Cached redraws (≥ 20 changes) and one uncached run per FixPanel."""
    code = r"""
import json, statistics, sys, time
from helpers.widgets import FixPanel
from helpers.cases import CASES, load_case
rows = []
for name in CASES:
    mod = load_case(name)
    demo = mod.PANEL_DEMO
    view, (knob, values), uncached = demo["view"], demo["toggle"], demo["uncached"]
    panel = FixPanel(mod.knobs(), mod.make_config, mod.draw_panel, view=view)
    for v in values:  # make sure every state's run is cached
        panel.set(**{knob: v})
    times = []
    for i in range(24):
        panel.set(**{knob: values[i % len(values)]})
        assert panel.last_was_cached
        times.append(panel.last_redraw_seconds)
    first_render = []
    panel2 = FixPanel(mod.knobs(), mod.make_config, mod.draw_panel, view=view)
    initial = panel2.values()[knob]
    for v in [v for v in values if v != initial]:
        panel2.set(**{knob: v})
        first_render.append(panel2.last_redraw_seconds)
    start = time.perf_counter()
    panel.set(**{uncached[0]: uncached[1]})
    rows.append({"panel": name, "median": statistics.median(times), "max": max(times),
                 "first_render_max": max(first_render), "uncached_s": time.perf_counter() - start,
                 "uncached_was_cached": panel.last_was_cached})
print(json.dumps(rows))
"""
    env = {**os.environ, "GAP_CLINIC_CACHE": str(cache), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def long_log_seconds(n: int = 100_000) -> float:
    """Seconds (best of three) for the doctor to read and diagnose an n-epoch CSVLogger log."""
    from helpers.doctor import diagnose_history, read_log

    with tempfile.TemporaryDirectory(prefix="gap-bench-") as tmp:
        path = Path(tmp) / "long.csv"
        rows = ["epoch,loss,accuracy,val_loss,val_accuracy"]
        rows += [f"{i},{1 / (1 + i / 100):.6f},{1 - 0.5 / (1 + i / 100):.6f},{1.1 / (1 + i / 150):.6f},0.7"
                 for i in range(n)]
        path.write_text("\n".join(rows))
        seconds = []
        for _ in range(3):  # the best of three: other processes on a shared machine only ever add time
            start = time.perf_counter()
            diagnose_history(read_log(path))
            seconds.append(time.perf_counter() - start)
    return min(seconds)


def versions() -> str:
    names = ("tensorflow", "keras", "torch", "jupyterlab", "ipywidgets", "matplotlib", "numpy")
    return ", ".join(f"{n} {metadata.version(n)}" for n in names)


def mark(value: float, limit: float) -> str:
    return "ok" if value <= limit else f"**over by {value - limit:.2f}**"


MATRIX_TITLE = "## Numerics matrix (make test-matrix)"


def matrix_section(junits: list[Path]) -> list[str]:
    """One row per numerics cell, from the JUnit XML pytest wrote for it (the cell's settings are its suite name):
    every test marked `here` retrained from an empty cache under those settings, each claim held to its band."""
    import xml.etree.ElementTree as ET

    lines = [MATRIX_TITLE, "",
             f"Run on {dt.date.today().isoformat()} ({platform.node()}, {os.cpu_count()} cores): the tests marked "
             "`here` (each case's RETRAIN runs, seed 0, retrained from an empty cache, every claim they measure held "
             "to its band), once per cell.", "",
             "| cell | passed | skipped | failed or errors | seconds |", "|---|---|---|---|---|"]
    failures = []
    for junit in junits:
        suite = ET.parse(junit).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        cases = suite.findall("testcase")
        failed = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
        skipped = [c for c in cases if c.find("skipped") is not None]  # a skip asserted nothing: not a pass
        cell = suite.get("name") or junit.stem
        lines.append(f"| `{cell}` | {len(cases) - len(failed) - len(skipped)} of {len(cases)} | {len(skipped)} | "
                     f"{len(failed)} | {float(suite.get('time', 0)):.0f} |")
        failures += [f"- `{cell}`: `{name}`" for name in failed]
    return [*lines, "", *(["Failed:", *failures, ""] if failures else [])]


CI_TITLE = "## make test from a clean clone (.ci/run)"


def ci_section(log: Path, commit: str) -> list[str]:
    """What `.ci/run` printed on a clean clone of ``commit``: install time, each leg's pytest summary and time."""
    import re

    text = log.read_text(errors="replace")
    install = re.search(r"^ci: install done after (\d+) s", text, flags=re.M)
    done = re.search(r"^ci: done after (\d+) s", text, flags=re.M)
    legs, summary = [], "no pytest summary"
    for line in text.splitlines():  # each leg's line comes after its own pytest summary (passed, failed or both)
        if found := re.match(r"^=+ (\d+ (?:passed|failed|errors?)\b.*?) in ([\d.]+)s", line):
            summary = f"{found.group(1)} in {float(found.group(2)):.0f} s"
        elif found := re.match(r"^ci: (make test \(Python [\d.]+\)|Python 3\.13 leg) exited (\d+) after (\d+) s", line):
            legs.append(f"- {found.group(1)}: exit {found.group(2)} after {found.group(3)} s; pytest: {summary}")
            summary = "no pytest summary"
    if not legs or not done:
        raise ValueError(f"{log} is not a finished .ci/run log (no 'ci: ... exited' and 'ci: done' lines).")
    written = dt.date.fromtimestamp(log.stat().st_mtime).isoformat()
    lines = [CI_TITLE, "", f"A clean clone of {commit}, {written} ({platform.node()}, "
             f"{os.cpu_count()} cores): install {install.group(1) if install else '?'} s, whole run "
             f"**{done.group(1)} s** (CI's limit: 5 400 s).", "", *legs]
    return [*lines, ""]


def _section_in_file(title: str) -> str | None:
    """The text of BENCHMARKS.md's section under ``title`` (without it), or None when there is none."""
    path = CODE_ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else ""
    return text.split(title, 1)[1].split("\n## ", 1)[0] if title in text else None


def _with_skipped_column(row: str) -> str:
    """A row written before the "skipped" column had four cells: its skips are unknown ("?")."""
    cells = row.strip().strip("|").split("|")
    if len(cells) == 4:
        cells.insert(2, " ? ")
    return "|" + "|".join(cells) + "|"


def _merge_matrix_rows(section: list[str]) -> list[str]:
    """``section`` with the rows of cells it does not rerun kept from BENCHMARKS.md (make test-robust reruns one
    cell; the others' results stay)."""
    old = _section_in_file(MATRIX_TITLE)
    if old is None:
        return section
    old_rows = [r for r in old.splitlines() if r.startswith("| `")]
    new_cells = {r.split("`")[1] for r in section if r.startswith("| `")}
    kept = [r for r in old_rows if r.split("`")[1] not in new_cells]
    kept = [_with_skipped_column(r) for r in kept]
    at = max(i for i, r in enumerate(section) if r.startswith("|")) + 1
    return [*section[:at], *kept, *section[at:]]


def _replace_section(title: str, section: list[str]) -> None:
    """Write ``section`` into BENCHMARKS.md in place of the one under ``title`` (appended if there is none)."""
    path = CODE_ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    before, _, after = text.partition(title)
    rest = after.split("\n## ", 1)[1] if "\n## " in after else ""
    path.write_text(before.rstrip("\n") + "\n\n" + "\n".join(section) + (("\n## " + rest) if rest else ""))


def kept_sections() -> list[str]:
    """The matrix and clean-clone sections already in BENCHMARKS.md (make bench does not rerun them)."""
    kept = []
    for title in (MATRIX_TITLE, CI_TITLE):
        if (section := _section_in_file(title)) is not None:
            kept += [title, *section.strip("\n").splitlines(), ""]
    return kept


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "--matrix":  # make test-matrix / test-robust: only their section
        _replace_section(MATRIX_TITLE, _merge_matrix_rows(matrix_section([Path(a) for a in sys.argv[2:]])))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--ci":  # python -m helpers.bench --ci LOG COMMIT
        _replace_section(CI_TITLE, ci_section(Path(sys.argv[2]), sys.argv[3]))
        return 0
    notebooks = sorted((CODE_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    with tempfile.TemporaryDirectory(prefix="gap-bench-") as tmp:
        cache = Path(tmp) / "cache"
        work = Path(tmp) / "nb"
        work.mkdir()
        copies = []
        for nb in notebooks:  # run copies: the committed notebooks stay as they are
            target = work / nb.name
            target.write_bytes(nb.read_bytes())
            copies.append(target)
        cold = {nb.name: run_notebook(nb, cache) for nb in copies}
        warm = {nb.name: run_notebook(nb, cache) for nb in copies}
        panels = panel_latency(cache)
    imp = import_time()
    long_log = long_log_seconds()
    suite_cold = sum(r["wall_s"] for r in cold.values())
    suite_warm = sum(r["wall_s"] for r in warm.values())
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {dt.date.today().isoformat()}: {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {versions()}. Budget: `BUDGET` in helpers/bench.py.",
        "",
        "## Notebooks (headless, nbclient)",
        "",
        "| notebook | cold (s) | warm (s) | first plot, warm (s) | kernel peak RSS (MB) | cold ≤ 90 s | warm ≤ 15 s "
        "| RSS ≤ 1.5 GB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in cold:
        c, w = cold[name], warm[name]
        rss = max(c["kernel_mb"], w["kernel_mb"])
        first = f"{w['first_plot_s']:.1f}" if w["first_plot_s"] is not None else "—"
        lines.append(f"| {name} | {c['wall_s']:.1f} | {w['wall_s']:.1f} | {first} | {rss:.0f} | "
                     f"{mark(c['wall_s'], BUDGET['notebook_cold_s'])} | {mark(w['wall_s'], BUDGET['notebook_warm_s'])} "
                     f"| {mark(rss, BUDGET['kernel_mb'])} |")
    lines += [
        "",
        "\"Cold\" is an empty run cache; committed reference results (data/reference) are read, never trained, "
        "as in a classroom.",
        "",
        f"Whole suite: **cold {suite_cold:.0f} s**, **warm {suite_warm:.0f} s**.",
        "",
        "## FixPanel",
        "",
        "| panel | cached redraw median (s) | max over 24 changes (s) | first render of a cached run (s) | "
        "uncached run to result (s) |",
        "|---|---|---|---|---|",  # budget: cached ≤ 0.1 s, uncached ≤ 20 s
    ]
    for p in panels:
        lines.append(f"| {p['panel']} | {p['median']:.3f} ({mark(p['median'], BUDGET['redraw_s'])}) | {p['max']:.3f} | "
                     f"{p['first_render_max']:.2f} | "
                     f"{p['uncached_s']:.1f} ({mark(p['uncached_s'], BUDGET['uncached_s'])}) |")
    lines += [
        "",
        "A state seen before is served from the panel's PNG memo; the first render of a cached run draws the "
        "figure with matplotlib (its text and ticks dominate).",
        "",
        f"`import helpers`: {imp * 1000:.0f} ms (imports neither TensorFlow nor PyTorch).",
        "",
        f"The doctor on a 100 000-epoch CSVLogger log: {long_log:.2f} s, read and diagnosed "
        f"({mark(long_log, BUDGET['long_log_s'])}).",
        "",
    ]
    from helpers.doctor.corpus import agreement_table  # the doctor on real public logs (data/doctor_corpus)

    lines += ["## Doctor", "", agreement_table(), ""]
    lines += kept_sections()
    (CODE_ROOT / "BENCHMARKS.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
