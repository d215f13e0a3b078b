"""The check every case notebook's `post` cells must pass: they build the network the scenario module builds.

A case notebook shows the poster's model as plain Keras or PyTorch in cells tagged ``post``; the cell that
builds it is also tagged ``post-model`` and leaves it in a variable named ``model``. The scenario module
builds the same network for the grids, the panel and the tests. ``assert_post_model_matches`` runs the
``post-model`` cells (nothing trains) and compares layer types and parameter counts with the module's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def tagged_sources(notebook: Path, tag: str) -> list[str]:
    """Sources of the code cells carrying ``tag``, in notebook order."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    return ["".join(c["source"]) for c in cells
            if c["cell_type"] == "code" and tag in c.get("metadata", {}).get("tags", [])]


def layer_signature(model: Any) -> list[tuple[str, int]]:
    """(layer type, its own parameter count) for each layer of a Keras model or each leaf module of a torch one."""
    if hasattr(model, "named_modules"):  # torch
        return [(type(m).__name__, sum(p.numel() for p in m.parameters(recurse=False)))
                for _, m in model.named_modules() if not list(m.children())]
    return [(type(layer).__name__, int(layer.count_params())) for layer in model.layers]


def model_from_post_cells(notebook: Path, namespace: dict[str, Any]) -> Any:
    """Run the notebook's ``post-model`` cells in ``namespace`` and return the ``model`` they build."""
    sources = tagged_sources(notebook, "post-model")
    if not sources:
        raise AssertionError(f"{Path(notebook).name} has no cell tagged post-model (the poster's network)")
    for source in sources:
        exec(compile(source, f"{Path(notebook).name}[post-model]", "exec"), namespace)
    if "model" not in namespace:
        raise AssertionError(f"{Path(notebook).name}: the post-model cells leave no variable named model")
    return namespace["model"]


def assert_post_model_matches(notebook: Path, module_model: Any, namespace: dict[str, Any]) -> None:
    """The notebook's post-model cells build the same layers, with the same parameter counts, as the module."""
    built = layer_signature(model_from_post_cells(notebook, namespace))
    expected = layer_signature(module_model)
    assert built == expected, f"notebook builds {built}\nmodule builds   {expected}"
