"""One experiment end to end: load → clean → filter → split → fit → evaluate.

The command line (``python -m recsys_ae train``) and the book's notebooks both
call :func:`prepare` and :func:`run`, so a number printed by one is the number
the other shows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recsys_ae import data, preprocess
from recsys_ae.baselines import BiasBaseline, GlobalMean
from recsys_ae.metrics import mae, rmse

__all__ = ["MODELS", "PATHS", "Prepared", "choose_path", "default_filter", "default_split",
           "evaluate", "make_model", "prepare", "run"]

#: Model names accepted by :func:`run` and the command line.
MODELS = ("i-autorec", "u-autorec")


def default_filter(dataset: str) -> str:
    """The filter applied to a dataset by default: the seed notebook's rule for
    the Amazon data and its synthetic stand-in, none for MovieLens (every
    MovieLens user already has at least 20 ratings)."""
    return "none" if dataset.startswith("ml-") else "seed"


def default_split(dataset: str) -> str:
    """``"u1"`` (the canonical MovieLens 100K split) for ``ml-100k``, else the
    seed notebook's random 80/20 split of ratings (``"random"``)."""
    return "u1" if dataset == "ml-100k" else "random"


@dataclass
class Prepared:
    """A dataset made ready for training: everything that precedes ``fit``.

    Attributes
    ----------
    dataset : str
    synthetic : bool
        True for the generated stand-in; shown wherever results are.
    ratings : DataFrame
        Ratings after validation, de-duplication and filtering.
    split : preprocess.Split
    duplicates : preprocess.DuplicateReport
    filtering : preprocess.Report
        What each filter step removed.
    raw_counts : dict
        Ratings, users and items as loaded.
    """

    dataset: str
    synthetic: bool
    ratings: pd.DataFrame
    split: preprocess.Split
    duplicates: object
    filtering: preprocess.Report
    raw_counts: dict = field(default_factory=dict)


def prepare(dataset: str = "amazon-beauty", *, seed: int = 0, filter: str | None = None,
            split: str | None = None, data_dir=None, download: bool = True,
            **dataset_kwargs) -> Prepared:
    """Load, validate, de-duplicate, filter and split a dataset.

    Parameters
    ----------
    dataset : str
        A name from :data:`recsys_ae.data.DATASETS`.
    seed : int
        Seed of the random split (and of the synthetic generator).
    filter : {"seed", "none"} or "kcore-K", optional
        ``"seed"`` keeps users with more than one item, then items with more
        than one user (the seed notebook's rule); ``"kcore-5"`` an iterative
        5-core. Default: :func:`default_filter`.
    split : {"random", "per-user", "u1", ..., "u5"}, optional
        Default: :func:`default_split`. The canonical ``uN`` splits exist for
        ``ml-100k`` only and are used as published (no filter is applied).
    data_dir : path, optional
        Dataset cache folder (else ``RECSYS_AE_DATA_DIR``, else the user
        cache).
    download : bool
        Whether a missing file may be downloaded.
    **dataset_kwargs
        Passed to :func:`recsys_ae.data.load_dataset` (``size=`` for
        ``synthetic``).

    Returns
    -------
    Prepared

    Raises
    ------
    recsys_ae.data.DataNotFoundError
        When the file is missing and cannot be downloaded.
    ValueError
        For an unknown filter or split, or invalid ratings.
    """
    filter = filter or default_filter(dataset)
    split = split or default_split(dataset)
    if dataset == "synthetic":
        dataset_kwargs.setdefault("seed", seed)
    if split.startswith("u") and split[1:] in {"1", "2", "3", "4", "5", "a", "b"}:
        if dataset != "ml-100k":
            raise ValueError(f"split {split!r} is MovieLens 100K's canonical split; "
                             f"dataset {dataset!r} has none (use 'random' or 'per-user')")
        train, test = data.load_canonical_split("ml-100k", fold=split[1:], data_dir=data_dir,
                                                download=download)
        ratings = pd.concat([train, test], ignore_index=True)
        raw_counts = data.dataset_counts(ratings)
        preprocess.validate_ratings(ratings)
        _, duplicates = preprocess.deduplicate(ratings)
        if duplicates.n_duplicate_rows:
            raise ValueError(f"canonical split {split} has {duplicates.n_duplicate_rows} "
                             "duplicate (user, item) rows; expected none")
        report = preprocess.Report()
        chosen = preprocess.Split(train=train, test=test, name=f"ml-100k canonical {split}")
        return Prepared(dataset, False, ratings, chosen, duplicates, report, raw_counts)

    ratings = data.load_dataset(dataset, data_dir=data_dir, download=download,
                                **dataset_kwargs)
    synthetic = bool(ratings.attrs.get("synthetic", False))
    raw_counts = data.dataset_counts(ratings)
    preprocess.validate_ratings(ratings)
    ratings, duplicates = preprocess.deduplicate(ratings)
    if filter == "seed":
        ratings, report = preprocess.seed_filter(ratings)
    elif filter.startswith("kcore-") and filter[6:].isdigit():
        ratings, report = preprocess.kcore_filter(ratings, k=int(filter[6:]))
    elif filter == "none":
        report = preprocess.Report()
    else:
        raise ValueError(f"unknown filter {filter!r}; use 'seed', 'none' or 'kcore-K'")
    if split == "random":
        chosen = preprocess.random_split(ratings, test_size=0.2, seed=seed)
    elif split == "per-user":
        chosen = preprocess.per_user_holdout(ratings, test_size=0.2, seed=seed)
    else:
        raise ValueError(f"unknown split {split!r}; use 'random', 'per-user' or u1..u5")
    chosen.name = chosen.name or split
    return Prepared(dataset, synthetic, ratings, chosen, duplicates, report, raw_counts)


