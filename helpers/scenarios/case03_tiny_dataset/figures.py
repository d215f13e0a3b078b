"""Case 03, draw functions, the panel's knobs and glue."""

from __future__ import annotations

import numpy as np

from helpers.runs import LAST, History, run
from helpers.scenarios.case03_tiny_dataset.claims import at_early_stop, early_stop
from helpers.scenarios.case03_tiny_dataset.lab import load_data
from helpers.scenarios.case03_tiny_dataset.runs import (
    BEST,
    DROPOUTS,
    FIXES,
    N_CLASSES,
    N_TEST,
    N_VAL,
    NO_DROPOUT,
    NO_TRAIN_CALL,
    PATIENCE,
    POSTED,
    POSTED_NET,
    STALLED,
    TRAIN_SIZES,
    TRANSFER,
    TRUNK,
    WEIGHT_DECAYS,
    WIDTHS,
    TinyDataConfig,
    epochs_for,
    reference_configs,
)

LEVEL = 0.9  # the suite's error-bar convention: 90 % intervals (Wilson for a proportion)

# --- pictures --------------------------------------------------------------------------


def plot_accuracy(ax, history: History, title: str = "", *, without_eval: bool = False) -> None:
    """Train (logged and re-scored), validation and test accuracy with 90 % Wilson bands (90 images), chance dashed.

    without_eval: draw validation as scored without ``model.eval()`` (the same weights).
    """
    from helpers.curves import COLORS, draw_chance, plot_curves
    from helpers.stats import wilson_errors

    plot_curves(history, ax, "accuracy", splits=("val", "test"), title=title)
    for split, n in (("val", N_VAL), ("test", N_TEST)):  # the suite's convention: 90 % Wilson intervals
        y = np.asarray(history[f"{split}_accuracy"])
        below, above = wilson_errors(y, n, level=LEVEL)
        ax.fill_between(history.epochs, y - below, y + above, color=COLORS[split], alpha=0.2, lw=0)
    ax.fill_between([], [], [], color="0.6", alpha=0.4, lw=0, label="bands: 90 % Wilson interval (90 images)")
    if without_eval:
        ax.plot(history.epochs, history["val_trainmode_accuracy"], ":", color="tab:red", lw=1.5,
                label="validation without model.eval()")
    draw_chance(ax, 1 / N_CLASSES)
    ax.legend(fontsize=7, loc="upper left")


SPLITS = (("train_eval", "tab:blue", "train (re-scored in eval mode)"), ("val", "tab:orange", "validation"),
          ("test", "tab:green", "test"))


def draw_poster_bands(ax) -> None:
    """The poster's reported ranges as shaded horizontal bands: train 98–100 %, validation and test 15–20 %."""
    (t_low, t_high), (v_low, v_high) = POSTED["train_accuracy"], POSTED["val_accuracy"]
    ax.axhspan(t_low, t_high, color="tab:blue", alpha=0.12, lw=0)
    ax.axhspan(v_low, v_high, color="tab:orange", alpha=0.15, lw=0)
    box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}  # readable over the curves
    ax.text(0.01, t_low, "the post: train 98–100 %", transform=ax.get_yaxis_transform(), fontsize=7,
            va="top", color="tab:blue", bbox=box, zorder=5)
    ax.text(0.01, v_high + 0.01, "the post: val and test 15–20 %", transform=ax.get_yaxis_transform(), fontsize=7,
            va="bottom", color="tab:orange", bbox=box, zorder=5)


PRINTED = ("", "tab:purple", "train, as the loop prints it (running mean over the epoch)")


def plot_seeds(ax, histories: list[History], title: str = "", *, live: History | None = None,
               printed: bool = False) -> None:
    """Accuracy per epoch over seeds (mean line, seeds' range shaded) beside the poster's numbers.

    live: a run trained in the notebook, drawn over the seeds as thin dotted lines.
    printed: also draw the training accuracy the loop prints (the running mean over the epoch's batches).
    """
    from helpers.curves import draw_chance

    for split, color, label in (*SPLITS, PRINTED) if printed else SPLITS:
        key = f"{split}_accuracy" if split else "accuracy"  # "accuracy": what the loop logged while training
        if histories:
            values = np.array([h[key] for h in histories])
            epochs = histories[0].epochs
            ax.plot(epochs, values.mean(0), color=color, label=f"{label}, mean of {len(histories)} seeds")
            ax.fill_between(epochs, values.min(0), values.max(0), color=color, alpha=0.25, lw=0)
        if live is not None and key in live and (printed or split):
            ax.plot(live.epochs, live[key], ":" if histories else "-", color=color, lw=1.5,
                    label=None if histories else f"{label}, your run")
    if len(histories) > 1:
        ax.fill_between([], [], [], color="0.6", alpha=0.4, lw=0,
                        label=f"shading: lowest–highest of {len(histories)} seeds")
    if live is not None and histories:
        ax.plot([], [], ":", color="0.3", label="your run (this notebook)")
    draw_poster_bands(ax)
    draw_chance(ax, 1 / N_CLASSES)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    if printed:  # the curves climb to the upper left: the legend goes where they are not
        ax.legend(fontsize=7, loc="center right", bbox_to_anchor=(1, 0.36))
    else:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, 0.9))


