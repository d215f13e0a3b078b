"""Case 04: both hypotheses for the post's impossible pair reproduced, the evidence between them, the doctor."""

from pathlib import Path

import numpy as np
import pytest
from post_cells import assert_post_model_matches, tagged_sources

from helpers import doctor
from helpers.scenarios import case04_metric as case
from helpers.stats import accuracy_floor

pytestmark = pytest.mark.slow




NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_mislabeled_accuracy_metric.ipynb"


def test_exact_accuracy_column_is_impossible_after_epoch_one(each_seed_runs):
    log = case.as_logged(each_seed_runs[case.EXACT], "Accuracy()")
    assert (log["accuracy"][1:] < accuracy_floor(log["loss"][1:])).all()


def test_class_weight_prints_an_impossible_pair_with_the_right_metric(each_seed_runs):
    """Hypothesis (b): the string 'accuracy' (BinaryAccuracy) under a weighted loss breaks the bound at every epoch,
    and validation (never weighted) stays far above training from epoch 1."""
    h = each_seed_runs[case.WEIGHTED]
    log = case.as_logged(h, "'accuracy'")
    assert (log["accuracy"] < accuracy_floor(log["loss"])).all()
    assert (case.loss_ratio(h) > 5).all()


def test_post_cells_build_the_modules_network():
    assert_post_model_matches(NOTEBOOK, case.build_model(case.configs()[case.WEIGHTED]), {})


def test_keras_weights_the_loss_and_weighted_metrics_but_not_metrics():
    """What the notebook's experiment shows, held exactly: Keras 3 averages weight × loss over all rows, hands the
    weights to weighted_metrics only, and fit(class_weight=...) does the same (a step of size 0 changes nothing)."""
    from helpers.keras_lab import keras

    y = np.array([1.0] * 90 + [0.0] * 10, dtype="float32")
    x = np.zeros((100, 31), dtype="float32")
    w = np.where(y == 1, 0.02, 1.0)
    p = 0.45
    model = keras.Sequential([keras.Input((31,)), keras.layers.Dense(
        1, activation="sigmoid", kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(np.log(p / (1 - p))))])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy",
                  metrics=["accuracy"], weighted_metrics=[keras.metrics.BinaryAccuracy(name="weighted")])
    per_row = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    scores = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert scores["loss"] == pytest.approx(np.mean(w * per_row), rel=1e-4)  # divided by rows, not by sum of weights
    assert scores["accuracy"] == pytest.approx(0.10)  # every row called 0: the share of zeros, unweighted
    assert scores["weighted"] == pytest.approx(10 / (10 + 90 * 0.02), rel=1e-4)
    logs = model.fit(x, y, class_weight={0: 1.0, 1: 0.02}, validation_split=0.2, epochs=1, batch_size=100,
                     verbose=0).history
    assert logs["loss"][0] == pytest.approx(np.mean((w * per_row)[:80]), rel=1e-4)
    assert logs["accuracy"][0] == pytest.approx(float(np.mean(y[:80] == 0)))
    assert logs["val_loss"][0] == pytest.approx(np.mean(per_row[80:]), rel=1e-4)  # validation is never weighted


def test_exact_accuracy_only_counts_saturated_outputs(each_seed_runs):
    for h in each_seed_runs.values():
        assert (h["val_exact"] <= h["val_saturated"] + 1e-6).all()
    # the notebook's figure: on the shuffled run the two curves coincide at every epoch
    shuffled = each_seed_runs["scaled + Adam, shuffled split"]
    assert abs(shuffled["val_exact"] - shuffled["val_saturated"]).max() < 0.005


def test_fixed_metric_respects_the_bound_everywhere_without_weights(each_seed_runs):
    for name, h in each_seed_runs.items():
        if name == case.WEIGHTED:
            continue
        log = case.as_logged(h, "BinaryAccuracy()")
        for split in ("", "val_"):
            assert (log[f"{split}accuracy"] >= accuracy_floor(log[f"{split}loss"]) - 1e-6).all()


def test_accuracy_string_resolves_from_shapes():
    assert case.resolve_accuracy_string((None, 1), 1) == "BinaryAccuracy"
    assert case.resolve_accuracy_string((None,), 9) == "SparseCategoricalAccuracy"
    assert case.resolve_accuracy_string((None, 5), 5) == "CategoricalAccuracy"  # multi-label trap


def test_tail_split_is_keras_validation_split():
    """Our tail split must be the rows Keras itself validates on."""
    from helpers import splits
    from helpers.keras_lab import keras

    train_validation_split = keras.src.trainers.data_adapters.array_slicing.train_validation_split

    x = np.arange(103, dtype="float32")[:, None]
    (_, ), (x_val, ) = train_validation_split((x,), validation_split=0.2)
    _, val_idx = splits.tail_split(103, 0.2)
    assert np.array_equal(np.asarray(x_val)[:, 0], val_idx)


