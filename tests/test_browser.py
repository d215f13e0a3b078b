"""What a student sees: JupyterLab in a real (headless) Chromium, every notebook run, one widget flipped.

nbval never renders a widget; this does. It starts JupyterLab on a free
localhost port with a token, opens each notebook, runs all cells, waits for the
FixPanel's image, flips one control and checks the image changed, and that no
output shows an error. Screenshots land in artifacts/browser/ (gitignored).
Needs Debian's chromium (`apt-get install chromium`); without it the test is
skipped with that message. Playwright never downloads a browser here.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "browser"
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROME_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]



@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server over a copy of notebooks/ (so runs never rewrite the committed files)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium: install Debian's browser with `apt-get install chromium` to run the browser test")
    root = tmp_path_factory.mktemp("lab")
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, root / name)
    # JupyterLab 4 renders only the cells in view; a test that reads every prompt needs them all.
    settings = root / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    news = root / ".settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ServerApp.port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--ServerApp.port_retries=0", f"--LabApp.user_settings_dir={root / '.settings'}", "--LabApp.news_url=",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(root / "server.log", "w")  # closed in the finaliser
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=root)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                os.killpg(proc.pid, signal.SIGTERM)
                pytest.fail("JupyterLab did not start:\n" + (root / "server.log").read_text()[-3000:])
            time.sleep(0.5)
    yield {"base": base, "token": token, "root": root}
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_FLAGS)
        yield b
        b.close()


def started(page) -> bool:
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
    return any(re.search(r"\[(\*|\d+)\]", p) for p in prompts)


def run_all_cells(page, tries: int = 4) -> None:
    """Run → Run All Cells, retried: on a fresh server the first click can land before the
    notebook panel is active, when the menu item is still disabled."""
    for _ in range(tries):
        page.locator(".jp-Notebook .jp-Cell").first.click()  # focus the notebook
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
        for _ in range(20):
            if started(page):
                return
            page.wait_for_timeout(500)
        page.keyboard.press("Escape")
    raise AssertionError("Run All Cells never started the notebook")


def wait_until_done(page, timeout_s: float) -> None:
    """Wait until no cell shows the busy prompt [*] and every code cell has a number."""
    deadline = time.monotonic() + timeout_s
    page.wait_for_timeout(1000)
    while time.monotonic() < deadline:
        # A collapsed input (a hidden solution cell) shows an empty prompt: only shown prompts can be read.
        prompts = [p for p in page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts() if p.strip()]
        if prompts and not any("*" in p for p in prompts) and all(re.search(r"\[\d+\]", p) for p in prompts):
            return
        page.wait_for_timeout(1000)
    raise AssertionError(f"cells not all finished after {timeout_s} s: {prompts}")


def error_outputs(page) -> list[str]:
    texts = page.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    bad = [t for t in texts if "Error" in t or "Traceback" in t]
    bad += page.locator(".jp-OutputArea-output:has-text('Error displaying widget')").all_inner_texts()
    return bad


def flip_one_control(page) -> str:
    """Change the first FixPanel control a student would try; return what was clicked."""
    boxes = page.locator(".widget-checkbox input[type=checkbox]")
    if boxes.count():
        boxes.first.click()
        return "checkbox"
    buttons = page.locator(".widget-toggle-buttons button:not(.mod-active)")
    label = buttons.first.inner_text()
    buttons.first.click()
    return f"button {label!r}"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab_and_its_widget_answers(lab, browser, notebook):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        # A workspace of its own, reset: only this notebook is open, so every locator below is its.
        workspace = notebook.split("_")[0]
        page.goto(f"{lab['base']}/lab/workspaces/nb{workspace}/tree/{notebook}?reset&token={lab['token']}",
                  timeout=90_000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=90_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
        run_all_cells(page)
        wait_until_done(page, timeout_s=300)
        assert not error_outputs(page), error_outputs(page)
        images = page.locator("img.widget-image")
        if images.count():
            image = images.first
            image.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                                   timeout=60_000)
            before = image.get_attribute("src")
            page.screenshot(path=str(ARTIFACTS / f"{notebook[:-6]}_before.png"))
            clicked = flip_one_control(page)
            page.wait_for_function("([img, old]) => img.getAttribute('src') !== old",
                                   arg=[image.element_handle(), before], timeout=120_000)
            page.wait_for_timeout(500)
            assert not page.locator(".widget-html:has-text('Not possible')").count(), clicked
        assert not error_outputs(page), error_outputs(page)
        page.screenshot(path=str(ARTIFACTS / f"{notebook[:-6]}.png"), full_page=False)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{notebook[:-6]}_FAILED.png"), full_page=False)
        raise
    finally:
        page.close()


def test_an_uncached_panel_run_grows_its_curves_in_the_browser(lab, browser):
    """Notebook 00's panel: one slider step to a setting never trained; the picture changes while it trains."""
    notebook = NOTEBOOKS[0]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{lab['base']}/lab/workspaces/grow/tree/{notebook}?reset&token={lab['token']}", timeout=90_000)
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=90_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
        run_all_cells(page)
        wait_until_done(page, timeout_s=300)
        image = page.locator("img.widget-image").first
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                               timeout=60_000)
        # Record every picture the panel shows from now on, in the page itself (no polling races).
        page.evaluate("""img => { window.__frames = [img.getAttribute('src')];
            new MutationObserver(() => window.__frames.push(img.getAttribute('src')))
                .observe(img, {attributes: true, attributeFilter: ['src']}); }""", image.element_handle())
        from helpers.runs import entry_path
        from helpers.scenarios import reading_curves

        target = reading_curves.make_config("overfitting", n_train=200, label_noise=0.2, dropout=0.0)
        shutil.rmtree(entry_path(target), ignore_errors=True)  # so the step below trains, on every run of the test
        handle = page.locator(".widget-slider .noUi-handle").first  # "training rows", at 150
        handle.focus()
        page.keyboard.press("ArrowRight")  # overfitting: 150 → 200 rows, a run nobody trained
        page.wait_for_selector(".widget-html:has-text('trained just now')", timeout=120_000)
        frames = page.evaluate("window.__frames")
        page.screenshot(path=str(ARTIFACTS / "panel_grown.png"))
        assert len(set(frames)) >= 3, f"{len(set(frames))} distinct pictures: the curves did not grow"
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "panel_grown_FAILED.png"), full_page=False)
        raise
    finally:
        page.close()
