"""The book's rendering of the results table, and the numbers it quotes without computing them.

:func:`recsys_ae.results.results_table` (the library, also ``python -m recsys_ae results``)
produces one long table; chapter 5 (evaluation) shows it through the summaries here:

=========================  ===============================================================
name                       what
=========================  ===============================================================
:func:`rating_summary`     rating rows: one row per model, RMSE and MAE as "mean ± std"
:func:`topn_summary`       top-N rows at one cut-off: one row per model
:func:`cost_summary`       output-layer cost rows: one row per (shape, model)
:func:`published_results`  published test RMSEs, each with its data, split and protocol
:func:`recorded`           hand-recorded numbers of long runs (``recorded.json``), each with
                           the date, machine and command that produced it
:data:`FULL_RUN_RMSE`      ``recorded("full_run_rmse")["values"]`` as (mean, std) tuples
=========================  ===============================================================
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["FULL_RUN_RMSE", "recorded", "published_results", "rating_summary",
           "topn_summary", "cost_summary"]

#: Fields every entry of ``recorded.json`` has.
RECORD_FIELDS = ("description", "date", "machine", "command", "values")


@lru_cache(maxsize=1)
def _load_recorded() -> dict:
    text = resources.files("recsys_ae.chapters").joinpath("recorded.json").read_text("utf-8")
    return json.loads(text)


def recorded(name: str | None = None) -> dict:
    """Hand-recorded numbers of runs too long for a page, from ``recorded.json``.

    Parameters
    ----------
    name : str, optional
        An entry (``"full_run_rmse"``, ``"ci_epochs"``); default: every entry, by name.

    Returns
    -------
    dict
        The entry: ``description``, ``date`` (ISO), ``machine``, ``command`` (what produced
        the numbers), ``unit`` and ``values``. A fresh copy: changing it changes nothing here.

    Raises
    ------
    KeyError
        For an unknown entry; the message lists the recorded ones.
    """
    data = json.loads(json.dumps(_load_recorded()))  # a deep copy
    if name is None:
        return data
    if name not in data:
        raise KeyError(f"no recorded entry {name!r}; recorded: {sorted(data)}")
    return data[name]


def _full_run_rmse() -> dict:
    values = recorded("full_run_rmse")["values"]
    return {split: {model: (float(mean), np.nan if std is None else float(std))
                    for model, (mean, std) in models.items()}
            for split, models in values.items()}


#: What :func:`recsys_ae.results.results_table` measured in its full mode (``python -m
#: recsys_ae results``; the presets' epochs), test RMSE as (mean, sample std): ``"u1"`` over
#: seeds 0, 1, 2 (the bias and global mean have no seed: std NaN), ``"u1-u5"`` over the five
#: folds with seed 0. Date, machine and command: ``recorded("full_run_rmse")``. The book quotes
#: these next to whatever its current run computed, because a ``ci`` run trains for a few epochs
#: only; the single-seed bands in ``tests/test_results.py`` keep them honest.
FULL_RUN_RMSE = _full_run_rmse()


def published_results() -> pd.DataFrame:
    """Published test RMSEs to measure against, each with its data, split and protocol.

    None is on our exact protocol (u1, hyperparameters chosen on a validation
    split of ``u1.base``), so they are context, not targets to compare digit
    by digit.

    Returns
    -------
    DataFrame
        Columns ``source``, ``dataset``, ``split``, ``model``, ``rmse``.
    """
    rows = [
        ("Sedhain et al. 2015 (AutoRec)", "ML-1M", "random 90/10", "I-AutoRec", 0.831),
        ("Sedhain et al. 2015 (AutoRec)", "ML-1M", "random 90/10", "U-AutoRec", 0.874),
        ("Sedhain et al. 2015 (AutoRec)", "ML-1M", "random 90/10", "biased MF", 0.845),
        ("Berg et al. 2017 (GC-MC)", "ML-100K", "canonical u1", "GC-MC", 0.910),
        ("Berg et al. 2017 (GC-MC)", "ML-100K", "canonical u1",
         "GC-MC + side features", 0.905),
        ("Han et al. 2021 (GLocal-K)", "ML-100K", "canonical u1", "GLocal-K", 0.889),
        ("Surprise documentation (Hug 2020)", "ML-100K", "random 5-fold CV", "BaselineOnly",
         0.944),
    ]
    return pd.DataFrame(rows, columns=["source", "dataset", "split", "model", "rmse"])


def _pm(value: float, std: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if pd.isna(std) else f"{value:.{digits}f} ± {std:.{digits}f}"


def rating_summary(table: pd.DataFrame, section: str = "rating") -> pd.DataFrame:
    """The rating rows of :func:`recsys_ae.results.results_table` as a compact table, one row
    per model.

    Returns
    -------
    DataFrame
        Columns ``dataset``, ``split``, ``model``, ``RMSE``, ``MAE`` (mean, and
        ``± std`` over seeds or folds when there are several, as text) and
        ``seeds``; in the order of :data:`recsys_ae.results.RATING_MODELS`.
    """
    part = table[table["section"] == section]
    rows = []
    for (dataset, split, model), g in part.groupby(["dataset", "split", "model"], sort=False):
        by = g.set_index("metric")
        rows.append({"dataset": dataset, "split": split, "model": model,
                     "RMSE": _pm(by.loc["rmse", "value"], by.loc["rmse", "std"]),
                     "MAE": _pm(by.loc["mae", "value"], by.loc["mae", "std"]),
                     "seeds": by.loc["rmse", "seeds"]})
    return pd.DataFrame(rows, columns=["dataset", "split", "model", "RMSE", "MAE", "seeds"])


def topn_summary(table: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """The top-N rows of :func:`recsys_ae.results.results_table` at cut-off ``k``, one row per
    model.

    Returns
    -------
    DataFrame
        Indexed by model; columns ``recall@k``, ``ndcg@k``, ``coverage@k``,
        ``pop_share@k`` (floats) and ``users`` (users scored).
    """
    part = table[table["section"] == "topn"]
    wide = part.pivot_table(index="model", columns="metric", values="value", sort=False)
    cols = [f"recall@{k}", f"ndcg@{k}", f"coverage@{k}", f"pop_share@{k}"]
    out = wide[cols].copy()
    out["users"] = part.groupby("model", sort=False)["n"].first()
    out.columns.name = None
    return out


def cost_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The cost rows of :func:`recsys_ae.results.results_table`, one row per (shape, model).

    Returns
    -------
    DataFrame
        Columns ``shape``, ``model``, ``columns`` (output units),
        ``decoder_params``, ``model_params``, ``adam_bytes``, ``batch_bytes``.
    """
    part = table[table["section"] == "cost"]
    wide = part.pivot_table(index=["dataset", "model", "n"], columns="metric", values="value",
                            sort=False).reset_index()
    wide = wide.rename(columns={"dataset": "shape", "n": "columns"})
    wide["shape"] = wide["shape"].str.replace("amazon-beauty shape ", "", regex=False)
    cols = ["decoder_params", "model_params", "adam_bytes", "batch_bytes"]
    wide[cols] = wide[cols].astype(np.int64)
    wide.columns.name = None
    return wide[["shape", "model", "columns", *cols]]
