"""Runs: a frozen config in, a ``History`` out, cached on disk as JSON + NPZ.

The cache key is a hash of the config's class, its fields, the code that
produces the numbers (the trainer's module and every helper module it reaches,
see ``code_digest``), the numerics settings (threads, oneDNN) and the versions of
the libraries, so an edit or an upgrade never serves stale curves. Nothing is
pickled: a corrupt or foreign entry is recomputed with a warning, never trusted.
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import importlib
import json
import math
import os
import platform
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from helpers.digest import code_digest
from helpers.paths import DATA, is_checkout
from helpers.validate import check_range

Progress = Callable[[int, int], None]
Live = Callable[["History"], None]  # called with the History so far after each epoch of a real training
_LIVE: contextvars.ContextVar[Live | None] = contextvars.ContextVar("gap_clinic_live", default=None)
SEEDS = (0, 1, 2)  # every stated number is a statistic over these (one trajectory is an anecdote)
LAST = 3  # epochs averaged for a run's "final" number: one epoch's score on a small split is noisy
FRAMEWORK_PACKAGES = {
    "torch": ("torch",),
    "keras": ("tensorflow", "keras"),
    "numpy": (),
}
_MEMORY: dict[str, History] = {}


@dataclass(frozen=True)
class RunConfig:
    """Base of every scenario's frozen config; subclasses add their knobs.

    Subclasses set ``trainer`` ("module:function", imported only when a run is
    not cached) and ``framework`` ("torch", "keras" or "numpy"). No version
    number to bump: the key hashes the code itself.
    """

    seed: int = 0
    epochs: int = 10

    trainer: ClassVar[str] = ""
    framework: ClassVar[str] = "numpy"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError for a field outside its allowed range."""
        check_range("seed", self.seed, 0, 2**31 - 1, integer=True)
        check_range("epochs", self.epochs, 1, 1000, integer=True)

    def replace(self, **changes: Any) -> RunConfig:
        """Return a copy with ``changes`` applied (and validated)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            names = ", ".join(f.name for f in dataclasses.fields(self))
            raise ValueError(f"unknown field(s) {sorted(unknown)}; {type(self).__name__} has {names}.")
        return dataclasses.replace(self, **changes)

    def code_digest(self, root: Path | None = None) -> str:
        """Hash of the code this config's runs come from: its trainer and config class, and what they reach.

        root: the folder holding a ``helpers`` package to read (default: this one's; another is how a
        reference records the code of the commit that trained it).
        """
        module, _, function = self.trainer.partition(":")
        return code_digest(module or type(self).__module__, roots=(function, type(self).__name__), root=root)

    def cache_key(self) -> str:
        """Hash of the class, fields, code, numerics settings and library versions."""
        payload = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "fields": dataclasses.asdict(self),
            "code": self.code_digest(),
            "numerics": numerics(self.framework),
            "versions": library_versions(self.framework),
        }
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:20]


@dataclass
class History:
    """Per-epoch metrics (Keras names: loss, accuracy, val_loss ...) plus extras.

    ``metrics`` holds one list per name, one value per epoch; ``arrays`` holds
    anything else a plot needs (per-class accuracy, a BN channel trace);
    ``info`` holds JSON scalars (timings, sizes, measured facts);
    ``epoch_numbers`` the 1-based epoch of each row (default 1..n; a resumed
    log starts later, a sparse one skips).
    """

    metrics: dict[str, list[float]]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    epoch_numbers: list[int] | None = None

    def __post_init__(self) -> None:
        lengths = {len(v) for v in self.metrics.values()}
        if len(lengths) > 1:
            raise ValueError(f"every metric needs one value per epoch; got lengths {sorted(lengths)}.")
        self.metrics = {k: [float(x) for x in v] for k, v in self.metrics.items()}
        if self.epoch_numbers is None:
            self.epoch_numbers = list(range(1, self.n_epochs + 1))
        self.epoch_numbers = [int(e) for e in self.epoch_numbers]
        if len(self.epoch_numbers) != self.n_epochs:
            raise ValueError(f"epoch_numbers has {len(self.epoch_numbers)} numbers for {self.n_epochs} epochs.")

    @property
    def n_epochs(self) -> int:
        return len(next(iter(self.metrics.values()), []))

    @property
    def epochs(self) -> np.ndarray:
        """Epoch numbers, 1-based as Keras prints them."""
        return np.asarray(self.epoch_numbers, dtype=int)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.metrics:
            raise KeyError(f"no metric {name!r}; this history has {sorted(self.metrics)}.")
        return np.asarray(self.metrics[name], dtype=float)

    def __contains__(self, name: object) -> bool:
        return name in self.metrics

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        return (
            self.metrics == other.metrics
            and self.info == other.info
            and self.epoch_numbers == other.epoch_numbers
            and self.arrays.keys() == other.arrays.keys()
            and all(np.array_equal(self.arrays[k], other.arrays[k]) for k in self.arrays)
        )

    def final(self, name: str, last: int = 1) -> float:
        """The metric's value at the last epoch, or its mean over the last ``last`` epochs."""
        return float(np.mean(self[name][-last:]))

    def to_csv(self, path: str | Path, epochs: Sequence[int] | None = None) -> Path:
        """Write a Keras ``CSVLogger``-style file (0-based ``epoch`` column).

        epochs: 1-based epoch numbers, when not ``epoch_numbers`` (a log that printed every 50th).
        """
        path = Path(path)
        names = list(self.metrics)
        numbers = list(epochs) if epochs is not None else list(self.epoch_numbers)
        if len(numbers) != self.n_epochs:
            raise ValueError(f"epochs has {len(numbers)} numbers for {self.n_epochs} logged epochs.")
        lines = [",".join(["epoch", *names])]
        for i, epoch in enumerate(numbers):
            lines.append(",".join([str(int(epoch) - 1)] + [repr(self.metrics[n][i]) for n in names]))
        path.write_text("\n".join(lines) + "\n")
        return path

    def save(self, folder: Path) -> None:
        """Write ``history.json`` and ``arrays.npz`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        doc = {"format": 1, "metrics": self.metrics, "info": self.info}
        if self.epoch_numbers != list(range(1, self.n_epochs + 1)):  # only when not default: old entries load
            doc["epoch_numbers"] = self.epoch_numbers
        (folder / "history.json").write_text(json.dumps(doc, allow_nan=True))
        np.savez(folder / "arrays.npz", **self.arrays)

    @classmethod
    def load(cls, folder: Path) -> History:
        """Read what ``save`` wrote; raises on anything malformed."""
        doc = json.loads((folder / "history.json").read_text())
        if doc.get("format") != 1 or not isinstance(doc.get("metrics"), dict):
            raise ValueError("not a Gap Clinic history (format 1)")
        with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return cls(metrics=doc["metrics"], arrays=arrays, info=doc.get("info", {}),
                   epoch_numbers=doc.get("epoch_numbers"))


def keep_class_path(module: str, *classes: type) -> None:
    """Give config classes that a module split moved into a submodule the package's path again.

    A config's class path is part of its cache key (``RunConfig.cache_key``): a case split into a package by job
    calls this in its ``__init__`` so that the cache and the committed reference still find every run.
    """
    for cls in classes:
        cls.__module__ = module


def library_versions(framework: str) -> dict[str, str]:
    """Versions that change the numbers, read without importing the libraries."""
    if framework not in FRAMEWORK_PACKAGES:
        raise ValueError(f"framework={framework!r}; choose one of {sorted(FRAMEWORK_PACKAGES)}.")
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for package in FRAMEWORK_PACKAGES[framework]:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "missing"
    return versions


# The numerics matrix: settings that change float summation order, hence the numbers, on one machine (another
# CPU is just another trajectory). Each is part of the cache key, so no cell of the matrix reuses another's runs.
NUMERICS_ENV = {
    "torch": {"threads": "GAP_CLINIC_THREADS", "isa": "ATEN_CPU_CAPABILITY"},
    "keras": {"threads": "GAP_CLINIC_THREADS", "onednn": "TF_ENABLE_ONEDNN_OPTS", "isa": "DNNL_MAX_CPU_ISA"},
    "numpy": {},
}


def numerics(framework: str) -> dict[str, str]:
    """The numerics settings in force for ``framework`` (environment variables, see ``NUMERICS_ENV``)."""
    if framework not in NUMERICS_ENV:
        raise ValueError(f"framework={framework!r}; choose one of {sorted(NUMERICS_ENV)}.")
    found = {"torch": {"threads": "2"}, "keras": {"onednn": "default"}}.get(framework, {}).copy()
    for name, variable in NUMERICS_ENV[framework].items():
        if variable in os.environ:
            found[name] = os.environ[variable]
    return found


def _pin_tensorflow_threads() -> None:
    """GAP_CLINIC_THREADS reaches TensorFlow through the variables its runtime reads when it starts
    (torch_lab sets torch's own); runs is imported before any lab, so this comes first."""
    threads = os.environ.get("GAP_CLINIC_THREADS")
    if threads:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", threads)
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", threads)


_pin_tensorflow_threads()


def cache_dir() -> Path:
    """Where runs are cached: $GAP_CLINIC_CACHE, else data/cache in the checkout."""
    env = os.environ.get("GAP_CLINIC_CACHE")
    if env:
        return Path(env)
    if is_checkout():
        return DATA / "cache"
    return Path.home() / ".cache" / "gap-clinic"


def entry_path(config: RunConfig) -> Path:
    return cache_dir() / f"{type(config).__name__}-{config.cache_key()}"


def is_cached(config: RunConfig) -> bool:
    """True when ``run(config)`` will not train (memory or a complete disk entry)."""
    path = entry_path(config)
    return str(path) in _MEMORY or (path / "history.json").exists()


def load_trainer(config: RunConfig) -> Callable[..., History]:
    module_name, _, func = config.trainer.partition(":")
    if not module_name or not func:
        raise ValueError(f"{type(config).__name__}.trainer must be 'module:function'.")
    return getattr(importlib.import_module(module_name), func)


def report_epoch(metrics: Mapping[str, Sequence[float]]) -> None:
    """Called by the training loops after each epoch with every metric so far; feeds ``run(live=...)``."""
    live = _LIVE.get()
    if live is None:
        return
    n = max((len(v) for v in metrics.values()), default=0)
    complete = {k: list(v) for k, v in metrics.items() if len(v) == n}  # a metric added mid-epoch waits a turn
    if n:
        live(History(metrics=complete))


def run(
    config: RunConfig,
    *,
    progress: Progress | None = None,
    live: Live | None = None,
    use_cache: bool = True,
) -> History:
    """Train ``config`` (or read it from the cache) and return its History.

    progress: called as ``progress(done, total)`` after each epoch of a real training.
    live: called with the History so far after each epoch of a real training (a panel draws it growing).
    use_cache: False trains afresh and leaves the cache untouched.
    """
    if not isinstance(config, RunConfig):
        raise ValueError(f"run() takes a RunConfig; got {type(config).__name__}.")
    path = entry_path(config)
    if use_cache:
        if str(path) in _MEMORY:
            return _MEMORY[str(path)]
        if (path / "history.json").exists():
            try:
                history = History.load(path)
                _MEMORY[str(path)] = history
                return history
            except Exception as err:
                warnings.warn(
                    f"cache entry {path.name} is unreadable ({type(err).__name__}: {err}); retraining.",
                    stacklevel=2,
                )
    start = time.perf_counter()
    token = _LIVE.set(live)
    try:
        history = load_trainer(config)(config, progress=progress)
    finally:
        _LIVE.reset(token)
    history.info.setdefault("train_seconds", round(time.perf_counter() - start, 3))
    _check_finite_lengths(history)
    if use_cache:
        _store(path, history)
        _MEMORY[str(path)] = History.load(path)
        return _MEMORY[str(path)]
    return history


def run_seeds(
    config: RunConfig,
    seeds: Sequence[int] = SEEDS,
    *,
    progress: Progress | None = None,
    use_cache: bool = True,
) -> list[History]:
    """``run(config)`` once per seed (config.seed is replaced); one History per seed, in order.

    progress: called as ``progress(done, total)`` over all seeds' epochs together.
    """
    if len(seeds) < 1 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds={list(seeds)}: give one or more distinct seeds, e.g. {list(SEEDS)}.")
    histories = []
    for i, seed in enumerate(seeds):
        step = None
        if progress is not None:
            def step(done: int, total: int, i: int = i) -> None:
                progress(i * total + done, len(seeds) * total)
        histories.append(run(config.replace(seed=seed), progress=step, use_cache=use_cache))
    return histories


def forget_memory() -> None:
    """Drop the in-process cache (the disk cache stays)."""
    _MEMORY.clear()


def _check_finite_lengths(history: History) -> None:
    if history.n_epochs == 0:
        raise ValueError("the trainer returned a History with no epochs.")
    for name, values in history.metrics.items():
        if any(math.isnan(v) for v in values):
            warnings.warn(f"metric {name} has NaN values.", stacklevel=3)


def _store(path: Path, history: History) -> None:
    """Write atomically, so an interrupted run never leaves a half entry behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=path.parent))
    try:
        history.save(tmp)
        if path.exists():
            shutil.rmtree(path)
        tmp.rename(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
