"""Notebook 00: the canonical learning-curve shapes, from real small runs.

A small PyTorch MLP on scikit-learn's 8×8 digits. Each named shape is one
config; the symptom bands below were measured on these seeds and are asserted
by the tests and by the notebook itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import LAST, History, Progress, RunConfig, run
from helpers.validate import check_bool, check_choice, check_range

VAL_SOURCES = ("same", "shifted")


@dataclass(frozen=True)
class CurvesConfig(RunConfig):
    """An MLP on digits; each field is one knob of the shape of its curves.

    n_train: training rows; n_val: validation rows; val_source: "same"
    population or "shifted" (every val image moved 1 pixel, as from another
    camera). Two fixed sets from the training population are always held out: a 200-row
    **train-dev** set scored every epoch (the green curve), and a 197-row **test** set scored once,
    after the last epoch (``info["test_accuracy"]``);
    hidden: units per hidden layer (2 layers); dropout: after each hidden layer;
    weight_decay: AdamW decay; label_noise: share of training labels replaced at random
    (1.0: no label belongs to its image any more, as when X and y are shuffled separately);
    train_on_val: after the settings were chosen on validation, train the final model on train + val
    (its validation score is then no longer a measurement; the test set is).
    """

    epochs: int = 40
    n_train: int = 1000
    n_val: int = 400
    val_source: str = "same"
    hidden: int = 64
    dropout: float = 0.0
    weight_decay: float = 0.0
    label_noise: float = 0.0
    lr: float = 1e-3
    batch_size: int = 32
    train_on_val: bool = False

    trainer = "helpers.scenarios.reading_curves:train"
    framework = "torch"

    def validate(self) -> None:
        super().validate()
        check_range("n_train", self.n_train, 20, 1000, integer=True)
        check_range("n_val", self.n_val, 10, 400, integer=True)
        check_choice("val_source", self.val_source, VAL_SOURCES)
        check_range("hidden", self.hidden, 1, 1024, integer=True)
        check_range("dropout", self.dropout, 0.0, 0.9)
        check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        check_range("label_noise", self.label_noise, 0.0, 1.0)
        check_range("lr", self.lr, 1e-6, 1.0)
        check_range("batch_size", self.batch_size, 1, 1397, integer=True)
        check_bool("train_on_val", self.train_on_val)


SHAPES: dict[str, CurvesConfig] = {
    "healthy": CurvesConfig(),
    "underfitting": CurvesConfig(hidden=2),
    # Kept as the clinic's patient A: four changes, each named in WHY.
    "overfitting": CurvesConfig(epochs=120, n_train=150, hidden=256, label_noise=0.2),
    "population shift": CurvesConfig(val_source="shifted"),
    "noisy validation": CurvesConfig(n_val=25, n_train=200),
    "heavy dropout": CurvesConfig(dropout=0.6),
}

# Why a shape changes more than one field (the notebook prints these beside the changes).
WHY = {
    "overfitting": {
        "n_train": "the cause: few rows to fit",
        "label_noise": "20 % wrong labels give it something to memorise that val does not share",
        "hidden": "a wide network memorises them faster",
        "epochs": "150 rows are 5 steps an epoch: 120 epochs are 600 steps, under half of healthy's 1 280",
    },
    "noisy validation": {
        "n_val": "the cause: 25 validation rows",
        "n_train": "200 rows hold accuracy near 0.8, away from 1, where a 25-row sample would barely move",
    },
}

Config = CurvesConfig
SCALES = ("mini",)  # the triage lesson has no forum post, so no forum scale
POSTED: dict = {}  # no post: these are the canonical shapes


def configs(scale: str = "mini") -> dict[str, CurvesConfig]:
    """The six canonical shapes."""
    check_choice("scale", scale, SCALES)
    return dict(SHAPES)


RETRAINED = "healthy, retrained on train + val"
CLEAN = "overfitting, clean labels"  # the panel's first suggestion, committed so its answer is measured


def reference_configs(scale: str = "mini") -> dict[str, CurvesConfig]:
    """Every run a claim rests on: the six shapes, the healthy one's final model trained on train + val,
    and the overfitting run with its labels clean (the panel suggestion the exercise answers)."""
    return {**configs(scale), RETRAINED: SHAPES["healthy"].replace(train_on_val=True),
            CLEAN: SHAPES["overfitting"].replace(label_noise=0.0)}


# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/test_contract.py). Reference measured 2026-12-06,
# 1 torch thread.
BANDS = {
    "healthy_final_val_accuracy": (0.93, 0.99),
    "healthy_final_accuracy_gap": (0.0, 0.06),  # train_eval_accuracy - val_accuracy
    "healthy_val_rise": (1.0, 1.3),  # final val_loss / min val_loss
    "underfitting_final_train_accuracy": (0.1, 0.6),
    "underfitting_final_gap": (-0.06, 0.1),  # train_eval_accuracy - val_accuracy
    "overfitting_best_epoch": (10, 40),
    "overfitting_rise": (1.3, 2.5),  # final val_loss / min val_loss
    # the train-dev curve tells the two apart: it falls with val when the model overfits ...
    "overfitting_dev_minus_val": (-0.12, 0.12),  # train_dev_accuracy - val_accuracy, last 3 epochs
    "overfitting_train_minus_dev": (0.1, 0.3),  # train_eval_accuracy - train_dev_accuracy, last 3 epochs
    # ... and stays with train when validation is another population
    "shift_dev_minus_val": (0.2, 0.7),
    "shift_train_minus_dev": (0.0, 0.08),
    "shift_final_loss_ratio": (8.0, 60.0),  # val_loss / train_dev_loss, final epoch
    "shift_min_accuracy_gap": (0.15, 0.6),  # over all epochs, train_eval_acc - val_acc
    # over-confidence: after its minimum, val loss rises while val accuracy keeps rising
    "shift_val_loss_rise": (1.15, 2.2),  # final val_loss / min val_loss
    "shift_val_accuracy_gain_after_loss_min": (0.04, 0.35),  # final val acc - val acc at the val-loss minimum
    # 25 rows: a persistent offset from train-dev, and steps bigger than train-dev's
    "noisy_val_offset": (-0.25, -0.03),  # mean(val acc - train-dev acc), second half: these 25 rows are harder
    "noisy_val_jumpiness": (1.1, 4.0),  # mean |Δ val acc| / mean |Δ train-dev acc|, epoch to epoch
    "dropout_avg_below_rescored": (0.08, 0.3),  # mean(train_eval_acc - running acc)
    "dropout_logged_below_val": (0.02, 0.25),  # val acc - logged train acc, last 3 epochs
    # Karpathy's check: before any step the 10-class model is unsure, val loss ≈ ln 10 = 2.303 (within 5 %).
    "healthy_val_loss_at_init": (2.19, 2.42),
    # The final model (train + val) against the model chosen on val, each scored once on the 197 test rows:
    # a difference inside the test set's own sampling noise (one row is 0.005), not a claimed gain.
    "retrained_test_gain": (-0.05, 0.06),
    # The panel's first suggestion: with clean labels the overfitting run's val loss still rises, less.
    "clean_rise": (1.05, 1.6),
    "clean_rise_below_noisy": (0.1, 1.5),  # overfitting_rise - clean_rise
}


def load_data(config: CurvesConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Split digits into train, val, train-dev and test (no row in two of them).

    train-dev and test both come from the training population: train-dev is scored every epoch
    (it tells a shifted validation set from overfitting), test only once, after training.
    """
    from helpers.datasets import digits, rng, shift_images

    images, labels = digits()
    order = rng(1234).permutation(len(labels))  # one fixed shuffle: splits differ only by size
    val_idx = order[: config.n_val]
    train_idx = order[400 : 400 + config.n_train]
    dev_idx, test_idx = order[1400:1600], order[1600:]
    x_val = images[val_idx]
    if config.val_source == "shifted":
        x_val = shift_images(x_val, dx=1)
    y_train = labels[train_idx].copy()
    if config.label_noise:
        generator = rng(config.seed + 99)
        noisy = generator.random(len(y_train)) < config.label_noise
        y_train[noisy] = generator.integers(0, 10, noisy.sum())
    x_train = images[train_idx].reshape(-1, 64)
    if config.train_on_val:  # the final model: everything but train-dev and test
        x_train = np.concatenate([x_train, x_val.reshape(-1, 64)])
        y_train = np.concatenate([y_train, labels[val_idx]])
    return {
        "train": (x_train, y_train),
        "val": (x_val.reshape(-1, 64), labels[val_idx]),
        "train_dev": (images[dev_idx].reshape(-1, 64), labels[dev_idx]),
        "test": (images[test_idx].reshape(-1, 64), labels[test_idx]),
    }


