"""The clinic's patients: who they are, what they ask, what the doctor and a student should find."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.paths import CLINIC_LOGS

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
        return CLINIC_LOGS / (self.file or f"{self.id}.csv")

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

C01, C02, C03 = "01_broken_validation_generator", "02_batchnorm_gap_that_closes", "03_tiny_dataset"
C04, C05 = "04_mislabeled_accuracy_metric", "05_leaky_and_shuffled_splits"


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


def check_id(patient_id: str) -> str:
    if patient_id not in BY_ID:
        raise ValueError(f"patient {patient_id!r} is not in the clinic; choose one of {', '.join(BY_ID)}.")
    return patient_id
