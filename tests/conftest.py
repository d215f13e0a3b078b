"""Shared fixtures. Network access is blocked for every test (pytest-socket, see Makefile):
only loopback is allowed, for the Jupyter server the browser test starts.

A case's test module (one that imports a registered scenario module, e.g. ``from helpers.scenarios import
case05_splits as case``) gets its runs and claims as fixtures, read once per session from tests/harness.py:
``reference_runs``, ``reference_measured``, ``reference_claims`` (every committed seed), ``runs`` and
``measured`` (retrained here: the case's RETRAIN), and ``each_seed_runs`` / ``each_seed_measured`` (each
reference seed, then "here"). A test that retrains on this machine is marked ``here``: `make test-robust`
and `make test-matrix` run exactly those.
"""

from __future__ import annotations

import socket
from types import ModuleType

import harness
import pytest

from helpers import reference
from helpers import runs as runs_module
from helpers.cases import CASES, load_case
from helpers.runs import SEEDS
from helpers.stats import spread

HERE_FIXTURES = frozenset({"runs", "measured"})


def pytest_configure(config):
    config.addinivalue_line("markers", "here: retrains a claim's runs on this machine (`make test-robust`)")


def pytest_collection_modifyitems(config, items):
    """Mark every test that retrains here; run the browser test last: by then the scenario tests and nbval have
    filled the run cache, so JupyterLab replays cached runs the way a class would after the instructor's warm-up."""
    for item in items:
        if HERE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.here)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A private, empty run cache (memory cache cleared before and after)."""
    monkeypatch.setenv("GAP_CLINIC_CACHE", str(tmp_path / "cache"))
    runs_module.forget_memory()
    yield tmp_path / "cache"
    runs_module.forget_memory()


def free_port() -> int:
    """A loopback port nothing listens on now (for the Jupyter servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- a case's runs and claims ----------------------------------------------------------------


def _case_key(request) -> str:
    """The case the requesting test module is about: the registered scenario module it imports."""
    found = {v.__name__ for v in vars(request.module).values() if isinstance(v, ModuleType)} & set(CASES.values())
    if len(found) != 1:
        raise LookupError(f"{request.module.__name__} imports {len(found)} scenario modules; these fixtures need one.")
    return next(key for key, module in CASES.items() if module in found)


@pytest.fixture(scope="module")
def reference_runs(request):
    return harness.reference_runs(_case_key(request))


@pytest.fixture(scope="module")
def reference_measured(request):
    return harness.reference_measured(_case_key(request))


@pytest.fixture(scope="module")
def reference_claims(reference_measured):
    return {claim: spread([m[claim] for m in reference_measured]) for claim in reference_measured[0]}


@pytest.fixture(scope="module")
def runs(request):
    """Seed 0 of the case's RETRAIN runs, trained here (or read from the run cache)."""
    return harness.retrained(_case_key(request))


@pytest.fixture(scope="module")
def measured(request):
    """The claims the retrained runs measure alone (never filled in from the reference)."""
    return harness.here_measured(_case_key(request))


SEED_PARAMS = [*(pytest.param(i, id=f"reference seed {s}") for i, s in enumerate(SEEDS)),
               *(pytest.param((v, i), id=f"variant {v} seed {s}")
                 for v in reference.VARIANTS for i, s in enumerate(reference.VARIANT_SEEDS)),
               pytest.param("here", id="here", marks=pytest.mark.here)]


def _for_param(key: str, param, here, variant, seeds):
    """``here(key)`` for "here", ``variant(key, name)[i]`` for a variant's (name, i), else ``seeds(key)[i]``."""
    if param == "here":
        return here(key)
    if isinstance(param, tuple):
        if param[0] not in reference.variants(key):  # the contract requires two variants of their own, not each
            frameworks = reference.VARIANT_FRAMEWORKS[param[0]]
            why = (f"{reference.retrain_command(key, param[0])} trains it"
                   if load_case(key).Config.framework in frameworks else f"made for {', '.join(frameworks)} cases")
            pytest.skip(f"{key} has no committed {param[0]} variant ({why})")
        return variant(key, param[0])[param[1]]
    return seeds(key)[param]


@pytest.fixture(scope="module", params=SEED_PARAMS)
def each_seed_runs(request):
    """Every reference seed's runs, each numerics variant's, then this machine's retrained ones (only those
    train)."""
    return _for_param(_case_key(request), request.param, harness.retrained, harness.variant_runs,
                      harness.reference_runs)


@pytest.fixture(scope="module", params=SEED_PARAMS)
def each_seed_measured(request):
    """Each reference seed's claims, each numerics variant's, then those this machine's retrained runs measure."""
    return _for_param(_case_key(request), request.param, harness.here_measured, harness.variant_measured,
                      harness.reference_measured)
