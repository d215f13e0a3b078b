"""Case 02, data, model and training: what the cache key hashes (the BatchNorm network, its traces)."""

from __future__ import annotations

import numpy as np

from helpers.runs import History, Progress
from helpers.scenarios.case02_batchnorm.runs import (
    ADAM_LR,
    DEEP,
    NOISE,
    PROBE_ROWS,
    SGD_LR,
    TRACE_EVERY,
    BatchNormCaseConfig,
)


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
