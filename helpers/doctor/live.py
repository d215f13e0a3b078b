"""Live: the history checks while training runs (any framework, and a Keras callback)."""

from __future__ import annotations

import math
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
                 val_size: int | None = None, printer: Callable[[str], None] = print, **kwargs: Any) -> None:
        self.kwargs = {"loss": loss, "n_classes": n_classes, "val_size": val_size, **kwargs}
        self.rows: list[dict[str, float]] = []  # one dict per epoch: validation_freq > 1 leaves val_* out
        self.seen: set[str] = set()
        self.printer = printer

    @property
    def logs(self) -> dict[str, list[float]]:
        """The columns so far, one value per epoch; NaN where an epoch did not log a metric (no validation)."""
        names = list(dict.fromkeys(k for r in self.rows for k in r))
        return {k: [r.get(k, math.nan) for r in self.rows] for k in names}

    def update(self, logs: Mapping[str, float]) -> list[Finding]:
        """Add one epoch's numbers; return (and print) the warn/error findings that are new.

        An epoch without validation (Keras ``validation_freq`` > 1) keeps its place: its val_* are missing,
        so every later validation is paired with its own epoch's training numbers.
        """
        self.rows.append({ALIASES.get(k, k): float(v) for k, v in logs.items()})
        n = len(self.rows)
        columns = self.logs
        paired = [k for k in columns if k.startswith("val_") and k[4:] in columns]
        if n < 2 or not paired or max(int(np.sum(np.isfinite(columns[k]))) for k in paired) < 2:
            return []
        findings = diagnose_history(columns, **self.kwargs)
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
