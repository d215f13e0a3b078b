import numpy as np
from matplotlib.figure import Figure

from helpers.curves import annotate_epoch, draw_chance, figure_png, plot_accuracy_bound, plot_curves
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


def test_chance_line_and_annotation():
    fig = Figure()
    ax = fig.subplots()
    plot_curves(history(), ax, "loss")
    draw_chance(ax, 0.1)
    annotate_epoch(ax, 3, 1.0, "here")
    assert any(t.get_text() == "here" for t in ax.texts)
    assert any(t.get_text().strip() == "chance" for t in ax.texts)
    assert any(list(line.get_ydata()) == [0.1, 0.1] for line in ax.lines)


def test_wilson_bars_stay_inside_zero_and_one():
    from helpers.stats import wilson_errors, wilson_interval

    below, above = wilson_errors([0.0, 0.5, 1.0], 25)
    assert below[0] == 0 and above[-1] == 0 and above[0] > 0 and below[-1] > 0  # Wald would give 0 width at 0 and 1
    low, high = wilson_interval(0.0, 25)
    assert low == 0 and 0.05 < high < 0.2


def test_bound_plot_marks_the_forum_point_impossible():
    fig = Figure()
    ax = fig.subplots()
    plot_accuracy_bound(ax, {"forum": (0.1229, 0.0207), "ours": (0.1, 0.97)})
    markers = [line.get_marker() for line in ax.lines if line.get_linestyle() == "None"]
    assert markers == ["X", "o"]
    assert figure_png(fig).startswith(b"\x89PNG")
