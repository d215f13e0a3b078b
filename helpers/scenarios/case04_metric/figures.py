"""Case 04, draw functions, the panel's knobs and glue."""

from __future__ import annotations

import numpy as np

from helpers.runs import LAST, History
from helpers.scenarios.case04_metric.claims import EXACT, FORUM, GRID, WEIGHTED, loss_ratio
from helpers.scenarios.case04_metric.lab import as_logged
from helpers.scenarios.case04_metric.period import POST_BAD_RATE, period, period_histories
from helpers.scenarios.case04_metric.runs import GOOD_WEIGHT, METRICS, RIVAL_LR, MetricCaseConfig

# --- pictures --------------------------------------------------------------

METRIC_LABEL = {"Accuracy()": "keras.metrics.Accuracy()", "'accuracy'": "'accuracy' (→ BinaryAccuracy)",
                "BinaryAccuracy()": "BinaryAccuracy()",
                "weighted_metrics=['accuracy']": "weighted_metrics=['accuracy']"}
# The column each hypothesis prints as `acc`: (a) compiles Accuracy(), (b) the post's own string.
PRINTED = {EXACT: "Accuracy()", WEIGHTED: "'accuracy'"}
HYPOTHESIS_COLORS = {EXACT: "tab:red", WEIGHTED: "tab:purple"}


def fraction(history: History) -> np.ndarray:
    """Each epoch's end as a fraction of the whole training (the post's 300 epochs and our 30 on one axis)."""
    return history.epochs / history.n_epochs


def _seed_band(ax, x: np.ndarray, curves: list[np.ndarray], color: str, label: str) -> None:
    """Mean of the seeds as a line, their min–max as a shaded band."""
    stack = np.vstack(curves)
    ax.fill_between(x, stack.min(0), stack.max(0), color=color, alpha=0.2, lw=0)
    ax.plot(x, stack.mean(0), "-", color=color, lw=1.6, label=f"{label} ({len(curves)} seeds: mean, min–max)")


def draw_post_vs_hypotheses(fig, seeds: list[dict[str, History]], live: dict[str, list[float]] | None = None,
                            live_label: str = "your run of the post cell") -> None:
    """The post's printed epochs beside hypotheses (a) and (b), each read as its log prints it, x = share of training.

    seeds: one {run name: History} per reference seed; live: a Keras ``history.history`` dict to draw on top.
    """
    axes = fig.subplots(1, 3)
    forum = {k: np.asarray(v, dtype=float) for k, v in FORUM.items()}
    x_forum = forum["epoch"] / 300
    columns = [("val_loss / loss (log scale)", lambda log: log["val_loss"] / log["loss"]),
               ("training 'acc' as printed", lambda log: log["accuracy"]),
               ("validation 'val_acc' as printed", lambda log: log["val_accuracy"])]
    for ax, (title, column) in zip(axes, columns, strict=True):
        for name, metric in PRINTED.items():
            logs = [as_logged(seed[name], metric) for seed in seeds]
            short = "(a) Accuracy(), unweighted" if name == EXACT else "(b) 'accuracy' + class_weight"
            _seed_band(ax, fraction(seeds[0][name]), [column(log) for log in logs], HYPOTHESIS_COLORS[name], short)
        if live is not None:
            log = {k: np.asarray(v, dtype=float) for k, v in live.items()}
            ax.plot(np.arange(1, len(log["loss"]) + 1) / len(log["loss"]), column(log), "--", color="0.2", lw=1,
                    label=live_label)
        ax.plot(x_forum, column(forum), "-o", color="k", ms=5, lw=1, label="the post (epochs 1, 50, …, 300)")
        ax.set_xlabel("share of training done (epoch / last epoch)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[0].axhline(1, color="0.5", lw=1)
    axes[0].set_ylabel("ratio")
    for ax in axes[1:]:
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("accuracy column")
    ratio0 = forum["val_loss"][0] / forum["loss"][0]
    annotate_at = float(x_forum[0])
    from helpers.curves import annotate_epoch

    annotate_epoch(axes[0], annotate_at, ratio0, f"the post, epoch 1: {ratio0:.0f}×", dy=-0.35, dx=0.3)
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8)


SPLIT_RUNS = ("scaled + Adam, tail split", "scaled + Adam, shuffled split", "scaled + Adam, time-aware")


