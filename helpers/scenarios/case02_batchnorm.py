"""Case 02 — the gap that "closes in sharply": BatchNorm's moving statistics (Keras).

Forum case: Cross Validated 335890. The post's
architecture shape — (Conv → ReLU → BatchNorm) ×2 then MaxPool, four times, then
Dense → softmax — with about 50 steps per epoch, as in the post (6400 samples,
batch 128). Miniature: 16×16 colour textures, 10 classes, 1600 samples, batch 32,
channels an eighth of the post's.

BatchNormalization keeps moving averages of each channel's mean and variance
(momentum 0.99, starting at 0 and 1); inference mode — validation — uses them.
After e epochs of 50 steps the starting values still weigh 0.99^(50·e).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from helpers.runs import History, Progress, RunConfig, run
from helpers.validate import check_choice, check_range

OPTIMIZERS = ("adam", "sgd")
SCALES = ("mini", "forum")
BATCH_SIZES = (16, 32, 64, 128)
TRACE_EVERY = 5  # steps between two samples of the BN traces
PROBE_ROWS = 64  # training images whose batch statistics the traces compare against
DEEP = 7  # the traced deep layer: the eighth (last) BatchNormalization, behind seven others
LR_SCALES = (0.1, 0.3, 1.0)  # learning rate as a multiple of the optimizer's default
NOISE = 0.15  # pixel noise on top of the class texture
ADAM_LR = 1e-3
SGD_LR = 0.01


@dataclass(frozen=True)
class BatchNormCaseConfig(RunConfig):
    """One training of the post's Conv+BN network.

    momentum: BatchNormalization's momentum (Keras default 0.99), the weight its moving averages keep;
    optimizer: "adam" (lr 1e-3) or "sgd" (lr 0.01, SGD momentum 0.9: another momentum, of the weights);
    lr_scale: the learning rate as a multiple of that default; batch_size: sets steps per epoch
    (1600 / 32 = 50 at mini scale, 6400 / 128 = 50 at forum scale).
    """

    epochs: int = 10
    momentum: float = 0.99
    optimizer: str = "adam"
    batch_size: int = 32
    scale: str = "mini"
    lr_scale: float = 1.0

    trainer = "helpers.scenarios.case02_batchnorm:train"
    framework = "keras"

    def validate(self) -> None:
        super().validate()
        check_range("momentum", self.momentum, 0.5, 0.999)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("batch_size", self.batch_size, BATCH_SIZES)
        check_choice("scale", self.scale, SCALES)
        check_range("lr_scale", self.lr_scale, 0.01, 10.0)

    @property
    def sizes(self) -> dict:
        if self.scale == "mini":
            return {"n_train": 1600, "n_val": 400, "classes": 10, "image": (16, 16), "widths": (8, 16, 32, 64),
                    "dense": 64}
        return {"n_train": 6400, "n_val": 1600, "classes": 30, "image": (50, 55), "widths": (64, 128, 256, 512),
                "dense": 512}

    @property
    def steps_per_epoch(self) -> int:
        return int(np.ceil(self.sizes["n_train"] / self.batch_size))


def configs(scale: str = "mini") -> dict[str, BatchNormCaseConfig]:
    """The runs the notebook tells its story with."""
    check_choice("scale", scale, SCALES)
    post = BatchNormCaseConfig(scale=scale, batch_size=32 if scale == "mini" else 128)
    return {
        POST: post,
        FIXED: post.replace(momentum=0.9),
        SGD: post.replace(optimizer="sgd"),
        LOW_LR: post.replace(lr_scale=0.1),
    }


# Run names say which momentum they mean: BatchNorm's (of its moving averages) or SGD's (of the weights).
POST = "the post (Adam, BatchNorm momentum 0.99)"
FIXED = "Adam, BatchNorm momentum 0.9"
SGD = "SGD (momentum 0.9), BatchNorm momentum 0.99"
LOW_LR = "Adam at lr 1e-4, BatchNorm momentum 0.99"


# What the notebook's words claim, one band each; every reference seed (data/reference), every cell of the
# numerics matrix (tests/data/case02_matrix) and every retrain here must land inside. "The mode gap" is one
# number throughout: validation loss in inference mode over validation loss in training mode (same weights,
# same images). A loss ratio at one early epoch is chaotic (one CPU gave 934 where the reference seeds gave
# 257-292): such ratios are claimed on a log10 scale, by their order of magnitude.
BANDS: dict[str, tuple[float, float]] = {
    # The post's run (Adam, BatchNorm momentum 0.99) at epoch 3: validation one to four orders of magnitude
    # above the logged training loss; the training set in inference mode is as bad as validation (not
    # overfitting); the mode gap alone is at least 10x, and most of the gap on a log scale.
    "post_epoch3_log10_val_over_train": (1.0, 4.0),
    "post_epoch3_train_eval_over_val": (0.5, 2.0),
    "post_epoch3_log10_mode_gap": (1.0, 4.0),
    "post_epoch3_mode_share_of_log_gap": (0.5, 1.2),  # log(mode gap) / log(val / logged train)
    "post_collapse_within_4_epochs": (10.0, 1000.0),  # "closes in sharply": val loss falls >= 10x within 4 epochs
    # While the mode gap is >= 10 (the losses far from zero), val and the re-scored train loss agree within
    # x1.65 (|log ratio| <= 0.5). Later both are near zero and their ratio says little (it reached x2.5-5.6).
    "post_max_honest_gap_while_mode_gap_10": (0.0, 0.5),
    # Loss at initialisation ~ ln 10 = 2.303 (10 classes, nothing learnt), and validation stays near it:
    "post_val_loss_at_init": (2.2, 2.42),
    "post_stale_val_loss_off_ln10": (0.0, 0.25),  # epochs 1-3: |val loss - ln 10| <= 25 % of ln 10
    "post_val_accuracy_first_2_epochs": (0.0, 0.3),  # epochs 1-2: val accuracy not above 0.3 (chance 0.1)
    # The mode gap grows for epochs before it closes, because training-mode loss falls while
    # inference-mode val loss sits near ln 10 (it rises by at most 30 %).
    "post_mode_gap_growth": (2.0, 100.0),  # peak mode gap / epoch-1 mode gap
    "post_mode_gap_peak_epoch": (2, 8),
    "post_stale_val_loss_rise": (0.95, 1.3),  # highest val loss up to the peak / epoch-1 val loss
    "post_trainmode_val_fall_to_peak": (2.0, 100.0),  # training-mode val loss, epoch 1 / peak epoch
    # An early stop in epochs 1-3 keeps a model near chance: the best-val-loss epoch among them scores < 0.5.
    "post_best_val_accuracy_epochs_1_3": (0.0, 0.5),
    # Epoch 10: what is left. Both losses are near zero (their difference below 0.15), accuracies within 5
    # points, yet on a log scale validation is still >= 3x the logged training loss, the mode gap >= 1.
    "post_final_val_accuracy": (0.9, 1.0),
    "post_final_train_eval_minus_val_accuracy": (-0.01, 0.05),
    "post_final_val_minus_train_loss": (0.0, 0.15),
    "post_final_log10_val_over_train": (0.5, 2.5),
    "post_final_mode_gap": (1.0, 10.0),
    # The traces, end of epoch 1 (step 50) and step 250: the deep layer (8th BN) gets, in inference mode,
    # inputs whose variance is a small fraction of what training mode gives it, while its own moving
    # variance is only a few times off, and the first layer's moving mean is mostly caught up by step 250.
    "post_deep_input_variance_ratio_epoch1": (0.0, 0.1),  # inference-mode / training-mode input variance
    "post_deep_input_variance_ratio_step250": (0.05, 0.7),
    "post_deep_moving_over_batch_variance_epoch1": (1.2, 6.0),  # its own moving variance / batch variance
    "post_first_mean_caught_up_step250": (0.8, 1.05),  # first BN layer: moving mean / batch mean
    "post_deep_batch_variance_drift": (1.0, 1.5),  # deep batch variance, steps 50-500: largest / smallest
    # BatchNorm momentum 0.9: the same weights (training never reads the moving averages), and no mode gap
    # from epoch 2 (within a third either way); validation within 10x of the logged training loss in
    # epochs 1-3, where the post's is >= 10x.
    "fixed_same_training_curves": (1, 1),
    "fixed_max_mode_gap_from_epoch2": (0.75, 1.33),
    "fixed_min_mode_gap_from_epoch2": (0.75, 1.33),
    "fixed_max_log10_val_over_train_epochs_1_3": (-1.0, 1.0),
    "fixed_final_val_accuracy": (0.95, 1.0),
    # SGD (SGD momentum 0.9; BatchNorm momentum 0.99): the mode gap is >= 10x already at epoch 1, and at
    # epoch 3 validation is >= 10x the logged training loss; its mode gap peaks larger and its val loss falls
    # below 0.5 sooner than the post's. (Where its val loss sits in epochs 2-3 is not claimed: 0.66-1.73 on
    # the reference seeds, 2.5-4.5 with oneDNN off and one thread.)
    "sgd_epoch1_log10_mode_gap": (1.0, 4.0),
    "sgd_epoch3_log10_val_over_train": (1.0, 4.0),
    "sgd_over_post_peak_mode_gap": (1.5, 100.0),
    "post_minus_sgd_epochs_to_half": (1, 10),
    # ... although at step 250 SGD's eighth-layer input is less squashed than the post's (inference / training
    # variance, SGD minus post): squashing at that layer is not what sets the size of the mode gap.
    "sgd_minus_post_deep_input_variance_ratio_step250": (0.05, 1.0),
    # Adam at a 10x lower learning rate (lr 1e-4; BatchNorm momentum 0.99): validation stays near ln 10 at
    # least as long as the post's (epochs until val loss < 2.0, lower lr minus post, >= 0); its mode gap is
    # smaller because training-mode loss falls slower too.
    "low_lr_minus_post_epochs_at_chance": (0, 6),
    "low_lr_max_mode_gap": (1.0, 10.0),
    "low_lr_final_trainmode_val_loss": (0.2, 2.0),
    # ... and at step 250 the deep layer's inference-mode input has caught up as far as the post's (within 0.1).
    "low_lr_minus_post_deep_input_variance_ratio_step250": (-0.1, 0.1),
}


CHANCE_LEFT = 2.0  # a val loss below this (ln 10 − 0.3) has clearly left chance level


Config = BatchNormCaseConfig
# The post's own numbers (as the question states them).
POSTED = {"n_samples": 6400, "batch_size": 128, "steps_per_epoch": 50, "classes": 30, "conv_bn_blocks": 8}


def reference_configs(scale: str = "mini") -> dict[str, BatchNormCaseConfig]:
    """Every run a claim rests on."""
    return configs(scale)


def load_data(config: BatchNormCaseConfig) -> dict[str, np.ndarray]:
    from helpers.datasets import prototype_images

    s = config.sizes
    x, y = prototype_images(s["n_train"] + s["n_val"], n_classes=s["classes"], size=s["image"], noise=NOISE,
                            seed=config.seed)
    n = s["n_train"]
    return {"x_train": x[:n], "y_train": y[:n], "x_val": x[n:], "y_val": y[n:]}


def build_model(config: BatchNormCaseConfig):
    """(Conv → ReLU → BN) ×2 → MaxPool, four times; Dense → softmax. Returns (model, first BN layer)."""
    from helpers.keras_lab import keras

    s = config.sizes
    layers = keras.layers
    inputs = keras.Input((*s["image"], 3))
    h = inputs
    norms = []
    for width in s["widths"]:
        for _ in range(2):
            h = layers.Conv2D(width, 3, padding="same", activation="relu")(h)
            norm = layers.BatchNormalization(momentum=config.momentum)
            norms.append(norm)
            h = norm(h)
        h = layers.MaxPooling2D()(h)
    h = layers.Flatten()(h)
    h = layers.Dense(s["dense"], activation="relu")(h)
    outputs = layers.Dense(s["classes"], activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    optimizer = (keras.optimizers.Adam(ADAM_LR * config.lr_scale) if config.optimizer == "adam"
                 else keras.optimizers.SGD(SGD_LR * config.lr_scale, momentum=0.9))
    # Keras calls batch callbacks once per execution: one trace sample every TRACE_EVERY steps.
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=TRACE_EVERY)
    return model, norms


def training_mode_input(model, norm, x):
    """``norm``'s input on ``x`` as training mode computes it (each BN uses x's own batch statistics).

    Written out layer by layer so that no moving statistic moves: a Keras call with training=True would
    update them.
    """
    import tensorflow as tf

    from helpers.keras_lab import keras

    h = x
    for layer in model.layers[1:]:
        if layer is norm:
            return h
        if isinstance(layer, keras.layers.BatchNormalization):
            mean, variance = tf.nn.moments(h, axes=(0, 1, 2))
            h = tf.nn.batch_normalization(h, mean, variance, layer.beta, layer.gamma, layer.epsilon)
        else:
            h = layer(h)
    raise ValueError("norm is not a layer of model.")


def reestimated_scores(model, norms: list, x_fit: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Val loss and accuracy in inference mode after re-estimating every BN layer's statistics on ``x_fit``.

    One training-mode pass over all of ``x_fit`` with momentum 0 sets each moving mean and variance to the
    statistics training mode computes there (no weight changes: a forward pass only). Everything is put
    back afterwards, so training goes on exactly as without it.
    """
    from helpers.scoring import cross_entropy, unchanged

    with unchanged(model):
        momenta = [n.momentum for n in norms]
        try:
            for n in norms:
                n.momentum = 0.0
            model(x_fit, training=True)
        finally:
            for n, m in zip(norms, momenta, strict=True):
                n.momentum = m
        out = np.asarray(model(x, training=False))
    loss, accuracy = cross_entropy(out, y, from_logits=False)
    return float(loss), float(accuracy)


