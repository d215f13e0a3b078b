"""Notebook 00's shapes: each canonical symptom measured and held to its band."""

import numpy as np
import pytest

from helpers.runs import run
from helpers.scenarios import reading_curves as rc

pytestmark = pytest.mark.slow




def test_every_run_is_consistent_with_the_cross_entropy_bound(each_seed_runs):
    from helpers.stats import accuracy_floor

    for name, h in each_seed_runs.items():
        for split in ("train_eval", "val", "train_dev"):
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


def test_the_test_set_is_scored_once_and_train_dev_every_epoch(each_seed_runs):
    for name, h in each_seed_runs.items():
        assert "test_accuracy" not in h and "train_dev_accuracy" in h, name
        assert h.info["n_test"] == 197 and h.info["n_train_dev"] == 200, name
        assert 0.0 <= h.info["test_accuracy"] <= 1.0


def test_splits_never_share_a_row():
    import numpy as np

    for config in (rc.SHAPES["healthy"], rc.SHAPES["healthy"].replace(train_on_val=True)):
        data = rc.load_data(config)
        rows = {name: {tuple(r) for r in np.round(x, 6)} for name, (x, _) in data.items()}
        for a in ("val", "train_dev", "test"):
            for b in ("train_dev", "test"):
                if a != b:
                    assert not rows[a] & rows[b], (a, b)
        assert not rows["train"] & rows["test"] and not rows["train"] & rows["train_dev"]


def test_each_shape_changes_one_field_or_says_why():
    base = rc.CurvesConfig()
    for name, config in rc.SHAPES.items():
        changed = {f for f in base.__dataclass_fields__ if getattr(config, f) != getattr(base, f)}
        assert len(changed) <= 1 or changed == set(rc.WHY[name]), (name, changed)


def test_overfit_one_batch_as_the_notebook_does():
    import torch
    from torch import nn

    for seed in (0, 1, 2):
        x, y = rc.one_batch(seed)
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        with torch.no_grad():
            start = nn.functional.cross_entropy(model(x), y).item()
        for _ in range(300):
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            logits = model(x)
        assert abs(start - np.log(10)) < 0.15
        assert nn.functional.cross_entropy(logits, y).item() < 0.05 and (logits.argmax(1) == y).all()


def test_the_exercise_answers_name_the_runs_drawn():
    import json
    import re
    from pathlib import Path

    nb = json.loads((Path(__file__).parents[1] / "notebooks" / "00_reading_learning_curves.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    answers = dict(re.findall(r"\*\*([P-T]): ([a-z ]+)\.\*\*", text))
    drawn = {letter: rc.EXERCISE[i] for letter, i in zip(rc.LETTERS, rc.EXERCISE_ORDER, strict=True)}
    assert answers == drawn


def test_the_exercise_answers_hold_on_the_seed_drawn(reference_runs):
    s = reference_runs[rc.EXERCISE_SEED]
    shift, over, drop, under = s["population shift"], s["overfitting"], s["heavy dropout"], s["underfitting"]
    assert shift.final("train_dev_accuracy", 3) - shift.final("val_accuracy", 3) > 0.2
    assert shift.final("val_loss") > shift["val_loss"].min() and shift.final("val_accuracy") > shift["val_accuracy"][
        int(np.argmin(shift["val_loss"]))]
    assert over.final("val_loss") > 1.3 * over["val_loss"].min() and over.final("train_eval_accuracy") == 1.0
    assert abs(over.final("train_dev_accuracy", 3) - over.final("val_accuracy", 3)) < 0.1
    assert drop.final("accuracy", 3) < drop.final("val_accuracy", 3) < drop.final("train_eval_accuracy", 3)
    assert under.final("train_eval_accuracy") < 0.8 * s["healthy"].final("train_eval_accuracy")


def test_the_panel_suggestions_land_on_committed_runs():
    from helpers.reference import stored_run

    clean = rc.make_config("overfitting", 150, 0.0, 0.0)
    dropout = rc.make_config("healthy", 1000, 0.0, 0.6)
    assert clean == rc.reference_configs()[rc.CLEAN] and stored_run(clean) is not None
    assert dropout == rc.SHAPES["heavy dropout"] and stored_run(dropout) is not None
