"""The course site: static HTML from the committed notebooks, none of them executed.

    python -m helpers.course.site [--out artifacts/site] [--student] [--repo OWNER/NAME] [--branch main]

One page per notebook (nbconvert's HTML exporter, JupyterLab look, figures embedded), a landing page made of the
README's notebook table, each post's attribution, and "Run it" links on every page: Colab, and the README's two
commands. A widget has no kernel on a static page: its saved picture (the image/png FixPanel puts beside the
widget view) is shown instead, and a widget without one gets a short note, never "VBox(…)" text.
`--student` builds the site from the student copies (answers removed; helpers/course/student.py).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
from pathlib import Path

from helpers.course import attribution, cell_text, executed_seconds, notebook_paths
from helpers.paths import ARTIFACTS, NOTEBOOKS, README

OUT_DIR = ARTIFACTS / "site"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# The repository the Colab links open; GAP_CLINIC_REPO or --repo overrides it (a Colab link already in a
# notebook, e.g. its "Open in Colab" badge, wins over both).
DEFAULT_REPO = os.environ.get("GAP_CLINIC_REPO", "gap-clinic/gap-clinic")
DEFAULT_BRANCH = os.environ.get("GAP_CLINIC_BRANCH", "main")
COLAB_BADGE = "colab.research.google.com/assets/colab-badge.svg"
COLAB_SETUP_TAG = "colab-setup"
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^\s)\"'<>]+?\.ipynb")
WIDGET_NOTE = ('<div class="gc-widget-note">Interactive panel: it needs a running kernel. '
               "Open the notebook (Run it, above) to use it.</div>")

CSS = """
.gc-bar { font: 15px/1.5 system-ui, sans-serif; background: #f4f6f8; border-bottom: 1px solid #d0d7de;
  padding: 10px 24px; }
