"""A numpy-only run used to test the machinery without training a network."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import History, RunConfig, report_epoch
from helpers.validate import check_choice, check_range

CALLS = {"n": 0}


@dataclass(frozen=True)
class ToyConfig(RunConfig):
    epochs: int = 5
    rate: float = 0.5
    bug: bool = False
    kind: str = "a"

    trainer = "toy:train"

    def validate(self) -> None:
        super().validate()
        check_range("rate", self.rate, 0.0, 1.0)
        check_choice("kind", self.kind, ("a", "b"))


def train(config: ToyConfig, progress=None) -> History:
    CALLS["n"] += 1
    noise = np.random.default_rng(config.seed).normal(0, 0.01, config.epochs)
    epochs = np.arange(1, config.epochs + 1)
    loss = np.exp(-config.rate * epochs) + noise
    val = loss * (3.0 if config.bug else 1.1)
    for e in epochs:
        report_epoch({"loss": loss[:e], "val_loss": val[:e]})  # as the real training loops do
        if progress:
            progress(int(e), config.epochs)
    return History(
        metrics={"loss": loss, "val_loss": val, "accuracy": 1 - loss / 2, "val_accuracy": 1 - val / 2},
        arrays={"per_class": np.arange(3.0) * config.rate},
        info={"n_val": 100},
    )
