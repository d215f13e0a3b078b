"""The course site (`make site`): built from the committed notebooks without a kernel, then read in a real
headless Chromium the way a student opens it: every page there, every image drawn, every internal link
resolving, nothing that needed a kernel shown as an error. One screenshot per page in artifacts/site-shots/.

The browser part needs Debian's chromium (`apt-get install chromium`) and is skipped without it; Playwright
never downloads a browser. Pages are opened from file:// with every request off the machine refused (the
site's MathJax comes from a CDN online; offline, formulas show as TeX, which is still readable).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from helpers.course import attribution, executed_seconds, notebook_paths, site

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "site-shots"
CHROME_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]
# What a page shows when it needed a kernel: a traceback, a widget's text repr, a widget manager's complaint.
KERNEL_TEXT = re.compile(r"Traceback \(most recent call last\)|\b[VH]Box\(children=|Error displaying widget|"
                         r"Loading widget|Widget Javascript not detected|model not found|interactive\(children=")


@pytest.fixture(scope="session")  # session: conftest moves the browser test to the end of the run
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    site.build(out)
    return out


def test_one_page_per_notebook_and_a_landing_page(built):
    pages = {p.name for p in built.glob("*.html")}
    assert "index.html" in pages
    for nb in notebook_paths():
        assert f"{nb.stem}.html" in pages, f"no page for {nb.name}"
    index = (built / "index.html").read_text(encoding="utf-8")
    for nb in notebook_paths():
        assert f'href="{nb.stem}.html"' in index, f"the landing page does not link {nb.stem}"


def test_each_page_carries_run_it_links_and_its_posts_attribution(built):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [c for c, _ in site.readme_commands(readme)[:2]]
    for nb_path in notebook_paths():
        page = (built / f"{nb_path.stem}.html").read_text(encoding="utf-8")
        assert re.search(rf'href="https://colab\.research\.google\.com/github/[^"]+/{nb_path.name}"', page)
        for cmd in commands:
            assert re.search(rf"<code[^>]*>{re.escape(cmd)}</code>", page), cmd
        attr = attribution(site.first_markdown(json.loads(nb_path.read_text(encoding="utf-8"))))
        if attr:
            host = re.search(r"https?://([^/\s)]+)", attr)
            assert 'class="gc-attr"' in page and host and host.group(1) in page.split("<main", 1)[0]


def test_widgets_show_their_picture_or_a_note_never_their_text(built):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "panel", "execution_count": 1, "outputs": [
        {"output_type": "display_data", "metadata": {}, "data": {
            site.WIDGET_MIME: {"model_id": "x", "version_major": 2, "version_minor": 0},
            "text/plain": "VBox(children=(HTML(value='x'),))", "image/png": "iVBORw0KGgo="}},
        {"output_type": "display_data", "metadata": {}, "data": {
            site.WIDGET_MIME: {"model_id": "y", "version_major": 2, "version_minor": 0},
            "text/plain": "HBox(children=())"}}]}],
          "metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {}}}}
    site.drop_kernel_only(nb)
    with_png, without = (o["data"] for o in nb["cells"][0]["outputs"])
    assert set(with_png) == {"image/png"}
    assert set(without) == {"text/html"} and "Interactive panel" in without["text/html"]
    assert "widgets" not in nb["metadata"]


def test_headless_time_read_from_the_execution_stamps():
    def cell(start, end):
        return {"cell_type": "code", "metadata": {"execution": {
            "iopub.execute_input": f"2026-12-01T10:00:{start:02d}.000000Z",
            "iopub.status.idle": f"2026-12-01T10:00:{end:02d}.500000Z"}}, "source": "", "outputs": []}

    nb = {"cells": [cell(1, 3), {"cell_type": "markdown", "metadata": {}, "source": ""}, cell(3, 40)]}
    assert executed_seconds(nb) == pytest.approx(39.5)
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "", "outputs": []})
    assert executed_seconds(nb) is None, "a cell without stamps: not one headless run"
    assert executed_seconds({"cells": [cell(30, 40), cell(1, 2)]}) is None, "cells from different runs"


@pytest.mark.slow
def test_the_student_site_shows_no_answer(built, tmp_path):
    from helpers.course.student import studentize

    site.build(tmp_path, student=True)
    seen_in_full = 0
    for nb_path in notebook_paths():
        _, removed = studentize(json.loads(nb_path.read_text(encoding="utf-8")))
        # Outputs reach a page as escaped text: an answer printed by a removed cell would show verbatim.
        lines = {form for t in removed.texts for line in t.splitlines() if len(line.strip()) >= 25
                 for form in (html.escape(line.strip(), quote=False), html.escape(line.strip()))}
        student = (tmp_path / f"{nb_path.stem}.html").read_text(encoding="utf-8")
        assert not [line for line in lines if line in student], nb_path.name
        assert not re.search(r"<summary>\s*(An )?answers?\b", student, re.IGNORECASE), nb_path.name
        seen_in_full += sum(line in (built / f"{nb_path.stem}.html").read_text(encoding="utf-8") for line in lines)
    assert seen_in_full, "the check sees nothing even on the full site: it could not fail"
    assert "student edition" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_bad_repo_is_refused():
    with pytest.raises(SystemExit):
        site.main(["--repo", "not a repo", "--out", "/nonexistent/never-written"])


@pytest.mark.browser
@pytest.mark.slow
def test_every_page_opens_in_chromium(built):
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium: install Debian's browser with `apt-get install chromium` to run the site test")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = sorted(built.glob("*.html"), key=lambda p: (p.name != "index.html", p.name))
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.route(re.compile(r"^https?://"), lambda route: route.abort())
        for path in pages:
            page = context.new_page()
            page.goto(path.as_uri(), wait_until="load")
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => ({src: e.src.slice(0, 60), ok: e.complete && e.naturalWidth > 0}))")
            problems += [f"{path.name}: image not drawn: {i['src']}" for i in images if not i["ok"]]
            if path.name != "index.html" and not images:
                problems.append(f"{path.name}: no figure at all")
            ids = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
                url = urlparse(href)
                if url.scheme in ("http", "https", "mailto"):
                    continue
                if url.path and not (path.parent / unquote(url.path)).exists():
                    problems.append(f"{path.name}: broken link {href}")
                # The HTML spec tries the fragment as written, then percent-decoded (nbconvert writes encoded ids).
                elif not url.path and url.fragment and not {url.fragment, unquote(url.fragment)} & ids:
                    problems.append(f"{path.name}: link to a missing anchor {href}")
            text = page.inner_text("body")
            m = KERNEL_TEXT.search(text)
            if m:
                problems.append(f"{path.name}: shows {m.group(0)!r}")
            page.screenshot(path=str(SHOTS / f"{path.stem}.png"))
            if images and path.name != "index.html":  # and the first figure, as a student scrolls to it
                page.locator("img").first.scroll_into_view_if_needed()
                page.screenshot(path=str(SHOTS / f"{path.stem}-figure.png"))
            panel = page.locator(".gc-widget-note, img[src^='data:image/png']").last
            if path.name != "index.html" and panel.count():  # the last picture: the panel's, in a case notebook
                panel.scroll_into_view_if_needed()
                page.screenshot(path=str(SHOTS / f"{path.stem}-last.png"))
            page.close()
        browser.close()
    assert not problems, "\n".join(problems)
