"""``gap-doctor LOG`` (or ``python -m helpers.doctor LOG``): the findings of a training log.

Exit status: 0 nothing to act on, 1 findings to act on, 2 a log that cannot be read (one line on stderr,
never a traceback or a warning).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.doctor.checks import LOSSES, diagnose_history
from helpers.doctor.findings import Finding, is_alarming, report
from helpers.doctor.readers import FORMATS, read_runs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gap-doctor",
        description="Why is training accuracy so much better than validation? Diagnose a training log: Keras "
                    "CSVLogger (any separator) or History JSON, Lightning metrics.csv, Hugging Face "
                    "trainer_state.json, TensorBoard event files. The format is detected from the content.")
    parser.add_argument("log", help="the log file, a TensorBoard log folder, or - to read pasted Keras console "
                                    "output (or any text log) from standard input")
    parser.add_argument("--format", default="auto", choices=["auto", *FORMATS], help="force a format")
    parser.add_argument("--all", action="store_true",
                        help="diagnose every run (appended in one file, or the runs of a TensorBoard folder), "
                             "one block each, not only the last")
    parser.add_argument("--loss", default=None, choices=LOSSES,
                        help="the loss in the 'loss' column (the accuracy bound needs a cross-entropy; "
                             "underfitting needs a loss whose floor is 0); not given: a cross-entropy is assumed "
                             "and the findings that rest on it say so. Focal loss: 'other'")
    parser.add_argument("--weighted", action="store_true",
                        help="the training loss was weighted (class_weight, sample_weight): the accuracy bound "
                             "then holds for the weighted accuracy only and the val/train loss ratio compares "
                             "unlike things")
    parser.add_argument("--mean-weight", type=float, default=None,
                        help="the mean per-sample weight (implies --weighted): the training bound becomes "
                             "1 - L/(mean_weight·ln 2) on the weighted accuracy")
    parser.add_argument("--no-batchnorm", action="store_true",
                        help="the network has no BatchNorm (silences STALE_NORM_STATS, which otherwise says it "
                             "assumes BatchNorm)")
    parser.add_argument("--classes", type=int, default=None,
                        help="number of classes (chance level; ln K, the loss of a classifier that learnt nothing)")
    parser.add_argument("--val-size", type=int, default=None, help="validation rows (binomial-noise checks)")
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    parser.add_argument("--explain", action="store_true",
                        help="print each finding's evidence numbers too (the fix is always printed)")
    return parser


def _read(args: argparse.Namespace) -> list:
    """The runs of the log; ``-`` reads standard input (pasted console output) through a temporary file."""
    if args.log != "-":
        return read_runs(args.log, format=args.format)
    import tempfile
    from pathlib import Path

    data = sys.stdin.buffer.read()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stdin"
        path.write_bytes(data)
        try:
            return read_runs(path, format=args.format)
        except ValueError as err:
            raise ValueError(str(err).replace(str(path), "stdin")) from None


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def _jsonable(value: Any) -> Any:
    """Evidence as JSON: numpy scalars as numbers, NaN as null (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the doctor on a log; return the exit status (0 healthy, 1 findings to act on, 2 bad input).

    argv: the arguments (default: sys.argv[1:]).
    """
    args = _parser().parse_args(argv)
    try:
        # Nothing from numpy, tensorboard or the readers may reach the user as a warning: the one line
        # below, or the findings, are the whole output.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            runs = _read(args)
            chosen = list(enumerate(runs, start=1)) if args.all else [(len(runs), runs[-1])]
            results = [(i, h, diagnose_history(h, loss=args.loss, n_classes=args.classes, val_size=args.val_size,
                                               weighted=args.weighted, mean_weight=args.mean_weight,
                                               batchnorm=False if args.no_batchnorm else None))
                       for i, h in chosen]
    except ValueError as err:  # LogError included: the message names the problem
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:  # anything else a malformed file provokes: still one line, no traceback
        print(f"error: {args.log}: cannot read this log ({type(err).__name__}: {_one_line(err)}).", file=sys.stderr)
        return 2
    findings_all: list[Finding] = [f for _, _, found in results for f in found]
    try:
        _print_results(args, runs, results)
    except BrokenPipeError:  # `gap-doctor log.csv | head`: the reader left; nothing more to say, and no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1 if is_alarming(findings_all) else 0


def _print_results(args: argparse.Namespace, runs: list, results: list) -> None:
    if args.json:
        if args.all:
            doc: Any = [{"run": i, "name": h.info.get("run"), "epochs": [int(h.epochs[0]), int(h.epochs[-1])],
                         "findings": [f.to_dict() for f in found]} for i, h, found in results]
        else:
            doc = [f.to_dict() for f in results[0][2]]
        print(json.dumps(_jsonable(doc), indent=2, ensure_ascii=False), flush=True)
    else:
        blocks = []
        named = [h.info.get("run") for h in runs]
        if not args.all and len(runs) > 1 and named[-1] is not None:
            # Several TensorBoard runs in one folder: never merged; say which one this is.
            blocks.append(f"{len(runs)} runs in this folder ({', '.join(map(str, named))}); diagnosing the last, "
                          f"{named[-1]}; --all for every run.")
        for i, h, found in results:
            name = f" {h.info['run']}" if h.info.get("run") is not None else ""
            head = f"run {i} of {len(runs)}{name} (epochs {h.epochs[0]}–{h.epochs[-1]}):\n" if args.all else ""
            blocks.append(head + report(found, explain=args.explain, fix=True))
        print("\n\n".join(blocks), flush=True)


if __name__ == "__main__":
    sys.exit(main())
