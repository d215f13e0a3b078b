"""Case 04, what the notebook's words claim (BANDS, POSTED, CLAIM_TEXT) and the measurements behind them."""

from __future__ import annotations

import numpy as np

from helpers.runs import LAST, History, run
from helpers.scenarios.case04_metric.runs import GOOD_WEIGHT, configs

FORUM = {"epoch": [1, 50, 100, 150, 200, 250, 300],
         "loss": [0.1229, 0.0563, 0.0414, 0.0366, 0.0329, 0.0330, 0.0315],
         "accuracy": [0.0207, 0.0155, 0.1456, 0.3219, 0.4081, 0.4796, 0.4981],
         "val_loss": [4.3194, 2.6478, 2.0422, 1.2202, 1.8764, 1.7627, 0.7271],
         "val_accuracy": [0.0168, 0.0168, 0.0479, 0.3862, 0.1436, 0.2356, 0.6627]}


POSTED = {"rows_train": 121620, "rows_val": 30405, "loss": "binary_crossentropy", **FORUM}

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