# What a story panel is titled where the run's name would mislead in the notebook's order (names are the
# reference's keys and stay).
TITLES = {NO_TRAIN_CALL: "the suspected loop: model.train() never called",
          POSTED_NET: "the posted network, model.train() every epoch",
          NO_DROPOUT: "model.train() every epoch, Dropout removed"}


def draw_story(fig, per_seed: list[dict[str, History]], names: tuple[str, ...] = (POSTED_NET, NO_DROPOUT, TRUNK),
               live: dict[str, History] | None = None) -> None:
    """One panel per run: accuracy over epochs, mean and range over the reference seeds, the post's bands."""
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=True))
    for ax, name in zip(axes, names, strict=True):
        runs = [seed[name] for seed in per_seed]
        train = np.mean([h.final("train_eval_accuracy", LAST) for h in runs])
        val = np.mean([h.final("val_accuracy", LAST) for h in runs])
        plot_seeds(ax, runs, f"{TITLES.get(name, name)}, {runs[0].info['parameters']:,} parameters\n"
                   f"last {LAST} epochs, mean of seeds: train {train:.2f}, val {val:.2f}", live=(live or {}).get(name),
                   printed=name == NO_TRAIN_CALL)
        if ax is not axes[0]:
            ax.set_ylabel("")
    # One legend for all panels, under them: inside a panel it covered the climbing curves.
    entries = {}
    for ax in axes:
        entries.update(zip(*ax.get_legend_handles_labels()[::-1], strict=True))
        ax.get_legend().remove()
    fig.legend(list(entries.values()), list(entries), loc="outside lower center", ncol=3, fontsize=8)


def draw_your_loop(ax, live: History, per_seed: list[dict[str, History]], in_train_mode: int, epochs: int) -> None:
    """The notebook's live run (dotted) over the reference seeds of the loop it matches: with model.train() every
    epoch (in_train_mode == epochs) the posted network's run, otherwise the suspected loop's."""
    name = POSTED_NET if in_train_mode == epochs else NO_TRAIN_CALL
    plot_seeds(ax, [seed[name] for seed in per_seed], TITLES[name], live=live, printed=True)


def draw_shuffled_labels(ax, per_seed: list[dict[str, History]]) -> None:
    """Zhang et al.'s test over the reference seeds: the widened, LSTM-free network on permuted training labels."""
    plot_seeds(ax, [seed["shuffled labels"] for seed in per_seed], "widened, LSTM removed, training labels shuffled")


def reference_runs(scale: str = "mini") -> list[dict[str, History]]:
    """Every run of reference_configs(), once per seed: the committed reference at mini scale (nothing trains);
    at forum scale this machine's seed 0, trained (or read from the cache)."""
    if scale == "mini":
        from helpers import reference

        return reference.load("03_tiny_dataset")
    return [{name: run(config) for name, config in reference_configs(scale).items()}]


CONVERGED_PREFIX = "converged, n = "


def learning_curves(per_seed: list[dict[str, History]], prefix: str = "n = ") -> list[dict[int, History]]:
    """{training-set size: History} for each seed, from reference_runs(): the equal-updates curve ("n = "), or
    the converged one (CONVERGED_PREFIX)."""
    return [{int(name[len(prefix):]): h for name, h in runs.items() if name.startswith(prefix)} for runs in per_seed]


def converged_curves(per_seed: list[dict[str, History]]) -> list[dict[int, History]]:
    """{training-set size: History} for each seed: the runs trained until training accuracy levels off."""
    return learning_curves(per_seed, prefix=CONVERGED_PREFIX)


def _seed_errors(values: np.ndarray) -> np.ndarray:
    """Distances from the mean down to the lowest seed and up to the highest (rows: points)."""
    mean = values.mean(0)
    return np.vstack([mean - values.min(0), values.max(0) - mean])


