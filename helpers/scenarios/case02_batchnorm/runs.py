"""Case 02, configs and run names: what each run is (the knobs, the story, the reference grid)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import RunConfig
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

Config = BatchNormCaseConfig


def reference_configs(scale: str = "mini") -> dict[str, BatchNormCaseConfig]:
    """Every run a claim rests on."""
    return configs(scale)
