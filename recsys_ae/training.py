"""Batching rows of a sparse rating matrix, and the masked loss.

An autoencoder for collaborative filtering reads one *row* of the rating matrix
at a time (a user's ratings for U-AutoRec, an item's ratings for I-AutoRec) and
tries to reproduce it. Two details decide whether that works:

* **Only observed entries count.** Most cells of the rating matrix are unknown,
  not zero. The loss is the mean squared error over the observed cells only
  (Sedhain et al. 2015, eq. 2 sums over observed ratings only).
* **"Observed" comes from the sparse structure, never from the value.** After
  mean-centring, a rating equal to the mean becomes 0.0 and must stay observed.
  Here the targets mark unobserved cells with NaN, so no real value can be
  mistaken for "missing".

References
----------
S. Sedhain, A. K. Menon, S. Sanner, L. Xie. "AutoRec: Autoencoders Meet
Collaborative Filtering". WWW 2015 Companion, pp. 111-112.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import scipy.sparse as sp
from keras import ops

__all__ = ["masked_mse", "MaskedMSE", "MaskedRMSE", "RowBatches", "dense_rows"]


def masked_mse(y_true, y_pred):
    """Mean squared error over the observed cells of a batch.

    Parameters
    ----------
    y_true : tensor, shape (batch, n_columns), float
        Targets; ``NaN`` marks an unobserved cell.
    y_pred : tensor, shape (batch, n_columns), float
        Reconstructions.

    Returns
    -------
    loss : scalar tensor
        ``sum((y_pred - y_true)**2 over observed) / number observed``; 0.0 (not
        NaN) for a batch with no observed cell. The prediction of an unobserved
        cell has no effect on the loss or its gradient.

    Notes
    -----
    One row observed ``[5, -, 3]`` and predicted ``[4, 2, 3]`` gives
    ``((4 - 5)**2 + (3 - 3)**2) / 2 = 0.5``. This is the squared-error term of
    AutoRec (Sedhain et al. 2015, eq. 2) divided by the number of observed
    ratings in the batch, as in the seed notebook's ``custom_loss``.
    """
    y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
    observed = ops.logical_not(ops.isnan(y_true))
    # Replace NaN before subtracting so no NaN can reach the gradient.
    target = ops.where(observed, y_true, ops.zeros_like(y_true))
    error = ops.where(observed, y_pred - target, ops.zeros_like(y_pred))
    n_observed = ops.sum(ops.cast(observed, y_pred.dtype))
    return ops.sum(ops.square(error)) / ops.maximum(n_observed, 1.0)


@keras.saving.register_keras_serializable(package="recsys_ae")
class MaskedMSE(keras.losses.Loss):
    """Keras loss object for :func:`masked_mse` (NaN targets = unobserved)."""

    def __init__(self, name="masked_mse", **kwargs):
        super().__init__(name=name, reduction="sum", **kwargs)

    def call(self, y_true, y_pred):
        return masked_mse(y_true, y_pred)


@keras.saving.register_keras_serializable(package="recsys_ae")
class MaskedRMSE(keras.metrics.Metric):
    """Root mean squared error over all observed cells seen in an epoch.

    Unlike the loss reported by Keras, this metric excludes the L2 penalty and
    weights every observed rating equally (not every batch): it accumulates
    the sum of squared errors and the number of observed cells over all
    batches, and reports ``sqrt(sse / n)`` in rating units (stars). NaN
    targets are unobserved, as in :func:`masked_mse`. Predictions are not
    clipped.
    """

    def __init__(self, name="rmse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.sse = self.add_variable(shape=(), initializer="zeros", name="sse",
                                     dtype="float64")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count",
                                       dtype="float64")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
        observed = ops.logical_not(ops.isnan(y_true))
        error = ops.where(observed, y_pred - ops.where(observed, y_true, 0.0), 0.0)
        self.sse.assign_add(ops.cast(ops.sum(ops.square(error)), "float64"))
        self.count.assign_add(ops.cast(ops.sum(ops.cast(observed, "int32")), "float64"))

    def result(self):
        return ops.sqrt(self.sse / ops.maximum(self.count, 1.0))

    def reset_state(self):
        self.sse.assign(0.0)
        self.count.assign(0.0)


def dense_rows(matrix: sp.csr_matrix, rows: np.ndarray, *, shift: float = 0.0,
               fill: float = 0.0, dtype=np.float32) -> np.ndarray:
    """Densify a few rows of a CSR matrix, shifting the stored values.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix, shape (n_rows, n_columns)
        Rating matrix; its stored entries are the observed ratings.
    rows : ndarray of int, shape (batch,)
        Row numbers to take, in the order wanted.
    shift : float
        Subtracted from every stored value (the global mean, to centre).
    fill : float
        Value of the cells that are not stored: 0.0 for inputs (the centred
        "no information" value), NaN for targets (unobserved).
    dtype : numpy dtype

    Returns
    -------
    ndarray, shape (batch, n_columns)
        Only ``batch * n_columns`` cells are allocated; the matrix as a whole
        is never densified.
    """
    block = matrix[rows]
    out = np.full((len(rows), matrix.shape[1]), fill, dtype=dtype)
    row_of_entry = np.repeat(np.arange(len(rows)), np.diff(block.indptr))
    out[row_of_entry, block.indices] = block.data - shift
    return out


class RowBatches(keras.utils.PyDataset):
    """Stream batches of rows of a CSR rating matrix to ``Model.fit``.

    Each batch is ``(x, y)``: ``x`` holds the centred input ratings (0.0 where
    nothing is observed) and ``y`` the centred target ratings (NaN where
    unobserved). For training, inputs and targets are the same matrix (the
    autoencoder reconstructs its input); for validation the inputs are the
    *training* rows and the targets the held-out ratings, so the held-out
    ratings are never seen as input.

    Parameters
    ----------
    inputs : scipy.sparse.csr_matrix, shape (n_rows, n_columns)
    targets : scipy.sparse.csr_matrix, same shape, optional
        Defaults to ``inputs``.
    batch_size : int
        Rows per batch. 10 rows with ``batch_size=4`` give 3 batches of 4, 4
        and 2 rows.
    mean : float
        Global mean subtracted from every stored rating.
    shuffle : bool
        Shuffle row order at the start of each epoch (seeded).
    seed : int
        Seed of the shuffling.
    """

    def __init__(self, inputs, targets=None, *, batch_size=128, mean=0.0, shuffle=True,
                 seed=0, dtype=np.float32, **kwargs):
        super().__init__(**kwargs)
        self.inputs = sp.csr_matrix(inputs)
        self.targets = self.inputs if targets is None else sp.csr_matrix(targets)
        if self.targets.shape != self.inputs.shape:
            raise ValueError(f"targets shape {self.targets.shape} != inputs shape "
                             f"{self.inputs.shape}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.mean = float(mean)
        self.shuffle = shuffle
        self.dtype = dtype
        self._rng = np.random.default_rng(seed)
        self.order = np.arange(self.inputs.shape[0])
        if shuffle:
            self._rng.shuffle(self.order)

    def __len__(self) -> int:
        return math.ceil(self.inputs.shape[0] / self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range 0..{len(self) - 1}")
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        x = dense_rows(self.inputs, rows, shift=self.mean, fill=0.0, dtype=self.dtype)
        y = dense_rows(self.targets, rows, shift=self.mean, fill=np.nan, dtype=self.dtype)
        return x, y

    def on_epoch_end(self):
        if self.shuffle:
            self._rng.shuffle(self.order)
