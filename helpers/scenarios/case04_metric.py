"""Case 04 — "loss 0.12, accuracy 0.02": the mislabeled accuracy metric (Keras, tabular).

Forum case: Cross Validated 444546. The post's
model (Dense 31 → 32 → 64 → 64 → 1 sigmoid, SGD lr 0.001, batch 32) on a
generated, time-ordered production log where 2.5 % of parts are bad.

Three lessons live in one config space:
* the metric — every run logs three "accuracies" side by side, because which
  one the ``accuracy`` column holds depends only on ``compile``;
* the split — ``fit(validation_split=0.2)`` takes the last 20 % of rows;
* the imbalance — 97.5 % good parts make accuracy meaningless.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.runs import LAST, History, Progress, RunConfig, run
from helpers.validate import check_bool, check_choice, check_range

SPLITS = ("tail", "shuffled", "time-aware")
OPTIMIZERS = ("sgd", "adam")
SCALES = ("mini", "forum")
VAL_FRACTION = 0.2
STEPS_PER_EXECUTION = 25  # same updates, far less Python overhead per batch of 32
SETPOINT_WINDOW = 500  # parts: the trailing median that estimates the current setpoint
# The three things the `accuracy` column can hold, by what `compile` was given.
METRICS = {
    "Accuracy()": "exact",  # keras.metrics.Accuracy(): exact equality of probability and label
    "'accuracy'": "binary",  # the string, resolved from shapes: BinaryAccuracy here
    "BinaryAccuracy()": "binary",
    "weighted_metrics=['accuracy']": "weighted_binary",  # the one metric list class_weight reaches
}
FORUM_LOG = Path(__file__).resolve().parents[2] / "data" / "forum" / "003_a8ebacd39794dcdb_log.csv"
FORUM = {"epoch": [1, 50, 100, 150, 200, 250, 300],
         "loss": [0.1229, 0.0563, 0.0414, 0.0366, 0.0329, 0.0330, 0.0315],
         "accuracy": [0.0207, 0.0155, 0.1456, 0.3219, 0.4081, 0.4796, 0.4981],
         "val_loss": [4.3194, 2.6478, 2.0422, 1.2202, 1.8764, 1.7627, 0.7271],
         "val_accuracy": [0.0168, 0.0168, 0.0479, 0.3862, 0.1436, 0.2356, 0.6627]}


POSTED = {"rows_train": 121620, "rows_val": 30405, "loss": "binary_crossentropy", **FORUM}


@dataclass(frozen=True)
class MetricCaseConfig(RunConfig):
    """One training of the post's model.

    split: "tail" (Keras ``validation_split``: the last rows), "shuffled"
    (stratified random rows), "time-aware" (the same last rows as validation,
    but every parameter measured from its trailing median, the current setpoint);
    scaling: standardise features on the training rows; optimizer: "sgd" (the
    post's, lr 0.001) or "adam"; bad_rate: share of bad parts; scale: "mini"
    (8000 rows) or "forum" (152025 rows, 300 epochs — for a GPU); good_weight: the class weight of good
    parts in ``fit(class_weight=...)`` (bad parts weigh 1; 1.0 = unweighted).
    """

    @property
    def class_weight(self) -> dict[int, float] | None:
        """What ``fit`` gets: None when unweighted."""
        return None if self.good_weight == 1.0 else {0: 1.0, 1: self.good_weight}

    epochs: int = 30
    split: str = "tail"
    scaling: bool = False
    optimizer: str = "sgd"
    lr: float = 0.001
    bad_rate: float = 0.025
    batch_size: int = 32
    scale: str = "mini"
    good_weight: float = 1.0  # class_weight={0: 1.0, 1: good_weight} in fit (bad parts = 0); 1.0 = unweighted

    trainer = "helpers.scenarios.case04_metric:train"
    framework = "keras"

    def validate(self) -> None:
        super().validate()
        check_choice("split", self.split, SPLITS)
        check_bool("scaling", self.scaling)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("lr", self.lr, 1e-5, 1.0)
        check_range("bad_rate", self.bad_rate, 0.01, 0.2)
        check_range("batch_size", self.batch_size, 8, 4096, integer=True)
        check_choice("scale", self.scale, SCALES)
        check_range("good_weight", self.good_weight, 0.001, 1.0)

    @property
    def n_rows(self) -> int:
        return 8000 if self.scale == "mini" else 152025


BAD_RATE = 0.025  # the miniature's share of bad parts (the config default)
# Hypothesis (b)'s class weight: 'balanced' weights (scikit-learn's n / (2 n_class)) rescaled so a bad part
# weighs 1, i.e. w = b / (1 - b): 0.020 for the post's b of about 0.02, 0.026 for our 0.025.
GOOD_WEIGHT = round(BAD_RATE / (1 - BAD_RATE), 4)
RIVAL_LR = 0.01  # both rivals on the miniature: 1/190 of the post's updates, so 10x the post's step


def configs(scale: str = "mini") -> dict[str, MetricCaseConfig]:
    """The runs the notebook tells its story with (and the tests retrain, seed 0)."""
    check_choice("scale", scale, SCALES)
    exact = MetricCaseConfig(scale=scale, epochs=30 if scale == "mini" else 300)  # raw features, SGD 0.001, tail
    learns = exact.replace(scaling=True, optimizer="adam")
    # (a) and (b) differ in one thing: the metric (a view of the same run) and the class weights.
    rival = exact.replace(scaling=True, lr=RIVAL_LR if scale == "mini" else 0.001)
    return {
        # the two explanations of the impossible pair that we can build, each with the post's model
        "hypothesis (a): Accuracy()": rival,
        "hypothesis (b): class_weight": rival.replace(good_weight=GOOD_WEIGHT),
        # the split, with a model that learns
        "scaled + Adam, tail split": learns,
        "scaled + Adam, shuffled split": learns.replace(split="shuffled"),
        "scaled + Adam, time-aware": learns.replace(split="time-aware"),
        # scaling and Adam apart (shuffled split, unweighted): which one lets the network learn
        "raw + SGD, shuffled split": exact.replace(split="shuffled"),
        "scaled + SGD, shuffled split": exact.replace(split="shuffled", scaling=True),
        "raw + Adam, shuffled split": exact.replace(split="shuffled", optimizer="adam"),
        # the post's optimizer on raw features, as a log (the clinic's patient C)
        "raw + SGD, tail split": exact,
    }


# What the notebook's words claim, one band each; every reference seed (data/reference) and every
# retrain on a student's machine must land inside (tests/test_contract.py).
BANDS: dict[str, tuple[float, float]] = {
    # (a) keras.metrics.Accuracy() (exact equality) prints pairs the bound forbids, and creeps up as outputs saturate.
    "a_exact_margin_to_floor": (-1.0, -0.05),  # below 1 - L/ln 2 by a clear margin from epoch 2
    "a_epochs_below_floor": (30, 30),  # of 30: every epoch
    "a_epoch1_ratio": (0.0, 2.0),  # (a) alone leaves validation near training at epoch 1: nothing like the post's 35x
    "exact_creep_last_two_thirds": (0.25, 1.0),  # exact "accuracy" climbs by >= 0.25 while the real one stays
    "binary_change_last_two_thirds": (0.0, 0.02),  # the real (binary) accuracy does not move
    "exact_minus_saturated_max": (-0.05, 1e-6),  # exact equality needs a saturated output
    "binary_min_margin_to_floor": (0.0, 0.5),  # without weights, the real accuracy never breaks the bound
    # (b) class_weight (Keras 3) weights the loss, not metrics=['accuracy'], and not validation_split's rows.
    "b_epochs_below_floor": (30, 30),  # the printed 'accuracy' breaks the bound at every epoch
    "b_epoch1_ratio": (10.0, 200.0),  # validation loss tens of times training from epoch 1, as in the post
    "b_min_ratio": (10.0, 200.0),  # ... and at every later epoch
    "b_epoch1_unweighted_train_over_val": (0.3, 3.0),  # unweighted, training scores about as badly as validation
    "a_epochs_val_at_bad_rate": (0, 2),  # (a)'s printed val_acc is not stuck at one class's share
    # the fingerprint (w = b/(1 - b)): loss = mean weight x ln 2 (every output 0.5), val_loss near ln 2, acc anywhere
    "b_epoch1_loss_over_fingerprint": (0.9, 1.15),  # epoch 1 sits on it
    "b_final_loss_over_fingerprint": (0.5, 1.1),  # by epoch 30 at or below it: (b) fits its training rows a little
    "b_val_loss_min_over_ln2": (0.8, 1.6),  # val_loss / ln 2, lowest epoch
    "b_val_loss_max_over_ln2": (1.0, 2.5),  # ... highest epoch: near ln 2 throughout, never near the training loss
    "b_acc_spread": (0.2, 1.0),  # the printed acc moves by >= 0.2 over the 30 epochs while the loss stays near it
    # the fix under (b): the training loss on validation's scale (epoch 30)
    "b_final_normalised_over_val": (0.35, 1.2),  # logged loss / mean weight, over val_loss: about 1, not 1/40
    "b_final_unweighted_over_val": (0.4, 1.2),  # training rows re-scored unweighted, over val_loss
    "b_final_balanced_accuracy": (0.4, 0.56),  # (b) has not learnt to find bad parts (chance 0.5)
    # the weighted form of the bound: weighted_metrics' accuracy stays above 1 - L/(mean weight ln 2), well above
    "b_weighted_margin_to_floor": (0.2, 1.0),
    "b_final_weighted_floor": (0.0, 0.4),  # the weighted floor stays low (the panel's shaded region)
    # validation_split takes the last rows: a later period.
    "tail_epoch1_ratio": (1.2, 2.5),  # val/train loss at epoch 1: above, not yet far above
    "tail_min_ratio_from_epoch3": (1.5, 30.0),  # from epoch 3 val loss stays >= 1.5x train
    "shuffled_epoch1_ratio": (0.4, 1.5),  # a shuffled split starts level
    "shuffled_final_ratio": (5.0, 300.0),  # ... and ends far apart: overfitting
    "shuffled_balanced_drop": (0.01, 0.3),  # the shuffled run's balanced accuracy falls from its best epoch
    "aware_final_ratio": (20.0, 1e5),  # the time-aware run overfits too
    "tail_final_balanced_accuracy": (0.45, 0.56),  # nothing carries over to the new period (chance 0.5)
    "shuffled_final_balanced_accuracy": (0.6, 0.95),  # the same model on a shuffled split learns the bad parts
    "aware_final_balanced_accuracy": (0.58, 0.95),  # setpoint-relative features carry over to the new period
    # Scaling and Adam apart (shuffled split, unweighted, 30 epochs): only the two together leave chance (0.5).
    "grid_raw_sgd_balanced_accuracy": (0.45, 0.55),
    "grid_scaled_sgd_balanced_accuracy": (0.45, 0.55),  # 6 000 steps of lr 0.001: not yet
    "grid_raw_adam_balanced_accuracy": (0.45, 0.55),
    "grid_scaled_adam_balanced_accuracy": (0.6, 0.95),  # the same run as "shuffled_final_balanced_accuracy"
    # Why the rivals scale: raw features (0.5 to 2 000) blow plain SGD up in its first epoch (ln 2 = 0.69 at start)
    "raw_sgd_epoch1_loss": (1.0, 50.0),
    # The 97 % majority: accuracy is the base rate, balanced accuracy is chance.
    "majority_accuracy": (0.95, 0.98),
    "a_final_binary_accuracy": (0.95, 0.98),  # exactly the majority rate
    "a_final_balanced_accuracy": (0.48, 0.52),
    "a_final_bad_recall": (0.0, 0.05),
}


Config = MetricCaseConfig


def reference_configs(scale: str = "mini") -> dict[str, MetricCaseConfig]:
    """Every run a claim rests on."""
    return configs(scale)


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


EXACT, WEIGHTED = "hypothesis (a): Accuracy()", "hypothesis (b): class_weight"
GRID = {("raw", "SGD"): "raw + SGD, shuffled split", ("scaled", "SGD"): "scaled + SGD, shuffled split",
        ("raw", "Adam"): "raw + Adam, shuffled split", ("scaled", "Adam"): "scaled + Adam, shuffled split"}


def loss_ratio(history: History) -> np.ndarray:
    """val_loss / loss at each epoch, as the log prints them."""
    return history["val_loss"] / history["loss"]


def mean_weight(history: History) -> float:
    """The mean per-row weight of (b)'s training loss: w (1 - b) + b on its training rows."""
    b = history.info["train_bad_rate"]
    return GOOD_WEIGHT * (1 - b) + b


def fingerprint_loss(history: History) -> float:
    """(b)'s training loss if every output were 0.5: mean weight x ln 2 (2 b ln 2 when w = b / (1 - b))."""
    from helpers.stats import LN2

    return mean_weight(history) * LN2


def at_bad_rate(history: History, column: str = "val_binary") -> np.ndarray:
    """Epochs whose validation 'accuracy' is exactly the share of bad parts (for binary: every part called bad)."""
    return np.isclose(history[column], history.info["val_bad_rate"], atol=1e-6)


def measure(histories: dict[str, History] | None = None) -> dict[str, float]:
    """The numbers behind each claim, from configs('mini')."""
    from helpers.stats import LN2, accuracy_floor

    h = histories or {name: run(c) for name, c in configs().items()}
    exact, weighted = h[EXACT], h[WEIGHTED]
    tail = h["scaled + Adam, tail split"]
    shuffled = h["scaled + Adam, shuffled split"]
    third = tail.n_epochs // 3
    unweighted = [r for name, r in h.items() if name != WEIGHTED]

    def final(name: str) -> float:
        return h[name].final("val_balanced_accuracy", LAST)

    return {
        # hypothesis (a): exact equality
        "a_exact_margin_to_floor": float(np.max((exact["exact"] - accuracy_floor(exact["loss"]))[1:])),
        "a_epochs_below_floor": int(np.sum(exact["exact"] < accuracy_floor(exact["loss"]))),
        "a_epoch1_ratio": float(loss_ratio(exact)[0]),
        "a_epochs_val_at_bad_rate": int(np.sum(at_bad_rate(exact, "val_exact"))),
        "exact_creep_last_two_thirds": float(shuffled["exact"][-1] - shuffled["exact"][third]),
        "binary_change_last_two_thirds": float(abs(shuffled["binary"][-1] - shuffled["binary"][third])),
        "exact_minus_saturated_max": max(float(np.max(r["val_exact"] - r["val_saturated"])) for r in h.values()),
        "binary_min_margin_to_floor": min(
            float(np.min(r[k] - accuracy_floor(r[k.replace("binary", "loss")])))
            for r in unweighted for k in ("binary", "val_binary")),
        # hypothesis (b): class_weight weights the loss, not metrics=['accuracy']
        "b_epochs_below_floor": int(np.sum(weighted["binary"] < accuracy_floor(weighted["loss"]))),
        "b_epoch1_ratio": float(loss_ratio(weighted)[0]),
        "b_min_ratio": float(np.min(loss_ratio(weighted))),
        "b_epoch1_unweighted_train_over_val": float(weighted["train_eval_loss"][0] / weighted["val_loss"][0]),
        "b_epoch1_loss_over_fingerprint": float(weighted["loss"][0] / fingerprint_loss(weighted)),
        "b_final_loss_over_fingerprint": float(weighted["loss"][-1] / fingerprint_loss(weighted)),
        "b_val_loss_min_over_ln2": float(np.min(weighted["val_loss"]) / LN2),
        "b_val_loss_max_over_ln2": float(np.max(weighted["val_loss"]) / LN2),
        "b_acc_spread": float(np.ptp(weighted["binary"])),
        "b_final_normalised_over_val": float(weighted["loss"][-1] / mean_weight(weighted) / weighted["val_loss"][-1]),
        "b_final_unweighted_over_val": float(weighted["train_eval_loss"][-1] / weighted["val_loss"][-1]),
        "b_final_balanced_accuracy": weighted.final("val_balanced_accuracy", LAST),
        "b_weighted_margin_to_floor": float(np.min(
            weighted["weighted_binary"] - accuracy_floor(weighted["loss"], mean_weight(weighted)))),
        "b_final_weighted_floor": float(accuracy_floor(weighted["loss"][-1], mean_weight(weighted))),
        # the split
        "tail_epoch1_ratio": float(loss_ratio(tail)[0]),
        "tail_min_ratio_from_epoch3": float(np.min(loss_ratio(tail)[2:])),
        "shuffled_epoch1_ratio": float(loss_ratio(shuffled)[0]),
        "shuffled_final_ratio": float(np.mean(loss_ratio(shuffled)[-LAST:])),
        "aware_final_ratio": float(np.mean(loss_ratio(h["scaled + Adam, time-aware"])[-LAST:])),
        "shuffled_balanced_drop": float(np.max(shuffled["val_balanced_accuracy"]) - final(
            "scaled + Adam, shuffled split")),
        "tail_final_balanced_accuracy": final("scaled + Adam, tail split"),
        "shuffled_final_balanced_accuracy": final("scaled + Adam, shuffled split"),
        "aware_final_balanced_accuracy": final("scaled + Adam, time-aware"),
        # scaling and Adam apart
        **{f"grid_{inputs}_{opt.lower()}_balanced_accuracy": final(name) for (inputs, opt), name in GRID.items()},
        "raw_sgd_epoch1_loss": float(h["raw + SGD, tail split"]["loss"][0]),
        # the imbalance
        "majority_accuracy": float(exact.info["val_majority_accuracy"]),
        "a_final_binary_accuracy": exact.final("val_binary", LAST),
        "a_final_balanced_accuracy": exact.final("val_balanced_accuracy", LAST),
        "a_final_bad_recall": exact.final("val_bad_recall", LAST),
    }


# What each claim measures, in the words a student reads beside its spread over the seeds.
CLAIM_TEXT = {
    "a_epoch1_ratio": "(a) val_loss / loss at epoch 1",
    "b_epoch1_ratio": "(b) val_loss / loss at epoch 1",
    "b_min_ratio": "(b) smallest val_loss / loss of all 30 epochs",
    "b_epoch1_unweighted_train_over_val": "(b) training loss unweighted, / val_loss, at epoch 1",
    "a_epochs_below_floor": "(a) epochs whose printed acc breaks the bound, of 30",
    "b_epochs_below_floor": "(b) epochs whose printed acc breaks the bound, of 30",
    "a_epochs_val_at_bad_rate": "(a) epochs whose val_acc is exactly the share of bad parts, of 30",
    "b_epoch1_loss_over_fingerprint": "(b) loss at epoch 1 / (mean weight x ln 2)",
    "b_final_loss_over_fingerprint": "(b) loss at epoch 30 / (mean weight x ln 2)",
    "b_val_loss_min_over_ln2": "(b) lowest val_loss / ln 2",
    "b_val_loss_max_over_ln2": "(b) highest val_loss / ln 2",
    "b_acc_spread": "(b) highest - lowest printed acc over 30 epochs",
    "b_final_normalised_over_val": "(b) epoch 30: loss / mean weight, over val_loss",
    "b_final_unweighted_over_val": "(b) epoch 30: training rows re-scored unweighted, over val_loss",
    "b_final_balanced_accuracy": f"(b) balanced accuracy, last {LAST} epochs",
    "b_weighted_margin_to_floor": "(b) weighted accuracy minus its floor 1 - L/(mean weight ln 2), lowest",
    "b_final_weighted_floor": "(b) the weighted accuracy's floor at epoch 30",
    "exact_creep_last_two_thirds": "Accuracy(): rise over the last 20 epochs (scaled + Adam, shuffled)",
    "binary_change_last_two_thirds": "BinaryAccuracy(): change over the same epochs",
    "exact_minus_saturated_max": "Accuracy() − share of saturated outputs, largest (every run)",
    "tail_epoch1_ratio": "tail split: val_loss / loss at epoch 1",
    "tail_min_ratio_from_epoch3": "tail split: smallest val_loss / loss from epoch 3",
    "shuffled_epoch1_ratio": "shuffled split: val_loss / loss at epoch 1",
    "shuffled_final_ratio": f"shuffled split: val_loss / loss, last {LAST} epochs",
    "aware_final_ratio": f"time-aware: val_loss / loss, last {LAST} epochs",
    "shuffled_balanced_drop": "shuffled split: best − final balanced accuracy",
    "tail_final_balanced_accuracy": "tail split: final balanced accuracy",
    "shuffled_final_balanced_accuracy": "shuffled split: final balanced accuracy",
    "aware_final_balanced_accuracy": "time-aware: final balanced accuracy",
    "grid_raw_sgd_balanced_accuracy": "raw inputs, SGD: final balanced accuracy",
    "grid_scaled_sgd_balanced_accuracy": "scaled inputs, SGD: final balanced accuracy",
    "grid_raw_adam_balanced_accuracy": "raw inputs, Adam: final balanced accuracy",
    "grid_scaled_adam_balanced_accuracy": "scaled inputs, Adam: final balanced accuracy",
    "majority_accuracy": "always 'good' would score (validation)",
    "raw_sgd_epoch1_loss": "raw features, SGD 0.001: training loss at epoch 1 (the mean over its batches)",
    "a_final_binary_accuracy": "(a)'s model, binary accuracy (validation, final)",
    "a_final_balanced_accuracy": "(a)'s model, balanced accuracy (0.5 = chance)",
    "a_final_bad_recall": "(a)'s model, share of bad parts found (recall)",
}


def describe(claims: dict, names: list[str]) -> str:
    """One line per claim: what it measures, then its mean [min, max] over the reference seeds."""
    return "\n".join(f"{CLAIM_TEXT[name]:68s} {claims[name]}" for name in names)


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


def draw_metric(fig, seeds: list[History]) -> None:
    """Three readings of 'accuracy' from the same trainings (one line per seed), and the saturated-output share.

    Only accuracies sit on this axis: the shaded bound is about accuracy, and nothing else is drawn in it.
    """
    from helpers.curves import annotate_epoch
    from helpers.stats import accuracy_floor

    ax = fig.subplots()
    e = seeds[0].epochs
    floor = np.max([accuracy_floor(h["val_loss"]) for h in seeds], axis=0)
    ax.fill_between(e, 0, floor, color="tab:red", alpha=0.12,
                    label="impossible for the val loss (highest floor of the seeds): acc < 1 − L/ln 2")
    for i, h in enumerate(seeds):
        first = i == 0
        ax.plot(e, h["val_binary"], "-", color="tab:green", lw=1.2,
                label="BinaryAccuracy() = 'accuracy'" if first else None)
        ax.plot(e, h["val_exact"], "-", color="tab:red", lw=1.2, label="Accuracy(): exact equality" if first else None)
        ax.plot(e, h["val_saturated"], ":", color="0.2", lw=1.5,
                label="share of outputs exactly 0.0 or 1.0" if first else None)
    h = seeds[0]
    start = int(np.argmax(h["val_exact"] > 0.05))
    annotate_epoch(ax, e[start], float(h["val_exact"][start]), "outputs start to saturate", dy=0.3, dx=0.12)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation 'accuracy'")
    ax.set_title(f"scaled + Adam, shuffled split: {len(seeds)} seeds, one line each", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)


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


def draw_drift(fig, config: MetricCaseConfig | None = None, n_params: int = 2) -> None:
    """Raw values of the parameters the tool change moved most, with the tail split's rows shaded."""
    from helpers.datasets import production_line

    config = config or MetricCaseConfig()
    d = production_line(config.n_rows, bad_rate=config.bad_rate, seed=config.seed)
    n_train = int(config.n_rows * (1 - VAL_FRACTION))
    sp = d["setpoint"]
    step = np.abs(sp[n_train] - sp[n_train - 1]) / (d["x"][:n_train].std(0) + 1e-9)
    params = tuple(int(j) for j in np.argsort(step)[::-1][:n_params])
    axes = fig.subplots(1, len(params))
    for ax, j in zip(axes, params, strict=True):
        ax.plot(np.arange(config.n_rows), d["x"][:, j], ".", ms=1, color="0.6", label="each part")
        ax.plot(np.arange(config.n_rows), d["setpoint"][:, j], "-", color="k", lw=1.2, label="process setpoint")
        bad = d["good"] == 0
        ax.plot(np.flatnonzero(bad), d["x"][bad, j], "x", ms=3, color="tab:red", label="bad part")
        ax.axvspan(n_train, config.n_rows, color="tab:orange", alpha=0.15, label="validation_split=0.2 takes these")
        ax.set_xlabel("part number (time order)")
        ax.set_ylabel(f"parameter {j}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="best", markerscale=3)


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


# --- the class-weight fingerprint, and the poster's own Keras ----------------------------------------------

PERIOD_JSON = Path(__file__).resolve().parents[2] / "data" / "period" / "keras22_case04.json"
# The period script's four setups (helpers/period/keras22_case04.py), by what the lesson calls them.
PERIOD_RUNS = {
    "post": "post: 'accuracy', unweighted, validation_split",
    "a": "(a) exact-equality acc, unweighted, validation_split",
    "b_split": "(b) class_weight, validation_split",
    "b_data": "(b) class_weight, validation_data (unweighted)",
}
POST_BAD_RATE = 0.02  # the post's epoch-1 acc 0.0207 and val_acc 0.0168, read as the share of bad parts (a guess)


def constant_optimum(bad_rate: float, good_weight: float = 1.0, val_bad_rate: float | None = None) -> dict:
    """What a network that has learnt only the class prior prints: the best constant output and its losses.

    With ``class_weight={0: 1, 1: w}`` and a share ``b`` of bad parts (label 0), Keras's loss for a constant
    output q = p(good) is w (1 - b) (-ln q) + b (-ln(1 - q)), smallest at q* = w (1 - b) / (w (1 - b) + b).
    For w = b / (1 - b) that is exactly 1/2, the training loss 2 b ln 2 and the unweighted validation loss ln 2;
    unweighted (w = 1), q* = 1 - b and both losses are the entropy of the prior. The accuracy column: every part
    called bad (b) when q* < 1/2, good (1 - b) when q* > 1/2, and anything in between when q* = 1/2.
    """
    check_range("bad_rate", bad_rate, 1e-4, 0.5)
    check_range("good_weight", good_weight, 1e-4, 1.0)
    b, w = float(bad_rate), float(good_weight)
    bv = b if val_bad_rate is None else float(val_bad_rate)
    q = w * (1 - b) / (w * (1 - b) + b)
    at_half = abs(q - 0.5) < 1e-3
    acc = (b, 1 - b) if at_half else ((b, b) if q < 0.5 else (1 - b, 1 - b))
    val_acc = (bv, 1 - bv) if at_half else ((bv, bv) if q < 0.5 else (1 - bv, 1 - bv))
    return {"output": q, "loss": -(w * (1 - b) * np.log(q) + b * np.log(1 - q)),
            "val_loss": -((1 - bv) * np.log(q) + bv * np.log(1 - q)), "mean_weight": w * (1 - b) + b,
            "acc": acc, "val_acc": val_acc}


def period() -> dict:
    """The committed output of ``make period``: the post's network in Keras 2.2.4 (data/period/*.json)."""
    import json

    if not PERIOD_JSON.exists():
        raise FileNotFoundError(f"{PERIOD_JSON} is missing: run `make period` (Python 3.7, Keras 2.2.4).")
    return json.loads(PERIOD_JSON.read_text())


def period_histories(key: str, data: dict | None = None) -> list[dict]:
    """One Keras 2.2 ``history.history`` (plus the period script's columns and bad rates) per seed, for ``key``."""
    check_choice("key", key, PERIOD_RUNS)
    data = data or period()
    seeds = data["runs"][PERIOD_RUNS[key]]["seeds"]
    return [{**{k: np.asarray(v) for k, v in s["history"].items()}, "train_bad_rate": s["train_bad_rate"],
             "val_bad_rate": s["val_bad_rate"]} for s in seeds.values()]


def post_setup(scale: str = "mini") -> tuple[MetricCaseConfig, dict[str, np.ndarray]]:
    """The post cell's run (hypothesis (b)'s config) and its data: a time-ordered log, good part = 1, bad = 0."""
    config = configs(scale)[WEIGHTED]
    return config, load_data(config)


def _span(values: list[float], digits: int = 4) -> str:
    values = [float(v) for v in values]
    if max(values) - min(values) < 0.5 * 10 ** -digits:
        return f"{np.mean(values):.{digits}f}"
    return f"{np.mean(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def _keras3_rows(seeds: list[dict[str, History]]) -> dict[str, list[float]]:
    rows = {}
    for label, name, metric in (("Keras 3.15, (a) Accuracy()", EXACT, "Accuracy()"),
                                ("Keras 3.15, (b) class_weight + validation_split", WEIGHTED, "'accuracy'")):
        logs = [as_logged(seed[name], metric) for seed in seeds]
        rows[label] = [[float(log[k][-1]) for log in logs] for k in ("loss", "accuracy", "val_loss", "val_accuracy")]
    return rows


def side_by_side(seeds: list[dict[str, History]], data: dict | None = None):
    """The post's last line beside (a), (b) and the fingerprint's prediction, in Keras 2.2.4 and Keras 3.15.

    Runs: last epoch, mean (lowest–highest) over the seeds. Fingerprint: computed (``constant_optimum``) at each
    data set's share of bad parts with w = b / (1 - b); an accuracy given as a range means "anywhere in it".
    """
    data = data or period()
    rows: dict[str, list[str]] = {}
    rows["the post, epoch 300/300"] = [f"{FORUM[k][-1]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy")]

    b = POST_BAD_RATE
    rows[f"fingerprint at the post's guessed b = {b}"] = at_half([b], b / (1 - b), [b])
    keys = ("loss", "acc", "val_loss", "val_acc")
    for key, label in (("a", "Keras 2.2.4, (a) home-made exact acc"),
                       ("b_split", "Keras 2.2.4, (b) class_weight + validation_split"),
                       ("b_data", "Keras 2.2.4, (b) class_weight + unweighted validation_data")):
        hs = period_histories(key, data)
        rows[label] = [_span([h[k][-1] for h in hs]) for k in keys]
    setup = data["setup"]
    hs = period_histories("b_data", data)
    rows["fingerprint at Keras 2.2.4's data (b per seed)"] = at_half(
        [h["train_bad_rate"] for h in hs], setup["good_weight"], [h["val_bad_rate"] for h in hs])
    for label, columns in _keras3_rows(seeds).items():
        rows[label] = [_span(c) for c in columns]
    rows["fingerprint at Keras 3's data (b per seed)"] = at_half(
        [seed[WEIGHTED].info["train_bad_rate"] for seed in seeds], GOOD_WEIGHT,
        [seed[WEIGHTED].info["val_bad_rate"] for seed in seeds])
    lines = ["| | loss | acc | val_loss | val_acc |", "|---|---|---|---|---|"]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows.items()]
    return MarkdownTable("\n".join(lines))


