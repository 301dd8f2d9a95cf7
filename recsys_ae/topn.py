"""Top-N recommendation: EASE, popularity, and ranking metrics on held-out items.

Rating prediction (RMSE) asks how close a predicted rating is to the true
one; a recommender is used to *rank* the items a user has not rated. This
module scores rankings on MovieLens-style splits:

* **Relevance.** A held-out (test) rating is *relevant* when it is at least
  :data:`RELEVANCE_THRESHOLD` = 4 stars (the binarisation of Liang et al.
  2018 and Steck 2019 for MovieLens: keep ratings of four or higher).
* **Candidates.** Every item in the training index except the items the user
  rated in training (any rating): those are *excluded* from the list.
* **Users scored.** Users with at least one relevant held-out item.
* **Metrics.** Recall@k and NDCG@k per user, averaged
  (:func:`recsys_ae.metrics.recall_at_k`, :func:`recsys_ae.metrics.ndcg_at_k`;
  Järvelin & Kekäläinen 2002), catalogue coverage (share of the catalogue
  that appears in at least one top-k list) and the popularity-bias share
  (share of all recommended slots that go to the 1 % most popular items).

Models: :class:`Popularity` (the baseline every top-N model must beat),
:class:`EASE` (Steck 2019, a closed-form linear item-item autoencoder) and,
through :func:`model_scores`, any rating model of this package (AutoRec,
biased MF) ranked by its predicted rating.

References
----------
H. Steck. "Embarrassingly Shallow Autoencoders for Sparse Data". WWW 2019.
D. Liang, R. G. Krishnan, M. D. Hoffman, T. Jebara. "Variational Autoencoders
for Collaborative Filtering". WWW 2018.
K. Järvelin, J. Kekäläinen. "Cumulated Gain-Based Evaluation of IR
Techniques". ACM TOIS 20(4), 2002.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_ae.metrics import ndcg_at_k, recall_at_k
from recsys_ae.preprocess import IdIndex

__all__ = ["RELEVANCE_THRESHOLD", "binarise", "interaction_matrix", "Popularity", "EASE",
           "ease_weights", "model_scores", "top_k", "evaluate_topn", "select_ease_lambda",
           "most_popular"]

#: Ratings at or above this many stars are "relevant" (positive) feedback.
RELEVANCE_THRESHOLD = 4.0


def binarise(ratings: pd.DataFrame, threshold: float = RELEVANCE_THRESHOLD) -> pd.DataFrame:
    """The rows of a ratings frame with ``rating >= threshold`` (the positives)."""
    return ratings[ratings["rating"] >= threshold]


def interaction_matrix(frame: pd.DataFrame, index: IdIndex) -> sp.csr_matrix:
    """0/1 CSR matrix (users x items of ``index``) of the pairs in ``frame``.

    Pairs with an ID unknown to ``index`` are left out.
    """
    rows, cols, known = index.encode(frame)
    data = np.ones(int(known.sum()))
    m = sp.csr_matrix((data, (rows[known], cols[known])),
                      shape=(index.n_users, index.n_items))
    m.data[:] = 1.0  # duplicates collapse to 1
    return m


def most_popular(popularity: np.ndarray, share: float = 0.01) -> np.ndarray:
    """Column numbers of the ``ceil(share * n_items)`` most popular items.

    Ties are broken by column order (a stable sort), so the set is
    deterministic.
    """
    n = max(1, math.ceil(share * len(popularity)))
    return np.argsort(-np.asarray(popularity, dtype=np.float64), kind="stable")[:n]


class Popularity:
    """Recommend the items with the most positive training interactions.

    Parameters
    ----------
    threshold : float
        Training ratings at or above it count as interactions.

    Attributes
    ----------
    index_ : IdIndex
    popularity_ : ndarray, shape (n_items,)
        Positive training interactions per item.
    """

    name = "popularity"

    def __init__(self, threshold: float = RELEVANCE_THRESHOLD):
        self.threshold = threshold

    def fit(self, train: pd.DataFrame, index: IdIndex | None = None) -> Popularity:
        """Count each item's positive training ratings."""
        self.index_ = IdIndex.fit(train) if index is None else index
        x = interaction_matrix(binarise(train, self.threshold), self.index_)
        self.popularity_ = np.asarray(x.sum(axis=0)).ravel()
        return self

    def score_matrix(self) -> np.ndarray:
        """The same popularity row for every user, shape (n_users, n_items)."""
        return np.broadcast_to(self.popularity_.astype(np.float64),
                               (self.index_.n_users, self.index_.n_items))


