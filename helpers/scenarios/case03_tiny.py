"""Case 03 — 630 samples, 9 classes, a CNN + BiLSTM that memorises (PyTorch).

Seed: shared/seeds/002_09af3c9206cda6ce.txt (Data Science SE 51961). The post's
architecture shape: three blocks of Conv → BatchNorm → ReLU → MaxPool → Dropout
0.25, a Linear to 1024, a 2-layer bidirectional LSTM with hidden size 9 over a
sequence of length 1, and a Linear 18 → 9. 630 training, 90 validation and 90
test samples; train accuracy 98–100 %, validation and test 15–20 % (chance 11 %).

Miniature: 16×16 colour textures whose class signal is faint (real, but buried
in noise), so 630 samples are too few while a few thousand are enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.runs import History, Progress, RunConfig, run
from helpers.validate import check_bool, check_choice, check_range

HEADS = ("bilstm", "linear")
N_VAL = N_TEST = 90
SIGNAL = 0.35  # class texture contrast against pixel noise: faint on purpose
NOISE = 0.25
POOL = 8000  # images drawn once; training sets are its first n rows


@dataclass(frozen=True)
class TinyCaseConfig(RunConfig):
    """One training of the post's model (or a fix of it).

    n_train: training samples (630 in the post); head: "bilstm" (the post's LSTM
    over a length-1 sequence) or "linear"; width: channel multiplier (1 = the
    post's 16/32/8); dropout; weight_decay (AdamW); augment: random flips and
    1-pixel shifts; eval_mode: call model.eval() before validating (False = the
    classic slip); shuffled_labels: training labels permuted (memorisation test);
    lr: Adam learning rate.
    """

    epochs: int = 60
    n_train: int = 630
    head: str = "bilstm"
    width: float = 1.0
    dropout: float = 0.25
    weight_decay: float = 0.0
    augment: bool = False
    eval_mode: bool = True
    shuffled_labels: bool = False
    lr: float = 1e-3
    batch_size: int = 32

    trainer = "helpers.scenarios.case03_tiny:train"
    framework = "torch"
    code_version = 1

    def validate(self) -> None:
        super().validate()
        check_range("n_train", self.n_train, 90, POOL - N_VAL - N_TEST, integer=True)
        check_choice("head", self.head, HEADS)
        check_range("width", self.width, 0.25, 4.0)
        check_range("dropout", self.dropout, 0.0, 0.8)
        check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        check_bool("augment", self.augment)
        check_bool("eval_mode", self.eval_mode)
        check_bool("shuffled_labels", self.shuffled_labels)
        check_range("lr", self.lr, 1e-5, 0.1)
        check_range("batch_size", self.batch_size, 4, 1024, integer=True)


def load_data(config: TinyCaseConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Channels-first float images; val and test are fixed, training is the first n_train of the rest."""
    from helpers.datasets import prototype_images, rng

    x, y = prototype_images(POOL, n_classes=9, size=(16, 16), noise=NOISE, contrast=SIGNAL, max_shift=3,
                            seed=config.seed)
    x = x.transpose(0, 3, 1, 2).copy()
    val, test = slice(0, N_VAL), slice(N_VAL, N_VAL + N_TEST)
    train = slice(N_VAL + N_TEST, N_VAL + N_TEST + config.n_train)
    y_train = y[train].copy()
    if config.shuffled_labels:
        y_train = rng(config.seed + 1).permutation(y_train)
    return {"train": (x[train], y_train), "val": (x[val], y[val]), "test": (x[test], y[test])}


def build_model(config: TinyCaseConfig):
    """The post's ConvNet (channels scaled by ``width``) with its BiLSTM head or a plain Linear head."""
    import torch
    from torch import nn

    c1, c2, c3 = (max(2, round(c * config.width)) for c in (16, 32, 8))

    def block(cin: int, cout: int, kernel: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Dropout(config.dropout))

    class ConvNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(block(3, c1, 3), block(c1, c2, 3), block(c2, c3, 2))
            flat = c3 * 2 * 2  # 16 → 8 → 4 → (k2, p1) 5 → 2
            if config.head == "bilstm":
                self.flc = nn.Linear(flat, 1024)
                self.blstm = nn.LSTM(1024, 9, num_layers=2, batch_first=True, bidirectional=True)
                self.out = nn.Linear(18, 9)
            else:
                self.out = nn.Linear(flat, 9)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.features(x).flatten(1)
            if config.head == "linear":
                return self.out(h)
            h = self.flc(h).unsqueeze(1)  # (batch, sequence of length 1, 1024): no sequence at all
            h, _ = self.blstm(h)
            return self.out(h[:, -1, :])

    return ConvNet()


def flip_and_shift(x, generator):
    """Random horizontal flips and ±1-pixel shifts, per batch (training only)."""
    import torch

    if torch.rand(1, generator=generator).item() < 0.5:
        x = x.flip(3)
    dy, dx = (int(v) for v in torch.randint(-1, 2, (2,), generator=generator))
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def train(config: TinyCaseConfig, progress: Progress | None = None) -> History:
    import torch

    from helpers import torch_lab

    generator = torch_lab.set_seeds(config.seed)
    data = load_data(config)
    model = build_model(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history = torch_lab.fit(
        model, data["train"], {"val": data["val"], "test": data["test"]}, epochs=config.epochs,
        optimizer=optimizer, batch_size=config.batch_size, generator=generator,
        augment=flip_and_shift if config.augment else None, eval_in_train_mode=not config.eval_mode,
        progress=progress,
    )
    history.info["parameters"] = torch_lab.count_parameters(model)
    return history


def early_stopped(history: History, split: str = "val") -> dict[str, float]:
    """What early stopping on validation loss keeps: the best epoch's numbers."""
    best = int(np.argmin(history["val_loss"]))
    return {"epoch": best + 1, "val_accuracy": float(history["val_accuracy"][best]),
            "test_accuracy": float(history["test_accuracy"][best]),
            "train_accuracy": float(history["train_eval_accuracy"][best])}
