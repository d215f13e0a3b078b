"""Committed reference results: every claim's runs over several seeds, trained once, read by all.

``make reference`` (``python -m helpers.reference``) trains each case's
``reference_configs()`` once per seed in ``runs.SEEDS`` and writes the histories to
``data/reference/<case>/<run>/seed<k>/`` (JSON + NPZ, never pickle), with each run's
fields and code digest, the library versions and the machine beside them in ``meta.json``.

A reference cannot go stale silently: a run whose fields or code digest differ from
what the code says now is refused by ``load``, ``claims`` and ``stored_run`` (the
panels), and ``python -m helpers.reference --check`` (part of the test suite) names
each stale case, what changed, and the command that retrains it.

One machine's numbers are one trajectory. A *variant* is the same runs trained under other numerics settings
(``VARIANTS``: one thread, oneDNN off and torch's portable kernels; one thread with oneDNN on, for Keras cases; two
threads with oneDNN on and torch's portable kernels), seed 0,
written to ``data/reference-variants/<variant>/<case>/`` in the same layout (``python -m helpers.reference
--variant portable CASE``). The tests hold every band on each variant's runs as on each seed's; the notebooks print
spreads over the seeds of the main reference (``claims(..., with_variants=True)`` adds the variants).
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


# Settings that change float summation order (see runs.NUMERICS_ENV), each a variant of the committed reference.
# "portable" changes torch's kernels and the thread count; a small Keras MLP can come out bit-identical under it
# (TensorFlow's oneDNN is off by default on a CPU without AVX-512), so Keras cases also get "onednn": oneDNN's
# kernels, the default on AVX-512 machines (the machine where case 02's old claims failed). "threads2" gives every
# framework a second trajectory besides "portable" (a torch case had one; case 04's MLP is bit-identical under
# "portable"): two threads, oneDNN on, torch's portable kernels.
VARIANTS: dict[str, dict[str, str]] = {
    "portable": {"GAP_CLINIC_THREADS": "1", "TF_ENABLE_ONEDNN_OPTS": "0", "ATEN_CPU_CAPABILITY": "default"},
    "onednn": {"GAP_CLINIC_THREADS": "1", "TF_ENABLE_ONEDNN_OPTS": "1", "ATEN_CPU_CAPABILITY": "default"},
    "threads2": {"GAP_CLINIC_THREADS": "2", "TF_ENABLE_ONEDNN_OPTS": "1", "ATEN_CPU_CAPABILITY": "default"},
}
# oneDNN's flag is TensorFlow's
VARIANT_FRAMEWORKS = {"portable": ("torch", "keras", "numpy"), "onednn": ("keras",), "threads2": ("torch", "keras")}
VARIANT_SEEDS = (0,)


class StaleReference(ValueError):
    """A committed reference that the current code would not reproduce (its fields or code changed)."""


def slug(name: str) -> str:
    """A folder name for a run name ("the post (Adam, momentum 0.99)" -> "the-post-adam-momentum-0-99")."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _check_variant(variant: str | None) -> None:
    if variant is not None and variant not in VARIANTS:
        raise ValueError(f"variant={variant!r}; choose one of {sorted(VARIANTS)} (or none: the main reference).")


def folder(case_key: str, variant: str | None = None) -> Path:
    """Where ``case_key``'s reference lives (``variant``: its runs under other numerics settings)."""
    load_case(case_key)  # validates the key
    _check_variant(variant)
    return paths.REFERENCE / case_key if variant is None else paths.REFERENCE_VARIANTS / variant / case_key


def variants(case_key: str) -> list[str]:
    """The variants committed for ``case_key``."""
    return [v for v in VARIANTS if (folder(case_key, v) / "meta.json").exists()]


def retrain_command(case_key: str, variant: str | None = None) -> str:
    return f"python -m helpers.reference {case_key}" + (f" --variant {variant}" if variant else "")


def variant_numerics_wrong(variant: str) -> dict[str, str]:
    """{environment variable: value it needs} where this process's settings are not ``variant``'s."""
    _check_variant(variant)
    return {k: v for k, v in VARIANTS[variant].items() if os.environ.get(k) != v}


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


def _reusable(case_key: str, seeds: Sequence[int], variant: str | None = None) -> set[str]:
    """Runs of the committed reference that the code here would reproduce: same seeds, same library versions,
    same numerics settings, same fields and code digest. Retraining a case keeps them, so adding one run does not
    retrain the case. (A run trained under other numerics is another trajectory: kept, it would be written
    under this process's settings in meta.json.)"""
    try:
        info = meta(case_key, variant)
        if (list(info.get("seeds", ())) != list(seeds) or version_drift(case_key, variant)
                or info.get("numerics") != numerics(load_case(case_key).Config.framework)):
            return set()
        stale = problems(case_key, variant)
    except (OSError, ValueError, KeyError):
        return set()  # a damaged reference is retrained, never fatal
    return {name for name in load_case(case_key).reference_configs() if name not in stale}


