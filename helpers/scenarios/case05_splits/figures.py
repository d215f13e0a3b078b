"""Case 05, draw functions, the panel's knobs and glue."""

from __future__ import annotations

import numpy as np

from helpers.runs import LAST, History
from helpers.scenarios.case05_splits.claims import final, recording_bootstrap
from helpers.scenarios.case05_splits.runs import (
    AUGMENTED_LONGER,
    BEST,
    LONGER_EPOCHS,
    MORE_RECORDINGS,
    MOST,
    POST,
    POST_LONGER,
    RECORDINGS,
    RECORDINGS_LONGER,
    REGULARISERS_LONGER,
    SEPARATE,
    STRIDES,
    WINDOW,
    WINDOWS,
    SplitsConfig,
    configs,
    fixes,
    regularisers,
)

# --- pictures --------------------------------------------------------------------------

COLORS = {"train_eval": "tab:blue", "val": "tab:orange", "test": "tab:green"}
LABELS = {"train_eval": "train (re-scored)", "val": "validation", "test": "new recordings (test)"}


def plot_accuracy(ax, history: History, title: str = "") -> None:
    """Train (logged and re-scored), validation and new-recording test accuracy, chance dashed."""
    from helpers.curves import draw_chance, plot_curves

    plot_curves(history, ax, "accuracy", splits=("val", "test"), title=title)
    for line in ax.get_lines():  # the suite's "test (independent)": this notebook's one name for it
        if line.get_label().startswith("test"):
            line.set_label(LABELS["test"])
    draw_chance(ax, 1 / int(history.info.get("classes", 10)))
    ax.legend(fontsize=7, loc="upper left")


def plot_seed_band(ax, runs: list[History], split: str, label: str | None = None) -> None:
    """One split's accuracy over seeds: the mean as a line, the seeds' min–max shaded."""
    curves = np.array([h[f"{split}_accuracy"] for h in runs])
    x = runs[0].epochs
    ax.plot(x, curves.mean(axis=0), color=COLORS[split], label=label or f"{LABELS[split]}, mean of {len(runs)} seeds")
    ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color=COLORS[split], alpha=0.2, linewidth=0)


# The reference run drawn beside the post cells' live run, and its title, for each (split, recordings per class) of
# post_data; a setting without a committed run draws the live run alone.
POST_REFERENCE = {
    ("recording", 6): (POST, "the post's network, split by recording: training climbs, validation stays poor"),
    ("window", 6): (WINDOWS, "the post's network, random 80/20 of windows: validation follows training"),
    ("recording", 12): ("12 recordings per class", "the post's network, 12 recordings per class, split by recording"),
    ("recording", 24): (MOST, "the post's network, 24 recordings per class, split by recording"),
}