def weights_digest(model) -> str:
    """A hash of the trainable weights (not BatchNorm's moving statistics): equal digests, equal weights."""
    import hashlib

    blob = b"".join(np.asarray(w.numpy()).tobytes() for w in model.trainable_weights)
    return hashlib.sha256(blob).hexdigest()[:16]


def train(config: BatchNormCaseConfig, progress: Progress | None = None) -> History:
    from helpers import keras_lab
    from helpers.doctor import score_both_modes
    from helpers.keras_lab import keras
    from helpers.scoring import cross_entropy

    keras_lab.set_seeds(config.seed)
    d = load_data(config)
    model, norms = build_model(config)
    # The first BN layer: nothing normalised comes before it, so its input is the same in
    # training and inference mode, and the probe sees exactly what its moving mean averages.
    watched, deep = norms[0], norms[DEEP]
    import tensorflow as tf

    probe_model = keras.Model(model.input, [watched.input, deep.input])
    probe_x = tf.constant(d["x_train"][:PROBE_ROWS])

    def statistics():
        first, deep_inference = probe_model(probe_x, training=False)
        deep_training = training_mode_input(model, deep, probe_x)
        return (tf.reduce_mean(first, axis=(0, 1, 2)), tf.math.reduce_variance(deep_training, axis=(0, 1, 2)),
                tf.math.reduce_variance(deep_inference, axis=(0, 1, 2)))

    probe = tf.function(statistics)
    channel = int(np.argmax(probe()[0].numpy()))
    trace: dict[str, list[float]] = {k: [] for k in ("step", "moving_mean", "batch_mean", "deep_moving_variance",
                                                     "deep_batch_variance", "deep_inference_variance")}
    extra: dict[str, list[float]] = {}
    val_at_init = cross_entropy(np.asarray(model(d["x_val"], training=False)), d["y_val"], from_logits=False)

    class Watch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            first_mean, deep_batch, deep_inference = (t.numpy() for t in probe())
            trace["step"].append(int(self.model.optimizer.iterations.numpy()))
            trace["moving_mean"].append(float(watched.moving_mean.numpy()[channel]))
            trace["batch_mean"].append(float(first_mean[channel]))
            # Averaged over the layer's channels: what every unit of the layer divides by, on average.
            trace["deep_moving_variance"].append(float(np.mean(deep.moving_variance.numpy())))
            trace["deep_batch_variance"].append(float(np.mean(deep_batch)))
            trace["deep_inference_variance"].append(float(np.mean(deep_inference)))

        def on_epoch_end(self, epoch, logs=None):
            scores = score_both_modes(self.model, d["x_val"], d["y_val"])
            extra.setdefault("val_trainmode_loss", []).append(scores["train_mode_loss"])
            extra.setdefault("val_trainmode_accuracy", []).append(scores["train_mode_accuracy"])

    history = keras_lab.fit(
        model, (d["x_train"], d["y_train"]), epochs=config.epochs, validation=(d["x_val"], d["y_val"]),
        batch_size=config.batch_size, rescore={"train_eval": (d["x_train"], d["y_train"])}, progress=progress,
        callbacks=[Watch()],
    )
    return History(
        metrics={**history.metrics, **extra},
        arrays={k: np.asarray(v, dtype=float) for k, v in trace.items()},
        info={"n_train": len(d["y_train"]), "n_val": len(d["y_val"]), "steps_per_epoch": config.steps_per_epoch,
              "watched_channel": channel, "momentum": config.momentum, "val_loss_at_init": val_at_init[0],
              "val_accuracy_at_init": val_at_init[1]},
    )


