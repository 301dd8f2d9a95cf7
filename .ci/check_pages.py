"""Open every page of the built book in headless Chromium and check what a reader would see.

Usage: python .ci/check_pages.py _build/html

For each page listed in _toc.yml the built HTML is served on localhost and loaded by
``chromium --headless --dump-dom`` (the DOM after scripts, MathJax included, have run), and a
screenshot is saved under ``_build/screenshots/``. A page passes when:

* it loads and has a main article with a title;
* a chapter notebook shows the data banner (the note or warning saying which data it ran on)
  and at least one figure as an <img> whose file exists;
* it shows no error output: no "Traceback", no error/traceback output blocks, no stderr block;
* its equations are typeset by MathJax (mjx-container elements, no raw \\( \\[ $$ left in the
  text), and MathJax is loaded from the book itself, not from a CDN.

Exit status 0 when every page passes; 1 with one line per problem otherwise.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--virtual-time-budget=15000",  # let MathJax finish typesetting before the DOM is dumped
]
CDN = re.compile(
    r"https?://[^\"']*(cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|unpkg\.com)[^\"']*mathjax",
    re.IGNORECASE,
)


def toc_pages(toc_file: Path) -> list[str]:
    """Document names (no suffix) in _toc.yml order: root first."""
    toc = yaml.safe_load(toc_file.read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [str(Path(p).with_suffix("")) for p in pages]


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check_pages: chromium not found (Debian: apt-get install chromium)")


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120,
    )


def check_page(name: str, html_root: Path, base: str, binary: str, shots: Path) -> list[str]:
    problems: list[str] = []
    html_file = html_root / f"{name}.html"
    if not html_file.is_file():
        return [f"{name}: {html_file} was not built"]
    raw = html_file.read_text(encoding="utf-8")
    if CDN.search(raw):
        problems.append(f"{name}: MathJax is loaded from a CDN ({CDN.search(raw).group(0)})")
    url = f"{base}/{name}.html"
    with tempfile.TemporaryDirectory() as profile:
        dom = chromium(binary, Path(profile), "--dump-dom", url)
    if dom.returncode != 0 or "<html" not in dom.stdout:
        return problems + [f"{name}: chromium could not load {url}: {dom.stderr[-500:]}"]
    soup = BeautifulSoup(dom.stdout, "html.parser")
    article = soup.find("article") or soup.find("main")
    if article is None or article.find(["h1"]) is None:
        problems.append(f"{name}: no article with a title")
        return problems
    text = article.get_text(" ")

    # no error output
    if "Traceback" in text:
        problems.append(f"{name}: a traceback is shown")
    for css in ("div.output.error", "div.output.traceback", "div.output.stderr",
                "div.cell_output .stderr", ".output_error"):
        for block in article.select(css):
            problems.append(f"{name}: error/stderr output shown ({css}): "
                            f"{block.get_text(' ')[:200]!r}")
    if re.search(r"\b\w*Error: ", text) and article.select(".cell_output pre"):
        for pre in article.select(".cell_output pre"):
            if re.search(r"^\w*(Error|Exception): ", pre.get_text(), re.MULTILINE):
                problems.append(f"{name}: exception text in an output: {pre.get_text()[:200]!r}")

    # chapter notebooks: data banner and figures
    if name.startswith("notebooks/"):
        banners = [a for a in article.select("div.admonition")
                   if "Data on this page" in a.get_text() or "SYNTHETIC" in a.get_text()]
        if not banners:
            problems.append(f"{name}: no data banner (which data the page ran on)")
        images = [img for img in article.find_all("img") if "_images/" in img.get("src", "")]
        if not images:
            problems.append(f"{name}: no figure shown as <img>")
        for img in images:
            src = img["src"].split("?")[0]
            if not (html_file.parent / src).resolve().is_file():
                problems.append(f"{name}: figure {src} missing on disk")

    # equations typeset, nothing raw left
    math_spans = article.select("span.math, div.math")
    typeset = article.find_all("mjx-container")
    if math_spans and not typeset:
        problems.append(f"{name}: {len(math_spans)} equation(s) not typeset by MathJax")
    for span in math_spans:
        if span.find("mjx-container") is None and re.search(r"\\\(|\\\[|\$\$", span.get_text()):
            problems.append(f"{name}: raw TeX visible: {span.get_text()[:80]!r}")
            break

    shot = shots / (name.replace("/", "__") + ".png")
    with tempfile.TemporaryDirectory() as profile:
        result = chromium(binary, Path(profile), "--window-size=1280,2000",
                          f"--screenshot={shot}", url)
    if result.returncode != 0 or not shot.is_file():
        problems.append(f"{name}: no screenshot: {result.stderr[-300:]}")
    status = "ok" if not problems else "FAIL"
    where = shot.relative_to(REPO) if shot.is_relative_to(REPO) else shot
    print(f"{status:4} {name}: {len(typeset)} equations typeset, "
          f"{len(article.find_all('img'))} images, screenshot {where}")
    return problems


def main(argv: list[str]) -> int:
    html_root = Path(argv[1] if len(argv) > 1 else "_build/html").resolve()
    if not (html_root / "index.html").is_file():
        print(f"check_pages: {html_root} has no index.html; build the book first")
        return 1
    shots = html_root.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    binary = find_chromium()
    server, base = serve(html_root)
    problems: list[str] = []
    try:
        pages = toc_pages(REPO / "_toc.yml")
        for name in pages:
            problems += check_page(name, html_root, base, binary, shots)
    finally:
        server.shutdown()
    for problem in problems:
        print("PROBLEM", problem)
    print(f"check_pages: {len(pages)} pages, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
