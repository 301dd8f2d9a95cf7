"""One experiment end to end: load → clean → filter → split → fit → evaluate.

The command line (``python -m recsys_ae train``) and the book's notebooks both
call :func:`prepare` and :func:`run`, so a number printed by one is the number
the other shows.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field

import pandas as pd

from recsys_ae import configs, data, preprocess
from recsys_ae.metrics import evaluate
from recsys_ae.registry import get_spec, make_model, resolve_backend

__all__ = ["FILTERS", "Prepared", "default_filter", "default_split", "prepare", "run"]

#: Filters accepted by :func:`prepare` (and ``kcore-K`` for any K).
FILTERS = ("one-pass", "none")

#: Former filter names, still accepted with a ``FutureWarning``.
FILTER_ALIASES = {"seed": "one-pass"}


def default_filter(dataset: str) -> str:
    """The filter applied to a dataset by default: the student notebook's one-pass
    rule for the Amazon data and its synthetic stand-in, none for MovieLens (every
    MovieLens user already has at least 20 ratings)."""
    return "none" if dataset.startswith("ml-") else "one-pass"


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
            ratings=None, test=None, **dataset_kwargs) -> Prepared:
    """Load, validate, de-duplicate, filter and split a dataset.

    Parameters
    ----------
    dataset : str
        A name from :data:`recsys_ae.data.DATASETS`.
    seed : int
        Seed of the random split (and of the synthetic generator).
    filter : {"one-pass", "none"} or "kcore-K", optional
        ``"one-pass"`` keeps users with more than one item, then items with more
        than one user, each counted once on the input (the student notebook's
        rule, :func:`recsys_ae.preprocess.one_pass_filter`); ``"kcore-5"`` an
        iterative 5-core. Default: :func:`default_filter`.
    split : {"random", "per-user", "u1", ..., "u5"}, optional
        Default: :func:`default_split`. The canonical ``uN`` splits exist for
        ``ml-100k`` only and are used as published (no filter is applied).
    data_dir : path, optional
        Dataset cache folder (else ``RECSYS_AE_DATA_DIR``, else the user
        cache).
    download : bool
        Whether a missing file may be downloaded.
    ratings : path, optional
        A ratings file of your own, read with :func:`recsys_ae.data.load_ratings`
        instead of a registered dataset (``dataset`` is then only its label).
        Its default filter is ``"none"``; the split is ``"random"`` or
        ``"per-user"``.
    test : path, optional
        With ``ratings``: a test file used as the test part as it is (no
        split, no filter); it is read on the training file's rating scale.
    **dataset_kwargs
        Passed to :func:`recsys_ae.data.load_dataset` (``size=`` for
        ``synthetic``; ``first_columns``, ``repair_asins``), or with ``ratings``
        to :func:`recsys_ae.data.load_ratings` (``rating_scale``, ``fmt``,
        ``first_columns``, ``repair_asins``).

    Returns
    -------
    Prepared

    Raises
    ------
    recsys_ae.data.DataNotFoundError
        When the file is missing and cannot be downloaded.
    ValueError
        For an unknown filter or split, invalid ratings, ``rating_scale`` for a
        registered dataset (it has its known scale), or when nothing is left to
        split: the message says what emptied the data (the file, or the filter
        with its report).
    """
    if test is not None and ratings is None:
        raise ValueError("test= needs ratings= (the training file)")
    if ratings is not None:
        return _prepare_file(dataset, ratings, test, seed=seed, filter=filter or "none",
                             split=split or "random", **dataset_kwargs)
    if "rating_scale" in dataset_kwargs:
        raise ValueError(f"rating_scale= applies to your own files (ratings=); dataset "
                         f"{dataset!r} is read with its known scale")
    filter = filter or default_filter(dataset)
    if filter in FILTER_ALIASES:
        warnings.warn(f"filter {filter!r} is deprecated; use {FILTER_ALIASES[filter]!r}",
                      FutureWarning, stacklevel=2)
        filter = FILTER_ALIASES[filter]
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
    source = ratings.attrs.get("source", dataset)
    return _filter_and_split(dataset, synthetic, ratings, source, filter, split, seed)


def _loaded(ratings: pd.DataFrame, source) -> None:
    """Refuse a frame with no ratings, naming where it came from."""
    if len(ratings) == 0:
        raise ValueError(f"{source}: no ratings were loaded (the file is empty or has only "
                         "a header); nothing to train on")


def _filter_and_split(dataset, synthetic, ratings, source, filter, split, seed) -> Prepared:
    """Validate, de-duplicate, filter and split; say what emptied the data if it is."""
    _loaded(ratings, source)
    raw_counts = data.dataset_counts(ratings)
    preprocess.validate_ratings(ratings)
    ratings, duplicates = preprocess.deduplicate(ratings)
    if filter == "one-pass":
        ratings, report = preprocess.one_pass_filter(ratings)
    elif filter.startswith("kcore-") and filter[6:].isdigit():
        ratings, report = preprocess.kcore_filter(ratings, k=int(filter[6:]))
    elif filter == "none":
        report = preprocess.Report()
    else:
        raise ValueError(f"unknown filter {filter!r}; use 'one-pass', 'none' or 'kcore-K'")
    if split not in ("random", "per-user"):
        raise ValueError(f"unknown split {split!r}; use 'random', 'per-user' or u1..u5")
    left = f"{len(ratings):,} of the {raw_counts['n_ratings']:,} ratings loaded from {source}"
    steps = "; ".join(f"{s.name}: {s.ratings_before:,} -> {s.ratings_after:,} ratings"
                      for s in report)
    if filter != "none" and len(ratings) == 0:
        raise ValueError(f"filter {filter!r} removed every rating ({steps}); use a weaker "
                         "filter or 'none'")
    try:
        if split == "random":
            chosen = preprocess.random_split(ratings, test_size=0.2, seed=seed)
        else:
            chosen = preprocess.per_user_holdout(ratings, test_size=0.2, seed=seed)
    except ValueError as err:
        after = f" after filter {filter!r} ({steps})" if filter != "none" else ""
        raise ValueError(f"too few ratings to split: {left} are left{after}; the {split} "
                         f"split says: {err}") from None
    chosen.name = chosen.name or split
    return Prepared(dataset, synthetic, ratings, chosen, duplicates, report, raw_counts)


def _prepare_file(dataset, ratings_path, test_path, *, seed, filter, split,
                  **load_kwargs) -> Prepared:
    """:func:`prepare` for a user's own ratings file (and optional test file)."""
    ratings = data.load_ratings(ratings_path, **load_kwargs)
    ratings.attrs.setdefault("source", str(ratings_path))
    if test_path is None:
        return _filter_and_split(dataset, False, ratings, ratings_path, filter, split, seed)
    if filter != "none":
        raise ValueError("a test file is used as it is: filter applies only when the split "
                         "is made here (drop filter, or drop test)")
    scale = ratings.attrs.get("rating_scale")
    test_kwargs = dict(load_kwargs)
    if scale is not None and scale[2] is not None:
        test_kwargs["rating_scale"] = scale
    test = data.load_ratings(test_path, **test_kwargs)
    _loaded(ratings, ratings_path)
    _loaded(test, test_path)
    both = pd.concat([ratings, test], ignore_index=True)
    raw_counts = data.dataset_counts(both)
    preprocess.validate_ratings(ratings)
    preprocess.validate_ratings(test)
    train, duplicates = preprocess.deduplicate(ratings)
    test, test_duplicates = preprocess.deduplicate(test)
    if test_duplicates.n_duplicate_rows:
        raise ValueError(f"{test_path}: {test_duplicates.n_duplicate_rows} duplicate "
                         "(user, item) rows; a test file needs one rating per pair")
    chosen = preprocess.Split(train=train, test=test, name="given test file")
    return Prepared(dataset, False, pd.concat([train, test], ignore_index=True), chosen,
                    duplicates, preprocess.Report(), raw_counts)


