"""The registry of cases: notebook stem -> scenario module, imported on demand.

It sits below every other module (it names the scenario modules, it does not import them), so
``reference`` and ``widgets`` can look a case up without an import running back up the layers.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# notebook stem -> scenario module (imported on demand: importing one never loads a framework)
CASES: dict[str, str] = {
    "00_reading_learning_curves": "helpers.scenarios.reading_curves",
    "01_broken_validation_generator": "helpers.scenarios.case01_generator",
    "02_batchnorm_gap_that_closes": "helpers.scenarios.case02_batchnorm",
    "03_tiny_dataset": "helpers.scenarios.case03_tiny_dataset",
    "04_mislabeled_accuracy_metric": "helpers.scenarios.case04_metric",
    "05_leaky_and_shuffled_splits": "helpers.scenarios.case05_splits",
}


def load_case(key: str) -> ModuleType:
    """The scenario module of notebook ``key`` (a key of CASES)."""
    if key not in CASES:
        raise ValueError(f"case={key!r}; choose one of {sorted(CASES)}.")
    return importlib.import_module(CASES[key])


def case_key(case: ModuleType) -> str:
    """The notebook stem of a scenario module (the inverse of ``load_case``)."""
    for key, module in CASES.items():
        if module == case.__name__:
            return key
    raise ValueError(f"{case.__name__} is not a registered case; add it to helpers.cases.CASES.")