def init_weight(momentum: float, steps: np.ndarray | float) -> np.ndarray | float:
    """How much the initial (0, 1) statistics still weigh after ``steps`` updates: momentum**steps."""
    return np.power(momentum, steps)


def first_epoch_below(values: np.ndarray, level: float) -> int:
    """1-based epoch at which ``values`` first drops below ``level`` (len + 1 if never)."""
    below = np.flatnonzero(np.asarray(values) < level)
    return int(below[0]) + 1 if len(below) else len(values) + 1


def at_step(history: History, name: str, step: int) -> float:
    """The trace ``name`` at the last sample taken at or before ``step``."""
    steps = history.arrays["step"]
    return float(history.arrays[name][np.flatnonzero(steps <= step)[-1]])


def mode_gap(r: History) -> np.ndarray:
    """Inference-mode val loss / training-mode val loss, per epoch (1 = no mode gap)."""
    return r["val_loss"] / r["val_trainmode_loss"]


def measure(histories: dict[str, History] | None = None) -> dict[str, float]:
    """The numbers behind each claim, from configs('mini')."""
    h = histories or {name: run(c) for name, c in configs().items()}
    post, fixed, sgd, low = h[POST], h[FIXED], h[SGD], h[LOW_LR]
    e3 = 2  # epoch 3, 0-based
    ln10 = float(np.log(10))
    peak = int(np.argmax(mode_gap(post)))
    spe = post.info["steps_per_epoch"]

    def biggest_drop(val: np.ndarray, window: int = 4) -> float:
        return max(float(val[i] / val[j]) for i in range(len(val)) for j in range(i + 1, min(len(val), i + window + 1)))

    settled = post.arrays["deep_batch_variance"][post.arrays["step"] >= spe]

    def deep_ratio(r: History, step: int) -> float:
        return at_step(r, "deep_inference_variance", step) / at_step(r, "deep_batch_variance", step)

    lg = np.log10

    def best_accuracy(r: History, epochs: int) -> float:
        return float(r["val_accuracy"][int(np.argmin(r["val_loss"][:epochs]))])

    same = all(np.array_equal(post[k], fixed[k]) for k in ("loss", "accuracy", "val_trainmode_loss"))
    return {
        "post_epoch3_log10_val_over_train": float(lg(post["val_loss"][e3] / post["loss"][e3])),
        "post_epoch3_train_eval_over_val": float(post["train_eval_loss"][e3] / post["val_loss"][e3]),
        "post_epoch3_log10_mode_gap": float(lg(mode_gap(post)[e3])),
        "post_epoch3_mode_share_of_log_gap": float(np.log(mode_gap(post)[e3])
                                                   / np.log(post["val_loss"][e3] / post["loss"][e3])),
        "post_collapse_within_4_epochs": biggest_drop(post["val_loss"]),
        "post_max_honest_gap_while_mode_gap_10": float(np.max(np.abs(np.log(post["val_loss"]
                                                                           / post["train_eval_loss"]))[
            mode_gap(post) >= 10])),
        "post_val_loss_at_init": float(post.info["val_loss_at_init"]),
        "post_stale_val_loss_off_ln10": float(np.max(np.abs(post["val_loss"][:3] - ln10)) / ln10),
        "post_val_accuracy_first_2_epochs": float(np.max(post["val_accuracy"][:2])),
        "post_mode_gap_growth": float(mode_gap(post)[peak] / mode_gap(post)[0]),
        "post_mode_gap_peak_epoch": peak + 1,
        "post_stale_val_loss_rise": float(np.max(post["val_loss"][: peak + 1]) / post["val_loss"][0]),
        "post_trainmode_val_fall_to_peak": float(post["val_trainmode_loss"][0] / post["val_trainmode_loss"][peak]),
        "post_best_val_accuracy_epochs_1_3": best_accuracy(post, 3),
        "post_final_val_accuracy": post.final("val_accuracy"),
        "post_final_train_eval_minus_val_accuracy": post.final("train_eval_accuracy") - post.final("val_accuracy"),
        "post_final_val_minus_train_loss": post.final("val_loss") - post.final("loss"),
        "post_final_log10_val_over_train": float(lg(post.final("val_loss") / post.final("loss"))),
        "post_final_mode_gap": float(mode_gap(post)[-1]),
        "post_deep_input_variance_ratio_epoch1": deep_ratio(post, spe),
        "post_deep_input_variance_ratio_step250": deep_ratio(post, 250),
        "post_deep_moving_over_batch_variance_epoch1": at_step(post, "deep_moving_variance", spe)
        / at_step(post, "deep_batch_variance", spe),
        "post_first_mean_caught_up_step250": at_step(post, "moving_mean", 250) / at_step(post, "batch_mean", 250),
        "post_deep_batch_variance_drift": float(np.max(settled) / np.min(settled)),
        "fixed_same_training_curves": float(same),
        "fixed_max_mode_gap_from_epoch2": float(np.max(mode_gap(fixed)[1:])),
        "fixed_min_mode_gap_from_epoch2": float(np.min(mode_gap(fixed)[1:])),
        "fixed_max_log10_val_over_train_epochs_1_3": float(np.max(lg(fixed["val_loss"][:3] / fixed["loss"][:3]))),
        "fixed_final_val_accuracy": fixed.final("val_accuracy"),
        "sgd_epoch1_log10_mode_gap": float(lg(mode_gap(sgd)[0])),
        "sgd_epoch3_log10_val_over_train": float(lg(sgd["val_loss"][e3] / sgd["loss"][e3])),
        "sgd_over_post_peak_mode_gap": float(np.max(mode_gap(sgd)) / np.max(mode_gap(post))),
        "post_minus_sgd_epochs_to_half": float(first_epoch_below(post["val_loss"], 0.5)
                                               - first_epoch_below(sgd["val_loss"], 0.5)),
        "sgd_minus_post_deep_input_variance_ratio_step250": deep_ratio(sgd, 250) - deep_ratio(post, 250),
        "low_lr_minus_post_epochs_at_chance": float(first_epoch_below(low["val_loss"], CHANCE_LEFT)
                                                    - first_epoch_below(post["val_loss"], CHANCE_LEFT)),
        "low_lr_max_mode_gap": float(np.max(mode_gap(low))),
        "low_lr_final_trainmode_val_loss": low.final("val_trainmode_loss"),
        "low_lr_minus_post_deep_input_variance_ratio_step250": deep_ratio(low, 250) - deep_ratio(post, 250),
    }


