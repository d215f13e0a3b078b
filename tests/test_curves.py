import numpy as np
from matplotlib.figure import Figure

from helpers.curves import annotate_epoch, figure_png, plot_accuracy_bound, plot_curves, plot_overlay
from helpers.runs import History


def history(scale=1.0):
    e = np.arange(1, 11)
    return History(
        metrics={
            "loss": 1 / e, "train_eval_loss": 0.8 / e, "val_loss": scale / e,
            "accuracy": 1 - 0.5 / e, "train_eval_accuracy": 1 - 0.4 / e, "val_accuracy": 1 - 0.6 / e,
        },
        info={"n_val": 90},
    )


def test_plot_curves_draws_each_split_with_a_label():
    fig = Figure()
    ax = fig.subplots()
    plot_curves(history(), ax, "accuracy", error_bars=True)
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["train (running average, as logged)", "train (re-scored at epoch end)", "validation"]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "accuracy"
    assert ax.collections, "binomial error band missing"


def test_overlay_and_annotation():
    fig = Figure()
    ax = fig.subplots()
    plot_overlay({"bug": history(3.0), "fix": history(1.0)}, ax, "val_loss")
    annotate_epoch(ax, 3, 1.0, "here")
    assert [line.get_label() for line in ax.lines][:2] == ["bug", "fix"]
    assert any(t.get_text() == "here" for t in ax.texts)


def test_bound_plot_marks_the_forum_point_impossible():
    fig = Figure()
    ax = fig.subplots()
    plot_accuracy_bound(ax, {"forum": (0.1229, 0.0207), "ours": (0.1, 0.97)})
    markers = [line.get_marker() for line in ax.lines if line.get_linestyle() == "None"]
    assert markers == ["X", "o"]
    assert figure_png(fig).startswith(b"\x89PNG")
