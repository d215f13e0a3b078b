"""Case 02: the BatchNorm gap that closes sharply — symptoms, fixes, the doctor's verdicts."""

from pathlib import Path

import numpy as np
import pytest
from post_cells import assert_post_model_matches

from helpers import doctor
from helpers.scenarios import case02_batchnorm as case

pytestmark = pytest.mark.slow
POST, FIXED, SGD, LOW_LR = case.POST, case.FIXED, case.SGD, case.LOW_LR
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "02_batchnorm_gap_that_closes.ipynb"


def test_the_claims_that_relate_two_numbers(each_seed_measured):
    """What a band cannot say: one claim against another (each claim alone is held to its band, on every seed,
    the variant and here, by tests/test_contract.py)."""
    measured = each_seed_measured
    # The deep layer's input in inference mode is squashed far more than its own moving variance is off.
    own = measured["post_deep_moving_over_batch_variance_epoch1"]
    assert measured["post_deep_input_variance_ratio_epoch1"] < 1 / own


def test_the_run_names_say_which_momentum():
    for name, config in case.configs().items():
        assert f"BatchNorm momentum {config.momentum}" in name
        if config.optimizer == "sgd":
            assert "SGD (momentum 0.9)" in name


@pytest.mark.slow
def test_the_notebooks_post_cells_build_the_modules_network():
    from helpers.keras_lab import keras  # noqa: F401 - quiet import

    module_model, _ = case.build_model(case.configs()[POST])
    assert_post_model_matches(NOTEBOOK, module_model, {"case": case, "SCALE": "mini"})


def test_the_post_cells_train_the_posts_optimizers_and_mark_the_momentum():
    from post_cells import tagged_sources

    code = "\n".join(tagged_sources(NOTEBOOK, "post"))
    assert "MOMENTUM = 0.99  # <- THE SUSPECT" in code and code.count("BatchNormalization(momentum=momentum)") == 2
    assert "keras.optimizers.Adam(learning_rate=1e-3)" in code and f"{case.ADAM_LR:g}" == "0.001"
    assert "keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)" in code and case.SGD_LR == 0.01
    assert code.count(".fit(") == 2


def test_training_mode_input_has_no_side_effects_and_matches_keras():
    import tensorflow as tf

    config = case.configs()[POST]
    model, norms = case.build_model(config)
    x = case.load_data(config)["x_train"][:32]
    before = [n.moving_variance.numpy().copy() for n in norms]
    manual = case.training_mode_input(model, norms[1], tf.constant(x))
    after = [n.moving_variance.numpy() for n in norms]
    assert all(np.array_equal(b, a) for b, a in zip(before, after, strict=True))
    from helpers.keras_lab import keras

    # training-mode forward of the first Conv+BN pair and the second conv, by Keras itself
    first = keras.Model(model.input, norms[1].input)
    expected = first(x, training=True)
    np.testing.assert_allclose(manual.numpy(), np.asarray(expected), rtol=1e-4, atol=1e-5)


def test_moving_mean_lags_by_the_momentum_arithmetic(each_seed_runs):
    """With momentum m, after t steps the moving mean holds (1 - m**t) of the true level (plus drift)."""
    h = each_seed_runs[POST]
    steps, moving, true = h.arrays["step"], h.arrays["moving_mean"], h.arrays["batch_mean"]
    level = true[-1]
    expected = level * (1 - case.init_weight(0.99, steps))
    early = steps <= 100
    assert np.max(np.abs(moving[early] - expected[early])) < 0.25 * abs(level)
    assert abs(moving[-1] - true[-1]) < 0.05 * abs(level)  # caught up by the end


def test_doctor_flags_stale_stats_on_the_post_only(each_seed_runs):
    def codes(name):
        return doctor.codes(doctor.diagnose_history(each_seed_runs[name], n_classes=10, val_size=400), at_least="warn")

    assert "STALE_NORM_STATS" in codes(POST)
    assert "STALE_NORM_STATS" not in codes(FIXED)
    assert "POPULATION_SHIFT" not in codes(POST)  # a collapse is not a shift


@pytest.mark.slow
def test_doctor_mode_probe_sees_the_gap_in_a_fresh_model():
    from helpers.keras_lab import keras  # noqa: F401 - quiet import

    config = case.configs()[POST]
    model, _ = case.build_model(config)
    d = case.load_data(config)
    model.fit(d["x_train"], d["y_train"], batch_size=32, epochs=1, verbose=0)
    assert "MODE_GAP" in doctor.codes(doctor.probe_modes(model, d["x_val"], d["y_val"]))


def test_bad_knobs_name_the_allowed_values():
    with pytest.raises(ValueError, match=r"momentum=1\.0 .*0\.5 to 0\.999"):
        case.BatchNormCaseConfig(momentum=1.0)
    with pytest.raises(ValueError, match=r"batch_size=100 .*16, 32, 64, 128"):
        case.BatchNormCaseConfig(batch_size=100)
    with pytest.raises(ValueError, match=r"lr_scale=0\.001 .*0\.01 to 10"):
        case.BatchNormCaseConfig(lr_scale=0.001)


def test_panel_honest_toggle_redraws_from_cache(runs):
    from helpers.widgets import FixPanel

    panel = FixPanel(case.knobs(), case.make_config, case.draw_panel, view=("honest",))
    assert panel.last_was_cached
    labels = [line.get_label() for line in panel.figure.axes[0].lines]
    panel.controls["honest"].value = False
    after = [line.get_label() for line in panel.figure.axes[0].lines]
    assert "train (re-scored at epoch end)" in labels and "train (re-scored at epoch end)" not in after
    panel.controls["momentum"].value = 0.9
    assert panel.last_was_cached and panel.config.momentum == 0.9
    panel.set(momentum=0.99, lr_scale=0.1)
    assert panel.last_was_cached and panel.config == case.configs()[LOW_LR]


def test_forum_scale_has_the_posts_shape():
    config = case.configs("forum")[POST]
    assert (config.sizes["n_train"], config.batch_size, config.steps_per_epoch) == (6400, 128, 50)
    model, norms = case.build_model(config)
    assert model.output_shape == (None, 30) and model.input_shape == (None, 50, 55, 3)
    assert len(norms) == 8 and [n.momentum for n in norms] == [0.99] * 8
