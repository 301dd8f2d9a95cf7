"""Simple rating predictors that every model must beat.

* :class:`GlobalMean` predicts the mean training rating for everything.
* :class:`BiasBaseline` predicts ``mu + b_user + b_item`` with regularised
  biases fitted by alternating least squares, the baseline predictor of
  Koren (2010), section 2.1, fitted the way Surprise's ``BaselineOnly`` does
  (``method="als"``: ``reg_i=10``, ``reg_u=15``, 10 sweeps).

Both follow the package's model interface: ``fit(train)`` takes a ratings
frame with columns ``user``, ``item``, ``rating``; ``predict(users, items)``
takes two equal-length sequences of string IDs and returns float64 ratings
clipped to the training rating range. Unknown users or items get a bias of 0
(the cold-start fallback), and ``n_cold_`` counts them after each predict.

References
----------
Y. Koren. "Factor in the Neighbors: Scalable and Accurate Collaborative
Filtering". ACM TKDD 4(1), 2010.
N. Hug. "Surprise: A Python library for recommender systems". JOSS 5(52), 2020.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["GlobalMean", "BiasBaseline"]


def _check_frame(train: pd.DataFrame) -> None:
    missing = {"user", "item", "rating"} - set(train.columns)
    if missing:
        raise ValueError(f"ratings frame lacks column(s) {sorted(missing)}; "
                         "expected columns user, item, rating")
    if len(train) == 0:
        raise ValueError("cannot fit on an empty ratings frame")


class GlobalMean:
    """Predict the mean training rating for every (user, item) pair.

    Attributes
    ----------
    mean_ : float
        Mean of the training ratings.
    n_cold_ : int
        Always 0: the global mean needs no user or item.
    """

    name = "global mean"

    def fit(self, train: pd.DataFrame) -> GlobalMean:
        """Fit on a ratings frame (columns ``user``, ``item``, ``rating``)."""
        _check_frame(train)
        self.mean_ = float(train["rating"].mean())
        return self

    def predict(self, users, items) -> np.ndarray:
        """Return ``mean_`` for each pair; shape ``(len(users),)``, float64."""
        if len(users) != len(items):
            raise ValueError(f"users ({len(users)}) and items ({len(items)}) differ in length")
        self.n_cold_ = 0
        return np.full(len(users), self.mean_, dtype=np.float64)


class BiasBaseline:
    """Global mean plus regularised user and item biases.

    The prediction is ``r_hat(u, i) = mu + b_u + b_i`` (Koren 2010, eq. 1). The
    biases minimise

        sum over observed (r_ui - mu - b_u - b_i)^2 + reg_user * sum b_u^2 + reg_item * sum b_i^2

    by alternating exact minimisation: each sweep sets every item bias, then
    every user bias, to its closed-form optimum given the other
    (``b_i = sum_u (r_ui - mu - b_u) / (reg_item + |R(i)|)``, and likewise for
    ``b_u``), as Surprise's ``BaselineOnly(bsl_options={"method": "als"})``.

    Parameters
    ----------
    reg_user : float, default 15
        Shrinkage of user biases towards 0 (in units of "pseudo-ratings").
    reg_item : float, default 10
        Shrinkage of item biases.
    n_sweeps : int, default 10
        Alternating sweeps.

    Attributes
    ----------
    mean_ : float
    user_bias_ : pandas.Series, indexed by user ID
    item_bias_ : pandas.Series, indexed by item ID
    rating_range_ : (float, float)
        Smallest and largest training rating; predictions are clipped to it.
    n_cold_ : int
        Pairs in the last ``predict`` whose user or item was not in training.
    """

    name = "user + item bias"

    def __init__(self, reg_user: float = 15.0, reg_item: float = 10.0, n_sweeps: int = 10):
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.n_sweeps = n_sweeps

    def fit(self, train: pd.DataFrame) -> BiasBaseline:
        """Fit the biases on a ratings frame (columns ``user``, ``item``, ``rating``)."""
        _check_frame(train)
        u_codes, users = pd.factorize(train["user"])
        i_codes, items = pd.factorize(train["item"])
        r = train["rating"].to_numpy(dtype=np.float64)
        mu = r.mean()
        n_u = np.bincount(u_codes, minlength=len(users))
        n_i = np.bincount(i_codes, minlength=len(items))
        b_u = np.zeros(len(users))
        b_i = np.zeros(len(items))
        for _ in range(self.n_sweeps):
            b_i = np.bincount(i_codes, r - mu - b_u[u_codes], len(items)) / (self.reg_item + n_i)
            b_u = np.bincount(u_codes, r - mu - b_i[i_codes], len(users)) / (self.reg_user + n_u)
        self.mean_ = float(mu)
        self.user_bias_ = pd.Series(b_u, index=pd.Index(users, name="user"))
        self.item_bias_ = pd.Series(b_i, index=pd.Index(items, name="item"))
        self.rating_range_ = (float(r.min()), float(r.max()))
        return self

    def predict(self, users, items) -> np.ndarray:
        """Predict ratings for pairs of IDs.

        Parameters
        ----------
        users, items : sequence of str, length n

        Returns
        -------
        ndarray of float64, shape (n,)
            ``mu + b_u + b_i`` clipped to ``rating_range_``; an unknown user or
            item contributes a bias of 0.
        """
        if len(users) != len(items):
            raise ValueError(f"users ({len(users)}) and items ({len(items)}) differ in length")
        b_u = self.user_bias_.reindex(pd.Index(users))
        b_i = self.item_bias_.reindex(pd.Index(items))
        cold = b_u.isna().to_numpy() | b_i.isna().to_numpy()
        self.n_cold_ = int(cold.sum())
        pred = self.mean_ + b_u.fillna(0.0).to_numpy() + b_i.fillna(0.0).to_numpy()
        return np.clip(pred, *self.rating_range_)
