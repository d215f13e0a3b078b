"""Every repository path the runtime reads or writes, in one place (nothing under tests/: runtime code never
reads test files)."""

from __future__ import annotations

from pathlib import Path

CODE_ROOT = Path(__file__).resolve().parents[1]  # the folder that holds the helpers package (a checkout's root)
DATA = CODE_ROOT / "data"
REFERENCE = DATA / "reference"  # committed reference runs, one folder per case
REFERENCE_VARIANTS = DATA / "reference-variants"  # the same runs under other numerics settings: <variant>/<case>
NOTEBOOKS = CODE_ROOT / "notebooks"
ARTIFACTS = CODE_ROOT / "artifacts"  # what make builds (the site, the student copies); never committed
FORUM_LOG = DATA / "forum" / "003_a8ebacd39794dcdb_log.csv"  # case 04's post, as its asker printed it
PERIOD_JSON = DATA / "period" / "keras22_case04.json"  # the committed output of make period (Keras 2.2.4)
CLINIC_LOGS = DATA / "clinic"  # the clinic's log patients, one file each
DOCTOR_CORPUS = DATA / "doctor_corpus"  # public training logs with hand labels, for the doctor's agreement
CLINIC_NOTEBOOK = NOTEBOOKS / "06_clinic.ipynb"
STUDENT_LOCK = CODE_ROOT / "requirements-student.lock"
PYPROJECT = CODE_ROOT / "pyproject.toml"
README = CODE_ROOT / "README.md"


def is_checkout() -> bool:
    """True in a source checkout (the data folders sit beside the package), False in an installed wheel."""
    return PYPROJECT.exists()