def draw_splits(fig, seeds: list[dict[str, History]]) -> None:
    """val/train loss ratio and validation balanced accuracy for the three splits, every seed a line."""
    from helpers.curves import annotate_epoch, draw_chance

    ax_ratio, ax_bal = fig.subplots(1, 2)
    for i, name in enumerate(SPLIT_RUNS):
        for k, seed in enumerate(seeds):
            h = seed[name]
            label = f"{name} ({len(seeds)} seeds)" if k == 0 else None
            ax_ratio.plot(h.epochs, loss_ratio(h), "-", lw=1.2, color=f"C{i}", label=label)
            ax_bal.plot(h.epochs, h["val_balanced_accuracy"], "-", lw=1.2, color=f"C{i}", label=label)
    ax_ratio.axhline(1, color="0.5", lw=1)
    ax_ratio.set_yscale("log")
    ax_ratio.set_ylabel("val_loss / loss")
    lowest = min(float(np.min(loss_ratio(seed[SPLIT_RUNS[0]])[2:])) for seed in seeds)
    tail0 = seeds[0][SPLIT_RUNS[0]]
    annotate_epoch(ax_ratio, 3, float(loss_ratio(tail0)[2]),
                   f"tail: ≥ {lowest:.1f}× from epoch 3 on all {len(seeds)} seeds", dy=0.25, dx=0.25)
    draw_chance(ax_bal, 0.5, "chance (every part 'good')")
    for text in ax_bal.texts:  # the label under its line, where no curve runs
        text.set(va="top", fontsize=8, color="0.2")
    ax_bal.set_ylim(0.3, 1.0)  # room under chance for the legend
    ax_bal.set_ylabel("validation balanced accuracy")
    for ax, title in ((ax_ratio, "how far validation sits from training"),
                      (ax_bal, "what the model gets right on validation")):
        ax.set_xlabel("epoch")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="lower right")


def draw_grid(fig, seeds: list[dict[str, History]]) -> None:
    """Scaling and Adam apart: final validation balanced accuracy of the four combinations, each seed a dot."""
    from helpers.curves import draw_chance

    ax = fig.subplots()
    for i, ((_, opt), name) in enumerate(GRID.items()):
        values = [seed[name].final("val_balanced_accuracy", LAST) for seed in seeds]
        ax.bar(i, np.mean(values), color="C0" if opt == "SGD" else "C1", alpha=0.5, width=0.6)
        ax.plot([i] * len(values), values, "o", color="k", ms=4)
        ax.text(i, max(values) + 0.02, f"{min(values):.2f}–{max(values):.2f}", ha="center", fontsize=8)
    ax.set_xticks(range(len(GRID)), [f"{inputs} inputs\n{opt}" for inputs, opt in GRID])
    draw_chance(ax, 0.5, "chance")
    ax.set_ylim(0.3, 1.0)
    ax.set_ylabel(f"validation balanced accuracy\n(mean of the last {LAST} epochs)")
    ax.set_title(f"shuffled split, unweighted, 30 epochs: bar = mean of {len(seeds)} seeds, dot = one seed",
                 fontsize=10)
    ax.grid(alpha=0.3, axis="y")


def plot_logged(ax, log: dict, epochs: np.ndarray, title: str, mean_weight: float = 1.0) -> None:
    """Loss and the 'accuracy' column as printed, with the lowest accuracy each loss allows.

    mean_weight: the mean per-row weight of the training loss (class_weight); the floor is then the weighted
    accuracy's, 1 - L / (mean_weight ln 2), and the printed (unweighted) accuracy is not bounded by it.
    """
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
    what = ("unweighted: acc < 1 − L/ln 2" if mean_weight == 1.0
            else f"weighted acc < 1 − L/({mean_weight:.3f}·ln 2); the printed acc is unbounded")
    twin.fill_between(epochs, 0, accuracy_floor(log["loss"], mean_weight), color="tab:red", alpha=0.12,
                      label=f"impossible for the train loss: {what}")
    twin.set_ylim(0, 1.02)
    twin.set_ylabel("accuracy")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="upper center",
              bbox_to_anchor=(0.5, -0.16), ncol=3)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)


def draw_panel(fig, history: History, config: MetricCaseConfig, metric: str = "'accuracy'") -> None:
    """FixPanel view: curves as logged, and each epoch's (loss, accuracy) in the feasible plane."""
    from helpers.curves import plot_accuracy_bound

    left, right = fig.subplots(1, 2)
    log = as_logged(history, metric)
    weighted = " + class_weight" if config.class_weight else ""
    b = history.info.get("train_bad_rate", config.bad_rate)
    mean_weight = config.good_weight * (1 - b) + b
    plot_logged(left, log, history.epochs, f"as Keras prints it, metrics=[{METRIC_LABEL[metric]}]{weighted}",
                mean_weight)
    plot_accuracy_bound(right, {"the post, epoch 1": (FORUM["loss"][0], FORUM["accuracy"][0])},
                        max_loss=max(0.8, float(np.max(log["loss"][1:])) * 1.1))
    right.scatter(log["loss"], log["accuracy"], c=history.epochs, cmap="viridis", s=14, zorder=3,
                  label="each epoch (train), colour = epoch")
    right.legend(fontsize=7, loc="upper right")
    right.set_title("(loss, accuracy) pairs: the red region is impossible (unweighted loss)", fontsize=10)


def make_config(split: str, scaling: bool, optimizer: str, lr: float, good_weight: float,
                bad_rate: float) -> MetricCaseConfig:
    """FixPanel's make_config: the rivals' shared run (scaled, SGD 0.01, tail split) with each knob changed alone."""
    return MetricCaseConfig(split=split, scaling=scaling, optimizer=optimizer, lr=lr, good_weight=good_weight,
                            bad_rate=round(bad_rate, 3))


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("metric", ["BinaryAccuracy()", "'accuracy'", "Accuracy()"]),
              "uncached": ("bad_rate", 0.04), "view": ("metric",)}


