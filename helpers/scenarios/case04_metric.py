"""Case 04 — "loss 0.12, accuracy 0.02": the mislabeled accuracy metric (Keras, tabular).

Forum case: Cross Validated 444546. The post's
model (Dense 31 → 32 → 64 → 64 → 1 sigmoid, SGD lr 0.001, batch 32) on a
generated, time-ordered production log where 2.5 % of parts are bad.

Three lessons live in one config space:
* the metric — every run logs three "accuracies" side by side, because which
  one the ``accuracy`` column holds depends only on ``compile``;
* the split — ``fit(validation_split=0.2)`` takes the last 20 % of rows;
* the imbalance — 97.5 % good parts make accuracy meaningless.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.runs import History, Progress, RunConfig, run
from helpers.validate import check_bool, check_choice, check_range

SPLITS = ("tail", "shuffled", "time-aware")
OPTIMIZERS = ("sgd", "adam")
SCALES = ("mini", "forum")
VAL_FRACTION = 0.2
STEPS_PER_EXECUTION = 25  # same updates, far less Python overhead per batch of 32
SETPOINT_WINDOW = 500  # parts: the trailing median that estimates the current setpoint
# The three things the `accuracy` column can hold, by what `compile` was given.
METRICS = {
    "Accuracy()": "exact",  # keras.metrics.Accuracy(): exact equality of probability and label
    "'accuracy'": "binary",  # the string, resolved from shapes: BinaryAccuracy here
    "BinaryAccuracy()": "binary",
}
FORUM_LOG = Path(__file__).resolve().parents[2] / "data" / "forum" / "003_a8ebacd39794dcdb_log.csv"
FORUM = {"epoch": [1, 50, 100, 150, 200, 250, 300],
         "loss": [0.1229, 0.0563, 0.0414, 0.0366, 0.0329, 0.0330, 0.0315],
         "accuracy": [0.0207, 0.0155, 0.1456, 0.3219, 0.4081, 0.4796, 0.4981],
         "val_loss": [4.3194, 2.6478, 2.0422, 1.2202, 1.8764, 1.7627, 0.7271],
         "val_accuracy": [0.0168, 0.0168, 0.0479, 0.3862, 0.1436, 0.2356, 0.6627]}


POSTED = {"rows_train": 121620, "rows_val": 30405, "loss": "binary_crossentropy", **FORUM}


@dataclass(frozen=True)
class MetricCaseConfig(RunConfig):
    """One training of the post's model.

    split: "tail" (Keras ``validation_split``: the last rows), "shuffled"
    (stratified random rows), "time-aware" (the same last rows as validation,
    but every parameter measured from its trailing median, the current setpoint);
    scaling: standardise features on the training rows; optimizer: "sgd" (the
    post's, lr 0.001) or "adam"; bad_rate: share of bad parts; scale: "mini"
    (8000 rows) or "forum" (152025 rows, 300 epochs — for a GPU).
    """

    epochs: int = 30
    split: str = "tail"
    scaling: bool = False
    optimizer: str = "sgd"
    lr: float = 0.001
    bad_rate: float = 0.025
    batch_size: int = 32
    scale: str = "mini"

    trainer = "helpers.scenarios.case04_metric:train"
    framework = "keras"

    def validate(self) -> None:
        super().validate()
        check_choice("split", self.split, SPLITS)
        check_bool("scaling", self.scaling)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("lr", self.lr, 1e-5, 1.0)
        check_range("bad_rate", self.bad_rate, 0.01, 0.2)
        check_range("batch_size", self.batch_size, 8, 4096, integer=True)
        check_choice("scale", self.scale, SCALES)

    @property
    def n_rows(self) -> int:
        return 8000 if self.scale == "mini" else 152025


def configs(scale: str = "mini") -> dict[str, MetricCaseConfig]:
    """The runs the notebook tells its story with."""
    check_choice("scale", scale, SCALES)
    post = MetricCaseConfig(scale=scale, epochs=30 if scale == "mini" else 300)
    learns = post.replace(scaling=True, optimizer="adam")
    return {
        "the post": post,  # tail split, raw features, SGD 0.001
        "scaled + Adam, tail split": learns,
        "scaled + Adam, shuffled split": learns.replace(split="shuffled"),
        "scaled + Adam, time-aware": learns.replace(split="time-aware"),
    }


# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/bands.py).
BANDS: dict[str, tuple[float, float]] = {
    # keras.metrics.Accuracy() (exact equality) prints pairs the bound forbids, and creeps up as outputs saturate.
    "post_exact_margin_to_floor": (-1.0, -0.05),  # below 1 - L/ln 2 by a clear margin at epoch 2
    "post_epochs_below_floor": (28, 30),  # of 30: all but epoch 1, whose average includes the raw-feature blow-up
    "exact_creep_last_two_thirds": (0.25, 1.0),  # exact "accuracy" climbs by ≥ 0.25 while the loss stalls
    "binary_change_last_two_thirds": (0.0, 0.02),  # the real (binary) accuracy does not move
    "exact_minus_saturated_max": (-0.05, 1e-6),  # exact equality needs a saturated output
    "binary_min_margin_to_floor": (0.0, 0.5),  # the real accuracy never breaks the bound
    # validation_split takes the last rows: a later period.
    "tail_epoch1_ratio": (1.2, 2.5),  # val/train loss at epoch 1: above, not yet far above
    "tail_min_ratio_from_epoch3": (1.5, 30.0),  # from epoch 3 val loss stays ≥ 1.5× train
    "shuffled_epoch1_ratio": (0.4, 1.5),  # a shuffled split starts level
    "tail_final_balanced_accuracy": (0.45, 0.56),  # nothing carries over to the new period (chance 0.5)
    "shuffled_final_balanced_accuracy": (0.6, 0.95),  # the same model on a shuffled split learns the bad parts
    "aware_final_balanced_accuracy": (0.58, 0.95),  # setpoint-relative features carry over to the new period
    # The 98 % majority: accuracy is the base rate, balanced accuracy is chance.
    "majority_accuracy": (0.95, 0.98),
    "post_final_binary_accuracy": (0.95, 0.98),  # exactly the majority rate
    "post_final_balanced_accuracy": (0.48, 0.52),
    "post_final_bad_recall": (0.0, 0.05),
}


# --- data -------------------------------------------------------------------


Config = MetricCaseConfig


def reference_configs(scale: str = "mini") -> dict[str, MetricCaseConfig]:
    """Every run a claim rests on."""
    return configs(scale)


def setpoint_relative(x: np.ndarray, window: int = SETPOINT_WINDOW) -> np.ndarray:
    """Each row minus the median of the ``window`` rows before it (causal: no future rows)."""
    out = np.empty_like(x)
    for start in range(0, len(x), window // 5):
        stop = min(len(x), start + window // 5)
        past = x[max(0, start - window) : start] if start else x[: window // 5]
        out[start:stop] = x[start:stop] - np.median(past, axis=0)
    return out


def split_rows(config: MetricCaseConfig, good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from helpers import splits

    if config.split == "shuffled":
        return splits.stratified_split(good, VAL_FRACTION, seed=config.seed)
    return splits.tail_split(len(good), VAL_FRACTION)


def load_data(config: MetricCaseConfig) -> dict[str, np.ndarray]:
    """Features as the config prepares them, the split's row indices, and labels."""
    from helpers.datasets import production_line

    d = production_line(config.n_rows, bad_rate=config.bad_rate, seed=config.seed)
    x = d["x"]
    if config.split == "time-aware":
        x = setpoint_relative(x)
    train_idx, val_idx = split_rows(config, d["good"])
    if config.scaling:
        mean, std = x[train_idx].mean(0), x[train_idx].std(0) + 1e-8
        x = (x - mean) / std
    return {"x": x.astype("float32"), "y": d["good"], "train_idx": train_idx, "val_idx": val_idx,
            "time": d["time"]}


# --- training ---------------------------------------------------------------


def bad_part_scores(good: np.ndarray, p_good: np.ndarray) -> dict[str, float]:
    """Balanced accuracy, and precision/recall/PR-AUC for the *bad* class."""
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, precision_score, recall_score

    good = good.astype(int)
    pred_good = (p_good >= 0.5).astype(int)
    bad, pred_bad = 1 - good, 1 - pred_good
    return {
        "balanced_accuracy": float(balanced_accuracy_score(good, pred_good)),
        "bad_recall": float(recall_score(bad, pred_bad, zero_division=0.0)),
        "bad_precision": float(precision_score(bad, pred_bad, zero_division=0.0)),
        "bad_pr_auc": float(average_precision_score(bad, 1 - p_good)) if bad.any() else float("nan"),
    }


def build_model(config: MetricCaseConfig):
    from helpers.keras_lab import keras

    model = keras.Sequential([
        keras.Input((31,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    optimizer = (keras.optimizers.SGD(learning_rate=config.lr) if config.optimizer == "sgd"
                 else keras.optimizers.Adam(learning_rate=config.lr))
    model.compile(
        optimizer=optimizer,
        loss="binary_crossentropy",
        # One run, every reading of "accuracy": metrics never change the gradients.
        metrics=[keras.metrics.Accuracy(name="exact"), keras.metrics.BinaryAccuracy(name="binary")],
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


def train(config: MetricCaseConfig, progress: Progress | None = None) -> History:
    from helpers import keras_lab
    from helpers.keras_lab import keras

    keras_lab.set_seeds(config.seed)
    data = load_data(config)
    x, y = data["x"], data["y"][:, None]
    tr, va = data["train_idx"], data["val_idx"]
    model = build_model(config)
    extra: dict[str, list[float]] = {}

    class BadPartScores(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            p = model.predict(x[va], batch_size=1024, verbose=0)[:, 0]
            for key, value in bad_part_scores(data["y"][va], p).items():
                extra.setdefault(f"val_{key}", []).append(value)
            # Accuracy() can only count an output that is *exactly* 0 or 1: the saturated ones.
            extra.setdefault("val_saturated", []).append(float(np.mean((p == 0.0) | (p == 1.0))))

    fit_kwargs = {}
    if config.split == "shuffled":
        train_data, validation = (x[tr], y[tr]), (x[va], y[va])
    else:  # the post's call: Keras slices off the last 20 % itself, before shuffling
        train_data, validation = (x, y), None
        fit_kwargs["validation_split"] = VAL_FRACTION
    history = keras_lab.fit(
        model, train_data, epochs=config.epochs, validation=validation, batch_size=config.batch_size,
        rescore={"train_eval": (x[tr], y[tr])}, progress=progress, callbacks=[BadPartScores()], **fit_kwargs,
    )
    metrics = {**history.metrics, **extra}
    majority = float(max(data["y"][va].mean(), 1 - data["y"][va].mean()))
    info = {"n_train": len(tr), "n_val": len(va), "val_majority_accuracy": majority,
            "val_bad_rate": float(1 - data["y"][va].mean()), "train_bad_rate": float(1 - data["y"][tr].mean())}
    return History(metrics=metrics, info=info)


def as_logged(history: History, metric: str = "Accuracy()") -> dict[str, np.ndarray]:
    """The four columns Keras would have printed had ``compile`` been given ``metric``."""
    check_choice("metric", metric, METRICS)
    kind = METRICS[metric]
    return {"loss": history["loss"], "accuracy": history[kind],
            "val_loss": history["val_loss"], "val_accuracy": history[f"val_{kind}"]}


def resolve_accuracy_string(y_shape: tuple[int, ...], out_units: int) -> str:
    """Which metric class Keras 3 builds for the string 'accuracy', from tensor shapes alone."""
    from helpers.keras_lab import keras  # imported quietly, before any keras submodule

    get_metric = keras.src.trainers.compile_utils.get_metric

    y_true = keras.KerasTensor(y_shape)
    y_pred = keras.KerasTensor((y_shape[0], out_units))
    return type(get_metric("accuracy", y_true, y_pred)).__name__


def measure(histories: dict[str, History] | None = None) -> dict[str, float]:
    """The numbers behind each claim, from configs('mini')."""
    from helpers.stats import accuracy_floor

    h = histories or {name: run(c) for name, c in configs().items()}
    post, tail = h["the post"], h["scaled + Adam, tail split"]
    shuffled, aware = h["scaled + Adam, shuffled split"], h["scaled + Adam, time-aware"]
    third = tail.n_epochs // 3
    return {
        # the metric
        "post_exact_margin_to_floor": float(np.max((post["exact"] - accuracy_floor(post["loss"]))[1:])),
        "post_epochs_below_floor": int(np.sum(post["exact"] < accuracy_floor(post["loss"]))),
        "exact_creep_last_two_thirds": float(shuffled["exact"][-1] - shuffled["exact"][third]),
        "binary_change_last_two_thirds": float(abs(shuffled["binary"][-1] - shuffled["binary"][third])),
        "exact_minus_saturated_max": max(float(np.max(r["val_exact"] - r["val_saturated"])) for r in h.values()),
        "binary_min_margin_to_floor": min(
            float(np.min(r[k] - accuracy_floor(r[k.replace("binary", "loss")])))
            for r in h.values() for k in ("binary", "val_binary")),
        # the split
        "tail_epoch1_ratio": float(tail["val_loss"][0] / tail["loss"][0]),
        "tail_min_ratio_from_epoch3": float(np.min(tail["val_loss"][2:] / tail["loss"][2:])),
        "shuffled_epoch1_ratio": float(shuffled["val_loss"][0] / shuffled["loss"][0]),
        "tail_final_balanced_accuracy": tail.final("val_balanced_accuracy"),
        "shuffled_final_balanced_accuracy": shuffled.final("val_balanced_accuracy"),
        "aware_final_balanced_accuracy": aware.final("val_balanced_accuracy"),
        # the imbalance
        "majority_accuracy": float(post.info["val_majority_accuracy"]),
        "post_final_binary_accuracy": post.final("val_binary"),
        "post_final_balanced_accuracy": post.final("val_balanced_accuracy"),
        "post_final_bad_recall": post.final("val_bad_recall"),
    }


def out_of_band(measured: dict[str, float]) -> dict[str, tuple[float, tuple[float, float]]]:
    """Each measured number outside its band, with the band."""
    from helpers.scenarios import outside_bands

    return outside_bands(measured, BANDS)


# --- pictures --------------------------------------------------------------

METRIC_LABEL = {"Accuracy()": "keras.metrics.Accuracy()", "'accuracy'": "'accuracy' (→ BinaryAccuracy)",
                "BinaryAccuracy()": "BinaryAccuracy()"}


def plot_logged(ax, log: dict, epochs: np.ndarray, title: str) -> None:
    """Loss and the 'accuracy' column as printed, with the lowest accuracy each loss allows."""
    from helpers.curves import COLORS
    from helpers.stats import accuracy_floor

    ax.plot(epochs, log["loss"], "-o", ms=3, color=COLORS["train"], label="loss")
    ax.plot(epochs, log["val_loss"], "-o", ms=3, color=COLORS["val"], label="val_loss")
    ax.set_ylabel("binary cross-entropy")
    ax.set_xlabel("epoch")
    ax.set_yscale("log")
    twin = ax.twinx()
    twin.plot(epochs, log["accuracy"], "--s", ms=3, color=COLORS["train"], label="acc (as printed)")
    twin.plot(epochs, log["val_accuracy"], "--s", ms=3, color=COLORS["val"], label="val_acc (as printed)")
    twin.fill_between(epochs, 0, accuracy_floor(log["loss"]), color="tab:red", alpha=0.12,
                      label="impossible for the train loss: acc < 1 − L/ln 2")
    twin.set_ylim(0, 1.02)
    twin.set_ylabel("accuracy")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="upper center",
              bbox_to_anchor=(0.5, -0.16), ncol=3)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)


def draw_forum_vs_ours(fig, history: History) -> None:
    """The post's printed epochs beside our reproduction, both read as printed."""
    left, right = fig.subplots(1, 2)
    forum = {k: np.asarray(v, dtype=float) for k, v in FORUM.items()}
    plot_logged(left, forum, forum["epoch"], "the forum post (7 printed epochs of 300)")
    plot_logged(right, as_logged(history, "Accuracy()"), history.epochs,
                "our miniature, compiled with Accuracy()")


def draw_metric(fig, history: History) -> None:
    """Three readings of 'accuracy' from one training, and the saturated-output share."""
    from helpers.curves import annotate_epoch
    from helpers.stats import accuracy_floor

    ax = fig.subplots()
    e = history.epochs
    ax.fill_between(e, 0, accuracy_floor(history["val_loss"]), color="tab:red", alpha=0.12,
                    label="impossible for val loss: acc < 1 − L/ln 2")
    ax.plot(e, history["val_binary"], "-o", ms=3, color="tab:green", label="BinaryAccuracy() = 'accuracy'")
    ax.plot(e, history["val_exact"], "-o", ms=3, color="tab:red", label="Accuracy(): exact equality")
    ax.plot(e, history["val_saturated"], ":", color="0.3", label="share of outputs exactly 0.0 or 1.0")
    ax.plot(e, history["val_balanced_accuracy"], "-", color="tab:purple", label="balanced accuracy")
    first = int(np.argmax(history["val_exact"] > 0.05))
    annotate_epoch(ax, e[first], float(history["val_exact"][first]), "outputs start to saturate", dy=0.25, dx=0.1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation 'accuracy'")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="center right")


def draw_splits(fig, histories: dict[str, History]) -> None:
    """val/train loss ratio and balanced accuracy for the three splits."""
    from helpers.curves import annotate_epoch

    ax_ratio, ax_bal = fig.subplots(1, 2)
    for i, (name, h) in enumerate(histories.items()):
        ax_ratio.plot(h.epochs, h["val_loss"] / h["loss"], "-o", ms=3, color=f"C{i}", label=name)
        ax_bal.plot(h.epochs, h["val_balanced_accuracy"], "-o", ms=3, color=f"C{i}", label=name)
    ax_ratio.axhline(1, color="0.5", lw=1)
    ax_ratio.set_yscale("log")
    ax_ratio.set_ylabel("val_loss / loss")
    first = next(iter(histories.values()))
    annotate_epoch(ax_ratio, 3, float(first["val_loss"][2] / first["loss"][2]), "≥ 5× from epoch 3", dy=0.1, dx=0.2)
    ax_bal.axhline(0.5, color="0.5", lw=1, ls="--")
    ax_bal.text(1, 0.51, "chance (always 'good')", fontsize=7.5, color="0.4")
    ax_bal.set_ylim(0.4, 1.0)
    ax_bal.set_ylabel("validation balanced accuracy")
    for ax, title in ((ax_ratio, "how far validation sits from training"),
                      (ax_bal, "what the model gets right on validation")):
        ax.set_xlabel("epoch")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5)


def draw_drift(fig, config: MetricCaseConfig | None = None, n_params: int = 2) -> None:
    """Raw values of the parameters the tool change moved most, with the tail split's rows shaded."""
    from helpers.datasets import production_line

    config = config or MetricCaseConfig()
    d = production_line(config.n_rows, bad_rate=config.bad_rate, seed=config.seed)
    n_train = int(config.n_rows * (1 - VAL_FRACTION))
    sp = d["setpoint"]
    step = np.abs(sp[n_train] - sp[n_train - 1]) / (d["x"][:n_train].std(0) + 1e-9)
    params = tuple(int(j) for j in np.argsort(step)[::-1][:n_params])
    axes = fig.subplots(1, len(params))
    for ax, j in zip(axes, params, strict=True):
        ax.plot(np.arange(config.n_rows), d["x"][:, j], ".", ms=1, color="0.6", label="each part")
        ax.plot(np.arange(config.n_rows), d["setpoint"][:, j], "-", color="k", lw=1.2, label="process setpoint")
        bad = d["good"] == 0
        ax.plot(np.flatnonzero(bad), d["x"][bad, j], "x", ms=3, color="tab:red", label="bad part")
        ax.axvspan(n_train, config.n_rows, color="tab:orange", alpha=0.15, label="validation_split=0.2 takes these")
        ax.set_xlabel("part number (time order)")
        ax.set_ylabel(f"parameter {j}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="best", markerscale=3)


def draw_panel(fig, history: History, config: MetricCaseConfig, metric: str = "Accuracy()") -> None:
    """FixPanel view: curves as logged, and each epoch's (loss, accuracy) in the feasible plane."""
    from helpers.curves import plot_accuracy_bound

    left, right = fig.subplots(1, 2)
    log = as_logged(history, metric)
    plot_logged(left, log, history.epochs, f"as Keras prints it, metrics=[{METRIC_LABEL[metric]}]")
    plot_accuracy_bound(right, {"forum, epoch 1": (FORUM["loss"][0], FORUM["accuracy"][0])},
                        max_loss=max(0.8, float(np.max(log["loss"][1:])) * 1.1))
    right.scatter(log["loss"], log["accuracy"], c=history.epochs, cmap="viridis", s=14, zorder=3,
                  label="each epoch (train), colour = epoch")
    right.legend(fontsize=7, loc="upper right")
    right.set_title("(loss, accuracy) pairs: the red region is impossible", fontsize=10)


def make_config(split: str, scaling: bool, optimizer: str, bad_rate: float) -> MetricCaseConfig:
    """FixPanel's make_config: the post's run with four knobs changed."""
    return MetricCaseConfig(split=split, scaling=scaling, optimizer=optimizer, bad_rate=round(bad_rate, 3))


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("metric", ["BinaryAccuracy()", "'accuracy'", "Accuracy()"]),
              "uncached": ("bad_rate", 0.04), "view": ("metric",)}


def knobs() -> list:
    from helpers.widgets import Choice, Slider, Toggle

    return [
        Choice("metric", "metrics=[…]", [(METRIC_LABEL[m], m) for m in METRICS], "Accuracy()"),
        Choice("split", "validation rows", [("last 20 % (validation_split)", "tail"),
                                            ("shuffled, stratified", "shuffled"),
                                            ("last 20 %, setpoint-relative features", "time-aware")], "tail"),
        Toggle("scaling", "standardise the 31 features", False),
        Choice("optimizer", "optimizer", [("SGD lr 0.001 (the post)", "sgd"), ("Adam lr 0.001", "adam")], "sgd"),
        Slider("bad_rate", "share of bad parts", 0.01, 0.1, 0.005, 0.025),
    ]
