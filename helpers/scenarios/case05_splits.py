"""Case 05 — leaky and shuffled splits: a TimeDistributed CNN + LSTM on 3-frame windows (Keras).

Forum case: Data Science SE 95054. Each sample is
three consecutive grayscale frames; the post's network is TimeDistributed
Conv8 → Dropout .3 → Pool → Conv16 → Pool → Conv32 → Pool → Dropout .3 → Flatten →
Dropout .4, then LSTM(16, L2 0.007) → Dense 60 → Dropout .15 → Dense softmax, RMSprop.

Miniature: 10 classes, 24×24 frames, recordings of 16 frames (a class pattern moving
over the recording's own background), windows of 3 frames. Test: recordings never
seen (new backgrounds), as a new signer or a new session would be.
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
RECORDINGS = (3, 6, 9, 12)
STRIDES = (1, 2, 3)
WINDOW = 3
VAL_FRACTION = 0.2
# Split by recording: a third of each class's recordings. Validation needs enough independent recordings to
# be a measurement; one per class leaves it at the mercy of ten draws.
VAL_RECORDING_SHARE = 1 / 3
TEST_RECORDINGS = 4  # per class: new recordings, so the test is not one lucky draw either
SIGNAL = 1.0  # class pattern amplitude, against a background of amplitude 1


@dataclass(frozen=True)
class SplitsConfig(RunConfig):
    """One training of the post's TimeDistributed CNN + LSTM.

    shuffle: "joint" (one permutation for X and y) or "separate" (the bug: two);
    split: "window" (a random 80/20 of windows, the post's) or "recording" (whole
    recordings to one side); recordings: per class, before the split; stride:
    frames between the starts of two windows (1 = windows share two frames).
    """

    epochs: int = 16
    shuffle: str = "joint"
    split: str = "window"
    recordings: int = 6
    stride: int = 1
    scale: str = "mini"

    trainer = "helpers.scenarios.case05_splits:train"
    framework = "keras"

    def validate(self) -> None:
        super().validate()
        check_choice("shuffle", self.shuffle, SHUFFLES)
        check_choice("split", self.split, SPLITS)
        check_choice("recordings", self.recordings, RECORDINGS)
        check_choice("stride", self.stride, STRIDES)
        check_choice("scale", self.scale, SCALES)
        if self.split == "recording" and self.recordings < 2:
            raise ValueError(f"split='recording' needs recordings ≥ 2 per class, one for each side; "
                             f"got {self.recordings}.")

    @property
    def sizes(self) -> dict:
        if self.scale == "mini":
            return {"classes": 10, "frames": 16, "image": 24}
        # 30 classes × 6 recordings × 46 windows = 8 280 samples: the post's 6 780 + 1 484 = 8 264.
        return {"classes": 30, "frames": 48, "image": 100}


def configs(scale: str = "mini") -> dict[str, SplitsConfig]:
    """The runs the notebook tells its story with."""
    check_choice("scale", scale, SCALES)
    post = SplitsConfig(scale=scale)
    return {
        # Ten epochs show it: neither curve leaves chance. The budget goes to the runs that move.
        "X and y shuffled separately": post.replace(shuffle="separate", epochs=10),
        "the post: random window split": post,
        "split by recording": post.replace(split="recording"),
        "split by recording, half the recordings": post.replace(split="recording", recordings=3),
    }


# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/bands.py).
BANDS: dict[str, tuple[float, float]] = {
    # X and y shuffled separately: nothing to learn, validation at chance (0.10) and training with it.
    "separate_val_accuracy": (0.0, 0.15),
    "separate_train_minus_val": (-0.05, 0.1),  # the post's network cannot fit shuffled labels either
    # The post's random split of windows: every validation window shares frames and a recording with training,
    # so validation overstates new-recording accuracy, by more than the honest split's own disagreement.
    "post_val_accuracy": (0.4, 0.85),
    "post_val_minus_test": (0.08, 0.5),
    "leak_minus_honest_disagreement": (0.03, 0.5),  # post (val − test) minus the grouped |val − test|
    "post_val_sharing_frame": (0.99, 1.0),
    "post_val_sharing_recording": (0.99, 1.0),
    # Split by recording: validation agrees with new recordings (20 validation, 40 test recordings).
    "grouped_abs_val_minus_test": (0.0, 0.07),
    "grouped_val_sharing_frame": (0.0, 0.0),
    "grouped_val_sharing_recording": (0.0, 0.0),
    "grouped_test_accuracy": (0.2, 0.4),
    "more_recordings_test_gain": (0.03, 0.2),  # 6 recordings per class instead of 3
}


# --- data ----------------------------------------------------------------------


Config = SplitsConfig
# The post's own numbers (as the question states them).
POSTED = {"n_train": 6780, "n_val": 1484, "frames": 3, "frame_side": 100, "classes": 30}


def reference_configs(scale: str = "mini") -> dict[str, SplitsConfig]:
    """Every run a claim rests on."""
    return configs(scale)


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


def load_data(config: SplitsConfig) -> dict[str, np.ndarray]:
    """Windows of the recordings, split as the config says, plus new-recording test windows."""
    from helpers.datasets import moving_pattern_recordings

    s = config.sizes
    kwargs = {"size": s["image"], "signal": SIGNAL}
    film = moving_pattern_recordings(s["classes"], config.recordings, s["frames"], seed=config.seed, **kwargs)
    new = moving_pattern_recordings(s["classes"], TEST_RECORDINGS, s["frames"], seed=config.seed + 10_000, **kwargs)
    x, frame_ids = windows(film["frames"], config.stride)
    per_recording = len(x) // len(film["label"])
    y = np.repeat(film["label"], per_recording)
    recording = np.repeat(film["recording"], per_recording)
    x_test, _ = windows(new["frames"], config.stride)
    y_test = np.repeat(new["label"], len(x_test) // len(new["label"]))

    if config.split == "recording":
        train_idx, val_idx = stratified_group_split(recording, y, VAL_RECORDING_SHARE, config.seed)
    else:  # the post: shuffle the samples, then the last 20 % are validation
        order = np.random.default_rng(config.seed).permutation(len(x))
        n_train = int(len(x) * (1 - VAL_FRACTION))
        train_idx, val_idx = order[:n_train], order[n_train:]
    y_all = y.copy()
    if config.shuffle == "separate":
        # Two permutations: shuffling the labels by their own order breaks every (x, y) pair.
        y_all = y[np.random.default_rng(config.seed + 1).permutation(len(y))]
    return {
        "x_train": x[train_idx], "y_train": y_all[train_idx], "x_val": x[val_idx], "y_val": y_all[val_idx],
        "x_test": x_test, "y_test": y_test,
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


def build_model(config: SplitsConfig):
    """The post's network, input (3, H, W, 1)."""
    from helpers.keras_lab import keras

    layers = keras.layers
    s = config.sizes
    td = layers.TimeDistributed
    inputs = keras.Input((WINDOW, s["image"], s["image"], 1), name="img3")
    h = td(layers.Conv2D(8, 3, activation="relu"))(inputs)
    h = td(layers.Dropout(0.3))(h)
    h = td(layers.MaxPooling2D(2))(h)
    h = td(layers.Conv2D(16, 3, activation="relu"))(h)
    h = td(layers.MaxPooling2D(2))(h)
    h = td(layers.Conv2D(32, 3, activation="relu"))(h)
    h = td(layers.MaxPooling2D(2))(h)
    h = td(layers.Dropout(0.3))(h)
    h = td(layers.Flatten())(h)
    h = td(layers.Dropout(0.4))(h)
    h = layers.LSTM(16, kernel_regularizer=keras.regularizers.l2(0.007))(h)
    h = layers.Dense(60, activation="relu")(h)
    h = layers.Dropout(0.15)(h)
    outputs = layers.Dense(s["classes"], activation="softmax")(h)
    model = keras.Model(inputs, outputs, name="mergedModel")
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.RMSprop(),
                  metrics=["accuracy"])
    return model


