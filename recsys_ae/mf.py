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


#: Most (row, rating slot) cells :func:`_half_sweep` pads into one batch of normal equations.
SWEEP_BLOCK_CELLS = 1 << 16


def _half_sweep(matrix: sp.csr_matrix, other_factors: np.ndarray, other_bias: np.ndarray,
                mu: float, reg: float, reg_bias: float, weighted: bool):
    """Solve every row's ``(factors, bias)`` given the other side, a block of rows at a time.

    Row ``u`` solves the ridge regression ``(X_u^T X_u + D_u) [p_u; b_u] = X_u^T y_u``
    with ``X_u`` the rows ``[q_j, 1]`` of its rated columns ``j``, ``y_u = r_uj - mu -
    b_j`` and ``D_u = diag(reg, ..., reg, reg_bias)`` (times the row's count when
    ``weighted``). Rows are sorted by their number of ratings and taken in blocks of
    similar length; each block's ``X_u`` are padded with zero rows to one length and
    its normal equations formed by one batched matrix product and solved by one
    batched ``numpy.linalg.solve``. A row with fewer ratings ``m`` than unknowns
    ``k + 1`` (most rows of Amazon Beauty, where most users rated one or two items)
    solves the equivalent ``m x m`` system ``(X_u D_u^-1 X_u^T + I) alpha = y_u``,
    ``[p_u; b_u] = D_u^-1 X_u^T alpha`` (the push-through identity), which costs far
    less than the ``(k + 1) x (k + 1)`` one. No Python loop runs per row (at Beauty
    scale, 321,366 rows), and memory is bounded by :data:`SWEEP_BLOCK_CELLS`.

    Parameters
    ----------
    matrix : csr_matrix, shape (n_rows, n_other)
        Ratings with rows = the side being solved.
    other_factors : ndarray, shape (n_other, k)
    other_bias : ndarray, shape (n_other,)

    Returns
    -------
    factors : ndarray, shape (n_rows, k)
        Zero for a row without ratings.
    bias : ndarray, shape (n_rows,)
    """
    n_rows = matrix.shape[0]
    k = other_factors.shape[1]
    factors = np.zeros((n_rows, k))
    bias = np.zeros(n_rows)
    penalty = np.r_[np.full(k, reg), reg_bias]
    counts = np.diff(matrix.indptr)
    order = np.argsort(counts, kind="stable")
    order = order[counts[order] > 0]
    other = np.hstack([other_factors, np.ones((len(other_bias), 1))])
    lo = 0
    while lo < len(order):
        width = int(counts[order[lo]])
        # rows sorted by count: grow the block while its padded size stays bounded
        n_block = max(1, SWEEP_BLOCK_CELLS // max(width, 1))
        hi = min(len(order), lo + n_block)
        width = int(counts[order[hi - 1]])
        while hi - lo > 1 and (hi - lo) * width > 2 * SWEEP_BLOCK_CELLS:
            hi = lo + max(1, (hi - lo) // 2)
            width = int(counts[order[hi - 1]])
        rows = order[lo:hi]
        n = counts[rows]
        slot = np.arange(width)[None, :]
        valid = slot < n[:, None]
        pos = np.where(valid, matrix.indptr[rows][:, None] + slot, 0)
        cols = matrix.indices[pos]
        x = other[cols] * valid[:, :, None]                       # (b, width, k + 1)
        y = (matrix.data[pos] - mu - other_bias[cols]) * valid    # (b, width)
        scale = n.astype(np.float64) if weighted else np.ones(len(rows))
        d = penalty[None, :] * scale[:, None]                     # diagonal of D_u
        if width < k + 1 and (d > 0).all():
            # fewer ratings than unknowns: the same solution from a width x width system,
            # (X^T X + D)^-1 X^T y = D^-1 X^T (X D^-1 X^T + I)^-1 y (push-through identity)
            xd = x / d[:, None, :]
            g = np.matmul(xd, x.transpose(0, 2, 1))
            g[:, np.arange(width), np.arange(width)] += 1.0
            alpha = np.linalg.solve(g, y[:, :, None])
            sol = np.matmul(xd.transpose(0, 2, 1), alpha)[:, :, 0]
        else:
            a = np.matmul(x.transpose(0, 2, 1), x)                # (b, k + 1, k + 1)
            a[:, np.arange(k + 1), np.arange(k + 1)] += d
            sol = np.linalg.solve(a, np.matmul(x.transpose(0, 2, 1), y[:, :, None]))[:, :, 0]
        factors[rows], bias[rows] = sol[:, :k], sol[:, k]
        lo = hi
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