def draw_learning_curve(ax, curve: dict[int, History] | list[dict[int, History]],
                        title: str = "the same model and number of updates at each size") -> None:
    """Final accuracy against training-set size (log axis): the mean over seeds, the seeds' range as a thick bar,
    and the 90 % Wilson interval of a 90-image measurement as a thin capped bar."""
    from helpers.curves import draw_chance
    from helpers.stats import wilson_errors

    curves = [curve] if isinstance(curve, dict) else list(curve)
    sizes = sorted(curves[0])
    for split, color, label in (("train_eval", "tab:blue", "train (re-scored)"), ("val", "tab:orange", "validation"),
                                ("test", "tab:green", "test")):
        values = np.array([[c[n].final(f"{split}_accuracy", LAST) for n in sizes] for c in curves])
        y = values.mean(0)
        ax.plot(sizes, y, marker="o", color=color, label=label)
        if len(curves) > 1:
            ax.errorbar(sizes, y, yerr=_seed_errors(values), fmt="none", elinewidth=5, alpha=0.35, color=color)
        if split != "train_eval":
            ax.errorbar(sizes, y, yerr=wilson_errors(y, N_VAL, level=LEVEL), fmt="none", capsize=3, elinewidth=1,
                        color=color)
    ax.set_xscale("log")
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.minorticks_off()
    draw_chance(ax, 1 / N_CLASSES)
    ax.set_xlabel("training images (log scale)")
    ax.set_ylabel(f"accuracy (mean of the last {LAST} epochs)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    spread = (f"\nmean of {len(curves)} seeds; thick bars: their range; thin: 90 % Wilson interval of 90 images"
              if len(curves) > 1 else "")
    ax.set_title(f"{title} (mean of the last {LAST} epochs)" + spread, fontsize=9)
    ax.legend(fontsize=8, loc="center right")


def fix_results(histories: dict[str, History]) -> dict[str, tuple[float, float]]:
    """(validation, test) accuracy for each run in the fixes chart, early stopping included."""
    trunk = histories[TRUNK]
    out = {STALLED: histories[STALLED], "LSTM removed (baseline)": trunk}
    results = {name: (h.final("val_accuracy", LAST), h.final("test_accuracy", LAST)) for name, h in out.items()}
    results[f"early stopping (patience {PATIENCE})"] = (at_early_stop(trunk, "val_accuracy"),
                                                        at_early_stop(trunk, "test_accuracy"))
    for name in (*FIXES, BEST, "all three fixes", TRANSFER):
        if name in histories:
            h = histories[name]
            results[name] = (h.final("val_accuracy", LAST), h.final("test_accuracy", LAST))
    return results


def draw_fixes(ax, histories: dict[str, History] | list[dict[str, History]]) -> None:
    """Validation and test accuracy of each fix at n = 630: the mean over seeds, each seed a dot, and the
    90 % Wilson interval of a 90-image measurement as a capped bar."""
    from helpers.curves import draw_chance
    from helpers.stats import wilson_errors

    per_seed = [fix_results(h) for h in ([histories] if isinstance(histories, dict) else histories)]
    names = list(per_seed[0])
    y = np.arange(len(names))
    values = np.array([[[r[n][i] for n in names] for i in (0, 1)] for r in per_seed])  # seed × split × fix
    mean = values.mean(0)
    for i, (split, color, n_eval, dy) in enumerate((("validation", "tab:orange", N_VAL, -0.2),
                                                     ("test", "tab:green", N_TEST, 0.2))):
        ax.barh(y + dy, mean[i], 0.4, xerr=wilson_errors(mean[i], n_eval, level=LEVEL), color=color, alpha=0.8,
                label=split, capsize=2)
        if len(per_seed) > 1:
            for seed_values in values[:, i]:
                ax.plot(seed_values, y + dy, "o", ms=3, color="black", alpha=0.6)
    baseline = mean[0][names.index("LSTM removed (baseline)")]
    ax.axvline(baseline, color="tab:orange", ls=":", lw=1)
    draw_chance(ax, 1 / N_CLASSES, horizontal=False)
    ax.text(baseline, len(names) - 0.45, " baseline val", ha="left", va="bottom", fontsize=7, color="tab:orange")
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    seeds = f"mean of {len(per_seed)} seeds, dots: each seed; " if len(per_seed) > 1 else ""
    ax.set_xlabel(f"accuracy at n = 630, last {LAST} epochs ({seeds}bars: 90 % Wilson interval of 90 images)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")


