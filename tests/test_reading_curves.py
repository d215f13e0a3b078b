"""Notebook 00's shapes: each canonical symptom measured and held to its band."""

import pytest

from helpers.runs import run
from helpers.scenarios import reading_curves as rc

pytestmark = pytest.mark.slow




def test_every_run_is_consistent_with_the_cross_entropy_bound(each_seed_runs):
    from helpers.stats import accuracy_floor

    for name, h in each_seed_runs.items():
        for split in ("train_eval", "val", "test"):
            assert (h[f"{split}_accuracy"] >= accuracy_floor(h[f"{split}_loss"]) - 1e-9).all(), (name, split)


def test_same_seed_same_numbers_twice():
    config = rc.SHAPES["healthy"].replace(epochs=3)
    assert run(config, use_cache=False).metrics == run(config, use_cache=False).metrics


def test_a_different_seed_gives_different_numbers():
    config = rc.SHAPES["healthy"].replace(epochs=2)
    assert run(config, use_cache=False).metrics != run(config.replace(seed=1), use_cache=False).metrics


def test_bad_knob_values_name_the_allowed_range():
    with pytest.raises(ValueError, match=r"n_train=5 .*20 to 1000"):
        rc.CurvesConfig(n_train=5)
    with pytest.raises(ValueError, match=r"val_source='tail'.*'same', 'shifted'"):
        rc.CurvesConfig(val_source="tail")
    with pytest.raises(ValueError, match="shape='wiggly'"):
        rc.make_config("wiggly", 100, 0.0, 0.0)
