"""Shared fixtures. Network access is blocked for every test (pytest-socket, see Makefile):
only loopback is allowed, for the Jupyter server the browser test starts."""

from __future__ import annotations

import socket

import pytest

from helpers import runs


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A private, empty run cache (memory cache cleared before and after)."""
    monkeypatch.setenv("GAP_CLINIC_CACHE", str(tmp_path / "cache"))
    runs.forget_memory()
    yield tmp_path / "cache"
    runs.forget_memory()


def pytest_collection_modifyitems(config, items):
    """Run the browser test last: by then the scenario tests and nbval have filled the run cache,
    so JupyterLab replays cached runs the way a class would after the instructor's warm-up."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def free_port() -> int:
    """A loopback port nothing listens on now (for the Jupyter servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