def train(config: SplitsConfig, progress: Progress | None = None) -> History:
    from helpers import keras_lab

    keras_lab.set_seeds(config.seed)
    d = load_data(config)
    model = build_model(config)
    splits = {"train_eval": ("x_train", "y_train"), "val": ("x_val", "y_val"), "test": ("x_test", "y_test")}
    scores = keras_lab.InferenceScores({name: (d[x], d[y]) for name, (x, y) in splits.items()}, progress)
    history = keras_lab.fit(model, (d["x_train"], d["y_train"]), epochs=config.epochs, batch_size=32,
                            callbacks=[scores])
    shared = overlap(d)
    history.info.update(n_train=len(d["y_train"]), n_val=len(d["y_val"]), n_test=len(d["y_test"]),
                        val_sharing_frame=shared["frame"], val_sharing_recording=shared["recording"],
                        parameters=int(model.count_params()), classes=config.sizes["classes"])
    return history


# --- measurements -------------------------------------------------------------------



def measure(histories: dict[str, History] | None = None) -> dict[str, float]:
    """The numbers behind each claim, from configs('mini')."""
    h = histories or {name: run(c) for name, c in configs().items()}
    separate, post = h["X and y shuffled separately"], h["the post: random window split"]
    grouped, fewer = h["split by recording"], h["split by recording, half the recordings"]
    leak = post.final("val_accuracy", LAST) - post.final("test_accuracy", LAST)
    honest = abs(grouped.final("val_accuracy", LAST) - grouped.final("test_accuracy", LAST))
    return {
        "separate_val_accuracy": separate.final("val_accuracy", LAST),
        "separate_train_minus_val": separate.final("train_eval_accuracy", LAST) - separate.final("val_accuracy", LAST),
        "post_val_accuracy": post.final("val_accuracy", LAST),
        "post_val_minus_test": leak,
        "leak_minus_honest_disagreement": leak - honest,
        "post_val_sharing_frame": post.info["val_sharing_frame"],
        "post_val_sharing_recording": post.info["val_sharing_recording"],
        "grouped_abs_val_minus_test": honest,
        "grouped_val_sharing_frame": grouped.info["val_sharing_frame"],
        "grouped_val_sharing_recording": grouped.info["val_sharing_recording"],
        "grouped_test_accuracy": grouped.final("test_accuracy", LAST),
        "more_recordings_test_gain": grouped.final("test_accuracy", LAST) - fewer.final("test_accuracy", LAST),
    }


