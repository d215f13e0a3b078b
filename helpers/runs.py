"""Runs: a frozen config in, a ``History`` out, cached on disk as JSON + NPZ.

The cache key is a hash of the config's class, its fields, the code that
produces the numbers (the trainer's module and every helper module it reaches,
see ``code_digest``), the numerics settings (threads, oneDNN) and the versions of
the libraries, so an edit or an upgrade never serves stale curves. Nothing is
pickled: a corrupt or foreign entry is recomputed with a warning, never trusted.
"""

from __future__ import annotations

import ast
import contextvars
import dataclasses
import functools
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

from helpers.paths import CODE_ROOT, DATA, is_checkout
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


# Code that never changes a number: figures, panels, claims, and the run machinery itself (it stores
# numbers, never computes them). Leaving it out of the digest means a retitled axis, a new band or a
# cache fix does not retrain every run.
PRESENTATION_MODULES = frozenset({"helpers.curves", "helpers.widgets", "helpers.bench", "helpers.reference",
                                  "helpers.runs", "helpers.validate", "helpers.scenarios", "helpers.paths",
                                  "helpers.cases"})
PRESENTATION_PREFIXES = ("draw_", "plot_", "annotate_")
PRESENTATION_NAMES = frozenset({"BANDS", "POSTED", "STORY", "METRIC_LABEL", "PANEL_DEMO"})


def code_digest(module: str, roots: Sequence[str] = (), root: Path | None = None) -> str:
    """Hash of the code that produces a run's numbers, read from source with ``ast`` (nothing is imported).

    roots: names in ``module`` a run starts from (the trainer, the config class); only what they reach
    counts, so a module's measurements, bands and figures can change without retraining. The walk follows
    imports name by name across ``helpers`` modules (``from helpers.doctor import score_both_modes`` counts
    that function and what it reaches, not the whole doctor package); a module imported whole
    (``from helpers import torch_lab``) counts whole. Comments, docstrings and ``draw_*``/``plot_*``
    functions never count. No roots: all of ``module``. root: the folder holding the ``helpers`` package
    to read (default ``CODE_ROOT``).
    """
    root = root or CODE_ROOT
    wanted: dict[str, frozenset[str] | None] = {}  # module -> the names reached in it (None: all of it)
    todo: list[tuple[str, frozenset[str] | None]] = [(module, frozenset(roots) or None)]
    while todo:
        name, names = todo.pop()
        if name in PRESENTATION_MODULES or (path := _module_path(name, root)) is None:
            continue
        if name in wanted:
            old = wanted[name]
            if old is None or (names is not None and names <= old):
                continue
            names = None if names is None else old | names
        wanted[name] = names
        todo.extend(_numeric_dump(path, path.stat().st_mtime_ns, name, _sorted(names), root)[1])
    statements: set[str] = set()
    for name, names in wanted.items():
        path = _module_path(name, root)
        statements.update(_numeric_dump(path, path.stat().st_mtime_ns, name, _sorted(names), root)[0])
    blob = json.dumps(sorted(statements)).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _sorted(names: frozenset[str] | None) -> tuple[str, ...] | None:
    return None if names is None else tuple(sorted(names))


def _module_path(name: str, root: Path | None = None) -> Path | None:
    base = (root or CODE_ROOT).joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


@functools.lru_cache(maxsize=512)
def _numeric_dump(path: Path, mtime_ns: int, name: str, roots: tuple[str, ...] | None, root: Path
                  ) -> tuple[frozenset[str], tuple[tuple[str, frozenset[str] | None], ...]]:
    """The module's numeric statements as AST dumps (only what ``roots`` reach; None: all of it), and the
    (helpers module, names) it imports there (cached per file version).

    Statements, not modules, are what counts: a function moved to another file (a module split into a
    package) is the same code, so the digest stays; an import of a ``helpers`` module is followed, not hashed.
    """
    tree = _numeric_tree(ast.parse(path.read_text(), filename=str(path)))
    if roots is not None:
        bound = {b for node in tree.body for b in _bound_names(node)}
        if set(roots) <= bound:  # a name the module does not bind at top level: count it all, to be safe
            tree = _reachable(tree, roots)
            used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            return _statements(tree, name, root), tuple(_helper_imports(tree, name, root, used | set(roots)))
    return _statements(tree, name, root), tuple(_helper_imports(tree, name, root))


