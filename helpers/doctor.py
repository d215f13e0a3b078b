"""The gap doctor: probes that tell a real gap from a broken measurement.

Usable on any Keras or PyTorch project, not only on this suite's runs:

* ``diagnose_history`` reads per-epoch numbers (a Keras ``History``, a dict of
  lists, a Gap Clinic ``History`` or a ``CSVLogger`` file) and checks metric
  consistency, curve shapes and chance level;
* ``probe_modes``, ``probe_val_determinism``, ``probe_split`` and
  ``probe_labels`` look at the model and the data;
* ``diagnose`` runs every probe its arguments allow;
* ``python -m helpers.doctor LOG.csv`` prints the findings of a log.

Each finding has a stable ``code``, a ``severity`` (``error``: the numbers
cannot be right or a bug is certain; ``warn``: likely a problem; ``info``), a
one-line message, the evidence numbers and the fix to try.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from helpers.stats import LN2, binomial_se

CROSS_ENTROPY_LOSSES = ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy")
SEVERITIES = ("error", "warn", "info")
ALIASES = {"acc": "accuracy", "val_acc": "val_accuracy"}
# Thresholds, each a judgement written down once: change here, tests follow.
BOUND_TOLERANCE = 2e-3  # logs print 4 decimals; allow their rounding
STALE_RATIO = 10.0  # val/train loss in the first epochs that suggests stale statistics
COLLAPSE_FACTOR = 10.0  # ...then val loss falls by this much
COLLAPSE_WINDOW = 4  # ...within this many epochs
SHIFT_RATIO = 3.0  # val/train loss that already stands when training has barely begun
OVERFIT_RISE = 0.10  # final val loss above its minimum by this share
MODE_GAP_RATIO = 1.5  # train-mode / inference-mode loss on the same data
MODE_GAP_ACCURACY = 0.05
SMALL_VAL_SE = 0.025  # a val set whose binomial SE exceeds this cannot separate fixes
NOISE_FACTOR = 3.0  # val swings this many SEs beyond sampling noise


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what, how sure, the numbers behind it, and what to try."""

    code: str
    severity: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.code} {self.severity}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def codes(findings: Sequence[Finding], *, at_least: str = "info") -> set[str]:
    """The codes of the findings at ``at_least`` severity or worse."""
    rank = SEVERITIES.index(at_least)
    return {f.code for f in findings if SEVERITIES.index(f.severity) <= rank}


def is_alarming(findings: Sequence[Finding]) -> bool:
    return any(f.severity in ("error", "warn") for f in findings)


# --- reading a history -------------------------------------------------------


@dataclass(frozen=True)
class Curves:
    """Per-epoch arrays under canonical names, with 1-based epoch numbers."""

    epochs: np.ndarray
    columns: dict[str, np.ndarray]

    def get(self, name: str) -> np.ndarray | None:
        return self.columns.get(name)

    def __len__(self) -> int:
        return len(self.epochs)


def as_curves(history: Any) -> Curves:
    """Accept a Keras History, a Gap Clinic History, a CSV path or a mapping of lists."""
    if isinstance(history, (str, Path)):
        return read_log(history)
    if isinstance(history, Curves):
        return history
    metrics = getattr(history, "metrics", None)
    if isinstance(metrics, Mapping):  # Gap Clinic History
        columns = metrics
    elif isinstance(getattr(history, "history", None), Mapping):  # keras.callbacks.History
        columns = history.history
    elif isinstance(history, Mapping):
        columns = history
    else:
        raise ValueError(
            f"cannot read a history from {type(history).__name__}; pass a Keras History, "
            "a dict of per-epoch lists, or a CSVLogger file path."
        )
    columns = {ALIASES.get(k, k): np.asarray(v, dtype=float) for k, v in columns.items() if k != "epoch"}
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"every column needs one value per epoch; got lengths {sorted(lengths)}.")
    n = lengths.pop()
    epochs = np.asarray(history["epoch"], dtype=float) + 1 if isinstance(history, Mapping) and "epoch" in history \
        else np.arange(1, n + 1, dtype=float)
    return Curves(epochs=epochs, columns=columns)


class LogError(ValueError):
    """A log file the doctor cannot read; the message names the problem."""


