"""Notebook 06: the clinic — training logs to diagnose, with the numbers that show the diagnosis.

Each log patient is a training log under ``data/clinic/``: runs of cases 01–05 read from the committed
reference (``reference.load``, nothing retrains), three of notebook 00's shapes, three tiny Keras trainings
no notebook showed (``class_weight``, label smoothing, ``validation_freq=5``: ``write_new_keras_logs``), the
forum's own log and one real Hugging Face log. Two probe patients bring data or a scoring function instead.

A student answers with a diagnosis AND the evidence for it, in the vocabulary ``EVIDENCE``::

    check_answer("B", diagnosis="STALE_NORM_STATS", evidence={"epoch": 2, "val_loss/loss": 80, "val_loss/loss@9": 1.1})

``check_answer`` (a) reads every cited number back from the patient's log and says what the log shows when
one is off, and (b) accepts any diagnosis the cited numbers support by the principle behind it (``RULES``),
whether or not the doctor prints that code, and says why an answer is not supported.
``python -m helpers.scenarios.clinic --write`` re-exports the logs (they are data: the tests check that they
parse and show what they are there for, never that a retrain reproduces them bit for bit).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.doctor.checks import (
    EARLY_RATIO,
    MATERIAL_ACCURACY,
    NORMAL_RATIO,
    STALE_START,
    WIDEN_SHARE,
    Context,
    Z,
    _overfit_analysis,
)
from helpers.runs import History
from helpers.stats import BOUND_CONDITIONS, LN2, binomial_se

ROOT = Path(__file__).resolve().parents[2]
CLINIC_DIR = ROOT / "data" / "clinic"
FORUM_LOG = ROOT / "data" / "forum" / "003_a8ebacd39794dcdb_log.csv"
REAL_LOGS = ROOT / "data" / "doctor_corpus"
HF_LOG = "hf/haipradana__indobert-indonesia-sarcastic-satire-classification__indobert-binary-5ep-overfit.json"
LOG_COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy")
HEALTHY = "HEALTHY"  # the diagnosis "nothing wrong" (set() says the same)


@dataclass(frozen=True)
class Patient:
    """One patient: what the student is told, what it is, and what the doctor prints on it."""

    id: str
    complaint: str
    loss: str
    n_classes: int
    val_size: int | None  # validation rows (None: the log does not say)
    expected: frozenset[str]  # the intended diagnosis (empty = nothing wrong)
    story: str  # what it really was (solutions only)
    doctor: frozenset[str] | None = None  # the doctor's warn/error codes, when they differ from `expected`
    facts: str = ""  # what the student is told besides the complaint (how the log was made)
    source: str = ""  # where the log comes from
    file: str = ""  # the log's file name under data/clinic (default: <id>.csv)
    chance: float | None = None  # the accuracy of a constant guess, when not 1/K (imbalanced data)
    weighted: bool = False  # the training loss is class-weighted (the validation loss is not)
    label_smoothing: float = 0.0

    @property
    def doctor_codes(self) -> frozenset[str]:
        """Every warn/error code the doctor reports on this patient."""
        return self.expected if self.doctor is None else self.doctor

    @property
    def log(self) -> Path:
        return CLINIC_DIR / (self.file or f"{self.id}.csv")

    @property
    def chance_level(self) -> float:
        return self.chance if self.chance is not None else 1.0 / self.n_classes


E = frozenset
CE, SCE, BCE = "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"
PATIENTS: list[Patient] = [
    Patient("A", "val loss went up after a while, is my model broken?", CE, 10, 400, E({"OVERFITTING"}),
            "notebook 00 'overfitting': 150 rows, 20 % wrong labels, a wide MLP", source="notebook 00"),
    Patient("B", "my val loss is 100× my train loss for 8 epochs, then it suddenly drops", SCE, 10, 400,
            E({"STALE_NORM_STATS"}), "case 02, the post: BatchNorm momentum 0.99, Adam, 50 steps an epoch",
            facts="a small CNN with BatchNorm, 1600 training images",
            source="case 02, 'the post (Adam, BatchNorm momentum 0.99)', seed 0"),
    Patient("C", "accuracy 2 % at a loss of 0.11?", BCE, 2, 1600, E({"METRIC_INCONSISTENT"}),
            "case 04, the post compiled with keras.metrics.Accuracy(): exact equality of probabilities and labels",
            facts="one sigmoid output; 2.25 % of the validation parts are bad (a constant 'good' scores 0.9775)",
            source="case 04, 'hypothesis (a): Accuracy()', seed 1", chance=0.9775),
    Patient("D", "train accuracy 94 %, validation 66 %: my model does not generalise", CE, 10, 240,
            E({"OVERFITTING"}),
            "case 01, the post: one ImageDataGenerator(horizontal_flip=True, validation_split=0.2) feeds both "
            "subsets; validation is each folder's sorted first 20 % (whole recordings training never sees), and the "
            "flip (applied at random, to about half the images) trains on mirrored hands that no validation image "
            "shows. The log shows validation following training for epochs 1–3, then an accuracy gap that widens "
            "far beyond its binomial noise: what the model learns stops carrying over. That the cause is the split "
            "(recordings) and the flips is not in the log: case 01 shows it with an independent test recording. "
            "The doctor is silent: 10 epochs are too few for its loss-noise tests",
            doctor=E(), facts="hand signs filmed as recordings, read from image folders by one ImageDataGenerator "
                              "(horizontal_flip=True, validation_split=0.2) for both subsets",
            source="case 01, 'the post', seed 2"),
    Patient("E", "nothing learns: train and val stuck at 10 %, whatever I try", SCE, 10, 168, E({"NOTHING_LEARNT"}),
            "case 05: X and y shuffled separately before the split, so no image keeps its label",
            facts="a small CNN on 10 sign classes, RMSprop",
            source="case 05's first miniature (unstandardised 3-frame windows), 'X and y shuffled separately', "
                   "seed 1; kept as it was trained"),
    Patient("F", "the doctor says my accuracy is impossible and validation is another population: is it?", BCE,
            2, 597, E(),
            "a healthy tiny MLP on imbalanced digits ('is it a 9?', 10 % positives) trained with class_weight: the "
            "training loss is weighted (majority rows count 0.1), validation's is not. Told so (--weighted, "
            "examine passes it), the doctor is silent; without it, it prints METRIC_INCONSISTENT and "
            "POPULATION_SHIFT",
            doctor=E(),
            facts="Keras fit(..., class_weight={0: 0.1, 1: 1.0}) on 1200 rows, 10 % positives; "
                  "Keras weights the training loss only (validation is unweighted)",
            source="a tiny Keras training (clinic.write_new_keras_logs), class_weight", chance=0.9, weighted=True),
    Patient("G", "train and val accuracy both stay at 12 % for 60 epochs", CE, 9, 90, E({"NOTHING_LEARNT"}),
            "case 03, the BiLSTM head on a widened layer 3: its gates saturate over a 1-step sequence; nothing trains",
            facts="a CNN with a bidirectional LSTM head, 630 training images, 9 classes",
            source="case 03, 'BiLSTM head, layer 3 widened to 128', seed 1"),
    Patient("H", "low capacity? both curves are flat and close", CE, 10, 400, E({"UNDERFITTING"}),
            "notebook 00 'underfitting': a model too small for its data; the doctor only notes it (info), because "
            "nothing in the log is inconsistent", doctor=E(), source="notebook 00"),
    Patient("I", "the forum's own log: loss 0.12, acc 0.02, val_loss 4.3", BCE, 2, 30405,
            E({"METRIC_INCONSISTENT", "POPULATION_SHIFT"}),
            "Cross Validated 444546 as printed: wrong metric, a tail split, and a jumpy validation",
            doctor=E({"METRIC_INCONSISTENT", "POPULATION_SHIFT", "VAL_NOISY"}),
            facts="validation_split=0.2: Keras takes the LAST 20 % of the file; val_acc is 0.0168 at epochs 1 and 50, "
                  "which looks like the share of bad parts, so a constant 'good' would score about 0.983",
            source="data/forum (case 04's post)", chance=0.983),
    Patient("J", "SGD looked better, but the gap is still there at first", SCE, 10, 400, E({"STALE_NORM_STATS"}),
            "case 02 with SGD: stale BatchNorm statistics", facts="a small CNN with BatchNorm, SGD",
            source="case 02, 'SGD (momentum 0.9), BatchNorm momentum 0.99', seed 0"),
    Patient("K", "the model works on shuffled data but not on the last 20 % of my file", BCE, 2, 1600,
            E({"POPULATION_SHIFT"}),
            "case 04, scaled + Adam with validation_split=0.2 on a drifting production line: the last 20 % is a "
            "later period. Validation loss never improves on epoch 1 (where it is already 1.5× training's), the "
            "ratio passes 3 by epoch 3 and keeps growing, and the accuracy never leaves the majority share (every "
            "part called good): nothing learnt carries over to the new period. OVERFITTING is supported too (the "
            "loss rises while training's falls), but it is the weaker reading: notebook 04's exercise calls this "
            "setup a population shift",
            doctor=E({"OVERFITTING", "POPULATION_SHIFT"}),
            facts="binary_accuracy; 3.4 % of the validation parts are bad (a constant 'good' scores 0.966)",
            source="case 04, 'scaled + Adam, tail split' with BinaryAccuracy(), seed 0", chance=0.966),
    Patient("L", "my loss never goes below 0.6, even at 99 % training accuracy: underfitting?", CE, 10, 400, E(),
            "a healthy tiny MLP on digits with CategoricalCrossentropy(label_smoothing=0.1): the loss cannot go "
            "below the entropy of the smoothed targets (0.50)",
            facts="loss=CategoricalCrossentropy(label_smoothing=0.1), one-hot labels",
            source="a tiny Keras training (clinic.write_new_keras_logs), label smoothing", label_smoothing=0.1),
    Patient("M", "split by recording, my validation collapses: should I go back to random windows?", SCE, 10, 168,
            E({"OVERFITTING"}),
            "case 05, split by recording: the honest split. Validation loss never gets clear of its noise (its "
            "running median is lowest around epoch 13, its single lowest value a dip at epoch 8) while training "
            "loss falls steadily, so the gap between them widens by about 1.0: overfitting on a plateau, not a rise "
            "from one dip to one spike (random windows scored 71 % by leaking recordings)",
            facts="windows cut from 40 recordings; validation recordings are not in training",
            source="case 05's first miniature (unstandardised 3-frame windows), 'split by recording', seed 0; kept "
                   "as it was trained"),
    Patient("N", "without the LSTM it learns, but validation stays far behind", CE, 9, 90, E({"OVERFITTING"}),
            "case 03 with the LSTM removed: 630 images, 600 k parameters: validation loss bottoms out, then rises",
            facts="the same CNN, LSTM head removed", source="case 03, 'LSTM removed', seed 0"),
    Patient("O", "my CSV has holes in the validation columns, can I still read it?", SCE, 10, 400,
            E({"OVERFITTING"}),
            "a tiny wide MLP on 150 digits with 20 % wrong labels, validated every 5 epochs",
            facts="fit(..., validation_freq=5): validation ran at epochs 5, 10, …, 60 only",
            source="a tiny Keras training (clinic.write_new_keras_logs), validation_freq=5"),
    Patient("P", "fine-tuning IndoBERT: eval loss triples but eval accuracy holds at 85 %", CE, 2, None,
            E({"OVERFITTING"}),
            "a real Hugging Face trainer_state.json: eval loss lowest at the first evaluation (below the training "
            "loss there), then up at every evaluation while the training loss falls 50×",
            doctor=E({"OVERFITTING"}),
            facts="Hugging Face Trainer, 5 epochs, trainer_state.json (no training accuracy is logged)",
            source=f"data/doctor_corpus/{HF_LOG} (GitHub haipradana/indobert-indonesia-sarcastic-satire-"
                   "classification, model/trainer_state.json)", file="P.json"),
    Patient("Q", "I moved whole recordings to validation as the forum said, and validation got worse", CE, 10,
            240, E({"OVERFITTING"}),
            "case 01 done right (modern pipeline, no flip, whole recordings to validation): the split is honest, "
            "and this is the model's real score on new recordings; a random file split flattered validation "
            "because neighbouring frames of one recording land on both sides. Validation follows training for "
            "epochs 1–3, then training memorises its recordings and the accuracy gap widens from 0.01 to 0.46. "
            "The doctor is silent: 10 epochs are too few for its loss-noise tests",
            doctor=E(),
            facts="hand signs filmed as recordings; validation holds whole recordings never seen in training",
            source="case 01, 'modern, done right', seed 0"),
    Patient("R", "my validation accuracy is higher than training, is that a leak?", CE, 10, 400, E(),
            "notebook 00 'heavy dropout': the logged train curve has dropout on", source="notebook 00"),
]


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


C01, C02, C03 = "01_broken_validation_generator", "02_batchnorm_gap_that_closes", "03_tiny_dataset"
C04, C05 = "04_mislabeled_accuracy_metric", "05_leaky_and_shuffled_splits"
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
COPIED = {"P": REAL_LOGS / HF_LOG}  # real logs, copied as they are
# E and M stay as case 05's first miniature trained them: its rebuild (standardised 10-frame windows) no longer
# shows "nothing learns" on the separate shuffle, and a patient is a log, not a claim about the case.
KEPT = ("E", "M")


def _digits_flat(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from helpers.datasets import digits, rng

    x, y = digits()
    order = rng(seed).permutation(len(x))
    return x.reshape(len(x), -1)[order], y[order]


def write_new_keras_logs(folder: Path = CLINIC_DIR) -> list[Path]:
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


def write_all(folder: Path = CLINIC_DIR) -> list[Path]:
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


# --- the evidence a student can read off a log ----------------------------------------------------------------

# name -> (what it is, absolute tolerance, relative tolerance). Per-epoch quantities are read at the answer's
# "epoch" (or at E when written "name@E"); the others describe the whole log. Tolerances: accuracies are read
# off a plot to ±0.02, losses to ±10 %, ratios to ±15 %; epochs exactly.
PER_EPOCH: dict[str, tuple[str, float, float]] = {
    "loss": ("training loss at the epoch", 0.01, 0.10),
    "accuracy": ("training accuracy at the epoch", 0.02, 0.0),
    "val_loss": ("validation loss at the epoch", 0.01, 0.10),
    "val_accuracy": ("validation accuracy at the epoch", 0.02, 0.0),
    "val_loss/loss": ("validation loss over training loss at the epoch", 0.05, 0.15),
    "floor": ("1 − loss/ln 2: the lowest training accuracy a cross-entropy of that size allows", 0.02, 0.0),
    "val_floor": ("1 − val_loss/ln 2: the same floor for validation", 0.02, 0.0),
    "gap": ("accuracy − val_accuracy at the epoch", 0.02, 0.0),
}
WHOLE_LOG: dict[str, tuple[str, float, float]] = {
    "best_epoch": ("the epoch of the lowest validation loss (the lowest single value, or where the doctor puts it: "
                   "the lowest logged value where the curve's running median is lowest)", 0.0, 0.0),
    "rise": ("how far validation loss rose from its value at best_epoch: to the last validated epoch, or (the "
             "doctor's figure) to the mean of the last epochs", 0.02, 0.20),
    "rise_share": ("the rise as a share of the best value (the doctor's percentage / 100)", 0.02, 0.20),
    "widening": ("how much the loss gap val_loss − loss grew since validation stopped improving (the doctor's "
                 "'the gap to training widened by')", 0.02, 0.20),
    "chance": ("the accuracy of a constant guess: 1/K, or the majority share when the facts give one", 0.01, 0.0),
    "swing": ("in the run's second half, the largest distance of a val_accuracy from the mean of its two "
              "neighbouring validations (a trend does not count, a jump does)", 0.02, 0.0),
    "se": ("the binomial error of val_accuracy: sqrt(p(1 − p)/n), p its mean, n the validation rows", 0.005, 0.20),
}
EVIDENCE = {**PER_EPOCH, **WHOLE_LOG}


def swing(epochs: np.ndarray, acc: np.ndarray, last_epoch: int) -> float:
    """Largest |v_t − (v_{t−1} + v_{t+1})/2| for validations t in the second half of the run (0 with too few)."""
    if len(acc) < 3:
        return 0.0
    mid = np.abs(acc[1:-1] - (acc[:-2] + acc[2:]) / 2)
    late = epochs[1:-1] > last_epoch / 2
    return float(mid[late].max()) if late.any() else 0.0


class Log:
    """A patient's log as numbers: every quantity of EVIDENCE, read the same way for the checker and the tests."""

    def __init__(self, patient: Patient):
        from helpers.doctor import read_log

        self.patient = patient
        curves = read_log(patient.log)
        self.epochs = np.asarray(curves.epochs, dtype=int)
        self.columns = {k: np.asarray(curves[k], dtype=float) for k in LOG_COLUMNS if k in curves.metrics}
        val = self.columns.get("val_loss")
        self.val_epochs = self.epochs[np.isfinite(val)] if val is not None else self.epochs[:0]

    def has(self, column: str) -> bool:
        return column in self.columns

    def at(self, name: str, epoch: int) -> float:
        """A per-epoch quantity; ValueError (saying what the log holds) when the log cannot give it."""
        needs = {"val_loss/loss": ("val_loss", "loss"), "floor": ("loss",), "val_floor": ("val_loss",),
                 "gap": ("accuracy", "val_accuracy")}.get(name, (name,))
        missing = [c for c in needs if not self.has(c)]
        if missing:
            raise ValueError(f"this log has no {' or '.join(missing)} column (it holds {', '.join(self.columns)}).")
        if epoch not in self.epochs:
            raise ValueError(f"the log has no epoch {epoch} (it runs from {self.epochs[0]} to {self.epochs[-1]}).")
        i = int(np.flatnonzero(self.epochs == epoch)[0])
        values = {c: self.columns[c][i] for c in needs}
        if any(c.startswith("val_") for c in needs) and not all(np.isfinite(v) for v in values.values()):
            shown = ", ".join(map(str, self.val_epochs[:3])) + (", …" if len(self.val_epochs) > 3 else "")
            raise ValueError(f"there is no validation at epoch {epoch}: it ran at epochs {shown}.")
        if name == "val_loss/loss":
            return float(values["val_loss"] / values["loss"])
        if name in ("floor", "val_floor"):
            return float(1.0 - next(iter(values.values())) / LN2)  # unclipped, as a student computes it
        if name == "gap":
            return float(values["accuracy"] - values["val_accuracy"])
        return float(values[name])

    @property
    def analysis(self) -> dict:
        """The doctor's own reading of the loss curves (best epoch, rise, widening, and whether each beats the
        log's noise): the clinic measures what the doctor measures, with the doctor's code."""
        if not hasattr(self, "_analysis"):
            from helpers.doctor import read_log

            h = read_log(self.patient.log)
            self._analysis = _overfit_analysis(Context(h, self.patient.loss, self.patient.n_classes,
                                                       self.patient.val_size, None)) or {}
        return self._analysis

    def candidates(self, name: str) -> list[float]:
        """Every value a whole-log quantity may be cited as (two readings of "best" and "rise"; one otherwise)."""
        if name not in ("best_epoch", "rise", "rise_share", "widening"):
            return [self.whole(name)]
        if not self.has("val_loss"):
            raise ValueError("this log has no val_loss column.")
        a = self.analysis
        val = self.columns["val_loss"]
        i = int(np.nanargmin(val))
        last = float(val[np.isfinite(val)][-1])
        if name == "best_epoch":
            return list(dict.fromkeys([float(self.epochs[i]), *([a["best_epoch"]] if a else [])]))
        if name == "rise":
            return [last - float(val[i]), *([a["rise"], last - a["best_val_loss"]] if a else [])]
        if not a:
            raise ValueError("too few validated epochs to measure this.")
        return [a["rise_share"]] if name == "rise_share" else [a["widen"]]

    def whole(self, name: str) -> float:
        if name == "chance":
            return self.patient.chance_level
        if name in ("best_epoch", "rise", "rise_share", "widening"):
            return self.candidates(name)[0]
        if not self.has("val_accuracy"):
            raise ValueError("this log has no val_accuracy column.")
        acc = self.columns["val_accuracy"][np.isfinite(self.columns["val_accuracy"])]
        if name == "swing":
            return swing(self.val_epochs, acc, int(self.epochs[-1]))
        if self.patient.val_size is None:
            raise ValueError("the facts do not say how many validation rows there are: se cannot be known.")
        return binomial_se(float(np.mean(acc)), self.patient.val_size)

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) of a per-epoch quantity wherever the log has it."""
        out = []
        for e in self.epochs:
            try:
                out.append((e, self.at(name, int(e))))
            except ValueError:
                pass
        return np.array([e for e, _ in out], dtype=int), np.array([v for _, v in out], dtype=float)


@dataclass
class Cited:
    """The evidence of an answer, each number checked against the log: {(name, epoch or None): value}."""

    values: dict[tuple[str, int | None], float]
    log: Log

    def at(self, name: str) -> list[tuple[int, float]]:
        return sorted((e, v) for (n, e), v in self.values.items() if n == name and e is not None)

    def get(self, name: str) -> float | None:
        return self.values.get((name, None))

    def epochs_with(self, *names: str) -> list[int]:
        sets = [{e for e, _ in self.at(n)} for n in names]
        return sorted(set.intersection(*sets)) if sets else []


def _parse_key(key: str, default_epoch: int | None) -> tuple[str, int | None]:
    name, _, at = key.partition("@")
    name = name.strip()
    if name not in EVIDENCE:
        raise KeyError(f"'{key}' is not in the evidence vocabulary; use one of: {', '.join(EVIDENCE)} "
                       "(per-epoch ones with an 'epoch', or written name@EPOCH).")
    if name in WHOLE_LOG:
        return name, None
    epoch = int(at) if at else default_epoch
    if epoch is None:
        raise KeyError(f"'{name}' is read at an epoch: add \"epoch\": E to the evidence, or write '{name}@E'.")
    return name, epoch


def verify(patient_id: str, evidence: dict) -> tuple[Cited, list[str]]:
    """Read every cited number back from the log: (the log's values, one line per number that is off)."""
    p = BY_ID[check_id(patient_id)]
    log = Log(p)
    default = evidence.get("epoch")
    values, problems = {}, []
    for key, cited in evidence.items():
        if key == "epoch":
            continue
        try:
            name, epoch = _parse_key(key, None if default is None else int(default))
        except KeyError as err:
            problems.append(str(err.args[0]))
            continue
        try:
            options = [log.at(name, epoch)] if epoch is not None else log.candidates(name)
        except ValueError as err:
            problems.append(f"{key}: {err}")
            continue
        _, tol_abs, tol_rel = EVIDENCE[name]
        where = f" at epoch {epoch}" if epoch is not None else ""
        try:
            cited = float(cited)
        except (TypeError, ValueError):
            problems.append(f"{key}: cite a number (you wrote {cited!r}).")
            continue

        def same(actual: float, cited: float = cited, tol_abs: float = tol_abs, tol_rel: float = tol_rel) -> bool:
            return (math.isnan(actual) and math.isnan(cited)) or abs(cited - actual) <= max(tol_abs,
                                                                                          tol_rel * abs(actual))

        matching = [a for a in options if same(a)]
        if not matching:
            shown = " or ".join(f"{a:.4g}" for a in dict.fromkeys(options))
            problems.append(f"{name}{where}: you cite {cited:g}, the log shows {shown}.")
            continue
        values[(name, epoch)] = matching[0]
    return Cited(values, log), problems


# --- the principles: which cited numbers support which diagnosis ------------------------------------------------

# The doctor's constants, not restated: "the first epochs" are its STALE_START (1–3, before a model has had
# time to memorise anything), an abnormal val/train loss ratio is its EARLY_RATIO, an ordinary one is under its
# NORMAL_RATIO, a change counts at Z standard errors.
EARLY = STALE_START
Verdict = tuple[bool, str]


def _band(log: Log) -> float:
    """How far from chance an accuracy may sit and still be chance: 2 binomial SEs of the validation set."""
    c, n = log.patient.chance_level, log.patient.val_size or 100
    return 2 * binomial_se(c, n) + 0.005


def _weighted_ratio(log: Log) -> str:
    return ("the training loss is class-weighted and validation's is not (Keras weights only the training loss): "
            "val_loss/loss compares two different quantities here, so no ratio of them shows a shift or stale "
            "statistics.")


def rule_metric_inconsistent(ev: Cited) -> Verdict:
    for prefix, split in (("", "training"), ("val_", "validation")):
        for e in sorted({e for e, _ in ev.at(f"{prefix}accuracy")} & ({e for e, _ in ev.at(f"{prefix}loss")}
                                                                         | {e for e, _ in ev.at(f"{prefix}floor")})):
            acc, floor = ev.log.at(f"{prefix}accuracy", e), ev.log.at(f"{prefix}floor", e)
            if acc >= floor - 2e-3:
                continue
            if prefix == "" and ev.log.patient.weighted:
                return False, (f"the {split} accuracy {acc:.3f} lies below 1 − L/ln 2 = {floor:.3f} at epoch {e}, but "
                               "the bound holds only for an UNWEIGHTED mean cross-entropy over the same rows as the "
                               "accuracy. This loss is class-weighted (majority rows count 0.1), so it can sit far "
                               "below the unweighted loss: nothing here says the metric is wrong.")
            return True, (f"at epoch {e} the {split} accuracy {acc:.3f} is below 1 − L/ln 2 = {floor:.3f}: no "
                          "classifier with that unweighted cross-entropy can be that wrong (the bound holds when "
                          f"{BOUND_CONDITIONS[1]}, and {BOUND_CONDITIONS[2]}), so the column is not the accuracy "
                          "you think (or the labels do not match the outputs).")
    return False, ("cite an epoch's accuracy with its loss (or floor) where the accuracy lies below 1 − L/ln 2; "
                   "at the epochs you cite it does not.")


def _early_high(ev: Cited) -> list[tuple[int, float]]:
    return [(e, r) for e, r in ev.at("val_loss/loss") if e <= EARLY and r >= EARLY_RATIO]


def _accuracy_se(log: Log) -> float:
    """The binomial SE of a validation accuracy of this log (MATERIAL_ACCURACY / 2 when the rows are unknown)."""
    if not log.has("val_accuracy"):
        return MATERIAL_ACCURACY / 2
    acc = log.columns["val_accuracy"]
    p = float(np.nanmean(acc))
    return float(binomial_se(p, log.patient.val_size)) if log.patient.val_size else MATERIAL_ACCURACY / 2


def _stale_by_accuracy(ev: Cited) -> Verdict | None:
    """The same collapse read in accuracy: validation at chance in the first epochs while training is well above
    it, then validation back beside training (the gap shrinks by the factor that made it abnormal)."""
    log, c = ev.log, ev.log.patient.chance_level
    band = _band(log)
    pairs = ev.epochs_with("accuracy", "val_accuracy")
    early = [e for e in pairs if e <= EARLY and abs(log.at("val_accuracy", e) - c) <= band
             and log.at("accuracy", e) - log.at("val_accuracy", e) > Z * math.sqrt(2) * _accuracy_se(log)]
    if not early:
        return None
    e0 = early[0]
    gap0 = log.at("accuracy", e0) - log.at("val_accuracy", e0)
    later = [e for e in pairs if e > e0 and log.at("accuracy", e) - log.at("val_accuracy", e) <= gap0 / EARLY_RATIO
             and log.at("val_accuracy", e) - c > band]
    if not later:
        return False, (f"at epoch {e0} validation accuracy sits at chance while training's is {gap0:.2f} above it; "
                       "stale statistics catch up: cite a later epoch where the accuracy gap has shrunk "
                       f"{EARLY_RATIO:g}× or more.")
    e1 = later[0]
    gap1 = log.at("accuracy", e1) - log.at("val_accuracy", e1)
    return True, (f"at epoch {e0} validation accuracy is at chance ({log.at('val_accuracy', e0):.3f}) while training "
                  f"is {gap0:.2f} ahead; by epoch {e1} the gap is {gap1:.2f}: validation was scored by something "
                  "other than the model training sees, and it caught up — BatchNorm's moving statistics.")


def rule_stale_norm_stats(ev: Cited) -> Verdict:
    if ev.log.patient.weighted:
        return False, _weighted_ratio(ev.log)
    high = _early_high(ev)
    if not high:
        by_accuracy = _stale_by_accuracy(ev)
        if by_accuracy is not None:
            return by_accuracy
        return False, (f"stale statistics show as val_loss/loss ≥ {EARLY_RATIO:g} in the first epochs (1–{EARLY}), or "
                       "a validation accuracy at chance there while training's is well above it: cite such an "
                       "epoch (a model that has memorised nothing yet cannot have a gap that large).")
    e0, r0 = high[0]
    cited = [(e, r) for e, r in ev.at("val_loss/loss") if e >= e0]
    _, ratios = ev.log.series("val_loss/loss")
    final = float(ratios[-1])
    falls = [(a, b) for a in cited for b in cited
             if b[0] > a[0] and (a[1] / b[1] >= EARLY_RATIO or b[1] < NORMAL_RATIO)
             and (final <= a[1] / EARLY_RATIO or final < NORMAL_RATIO)]
    if not falls:
        return False, (f"val_loss/loss is {r0:.1f} at epoch {e0}, but stale statistics catch up: cite a later "
                       "epoch where the ratio has fallen at least 3× from an earlier one (or below 2) and stays down. "
                       "Without a collapse this is a shift.")
    (ea, ra), (eb, rb) = falls[0]
    return True, (f"val_loss/loss is {r0:.1f} at epoch {e0}, and falls from {ra:.1f} (epoch {ea}) to {rb:.2f} "
                  f"(epoch {eb}): validation was scored by something other than the model training sees, and it "
                  "caught up — BatchNorm's moving statistics.")


def rule_population_shift(ev: Cited) -> Verdict:
    """The code table's definition: validation never follows training down, from the first epochs on.

    Cited: val_loss/loss ≥ EARLY_RATIO at an epoch 1–EARLY that stays ≥ NORMAL_RATIO to the end (no collapse),
    while validation had not improved before it (that epoch is at or before validation's best, or validation's
    best is its first epoch and was already above training's loss there: it never improved at all).
    """
    if ev.log.patient.weighted:
        return False, _weighted_ratio(ev.log)
    _, ratios = ev.log.series("val_loss/loss")
    final = float(ratios[-1]) if len(ratios) else float("nan")
    best_log = ev.log.whole("best_epoch")
    first = int(ev.log.val_epochs[0])
    first_ratio = ev.log.at("val_loss/loss", first)
    never_improved = best_log == first and first_ratio > 1.0
    high = [(e, r) for e, r in _early_high(ev) if e <= best_log or never_improved]
    late = [(e, r) for e, r in _early_high(ev) if e > best_log and not never_improved]
    if late and not high:
        e, r = late[0]
        why = (f"val_loss/loss is {r:.1f} at epoch {e}, but validation loss had improved and was already rising "
               f"then (its best epoch is {best_log:.0f})")
        if best_log == first:
            why = (f"val_loss/loss is {r:.1f} at epoch {e}, but at validation's best epoch ({first}) its loss was no "
                   f"higher than training's ({first_ratio:.2f}×): validation followed training there")
        return False, why + ": a gap that opens after validation's best is memorising."
    if high:
        e0, r0 = high[0]
        epochs, _ = ev.log.series("val_loss/loss")
        peak = float(np.max(ratios[epochs >= e0]))
        if final < NORMAL_RATIO or peak / final >= EARLY_RATIO:
            return False, (f"val_loss/loss is {r0:.1f} at epoch {e0}, peaks at {peak:.0f} and ends at {final:.2f}: "
                           "validation came back. A population does not change during training; a collapse is "
                           "stale statistics.")
        start = (f"validation loss never improved on epoch {first}, where it was already {first_ratio:.1f}× "
                 "training's, and " if never_improved and e0 > best_log else "")
        return True, (f"{start}val_loss/loss is {r0:.1f} at epoch {e0}, before any memorising, and stays "
                      f"({final:.1f} at the end): validation is drawn from something training never saw.")
    return False, (f"a shift shows as val_loss/loss ≥ {EARLY_RATIO:g} in the first epochs (1–{EARLY}) that stays, "
                   "before validation loss has improved: cite such an epoch. A ratio that reaches that only after "
                   "validation followed training for a while is memorising (OVERFITTING).")


def _gap_widened(ev: Cited) -> Verdict | None:
    """Overfitting read in accuracy: the train − val accuracy gap at a late epoch exceeds the gap at an early one
    by Z binomial errors of the difference (√2 · se each side)."""
    log = ev.log
    pairs = sorted(set(ev.epochs_with("accuracy", "val_accuracy")) | {e for e, _ in ev.at("gap")})
    if len(pairs) < 2:
        return None
    e0, e1 = pairs[0], pairs[-1]
    if e1 < 0.8 * log.epochs[-1]:
        return False, "cite the gap at an early epoch and at one near the end of the run (its last fifth)."
    g0, g1 = log.at("gap", e0), log.at("gap", e1)
    noise = Z * math.sqrt(2) * _accuracy_se(log)
    if g1 - g0 <= noise:
        return False, (f"the accuracy gap went from {g0:.3f} (epoch {e0}) to {g1:.3f} (epoch {e1}): within "
                       f"{noise:.3f}, what {log.patient.val_size or 'these'} validation rows give by chance.")
    return True, (f"the accuracy gap grew from {g0:.3f} at epoch {e0} to {g1:.3f} at epoch {e1}, more than the "
                  f"{noise:.3f} the validation rows' noise allows: training improves faster than validation, so the "
                  "model learns its training rows themselves.")


def rule_overfitting(ev: Cited) -> Verdict:
    """Validation stops improving while training keeps improving, beyond the log's noise (the doctor's analysis):
    a rise since the best epoch, a widening loss gap on a plateau, or an accuracy gap that grows."""
    log, a = ev.log, ev.log.analysis
    best, rise = ev.get("best_epoch"), ev.get("rise")
    rise = rise if rise is not None else (None if ev.get("rise_share") is None else ev.get("rise_share"))
    widening = ev.get("widening")
    if widening is not None:
        if not a or not (a["widen_significant"] and a["train_still_falling"]
                         and a["widen"] >= WIDEN_SHARE * a["gap_at_best"]):
            return False, ("the loss gap did not widen beyond the curve's noise (or training stopped improving): "
                           "that is no plateau overfitting.")
        return True, (f"validation loss has been flat within its noise since epoch {a['plateau_epoch']:.0f} while "
                      f"training loss kept falling, and the gap between them widened by {a['widen']:.3g} (more than "
                      f"{WIDEN_SHARE:.0%} of the gap at the best epoch): overfitting on a plateau.")
    if best is None or rise is None:
        by_gap = _gap_widened(ev)
        if by_gap is not None:
            return by_gap
        return False, ("cite best_epoch and rise (validation loss at its lowest, and how far it climbed since), or "
                       "widening (how much the loss gap grew on a plateau), or the accuracy gap at an early and a "
                       "late epoch.")
    last = int(log.val_epochs[-1])
    if int(best) >= last:
        return False, f"validation loss is lowest at the last validated epoch ({last}): it has not turned up yet."
    if not a or not a["rise_significant"]:
        return False, ("that rise is within what the validation curve's own epoch-to-epoch noise gives (a single dip "
                       "then a single spike): look at the whole curve, or cite widening if the gap grew.")
    if not a["train_still_falling"]:
        return False, "training loss did not keep falling after validation's best epoch: that is not memorising."
    return True, (f"validation loss was lowest at epoch {int(best)} and its last epochs average {a['rise']:.3f} "
                  f"({a['rise_share']:.0%}) above that, beyond the curve's noise, while training loss kept falling: "
                  "the model learns the training rows themselves.")


def rule_val_at_chance(ev: Cited) -> Verdict:
    log, c = ev.log, ev.log.patient.chance_level
    band = _band(log)
    for e in ev.epochs_with("accuracy", "val_accuracy"):
        train, val = log.at("accuracy", e), log.at("val_accuracy", e)
        if e >= 0.8 * log.epochs[-1] and abs(val - c) <= band and train >= c + band:
            return True, (f"at epoch {e} validation scores {val:.3f}, chance is {c:.3f} (±{band:.3f} on "
                          f"{log.patient.val_size or '?'} rows), while training reaches {train:.3f}: what training "
                          "learns does not reach validation at all.")
    return False, (f"cite an epoch near the end (the last fifth of the run) where val_accuracy is within "
                   f"±{band:.3f} of chance ({c:.3f}) while training accuracy is above it.")


def _weighted_chance(log: Log) -> str:
    val = log.columns["val_loss"][np.isfinite(log.columns["val_loss"])]
    c = log.patient.chance_level
    prior = -(c * math.log(c) + (1 - c) * math.log(1 - c))
    return (f"with class weights the model trades majority accuracy for minority recall, so an accuracy near the "
            f"majority share ({c}) says nothing about learning. The unweighted val_loss fell from {val[0]:.3f} to "
            f"{val[-1]:.3f}, below the {prior:.3f} of always predicting the class shares: it learnt.")


def rule_nothing_learnt(ev: Cited) -> Verdict:
    log, c = ev.log, ev.log.patient.chance_level
    if log.patient.weighted:
        return False, _weighted_chance(log)
    band = _band(log)
    late = [e for e in ev.epochs_with("accuracy", "val_accuracy") if e >= log.epochs[-1] / 2]
    for e in late:
        train, val = log.at("accuracy", e), log.at("val_accuracy", e)
        if abs(train - c) <= band and abs(val - c) <= band:
            return True, (f"at epoch {e}, late in the run, training {train:.3f} and validation {val:.3f} both sit "
                          f"at chance {c:.3f} (±{band:.3f}): the model cannot fit even its training data.")
    return False, (f"cite a late epoch (from the run's middle on) where accuracy and val_accuracy both sit within "
                   f"±{band:.3f} of chance ({c:.3f}).")


def smoothed_minimum(k: int, eps: float) -> float:
    """The lowest cross-entropy reachable with label smoothing eps over k classes (the smoothed target's entropy)."""
    if eps <= 0:
        return 0.0
    hi, lo = 1 - eps + eps / k, eps / k
    return float(-(hi * math.log(hi) + (k - 1) * lo * math.log(lo)))


def rule_underfitting(ev: Cited) -> Verdict:
    log, p = ev.log, ev.log.patient
    cited = [(e, v) for e, v in ev.at("loss") if e >= 0.8 * log.epochs[-1]]
    if not cited:
        return False, "cite the training loss at an epoch near the end of the run."
    e, loss = cited[-1]
    floor = smoothed_minimum(p.n_classes, p.label_smoothing)
    start = math.log(p.n_classes)
    if log.has("accuracy") and abs(log.at("accuracy", e) - p.chance_level) <= _band(log):
        return False, (f"training accuracy is at chance at epoch {e}: the model learnt nothing at all, which a small "
                       "model would not explain (any model learns something from paired data): nothing learnt.")
    if loss - floor >= 0.5 * (start - floor):
        return True, (f"at epoch {e} the training loss {loss:.3f} still holds more than half of ln K = {start:.3f} "
                      "(what a model that learnt nothing scores): the model does not fit its own data.")
    why = (f" With label_smoothing={p.label_smoothing} the loss cannot go below {floor:.3f} (the entropy of the "
           "smoothed targets), however well the model fits." if floor else "")
    return False, (f"at epoch {e} the training loss {loss:.3f} has fallen well below ln K = {start:.3f}: the model "
                   f"fits its training data.{why}")


def rule_val_noisy(ev: Cited) -> Verdict:
    swing, se = ev.get("swing"), ev.get("se")
    if swing is None or se is None:
        return False, "cite swing (the largest jump of val_accuracy) and se (its binomial error)."
    limit = 3 * math.sqrt(1.5) * se  # v_t − (v_{t−1} + v_{t+1})/2 of three estimates has SE √1.5·se
    if swing > limit:
        return True, (f"a val_accuracy sits {swing:.3f} from the mean of its neighbours, more than 3·√1.5·se = "
                      f"{limit:.3f} (what three estimates on these rows allow): validation changes more than its "
                      "rows explain.")
    return False, (f"the largest jump {swing:.3f} is within 3·√1.5·se = {limit:.3f}: that is what "
                   f"{ev.log.patient.val_size} rows give; the noise is real but explained, not a fault.")


def rule_diverged(ev: Cited) -> Verdict:
    bad = [e for e, v in ev.at("loss") + ev.at("val_loss") if not math.isfinite(v)]
    if bad:
        return True, f"the loss is not a finite number at epoch {bad[0]}."
    return False, "cite an epoch where the loss is NaN or infinite (write float('nan'))."


def rule_healthy(ev: Cited) -> Verdict:
    log, p = ev.log, ev.log.patient
    if not p.weighted:  # hard faults anywhere in the log refute "nothing wrong", cited or not
        for prefix in ("", "val_"):
            if log.has(f"{prefix}accuracy"):
                epochs, floors = log.series(f"{prefix}floor")
                accs = np.array([log.at(f"{prefix}accuracy", int(e)) for e in epochs])
                if np.any(accs < floors - 2e-3):
                    return False, "check each accuracy against its floor 1 − L/ln 2: at some epoch it is below it."
        epochs, ratios = log.series("val_loss/loss")
        if np.any((epochs <= EARLY) & (ratios >= EARLY_RATIO)):
            return False, "look at val_loss/loss in the first epochs: no healthy model opens a gap that fast."
    late = [e for e in log.val_epochs if e >= 0.8 * log.epochs[-1]]
    cited = [e for e in late if (("val_accuracy", e) in ev.values and ("accuracy", e) in ev.values)
             or ("gap", e) in ev.values or ("val_loss/loss", e) in ev.values]
    if not cited:
        return False, ("'nothing wrong' needs numbers too: cite accuracy and val_accuracy (or gap, or "
                       "val_loss/loss) at an epoch near the end.")
    e = int(cited[-1])
    band = _band(log)
    if log.has("accuracy"):
        train, val = log.at("accuracy", e), log.at("val_accuracy", e)
        if abs(train - p.chance_level) <= band and not p.weighted:
            return False, f"training accuracy {train:.3f} is at chance at epoch {e}: the model learnt nothing."
        if train - val > max(MATERIAL_ACCURACY, math.sqrt(2) * band):
            return False, (f"at epoch {e} training leads validation by {train - val:.3f}, more than noise: a gap "
                           "that size has a cause; name it.")
    if not p.weighted and log.has("val_loss"):
        ratio = log.at("val_loss/loss", e)
        if ratio >= NORMAL_RATIO:
            return False, f"at epoch {e} validation loss is {ratio:.1f}× training's: that gap has a cause; name it."
        a = log.analysis
        if a and a["rise_significant"] and a["train_still_falling"]:
            return False, "validation loss has turned up since its best epoch: cite best_epoch and rise; look again."
    return True, (f"at epoch {e} validation follows training within its noise (±{band:.3f} on accuracy) and nothing in "
                  "the log breaks a bound: no fault in the measurement. (Whether the model is good enough is another "
                  "question.)")


RULES: dict[str, Callable[[Cited], Verdict]] = {
    "DIVERGED": rule_diverged, "METRIC_INCONSISTENT": rule_metric_inconsistent,
    "STALE_NORM_STATS": rule_stale_norm_stats, "VAL_AT_CHANCE": rule_val_at_chance,
    "NOTHING_LEARNT": rule_nothing_learnt, "POPULATION_SHIFT": rule_population_shift,
    "VAL_NOISY": rule_val_noisy, "OVERFITTING": rule_overfitting, "UNDERFITTING": rule_underfitting,
    HEALTHY: rule_healthy,
}
PROBE_ONLY = ("MODE_GAP", "SPLIT_OVERLAP", "LABEL_SHIFT", "VAL_NONDETERMINISTIC")  # need the model or data


# --- the probe patients: data and a scoring function instead of a log -----------------------------------------


def split_patient() -> tuple[np.ndarray, np.ndarray]:
    """Patient S's evidence: train and val images of a digits split (some val images are re-scans of train ones)."""
    from helpers.datasets import digits, rng

    images, _ = digits()
    g = rng(7)
    order = g.permutation(len(images))
    train, val = images[order[:1200]], images[order[1200:1500]].copy()
    rescans = g.choice(1200, 60, replace=False)
    val[:60] = np.clip(train[rescans] + g.normal(0, 0.02, train[rescans].shape), 0, 1)  # the same digit, rescanned
    return train, val


def scoring_patient() -> Callable[[], dict[str, float]]:
    """Patient T's evidence: a function that scores the validation set once, as the student's pipeline does."""
    from helpers.datasets import digits, rng

    images, labels = digits()
    x, y = images.reshape(len(images), -1), labels
    centroids = np.stack([x[:1200][y[:1200] == k].mean(0) for k in range(10)])
    val_x, val_y = images[1200:], y[1200:]
    g = rng(11)

    def score() -> dict[str, float]:
        # The pipeline reuses the training generator: random shifts reach validation too.
        shifted = np.stack([np.roll(im, tuple(g.integers(-1, 2, 2)), axis=(0, 1)) for im in val_x])
        distances = ((shifted.reshape(len(val_x), -1)[:, None, :] - centroids[None]) ** 2).sum(-1)
        return {"accuracy": float(np.mean(distances.argmin(1) == val_y)),
                "mean_distance": float(distances.min(1).mean())}

    return score


PROBE_PATIENTS: list[Patient] = [
    Patient("S", "97 % validation accuracy on digits, 80 % on new scans: here are my train and val images", CE, 10, 300,
            E({"SPLIT_OVERLAP"}), "60 of the 300 validation images are re-scans of training images (near-duplicates)"),
    Patient("T", "I re-ran only my evaluation on the saved model and the mean distance changed (6.27, then 6.21): "
            "is the model file corrupt? Here is my scoring function", CE, 10, 597,
            E({"VAL_NONDETERMINISTIC"}),
            "validation goes through the augmenting pipeline: random shifts at every evaluation"),
]
BY_ID = {p.id: p for p in PATIENTS + PROBE_PATIENTS}


def examine(patient_id: str):
    """The doctor's findings on one patient: its log, or (S, T) its data and scoring function."""
    from helpers import doctor

    p = BY_ID[check_id(patient_id)]
    if p.id == "S":
        return doctor.probe_split(*split_patient())
    if p.id == "T":
        return doctor.probe_val_determinism(scoring_patient())
    return doctor.diagnose_history(p.log, loss=p.loss, n_classes=p.n_classes, val_size=p.val_size, weighted=p.weighted)


def check_id(patient_id: str) -> str:
    if patient_id not in BY_ID:
        raise ValueError(f"patient {patient_id!r} is not in the clinic; choose one of {', '.join(BY_ID)}.")
    return patient_id


# --- the answer ---------------------------------------------------------------------------------------------------


def _codes(diagnosis) -> set[str]:
    if diagnosis is None:
        return set()
    items = {diagnosis} if isinstance(diagnosis, str) else set(diagnosis)
    codes = {str(c).strip().upper() for c in items}
    return {HEALTHY} if codes in (set(), {HEALTHY}) else codes


def check_answer(patient_id: str, diagnosis=None, evidence: dict | None = None) -> str:
    """Feedback on a diagnosis and the numbers that show it.

    diagnosis: a code ("OVERFITTING"), a set of codes, or "HEALTHY" / set() for "nothing wrong".
    evidence: {quantity: value} in the vocabulary EVIDENCE; "epoch": E sets the epoch of per-epoch quantities,
    "name@E" reads one at another epoch. Each number is checked against the log, then each code against the
    principle behind it (RULES), whatever the doctor prints. The probe patients (S, T) take codes only.
    """
    p = BY_ID[check_id(patient_id)]
    if diagnosis is None:  # numbers without a diagnosis support nothing: "nothing wrong" is said, never assumed
        return (f"{p.id}: no diagnosis — write one (a code, a set of codes, or \"{HEALTHY}\" for nothing wrong) "
                "beside the numbers that show it.")
    raw = diagnosis if isinstance(diagnosis, str) else set(diagnosis or ())
    if raw == {"?"} or raw == "?":
        return f"{p.id}: not answered yet — write a diagnosis and the numbers that show it."
    codes = _codes(diagnosis)
    unknown = codes - set(RULES) - set(PROBE_ONLY)
    if unknown:
        return (f"{p.id}: {', '.join(sorted(unknown))} is not a diagnosis here; use the codes of the table "
                f"(or {HEALTHY} / set() for nothing wrong).")
    if p in PROBE_PATIENTS:
        wanted = set(p.expected)
        if codes == wanted:
            return f"{p.id}: correct — {', '.join(sorted(codes))}: the probe's numbers are the evidence."
        return f"{p.id}: not quite — run the probe on this patient's data and read what it measures."
    if not evidence:
        return (f"{p.id}: you name {', '.join(sorted(codes))}; now say which numbers show it: "
                f"check_answer('{p.id}', diagnosis=..., evidence={{'epoch': ..., ...}}) — see the evidence table.")
    if codes & set(PROBE_ONLY):
        return (f"{p.id}: {', '.join(sorted(codes & set(PROBE_ONLY)))} cannot be read off a log: it needs the "
                "model or the data (the probes).")
    if HEALTHY in codes and len(codes) > 1:
        return f"{p.id}: '{HEALTHY}' (nothing wrong) cannot stand beside a fault; choose."
    cited, problems = verify(p.id, evidence)
    if problems:
        return f"{p.id}: your numbers do not match the log —\n" + "\n".join(f"  · {x}" for x in problems)
    lines, ok = [], True
    for code in sorted(codes):
        supported, why = RULES[code](cited)
        ok &= supported
        lines.append(f"  {'✓' if supported else '✗'} {code}: {why}")
    head = "supported by your numbers" if ok else "not supported"
    missing = set(p.expected) - codes if ok and codes != {HEALTHY} else set(p.expected) if ok else set()
    more = ["  There is more in this log than that: look again before you read the solutions."] if missing else []
    return f"{p.id}: {head} —\n" + "\n".join(lines + more)


# --- what the student sees ---------------------------------------------------------------------------------------


def show(patient_id: str) -> None:
    """Print a patient's complaint and facts, and plot its log (the notebook's one call per patient)."""
    import matplotlib.pyplot as plt

    p = BY_ID[check_id(patient_id)]
    rows = f"{p.val_size} val rows" if p.val_size else "val rows not given"
    print(f'Patient {p.id}: "{p.complaint}"\n  {p.loss}, {p.n_classes} classes, {rows}'
          + (f"; {p.facts}" if p.facts else "") + (f"; chance = {p.chance}" if p.chance else ""))
    if p in PATIENTS:
        print(f"  log: data/clinic/{p.log.name}")
        fig = plt.figure(figsize=(11, 3.4), layout="constrained")
        draw_patient(fig, p.id)
        plt.show()


def draw_patient(fig, patient_id: str) -> None:
    """A patient's log as the student would plot it: loss and accuracy, train and val (val as points if sparse)."""
    from matplotlib.ticker import MaxNLocator

    log = Log(BY_ID[check_id(patient_id)])
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for prefix, colour, label in (("", "C0", "train"), ("val_", "C1", "val")):
            values = log.columns.get(prefix + metric)
            if values is None:
                continue
            keep = np.isfinite(values)
            sparse = keep.sum() < len(keep)
            ax.plot(log.epochs[keep], values[keep], "o-" if sparse else "-", color=colour, label=label, ms=4)
        if metric == "loss" and ax.lines:
            ax.set_yscale("log")  # a ratio of two losses is a distance on this axis
        if metric == "accuracy":
            ax.axhline(log.patient.chance_level, color="grey", lw=0.8, ls=":",
                       label="chance (majority share)" if log.patient.chance is not None else "chance (1/K)")
            ax.set_ylim(-0.02, 1.02)
        if not ax.lines:
            ax.text(0.5, 0.5, f"no {metric} in this log", ha="center", va="center", transform=ax.transAxes)
        ax.set(title=f"patient {patient_id}: {metric}", xlabel="epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)


# One right answer per log patient: (diagnosis, evidence). The solutions print them; the tests check each.
EXAMPLE_EVIDENCE: dict[str, tuple[object, dict]] = {
    "A": ("OVERFITTING", {"best_epoch": 25, "rise": 0.29}),
    "B": ("STALE_NORM_STATS", {"val_loss/loss@2": 24.6, "val_loss/loss@6": 776, "val_loss/loss@10": 75}),
    "C": ("METRIC_INCONSISTENT", {"epoch": 30, "loss": 0.124, "accuracy": 0.0}),
    "D": ("OVERFITTING", {"gap@3": 0.095, "gap@10": 0.289}),
    "E": ("NOTHING_LEARNT", {"epoch": 10, "accuracy": 0.10, "val_accuracy": 0.065}),
    "F": (HEALTHY, {"epoch": 20, "accuracy": 0.895, "val_accuracy": 0.899}),
    "G": ("NOTHING_LEARNT", {"epoch": 60, "accuracy": 0.124, "val_accuracy": 0.111}),
    "H": ("UNDERFITTING", {"loss@40": 2.07}),
    "I": ({"METRIC_INCONSISTENT", "POPULATION_SHIFT"}, {"epoch": 1, "loss": 0.123, "accuracy": 0.021,
                                                        "val_loss/loss": 35, "val_loss/loss@300": 23}),
    "J": ("STALE_NORM_STATS", {"val_loss/loss@3": 292, "val_loss/loss@9": 1.44}),
    "K": ("POPULATION_SHIFT", {"best_epoch": 1, "val_loss/loss@1": 1.54, "val_loss/loss@3": 7.13}),
    "L": (HEALTHY, {"epoch": 30, "accuracy": 0.988, "val_accuracy": 0.965, "val_loss/loss": 1.07}),
    "M": ("OVERFITTING", {"best_epoch": 13, "widening": 1.03}),
    "N": ("OVERFITTING", {"best_epoch": 5, "rise": 0.47}),
    "O": ("OVERFITTING", {"best_epoch": 10, "rise": 0.23}),
    "P": ("OVERFITTING", {"best_epoch": 1, "rise": 0.65}),
    "Q": ("OVERFITTING", {"gap@3": 0.014, "gap@10": 0.459}),
    "R": (HEALTHY, {"epoch": 40, "accuracy": 0.915, "val_accuracy": 0.95}),
}


# --- the 90-minute path ------------------------------------------------------------------------------------------

LEVELS = ("warm-up", "core", "challenge")


@dataclass(frozen=True)
class Step:
    """One patient on the class's path: how hard, how long, and what the instructor watches for."""

    patient: str
    level: str
    minutes: int
    note: str


# Graded by difficulty: one fault that a single pair of numbers shows, then faults that need the shape over time,
# then logs where a bound's assumption or two readings decide. Minutes include plotting, answering and the
# feedback; the rest of the 90 is the opening (codes and evidence tables, 6 min) and the closing lessons (4 min).
PATH: tuple[Step, ...] = (
    Step("A", "warm-up", 8, "the classic: students cite best_epoch and rise; ask why the last epoch is no checkpoint"),
    Step("H", "warm-up", 8, "no alarm is not a good model: the loss still holds most of ln 10"),
    Step("C", "core", 10, "one epoch's loss and accuracy break the bound; ask which conditions the bound needs"),
    Step("B", "core", 10, "a huge early ratio, as in I, but it collapses: the shape over time decides"),
    Step("E", "core", 8, "both curves at chance: not overfitting; ask what a shuffle of X alone does"),
    Step("I", "core", 12, "two faults at once (metric and tail split); fixing one leaves the other"),
    Step("F", "challenge", 12, "the bound's weighted form: the doctor alarms unless told --weighted"),
    Step("K", "challenge", 12, "shift or overfitting from epoch 1: both are supported; ask which the facts favour"),
)
OPENING_MINUTES, CLOSING_MINUTES = 6, 4


def path_minutes() -> int:
    """The class's time: the opening, every patient on the path, the closing lessons."""
    return OPENING_MINUTES + sum(s.minutes for s in PATH) + CLOSING_MINUTES


def path_markdown() -> str:
    """Notebook 06's path table (the notebook shows it; a test checks it is this)."""
    rows = [f"| {i} | {s.patient} | {s.level} | {s.minutes} min | {s.note} |" for i, s in enumerate(PATH, start=1)]
    others = ", ".join(p.id for p in PATIENTS + PROBE_PATIENTS if p.id not in {s.patient for s in PATH})
    return ("| # | patient | level | time | for the instructor |\n|---|---|---|---|---|\n" + "\n".join(rows)
            + f"\n\nAbout {path_minutes()} minutes with the opening ({OPENING_MINUTES} min) and the closing lessons "
            f"({CLOSING_MINUTES} min). Beyond the path, for homework or a second class: {others}.")


def table(patient_id: str, first: int | None = None) -> str:
    """A patient's log as the numbers it holds, one row per epoch (blank where nothing was logged); `first` rows."""
    log = Log(BY_ID[check_id(patient_id)])
    names = [c for c in LOG_COLUMNS if log.has(c)]
    rows = [f"{'epoch':>5} " + " ".join(f"{n:>12}" for n in names)]
    for i, e in enumerate(log.epochs[:first]):
        cells = [log.columns[n][i] for n in names]
        rows.append(f"{e:>5} " + " ".join(f"{v:>12.4g}" if np.isfinite(v) else " " * 12 for v in cells))
    return "\n".join(rows)


def solution(patient_id: str) -> str:
    """What a patient was, what the doctor prints, and what the principles say (the collapsed solutions cell)."""
    p = BY_ID[check_id(patient_id)]
    answer = ", ".join(sorted(p.expected)) or f"{HEALTHY} (nothing wrong in the measurement)"
    lines = [f"{p.id}: {answer}", f"   what it was: {p.story}"]
    if p.source:
        lines.append(f"   log: {p.source}")
    if p in PATIENTS:
        if p.id in EXAMPLE_EVIDENCE:
            diagnosis, evidence = EXAMPLE_EVIDENCE[p.id]
            shown = ("{" + ", ".join(map(repr, sorted(diagnosis))) + "}" if isinstance(diagnosis, set | frozenset)
                     else repr(diagnosis))  # a set prints in hash order, which changes from run to run
            lines.append(f"   an answer: check_answer({p.id!r}, diagnosis={shown}, evidence={evidence})")
    findings = [str(f) for f in examine(p.id) if f.severity in ("warn", "error")]
    lines += [f"   doctor: {f}" for f in findings] or ["   doctor: no warning"]
    return "\n".join(lines)


def answer_markdown(patient_id: str) -> str:
    """Notebook 06's collapsed answer for a log patient, written from the patient's own data (never by hand)."""
    p = BY_ID[check_id(patient_id)]
    diagnosis, evidence = EXAMPLE_EVIDENCE[p.id]
    shown = ("{" + ", ".join(f'"{c}"' for c in sorted(diagnosis)) + "}" if isinstance(diagnosis, set | frozenset)
             else f'"{diagnosis}"')  # quoted: the line pastes into a code cell as it is
    cited = ", ".join(f'"{k}": {v!r}' for k, v in evidence.items())
    return (f"<details><summary>An answer for patient {p.id} (open once you have answered)</summary>\n\n"
            f"`check_answer(\"{p.id}\", diagnosis={shown}, evidence={{{cited}}})`\n\n"
            f"What it was: {p.story}. Source: {p.source}.\n</details>")


NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "06_clinic.ipynb"


def write_answers(notebook: Path = NOTEBOOK) -> None:
    """Rewrite notebook 06's collapsed answers from the patients' data (after a patient or its log changes)."""
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and text.startswith("<details><summary>An answer for patient "):
            cell["source"] = answer_markdown(text.split("patient ")[1][0]).splitlines(keepends=True)
    notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.scenarios.clinic")
    parser.add_argument("--write", action="store_true", help="re-export every patient's log to data/clinic/")
    parser.add_argument("--answers", action="store_true", help="rewrite notebook 06's answers from the patients")
    args = parser.parse_args(argv)
    if args.answers:
        write_answers()
    if args.write:
        for path in write_all():
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
