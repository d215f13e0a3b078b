"""The post-cell check itself, on a notebook written here: it passes on a faithful cell and fails on an edited one."""

import json

import pytest
from post_cells import assert_post_model_matches, layer_signature, tagged_sources

CELL = """from torch import nn
model = nn.Sequential(nn.Linear(8, WIDTH), nn.ReLU(), nn.Linear(WIDTH, 3))
"""


def notebook(tmp_path, source, tags=("post", "post-model")):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# the post"]},
             {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": [source], "outputs": [],
              "execution_count": None}]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def module_model():
    from torch import nn

    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))


@pytest.mark.slow
def test_a_faithful_post_cell_passes_and_an_edited_one_fails(tmp_path):
    path = notebook(tmp_path, CELL.replace("WIDTH", "16"))
    assert tagged_sources(path, "post") == [CELL.replace("WIDTH", "16")]
    assert_post_model_matches(path, module_model(), {})
    assert layer_signature(module_model()) == [("Linear", 8 * 16 + 16), ("ReLU", 0), ("Linear", 16 * 3 + 3)]
    with pytest.raises(AssertionError, match="notebook builds"):
        assert_post_model_matches(notebook(tmp_path, CELL.replace("WIDTH", "32")), module_model(), {})


def test_a_notebook_without_the_posters_network_says_so(tmp_path):
    with pytest.raises(AssertionError, match="no cell tagged post-model"):
        assert_post_model_matches(notebook(tmp_path, "x = 1", tags=("post",)), None, {})
