"""Case 01, draw functions, the panel's knobs and glue."""

from __future__ import annotations

import numpy as np

from helpers.runs import LAST, History
from helpers.scenarios.case01_generator.claims import correlation, sign_shapes
from helpers.scenarios.case01_generator.lab import (
    augmenting_generator,
    frame_number,
    load_images,
    split_files,
    write_dataset,
)
from helpers.scenarios.case01_generator.runs import (
    FINAL,
    FINAL_LEGACY,
    FLIP_ON_RECORDING,
    SHEARS,
    SPLITS,
    VALIDATION_FIXED,
    ZOOMS,
    GeneratorConfig,
)

# --- pictures --------------------------------------------------------------------------


def plot_accuracy(ax, history: History, title: str = "") -> None:
    """Train (logged and re-scored), validation as logged and rescale-only, and the new-signer test."""
    from helpers.curves import COLORS, draw_chance, plot_curves

    plot_curves(history, ax, "accuracy", splits=("test",), title=title)
    x = history.epochs
    if "val_accuracy" in history:
        ax.plot(x, history["val_accuracy"], ":", color=COLORS["val"], marker="o", markersize=2.5,
                label="validation, through its pipeline (logged)")
        ax.plot(x, history["val_clean_accuracy"], "-", color=COLORS["val"], label="validation files, rescale only")
    draw_chance(ax, 1 / int(history.info.get("classes", 10)))
    ax.legend(fontsize=6.5, loc="upper left")


SHORT = {"the post": "the post", VALIDATION_FIXED: "the post,\nvalidation fixed",
         "the post without flip": "post, no flip",
         "legacy, every fix": "legacy,\nevery fix",
         "modern, done right": "modern,\ndone right", FLIP_ON_RECORDING: "modern, by rec.,\nflip on",
         FINAL_LEGACY: "legacy,\nretrained on all",
         FINAL: "final: modern,\nretrained on all"}


def recording_interval(history: History, side: str, level: float = 0.90, draws: int = 2000) -> tuple[float, float]:
    """A bootstrap interval of the final weights' accuracy on ``side``, resampling recordings (the independent
    units: frames of one recording are near-duplicates), at ``level``."""
    true, predicted = history.arrays[f"{side}_true"], history.arrays[f"{side}_predicted"]
    groups = history.arrays[f"{side}_recording"] * 1000 + true
    per = np.array([np.mean(predicted[groups == g] == true[groups == g]) for g in np.unique(groups)])
    means = np.random.default_rng(0).choice(per, (draws, len(per))).mean(1)
    return tuple(float(q) for q in np.quantile(means, [(1 - level) / 2, (1 + level) / 2]))


def draw_honest(fig, reference_runs: list[dict[str, History]],
                names: tuple[str, ...] = ("the post", VALIDATION_FIXED, "the post without flip", "legacy, every fix",
                                          "modern, done right")) -> None:
    """Each run's validation (rescale-only, final weights) beside its new-signer test accuracy, one dot per seed,
    bars: 90 % bootstrap intervals over recordings; the post's logged validation as open circles."""
    from helpers.curves import COLORS

    ax = fig.subplots()
    for i, name in enumerate(names):
        for j, runs in enumerate(reference_runs):
            h, dx = runs[name], (j - 1) * 0.08
            first = i == 0 and j == 0
            sides = (("val", i - 0.15, "o", COLORS["val"], "validation files (as they are)"),
                     ("test", i + 0.15, "s", COLORS["test"], "new signers (test folder)"))
            for side, x, marker, color, label in sides:
                if f"{side}_true" not in h.arrays:
                    continue
                accuracy = float(np.mean(h.arrays[f"{side}_true"] == h.arrays[f"{side}_predicted"]))
                low, high = recording_interval(h, side)
                ax.errorbar(x + dx, accuracy, [[accuracy - low], [high - accuracy]], fmt=marker, color=color, ms=4,
                            capsize=2, label=label if first else None)
        if name == "the post":
            logged = [r[name].final("val_accuracy", LAST) for r in reference_runs]
            ax.plot(i - 0.15 + (np.arange(len(logged)) - 1) * 0.08, logged, "o", mfc="none", color=COLORS["val"],
                    ms=6, label="validation as Keras logged it (augmented)")
    ax.set_xticks(range(len(names)), [SHORT.get(n, n) for n in names], fontsize=8)
    ax.set(ylabel="accuracy of the final weights", ylim=(0, 1.05),
           title=f"validation against new signers ({len(reference_runs)} seeds each; "
                 "bars: 90 % bootstrap intervals over recordings)")
    ax.title.set_fontsize(9)
    ax.axhline(0.1, color="0.6", ls=":", lw=1)
    ax.legend(fontsize=7, loc="lower left")