def out_of_band(measured: dict[str, float]) -> dict[str, tuple[float, tuple[float, float]]]:
    """Each measured number outside its band, with the band."""
    from helpers.scenarios import outside_bands

    return outside_bands(measured, BANDS)


# --- pictures --------------------------------------------------------------------------


def plot_accuracy(ax, history: History, title: str = "") -> None:
    """Train (logged and re-scored), validation and new-recording test accuracy, chance dashed."""
    from helpers.curves import draw_chance, plot_curves

    plot_curves(history, ax, "accuracy", splits=("val", "test"), title=title)
    draw_chance(ax, 1 / int(history.info.get("classes", 10)))
    ax.legend(fontsize=7, loc="upper left")


def draw_story(fig, histories: dict[str, History]) -> None:
    """The three main runs side by side: separate shuffles, random window split, split by recording."""
    from helpers.curves import annotate_epoch

    names = ["X and y shuffled separately", "the post: random window split", "split by recording"]
    axes = fig.subplots(1, 3, sharey=True)
    for ax, name in zip(axes, names, strict=True):
        h = histories[name]
        plot_accuracy(ax, h, title=name)
        last = h.n_epochs
        val, test = h.final("val_accuracy", LAST), h.final("test_accuracy", LAST)
        if name == names[1]:
            annotate_epoch(ax, last, val, f"val − test = {val - test:+.2f}", dy=0.12, dx=-0.3)
        elif name == names[2]:
            annotate_epoch(ax, last, test, f"|val − test| = {abs(val - test):.2f}", dy=-0.25, dx=-0.3)
        else:
            annotate_epoch(ax, last, val, f"val {val:.2f} (chance 0.10)", dy=0.3, dx=-0.3)
    for ax in axes[1:]:
        ax.set_ylabel("")


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
            row[k].imshow(data["x_val"][i, k, ..., 0], cmap="gray", vmin=0, vmax=1)
            row[WINDOW + 1 + k].imshow(data["x_train"][j, k, ..., 0], cmap="gray", vmin=0, vmax=1)
        shared = len(set(data["frames_val"][i]) & set(data["frames_train"][j]))
        same = data["recording_val"][i] == data["recording_train"][j]
        row[WINDOW].text(0.5, 0.5, f"RMS\n{distance:.3f}", ha="center", va="center", fontsize=7)
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
    gap = history.final("val_accuracy", LAST) - history.final("test_accuracy", LAST)
    ax.text(0.99, 0.02, f"val windows sharing a frame with train: {share[0]:.0%}\n"
            f"val windows sharing a recording with train: {share[1]:.0%}\n"
            f"val − test (last {LAST} epochs): {gap:+.2f}",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=7.5,
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})


def make_config(shuffle: str, split: str, recordings: int, stride: int) -> SplitsConfig:
    return SplitsConfig(shuffle=shuffle, split=split, recordings=recordings, stride=stride)


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("split", ["recording", "window"]), "uncached": ("stride", 3), "view": ()}


def knobs() -> list:
    from helpers.widgets import Choice, Levels

    return [
        Choice("shuffle", "shuffle", [("X and y together", "joint"), ("X and y separately (bug)", "separate")],
               "joint"),
        Choice("split", "split", [("random windows (the post)", "window"), ("by recording", "recording")], "window"),
        Levels("recordings", "recordings per class", RECORDINGS, 6),
        Levels("stride", "window stride (frames)", STRIDES, 1),
    ]
