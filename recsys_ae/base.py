"""The two small bases every model is built on.

Not every model predicts ratings, so there are two contracts:

* :class:`Recommender` — every model. ``fit(train)`` returns the model;
  ``recommend(user, k, exclude_seen=True)`` returns the user's top-``k``
  items. Subclasses supply one hook, :meth:`Recommender._score_rows` (scores of
  every item for some users, higher is better); ranking, excluding seen items,
  bounded-memory chunking and the cold-user fallback are done here once.
* :class:`RatingPredictor` — models of explicit ratings (AutoRec, biases,
  matrix factorization, the global mean) add ``predict(users, items)``: IDs are
  checked and mapped through the one :class:`~recsys_ae.preprocess.IdIndex`,
  known pairs are scored by the hook :meth:`RatingPredictor._predict_known`,
  unknown ones get the documented fallback :meth:`RatingPredictor._predict_cold`,
  and everything is clipped to the training rating scale. Cold-start pairs are
  counted by :meth:`RatingPredictor.cold_pairs` from the index, never as a side
  effect of ``predict``.

The shape follows scikit-learn's estimators (``fit`` returns ``self``;
attributes learned from data end in ``_``) and Surprise's ``AlgoBase`` (one
``predict`` with the unknown-ID rule in the base).

References
----------
L. Buitinck et al. "API design for machine learning software: experiences from
the scikit-learn project". ECML PKDD Workshop, 2013.
N. Hug. "Surprise: A Python library for recommender systems". JOSS 5(52), 2020.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_ae.configs import resolve_config

__all__ = ["NotFittedError", "Recommender", "RatingPredictor", "check_ids"]


class NotFittedError(ValueError, AttributeError):
    """A model was used before ``fit``."""


def check_ids(values, what: str) -> np.ndarray:
    """IDs as a 1-D array of str, or a clear error.

    Parameters
    ----------
    values : sequence of str, length n
        User or item IDs as in the ratings frame (:func:`recsys_ae.data.load_ratings`
        reads every ID as a string).
    what : str
        The argument's name, for the error message.

    Returns
    -------
    ndarray of object (str), shape (n,)

    Raises
    ------
    TypeError
        For a scalar (a single ID must be passed as a list of one), or IDs that are
        not strings (a frame read with plain ``pandas.read_csv`` holds integers; every
        pair would otherwise look unknown and get the cold-start fallback).
    """
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        raise TypeError(f"{what} must be a sequence of IDs, got the single value {values!r}; "
                        f"pass a list, e.g. {what}=[{values!r}]")
    arr = np.asarray(values, dtype=object).ravel()
    if len(arr):
        kind = pd.api.types.infer_dtype(arr, skipna=False)
        if kind != "string":
            example = next((v for v in arr if not isinstance(v, str)), arr[0])
            raise TypeError(
                f"{what} must be str IDs, as recsys_ae.data.load_ratings reads them; got "
                f"{kind} values such as {example!r}. Convert with .astype(str) (a frame read "
                "with plain pandas.read_csv holds integer IDs, which match no trained ID)")
    return arr


class Recommender:
    """Base class of every model: ``fit`` and ``recommend``.

    Subclasses set :attr:`name` (a display name) and :attr:`Config` (their config
    dataclass), implement ``fit`` (which must set ``index_`` and return ``self``)
    and :meth:`_score_rows`; they may override :meth:`_seen_matrix`.

    Parameters
    ----------
    config : None, str or Config
        Hyperparameters: a config dataclass, the name of one of
        :attr:`PRESETS`, or None for the default.
    seed : int
        The one seed of the model's random choices (initialisation, dropout, batch
        order); ignored by deterministic models.
    **overrides
        Config fields replacing the preset's (an unknown field is a ``ValueError``).

    Attributes
    ----------
    index_ : IdIndex
        Users (rows) and items (columns) seen in training.
    """

    #: Display name used in tables and plots.
    name: str = "model"
    #: The config dataclass.
    Config: type = None
    #: Named configurations of :attr:`Config`.
    PRESETS: dict = {}
    #: Most bytes of scores :meth:`top_k` holds at once (users are scored in chunks).
    SCORE_BLOCK_BYTES: int = 64 * 2**20

    def __init__(self, config=None, *, seed: int = 0, **overrides):
        self.config = resolve_config(type(self).Config, type(self).PRESETS, config, overrides)
        self.seed = _check_seed(seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r}, seed={self.seed})"

    # -- the contract ---------------------------------------------------------------------
    def fit(self, train: pd.DataFrame, **kwargs):  # pragma: no cover - interface
        """Fit on a ratings frame (columns ``user``, ``item``, ``rating``); return ``self``."""
        raise NotImplementedError

    def _score_rows(self, user_rows: np.ndarray) -> np.ndarray:  # pragma: no cover
        """Scores of every item for some known users (the hook of :meth:`recommend`).

        Parameters
        ----------
        user_rows : ndarray of int64, shape (b,)
            Rows of ``index_`` (all known).

        Returns
        -------
        ndarray of float64, shape (b, index_.n_items)
            Higher is better. Rating predictors return unclipped predicted ratings.
        """
        raise NotImplementedError

    def _seen_matrix(self) -> sp.csr_matrix:
        """Training interactions as a users x items CSR matrix (any stored value).

        Default: ``seen_``, set by :meth:`_remember_seen` during ``fit``.
        """
        return self.seen_

    # -- shared machinery -----------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        """True once ``fit`` has run (or a fitted model was loaded)."""
        return hasattr(self, "index_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"this {self.name} model is not fitted yet; call "
                                 f"fit(train) first")

    def _remember_seen(self, train: pd.DataFrame) -> None:
        """Store the training pairs as ``seen_`` (users x items, 1.0 per rated pair)."""
        rows, cols, known = self.index_.encode(train)
        self.seen_ = sp.csr_matrix((np.ones(int(known.sum())), (rows[known], cols[known])),
                                   shape=(self.index_.n_users, self.index_.n_items))
        self.seen_.data[:] = 1.0

    def item_counts(self) -> np.ndarray:
        """Training ratings per item, shape (n_items,), int64: the popularity used for
        users the model has never seen."""
        self._check_fitted()
        return np.diff(sp.csc_matrix(self._seen_matrix()).indptr).astype(np.int64)

    def _users_per_block(self) -> int:
        return max(1, int(self.SCORE_BLOCK_BYTES // (8 * max(1, self.index_.n_items))))

    def top_k(self, user_rows, k: int = 10, *, exclude_seen: bool = True
              ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best-scored items of known users, computed a block of users at a time.

        Parameters
        ----------
        user_rows : array_like of int, shape (b,)
            Rows of ``index_``.
        k : int
            List length (at most ``n_items``).
        exclude_seen : bool
            Never rank an item the user rated in training above an unseen one. A user
            with fewer than ``k`` unseen items gets the seen ones at the end, scored
            ``-inf``.

        Returns
        -------
        items : ndarray of int64, shape (b, min(k, n_items))
            Item columns, best first; ties broken by column order (a stable sort).
        scores : ndarray of float64, same shape

        Raises
        ------
        ValueError
            If ``k`` < 1 or a row is outside the index.
        """
        self._check_fitted()
        k = _check_k(k)
        user_rows = np.asarray(user_rows, dtype=np.int64)
        if len(user_rows) and (user_rows.min() < 0 or user_rows.max() >= self.index_.n_users):
            raise ValueError(f"user rows must be in [0, {self.index_.n_users}); "
                             "map IDs with index_.user_rows first")
        kk = min(k, self.index_.n_items)
        seen = self._seen_matrix() if exclude_seen else None
        items = np.empty((len(user_rows), kk), dtype=np.int64)
        scores = np.empty((len(user_rows), kk))
        step = self._users_per_block()
        for lo in range(0, len(user_rows), step):
            block = user_rows[lo:lo + step]
            s = np.array(self._score_rows(block), dtype=np.float64, copy=True)
            if seen is not None:
                sub = seen[block]
                s[np.repeat(np.arange(len(block)), np.diff(sub.indptr)), sub.indices] = -np.inf
            order = np.argsort(-s, axis=1, kind="stable")[:, :kk]
            items[lo:lo + step] = order
            scores[lo:lo + step] = np.take_along_axis(s, order, axis=1)
        return items, scores

    def recommend(self, user, k: int = 10, *, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-``k`` items for one user.

        Parameters
        ----------
        user : str
            User ID.
        k : int
            Items to return.
        exclude_seen : bool
            Leave out the items the user rated in training.

        Returns
        -------
        DataFrame with columns ``rank`` (1..), ``item`` (str), ``score`` (float64)
            Best first. A known user is ranked by the model's scores (rating
            predictors: predicted ratings before clipping, since clipping would turn
            the top of the list into ties). **Cold start:** a user with no training
            ratings gets the ``k`` items with the most training ratings, scored by that
            count. ``attrs["known_user"]`` says which; ``attrs["model"]`` names the model.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        TypeError
            If ``user`` is not a str ID.
        ValueError
            If ``k`` < 1.
        """
        self._check_fitted()
        k = _check_k(k)
        if not isinstance(user, str):
            raise TypeError(f"user must be a str ID, got {type(user).__name__} {user!r}; "
                            f"IDs are read as text: recommend({str(user)!r})")
        row = int(self.index_.user_rows([user])[0])
        if row >= 0:
            cols, scores = self.top_k([row], k, exclude_seen=exclude_seen)
            cols, scores = cols[0], scores[0]
            keep = np.isfinite(scores)
            cols, scores = cols[keep], scores[keep]
        else:
            counts = self.item_counts().astype(np.float64)
            cols = np.argsort(-counts, kind="stable")[:k]
            scores = counts[cols]
        out = pd.DataFrame({"rank": np.arange(1, len(cols) + 1),
                            "item": np.asarray(self.index_.items)[cols].astype(str),
                            "score": scores})
        out.attrs.update(known_user=row >= 0, user=user, model=self.name)
        return out


class RatingPredictor(Recommender):
    """Base class of models that predict explicit ratings.

    Adds :meth:`predict` and :meth:`cold_pairs`. Subclasses' ``fit`` sets
    ``index_``, ``mean_`` (global training mean) and ``rating_range_`` (smallest
    and largest training rating), and they implement :meth:`_predict_known`; they
    may override :meth:`_predict_cold` (default: the global mean).
    """

    def _predict_known(self, user_rows: np.ndarray, item_cols: np.ndarray) -> np.ndarray:
        """Unclipped predictions at pairs whose user and item are both known.

        Parameters
        ----------
        user_rows, item_cols : ndarray of int64, shape (n,)
            Rows and columns of ``index_`` (all >= 0).

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        raise NotImplementedError  # pragma: no cover - interface

    def _predict_cold(self, user_rows: np.ndarray, item_cols: np.ndarray) -> np.ndarray:
        """Predictions for pairs whose user or item (or both) is unknown (-1).

        Default: the global training mean ``mean_`` (Sedhain et al. 2015 do not say
        what AutoRec answers for an unseen user or item; this is the simplest rule).
        """
        return np.full(len(user_rows), self.mean_, dtype=np.float64)

    def cold_pairs(self, users, items) -> np.ndarray:
        """Which pairs get the cold-start fallback: user or item not seen in training.

        Parameters
        ----------
        users, items : sequence of str, length n

        Returns
        -------
        ndarray of bool, shape (n,)
        """
        self._check_fitted()
        users, items = _check_pairs(users, items)
        return (self.index_.user_rows(users) < 0) | (self.index_.item_cols(items) < 0)

    def predict(self, users, items) -> np.ndarray:
        """Predict ratings for (user, item) pairs of IDs.

        Parameters
        ----------
        users, items : sequence of str, length n
            IDs as in the training frame.

        Returns
        -------
        ndarray of float64, shape (n,)
            Predicted ratings, clipped to ``rating_range_`` (the training scale).
            Pairs with a user or item unseen in training get :meth:`_predict_cold`
            (see the model's docstring); :meth:`cold_pairs` says which.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        TypeError
            For a scalar or non-str IDs (see :func:`check_ids`).
        ValueError
            If ``users`` and ``items`` differ in length.
        """
        self._check_fitted()
        users, items = _check_pairs(users, items)
        rows = self.index_.user_rows(users)
        cols = self.index_.item_cols(items)
        known = (rows >= 0) & (cols >= 0)
        pred = np.empty(len(rows), dtype=np.float64)
        if known.any():
            pred[known] = self._predict_known(rows[known], cols[known])
        if (~known).any():
            pred[~known] = self._predict_cold(rows[~known], cols[~known])
        return np.clip(pred, *self.rating_range_)


def _check_pairs(users, items) -> tuple[np.ndarray, np.ndarray]:
    users = check_ids(users, "users")
    items = check_ids(items, "items")
    if len(users) != len(items):
        raise ValueError(f"users ({len(users)}) and items ({len(items)}) differ in length")
    return users, items


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or \
            not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1], got {seed!r}")
    return int(seed)
