"""`make lab`, the README's first command, serves JupyterLab on localhost with a token."""

import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port

ROOT = Path(__file__).resolve().parents[1]



def get_status(url: str, wait: float = 30.0) -> int:
    """GET ``url``, retrying while the server is still coming up."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status
        except urllib.error.URLError as err:
            if isinstance(err, urllib.error.HTTPError) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.slow
def test_make_lab_serves_the_lab_page_with_its_token():
    port = free_port()
    proc = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_PORT={port}"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        url, deadline, seen = None, time.monotonic() + 90, []
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            seen.append(line)
            match = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=\w+", line)
            url = match.group(0) if match else None
        assert url, "no tokenised URL printed:\n" + "".join(seen[-20:])
        assert get_status(url) == 200
        with pytest.raises(urllib.error.HTTPError):  # the token is really required
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=30)
    finally:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