def draw_your_run(fig, live: dict[str, list[float]], data: dict, reference_runs: list[dict[str, History]]) -> None:
    """The live run of the post's cells (dots) over the committed seeds of the same setting (``data``: post_data's,
    which records its split and recordings per class): mean line, min–max band, train as logged and re-scored."""
    from helpers.curves import draw_chance
    from helpers.validate import check_choice

    check_choice("split", data["split"], ("recording", "window"))
    name, title = POST_REFERENCE.get((data["split"], data["recordings"]), (None, (
        f"the post's network, {data['recordings']} recordings per class, split by {data['split']}: "
        "no committed run of this setting, your run alone")))
    ax = fig.subplots()
    runs = [r[name] for r in reference_runs] if name else []
    if runs:
        for part in ("train_eval", "val"):
            plot_seed_band(ax, runs, part)
        logged = np.mean([h["accuracy"] for h in runs], axis=0)  # the quantity of the live run's dashed line
        ax.plot(runs[0].epochs, logged, "--", color=COLORS["train_eval"], lw=1,
                label=f"train (as logged), mean of {len(runs)} seeds")
    epochs = np.arange(1, len(live["val_accuracy"]) + 1)
    ax.plot(epochs, live["accuracy"], "o--", ms=3, color=COLORS["train_eval"], label="your run: train (as logged)")
    ax.plot(epochs, live["val_accuracy"], "o", ms=4, color=COLORS["val"], label="your run: validation")
    draw_chance(ax, 0.1)
    last = runs[0].n_epochs if runs else len(epochs)
    if runs:
        train = np.mean([final(h, "train_eval_accuracy") for h in runs])
        val = np.mean([final(h, "val_accuracy") for h in runs])
        ax.annotate("", xy=(last + 0.6, train), xytext=(last + 0.6, val),
                    arrowprops={"arrowstyle": "<->", "color": "0.3"})
        ax.annotate(f"train − val over the last {LAST} epochs:\n{train - val:+.2f} (mean of {len(runs)} seeds)",
                    xy=(last + 0.6, (train + val) / 2), xytext=(last * 0.62, 0.2), fontsize=8, ha="center",
                    arrowprops={"arrowstyle": "->", "color": "0.3"},
                    bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02), title=title)
    ax.set_xlim(0, last + 1.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper left")


def last_epochs(runs: list[History]) -> int:
    return runs[0].n_epochs


def draw_story(fig, reference_runs: list[dict[str, History]]) -> None:
    """The three runs over seeds: separate shuffles, a random split of windows, the post's split by recording."""
    from helpers.curves import draw_chance

    names = [SEPARATE, WINDOWS, POST]
    axes = fig.subplots(1, 3, sharey=True)
    for ax, name in zip(axes, names, strict=True):
        runs = [r[name] for r in reference_runs]
        for split in ("train_eval", "val", "test"):
            plot_seed_band(ax, runs, split, label=LABELS[split])
        draw_chance(ax, 0.1)
        ax.set(xlabel="epoch", title=f"{name} ({last_epochs(runs)} epochs)", ylim=(-0.02, 1.02))
        ax.title.set_fontsize(10)
        ax.grid(alpha=0.3)
        last = runs[0].n_epochs
        val = np.mean([final(h, "val_accuracy") for h in runs])
        test = np.mean([final(h, "test_accuracy") for h in runs])
        train = np.mean([final(h, "train_eval_accuracy") for h in runs])
        text = {SEPARATE: f"train {train:.2f}, val {val:.2f}:\nvalidation at chance (0.10)",
                WINDOWS: f"val − test = {val - test:+.2f}:\nvalidation re-tests\nknown recordings",
                POST: f"train − val = {train - val:+.2f}\nval − test = {val - test:+.2f}"}[name]
        ax.annotate(text, xy=(last, val), xytext=(last * 0.45, 0.62 if name != SEPARATE else 0.45), fontsize=8,
                    arrowprops={"arrowstyle": "->", "color": "0.3"},
                    bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    axes[0].set_ylabel("accuracy")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"mean of {len(reference_runs)} seeds, seeds' min–max shaded", fontsize=9)


def last_epoch_test(history: History) -> float:
    """New-recording accuracy at the last epoch, from the predictions the recording bootstrap resamples."""
    return float(np.mean(history.arrays["test_predicted"] == history.arrays["test_label"]))


def test_bar(history: History) -> tuple[float, float]:
    """The bar drawn around a run's dot (new-recording accuracy, mean of the last LAST epochs): the 90 % spread of the
    recording bootstrap, computed on the last epoch's predictions (the only ones stored) and moved to centre on the
    dot, so dot and bar are one quantity."""
    low, high = recording_bootstrap(history)
    shift = final(history, "test_accuracy") - last_epoch_test(history)
    return low + shift, high + shift


def grid_table(reference_runs: list[dict[str, History]], names: list[str]) -> list[tuple[str, float, float, float]]:
    """(run, mean, min, max) over seeds of each run's change in new-recording accuracy against the post's."""
    rows = []
    for name in names:
        changes = [final(r[name], "test_accuracy") - final(r[POST], "test_accuracy") for r in reference_runs]
        rows.append((name, float(np.mean(changes)), float(np.min(changes)), float(np.max(changes))))
    return rows


def grid_groups() -> list[tuple[str, list[str], str]]:
    """(heading, run names, colour) of the grid's rows: the post, what the poster tried, more recordings, and
    what changes the model or its input without adding a recording."""
    added = [n for n in fixes() if n not in MORE_RECORDINGS]
    return [("the post", [POST], "0.2"), ("what the poster tried", list(regularisers()), "tab:purple"),
            ("more recordings", list(MORE_RECORDINGS), "tab:green"), ("no new recording", added, "tab:cyan")]


def longer_groups() -> list[tuple[str, list[str], str]]:
    """(heading, run names, colour) of the 60-epoch comparison's rows."""
    tried = [f"{name}, {LONGER_EPOCHS} epochs" for name in REGULARISERS_LONGER]
    return [("the post", [POST_LONGER], "0.2"), ("what the poster tried", tried, "tab:purple"),
            ("no new recording", [AUGMENTED_LONGER, f"smaller per-frame CNN, {LONGER_EPOCHS} epochs"], "tab:cyan"),
            ("more recordings", [RECORDINGS_LONGER, BEST], "tab:green")]


def draw_grid(fig, reference_runs: list[dict[str, History]], groups: list | None = None, baseline: str = POST,
              title: str = "one change at a time from the post, over seeds: regularisers against more recordings"
              ) -> None:
    """New-recording test accuracy of each run in ``groups`` (default: grid_groups()): each seed a dot with its
    recording-level bootstrap interval (90 %), ``baseline``'s seeds as the grey band, each row's mean printed."""
    groups = groups or grid_groups()
    names = [n for _, ns, _ in groups for n in ns]
    colors = {n: color for _, ns, color in groups for n in ns}
    ax = fig.subplots()
    base = [final(r[baseline], "test_accuracy") for r in reference_runs]
    ax.axvspan(min(base), max(base), color="0.85", zorder=0, label=f"{baseline}: its seeds' min–max")
    for row, name in enumerate(names):
        for k, r in enumerate(reference_runs):
            h = r[name]
            low, high = test_bar(h)
            y = row + (k - 1) * 0.2
            ax.plot([low, high], [y, y], color="0.6", lw=0.9)
            ax.plot(final(h, "test_accuracy"), y, "o", ms=3.5, color=colors[name])
        mean = np.mean([final(r[name], "test_accuracy") for r in reference_runs])
        ax.plot([mean, mean], [row - 0.42, row + 0.42], color=colors[name], lw=2)
        ax.text(1.01, row, f"{mean:.2f}", transform=ax.get_yaxis_transform(), va="center", fontsize=7)
    ax.text(1.01, -0.9, "mean", transform=ax.get_yaxis_transform(), va="center", fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_ylim(len(names) - 0.5, -1.2)
    start = 0
    for heading, ns, color in groups:
        if start:
            ax.axhline(start - 0.5, color="0.6", lw=0.8)
        ax.text(0.99, start - 0.45, heading, transform=ax.get_yaxis_transform(), ha="right", va="top", fontsize=8,
                color=color, fontweight="bold")
        start += len(ns)
    ax.axvline(0.1, color="0.5", ls="--", lw=1)
    ax.text(0.105, len(names) - 0.6, "chance", fontsize=7, color="0.4")
    ax.set(xlim=(0, 1), xlabel=f"new-recording test accuracy, mean of the last {LAST} epochs (dots: seeds; ticks and "
           "numbers: their mean)\nbars: 90 % bootstrap over the 40 test recordings (last epoch's "
           "predictions), centred on the dot", title=title)
    ax.title.set_fontsize(9)
    ax.xaxis.label.set_fontsize(8)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3, axis="x")


def draw_longer(fig, reference_runs: list[dict[str, History]]) -> None:
    """The 60-epoch comparison (longer_groups()): each run against the post given as many epochs."""
    draw_grid(fig, reference_runs, longer_groups(), baseline=POST_LONGER,
              title=f"every run {LONGER_EPOCHS} epochs: regularisers, augmentation and more recordings")


def draw_recordings(fig, reference_runs: list[dict[str, History]]) -> None:
    """New-recording accuracy against the number of recordings per class: seeds as dots with recording-level
    bootstrap bars, the mean as a line; training accuracy beside it."""
    from helpers.curves import draw_chance

    runs = {6: POST, 12: "12 recordings per class", 24: MOST}
    ax = fig.subplots()
    for split, marker in (("train_eval", "s"), ("test", "o")):
        means = []
        for n, name in runs.items():
            values = [final(r[name], f"{split}_accuracy") for r in reference_runs]  # the grid's quantity
            means.append(np.mean(values))
            for k, (r, v) in enumerate(zip(reference_runs, values, strict=True)):
                x = n * (1 + (k - 1) * 0.04)
                if split == "test":
                    low, high = test_bar(r[name])
                    ax.plot([x, x], [low, high], color="0.6", lw=1)
                ax.plot(x, v, marker, ms=4, color=COLORS[split], alpha=0.8)
        bars = "; bars: 90 % bootstrap over recordings" if split == "test" else ""
        ax.plot(list(runs), means, "-", color=COLORS[split],
                label=f"{LABELS[split]}, mean of last {LAST} epochs and of seeds{bars}")
    draw_chance(ax, 0.1)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(runs), [f"{n}\n({n - max(1, round(n / 3))} in training)" for n in runs])
    ax.set_xlim(4.5, 32)
    ax.set(xlabel="recordings per class", ylabel="accuracy",
           ylim=(0, 1.02), title="new-recording accuracy against the number of independent recordings")
    ax.title.set_fontsize(10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="lower right", bbox_to_anchor=(1, 0.12))


