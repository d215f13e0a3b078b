"""Notebook 00, configs and run names: the canonical shapes and what changes each."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.runs import RunConfig
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
