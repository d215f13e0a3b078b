"""Gap Clinic helpers: datasets, splits, training labs, runs, curves, doctor, widgets.

Importing this package is cheap: no framework is imported until a lab or a
scenario's trainer actually needs one.
"""

from helpers.runs import History, RunConfig, cache_dir, run

__all__ = ["History", "RunConfig", "cache_dir", "run"]
__version__ = "0.1.0"