def nearest_training_windows(data: dict[str, np.ndarray], n: int = 3) -> list[tuple[int, int, float]]:
    """(val index, nearest training index, RMS pixel distance) for the first ``n`` val windows."""
    from sklearn.metrics import pairwise_distances_argmin_min

    train = data["x_train"].reshape(len(data["x_train"]), -1)
    val = data["x_val"][:n].reshape(min(n, len(data["x_val"])), -1)
    nearest, distance = pairwise_distances_argmin_min(val, train)
    rms = distance / np.sqrt(train.shape[1])  # Euclidean distance over sqrt(pixels) is the RMS pixel difference
    return [(i, int(j), float(d)) for i, (j, d) in enumerate(zip(nearest, rms, strict=True))]


def nearest_other_recording(data: dict[str, np.ndarray], n: int = 3) -> list[tuple[int, int, float]]:
    """(val index, nearest training index, RMS pixel distance) for the first ``n`` val windows, the search kept to
    training windows of other recordings: the scale against which a near-copy's distance reads."""
    train = data["x_train"].reshape(len(data["x_train"]), -1)
    out = []
    for i in range(min(n, len(data["x_val"]))):
        other = np.flatnonzero(data["recording_train"] != data["recording_val"][i])
        rms = np.sqrt(np.mean((train[other] - data["x_val"][i].reshape(1, -1)) ** 2, axis=1))
        out.append((i, int(other[np.argmin(rms)]), float(rms.min())))
    return out