class MarkdownTable(str):
    """A markdown table that a notebook renders as a table (and prints as its source)."""

    def _repr_markdown_(self) -> str:
        return str(self)


def at_half(train_bad_rates: list[float], good_weight: float, val_bad_rates: list[float]) -> list[str]:
    """The fingerprint's row: every output 0.5, so loss = mean weight x ln 2, val_loss = ln 2, acc anywhere."""
    from helpers.stats import LN2

    losses = [(good_weight * (1 - b) + b) * LN2 for b in train_bad_rates]
    acc = f"{min(train_bad_rates):.2f} to {1 - min(train_bad_rates):.2f}"
    val_acc = f"{min(val_bad_rates):.2f} to {1 - min(val_bad_rates):.2f}"
    return [_span(losses), acc, f"{LN2:.4f}", val_acc]


# --- what the notebook prints (named helpers: no plumbing where students read) -------------------------------

KEY = "04_mislabeled_accuracy_metric"


def reference_runs() -> list[dict[str, History]]:
    """Every run of ``configs()``, trained once on each reference seed (committed under data/reference)."""
    from helpers import reference

    return reference.load(KEY)


def show_log(log: dict, epochs: tuple[int, ...] = (1, 10, 20, 30)) -> None:
    """A Keras ``history.history`` printed in the post's line format, under the keys this Keras logged.

    Keras 3 logs ``accuracy`` / ``val_accuracy``; the post's Keras 2.2 logged ``acc`` / ``val_acc``.
    """
    acc = "accuracy" if "accuracy" in log else "acc"
    for e in epochs:
        if e <= len(log["loss"]):
            i = e - 1
            print(f"Epoch {e}/{len(log['loss'])} - loss: {log['loss'][i]:.4f} - {acc}: {log[acc][i]:.4f} - "
                  f"val_loss: {log['val_loss'][i]:.4f} - val_{acc}: {log['val_' + acc][i]:.4f}")


