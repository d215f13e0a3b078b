"""Case 04 in the poster's own library: the committed output of `make period` (Keras 2.2.4, TensorFlow 1.15,
Python 3.7) holds what the lesson says about that version. Reads data only: no Python 3.7 needed here."""

import math

import numpy as np
import pytest

from helpers.scenarios import case04_metric as case
from helpers.stats import accuracy_floor

LN2 = math.log(2)


@pytest.fixture(scope="module")
def data():
    return case.period()


def runs(key, data):
    return case.period_histories(key, data)


def test_made_by_the_posters_library(data):
    assert data["versions"]["keras"] == "2.2.4"
    assert data["versions"]["tensorflow"].startswith("1.")
    assert data["versions"]["python"].startswith("3.7")
    assert data["keras_metrics_has_Accuracy"] is False  # keras.metrics.Accuracy arrives in 2.3.0
    assert data["setup"]["seeds"] == [0, 1, 2] and data["setup"]["lr"] == 0.001  # SGD(lr=0.001) as posted
    assert data["setup"]["good_weight"] == pytest.approx(0.02 / 0.98)


def test_the_log_keys_are_the_posts(data):
    for key in case.PERIOD_RUNS:
        for h in runs(key, data):
            assert {"loss", "acc", "val_loss", "val_acc"} <= set(h)
            assert "accuracy" not in h and "val_accuracy" not in h


def test_the_string_accuracy_is_binary_accuracy_and_keeps_the_bound(data):
    """Unweighted, metrics=['accuracy'] resolves to binary accuracy: no epoch breaks 1 - L/ln 2."""
    for h in runs("post", data):
        assert (h["acc"] >= accuracy_floor(h["loss"]) - 1e-6).all()
        assert (h["val_acc"] >= accuracy_floor(h["val_loss"]) - 1e-6).all()


def test_rival_a_prints_the_impossible_pair_without_a_gap(data):
    """(a) as far as Keras 2.2 allows (a home-made exact-equality `acc`): an impossible pair at every epoch, but
    validation loss about the training loss (no weighting), near the entropy of the prior."""
    for post, h in zip(runs("post", data), runs("a", data), strict=True):
        assert np.allclose(h["loss"], post["loss"], rtol=1e-3)  # the metric changes nothing in training
        assert (h["acc"] < accuracy_floor(h["loss"])).all() and (h["acc"] == 0).all()
        assert (h["val_share_saturated"] == 0).all()  # why: no output is exactly 0.0 or 1.0
        ratio = h["val_loss"] / h["loss"]
        assert 0.5 < ratio[0] < 1.5 and 0.8 < ratio[-1] < 1.6
        b = h["train_bad_rate"]
        prior_entropy = -(b * np.log(b) + (1 - b) * np.log(1 - b))
        assert h["loss"][-1] == pytest.approx(prior_entropy, rel=0.15)


def test_class_weight_with_validation_split_weights_validation_too(data):
    """Keras 2.2 slices the class weights onto the validation_split rows: val_loss is weighted, no gap."""
    for split, sep in zip(runs("b_split", data), runs("b_data", data), strict=True):
        # the same training: validation does not take part in it
        assert np.allclose(split["loss"], sep["loss"], rtol=1e-3) and np.allclose(split["acc"], sep["acc"], atol=0.01)
        ratio = split["val_loss"] / split["loss"]
        assert (ratio > 0.7).all() and (ratio < 1.5).all()
        assert (split["val_loss"] < 0.1 * LN2).all()


def test_the_fingerprint_with_unweighted_validation_data(data):
    """w = b/(1 - b), an uninformative network: outputs at 0.5, training loss = mean weight x ln 2 (2b ln 2),
    unweighted val_loss = ln 2, accuracy between b and 1 - b; the gap is the weighting."""
    w = data["setup"]["good_weight"]
    for h in runs("b_data", data):
        b = h["train_bad_rate"]
        predicted = (w * (1 - b) + b) * LN2
        assert h["loss"] == pytest.approx(np.full(len(h["loss"]), predicted), rel=0.1)
        assert h["val_loss"][-1] == pytest.approx(LN2, rel=0.05)
        assert (h["val_loss"] / h["loss"] > 20).all()
        assert (np.abs(h["val_mean_output"] - 0.5) < 0.05).all()
        for acc in (h["acc"], h["val_acc"]):
            assert (acc > b).all() and (acc < 1 - b).all()
            assert (acc < accuracy_floor(h["loss"])).all()  # impossible for an unweighted loss
        assert 0.4 < h["acc"][-1] < 0.6 and 0.4 < h["val_acc"][-1] < 0.6  # a coin's worth: outputs at 0.5
        assert abs(h["loss"][-1] / h["loss"][0] - 1) < 0.05
        assert (h["train_unweighted_loss"] / h["val_loss"] == pytest.approx(1.0, abs=0.1))


def test_keras22_averages_weight_times_loss_over_rows_and_never_weights_metrics(data):
    check = data["weighting_check"]
    assert check["metrics_names"] == ["loss", "acc"]
    assert check["weighted_loss"] == pytest.approx(check["mean_weight"] * LN2, rel=1e-4)
    b = check["train_bad_rate"]
    assert check["mean_weight"] == pytest.approx(data["setup"]["good_weight"] * (1 - b) + b, rel=1e-4)
    assert check["unweighted_loss"] == pytest.approx(LN2, rel=1e-4)
    assert check["weighted_acc"] == check["unweighted_acc"] == pytest.approx(b, abs=1e-6)


def test_constant_optimum_is_one_half_for_balanced_weights():
    for b in (0.02, 0.025, 0.1):
        f = case.constant_optimum(b, b / (1 - b))
        assert f["output"] == pytest.approx(0.5)
        assert f["loss"] == pytest.approx(2 * b * LN2) and f["val_loss"] == pytest.approx(LN2)
        assert f["mean_weight"] == pytest.approx(2 * b) and f["acc"] == pytest.approx((b, 1 - b))
        plain = case.constant_optimum(b)
        assert plain["output"] == pytest.approx(1 - b) and plain["acc"] == pytest.approx((1 - b, 1 - b))
        assert plain["loss"] == pytest.approx(-(b * np.log(b) + (1 - b) * np.log(1 - b)))
    assert case.constant_optimum(0.025, 0.02)["output"] < 0.5  # w below b/(1 - b): every part called bad
    with pytest.raises(ValueError, match="good_weight"):
        case.constant_optimum(0.02, 2.0)


def test_the_posts_last_line_beside_the_fingerprint():
    """The post's epoch 300 against the fingerprint at its guessed b: loss within 15 %, val_loss within 10 %."""
    b = case.POST_BAD_RATE
    f = case.constant_optimum(b, b / (1 - b))
    assert case.FORUM["loss"][-1] == pytest.approx(f["loss"], rel=0.15)
    assert case.FORUM["val_loss"][-1] == pytest.approx(f["val_loss"], rel=0.1)
    assert f["acc"][0] < case.FORUM["accuracy"][-1] < f["acc"][1]