#: Training paths accepted by :func:`make_model`.
PATHS = ("auto", "sparse", "dense")

#: ``path="auto"`` trains on the sparse path when the training matrix is less
#: full than this (Beauty after the seed's filter: 0.002%; MovieLens 100K: 6.3%).
SPARSE_BELOW_DENSITY = 0.01


def choose_path(path: str, train: pd.DataFrame | None = None) -> str:
    """Resolve ``path="auto"`` to ``"sparse"`` or ``"dense"`` for a training set.

    The dense formulation costs ``rows x columns`` per epoch, the sparse one
    grows with the number of observed ratings but pays more per rating, so the
    sparse path wins only on very sparse matrices. ``"sparse"`` and ``"dense"``
    are returned unchanged.
    """
    if path not in PATHS:
        raise ValueError(f"unknown path {path!r}; choose one of {', '.join(PATHS)}")
    if path != "auto":
        return path
    if train is None:
        return "sparse"
    density = len(train) / (train["user"].nunique() * train["item"].nunique())
    return "sparse" if density < SPARSE_BELOW_DENSITY else "dense"


def make_model(name: str, *, preset: str = "paper", epochs: int | None = None, seed: int = 0,
               verbose="auto", path: str = "dense", objective: str = "auto", **overrides):
    """An unfitted AutoRec for a model name from :data:`MODELS`.

    Parameters
    ----------
    name : {"i-autorec", "u-autorec"}
    preset : str
        An :class:`~recsys_ae.autorec.AutoRecConfig` preset; ``epochs`` and
        ``overrides`` replace its fields.
    seed : int
    verbose : int or "auto"
    path : {"dense", "sparse"}
        ``"dense"``: :class:`~recsys_ae.autorec.AutoRec`, the seed's Keras
        formulation (every batch densified). ``"sparse"``:
        :class:`~recsys_ae.sparse.SparseAutoRec`, whose cost grows with the
        observed ratings only. Resolve ``"auto"`` first with
        :func:`choose_path`.
    objective : {"auto", "fast", "seed"}
        Sparse path only: lazy L2 and optimizer state on touched rows
        (``"fast"``), or the seed's exact objective (``"seed"``: full L2 and
        momentum, applied lazily but exactly, for SGD; with Adam it falls back
        to updating whole kernels). ``"auto"``: ``"seed"`` for SGD (exact at
        about the cost of ``"fast"``, and better on held-out ratings in
        ``benchmarks/bench_sparse.py``), ``"fast"`` for Adam.
    """
    from recsys_ae.autorec import AutoRec, AutoRecConfig  # imports TensorFlow

    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if epochs is not None:
        overrides["epochs"] = epochs
    config = AutoRecConfig.preset(preset, **overrides)
    kind = "item" if name == "i-autorec" else "user"
    if objective == "auto":
        objective = "seed" if config.optimizer == "sgd" else "fast"
    if path == "sparse":
        from recsys_ae.sparse import SparseAutoRec

        return SparseAutoRec(kind, config, seed=seed, verbose=verbose, objective=objective)
    if path != "dense":
        raise ValueError(f"path must be 'dense' or 'sparse' here, got {path!r}")
    return AutoRec(kind, config, seed=seed, verbose=verbose)


