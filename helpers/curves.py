"""Learning-curve plots: train vs val, bug vs fix, and the loss/accuracy bound.

One colour per split everywhere in the suite: training in blue (dashed = the
running average a training loop prints, solid = the training set re-scored in
inference mode at the epoch's end), validation in orange, the independent test
in green.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.runs import History
from helpers.stats import LN2, wilson_errors

COLORS = {"train": "tab:blue", "val": "tab:orange", "test": "tab:green", "train_dev": "tab:green"}
LABELS = {
    "avg": "train (running average, as logged)",
    "train_eval": "train (re-scored at epoch end)",
    "val": "validation",
    "test": "test (independent)",
    "train_dev": "train-dev (held-out training population)",
}


def metric_label(metric: str) -> str:
    return {"loss": "cross-entropy loss", "accuracy": "accuracy"}.get(metric, metric)


def plot_curves(
    history: History,
    ax: Axes,
    metric: str = "loss",
    *,
    splits: Sequence[str] = ("val", "test"),
    honest: bool = True,
    running_average: bool = True,
    error_bars: bool = False,
    title: str | None = None,
) -> Axes:
    """Train and evaluation curves of one run on ``ax``.

    honest: draw the training set re-scored in inference mode (solid blue).
    running_average: draw the logged epoch average (dashed blue).
    error_bars: shade each accuracy's Wilson interval at ±1 s.e. coverage (needs ``n_<split>`` in info).
    """
    x = history.epochs
    if running_average and metric in history:
        ax.plot(x, history[metric], "--", color=COLORS["train"], label=LABELS["avg"])
    if honest and f"train_eval_{metric}" in history:
        ax.plot(x, history[f"train_eval_{metric}"], "-", color=COLORS["train"], label=LABELS["train_eval"])
    for split in splits:
        key = f"{split}_{metric}"
        if key not in history:
            continue
        y = history[key]
        color = COLORS.get(split)
        ax.plot(x, y, "-", color=color, label=LABELS.get(split, split), marker="o", markersize=2.5)
        n = history.info.get(f"n_{split}")
        if error_bars and metric == "accuracy" and n:
            below, above = wilson_errors(y, int(n))
            ax.fill_between(x, y - below, y + above, color=color, alpha=0.2, linewidth=0)
    style_axes(ax, metric, title)
    return ax


def style_axes(ax: Axes, metric: str, title: str | None) -> None:
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric_label(metric))
    if metric == "loss":
        ax.set_ylim(bottom=0)
    if metric.endswith("accuracy"):
        ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7.5, loc="best")


def draw_chance(ax: Axes, chance: float, label: str = "chance", *, horizontal: bool = True) -> None:
    """The chance (or majority) level as a grey dashed line with a small label at its right end."""
    if horizontal:
        ax.axhline(chance, color="0.5", ls="--", lw=1)
        ax.text(1.0, chance, f" {label}", transform=ax.get_yaxis_transform(), ha="right", va="bottom",
                fontsize=7, color="0.4")
    else:
        ax.axvline(chance, color="0.5", ls="--", lw=1)
        ax.text(chance, 1.0, f"{label} ", transform=ax.get_xaxis_transform(), ha="right", va="top",
                fontsize=7, color="0.4")


def shade_wilson(ax: Axes, history: History, split: str, *, level: float = 0.90) -> None:
    """Shade the Wilson interval (``level``, the suite's 90 % by default) of ``split``'s accuracy curve.

    Needs ``n_<split>`` in ``history.info``; draws nothing without it.
    """
    n = history.info.get(f"n_{split}")
    key = f"{split}_accuracy"
    if not n or key not in history:
        return
    y = history[key]
    below, above = wilson_errors(y, int(n), level=level)
    ax.fill_between(history.epochs, y - below, y + above, color=COLORS.get(split, "0.5"), alpha=0.2, linewidth=0)


def draw_baselines(ax: Axes, labels: Sequence[int] | np.ndarray, *, horizontal: bool = True) -> tuple[float, float]:
    """Chance (1/K) and the majority-class rate of ``labels`` as grey dashed lines; returns (chance, majority).

    One line when the two are within 0.02 of each other (balanced classes), two otherwise: an accuracy
    below the majority rate is worse than always answering the largest class.
    """
    counts = np.bincount(np.asarray(labels, dtype=int))
    counts = counts[counts > 0]
    chance, majority = 1.0 / len(counts), float(counts.max() / counts.sum())
    if majority - chance < 0.02:
        draw_chance(ax, chance, f"chance 1/{len(counts)} (majority {majority:.2f})", horizontal=horizontal)
    else:
        draw_chance(ax, chance, f"chance 1/{len(counts)}", horizontal=horizontal)
        draw_chance(ax, majority, f"majority class {majority:.2f}", horizontal=horizontal)
    return chance, majority


def annotate_epoch(ax: Axes, epoch: float, y: float, text: str, *, dy: float = 0.15, dx: float = 0.0) -> None:
    """Mark the epoch where the story happens with a labelled arrow.

    dy, dx: where the label sits, as fractions of the axes' y and x ranges.
    """
    ymin, ymax = ax.get_ylim()
    xmin, xmax = ax.get_xlim()
    ax.axvline(epoch, color="0.5", linestyle=":", linewidth=1)
    ax.annotate(
        text,
        xy=(epoch, y),
        xytext=(epoch + dx * (xmax - xmin), _offset(ax, y, dy, ymin, ymax)),
        ha="center",
        fontsize=8,
        arrowprops={"arrowstyle": "->", "color": "0.3"},
        bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"},
    )


def _offset(ax: Axes, y: float, frac: float, low: float, high: float) -> float:
    """``y`` moved by ``frac`` of the axis height, in log space on a log axis."""
    if ax.get_yscale() == "log":
        return float(10 ** (np.log10(y) + frac * (np.log10(high) - np.log10(low))))
    return y + frac * (high - low)


def plot_accuracy_bound(
    ax: Axes,
    points: Mapping[str, tuple[float, float]] | None = None,
    *,
    max_loss: float = 1.0,
) -> Axes:
    """The (cross-entropy, accuracy) plane with the impossible region shaded.

    points: label -> (loss, accuracy) to place in it, e.g. a forum's epoch line.
    """
    loss = np.linspace(0, max_loss, 200)
    floor = np.clip(1 - loss / LN2, 0, 1)
    ax.fill_between(loss, 0, floor, color="tab:red", alpha=0.18, label="impossible: accuracy < 1 − L/ln 2")
    ax.plot(loss, floor, color="tab:red", linewidth=1.2)
    for i, (label, (l_value, acc)) in enumerate((points or {}).items()):
        impossible = acc < 1 - l_value / LN2
        ax.plot([l_value], [acc], marker="X" if impossible else "o", markersize=9, linestyle="none",
                color=("black", "tab:brown", "tab:pink")[i % 3], label=f"{label}: loss {l_value:.4g}, acc {acc:.4g}")
    ax.set_xlim(0, max_loss)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("mean cross-entropy loss L")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper right")
    return ax


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """Render ``fig`` to PNG bytes (what a widget shows, what tests compare)."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()
