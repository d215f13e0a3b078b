"""Where each log patient's log comes from (a committed reference run, the forum, a real public log) and how
it is written to data/clinic."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from helpers.paths import CLINIC_LOGS, DOCTOR_CORPUS, FORUM_LOG
from helpers.runs import History
from helpers.scenarios.clinic.patients import C01, C02, C03, C04, HF_LOG, LOG_COLUMNS, PATIENTS

# --- where each log comes from --------------------------------------------------------------------------------


def _reference(case_key: str, name: str, seed_index: int, metric: str | None = None) -> Callable[[], History]:
    def source() -> History:
        from helpers import reference

        history = reference.load(case_key)[seed_index][name]
        if metric is not None:  # case 04: the columns Keras prints for the metric the post compiled with
            from helpers.scenarios import case04_metric as c4

            return History(metrics=dict(c4.as_logged(history, metric)))
        return History(metrics={k: history[k] for k in LOG_COLUMNS})

    return source


def _shape(name: str) -> Callable[[], History]:
    def source() -> History:
        from helpers.runs import run
        from helpers.scenarios import reading_curves as rc

        return run(rc.SHAPES[name])

    return source


def _forum() -> History:
    from helpers.doctor import read_log

    curves = read_log(FORUM_LOG)
    return History(metrics={k: curves[k] for k in LOG_COLUMNS})


SOURCES: dict[str, Callable[[], History]] = {
    "A": _shape("overfitting"),
    "B": _reference(C02, "the post (Adam, BatchNorm momentum 0.99)", 0),
    "C": _reference(C04, "raw + SGD, tail split", 1, "Accuracy()"),
    "D": _reference(C01, "the post", 2),
    "G": _reference(C03, "BiLSTM head, layer 3 widened to 128", 1),
    "H": _shape("underfitting"),
    "I": _forum,
    "J": _reference(C02, "SGD (momentum 0.9), BatchNorm momentum 0.99", 0),
    "K": _reference(C04, "scaled + Adam, tail split", 0, "BinaryAccuracy()"),
    "N": _reference(C03, "LSTM removed", 0),
    "Q": _reference(C01, "modern, done right", 0),
    "R": _shape("heavy dropout"),
}
KERAS_LOGS = {"F": "class_weight", "L": "label_smoothing", "O": "validation_freq"}  # write_new_keras_logs
COPIED = {"P": DOCTOR_CORPUS / HF_LOG}  # real logs, copied as they are
# E and M stay as case 05's first miniature trained them: its rebuild (standardised 10-frame windows) no longer
# shows "nothing learns" on the separate shuffle, and a patient is a log, not a claim about the case.
KEPT = ("E", "M")


def _digits_flat(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from helpers.datasets import digits, rng

    x, y = digits()
    order = rng(seed).permutation(len(x))
    return x.reshape(len(x), -1)[order], y[order]


def write_new_keras_logs(folder: Path = CLINIC_LOGS) -> list[Path]:
    """Train the three tiny Keras patients no notebook showed (≈ 10 s each on 2 cores) and write their CSVLogger logs.

    F: class_weight on imbalanced data; L: label_smoothing=0.1; O: validation_freq=5. Keras' CSVLogger writes
    "NA" in the validation cells of epochs without validation; they are written blank here (as a pandas export
    would), the form the doctor's reader takes.
    """
    from helpers.datasets import rng
    from helpers.keras_lab import keras

    def mlp(width: int, out: int, activation: str):
        return keras.Sequential([keras.Input((64,)), keras.layers.Dense(width, activation="relu"),
                                 keras.layers.Dense(out, activation=activation)])

    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: folder / f"{k}.csv" for k in KERAS_LOGS}

    keras.utils.set_random_seed(3)  # F: is it a 9? 10 % positives, blurred scans, majority rows weighted 0.1
    x, y = _digits_flat(3)
    x = x + rng(3).normal(0, 0.35, x.shape).astype("float32")
    yb = (y == 9).astype("float32")
    model = mlp(16, 1, "sigmoid")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x[:1200], yb[:1200], validation_data=(x[1200:], yb[1200:]), epochs=20, batch_size=32, verbose=0,
              class_weight={0: 0.1, 1: 1.0}, callbacks=[keras.callbacks.CSVLogger(str(paths["F"]))])

    keras.utils.set_random_seed(4)  # L: ten digits, smoothed one-hot targets
    x, y = _digits_flat(4)
    onehot = keras.utils.to_categorical(y, 10)
    model = mlp(64, 10, "softmax")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"])
    model.fit(x[:1200], onehot[:1200], validation_data=(x[1200:1600], onehot[1200:1600]), epochs=30,
              batch_size=32, verbose=0, callbacks=[keras.callbacks.CSVLogger(str(paths["L"]))])

    keras.utils.set_random_seed(5)  # O: 150 rows, 20 % wrong labels, a wide MLP, validated every 5 epochs
    x, y = _digits_flat(5)
    g = rng(5)
    y_train = y[:150].copy()
    flip = g.random(150) < 0.2
    y_train[flip] = g.integers(0, 10, flip.sum())
    model = mlp(256, 10, "softmax")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:150], y_train, validation_data=(x[1200:1600], y[1200:1600]), epochs=60, batch_size=16, verbose=0,
              validation_freq=5, callbacks=[keras.callbacks.CSVLogger(str(paths["O"]))])

    for path in paths.values():
        lines = path.read_text().splitlines()
        path.write_text("\n".join(",".join("" if c == "NA" else c for c in line.split(",")) for line in lines) + "\n")
    return list(paths.values())


def export_log(history: History, path: Path, epochs: np.ndarray | None = None) -> Path:
    """Write the four columns a student's CSVLogger would hold."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return History(metrics={k: history[k] for k in LOG_COLUMNS}).to_csv(path, epochs)


def write_all(folder: Path = CLINIC_LOGS) -> list[Path]:
    """Export every patient's log (reading the reference; notebook 00's shapes and the Keras patients train)."""
    from helpers.doctor import read_log

    paths = []
    for patient in PATIENTS:
        if patient.id in SOURCES:
            epochs = read_log(FORUM_LOG).epochs if patient.id == "I" else None
            paths.append(export_log(SOURCES[patient.id](), folder / f"{patient.id}.csv", epochs))
        elif patient.id in COPIED:
            paths.append(Path(shutil.copyfile(COPIED[patient.id], folder / patient.log.name)))
    paths += write_new_keras_logs(folder)
    (folder / "patients.json").write_text(json.dumps(
        [{"id": p.id, "complaint": p.complaint, "facts": p.facts, "loss": p.loss, "classes": p.n_classes,
          "val_size": p.val_size, "log": p.log.name} for p in PATIENTS], indent=1, ensure_ascii=False) + "\n")
    return paths
