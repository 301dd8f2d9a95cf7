"""Rating-prediction and ranking metrics.

Rating prediction (explicit feedback) is scored on every held-out rating:

* RMSE = sqrt(mean((r - r_hat)^2)), in rating units (stars);
* MAE = mean(|r - r_hat|), in stars.

:func:`evaluate` is the one scoring rule of the package: the command line, the
results table and the book all call it.

Ranking (top-N) is scored per user on held-out items (Järvelin & Kekäläinen
2002 for NDCG); see :func:`recall_at_k` and :func:`ndcg_at_k`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

__all__ = ["rmse", "mae", "evaluate", "ACTIVITY_BINS", "activity_bucket", "rmse_by_activity",
           "recall_at_k", "ndcg_at_k"]


def _pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true shape {y_true.shape} != y_pred shape {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError("no ratings to score")
    if not np.all(np.isfinite(y_pred)):
        bad = int(np.flatnonzero(~np.isfinite(y_pred))[0])
        raise ValueError(f"prediction {bad} is {y_pred[bad]}; predictions must be finite")
    return y_true, y_pred


def rmse(y_true, y_pred) -> float:
    """Root mean squared error.

    Parameters
    ----------
    y_true, y_pred : array-like of float, shape (n,)
        True and predicted ratings, in stars.

    Returns
    -------
    float
        ``sqrt(mean((y_true - y_pred)**2))``, in stars.

    Raises
    ------
    ValueError
        On shape mismatch, no ratings, or a non-finite prediction.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error, in stars (same parameters and errors as :func:`rmse`)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


#: Training-activity buckets: (label, lowest count, highest count) inclusive.
ACTIVITY_BINS = (("0", 0, 0), ("1", 1, 1), ("2", 2, 2), ("3-5", 3, 5),
                 ("6-20", 6, 20), (">20", 21, np.inf))


def activity_bucket(counts, bins=ACTIVITY_BINS) -> np.ndarray:
    """Label each count with its bucket from ``bins`` (array of str)."""
    counts = np.asarray(counts)
    labels = np.empty(counts.shape, dtype=object)
    for label, lo, hi in bins:
        labels[(counts >= lo) & (counts <= hi)] = label
    return labels


def rmse_by_activity(test: pd.DataFrame, y_pred, train: pd.DataFrame,
                     bins=ACTIVITY_BINS) -> pd.DataFrame:
    """RMSE of test ratings grouped by how many training ratings their user has.

    Parameters
    ----------
    test : DataFrame with columns ``user``, ``rating``; n rows
    y_pred : array-like of float, shape (n,)
        Predictions for the rows of ``test``, in order.
    train : DataFrame with column ``user``
        The training ratings that define each user's activity.
    bins : sequence of (label, lo, hi)
        Inclusive count ranges; the default puts users with no training
        rating (cold start) in bucket ``"0"``.

    Returns
    -------
    DataFrame indexed by bucket label with columns ``n_ratings`` (test
    ratings in the bucket), ``n_users`` and ``rmse`` (NaN for an empty
    bucket). Every test rating falls in exactly one bucket.
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if len(y_pred) != len(test):
        raise ValueError(f"{len(y_pred)} predictions for {len(test)} test ratings")
    counts = test["user"].map(train["user"].value_counts()).fillna(0).to_numpy()
    labels = activity_bucket(counts, bins)
    sq = (test["rating"].to_numpy(dtype=np.float64) - y_pred) ** 2
    rows = []
    for label, _, _ in bins:
        sel = labels == label
        rows.append({"bucket": label, "n_ratings": int(sel.sum()),
                     "n_users": int(test["user"][sel].nunique()),
                     "rmse": float(np.sqrt(sq[sel].mean())) if sel.any() else np.nan})
    return pd.DataFrame(rows).set_index("bucket")


def recall_at_k(recommended, relevant, k: int) -> float:
    """Recall@k for one user: share of relevant items found in the top k.

    Parameters
    ----------
    recommended : sequence of item IDs, best first
    relevant : collection of item IDs (the user's held-out relevant items)
    k : int, >= 1

    Returns
    -------
    float in [0, 1]: ``|top-k ∩ relevant| / min(k, |relevant|)`` (the
    normalisation of Liang et al. 2018, eq. 6, so that a perfect list scores
    1 even when a user has more than k relevant items); NaN when nothing is
    relevant.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    relevant = set(relevant)
    if not relevant:
        return float("nan")
    hits = sum(1 for item in list(recommended)[:k] if item in relevant)
    return hits / min(k, len(relevant))


def ndcg_at_k(recommended, relevant, k: int) -> float:
    """NDCG@k for one user with binary relevance.

    DCG@k = sum over ranks i = 1..k of rel_i / log2(i + 1); it is divided by
    the DCG of an ideal list that puts all relevant items first (Järvelin &
    Kekäläinen 2002). Returns NaN when nothing is relevant.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    relevant = set(relevant)
    if not relevant:
        return float("nan")
    gains = np.array([1.0 if item in relevant else 0.0 for item in list(recommended)[:k]])
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float(np.sum(gains * discounts[:len(gains)]))
    idcg = float(np.sum(discounts[:min(k, len(relevant))]))
    return dcg / idcg


def evaluate(model, test: pd.DataFrame) -> dict:
    """RMSE and MAE of a fitted rating predictor over *all* test ratings.

    Test ratings whose user or item is unknown to the model get its cold-start
    fallback and are included (leaving them out would flatter the model);
    ``n_cold`` counts them, from the model's ID index.

    Parameters
    ----------
    model : RatingPredictor
        Fitted.
    test : DataFrame with columns ``user``, ``item`` (str IDs), ``rating``

    Returns
    -------
    dict
        ``rmse``, ``mae`` (rating units), ``n_cold`` (int) and ``pred`` (ndarray of
        float64, shape ``(len(test),)``, the predictions in test order).

    Warns
    -----
    UserWarning
        When every test pair is cold: the score is then the fallback's alone, which
        usually means the test IDs do not match the training IDs.
    """
    users, items = test["user"].to_numpy(), test["item"].to_numpy()
    pred = model.predict(users, items)
    n_cold = int(model.cold_pairs(users, items).sum())
    if len(test) and n_cold == len(test):
        warnings.warn(f"all {n_cold:,} test pairs are unknown to {model.name}: every "
                      "prediction is the cold-start fallback. Do the test IDs match the "
                      "training IDs?", UserWarning, stacklevel=2)
    truth = test["rating"].to_numpy(dtype=np.float64)
    return {"rmse": rmse(truth, pred), "mae": mae(truth, pred), "n_cold": n_cold, "pred": pred}
