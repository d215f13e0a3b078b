"""Case 02, draw functions, the panel's knobs and glue."""

from __future__ import annotations

import numpy as np

from helpers.runs import History
from helpers.scenarios.case02_batchnorm.claims import at_step, init_weight, mode_gap, reference_runs
from helpers.scenarios.case02_batchnorm.runs import (
    BATCH_SIZES,
    FIXED,
    LOW_LR,
    LR_SCALES,
    OPTIMIZERS,
    POST,
    SGD,
    BatchNormCaseConfig,
    configs,
)
from helpers.validate import check_choice

# --- pictures --------------------------------------------------------------

RUN_COLORS = {POST: "C0", FIXED: "C1", SGD: "C2", LOW_LR: "C3"}  # one colour per run in every figure


def plot_losses(ax, history: History, *, honest: bool = True, title: str = "", legend: bool = True) -> None:
    """Train (logged and re-scored), val, and val scored in training mode, on a log scale, with ln 10."""
    from helpers.curves import COLORS, draw_chance, plot_curves

    plot_curves(history, ax, "loss", splits=("val",), honest=honest, title=title)
    if "val_trainmode_loss" in history:
        ax.plot(history.epochs, history["val_trainmode_loss"], ":", color=COLORS["val"],
                label="validation scored in training mode")
    ax.set_yscale("log")
    ax.set_ylim(bottom=max(1e-4, float(np.min(history["loss"])) / 3), top=8)
    draw_chance(ax, float(np.log(history.info.get("classes", 10))), "ln 10: chance")
    if legend:
        ax.legend(fontsize=7, loc="lower left")


def _seed_lines(ax, seeds: list[History], first_label: bool) -> None:
    """Every seed's curves on ``ax``; only the first seed's lines get legend labels."""
    for i, h in enumerate(seeds):
        before = len(ax.get_lines())
        ax.set_yscale("linear")  # plot_curves styles a linear axis; plot_losses makes it log again
        plot_losses(ax, h, honest=first_label, legend=False)
        if i:
            for line in ax.get_lines()[before:]:
                line.set_label("_")


def draw_post(fig, seeds: list[History]) -> None:
    """Left: the poster's view (logged train vs val, linear axis). Right: the same runs on a log axis, with the
    training set re-scored in inference mode and validation scored in training mode. One line per seed."""
    from helpers.curves import COLORS, draw_chance

    left, right = fig.subplots(1, 2)
    for i, h in enumerate(seeds):
        label = (lambda text: text) if i == 0 else (lambda text: "_")
        left.plot(h.epochs, h["loss"], "--", color=COLORS["train"], label=label("train (running average, as logged)"))
        left.plot(h.epochs, h["val_loss"], "-o", ms=2.5, color=COLORS["val"], label=label("validation"))
    left.set_ylim(0, 3)
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy loss")
    left.grid(alpha=0.3)
    draw_chance(left, float(np.log(10)), "ln 10: chance")
    left.set_title(f"the poster's view: linear axis ({len(seeds)} seeds)", fontsize=10)
    left.legend(fontsize=7.5, loc="upper right")
    _seed_lines(right, seeds, True)
    right.set_title("the same runs, log axis, with two more curves", fontsize=10)
    right.legend(fontsize=7, loc="lower left")


def _reference_name(optimizer: str, momentum: float) -> str | None:
    """The reference run trained with these settings (Adam at lr 1e-3 or SGD at 0.01), if there is one."""
    for name, config in configs().items():
        if (config.optimizer, config.momentum, config.lr_scale) == (optimizer, momentum, 1.0):
            return name
    return None


def show_live(history, *, optimizer: str, momentum: float) -> None:
    """Draw a run trained in the notebook (a Keras History) over the reference seeds' range of the same settings."""
    import matplotlib.pyplot as plt

    check_choice("optimizer", optimizer, OPTIMIZERS)
    name = _reference_name(optimizer, momentum)
    seeds = reference_runs()[name] if name else []
    fig = plt.figure(figsize=(8, 3.8), layout="constrained")
    title = f"your run: {'Adam' if optimizer == 'adam' else 'SGD (momentum 0.9)'}, BatchNorm momentum {momentum}"
    draw_live(fig, history.history, seeds, title + ("" if seeds else " (no reference run with these settings)"))
    plt.show()