.gc-bar a { color: #0550ae; text-decoration: underline; }
.gc-bar nav a { margin-right: 14px; }
.gc-run { margin: 8px 0 0; padding: 8px 12px; border: 1px solid #d0d7de; border-radius: 6px; background: #fff; }
.gc-run code { background: #f0f0f0; padding: 1px 4px; border-radius: 3px; }
.gc-attr { margin: 8px 0 0; font-size: 13px; color: #444; }
.gc-widget-note { padding: 8px 12px; border: 1px dashed #999; border-radius: 6px; color: #555;
  font: 14px system-ui, sans-serif; }
"""

INDEX_CSS = """
body { font: 16px/1.55 system-ui, sans-serif; max-width: 1100px; margin: 0 auto; padding: 0 24px 48px; color: #1f2328; }
table { border-collapse: collapse; margin: 12px 0; }
th, td { border: 1px solid #d0d7de; padding: 6px 10px; vertical-align: top; text-align: left; }
th { background: #f4f6f8; }
code { background: #f0f0f0; padding: 1px 4px; border-radius: 3px; font-size: 90%; }
pre { background: #f6f8fa; padding: 10px 14px; border-radius: 6px; overflow-x: auto; }
pre code { background: none; padding: 0; }
.attr { font-size: 14px; color: #444; }
"""


def markdown_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def linked(text: str) -> str:
    """Bare URLs (the attribution line writes its post's address in parentheses) as markdown autolinks."""
    return re.sub(r"(?<!\]\()(?<!<)(https?://[^\s)<>]+)", r"<\1>", text)


def readme_section(readme: str, heading: str) -> str:
    """The body of the README's `## heading` section (empty if the README has none)."""
    m = re.search(rf"^##\s+{re.escape(heading)}\s*$(.*?)(?=^##\s|\Z)", readme, re.MULTILINE | re.DOTALL)
    return m.group(1).strip() if m else ""


def readme_commands(readme: str) -> list[tuple[str, str]]:
    """The README's two commands, as (command, what it does), from its "Two commands" block."""
    block = re.search(r"```\w*\n(.*?)```", readme_section(readme, "Two commands"), re.DOTALL)
    found = []
    for line in (block.group(1).splitlines() if block else []):
        cmd, _, note = line.partition("#")
        if cmd.strip():
            found.append((cmd.strip(), note.strip()))
    return found or [("make lab", "starts JupyterLab on notebooks/"), ("make test", "runs every test")]


def colab_url(nb: dict, name: str, repo: str, branch: str) -> str:
    for cell in nb.get("cells", []):
        m = COLAB_LINK.search(cell_text(cell))
        if m and m.group(0).endswith(f"/{name}"):
            return m.group(0)
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{name}"


def first_markdown(nb: dict) -> str:
    return next((cell_text(c) for c in nb.get("cells", []) if c["cell_type"] == "markdown"), "")


def title(nb: dict, stem: str) -> str:
    m = re.search(r"^#\s+(.+)$", first_markdown(nb), re.MULTILINE)
    return re.sub(r"[`*_]", "", m.group(1)).strip() if m else stem


def drop_kernel_only(nb: dict) -> None:
    """Outputs a static page cannot show: a widget view becomes its saved picture (or a note), its "VBox(…)"
    text repr goes; the notebook's widget state goes (it would load a widget manager from a CDN)."""
    nb.get("metadata", {}).pop("widgets", None)
    # The Colab setup cell and the badge (an image fetched from Colab's site) are for a live notebook; a page
    # has its own "Run it" bar, and must show whole offline.
    nb["cells"] = [c for c in nb.get("cells", []) if COLAB_SETUP_TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in nb["cells"]:
        if cell.get("cell_type") == "markdown":
            text = "".join(cell.get("source", []))
            if COLAB_BADGE in text:
                kept = [line for line in text.split("\n") if COLAB_BADGE not in line]
                cell["source"] = "\n".join(kept).lstrip("\n")
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data or WIDGET_MIME not in data:
                continue
            data.pop(WIDGET_MIME)
            if "image/png" in data:
                data.pop("text/plain", None)
            else:
                for mime in list(data):
                    data.pop(mime)
                data["text/html"] = WIDGET_NOTE


def run_box(name: str, colab: str, commands: list[tuple[str, str]], seconds: float | None = None) -> str:
    # The README's note on each command can run long: it rides along as a tooltip.
    cmds = " · ".join(f'<code title="{html.escape(n)}">{html.escape(c)}</code>' for c, n in commands)
    return (f'<div class="gc-run"><b>Run it:</b> <a class="gc-colab" href="{html.escape(colab)}">Open in Colab</a>'
            f" · or on your laptop, in a clone of the repository: {cmds} (hover for what each does); open "
            f"<code>notebooks/{html.escape(name)}</code>."
            + (f" Its last headless run took {seconds:.0f} s (kernel start not counted)." if seconds else "")
            + "</div>")


def notebook_page(path: Path, nb: dict, nav: str, commands, repo: str, branch: str) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    colab = colab_url(nb, path.name, repo, branch)
    attr = attribution(first_markdown(nb))
    seconds = executed_seconds(nb)
    drop_kernel_only(nb)
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nbformat.reads(json.dumps(nb), as_version=4))
    bar = (f'<div class="gc-bar"><nav>{nav}</nav>{run_box(path.name, colab, commands, seconds)}'
           + (f'<div class="gc-attr">{markdown_html(linked(attr))}</div>' if attr else "") + "</div>")
    body = body.replace("</head>", f"<style>{CSS}</style></head>", 1)
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + bar, body, count=1)
    return body


def index_page(readme: str, pages: list[tuple[str, str, str | None]], commands, repo: str, branch: str,
               student: bool) -> str:
    """The landing page: the README's lead, its notebook table with each name linked to its page, the posts'
    attributions and how to run the notebooks."""
    names = {stem for stem, _, _ in pages}
    table = markdown_html(readme_section(readme, "The notebooks"))

    def link(m: re.Match) -> str:
        stem = m.group(1)
        return f'<a href="{stem}.html"><code>{stem}</code></a>' if stem in names else m.group(0)

    table = re.sub(r"<code>([0-9]{2}_[A-Za-z0-9_]+)</code>", link, table)
    lead = readme.split("\n## ", 1)[0]
    lead = re.sub(r"^#\s+.*\n", "", lead, count=1).strip()
    attrs = "".join(f"<li><a href='{stem}.html'>{html.escape(t)}</a>: {markdown_html(linked(a))}</li>"
                    for stem, t, a in pages if a)
    cmds = "\n".join(f"{c}    # {n}" if n else c for c, n in commands)
    kind = " (student edition: exercises without their answers)" if student else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Gap Clinic{kind}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{INDEX_CSS}</style></head>
<body><h1>Gap Clinic{kind}</h1>
{markdown_html(lead)}
<h2>The notebooks</h2>
<p>Each page is the notebook as committed, with its outputs: read it before class, then run it.</p>
{table}
<h2>Run it</h2>
<p>In Colab: the <b>Open in Colab</b> link at the top of each page. On your laptop, in a clone of the
repository:</p>
<pre><code>{html.escape(cmds)}</code></pre>
<h2>The forum posts</h2>
<ul class="attr">{attrs}</ul>
</body></html>
"""


def build(out_dir: Path = OUT_DIR, notebook_dir: Path = NOTEBOOKS, *, student: bool = False,
          repo: str = DEFAULT_REPO, branch: str = DEFAULT_BRANCH) -> list[Path]:
    """Write the site into out_dir (emptied first); returns the pages written, the landing page first."""
    from helpers.course.student import studentize

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    readme = README.read_text(encoding="utf-8")
    commands = readme_commands(readme)[:2]
    paths = notebook_paths(notebook_dir)
    nbs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    if student:
        nbs = [studentize(nb)[0] for nb in nbs]
    pages = [(p.stem, title(nb, p.stem), attribution(first_markdown(nb))) for p, nb in zip(paths, nbs, strict=True)]
    written = [out_dir / "index.html"]
    for i, (path, nb) in enumerate(zip(paths, nbs, strict=True)):
        nav = ['<a href="index.html">Gap Clinic: all notebooks</a>']
        if i:
            nav.append(f'<a href="{paths[i - 1].stem}.html">← {html.escape(paths[i - 1].stem)}</a>')
        if i + 1 < len(paths):
            nav.append(f'<a href="{paths[i + 1].stem}.html">{html.escape(paths[i + 1].stem)} →</a>')
        page = out_dir / f"{path.stem}.html"
        page.write_text(notebook_page(path, nb, "".join(nav), commands, repo, branch), encoding="utf-8")
        written.append(page)
    (out_dir / "index.html").write_text(index_page(readme, pages, commands, repo, branch, student), encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.course.site", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: artifacts/site, "
                        "artifacts/site-student with --student)")
    parser.add_argument("--student", action="store_true", help="build from the student copies (no answers)")
    parser.add_argument("--repo", default=DEFAULT_REPO, help="GitHub OWNER/NAME for the Colab links")
    parser.add_argument("--branch", default=DEFAULT_BRANCH, help="branch for the Colab links")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", args.repo):
        parser.error(f"--repo must be OWNER/NAME, got {args.repo!r}")
    out = args.out or (OUT_DIR.with_name("site-student") if args.student else OUT_DIR)
    pages = build(out, student=args.student, repo=args.repo, branch=args.branch)
    print(f"{len(pages)} pages in {out} (open {pages[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