def _statements(tree: ast.Module, current: str, root: Path) -> frozenset[str]:
    """Each top-level statement's dump, less the imports of helpers modules (followed, not hashed)."""
    return frozenset(canonical_dump(node) for node in tree.body
                     if not (isinstance(node, ast.Import | ast.ImportFrom)
                             and _helper_imports(ast.Module(body=[node], type_ignores=[]), current, root)))


def canonical_dump(node: Any) -> str:
    """An AST as text that is the same on Python 3.11, 3.12 and 3.13 for the same code.

    ``ast.dump`` is not: 3.12 adds ``type_params=[]`` to every function and class (and an empty string part
    to an f-string's nested format spec), and 3.13 leaves empty lists and None fields out. So empty and None
    fields never count here, and neither do positions or a Constant's ``kind``; a reference trained under
    one Python then stays current under the others.
    """
    if isinstance(node, ast.JoinedStr):  # 3.12 parses f"{x:{fmt}}"'s spec with an extra empty string part
        parts = [v for v in node.values if not (isinstance(v, ast.Constant) and v.value == "")]
        return f"JoinedStr(values={canonical_dump(parts)})" if parts else "JoinedStr()"
    if isinstance(node, ast.AST):
        fields = []
        for name, value in ast.iter_fields(node):
            if value is None or value == [] or (name == "kind" and isinstance(node, ast.Constant)):
                continue
            fields.append(f"{name}={canonical_dump(value)}")
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return "[" + ", ".join(canonical_dump(item) for item in node) + "]"
    return repr(node)


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    return []


def _reachable(tree: ast.Module, roots: tuple[str, ...]) -> ast.Module:
    """The top-level statements that ``roots`` use, directly or through each other (in source order)."""
    defines: dict[str, list[ast.stmt]] = {}
    for node in tree.body:
        for bound in _bound_names(node):
            defines.setdefault(bound, []).append(node)
    kept: set[int] = set()
    todo, visited = list(roots), set()
    while todo:
        name = todo.pop()
        if name in visited:
            continue
        visited.add(name)
        for node in defines.get(name, []):
            kept.add(id(node))
            todo += [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
    return ast.Module(body=[node for node in tree.body if id(node) in kept], type_ignores=[])


def _numeric_tree(tree: ast.Module) -> ast.Module:
    body = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(PRESENTATION_PREFIXES):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):  # the module docstring
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id in PRESENTATION_NAMES for t in targets):
            continue
        body.append(_without_docstrings(node))
    return ast.Module(body=body, type_ignores=[])


def _without_docstrings(node: ast.AST) -> ast.AST:
    for child in ast.walk(node):
        body = getattr(child, "body", None)
        if (isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            child.body = body[1:] or [ast.Pass()]
    return node


def _helper_imports(tree: ast.Module, current: str, root: Path, used: set[str] | None = None
                    ) -> list[tuple[str, frozenset[str] | None]]:
    """(module, names used from it) for each ``helpers`` import in ``tree``; None: the module whole.

    used: the names the reached code reads (an ``import a, b`` statement kept for ``a`` does not reach ``b``).
    """
    found: list[tuple[str, frozenset[str] | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.startswith("helpers")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(current.split(".")[: -node.level] + ([base] if base else []))
            if not base.startswith("helpers"):
                continue
            for alias in node.names:
                if used is not None and alias.name != "*" and (alias.asname or alias.name) not in used:
                    continue
                if alias.name == "*":
                    found.append((base, None))
                elif _module_path(f"{base}.{alias.name}", root) is not None:  # `from helpers import torch_lab`
                    found.append((f"{base}.{alias.name}", None))
                else:
                    found.append((base, frozenset({alias.name})))
    return found


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
