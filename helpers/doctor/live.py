"""Live: the history checks while training runs (any framework, and a Keras callback)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from helpers.doctor.checks import diagnose_history
from helpers.doctor.findings import Finding
from helpers.doctor.readers import ALIASES


class LiveDoctor:
    """Feed it each epoch's logs; it prints a warn/error finding the first epoch it appears.

    loss, n_classes, val_size: as for ``diagnose_history``. printer: where the lines go.
    """

    def __init__(self, *, loss: str | None = None, n_classes: int | None = None,
                 val_size: int | None = None, printer: Callable[[str], None] = print) -> None:
        self.kwargs = {"loss": loss, "n_classes": n_classes, "val_size": val_size}
        self.logs: dict[str, list[float]] = {}
        self.seen: set[str] = set()
        self.printer = printer

    def update(self, logs: Mapping[str, float]) -> list[Finding]:
        """Add one epoch's numbers; return (and print) the warn/error findings that are new."""
        for key, value in logs.items():
            self.logs.setdefault(ALIASES.get(key, key), []).append(float(value))
        n = min(len(v) for v in self.logs.values())
        if n < 2:
            return []
        findings = diagnose_history({k: v[:n] for k, v in self.logs.items()}, **self.kwargs)
        new = [f for f in findings if f.code not in self.seen and f.severity in ("error", "warn")]
        for f in new:
            self.seen.add(f.code)
            self.printer(f"[doctor, epoch {n}] {f}")
        return new


def keras_callback(**kwargs: Any) -> Any:
    """A ``keras.callbacks.Callback`` that runs the history checks at every epoch's end.

    kwargs: LiveDoctor's (loss, n_classes, val_size, printer). The callback's ``doctor`` holds the logs.
    """
    import keras

    class DoctorCallback(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.doctor = LiveDoctor(**kwargs)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.doctor.update({k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0})

    return DoctorCallback()