def confusion(runs: list[History], classes: int) -> np.ndarray:
    """The new-signer confusion matrix of the final weights, summed over runs (rows: true sign, columns: predicted)."""
    from sklearn.metrics import confusion_matrix

    return sum(confusion_matrix(h.arrays["test_true"], h.arrays["test_predicted"], labels=range(classes))
               for h in runs)


def draw_split_map(fig, config: GeneratorConfig | None = None, classes: int = 4) -> None:
    """Which frames each split sends to validation: frame number across, class down, recordings marked."""
    config = config or GeneratorConfig()
    s = config.sizes
    held_out = [split for split in SPLITS if split != "none"]
    axes = fig.subplots(1, len(held_out), sharey=True)
    frames_per_class = s["recordings"] * s["frames"]
    for ax, split in zip(axes, held_out, strict=True):
        _, val = split_files(config.replace(split=split, api="legacy"))
        for row, name in enumerate(config.class_names[:classes]):
            picked = [frame_number(f) for f in val if f.parent.name == name]
            ax.scatter(picked, np.full(len(picked), row), s=9, marker="s", color="tab:orange")
        for r in range(1, s["recordings"]):
            ax.axvline(r * s["frames"] + 0.5, color="0.6", lw=0.8)
        ax.set_xlim(0, frames_per_class + 1)
        ax.set_yticks(range(classes), config.class_names[:classes])
        ax.invert_yaxis()
        ax.set_xlabel("frame number (grey lines: a new recording starts)")
        ax.set_title({"sorted": "legacy subset='validation' (sorted names)", "random": "random files",
                      "recording": "whole recordings"}[split], fontsize=9)
    axes[0].set_ylabel("class folder")


def augmented_copies(config: GeneratorConfig, n: int = 16, index: int = 0) -> tuple[np.ndarray, str]:
    """``n`` passes of one validation file through the config's validation pipeline (legacy), and its name."""
    path = split_files(config.replace(api="legacy"))[1][index]
    x, _ = load_images([path], config.class_names)
    generator = augmenting_generator(config) if config.augment_validation else None
    copies = []
    for i in range(n):
        image = x[0] * 255.0
        if generator is not None:
            image = generator.random_transform(image, seed=config.seed + i)
        copies.append(image[..., 0] / 255.0)
    return np.stack(copies), path.name


def draw_augmented_copies(fig, config: GeneratorConfig | None = None, index: int = 0) -> None:
    """A 4×4 grid: what one validation file looked like each time validation read it."""
    copies, name = augmented_copies(config or GeneratorConfig(), 16, index)
    axes = fig.subplots(4, 4)
    for ax, image in zip(axes.ravel(), copies, strict=True):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{name}: 16 reads through the augmenting generator", fontsize=9)


