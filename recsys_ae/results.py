"""The results table of the book, produced by one function (and one command).

``python -m recsys_ae results [--quick] [--out results.csv]`` calls
:func:`results_table`, which gathers, in one long table (one row per number):

* **rating** — test RMSE and MAE on MovieLens 100K's canonical ``u1`` split
  (mean and standard deviation over seeds) for I-AutoRec and U-AutoRec
  (Sedhain et al. 2015), biased matrix factorization (Koren, Bell & Volinsky
  2009; :class:`recsys_ae.mf.BiasedMF`), the user + item bias baseline and the
  global mean, all fitted on exactly the same ``u1.base``;
* **folds** — the same over the five canonical folds ``u1``–``u5`` (mean and
  standard deviation over folds, seed 0);
* **activity** — RMSE by the user's number of training ratings
  (:func:`recsys_ae.metrics.rmse_by_activity`) per model on ML-100K ``u1`` and
  on the synthetic Beauty-shaped stand-in (labelled synthetic), and how many
  test ratings are cold (user or item unseen in training);
* **topn** — Recall@k, NDCG@k, coverage and popularity share
  (:mod:`recsys_ae.topn`) of popularity, EASE (Steck 2019), I-AutoRec and
  biased MF on ML-100K ``u1``, binarised at 4 stars;
* **cost** — parameters and memory of AutoRec's output layer as the
  catalogue grows, from the real shapes of Amazon Beauty
  (:func:`output_layer_cost`).

The hyperparameters are never chosen on a test set: AutoRec's are those of the
preset (chosen on a validation split of ``u1.base``, see
:func:`select_epochs`), MF's defaults likewise, EASE's ``lam`` by
:func:`recsys_ae.topn.select_ease_lambda` on a validation split of the
training part.

References
----------
S. Sedhain, A. K. Menon, S. Sanner, L. Xie. "AutoRec: Autoencoders Meet
Collaborative Filtering". WWW 2015 Companion.
Y. Koren, R. Bell, C. Volinsky. "Matrix Factorization Techniques for
Recommender Systems". IEEE Computer 42(8), 2009.
H. Steck. "Embarrassingly Shallow Autoencoders for Sparse Data". WWW 2019.
D. Liang et al. "Variational Autoencoders for Collaborative Filtering". WWW 2018.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from recsys_ae import data, preprocess
from recsys_ae.experiment import evaluate
from recsys_ae.baselines import BiasBaseline, GlobalMean
from recsys_ae.metrics import rmse_by_activity

__all__ = ["RATING_MODELS", "BEAUTY_SHAPES", "make_rating_model", "score_rating_model",
           "rating_results", "fold_results", "activity_results", "topn_results",
           "output_layer_cost", "paper_l2_equivalent", "select_epochs", "TUNING_GRID",
           "validation_search", "results_table",
           "summarise", "SECTIONS", "FULL_RUN_RMSE", "published_results", "rating_summary",
           "topn_summary", "cost_summary"]

#: Sections of :func:`results_table`, in order.
SECTIONS = ("rating", "folds", "activity", "topn", "cost")

#: Rating-prediction models of the table, in order.
RATING_MODELS = ("I-AutoRec", "U-AutoRec", "biased MF", "user + item bias", "global mean")

#: Amazon Beauty 2014 ``ratings_Beauty.csv`` (McAuley et al. 2015): users x items as
#: loaded, and after the seed notebook's filter (users with > 1 item, then items with
#: > 1 user).
BEAUTY_SHAPES = {"raw": (1_210_271, 249_274), "seed filter": (321_366, 133_211)}

#: Preset for each AutoRec variant (chosen on validation, see ``recsys_ae.autorec.PRESETS``).
AUTOREC_PRESET = {"I-AutoRec": "tuned", "U-AutoRec": "tuned-user"}

#: What :func:`results_table` measured in its full mode (``python -m recsys_ae results``;
#: the presets' epochs, 2-core CPU, 2026-11-29), test RMSE as (mean, sample std): ``"u1"`` over
#: seeds 0, 1, 2 (the bias and global mean have no seed), ``"u1-u5"`` over the five folds with
#: seed 0. The book quotes these next to whatever its current run computed, because a ``ci``
#: run trains for a few epochs only; the single-seed bands in ``tests/test_results.py`` keep
#: them honest.
FULL_RUN_RMSE = {
    "u1": {"I-AutoRec": (0.8997, 0.0004), "U-AutoRec": (0.9536, 0.0000),
           "biased MF": (0.9256, 0.0001), "user + item bias": (0.9599, np.nan),
           "global mean": (1.1537, np.nan)},
    "u1-u5": {"I-AutoRec": (0.8924, 0.0044), "U-AutoRec": (0.9403, 0.0089),
              "biased MF": (0.9159, 0.0060), "user + item bias": (0.9457, 0.0087)},
}


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


#: Epochs used by ``quick`` runs of AutoRec (a smoke test of the pipeline,
#: not the reported numbers).
QUICK_EPOCHS = 15


def make_rating_model(name: str, seed: int = 0, *, epochs: int | None = None):
    """An unfitted model of :data:`RATING_MODELS` with the package's chosen settings.

    Parameters
    ----------
    name : str
        One of :data:`RATING_MODELS`.
    seed : int
        Seed of the model's random choices (the bias and global-mean
        baselines have none).
    epochs : int, optional
        Override AutoRec's epochs (for quick runs).
    """
    if name in ("I-AutoRec", "U-AutoRec"):
        from recsys_ae.autorec import AutoRec, AutoRecConfig

        overrides = {} if epochs is None else {"epochs": epochs}
        config = AutoRecConfig.preset(AUTOREC_PRESET[name], **overrides)
        return AutoRec("item" if name == "I-AutoRec" else "user", config, seed=seed, verbose=0)
    if name == "biased MF":
        from recsys_ae.mf import BiasedMF

        return BiasedMF(seed=seed)
    if name == "user + item bias":
        return BiasBaseline()
    if name == "global mean":
        return GlobalMean()
    raise ValueError(f"unknown model {name!r}; choose one of {RATING_MODELS}")


def score_rating_model(model, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """Fit ``model`` on ``train`` and score every test rating.

    Returns
    -------
    dict
        ``rmse``, ``mae``, ``n_cold`` (test pairs that got the cold-start
        fallback), ``seconds`` (fit + predict), ``pred`` (ndarray).
    """
    start = time.perf_counter()
    scores = evaluate(model.fit(train), test)
    return {**scores, "seconds": time.perf_counter() - start}


def _rows(dataset, synthetic, split, model, seeds, scores, section, **extra):
    out = []
    for metric in ("rmse", "mae"):
        values = np.array([s[metric] for s in scores])
        out.append({"section": section, "dataset": dataset, "synthetic": synthetic,
                    "split": split, "model": model, "metric": metric,
                    "value": float(values.mean()),
                    "std": float(values.std(ddof=1)) if len(values) > 1 else np.nan,
                    "n": len(values), "seeds": " ".join(map(str, seeds)), **extra})
    return out


def rating_results(fold: int = 1, seeds=(0, 1, 2), models=RATING_MODELS, *,
                   epochs: int | None = None, data_dir=None,
                   fitted: dict | None = None) -> pd.DataFrame:
    """Test RMSE/MAE of each model on ML-100K fold ``u<fold>``, mean and std over seeds.

    Deterministic models (bias, global mean) are fitted once. When ``fitted``
    is a dict, each fitted model is also stored in it under
    ``(f"u{fold}", name, seed, epochs)``, so that :func:`topn_results` can
    rank with the very same models instead of training them again.
    """
    train, test = data.load_canonical_split("ml-100k", fold, data_dir=data_dir)
    rows = []
    for name in models:
        model_seeds = seeds if name in ("I-AutoRec", "U-AutoRec", "biased MF") else (0,)
        scores = []
        for s in model_seeds:
            model = make_rating_model(name, s, epochs=epochs)
            scores.append(score_rating_model(model, train, test))
            if fitted is not None:
                fitted[(f"u{fold}", name, s, epochs)] = model
        rows += _rows("ml-100k", False, f"u{fold}", name, model_seeds, scores, "rating",
                      n_cold=scores[0]["n_cold"])
    return pd.DataFrame(rows)


def fold_results(folds=(1, 2, 3, 4, 5), seed: int = 0, models=RATING_MODELS, *,
                 epochs: int | None = None, data_dir=None) -> pd.DataFrame:
    """Test RMSE/MAE on each canonical fold, and mean ± std over folds (one seed).

    Returns
    -------
    DataFrame
        One row per (model, metric) with ``split = "u1-u5"``; ``value`` is the
        mean over folds, ``std`` their sample standard deviation, ``n`` the
        number of folds; ``per_fold`` lists the fold values.
    """
    per = {name: [] for name in models}
    for fold in folds:
        train, test = data.load_canonical_split("ml-100k", fold, data_dir=data_dir)
        for name in models:
            per[name].append(score_rating_model(make_rating_model(name, seed, epochs=epochs),
                                                train, test))
    rows = []
    split = "u" + "-u".join(str(f) for f in (folds[0], folds[-1])) if len(folds) > 1 \
        else f"u{folds[0]}"
    for name in models:
        for row in _rows("ml-100k", False, split, name, (seed,), per[name], "folds"):
            row["n"] = len(folds)
            row["per_fold"] = " ".join(f"{s[row['metric']]:.4f}" for s in per[name])
            rows.append(row)
    return pd.DataFrame(rows)


def activity_results(models=RATING_MODELS, seed: int = 0, *, epochs: int | None = None,
                     data_dir=None, synthetic_size: str = "small") -> pd.DataFrame:
    """RMSE by the user's training activity, per model, on ML-100K u1 and synthetic data.

    The synthetic Beauty-shaped stand-in (``load_dataset("synthetic")``) is
    prepared as the seed notebook did (seed filter, random 80/20 split), so
    it shows how often a test user has *no* training rating: those ratings
    fall in bucket ``"0"`` and get each model's cold-start fallback (AutoRec:
    the global training mean).

    Returns
    -------
    DataFrame
        One row per (dataset, model, bucket): ``value`` = RMSE, ``n_ratings``,
        ``n_users``; ``synthetic`` is True for the stand-in.
    """
    from recsys_ae.experiment import prepare

    sets = []
    train, test = data.load_canonical_split("ml-100k", 1, data_dir=data_dir)
    sets.append(("ml-100k", False, "u1", train, test))
    prepared = prepare("synthetic", seed=seed, size=synthetic_size, data_dir=data_dir)
    sets.append(("synthetic", True, prepared.split.name, prepared.split.train,
                 prepared.split.test))
    rows = []
    for dataset, synthetic, split, train, test in sets:
        for name in models:
            scores = score_rating_model(make_rating_model(name, seed, epochs=epochs),
                                        train, test)
            table = rmse_by_activity(test, scores["pred"], train)
            for bucket, r in table.iterrows():
                rows.append({"section": "activity", "dataset": dataset,
                             "synthetic": synthetic, "split": split, "model": name,
                             "metric": f"rmse[{bucket}]", "value": r["rmse"], "std": np.nan,
                             "n": int(r["n_ratings"]), "n_users": int(r["n_users"]),
                             "seeds": str(seed), "n_cold": scores["n_cold"]})
    return pd.DataFrame(rows)


def topn_results(seed: int = 0, ks=(10, 20), *, epochs: int | None = None,
                 data_dir=None, lambdas=(10, 30, 100, 300, 1000, 3000),
                 fitted: dict | None = None) -> pd.DataFrame:
    """Top-N metrics on ML-100K u1, binarised at 4 stars (:mod:`recsys_ae.topn`).

    Popularity and EASE use the training ratings of 4 stars or more as
    implicit feedback; EASE's ``lam`` is chosen on a validation split of
    ``u1.base``. I-AutoRec and biased MF rank by predicted rating. Every
    training item of a user is excluded from that user's list.

    ``fitted`` (filled by :func:`rating_results`) supplies I-AutoRec and MF
    already fitted on ``u1.base`` with the same seed and epochs; they are
    used when their ID index is the one of this evaluation.
    """
    from recsys_ae import topn
    from recsys_ae.preprocess import IdIndex

    train, test = data.load_canonical_split("ml-100k", 1, data_dir=data_dir)
    index = IdIndex.fit(train)
    lam, _ = topn.select_ease_lambda(train, lambdas, seed=seed)
    models = [("popularity", topn.Popularity().fit(train, index)),
              (f"EASE (lam={lam:g})", topn.EASE(lam).fit(train, index))]
    for name in ("I-AutoRec", "biased MF"):
        model = (fitted or {}).get(("u1", name, seed, epochs))
        if model is None or not _same_index(model.index_, index):
            model = make_rating_model(name, seed, epochs=epochs)
            model.fit(train, index=index)
        models.append((name, model))
    rows = []
    for name, model in models:
        res = topn.evaluate_topn(topn.model_scores(model), index, train, test, ks)
        for metric, value in res.items():
            if metric == "n_users":
                continue
            rows.append({"section": "topn", "dataset": "ml-100k (rating >= 4 relevant)",
                         "synthetic": False, "split": "u1", "model": name, "metric": metric,
                         "value": value, "std": np.nan, "n": res["n_users"],
                         "seeds": str(seed)})
    return pd.DataFrame(rows)


def _same_index(a, b) -> bool:
    return (list(map(str, a.users)) == list(map(str, b.users))
            and list(map(str, a.items)) == list(map(str, b.items)))


def output_layer_cost(n_columns, hidden_units: int = 500, batch_size: int = 256,
                      bytes_per_float: int = 4) -> pd.DataFrame:
    """Size of AutoRec's decoder (hidden -> one output per column) as the catalogue grows.

    For U-AutoRec the columns are items, so the output layer grows with the
    catalogue: ``hidden_units * n + n`` parameters (weights and bias), as
    many again in the encoder, and Adam keeps two more values per parameter.
    One training batch also materialises ``batch_size * n`` dense inputs,
    targets and outputs.

    Parameters
    ----------
    n_columns : sequence of int
        Catalogue sizes (columns of the rating rows).
    hidden_units, batch_size, bytes_per_float : int

    Returns
    -------
    DataFrame
        ``n_columns``, ``decoder_params``, ``model_params`` (encoder +
        decoder), ``weights_bytes``, ``adam_bytes`` (weights + two moments),
        ``batch_bytes`` (input, target and output of one batch).
    """
    n = np.asarray(list(n_columns), dtype=np.int64)
    decoder = hidden_units * n + n
    encoder = n * hidden_units + hidden_units
    model = decoder + encoder
    return pd.DataFrame({"n_columns": n, "decoder_params": decoder, "model_params": model,
                         "weights_bytes": model * bytes_per_float,
                         "adam_bytes": 3 * model * bytes_per_float,
                         "batch_bytes": 3 * batch_size * n * bytes_per_float})


def _cost_rows(hidden_units: int = 500) -> list[dict]:
    rows = []
    for label, (n_users, n_items) in BEAUTY_SHAPES.items():
        for kind, n in (("U-AutoRec (columns = items)", n_items),
                        ("I-AutoRec (columns = users)", n_users)):
            cost = output_layer_cost([n], hidden_units).iloc[0]
            for metric in ("decoder_params", "model_params", "adam_bytes", "batch_bytes"):
                rows.append({"section": "cost", "dataset": f"amazon-beauty shape ({label})",
                             "synthetic": False, "split": "", "model": kind,
                             "metric": metric, "value": float(cost[metric]), "std": np.nan,
                             "n": int(n), "seeds": ""})
    return rows


def paper_l2_equivalent(lam: float, n_ratings: int) -> float:
    """Keras ``L2`` coefficient equivalent to the AutoRec paper's penalty weight.

    Sedhain et al. (2015, eq. 2) minimise a *summed* error over all observed
    ratings, full batch (L-BFGS / RProp)::

        sum_obs (r - r_hat)^2 + (lam / 2) (||W||^2 + ||V||^2)

    Dividing by the number of observed ratings ``N`` does not move the
    minimum, and gives ``mean_obs (r - r_hat)^2 + lam / (2 N) ||.||^2``. Each
    Keras batch computes the *mean* masked error of its rows (an unbiased
    estimate of the full mean) plus ``l2 * ||.||^2``, so the same objective
    has ``l2 = lam / (2 N)``.

    Examples
    --------
    The paper's grid {0.001, ..., 100, 1000} at ``N = 80,000`` (``u1.base``):
    ``lam = 100`` is ``l2 = 6.25e-4``; the preset's ``l2 = 1e-3`` is
    ``lam = 160``.

    >>> paper_l2_equivalent(100, 80_000)
    0.000625
    """
    if n_ratings < 1:
        raise ValueError(f"n_ratings must be >= 1, got {n_ratings}")
    return lam / (2.0 * n_ratings)


def select_epochs(kind: str = "item", preset: str = "paper", *, max_epochs: int = 200,
                  seed: int = 0, fold: int = 1, validation_size: float = 0.1,
                  data_dir=None, **overrides) -> tuple[int, float, list[float]]:
    """Early stopping on validation: the epoch count to refit with.

    Trains on ``u<fold>.base`` minus a random ``validation_size`` share
    (:func:`recsys_ae.preprocess.validation_split`), records the validation
    RMSE each epoch and returns the best epoch. The test file is never read.

    Returns
    -------
    best_epoch : int
    best_val_rmse : float
    val_rmse : list of float
        Per epoch.
    """
    from recsys_ae.autorec import AutoRec, AutoRecConfig

    train, _ = data.load_canonical_split("ml-100k", fold, data_dir=data_dir)
    fit, val = preprocess.validation_split(train, validation_size, seed=seed)
    config = AutoRecConfig.preset(preset, epochs=max_epochs, **overrides)
    model = AutoRec(kind, config, seed=seed, verbose=0).fit(fit, val)
    curve = model.history_["val_rmse"]
    best = int(np.argmin(curve))
    return best + 1, float(curve[best]), curve


#: The validation search behind the presets ``"tuned"`` and ``"tuned-user"``: for each model, the
#: preset it starts from and the field overrides tried (``{}`` is the preset itself). Run it
#: with ``python -m recsys_ae tune`` (:func:`validation_search`).
TUNING_GRID = {
    "I-AutoRec": ("tuned", (
        {},
        # the previous preset: constant Adam 1e-3, input dropout 0.2, 60 epochs
        {"lr_schedule": "constant", "learning_rate": 1e-3, "dropout": 0.2, "epochs": 60},
        {"dropout": 0.0, "learning_rate": 3e-3, "epochs": 60},
        {"dropout": 0.0, "learning_rate": 1e-2, "epochs": 60},
        {"learning_rate": 3e-3}, {"learning_rate": 1e-2},
        {"dropout": 0.4}, {"dropout": 0.6},
        {"l2": 5e-4}, {"l2": 2e-3},
        {"hidden_units": 700}, {"hidden_units": 1000},
        {"batch_size": 128}, {"batch_size": 512},
        {"epochs": 150},
        {"activation": "tanh"},
    )),
    "U-AutoRec": ("tuned-user", (
        {},
        # the previous preset: constant Adam 3e-3, 45 epochs
        {"lr_schedule": "constant", "learning_rate": 3e-3, "epochs": 45},
        {"learning_rate": 3e-2, "dropout": 0.5, "epochs": 100},
        {"learning_rate": 3e-3, "dropout": 0.3, "epochs": 100},
    )),
}


def validation_search(model: str = "I-AutoRec", grid=None, *, seeds=(0,), fold: int = 1,
                      validation_size: float = 0.1, data_dir=None) -> pd.DataFrame:
    """Score AutoRec configurations on a validation split carved from ``u<fold>.base``.

    The protocol behind the presets ``"tuned"`` and ``"tuned-user"``: each
    configuration is trained on ``u<fold>.base`` minus a random
    ``validation_size`` share (:func:`recsys_ae.preprocess.validation_split`,
    seed 0) and scored on that share with :func:`recsys_ae.experiment.evaluate`
    (clipped predictions, cold pairs at the global mean), the same rule as the
    test scores. ``u<fold>.test`` is never read.

    Parameters
    ----------
    model : {"I-AutoRec", "U-AutoRec"}
    grid : (str, sequence of dict), optional
        ``(preset, overrides)``: the preset to start from and the
        :class:`~recsys_ae.autorec.AutoRecConfig` fields to change, one dict per
        configuration. Default: ``TUNING_GRID[model]``.
    seeds : sequence of int
        Model seeds (initialisation, dropout, batch order); the validation split
        always uses seed 0, so every configuration sees the same data.
    fold : int
        Canonical MovieLens 100K fold whose ``.base`` file is split.
    validation_size : float
        Share of ``u<fold>.base`` held out.
    data_dir : str or os.PathLike, optional

    Returns
    -------
    DataFrame
        One row per configuration and seed: ``model``, ``preset``, ``overrides``
        (text), ``seed``, ``epochs``, ``val_rmse``, ``val_mae`` (stars),
        ``n_validation``, ``seconds``.

    Raises
    ------
    ValueError
        Unknown model, preset or configuration field.
    """
    import time

    from recsys_ae.autorec import AutoRec, AutoRecConfig
    from recsys_ae.experiment import evaluate

    if model not in ("I-AutoRec", "U-AutoRec"):
        raise ValueError(f"model must be 'I-AutoRec' or 'U-AutoRec', got {model!r}")
    preset, overrides_list = TUNING_GRID[model] if grid is None else grid
    train, _ = data.load_canonical_split("ml-100k", fold, data_dir=data_dir)
    fit, val = preprocess.validation_split(train, validation_size, seed=0)
    rows = []
    for overrides in overrides_list:
        config = AutoRecConfig.preset(preset, **overrides)
        for seed in seeds:
            start = time.perf_counter()
            fitted = AutoRec("item" if model == "I-AutoRec" else "user", config, seed=seed,
                             verbose=0).fit(fit)
            scores = evaluate(fitted, val)
            rows.append({"model": model, "preset": preset,
                         "overrides": ", ".join(f"{k}={v}" for k, v in overrides.items())
                         or "(preset)",
                         "seed": seed, "epochs": config.epochs, "val_rmse": scores["rmse"],
                         "val_mae": scores["mae"], "n_validation": len(val),
                         "seconds": time.perf_counter() - start})
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> str:
    """A plain-text rendering of :func:`results_table`'s output, one block per section."""
    lines = []
    for section, part in table.groupby("section", sort=False):
        lines.append(f"== {section} ==")
        for _, r in part.iterrows():
            tag = " [SYNTHETIC]" if r["synthetic"] else ""
            std = "" if pd.isna(r["std"]) else f" ± {r['std']:.4f}"
            value = f"{r['value']:.4f}" if abs(r["value"]) < 1e5 else f"{r['value']:.4g}"
            lines.append(f"{r['dataset'] + tag:<36} {r['split']:<6} {r['model']:<28} "
                         f"{r['metric']:<16} {value}{std}  (n={r['n']}, seeds={r['seeds']})")
        lines.append("")
    return "\n".join(lines)


