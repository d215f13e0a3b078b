"""Notebook 06: the clinic — unlabeled training logs to diagnose, and the answers.

Each patient is a Keras-style CSV log under ``data/clinic/`` exported from a real
run of this suite (``python -m helpers.scenarios.clinic --write`` re-exports them;
a test checks the committed files are exactly what the runs produce), plus two
probe patients whose evidence is a model's data rather than a log.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.runs import History, run

CLINIC_DIR = Path(__file__).resolve().parents[2] / "data" / "clinic"
FORUM_LOG = Path(__file__).resolve().parents[2] / "data" / "forum" / "003_a8ebacd39794dcdb_log.csv"
LOG_COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy")


@dataclass(frozen=True)
class Patient:
    """One log to diagnose: what the student is told, and (for the solutions) what it is."""

    id: str
    complaint: str
    loss: str
    n_classes: int
    val_size: int
    expected: frozenset[str]  # the diagnosis: doctor codes (warn/error) the answer must name
    story: str
    also: frozenset[str] = frozenset()  # true as well, secondary: an answer may name them

    @property
    def doctor_codes(self) -> frozenset[str]:
        """Every warn/error code the doctor reports on this log."""
        return self.expected | self.also

    @property
    def log(self) -> Path:
        return CLINIC_DIR / f"{self.id}.csv"


def _shape(name: str) -> Callable[[], History]:
    def source() -> History:
        from helpers.scenarios import reading_curves as rc

        return run(rc.SHAPES[name])

    return source


def _shuffled_labels() -> History:
    from helpers.scenarios import reading_curves as rc

    return run(rc.CurvesConfig(epochs=60, n_train=300, hidden=256, label_noise=1.0))


def _case02(name: str) -> Callable[[], History]:
    def source() -> History:
        from helpers.scenarios import case02_batchnorm as c2

        return run(c2.configs()[name])

    return source


def _case04(name: str, metric: str) -> Callable[[], History]:
    def source() -> History:
        from helpers.scenarios import case04_metric as c4

        return History(metrics=dict(c4.as_logged(run(c4.configs()[name]), metric)))

    return source


def _forum() -> History:
    from helpers.doctor import read_log

    curves = read_log(FORUM_LOG)
    return History(metrics={k: curves[k] for k in LOG_COLUMNS})


E = frozenset
PATIENTS: list[Patient] = [
    Patient("A", "val loss went up after a while, is my model broken?", "categorical_crossentropy", 10, 400,
            E({"OVERFITTING"}), "notebook 00 'overfitting': 150 rows, 20 % wrong labels, a wide MLP"),
    Patient("B", "my val loss is 100× my train loss for 8 epochs, then it suddenly drops", "categorical_crossentropy",
            10, 400, E({"STALE_NORM_STATS"}), "case 02, the post: BatchNorm momentum 0.99, Adam"),
    Patient("C", "accuracy 2 % at a loss of 0.11?", "binary_crossentropy", 2, 1600, E({"METRIC_INCONSISTENT"}),
            "case 04, the post compiled with keras.metrics.Accuracy(): exact equality of probabilities"),
    Patient("D", "train and val both look fine, right?", "categorical_crossentropy", 10, 400, E(),
            "notebook 00 'healthy'"),
    Patient("E", "training accuracy climbs to 94 % but validation sits at 10 %", "categorical_crossentropy", 10, 400,
            E({"VAL_AT_CHANCE"}), "notebook 00 with every training label replaced at random: X and y no longer paired",
            also=E({"OVERFITTING", "POPULATION_SHIFT"})),
    Patient("F", "validation is worse than training from the very start and never catches up",
            "categorical_crossentropy", 10, 400, E({"POPULATION_SHIFT"}),
            "notebook 00 'population shift': every validation image moved by one pixel", also=E({"OVERFITTING"})),
    Patient("G", "my validation accuracy is higher than training, is that a leak?", "categorical_crossentropy", 10,
            400, E(), "notebook 00 'heavy dropout': the logged train curve has dropout on"),
    Patient("H", "nothing seems wrong, but validation jumps around", "categorical_crossentropy", 10, 25, E(),
            "notebook 00 'noisy validation': 25 rows, ±9 points of binomial error (an info finding)"),
    Patient("I", "the forum's own log: loss 0.12, acc 0.02, val_loss 4.3", "binary_crossentropy", 2, 30405,
            E({"METRIC_INCONSISTENT", "POPULATION_SHIFT"}),
            "Cross Validated 444546 as printed: wrong metric, a tail split, and a jumpy validation",
            also=E({"VAL_NOISY"})),
    Patient("J", "SGD looked better, but the gap is still there at first", "categorical_crossentropy", 10, 400,
            E({"STALE_NORM_STATS"}), "case 02 with SGD: stale BatchNorm statistics, shorter"),
    Patient("K", "the model works on shuffled data but not on the last 20 % of my file", "binary_crossentropy", 2,
            1600, E({"POPULATION_SHIFT"}),
            "case 04, scaled + Adam with validation_split=0.2 on a drifting production line", also=E({"OVERFITTING"})),
    Patient("L", "low capacity? both curves are flat and close", "categorical_crossentropy", 10, 400, E(),
            "notebook 00 'underfitting': no alarm, because nothing is inconsistent — the model is just too small"),
]
SOURCES: dict[str, Callable[[], History]] = {
    "A": _shape("overfitting"),
    "B": _case02("the post (Adam, momentum 0.99)"),
    "C": _case04("the post", "Accuracy()"),
    "D": _shape("healthy"),
    "E": _shuffled_labels,
    "F": _shape("population shift"),
    "G": _shape("heavy dropout"),
    "H": _shape("noisy validation"),
    "I": _forum,
    "J": _case02("SGD, momentum 0.99"),
    "K": _case04("scaled + Adam, tail split", "BinaryAccuracy()"),
    "L": _shape("underfitting"),
}


def split_patient() -> tuple[np.ndarray, np.ndarray]:
    """Patient M's evidence: train and val images of a digits split (some val images are re-scans of train ones)."""
    from helpers.datasets import digits, rng

    images, _ = digits()
    g = rng(7)
    order = g.permutation(len(images))
    train, val = images[order[:1200]], images[order[1200:1500]].copy()
    rescans = g.choice(1200, 60, replace=False)
    val[:60] = np.clip(train[rescans] + g.normal(0, 0.02, train[rescans].shape), 0, 1)  # the same digit, rescanned
    return train, val


