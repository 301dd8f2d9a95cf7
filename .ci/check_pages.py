"""Open every page of the built book in headless Chromium and check what a reader would see.

Usage: python .ci/check_pages.py _build/html

For each page listed in _toc.yml the built HTML is served on localhost and loaded by
``chromium --headless --dump-dom`` (the DOM after scripts, MathJax included, have run), and a
full-page screenshot is saved under ``_build/screenshots/``. The server adds one small script
to every page it serves (:data:`PROBE`): once the page has loaded it measures the page's
height (for the full-page screenshot, taken by a second run with a window that tall) and
reads every figure's pixels through a canvas, and writes what it found into the DOM, where
the dump carries it out. A page passes when:

* it loads and has a main article with a title;
* a chapter notebook shows the data banner (the note or warning saying which data it ran on)
  and at least one figure as an <img> whose file exists;
* it shows no error output: no "Traceback", no error/traceback output blocks, no stderr block;
* its equations are typeset by MathJax (mjx-container elements, no raw \\( \\[ $$ left in the
  text), and MathJax is loaded from the book itself, not from a CDN;
* no figure is blank: every <img> in the article decodes in the browser (natural size not 0)
  and its pixels are not all one colour, checked both in the browser (canvas) and on the PNG
  file itself (Pillow);
* no table cell reads ``nan``, ``NaN`` or ``<NA>``;
* every glued value arrived: a MyST-NB 1.x ``{glue:text}`` role whose key is missing renders
  as *nothing* (the role logs a warning and returns no node; Sphinx drops the system message
  unless ``keep_warnings``), so the page must show as many pasted values
  (``span.pasted-text``) as its source has ``{glue:text}`` roles, and no "System Message".

Exit status 0 when every page passes; 1 with one line per problem otherwise.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import yaml
from bs4 import BeautifulSoup
from PIL import Image

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
#: Tallest full-page screenshot taken (pixels); a longer page is shot down to this height.
MAX_SHOT_HEIGHT = 30_000
#: Script the test server adds to every HTML page: after load (and again every second, so
#: MathJax's typesetting is counted) it writes the page height and, for every <img> in the
#: article, its natural size and whether all its pixels are one colour, as JSON into
#: <pre id="check-pages-probe">.
PROBE = """<script>
(function () {
  function probe() {
    var out = {height: Math.max(document.documentElement.scrollHeight,
                                document.body ? document.body.scrollHeight : 0), images: []};
    var root = document.querySelector("article") || document.querySelector("main") || document;
    root.querySelectorAll("img").forEach(function (img) {
      var r = {src: img.getAttribute("src"), width: img.naturalWidth,
               height: img.naturalHeight, uniform: null};
      if (img.naturalWidth > 0 && img.naturalHeight > 0) {
        try {
          var c = document.createElement("canvas");
          var scale = Math.min(1, 2000 / Math.max(img.naturalWidth, img.naturalHeight));
          c.width = Math.max(1, Math.round(img.naturalWidth * scale));
          c.height = Math.max(1, Math.round(img.naturalHeight * scale));
          var ctx = c.getContext("2d");
          ctx.drawImage(img, 0, 0, c.width, c.height);
          var d = ctx.getImageData(0, 0, c.width, c.height).data, same = true;
          for (var i = 4; i < d.length; i += 4) {
            if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2] || d[i + 3] !== d[3]) {
              same = false; break;
            }
          }
          r.uniform = same;
        } catch (e) { r.error = String(e); }
      }
      out.images.push(r);
    });
    var pre = document.getElementById("check-pages-probe");
    if (!pre) {
      pre = document.createElement("pre");
      pre.id = "check-pages-probe";
      pre.hidden = true;
      document.body.appendChild(pre);
    }
    pre.textContent = JSON.stringify(out);
  }
  window.addEventListener("load", function () { probe(); setInterval(probe, 1000); });
})();
</script>"""
GLUE_TEXT_ROLE = re.compile(r"\{glue:text\}`[^`]+`")
EMPTY_CELL = {"nan", "NaN", "<NA>"}
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

        def send_head(self):
            """HTML pages get :data:`PROBE` before ``</body>``; everything else as on disk."""
            path = Path(self.translate_path(self.path))
            if path.suffix != ".html" or not path.is_file():
                return super().send_head()
            html = path.read_text(encoding="utf-8")
            at = html.rfind("</body>")
            body = (html[:at] + PROBE + html[at:] if at >= 0 else html + PROBE).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120,
    )


def source_glue_roles(name: str) -> int | None:
    """Number of ``{glue:text}`` roles in the source of page ``name`` (markdown cells of a
    notebook, or a Markdown file); None when the source is not found."""
    for suffix in (".ipynb", ".md"):
        source = REPO / f"{name}{suffix}"
        if source.is_file():
            break
    else:
        return None
    if source.suffix == ".md":
        return len(GLUE_TEXT_ROLE.findall(source.read_text(encoding="utf-8")))
    cells = json.loads(source.read_text(encoding="utf-8"))["cells"]
    return sum(len(GLUE_TEXT_ROLE.findall("".join(c["source"]))) for c in cells
               if c["cell_type"] == "markdown")


def blank_png(path: Path) -> str | None:
    """Why the image file at ``path`` shows nothing (empty, undecodable, one colour), or None."""
    try:
        with Image.open(path) as img:
            img.load()
            if img.width == 0 or img.height == 0:
                return "has size 0"
            extrema = img.convert("RGBA").getextrema()
    except Exception as exc:  # noqa: BLE001 - any decoding failure is a broken figure
        return f"does not decode ({exc})"
    if all(low == high for low, high in extrema):
        return "is a single colour"
    return None


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
            on_disk = (html_file.parent / src).resolve()
            if not on_disk.is_file():
                problems.append(f"{name}: figure {src} missing on disk")
            elif (why := blank_png(on_disk)) is not None:
                problems.append(f"{name}: blank figure: {src} {why}")

    # what the browser made of the figures (the probe script), and how tall the page is
    probe_node = soup.find(id="check-pages-probe")
    probe = json.loads(probe_node.get_text()) if probe_node is not None else None
    if probe is None:
        problems.append(f"{name}: the probe script did not run (page never finished loading?)")
    else:
        for found in probe["images"]:
            if not found["width"] or not found["height"]:
                problems.append(f"{name}: blank figure: {found['src']} does not load in the "
                                f"browser (natural size {found['width']}x{found['height']})")
            elif found.get("uniform"):
                problems.append(f"{name}: blank figure: {found['src']} is one colour on the page")
            elif found.get("error"):
                problems.append(f"{name}: figure {found['src']} unreadable: {found['error']}")

    # no NaN in a table
    for cell in article.find_all("td"):
        if cell.get_text().strip() in EMPTY_CELL:
            row = cell.find_parent("tr")
            problems.append(f"{name}: table cell {cell.get_text().strip()!r} in row "
                            f"{row.get_text(' ', strip=True)[:120]!r}")

    # every glued value arrived
    expected_glue = source_glue_roles(name)
    pasted = len(article.select("span.pasted-text"))
    if expected_glue is not None and pasted < expected_glue:
        problems.append(f"{name}: {expected_glue - pasted} of {expected_glue} glued values "
                        "missing (a {glue:text} role whose key was not found renders as nothing)")
    if "System Message" in text or article.select("div.system-message"):
        problems.append(f"{name}: a Sphinx/MyST system message is shown")

    # equations typeset, nothing raw left
    math_spans = article.select("span.math, div.math")
    typeset = article.find_all("mjx-container")
    if math_spans and not typeset:
        problems.append(f"{name}: {len(math_spans)} equation(s) not typeset by MathJax")
    for span in math_spans:
        if span.find("mjx-container") is None and re.search(r"\\\(|\\\[|\$\$", span.get_text()):
            problems.append(f"{name}: raw TeX visible: {span.get_text()[:80]!r}")
            break

    # full page: a window as tall as the page (capped), so the screenshot holds all of it
    height = min(int(probe["height"]) if probe else 2000, MAX_SHOT_HEIGHT)
    height = max(height, 800)
    shot = shots / (name.replace("/", "__") + ".png")
    shot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        result = chromium(binary, Path(profile), f"--window-size=1280,{height}",
                          f"--screenshot={shot}", url)
    if result.returncode != 0 or not shot.is_file():
        problems.append(f"{name}: no screenshot: {result.stderr[-300:]}")
    status = "ok" if not problems else "FAIL"
    where = shot.relative_to(REPO) if shot.is_relative_to(REPO) else shot
    cut = " (cut)" if probe and int(probe["height"]) > MAX_SHOT_HEIGHT else ""
    print(f"{status:4} {name}: {len(typeset)} equations typeset, "
          f"{len(article.find_all('img'))} images, {pasted} glued values, "
          f"screenshot 1280x{height}{cut} {where}")
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
