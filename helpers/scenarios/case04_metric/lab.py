"""Case 04, data, model and training: what the cache key hashes (the drifting set-point table, the network)."""

from __future__ import annotations

import numpy as np

from helpers.runs import History, Progress
from helpers.scenarios.case04_metric.runs import (
    METRICS,
    SETPOINT_WINDOW,
    STEPS_PER_EXECUTION,
    VAL_FRACTION,
    MetricCaseConfig,
)
from helpers.validate import check_choice

# --- data -------------------------------------------------------------------


def setpoint_relative(x: np.ndarray, window: int = SETPOINT_WINDOW) -> np.ndarray:
    """Each row minus the median of the ``window`` rows before it (causal: no future rows)."""
    out = np.empty_like(x)
    for start in range(0, len(x), window // 5):
        stop = min(len(x), start + window // 5)
        past = x[max(0, start - window) : start] if start else x[: window // 5]
        out[start:stop] = x[start:stop] - np.median(past, axis=0)
    return out


def split_rows(config: MetricCaseConfig, good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from helpers import splits

    if config.split == "shuffled":
        return splits.stratified_split(good, VAL_FRACTION, seed=config.seed)
    return splits.tail_split(len(good), VAL_FRACTION)


def load_data(config: MetricCaseConfig) -> dict[str, np.ndarray]:
    """Features as the config prepares them, the split's row indices, and labels."""
    from helpers.datasets import production_line

    d = production_line(config.n_rows, bad_rate=config.bad_rate, seed=config.seed)
    x = d["x"]
    if config.split == "time-aware":
        x = setpoint_relative(x)
    train_idx, val_idx = split_rows(config, d["good"])
    if config.scaling:
        mean, std = x[train_idx].mean(0), x[train_idx].std(0) + 1e-8
        x = (x - mean) / std
    return {"x": x.astype("float32"), "y": d["good"], "train_idx": train_idx, "val_idx": val_idx,
            "time": d["time"]}


# --- training ---------------------------------------------------------------


def bad_part_scores(good: np.ndarray, p_good: np.ndarray) -> dict[str, float]:
    """Balanced accuracy, and precision/recall/PR-AUC for the *bad* class."""
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, precision_score, recall_score

    good = good.astype(int)
    pred_good = (p_good >= 0.5).astype(int)
    bad, pred_bad = 1 - good, 1 - pred_good
    return {
        "balanced_accuracy": float(balanced_accuracy_score(good, pred_good)),
        "bad_recall": float(recall_score(bad, pred_bad, zero_division=0.0)),
        "bad_precision": float(precision_score(bad, pred_bad, zero_division=0.0)),
        "bad_pr_auc": float(average_precision_score(bad, 1 - p_good)) if bad.any() else float("nan"),
    }


def build_model(config: MetricCaseConfig):
    from helpers.keras_lab import keras

    model = keras.Sequential([
        keras.Input((31,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    optimizer = (keras.optimizers.SGD(learning_rate=config.lr) if config.optimizer == "sgd"
                 else keras.optimizers.Adam(learning_rate=config.lr))
    model.compile(
        optimizer=optimizer,
        loss="binary_crossentropy",
        # One run, every reading of "accuracy": metrics never change the gradients.
        metrics=[keras.metrics.Accuracy(name="exact"), keras.metrics.BinaryAccuracy(name="binary")],
        # Keras 3 hands class_weight/sample_weight to these only, never to `metrics`.
        weighted_metrics=[keras.metrics.BinaryAccuracy(name="weighted_binary")],
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


def train(config: MetricCaseConfig, progress: Progress | None = None) -> History:
    from helpers import keras_lab
    from helpers.keras_lab import keras

    keras_lab.set_seeds(config.seed)
    data = load_data(config)
    x, y = data["x"], data["y"][:, None]
    tr, va = data["train_idx"], data["val_idx"]
    model = build_model(config)
    extra: dict[str, list[float]] = {}

    class BadPartScores(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            p = model.predict(x[va], batch_size=1024, verbose=0)[:, 0]
            for key, value in bad_part_scores(data["y"][va], p).items():
                extra.setdefault(f"val_{key}", []).append(value)
            # Accuracy() can only count an output that is *exactly* 0 or 1: the saturated ones.
            extra.setdefault("val_saturated", []).append(float(np.mean((p == 0.0) | (p == 1.0))))

    fit_kwargs = {"class_weight": config.class_weight}
    if config.split == "shuffled":
        train_data, validation = (x[tr], y[tr]), (x[va], y[va])
    else:  # the post's call: Keras slices off the last 20 % itself, before shuffling
        train_data, validation = (x, y), None
        fit_kwargs["validation_split"] = VAL_FRACTION
    history = keras_lab.fit(
        model, train_data, epochs=config.epochs, validation=validation, batch_size=config.batch_size,
        rescore={"train_eval": (x[tr], y[tr])}, progress=progress, callbacks=[BadPartScores()], **fit_kwargs,
    )
    metrics = {**history.metrics, **extra}
    majority = float(max(data["y"][va].mean(), 1 - data["y"][va].mean()))
    info = {"n_train": len(tr), "n_val": len(va), "val_majority_accuracy": majority,
            "val_bad_rate": float(1 - data["y"][va].mean()), "train_bad_rate": float(1 - data["y"][tr].mean())}
    return History(metrics=metrics, info=info)


def as_logged(history: History, metric: str = "Accuracy()") -> dict[str, np.ndarray]:
    """The four columns Keras would have printed had ``compile`` been given ``metric`` (any class_weight as run)."""
    check_choice("metric", metric, METRICS)
    kind = METRICS[metric]
    return {"loss": history["loss"], "accuracy": history[kind],
            "val_loss": history["val_loss"], "val_accuracy": history[f"val_{kind}"]}


def resolve_accuracy_string(y_shape: tuple[int, ...], out_units: int) -> str:
    """Which metric class Keras 3 builds for the string 'accuracy', from tensor shapes alone."""
    from helpers.keras_lab import keras  # imported quietly, before any keras submodule

    get_metric = keras.src.trainers.compile_utils.get_metric

    y_true = keras.KerasTensor(y_shape)
    y_pred = keras.KerasTensor((y_shape[0], out_units))
    return type(get_metric("accuracy", y_true, y_pred)).__name__