def show_bound() -> None:
    """The post's seven lines against the lowest accuracy an unweighted loss allows."""
    from helpers.stats import accuracy_floor

    for e, loss, acc in zip(FORUM["epoch"], FORUM["loss"], FORUM["accuracy"], strict=True):
        print(f"epoch {e:3d}: loss {loss:.4f} allows acc >= {accuracy_floor(loss):.3f}; printed acc {acc:.4f}")


def show_rivals(seeds: list[dict[str, History]]) -> None:
    """(a) and (b) per seed: the loss gap at epoch 1 and 30, and the epochs whose printed acc breaks the bound."""
    from helpers.stats import accuracy_floor

    for name, metric in PRINTED.items():
        for k, seed in enumerate(seeds):
            h, log = seed[name], as_logged(seed[name], metric)
            broken = int(np.sum(log["accuracy"] < accuracy_floor(log["loss"])))
            print(f"{name[:14]} seed {k}: val_loss/loss epoch 1 {loss_ratio(h)[0]:5.1f}, epoch 30 "
                  f"{loss_ratio(h)[-1]:5.1f}; acc below the floor at {broken} of {h.n_epochs} epochs")


def show_fingerprint(seeds: list[dict[str, History]]) -> None:
    """(b) per seed against the fingerprint: loss vs mean weight x ln 2, val_loss vs ln 2, the acc's range."""
    from helpers.stats import LN2

    for k, seed in enumerate(seeds):
        h = seed[WEIGHTED]
        b = h.info["train_bad_rate"]
        predicted = (GOOD_WEIGHT * (1 - b) + b) * LN2
        print(f"(b) seed {k}: loss epoch 1 {h['loss'][0]:.4f}, epoch 30 {h['loss'][-1]:.4f} (outputs at 0.5: "
              f"{predicted:.4f}); val_loss {h['val_loss'].min():.2f} to {h['val_loss'].max():.2f} (ln 2 = {LN2:.2f}); "
              f"acc {h['binary'].min():.2f} to {h['binary'].max():.2f}")


