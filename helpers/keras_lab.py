"""Keras 3 training with honest curves: the logged average beside an inference-mode re-score.

``fit`` wraps ``model.fit`` with a callback that, at every epoch's end, scores
the training set (and any other split) with ``model.evaluate`` — inference mode,
so BatchNorm uses its moving statistics and Dropout is off, exactly as
validation is scored.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from helpers.runs import History, Progress, report_epoch

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextlib.contextmanager
def silence_native_stderr() -> Iterator[None]:
    """Send C++-level stderr (TensorFlow's CUDA probes, tf.data notices) to /dev/null meanwhile.

    Those lines carry timestamps, so they would make every notebook output differ;
    Python exceptions are unaffected (they propagate and print after restore).
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


with silence_native_stderr():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()  # the CUDA probe logs here once, silenced


def set_seeds(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and turn on TF op determinism."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class InferenceScores(keras.callbacks.Callback):
    """Adds ``{name}_loss`` / ``{name}_accuracy`` for each split, scored in inference mode at each epoch's end.

    In-memory (x, y) splits are scored by direct calls under one ``tf.function`` and
    ``scoring.cross_entropy``: the numbers ``model.evaluate`` gives, without its setup (about a second
    per call at these sizes, which would double a miniature's training time). A dataset or generator
    goes through ``model.evaluate`` and adds every compiled metric.
    """

    def __init__(self, splits: Mapping[str, Any], progress: Progress | None = None, batch_size: int = 256) -> None:
        super().__init__()
        self.splits, self.progress, self.batch_size = dict(splits), progress, batch_size
        self.predict = None
        self.predicted: dict[str, Any] = {}  # each array split's predicted classes at the latest epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import numpy as np

        from helpers.scoring import cross_entropy, predicted_classes

        logs = logs if logs is not None else {}
        for name, data in self.splits.items():
            if not isinstance(data, tuple):
                for key, value in evaluate(self.model, data, self.batch_size).items():
                    logs[f"{name}_{key}"] = value
                continue
            if self.predict is None:
                self.predict = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)
            x, y = data
            n = self.batch_size
            outputs = np.concatenate([np.asarray(self.predict(x[i : i + n])) for i in range(0, len(x), n)])
            logs[f"{name}_loss"], logs[f"{name}_accuracy"] = cross_entropy(outputs, y, from_logits=False)
            self.predicted[name] = predicted_classes(outputs)
        if self.progress is not None:
            self.progress(epoch + 1, self.params.get("epochs", epoch + 1))


class LiveReport(keras.callbacks.Callback):
    """Hands every epoch's numbers so far to ``runs.report_epoch`` (a panel draws them as they come)."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[str, list[float]] = {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            if _is_scalar(value):
                self.metrics.setdefault(key, []).append(float(value))
        report_epoch(self.metrics)


def _is_scalar(value: Any) -> bool:
    import numpy as np

    return bool(np.isscalar(value)) or getattr(value, "shape", None) == ()


def evaluate(model: keras.Model, data: Any, batch_size: int = 256) -> dict[str, float]:
    """``model.evaluate`` as a dict; ``data`` is (x, y) or a dataset/generator."""
    if isinstance(data, tuple):
        x, y = data
        result = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    else:
        result = model.evaluate(data, verbose=0, return_dict=True)
    return {k: float(v) for k, v in result.items()}


def fit(
    model: keras.Model,
    train: Any,
    *,
    epochs: int,
    validation: Any = None,
    rescore: Mapping[str, Any] | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    **fit_kwargs: Any,
) -> History:
    """``model.fit`` that returns a Gap Clinic History.

    train: (x, y) arrays or a dataset/generator; validation: the same, passed as
    ``validation_data`` (or leave None and pass ``validation_split=`` through).
    rescore: named splits re-scored in inference mode each epoch, e.g.
    ``{"train_eval": (x, y), "test": test_ds}``.
    """
    honest = InferenceScores(rescore or {}, progress=progress)
    kwargs: dict[str, Any] = dict(epochs=epochs, verbose=0, callbacks=[*(callbacks or []), honest, LiveReport()],
                                  **fit_kwargs)
    if validation is not None:
        kwargs["validation_data"] = validation
    with silence_native_stderr():
        if isinstance(train, tuple):
            keras_history = model.fit(train[0], train[1], batch_size=batch_size, **kwargs)
        else:
            keras_history = model.fit(train, **kwargs)
    metrics = {k: [float(v) for v in values] for k, values in keras_history.history.items()}
    return History(metrics=metrics)
