"""Scoring a model without changing it: cross-entropy and accuracy, inference mode and training mode.

One place for what the training loops (``torch_lab``, ``keras_lab``) and the doctor's probes both need:
the honest re-score of a split in inference mode, the same split in training mode (what forgetting
``model.eval()`` does) with BatchNorm's moving statistics put back afterwards, and the cross-entropy
itself. No framework is imported until a function needs one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

PROBABILITY_FLOOR = 1e-7  # Keras clips probabilities here before the log; so do we, so the numbers agree


def cross_entropy(outputs: Any, y: Any, *, from_logits: bool) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of model outputs against integer (or one-hot) labels.

    outputs: N×K scores, or N / N×1 for one sigmoid unit. y: N integer labels or N×K one-hot rows.
    from_logits: whether outputs are logits (else probabilities, clipped to [1e-7, 1 − 1e-7] like Keras).
    """
    from scipy.special import log_expit, log_softmax

    outputs = np.asarray(outputs, dtype=np.float64)
    y = np.asarray(y)
    if outputs.ndim == 0 or len(outputs) == 0:
        raise ValueError("cross_entropy needs at least one output row; got none.")
    if len(y) != len(outputs):
        raise ValueError(f"cross_entropy needs one label per output row; got {len(y)} labels for {len(outputs)} rows.")
    if outputs.ndim == 1 or outputs.shape[-1] == 1:  # binary, one unit
        z = outputs.reshape(-1)
        t = y.reshape(-1).astype(np.float64)
        if from_logits:
            logp, log1mp = log_expit(z), log_expit(-z)
            p = np.exp(logp)
        else:
            p = np.clip(z, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
            logp, log1mp = np.log(p), np.log1p(-p)
        loss = -np.mean(t * logp + (1 - t) * log1mp)
        return float(loss), float(np.mean((p >= 0.5) == (t >= 0.5)))
    logp = log_softmax(outputs, axis=1) if from_logits else np.log(np.clip(outputs, PROBABILITY_FLOOR, 1.0))
    labels = y.astype(int).reshape(-1) if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1) else y.argmax(1)
    if labels.min() < 0 or labels.max() >= outputs.shape[1]:
        raise ValueError(f"labels must lie in 0..{outputs.shape[1] - 1} for {outputs.shape[1]} output columns; "
                         f"got {labels.min()}..{labels.max()}.")
    return float(-np.mean(logp[np.arange(len(labels)), labels])), float(np.mean(outputs.argmax(1) == labels))


def predicted_classes(outputs: Any) -> np.ndarray:
    """The class each output row predicts (0/1 for one sigmoid unit)."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        return (outputs.reshape(-1) >= 0.5).astype(int)
    return outputs.argmax(1)


def framework_of(model: Any) -> str:
    """ "torch" or "keras", from the model's class hierarchy (nothing is imported)."""
    for cls in type(model).__mro__:
        if cls.__module__.startswith("torch.nn"):
            return "torch"
        if cls.__module__.startswith("keras"):
            return "keras"
    raise ValueError(f"Keras and PyTorch models are supported; got {type(model).__name__} "
                     f"from {type(model).__module__}.")


@contextlib.contextmanager
def unchanged(model: Any) -> Iterator[None]:
    """Inside, score however you like (training mode included); afterwards the model is as it was.

    A training-mode forward pass moves BatchNorm's moving statistics; these (torch buffers, Keras
    non-trainable variables) and torch's train/eval flag are put back on the way out.
    """
    if framework_of(model) == "torch":
        import torch

        was_training = model.training
        buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
        try:
            yield
        finally:
            model.train(was_training)
            with torch.no_grad():
                for name, b in model.named_buffers():
                    if name in buffers:
                        b.copy_(buffers[name])
    else:
        saved = [np.array(v.numpy(), copy=True) for v in model.non_trainable_variables]
        try:
            yield
        finally:
            for variable, value in zip(model.non_trainable_variables, saved, strict=True):
                variable.assign(value)
