"""The chapters' machinery: what the book's notebooks need and the library does not.

The library (every other module of :mod:`recsys_ae`) fits, scores and saves models; this
subpackage decides what the book's pages run on and how they show it. The library never
imports it (``tests/test_layering.py`` checks), so a user of the package gets no book
settings, no warnings filter and no repository path with it.

================  ==============================================================
module            holds
================  ==============================================================
``settings``      what a page runs on: dataset, profile (``full`` or ``ci``),
                  epochs, the preset each chapter shows (:data:`MODEL_PRESETS`),
                  the data banner, :func:`~recsys_ae.chapters.settings.quiet_notebook`
``studies``       the controlled experiments of chapters 3 and 4 (column
                  permutation, cold start, centring, learning curves, model and
                  activity comparisons), every model built by the registry
``tables``        the book's rendering of the results table (rating, top-N and
                  cost summaries), published results to measure against, and the
                  recorded full-run numbers (:func:`~recsys_ae.chapters.tables.recorded`)
``recorded.json`` hand-recorded numbers of long runs, each with its date, machine
                  and command
================  ==============================================================

A notebook starts with::

    from recsys_ae.chapters import quiet_notebook
    quiet_notebook()  # before anything imports tqdm
    from recsys_ae.chapters.settings import book_settings, data_banner
    S = book_settings()

Importing this subpackage imports nothing else (not even :mod:`recsys_ae.data`), so that
:func:`quiet_notebook` can run before the first import that loads ``tqdm.auto``.
"""

import warnings as _warnings

__all__ = ["quiet_notebook"]


def quiet_notebook() -> None:
    """Silence the one warning that is only noise on a rendered page; call it first in a
    notebook's first cell, before importing the rest of the package.

    In a notebook without ipywidgets, ``tqdm.auto`` (imported by a dependency when
    :mod:`recsys_ae.data` is imported) warns "IProgress not found" on stderr; the book has no
    progress bars. Nothing else is filtered: a ``FutureWarning`` (an old name) must show, so
    that the page gets fixed. Importing the package never installs this filter.
    """
    _warnings.filterwarnings("ignore", message="IProgress not found")