def make(case_key: str, seeds: Sequence[int] | None = None, *, variant: str | None = None, log=print,
         reuse: bool = True) -> Path:
    """Train ``case_key``'s reference runs over ``seeds`` and write them (replacing any old ones).

    variant: write the variant's reference instead (this process must run under its settings; default seeds
    ``VARIANT_SEEDS``). reuse: keep the committed runs that are still current (see ``_reusable``) and train
    only the others; ``--all`` retrains every run.
    """
    case = load_case(case_key)
    if variant is not None and (wrong := variant_numerics_wrong(variant)):
        raise ValueError(f"the {variant!r} variant needs {wrong} in the environment; run "
                         f"`{retrain_command(case_key, variant)}`, which sets them.")
    seeds = list(seeds if seeds is not None else SEEDS if variant is None else VARIANT_SEEDS)
    configs = case.reference_configs()
    out = folder(case_key, variant)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    kept = _reusable(case_key, seeds, variant) if reuse else set()
    if kept == set(configs):  # nothing to train: the committed reference stays as written, meta.json included
        for name in configs:
            log(f"{case_key}: {name}: current, kept")
        return out
    old_runs = meta(case_key, variant)["runs"] if kept else {}
    framework = next(iter(configs.values())).framework
    info = {
        "format": FORMAT, "case": case_key, "variant": variant, "seeds": seeds, "written": time.strftime("%Y-%m-%d"),
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
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def meta(case_key: str, variant: str | None = None) -> dict:
    """The reference's meta.json (seeds, versions, machine, runs)."""
    path = folder(case_key, variant) / "meta.json"
    if not path.exists():
        what = case_key + (f", variant {variant}" if variant else "")
        raise FileNotFoundError(f"no reference for {what}: run `{retrain_command(case_key, variant)}` to train it.")
    return json.loads(path.read_text())


def _changed_fields(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k, "(none)") != new.get(k, "(none)"))
    return ", ".join(f"{k} {old.get(k, '(none)')!r} -> {new.get(k, '(none)')!r}" for k in keys)


def problems(case_key: str, variant: str | None = None) -> dict[str, str]:
    """{run name: what changed} for each of reference_configs() the committed reference does not match."""
    recorded = meta(case_key, variant)["runs"]
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


def version_drift(case_key: str, variant: str | None = None) -> dict[str, tuple[str, str]]:
    """{library: (version the reference was trained with, version here)} where they differ."""
    info = meta(case_key, variant)
    framework = next(iter(load_case(case_key).reference_configs().values())).framework
    then, now = _comparable(info.get("versions", {})), _comparable(library_versions(framework))
    return {k: (then.get(k, "(none)"), now[k]) for k in now if then.get(k) != now[k]}


def check(case_key: str) -> str | None:
    """One line saying why ``case_key``'s reference (or a committed variant) is not current and how to retrain
    it, or None."""
    lines = []
    for variant in (None, *variants(case_key)):
        what = case_key + (f" (variant {variant})" if variant else "")
        try:
            found = problems(case_key, variant)
        except FileNotFoundError:
            lines.append(f"{what}: no reference; train it: {retrain_command(case_key, variant)}")
            continue
        drift = version_drift(case_key, variant)
        if not found and not drift:
            continue
        said = [f"{name!r}: {why}" for name, why in found.items()]
        said += [f"{lib} {then} -> {now}" for lib, (then, now) in drift.items()]
        kind = "stale" if found else "trained with other library versions"
        lines.append(f"{what}: {kind}: {'; '.join(said)}; retrain: {retrain_command(case_key, variant)}")
    return "\n".join(lines) or None


def _refuse_stale(case_key: str, variant: str | None = None) -> None:
    found = problems(case_key, variant)
    if found:
        said = "; ".join(f"{name!r}: {why}" for name, why in found.items())
        raise StaleReference(f"the committed reference of {case_key}{f' (variant {variant})' if variant else ''} "
                             f"is stale ({said}); retrain it: {retrain_command(case_key, variant)}")


def load(case_key: str, variant: str | None = None) -> list[dict[str, History]]:
    """One {run name: History} per reference seed, in seed order; a stale reference raises StaleReference."""
    info = meta(case_key, variant)
    _refuse_stale(case_key, variant)
    base = folder(case_key, variant)
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


def measured_per_variant(case_key: str, case: ModuleType | None = None) -> dict[str, list[dict[str, float]]]:
    """{variant: the case's ``measure`` on each of its seeds} for every committed variant."""
    case = case or load_case(case_key)
    return {v: [case.measure(histories) for histories in load(case_key, v)] for v in variants(case_key)}


def claims(case_key: str, case: ModuleType | None = None, *, with_variants: bool = False) -> dict[str, Spread]:
    """Each claim of the case, measured on every reference seed (the spread the notebooks print, "over seeds");
    ``with_variants``: every committed variant's seeds too."""
    case = case or load_case(case_key)
    rows = measured_per_seed(case_key, case)
    if with_variants:
        rows += [m for per_seed in measured_per_variant(case_key, case).values() for m in per_seed]
    return {claim: spread([m[claim] for m in rows]) for claim in rows[0]}


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
    parser.add_argument("--variant", choices=sorted(VARIANTS),
                        help="train the runs under this variant's numerics settings (seed 0), beside the reference")
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
    if args.variant and (wrong := variant_numerics_wrong(args.variant)):
        # Thread counts and oneDNN are read when the frameworks load: start again under the variant's settings.
        os.execve(sys.executable, [sys.executable, "-m", "helpers.reference", *(argv or sys.argv[1:])],
                  {**os.environ, **wrong})
    for key in keys:
        framework = load_case(key).Config.framework
        if args.variant and framework not in VARIANT_FRAMEWORKS[args.variant]:
            print(f"{key}: the {args.variant} variant changes nothing for {framework}; skipped")
            continue
        make(key, variant=args.variant, reuse=not args.all)
    return 0


if __name__ == "__main__":
    sys.exit(main())