def draw_strip(fig, data: dict[str, np.ndarray], n: int = 3) -> None:
    """A few validation windows (3 frames each) beside the nearest window in training (``data``: load_data's)."""
    pairs = nearest_training_windows(data, n)
    axes = fig.subplots(len(pairs), 2 * WINDOW + 1, gridspec_kw={"width_ratios": [1] * WINDOW + [0.25] + [1] * WINDOW})
    for row, (i, j, distance) in zip(np.atleast_2d(axes), pairs, strict=True):
        for k in range(WINDOW):
            row[k].imshow(data["x_val"][i, k, ..., 0], cmap="gray", vmin=-2.5, vmax=2.5)
            row[WINDOW + 1 + k].imshow(data["x_train"][j, k, ..., 0], cmap="gray", vmin=-2.5, vmax=2.5)
        shared = len(set(data["frames_val"][i]) & set(data["frames_train"][j]))
        same = data["recording_val"][i] == data["recording_train"][j]
        row[WINDOW].text(0.5, 0.5, f"RMS\n{distance:.2f} sd", ha="center", va="center", fontsize=7)
        row[0].set_ylabel(f"val #{i}", fontsize=7)
        row[WINDOW + 1].set_ylabel(f"{'same' if same else 'other'} recording,\n{shared} shared frame(s)", fontsize=7)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(ax is not row[WINDOW])
    np.atleast_2d(axes)[0, 1].set_title("validation window (3 frames)", fontsize=8)
    np.atleast_2d(axes)[0, WINDOW + 2].set_title("nearest training window", fontsize=8)