def early_stopping(val_loss: np.ndarray, patience: int) -> tuple[int | None, int]:
    """What ``keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)``
    does to a run with these validation losses: (the 1-based epoch it stops after, or None if it runs to the
    end; the 1-based epoch whose weights the model ends with)."""
    check_range("patience", patience, 1, 1000, integer=True)
    best, best_epoch, wait = np.inf, 0, 0
    for epoch, value in enumerate(np.asarray(val_loss, dtype=float)):
        wait += 1
        if value < best:
            best, best_epoch, wait = value, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return epoch + 1, best_epoch + 1
    return None, best_epoch + 1


# --- what the notebook prints: named helpers over the committed reference (mean [lowest-highest] over seeds) ---

KEY = "02_batchnorm_gap_that_closes"


@functools.lru_cache(maxsize=1)
def _reference() -> tuple[dict[str, list[History]], dict]:
    import sys

    from helpers import reference

    seeds = reference.load(KEY)
    by_run = {name: [s[name] for s in seeds] for name in seeds[0]}
    return by_run, reference.claims(KEY, sys.modules[__name__])


def reference_runs() -> dict[str, list[History]]:
    """Every run this notebook draws, trained on each reference seed: {run name: [History per seed]}."""
    return _reference()[0]


def _fmt(values) -> str:
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{np.mean(values):.3g} [{np.min(values):.3g}, {np.max(values):.3g}]"


