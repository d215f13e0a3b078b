"""Case 05 — a TimeDistributed CNN + LSTM on 3-frame windows that does poorly on validation (Keras).

Forum case: Data Science SE 95054. Each sample is three consecutive grayscale frames; the post's
network is TimeDistributed Conv8 → Dropout .3 → Pool → Conv16 → Pool → Conv32 → Pool → Dropout .3 →
Flatten → Dropout .4, then LSTM(16, L2 0.007) → Dense 60 → Dropout .15 → Dense softmax, RMSprop.

Miniature: 10 classes, 24×24 frames, recordings of 10 frames (a class pattern wandering over the
recording's own background), windows of 3 frames. Test: new recordings (new backgrounds), as a
new signer or a new session would be. The story: an honest split by recording of few independent
recordings shows the post's curves (training up, validation poor); a random split of windows
hides it; X and y shuffled separately is another symptom (nothing learns). The poster's regulariser
grid and the fixes that move new-recording accuracy are measured over seeds (reference_configs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import LAST, History, Progress, RunConfig, run
from helpers.splits import stratified_group_split
from helpers.validate import check_choice

SCALES = ("mini", "forum")
SHUFFLES = ("joint", "separate")
SPLITS = ("window", "recording")
RECORDINGS = (3, 6, 12, 24)
STRIDES = (1, 2, 3)
DROPOUTS = (0.0, 0.5, 1.0, 1.5)  # multiplies each of the post's dropout rates (.3, .3, .4, .15)
DROPOUT_PLACES = ("as posted", "frames only", "head only")
L2S = (0.0, 0.001, 0.007, 0.05)
LSTM_UNITS = (1, 2, 4, 8, 16)
LSTM_LAYERS = (1, 2)
SCHEDULES = ("constant", "step")
CNNS = ("as posted", "small")
POSTED_RATES = (0.3, 0.3, 0.4, 0.15)  # the post's dropouts: after conv 1, after conv 3, after Flatten, head
WINDOW = 3
VAL_FRACTION = 0.2
# Split by recording: a third of each class's recordings. Validation needs enough independent recordings to
# be a measurement; one per class leaves it at the mercy of ten draws.
VAL_RECORDING_SHARE = 1 / 3
TEST_RECORDINGS = 4  # per class: new recordings, so the test is not one lucky draw either
SIGNAL = 1.0  # class pattern amplitude, against a background of amplitude 1
PIXEL_MEAN, PIXEL_SD = 0.5, 0.2
BATCH = 32  # Keras' default batch size (the post gives none)
# Transfer: a larger synthetic source task, other classes (20 other patterns) filmed in many recordings.
SOURCE_CLASSES, SOURCE_RECORDINGS, SOURCE_EPOCHS = 20, 12, 6
TRAIN_EVAL = 160  # training windows re-scored each epoch (a fixed random half: the honest curve, at half the cost)
BOOTSTRAP = 2000  # resamples of the test recordings for a recording-level interval


@dataclass(frozen=True)
class SplitsConfig(RunConfig):
    """One training of the post's TimeDistributed CNN + LSTM.

    shuffle: "joint" (one permutation for X and y) or "separate" (the bug: two); split: "window"
    (a random 80/20 of windows) or "recording" (whole recordings to one side); recordings: per class,
    before the split; stride: frames between the starts of two windows (1 = neighbours share two).
    The poster's regularisers: dropout (a multiple of each posted rate) and dropout_at (where),
    l2 (on the LSTM kernel), lstm_units, lstm_layers, lr_schedule. The fixes: augment (random shift
    and lighting per window), cnn ("small": a quarter of the filters), transfer (start from a network
    trained on a larger synthetic source task).
    """

    epochs: int = 30
    shuffle: str = "joint"
    split: str = "recording"
    recordings: int = 6
    stride: int = 1
    dropout: float = 1.0
    dropout_at: str = "as posted"
    l2: float = 0.007
    lstm_units: int = 16
    lstm_layers: int = 1
    lr_schedule: str = "constant"
    cnn: str = "as posted"
    augment: bool = False
    transfer: bool = False
    scale: str = "mini"

    trainer = "helpers.scenarios.case05_splits:train"
    framework = "keras"

    def validate(self) -> None:
        super().validate()
        check_choice("shuffle", self.shuffle, SHUFFLES)
        check_choice("split", self.split, SPLITS)
        check_choice("recordings", self.recordings, RECORDINGS)
        check_choice("stride", self.stride, STRIDES)
        check_choice("dropout", self.dropout, DROPOUTS)
        check_choice("dropout_at", self.dropout_at, DROPOUT_PLACES)
        check_choice("l2", self.l2, L2S)
        check_choice("lstm_units", self.lstm_units, LSTM_UNITS)
        check_choice("lstm_layers", self.lstm_layers, LSTM_LAYERS)
        check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        check_choice("cnn", self.cnn, CNNS)
        check_choice("augment", self.augment, (False, True))
        check_choice("transfer", self.transfer, (False, True))
        check_choice("scale", self.scale, SCALES)

    @property
    def sizes(self) -> dict:
        if self.scale == "mini":
            return {"classes": 10, "frames": 10, "image": 24}
        # 30 classes × 6 recordings × 46 windows = 8 280 samples: the post's 6 780 + 1 484 = 8 264.
        return {"classes": 30, "frames": 48, "image": 100}

    def rates(self) -> tuple[float, float, float, float]:
        """The four dropout rates (after conv 1, after conv 3, after Flatten, in the head)."""
        keep = {"as posted": (1, 1, 1, 1), "frames only": (1, 1, 1, 0), "head only": (0, 0, 0, 1)}[self.dropout_at]
        return tuple(round(min(0.9, r * self.dropout * k), 3) for r, k in zip(POSTED_RATES, keep, strict=True))


Config = SplitsConfig
# The post's own numbers (as the question states them).
POSTED = {"n_train": 6780, "n_val": 1484, "frames": 3, "frame_side": 100, "classes": 30,
          "lstm_units_tried": (1, 16), "l2": 0.007}

SEPARATE, WINDOWS = "X and y shuffled separately", "random window split (the leak)"
POST = "the post: split by recording"


def configs(scale: str = "mini") -> dict[str, SplitsConfig]:
    """The runs the notebook tells its story with."""
    check_choice("scale", scale, SCALES)
    post = SplitsConfig(scale=scale)
    return {
        POST: post,
        WINDOWS: post.replace(split="window"),
        # Twenty epochs show it: neither curve leaves chance. The budget goes to the runs that move.
        SEPARATE: post.replace(split="window", shuffle="separate", epochs=20),
    }


def regularisers(scale: str = "mini") -> dict[str, SplitsConfig]:
    """What the poster tried, one change each from the post: dropout rate and place, L2 strength, LSTM units
    (1 to 16), a second LSTM layer, the learning-rate schedule (each trained over the seeds in the reference)."""
    post = configs(scale)[POST]
    return {
        "no dropout": post.replace(dropout=0.0),
        "dropout × 0.5": post.replace(dropout=0.5),
        "dropout × 1.5": post.replace(dropout=1.5),
        "dropout on the frames only": post.replace(dropout_at="frames only"),
        "dropout in the head only": post.replace(dropout_at="head only"),
        "no L2": post.replace(l2=0.0),
        "L2 0.001": post.replace(l2=0.001),
        "L2 0.05": post.replace(l2=0.05),
        "LSTM 1 unit": post.replace(lstm_units=1),
        "LSTM 4 units": post.replace(lstm_units=4),
        "two LSTM layers": post.replace(lstm_layers=2),
        "learning-rate schedule": post.replace(lr_schedule="step"),
    }


def fixes(scale: str = "mini") -> dict[str, SplitsConfig]:
    """What the poster could change next, one change each from the post: more independent recordings, then
    three that add no recording (augmentation, a smaller per-frame CNN, features from a synthetic source task)."""
    post = configs(scale)[POST]
    return {
        # Twice the recordings, every second window: as many training windows as the post, twice the recordings.
        "12 recordings per class": post.replace(recordings=12, stride=2),
        # Four times the recordings, every third window: 1.5 × the post's training windows.
        "24 recordings per class": post.replace(recordings=24, stride=3),
        "augmentation (shift, lighting)": post.replace(augment=True),
        "smaller per-frame CNN": post.replace(cnn="small"),
        "transfer from a synthetic source task": post.replace(transfer=True),
    }


MORE_RECORDINGS = ("12 recordings per class", "24 recordings per class")  # the fixes that add recordings
LONGER_EPOCHS = 60
POST_LONGER = f"the post, {LONGER_EPOCHS} epochs"


AUGMENTED_LONGER = f"augmentation, {LONGER_EPOCHS} epochs"
RECORDINGS_LONGER = f"24 recordings per class, {LONGER_EPOCHS} epochs"
BEST = f"24 recordings per class + augmentation, {LONGER_EPOCHS} epochs"  # the best measured fix


# The poster's regularisers given 60 epochs too: the one that helped at 30, none, more, and stronger L2.
REGULARISERS_LONGER = ("dropout on the frames only", "no dropout", "dropout × 1.5", "L2 0.05")


def longer(scale: str = "mini") -> dict[str, SplitsConfig]:
    """The fixes given twice the epochs (augmentation, the smaller CNN and 24 recordings had not finished fitting
    their training windows in 30), beside the post given as long: the fair baseline, one change at a time."""
    fixed, tried = fixes(scale), regularisers(scale)
    return {POST_LONGER: configs(scale)[POST].replace(epochs=LONGER_EPOCHS),
            **{f"{name}, {LONGER_EPOCHS} epochs": tried[name].replace(epochs=LONGER_EPOCHS)
               for name in REGULARISERS_LONGER},
            AUGMENTED_LONGER: fixed["augmentation (shift, lighting)"].replace(epochs=LONGER_EPOCHS),
            f"smaller per-frame CNN, {LONGER_EPOCHS} epochs": fixed["smaller per-frame CNN"].replace(
                epochs=LONGER_EPOCHS),
            RECORDINGS_LONGER: fixed["24 recordings per class"].replace(epochs=LONGER_EPOCHS),
            BEST: fixed["24 recordings per class"].replace(augment=True, epochs=LONGER_EPOCHS)}


MOST = "24 recordings per class"  # the fix that moves new-recording accuracy most in 30 epochs


def reference_configs(scale: str = "mini") -> dict[str, SplitsConfig]:
    """Every run a claim rests on (and the names notebook 06's clinic reads)."""
    story = configs(scale)
    return {**story, **fixes(scale), **regularisers(scale), **longer(scale),
            "split by recording": story[POST]}  # the clinic's name for the post's run (same config, cached)


# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/bands.py).
BANDS: dict[str, tuple[float, float]] = {
    # The post's curves on the honest split: training climbs to the top, validation stops far below, and the
    # new recordings are as poor as validation says.
    "post_train_accuracy": (0.9, 1.0),
    "post_val_accuracy": (0.25, 0.75),
    "post_train_minus_val": (0.25, 0.75),
    "post_test_accuracy": (0.25, 0.6),
    "post_abs_val_minus_test": (0.0, 0.25),  # validation (20 recordings) and test (40) disagree by noise only
    "post_gap_beyond_disagreement": (0.1, 0.75),  # train − val exceeds |val − test|: the gap is not split noise
    "post_val_sharing_recording": (0.0, 0.0),
    # The random split of windows: validation tracks training (nearly every validation window shares frames
    # with training) and overstates the new recordings by far more than the honest split's disagreement.
    "windows_train_minus_val": (-0.05, 0.08),
    "windows_val_minus_test": (0.25, 0.7),
    "windows_val_sharing_frame": (0.95, 1.0),
    # X and y shuffled separately: validation at chance (0.10), and training barely leaves it in 20 epochs:
    # a flat training curve, not the post's climbing one.
    "separate_val_accuracy": (0.0, 0.15),
    "separate_train_accuracy": (0.08, 0.35),
    # The grid (reference only; tests/test_case05_splits.py retrains the story runs and one fix). Each change is
    # new-recording accuracy minus the post's, same seed. The step schedule slows the fit and lowers it on every seed.
    "learning_rate_schedule_test_change": (-0.2, -0.01),
    # Removing all dropout moves it by less than the seeds scatter on their own, either sign.
    "no_dropout_test_change": (-0.12, 0.08),
    # One LSTM unit (the poster's lower end) is too few here: training itself stalls, and new recordings drop.
    "lstm_1_unit_train_accuracy": (0.1, 0.5),
    "lstm_1_unit_test_change": (-0.45, -0.05),
    # No regulariser of the twelve raises new-recording accuracy by more than the post's own seeds scatter (they span
    # ~0.08) on any seed; the largest gain of the twelve is a few points.
    "regulariser_largest_test_gain": (-0.1, 0.12),
    # The one above the post on every seed: the posted dropout on the frames only (none in the head), by a few points.
    "dropout_on_the_frames_only_test_change": (0.0, 0.12),
    # Lower on every seed: fewer units, a second LSTM, strong L2 (and the schedule, above).
    "lstm_4_units_test_change": (-0.3, 0.0),
    "two_lstm_layers_test_change": (-0.3, 0.0),
    "l2_0_05_test_change": (-0.15, 0.0),
    # In 30 epochs none of the three changes that add no recording helps; augmentation and the smaller CNN have not
    # fitted their training windows (the post: 0.99), and the smaller CNN lowers it on every seed.
    "no_new_recording_largest_test_gain": (-0.15, 0.08),
    "augmentation_shift_lighting_train_accuracy": (0.6, 0.93),
    "smaller_per_frame_cnn_train_accuracy": (0.5, 0.93),
    "smaller_per_frame_cnn_test_change": (-0.3, -0.03),
    "more_recordings_minus_best_no_new_recording": (0.05, 0.5),
    # Given 60 epochs (against the post given 60: it gains a few points itself, training at 1.0), augmentation helps on
    # every seed, the smaller CNN still lowers it, 24 recordings gain far more than at 30 epochs, and with augmentation
    # they reach about 0.8 on new recordings on every seed (the highest mean measured), with a small train - val gap.
    # Whether augmentation adds to 24 recordings is not settled: positive on average, not on every seed.
    "post_longer_test_change": (0.0, 0.15),
    # The poster's regularisers given the same 60 epochs: still a few points at most; 24 recordings gain several times
    # the best of them on the same seed.
    "regulariser_longer_largest_test_gain": (-0.1, 0.12),
    "recordings_longer_minus_best_regulariser": (0.1, 0.5),
    "augmentation_60_epochs_test_change": (0.0, 0.3),
    "augmentation_60_epochs_train_accuracy": (0.93, 1.0),
    "smaller_per_frame_cnn_60_epochs_test_change": (-0.3, -0.02),
    "24_recordings_per_class_60_epochs_test_change": (0.15, 0.5),
    "recordings_longer_minus_shorter_gain": (0.0, 0.3),  # more than at 30 epochs, on every seed
    "best_test_accuracy": (0.7, 0.95),
    "best_train_minus_val": (0.0, 0.3),
    "best_minus_recordings_alone": (-0.1, 0.2),
    "best_minus_augmentation_alone": (0.1, 0.5),
    # Four times the recordings raise it on every seed, by more than the best regulariser on the same seed.
    "24_recordings_per_class_test_change": (0.08, 0.4),
    # Twice the recordings at the same number of training windows: higher on average, not on every seed
    "12_recordings_per_class_test_change": (-0.08, 0.2),
    "more_recordings_minus_best_regulariser": (0.05, 0.5),
    # 24 recordings per class in 30 epochs: new-recording accuracy about 0.6 (each seed above 0.5), and a narrower
    # train − val gap (it is not yet fitted: 60 epochs, below, do better).
    "most_recordings_test_accuracy": (0.5, 0.85),
    "most_recordings_train_minus_val": (0.1, 0.45),
    "most_recordings_train_accuracy": (0.8, 0.97),  # it no longer fits every training window in 30 epochs
    "most_recordings_gap_narrowing": (0.03, 0.5),
}
# The runs `make test` retrains on this machine (seed 0): the story and one fix; the rest of the grid (the
# poster's regularisers, the other fixes) is read from the committed reference, so the tests stay inside CI's time.
RETRAIN = (POST, WINDOWS, SEPARATE, "12 recordings per class")


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


# --- measurements -------------------------------------------------------------------


def final(history: History, metric: str) -> float:
    """A run's "final" number: the mean over its last LAST epochs (one epoch on 20 recordings is noisy)."""
    return history.final(metric, LAST)


def slug_claim(name: str) -> str:
    """A claim name from a run name ("LSTM 1 unit" -> "lstm_1_unit")."""
    import re

    return re.sub(r"[^a-z0-9]+", "_", name.lower().replace("×", "x")).strip("_")


def measure(histories: dict[str, History]) -> dict[str, float]:
    """The numbers behind each claim, from one seed's runs: the story's always, the grid's when given."""
    h = histories
    post, leak, separate = h[POST], h[WINDOWS], h[SEPARATE]
    base = final(post, "test_accuracy")
    out = {
        "separate_train_accuracy": final(separate, "train_eval_accuracy"),
        "separate_val_accuracy": final(separate, "val_accuracy"),
        "post_train_accuracy": final(post, "train_eval_accuracy"),
        "post_val_accuracy": final(post, "val_accuracy"),
        "post_train_minus_val": final(post, "train_eval_accuracy") - final(post, "val_accuracy"),
        "post_abs_val_minus_test": abs(final(post, "val_accuracy") - base),
        "post_gap_beyond_disagreement": (final(post, "train_eval_accuracy") - final(post, "val_accuracy")
                                         - abs(final(post, "val_accuracy") - base)),
        "post_test_accuracy": base,
        "post_val_sharing_recording": post.info["val_sharing_recording"],
        "windows_train_minus_val": final(leak, "train_eval_accuracy") - final(leak, "val_accuracy"),
        "windows_val_minus_test": final(leak, "val_accuracy") - final(leak, "test_accuracy"),
        "windows_val_sharing_frame": leak.info["val_sharing_frame"],
    }
    for name in [*regularisers(), *fixes()]:
        if name in h:
            out[f"{slug_claim(name)}_test_change"] = final(h[name], "test_accuracy") - base
    grid = [n for n in regularisers() if n in h]
    if len(grid) == len(regularisers()):
        changes = [final(h[n], "test_accuracy") - base for n in grid]
        out["regulariser_largest_test_gain"] = max(changes)
        out["regulariser_largest_abs_change"] = max(abs(c) for c in changes)
        if MOST in h:
            out["more_recordings_minus_best_regulariser"] = final(h[MOST], "test_accuracy") - base - max(changes)
    added = [n for n in fixes() if n not in MORE_RECORDINGS]
    if all(n in h for n in added):
        gains = [final(h[n], "test_accuracy") - base for n in added]
        out.update({f"{slug_claim(n)}_train_accuracy": final(h[n], "train_eval_accuracy") for n in added})
        out["no_new_recording_largest_test_gain"] = max(gains)
        if MOST in h:
            out["more_recordings_minus_best_no_new_recording"] = final(h[MOST], "test_accuracy") - base - max(gains)
    if all(n in h for n in longer()):
        base_longer = final(h[POST_LONGER], "test_accuracy")
        out["post_longer_test_change"] = base_longer - base
        for name in list(longer())[1:]:
            out[f"{slug_claim(name)}_test_change"] = final(h[name], "test_accuracy") - base_longer
            out[f"{slug_claim(name)}_train_accuracy"] = final(h[name], "train_eval_accuracy")
        out["post_longer_train_accuracy"] = final(h[POST_LONGER], "train_eval_accuracy")
        tried = [final(h[f"{n}, {LONGER_EPOCHS} epochs"], "test_accuracy") - base_longer for n in REGULARISERS_LONGER]
        out["regulariser_longer_largest_test_gain"] = max(tried)
        out["recordings_longer_minus_best_regulariser"] = (final(h[RECORDINGS_LONGER], "test_accuracy")
                                                           - base_longer - max(tried))
        if MOST in h:  # 24 recordings gain more over the post at 60 epochs than at 30
            out["recordings_longer_minus_shorter_gain"] = (final(h[RECORDINGS_LONGER], "test_accuracy") - base_longer
                                                           - (final(h[MOST], "test_accuracy") - base))
        out["best_test_accuracy"] = final(h[BEST], "test_accuracy")
        out["best_train_minus_val"] = final(h[BEST], "train_eval_accuracy") - final(h[BEST], "val_accuracy")
        out["best_minus_recordings_alone"] = final(h[BEST], "test_accuracy") - final(h[RECORDINGS_LONGER],
                                                                                     "test_accuracy")
        out["best_minus_augmentation_alone"] = final(h[BEST], "test_accuracy") - final(h[AUGMENTED_LONGER],
                                                                                       "test_accuracy")
    if "LSTM 1 unit" in h:
        out["lstm_1_unit_train_accuracy"] = final(h["LSTM 1 unit"], "train_eval_accuracy")
    if MOST in h:
        out["most_recordings_test_accuracy"] = final(h[MOST], "test_accuracy")
        out["most_recordings_train_minus_val"] = (final(h[MOST], "train_eval_accuracy")
                                                  - final(h[MOST], "val_accuracy"))
        out["most_recordings_train_accuracy"] = final(h[MOST], "train_eval_accuracy")
        out["most_recordings_gap_narrowing"] = out["post_train_minus_val"] - out["most_recordings_train_minus_val"]
    return out


def recording_bootstrap(history: History, level: float = 0.9, seed: int = 0) -> tuple[float, float]:
    """Interval of the last epoch's new-recording test accuracy, resampling whole test recordings
    (windows of one recording are near-copies, so they are not independent draws)."""
    recording, correct = history.arrays["test_recording"], history.arrays["test_predicted"] == history.arrays[
        "test_label"]
    ids = np.unique(recording)
    hits = np.array([correct[recording == r].sum() for r in ids])
    sizes = np.array([(recording == r).sum() for r in ids])
    draws = np.random.default_rng(seed).integers(0, len(ids), (BOOTSTRAP, len(ids)))
    accuracy = hits[draws].sum(axis=1) / sizes[draws].sum(axis=1)
    return float(np.quantile(accuracy, (1 - level) / 2)), float(np.quantile(accuracy, (1 + level) / 2))


# --- pictures --------------------------------------------------------------------------

COLORS = {"train_eval": "tab:blue", "val": "tab:orange", "test": "tab:green"}
LABELS = {"train_eval": "train (re-scored)", "val": "validation", "test": "new recordings (test)"}


def plot_accuracy(ax, history: History, title: str = "") -> None:
    """Train (logged and re-scored), validation and new-recording test accuracy, chance dashed."""
    from helpers.curves import draw_chance, plot_curves

    plot_curves(history, ax, "accuracy", splits=("val", "test"), title=title)
    draw_chance(ax, 1 / int(history.info.get("classes", 10)))
    ax.legend(fontsize=7, loc="upper left")


def plot_seed_band(ax, runs: list[History], split: str, label: str | None = None) -> None:
    """One split's accuracy over seeds: the mean as a line, the seeds' min–max shaded."""
    curves = np.array([h[f"{split}_accuracy"] for h in runs])
    x = runs[0].epochs
    ax.plot(x, curves.mean(axis=0), color=COLORS[split], label=label or f"{LABELS[split]}, mean of {len(runs)} seeds")
    ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color=COLORS[split], alpha=0.2, linewidth=0)


