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
through :meth:`~recsys_ae.base.Recommender.top_k`, any rating model of this
package (AutoRec, biased MF) ranked by its predicted rating.

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

from recsys_ae.base import Recommender
from recsys_ae.configs import EASEConfig, PopularityConfig
from recsys_ae.metrics import ndcg_at_k, recall_at_k
from recsys_ae.preprocess import IdIndex

__all__ = ["RELEVANCE_THRESHOLD", "binarise", "interaction_matrix", "Popularity", "EASE",
           "EASEConfig", "PopularityConfig", "ease_weights", "evaluate_topn",
           "select_ease_lambda", "most_popular"]

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


class Popularity(Recommender):
    """Recommend the items with the most positive training interactions.

    Parameters
    ----------
    config : None or PopularityConfig
        ``threshold`` (default 4): training ratings at or above it count as
        interactions.
    **overrides
        Fields of :class:`~recsys_ae.configs.PopularityConfig`.

    Attributes
    ----------
    index_ : IdIndex
    popularity_ : ndarray, shape (n_items,)
        Positive training interactions per item.
    """

    name = "popularity"
    Config = PopularityConfig

    def fit(self, train: pd.DataFrame, *, index: IdIndex | None = None) -> Popularity:
        """Count each item's positive training ratings; return ``self``."""
        self.index_ = IdIndex.fit(train) if index is None else index
        x = interaction_matrix(binarise(train, self.config.threshold), self.index_)
        self.popularity_ = np.asarray(x.sum(axis=0)).ravel()
        self._remember_seen(train)
        return self

    def _score_rows(self, user_rows) -> np.ndarray:
        """The same popularity row for every user."""
        return np.broadcast_to(self.popularity_.astype(np.float64),
                               (len(user_rows), self.index_.n_items))


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


class EASE(Recommender):
    """Embarrassingly Shallow AutoEncoder (Steck 2019) on binarised ratings.

    A linear autoencoder with one item-item weight matrix ``B`` whose diagonal
    is forced to zero (so an item cannot predict itself); the score of user u
    for item j is ``(X B)_uj``.

    Parameters
    ----------
    config : None or EASEConfig
        ``lam`` (default 100; choose it on validation data with
        :func:`select_ease_lambda`) and ``threshold`` (default 4: training
        ratings at or above it are the positives in ``X``).
    **overrides
        Fields of :class:`~recsys_ae.configs.EASEConfig`.

    Attributes
    ----------
    index_ : IdIndex
    weights_ : ndarray, shape (n_items, n_items)
    x_ : csr_matrix, shape (n_users, n_items)

    Raises
    ------
    MemoryError
        From ``fit``, when the dense ``n_items x n_items`` matrix would exceed
        :attr:`MAX_ITEM_MATRIX_BYTES` (Amazon Beauty's 249,274 items would need
        about 500 GB).
    """

    name = "EASE"
    Config = EASEConfig
    #: Largest item x item matrix (float64 bytes) ``fit`` will build; it needs about
    #: three such matrices at once (Gram, inverse, weights).
    MAX_ITEM_MATRIX_BYTES = 2 * 2**30

    def fit(self, train: pd.DataFrame, *, index: IdIndex | None = None) -> EASE:
        """Fit ``B`` in closed form on the positives of ``train``; return ``self``."""
        index = IdIndex.fit(train) if index is None else index
        need = 8 * index.n_items ** 2
        if need > self.MAX_ITEM_MATRIX_BYTES:
            raise MemoryError(
                f"EASE needs a dense {index.n_items:,} x {index.n_items:,} item matrix "
                f"({need / 2**30:,.1f} GiB), over its limit MAX_ITEM_MATRIX_BYTES = "
                f"{self.MAX_ITEM_MATRIX_BYTES / 2**30:.1f} GiB; filter the catalogue "
                "(e.g. a k-core) first")
        self.index_ = index
        self.x_ = interaction_matrix(binarise(train, self.config.threshold), self.index_)
        self.weights_ = ease_weights(self.x_, self.config.lam)
        self._remember_seen(train)
        return self

    def _score_rows(self, user_rows) -> np.ndarray:
        """``X B`` for some users."""
        return np.asarray(self.x_[user_rows] @ self.weights_)


def evaluate_topn(model: Recommender, train: pd.DataFrame, test: pd.DataFrame, ks=(10, 20), *,
                  threshold: float = RELEVANCE_THRESHOLD, popular_share: float = 0.01,
                  popularity: np.ndarray | None = None) -> dict:
    """Recall@k, NDCG@k, coverage and popularity share of a fitted model's top-k lists.

    Parameters
    ----------
    model : Recommender
        Fitted on ``train``; ranked by :meth:`~recsys_ae.base.Recommender.top_k`
        (rating predictors by their unclipped predicted rating), with every item the
        user rated in training excluded.
    train : DataFrame
        The model's training ratings (for the default popularity).
    test : DataFrame
        Held-out ratings; those ``>= threshold`` are the relevant items. Pairs
        unknown to ``model.index_`` are left out (they cannot be recommended).
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
    index = model.index_
    relevant = interaction_matrix(binarise(test, threshold), index)
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    if popularity is None:
        popularity = np.asarray(
            interaction_matrix(binarise(train, threshold), index).sum(axis=0)).ravel()
    head = set(most_popular(popularity, popular_share).tolist())
    kmax = max(ks)
    lists, _ = model.top_k(users, kmax, exclude_seen=True)
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
        model = EASE(lam=float(lam), threshold=threshold).fit(fit, index=index)
        res = evaluate_topn(model, fit, val, ks=(k,), threshold=threshold)
        rows.append({"lam": float(lam), **res})
    table = pd.DataFrame(rows)
    best = float(table.loc[table[f"ndcg@{k}"].idxmax(), "lam"])
    return best, table