def draw_panel(fig, history: History, config: GeneratorConfig) -> None:
    """FixPanel view: the accuracy curves, and the new-signer confusion matrix of the final weights."""
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    flip = "on" if config.flip else "off"
    plot_accuracy(left, history, title=f"{config.api} API, split: {config.split}, flip {flip}")
    k = config.sizes["classes"]
    m = confusion([history], k)
    right.imshow(m / np.maximum(m.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    right.set_xticks(range(k), config.class_names, fontsize=7)
    right.set_yticks(range(k), config.class_names, fontsize=7)
    right.set(xlabel="predicted sign", ylabel="true sign")
    right.set_title(f"new signers: accuracy {np.trace(m) / m.sum():.2f}", fontsize=9)


def make_config(api: str, augment_validation: bool, flip: bool, split: str, shear: float,
                zoom: float) -> GeneratorConfig:
    return GeneratorConfig(api=api, augment_validation=augment_validation, flip=flip, split=split, shear=shear,
                           zoom=zoom)


# What `make bench` and the browser test do to the panel: flip a cached knob, then ask for one uncached run.
PANEL_DEMO = {"toggle": ("flip", [False, True]), "uncached": ("zoom", 0.1), "view": ()}


def knobs() -> list:
    from helpers.widgets import Choice, Levels, Toggle

    return [
        Choice("api", "API", [("legacy ImageDataGenerator", "legacy"), ("image_dataset_from_directory", "modern")],
               "legacy"),
        Toggle("augment_validation", "validation goes through the augmentation (legacy: the augmenting generator; "
               "modern: ds.map on both splits; off for split none)", True),
        Toggle("flip", "horizontal_flip", True),
        Choice("split", "split", [("legacy sorted subset", "sorted"), ("random files", "random"),
                                  ("by recording", "recording"), ("none: every recording trains", "none")],
               "sorted"),
        Levels("shear", "shear_range (degrees)", SHEARS, 0.2),
        Levels("zoom", "zoom_range", ZOOMS, 0.2),
    ]


def draw_live_run(fig, logged: dict[str, list[float]], reference_runs: list[dict[str, History]],
                  name: str = "the post") -> None:
    """A run of the post cells, as Keras logged it, over the reference seeds' range of run ``name``'s curves."""
    from helpers.curves import COLORS, draw_chance

    ax = fig.subplots()
    for metric, color, label in (("accuracy", COLORS["train"], "training (logged)"),
                                 ("val_accuracy", COLORS["val"], "validation (logged)")):
        seeds = np.array([r[name][metric] for r in reference_runs])
        x = np.arange(1, seeds.shape[1] + 1)
        ax.fill_between(x, seeds.min(0), seeds.max(0), color=color, alpha=0.15, linewidth=0,
                        label=f"{label}: range of {len(seeds)} reference seeds")
        live = np.asarray(logged[metric])
        ax.plot(np.arange(1, len(live) + 1), live, "-o", color=color, markersize=3, label=f"{label}: your run")
    draw_chance(ax, 1 / 10)
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.05), title=f"your run against '{name}'")
    ax.legend(fontsize=7, loc="upper left")


def draw_mirror(fig, config: GeneratorConfig | None = None, sign: str = "I", other: str = "G") -> None:
    """sign, flip(sign), other, flip(other) as shapes, and a new signer's frame of ``sign``; correlations in titles."""
    config = config or GeneratorConfig()
    shapes, signs = sign_shapes(config), config.class_names
    i, g = signs.index(sign), signs.index(other)
    test_file = sorted((write_dataset(config)["test"] / sign).glob("*.png"))[0]
    new, _ = load_images([test_file], signs)
    panels = ((shapes[i], f"{sign}"), (shapes[i][:, ::-1], f"flip({sign})\nr with {sign}: "
               f"{correlation(shapes[i][:, ::-1], shapes[i]):+.2f}"),
              (shapes[g], f"{other}\nr with {sign}: {correlation(shapes[g], shapes[i]):+.2f}"),
              (shapes[g][:, ::-1], f"flip({other}), trained as {other}\nr with {sign}: "
               f"{correlation(shapes[g][:, ::-1], shapes[i]):+.2f}"),
              (new[0, ..., 0], f"a new signer's {sign}\n(test folder)"))
    axes = fig.subplots(1, len(panels))
    for ax, (image, title) in zip(axes, panels, strict=True):
        ax.imshow(image, cmap="gray")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=8)
    fig.suptitle("the miniature's signs are textures: a mirrored sign is another pattern (r: pixel correlation)",
                 fontsize=9)
