"""Case 03 — a tiny dataset: 630 images, 9 classes, a CNN + BiLSTM that memorises (PyTorch).

Forum case: Data Science SE 51961. The post's
network: three blocks of Conv → BatchNorm → ReLU → MaxPool → Dropout 0.25
(16, 32 and 8 channels, the last with kernel 2 and padding 1), Linear to 1024,
a 2-layer bidirectional LSTM with hidden size 9 over a sequence of length 1,
Linear 18 → 9. 630 / 90 / 90 samples, early stopping on validation loss.

Miniature: 16×16 colour images (``datasets.glyph_images``: a faint glyph that can sit
anywhere, over clutter of each image's own). Three pools leave 2×2 pixels, so layer 3
is widened from 8 to 128 channels: the flatten stays wide (512 numbers; the post's is
4 096) instead of a 32-number bottleneck the post never had. PyTorch only: this module
never imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import LAST, History, Progress, RunConfig, run
from helpers.validate import check_bool, check_choice, check_range

SCALES = ("mini", "forum")
HEADS = ("lstm", "linear", "pooled")
TRAIN_SIZES = (315, 630, 1260, 2520, 5040)
WIDTHS = (0.25, 0.5, 1.0, 2.0)
DROPOUTS = (0.0, 0.25, 0.5)  # panel levels; any value in [0, 0.75] is a valid config
WEIGHT_DECAYS = (0.0, 0.1, 0.5, 1.0)  # panel levels
N_CLASSES = 9
N_VAL = N_TEST = 90  # the post's
SIGNAL = 0.8  # glyph amplitude against clutter of amplitude 1: 630 images are too few, 5 040 are plenty
BATCH = 32
LR = 1e-3  # Adam's default, as a beginner leaves it
MAX_SHIFT = 1  # augmentation: pixels each way (more slows fitting past the epoch budget)
SATURATED = 3.0  # |gate pre-activation| beyond which sigmoid/tanh pass < 5 % / 1 % of a gradient
EPOCHS = 60  # enough for the post's model to memorise 630 images through Dropout 0.25
SAMPLE_BUDGET = 630 * EPOCHS  # sample visits of the n = 630 run; larger sets get the same (at least 15 epochs)
WEIGHT_DECAY = 1.0  # AdamW's decoupled decay: lr × 1.0 shrinks every weight by 0.1 % a step
PATIENCE = 5  # early stopping on val loss, as the post did
FIXES = ("smaller model", "augmentation", "weight decay")  # each on its own, on the LSTM-free network
BEST = "smaller model + weight decay"


def epochs_for(n_train: int) -> int:
    """Epochs for a training-set size: as many sample visits as EPOCHS epochs of 630, at least 15."""
    return max(15, round(SAMPLE_BUDGET / n_train))


@dataclass(frozen=True)
class TinyDataConfig(RunConfig):
    """One training of the post's CNN (+ BiLSTM) on the glyph images.

    n_train: training images (val and test stay 90 each); head: "lstm" (the post's
    BiLSTM over a length-1 sequence), "linear" (the LSTM removed) or "pooled" (a global
    max pool and one Linear layer: the small model); width: scales every channel count
    and the 1024-wide Linear; dropout: the blocks' Dropout; weight_decay: AdamW's
    decoupled decay (0 = the post's plain Adam); augment: random shifts and mirror
    flips of each training batch; shuffled_labels: the training labels permuted.
    """

    epochs: int = EPOCHS
    n_train: int = 630
    head: str = "lstm"
    width: float = 1.0
    dropout: float = 0.25
    weight_decay: float = 0.0
    augment: bool = False
    shuffled_labels: bool = False
    scale: str = "mini"

    trainer = "helpers.scenarios.case03_tiny_dataset:train"
    framework = "torch"

    def validate(self) -> None:
        super().validate()
        check_choice("n_train", self.n_train, TRAIN_SIZES)
        check_choice("head", self.head, HEADS)
        check_choice("width", self.width, WIDTHS)
        check_range("dropout", self.dropout, 0.0, 0.75)
        check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        check_bool("augment", self.augment)
        check_bool("shuffled_labels", self.shuffled_labels)
        check_choice("scale", self.scale, SCALES)

    @property
    def sizes(self) -> dict:
        if self.scale == "mini":
            return {"image": (16, 16), "glyph": 5, "channels": (16, 32, 128), "dense": 1024}
        # The post: Linear(8*16*32, 1024) after three pools means 124×252 inputs (16×32 after the last pool).
        return {"image": (124, 252), "glyph": 24, "channels": (16, 32, 8), "dense": 1024}


def configs(scale: str = "mini") -> dict[str, TinyDataConfig]:
    """The runs the notebook tells its story with (all at n = 630)."""
    check_choice("scale", scale, SCALES)
    post = TinyDataConfig(scale=scale)
    trunk = post.replace(head="linear")
    small, aug, decay = {"head": "pooled"}, {"augment": True}, {"weight_decay": WEIGHT_DECAY}
    return {
        "the post (BiLSTM head)": post,
        "LSTM removed": trunk,
        "shuffled labels": trunk.replace(shuffled_labels=True),
        "smaller model": trunk.replace(**small),
        "augmentation": trunk.replace(**aug),
        "weight decay": trunk.replace(**decay),
        "smaller model + weight decay": trunk.replace(**small, **decay),
    }


def configs_with_extras(scale: str = "mini") -> dict[str, TinyDataConfig]:
    """configs() plus all three fixes at once (augmentation's cost in a fixed epoch budget)."""
    runs = configs(scale)
    runs["all three fixes"] = runs["smaller model + weight decay"].replace(augment=True)
    return runs


def learning_curve_configs(scale: str = "mini") -> dict[int, TinyDataConfig]:
    """The LSTM-free model at each training-set size from 630 up, with the same budget of sample visits."""
    base = configs(scale)["LSTM removed"]
    return {n: base.replace(n_train=n, epochs=epochs_for(n)) for n in TRAIN_SIZES[1:]}


Config = TinyDataConfig
# The post's own numbers (as the question states them).
POSTED = {"n_train": 630, "n_val": 90, "n_test": 90, "classes": 9,
          "train_accuracy": (0.98, 1.0), "val_accuracy": (0.15, 0.2), "test_accuracy": (0.15, 0.2)}


def reference_configs(scale: str = "mini") -> dict[str, TinyDataConfig]:
    """Every run a claim rests on: the story, all three fixes, and the learning curve."""
    runs = configs_with_extras(scale)
    runs.update({f"n = {n}": c for n, c in learning_curve_configs(scale).items()})
    return runs


# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/bands.py).
BANDS: dict[str, tuple[float, float]] = {
    # The post's BiLSTM head does not train here: train and val stay at chance (1/9), the LSTM's gates saturated.
    "post_train_accuracy": (0.05, 0.2),
    "post_val_accuracy": (0.03, 0.2),
    "post_val_accuracy_spread": (0.0, 0.005),  # validation accuracy does not move in the last third
    "post_lstm_saturation": (0.6, 1.0),  # share of the first layer's gate pre-activations beyond ±3
    # The same trunk without the LSTM memorises 630 images: train ≈ 1, validation far below (it varies a lot
    # from seed to seed, 0.18–0.49: 90 images and a run that memorises).
    "trunk_train_accuracy": (0.93, 1.0),  # re-scored in eval mode
    "trunk_val_accuracy": (0.08, 0.55),
    "trunk_test_accuracy": (0.08, 0.55),
    "trunk_train_minus_val": (0.4, 0.95),
    "trunk_parameters": (556_489, 556_489),
    "lstm_extra_parameters": (67_554, 67_554),
    "lstm_removed_val_gain": (0.03, 0.45),  # removing the LSTM helps
    # Shuffled labels are memorised as well as real ones.
    "shuffled_train_accuracy": (0.9, 1.0),
    "shuffled_val_accuracy": (0.0, 0.2),
    # Forgetting model.eval(): the same weights, validated in train mode, score lower.
    "no_eval_val_change": (-0.25, -0.01),
    "best_fix_no_eval_val_change": (-0.1, -0.005),
    # The learning curve, same updates per point: from 630 to 5 040 images validation climbs to meet training.
    # (Its steps are not monotone on every seed: 1 260 → 2 520 fell by 0.12 on one.)
    "largest_n_val_accuracy": (0.8, 1.0),
    "largest_n_train_minus_val": (-0.05, 0.08),  # training comes down to meet validation
    "learning_curve_total_gain": (0.3, 0.9),  # val at 5 040 minus val at 630
    # Fixes at n = 630, each against the LSTM-free network (gains in accuracy on 90 images).
    "smaller_model_val_gain": (0.1, 0.6),
    "smaller_model_test_gain": (0.1, 0.55),
    "augmentation_val_gain": (0.01, 0.25),
    "augmentation_test_gain": (0.0, 0.3),
    "augmentation_train_drop": (0.2, 0.7),  # augmentation stops the memorising
    "weight_decay_val_gain": (0.03, 0.45),
    "weight_decay_test_gain": (0.03, 0.5),
    "best_fix_val_gain": (0.4, 0.85),  # smaller model + weight decay
    "best_fix_test_gain": (0.4, 0.85),
    "best_fix_train_minus_val": (-0.05, 0.08),  # the gap closes
    "all_three_minus_best_val": (-0.35, -0.02),  # adding augmentation costs within 60 epochs
    # Early stopping with the post's patience 5 on val loss keeps an epoch from before anything was learnt.
    "early_stopping_val_gain": (-0.4, 0.02),
    "early_stopping_test_gain": (-0.4, 0.02),
    "trunk_early_stop_kept_epoch": (1, 8),
    "best_fix_early_stop_epoch": (5, 12),  # patience 5 would have stopped the best run before it learnt
}


# --- data and model ---------------------------------------------------------


def load_data(config: TinyDataConfig) -> dict[str, np.ndarray]:
    """Train (n_train), val (90) and test (90), NCHW; the test images are drawn apart from the rest."""
    from helpers.datasets import glyph_images, rng

    s = config.sizes
    kwargs = {"n_classes": N_CLASSES, "size": s["image"], "glyph": s["glyph"], "signal": SIGNAL}
    # Image i does not depend on how many are drawn: a smaller n is a prefix of a larger one, with the same
    # validation images (a true learning curve).
    x, y = glyph_images(N_VAL + config.n_train, seed=config.seed, **kwargs)
    x_test, y_test = glyph_images(N_TEST, seed=config.seed + 7919, **kwargs)
    x_train, y_train = x[N_VAL : N_VAL + config.n_train], y[N_VAL : N_VAL + config.n_train].copy()
    if config.shuffled_labels:
        y_train = rng(config.seed + 1).permutation(y_train)
    return {"x_train": x_train, "y_train": y_train, "x_val": x[:N_VAL], "y_val": y[:N_VAL], "x_test": x_test,
            "y_test": y_test}


def build_model(config: TinyDataConfig):
    """The post's ConvNet (head "lstm"), the same trunk with the LSTM removed ("linear"), or a pooled head."""
    import torch
    from torch import nn

    s = config.sizes
    channels = [max(2, round(c * config.width)) for c in s["channels"]]
    dense = max(8, round(s["dense"] * config.width))

    def block(c_in: int, c_out: int, kernel: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride=1, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                             nn.MaxPool2d(2, 2), nn.Dropout(config.dropout))

    class ConvNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer1 = block(3, channels[0], 3)
            self.layer2 = block(channels[0], channels[1], 3)
            self.layer3 = block(channels[1], channels[2], 2)  # kernel 2, padding 1, as in the post
            if config.head == "pooled":  # a max over positions: where the glyph sits stops mattering
                self.flc2 = nn.Linear(channels[2], N_CLASSES)
                return
            flat = self.features(torch.zeros(1, 3, *s["image"])).shape[1]
            self.flc = nn.Linear(flat, dense)
            if config.head == "lstm":
                self.blstm = nn.LSTM(dense, 9, num_layers=2, batch_first=True, bidirectional=True)
                self.flc2 = nn.Linear(18, N_CLASSES)
            else:
                self.flc2 = nn.Linear(dense, N_CLASSES)

        def features(self, x):
            out = self.layer3(self.layer2(self.layer1(x)))
            return out.amax(dim=(2, 3)) if config.head == "pooled" else out.flatten(1)

        def forward(self, x):
            out = self.features(x)
            if config.head == "pooled":
                return self.flc2(out)
            out = self.flc(out)
            if config.head == "lstm":
                out, _ = self.blstm(out[:, None, :])  # a sequence of length 1: nothing to remember
                out = out[:, -1, :]
            return self.flc2(out)

    return ConvNet()


def shift_and_flip(x, generator):
    """Shift each image by up to MAX_SHIFT pixels (wrapping) and mirror half of them: both keep the label."""
    import torch

    shifts = torch.randint(-MAX_SHIFT, MAX_SHIFT + 1, (len(x), 2), generator=generator)
    out = torch.stack([torch.roll(img, (int(dy), int(dx)), dims=(1, 2))
                       for img, (dy, dx) in zip(x, shifts, strict=True)])
    flip = torch.rand(len(x), generator=generator) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def lstm_saturation(model, x) -> float:
    """Share of the first LSTM layer's gate pre-activations beyond ±SATURATED (0 without an LSTM)."""
    import torch

    if not hasattr(model, "blstm"):
        return 0.0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        h = model.flc(model.features(x))
        lstm = model.blstm
        z = torch.cat([h @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + lstm.bias_hh_l0,
                       h @ lstm.weight_ih_l0_reverse.T + lstm.bias_ih_l0_reverse + lstm.bias_hh_l0_reverse], 1)
    model.train(was_training)
    return float((z.abs() > SATURATED).float().mean())


def train(config: TinyDataConfig, progress: Progress | None = None) -> History:
    import torch

    from helpers import torch_lab

    generator = torch_lab.set_seeds(config.seed)
    d = load_data(config)
    model = build_model(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=config.weight_decay, foreach=True)
    x_val, y_val = torch_lab.as_tensors(d["x_val"], d["y_val"])

    def extras(epoch: int, net) -> dict[str, float]:
        # The PyTorch slip, measured on the same weights: validation scored without model.eval().
        loss, acc = torch_lab.score(net, x_val, y_val, train_mode=True, batch_size=BATCH)
        return {"val_trainmode_loss": loss, "val_trainmode_accuracy": acc,
                "lstm_saturation": lstm_saturation(net, x_val)}

    history = torch_lab.fit(
        model, (d["x_train"], d["y_train"]), {"val": (d["x_val"], d["y_val"]), "test": (d["x_test"], d["y_test"])},
        epochs=config.epochs, optimizer=optimizer, batch_size=BATCH, generator=generator,
        augment=shift_and_flip if config.augment else None, progress=progress, on_epoch_end=extras,
    )
    history.info.update(parameters=int(sum(p.numel() for p in model.parameters())), classes=N_CLASSES)
    return history


# --- measurements -------------------------------------------------------------


def early_stop(history: History, patience: int = PATIENCE) -> tuple[int, int]:
    """(epoch training stops at, epoch whose weights are kept), 1-based, stopping on val loss."""
    val = np.asarray(history["val_loss"])
    best = 0
    for epoch in range(len(val)):
        if val[epoch] < val[best]:
            best = epoch
        if epoch - best >= patience:
            return epoch + 1, best + 1
    return len(val), best + 1


def at_early_stop(history: History, metric: str) -> float:
    """``metric`` at the epoch early stopping keeps."""
    return float(history[metric][early_stop(history)[1] - 1])


def measure(histories: dict[str, History] | None = None,
            curve: dict[int, History] | None = None) -> dict[str, float]:
    """The numbers behind each claim, from configs('mini') and learning_curve_configs('mini')."""
    given = histories or {}
    h = {name: given[name] if name in given else run(c) for name, c in configs_with_extras().items()}
    lc = curve or {n: given.get(f"n = {n}") or run(c) for n, c in learning_curve_configs().items()}
    post, trunk, shuffled = h["the post (BiLSTM head)"], h["LSTM removed"], h["shuffled labels"]

    def final(history: History, metric: str) -> float:
        return history.final(metric, LAST)

    base = final(trunk, "val_accuracy")
    sizes = sorted(lc)
    out = {
        "post_train_accuracy": final(post, "train_eval_accuracy"),
        "post_val_accuracy": final(post, "val_accuracy"),
        "post_lstm_saturation": final(post, "lstm_saturation"),
        "trunk_train_accuracy": final(trunk, "train_eval_accuracy"),
        "trunk_val_accuracy": base,
        "trunk_test_accuracy": final(trunk, "test_accuracy"),
        "lstm_removed_val_gain": base - final(post, "val_accuracy"),
        "shuffled_train_accuracy": final(shuffled, "train_eval_accuracy"),
        "shuffled_val_accuracy": final(shuffled, "val_accuracy"),
        "no_eval_val_change": final(trunk, "val_trainmode_accuracy") - base,
        "trunk_parameters": float(trunk.info["parameters"]),
        "lstm_extra_parameters": float(post.info["parameters"] - trunk.info["parameters"]),
        "largest_n_val_accuracy": final(lc[sizes[-1]], "val_accuracy"),
        "largest_n_train_minus_val": final(lc[sizes[-1]], "train_eval_accuracy") - final(lc[sizes[-1]], "val_accuracy"),
        "best_fix_train_minus_val": final(h[BEST], "train_eval_accuracy") - final(h[BEST], "val_accuracy"),
        # The BiLSTM head's curves go flat: the same answers every epoch over the last third of training.
        "post_val_accuracy_spread": float(np.std(post["val_accuracy"][-(post.n_epochs // 3):])),
        "learning_curve_total_gain": final(lc[sizes[-1]], "val_accuracy") - final(lc[sizes[0]], "val_accuracy"),
        "trunk_train_minus_val": final(trunk, "train_eval_accuracy") - base,
        "early_stopping_val_gain": at_early_stop(trunk, "val_accuracy") - base,
        "early_stopping_test_gain": at_early_stop(trunk, "test_accuracy") - final(trunk, "test_accuracy"),
        "best_fix_val_gain": final(h[BEST], "val_accuracy") - base,
        "best_fix_test_gain": final(h[BEST], "test_accuracy") - final(trunk, "test_accuracy"),
        "best_fix_no_eval_val_change": final(h[BEST], "val_trainmode_accuracy") - final(h[BEST], "val_accuracy"),
        "augmentation_train_drop": (final(trunk, "train_eval_accuracy")
                                    - final(h["augmentation"], "train_eval_accuracy")),
        "all_three_minus_best_val": final(h["all three fixes"], "val_accuracy") - final(h[BEST], "val_accuracy"),
        "trunk_early_stop_kept_epoch": float(early_stop(trunk)[1]),
        "best_fix_early_stop_epoch": float(early_stop(h[BEST])[0]),
    }
    for name in FIXES:
        out[f"{name.replace(' ', '_')}_val_gain"] = final(h[name], "val_accuracy") - base
        out[f"{name.replace(' ', '_')}_test_gain"] = final(h[name], "test_accuracy") - final(trunk, "test_accuracy")
    return out


def out_of_band(measured: dict[str, float]) -> dict[str, tuple[float, tuple[float, float]]]:
    """Each measured number outside its band, with the band."""
    from helpers.scenarios import outside_bands

    return outside_bands(measured, BANDS)


# --- pictures --------------------------------------------------------------------------


def plot_accuracy(ax, history: History, title: str = "", *, without_eval: bool = False) -> None:
    """Train (logged and re-scored), validation and test accuracy with Wilson bands (90 images), chance dashed.

    without_eval: draw validation as scored without ``model.eval()`` (the same weights).
    """
    from helpers.curves import draw_chance, plot_curves

    plot_curves(history, ax, "accuracy", splits=("val", "test"), error_bars=True, title=title)
    if without_eval:
        ax.plot(history.epochs, history["val_trainmode_accuracy"], ":", color="tab:red", lw=1.5,
                label="validation without model.eval()")
    draw_chance(ax, 1 / N_CLASSES)
    ax.legend(fontsize=7, loc="upper left")


def draw_story(fig, histories: dict[str, History]) -> None:
    """The post's network and the same trunk without its LSTM, at n = 630."""
    from helpers.curves import annotate_epoch

    names = ["the post (BiLSTM head)", "LSTM removed"]
    axes = fig.subplots(1, 2, sharey=True)
    for ax, name in zip(axes, names, strict=True):
        h = histories[name]
        plot_accuracy(ax, h, title=f"{name}: {h.info['parameters']:,} parameters")
        train, val = h.final("train_eval_accuracy", LAST), h.final("val_accuracy", LAST)
        if name == names[0]:
            annotate_epoch(ax, h.n_epochs, train, f"stuck at chance: {h.final('lstm_saturation', LAST):.0%} of\n"
                           "the LSTM's gates saturated", dy=0.45, dx=-0.3)
        else:
            annotate_epoch(ax, h.n_epochs, val, f"train {train:.2f}, val {val:.2f}:\nmemorised, not learnt",
                           dy=0.35, dx=-0.3)
    axes[1].set_ylabel("")


def reference_runs(scale: str = "mini") -> list[dict[str, History]]:
    """Every run of reference_configs(), once per seed: the committed reference at mini scale (nothing trains);
    at forum scale this machine's seed 0, trained (or read from the cache)."""
    if scale == "mini":
        from helpers import reference

        return reference.load("03_tiny_dataset")
    return [{name: run(config) for name, config in reference_configs(scale).items()}]


def learning_curves(per_seed: list[dict[str, History]]) -> list[dict[int, History]]:
    """{training-set size: History} for each seed, from reference_runs()."""
    return [{int(name[4:]): h for name, h in runs.items() if name.startswith("n = ")} for runs in per_seed]


def _seed_errors(values: np.ndarray) -> np.ndarray:
    """Distances from the mean down to the lowest seed and up to the highest (rows: points)."""
    mean = values.mean(0)
    return np.vstack([mean - values.min(0), values.max(0) - mean])


def draw_learning_curve(ax, curve: dict[int, History] | list[dict[int, History]]) -> None:
    """Final accuracy against training-set size (log axis): the mean over seeds, the seeds' range as a thick bar,
    and the Wilson interval of a 90-image measurement (±1 s.e. coverage) as a thin capped bar."""
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
            ax.errorbar(sizes, y, yerr=wilson_errors(y, N_VAL), fmt="none", capsize=3, elinewidth=1, color=color)
    ax.set_xscale("log")
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.minorticks_off()
    draw_chance(ax, 1 / N_CLASSES)
    ax.set_xlabel("training images (log scale)")
    ax.set_ylabel(f"accuracy (mean of the last {LAST} epochs)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    spread = (f"\nmean of {len(curves)} seeds; thick bars: their range; thin: ±1 s.e. of 90 images"
              if len(curves) > 1 else "")
    ax.set_title("the same model, more images: validation climbs, memorising stops" + spread, fontsize=9)
    ax.legend(fontsize=8, loc="center right")


def fix_results(histories: dict[str, History]) -> dict[str, tuple[float, float]]:
    """(validation, test) accuracy for each run in the fixes chart, early stopping included."""
    trunk = histories["LSTM removed"]
    out = {"the post (BiLSTM)": histories["the post (BiLSTM head)"], "LSTM removed (baseline)": trunk}
    results = {name: (h.final("val_accuracy", LAST), h.final("test_accuracy", LAST)) for name, h in out.items()}
    results[f"early stopping (patience {PATIENCE})"] = (at_early_stop(trunk, "val_accuracy"),
                                                        at_early_stop(trunk, "test_accuracy"))
    for name in (*FIXES, BEST, "all three fixes"):
        if name in histories:
            h = histories[name]
            results[name] = (h.final("val_accuracy", LAST), h.final("test_accuracy", LAST))
    return results


def draw_fixes(ax, histories: dict[str, History] | list[dict[str, History]]) -> None:
    """Validation and test accuracy of each fix at n = 630: the mean over seeds, each seed a dot, and the
    Wilson interval of a 90-image measurement (±1 s.e. coverage) as a capped bar."""
    from helpers.curves import draw_chance
    from helpers.stats import wilson_errors

    per_seed = [fix_results(h) for h in ([histories] if isinstance(histories, dict) else histories)]
    names = list(per_seed[0])
    y = np.arange(len(names))
    values = np.array([[[r[n][i] for n in names] for i in (0, 1)] for r in per_seed])  # seed × split × fix
    mean = values.mean(0)
    for i, (split, color, n_eval, dy) in enumerate((("validation", "tab:orange", N_VAL, -0.2),
                                                     ("test", "tab:green", N_TEST, 0.2))):
        ax.barh(y + dy, mean[i], 0.4, xerr=wilson_errors(mean[i], n_eval), color=color, alpha=0.8,
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
    ax.set_xlabel(f"accuracy at n = 630, last {LAST} epochs ({seeds}bars: ±1 s.e. of 90 images)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")


def draw_examples(fig, config: TinyDataConfig | None = None, per_class: int = 3) -> None:
    """The nine glyphs (top row), and training images of each class: the glyph is somewhere in each, faint."""
    from helpers.datasets import glyph_shapes

    config = config or TinyDataConfig()
    d = load_data(config)
    shapes = glyph_shapes(N_CLASSES, config.sizes["glyph"])
    axes = fig.subplots(per_class + 1, N_CLASSES)
    for label in range(N_CLASSES):
        axes[0, label].imshow(shapes[label], cmap="gray")
        axes[0, label].set_title(f"class {label}", fontsize=8)
        for row, i in enumerate(np.flatnonzero(d["y_train"] == label)[:per_class], start=1):
            axes[row, label].imshow(d["x_train"][i].transpose(1, 2, 0))
    axes[0, 0].set_ylabel("glyph", fontsize=8)
    axes[1, 0].set_ylabel("training\nimages", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])


def draw_panel(fig, history: History, config: TinyDataConfig, *, model_eval: bool = True) -> None:
    """FixPanel view: accuracy curves with error bands, and what the run amounts to."""
    ax = fig.subplots()
    head = {"lstm": "BiLSTM head (the post)", "linear": "LSTM removed", "pooled": "pooled head (small)"}[config.head]
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
               [("BiLSTM (the post)", "lstm"), ("LSTM removed", "linear"), ("pooled (small)", "pooled")], "linear"),
        Levels("width", "model width", WIDTHS, 1.0),
        Levels("dropout", "dropout", DROPOUTS, 0.25),
        Levels("weight_decay", "weight decay", WEIGHT_DECAYS, 0.0),
        Toggle("augment", "augment (shift ±1, mirror)", False),
        Toggle("shuffled_labels", "shuffle the training labels", False),
        Toggle("model_eval", "validate after model.eval()", True),
    ]
