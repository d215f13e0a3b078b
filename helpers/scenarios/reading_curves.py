"""Notebook 00: the canonical learning-curve shapes, from real small runs.

A small PyTorch MLP on scikit-learn's 8×8 digits. Each named shape is one
config; the symptom bands below were measured on these seeds and are asserted
by the tests and by the notebook itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import LAST, History, Progress, RunConfig, run
from helpers.validate import check_bool, check_choice, check_range

VAL_SOURCES = ("same", "shifted")


@dataclass(frozen=True)
class CurvesConfig(RunConfig):
    """An MLP on digits; each field is one knob of the shape of its curves.

    n_train: training rows; n_val: validation rows; val_source: "same"
    population or "shifted" (every val image moved 1 pixel, as from another
    camera). A fixed 397-row test set from the training population is always scored;
    hidden: units per hidden layer (2 layers); dropout: after each hidden layer;
    weight_decay: AdamW decay; label_noise: share of training labels replaced at random
    (1.0: no label belongs to its image any more, as when X and y are shuffled separately);
    train_on_val: after the settings were chosen on validation, train the final model on train + val
    (its validation score is then no longer a measurement; the test set is).
    """

    epochs: int = 40
    n_train: int = 1000
    n_val: int = 400
    val_source: str = "same"
    hidden: int = 64
    dropout: float = 0.0
    weight_decay: float = 0.0
    label_noise: float = 0.0
    lr: float = 1e-3
    batch_size: int = 32
    train_on_val: bool = False

    trainer = "helpers.scenarios.reading_curves:train"
    framework = "torch"

    def validate(self) -> None:
        super().validate()
        check_range("n_train", self.n_train, 20, 1000, integer=True)
        check_range("n_val", self.n_val, 10, 400, integer=True)
        check_choice("val_source", self.val_source, VAL_SOURCES)
        check_range("hidden", self.hidden, 1, 1024, integer=True)
        check_range("dropout", self.dropout, 0.0, 0.9)
        check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        check_range("label_noise", self.label_noise, 0.0, 1.0)
        check_range("lr", self.lr, 1e-6, 1.0)
        check_range("batch_size", self.batch_size, 1, 1397, integer=True)
        check_bool("train_on_val", self.train_on_val)


SHAPES: dict[str, CurvesConfig] = {
    "healthy": CurvesConfig(),
    "underfitting": CurvesConfig(hidden=2, lr=3e-4),
    "overfitting": CurvesConfig(epochs=120, n_train=150, hidden=256, label_noise=0.2),
    "population shift": CurvesConfig(val_source="shifted"),
    "noisy validation": CurvesConfig(n_val=25, n_train=200),
    "heavy dropout": CurvesConfig(dropout=0.6, hidden=128, n_train=600),
}

Config = CurvesConfig
SCALES = ("mini",)  # the triage lesson has no forum post, so no forum scale
POSTED: dict = {}  # no post: these are the canonical shapes


def configs(scale: str = "mini") -> dict[str, CurvesConfig]:
    """The six canonical shapes."""
    check_choice("scale", scale, SCALES)
    return dict(SHAPES)


RETRAINED = "healthy, retrained on train + val"


def reference_configs(scale: str = "mini") -> dict[str, CurvesConfig]:
    """Every run a claim rests on: the six shapes, and the healthy one's final model trained on train + val."""
    return {**configs(scale), RETRAINED: SHAPES["healthy"].replace(train_on_val=True)}


# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/bands.py).
BANDS = {
    "healthy_final_val_accuracy": (0.93, 0.99),
    "healthy_final_accuracy_gap": (0.0, 0.06),  # train_eval_accuracy - val_accuracy
    "healthy_val_rise": (1.0, 1.3),  # final val_loss / min val_loss
    "underfitting_final_train_accuracy": (0.1, 0.45),
    "underfitting_final_gap": (-0.06, 0.08),  # train_eval_accuracy - val_accuracy
    "overfitting_best_epoch": (10, 40),
    "overfitting_rise": (1.3, 2.5),  # final val_loss / min val_loss
    "shift_final_loss_ratio": (8.0, 60.0),  # val_loss / test_loss, final epoch
    # over all epochs, train_eval_acc - val_acc: "far below" = 6 binomial SEs of 400 val rows (0.025 each)
    "shift_min_accuracy_gap": (0.15, 0.6),
    "noisy_val_jumpiness": (1.4, 4.0),  # mean |Δ val acc| / mean |Δ test acc|, epoch to epoch
    "noisy_val_max_miss_over_se": (1.2, 4.5),  # max |val acc - test acc| / binomial SE of val
    "dropout_avg_below_rescored": (0.06, 0.2),  # mean(train_eval_acc - running acc)
    # Karpathy's check: before any step the 10-class model is unsure, val loss ≈ ln 10 = 2.303 (within 5 %).
    "healthy_val_loss_at_init": (2.19, 2.42),
    # After choosing settings on validation, the final model trained on train + val (400 more rows) scores
    # higher on the untouched test set, on every seed (397 test rows: ±0.01 is one binomial SE).
    "retrained_test_gain": (0.002, 0.05),
}


