"""Committed reference results: every claim's runs over several seeds, trained once, read by all.

``make reference`` (``python -m helpers.reference``) trains each case's
``reference_configs()`` once per seed in ``runs.SEEDS`` and writes the histories to
``data/reference/<case>/<run>/seed<k>/`` (JSON + NPZ, never pickle), with each run's
fields and code digest, the library versions and the machine beside them in ``meta.json``.

A reference cannot go stale silently: a run whose fields or code digest differ from
what the code says now is refused by ``load``, ``claims`` and ``stored_run`` (the
panels), and ``python -m helpers.reference --check`` (part of the test suite) names
each stale case, what changed, and the command that retrains it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from helpers import paths
from helpers.cases import CASES, load_case
from helpers.runs import SEEDS, History, RunConfig, library_versions, numerics, run
from helpers.stats import Spread, spread

FORMAT = 2  # 2: each run records its code digest; 1 (no digest) is read, and reported stale until upgraded


class StaleReference(ValueError):
    """A committed reference that the current code would not reproduce (its fields or code changed)."""


def slug(name: str) -> str:
    """A folder name for a run name ("the post (Adam, momentum 0.99)" -> "the-post-adam-momentum-0-99")."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def folder(case_key: str) -> Path:
    """Where ``case_key``'s reference lives."""
    load_case(case_key)  # validates the key
    return paths.REFERENCE / case_key


def retrain_command(case_key: str) -> str:
    return f"python -m helpers.reference {case_key}"


def _fields(config: RunConfig) -> dict:
    fields = dataclasses.asdict(config)
    fields.pop("seed")
    return json.loads(json.dumps(fields, default=str))


def machine() -> dict[str, str]:
    """What produced the numbers: CPU, cores, numerics settings."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "system": platform.system()}


def _reusable(case_key: str, seeds: Sequence[int]) -> set[str]:
    """Runs of the committed reference that the code here would reproduce: same seeds, same library versions,
    same fields and code digest. Retraining a case keeps them, so adding one run does not retrain the case."""
    try:
        info = meta(case_key)
        if list(info.get("seeds", ())) != list(seeds) or version_drift(case_key):
            return set()
        stale = problems(case_key)
    except (OSError, ValueError, KeyError):
        return set()  # a damaged reference is retrained, never fatal
    return {name for name in load_case(case_key).reference_configs() if name not in stale}


def make(case_key: str, seeds: Sequence[int] = SEEDS, *, log=print, reuse: bool = True) -> Path:
    """Train ``case_key``'s reference runs over ``seeds`` and write them (replacing any old ones).

    reuse: keep the committed runs that are still current (see ``_reusable``) and train only the others;
    ``--all`` retrains every run.
    """
    case = load_case(case_key)
    configs = case.reference_configs()
    out = folder(case_key)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    kept = _reusable(case_key, seeds) if reuse else set()
    old_runs = meta(case_key)["runs"] if kept else {}
    framework = next(iter(configs.values())).framework
    info = {
        "format": FORMAT, "case": case_key, "seeds": list(seeds), "written": time.strftime("%Y-%m-%d"),
        "versions": library_versions(framework), "numerics": numerics(framework), "machine": machine(),
        "runs": {name: {"folder": slug(name), "class": type(c).__name__, "fields": _fields(c),
                        "code": c.code_digest()}
                 for name, c in configs.items()},
    }
    for name, config in configs.items():
        if name in kept:
            shutil.copytree(out / old_runs[name]["folder"], tmp / slug(name))
            log(f"{case_key}: {name}: current, kept")
            continue
        for seed in seeds:
            start = time.perf_counter()
            history = run(config.replace(seed=seed))
            history.save(tmp / slug(name) / f"seed{seed}")
            log(f"{case_key}: {name}, seed {seed}: {time.perf_counter() - start:.1f} s")
    (tmp / "meta.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def meta(case_key: str) -> dict:
    """The reference's meta.json (seeds, versions, machine, runs)."""
    path = folder(case_key) / "meta.json"
    if not path.exists():
        raise FileNotFoundError(f"no reference for {case_key}: run `{retrain_command(case_key)}` to train it.")
    return json.loads(path.read_text())


def _changed_fields(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k, "(none)") != new.get(k, "(none)"))
    return ", ".join(f"{k} {old.get(k, '(none)')!r} -> {new.get(k, '(none)')!r}" for k in keys)


def problems(case_key: str) -> dict[str, str]:
    """{run name: what changed} for each of reference_configs() the committed reference does not match."""
    recorded = meta(case_key)["runs"]
    found = {}
    for name, config in load_case(case_key).reference_configs().items():
        was = recorded.get(name)
        if was is None:
            found[name] = "not in the reference"
        elif was.get("class") != type(config).__name__ or was["fields"] != _fields(config):
            found[name] = f"fields changed ({_changed_fields(was['fields'], _fields(config))})"
        elif "code" not in was:
            found[name] = "no code digest recorded (format 1): run --upgrade, or retrain"
        elif was["code"] != (now := config.code_digest()):
            found[name] = f"code changed (trained with {was['code']}, now {now})"
    return found


def _comparable(versions: dict[str, str]) -> dict[str, str]:
    # Python's own version and a wheel's local tag (+cpu, a CUDA build) do not change these CPU numbers.
    return {k: v.split("+")[0] for k, v in versions.items() if k != "python"}


def version_drift(case_key: str) -> dict[str, tuple[str, str]]:
    """{library: (version the reference was trained with, version here)} where they differ."""
    info = meta(case_key)
    framework = next(iter(load_case(case_key).reference_configs().values())).framework
    then, now = _comparable(info.get("versions", {})), _comparable(library_versions(framework))
    return {k: (then.get(k, "(none)"), now[k]) for k in now if then.get(k) != now[k]}


