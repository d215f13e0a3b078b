"""Case 05, data, model and training: what the cache key hashes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import History, Progress, RunConfig, run
from helpers.scenarios.case05_splits.runs import (
    BATCH,
    PIXEL_MEAN,
    PIXEL_SD,
    SIGNAL,
    SOURCE_CLASSES,
    SOURCE_EPOCHS,
    SOURCE_RECORDINGS,
    TEST_RECORDINGS,
    TRAIN_EVAL,
    VAL_FRACTION,
    VAL_RECORDING_SHARE,
    WINDOW,
    FoldConfig,
    RetrainConfig,  # its own statement: train's imports stay as digested
    SplitsConfig,
)
from helpers.splits import stratified_group_split

# --- data ----------------------------------------------------------------------


def windows(frames: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Every run of WINDOW consecutive frames, starting every ``stride`` frames.

    frames: recordings × frames × H × W. Returns (samples × WINDOW × H × W × 1, and for
    each sample the global ids of its frames, recording-major), so overlap can be counted.
    """
    n_rec, n_frames = frames.shape[:2]
    starts = np.arange(0, n_frames - WINDOW + 1, stride)
    x = np.stack([frames[:, s : s + WINDOW] for s in starts], axis=1)  # rec × start × WINDOW × H × W
    ids = (np.arange(n_rec)[:, None, None] * n_frames + starts[None, :, None] + np.arange(WINDOW)[None, None, :])
    return x.reshape(-1, WINDOW, *frames.shape[2:], 1), ids.reshape(-1, WINDOW)


def standardized(frames: np.ndarray) -> np.ndarray:
    """Pixels to mean 0, sd 1 with fixed constants (the recordings' pixels are 0.5 ± 0.2), as any pipeline
    would scale its images; fixed, so no statistic of the validation or test set leaks into training."""
    return ((frames - PIXEL_MEAN) / PIXEL_SD).astype("float32")


def load_data(config: SplitsConfig) -> dict[str, np.ndarray]:
    """Windows of the recordings, split as the config says, plus new-recording test windows."""
    from helpers.datasets import moving_pattern_recordings

    s = config.sizes
    kwargs = {"size": s["image"], "signal": SIGNAL}
    film = moving_pattern_recordings(s["classes"], config.recordings, s["frames"], seed=config.seed, **kwargs)
    new = moving_pattern_recordings(s["classes"], TEST_RECORDINGS, s["frames"], seed=config.seed + 10_000, **kwargs)
    film["frames"], new["frames"] = standardized(film["frames"]), standardized(new["frames"])
    x, frame_ids = windows(film["frames"], config.stride)
    per_recording = len(x) // len(film["label"])
    y = np.repeat(film["label"], per_recording)
    recording = np.repeat(film["recording"], per_recording)
    x_test, _ = windows(new["frames"], 2)  # the test: every second window of every new recording
    per_new = len(x_test) // len(new["label"])

    if config.split == "recording":
        train_idx, val_idx = stratified_group_split(recording, y, VAL_RECORDING_SHARE, config.seed)
    else:  # shuffle the samples, then the last 20 % are validation
        order = np.random.default_rng(config.seed).permutation(len(x))
        n_train = int(len(x) * (1 - VAL_FRACTION))
        train_idx, val_idx = order[:n_train], order[n_train:]
    y_all = y.copy()
    if config.shuffle == "separate":
        # Two permutations: shuffling the labels by their own order breaks every (x, y) pair.
        y_all = y[np.random.default_rng(config.seed + 1).permutation(len(y))]
    return {
        "x_train": x[train_idx], "y_train": y_all[train_idx], "x_val": x[val_idx], "y_val": y_all[val_idx],
        "x_test": x_test, "y_test": np.repeat(new["label"], per_new),
        "recording_test": np.repeat(new["recording"], per_new),
        "frames_train": frame_ids[train_idx], "frames_val": frame_ids[val_idx],
        "recording_train": recording[train_idx], "recording_val": recording[val_idx],
    }


def overlap(data: dict[str, np.ndarray]) -> dict[str, float]:
    """Share of validation windows that share a frame, or a recording, with some training window."""
    train_frames = set(data["frames_train"].ravel().tolist())
    shares_frame = np.array([bool(train_frames & set(row.tolist())) for row in data["frames_val"]])
    shares_recording = np.isin(data["recording_val"], data["recording_train"])
    return {"frame": float(shares_frame.mean()), "recording": float(shares_recording.mean())}


# --- model and training ------------------------------------------------------------


