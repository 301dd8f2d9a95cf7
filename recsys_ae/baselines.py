"""Simple rating predictors that every model must beat.

* :class:`GlobalMean` predicts the mean training rating for everything.
* :class:`BiasBaseline` predicts ``mu + b_user + b_item`` with regularised
  biases fitted by alternating least squares, the baseline predictor of
  Koren (2010), section 2.1, fitted the way Surprise's ``BaselineOnly`` does
  (``method="als"``: ``reg_i=10``, ``reg_u=15``, 10 sweeps).

Both are :class:`~recsys_ae.base.RatingPredictor` s: ``fit(train)`` takes a
ratings frame with columns ``user``, ``item``, ``rating``; ``predict(users,
items)`` takes two equal-length sequences of string IDs and returns float64
ratings clipped to the training rating range; ``recommend(user, k)`` ranks.

References
----------
Y. Koren. "Factor in the Neighbors: Scalable and Accurate Collaborative
Filtering". ACM TKDD 4(1), 2010.
N. Hug. "Surprise: A Python library for recommender systems". JOSS 5(52), 2020.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_ae.base import RatingPredictor
from recsys_ae.configs import BiasConfig, GlobalMeanConfig
from recsys_ae.preprocess import IdIndex

__all__ = ["GlobalMean", "BiasBaseline", "BiasConfig", "GlobalMeanConfig", "fit_biases"]


def _check_frame(train: pd.DataFrame) -> None:
    missing = {"user", "item", "rating"} - set(train.columns)
    if missing:
        raise ValueError(f"ratings frame lacks column(s) {sorted(missing)}; "
                         "expected columns user, item, rating")
    if len(train) == 0:
        raise ValueError("cannot fit on an empty ratings frame")


def _fit_index(train: pd.DataFrame, index: IdIndex | None) -> IdIndex:
    return IdIndex.fit(train) if index is None else index


class GlobalMean(RatingPredictor):
    """Predict the mean training rating for every (user, item) pair.

    Parameters
    ----------
    config : None or GlobalMeanConfig
        No hyperparameters.

    Attributes
    ----------
    index_ : IdIndex
    mean_ : float
        Mean of the training ratings.
    rating_range_ : (float, float)
    """

    name = "global mean"
    Config = GlobalMeanConfig

    def fit(self, train: pd.DataFrame, *, index: IdIndex | None = None) -> GlobalMean:
        """Fit on a ratings frame (columns ``user``, ``item``, ``rating``); return ``self``."""
        _check_frame(train)
        self.index_ = _fit_index(train, index)
        r = train["rating"].to_numpy(dtype=np.float64)
        self.mean_ = float(r.mean())
        self.rating_range_ = (float(r.min()), float(r.max()))
        self._remember_seen(train)
        return self

    def _predict_known(self, user_rows, item_cols) -> np.ndarray:
        return np.full(len(user_rows), self.mean_, dtype=np.float64)

    def _score_rows(self, user_rows) -> np.ndarray:
        return np.full((len(user_rows), self.index_.n_items), self.mean_)


def fit_biases(rows: np.ndarray, cols: np.ndarray, r: np.ndarray, shape: tuple[int, int],
               reg_user: float, reg_item: float, n_sweeps: int
               ) -> tuple[float, np.ndarray, np.ndarray]:
    """Regularised user and item biases by alternating exact minimisation.

    Parameters
    ----------
    rows, cols : ndarray of int, shape (n,)
        User row and item column of each rating.
    r : ndarray of float64, shape (n,)
        Ratings.
    shape : (n_users, n_items)
    reg_user, reg_item : float
    n_sweeps : int

    Returns
    -------
    mu : float
        Global mean.
    b_u : ndarray of float64, shape (n_users,)
    b_i : ndarray of float64, shape (n_items,)
        Each sweep sets ``b_i = sum_u (r_ui - mu - b_u) / (reg_item + |R(i)|)``, then
        ``b_u`` likewise (Koren 2010, section 2.1; Surprise's ``BaselineOnly`` ALS).
    """
    mu = float(r.mean())
    n_u = np.bincount(rows, minlength=shape[0])
    n_i = np.bincount(cols, minlength=shape[1])
    b_u = np.zeros(shape[0])
    b_i = np.zeros(shape[1])
    for _ in range(n_sweeps):
        b_i = np.bincount(cols, r - mu - b_u[rows], shape[1]) / (reg_item + n_i)
        b_u = np.bincount(rows, r - mu - b_i[cols], shape[0]) / (reg_user + n_u)
    return mu, b_u, b_i


class BiasBaseline(RatingPredictor):
    """Global mean plus regularised user and item biases.

    The prediction is ``r_hat(u, i) = mu + b_u + b_i`` (Koren 2010, eq. 1). The
    biases minimise

        sum over observed (r_ui - mu - b_u - b_i)^2 + reg_user * sum b_u^2 + reg_item * sum b_i^2

    by alternating exact minimisation (:func:`fit_biases`), as Surprise's
    ``BaselineOnly(bsl_options={"method": "als"})``.

    Parameters
    ----------
    config : None, str or BiasConfig
        Default: ``reg_user=15``, ``reg_item=10``, ``n_sweeps=10``.
    **overrides
        Fields of :class:`~recsys_ae.configs.BiasConfig`.

    Attributes
    ----------
    index_ : IdIndex
    mean_ : float
    user_bias_ : ndarray of float64, shape (n_users,)
        Indexed like ``index_.users``.
    item_bias_ : ndarray of float64, shape (n_items,)
    rating_range_ : (float, float)
        Smallest and largest training rating; predictions are clipped to it.

    Notes
    -----
    Cold start: an unknown user or item contributes a bias of 0, so an unknown user
    gets ``mu + b_i`` and an unknown item ``mu + b_u``.
    """

    name = "user + item bias"
    Config = BiasConfig

    def fit(self, train: pd.DataFrame, *, index: IdIndex | None = None) -> BiasBaseline:
        """Fit the biases on a ratings frame (columns ``user``, ``item``, ``rating``)."""
        _check_frame(train)
        self.index_ = _fit_index(train, index)
        rows, cols, known = self.index_.encode(train)
        if not known.all():
            raise ValueError(f"{int((~known).sum())} training pairs have IDs missing "
                             "from the index")
        r = train["rating"].to_numpy(dtype=np.float64)
        cfg = self.config
        self.mean_, self.user_bias_, self.item_bias_ = fit_biases(
            rows, cols, r, (self.index_.n_users, self.index_.n_items),
            cfg.reg_user, cfg.reg_item, cfg.n_sweeps)
        self.rating_range_ = (float(r.min()), float(r.max()))
        self._remember_seen(train)
        return self

    def _predict_known(self, user_rows, item_cols) -> np.ndarray:
        return self.mean_ + self.user_bias_[user_rows] + self.item_bias_[item_cols]

    def _predict_cold(self, user_rows, item_cols) -> np.ndarray:
        return (self.mean_ + np.where(user_rows >= 0, self.user_bias_[user_rows], 0.0)
                + np.where(item_cols >= 0, self.item_bias_[item_cols], 0.0))

    def _score_rows(self, user_rows) -> np.ndarray:
        return self.mean_ + self.user_bias_[user_rows][:, None] + self.item_bias_[None, :]
