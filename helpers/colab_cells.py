"""Give each notebook its Colab way in: ``python -m helpers.colab_cells notebooks/*.ipynb`` (``make colab-cells``).

Inserts, or brings up to date, two things and touches nothing else, so it can be re-run after any merge:

- an "Open in Colab" badge as the first line of the notebook's first markdown cell;
- one code cell tagged ``colab-setup``, just before the first other code cell. Outside Colab it does nothing.
  On Colab it clones the suite from the repository address in pyproject.toml and installs it with
  ``--no-deps``, so Colab's own TensorFlow, Keras, torch and ipywidgets stay (installing the lock there would
  replace Colab's kernel packages and bring a 2.7 GB CUDA torch).

The address is read from ``[project.urls] Repository`` and the branch from ``[tool.gap-clinic] colab-branch``;
a fork changes them there and re-runs this.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

from helpers.paths import PYPROJECT

TAG = "colab-setup"
BADGE_IMG = "https://colab.research.google.com/assets/colab-badge.svg"
CLONE_TO = "/content/gap-clinic"

SETUP = '''\
# @title Colab setup: does nothing outside Colab { display-mode: "form" }
# On Colab: fetch Gap Clinic and install it over Colab's own TensorFlow, Keras, torch and ipywidgets (--no-deps).
import os, subprocess, sys
if "google.colab" in sys.modules:
    REPO, HOME = "{repo}", "{home}"
    if not os.path.isdir(HOME):
        subprocess.run(["git", "clone", "-q", "--depth", "1", "-b", "{branch}", REPO, HOME], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", HOME], check=True)
    sys.path.insert(0, HOME)
    os.chdir(os.path.join(HOME, "notebooks"))'''


def settings(pyproject: Path = PYPROJECT) -> tuple[str, str]:
    """(repository address, branch) from pyproject.toml."""
    data = tomllib.loads(pyproject.read_text())
    repo = data["project"]["urls"]["Repository"].rstrip("/")
    branch = data.get("tool", {}).get("gap-clinic", {}).get("colab-branch", "main")
    return repo, branch


def setup_source(repo: str, branch: str, home: str = CLONE_TO) -> str:
    return SETUP.replace("{repo}", repo).replace("{branch}", branch).replace("{home}", home)


def badge(repo: str, branch: str, notebook: str) -> str:
    match = re.match(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?$", repo)
    if not match:
        raise ValueError(f"Repository {repo!r} is not a https://github.com/OWNER/NAME address; Colab opens "
                         "notebooks from GitHub only.")
    owner, name = match.groups()
    url = f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/notebooks/{notebook}"
    return f"[![Open in Colab]({BADGE_IMG})]({url})"


def _lines(text: str) -> list[str]:
    """nbformat's list-of-lines form of a cell source."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def update(nb: dict, name: str, repo: str, branch: str) -> dict:
    """The notebook with its badge and setup cell current (a new dict; the input is not changed)."""
    nb = json.loads(json.dumps(nb))
    cells = nb["cells"]
    old = [c for c in cells if TAG in c.get("metadata", {}).get("tags", [])]
    cells[:] = [c for c in cells if c not in old]
    cell = old[0] if old else {"cell_type": "code", "execution_count": None, "id": f"{TAG}", "metadata": {},
                               "outputs": []}
    cell["source"] = _lines(setup_source(repo, branch))
    meta = cell.setdefault("metadata", {})
    meta["tags"] = sorted(set(meta.get("tags", [])) | {TAG})
    meta["jupyter"] = {**meta.get("jupyter", {}), "source_hidden": True}  # JupyterLab: collapsed, as Colab's form
    cell["outputs"] = []  # it prints nothing outside Colab
    first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
    cells.insert(first_code, cell)

    line = badge(repo, branch, name)
    md = next((c for c in cells if c["cell_type"] == "markdown"), None)
    if md is None:
        md = {"cell_type": "markdown", "id": "colab-badge", "metadata": {}, "source": []}
        cells.insert(0, md)
    text = "".join(md["source"])
    rest = [ln for ln in text.split("\n") if BADGE_IMG not in ln]
    while rest and not rest[0].strip():
        rest.pop(0)
    md["source"] = _lines("\n".join([line, "", *rest]) if rest else line)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.colab_cells", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is not current")
    args = parser.parse_args(argv)
    repo, branch = settings()
    stale = []
    for path in args.notebooks:
        nb = json.loads(path.read_text())
        new = update(nb, path.name, repo, branch)
        if new != nb:
            stale.append(path)
            if not args.check:
                path.write_text(json.dumps(new, indent=1, ensure_ascii=False) + "\n")
    verb = "not current" if args.check else "updated"
    for path in stale:
        print(f"{path}: {verb}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
