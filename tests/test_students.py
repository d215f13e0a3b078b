"""Where students are: Python 3.11-3.13, Colab, a licence, pictures that survive without a kernel.

Nothing here downloads: the Makefile's interpreter checks run against fake interpreters, the Colab cell's
clone is of a local repository and its pip call is recorded, not run.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections import namedtuple
from pathlib import Path

import pytest

from helpers import check, colab_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def pins(path: Path) -> dict[tuple[str, str], str]:
    """``(name, marker) -> version`` of a lock."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.+))?$", line.strip())
        if m:
            out[(m.group(1).lower(), m.group(3) or "")] = m.group(2)
    return out


# --- Python 3.11-3.13: one lock, split into the student's and the developer's ---------------------------------

def test_requires_python_matches_what_the_locks_were_resolved_for():
    assert PYPROJECT["project"]["requires-python"] == ">=3.11,<3.14"
    for lock in ("requirements.lock", "requirements-student.lock"):
        header = (ROOT / lock).read_text().splitlines()[1]
        assert "--universal" in header and "--python-version 3.11" in header, (lock, header)
    assert "- python>=3.11,<3.14" in (ROOT / "environment.yml").read_text()


def test_student_lock_is_the_dev_lock_without_the_dev_tools():
    dev, student = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-student.lock")
    assert student and set(student) < set(dev)
    assert all(dev[key] == version for key, version in student.items()), "the two locks disagree on a version"
    names = {name for name, _ in student}
    assert not names & {"pytest", "nbval", "playwright", "ruff", "pytest-socket", "pytest-timeout", "coverage"}
    assert {"tensorflow", "keras", "torch", "ipywidgets", "jupyterlab", "numpy"} <= names
    # torch's CUDA runtime is left to torch's own metadata (README: the CPU build on Linux)
    assert not any(name.startswith(("nvidia-", "triton", "cuda-")) for name, _ in dev)


FAKE_PYTHON = """#!/bin/sh
case "$1" in
  -c) echo {version};;
  -m) echo "fake interpreter asked to run: $*" >&2; exit 3;;
esac
"""


def fake_python(where: Path, version: str) -> Path:
    path = where / f"python{version}"
    path.write_text(FAKE_PYTHON.format(version=version))
    path.chmod(0o755)
    return path


@pytest.fixture
def project(tmp_path):
    """The Makefile and what its install rule reads, in a folder of its own; pip pointed nowhere."""
    for name in ("Makefile", "requirements.lock", "requirements-student.lock", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/nothing", "PIP_NO_INDEX": "1",
           "MAKEFLAGS": "", "MAKELEVEL": ""}
    return tmp_path, env


