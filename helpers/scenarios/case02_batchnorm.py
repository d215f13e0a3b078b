"""Case 02 — the gap that "closes in sharply": BatchNorm's moving statistics (Keras).

Forum case: Cross Validated 335890. The post's
architecture shape — (Conv → ReLU → BatchNorm) ×2 then MaxPool, four times, then
Dense → softmax — with about 50 steps per epoch, as in the post (6400 samples,
batch 128). Miniature: 16×16 colour textures, 10 classes, 1600 samples, batch 32,
channels an eighth of the post's.

BatchNormalization keeps moving averages of each channel's mean and variance
(momentum 0.99, starting at 0 and 1); inference mode — validation — uses them.
After e epochs of 50 steps the starting values still weigh 0.99^(50·e).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import History, Progress, RunConfig, run
from helpers.validate import check_choice, check_range

OPTIMIZERS = ("adam", "sgd")
SCALES = ("mini", "forum")
BATCH_SIZES = (16, 32, 64, 128)
TRACE_EVERY = 5  # steps between two samples of the BN channel trace
PROBE_ROWS = 64  # training images whose true channel mean the trace compares against
NOISE = 0.15  # pixel noise on top of the class texture
ADAM_LR = 1e-3


@dataclass(frozen=True)
class BatchNormCaseConfig(RunConfig):
    """One training of the post's Conv+BN network.

    momentum: BatchNormalization momentum (Keras default 0.99); optimizer: "adam"
    (lr 1e-3) or "sgd" (lr 0.01, momentum 0.9); batch_size: sets steps per epoch
    (1600 / 32 = 50 at mini scale, 6400 / 128 = 50 at forum scale).
    """

    epochs: int = 10
    momentum: float = 0.99
    optimizer: str = "adam"
    batch_size: int = 32
    scale: str = "mini"

    trainer = "helpers.scenarios.case02_batchnorm:train"
    framework = "keras"

    def validate(self) -> None:
        super().validate()
        check_range("momentum", self.momentum, 0.5, 0.999)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("batch_size", self.batch_size, BATCH_SIZES)
        check_choice("scale", self.scale, SCALES)

    @property
    def sizes(self) -> dict:
        if self.scale == "mini":
            return {"n_train": 1600, "n_val": 400, "classes": 10, "image": (16, 16), "widths": (8, 16, 32, 64),
                    "dense": 64}
        return {"n_train": 6400, "n_val": 1600, "classes": 30, "image": (50, 55), "widths": (64, 128, 256, 512),
                "dense": 512}

    @property
    def steps_per_epoch(self) -> int:
        return int(np.ceil(self.sizes["n_train"] / self.batch_size))


def configs(scale: str = "mini") -> dict[str, BatchNormCaseConfig]:
    """The runs the notebook tells its story with."""
    check_choice("scale", scale, SCALES)
    post = BatchNormCaseConfig(scale=scale, batch_size=32 if scale == "mini" else 128)
    return {
        "the post (Adam, momentum 0.99)": post,
        "momentum 0.9": post.replace(momentum=0.9),
        "SGD, momentum 0.99": post.replace(optimizer="sgd"),
    }


# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/bands.py).
BANDS: dict[str, tuple[float, float]] = {
    # The post's run (Adam, BatchNorm momentum 0.99) at epoch 3: the gap is huge and it is not overfitting.
    "post_epoch3_val_over_train": (50.0, 500.0),  # val loss ≫ logged train loss
    "post_epoch3_train_eval_over_val": (0.5, 2.0),  # the training set in inference mode is as bad as val
    "post_epoch3_val_trainmode_over_train": (1.0, 3.0),  # val in training mode is as good as train
    "post_epoch3_mode_gap": (20.0, 200.0),  # inference-mode / training-mode val loss: the whole gap is the mode
    "post_collapse_within_4_epochs": (10.0, 80.0),  # "closes in sharply": val loss falls ≥ 10× within 4 epochs
    "post_final_val_accuracy": (0.9, 1.0),  # nothing was wrong with the model
    "post_max_honest_gap_stale_phase": (0.0, 0.5),  # |log(val / re-scored train)| ≤ 0.5 (×1.65) while stale
    # BatchNorm momentum 0.9: the mode gap is gone from epoch 2 (within a third either way, against ≥ 20×).
    "fixed_epoch3_val_over_train": (1.0, 3.0),
    "fixed_max_mode_gap_from_epoch2": (0.75, 1.33),
    "fixed_min_mode_gap_from_epoch2": (0.75, 1.33),
    # SGD (momentum 0.9; BatchNorm momentum 0.99): as stale at epoch 3, but val loss falls below 0.5 sooner.
    "sgd_epoch3_val_over_train": (50.0, 1000.0),
    "post_first_epoch_val_below_half": (5, 12),
    "sgd_first_epoch_val_below_half": (3, 6),
    "post_minus_sgd_epochs_to_half": (2, 10),  # SGD moves weights less, so the averages catch up sooner
}


Config = BatchNormCaseConfig
# The post's own numbers (as the question states them).
POSTED = {"n_samples": 6400, "batch_size": 128, "steps_per_epoch": 50, "classes": 30, "conv_bn_blocks": 8}


def reference_configs(scale: str = "mini") -> dict[str, BatchNormCaseConfig]:
    """Every run a claim rests on."""
    return configs(scale)


def load_data(config: BatchNormCaseConfig) -> dict[str, np.ndarray]:
    from helpers.datasets import prototype_images

    s = config.sizes
    x, y = prototype_images(s["n_train"] + s["n_val"], n_classes=s["classes"], size=s["image"], noise=NOISE,
                            seed=config.seed)
    n = s["n_train"]
    return {"x_train": x[:n], "y_train": y[:n], "x_val": x[n:], "y_val": y[n:]}


def build_model(config: BatchNormCaseConfig):
    """(Conv → ReLU → BN) ×2 → MaxPool, four times; Dense → softmax. Returns (model, first BN layer)."""
    from helpers.keras_lab import keras

    s = config.sizes
    layers = keras.layers
    inputs = keras.Input((*s["image"], 3))
    h = inputs
    norms = []
    for width in s["widths"]:
        for _ in range(2):
            h = layers.Conv2D(width, 3, padding="same", activation="relu")(h)
            norm = layers.BatchNormalization(momentum=config.momentum)
            norms.append(norm)
            h = norm(h)
        h = layers.MaxPooling2D()(h)
    h = layers.Flatten()(h)
    h = layers.Dense(s["dense"], activation="relu")(h)
    outputs = layers.Dense(s["classes"], activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    optimizer = (keras.optimizers.Adam(ADAM_LR) if config.optimizer == "adam"
                 else keras.optimizers.SGD(0.01, momentum=0.9))
    # Keras calls batch callbacks once per execution: one trace sample every TRACE_EVERY steps.
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=TRACE_EVERY)
    return model, norms


def train(config: BatchNormCaseConfig, progress: Progress | None = None) -> History:
    from helpers import keras_lab
    from helpers.doctor import score_both_modes
    from helpers.keras_lab import keras

    keras_lab.set_seeds(config.seed)
    d = load_data(config)
    model, norms = build_model(config)
    # The first BN layer: nothing normalised comes before it, so its input is the same in
    # training and inference mode, and the probe sees exactly what its moving mean averages.
    watched = norms[0]
    import tensorflow as tf

    probe_model = keras.Model(model.input, watched.input)
    probe_x = tf.constant(d["x_train"][:PROBE_ROWS])
    probe = tf.function(lambda: tf.reduce_mean(probe_model(probe_x, training=False), axis=(0, 1, 2)))
    channel = int(np.argmax(probe().numpy()))
    trace: dict[str, list[float]] = {"step": [], "moving_mean": [], "batch_mean": []}
    extra: dict[str, list[float]] = {}

    class Watch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            trace["step"].append(int(self.model.optimizer.iterations.numpy()))
            trace["moving_mean"].append(float(watched.moving_mean.numpy()[channel]))
            trace["batch_mean"].append(float(probe().numpy()[channel]))

        def on_epoch_end(self, epoch, logs=None):
            scores = score_both_modes(self.model, d["x_val"], d["y_val"])
            extra.setdefault("val_trainmode_loss", []).append(scores["train_mode_loss"])
            extra.setdefault("val_trainmode_accuracy", []).append(scores["train_mode_accuracy"])

    history = keras_lab.fit(
        model, (d["x_train"], d["y_train"]), epochs=config.epochs, validation=(d["x_val"], d["y_val"]),
        batch_size=config.batch_size, rescore={"train_eval": (d["x_train"], d["y_train"])}, progress=progress,
        callbacks=[Watch()],
    )
    return History(
        metrics={**history.metrics, **extra},
        arrays={k: np.asarray(v, dtype=float) for k, v in trace.items()},
        info={"n_train": len(d["y_train"]), "n_val": len(d["y_val"]), "steps_per_epoch": config.steps_per_epoch,
              "watched_channel": channel, "momentum": config.momentum},
    )


def init_weight(momentum: float, steps: np.ndarray | float) -> np.ndarray | float:
    """How much the initial (0, 1) statistics still weigh after ``steps`` updates: momentum**steps."""
    return np.power(momentum, steps)


def first_epoch_below(values: np.ndarray, level: float) -> int:
    """1-based epoch at which ``values`` first drops below ``level`` (len + 1 if never)."""
    below = np.flatnonzero(np.asarray(values) < level)
    return int(below[0]) + 1 if len(below) else len(values) + 1


def measure(histories: dict[str, History] | None = None) -> dict[str, float]:
    """The numbers behind each claim, from configs('mini')."""
    h = histories or {name: run(c) for name, c in configs().items()}
    post, fixed, sgd = h["the post (Adam, momentum 0.99)"], h["momentum 0.9"], h["SGD, momentum 0.99"]
    e3 = 2  # epoch 3, 0-based

    def biggest_drop(val: np.ndarray, window: int = 4) -> float:
        return max(float(val[i] / val[j]) for i in range(len(val)) for j in range(i + 1, min(len(val), i + window + 1)))

    def mode_gap(r: History) -> np.ndarray:  # inference-mode val loss / training-mode val loss
        return r["val_loss"] / r["val_trainmode_loss"]

    return {
        "post_epoch3_val_over_train": float(post["val_loss"][e3] / post["loss"][e3]),
        "post_epoch3_train_eval_over_val": float(post["train_eval_loss"][e3] / post["val_loss"][e3]),
        "post_epoch3_val_trainmode_over_train": float(post["val_trainmode_loss"][e3] / post["loss"][e3]),
        "post_epoch3_mode_gap": float(mode_gap(post)[e3]),
        "post_collapse_within_4_epochs": biggest_drop(post["val_loss"]),
        "post_final_val_accuracy": post.final("val_accuracy"),
        "fixed_epoch3_val_over_train": float(fixed["val_loss"][e3] / fixed["loss"][e3]),
        "fixed_max_mode_gap_from_epoch2": float(np.max(mode_gap(fixed)[1:])),
        "fixed_min_mode_gap_from_epoch2": float(np.min(mode_gap(fixed)[1:])),
        "post_max_honest_gap_stale_phase": float(np.max(np.abs(np.log(post["val_loss"] / post["train_eval_loss"]))[
            mode_gap(post) >= 5])),
        "post_first_epoch_val_below_half": first_epoch_below(post["val_loss"], 0.5),
        "sgd_first_epoch_val_below_half": first_epoch_below(sgd["val_loss"], 0.5),
        "sgd_epoch3_val_over_train": float(sgd["val_loss"][e3] / sgd["loss"][e3]),
        "post_minus_sgd_epochs_to_half": float(first_epoch_below(post["val_loss"], 0.5)
                                               - first_epoch_below(sgd["val_loss"], 0.5)),
    }


def out_of_band(measured: dict[str, float]) -> dict[str, tuple[float, tuple[float, float]]]:
    """Each measured number outside its band, with the band."""
    from helpers.scenarios import outside_bands

    return outside_bands(measured, BANDS)


# --- pictures --------------------------------------------------------------


def plot_losses(ax, history: History, *, honest: bool = True, title: str = "") -> None:
    """Train (logged and re-scored), val, and val scored in training mode, on a log scale."""
    from helpers.curves import COLORS, plot_curves

    plot_curves(history, ax, "loss", splits=("val",), honest=honest, title=title)
    if "val_trainmode_loss" in history:
        ax.plot(history.epochs, history["val_trainmode_loss"], ":", color=COLORS["val"],
                label="validation scored in training mode")
    ax.set_yscale("log")
    ax.set_ylim(bottom=max(1e-4, float(np.min(history["loss"])) / 3))
    ax.legend(fontsize=7, loc="lower left")


def draw_post(fig, history: History) -> None:
    """The post's curves, then the same run with the honest curve and the mode gap."""
    from helpers.curves import annotate_epoch

    left, right = fig.subplots(1, 2)
    plot_losses(left, history, honest=False, title="as the post plotted it: logged train vs val")
    left.get_lines()[-1].set_visible(False)
    left.legend(handles=left.get_lines()[:2], fontsize=7.5, loc="lower left")
    ratio = history["val_loss"][2] / history["loss"][2]
    annotate_epoch(left, 3, float(history["val_loss"][2]), f"epoch 3: val {ratio:.0f}× train", dy=-0.35, dx=0.22)
    drop = int(np.argmax(-np.diff(np.log(history["val_loss"])))) + 1
    annotate_epoch(right, drop + 1, float(history["val_loss"][drop]), "collapse", dy=0.15, dx=0.12)
    plot_losses(right, history, title="add the train set in inference mode, val in training mode")