def load_data(config: CurvesConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Split digits into train and val (the val rows never overlap the train rows)."""
    from helpers.datasets import digits, rng, shift_images

    images, labels = digits()
    order = rng(1234).permutation(len(labels))  # one fixed shuffle: splits differ only by size
    val_idx = order[: config.n_val]
    train_idx = order[400 : 400 + config.n_train]
    test_idx = order[1400:]
    x_val = images[val_idx]
    if config.val_source == "shifted":
        x_val = shift_images(x_val, dx=1)
    y_train = labels[train_idx].copy()
    if config.label_noise:
        generator = rng(config.seed + 99)
        noisy = generator.random(len(y_train)) < config.label_noise
        y_train[noisy] = generator.integers(0, 10, noisy.sum())
    if config.train_on_val:  # the final model: everything but the test set
        x_all = np.concatenate([images[train_idx].reshape(-1, 64), x_val.reshape(-1, 64)])
        return {"train": (x_all, np.concatenate([y_train, labels[val_idx]])),
                "val": (x_val.reshape(-1, 64), labels[val_idx]),
                "test": (images[test_idx].reshape(-1, 64), labels[test_idx])}
    return {
        "train": (images[train_idx].reshape(-1, 64), y_train),
        "val": (x_val.reshape(-1, 64), labels[val_idx]),
        "test": (images[test_idx].reshape(-1, 64), labels[test_idx]),
    }


def build_model(config: CurvesConfig):
    """Two hidden layers of ``hidden`` units, ReLU, Dropout after each; 10 outputs (logits)."""
    from torch import nn

    return nn.Sequential(
        nn.Linear(64, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
        nn.Linear(config.hidden, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
        nn.Linear(config.hidden, 10),
    )


def train(config: CurvesConfig, progress: Progress | None = None) -> History:
    import torch

    from helpers import torch_lab

    generator = torch_lab.set_seeds(config.seed)
    data = load_data(config)
    model = build_model(config)
    # Karpathy's first check: before any step, a K-class model should be unsure, loss ≈ ln K.
    at_init = torch_lab.score(model, *torch_lab.as_tensors(*data["val"]))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history = torch_lab.fit(
        model, data["train"], {"val": data["val"], "test": data["test"]}, epochs=config.epochs, optimizer=optimizer,
        batch_size=config.batch_size, generator=generator, progress=progress,
    )
    history.info.update(val_loss_at_init=at_init[0], val_accuracy_at_init=at_init[1])
    return history


def measure(histories: dict[str, History] | None = None) -> dict[str, float]:
    """The numbers behind each band, from the runs of SHAPES."""
    from helpers.stats import binomial_se

    h = histories or {name: run(config) for name, config in reference_configs().items()}
    healthy, under, over = h["healthy"], h["underfitting"], h["overfitting"]
    shift, noisy, drop = h["population shift"], h["noisy validation"], h["heavy dropout"]
    best = int(np.argmin(over["val_loss"]))
    half = noisy.n_epochs // 2
    val_acc = noisy["val_accuracy"][half:]
    se = binomial_se(float(val_acc.mean()), SHAPES["noisy validation"].n_val)
    return {
        "healthy_final_val_accuracy": healthy.final("val_accuracy"),
        "healthy_final_accuracy_gap": healthy.final("train_eval_accuracy") - healthy.final("val_accuracy"),
        "healthy_val_rise": healthy.final("val_loss") / float(healthy["val_loss"].min()),
        "underfitting_final_train_accuracy": under.final("train_eval_accuracy"),
        "underfitting_final_gap": under.final("train_eval_accuracy") - under.final("val_accuracy"),
        "overfitting_best_epoch": best + 1,
        "overfitting_rise": over.final("val_loss") / float(over["val_loss"][best]),
        "shift_final_loss_ratio": shift.final("val_loss") / shift.final("test_loss"),
        "shift_min_accuracy_gap": float(np.min(shift["train_eval_accuracy"] - shift["val_accuracy"])),
        "noisy_val_jumpiness": float(np.mean(np.abs(np.diff(noisy["val_accuracy"])))
                                     / max(np.mean(np.abs(np.diff(noisy["test_accuracy"]))), 1e-9)),
        "noisy_val_max_miss_over_se": float(np.max(np.abs(val_acc - noisy["test_accuracy"][half:]))) / max(se, 1e-9),
        "dropout_avg_below_rescored": float(np.mean(drop["train_eval_accuracy"] - drop["accuracy"])),
        "healthy_val_loss_at_init": float(healthy.info["val_loss_at_init"]),
        "retrained_test_gain": h[RETRAINED].final("test_accuracy", LAST) - healthy.final("test_accuracy", LAST),
    }


def out_of_band(measured: dict[str, float]) -> dict[str, tuple[float, tuple[float, float]]]:
    """Each measured number outside its band, with the band."""
    from helpers.scenarios import outside_bands

    return outside_bands(measured, BANDS)


# --- pictures --------------------------------------------------------------

STORY = {  # each panel's title says what that metric's picture shows
    "loss": {
        "healthy": "val tracks train; both level off",
        "underfitting": "both high, together: too little capacity",
        "overfitting": "val loss bottoms out, then rises",
        "population shift": "val high, train and test fall",
        "noisy validation": "25 rows wander off test",
        "heavy dropout": "logged train > val > re-scored",
    },
    "accuracy": {
        "healthy": "val tracks train; both level off",
        "underfitting": "both low, together: too little capacity",
        "overfitting": "train reaches 1, val peaks and slips",
        "population shift": "val far below train and test from epoch 1",
        "noisy validation": "25 rows: 4-point steps",
        "heavy dropout": "logged train < val < re-scored",
    },
}


def annotate_story(ax, name: str, history: History, metric: str) -> None:
    """Put the one arrow each shape's lesson needs."""
    from helpers.curves import annotate_epoch

    if name == "overfitting" and metric == "loss":
        best = int(np.argmin(history["val_loss"]))
        annotate_epoch(ax, best + 1, float(history["val_loss"][best]), f"best epoch {best + 1}")
    elif name == "population shift" and metric == "accuracy":
        annotate_epoch(ax, 1, float(history["val_accuracy"][0]), "gap from epoch 1", dy=-0.2, dx=0.2)
    elif name == "population shift":  # the loss gap needs two or three epochs: all start near ln 10
        annotate_epoch(ax, 3, float(history["val_loss"][2]), "gap open by epoch 3", dy=0.12, dx=0.2)


def draw_gallery(fig, histories: dict[str, History], metric: str = "loss") -> None:
    """A 2×3 grid: one panel per canonical shape."""
    from helpers.curves import plot_curves

    axes = fig.subplots(2, 3, sharex=False).ravel()
    for ax, (name, history) in zip(axes, histories.items(), strict=False):
        splits = ("val", "test") if name in ("population shift", "noisy validation") else ("val",)
        plot_curves(history, ax, metric, splits=splits, error_bars=True, title=f"{name}: {STORY[metric][name]}")
        annotate_story(ax, name, history, metric)
        if ax is not axes[0] and name != "population shift":
            legend = ax.get_legend()
            if legend:
                legend.remove()


def draw_panel(fig, history: History, config: CurvesConfig) -> None:
    """FixPanel view: loss and accuracy of one run, train (both kinds), val and test."""
    from helpers.curves import plot_curves

    ax_loss, ax_acc = fig.subplots(1, 2)
    plot_curves(history, ax_loss, "loss", title="loss")
    plot_curves(history, ax_acc, "accuracy", error_bars=True, title="accuracy (shaded: binomial interval, ±1 SE)")
    ax_loss.set_ylim(0, min(3.0, float(np.nanmax(history["val_loss"])) * 1.1))


def make_config(shape: str, n_train: int, label_noise: float, dropout: float) -> CurvesConfig:
    """Start from a named shape and override three knobs (FixPanel's make_config)."""
    check_choice("shape", shape, SHAPES)
    return SHAPES[shape].replace(n_train=n_train, label_noise=label_noise, dropout=dropout)


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("shape", ["overfitting", "healthy", "population shift", "heavy dropout"]),
              "uncached": ("n_train", 700), "view": ()}


def knobs() -> list:
    from helpers.widgets import Choice, Slider

    return [
        Choice("shape", "start from", [(name, name) for name in SHAPES], "overfitting",
               presets={name: {"n_train": c.n_train, "label_noise": c.label_noise, "dropout": c.dropout}
                        for name, c in SHAPES.items()}),
        Slider("n_train", "training rows", 50, 1000, 50, SHAPES["overfitting"].n_train),
        Slider("label_noise", "share of wrong training labels", 0.0, 0.4, 0.1, SHAPES["overfitting"].label_noise),
        Slider("dropout", "dropout", 0.0, 0.6, 0.2, 0.0),
    ]
