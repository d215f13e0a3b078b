"""Is this environment ready for the notebooks? ``python -m helpers.check`` (or ``make check``).

Prints the interpreter, TensorFlow/Keras, PyTorch (and whether it is the CPU build), ipywidgets and the
front end's widget support, and the cores, then one line per problem with what to do. Exit 1 when something
would stop a notebook, 0 otherwise (notes, such as versions that differ from the lock, do not fail it).
``--quick`` reads versions from the installed packages' metadata without importing the frameworks (TensorFlow
takes ~9 s to import); by default each framework is imported once, which is what catches a broken install.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import sys
from importlib import metadata
from pathlib import Path

from helpers.paths import STUDENT_LOCK

SUPPORTED = ((3, 11), (3, 12), (3, 13))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the check prints its own lines, not TensorFlow's start-up log
GET_PYTHON = ("Get Python 3.11-3.13: Ubuntu 24.04 ships 3.12; macOS: brew install python@3.13; Windows/macOS: "
              "the python.org installer; any system: uv python install 3.13, pyenv install 3.13, or conda "
              "(conda env create -f environment.yml). Then make a new .venv with it.")


def version(dist: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def lock_pins(path: Path) -> dict[str, str]:
    """``name -> version`` for the lines of a lock that apply to this interpreter (markers evaluated)."""
    pins: dict[str, str] = {}
    if not path.exists():
        return pins
    try:
        from packaging.markers import Marker
    except ImportError:  # no packaging: compare only unconditional pins
        Marker = None
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.+))?$", line.strip())
        if not m:
            continue
        name, pinned, marker = m.groups()
        if marker:
            if Marker is None or not Marker(marker).evaluate():
                continue
        pins[name.lower().replace("_", "-")] = pinned
    return pins


def torch_build(quick: bool) -> tuple[str, str | None]:
    """(``cpu``/``cuda``/``unknown``, an import error or None)."""
    v = version("torch") or ""
    requires = " ".join(metadata.requires("torch") or []) if v else ""
    kind = "cpu" if "+cpu" in v else "cuda" if ("nvidia" in requires or "+cu" in v) else "unknown"
    if quick:
        return kind, None
    try:
        import torch

        kind = "cuda" if torch.version.cuda else "cpu"
    except Exception as err:  # a broken wheel: report it, do not crash the check
        return kind, f"{type(err).__name__}: {err}"
    return kind, None


def try_import(module: str) -> str | None:
    try:
        importlib.import_module(module)
    except Exception as err:
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return None


def in_colab() -> bool:
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def report(quick: bool = False) -> tuple[list[str], list[str], list[str]]:
    """(lines to print, problems, notes)."""
    lines, problems, notes = [], [], []
    vi = sys.version_info
    ok_py = (vi.major, vi.minor) in SUPPORTED
    flag = "" if ok_py else "  <- unsupported"
    lines.append(f"Python        {platform.python_version()} ({sys.executable}){flag}")
    if not ok_py:
        problems.append(f"Python {vi.major}.{vi.minor} is not supported (3.11, 3.12 or 3.13). {GET_PYTHON}")

    tf, keras = version("tensorflow") or version("tensorflow-cpu"), version("keras")
    lines.append(f"TensorFlow    {tf or 'missing'}   Keras {keras or 'missing'}")
    if not tf or not keras:
        problems.append("TensorFlow/Keras missing: notebooks 01, 02, 04, 05 and 06 need them; "
                        "install requirements-student.lock (make lab).")
    elif keras.split(".")[0] != "3":
        problems.append(f"Keras {keras}: the notebooks are written for Keras 3.")
    elif not quick:
        err = try_import("keras")
        if err:
            problems.append(f"importing Keras fails ({err}); reinstall requirements-student.lock in a fresh .venv.")

    tv = version("torch")
    kind, terr = torch_build(quick) if tv else ("missing", None)
    lines.append(f"PyTorch       {tv or 'missing'}" + (f" ({kind} build)" if tv else ""))
    if not tv:
        problems.append("PyTorch missing: notebooks 00 and 03 need it; install requirements-student.lock.")
    elif terr:
        problems.append(f"importing torch fails ({terr}).")
    elif kind == "cuda" and sys.platform == "linux":
        notes.append("torch is the CUDA build: with its nvidia-* and triton wheels about 3.8 GB more than the CPU "
                     "build, which runs the notebooks the same. To switch: pip install torch==<version> "
                     "--index-url https://download.pytorch.org/whl/cpu (README, 'Install').")

    ipw, jlw, wne = version("ipywidgets"), version("jupyterlab-widgets"), version("widgetsnbextension")
    jl, nb = version("jupyterlab"), version("notebook")
    lines.append(f"ipywidgets    {ipw or 'missing'}   jupyterlab_widgets {jlw or '-'}   "
                 f"widgetsnbextension {wne or '-'}")
    lines.append(f"front ends    JupyterLab {jl or '-'}   Notebook {nb or '-'}" + ("   (Colab)" if in_colab() else ""))
    if not ipw:
        problems.append("ipywidgets missing: the panels need it (pip install ipywidgets).")
    elif jl and not in_colab():
        major = int(ipw.split(".")[0])
        if major >= 8 and (not jlw or int(jlw.split(".")[0]) < 3):
            problems.append(f"ipywidgets {ipw} with jupyterlab_widgets {jlw}: JupyterLab will show the panels as "
                            "text. Install jupyterlab_widgets>=3 (it comes with ipywidgets 8).")
        if major == 7 and jl.split(".")[0] == "4":
            notes.append(f"ipywidgets {ipw} under JupyterLab {jl}: the panels need ipywidgets 8 there; "
                         "each panel's saved picture still shows.")

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines.append(f"cores         {cores}   machine {platform.machine()} {platform.system()}")
    if cores and cores < 2:
        notes.append("1 core: the live cells take about twice their stated time.")

    try:
        import helpers

        where = Path(helpers.__file__).resolve().parent.parent
        lines.append(f"gap-clinic    {version('gap-clinic') or 'not installed (on PYTHONPATH)'} at {where}")
    except Exception as err:
        problems.append(f"the helpers package does not import ({err}): pip install --no-deps -e . in the repository.")

    pins = lock_pins(STUDENT_LOCK)
    differ = [f"{n} {version(n)} (lock {v})" for n, v in sorted(pins.items())
              if n in {"tensorflow", "keras", "torch", "numpy", "ipywidgets", "matplotlib", "scikit-learn"}
              and version(n) and version(n).split("+")[0] != v]
    if differ:
        notes.append("versions differ from requirements-student.lock: " + ", ".join(differ)
                     + ". The committed reference runs were trained with the lock's versions; the notebooks' "
                     "claims are bands over seeds, but a live run may differ a little.")
    return lines, problems, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.check", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="read versions only; do not import the frameworks")
    args = parser.parse_args(argv)
    lines, problems, notes = report(quick=args.quick)
    print("\n".join(lines))
    for note in notes:
        print(f"note: {note}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("ready: every notebook can run here." if not problems else f"{len(problems)} problem(s): see above.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