def check(case_key: str) -> str | None:
    """One line saying why ``case_key``'s reference is not current and how to retrain it, or None."""
    try:
        found = problems(case_key)
    except FileNotFoundError:
        return f"{case_key}: no reference; train it: {retrain_command(case_key)}"
    drift = version_drift(case_key)
    if not found and not drift:
        return None
    said = [f"{name!r}: {why}" for name, why in found.items()]
    said += [f"{lib} {then} -> {now}" for lib, (then, now) in drift.items()]
    kind = "stale" if found else "trained with other library versions"
    return f"{case_key}: {kind}: {'; '.join(said)}; retrain: {retrain_command(case_key)}"


def _refuse_stale(case_key: str) -> None:
    found = problems(case_key)
    if found:
        said = "; ".join(f"{name!r}: {why}" for name, why in found.items())
        raise StaleReference(f"the committed reference of {case_key} is stale ({said}); "
                             f"retrain it: {retrain_command(case_key)}")


def load(case_key: str) -> list[dict[str, History]]:
    """One {run name: History} per reference seed, in seed order; a stale reference raises StaleReference."""
    info = meta(case_key)
    _refuse_stale(case_key)
    base = folder(case_key)
    names = list(load_case(case_key).reference_configs())  # the case's own order (meta.json sorts its keys)
    return [{name: History.load(base / info["runs"][name]["folder"] / f"seed{seed}") for name in names}
            for seed in info["seeds"]]


def stored_run(config: RunConfig) -> History | None:
    """The committed reference's History for exactly ``config`` (class, fields, seed and code), or None.

    The panels show a stored run instead of training it again, only when the code that trained it is the code
    here (its digest): a stale one is never served. Tests never use this: they retrain.
    """
    wanted, name = _fields(config), type(config).__name__
    for meta_path in sorted(paths.REFERENCE.glob("*/meta.json")):
        try:
            info = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue  # a damaged reference is skipped, never fatal
        if config.seed not in info.get("seeds", ()):
            continue
        for run_info in info.get("runs", {}).values():
            if run_info.get("class") == name and run_info.get("fields") == wanted:
                if run_info.get("code") != config.code_digest():
                    return None  # stale (or format 1): the panel trains it instead
                try:
                    return History.load(meta_path.parent / run_info["folder"] / f"seed{config.seed}")
                except (OSError, ValueError, KeyError):
                    return None
    return None


def measured_per_seed(case_key: str, case: ModuleType | None = None) -> list[dict[str, float]]:
    """The case's ``measure`` on each reference seed's runs, in seed order."""
    case = case or load_case(case_key)
    return [case.measure(histories) for histories in load(case_key)]


def claims(case_key: str, case: ModuleType | None = None) -> dict[str, Spread]:
    """Each claim of the case, measured on every reference seed."""
    per_seed = measured_per_seed(case_key, case)
    return {claim: spread([m[claim] for m in per_seed]) for claim in per_seed[0]}


def upgrade(case_key: str, commit: str | None = None) -> dict[str, str]:
    """Record each run's code digest in a format-1 meta.json, computed from the code of the commit that wrote it.

    commit: default, the last commit that touched the case's meta.json (the one that trained it). The digest is
    that commit's code, not today's: a reference trained before an edit comes out stale, as it should.
    Returns {run name: digest}.
    """
    info, path = meta(case_key), folder(case_key) / "meta.json"
    commit = commit or subprocess.run(["git", "log", "-1", "--format=%H", "--", str(path)], capture_output=True,
                                      text=True, check=True, cwd=paths.CODE_ROOT).stdout.strip()
    if not commit:
        raise ValueError(f"{path} has no commit in git history; retrain it: {retrain_command(case_key)}")
    configs = load_case(case_key).reference_configs()
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", "--format=tar", commit, "helpers"], capture_output=True,
                                 check=True, cwd=paths.CODE_ROOT).stdout
        tar_path = Path(tmp) / "helpers.tar"
        tar_path.write_bytes(archive)
        with tarfile.open(tar_path) as tar:
            tar.extractall(tmp, filter="data")
        digests = {name: configs[name].code_digest(root=Path(tmp)) for name in info["runs"] if name in configs}
    for name, digest in digests.items():
        info["runs"][name]["code"] = digest
    info["format"], info["code_from"] = FORMAT, commit
    info.pop("code", None)  # format 1's whole-module digest, which nothing could compare
    path.write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    return digests


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers.reference [--check | --upgrade] [CASE ...]``: (re)train, check or upgrade references."""
    parser = argparse.ArgumentParser(prog="python -m helpers.reference", description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"cases (default: all): {', '.join(CASES)}")
    parser.add_argument("--check", action="store_true",
                        help="say which references are missing, stale or from other library versions (exit 1)")
    parser.add_argument("--all", action="store_true",
                        help="retrain every run (default: keep the committed runs that are still current)")
    parser.add_argument("--upgrade", action="store_true",
                        help="record code digests in format-1 references, from the commit that wrote each")
    args = parser.parse_args(argv)
    keys = args.cases or list(CASES)
    if args.check:
        lines = [line for key in keys if (line := check(key))]
        print("\n".join(lines) or f"every reference is current ({len(keys)} cases)")
        return 1 if lines else 0
    if args.upgrade:
        for key in keys:
            if meta(key).get("format", 1) < FORMAT:
                print(f"{key}: {upgrade(key)}")
        return 0
    for key in keys:
        make(key, reuse=not args.all)
    return 0


if __name__ == "__main__":
    sys.exit(main())
