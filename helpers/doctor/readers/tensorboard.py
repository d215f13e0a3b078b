"""The TensorBoard reader: scalars from event files (without TensorFlow), one run per folder."""

from __future__ import annotations

import math
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np

from helpers.doctor.readers.common import LogError, _history, _split_name
from helpers.runs import History

# --- TensorBoard ------------------------------------------------------------------------------------------


def _event_accumulator() -> Any:
    """tensorboard's EventAccumulator, without importing TensorFlow (9 s) when it is installed."""
    if "tensorflow" not in sys.modules:
        # tensorboard.compat picks its TensorFlow stub when this marker module exists (its no-TF build).
        sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:
        raise LogError("reading TensorBoard event files needs the tensorboard package "
                       "(pip install tensorboard).") from None
    return event_accumulator


def _tb_scalars(acc: Any) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.util import tensor_util

    out: dict[str, list[tuple[int, float]]] = {}
    tags = acc.Tags()
    for tag in tags.get("scalars", []):
        out[tag] = [(e.step, float(e.value)) for e in acc.Scalars(tag)]
    for tag in tags.get("tensors", []):  # TF2's tf.summary.scalar stores scalars as tensors
        points = []
        for e in acc.Tensors(tag):
            value = tensor_util.make_ndarray(e.tensor_proto)
            if value.size == 1:
                points.append((e.step, float(value.reshape(-1)[0])))
        if points:
            out.setdefault(tag, points)
    return out


TB_SPLITS = ("train", "validation", "val", "eval", "valid")


def read_tensorboard(path: str | Path) -> list[History]:
    """TensorBoard event files: Keras' ``train/`` + ``validation/`` runs, or one run with val_* tags.

    A folder that holds several runs (``logs/fit/<time>/train``, ``logs/fit/<time>/validation`` ...) gives one
    History per run, in the order of their folder names (``info["run"]`` names each): merging them would mix
    two trainings into one curve.
    """
    path = Path(path)
    if not path.exists():
        raise LogError(f"{path}: no such file.")
    root = path if path.is_dir() else path.parent
    if not path.is_dir() and root.name.lower() in TB_SPLITS:
        root = root.parent
    files = sorted(root.glob("**/*tfevents*")) if root.is_dir() else []
    if not path.is_dir() and root == path.parent:
        files = [path]
    if not files:
        raise LogError(f"{path}: no TensorBoard event files (events.out.tfevents.*) here.")
    ea = _event_accumulator()
    groups: dict[str, list[tuple[Path, str]]] = {}
    for file in files:
        parts = file.parent.relative_to(root).parts if file.parent != root else ()
        split = "val" if parts and parts[-1].lower() in ("validation", "val", "eval", "valid") else "train"
        run = parts[:-1] if parts and parts[-1].lower() in TB_SPLITS else parts
        groups.setdefault("/".join(run) or ".", []).append((file, split))
    out = []
    for name in sorted(groups):
        h = _tb_run(path, groups[name], ea)
        if h is not None:
            h.info["run"] = name
            out.append(h)
    if not out:
        raise LogError(f"{path}: no scalar curves in the event files.")
    return out


def _tb_run(path: Path, files: list[tuple[Path, str]], ea: Any) -> History | None:
    series: dict[str, dict[int, float]] = {}
    epoch_of_step: dict[int, float] = {}
    for file, run_split in files:
        acc = ea.EventAccumulator(str(file), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
        try:
            acc.Reload()
        except Exception as err:  # a corrupt record: tensorboard raises its own types
            raise LogError(f"{file}: unreadable event file ({type(err).__name__}).") from None
        for tag, points in _tb_scalars(acc).items():
            t = tag[6:] if tag.startswith("epoch_") else tag  # Keras: epoch_loss, epoch_accuracy
            if t.lower() == "epoch":
                epoch_of_step.update({s: v for s, v in points})
                continue
            if tag.startswith(("batch_", "evaluation_")) or "vs_iterations" in tag:
                continue  # per-batch curves; the epoch curves are the story
            split, base, granularity = _split_name(t)
            if run_split == "val" and split == "train":
                split = "val"
            if split == "test" or granularity == "step" or base in ("lr", "learning_rate"):
                continue
            name = ("val_" if split == "val" else "") + base
            series.setdefault(name, {}).update({s: v for s, v in points})
    if not series:
        return None
    if epoch_of_step:  # Lightning logs an 'epoch' scalar beside each step: group by it
        steps = np.array(sorted(epoch_of_step))
        def key(step: int) -> int:
            i = int(np.searchsorted(steps, step, side="right")) - 1
            return int(epoch_of_step[int(steps[max(i, 0)])])
    else:
        def key(step: int) -> int:
            return int(step)
    keyed = {name: {} for name in series}
    for name, points in series.items():
        for step in sorted(points):
            keyed[name][key(step)] = points[step]
    xs = sorted({x for points in keyed.values() for x in points})
    metrics = {name: [points.get(x, math.nan) for x in xs] for name, points in keyed.items()}
    written = {name: np.array([x in points for x in xs], dtype=bool) for name, points in keyed.items()}
    info: dict[str, Any] = {"format": "tensorboard"}
    if epoch_of_step or xs == list(range(xs[0], xs[0] + len(xs))):
        epochs = [x + 1 for x in xs]  # 0-based epochs (Keras' step is the epoch; Lightning's epoch scalar)
    else:
        epochs, info["x"] = list(xs), "step"  # global steps: kept as they are, not renamed epochs
    return _history(metrics, epochs, info, written)