def ease_weights(x, lam: float) -> np.ndarray:
    """EASE's item-item weight matrix in closed form (Steck 2019, eq. 8).

    ``B`` minimises ``||X - X B||_F^2 + lam ||B||_F^2`` subject to
    ``diag(B) = 0``; with ``P = (X^T X + lam I)^{-1}`` the solution is
    ``B_ij = -P_ij / P_jj`` for ``i != j`` and ``B_jj = 0``.

    Parameters
    ----------
    x : array or sparse matrix, shape (n_users, n_items)
        Binary interactions.
    lam : float > 0
        L2 weight.

    Returns
    -------
    ndarray, shape (n_items, n_items)
    """
    if lam <= 0:
        raise ValueError(f"lam must be > 0, got {lam!r}")
    x = sp.csr_matrix(x, dtype=np.float64)
    gram = (x.T @ x).toarray()
    gram[np.diag_indices_from(gram)] += lam
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)[None, :]
    b[np.diag_indices_from(b)] = 0.0
    return b


class EASE:
    """Embarrassingly Shallow AutoEncoder (Steck 2019) on binarised ratings.

    A linear autoencoder with one item-item weight matrix ``B`` whose diagonal
    is forced to zero (so an item cannot predict itself); the score of user u
    for item j is ``(X B)_uj``.

    Parameters
    ----------
    lam : float, default 100
        L2 weight (choose it on validation data, :func:`select_ease_lambda`).
    threshold : float
        Training ratings at or above it are the positives in ``X``.

    Attributes
    ----------
    index_ : IdIndex
    weights_ : ndarray, shape (n_items, n_items)
    x_ : csr_matrix, shape (n_users, n_items)
    """

    name = "EASE"

    def __init__(self, lam: float = 100.0, threshold: float = RELEVANCE_THRESHOLD):
        self.lam = float(lam)
        self.threshold = threshold

    def fit(self, train: pd.DataFrame, index: IdIndex | None = None) -> EASE:
        """Fit ``B`` in closed form on the positives of ``train``."""
        self.index_ = IdIndex.fit(train) if index is None else index
        self.x_ = interaction_matrix(binarise(train, self.threshold), self.index_)
        self.weights_ = ease_weights(self.x_, self.lam)
        return self

    def score_matrix(self) -> np.ndarray:
        """``X B``, shape (n_users, n_items)."""
        return np.asarray(self.x_ @ self.weights_)


def model_scores(model) -> np.ndarray:
    """Score matrix (users x items of ``model.index_``) of a fitted model.

    Models with ``score_matrix()`` (EASE, popularity, biased MF) use it; an
    AutoRec is ranked by its reconstructed ratings (all rows reconstructed
    from training inputs, mean added back, unclipped), transposed for
    I-AutoRec whose rows are items.
    """
    if hasattr(model, "score_matrix"):
        return np.asarray(model.score_matrix())
    if hasattr(model, "reconstruct"):
        n_rows = model.train_matrix_.shape[0]
        out = np.vstack([model.reconstruct(np.arange(lo, min(lo + 512, n_rows)))
                         for lo in range(0, n_rows, 512)])
        return out.T if model.kind == "item" else out
    raise TypeError(f"cannot get scores from {type(model).__name__}")


