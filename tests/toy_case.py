"""A toy case, written by the README's "How to add a case" recipe (step 1) and nothing else.

tests/test_toy_case.py copies this file to ``helpers/scenarios/case99_toy.py`` in a copy of the package and
follows the rest of the recipe with it: register it, train its reference, hold it to the contract. The
"post": a logistic regression whose validation labels were shuffled with the images' file names (a bug of
the X and y kind), so validation sits at chance while training fits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import History, Progress, RunConfig, report_epoch
from helpers.validate import check_choice, check_range

SCALES = ("mini", "forum")
SIZES = {"mini": 400, "forum": 4000}
LEARNING_RATE = 0.5


@dataclass(frozen=True)
class ToyCaseConfig(RunConfig):
    """One knob: whether the validation labels were shuffled apart from their rows."""

    epochs: int = 20
    scale: str = "mini"
    shuffled_val: bool = False

    trainer = "helpers.scenarios.case99_toy:train"
    framework = "numpy"

    def validate(self) -> None:
        super().validate()
        check_choice("scale", self.scale, SCALES)
        check_range("epochs", self.epochs, 1, 200, integer=True)


Config = ToyCaseConfig
POSTED = {"train_accuracy": 0.95, "val_accuracy": 0.5}
POST = "the post (validation labels shuffled)"


def configs(scale: str = "mini") -> dict[str, ToyCaseConfig]:
    check_choice("scale", scale, SCALES)
    fixed = ToyCaseConfig(scale=scale)
    return {POST: fixed.replace(shuffled_val=True), "fixed": fixed}


def reference_configs(scale: str = "mini") -> dict[str, ToyCaseConfig]:
    return configs(scale)


BANDS: dict[str, tuple[float, float]] = {
    "post_train_minus_val": (0.25, 0.6),  # validation at chance, training fitted
    "fixed_train_minus_val": (-0.1, 0.1),
}


def load_data(config: ToyCaseConfig) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(config.seed)
    n = SIZES[config.scale]
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] + x[:, 1] > 0).astype(float)
    cut = n * 3 // 4
    y_val = rng.permutation(y[cut:]) if config.shuffled_val else y[cut:]
    return {"x_train": x[:cut], "y_train": y[:cut], "x_val": x[cut:], "y_val": y_val}


def build_model(config: ToyCaseConfig) -> np.ndarray:
    return np.zeros(3)


def _accuracy(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(((x @ w[:2] + w[2]) > 0) == y))


def train(config: ToyCaseConfig, progress: Progress | None = None) -> History:
    d, w = load_data(config), build_model(config)
    metrics: dict[str, list[float]] = {"accuracy": [], "val_accuracy": []}
    for epoch in range(config.epochs):
        p = 1 / (1 + np.exp(-(d["x_train"] @ w[:2] + w[2])))
        grad = p - d["y_train"]
        w = w - LEARNING_RATE * np.append(d["x_train"].T @ grad, grad.sum()) / len(grad)
        metrics["accuracy"].append(_accuracy(w, d["x_train"], d["y_train"]))
        metrics["val_accuracy"].append(_accuracy(w, d["x_val"], d["y_val"]))
        report_epoch(metrics)
        if progress:
            progress(epoch + 1, config.epochs)
    return History(metrics=metrics)


def measure(histories: dict[str, History]) -> dict[str, float]:
    def gap(h: History) -> float:
        return h.final("accuracy", 3) - h.final("val_accuracy", 3)

    return {"post_train_minus_val": gap(histories[POST]), "fixed_train_minus_val": gap(histories["fixed"])}


def knobs() -> list:
    from helpers.widgets import Toggle

    return [Toggle("shuffled_val", "validation labels shuffled (bug)", True)]


def make_config(shuffled_val: bool) -> ToyCaseConfig:
    return ToyCaseConfig(shuffled_val=shuffled_val)


def draw_panel(fig, history: History, config: ToyCaseConfig) -> None:
    ax = fig.subplots()
    ax.plot(history.epochs, history["accuracy"], label="train")
    ax.plot(history.epochs, history["val_accuracy"], label="validation")
    ax.legend()


PANEL_DEMO = {"toggle": ("shuffled_val", [False, True]), "uncached": ("shuffled_val", False), "view": ()}