def _per_seed(run_name: str, f) -> str:
    return _fmt([f(h) for h in reference_runs()[run_name]])


def _rows(rows: list[tuple[str, str]], header: str = "") -> None:
    n = len(reference_runs()[POST])
    print(header or f"mean [lowest, highest] over the {n} reference seeds")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:{width}s}  {value}")


def _claim(name: str, scale: str = "") -> str:
    """A claim's value over the seeds; scale="log10" prints the ratio itself beside its log10."""
    got = _reference()[1][name]
    if scale == "log10":
        return f"{10 ** got.mean:.3g}x [{10 ** got.low:.3g}x, {10 ** got.high:.3g}x] (geometric mean)"
    return _fmt(got.values)


def show_sgd_epochs() -> None:
    """SGD's first three epochs: the logged ratio, the mode gap, and where validation is."""
    rows = []
    for e in range(3):
        rows.append((f"epoch {e + 1}: val loss", _per_seed(SGD, lambda h, e=e: h["val_loss"][e])))
        # A ratio of two losses at one early epoch is chaotic across CPUs (273 here, 934 on another machine at
        # epoch 3): its order of magnitude is what holds, so that is what is printed.
        rows.append(("         val loss / logged train loss, log10",
                     _per_seed(SGD, lambda h, e=e: np.log10(h["val_loss"][e] / h["loss"][e]))))
        rows.append(("         mode gap (inference / training mode)",
                     _per_seed(SGD, lambda h, e=e: mode_gap(h)[e])))
        rows.append(("         val accuracy", _per_seed(SGD, lambda h, e=e: h["val_accuracy"][e])))
    _rows(rows)