def glyph_boxes(config: TinyDataConfig) -> list[tuple[int, int]]:
    """(top, left) of the glyph in each training image: the same draw without clutter or noise shows where."""
    from helpers.datasets import glyph_images

    s = config.sizes
    x, _ = glyph_images(N_VAL + config.n_train, n_classes=N_CLASSES, size=s["image"], glyph=s["glyph"],
                        signal=1.0, clutter=0.0, noise=0.0, seed=config.seed)
    out = []
    for image in x[N_VAL:, 0]:
        rows, cols = np.nonzero(np.abs(image - 0.5) > 1e-6)
        out.append((int(rows.min()), int(cols.min())))
    return out


def draw_examples(fig, config: TinyDataConfig | None = None, per_class: int = 3) -> None:
    """The nine glyphs (top row), and training images of each class with a white box where the glyph sits,
    then the same images with the clutter taken away (the glyph alone, as the network has to find it)."""
    from matplotlib.patches import Rectangle

    from helpers.datasets import glyph_shapes

    config = config or TinyDataConfig()
    d = load_data(config)
    size = config.sizes["glyph"]
    shapes = glyph_shapes(N_CLASSES, size)
    boxes = glyph_boxes(config)
    axes = fig.subplots(per_class + 1, N_CLASSES)
    for label in range(N_CLASSES):
        axes[0, label].imshow(shapes[label], cmap="gray")
        axes[0, label].set_title(f"class {label}", fontsize=8)
        for row, i in enumerate(np.flatnonzero(d["y_train"] == label)[:per_class], start=1):
            axes[row, label].imshow(d["x_train"][i].transpose(1, 2, 0))
            top, left = boxes[i]
            axes[row, label].add_patch(Rectangle((left - 0.5, top - 0.5), size, size, fill=False, ec="white",
                                                 lw=1.2))
    axes[0, 0].set_ylabel("glyph", fontsize=8)
    axes[1, 0].set_ylabel("training\nimages", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])


def draw_panel(fig, history: History, config: TinyDataConfig, *, model_eval: bool = True) -> None:
    """FixPanel view: accuracy curves with error bands, and what the run amounts to."""
    ax = fig.subplots()
    head = {"lstm": "BiLSTM head", "linear": "LSTM removed", "pooled": "pooled head (small)"}[config.head]
    plot_accuracy(ax, history, without_eval=not model_eval,
                  title=f"n = {config.n_train}, {head}, width {config.width:g}, dropout {config.dropout:g}, "
                        f"weight decay {config.weight_decay:g}{', augmented' if config.augment else ''}"
                        f"{', shuffled labels' if config.shuffled_labels else ''}")
    train, val = history.final("train_eval_accuracy", LAST), history.final("val_accuracy", LAST)
    stop, kept = early_stop(history)
    lines = [f"{history.info['parameters']:,} parameters",
             f"train − val (last {LAST} epochs): {train - val:+.2f}",
             f"early stopping (patience {PATIENCE}) stops at epoch {stop}, keeps {kept}: "
             f"val {at_early_stop(history, 'val_accuracy'):.2f}"]
    if not model_eval:
        lines.append(f"val without model.eval(): {history.final('val_trainmode_accuracy', LAST):.2f} "
                     f"(with: {val:.2f})")
    ax.text(0.99, 0.02, "\n".join(lines), transform=ax.transAxes, ha="right", va="bottom", fontsize=7.5,
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})


def make_config(n_train: int, head: str, width: float, dropout: float, weight_decay: float, augment: bool,
                shuffled_labels: bool) -> TinyDataConfig:
    return TinyDataConfig(n_train=n_train, head=head, width=width, dropout=dropout, weight_decay=weight_decay,
                          augment=augment, shuffled_labels=shuffled_labels, epochs=epochs_for(n_train))


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("weight_decay", [0.0, 1.0]), "uncached": ("dropout", 0.5), "view": ("model_eval",)}


def knobs() -> list:
    from helpers.widgets import Choice, Levels, Toggle

    return [
        Levels("n_train", "training images", TRAIN_SIZES, 630),
        Choice("head", "head",
               [("BiLSTM (as posted)", "lstm"), ("LSTM removed", "linear"), ("pooled (small)", "pooled")], "linear"),
        Levels("width", "model width", WIDTHS, 1.0),
        Levels("dropout", "dropout", DROPOUTS, 0.25),
        Levels("weight_decay", "weight decay", WEIGHT_DECAYS, 0.0),
        Toggle("augment", "augment (shift ±1, mirror)", False),
        Toggle("shuffled_labels", "shuffle the training labels", False),
        Toggle("model_eval", "validate after model.eval()", True),
    ]
