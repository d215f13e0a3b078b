"""Notebook 00, draw functions, the exercise, the panel's knobs and glue."""

from __future__ import annotations

import numpy as np

from helpers.runs import History
from helpers.scenarios.reading_curves.claims import STORY, _reference_seeds, train_labels
from helpers.scenarios.reading_curves.runs import SHAPES, CurvesConfig
from helpers.validate import check_choice


def annotate_story(ax, name: str, history: History, metric: str) -> None:
    """Put the one arrow each shape's lesson needs."""
    from helpers.curves import annotate_epoch

    if name == "overfitting" and metric == "loss":
        best = int(np.argmin(history["val_loss"]))
        annotate_epoch(ax, best + 1, float(history["val_loss"][best]), f"best epoch {best + 1}", dy=0.25)
    elif name == "population shift" and metric == "accuracy":
        annotate_epoch(ax, 1, float(history["val_accuracy"][0]), "gap from epoch 1", dy=-0.2, dx=0.2)
    elif name == "population shift":
        best = int(np.argmin(history["val_loss"]))
        annotate_epoch(ax, best + 1, float(history["val_loss"][best]), "val loss rises, val acc too", dy=0.2, dx=0.3)


def plot_run(ax, history: History, metric: str, title: str | None = None, *, legend: bool = True) -> None:
    """One run's train (logged and re-scored), val and train-dev curves; on accuracy, 90 % Wilson bands
    and the chance line."""
    from helpers.curves import draw_baselines, plot_curves, shade_wilson

    plot_curves(history, ax, metric, splits=("val", "train_dev"), title=title)
    if metric == "accuracy":
        for split in ("val", "train_dev"):
            shade_wilson(ax, history, split, level=0.90)
        draw_baselines(ax, train_labels())
    legend_box = ax.get_legend()
    if legend_box and not legend:
        legend_box.remove()


def draw_gallery(fig, histories: dict[str, History], metric: str = "loss") -> None:
    """A 2×3 grid: one panel per canonical shape."""
    axes = fig.subplots(2, 3, sharex=False).ravel()
    for i, (ax, (name, history)) in enumerate(zip(axes, histories.items(), strict=False)):
        plot_run(ax, history, metric, f"{name}: {STORY[metric][name]}", legend=i == 0)
        annotate_story(ax, name, history, metric)
        if metric == "loss" and name == "population shift":
            ax.set_ylim(0, 3.2)
    if metric == "accuracy":
        fig.suptitle("shaded: 90 % Wilson interval of each accuracy (binomial, its split's size); "
                     "grey dashed: chance", fontsize=9)


def draw_panel(fig, history: History, config: CurvesConfig) -> None:
    """FixPanel view: loss and accuracy of one run: train (both kinds), val and train-dev."""
    ax_loss, ax_acc = fig.subplots(1, 2)
    plot_run(ax_loss, history, "loss", "loss")
    plot_run(ax_acc, history, "accuracy", "accuracy (shaded: 90 % Wilson interval)", legend=False)
    ax_loss.set_ylim(0, min(3.0, float(np.nanmax(history["val_loss"])) * 1.1))


def draw_bound_figure(ax, points: dict[str, tuple[float, float]]) -> None:
    """The (loss, accuracy) plane: the impossible region, ``points`` (e.g. a forum line), and every epoch's
    validation pair of every reference run on all seeds; the chance line and L = ln 2 marked."""
    from helpers.curves import draw_baselines, plot_accuracy_bound

    plot_accuracy_bound(ax, points, max_loss=2.9)
    seeds = _reference_seeds()
    for i, name in enumerate(SHAPES):
        for k, s in enumerate(seeds):
            h = s[name]
            ax.plot(h["val_loss"], h["val_accuracy"], ".", markersize=2.5, color=f"C{i}", alpha=0.5,
                    label=f"{name} (val, every epoch, 3 seeds)" if k == 0 else None)
    draw_baselines(ax, train_labels())
    ax.axvline(float(np.log(2)), color="0.5", ls="--", lw=1)
    ax.text(float(np.log(2)) + 0.03, 0.03, "L = ln 2: from here on the floor is 0", fontsize=7, color="0.3")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title("Cross-entropy bounds accuracy from below; every real run sits far above the line", fontsize=10)


EXERCISE = ("population shift", "overfitting", "underfitting", "heavy dropout", "healthy")  # shuffled by LETTERS
LETTERS = "PQRST"
EXERCISE_ORDER = (2, 0, 4, 1, 3)  # P underfitting, Q population shift, R healthy, S overfitting, T heavy dropout
EXERCISE_SEED = 2  # another seed than the gallery's, so the answer is not a picture seen above


def exercise_runs() -> dict[str, History]:
    """The five unlabelled runs, by letter (reference seed 2)."""
    s = _reference_seeds()[EXERCISE_SEED]
    return {letter: s[EXERCISE[i]] for letter, i in zip(LETTERS, EXERCISE_ORDER, strict=True)}


def draw_exercise(fig) -> None:
    """Five unlabelled runs: loss above, accuracy below; the student names each shape."""
    runs_ = exercise_runs()
    axes = fig.subplots(2, len(runs_))
    for col, (letter, history) in enumerate(runs_.items()):
        plot_run(axes[0, col], history, "loss", f"run {letter}: loss", legend=col == 0)
        plot_run(axes[1, col], history, "accuracy", f"run {letter}: accuracy", legend=False)
        axes[0, col].set_ylim(0, 3.2)
    fig.suptitle("Name each run's shape (shaded: 90 % Wilson interval; grey dashed: chance)", fontsize=10)


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
