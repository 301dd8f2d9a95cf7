"""The library never imports the book's machinery, and an installed package imports whole.

``recsys_ae.chapters`` (settings, studies, tables of the book) sits on top of the library:
it may import any library module, never the other way round. A library module that imported
it would drag the book's settings into every user's program; one that imported it lazily
would still break where the book is not wanted. The source is parsed, not imported, so a lazy
import inside a function counts too.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "recsys_ae"
CHAPTERS = "recsys_ae.chapters"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _library_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py")
                  if CHAPTERS.split(".")[1] not in p.relative_to(PACKAGE).parts)


def _all_modules() -> list[str]:
    return sorted(_module_name(p) for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


def _imported_names(path: Path, source: str | None = None) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``path`` (or ``source``, read as
    if it were at ``path``) names, in absolute form: ``from recsys_ae import chapters`` gives
    ``recsys_ae.chapters``, relative imports are resolved, ``importlib.import_module("...")``
    with a literal counts too."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if source is None:
        source = path.read_text(encoding="utf-8")
    names = set()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" \
                and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value))
    return names


def _imports_chapters(names: set[str]) -> list[str]:
    return sorted(n for n in names if n == CHAPTERS or n.startswith(CHAPTERS + "."))


def test_the_checker_sees_every_form_of_import():
    probe = PACKAGE / "_layering_probe.py"  # never written: its source is given
    forms = ["import recsys_ae.chapters.settings", "from recsys_ae.chapters import studies",
             "from recsys_ae import chapters", "from .chapters import tables",
             "def f():\n    from recsys_ae.chapters.settings import book_settings",
             "import importlib\nimportlib.import_module('recsys_ae.chapters.tables')"]
    for source in forms:
        assert _imports_chapters(_imported_names(probe, source)), source
    for source in ("import recsys_ae.registry", "from recsys_ae import data, chapterz",
                   "from . import metrics"):
        assert not _imports_chapters(_imported_names(probe, source)), source


def test_the_library_never_imports_the_chapters_subpackage():
    library = _library_modules()
    assert len(library) >= 15 and PACKAGE / "registry.py" in library
    offenders = {_module_name(p): _imports_chapters(_imported_names(p)) for p in library}
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"library modules import {CHAPTERS}: {offenders}"


def test_the_chapters_subpackage_is_found_and_ships_its_data():
    from setuptools import find_packages

    assert CHAPTERS in find_packages(str(REPO), include=["recsys_ae*"])
    assert (PACKAGE / "chapters" / "recorded.json").is_file()
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'include = ["recsys_ae*"]' in pyproject and "recorded.json" in pyproject


@pytest.mark.slow
def test_a_non_editable_install_imports_every_module(tmp_path):
    """Install the package (not editable) into a folder and import each module from there,
    in a fresh interpreter whose working directory is not the repository."""
    import setuptools

    # build from a copy of what a source distribution holds, so that setuptools' build/
    # folder is not left in the repository
    source = tmp_path / "source"
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    shutil.copytree(PACKAGE, source / "recsys_ae",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    target = tmp_path / "site"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
               "--target", str(target), str(source)]
    # pyproject.toml asks for setuptools >= 77 (SPDX licence string): build with the
    # environment's own when it is new enough, else in pip's isolated build environment
    if int(setuptools.__version__.split(".")[0]) >= 77:
        command.insert(4, "--no-build-isolation")
    install = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    assert (target / "recsys_ae" / "chapters" / "recorded.json").is_file()
    modules = _all_modules()
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    module = importlib.import_module(name)\n"
        f"    assert module.__file__.startswith({str(target)!r}), (name, module.__file__)\n"
        "from recsys_ae.chapters import tables\n"
        "assert tables.recorded('full_run_rmse')['date']\n"
        "print(len(sys.modules))\n"
    )
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    result = subprocess.run([sys.executable, "-c", code], cwd=run_dir, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
