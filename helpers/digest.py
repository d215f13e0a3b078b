"""The code digest: a hash of the code that produces a run's numbers, read from source with ``ast``.

A run's cache key and a committed reference's staleness both rest on it (``RunConfig.code_digest``). It hashes
statements, not files: a function moved to another module (a module split into a package by job) keeps its
digest, while an edit to any statement a trainer reaches changes it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers.paths import CODE_ROOT

# Code that never changes a number: figures, panels, claims, and the run machinery itself (it stores
# numbers, never computes them). Leaving it out of the digest means a retitled axis, a new band or a
# cache fix does not retrain every run.
PRESENTATION_MODULES = frozenset({"helpers.curves", "helpers.widgets", "helpers.bench", "helpers.reference",
                                  "helpers.runs", "helpers.digest", "helpers.validate", "helpers.scenarios",
                                  "helpers.paths", "helpers.cases"})
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