def show_epoch10() -> None:
    """What is left of the post's gap at epoch 10, in absolute numbers and as ratios."""
    last = -1
    _rows([("val loss", _per_seed(POST, lambda h: h["val_loss"][last])),
           ("logged train loss", _per_seed(POST, lambda h: h["loss"][last])),
           ("val loss - logged train loss", _claim("post_final_val_minus_train_loss")),
           ("val accuracy", _claim("post_final_val_accuracy")),
           ("train accuracy (inference mode) - val accuracy", _claim("post_final_train_eval_minus_val_accuracy")),
           ("val loss / logged train loss", _claim("post_final_log10_val_over_train", "log10")),
           ("mode gap", _claim("post_final_mode_gap"))], header="the post's run at epoch 10, "
          f"mean [lowest, highest] over the {len(reference_runs()[POST])} reference seeds")


def show_evidence() -> None:
    """Epoch 3 of the post's run: the three comparisons that tell the causes apart."""
    _rows([("val loss / logged train loss", _claim("post_epoch3_log10_val_over_train", "log10")),
           ("train set in inference mode / val loss", _claim("post_epoch3_train_eval_over_val")),
           ("val in training mode / logged train loss",
            _per_seed(POST, lambda h: h["val_trainmode_loss"][2] / h["loss"][2])),
           ("the mode gap: val loss, inference / training mode", _claim("post_epoch3_log10_mode_gap", "log10")),
           ("share of the gap (on a log scale) that is the mode", _claim("post_epoch3_mode_share_of_log_gap")),
           ("any epoch with a mode gap > 10: val / train in inference mode",
            f"x{np.exp(_reference()[1]['post_max_honest_gap_while_mode_gap_10'].high):.2f} at most (either way)")],
          header="the post's run at epoch 3 (last line: any epoch), mean [lowest, highest] over the reference seeds")