def read_log(path: str | Path) -> Curves:
    """Read a Keras ``CSVLogger`` file (or the same columns written from PyTorch)."""
    path = Path(path)
    if not path.is_file():
        raise LogError(f"{path}: no such file.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LogError(f"{path}: not a text CSV file.") from None
    rows = list(csv.reader(text.splitlines()))
    rows = [r for r in rows if r]
    if not rows or len(rows[0]) < 2:
        raise LogError(f"{path}: not a CSV log (expected a header like 'epoch,loss,accuracy,val_loss,val_accuracy').")
    header = [ALIASES.get(h.strip(), h.strip()) for h in rows[0]]
    missing = [c for c in ("loss", "val_loss") if c not in header]
    if missing:
        raise LogError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(header)}.")
    body = rows[1:]
    if len(body) < 2:
        raise LogError(f"{path}: {len(body)} epoch(s) logged; the doctor needs at least 2.")
    wanted = [c for c in header if c in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")]
    columns: dict[str, list[float]] = {c: [] for c in wanted}
    for line_no, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise LogError(f"{path}, line {line_no}: {len(row)} fields, header has {len(header)}.")
        for name in wanted:
            raw = row[header.index(name)].strip()
            try:
                value = float(raw)
            except ValueError:
                raise LogError(f"{path}, line {line_no}: {name}={raw!r} is not a number.") from None
            if not math.isfinite(value):
                raise LogError(f"{path}, line {line_no}: {name} is {raw} (NaN or infinite); training diverged "
                               "or the log is broken.")
            columns[name].append(value)
    epochs = np.asarray(columns.pop("epoch"), dtype=float) + 1 if "epoch" in columns \
        else np.arange(1, len(body) + 1, dtype=float)
    return Curves(epochs=epochs, columns={k: np.asarray(v) for k, v in columns.items()})


# --- probes on a history ------------------------------------------------------


def diagnose_history(
    history: Any,
    *,
    loss: str = "categorical_crossentropy",
    n_classes: int | None = None,
    val_size: int | None = None,
    chance: float | None = None,
) -> list[Finding]:
    """Every check that needs only per-epoch numbers.

    loss: the loss the logged ``loss`` column is (the bound applies to cross-entropies).
    n_classes: for the chance-level check (or pass ``chance``, e.g. the majority rate).
    val_size: validation rows, for the binomial-noise checks.
    """
    if loss not in (*CROSS_ENTROPY_LOSSES, "other"):
        raise ValueError(f"loss={loss!r}; choose one of {', '.join(CROSS_ENTROPY_LOSSES)} or 'other'.")
    if n_classes is not None and (not isinstance(n_classes, int) or n_classes < 2):
        raise ValueError(f"n_classes={n_classes!r} must be an integer ≥ 2.")
    if val_size is not None and (not isinstance(val_size, int) or val_size < 1):
        raise ValueError(f"val_size={val_size!r} must be a positive integer.")
    curves = as_curves(history)
    findings: list[Finding] = []
    if loss in CROSS_ENTROPY_LOSSES:
        findings += check_metric_consistency(curves)
    stale = check_stale_norm_stats(curves)
    findings += stale
    if not stale:
        findings += check_population_shift(curves)
    findings += check_overfitting(curves)
    if chance is None and n_classes is not None:
        chance = 1.0 / n_classes
    if chance is not None:
        findings += check_val_at_chance(curves, chance, val_size)
        findings += check_nothing_learnt(curves, chance, val_size)
    findings += check_val_noise(curves, val_size)
    return findings


def check_metric_consistency(curves: Curves) -> list[Finding]:
    """METRIC_INCONSISTENT: an accuracy below 1 − L/ln 2 at the same epoch."""
    findings = []
    for prefix, split in (("", "training"), ("val_", "validation")):
        loss, acc = curves.get(f"{prefix}loss"), curves.get(f"{prefix}accuracy")
        if loss is None or acc is None:
            continue
        floor = 1.0 - loss / LN2
        bad = np.flatnonzero(acc < floor - BOUND_TOLERANCE)
        if not len(bad):
            continue
        worst = int(bad[np.argmax((floor - acc)[bad])])
        findings.append(Finding(
            "METRIC_INCONSISTENT", "error",
            f"{split} accuracy {acc[worst]:.4f} is impossible at loss {loss[worst]:.4f} (epoch "
            f"{curves.epochs[worst]:.0f}): cross-entropy L allows no accuracy below 1 − L/ln 2 = {floor[worst]:.4f}.",
            {"split": split, "epochs_inconsistent": len(bad), "epochs_logged": len(curves),
             "epoch": float(curves.epochs[worst]), "loss": float(loss[worst]), "accuracy": float(acc[worst]),
             "accuracy_floor": float(floor[worst])},
            "The metric is not the accuracy you think (e.g. keras.metrics.Accuracy() tests exact equality of "
            "probabilities and labels; use BinaryAccuracy/'binary_accuracy' or SparseCategoricalAccuracy), or the "
            "labels do not match the outputs. Fix the metric before tuning anything.",
        ))
    return findings


def _ratio(curves: Curves) -> np.ndarray | None:
    train, val = curves.get("loss"), curves.get("val_loss")
    if train is None or val is None:
        return None
    return val / np.maximum(train, 1e-12)


def check_stale_norm_stats(curves: Curves) -> list[Finding]:
    """STALE_NORM_STATS: val ≫ train from the first epochs, then a ≥10× collapse within a few epochs.

    The high phase must start early (moving statistics start stale) and last
    without a break until the collapse; the collapse itself may come late (with
    momentum 0.99 and 50 steps an epoch it takes 5–10 epochs).
    """
    ratio, val = _ratio(curves), curves.get("val_loss")
    if ratio is None or len(curves) < 3:
        return []
    high = ratio >= STALE_RATIO
    early = np.flatnonzero(high[: max(3, len(curves) // 3)])
    if not len(early):
        return []
    start = int(early[0])
    i = start
    while i < len(curves) and high[i]:
        for j in range(i + 1, len(curves)):
            if curves.epochs[j] - curves.epochs[i] > COLLAPSE_WINDOW:
                break
            if val[i] / max(val[j], 1e-12) >= COLLAPSE_FACTOR:
                return [Finding(
                    "STALE_NORM_STATS", "warn",
                    f"validation loss was {ratio[start]:.0f}× the training loss from epoch {curves.epochs[start]:.0f}, "
                    f"then fell {val[i] / val[j]:.0f}× between epochs {curves.epochs[i]:.0f} and "
                    f"{curves.epochs[j]:.0f}: BatchNorm's moving statistics were catching up, this is not overfitting.",
                    {"epoch_high": float(curves.epochs[start]), "ratio_high": float(ratio[start]),
                     "epoch_collapse_start": float(curves.epochs[i]), "epoch_collapsed": float(curves.epochs[j]),
                     "collapse_factor": float(val[i] / val[j])},
                    "Score the training set in inference mode too (it shows the same high loss); lower the BatchNorm "
                    "momentum (e.g. 0.9) or train more steps per epoch; judge the model after the collapse.",
                )]
        i += 1
    return []


def check_population_shift(curves: Curves) -> list[Finding]:
    """POPULATION_SHIFT: validation never followed training down, from the first epochs on.

    Two routes, one principle. (a) The first logged epoch already has val loss
    ≥ SHIFT_RATIO × train loss, and the median ratio stays there. (b) While
    training loss falls to a third of its start (before overfitting has had
    time to open a gap, validation normally follows), validation recovers less
    than half of what training gained, and ends that phase ≥ 2× and stays so.
    """
    ratio, train, val = _ratio(curves), curves.get("loss"), curves.get("val_loss")
    if ratio is None:
        return []
    median_after = float(np.median(ratio))
    evidence: dict[str, Any] = {"epoch1_ratio": float(ratio[0]), "median_ratio": median_after,
                                "final_ratio": float(ratio[-1])}
    if ratio[0] >= SHIFT_RATIO and median_after >= SHIFT_RATIO:
        message = (f"validation loss is {ratio[0]:.1f}× the training loss at epoch {curves.epochs[0]:.0f} and stays "
                   f"{median_after:.1f}× (median): validation looks drawn from another population.")
    else:
        fallen = np.flatnonzero(train <= train[0] / 3)
        if not len(fallen):
            return []
        e = int(fallen[0])
        gain_share = float((val[0] - val[e]) / max(train[0] - train[e], 1e-12))
        after = float(np.median(ratio[e:]))
        if not (gain_share < 0.5 and ratio[e] >= 2.0 and after >= 2.0):
            return []
        evidence.update(early_epoch=float(curves.epochs[e]), val_gain_share=gain_share,
                        ratio_at_early_epoch=float(ratio[e]), median_ratio_after=after)
        message = (f"by epoch {curves.epochs[e]:.0f} training loss fell to a third, but validation recovered only "
                   f"{100 * max(gain_share, 0):.0f}% of that gain and stays {after:.1f}× the training loss: validation "
                   "looks drawn from another population (or nothing learnt carries over to it).")
    return [Finding(
        "POPULATION_SHIFT", "warn", message, evidence,
        "Check how validation was split: validation_split takes the last rows (another period if data is "
        "ordered), sorted file lists give one end of each class, recordings differ. Shuffle/stratify, or split "
        "by time or group on purpose and keep an independent test set.",
    )]


def check_overfitting(curves: Curves) -> list[Finding]:
    """OVERFITTING: val loss reaches a minimum, then rises while training loss keeps falling."""
    train, val = curves.get("loss"), curves.get("val_loss")
    if train is None or val is None or len(curves) < 4:
        return []
    best = int(np.argmin(val))
    tail = val[best + 1 :]
    if len(tail) < 2:
        return []
    rise = float(np.mean(tail[-max(2, len(tail) // 3) :]) / val[best] - 1)
    still_learning = train[-1] < train[best]
    if rise >= OVERFIT_RISE and still_learning:
        return [Finding(
            "OVERFITTING", "warn",
            f"validation loss was lowest at epoch {curves.epochs[best]:.0f} ({val[best]:.4g}) and has risen "
            f"{100 * rise:.0f}% since, while training loss kept falling.",
            {"best_epoch": float(curves.epochs[best]), "best_val_loss": float(val[best]), "rise": rise,
             "final_val_loss": float(val[-1]), "final_train_loss": float(train[-1])},
            "Keep the weights of the best epoch (early stopping / checkpoint); then regularise (weight decay, "
            "dropout, augmentation), shrink the model, or get more data.",
        )]
    return []


def check_val_at_chance(curves: Curves, chance: float, val_size: int | None) -> list[Finding]:
    """VAL_AT_CHANCE: val accuracy within noise of chance while training accuracy climbs."""
    train = curves.get("accuracy")
    val = curves.get("val_accuracy")
    if train is None or val is None or len(curves) < 2:
        return []
    tail = val[-max(1, len(curves) // 3) :]
    noise = 2 * binomial_se(chance, val_size) if val_size else 0.05
    noise = max(noise, 0.02)
    climbed = train[-1] - chance >= 0.15 and train[-1] - train[0] >= 0.05
    if np.all(np.abs(tail - chance) <= noise) and climbed:
        return [Finding(
            "VAL_AT_CHANCE", "warn",
            f"validation accuracy stays within {noise:.3f} of chance ({chance:.3f}) while training accuracy "
            f"climbed to {train[-1]:.3f}: the model learns nothing that carries to validation.",
            {"chance": chance, "val_accuracy_last": float(val[-1]), "train_accuracy_last": float(train[-1]),
             "noise_band": noise},
            "Check that inputs and labels are still paired (X and y shuffled together), that validation labels use "
            "the same encoding, and that the split is not broken; with far too little data this is memorisation.",
        )]
    return []


def check_nothing_learnt(curves: Curves, chance: float, val_size: int | None) -> list[Finding]:
    """NOTHING_LEARNT: training and validation accuracy both stay at chance — the model cannot fit its own data."""
    train, val = curves.get("accuracy"), curves.get("val_accuracy")
    if train is None or val is None or len(curves) < 5:
        return []
    tail = slice(-max(2, len(curves) // 3), None)
    noise = max(2 * binomial_se(chance, val_size) if val_size else 0.05, 0.02)
    # Training accuracy is an average over many batches, so it sits closer to chance than validation does.
    if np.all(np.abs(train[tail] - chance) <= max(noise, 0.05)) and np.all(np.abs(val[tail] - chance) <= noise):
        return [Finding(
            "NOTHING_LEARNT", "warn",
            f"after {len(curves)} epochs training accuracy ({train[-1]:.3f}) and validation accuracy "
            f"({val[-1]:.3f}) both sit at chance ({chance:.3f}): the model cannot fit even the data it trains on, "
            "so this is not overfitting.",
            {"chance": chance, "train_accuracy_last": float(train[-1]), "val_accuracy_last": float(val[-1]),
             "noise_band": noise, "epochs": len(curves)},
            "Check that inputs and labels are still paired (one permutation for X and y), that the labels are the "
            "ones you think (print a few beside their inputs), that the inputs are not constant, and that the "
            "learning rate is neither zero nor huge. Then try to overfit a handful of samples.",
        )]
    return []


def _jitter(values: np.ndarray) -> float:
    """Mean distance of each point from the midpoint of its neighbours: noise, with trends removed.

    For independent noise of standard deviation σ this is about σ (0.98σ).
    """
    if len(values) < 3:
        return 0.0
    return float(np.mean(np.abs(values[1:-1] - (values[:-2] + values[2:]) / 2)))


def check_val_noise(curves: Curves, val_size: int | None) -> list[Finding]:
    """VAL_NOISY: val accuracy jitters beyond its binomial error, or a val set too small to separate fixes."""
    val = curves.get("val_accuracy")
    if val is None or len(curves) < 3:
        return []
    half = val[len(val) // 2 :] if len(val) >= 6 else val
    jitter = _jitter(half)
    p = float(np.clip(half.mean(), 0.0, 1.0))
    if val_size:
        se = float(binomial_se(p, val_size))
        if jitter > NOISE_FACTOR * max(se, 1.0 / val_size):
            return [Finding(
                "VAL_NOISY", "warn",
                f"validation accuracy jumps {jitter:.3f} around its own trend from epoch to epoch, "
                f"{jitter / max(se, 1e-12):.0f}× its binomial error ({se:.4f} for {val_size} rows): something "
                "besides sampling moves it.",
                {"jitter": jitter, "binomial_se": se, "val_size": val_size},
                "Look for randomness reaching validation (augmentation, dropout at inference), a learning rate that "
                "is too high, or BatchNorm statistics that move between epochs.",
            )]
        if se >= SMALL_VAL_SE:
            return [Finding(
                "VAL_NOISY", "info",
                f"with {val_size} validation rows, accuracy near {p:.2f} is only known to ±{se:.3f} (1 SE): "
                f"differences smaller than {2 * se:.2f} between runs are noise.",
                {"binomial_se": se, "val_size": val_size, "jitter": jitter},
                "Use a larger validation set, cross-validation, or report the error bar beside every number.",
            )]
        return []
    train = curves.get("accuracy")
    train_jitter = _jitter(train[len(train) // 2 :] if len(train) >= 6 else train) if train is not None else 0.0
    if jitter >= 0.05 and jitter >= NOISE_FACTOR * max(train_jitter, 1e-3):
        return [Finding(
            "VAL_NOISY", "warn",
            f"validation accuracy jumps {jitter:.3f} around its trend between epochs, "
            f"{jitter / max(train_jitter, 1e-3):.0f}× the training accuracy's jumps.",
            {"jitter": jitter, "train_jitter": train_jitter},
            "Pass --val-size to compare with the binomial error; look for randomness reaching validation or a "
            "learning rate that is too high.",
        )]
    return []


# --- probes on a model and data ----------------------------------------------


def _framework(model: Any) -> str:
    module = type(model).__module__
    for cls in type(model).__mro__:
        if cls.__module__.startswith("torch.nn"):
            return "torch"
        if cls.__module__.startswith("keras"):
            return "keras"
    raise ValueError(f"probe_modes supports Keras and PyTorch models; got {type(model).__name__} from {module}.")


def _cross_entropy(outputs: np.ndarray, y: np.ndarray, from_logits: bool) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of outputs (N×K or N×1/N) against integer labels."""
    outputs = np.asarray(outputs, dtype=np.float64)
    y = np.asarray(y).reshape(-1)
    if outputs.ndim == 1 or outputs.shape[-1] == 1:  # binary, one unit
        z = outputs.reshape(-1)
        p = 1 / (1 + np.exp(-z)) if from_logits else np.clip(z, 1e-7, 1 - 1e-7)
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        return float(loss), float(np.mean((p >= 0.5) == (y >= 0.5)))
    if from_logits:
        z = outputs - outputs.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    else:
        logp = np.log(np.clip(outputs, 1e-7, 1.0))
    labels = y.astype(int) if y.ndim == 1 else y.argmax(1)
    return float(-np.mean(logp[np.arange(len(labels)), labels])), float(np.mean(outputs.argmax(1) == labels))


def score_both_modes(model: Any, x: Any, y: np.ndarray, *, from_logits: bool | None = None) -> dict[str, float]:
    """Loss and accuracy of one forward pass in training mode and one in inference mode.

    Training-mode BatchNorm would update its moving statistics; they are restored,
    so probing never changes the model.
    """
    framework = _framework(model)
    if framework == "torch":
        import copy

        import torch

        state = copy.deepcopy(model.state_dict())
        was_training = model.training
        with torch.no_grad():
            xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
            model.train()
            out_train = model(xt).numpy()
            model.eval()
            out_eval = model(xt).numpy()
        model.load_state_dict(state)
        model.train(was_training)
        logits = True if from_logits is None else from_logits
    else:
        saved = [v.numpy().copy() for v in model.non_trainable_variables]
        out_train = np.asarray(model(x, training=True))
        for variable, value in zip(model.non_trainable_variables, saved, strict=True):
            variable.assign(value)
        out_eval = np.asarray(model(x, training=False))
        logits = False if from_logits is None else from_logits
    train_loss, train_acc = _cross_entropy(out_train, y, logits)
    eval_loss, eval_acc = _cross_entropy(out_eval, y, logits)
    return {"train_mode_loss": train_loss, "train_mode_accuracy": train_acc,
            "inference_mode_loss": eval_loss, "inference_mode_accuracy": eval_acc}


def probe_modes(model: Any, x: Any, y: np.ndarray, *, from_logits: bool | None = None) -> list[Finding]:
    """MODE_GAP: the same data scored in training and in inference mode differs materially.

    from_logits: whether outputs are logits (default: True for PyTorch, False for Keras).
    """
    s = score_both_modes(model, x, y, from_logits=from_logits)
    hi, lo = sorted([s["train_mode_loss"], s["inference_mode_loss"]], reverse=True)
    ratio = hi / max(lo, 1e-12)
    acc_gap = abs(s["train_mode_accuracy"] - s["inference_mode_accuracy"])
    if ratio >= MODE_GAP_RATIO or acc_gap >= MODE_GAP_ACCURACY:
        worse = "inference" if s["inference_mode_loss"] > s["train_mode_loss"] else "training"
        return [Finding(
            "MODE_GAP", "warn",
            f"the same rows score loss {s['train_mode_loss']:.3g} in training mode and "
            f"{s['inference_mode_loss']:.3g} in inference mode ({ratio:.1f}×, accuracy differs by {acc_gap:.3f}); "
            f"{worse} mode is worse: BatchNorm statistics or dropout, not overfitting.",
            {**s, "loss_ratio": ratio, "accuracy_gap": acc_gap},
            "Compare train and val both in inference mode (re-score the training set with model.evaluate / "
            "model.eval()); if inference mode is worse, BatchNorm moving statistics lag (lower momentum, more "
            "steps); if training mode is worse, it is dropout and harmless.",
        )]
    return []


def probe_val_determinism(score_fn: Callable[[], Any], *, repeats: int = 2, tolerance: float = 1e-6) -> list[Finding]:
    """VAL_NONDETERMINISTIC: scoring validation twice with the same weights gives different numbers.

    score_fn: scores the validation pipeline once and returns a number or a dict of numbers.
    """
    if repeats < 2:
        raise ValueError(f"repeats={repeats} must be at least 2.")
    results = [score_fn() for _ in range(repeats)]
    flat = [np.atleast_1d(np.asarray(list(r.values()) if isinstance(r, Mapping) else r, dtype=float))
            for r in results]
    spread = float(np.max(np.ptp(np.stack(flat), axis=0)))
    if spread > tolerance:
        return [Finding(
            "VAL_NONDETERMINISTIC", "error",
            f"validation scored {repeats} times with the same weights differs by up to {spread:.4g}: "
            "randomness (augmentation, shuffling with dropout on) reaches validation.",
            {"scores": [r if isinstance(r, Mapping) else float(np.asarray(r)) for r in results], "spread": spread},
            "Feed validation through a pipeline without augmentation (a separate ImageDataGenerator with only "
            "rescale; augmentation layers inside the model, which are inactive at inference).",
        )]
    return []


def _thumbnails(x: np.ndarray, side: int = 16) -> np.ndarray:
    """Grey thumbnails (at most side×side), each standardised to zero mean and unit norm.

    Two images are near-duplicates when their thumbnails are close: robust to
    noise, rescaling and brightness, unlike an exact hash.
    """
    from PIL import Image

    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 4:
        arr = arr.mean(axis=-1) if arr.shape[-1] in (1, 3, 4) else arr.mean(axis=1)
    h, w = arr.shape[1:3]
    if h > side or w > side:
        arr = np.stack([np.asarray(Image.fromarray(im).resize((min(w, side), min(h, side)), Image.BILINEAR))
                        for im in arr])
    flat = arr.reshape(len(arr), -1).astype(np.float64)
    flat -= flat.mean(axis=1, keepdims=True)
    return flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)


def _nearest_distance(val: np.ndarray, train: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Euclidean distance from each (unit-norm) val row to its nearest train row."""
    out = np.empty(len(val))
    for start in range(0, len(val), chunk):
        sims = val[start : start + chunk] @ train.T
        out[start : start + chunk] = np.sqrt(np.maximum(2 - 2 * sims.max(axis=1), 0))
    return out


def _row_digests(x: np.ndarray, decimals: int) -> list[bytes]:
    rounded = np.round(np.asarray(x, dtype=np.float64).reshape(len(x), -1), decimals) + 0.0
    return [hashlib.sha1(row.tobytes()).digest() for row in rounded]


def probe_split(
    train: np.ndarray | None = None,
    val: np.ndarray | None = None,
    *,
    train_groups: Sequence[Any] | None = None,
    val_groups: Sequence[Any] | None = None,
    kind: str = "auto",
    max_distance: float = 0.1,
    decimals: int = 3,
    threshold: float = 0.01,
) -> list[Finding]:
    """SPLIT_OVERLAP: samples (or groups: recordings, frames) shared by train and val.

    kind: "image" (standardised 16×16 thumbnails closer than ``max_distance``: near-duplicates),
    "table" (rows rounded to ``decimals``), or "auto" (images when 3-D or 4-D).
    train_groups/val_groups: per-sample group ids (recording, frame ids); for windows,
    pass one set of frame ids per sample.
    threshold: the share of val samples with a twin in train that counts as overlap.
    """
    if kind not in ("auto", "image", "table"):
        raise ValueError(f"kind={kind!r}; choose 'auto', 'image' or 'table'.")
    evidence: dict[str, Any] = {}
    if train is not None and val is not None:
        train, val = np.asarray(train), np.asarray(val)
        if kind == "auto":
            kind = "image" if train.ndim >= 3 else "table"
        exact_train = set(_row_digests(train, 12))
        exact = np.array([d in exact_train for d in _row_digests(val, 12)])
        if kind == "image":
            near = _nearest_distance(_thumbnails(val), _thumbnails(train)) <= max_distance
        else:
            rounded_train = set(_row_digests(train, decimals))
            near = np.array([d in rounded_train for d in _row_digests(val, decimals)])
        evidence.update(exact_fraction=float(exact.mean()), near_fraction=float((near | exact).mean()),
                        kind=kind, n_val=len(val))
    if train_groups is not None and val_groups is not None:
        def members(g: Any) -> set:
            return set(g) if isinstance(g, (set, frozenset, list, tuple, np.ndarray)) else {g}

        train_ids = set().union(*(members(g) for g in train_groups))
        shared = np.array([bool(members(g) & train_ids) for g in val_groups])
        evidence.update(group_fraction=float(shared.mean()), n_val=len(val_groups))
    if not evidence:
        raise ValueError("probe_split needs train and val samples, or train_groups and val_groups.")
    worst = max(evidence.get("near_fraction", 0.0), evidence.get("group_fraction", 0.0))
    if worst >= threshold:
        parts = []
        if "near_fraction" in evidence:
            parts.append(f"{100 * evidence['near_fraction']:.1f}% of validation samples have an exact or "
                         f"near-duplicate in training ({100 * evidence['exact_fraction']:.1f}% exact)")
        if "group_fraction" in evidence:
            parts.append(f"{100 * evidence['group_fraction']:.1f}% share a group (recording/frame) with training")
        return [Finding(
            "SPLIT_OVERLAP", "warn", "; ".join(parts) + ": validation partly re-tests memorised samples.",
            evidence,
            "Split by group (recording, signer, patient, machine) so no near-duplicate crosses the split, and "
            "keep a test set collected separately.",
        )]
    return []


def probe_labels(train_labels: Sequence[Any], val_labels: Sequence[Any], *, alpha: float = 1e-3) -> list[Finding]:
    """LABEL_SHIFT: the splits' label distributions differ beyond sampling noise (χ² test)."""
    from scipy.stats import chi2_contingency

    train_labels, val_labels = np.asarray(train_labels).reshape(-1), np.asarray(val_labels).reshape(-1)
    classes = np.union1d(train_labels, val_labels)
    table = np.array([[np.sum(train_labels == c) for c in classes], [np.sum(val_labels == c) for c in classes]])
    table = table[:, table.sum(0) > 0]
    p_train, p_val = table[0] / table[0].sum(), table[1] / table[1].sum()
    tvd = float(0.5 * np.abs(p_train - p_val).sum())
    if table.shape[1] < 2:
        return []
    p_value = float(chi2_contingency(table)[1])
    if p_value < alpha and tvd >= 0.05:
        biggest = int(np.argmax(np.abs(p_train - p_val)))
        return [Finding(
            "LABEL_SHIFT", "warn",
            f"label shares differ between train and val (total variation {tvd:.2f}, χ² p = {p_value:.1e}); "
            f"class {classes[biggest]!s} is {100 * p_train[biggest]:.1f}% of train but {100 * p_val[biggest]:.1f}% "
            "of val.",
            {"total_variation": tvd, "p_value": p_value, "classes": [str(c) for c in classes],
             "train_share": p_train.tolist(), "val_share": p_val.tolist()},
            "Stratify the split, or check whether it took one end of ordered data (validation_split, sorted files).",
        )]
    return []


def diagnose(
    history: Any = None,
    *,
    loss: str = "categorical_crossentropy",
    n_classes: int | None = None,
    val_size: int | None = None,
    model: Any = None,
    data: tuple[Any, np.ndarray] | None = None,
    val_score_fn: Callable[[], Any] | None = None,
    train_x: np.ndarray | None = None,
    val_x: np.ndarray | None = None,
    train_labels: Sequence[Any] | None = None,
    val_labels: Sequence[Any] | None = None,
) -> list[Finding]:
    """Run every probe that the given arguments allow; see each probe for its arguments."""
    findings: list[Finding] = []
    if history is not None:
        findings += diagnose_history(history, loss=loss, n_classes=n_classes, val_size=val_size)
    if model is not None and data is not None:
        findings += probe_modes(model, *data)
    if val_score_fn is not None:
        findings += probe_val_determinism(val_score_fn)
    if train_x is not None and val_x is not None:
        findings += probe_split(train_x, val_x)
    if train_labels is not None and val_labels is not None:
        findings += probe_labels(train_labels, val_labels)
    return findings


def report(findings: Sequence[Finding]) -> str:
    """One line per finding, or 'no findings'."""
    return "\n".join(str(f) for f in findings) if findings else "no findings"


# --- live: a Keras callback and a PyTorch helper --------------------------------


class LiveDoctor:
    """Feed it each epoch's logs; it prints a finding the first epoch it appears."""

    def __init__(self, *, loss: str = "categorical_crossentropy", n_classes: int | None = None,
                 val_size: int | None = None, printer: Callable[[str], None] = print) -> None:
        self.kwargs = {"loss": loss, "n_classes": n_classes, "val_size": val_size}
        self.logs: dict[str, list[float]] = {}
        self.seen: set[str] = set()
        self.printer = printer

    def update(self, logs: Mapping[str, float]) -> list[Finding]:
        """Add one epoch's numbers; return (and print) the findings that are new."""
        for key, value in logs.items():
            self.logs.setdefault(ALIASES.get(key, key), []).append(float(value))
        n = min(len(v) for v in self.logs.values())
        if n < 2:
            return []
        findings = diagnose_history({k: v[:n] for k, v in self.logs.items()}, **self.kwargs)
        new = [f for f in findings if f.code not in self.seen and f.severity != "info"]
        for f in new:
            self.seen.add(f.code)
            self.printer(f"[doctor, epoch {n}] {f}")
        return new


def keras_callback(**kwargs: Any) -> Any:
    """A ``keras.callbacks.Callback`` that runs the history checks at every epoch's end."""
    import keras

    class DoctorCallback(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.doctor = LiveDoctor(**kwargs)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.doctor.update({k: v for k, v in (logs or {}).items() if np.isscalar(v)})

    return DoctorCallback()


# --- command line ------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers.doctor LOG.csv``: exit 0 healthy, 1 findings to act on, 2 bad input."""
    parser = argparse.ArgumentParser(prog="python -m helpers.doctor",
                                     description="Diagnose a training log (Keras CSVLogger columns).")
    parser.add_argument("log", help="CSV with columns epoch, loss, accuracy|acc, val_loss, val_accuracy|val_acc")
    parser.add_argument("--loss", default="categorical_crossentropy", choices=[*CROSS_ENTROPY_LOSSES, "other"])
    parser.add_argument("--classes", type=int, default=None, help="number of classes (chance-level check)")
    parser.add_argument("--val-size", type=int, default=None, help="validation rows (binomial-noise checks)")
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    args = parser.parse_args(argv)
    try:
        curves = read_log(args.log)
        findings = diagnose_history(curves, loss=args.loss, n_classes=args.classes, val_size=args.val_size)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        print(report(findings))
    return 1 if is_alarming(findings) else 0


if __name__ == "__main__":
    sys.exit(main())