def draw_post_beside_reference(fig, live: dict[str, list[float]], reference_runs: list[dict[str, History]]) -> None:
    """The live run of the post's cells (dots) over the post's reference seeds (mean line, min–max band)."""
    from helpers.curves import draw_chance

    ax = fig.subplots()
    runs = [r[POST] for r in reference_runs]
    for split in ("train_eval", "val"):
        plot_seed_band(ax, runs, split)
    epochs = np.arange(1, len(live["val_accuracy"]) + 1)
    ax.plot(epochs, live["accuracy"], "o--", ms=3, color=COLORS["train_eval"], label="your run: train (as logged)")
    ax.plot(epochs, live["val_accuracy"], "o", ms=4, color=COLORS["val"], label="your run: validation")
    draw_chance(ax, 0.1)
    train = np.mean([final(h, "train_eval_accuracy") for h in runs])
    val = np.mean([final(h, "val_accuracy") for h in runs])
    last = runs[0].n_epochs
    ax.annotate("", xy=(last + 0.6, train), xytext=(last + 0.6, val),
                arrowprops={"arrowstyle": "<->", "color": "0.3"})
    ax.annotate(f"train − val over the last {LAST} epochs:\n{train - val:.2f} (mean of {len(runs)} seeds)",
                xy=(last + 0.6, (train + val) / 2), xytext=(last * 0.62, 0.2), fontsize=8, ha="center",
                arrowprops={"arrowstyle": "->", "color": "0.3"}, bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02),
           title="the post's network, split by recording: training climbs, validation stays poor")
    ax.set_xlim(0, last + 1.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper left")


def draw_story(fig, reference_runs: list[dict[str, History]]) -> None:
    """The three runs over seeds: separate shuffles, a random split of windows, the post's split by recording."""
    from helpers.curves import draw_chance

    names = [SEPARATE, WINDOWS, POST]
    axes = fig.subplots(1, 3, sharey=True)
    for ax, name in zip(axes, names, strict=True):
        runs = [r[name] for r in reference_runs]
        for split in ("train_eval", "val", "test"):
            plot_seed_band(ax, runs, split, label=LABELS[split])
        draw_chance(ax, 0.1)
        ax.set(xlabel="epoch", title=name, ylim=(-0.02, 1.02))
        ax.title.set_fontsize(10)
        ax.grid(alpha=0.3)
        last = runs[0].n_epochs
        val = np.mean([final(h, "val_accuracy") for h in runs])
        test = np.mean([final(h, "test_accuracy") for h in runs])
        train = np.mean([final(h, "train_eval_accuracy") for h in runs])
        text = {SEPARATE: f"train {train:.2f}, val {val:.2f}:\nbarely above chance",
                WINDOWS: f"val − test = {val - test:+.2f}:\nvalidation re-tests\nknown recordings",
                POST: f"train − val = {train - val:+.2f}\n|val − test| = {abs(val - test):.2f}"}[name]
        ax.annotate(text, xy=(last, val), xytext=(last * 0.45, 0.62 if name != SEPARATE else 0.45), fontsize=8,
                    arrowprops={"arrowstyle": "->", "color": "0.3"},
                    bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    axes[0].set_ylabel("accuracy")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"mean of {len(reference_runs)} seeds, seeds' min–max shaded", fontsize=9)


def grid_table(reference_runs: list[dict[str, History]], names: list[str]) -> list[tuple[str, float, float, float]]:
    """(run, mean, min, max) over seeds of each run's change in new-recording accuracy against the post's."""
    rows = []
    for name in names:
        changes = [final(r[name], "test_accuracy") - final(r[POST], "test_accuracy") for r in reference_runs]
        rows.append((name, float(np.mean(changes)), float(np.min(changes)), float(np.max(changes))))
    return rows


def grid_groups() -> list[tuple[str, list[str], str]]:
    """(heading, run names, colour) of the grid's rows: the post, what the poster tried, more recordings, and
    what changes the model or its input without adding a recording."""
    added = [n for n in fixes() if n not in MORE_RECORDINGS]
    return [("the post", [POST], "0.2"), ("what the poster tried", list(regularisers()), "tab:purple"),
            ("more recordings", list(MORE_RECORDINGS), "tab:green"), ("no new recording", added, "tab:cyan")]


def longer_groups() -> list[tuple[str, list[str], str]]:
    """(heading, run names, colour) of the 60-epoch comparison's rows."""
    tried = [f"{name}, {LONGER_EPOCHS} epochs" for name in REGULARISERS_LONGER]
    return [("the post", [POST_LONGER], "0.2"), ("what the poster tried", tried, "tab:purple"),
            ("no new recording", [AUGMENTED_LONGER, f"smaller per-frame CNN, {LONGER_EPOCHS} epochs"], "tab:cyan"),
            ("more recordings", [RECORDINGS_LONGER, BEST], "tab:green")]


def draw_grid(fig, reference_runs: list[dict[str, History]], groups: list | None = None, baseline: str = POST,
              title: str = "one change at a time from the post, over seeds: regularisers against more recordings"
              ) -> None:
    """New-recording test accuracy of each run in ``groups`` (default: grid_groups()): each seed a dot with its
    recording-level bootstrap interval (90 %), ``baseline``'s seeds as the grey band, each row's mean printed."""
    groups = groups or grid_groups()
    names = [n for _, ns, _ in groups for n in ns]
    colors = {n: color for _, ns, color in groups for n in ns}
    ax = fig.subplots()
    base = [final(r[baseline], "test_accuracy") for r in reference_runs]
    ax.axvspan(min(base), max(base), color="0.85", zorder=0, label=f"{baseline}: its seeds' min–max")
    for row, name in enumerate(names):
        for k, r in enumerate(reference_runs):
            h = r[name]
            low, high = recording_bootstrap(h)
            y = row + (k - 1) * 0.2
            ax.plot([low, high], [y, y], color="0.6", lw=0.9)
            ax.plot(final(h, "test_accuracy"), y, "o", ms=3.5, color=colors[name])
        mean = np.mean([final(r[name], "test_accuracy") for r in reference_runs])
        ax.plot([mean, mean], [row - 0.42, row + 0.42], color=colors[name], lw=2)
        ax.text(1.01, row, f"{mean:.2f}", transform=ax.get_yaxis_transform(), va="center", fontsize=7)
    ax.text(1.01, -0.9, "mean", transform=ax.get_yaxis_transform(), va="center", fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(len(names) - 0.5, -1.2)
    start = 0
    for heading, ns, color in groups:
        if start:
            ax.axhline(start - 0.5, color="0.6", lw=0.8)
        ax.text(0.99, start - 0.45, heading, transform=ax.get_yaxis_transform(), ha="right", va="top", fontsize=8,
                color=color, fontweight="bold")
        start += len(ns)
    ax.axvline(0.1, color="0.5", ls="--", lw=1)
    ax.text(0.105, len(names) - 0.6, "chance", fontsize=7, color="0.4")
    ax.set(xlim=(0, 1), xlabel=f"new-recording test accuracy (last {LAST} epochs); dots: seeds; bars: 90 % bootstrap "
           "over each seed's 40 test recordings; vertical ticks: mean of seeds", title=title)
    ax.title.set_fontsize(9)
    ax.xaxis.label.set_fontsize(8)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3, axis="x")


def draw_recordings(fig, reference_runs: list[dict[str, History]]) -> None:
    """New-recording accuracy against the number of recordings per class: seeds as dots with recording-level
    bootstrap bars, the mean as a line; training accuracy beside it."""
    runs = {6: POST, 12: "12 recordings per class", 24: MOST}
    ax = fig.subplots()
    for split, marker in (("train_eval", "s"), ("test", "o")):
        means = []
        for n, name in runs.items():
            values = [final(r[name], f"{split}_accuracy") for r in reference_runs]
            means.append(np.mean(values))
            for k, (r, v) in enumerate(zip(reference_runs, values, strict=True)):
                x = n * (1 + (k - 1) * 0.04)
                if split == "test":
                    low, high = recording_bootstrap(r[name])
                    ax.plot([x, x], [low, high], color="0.6", lw=1)
                ax.plot(x, v, marker, ms=4, color=COLORS[split], alpha=0.8)
        ax.plot(list(runs), means, "-", color=COLORS[split], label=f"{LABELS[split]}, mean of seeds")
    ax.axhline(0.1, color="0.5", ls="--", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(runs), [f"{n}\n({n - max(1, round(n / 3))} in training)" for n in runs])
    ax.set_xlim(4.5, 32)
    ax.set(xlabel="recordings per class", ylabel=f"accuracy (last {LAST} epochs)",
           ylim=(0, 1.02), title="new-recording accuracy against the number of independent recordings")
    ax.title.set_fontsize(10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def nearest_training_windows(data: dict[str, np.ndarray], n: int = 3) -> list[tuple[int, int, float]]:
    """(val index, nearest training index, RMS pixel distance) for the first ``n`` val windows."""
    from sklearn.metrics import pairwise_distances_argmin_min

    train = data["x_train"].reshape(len(data["x_train"]), -1)
    val = data["x_val"][:n].reshape(min(n, len(data["x_val"])), -1)
    nearest, distance = pairwise_distances_argmin_min(val, train)
    rms = distance / np.sqrt(train.shape[1])  # Euclidean distance over sqrt(pixels) is the RMS pixel difference
    return [(i, int(j), float(d)) for i, (j, d) in enumerate(zip(nearest, rms, strict=True))]


def draw_strip(fig, data: dict[str, np.ndarray], n: int = 3) -> None:
    """A few validation windows (3 frames each) beside the nearest window in training (``data``: load_data's)."""
    pairs = nearest_training_windows(data, n)
    axes = fig.subplots(len(pairs), 2 * WINDOW + 1, gridspec_kw={"width_ratios": [1] * WINDOW + [0.25] + [1] * WINDOW})
    for row, (i, j, distance) in zip(np.atleast_2d(axes), pairs, strict=True):
        for k in range(WINDOW):
            row[k].imshow(data["x_val"][i, k, ..., 0], cmap="gray", vmin=-2.5, vmax=2.5)
            row[WINDOW + 1 + k].imshow(data["x_train"][j, k, ..., 0], cmap="gray", vmin=-2.5, vmax=2.5)
        shared = len(set(data["frames_val"][i]) & set(data["frames_train"][j]))
        same = data["recording_val"][i] == data["recording_train"][j]
        row[WINDOW].text(0.5, 0.5, f"RMS\n{distance:.2f} sd", ha="center", va="center", fontsize=7)
        row[0].set_ylabel(f"val #{i}", fontsize=7)
        row[WINDOW + 1].set_ylabel(f"{'same' if same else 'other'} recording,\n{shared} shared frame(s)", fontsize=7)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(ax is not row[WINDOW])
    np.atleast_2d(axes)[0, 1].set_title("validation window (3 frames)", fontsize=8)
    np.atleast_2d(axes)[0, WINDOW + 2].set_title("nearest training window", fontsize=8)


def draw_panel(fig, history: History, config: SplitsConfig) -> None:
    """FixPanel view: accuracy curves, and the overlap the split lets through."""
    ax = fig.subplots()
    plot_accuracy(ax, history, title=f"shuffle {config.shuffle}, split by {config.split}, "
                  f"{config.recordings} recordings/class, stride {config.stride}")
    share = history.info["val_sharing_frame"], history.info["val_sharing_recording"]
    gap = final(history, "val_accuracy") - final(history, "test_accuracy")
    ax.text(0.99, 0.02, f"val windows sharing a frame with train: {share[0]:.0%}\n"
            f"val windows sharing a recording with train: {share[1]:.0%}\n"
            f"val − test (last {LAST} epochs): {gap:+.2f}",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=7.5,
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})


def make_config(shuffle: str, split: str, recordings: int, stride: int) -> SplitsConfig:
    """The panel's run: the post's network; separate shuffles train for the story run's 20 epochs."""
    epochs = configs()[SEPARATE].epochs if shuffle == "separate" else SplitsConfig.epochs
    return SplitsConfig(shuffle=shuffle, split=split, recordings=recordings, stride=stride, epochs=epochs)


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("split", ["window", "recording"]), "uncached": ("stride", 3), "view": ()}


def knobs() -> list:
    from helpers.widgets import Choice, Levels

    return [
        Choice("shuffle", "shuffle", [("X and y together", "joint"), ("X and y separately (bug)", "separate")],
               "joint"),
        Choice("split", "split", [("by recording (the post)", "recording"), ("random windows (the leak)", "window")],
               "recording"),
        Levels("recordings", "recordings per class", RECORDINGS, 6),
        Levels("stride", "window stride (frames)", STRIDES, 1),
    ]