def draw_live(fig, logged: dict, seeds: list[History], title: str) -> None:
    """A run trained here (Keras ``history.history``) against the reference seeds' range of the same config,
    on a linear axis as the poster plotted it."""
    from helpers.curves import COLORS, draw_chance

    ax = fig.subplots()
    epochs = np.arange(1, len(logged["loss"]) + 1)
    for key, color, label in (("loss", COLORS["train"], "train (logged)"), ("val_loss", COLORS["val"], "validation")):
        if seeds:
            stack = np.array([h[key][: len(epochs)] for h in seeds])
            ax.fill_between(epochs, stack.min(0), stack.max(0), color=color, alpha=0.18, lw=0,
                            label=f"{label}: range over {len(seeds)} reference seeds")
        ax.plot(epochs, logged[key], "-o" if key == "val_loss" else "--", ms=3, color=color,
                label=f"{label}: this run")
    draw_chance(ax, float(np.log(10)), "ln 10: chance")
    ax.set_ylim(0, max(3.0, float(np.max(logged["val_loss"])) * 1.05))
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3)


def show_trace_figure() -> None:
    """The post's run: the first layer's moving mean and the eighth layer's variances, each seed a line."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 4.4), layout="constrained")
    draw_traces(fig, reference_runs()[POST], configs()[POST])
    plt.show()


def show_deep_ratio_figure() -> None:
    """The eighth layer's catch-up for the post, SGD and the lower learning rate."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(9, 3.8), layout="constrained")
    runs = reference_runs()
    draw_deep_ratio(fig, {name: runs[name] for name in (POST, SGD, LOW_LR)}, configs()[POST])
    plt.show()


def draw_traces(fig, seeds: list[History], config: BatchNormCaseConfig) -> None:
    """Left: the first BN layer's moving mean catching up. Right: the deep layer's variances. One line per seed."""
    left, right = fig.subplots(1, 2)
    draw_first_mean(left, seeds, config)
    draw_deep_variance(right, seeds, config)


def _epoch_lines(ax, history: History, config: BatchNormCaseConfig) -> None:
    for e in range(1, history.n_epochs):
        ax.axvline(e * config.steps_per_epoch, color="0.7", lw=0.6, ls=":")
    ax.set_xlabel(f"training step ({config.steps_per_epoch} per epoch; dotted lines = epoch ends)")
    ax.grid(alpha=0.3)


def _span(values: list[float], spec: str) -> str:
    """'low–high' over seeds, or the one value of a single run."""
    low, high = format(min(values), spec), format(max(values), spec)
    return low if low == high else f"{low}–{high}"


def draw_first_mean(ax, seeds: list[History], config: BatchNormCaseConfig) -> None:
    """First BN layer, its brightest channel: moving mean as a share of the batch mean, against 1 − m^t."""
    from helpers.curves import annotate_epoch

    for i, h in enumerate(seeds):
        steps = h.arrays["step"]
        ax.plot(steps, h.arrays["moving_mean"] / h.arrays["batch_mean"], color="tab:red", lw=1,
                label="moving mean / batch mean (each seed)" if i == 0 else "_")
    steps = seeds[0].arrays["step"]
    ax.plot(steps, 1 - init_weight(config.momentum, steps), "--", color="0.3", lw=1,
            label=f"1 − {config.momentum}^step: the share a constant would have reached")
    shares = [at_step(h, "moving_mean", 250) / at_step(h, "batch_mean", 250) for h in seeds]
    annotate_epoch(ax, 250, float(np.mean(shares)), f"step 250: {_span(shares, '.0%')} caught up",
                   dy=-0.35, dx=0.05)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("first BN layer: moving mean, share of the batch mean")
    ax.set_title("first layer: the moving mean catches up as 1 − 0.99^t", fontsize=10)
    _epoch_lines(ax, seeds[0], config)
    ax.legend(fontsize=7, loc="lower right")