def results_table(quick: bool = False, *, data_dir=None,
                  sections=SECTIONS) -> pd.DataFrame:
    """Every number of the evaluation chapter, as one long table.

    Parameters
    ----------
    quick : bool
        Smoke run: one seed, fold u1 only, AutoRec for :data:`QUICK_EPOCHS`
        epochs (so the AutoRec numbers are *not* the reported ones). Without
        it: three seeds on u1, all five folds, full epochs (several minutes
        on two CPU cores).
    sections : sequence of str
        Which of :data:`SECTIONS` to compute (default all, as the command
        line does); the book's chapter 4 leaves out ``activity``, which it
        shows with its own models.

    Returns
    -------
    DataFrame
        Columns ``section`` (rating, folds, activity, topn, cost), ``dataset``,
        ``synthetic``, ``split``, ``model``, ``metric``, ``value``, ``std``,
        ``n`` (seeds, folds, ratings or users behind the value), ``seeds`` and
        a few section-specific columns.
    """
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    epochs = QUICK_EPOCHS if quick else None
    seeds = (0,) if quick else (0, 1, 2)
    fitted: dict = {}
    parts = []
    if "rating" in sections:
        parts.append(rating_results(1, seeds, epochs=epochs, data_dir=data_dir, fitted=fitted))
    if "folds" in sections and not quick:
        parts.append(fold_results(epochs=epochs, data_dir=data_dir))
    if "activity" in sections:
        parts.append(activity_results(epochs=epochs, data_dir=data_dir))
    if "topn" in sections:
        parts.append(topn_results(epochs=epochs, data_dir=data_dir, fitted=fitted))
    if "cost" in sections:
        parts.append(pd.DataFrame(_cost_rows()))
    table = pd.concat(parts, ignore_index=True)
    table["quick"] = quick
    return table


def _pm(value: float, std: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if pd.isna(std) else f"{value:.{digits}f} ± {std:.{digits}f}"


def rating_summary(table: pd.DataFrame, section: str = "rating") -> pd.DataFrame:
    """The rating rows of :func:`results_table` as a compact table, one row per model.

    Returns
    -------
    DataFrame
        Columns ``dataset``, ``split``, ``model``, ``RMSE``, ``MAE`` (mean, and
        ``± std`` over seeds or folds when there are several, as text) and
        ``seeds``; in the order of :data:`RATING_MODELS`.
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
    """The top-N rows of :func:`results_table` at cut-off ``k``, one row per model.

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
    """The cost rows of :func:`results_table`, one row per (shape, model).

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
