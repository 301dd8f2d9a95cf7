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
:mod:`recsys_ae.tuning`; each model is built by
:func:`recsys_ae.registry.make_recommended`), MF's defaults likewise, EASE's ``lam`` by
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

from recsys_ae import data
from recsys_ae.metrics import evaluate, rmse_by_activity
from recsys_ae.registry import make_model, make_recommended

__all__ = ["RATING_MODELS", "BEAUTY_SHAPES", "score_rating_model", "rating_results",
           "fold_results", "activity_results", "topn_results", "output_layer_cost",
           "results_table", "summarise", "SECTIONS"]

#: Sections of :func:`results_table`, in order.
SECTIONS = ("rating", "folds", "activity", "topn", "cost")

#: Rating-prediction models of the table, in order.
RATING_MODELS = ("I-AutoRec", "U-AutoRec", "biased MF", "user + item bias", "global mean")

#: Amazon Beauty 2014 ``ratings_Beauty.csv`` (McAuley et al. 2015): users x items as
#: loaded, and after the student notebook's one-pass filter (users with > 1 item, then items with
#: > 1 user).
BEAUTY_SHAPES = {"raw": (1_210_271, 249_274), "one-pass filter": (321_366, 133_211)}


#: Epochs used by ``quick`` runs of AutoRec (a smoke test of the pipeline,
#: not the reported numbers).
QUICK_EPOCHS = 15


def score_rating_model(model, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """Fit ``model`` on ``train`` and score every test rating (:func:`recsys_ae.metrics.evaluate`).

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
            model = make_recommended(name, s, epochs=epochs)
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
            per[name].append(score_rating_model(make_recommended(name, seed, epochs=epochs),
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
            scores = score_rating_model(make_recommended(name, seed, epochs=epochs),
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
    models = [("popularity", make_model("popularity").fit(train, index=index)),
              (f"EASE (lam={lam:g})", make_model("ease", lam=lam).fit(train, index=index))]
    for name in ("I-AutoRec", "biased MF"):
        model = (fitted or {}).get(("u1", name, seed, epochs))
        if model is None or not model.index_ == index:
            model = make_recommended(name, seed, epochs=epochs)
            model.fit(train, index=index)
        models.append((name, model))
    rows = []
    for name, model in models:
        res = topn.evaluate_topn(model, train, test, ks)
        for metric, value in res.items():
            if metric == "n_users":
                continue
            rows.append({"section": "topn", "dataset": "ml-100k (rating >= 4 relevant)",
                         "synthetic": False, "split": "u1", "model": name, "metric": metric,
                         "value": value, "std": np.nan, "n": res["n_users"],
                         "seeds": str(seed)})
    return pd.DataFrame(rows)


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
        line does); the book's evaluation chapter leaves out ``activity``, which it
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