def evaluate(model, test: pd.DataFrame) -> dict:
    """RMSE and MAE of a fitted model over *all* test ratings.

    Test ratings whose user or item is unknown to the model get its cold-start
    fallback and are included; ``n_cold`` counts them.

    Returns
    -------
    dict
        ``rmse``, ``mae`` (stars), ``n_cold`` (int) and ``pred`` (ndarray of
        float64, shape ``(len(test),)``, the predictions in test order).
    """
    pred = model.predict(test["user"].to_numpy(), test["item"].to_numpy())
    truth = test["rating"].to_numpy(dtype=np.float64)
    return {"rmse": rmse(truth, pred), "mae": mae(truth, pred),
            "n_cold": int(getattr(model, "n_cold_", 0)), "pred": pred}


def run(dataset: str = "amazon-beauty", model: str = "i-autorec", *, preset: str = "paper",
        epochs: int | None = None, seed: int = 0, filter: str | None = None,
        split: str | None = None, data_dir=None, download: bool = True, verbose="auto",
        path: str = "auto", objective: str = "auto", return_model: bool = False,
        **dataset_kwargs):
    """Prepare a dataset, train one AutoRec and the baselines, and evaluate.

    Parameters are those of :func:`prepare` and :func:`make_model`, except
    that ``path`` may be ``"auto"`` (the default): sparse for matrices less
    than 1% full, dense otherwise (see :func:`choose_path`). With
    ``return_model=True`` the fitted AutoRec is returned too, as
    ``(result, model)``.

    Returns
    -------
    dict
        ``dataset``, ``synthetic``, ``n_ratings``, ``n_users``, ``n_items``
        (after cleaning and filtering), ``raw`` (counts as loaded),
        ``duplicates_merged``, ``filter_removed`` (ratings), ``split``,
        ``n_train``, ``n_test``, ``n_test_cold``, ``model``, ``path``
        (``"sparse"`` or ``"dense"``, after resolving ``"auto"``),
        ``objective``, ``preset``,
        ``epochs``, ``seed``, ``test_rmse``, ``test_mae``, ``baselines``
        (``{"global_mean": {"rmse", "mae"}, "bias": {"rmse", "mae"}}``),
        ``history`` and ``seconds`` (wall-clock time of the whole run).
    """
    start = time.perf_counter()
    prepared = prepare(dataset, seed=seed, filter=filter, split=split, data_dir=data_dir,
                       download=download, **dataset_kwargs)
    train, test = prepared.split.train, prepared.split.test
    path = choose_path(path, train)
    autorec = make_model(model, preset=preset, epochs=epochs, seed=seed, verbose=verbose,
                         path=path, objective=objective)
    autorec.fit(train)
    scores = evaluate(autorec, test)
    baselines = {}
    for key, baseline in (("global_mean", GlobalMean()), ("bias", BiasBaseline())):
        b = evaluate(baseline.fit(train), test)
        baselines[key] = {"rmse": b["rmse"], "mae": b["mae"]}
    counts = data.dataset_counts(prepared.ratings)
    result = {
        "dataset": dataset,
        "synthetic": prepared.synthetic,
        **counts,
        "raw": prepared.raw_counts,
        "duplicates_merged": int(prepared.duplicates.n_duplicate_rows),
        "filter_removed": int(prepared.filtering.to_frame()["ratings_removed"].sum())
        if len(prepared.filtering) else 0,
        "split": prepared.split.name,
        "n_train": len(train),
        "n_test": len(test),
        "n_test_cold": scores["n_cold"],
        "model": "I-AutoRec" if autorec.kind == "item" else "U-AutoRec",
        "path": path,
        "objective": getattr(autorec, "objective", None),
        "preset": preset,
        "epochs": autorec.config.epochs,
        "seed": seed,
        "test_rmse": scores["rmse"],
        "test_mae": scores["mae"],
        "baselines": baselines,
        "history": autorec.history_,
        "seconds": time.perf_counter() - start,
    }
    if return_model:
        return result, autorec
    return result
