"""Notebook 00, what the notebook's words claim (BANDS) and the measurements behind them."""

from __future__ import annotations

import numpy as np

from helpers.runs import LAST, History, run
from helpers.scenarios.reading_curves.lab import load_data
from helpers.scenarios.reading_curves.runs import CLEAN, RETRAINED, SHAPES, reference_configs

POSTED: dict = {}  # no post: these are the canonical shapes

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


def shape_runs(seed_index: int = 0) -> dict[str, History]:
    """The six shapes' runs on one reference seed (seed 0 by default), read from the committed reference:
    the same numbers the tests hold to the bands, whatever this machine's thread count."""
    return {name: _reference_seeds()[seed_index][name] for name in SHAPES}


def _reference_seeds() -> list[dict[str, History]]:
    from helpers import reference

    return reference.load("00_reading_learning_curves")