def draw_trace(ax, history: History, config: BatchNormCaseConfig) -> None:
    """One BN channel: its moving mean (what inference uses) vs the true mean of its input."""
    steps, moving, true = history.arrays["step"], history.arrays["moving_mean"], history.arrays["batch_mean"]
    ax.plot(steps, true, "-", color="tab:blue", label="true channel mean (training images, current weights)")
    ax.plot(steps, moving, "-", color="tab:red", label=f"moving mean (momentum {config.momentum})")
    for e in range(1, history.n_epochs):
        ax.axvline(e * config.steps_per_epoch, color="0.6", lw=0.6, ls=":")
    ax.set_xlabel(f"training step ({config.steps_per_epoch} per epoch; grey lines = epoch ends)")
    ax.set_ylabel(f"first BN layer, channel {history.info['watched_channel']}: mean")
    twin = ax.twinx()
    twin.plot(steps, init_weight(config.momentum, steps), "--", color="0.4", lw=1,
              label=f"weight of the initial value: {config.momentum}^step")
    twin.set_ylim(0, 1.05)
    twin.set_ylabel("weight of the starting value (0)")
    handles = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)


def draw_mode_gap(fig, histories: dict[str, History]) -> None:
    """Inference-mode val loss over training-mode val loss, per run: 1 = no mode gap."""
    ax = fig.subplots()
    for i, (name, h) in enumerate(histories.items()):
        ax.plot(h.epochs, h["val_loss"] / h["val_trainmode_loss"], "-o", ms=3, color=f"C{i}", label=name)
    ax.axhline(1, color="0.5", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("val loss: inference mode / training mode")
    ax.set_title("the mode gap: how much worse validation is only because of the BN statistics", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def draw_panel(fig, history: History, config: BatchNormCaseConfig, honest: bool = True) -> None:
    """FixPanel view: the loss curves and the BN channel trace."""
    left, right = fig.subplots(1, 2)
    plot_losses(left, history, honest=honest, title=f"{config.optimizer}, BN momentum {config.momentum}, "
                f"batch {config.batch_size} ({config.steps_per_epoch} steps/epoch)")
    draw_trace(right, history, config)


MOMENTA = (0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


def make_config(momentum: float, optimizer: str, batch_size: int) -> BatchNormCaseConfig:
    return BatchNormCaseConfig(momentum=momentum, optimizer=optimizer, batch_size=batch_size)


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("honest", [False, True]), "uncached": ("momentum", 0.95), "view": ("honest",)}


def knobs() -> list:
    from helpers.widgets import Choice, Levels, Toggle

    return [
        Levels("momentum", "BatchNorm momentum", MOMENTA, 0.99),
        Choice("optimizer", "optimizer", [("Adam", "adam"), ("SGD + momentum", "sgd")], "adam"),
        Choice("batch_size", "batch size", [(str(b), b) for b in BATCH_SIZES], 32),
        Toggle("honest", "show the honest train curve (re-scored in inference mode)", True),
    ]