def draw_deep_variance(ax, seeds: list[History], config: BatchNormCaseConfig) -> None:
    """Eighth BN layer, averaged over its channels: moving variance, batch variance, inference-mode input variance."""
    from helpers.curves import annotate_epoch

    styles = (("deep_moving_variance", "tab:red", "-", "moving variance (what inference divides by)"),
              ("deep_batch_variance", "tab:blue", "-", "batch variance, training mode (what training divides by)"),
              ("deep_inference_variance", "tab:purple", "--", "variance of its input in inference mode"))
    for i, h in enumerate(seeds):
        for key, color, ls, label in styles:
            ax.plot(h.arrays["step"], np.maximum(h.arrays[key], 1e-6), ls, color=color, lw=1,
                    label=label if i == 0 else "_")
    ax.set_yscale("log")
    spe = config.steps_per_epoch
    ratios = [at_step(h, "deep_inference_variance", spe) / at_step(h, "deep_batch_variance", spe) for h in seeds]
    annotate_epoch(ax, spe, float(np.mean([at_step(h, "deep_inference_variance", spe) for h in seeds])),
                   f"end of epoch 1: {_span(ratios, '.3f')} of the training-mode variance",
                   dy=-0.3, dx=0.25)
    ax.set_ylabel("eighth BN layer: variance (mean over channels)")
    ax.set_title("deep layer: in inference mode its input is squashed", fontsize=10)
    _epoch_lines(ax, seeds[0], config)
    ax.legend(fontsize=7, loc="lower right")


def draw_mode_gap(fig, runs: dict[str, list[History]]) -> None:
    """The mode gap (inference-mode / training-mode val loss) per run and seed: 1 = no mode gap."""
    ax = fig.subplots()
    for i, (name, seeds) in enumerate(runs.items()):
        for j, h in enumerate(seeds):
            ax.plot(h.epochs, mode_gap(h), "-o", ms=2.5, lw=1, color=RUN_COLORS.get(name, f"C{i}"),
                    label=name if j == 0 else "_")
    ax.axhline(1, color="0.5", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mode gap: val loss, inference / training mode")
    ax.set_title("the mode gap, each seed: how much worse validation is only because of the BN statistics",
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")


def draw_deep_ratio(fig, runs: dict[str, list[History]], config: BatchNormCaseConfig) -> None:
    """Per run and seed: the eighth layer's input variance, inference mode over training mode (1 = caught up)."""
    ax = fig.subplots()
    for i, (name, seeds) in enumerate(runs.items()):
        for j, h in enumerate(seeds):
            ratio = h.arrays["deep_inference_variance"] / h.arrays["deep_batch_variance"]
            ax.plot(h.arrays["step"], ratio, lw=1, color=RUN_COLORS.get(name, f"C{i}"), label=name if j == 0 else "_")
    ax.axhline(1, color="0.5", lw=1)
    ax.set_yscale("log")
    ax.set_ylabel("eighth BN layer input: variance,\ninference / training mode")
    ax.set_title("how far the deep layer's inference-mode input has caught up, each seed", fontsize=10)
    _epoch_lines(ax, runs[next(iter(runs))][0], config)
    ax.legend(fontsize=8, loc="lower right")


def draw_panel(fig, history: History, config: BatchNormCaseConfig, honest: bool = True) -> None:
    """FixPanel view: the loss curves and the deep layer's variances."""
    left, right = fig.subplots(1, 2)
    plot_losses(left, history, honest=honest, title=f"{config.optimizer} (lr × {config.lr_scale}), BN momentum "
                f"{config.momentum}, batch {config.batch_size} ({config.steps_per_epoch} steps/epoch)")
    left.title.set_fontsize(9)
    draw_deep_variance(right, [history], config)


MOMENTA = (0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


def make_config(momentum: float, optimizer: str, batch_size: int, lr_scale: float = 1.0) -> BatchNormCaseConfig:
    return BatchNormCaseConfig(momentum=momentum, optimizer=optimizer, batch_size=batch_size, lr_scale=lr_scale)


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("honest", [False, True]), "uncached": ("momentum", 0.95), "view": ("honest",)}


def knobs() -> list:
    from helpers.widgets import Choice, Levels, Toggle

    return [
        Levels("momentum", "BatchNorm momentum", MOMENTA, 0.99),
        Choice("optimizer", "optimizer", [("Adam", "adam"), ("SGD (SGD momentum 0.9)", "sgd")], "adam"),
        Levels("lr_scale", "learning rate × default (Adam 1e-3, SGD 0.01)", LR_SCALES, 1.0),
        Choice("batch_size", "batch size", [(str(b), b) for b in BATCH_SIZES], 32),
        Toggle("honest", "show the honest train curve (re-scored in inference mode)", True),
    ]
