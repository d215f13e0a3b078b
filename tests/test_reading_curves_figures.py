"""Notebook 00's figures: every accuracy plot carries its chance line and 90 % Wilson shading (read from the
committed reference; nothing trains)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers.curves import draw_baselines, shade_wilson
from helpers.runs import History
from helpers.scenarios import reading_curves as rc
from helpers.stats import wilson_interval


def dashed_levels(ax) -> list[float]:
    return [line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"
            and len(set(line.get_ydata())) == 1 and len(line.get_ydata()) == 2]


def test_baselines_one_line_when_balanced_two_when_not():
    ax = Figure().subplots()
    chance, majority = draw_baselines(ax, np.arange(100) % 10)
    assert chance == 0.1 and majority == 0.1 and len(dashed_levels(ax)) == 1
    ax = Figure().subplots()
    chance, majority = draw_baselines(ax, np.r_[np.zeros(98), np.ones(2)].astype(int))
    assert chance == 0.5 and majority == 0.98 and sorted(dashed_levels(ax)) == [0.5, 0.98]


def test_shade_wilson_is_the_90_percent_interval():
    ax = Figure().subplots()
    h = History(metrics={"val_accuracy": [0.5, 0.8]}, info={"n_val": 25})
    shade_wilson(ax, h, "val")
    band = ax.collections[0].get_paths()[0].vertices
    low, high = wilson_interval(0.8, 25, 0.90)
    assert np.isclose(band[:, 1].min(), wilson_interval(0.5, 25, 0.90)[0]) and np.isclose(band[:, 1].max(), high)
    assert low < 0.8


@pytest.mark.parametrize("draw", ["gallery", "exercise", "panel"])
def test_every_accuracy_panel_has_the_chance_line(draw):
    fig = Figure(figsize=(15, 8))
    if draw == "gallery":
        rc.draw_gallery(fig, rc.shape_runs(), "accuracy")
    elif draw == "exercise":
        rc.draw_exercise(fig)
    else:
        rc.draw_panel(fig, rc.shape_runs()["overfitting"], rc.SHAPES["overfitting"])
    accuracy_axes = [ax for ax in fig.axes if ax.get_ylabel() == "accuracy"]
    assert accuracy_axes
    for ax in accuracy_axes:
        assert 0.1 in dashed_levels(ax), ax.get_title()
        assert ax.collections, ax.get_title()  # the Wilson shading


def test_the_bound_figure_places_every_reference_run_above_the_line():
    fig = Figure()
    ax = fig.subplots()
    rc.draw_bound_figure(ax, {"post": (0.1229, 0.0207)})
    assert 0.1 in dashed_levels(ax)
    assert len(ax.get_lines()) > 6 * 3