def build_model(config: SplitsConfig, classes: int | None = None):
    """The post's network, input (3, H, W, 1), with the config's regularisers (defaults: as posted)."""
    from helpers.keras_lab import keras

    layers = keras.layers
    s = config.sizes
    td = layers.TimeDistributed
    f1, f2, f3 = (8, 16, 32) if config.cnn == "as posted" else (2, 4, 8)
    d1, d2, d3, d4 = config.rates()
    l2 = keras.regularizers.l2(config.l2) if config.l2 else None
    inputs = keras.Input((WINDOW, s["image"], s["image"], 1), name="img3")
    h = td(layers.Conv2D(f1, 3, activation="relu"))(inputs)
    h = td(layers.Dropout(d1))(h) if d1 else h
    h = td(layers.MaxPooling2D(2))(h)
    h = td(layers.Conv2D(f2, 3, activation="relu"))(h)
    h = td(layers.MaxPooling2D(2))(h)
    h = td(layers.Conv2D(f3, 3, activation="relu"))(h)
    h = td(layers.MaxPooling2D(2))(h)
    h = td(layers.Dropout(d2))(h) if d2 else h
    h = td(layers.Flatten())(h)
    h = td(layers.Dropout(d3))(h) if d3 else h
    if config.lstm_layers == 2:
        h = layers.LSTM(config.lstm_units, return_sequences=True, kernel_regularizer=l2)(h)
    h = layers.LSTM(config.lstm_units, kernel_regularizer=l2)(h)
    h = layers.Dense(60, activation="relu")(h)
    h = layers.Dropout(d4)(h) if d4 else h
    outputs = layers.Dense(classes or s["classes"], activation="softmax")(h)
    model = keras.Model(inputs, outputs, name="mergedModel")
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.RMSprop(),
                  metrics=["accuracy"])
    return model