def draw_panel(fig, history: History, config: SplitsConfig) -> None:
    """FixPanel view: accuracy curves, and the overlap the split lets through."""
    ax = fig.subplots()
    plot_accuracy(ax, history, title=f"shuffle {config.shuffle}, split by {config.split}, "
                  f"{config.recordings} recordings/class, stride {config.stride}")
    share = history.info["val_sharing_frame"], history.info["val_sharing_recording"]
    gap = final(history, "val_accuracy") - final(history, "test_accuracy")
    ax.text(1.02, 0.5, f"val windows sharing a frame\nwith train: {share[0]:.0%}\n"
            f"val windows sharing a recording\nwith train: {share[1]:.0%}\n"
            f"val − test (last {LAST} epochs): {gap:+.2f}",
            transform=ax.transAxes, ha="left", va="center", fontsize=7.5,  # beside the axes: nothing covered
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})


def make_config(shuffle: str, split: str, recordings: int, stride: int) -> SplitsConfig:
    """The panel's run: the post's network; separate shuffles train for the story run's 20 epochs."""
    epochs = configs()[SEPARATE].epochs if shuffle == "separate" else SplitsConfig.epochs
    return SplitsConfig(shuffle=shuffle, split=split, recordings=recordings, stride=stride, epochs=epochs)


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("split", ["window", "recording"]), "uncached": ("stride", 3), "view": ()}


def knobs() -> list:
    from helpers.widgets import Choice, Levels

    return [
        Choice("shuffle", "shuffle", [("X and y together", "joint"), ("X and y separately (bug)", "separate")],
               "joint"),
        Choice("split", "split", [("by recording (the post)", "recording"), ("random windows (the leak)", "window")],
               "recording"),
        Levels("recordings", "recordings per class", RECORDINGS, 6),
        Levels("stride", "window stride (frames)", STRIDES, 1),
    ]


def draw_augmented(fig, data: dict[str, np.ndarray], draws: int = 3, seed: int = 0) -> None:
    """One training window (3 frames) as stored, then as the augmentation the runs use shows it in ``draws``
    different epochs (``augmented``: a shift of up to ±3 px and a new gain and offset, the same for all 3 frames)."""
    import tensorflow as tf

    from helpers.scenarios.case05_splits.lab import augmented

    tf.random.set_seed(seed)  # the same pictures on every execution
    x, y = data["x_train"][:1], data["y_train"][:1]
    batch = next(iter(augmented(np.repeat(x, draws, axis=0), np.repeat(y, draws), seed, 1)))[0].numpy()
    rows = [x[0], *batch]
    axes = np.atleast_2d(fig.subplots(len(rows), WINDOW))
    for r, (row, window) in enumerate(zip(axes, rows, strict=True)):
        for k, ax in enumerate(row):
            ax.imshow(window[k, ..., 0], cmap="gray", vmin=-3, vmax=3)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"frame {k + 1}", fontsize=8)
        row[0].set_ylabel("as stored" if r == 0 else f"epoch {r}", fontsize=8)
    fig.suptitle(f"one training window as stored, and as augmentation\nshows it in {draws} epochs: shifted, relit",
                 fontsize=9)