def test_doctor_flags_the_bugs_and_not_the_fixes(each_seed_runs):
    def found(name, metric):
        h = each_seed_runs[name]
        return doctor.codes(doctor.diagnose_history(case.as_logged(h, metric), loss="binary_crossentropy"),
                            at_least="warn")

    assert "METRIC_INCONSISTENT" in found(case.EXACT, "Accuracy()")
    assert "METRIC_INCONSISTENT" not in found(case.EXACT, "BinaryAccuracy()")
    assert "METRIC_INCONSISTENT" in found(case.WEIGHTED, "'accuracy'")  # the log alone cannot tell (b) from (a)
    # The tail split's validation comes from a later period: the doctor says so as a shift, or (on a seed whose
    # val/train loss ratio stays lower) as a validation accuracy stuck at the majority rate while training climbs.
    split_codes = {"POPULATION_SHIFT", "VAL_AT_CHANCE"}
    assert split_codes & found("scaled + Adam, tail split", "BinaryAccuracy()")
    assert not split_codes & found("scaled + Adam, shuffled split", "BinaryAccuracy()")


def test_forum_log_plotted_numbers_match_the_committed_csv():
    log = doctor.read_log(case.FORUM_LOG)
    assert np.allclose(log["loss"], case.FORUM["loss"])
    assert np.allclose(log["accuracy"], case.FORUM["accuracy"])
    assert np.allclose(log.epochs, case.FORUM["epoch"])


def test_bad_knobs_name_the_allowed_values():
    with pytest.raises(ValueError, match=r"split='random'.*'tail', 'shuffled', 'time-aware'"):
        case.MetricCaseConfig(split="random")
    with pytest.raises(ValueError, match=r"bad_rate=0\.5 .*0\.01 to 0\.2"):
        case.MetricCaseConfig(bad_rate=0.5)
    with pytest.raises(ValueError, match="scaling='yes' must be True or False"):
        case.MetricCaseConfig(scaling="yes")
    with pytest.raises(ValueError, match=r"good_weight=2 .*0\.001 to 1"):
        case.MetricCaseConfig(good_weight=2)
    with pytest.raises(ValueError, match="metric='accuracy'"):
        case.as_logged(None, "accuracy")


def test_panel_metric_toggle_redraws_without_training(runs):
    from helpers.widgets import FixPanel

    panel = FixPanel.for_case(case, view=("metric",))
    assert panel.last_was_cached
    assert panel.config == case.configs()[case.EXACT]  # the panel opens on the rivals' shared run
    before = bytes(panel.image.value)
    panel.controls["metric"].value = "BinaryAccuracy()"
    assert panel.last_was_cached and bytes(panel.image.value) != before


def test_forum_scale_has_the_posts_sizes():
    config = case.configs("forum")[case.EXACT]
    assert (config.n_rows, config.epochs, config.batch_size, config.lr) == (152025, 300, 32, 0.001)
    data = case.load_data(config)
    assert (len(data["train_idx"]), len(data["val_idx"])) == (121620, 30405)  # the post's "Train on 121620"


def test_keras3_fingerprint_is_exact_for_a_constant_half():
    """Every output 0.5 under class_weight {0: 1, 1: b/(1-b)}: Keras 3 prints loss = mean weight x ln 2 (2b ln 2),
    val_loss = ln 2 on validation_split's rows (no class weights there), and 0.5 is the best constant."""
    from helpers.keras_lab import keras
    from helpers.stats import LN2

    rng = np.random.default_rng(0)
    y = (rng.uniform(size=1000) > 0.025).astype("float32")
    x = np.zeros((1000, 31), dtype="float32")
    b = float(1 - y[:800].mean())
    w = b / (1 - b)
    assert case.constant_optimum(b, w)["output"] == pytest.approx(0.5)
    model = keras.Sequential([keras.Input((31,)),
                              keras.layers.Dense(1, activation="sigmoid", kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy", metrics=["accuracy"])
    logs = model.fit(x, y, class_weight={0: 1.0, 1: w}, validation_split=0.2, epochs=1, batch_size=1000,
                     verbose=0).history
    assert logs["loss"][0] == pytest.approx(2 * b * LN2, rel=1e-3)
    assert logs["val_loss"][0] == pytest.approx(LN2, rel=1e-4)


def test_post_cells_rerun_from_fresh_weights():
    """Running the post cells twice in one kernel trains twice from the same fresh weights (not on from the first)."""
    import types

    config, data = case.post_setup()
    short = config.replace(epochs=2)
    keep = np.r_[0:800, 7200:8000]  # a small slice keeps this fast; validation_split still takes the last rows
    small = {**data, "x": data["x"][keep], "y": data["y"][keep]}
    fake = types.SimpleNamespace(post_setup=lambda scale: (short, small), show_log=lambda log: None)
    sources = [src for src in tagged_sources(NOTEBOOK, "post") if "build_post_model" in src]
    assert len(sources) == 2  # the model's cell, and the cell that builds, compiles and fits it
    namespace = {"SCALE": "mini", "case": fake}
    runs = []
    for _ in range(2):
        for source in sources:
            exec(compile(source, "post", "exec"), namespace)
        runs.append((namespace["model"], namespace["history"].history))
    (first, log1), (second, log2) = runs
    assert first is not second
    assert log1["loss"][0] == pytest.approx(log2["loss"][0], rel=1e-5)  # the same start: fresh weights
    assert log1["loss"][-1] != pytest.approx(log1["loss"][0], rel=1e-5)  # ... and a continued run would differ


def test_the_post_cells_class_weight_is_the_modules():
    source = next(src for src in tagged_sources(NOTEBOOK, "post") if ".fit(" in src)
    assert f"class_weight={{0: 1.0, 1: {case.GOOD_WEIGHT}}}" in source
    assert case.GOOD_WEIGHT == pytest.approx(case.BAD_RATE / (1 - case.BAD_RATE), abs=5e-5)