def show_chance() -> None:
    """The loss before the first step against ln 10, and how close the first epochs stay."""
    from helpers.stats import wilson_interval

    low, high = wilson_interval(0.1, 400, level=0.90)
    best = [float(np.max(h["val_accuracy"][:2])) for h in reference_runs()[POST]]
    _rows([("ln 10", f"{np.log(10):.3f}"),
           ("val loss before the first step", _claim("post_val_loss_at_init")),
           ("epochs 1-3: largest |val loss - ln 10| / ln 10", _claim("post_stale_val_loss_off_ln10")),
           ("epochs 1-2: highest val accuracy", _claim("post_val_accuracy_first_2_epochs")),
           ("  the same, seed by seed", ", ".join(f"{b:.4f}" for b in best)),
           ("chance (0.1) on 400 images, 90 % Wilson interval", f"[{low:.4f}, {high:.4f}]")])


def show_traces() -> None:
    """The numbers under the trace figure."""
    _rows([("step 250, first layer: moving mean / batch mean", _claim("post_first_mean_caught_up_step250")),
           ("steps 50-500, 8th layer: batch variance, max / min", _claim("post_deep_batch_variance_drift")),
           ("step 50, 8th layer: moving / batch variance", _claim("post_deep_moving_over_batch_variance_epoch1")),
           ("step 50, 8th layer input: inference / training variance",
            _claim("post_deep_input_variance_ratio_epoch1")),
           ("step 250, the same", _claim("post_deep_input_variance_ratio_step250"))])


