"""Every repository path the runtime reads or writes, in one place (nothing under tests/: runtime code never
reads test files)."""

from __future__ import annotations

from pathlib import Path

CODE_ROOT = Path(__file__).resolve().parents[1]  # the folder that holds the helpers package (a checkout's root)
DATA = CODE_ROOT / "data"
REFERENCE = DATA / "reference"  # committed reference runs, one folder per case
NOTEBOOKS = CODE_ROOT / "notebooks"


def is_checkout() -> bool:
    """True in a source checkout (the data folders sit beside the package), False in an installed wheel."""
    return (CODE_ROOT / "pyproject.toml").exists()
