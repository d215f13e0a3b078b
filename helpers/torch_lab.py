"""PyTorch training with honest curves: running average and inference-mode re-score.

Each epoch records what a student's loop usually prints (the loss and accuracy
averaged over the epoch's batches, in training mode, while the weights move)
and, beside it, the training set re-scored in inference mode at the epoch's end
(Raschka's ``helper_train.py`` habit), plus every evaluation split.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from helpers.runs import History, Progress, report_epoch

Arrays = tuple[np.ndarray, np.ndarray]


def set_seeds(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; make kernels deterministic; return a data generator."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    # A fixed thread count keeps float summation order, hence the numbers, repeatable.
    torch.set_num_threads(int(os.environ.get("GAP_CLINIC_THREADS", "2")))
    return torch.Generator().manual_seed(seed)


def as_tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)


def score(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    train_mode: bool = False,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on (x, y), without a weight update.

    train_mode: score with Dropout active and BatchNorm using batch statistics
    (what forgetting ``model.eval()`` does); the mode is restored afterwards, and so
    are BatchNorm's running statistics, which a train-mode pass would otherwise nudge.
    """
    from helpers.scoring import cross_entropy, unchanged

    with unchanged(model), torch.no_grad():
        model.train(train_mode)
        logits = torch.cat([model(x[start : start + batch_size]) for start in range(0, len(x), batch_size)])
    return cross_entropy(logits.numpy(), y.numpy(), from_logits=True)


def rescore_in_inference_mode(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """The honest training curve: the whole training set scored in eval mode."""
    return score(model, x, y, train_mode=False)


def fit(
    model: nn.Module,
    train: Arrays,
    evals: Mapping[str, Arrays],
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    generator: torch.Generator,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    eval_in_train_mode: bool = False,
    progress: Progress | None = None,
    on_epoch_end: Callable[[int, nn.Module], Mapping[str, float]] | None = None,
) -> History:
    """Train with minibatches and return the per-epoch History.

    evals: named splits ("val", "test" ...) scored after every epoch as
    ``{name}_loss`` / ``{name}_accuracy``.
    eval_in_train_mode: score the eval splits without ``model.eval()`` (the classic
    PyTorch slip), to measure what it changes.
    on_epoch_end: extra per-epoch numbers to record (returns name -> value).
    """
    x_train, y_train = as_tensors(*train)
    eval_tensors = {name: as_tensors(*data) for name, data in evals.items()}
    metrics: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        metrics.setdefault(name, []).append(float(value))

    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        seen, loss_sum, correct = 0, 0.0, 0
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            xb, yb = x_train[idx], y_train[idx]
            if augment is not None:
                xb = augment(xb, generator)
            logits = model(xb)
            loss = nn.functional.cross_entropy(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
        record("loss", loss_sum / seen)
        record("accuracy", correct / seen)
        train_eval = rescore_in_inference_mode(model, x_train, y_train)
        record("train_eval_loss", train_eval[0])
        record("train_eval_accuracy", train_eval[1])
        for name, (x, y) in eval_tensors.items():
            loss_value, acc = score(model, x, y, train_mode=eval_in_train_mode)
            record(f"{name}_loss", loss_value)
            record(f"{name}_accuracy", acc)
        if on_epoch_end is not None:
            for name, value in on_epoch_end(epoch, model).items():
                record(name, value)
        report_epoch(metrics)
        if progress is not None:
            progress(epoch + 1, epochs)
    return History(metrics=metrics, info={"n_train": len(x_train), **sizes(evals)})


def sizes(evals: Mapping[str, Arrays]) -> dict[str, Any]:
    return {f"n_{name}": len(data[1]) for name, data in evals.items()}