def show_fix(seeds: list[dict[str, History]]) -> None:
    """The fix under (b), measured: the training loss on validation's scale, two ways, beside val_loss (epoch 30)."""
    for k, seed in enumerate(seeds):
        h = seed[WEIGHTED]
        b = h.info["train_bad_rate"]
        mean_weight = GOOD_WEIGHT * (1 - b) + b
        print(f"(b) seed {k}: loss as logged {h['loss'][-1]:.4f}; / mean weight {mean_weight:.4f} = "
              f"{h['loss'][-1] / mean_weight:.3f}; training rows re-scored unweighted {h['train_eval_loss'][-1]:.3f}; "
              f"val_loss {h['val_loss'][-1]:.3f}; val_loss / loss: as logged {h['val_loss'][-1] / h['loss'][-1]:.1f}, "
              f"on one scale {h['val_loss'][-1] * mean_weight / h['loss'][-1]:.2f} and "
              f"{h['val_loss'][-1] / h['train_eval_loss'][-1]:.2f}")


def show_imbalance(seeds: list[dict[str, History]]) -> None:
    """Accuracy against balanced accuracy on validation at epoch 30, each rival's run and 'always good'."""
    for k, seed in enumerate(seeds):
        a, b = seed[EXACT], seed[WEIGHTED]
        print(f"seed {k}: always 'good' {a.info['val_majority_accuracy']:.3f} (balanced 0.5); "
              f"unweighted run: accuracy {a['val_binary'][-1]:.3f}, balanced {a['val_balanced_accuracy'][-1]:.3f}; "
              f"(b): accuracy {b['val_binary'][-1]:.3f}, balanced {b['val_balanced_accuracy'][-1]:.3f}")


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