def show_growth() -> None:
    """Which side of the mode gap moves while it grows."""
    _rows([("mode gap at its peak / at epoch 1", _claim("post_mode_gap_growth")),
           ("epoch of the peak", _claim("post_mode_gap_peak_epoch")),
           ("val loss, inference mode: highest up to the peak / epoch 1", _claim("post_stale_val_loss_rise")),
           ("val loss, training mode: epoch 1 / the peak epoch", _claim("post_trainmode_val_fall_to_peak"))])


def show_same_weights() -> None:
    """BatchNorm momentum 0.99 against 0.9: every training-mode number equal, to the last bit, on each seed."""
    by = reference_runs()
    for i, (a, b) in enumerate(zip(by[POST], by[FIXED], strict=True)):
        same = {k: bool(np.array_equal(a[k], b[k])) for k in ("loss", "accuracy", "val_trainmode_loss")}
        gap = np.max(np.abs(a["val_loss"] - b["val_loss"]))
        print(f"seed {i}: logged train loss identical: {same['loss']}, train accuracy: {same['accuracy']}, "
              f"val loss in training mode: {same['val_trainmode_loss']}; val loss (inference) differs by up to "
              f"{gap:.2f}")


def show_fixes() -> None:
    """The four runs compared: BatchNorm momentum 0.9, SGD, a lower learning rate."""
    _rows([("BN momentum 0.9: mode gap, epochs 2-10, lowest", _claim("fixed_min_mode_gap_from_epoch2")),
           ("BN momentum 0.9: mode gap, epochs 2-10, highest", _claim("fixed_max_mode_gap_from_epoch2")),
           ("BN momentum 0.9: epochs 1-3, highest val / logged train",
            _claim("fixed_max_log10_val_over_train_epochs_1_3", "log10")),
           ("BN momentum 0.9: val accuracy at epoch 10", _claim("fixed_final_val_accuracy")),
           ("SGD: peak mode gap / the post's", _claim("sgd_over_post_peak_mode_gap")),
           ("epochs until val loss < 0.5: post minus SGD", _claim("post_minus_sgd_epochs_to_half")),
           ("Adam lr 1e-4 minus post: epochs until val loss < 2.0", _claim("low_lr_minus_post_epochs_at_chance")),
           ("Adam lr 1e-4: largest mode gap", _claim("low_lr_max_mode_gap")),
           ("Adam lr 1e-4: val loss in training mode, epoch 10", _claim("low_lr_final_trainmode_val_loss"))])


def show_deep_ratio() -> None:
    """The eighth layer's catch-up at step 250, the post's run against SGD and the lower learning rate."""
    _rows([("step 250, 8th layer input, inference / training variance: post",
            _claim("post_deep_input_variance_ratio_step250")),
           ("the same, SGD minus post", _claim("sgd_minus_post_deep_input_variance_ratio_step250")),
           ("the same, Adam lr 1e-4 minus post", _claim("low_lr_minus_post_deep_input_variance_ratio_step250"))])


def show_early_stopping(patience: int = 3) -> None:
    """EarlyStopping(monitor="val_loss", patience, restore_best_weights=True) replayed on each seed's post run."""
    for i, h in enumerate(reference_runs()[POST]):
        stop, kept = early_stopping(h["val_loss"], patience)
        where = f"stops after epoch {stop}" if stop else f"runs all {h.n_epochs} epochs"
        print(f"seed {i}: {where}, keeps epoch {kept}: val accuracy {h['val_accuracy'][kept - 1]:.2f}")
    print(f"every seed, the best-val-loss epoch among epochs 1-3: val accuracy "
          f"{_claim('post_best_val_accuracy_epochs_1_3')}")


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