def step_schedule(epoch: int, lr: float, epochs: int) -> float:
    """The poster's schedule: keep the rate for the first third of the epochs, then halve it every fifth."""
    start = epochs // 3
    return 1e-3 * 0.5 ** max(0, (epoch - start) // max(1, epochs // 5) + 1) if epoch >= start else 1e-3


def augmented(x: np.ndarray, y: np.ndarray, seed: int, epochs: int):
    """A dataset that shows each window shifted (up to ±3 px) and relit (gain ×0.7–1.3, offset ±0.5 sd) anew
    every epoch; the three frames of a window move together, so the motion between them is kept."""
    import tensorflow as tf

    def one(xi, yi):
        shift = tf.random.uniform([2], -3, 4, dtype=tf.int32)
        xi = tf.roll(xi, shift, axis=[1, 2])
        gain, offset = tf.random.uniform([], 0.7, 1.3), tf.random.uniform([], -0.5, 0.5)
        return gain * xi + offset, yi

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.map(one).batch(BATCH)


@dataclass(frozen=True)
class SourceConfig(RunConfig):
    """The synthetic source task a transferred network starts from: SOURCE_CLASSES other patterns,
    SOURCE_RECORDINGS recordings each (every third window), the post's network; its weights are kept."""

    epochs: int = SOURCE_EPOCHS
    cnn: str = "as posted"

    trainer = "helpers.scenarios.case05_splits:train_source"
    framework = "keras"


def train_source(config: SourceConfig, progress: Progress | None = None) -> History:
    from helpers import keras_lab
    from helpers.datasets import moving_pattern_recordings

    keras_lab.set_seeds(config.seed)
    target = SplitsConfig(cnn=config.cnn)
    s = target.sizes
    film = moving_pattern_recordings(SOURCE_CLASSES, SOURCE_RECORDINGS, s["frames"], size=s["image"],
                                     signal=SIGNAL, seed=config.seed + 20_000)
    x, _ = windows(standardized(film["frames"]), 3)
    y = np.repeat(film["label"], len(x) // len(film["label"]))
    model = build_model(target, classes=SOURCE_CLASSES)
    history = keras_lab.fit(model, (x, y), epochs=config.epochs, batch_size=BATCH, progress=progress)
    for i, w in enumerate(model.get_weights()):
        history.arrays[f"weight{i}"] = w
    return history


def train(config: SplitsConfig, progress: Progress | None = None) -> History:
    from helpers import keras_lab
    from helpers.keras_lab import keras

    d = load_data(config)
    source = None
    if config.transfer:
        source = run(SourceConfig(seed=config.seed, cnn=config.cnn))
    keras_lab.set_seeds(config.seed)
    model = build_model(config)
    if source is not None:  # every layer but the classifier starts from the source task's weights
        weights = [source.arrays[f"weight{i}"] for i in range(len(source.arrays))]
        own = model.get_weights()
        model.set_weights(weights[:-2] + own[-2:])
    rescored = np.random.default_rng(config.seed).permutation(len(d["y_train"]))[:TRAIN_EVAL]
    scores = keras_lab.InferenceScores({"train_eval": (d["x_train"][rescored], d["y_train"][rescored]),
                                        "val": (d["x_val"], d["y_val"]), "test": (d["x_test"], d["y_test"])},
                                       progress)
    callbacks = [scores]
    if config.lr_schedule == "step":
        callbacks.append(keras.callbacks.LearningRateScheduler(
            lambda epoch, lr: step_schedule(epoch, lr, config.epochs)))
    if config.augment:
        train_data = augmented(d["x_train"], d["y_train"], config.seed, config.epochs)
        history = keras_lab.fit(model, train_data, epochs=config.epochs, callbacks=callbacks)
    else:
        history = keras_lab.fit(model, (d["x_train"], d["y_train"]), epochs=config.epochs, batch_size=BATCH,
                                callbacks=callbacks)
    shared = overlap(d)
    history.arrays.update(test_predicted=scores.predicted["test"].astype("int16"),
                          test_label=d["y_test"].astype("int16"), test_recording=d["recording_test"].astype("int32"))
    history.info.update(n_train=len(d["y_train"]), n_val=len(d["y_val"]), n_test=len(d["y_test"]),
                        val_recordings=len(np.unique(d["recording_val"])),
                        test_recordings=len(np.unique(d["recording_test"])),
                        val_sharing_frame=shared["frame"], val_sharing_recording=shared["recording"],
                        parameters=int(model.count_params()), classes=config.sizes["classes"])
    return history


def train_on_train_val(config: RetrainConfig, progress: Progress | None = None) -> History:
    """The chosen configuration retrained on its training and validation windows together, for its epochs (no
    validation is left to stop on), scored each epoch on the same new recordings as the run it was chosen from."""
    from helpers import keras_lab

    d = load_data(config)
    x, y = np.concatenate([d["x_train"], d["x_val"]]), np.concatenate([d["y_train"], d["y_val"]])
    keras_lab.set_seeds(config.seed)
    model = build_model(config)
    rescored = np.random.default_rng(config.seed).permutation(len(y))[:TRAIN_EVAL]
    scores = keras_lab.InferenceScores({"train_eval": (x[rescored], y[rescored]), "test": (d["x_test"], d["y_test"])},
                                       progress)
    if config.augment:
        history = keras_lab.fit(model, augmented(x, y, config.seed, config.epochs), epochs=config.epochs,
                                callbacks=[scores])
    else:
        history = keras_lab.fit(model, (x, y), epochs=config.epochs, batch_size=BATCH, callbacks=[scores])
    history.arrays.update(test_predicted=scores.predicted["test"].astype("int16"),
                          test_label=d["y_test"].astype("int16"), test_recording=d["recording_test"].astype("int32"))
    history.info.update(n_train=len(y), n_test=len(d["y_test"]), test_recordings=len(np.unique(d["recording_test"])),
                        train_recordings=len(np.unique(np.concatenate([d["recording_train"], d["recording_val"]]))),
                        parameters=int(model.count_params()), classes=config.sizes["classes"])
    return history


def train_fold(config: FoldConfig, progress: Progress | None = None) -> History:
    """One fold of grouped cross-validation: the run's training and validation windows together, split by
    StratifiedGroupKFold (3 folds, each recording on one side, shuffled with the seed); trains on the fold's two
    thirds, validates on its third, and scores the same new recordings as the run it comes from."""
    from sklearn.model_selection import StratifiedGroupKFold

    from helpers import keras_lab

    d = load_data(config)
    x, y = np.concatenate([d["x_train"], d["x_val"]]), np.concatenate([d["y_train"], d["y_val"]])
    groups = np.concatenate([d["recording_train"], d["recording_val"]])
    splitter = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=config.seed)
    train_idx, val_idx = list(splitter.split(x, y, groups))[config.fold]
    keras_lab.set_seeds(config.seed)
    model = build_model(config)
    rescored = np.random.default_rng(config.seed).permutation(train_idx)[:TRAIN_EVAL]
    scores = keras_lab.InferenceScores({"train_eval": (x[rescored], y[rescored]), "val": (x[val_idx], y[val_idx]),
                                        "test": (d["x_test"], d["y_test"])}, progress)
    if config.augment:
        history = keras_lab.fit(model, augmented(x[train_idx], y[train_idx], config.seed, config.epochs),
                                epochs=config.epochs, callbacks=[scores])
    else:
        history = keras_lab.fit(model, (x[train_idx], y[train_idx]), epochs=config.epochs, batch_size=BATCH,
                                callbacks=[scores])
    history.arrays.update(test_predicted=scores.predicted["test"].astype("int16"),
                          test_label=d["y_test"].astype("int16"), test_recording=d["recording_test"].astype("int32"))
    history.info.update(n_train=len(train_idx), n_val=len(val_idx), n_test=len(d["y_test"]),
                        train_recordings=len(np.unique(groups[train_idx])),
                        val_recordings=len(np.unique(groups[val_idx])),
                        val_sharing_recording=float(np.isin(groups[val_idx], groups[train_idx]).mean()),
                        test_recordings=len(np.unique(d["recording_test"])),
                        parameters=int(model.count_params()), classes=config.sizes["classes"])
    return history