def top_k(scores: np.ndarray, exclude: sp.csr_matrix | None, k: int) -> np.ndarray:
    """Column numbers of each row's ``k`` best-scored items, best first.

    Parameters
    ----------
    scores : ndarray, shape (n_users, n_items)
    exclude : csr_matrix of the same shape, optional
        Stored cells (any value) are never recommended.
    k : int

    Returns
    -------
    ndarray of int, shape (n_users, min(k, n_items)). Ties are broken by
    column order. If a user has fewer than ``k`` candidates, the list is
    padded with excluded items at the end (never ranked above a candidate).
    """
    scores = np.array(scores, dtype=np.float64, copy=True)
    if exclude is not None:
        ex = sp.csr_matrix(exclude)
        rows = np.repeat(np.arange(ex.shape[0]), np.diff(ex.indptr))
        scores[rows, ex.indices] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def evaluate_topn(scores: np.ndarray, index: IdIndex, train: pd.DataFrame,
                  test: pd.DataFrame, ks=(10, 20), *,
                  threshold: float = RELEVANCE_THRESHOLD, popular_share: float = 0.01,
                  popularity: np.ndarray | None = None) -> dict:
    """Recall@k, NDCG@k, coverage and popularity share of a score matrix.

    Parameters
    ----------
    scores : ndarray, shape (index.n_users, index.n_items)
    index : IdIndex
        Row and column meaning of ``scores``.
    train : DataFrame
        Training ratings: every item a user rated (any value) is excluded from
        that user's list.
    test : DataFrame
        Held-out ratings; those ``>= threshold`` are the relevant items. Pairs
        unknown to ``index`` are left out (they cannot be recommended).
    ks : sequence of int
    threshold : float
    popular_share : float
        The "popular head" is the ``ceil(popular_share * n_items)`` items with
        the most positive training interactions.
    popularity : ndarray, optional
        Item popularity defining that head; default: positive training
        interactions per item.

    Returns
    -------
    dict
        ``n_users`` (users scored), and for each k: ``recall@k``, ``ndcg@k``
        (means over users scored), ``coverage@k`` (distinct recommended items
        over all users scored / n_items) and ``pop_share@k`` (share of the
        recommended slots taken by the popular head).
    """
    exclude = interaction_matrix(train, index)
    relevant = interaction_matrix(binarise(test, threshold), index)
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    if popularity is None:
        popularity = np.asarray(
            interaction_matrix(binarise(train, threshold), index).sum(axis=0)).ravel()
    head = set(most_popular(popularity, popular_share).tolist())
    kmax = max(ks)
    lists = top_k(np.asarray(scores)[users], exclude[users], kmax)
    out: dict = {"n_users": int(len(users))}
    rel_sets = [set(relevant.indices[relevant.indptr[u]:relevant.indptr[u + 1]].tolist())
                for u in users]
    for k in ks:
        recs = lists[:, :k]
        out[f"recall@{k}"] = float(np.mean([recall_at_k(r, s, k) for r, s in zip(recs, rel_sets)]))
        out[f"ndcg@{k}"] = float(np.mean([ndcg_at_k(r, s, k) for r, s in zip(recs, rel_sets)]))
        out[f"coverage@{k}"] = len(np.unique(recs)) / index.n_items
        out[f"pop_share@{k}"] = float(np.isin(recs, list(head)).mean())
    return out


def select_ease_lambda(train: pd.DataFrame, lambdas=(10, 30, 100, 300, 1000, 3000), *,
                       validation_size: float = 0.1, seed: int = 0, k: int = 10,
                       threshold: float = RELEVANCE_THRESHOLD) -> tuple[float, pd.DataFrame]:
    """Choose EASE's ``lam`` by NDCG@k on a validation split of ``train``.

    A random ``validation_size`` of the training ratings is held out
    (:func:`recsys_ae.preprocess.validation_split`); EASE is fitted on the
    rest for each ``lam`` and ranked against the held-out positives. The test
    set is never seen.

    Returns
    -------
    best : float
        The ``lam`` with the highest validation NDCG@k.
    table : DataFrame
        One row per ``lam`` with the validation metrics.
    """
    from recsys_ae.preprocess import validation_split

    fit, val = validation_split(train, validation_size, seed=seed)
    index = IdIndex.fit(train)
    rows = []
    for lam in lambdas:
        model = EASE(lam, threshold).fit(fit, index=index)
        res = evaluate_topn(model.score_matrix(), index, fit, val, ks=(k,),
                            threshold=threshold)
        rows.append({"lam": float(lam), **res})
    table = pd.DataFrame(rows)
    best = float(table.loc[table[f"ndcg@{k}"].idxmax(), "lam"])
    return best, table