def build_model(config: CurvesConfig):
    """Two hidden layers of ``hidden`` units, ReLU, Dropout after each; 10 outputs (logits)."""
    from torch import nn

    return nn.Sequential(
        nn.Linear(64, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
        nn.Linear(config.hidden, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
        nn.Linear(config.hidden, 10),
    )


def train(config: CurvesConfig, progress: Progress | None = None) -> History:
    import torch

    from helpers import torch_lab

    generator = torch_lab.set_seeds(config.seed)
    data = load_data(config)
    model = build_model(config)
    # Karpathy's first check: before any step, a K-class model should be unsure, loss ≈ ln K.
    at_init = torch_lab.score(model, *torch_lab.as_tensors(*data["val"]))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history = torch_lab.fit(
        model, data["train"], {"val": data["val"], "train_dev": data["train_dev"]}, epochs=config.epochs,
        optimizer=optimizer, batch_size=config.batch_size, generator=generator, progress=progress,
    )
    # The test set is scored once, after the last epoch: nothing is ever chosen on it.
    test = torch_lab.score(model, *torch_lab.as_tensors(*data["test"]))
    history.info.update(val_loss_at_init=at_init[0], val_accuracy_at_init=at_init[1],
                        test_loss=test[0], test_accuracy=test[1], n_test=len(data["test"][1]))
    return history


def measure(histories: dict[str, History] | None = None) -> dict[str, float]:
    """The numbers behind each band, from the runs of reference_configs()."""
    h = histories or {name: run(config) for name, config in reference_configs().items()}
    healthy, under, over = h["healthy"], h["underfitting"], h["overfitting"]
    shift, noisy, drop, clean = h["population shift"], h["noisy validation"], h["heavy dropout"], h[CLEAN]
    best = int(np.argmin(over["val_loss"]))
    shift_best = int(np.argmin(shift["val_loss"]))
    half = noisy.n_epochs // 2

    def rise(history: History) -> float:
        return history.final("val_loss") / float(history["val_loss"].min())

    return {
        "healthy_final_val_accuracy": healthy.final("val_accuracy"),
        "healthy_final_accuracy_gap": healthy.final("train_eval_accuracy") - healthy.final("val_accuracy"),
        "healthy_val_rise": rise(healthy),
        "underfitting_final_train_accuracy": under.final("train_eval_accuracy"),
        "underfitting_final_gap": under.final("train_eval_accuracy") - under.final("val_accuracy"),
        "overfitting_best_epoch": best + 1,
        "overfitting_rise": rise(over),
        "overfitting_dev_minus_val": over.final("train_dev_accuracy", LAST) - over.final("val_accuracy", LAST),
        "overfitting_train_minus_dev": over.final("train_eval_accuracy", LAST) - over.final("train_dev_accuracy", LAST),
        "shift_dev_minus_val": shift.final("train_dev_accuracy", LAST) - shift.final("val_accuracy", LAST),
        "shift_train_minus_dev": shift.final("train_eval_accuracy", LAST) - shift.final("train_dev_accuracy", LAST),
        "shift_final_loss_ratio": shift.final("val_loss") / shift.final("train_dev_loss"),
        "shift_min_accuracy_gap": float(np.min(shift["train_eval_accuracy"] - shift["val_accuracy"])),
        "shift_val_loss_rise": rise(shift),
        "shift_val_accuracy_gain_after_loss_min":
            shift.final("val_accuracy") - float(shift["val_accuracy"][shift_best]),
        "noisy_val_offset": float(np.mean(noisy["val_accuracy"][half:] - noisy["train_dev_accuracy"][half:])),
        "noisy_val_jumpiness": float(np.mean(np.abs(np.diff(noisy["val_accuracy"])))
                                     / max(np.mean(np.abs(np.diff(noisy["train_dev_accuracy"]))), 1e-9)),
        "dropout_avg_below_rescored": float(np.mean(drop["train_eval_accuracy"] - drop["accuracy"])),
        "dropout_logged_below_val": drop.final("val_accuracy", LAST) - drop.final("accuracy", LAST),
        "healthy_val_loss_at_init": float(healthy.info["val_loss_at_init"]),
        "retrained_test_gain": float(h[RETRAINED].info["test_accuracy"] - healthy.info["test_accuracy"]),
        "clean_rise": rise(clean),
        "clean_rise_below_noisy": rise(over) - rise(clean),
    }


# --- pictures and the notebook's named helpers ------------------------------------

STORY = {  # each panel's title says what that metric's picture shows
    "loss": {
        "healthy": "val tracks train; both level off",
        "underfitting": "both high, together: too little capacity",
        "overfitting": "val and train-dev bottom out, then rise",
        "population shift": "val high; train and train-dev fall",
        "noisy validation": "25 val rows wander off train-dev",
        "heavy dropout": "logged train above val and re-scored",
    },
    "accuracy": {
        "healthy": "val tracks train; both level off",
        "underfitting": "both low, together",
        "overfitting": "train reaches 1; val and train-dev stay below",
        "population shift": "val far below train-dev from epoch 1",
        "noisy validation": "25 rows: 4-point steps, an offset",
        "heavy dropout": "logged train below val and re-scored",
    },
}
TRAIN_LABELS_SEED = 0  # the training rows are the same for every shape; label noise aside, any config gives them


def train_labels() -> np.ndarray:
    """The healthy run's training labels (for the chance and majority lines)."""
    return load_data(SHAPES["healthy"])["train"][1]


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


def shape_runs(seed_index: int = 0) -> dict[str, History]:
    """The six shapes' runs on one reference seed (seed 0 by default), read from the committed reference:
    the same numbers the tests hold to the bands, whatever this machine's thread count."""
    return {name: _reference_seeds()[seed_index][name] for name in SHAPES}


def show_changes() -> None:
    """Print what each shape changes from the healthy run, and why any second change is there."""
    base = CurvesConfig()
    for name, config in SHAPES.items():
        fields = ("epochs", "n_train", "n_val", "val_source", "hidden", "dropout", "label_noise", "lr")
        changed = {f: getattr(config, f) for f in fields if getattr(config, f) != getattr(base, f)}
        print(f"{name:17s} {changed or 'the baseline: 1 000 train, 400 val, 64 units, 40 epochs, AdamW lr 1e-3'}")
        for field, why in WHY.get(name, {}).items():
            print(f"{'':19s}{field}: {why}")


def _reference_seeds() -> list[dict[str, History]]:
    from helpers import reference

    return reference.load("00_reading_learning_curves")


def show_init_losses(runs: dict[str, History]) -> None:
    """Each run's validation loss before its first step, against ln 10 and the training labels' prior entropy."""
    from helpers.stats import prior_entropy

    print(f"ln 10 = {np.log(10):.3f}; entropy of the training labels' class shares "
          f"= {prior_entropy(train_labels()):.3f}")
    for name, r in runs.items():
        print(f"{name:17s} val loss before any step {r.info['val_loss_at_init']:.3f}")
    print(f"2 % positives (notebook 04): prior entropy {prior_entropy([0.98, 0.02], shares=True):.3f} "
          f"against ln 2 = {np.log(2):.3f}")


def show_train_dev_reading() -> None:
    """Over the reference seeds: train - train-dev and train-dev - val at the end, for overfitting and shift."""
    from helpers.stats import spread

    seeds = _reference_seeds()
    for name in ("overfitting", "population shift"):
        train_dev = spread([s[name].final("train_eval_accuracy", LAST) - s[name].final("train_dev_accuracy", LAST)
                            for s in seeds])
        dev_val = spread([s[name].final("train_dev_accuracy", LAST) - s[name].final("val_accuracy", LAST)
                          for s in seeds])
        print(f"{name:17s} accuracy: train - train-dev "
              f"{train_dev.mean:+.2f} [{train_dev.low:+.2f}, {train_dev.high:+.2f}]  "
              f"train-dev - val {dev_val.mean:+.2f} [{dev_val.low:+.2f}, {dev_val.high:+.2f}]  "
              f"(mean [lowest, highest] of 3 seeds, last 3 epochs)")


def show_over_confidence() -> None:
    """The shift run's val loss and val accuracy at the val-loss minimum and at the end, per reference seed."""
    for seed, s in enumerate(_reference_seeds()):
        h = s["population shift"]
        best = int(np.argmin(h["val_loss"]))
        print(f"seed {seed}: val loss {h['val_loss'][best]:.2f} (epoch {best + 1}) -> {h['val_loss'][-1]:.2f} "
              f"(epoch {h.n_epochs});  val accuracy {h['val_accuracy'][best]:.2f} -> {h['val_accuracy'][-1]:.2f}")


def show_clean_labels() -> None:
    """The panel's first suggestion on every reference seed: the overfitting run's val-loss rise (final / minimum)
    and final train accuracy (re-scored), with 20 % wrong labels and with clean labels."""
    for seed, s in enumerate(_reference_seeds()):
        runs_ = {"20 % wrong labels": s["overfitting"], "clean labels": s[CLEAN]}
        print(f"seed {seed}: " + ";  ".join(
            f"{label}: val loss end / minimum {h.final('val_loss') / float(h['val_loss'].min()):.2f}, "
            f"train accuracy {h.final('train_eval_accuracy'):.2f}" for label, h in runs_.items()))


def show_noisy_validation() -> None:
    """What 25 validation rows show, per reference seed: the offset from train-dev and the step size."""
    from helpers.stats import wilson_interval

    for seed, s in enumerate(_reference_seeds()):
        h = s["noisy validation"]
        half = h.n_epochs // 2
        offset = float(np.mean(h["val_accuracy"][half:] - h["train_dev_accuracy"][half:]))
        jumps = np.mean(np.abs(np.diff(h["val_accuracy"]))), np.mean(np.abs(np.diff(h["train_dev_accuracy"])))
        acc = float(np.mean(h["val_accuracy"][half:]))
        low, high = wilson_interval(acc, 25, 0.90)
        print(f"seed {seed}: val - train-dev {offset:+.3f} (epochs {half + 1}-{h.n_epochs});  mean step: val "
              f"{jumps[0]:.3f}, train-dev {jumps[1]:.3f};  90 % Wilson interval of val {acc:.2f} on 25 rows: "
              f"[{low:.2f}, {high:.2f}]")


def one_batch(seed: int = 0, size: int = 32):
    """``size`` training rows of digits as tensors, with every random generator seeded (for "overfit one batch")."""
    from helpers import torch_lab

    torch_lab.set_seeds(seed)
    x, y = load_data(SHAPES["healthy"])["train"]
    pick = np.random.default_rng(seed).choice(len(y), size, replace=False)
    return torch_lab.as_tensors(x[pick], y[pick])


def show_final_model() -> None:
    """The healthy settings chosen on val, and the final model on train + val: each scored once on the test set."""
    from helpers.stats import spread, wilson_interval

    seeds = _reference_seeds()
    n_test = int(seeds[0]["healthy"].info["n_test"])
    for name in ("healthy", RETRAINED):
        scores = [s[name].info["test_accuracy"] for s in seeds]
        low, high = wilson_interval(float(np.mean(scores)), n_test, 0.90)
        rows = int(seeds[0][name].info["n_train"])
        print(f"{name} ({rows} training rows): test accuracy per seed {', '.join(f'{v:.3f}' for v in scores)};  "
              f"90 % Wilson interval of the mean on {n_test} rows [{low:.3f}, {high:.3f}]")
    gains = spread([s[RETRAINED].info["test_accuracy"] - s["healthy"].info["test_accuracy"] for s in seeds])
    print(f"gain per seed: {', '.join(f'{v:+.3f}' for v in gains.values)}  (one test row = {1 / n_test:.3f})")


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
