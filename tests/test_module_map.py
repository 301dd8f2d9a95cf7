"""The package's module table (``recsys_ae/__init__.py``) and the README's "What is where"
name exactly the modules in the tree."""

import re
from pathlib import Path

import recsys_ae

PACKAGE = Path(recsys_ae.__file__).parent
README = PACKAGE.parent / "README.md"


def tree_modules() -> set[str]:
    files = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    return files | packages


def test_init_table_lists_every_module():
    documented = set(re.findall(r"^``(\w+)``", recsys_ae.__doc__, flags=re.M))
    assert documented == tree_modules()


def test_readme_what_is_where_lists_every_module():
    row = next(line for line in README.read_text().splitlines()
               if line.startswith("| `recsys_ae/` |"))
    # module names, not the names in parentheses after each
    named = set(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", row.split("|")[2])))
    sub = next(line for line in README.read_text().splitlines()
               if line.startswith("| `recsys_ae/chapters/` |"))
    chapters = PACKAGE / "chapters"
    assert named == tree_modules() - {"chapters"}
    in_chapters = {p.stem for p in chapters.glob("*.py")} - {"__init__"}
    assert in_chapters <= set(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "",
                                                            sub.split("|")[2])))
