"""Lay out the book's source with the notebooks nbval already executed, if they are current.

``python -m pytest`` runs every notebook once through nbval, and ``notebooks/conftest.py``
writes each completely executed notebook to ``_build/executed/`` with the hash of its code and
the data settings it ran under. When every chapter of ``_toc.yml`` has such a notebook, whose
code and settings match the current ones, this script copies the book's source to
``DEST`` with those notebooks in place and execution switched off, so the book build renders
the very outputs the tests checked instead of running every chapter a second time. Otherwise
it exits 1 and the build executes the notebooks itself.

Usage: python .ci/executed_source.py DEST
"""

import shutil
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "notebooks"))
from conftest import EXECUTED, code_hash, settings_stamp  # noqa: E402


def chapters() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").is_file()]


def main(dest: Path) -> int:
    stamp = settings_stamp()
    for source in chapters():
        done = EXECUTED / source.name
        if not done.is_file():
            print(f"book: {source.name} was not executed by the tests; executing it in the build")
            return 1
        meta = nbformat.read(done, as_version=4).metadata.get("recsys_ae_execution", {})
        if meta.get("code_sha256") != code_hash(nbformat.read(source, as_version=4)):
            print(f"book: {source.name} changed since the tests ran; executing in the build")
            return 1
        if meta.get("settings") != stamp:
            print(f"book: {source.name} ran under other settings; executing in the build")
            return 1
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (dest / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copy2(ROOT / "_toc.yml", dest / "_toc.yml")
    shutil.copytree(ROOT / "book", dest / "book")
    (dest / "notebooks").mkdir()
    for source in chapters():
        shutil.copy2(EXECUTED / source.name, dest / "notebooks" / source.name)
    for shared in ("node_modules", "recsys_ae", "benchmarks"):  # static files, literalinclude
        if (ROOT / shared).exists():
            (dest / shared).symlink_to(ROOT / shared)
    print(f"book: rendering the {len(chapters())} notebooks nbval executed (no second run)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