def make(project_dir: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(["make", "-s", *args], cwd=project_dir, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("version", ["3.10", "3.14", None])
def test_make_refuses_an_unsupported_python_before_downloading(project, version):
    folder, env = project
    python = fake_python(folder, version) if version else folder / "no-such-python"
    out = make(folder, env, "install", f"PYTHON={python}")
    assert out.returncode != 0
    message = out.stderr
    assert "needs Python 3.11, 3.12 or 3.13" in message and "Nothing was downloaded" in message, message
    assert (f"is Python {version}" if version else "was not found") in message
    assert "uv python install 3.13" in message and "PYTHON=" in message  # how to get one, and how to use it
    assert "fake interpreter" not in message  # it never got as far as making a venv
    assert not (folder / ".venv").exists()


def test_make_rebuilds_a_venv_made_by_another_python(project):
    folder, env = project
    venv = folder / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("version = 3.10.13\n")
    shutil.copy(fake_python(folder, "3.10"), venv / "bin" / "python")
    (venv / ".installed").touch()  # a stamp newer than the lock must not save it
    new = fake_python(folder, "3.12")
    out = make(folder, env, "install", f"PYTHON={new}")
    assert ".venv was made by Python 3.10; removing it to rebuild it with" in out.stdout, out.stdout + out.stderr
    assert not (venv / ".installed").exists()
    # the rebuild then starts with the new interpreter (the fake one stops it there: nothing is downloaded)
    assert "fake interpreter asked to run: -m venv .venv" in out.stderr


def test_make_keeps_a_venv_of_a_supported_python_and_never_deletes_a_linked_one(project, tmp_path_factory):
    folder, env = project
    venv = folder / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("version = 3.12.1\n")
    shutil.copy(fake_python(folder, "3.12"), venv / "bin" / "python")
    assert make(folder, env, "python-check").returncode == 0 and venv.exists()

    elsewhere = tmp_path_factory.mktemp("shared") / "venv"
    shutil.move(venv, elsewhere)
    (elsewhere / "pyvenv.cfg").write_text("version = 3.10.13\n")
    shutil.copy(fake_python(folder, "3.10"), elsewhere / "bin" / "python")
    venv.symlink_to(elsewhere)
    out = make(folder, env, "python-check")
    assert out.returncode != 0 and "(a link) was made by Python 3.10" in out.stderr
    assert elsewhere.exists() and venv.is_symlink()


# --- python -m helpers.check ---------------------------------------------------------------------------------

def test_check_reports_each_part_and_says_ready_here(capsys):
    assert check.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for label in ("Python ", "TensorFlow ", "PyTorch ", "ipywidgets ", "front ends ", "cores "):
        assert label in out
    assert re.search(r"PyTorch\s+\S+ \((cpu|cuda|unknown) build\)", out)
    assert "ready: every notebook can run here." in out


def test_check_names_an_unsupported_python_and_how_to_get_another(monkeypatch):
    info = namedtuple("version_info", "major minor micro releaselevel serial")
    monkeypatch.setattr(sys, "version_info", info(3, 10, 13, "final", 0))
    _, problems, _ = check.report(quick=True)
    assert any("Python 3.10 is not supported" in p and "uv python install" in p for p in problems)


def test_check_says_when_a_framework_is_missing(monkeypatch):
    real = check.version
    monkeypatch.setattr(check, "version", lambda dist: None if dist == "torch" else real(dist))
    _, problems, _ = check.report(quick=True)
    assert any(p.startswith("PyTorch missing") for p in problems)
    assert check.main(["--quick"]) == 1


# --- Colab: the setup cell and the badges --------------------------------------------------------------------

def test_every_notebook_has_the_current_colab_cell_and_badge():
    repo, branch = colab_cells.settings()
    setup = colab_cells.setup_source(repo, branch)
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        tagged = [c for c in nb["cells"] if colab_cells.TAG in c["metadata"].get("tags", [])]
        first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
        assert len(tagged) == 1 and tagged[0] is first_code, f"{path.name}: run make colab-cells"
        assert "".join(first_code["source"]) == setup and not first_code["outputs"], path.name
        first_md = "".join(next(c for c in nb["cells"] if c["cell_type"] == "markdown")["source"])
        assert first_md.startswith(colab_cells.badge(repo, branch, path.name)), path.name


def test_colab_cells_is_idempotent_and_keeps_everything_else():
    nb = json.loads(NOTEBOOKS[0].read_text())
    once = colab_cells.update(nb, "x.ipynb", "https://github.com/someone/fork", "dev")
    assert colab_cells.update(once, "x.ipynb", "https://github.com/someone/fork", "dev") == once
    others = lambda n: [c for c in n["cells"] if colab_cells.TAG not in c["metadata"].get("tags", [])]  # noqa: E731
    assert [c["source"] for c in others(once)][1:] == [c["source"] for c in others(nb)][1:]
    setup = next(c for c in once["cells"] if colab_cells.TAG in c["metadata"].get("tags", []))
    assert '"https://github.com/someone/fork"' in "".join(setup["source"])
    assert "/someone/fork/blob/dev/notebooks/x.ipynb" in "".join(once["cells"][0]["source"])
    with pytest.raises(ValueError, match=r"github\.com/OWNER/NAME"):
        colab_cells.badge("https://gitlab.com/a/b", "main", "x.ipynb")


def test_colab_cell_does_nothing_outside_colab(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    path_before = list(sys.path)
    exec(colab_cells.setup_source("https://github.com/a/b", "main"), {})
    assert Path.cwd() == tmp_path and sys.path == path_before


def test_colab_cell_on_colab_clones_then_installs_with_no_deps(monkeypatch, tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    origin = tmp_path / "origin"
    (origin / "notebooks").mkdir(parents=True)
    (origin / "notebooks" / "00.ipynb").write_text("{}")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(origin)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)

    real_run, calls = subprocess.run, []

    class Recorder:  # git runs for real (a local clone); pip is recorded, so nothing is installed here
        def run(self, args, **kwargs):
            calls.append(args)
            return real_run(args, **kwargs) if args[0] == "git" else subprocess.CompletedProcess(args, 0)

    home = tmp_path / "content" / "gap-clinic"
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    monkeypatch.setitem(sys.modules, "subprocess", Recorder())
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    source = colab_cells.setup_source(f"file://{origin}", "main", home=str(home))
    exec(source, {})
    assert (home / "notebooks" / "00.ipynb").exists()
    assert calls[1][1:] == ["-m", "pip", "install", "-q", "--no-deps", "-e", str(home)]
    assert sys.path[0] == str(home) and Path.cwd() == home / "notebooks"
    exec(source, {})  # run again (Colab's "Run all" twice): no second clone or install
    assert len(calls) == 2


# --- Pictures that survive without a kernel ------------------------------------------------------------------

def _panel_cells(nb: dict) -> list[tuple[int, dict]]:
    """Code cells that show a FixPanel: they build one, or their saved output is a widget view."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        views = any("application/vnd.jupyter.widget-view+json" in out.get("data", {}) for out in cell["outputs"])
        if views or "FixPanel" in "".join(cell["source"]):
            found.append((i, cell))
    return found


def test_every_panel_cell_of_every_committed_notebook_keeps_a_picture():
    missing, panels = [], 0
    for path in NOTEBOOKS:
        for i, cell in _panel_cells(json.loads(path.read_text())):
            panels += 1
            pngs = [out["data"]["image/png"] for out in cell["outputs"] if "image/png" in out.get("data", {})]
            if not pngs or not base64.b64decode("".join(pngs[0]))[:4] == b"\x89PNG":
                missing.append(f"{path.name} cell {i}")
    assert panels >= 6, "every case notebook and notebook 00 show a panel"
    assert not missing, ("panel cells whose saved output has no picture (a reader without a kernel sees "
                         f"'VBox(...)'); re-execute them: {missing}")


def test_a_panel_displays_as_a_widget_and_a_png(tmp_cache):
    import ipywidgets
    import toy

    from helpers.curves import plot_curves
    from helpers.widgets import FixPanel, Toggle

    panel = FixPanel([Toggle("bug", "bug", False)], lambda **v: toy.ToyConfig(**v),
                     lambda fig, h, c: plot_curves(h, fig.subplots(), "loss", splits=("val",)), title="t")
    bundle = panel._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"])[:4] == b"\x89PNG"
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == panel.box.model_id, ipywidgets.__version__
    panel.controls["bug"].value = True  # the widget still answers a click under this ipywidgets
    assert base64.b64decode(panel._repr_mimebundle_()["image/png"]) == bytes(panel.image.value)
    assert panel.image.value != base64.b64decode(bundle["image/png"])


# --- Licence and attribution ---------------------------------------------------------------------------------

POSTS = {  # site host, post id -> the CC BY-SA version its date gives (3.0 before 2 May 2018)
    ("stats.stackexchange.com", 565961): "4.0",
    ("stats.stackexchange.com", 335890): "3.0",
    ("datascience.stackexchange.com", 51961): "4.0",
    ("stats.stackexchange.com", 444546): "4.0",
    ("datascience.stackexchange.com", 95054): "4.0",
}


def test_licences_exist_and_pyproject_names_them():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "CC BY-SA 4.0" in (ROOT / "LICENSE-CONTENT.md").read_text()
    assert PYPROJECT["project"]["license"] == "MIT"
    assert set(PYPROJECT["project"]["license-files"]) == {"LICENSE", "LICENSE-CONTENT.md"}


@pytest.mark.parametrize("doc", ["README.md", "LICENSE-CONTENT.md"])
def test_each_post_is_attributed_with_its_link_and_licence(doc):
    text = (ROOT / doc).read_text()
    for (host, post), licence in POSTS.items():
        rows = [line for line in text.splitlines() if f"https://{host}/q/{post}" in line]
        assert rows, f"{doc}: no attribution of {host}/q/{post}"
        assert any(f"CC BY-SA {licence}" in row for row in rows), f"{doc}: {post} is CC BY-SA {licence}"
    assert "by its asker" in text or "its asker" in text
