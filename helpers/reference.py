"""Committed reference results: every claim's runs over several seeds, trained once, read by all.

``make reference`` (``python -m helpers.reference``) trains each case's
``reference_configs()`` once per seed in ``runs.SEEDS`` and writes the histories to
``data/reference/<case>/<run>/seed<k>/`` (JSON + NPZ, never pickle), with the
library versions and the machine beside them in ``meta.json``. Tests hold every
seed to the case's bands and retrain a sample to check it lands inside the spread;
notebooks draw a student's live run against it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from helpers.runs import SEEDS, History, RunConfig, code_digest, library_versions, numerics, run
from helpers.scenarios import CASES, load_case
from helpers.stats import Spread, spread

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "reference"


def slug(name: str) -> str:
    """A folder name for a run name ("the post (Adam, momentum 0.99)" -> "the-post-adam-momentum-0-99")."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def folder(case_key: str) -> Path:
    """Where ``case_key``'s reference lives."""
    load_case(case_key)  # validates the key
    return REFERENCE_DIR / case_key


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


def make(case_key: str, seeds: Sequence[int] = SEEDS, *, log=print) -> Path:
    """Train ``case_key``'s reference runs over ``seeds`` and write them (replacing any old ones)."""
    case = load_case(case_key)
    configs = case.reference_configs()
    out = folder(case_key)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    framework = next(iter(configs.values())).framework
    meta = {
        "format": 1, "case": case_key, "seeds": list(seeds), "written": time.strftime("%Y-%m-%d"),
        "versions": library_versions(framework), "numerics": numerics(framework), "machine": machine(),
        "code": code_digest(case.__name__),
        "runs": {name: {"folder": slug(name), "class": type(c).__name__, "fields": _fields(c)}
                 for name, c in configs.items()},
    }
    for name, config in configs.items():
        for seed in seeds:
            start = time.perf_counter()
            history = run(config.replace(seed=seed))
            history.save(tmp / slug(name) / f"seed{seed}")
            log(f"{case_key}: {name}, seed {seed}: {time.perf_counter() - start:.1f} s")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def meta(case_key: str) -> dict:
    """The reference's meta.json (seeds, versions, machine, runs)."""
    path = folder(case_key) / "meta.json"
    if not path.exists():
        raise FileNotFoundError(f"no reference for {case_key}: run `make reference` to train it.")
    return json.loads(path.read_text())


def stale_runs(case_key: str) -> list[str]:
    """Names of reference_configs() whose committed reference is missing or was trained with other fields."""
    recorded = meta(case_key)["runs"]
    current = load_case(case_key).reference_configs()
    return sorted(name for name, c in current.items()
                  if name not in recorded or recorded[name]["fields"] != _fields(c))


def load(case_key: str) -> list[dict[str, History]]:
    """One {run name: History} per reference seed, in seed order."""
    info = meta(case_key)
    stale = stale_runs(case_key)
    if stale:
        raise ValueError(f"the reference of {case_key} is stale for {stale}: run `make reference`.")
    base = folder(case_key)
    names = list(load_case(case_key).reference_configs())  # the case's own order (meta.json sorts its keys)
    return [{name: History.load(base / info["runs"][name]["folder"] / f"seed{seed}") for name in names}
            for seed in info["seeds"]]


def stored_run(config: RunConfig) -> History | None:
    """The committed reference's History for exactly ``config`` (class, fields and seed), or None.

    The panels show a stored run instead of training it again: the same standard as every reference figure
    (a run is current when its fields match, ``stale_runs``). Tests never use this: they retrain.
    """
    wanted, name = _fields(config), type(config).__name__
    for meta_path in sorted(REFERENCE_DIR.glob("*/meta.json")):
        try:
            info = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue  # a damaged reference is skipped, never fatal
        if config.seed not in info.get("seeds", ()):
            continue
        for run_info in info.get("runs", {}).values():
            if run_info.get("class") == name and run_info.get("fields") == wanted:
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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers.reference [CASE ...]``: (re)train the references of the named cases (default all)."""
    parser = argparse.ArgumentParser(prog="python -m helpers.reference", description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"cases to train (default: all): {', '.join(CASES)}")
    parser.add_argument("--check", action="store_true", help="only say which references are missing or stale")
    args = parser.parse_args(argv)
    keys = args.cases or list(CASES)
    if args.check:
        bad = {}
        for k in keys:
            try:
                stale = stale_runs(k)
            except FileNotFoundError:
                stale = ["(missing)"]
            if stale:
                bad[k] = stale
        print("\n".join(f"{k}: {v}" for k, v in bad.items()) or "every reference is current")
        return 1 if bad else 0
    for key in keys:
        make(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
