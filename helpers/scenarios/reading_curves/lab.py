"""Notebook 00, data, model and training: what the cache key hashes (the small MLP and its data)."""

from __future__ import annotations

import numpy as np

from helpers.runs import History, Progress
from helpers.scenarios.reading_curves.runs import CurvesConfig


def load_data(config: CurvesConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Split digits into train, val, train-dev and test (no row in two of them).

    train-dev and test both come from the training population: train-dev is scored every epoch
    (it tells a shifted validation set from overfitting), test only once, after training.
    """
    from helpers.datasets import digits, rng, shift_images

    images, labels = digits()
    order = rng(1234).permutation(len(labels))  # one fixed shuffle: splits differ only by size
    val_idx = order[: config.n_val]
    train_idx = order[400 : 400 + config.n_train]
    dev_idx, test_idx = order[1400:1600], order[1600:]
    x_val = images[val_idx]
    if config.val_source == "shifted":
        x_val = shift_images(x_val, dx=1)
    y_train = labels[train_idx].copy()
    if config.label_noise:
        generator = rng(config.seed + 99)
        noisy = generator.random(len(y_train)) < config.label_noise
        y_train[noisy] = generator.integers(0, 10, noisy.sum())
    x_train = images[train_idx].reshape(-1, 64)
    if config.train_on_val:  # the final model: everything but train-dev and test
        x_train = np.concatenate([x_train, x_val.reshape(-1, 64)])
        y_train = np.concatenate([y_train, labels[val_idx]])
    return {
        "train": (x_train, y_train),
        "val": (x_val.reshape(-1, 64), labels[val_idx]),
        "train_dev": (images[dev_idx].reshape(-1, 64), labels[dev_idx]),
        "test": (images[test_idx].reshape(-1, 64), labels[test_idx]),
    }


def build_model(config: CurvesConfig):
    """Two hidden layers of ``hidden`` units, ReLU, Dropout after each; 10 outputs (logits)."""
    from torch import nn

    return nn.Sequential(
        nn.Linear(64, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
        nn.Linear(config.hidden, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
        nn.Linear(config.hidden, 10),
    )


def train(config: CurvesConfig, progress: Progress | None = None) -> History:
    import torch

    from helpers import torch_lab

    generator = torch_lab.set_seeds(config.seed)
    data = load_data(config)
    model = build_model(config)
    # Karpathy's first check: before any step, a K-class model should be unsure, loss ≈ ln K.
    at_init = torch_lab.score(model, *torch_lab.as_tensors(*data["val"]))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history = torch_lab.fit(
        model, data["train"], {"val": data["val"], "train_dev": data["train_dev"]}, epochs=config.epochs,
        optimizer=optimizer, batch_size=config.batch_size, generator=generator, progress=progress,
    )
    # The test set is scored once, after the last epoch: nothing is ever chosen on it.
    test = torch_lab.score(model, *torch_lab.as_tensors(*data["test"]))
    history.info.update(val_loss_at_init=at_init[0], val_accuracy_at_init=at_init[1],
                        test_loss=test[0], test_accuracy=test[1], n_test=len(data["test"][1]))
    return history