def scoring_patient() -> Callable[[], dict[str, float]]:
    """Patient N's evidence: a function that scores the validation set once, as the student's pipeline does."""
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
    Patient("M", "97 % validation accuracy on digits, 80 % on new scans: here are my train and val images",
            "categorical_crossentropy", 10, 300, E({"SPLIT_OVERLAP"}),
            "60 of the 300 validation images are re-scans of training images (near-duplicates)"),
    Patient("N", "my validation accuracy changes when I evaluate twice: here is my scoring function",
            "categorical_crossentropy", 10, 597, E({"VAL_NONDETERMINISTIC"}),
            "validation goes through the augmenting pipeline: random shifts at every evaluation"),
]
BY_ID = {p.id: p for p in PATIENTS + PROBE_PATIENTS}


def export_log(history: History, path: Path, epochs: np.ndarray | None = None) -> Path:
    """Write the four columns a student's CSVLogger would hold."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return History(metrics={k: history[k] for k in LOG_COLUMNS}).to_csv(path, epochs)


def write_all(folder: Path = CLINIC_DIR) -> list[Path]:
    """Export every patient's log (training whatever is not cached)."""
    from helpers.doctor import read_log

    paths = []
    for patient in PATIENTS:
        epochs = read_log(FORUM_LOG).epochs if patient.id == "I" else None
        paths.append(export_log(SOURCES[patient.id](), folder / f"{patient.id}.csv", epochs))
    (folder / "patients.json").write_text(json.dumps(
        [{"id": p.id, "complaint": p.complaint, "loss": p.loss, "classes": p.n_classes, "val_size": p.val_size}
         for p in PATIENTS], indent=1) + "\n")
    return paths


def examine(patient_id: str):
    """The doctor's findings on one patient: its log, or (M, N) its data and scoring function."""
    from helpers import doctor

    p = BY_ID[check_id(patient_id)]
    if p.id == "M":
        return doctor.probe_split(*split_patient())
    if p.id == "N":
        return doctor.probe_val_determinism(scoring_patient())
    return doctor.diagnose_history(p.log, loss=p.loss, n_classes=p.n_classes, val_size=p.val_size)


def show(patient_id: str) -> None:
    """Print a patient's complaint and facts, and plot its log (the notebook's one call per patient)."""
    import matplotlib.pyplot as plt

    p = BY_ID[check_id(patient_id)]
    print(f'Patient {p.id}: "{p.complaint}"  ({p.loss}, {p.n_classes} classes, {p.val_size} val rows)')
    if p in PATIENTS:
        fig = plt.figure(figsize=(11, 3.4), layout="constrained")
        draw_patient(fig, p.id)
        plt.show()


def draw_patient(fig, patient_id: str) -> None:
    """A patient's log as the student would plot it: loss and accuracy, train and val."""
    from helpers.curves import plot_curves
    from helpers.doctor import read_log

    p = BY_ID[check_id(patient_id)]
    curves = read_log(p.log)
    history = History(metrics={k: curves[k] for k in LOG_COLUMNS})
    ax_loss, ax_acc = fig.subplots(1, 2)
    for ax, metric in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        plot_curves(history, ax, metric, splits=("val",), title=f"patient {p.id}: {metric}")
        for line in ax.get_lines():
            line.set_xdata(curves.epochs)
        ax.relim()
        ax.autoscale_view()
        if metric == "accuracy":
            ax.set_ylim(-0.02, 1.02)
        else:
            ax.set_ylim(bottom=0)


def check_id(patient_id: str) -> str:
    if patient_id not in BY_ID:
        raise ValueError(f"patient {patient_id!r} is not in the clinic; choose one of {', '.join(BY_ID)}.")
    return patient_id


def check_answer(patient_id: str, codes: set[str] | frozenset[str]) -> str:
    """Feedback on a student's diagnosis (a set of doctor codes; empty = 'nothing wrong')."""
    p = BY_ID[check_id(patient_id)]
    codes = {c.strip().upper() for c in codes}
    if codes == {"?"}:
        return f"{p.id}: not answered yet — replace {{'?'}} with your set of codes (or set() for 'nothing wrong')."
    missing, extra = p.expected - codes, codes - p.doctor_codes
    if not missing and not extra:
        bonus = p.also - codes
        more = f" (also true: {', '.join(sorted(bonus))})" if bonus else ""
        return f"{p.id}: correct — {', '.join(sorted(codes)) or 'no warning or error'}{more}."
    parts = []
    if missing:
        parts.append(f"you missed {len(missing)} finding(s)")
    if extra:
        parts.append(f"{', '.join(sorted(extra))} is not what this log shows")
    return f"{p.id}: not quite — {'; '.join(parts)}. Look again, or run examine('{p.id}')."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.scenarios.clinic")
    parser.add_argument("--write", action="store_true", help="re-export every patient's log to data/clinic/")
    args = parser.parse_args(argv)
    if args.write:
        for path in write_all():
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
