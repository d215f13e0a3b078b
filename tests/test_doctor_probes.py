"""The array probes check their input like scikit-learn; cross-entropy is defined once; the Keras callback."""

import numpy as np
import pytest

from helpers import doctor
from helpers.doctor import codes, cross_entropy, probe_labels, probe_split


def test_probe_labels_needs_labels_in_both_splits():
    with pytest.raises(ValueError, match="needs train_labels as a 1-D sequence of class labels with at least one"):
        probe_labels([], [])
    with pytest.raises(ValueError, match="val_labels"):
        probe_labels([0, 1], [])
    with pytest.raises(ValueError, match=r"got shape \(2, 2\)"):
        probe_labels([[0, 1], [1, 0]], [0, 1])


def test_probe_split_on_grey_images_colour_images_and_tables():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:20, 0:20]
    grey = np.stack([np.sin(xx / (2 + i % 7) + i) * np.cos(yy / (3 + i % 5)) for i in range(40)])  # (N, H, W)
    train, val = grey[:30], np.concatenate([grey[:5] + rng.normal(0, 0.01, (5, 20, 20)), grey[30:]])
    found = probe_split(train, val)
    assert codes(found) == {"SPLIT_OVERLAP"} and found[0].evidence["near_fraction"] == pytest.approx(5 / 15)
    colour = np.repeat(grey[..., None], 3, axis=-1)  # (N, H, W, C)
    assert probe_split(colour[:30], colour[30:]) == []
    with pytest.raises(ValueError, match=r"kind='image' needs train as \(n_samples, H, W\)"):
        probe_split(rng.normal(size=(10, 4)), rng.normal(size=(5, 4)), kind="image")
    with pytest.raises(ValueError, match="same shape"):
        probe_split(grey[:10], colour[:5])
    with pytest.raises(ValueError, match=r"n_samples ≥ 1; got shape \(0, 4\)"):
        probe_split(np.empty((0, 4)), rng.normal(size=(5, 4)))
    with pytest.raises(ValueError, match="both train and val"):
        probe_split(grey[:10])


def test_all_nan_rows_are_left_out_not_counted_as_duplicates():
    rng = np.random.default_rng(1)
    table = rng.normal(size=(60, 4))
    table[:10] = np.nan
    val = np.concatenate([np.full((5, 4), np.nan), rng.normal(size=(20, 4))])
    assert probe_split(table, val) == []  # NaN rows would all share one digest
    found = probe_split(table, np.concatenate([val, table[20:25]]))
    assert found[0].evidence["skipped_nan_val"] == 5 and found[0].evidence["near_fraction"] == pytest.approx(5 / 25)
    with pytest.raises(ValueError, match="every sample of val contains NaN"):
        probe_split(table, np.full((3, 4), np.nan))


def test_cross_entropy_matches_scikit_learn_for_probabilities_and_logits():
    from scipy.special import softmax
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 3))
    y = rng.integers(0, 3, 50)
    loss, acc = cross_entropy(softmax(logits, axis=1), y, from_logits=False)
    assert loss == pytest.approx(log_loss(y, softmax(logits, axis=1), labels=[0, 1, 2]), rel=1e-6)
    assert cross_entropy(logits, y, from_logits=True)[0] == pytest.approx(loss, rel=1e-6)
    assert acc == pytest.approx(np.mean(logits.argmax(1) == y))
    z = rng.normal(size=50)
    t = (rng.random(50) < 0.5).astype(int)
    assert cross_entropy(z, t, from_logits=True)[0] == pytest.approx(log_loss(t, 1 / (1 + np.exp(-z))), rel=1e-6)
    with pytest.raises(ValueError, match="one label per output row; got 3 labels for 50 rows"):
        cross_entropy(logits, y[:3], from_logits=True)
    with pytest.raises(ValueError, match=r"labels must lie in 0..2"):
        cross_entropy(logits, y + 3, from_logits=True)


@pytest.mark.slow
def test_keras_callback_in_a_real_fit():
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    printed = []
    callback = doctor.keras_callback(loss="sparse_categorical_crossentropy", printer=printed.append)
    model.fit(x, y, validation_split=0.25, epochs=2, batch_size=12, verbose=0, callbacks=[callback])
    logs = callback.doctor.logs
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(logs)
    assert all(len(logs[k]) == 2 for k in ("loss", "val_loss"))
    assert all(line.startswith("[doctor, epoch 2]") for line in printed)