def run(dataset: str = "amazon-beauty", model: str = "i-autorec", *, preset: str | None = None,
        epochs: int | None = None, seed: int = 0, filter: str | None = None,
        split: str | None = None, data_dir=None, download: bool = True, verbose="auto",
        backend: str = "auto", objective: str = "auto", return_model: bool = False,
        path: str | None = None, config=None, progress=None,
        budget_seconds: float | None = None, max_search_seconds: float | None = None,
        **dataset_kwargs):
    """Prepare a dataset, train one model and the baselines, and evaluate.

    Parameters
    ----------
    dataset, seed, filter, split, data_dir, download, **dataset_kwargs
        As in :func:`prepare`.
    model : str
        A rating model of :data:`recsys_ae.registry.MODELS` (``i-autorec``,
        ``u-autorec``, ``biased-mf``, ...).
    preset : str, optional
        The model's preset (default: the registry's ``default_preset``; AutoRec:
        ``"paper"``). AutoRec also takes ``"auto"``: the validation search of
        :func:`recsys_ae.tuning.auto_search` on the training part only (the test part is
        not read before the final model is evaluated), then the chosen configuration
        refitted on all training ratings (dense backend).
    config : AutoRecConfig, optional
        A full configuration instead of a preset (e.g. from
        :func:`recsys_ae.tuning.load_config`).
    progress : callable, optional
        ``preset="auto"``: called with one line per configuration tried.
    budget_seconds : float, optional
        ``preset="auto"``: the search's time budget (default
        :data:`recsys_ae.tuning.AUTO_BUDGET_SECONDS`).
    max_search_seconds : float, optional
        ``preset="auto"``: refuse (:class:`recsys_ae.tuning.SearchTooLong`) a search
        estimated to take longer, before training anything.
    epochs : int, optional
        AutoRec only: replaces the preset's epochs.
    verbose : int or "auto"
        AutoRec's progress output.
    backend : {"auto", "dense", "sparse"}
        AutoRec only: ``"auto"`` (the default) trains on the sparse backend for
        matrices less than 1% full, dense otherwise
        (:func:`recsys_ae.registry.resolve_backend`).
    objective : {"auto", "exact", "lazy"}
        Sparse AutoRec only (see :class:`recsys_ae.sparse.SparseAutoRec`).
    return_model : bool
        Return ``(result, model)`` instead of ``result``.
    path : str, optional
        Deprecated name of ``backend``.

    Returns
    -------
    dict
        ``dataset``, ``synthetic``, ``n_ratings``, ``n_users``, ``n_items``
        (after cleaning and filtering), ``raw`` (counts as loaded),
        ``duplicates_merged``, ``filter_removed`` (ratings), ``split``,
        ``n_train``, ``n_test``, ``n_test_cold``, ``model``, ``backend``
        (``"sparse"`` or ``"dense"`` after resolving ``"auto"``; None for
        models without one), ``objective``, ``preset``, ``epochs``, ``seed``,
        ``test_rmse``, ``test_mae``, ``baselines`` (``{"global_mean": {"rmse",
        "mae"}, "bias": {...}, "biased_mf": {...}}``, biased MF with its default
        configuration and the run's seed), ``history``, ``search`` (with
        ``preset="auto"``: the validation search, :meth:`recsys_ae.tuning.AutoSearch.to_json`,
        else None) and ``seconds``
        (wall-clock time of the whole run).

    Raises
    ------
    ValueError
        For an unknown model, a ranking-only model, or an option the model lacks.
    KeyboardInterrupt
        Let through (a notebook stops as usual); when it arrives during
        training it carries the partly trained model as its ``model``
        attribute, which the command line saves with ``--save``.
    """
    start = time.perf_counter()
    if path is not None:
        warnings.warn("run(path=...) is deprecated; use backend=...", FutureWarning,
                      stacklevel=2)
        backend = path
    spec = get_spec(model)
    if spec.task != "rating":
        raise ValueError(f"{spec.display_name} ranks items but predicts no rating; "
                         "run() needs a rating model")
    prepared = prepare(dataset, seed=seed, filter=filter, split=split, data_dir=data_dir,
                       download=download, **dataset_kwargs)
    train, test = prepared.split.train, prepared.split.test
    options, overrides = {}, {}
    if "backend" in spec.options:
        backend = resolve_backend(backend, train)
        options = {"backend": backend, "objective": objective, "verbose": verbose}
    else:
        backend = None
    if epochs is not None:
        overrides["epochs"] = epochs
    search = None
    if preset == "auto":
        from recsys_ae import tuning

        if spec.config_class is not configs.AutoRecConfig:
            raise ValueError(f"preset 'auto' searches AutoRec's configuration; "
                             f"{spec.display_name} has none")
        budget_seconds = budget_seconds or tuning.AUTO_BUDGET_SECONDS
        if max_search_seconds is not None:
            tuning.check_search_time(train, max_search_seconds, budget_seconds=budget_seconds)
        search = tuning.auto_search(train, spec.name, seed=seed, progress=progress,
                                    budget_seconds=budget_seconds)
        config = search.config
        if epochs is not None:
            config = dataclasses.replace(config, epochs=epochs)
        overrides = {}
        options["backend"] = backend = "dense"
    if config is not None:
        fitted = make_model(spec.name, seed=seed, config=config, **options, **overrides)
    else:
        fitted = make_model(spec.name, preset, seed=seed, **options, **overrides)
    try:
        fitted.fit(train)
    except KeyboardInterrupt as stop:
        stop.model = fitted  # the weights reached so far, for a caller that keeps them
        raise
    scores = evaluate(fitted, test)
    baselines = {}
    for key in ("global-mean", "bias", "biased-mf"):
        b = evaluate(make_model(key, seed=seed).fit(train), test)
        baselines[key.replace("-", "_")] = {"rmse": b["rmse"], "mae": b["mae"]}
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
        "model": spec.display_name,
        "backend": backend,
        "objective": getattr(fitted, "objective", None),
        "preset": preset or ("config" if config is not None else spec.default_preset),
        "epochs": getattr(fitted.config, "epochs", None),
        "seed": seed,
        "test_rmse": scores["rmse"],
        "test_mae": scores["mae"],
        "baselines": baselines,
        "history": getattr(fitted, "history_", {}),
        "search": search.to_json() if search is not None else None,
        "seconds": time.perf_counter() - start,
    }
    if return_model:
        return result, fitted
    return result