def knobs() -> list:
    from helpers.widgets import Choice, Slider, Toggle

    return [
        Choice("metric", "metrics=[…]", [(METRIC_LABEL[m], m) for m in METRICS], "'accuracy'"),
        Choice("split", "validation rows", [("last 20 % (validation_split)", "tail"),
                                            ("shuffled, stratified", "shuffled"),
                                            ("last 20 %, setpoint-relative features", "time-aware")], "tail"),
        Toggle("scaling", "standardise the 31 features", True),
        Choice("optimizer", "optimizer", [("SGD (the post)", "sgd"), ("Adam", "adam")], "sgd"),
        Choice("lr", "learning rate", [("0.001 (the post)", 0.001), (f"{RIVAL_LR} (rivals a, b)", RIVAL_LR)],
               RIVAL_LR),
        Choice("good_weight", "class_weight", [("none", 1.0), (f"{{0: 1, 1: {GOOD_WEIGHT}}} = b/(1−b) (rival b)",
                                                               GOOD_WEIGHT)], 1.0),
        Slider("bad_rate", "share of bad parts", 0.01, 0.1, 0.005, 0.025),
    ]


def draw_fingerprint(fig, seeds: list[dict[str, History]], data: dict | None = None) -> None:
    """The post, (a) and (b) in Keras 2.2.4 and 3.15, each measured in the fingerprint's units, x = share of training.

    Left: training loss / (mean weight x ln 2), which is 1 when every output is 0.5; middle: val_loss / ln 2 (1 at
    outputs of 0.5); right: the accuracy column as printed, with the fingerprint's range [b, 1 - b] shaded.
    """
    from helpers.stats import LN2

    data = data or period()
    axes = fig.subplots(1, 3)
    w_period = data["setup"]["good_weight"]

    def mean_weight(b: float, w: float) -> float:
        return w * (1 - b) + b

    series = []  # (label, color, style, [(x, loss units, val units, acc)])
    for key, label, color, style in (("b_data", "Keras 2.2.4 (b), unweighted validation_data", "tab:green", "-"),
                                     ("a", "Keras 2.2.4 (a), exact acc", "tab:orange", "--")):
        rows = []
        for h in period_histories(key, data):
            w = w_period if key == "b_data" else 1.0
            x = np.arange(1, len(h["loss"]) + 1) / len(h["loss"])
            rows.append((x, h["loss"] / (mean_weight(h["train_bad_rate"], w) * LN2), h["val_loss"] / LN2, h["acc"]))
        series.append((label, color, style, rows))
    for name, metric, label, color, style in ((WEIGHTED, "'accuracy'", "Keras 3.15 (b), validation_split", "tab:purple",
                                               "-"), (EXACT, "Accuracy()", "Keras 3.15 (a), Accuracy()", "tab:red",
                                                      "--")):
        rows = []
        for seed in seeds:
            h, log = seed[name], as_logged(seed[name], metric)
            w = GOOD_WEIGHT if name == WEIGHTED else 1.0
            rows.append((fraction(h), log["loss"] / (mean_weight(h.info["train_bad_rate"], w) * LN2),
                         log["val_loss"] / LN2, log["accuracy"]))
        series.append((label, color, style, rows))
    for label, color, style, rows in series:
        for col, ax in enumerate(axes):
            for i, row in enumerate(rows):
                ax.plot(row[0], row[col + 1], style, color=color, lw=1.2, alpha=0.8,
                        label=f"{label} ({len(rows)} seeds)" if i == 0 else None)
    forum = {k: np.asarray(v, dtype=float) for k, v in FORUM.items()}
    b = POST_BAD_RATE
    post = (forum["loss"] / (mean_weight(b, b / (1 - b)) * LN2), forum["val_loss"] / LN2, forum["accuracy"])
    for ax, values in zip(axes, post, strict=True):
        ax.plot(forum["epoch"] / 300, values, "-o", color="k", ms=5, lw=1, label=f"the post (b = {b} assumed)")
    from matplotlib.ticker import FixedLocator, NullFormatter, StrMethodFormatter

    for ax in axes[:2]:
        ax.axhline(1, color="0.3", lw=1, ls=":")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(FixedLocator([0.05, 0.1, 0.2, 0.5, 1, 2, 5]))
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    axes[0].set_title("training loss / (mean weight × ln 2)\n1 = every output 0.5", fontsize=10)
    axes[1].set_title("val_loss / ln 2\n1 = every output 0.5", fontsize=10)
    axes[2].axhspan(b, 1 - b, color="tab:green", alpha=0.08, label="fingerprint: anywhere in [b, 1 − b]")
    axes[2].set_ylim(-0.02, 1.02)
    axes[2].set_title("the accuracy column as printed", fontsize=10)
    for ax in axes:
        ax.set_xlabel("share of training done (epoch / last epoch)")
        ax.grid(alpha=0.3)
    handles, labels = axes[2].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
