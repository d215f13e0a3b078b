"""Case 02 on the numerics matrix: seed 0 of every reference run under other float settings, saved for the tests.

Each cell emulates another machine on this one (DESIGN.md, "Principles"): oneDNN on or off, its instruction
set capped, one thread or two. The run cache key does not hold all of these, so each cell trains into a
fresh cache. Usage (one cell per process: the settings must be in the environment before TensorFlow loads):

    python tests/case02_numerics_matrix.py onednn0-threads1

writes tests/data/case02_matrix/<cell>/<run folder>/ (History JSON + NPZ) and <cell>/cell.json.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

CELLS: dict[str, dict[str, str]] = {
    # the setting another AVX-512 EPYC machine failed on (issue 29)
    "onednn0-threads1": {"TF_ENABLE_ONEDNN_OPTS": "0", "threads": "1"},
    # oneDNN on, its kernels capped below this CPU's AVX2 (AVX2 is already this CPU's best: a cap there is a no-op)
    "onednn1-isa-sse41": {"TF_ENABLE_ONEDNN_OPTS": "1", "DNNL_MAX_CPU_ISA": "SSE41", "threads": "2"},
    # the same numbers as the reference here: TensorFlow turns oneDNN on by default only on CPUs with AVX-512
    # VNNI/BF16 or AMX, so on this AVX2 machine "off" is its default (another AVX-512 machine's default is "on")
    "onednn0-threads2": {"TF_ENABLE_ONEDNN_OPTS": "0", "threads": "2"},
    "onednn1-threads2": {"TF_ENABLE_ONEDNN_OPTS": "1", "threads": "2"},
    "onednn1-threads1": {"TF_ENABLE_ONEDNN_OPTS": "1", "threads": "1"},
}
OUT = Path(__file__).resolve().parent / "data" / "case02_matrix"


def environment(cell: str) -> dict[str, str]:
    settings = dict(CELLS[cell])
    threads = settings.pop("threads")
    return {**settings, "GAP_CLINIC_THREADS": threads, "TF_NUM_INTRAOP_THREADS": threads,
            "TF_NUM_INTEROP_THREADS": threads, "OMP_NUM_THREADS": threads}


def main(cell: str) -> None:
    os.environ.update(environment(cell))
    os.environ["GAP_CLINIC_CACHE"] = tempfile.mkdtemp(prefix=f"case02-{cell}-")
    from helpers.reference import slug
    from helpers.runs import run
    from helpers.scenarios import case02_batchnorm as case

    folder = OUT / cell
    timings = {}
    for name, config in case.reference_configs().items():
        start = time.perf_counter()
        run(config).save(folder / slug(name))
        timings[name] = round(time.perf_counter() - start, 1)
        print(f"{cell}: {name}: {timings[name]} s", flush=True)
    (folder / "cell.json").write_text(json.dumps({"cell": cell, "environment": environment(cell), "seed": 0,
                                                  "seconds": timings}, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
