"""nbval runs these notebooks under the settings their checked outputs were stored with.

Cells tagged ``nbval-check-output`` hold the output of a run on real MovieLens 100K with the
``ci`` profile (``RECSYS_AE_DATASET=ml-100k``, ``RECSYS_AE_PROFILE=ci``), so the notebook
tests always run with exactly those settings, whatever the shell says. The kernels nbval
starts inherit this process's environment.
"""

import os
from pathlib import Path

SHARED_DATA = (Path(__file__).resolve().parents[2] / "shared" / "data").resolve()

os.environ["RECSYS_AE_DATASET"] = "ml-100k"
os.environ["RECSYS_AE_PROFILE"] = "ci"
os.environ.pop("RECSYS_AE_SYNTHETIC_SIZE", None)
os.environ.pop("RECSYS_AE_SEED", None)
if not os.environ.get("RECSYS_AE_DATA_DIR") and SHARED_DATA.is_dir():
    os.environ["RECSYS_AE_DATA_DIR"] = str(SHARED_DATA)
# a relative data folder is read from the repository root (recsys_ae.chapters.settings); make it
# absolute here too, for code that reads the variable directly
elif not Path(os.environ.get("RECSYS_AE_DATA_DIR") or "/").is_absolute():
    root_relative = Path(__file__).resolve().parents[1] / os.environ["RECSYS_AE_DATA_DIR"]
    if root_relative.is_dir():
        os.environ["RECSYS_AE_DATA_DIR"] = str(root_relative.resolve())
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# ---------------------------------------------------------------------------------------------
# One execution serves three purposes. nbval runs each notebook once, cell by cell; the outputs
# it collects are kept here, so that (1) ``test_glued_values.py`` asserts the numbers the
# notebooks glued into their prose against bands, without recomputing the chapters, and (2)
# ``.ci/book.sh`` renders the book from these executed notebooks instead of running every
# chapter again (``_build/executed/``).
# ---------------------------------------------------------------------------------------------

import ast  # noqa: E402
import hashlib  # noqa: E402

import nbformat  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXECUTED = REPO / "_build" / "executed"
#: settings that change a notebook's outputs; a stored execution is reused only if they match
STAMP_KEYS = ("RECSYS_AE_DATASET", "RECSYS_AE_PROFILE", "RECSYS_AE_SYNTHETIC_SIZE",
              "RECSYS_AE_SEED", "RECSYS_AE_DATA_DIR")
_OUTPUTS: dict = {}   # notebook path -> {cell index: outputs}
_FAILED: set = set()  # notebooks with a failed or skipped cell


def code_hash(nb) -> str:
    """Hash of a notebook's code cells: a stored execution is stale when its source changed."""
    code = "\n\x00".join(c.source for c in nb.cells if c.cell_type == "code")
    return hashlib.sha256(code.encode()).hexdigest()


def settings_stamp() -> dict:
    return {k: os.environ.get(k, "") for k in STAMP_KEYS}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not hasattr(item, "test_outputs") or not hasattr(item, "cell_num"):
        return
    report = outcome.get_result()
    path = str(item.fspath)
    if report.failed or report.skipped:
        _FAILED.add(path)
    if call.when == "call" and item.test_outputs is not None:
        _OUTPUTS.setdefault(path, {})[item.cell_num] = list(item.test_outputs)


def executed_notebook(path: Path):
    """The notebook at ``path`` with the outputs nbval collected in this session, or None.

    nbval numbers the *code* cells only (0, 1, ...: markdown cells are not counted).
    """
    path = Path(path).resolve()
    outs = _OUTPUTS.get(str(path))
    if outs is None or str(path) in _FAILED:
        return None
    nb = nbformat.read(path, as_version=4)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if count not in outs:
            return None  # not every cell ran
        cell.outputs = [nbformat.from_dict(o) for o in outs[count]]
        count += 1
        for o in cell.outputs:
            if o.output_type == "execute_result":
                o.execution_count = count
        cell.execution_count = count
    nb.metadata["recsys_ae_execution"] = {"code_sha256": code_hash(nb),
                                          "settings": settings_stamp(), "by": "nbval"}
    return nb


def pytest_sessionfinish(session, exitstatus):
    """Write every notebook nbval ran completely to ``_build/executed/`` for the book build."""
    for path in sorted(_OUTPUTS):
        nb = executed_notebook(Path(path))
        if nb is None:
            continue
        EXECUTED.mkdir(parents=True, exist_ok=True)
        target = EXECUTED / Path(path).name
        nbformat.write(nb, target)


def _literal(text):
    """A glued ``text/plain`` back to a Python value: ``"0.95"`` -> 0.95, ``"'beats'"`` ->
    ``'beats'``; anything else stays text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError):
        return text


@pytest.fixture(scope="session")
def glued():
    """``glued(stem)``: the values notebook ``stem`` glued, by glue name.

    A value is the Python literal its text stands for (a number, a string, a tuple...),
    or the text itself when it is not a literal (e.g. a figure's repr).

    Reads the outputs nbval collected; a notebook that did not run in this session is
    executed once here (with the same settings) so the test can still run on its own.
    """
    cache = {}

    def get(stem: str) -> dict:
        if stem in cache:
            return cache[stem]
        path = (Path(__file__).parent / f"{stem}.ipynb").resolve()
        nb = executed_notebook(path)
        if nb is None:
            from nbclient import NotebookClient

            nb = nbformat.read(path, as_version=4)
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        values = {}
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                meta = out.get("metadata", {}).get("scrapbook")
                if not meta:
                    continue
                data = out.get("data", {})
                key = meta.get("mime_prefix", "") + "text/plain"
                if key in data:
                    values[meta["name"]] = _literal(data[key])
        cache[stem] = values
        return values
    return get
