"""Biased matrix factorization fitted by alternating least squares.

The model of Koren, Bell & Volinsky (2009), eq. 4-5:

    r_hat(u, i) = mu + b_u + b_i + q_i . p_u

with ``p_u, q_i`` in R^k, fitted by minimising over the observed ratings

    sum (r_ui - mu - b_u - b_i - q_i . p_u)^2
        + reg * (n_u ||p_u||^2 + n_i ||q_i||^2) + reg_bias * (n_u b_u^2 + n_i b_i^2)

where ``n_u``/``n_i`` are the rating counts (the "weighted-lambda" form of
Zhou et al. 2008; with ``weighted=False`` the counts are 1 and this is exactly
Koren et al.'s eq. 5). With the item side fixed, each user's ``(p_u, b_u)`` is
a ridge regression with a closed-form solution, and vice versa, so the
objective decreases at every half-sweep (Koren et al. 2009, "Learning
algorithms: alternating least squares").

It is a :class:`~recsys_ae.base.RatingPredictor`: ``fit(train, validation=None)``
on a ratings frame, ``predict(users, items)`` on ID sequences (clipped to the
training range) and ``recommend(user, k)``. The only random
choice is the initial item factors, drawn from ``seed``.

References
----------
Y. Koren, R. Bell, C. Volinsky. "Matrix Factorization Techniques for
Recommender Systems". IEEE Computer 42(8), 2009, pp. 30-37.
Y. Zhou, D. Wilkinson, R. Schreiber, R. Pan. "Large-Scale Parallel
Collaborative Filtering for the Netflix Prize". AAIM 2008.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_ae.base import RatingPredictor
from recsys_ae.configs import MFConfig
from recsys_ae.preprocess import IdIndex

__all__ = ["BiasedMF", "MFConfig"]


def _half_sweep(matrix: sp.csr_matrix, other_factors: np.ndarray, other_bias: np.ndarray,
                mu: float, reg: float, reg_bias: float, weighted: bool):
    """Solve every row's ``(factors, bias)`` given the other side.

    Parameters
    ----------
    matrix : csr_matrix, shape (n_rows, n_other)
        Ratings with rows = the side being solved.
    other_factors : ndarray, shape (n_other, k)
    other_bias : ndarray, shape (n_other,)

    Returns
    -------
    factors : ndarray, shape (n_rows, k)
    bias : ndarray, shape (n_rows,)
    """
    n_rows = matrix.shape[0]
    k = other_factors.shape[1]
    factors = np.zeros((n_rows, k))
    bias = np.zeros(n_rows)
    penalty = np.r_[np.full(k, reg), reg_bias]
    for row in range(n_rows):
        lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
        if hi == lo:
            continue
        cols = matrix.indices[lo:hi]
        x = np.hstack([other_factors[cols], np.ones((hi - lo, 1))])
        y = matrix.data[lo:hi] - mu - other_bias[cols]
        scale = (hi - lo) if weighted else 1.0
        a = x.T @ x + np.diag(penalty * scale)
        sol = np.linalg.solve(a, x.T @ y)
        factors[row], bias[row] = sol[:k], sol[k]
    return factors, bias


class BiasedMF(RatingPredictor):
    """Biased matrix factorization (Koren, Bell & Volinsky 2009) by ALS.

    Parameters
    ----------
    config : None, str or MFConfig
        Hyperparameters (:class:`~recsys_ae.configs.MFConfig`); default
        ``n_factors=50``, ``reg=0.15``, ``reg_bias=0.05``, ``n_sweeps=15``,
        chosen on a validation split of MovieLens 100K ``u1.base``.
    seed : int, default 0
        Seed of the initial item factors.
    **overrides
        Fields of :class:`~recsys_ae.configs.MFConfig`.

    Attributes
    ----------
    index_ : IdIndex
    mean_ : float
    user_factors_ : ndarray, shape (n_users, k)
    item_factors_ : ndarray, shape (n_items, k)
    user_bias_, item_bias_ : ndarray
    rating_range_ : (float, float)
    history_ : dict of lists
        ``rmse`` (training, per sweep) and, with validation data,
        ``val_rmse`` (unclipped; cold pairs left out).

    Notes
    -----
    Cold start: an unknown user or item contributes neither bias nor factors,
    so an unknown user gets ``mu + b_i`` and an unknown item ``mu + b_u``.
    """

    name = "biased MF (ALS)"
    Config = MFConfig

    def fit(self, train: pd.DataFrame, validation: pd.DataFrame | None = None, *,
            index: IdIndex | None = None) -> BiasedMF:
        """Fit on a ratings frame (columns ``user``, ``item``, ``rating``).

        Parameters
        ----------
        train : DataFrame
            One rating per (user, item) pair.
        validation : DataFrame, optional
            Held-out ratings scored after each sweep (``history_["val_rmse"]``).
        index : IdIndex, optional
            ID mapping; fitted on ``train`` when omitted.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            If ``train`` has duplicate pairs or IDs missing from ``index``.
        """
        cfg = self.config
        self.index_ = IdIndex.fit(train) if index is None else index
        rows, cols, known = self.index_.encode(train)
        if not known.all():
            raise ValueError(f"{int((~known).sum())} training pairs have IDs missing "
                             "from the index")
        r = train["rating"].to_numpy(dtype=np.float64)
        shape = (self.index_.n_users, self.index_.n_items)
        by_user = sp.csr_matrix((r, (rows, cols)), shape=shape)
        if by_user.nnz != len(r):
            raise ValueError("training ratings contain duplicate (user, item) pairs")
        by_item = by_user.T.tocsr()
        mu = float(r.mean())
        rng = np.random.default_rng(self.seed)
        q = rng.normal(0.0, cfg.init_scale, (shape[1], cfg.n_factors))
        b_i = np.zeros(shape[1])
        val = None
        if validation is not None:
            vr, vc, vk = self.index_.encode(validation)
            val = (vr[vk], vc[vk], validation["rating"].to_numpy(dtype=np.float64)[vk])
        self.history_ = {"rmse": []}
        if val is not None:
            self.history_["val_rmse"] = []
        self.mean_ = mu
        for _ in range(cfg.n_sweeps):
            p, b_u = _half_sweep(by_user, q, b_i, mu, cfg.reg, cfg.reg_bias, cfg.weighted)
            q, b_i = _half_sweep(by_item, p, b_u, mu, cfg.reg, cfg.reg_bias, cfg.weighted)
            self.user_factors_, self.item_factors_ = p, q
            self.user_bias_, self.item_bias_ = b_u, b_i
            fitted = self._predict_known(rows, cols)
            self.history_["rmse"].append(float(np.sqrt(np.mean((r - fitted) ** 2))))
            if val is not None:
                err = val[2] - self._predict_known(val[0], val[1])
                self.history_["val_rmse"].append(float(np.sqrt(np.mean(err ** 2))))
        self.rating_range_ = (float(r.min()), float(r.max()))
        self._remember_seen(train)
        return self

    def _predict_known(self, user_rows, item_cols) -> np.ndarray:
        """``mu + b_u + b_i + q_i . p_u``, unclipped."""
        return (self.mean_ + self.user_bias_[user_rows] + self.item_bias_[item_cols]
                + np.einsum("nk,nk->n", self.user_factors_[user_rows],
                            self.item_factors_[item_cols]))

    def _predict_cold(self, user_rows, item_cols) -> np.ndarray:
        """``mu`` plus whichever bias is known."""
        return (self.mean_ + np.where(user_rows >= 0, self.user_bias_[user_rows], 0.0)
                + np.where(item_cols >= 0, self.item_bias_[item_cols], 0.0))

    def _score_rows(self, user_rows) -> np.ndarray:
        return (self.mean_ + self.user_bias_[user_rows][:, None] + self.item_bias_[None, :]
                + self.user_factors_[user_rows] @ self.item_factors_.T)
