"""AutoRec trained at the cost of the observed ratings, not of the matrix width.

The dense formulation (:class:`recsys_ae.autorec.AutoRec`, and the seed
notebook) densifies each batch of rows to ``batch x n_columns`` and computes
every output unit, though only the observed cells enter the loss. At the
seed's Beauty scale (133,211 items, batch 128, 700 hidden units) that is
``128 * 133,211 * 700 * 2`` multiply-adds for the decoder alone (about 24
GFLOP forward, twice that backward) for a batch that holds a few hundred
ratings. This module computes exactly the same function and the same
gradients, but only where there is data:

* **Encoder** (a sparse-times-dense product). For row ``u`` with observed
  columns ``j`` and (centred, dropped-out) inputs ``x_uj``,
  ``z_u = sum_j x_uj W[j, :] + b``: gather the rows of the encoder kernel at
  the observed column ids, scale them by the values and segment-sum them per
  row, then ``h_u = g(z_u)``.
* **Decoder**, only at the observed pairs: ``r_hat_uj = h_u . V[:, j] + c_j``.
  The needed decoder columns and bias entries are gathered, and the output is
  one dot product per observed rating.
* **Loss**: the masked MSE of :func:`recsys_ae.training.masked_mse` (sum of
  squared errors over the observed cells / their number) plus the L2 term.

The test-suite checks, in float64, that this loss and its gradients equal the
dense Keras model's to about 1e-9 relative.

Every option of :class:`~recsys_ae.configs.AutoRecConfig` means what it means for
the dense model, through the same helpers of :class:`~recsys_ae.autorec.AutoRec`:

* what the network sees (``input``, ``scale_ratings``): a stored rating ``r`` enters
  input and target as ``(r - offset) / scale`` and an output is mapped back as
  ``output * scale + offset`` (``_net_scale``, ``_offsets``, ``_to_net``; with
  ``input="residual"`` the offset is ``mean_ + b_u + b_i`` and the decoder bias is
  penalised like the kernels);
* ``lam``: the L2 weight is ``l2_`` (``lam / (2 N)``, ``N`` training ratings), set
  before the training step and the tables below are built;
* ``early_stopping_patience``: Keras' ``EarlyStopping`` rule on the validation RMSE,
  the best epoch's weights kept on disk rather than in memory (see
  :meth:`SparseAutoRec.fit`).

Once the arithmetic is sparse, the *optimizer update* dominates: momentum, Adam
and an L2 penalty on the whole kernel all touch every one of the ``n_columns *
hidden`` weights every step. Two objectives are offered:

``objective="exact"``
    The seed's objective and optimizer: masked MSE + ``l2 * (||W||^2 +
    ||V||^2)`` on the *whole* kernels, SGD with (heavy-ball) momentum, the
    same update as ``keras.optimizers.SGD``. A row ``j`` of ``W`` (and of
    ``V^T``, and the bias ``c_j``) that is not in the batch still moves: its
    gradient is the L2 term alone, so ``(w, m)`` follows the *linear*
    recurrence ``m <- mu m - a w, w <- w + m`` with ``a = 2 lr l2`` (``a = 0``
    for ``c_j``, which is penalised only with residual input), i.e.
    ``(w, m) <- A (w, m)`` with ``A = [[1 - a, mu], [-a, mu]]``. Instead of
    applying it to every row every step, each row remembers the step it was
    last updated and, when a batch next touches it, is brought forward by
    ``A^k`` in one go (``k`` = steps missed; the powers ``A^k`` are tabulated
    once). All rows are brought up to date at the end of every epoch. This is
    the same arithmetic as the dense update up to rounding, at a cost
    proportional to the rows touched. With Adam (whose update is not linear)
    this objective falls back to dense updates of the whole kernels (exact
    but slow).
``objective="lazy"``
    The same per-step update, but only for the rows a batch touches: the L2
    penalty is ``l2 * (sum of ||W[j]||^2 + ||V[:, j]||^2 over the columns j in
    the batch)`` (plus ``c_j^2`` with residual input), and a row's momentum
    (or Adam moments) is left as it was while the row is not in a batch
    ("lazy" momentum / Adam, as TensorFlow 1's
    ``LazyAdamOptimizer`` and TensorFlow Addons' ``LazyAdam``). Compared with
    the seed: (1) a column's weights are shrunk only in the steps that use
    it, so a column rated in ``n_j`` of the epoch's batches gets about
    ``n_j / n_batches`` of the seed's weight decay (rare items are much less
    regularised); (2) a row stops moving when it leaves the batch instead of
    coasting on its momentum (with momentum 0.9 the seed's coasting adds up to
    9 more times the last step). The encoder bias ``b`` is dense and updated
    as in the seed.

The training step
-----------------
What a step costs was measured with TensorFlow's profiler (see
``benchmarks/README.md``): not a few expensive ops, nor the fixed cost of
dispatching them, but the *number of passes over batch-sized temporaries*
(about 300 ratings x 700 units = 0.84 MB each at the seed's scale), each pass
costing about the same (0.03-0.1 ms). The step is therefore written to make
few of them:

* the gradients are written out by hand instead of taken by a
  ``GradientTape`` over gathers and segment sums: with ``X`` the batch's
  (rows x distinct columns) sparse input and ``D`` the sparse matrix of the
  output errors ``2 (r_hat - r) / nnz`` at the same places, ``z = X W_u + b``,
  ``dL/dV_u^T = D^T h``, ``dL/dh = D V_u^T``, ``dL/dW_u = X^T (g'(z) * dL/dh)``;
* each of these four sparse products is a gather of the rows it needs, a
  multiplication by the entries' values and a *sorted* segment sum: by row
  (the entries come row by row) or by column (the ~300 entries are sorted by
  column first). Timed alone at the seed's scale (300 entries x 700 units, one
  thread): ``tf.sparse.sparse_dense_matmul`` 0.23 ms,
  ``tf.math.unsorted_segment_sum`` 0.23 ms, ``tf.math.segment_sum`` 0.05 ms.
  When no column repeats in the batch (a fifth of the batches at full scale),
  the entries are already one per distinct column: the sums by column and the
  gathers of ``W_u`` and ``V_u`` per entry are skipped;
* the learning rate multiplies the errors (one number per entry) instead of
  each gradient (a ``300 x 700`` table per kernel);
* the lazy objective's update of a touched row is a gather of its momentum,
  ``m <- mu m - lr g, w <- w + m`` and two scatters (TensorFlow's fused
  ``ResourceSparseApplyKerasMomentum`` does the same in one op, but was measured
  1.3-1.6x slower per step); the exact objective folds the catch-up into the
  update: the new momentum is row 1 of ``A^(k+1) (w, m) - lr (g, g)`` and the
  new weight is the caught-up weight plus it;
* many steps run inside one compiled call (a ``tf.range`` loop over the
  epoch's precomputed entries), so Python and the call are paid once per
  :attr:`SparseAutoRec.STEPS_PER_CALL` steps;
* the end-of-epoch catch-up runs in 256-row chunks in one call and keeps
  the whole-kernel sum of squares for the epoch's loss;
* one thread per operation (:func:`set_op_threads`): TensorFlow splits every
  operation above a size threshold across its intra-op threads, and for these
  ~0.1 ms operations the split and the wait cost more than they save; with one
  thread per operation, independent operations still run side by side on the
  inter-op threads. Measured: a step 1.4-1.6x faster on 2 cores. The setting is
  process-wide, so the library does not change it on import; the command line
  and the benchmark call :func:`set_op_threads` before TensorFlow starts.

What is left, by the same profiler (``benchmarks/bench_sparse.py --profile``):
about half of the operations' time (46% exact, 52% lazy, at full scale) reads
and writes the touched rows of ``W``, ``V^T`` and their momenta, memory traffic
that no rewrite of the arithmetic removes; the rest is the passes above.

The landed implementation (a ``GradientTape`` over gathers and segment sums,
one Python call per step) is kept verbatim in ``benchmarks/_landed_sparse.py``
for the benchmark; the two train to the same weights up to rounding.

References
----------
S. Sedhain, A. K. Menon, S. Sanner, L. Xie. "AutoRec: Autoencoders Meet
Collaborative Filtering". WWW 2015 Companion, pp. 111-112.
D. P. Kingma, J. Ba. "Adam: A Method for Stochastic Optimization". ICLR 2015.
TensorFlow 1.x ``tf.contrib.opt.LazyAdamOptimizer`` and TensorFlow Addons
``tfa.optimizers.LazyAdam``: Adam whose moment estimates are updated only for
the rows of a sparse gradient.
B. T. Polyak. "Some methods of speeding up the convergence of iteration
methods". USSR Computational Mathematics and Mathematical Physics 4(5), 1964
(heavy-ball momentum).
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import warnings

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from recsys_ae.autorec import AutoRec, AutoRecConfig
from recsys_ae.preprocess import IdIndex

__all__ = ["OBJECTIVES", "SparseAutoRec", "csr_entries", "observed_forward", "observed_loss",
           "set_op_threads"]

#: Training objectives of :class:`SparseAutoRec`.
OBJECTIVES = ("lazy", "exact")

#: Former names of the objectives, still accepted with a ``FutureWarning``.
OBJECTIVE_ALIASES = {"fast": "lazy", "seed": "exact"}

_ADAM_BETA_1, _ADAM_BETA_2, _ADAM_EPSILON = 0.9, 0.999, 1e-7  # keras.optimizers.Adam defaults


def set_op_threads(intra_op: int = 1, *, warn: bool = True) -> bool:
    """Run each TensorFlow operation on at most ``intra_op`` threads (process-wide).

    The sparse training step is ~100 small operations (each one pass over a
    ``(distinct columns, hidden)`` temporary of ~1 MB); TensorFlow's default splits
    each across all cores and waits for the pieces, which costs more than it saves.
    With one thread per operation the cores still run independent operations side by
    side (TensorFlow's inter-op threads, left at their default). Measured on the
    seed's full-scale U-AutoRec, 2 cores: 1.65-1.73 ms instead of 2.46-2.61 ms per step
    (``benchmarks/README.md``). The small dense models of the book train at about the
    same speed either way; large dense matrix products (Mult-VAE) lose ~10%.

    Parameters
    ----------
    intra_op : int, default 1
        Threads per operation; 0 restores TensorFlow's default (all cores).
    warn : bool, default True
        Warn when TensorFlow has already started (the command line, which may be called
        from a Python session, passes False).

    Returns
    -------
    bool
        True if the setting was applied; False if the environment variable
        ``TF_NUM_INTRAOP_THREADS`` is set (the user's choice is kept) or TensorFlow
        has already started (a ``RuntimeWarning`` says so, unless ``warn`` is False: the
        setting can only be made before the first TensorFlow operation of the process).

    Raises
    ------
    ValueError
        If ``intra_op`` is negative.
    """
    if intra_op < 0:
        raise ValueError(f"intra_op must be >= 0 (0: TensorFlow's default), got {intra_op}")
    if os.environ.get("TF_NUM_INTRAOP_THREADS"):
        return False
    if tf.config.threading.get_intra_op_parallelism_threads() == intra_op:
        return True
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
    except RuntimeError:
        if not warn:
            return False
        warnings.warn("set_op_threads: TensorFlow has already started in this process, so "
                      "its threads can no longer be changed; call it before the first "
                      "TensorFlow operation (or set TF_NUM_INTRAOP_THREADS before starting "
                      "Python)", RuntimeWarning, stacklevel=2)
        return False
    return True


# --------------------------------------------------------------------------------------------
# The sparse formulation, as plain functions (used by the class and by the tests)
# --------------------------------------------------------------------------------------------


def csr_entries(matrix, rows: np.ndarray):
    """The stored entries of some rows of a CSR matrix, as three flat arrays.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix, shape (n_rows, n_columns)
    rows : ndarray of int, shape (b,)
        Row numbers, in the order wanted.

    Returns
    -------
    row_of : ndarray of int32, shape (nnz,)
        Position in ``rows`` (0 .. b-1) of each entry.
    cols : ndarray of int32, shape (nnz,)
        Column of each entry.
    values : ndarray, shape (nnz,)
        Stored value of each entry (the matrix's dtype).

    Examples
    --------
    Rows ``[2, 0]`` of a matrix whose row 0 holds columns 1 and 3 and whose row
    2 holds column 0 give ``row_of = [0, 1, 1]``, ``cols = [0, 1, 3]``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    total = int(lengths.sum())
    row_of = np.repeat(np.arange(len(rows), dtype=np.int32), lengths)
    first = np.cumsum(lengths) - lengths
    offsets = np.arange(total, dtype=np.int64) - np.repeat(first - starts, lengths)
    return row_of, matrix.indices[offsets].astype(np.int32), matrix.data[offsets]


def observed_forward(enc_rows, enc_bias, dec_rows, dec_bias, row_of, col_pos, inputs, n_rows,
                     activation="tanh", output_activation="linear"):
    """AutoRec's reconstruction at the observed (row, column) pairs of a batch only.

    Parameters
    ----------
    enc_rows : tensor, shape (n, hidden)
        Rows of the encoder kernel ``W`` (all of it, or only the rows of the
        batch's columns).
    enc_bias : tensor, shape (hidden,)
    dec_rows : tensor, shape (n, hidden)
        The matching rows of the *transposed* decoder kernel ``V^T``.
    dec_bias : tensor, shape (n,)
        The matching entries of the decoder bias ``c``.
    row_of : int tensor, shape (nnz,)
        Row of the batch (0 .. n_rows-1) of each observed entry.
    col_pos : int tensor, shape (nnz,)
        Index into ``enc_rows`` / ``dec_rows`` / ``dec_bias`` of each entry's
        column.
    inputs : tensor, shape (nnz,)
        Input value of each entry (centred and dropped out as wanted; a
        dropped entry is 0).
    n_rows : int or int tensor
        Rows in the batch (a row with no entry gets ``h = g(b)``).
    activation, output_activation : str
        Keras activation names of the encoder and the decoder.

    Returns
    -------
    outputs : tensor, shape (nnz,)
        ``f(h_u . V[:, j] + c_j)`` at each entry, ``h_u = g(sum_j x_uj W[j] + b)``.
    hidden : tensor, shape (n_rows, hidden)
    """
    act = keras.activations.get(activation)
    out_act = keras.activations.get(output_activation)
    weighted = tf.gather(enc_rows, col_pos) * inputs[:, None]
    hidden = act(tf.math.unsorted_segment_sum(weighted, row_of, n_rows) + enc_bias)
    dots = tf.reduce_sum(tf.gather(hidden, row_of) * tf.gather(dec_rows, col_pos), axis=1)
    return out_act(dots + tf.gather(dec_bias, col_pos)), hidden


def observed_loss(weights, row_of, cols, inputs, targets, n_rows, *, activation="tanh",
                  output_activation="linear", l2=0.0):
    """The seed's loss of one batch, computed sparsely from the Keras weight layout.

    Parameters
    ----------
    weights : sequence of 4 tensors
        ``[W (n_columns, hidden), b (hidden,), V (hidden, n_columns), c (n_columns,)]``,
        as ``keras.Model.get_weights`` of :meth:`AutoRec.build` returns them
        (variables, to differentiate).
    row_of, cols : int tensors, shape (nnz,)
        Batch row and column of each observed entry.
    inputs, targets : tensors, shape (nnz,)
        Input (centred, dropped out) and target (centred) value of each entry.
    n_rows : int
    l2 : float
        Coefficient of the L2 penalty on both *whole* kernels.

    Returns
    -------
    loss : scalar tensor
        ``sum((r_hat - r)^2) / max(nnz, 1) + l2 * (||W||^2 + ||V||^2)``: the
        dense formulation's ``masked_mse`` plus Keras' ``L2`` regulariser.
    """
    kernel, bias, dec_kernel, dec_bias = weights
    outputs, _ = observed_forward(kernel, bias, tf.transpose(dec_kernel), dec_bias, row_of, cols,
                                  inputs, n_rows, activation, output_activation)
    n = tf.maximum(tf.cast(tf.size(targets), outputs.dtype), 1.0)
    loss = tf.reduce_sum(tf.square(outputs - targets)) / n
    if l2:
        loss += l2 * (tf.reduce_sum(tf.square(kernel)) + tf.reduce_sum(tf.square(dec_kernel)))
    return loss


def _momentum_powers(a: float, momentum: float, n: int) -> np.ndarray:
    """``A^k`` for k = 0..n-1, ``A = [[1 - a, mu], [-a, mu]]``, flattened to shape (n, 4).

    ``(w, m) <- A (w, m)`` is one step of SGD with momentum ``mu`` on the
    gradient ``(a / lr) w`` of an L2 penalty alone (``a = 2 lr l2``).
    """
    step = np.array([[1.0 - a, momentum], [-a, momentum]])
    out = np.empty((n, 2, 2))
    out[0] = np.eye(2)
    for k in range(1, n):
        out[k] = step @ out[k - 1]
    return out.reshape(n, 4)


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------


class SparseAutoRec(AutoRec):
    """U-AutoRec or I-AutoRec trained and evaluated on the observed entries only.

    The public interface, attributes and weight layout are those of
    :class:`recsys_ae.autorec.AutoRec` (``fit``, ``predict``, ``reconstruct``,
    ``index_``, ``mean_``, ``rating_range_``, ``train_matrix_``, ``history_``,
    ``initial_weights_``, ``model_``, ``recommend``); ``get_weights()`` returns
    ``[W, b, V, c]`` with ``V`` of shape ``(hidden, n_columns)`` exactly as
    the Keras model's, so weights move freely between the two classes.

    Parameters
    ----------
    kind : {"item", "user"}
    config : AutoRecConfig or str, optional
        Hyperparameters or a preset name (default ``"paper"``).
    seed : int
        Seed of the initial weights (the same values as ``AutoRec`` with the
        same seed), of the batch order (the same order as ``AutoRec``) and of
        the dropout masks.
    verbose : int or "auto"
        1 or "auto": a Keras progress bar per epoch; 2: one line per epoch; 0:
        silent.
    objective : {"lazy", "exact"}
        ``"lazy"``: L2 on and lazy momentum/Adam for the touched rows only;
        ``"exact"``: the student notebook's exact objective and optimizer. See the module
        docstring for the exact difference.

    Attributes
    ----------
    history_ : dict of lists
        Per epoch ``loss`` (row-weighted batch mean of the masked MSE plus the
        L2 term: for ``"lazy"`` the touched-rows term as optimised; for
        ``"exact"`` the whole-kernel term evaluated at the end of the epoch),
        ``rmse`` (over the observed training cells of the epoch's batches,
        with dropout, no L2), and with validation data ``val_loss`` (with the
        whole-kernel L2 term, as Keras reports it) and ``val_rmse``. As for
        ``AutoRec``, ``rmse`` and ``val_rmse`` are in stars, ``loss`` and
        ``val_loss`` in the network's units (they differ with ``scale_ratings``).
    best_epoch_ : int or None
        With validation data: the epoch (1-based) of the lowest ``val_rmse``,
        whose weights the model keeps when ``config.early_stopping_patience`` is
        set; None without validation data.
    l2_ : float
        The L2 coefficient used: ``config.l2``, or ``lam / (2 N)`` when
        ``config.lam`` is set (``N`` training ratings).
    steps_ : int
        Training steps taken (with early stopping, including the epochs after the
        best one).

    Notes
    -----
    Dropout is applied to the observed input entries only (an unobserved entry
    is 0 and stays 0 under dropout): each is kept with probability ``1 -
    dropout`` and scaled by ``1 / (1 - dropout)`` (inverted dropout, as
    ``keras.layers.Dropout``), from a NumPy generator seeded with ``seed``.
    Internally the decoder kernel is stored transposed, ``(n_columns,
    hidden)``, so that a column of ``V`` is a row of a variable and can be
    gathered and updated in place.
    """

    def __init__(self, kind: str = "item", config: AutoRecConfig | str | None = None, *,
                 seed: int = 0, verbose="auto", objective: str = "lazy", **overrides):
        super().__init__(kind, config, seed=seed, verbose=verbose, **overrides)
        if objective in OBJECTIVE_ALIASES:
            warnings.warn(f"objective {objective!r} is deprecated; use "
                          f"{OBJECTIVE_ALIASES[objective]!r}", FutureWarning, stacklevel=2)
            objective = OBJECTIVE_ALIASES[objective]
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        self.objective = objective
        self._given_initial = None
        self._model = None

    @property
    def name(self) -> str:
        return f"{super().name} (sparse, {self.objective})"

    @property
    def _lazy_exact(self) -> bool:
        """The exact objective with SGD: untouched rows caught up by ``A^k``."""
        return self.objective == "exact" and self.config.optimizer == "sgd"

    # -- weights ----------------------------------------------------------------------------
    def _initial_weight(self, i: int, n_columns: int) -> np.ndarray:
        """The ``i``-th seeded initial weight (``[W, b, V, c]``), identical to
        ``AutoRec.build``'s."""
        cfg = self.config
        h = cfg.hidden_units
        if i in (1, 3):
            return np.zeros(h if i == 1 else n_columns, cfg.dtype)
        shape = (n_columns, h) if i == 0 else (h, n_columns)
        init = keras.initializers.GlorotUniform(seed=self.seed + (i == 2))
        return keras.ops.convert_to_numpy(init(shape, dtype=cfg.dtype))

    def _initial_weights(self, n_columns: int) -> list[np.ndarray]:
        """The seeded initial weights, identical to ``AutoRec.build``'s."""
        return [self._initial_weight(i, n_columns) for i in range(4)]

    @property
    def initial_weights_(self) -> list[np.ndarray]:
        """Weights before training (recomputed from the seed unless given to ``fit``)."""
        if self._given_initial is not None:
            return [np.array(w, copy=True) for w in self._given_initial]
        return self._initial_weights(self.train_matrix_.shape[1])

    def get_weights(self) -> list[np.ndarray]:
        """``[W (n_columns, hidden), b, V (hidden, n_columns), c]``, as the Keras model's."""
        return [self._W.numpy(), self._b.numpy(), np.ascontiguousarray(self._Vt.numpy().T),
                self._c.numpy()]

    def set_weights(self, weights) -> None:
        """Set ``[W, b, V, c]`` in the Keras layout (see :meth:`get_weights`)."""
        kernel, bias, dec, dec_bias = (np.asarray(w) for w in weights)
        n, h = self._W.shape
        if kernel.shape != (n, h) or dec.shape != (h, n) or bias.shape != (h,) or \
                dec_bias.shape != (n,):
            raise ValueError(f"weights must have shapes {[(n, h), (h,), (h, n), (n,)]}, got "
                             f"{[w.shape for w in (kernel, bias, dec, dec_bias)]}")
        self._W.assign(kernel)
        self._b.assign(bias)
        self._Vt.assign(np.ascontiguousarray(dec.T))
        self._c.assign(dec_bias)
        self._model = None
        self._squares = None

    @property
    def model_(self) -> keras.Model:
        """The equivalent dense Keras model, built on first access (``n_columns`` wide)."""
        if self._model is None:
            model = self.build(self.train_matrix_.shape[1])
            model.set_weights(self.get_weights())
            self._model = model
        return self._model

    # -- set-up -----------------------------------------------------------------------------
    def setup(self, train: pd.DataFrame, *, index: IdIndex | None = None,
              initial_weights=None, total_steps: int | None = None) -> SparseAutoRec:
        """Index the data, create the variables and the compiled training step.

        :meth:`fit` calls this; call it yourself only to drive
        :meth:`train_step` by hand (benchmarks).

        Parameters
        ----------
        train : DataFrame with columns ``user``, ``item``, ``rating``
        index : IdIndex, optional
        initial_weights : list of ndarray, optional
            ``[W, b, V, c]`` in the Keras layout.
        total_steps : int, optional
            Steps that will be taken (sizes the table of ``A^k`` for
            ``objective="exact"``; it grows if exceeded). Default: one run of
            ``config.epochs`` epochs.
        """
        cfg = self.config
        if cfg.lr_schedule != "constant" and self._lazy_exact:
            raise ValueError("objective='exact' with SGD catches skipped rows up with a table "
                             "built for one constant learning rate; use "
                             "lr_schedule='constant' or objective='lazy'")
        self._fit_data(train, index)  # also sets l2_, which the tables and the step use
        n_rows, n_cols = self.train_matrix_.shape
        self.steps_per_epoch_ = math.ceil(n_rows / cfg.batch_size)
        self._total_steps = total_steps or cfg.epochs * self.steps_per_epoch_
        self._given_initial = initial_weights
        self._model = None
        dtype = tf.as_dtype(cfg.dtype)

        def var(i, name):
            # one weight at a time, its NumPy copies freed before the next: at full
            # scale a kernel is 0.5 GB, and holding all the temporaries at once
            # would set the process's peak memory
            value = (self._initial_weight(i, n_cols) if initial_weights is None
                     else np.asarray(initial_weights[i], dtype=cfg.dtype))
            if i == 2:  # V is stored transposed: a column of V is a row of Vt
                value = np.ascontiguousarray(value.T)
            return tf.Variable(value, dtype=dtype, trainable=False, name=name)

        self._W = var(0, "encoder_kernel")
        self._b = var(1, "encoder_bias")
        self._Vt = var(2, "decoder_kernel_T")
        self._c = var(3, "decoder_bias")
        self._params = (self._W, self._b, self._Vt, self._c)
        if tuple(self._W.shape) != (n_cols, cfg.hidden_units) or \
                tuple(self._Vt.shape) != (n_cols, cfg.hidden_units):
            raise ValueError("initial_weights do not match the data and config shapes")
        slots = 0
        if cfg.optimizer == "adam":
            slots = 2
        elif cfg.momentum != 0 or self._lazy_exact:
            slots = 1
        self._slots = [[tf.Variable(tf.zeros_like(p), trainable=False) for p in self._params]
                       for _ in range(slots)]
        self.steps_ = 0
        self._squares = None
        if self._lazy_exact:
            self._last = tf.Variable(tf.zeros(n_cols, tf.int32), trainable=False)
            self._table_size = 0
            self._kernel_powers = tf.Variable(tf.zeros((1, 4), dtype), shape=[None, 4],
                                              trainable=False)
            self._bias_powers = tf.Variable(tf.zeros((1, 4), dtype), shape=[None, 4],
                                            trainable=False)
            self._grow_tables(self._total_steps)
        self._dropout_rng = np.random.default_rng((self.seed, 7919))
        self._build_functions()
        return self

    def _grow_tables(self, steps: int) -> None:
        """Tabulate ``A^k`` for ``k`` up to ``steps + 1``: the kernels' (``a = 2 lr l2_``)
        and the decoder bias's (the same with residual input, where it is penalised;
        ``a = 0``, momentum alone, otherwise)."""
        cfg = self.config
        size = steps + 2
        if size <= self._table_size:
            return
        a = 2.0 * cfg.learning_rate * self.l2_
        a_bias = a if self._penalises_decoder_bias() else 0.0
        self._kernel_powers.assign(_momentum_powers(a, cfg.momentum, size).astype(cfg.dtype))
        self._bias_powers.assign(_momentum_powers(a_bias, cfg.momentum, size).astype(cfg.dtype))
        self._table_size = size

    def _build_functions(self) -> None:
        """Compile the training step and the inference helpers (fixed signatures, so
        that batches of any size never retrace)."""
        cfg = self.config
        dtype = tf.as_dtype(cfg.dtype)
        W, b, Vt, c = self._params
        base_lr, mom, l2 = cfg.learning_rate, cfg.momentum, self.l2_
        l2_bias = l2 if self._penalises_decoder_bias() else 0.0  # the L2 weight of c
        cosine, total_steps = cfg.lr_schedule == "cosine", self._total_steps
        vec_i = tf.TensorSpec([None], tf.int32)
        vec_f = tf.TensorSpec([None], dtype)
        scalar_i = tf.TensorSpec([], tf.int32)
        lazy_exact, objective, optimizer = self._lazy_exact, self.objective, cfg.optimizer
        slots = self._slots

        def catch_up(var, slot, uniq, k, powers):
            """Bring rows ``uniq`` of ``var`` and its momentum ``k`` steps forward."""
            p = tf.gather(powers, k)
            w, m = tf.gather(var, uniq), tf.gather(slot, uniq)
            if var.shape.rank == 2:
                p = p[:, :, None]
            return p[:, 0] * w + p[:, 1] * m, p[:, 2] * w + p[:, 3] * m

        act = keras.activations.get(cfg.activation)
        out_act = keras.activations.get(cfg.output_activation)

        def observed_grads(w_u, v_u, c_u, row_of, pos, inputs, targets, scale):
            """Loss and gradients of one batch, written out by hand (see the module
            docstring, "The training step"). ``row_of`` is sorted (entries come row
            by row); ``pos`` is each entry's place in the batch's distinct columns,
            which are in order of first appearance. The gradients come multiplied
            by ``scale`` (the learning rate for SGD, so that the update need not
            scale them again; 1 for Adam)."""
            n_u = tf.shape(w_u)[0]
            # Most batches hold a column twice or more (79% of them at full scale,
            # but only ~2 of ~300 entries); when none does, pos is 0, 1, 2, ...
            repeats = n_u < tf.size(pos)

            def per_entry(t):  # the row of a distinct-column tensor for each entry
                return tf.cond(repeats, lambda: tf.gather(t, pos), lambda: t)

            # entries in column order, for the sums by column (a sorted segment sum
            # was measured 3-4x faster than tf.math.unsorted_segment_sum here)
            def column_order():
                perm = tf.argsort(pos, stable=True)
                return perm, tf.gather(pos, perm)

            perm, sorted_pos = tf.cond(repeats, column_order,
                                       lambda: (tf.range(tf.size(pos)), pos))

            def per_column(e):  # rows of e, one per entry, summed by column
                return tf.cond(repeats,
                               lambda: tf.math.segment_sum(tf.gather(e, perm), sorted_pos),
                               lambda: e)

            # z = X W_u + b: the rows of W_u scaled by the inputs and summed per row (a
            # row with no entry in the batch gets 0 or is left off the end; it has no
            # output, so no gradient either)
            z = tf.math.segment_sum(per_entry(w_u) * inputs[:, None], row_of) + b
            with tf.GradientTape(persistent=True) as tape:
                tape.watch(z)
                h = act(z)
                h_e, v_e = tf.gather(h, row_of), per_entry(v_u)  # nnz x hidden each
                pre = tf.reduce_sum(h_e * v_e, axis=1) + tf.gather(c_u, pos)
                tape.watch(pre)
                outputs = out_act(pre)
            err = outputs - targets
            sse = tf.reduce_sum(tf.square(err))
            n = tf.cast(tf.size(targets), dtype)
            mse = sse / tf.maximum(n, 1.0)
            # d = scale * dL/d(pre) at each entry: the sparse matrix D of the docstring
            d = tape.gradient(outputs, pre,
                              output_gradients=(2.0 * scale / tf.maximum(n, 1.0)) * err)
            g_c = tf.math.unsorted_segment_sum(d, pos, n_u)  # a vector: cheap either way
            g_v = per_column(h_e * d[:, None])  # D^T h
            g_h = tf.math.segment_sum(v_e * d[:, None], row_of)  # D V_u^T
            g_z = tape.gradient(h, z, output_gradients=g_h)
            del tape
            g_b = tf.reduce_sum(g_z, axis=0)
            g_w = per_column(tf.gather(g_z, row_of) * inputs[:, None])  # X^T g_z
            return mse, sse, n, g_w, g_b, g_v, g_c

        def one_step(row_of, cols, inputs, targets, n_rows, step):
            """One optimizer step on one batch's entries; returns ``[loss, sse, n]``."""
            lr = base_lr
            if cosine:  # keras.optimizers.schedules.CosineDecay at 0-based step `step`
                done = tf.cast(tf.minimum(step, total_steps), dtype) / total_steps
                lr = base_lr * 0.5 * (1.0 + tf.cos(np.pi * done))
            uniq, pos = tf.unique(cols)
            if lazy_exact:
                # rows are k steps behind: (w, m) <- A^k (w, m) brings them up to date,
                # and the step itself is (w, m) <- A (w, m) - lr * (g, g) with g the
                # data gradient, so the new state is A^(k+1) (w, m) - lr (g, g)
                k = step - tf.gather(self._last, uniq)
                p_now = tf.gather(self._kernel_powers, k)
                p_next = tf.gather(self._kernel_powers, k + 1)
                state = []
                for var, slot in ((W, slots[0][0]), (Vt, slots[0][2])):
                    w, m = tf.gather(var, uniq), tf.gather(slot, uniq)
                    state.append((w, m, p_now[:, 0:1] * w + p_now[:, 1:2] * m))
                (w_raw, mw_raw, w_u), (v_raw, mv_raw, v_u) = state
                pc = tf.gather(self._bias_powers, k)
                pc_next = tf.gather(self._bias_powers, k + 1)
                c_raw, mc_raw = tf.gather(c, uniq), tf.gather(slots[0][3], uniq)
                c_u = pc[:, 0] * c_raw + pc[:, 1] * mc_raw
            else:
                w_u, v_u, c_u = tf.gather(W, uniq), tf.gather(Vt, uniq), tf.gather(c, uniq)
            # SGD: the gradients come already multiplied by the learning rate ("lr g"
            # below); Adam needs them as they are
            sgd = optimizer != "adam"
            mse, sse, n, g_w, g_b, g_v, g_c = observed_grads(
                w_u, v_u, c_u, row_of, pos, inputs, targets, lr if sgd else 1.0)
            touched_l2 = 2.0 * l2 * (tf.nn.l2_loss(w_u) + tf.nn.l2_loss(v_u))  # one pass each
            if l2_bias:
                touched_l2 += l2_bias * tf.reduce_sum(tf.square(c_u))

            if lazy_exact:  # exact seed SGD(+momentum), the catch-up folded in
                # the new momentum is row 1 of A^(k+1) (w, m) - lr g; the new weight is
                # row 0, which equals the caught-up weight plus the new momentum (row 0
                # minus row 1 of A is (1, 0), so row 0 - row 1 of A^(k+1) is row 0 of A^k)
                for var, slot, lr_g, w, m, cur in ((W, slots[0][0], g_w, w_raw, mw_raw, w_u),
                                                   (Vt, slots[0][2], g_v, v_raw, mv_raw, v_u)):
                    m_new = p_next[:, 2:3] * w + p_next[:, 3:4] * m - lr_g
                    slot.scatter_update(tf.IndexedSlices(m_new, uniq))
                    var.scatter_update(tf.IndexedSlices(cur + m_new, uniq))
                slots[0][3].scatter_update(tf.IndexedSlices(
                    pc_next[:, 2] * c_raw + pc_next[:, 3] * mc_raw - g_c, uniq))
                c.scatter_update(tf.IndexedSlices(
                    pc_next[:, 0] * c_raw + pc_next[:, 1] * mc_raw - g_c, uniq))
                self._last.scatter_update(tf.IndexedSlices(tf.fill(tf.shape(uniq), step + 1),
                                                           uniq))
                _sgd_dense(b, slots[0][1], g_b, 1.0, mom)  # g_b is lr g already
                return tf.stack([mse + touched_l2, sse, n])
            if l2 and objective == "lazy":  # the L2 gradient of the rows in hand
                scale = lr if sgd else 1.0
                g_w += (2.0 * l2 * scale) * w_u
                g_v += (2.0 * l2 * scale) * v_u
                if l2_bias:
                    g_c += (2.0 * l2_bias * scale) * c_u
            if objective == "exact":  # Adam, exact: dense gradient incl. whole-kernel L2
                t = tf.cast(step + 1, dtype)
                for i, (var, g) in enumerate(((W, g_w), (b, g_b), (Vt, g_v), (c, g_c))):
                    dense_g = g
                    if var is not b:
                        dense_g = tf.scatter_nd(uniq[:, None], g, tf.shape(var, tf.int32))
                    if var.shape.rank == 2 and l2:
                        dense_g += 2.0 * l2 * var  # the whole kernel's L2 gradient
                    elif var is c and l2_bias:
                        dense_g += 2.0 * l2_bias * var  # residual input: c is penalised
                    _adam_dense(var, slots[0][i], slots[1][i], dense_g, lr, t)
            else:  # fast: lazy momentum / lazy Adam on the touched rows
                t = tf.cast(step + 1, dtype)
                for i, (var, g, cur) in enumerate(((W, g_w, w_u), (Vt, g_v, v_u),
                                                   (c, g_c, c_u))):
                    i = (0, 2, 3)[i]
                    if optimizer == "adam":
                        m = tf.gather(slots[0][i], uniq)
                        v = tf.gather(slots[1][i], uniq)
                        m += (g - m) * (1 - _ADAM_BETA_1)
                        v += (tf.square(g) - v) * (1 - _ADAM_BETA_2)
                        slots[0][i].scatter_update(tf.IndexedSlices(m, uniq))
                        slots[1][i].scatter_update(tf.IndexedSlices(v, uniq))
                        var.scatter_update(tf.IndexedSlices(
                            cur - _adam_alpha(lr, t) * m / (tf.sqrt(v) + _ADAM_EPSILON), uniq))
                    elif mom:  # m <- mu m - lr g, w <- w + m (as keras.optimizers.SGD)
                        m = mom * tf.gather(slots[0][i], uniq) - g  # g is lr g already
                        slots[0][i].scatter_update(tf.IndexedSlices(m, uniq))
                        var.scatter_update(tf.IndexedSlices(cur + m, uniq))
                    else:
                        var.scatter_update(tf.IndexedSlices(cur - g, uniq))
                if optimizer == "adam":
                    _adam_dense(b, slots[0][1], slots[1][1], g_b, lr, t)
                else:
                    _sgd_dense(b, slots[0][1] if slots else None, g_b, 1.0, mom)
            return tf.stack([mse + touched_l2, sse, n])

        @tf.function(input_signature=[vec_i, vec_i, vec_f, vec_f, vec_i, vec_i, scalar_i])
        def train_steps(row_of, cols, inputs, targets, bounds, n_rows, step0):
            """``len(n_rows)`` consecutive steps in one call: batch ``i``'s entries are
            ``[bounds[i], bounds[i + 1])`` of the flat arrays. Returns ``(steps, 3)``."""
            n_steps = tf.size(n_rows)
            out = tf.TensorArray(dtype, size=n_steps, element_shape=[3])
            for i in tf.range(n_steps):
                lo, hi = bounds[i], bounds[i + 1]
                out = out.write(i, one_step(row_of[lo:hi], cols[lo:hi], inputs[lo:hi],
                                            targets[lo:hi], n_rows[i], step0 + i))
            return out.stack()

        @tf.function(input_signature=[scalar_i, scalar_i])
        def catch_up_all(step, chunk):
            """Every row brought up to ``step``, ``chunk`` rows at a time in one call;
            returns ``||W||^2 + ||V||^2`` of the caught-up kernels (read while in cache),
            plus ``||c||^2`` when the decoder bias is penalised."""
            n = tf.shape(W)[0]
            total = tf.constant(0.0, dtype)
            for lo in tf.range(0, n, chunk):
                rows = tf.range(lo, tf.minimum(n, lo + chunk))
                k = step - tf.gather(self._last, rows)
                for var, slot, powers in ((W, slots[0][0], self._kernel_powers),
                                          (Vt, slots[0][2], self._kernel_powers),
                                          (c, slots[0][3], self._bias_powers)):
                    w, m = catch_up(var, slot, rows, k, powers)
                    var.scatter_update(tf.IndexedSlices(w, rows))
                    slot.scatter_update(tf.IndexedSlices(m, rows))
                    if var is not c or l2_bias:
                        total += 2.0 * tf.nn.l2_loss(w)
            self._last.assign(tf.fill([n], step))
            return total

        @tf.function(input_signature=[vec_i, vec_i, vec_f, scalar_i])
        def encode(row_of, cols, inputs, n_rows):
            act = keras.activations.get(cfg.activation)
            weighted = tf.gather(W, cols) * inputs[:, None]
            return act(tf.math.unsorted_segment_sum(weighted, row_of, n_rows) + b)

        @tf.function(input_signature=[tf.TensorSpec([None, cfg.hidden_units], dtype), vec_i,
                                      vec_i])
        def decode_pairs(hidden, row_of, cols):
            out_act = keras.activations.get(cfg.output_activation)
            dots = tf.reduce_sum(tf.gather(hidden, row_of) * tf.gather(Vt, cols), axis=1)
            return out_act(dots + tf.gather(c, cols))

        @tf.function(input_signature=[tf.TensorSpec([None, cfg.hidden_units], dtype),
                                      scalar_i, scalar_i])
        def decode_block(hidden, lo, hi):
            out_act = keras.activations.get(cfg.output_activation)
            cols = tf.range(lo, hi)
            return out_act(tf.matmul(hidden, tf.gather(Vt, cols), transpose_b=True)
                           + tf.gather(c, cols))

        @tf.function(input_signature=[scalar_i, scalar_i])
        def sum_squares(lo, hi):
            """The penalised sum of squares of rows ``lo:hi`` (see :meth:`l2_penalty`)."""
            rows = tf.range(lo, hi)
            total = (tf.reduce_sum(tf.square(tf.gather(W, rows)))
                     + tf.reduce_sum(tf.square(tf.gather(Vt, rows))))
            if l2_bias:
                total += tf.reduce_sum(tf.square(tf.gather(c, rows)))
            return total

        self._train_fn = train_steps
        self._catch_up_fn = catch_up_all if lazy_exact else None
        self._encode_fn, self._decode_pairs_fn = encode, decode_pairs
        self._decode_block_fn, self._sum_squares_fn = decode_block, sum_squares

    # -- what the network sees ----------------------------------------------------------------
    def _network_view(self, matrix=None) -> tuple:
        """A matrix of stored ratings (default ``train_matrix_``) as the network sees it.

        Returns
        -------
        net_matrix : scipy.sparse.csr_matrix
            The same stored entries (an entry that becomes 0.0 stays observed).
        shift : float
            The network value of an entry is ``net_matrix value - shift``.

        Notes
        -----
        The transform is :class:`~recsys_ae.autorec.AutoRec`'s: ``(r - offset) / scale``
        (``_net_scale``, ``_offsets``: constant, or ``mean_ + b_u + b_i`` with residual
        input). In the common case that is ``r - constant``
        (:meth:`AutoRec._simple_transform`) and the stored ratings are used with the
        constant ``_net_shift()``, as the dense batches do; otherwise the matrix is
        converted once by :meth:`AutoRec._to_net` (the training matrix is cached by
        :meth:`AutoRec._net_matrix`) and the shift is 0.
        """
        if self._simple_transform():
            return (self.train_matrix_ if matrix is None else matrix), self._net_shift()
        return (self._net_matrix() if matrix is None else self._to_net(matrix)), 0.0

    # -- training ---------------------------------------------------------------------------
    def train_step(self, rows: np.ndarray, *, dropout: bool = True):
        """One optimizer step on the given rows of ``train_matrix_``.

        Returns
        -------
        loss : float
            Masked MSE of the batch plus the touched-rows L2 term.
        sse, n : float
            Sum of squared errors and number of observed cells (for the RMSE).
        """
        cfg = self.config
        matrix, shift = self._network_view()
        row_of, cols, values = csr_entries(matrix, rows)
        targets = (values - shift).astype(cfg.dtype, copy=False)
        inputs = targets
        if dropout and cfg.dropout > 0:
            keep = self._dropout_rng.random(len(targets)) >= cfg.dropout
            inputs = np.where(keep, targets / (1.0 - cfg.dropout), 0.0).astype(cfg.dtype)
        return self._step(row_of, cols, inputs, targets, len(rows))

    def _epoch_entries(self, order: np.ndarray):
        """The entries of every batch of an epoch as flat arrays.

        Why: the entries of the whole epoch are extracted, put in the network's
        units (:meth:`_network_view`: centred, scaled, residual as configured) and
        dropped out in a few vectorised NumPy calls instead of ~3,000 small ones per
        epoch. The dropout draws come from the same generator in the same order
        as :meth:`train_step` would make them batch by batch (a generator's
        ``random(a + b)`` is ``random(a)`` then ``random(b)``), so training is
        unchanged to the bit.

        Returns
        -------
        row_of, cols, inputs, targets : ndarray, shape (nnz,)
            Batch row, column, input and target of each entry, batch after batch.
        bounds : ndarray of int32, shape (steps + 1,)
            Batch ``i``'s entries are ``bounds[i]:bounds[i + 1]``.
        n_rows : ndarray of int32, shape (steps,)
            Rows in each batch.
        """
        cfg = self.config
        bs = cfg.batch_size
        matrix, shift = self._network_view()
        _, cols, values = csr_entries(matrix, order)
        lengths = np.diff(matrix.indptr)[order]
        row_of = np.repeat((np.arange(len(order)) % bs).astype(np.int32), lengths)
        targets = (values - shift).astype(cfg.dtype, copy=False)
        inputs = targets
        if cfg.dropout > 0:
            keep = self._dropout_rng.random(len(targets)) >= cfg.dropout
            inputs = np.where(keep, targets / (1.0 - cfg.dropout), 0.0).astype(cfg.dtype)
        bounds = np.append(np.concatenate([[0], np.cumsum(lengths)])[::bs][:self.steps_per_epoch_],
                           len(cols)).astype(np.int32)
        n_rows = np.minimum(bs, len(order) - bs * np.arange(self.steps_per_epoch_))
        return row_of, cols, inputs, targets, bounds, n_rows.astype(np.int32)

    def _epoch_batches(self, order: np.ndarray):
        """Yield ``(row_of, cols, inputs, targets, n_rows)`` for every batch of an epoch
        (see :meth:`_epoch_entries`)."""
        row_of, cols, inputs, targets, bounds, n_rows = self._epoch_entries(order)
        for i in range(len(n_rows)):
            lo, hi = bounds[i], bounds[i + 1]
            yield row_of[lo:hi], cols[lo:hi], inputs[lo:hi], targets[lo:hi], int(n_rows[i])

    #: Optimizer steps run per call of the compiled training loop by :meth:`fit`.
    STEPS_PER_CALL = 256

    def _run_steps(self, row_of, cols, inputs, targets, bounds, n_rows) -> np.ndarray:
        """Run ``len(n_rows)`` consecutive steps in one call of the compiled loop
        (batch ``i``'s entries are ``bounds[i] - bounds[0]:bounds[i + 1] - bounds[0]``
        of the arrays). Returns ``(steps, 3)``: loss, sse and n of each step."""
        n_steps = len(n_rows)
        if self._lazy_exact and self.steps_ + n_steps + 2 > self._table_size:
            self._grow_tables(2 * (self.steps_ + n_steps) + 2)
        bounds = np.asarray(bounds, dtype=np.int32)
        out = self._train_fn(row_of, cols, inputs, targets, bounds - bounds[0],
                             np.asarray(n_rows, dtype=np.int32), np.int32(self.steps_))
        self.steps_ += n_steps
        return out.numpy().astype(np.float64)

    def _step(self, row_of, cols, inputs, targets, n_rows):
        """Run the compiled step on one batch's entries."""
        loss, sse, n = self._run_steps(row_of, cols, inputs, targets, [0, len(cols)],
                                       [n_rows])[0]
        return float(loss), float(sse), float(n)

    def synchronize(self, chunk: int = 256) -> None:
        """Bring every row up to the current step (``objective="exact"`` with SGD only;
        a no-op otherwise). Done at the end of every epoch and of ``fit``.

        ``chunk`` rows at a time, all in one compiled call. The size was measured at
        full scale (182,275 rows, 700 units, one thread per operation): 256-row
        chunks (0.7 MB per temporary, which stays in a core's cache) took
        0.33-0.36 s per catch-up, 2,048-row chunks 0.56-0.77 s, and 16,384-row
        chunks (46 MB per temporary) page-faulted on every chunk and took longer
        still. The whole-kernel sum of squares is computed on the way and kept for
        :meth:`l2_penalty`.
        """
        if self._catch_up_fn is None:
            return
        total = self._catch_up_fn(np.int32(self.steps_), np.int32(chunk))
        self._squares = (self.steps_, float(total))

    def l2_penalty(self, chunk: int = 16384) -> float:
        """``l2_ * (||W||^2 + ||V||^2)`` over the whole kernels (plus ``l2_ * ||c||^2`` with
        residual input, as :meth:`AutoRec.build` penalises the decoder bias then), read in
        chunks of rows (or as :meth:`synchronize` computed it, if no step was taken since)."""
        if not self.l2_:
            return 0.0
        squares = getattr(self, "_squares", None)
        if squares is not None and squares[0] == self.steps_:
            return self.l2_ * squares[1]
        n = self._W.shape[0]
        total = sum(float(self._sum_squares_fn(np.int32(lo), np.int32(min(n, lo + chunk))))
                    for lo in range(0, n, chunk))
        return self.l2_ * total

    def fit(self, train: pd.DataFrame, validation: pd.DataFrame | None = None, *,
            index: IdIndex | None = None, initial_weights=None) -> SparseAutoRec:
        """Train on a ratings frame; the same contract as :meth:`AutoRec.fit`.

        Batches are the rows of ``train_matrix_`` in the same seeded, per-epoch
        reshuffled order as :class:`recsys_ae.training.RowBatches`.

        With ``config.early_stopping_patience`` the rule is that of
        ``keras.callbacks.EarlyStopping(monitor="val_rmse", restore_best_weights=True)``,
        as the dense model uses it: an epoch improves if its validation RMSE is strictly
        below the best so far; training stops after ``patience`` epochs in a row without
        improvement (or after ``config.epochs``), and the best epoch's weights are put
        back. Unlike Keras, which keeps a copy of the best weights in memory, the copy is
        written to ``.npy`` files in a temporary folder, a block of rows at a time
        (:meth:`_save_weights`), and read back at the end: at Beauty scale each kernel
        is 0.5 GB, and a second copy would double the peak memory. With
        ``objective="exact"`` the rows are caught up (:meth:`synchronize`) at the end
        of every epoch, before the validation score and the copy. Only ``W, b, V, c``
        are restored, not the optimizer's momentum or Adam moments (nor ``steps_``):
        training is over, and predictions depend on the weights alone.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            If ``config.early_stopping_patience`` is set and ``validation`` is not given.
        """
        cfg = self.config
        self._check_early_stopping(validation)
        self.setup(train, index=index, initial_weights=initial_weights)
        self.n_validation_cold_ = 0
        val_matrix = None
        if validation is not None:
            val_matrix, self.n_validation_cold_ = self._matrix(validation)
        order_rng = np.random.default_rng(self.seed)
        order = np.arange(self.train_matrix_.shape[0])
        order_rng.shuffle(order)
        verbose = 1 if self.verbose == "auto" else int(self.verbose)
        history = {"loss": [], "rmse": []}
        if val_matrix is not None:
            history.update(val_loss=[], val_rmse=[])
        patience = cfg.early_stopping_patience
        best_rmse, best_epoch, waited = None, 0, 0
        keeps_best = (tempfile.TemporaryDirectory(prefix="recsys_ae_best_") if patience
                      else contextlib.nullcontext())
        with keeps_best as best_folder:
            for epoch in range(1, cfg.epochs + 1):
                if verbose:
                    print(f"Epoch {epoch}/{cfg.epochs}")
                bar = keras.utils.Progbar(self.steps_per_epoch_, verbose=verbose,
                                          stateful_metrics=list(history))
                logs = self._train_epoch(order, bar if verbose == 1 else None)
                if val_matrix is not None:
                    val_mse, val_rmse = self._validation_scores(val_matrix)
                    logs["val_loss"] = val_mse + self.l2_penalty()
                    logs["val_rmse"] = val_rmse
                for key, value in logs.items():
                    history[key].append(float(value))
                if verbose:
                    bar.update(self.steps_per_epoch_, list(logs.items()), finalize=True)
                order_rng.shuffle(order)
                if patience is None:
                    continue
                if best_rmse is None or logs["val_rmse"] < best_rmse:
                    best_rmse, best_epoch, waited = logs["val_rmse"], epoch, 0
                    self._save_weights(best_folder)
                else:
                    waited += 1
                    if waited >= patience:
                        break
            if patience is not None and best_epoch != len(history["loss"]):
                self._load_weights(best_folder)
        self._record_history(history)
        return self

    def _train_epoch(self, order: np.ndarray, bar=None) -> dict:
        """One epoch of steps on the rows in ``order``; with ``objective="exact"`` every row
        is caught up at the end (:meth:`synchronize`).

        Returns
        -------
        dict
            ``loss`` (row-weighted batch mean of the masked MSE, plus the touched-rows L2
            term for ``"lazy"`` or the whole-kernel term at the end of the epoch for
            ``"exact"``) and ``rmse`` (over the epoch's observed cells), in the network's
            units.
        """
        n_rows, bs = self.train_matrix_.shape[0], self.config.batch_size
        weighted_loss = mse_weighted = sse_total = n_total = 0.0
        row_of, cols, inputs, targets, bounds, rows_in = self._epoch_entries(order)
        for lo in range(0, self.steps_per_epoch_, self.STEPS_PER_CALL):
            hi = min(lo + self.STEPS_PER_CALL, self.steps_per_epoch_)
            e_lo, e_hi = bounds[lo], bounds[hi]
            stats = self._run_steps(row_of[e_lo:e_hi], cols[e_lo:e_hi], inputs[e_lo:e_hi],
                                    targets[e_lo:e_hi], bounds[lo:hi + 1], rows_in[lo:hi])
            loss, sse, n = stats.T
            weights = rows_in[lo:hi]
            weighted_loss += float(loss @ weights)
            mse_weighted += float(sse / np.maximum(n, 1.0) @ weights)
            sse_total += float(sse.sum())
            n_total += float(n.sum())
            if bar is not None:
                bar.update(hi, [("loss", weighted_loss / min(n_rows, hi * bs)),
                                ("rmse", math.sqrt(sse_total / max(n_total, 1.0)))])
        del row_of, cols, inputs, targets
        self.synchronize()
        if self.objective == "exact":  # the whole-kernel L2 term, at the end of the epoch
            epoch_loss = mse_weighted / n_rows + self.l2_penalty()
        else:
            epoch_loss = weighted_loss / n_rows
        return {"loss": epoch_loss, "rmse": math.sqrt(sse_total / max(n_total, 1.0))}

    #: Rows of a weight read or written at a time by :meth:`_save_weights` and
    #: :meth:`_load_weights` (16,384 x 700 float32 units: 46 MB).
    WEIGHT_FILE_CHUNK_ROWS = 16384

    def _save_weights(self, folder: str) -> None:
        """Write the weights ``W, b, V^T, c`` to ``folder`` (one ``.npy`` file each,
        overwritten), a block of :attr:`WEIGHT_FILE_CHUNK_ROWS` rows at a time, so that
        no whole copy of a kernel is held in memory."""
        step = self.WEIGHT_FILE_CHUNK_ROWS
        for i, var in enumerate(self._params):
            out = np.lib.format.open_memmap(os.path.join(folder, f"weight_{i}.npy"), mode="w+",
                                            dtype=var.dtype.as_numpy_dtype,
                                            shape=tuple(var.shape))
            for lo in range(0, var.shape[0], step):
                out[lo:lo + step] = var[lo:lo + step].numpy()
            out.flush()
            del out

    def _load_weights(self, folder: str) -> None:
        """Read back the weights :meth:`_save_weights` wrote, a block of rows at a time."""
        step = self.WEIGHT_FILE_CHUNK_ROWS
        for i, var in enumerate(self._params):
            saved = np.load(os.path.join(folder, f"weight_{i}.npy"), mmap_mode="r")
            for lo in range(0, var.shape[0], step):
                var[lo:lo + step].assign(np.asarray(saved[lo:lo + step]))
            del saved
        self._model = None  # the dense model_ and the cached sum of squares are stale
        self._squares = None

    # -- inference --------------------------------------------------------------------------
    def _hidden(self, rows: np.ndarray) -> np.ndarray:
        """Hidden codes ``h`` of rows of ``train_matrix_`` (training ratings as input, in
        the network's units)."""
        matrix, shift = self._network_view()
        row_of, cols, values = csr_entries(matrix, rows)
        inputs = (values - shift).astype(self.config.dtype, copy=False)
        return self._encode_fn(row_of, cols, inputs, np.int32(len(rows)))

    def _pair_outputs(self, rows: np.ndarray, cols: np.ndarray, chunk_rows: int) -> np.ndarray:
        """Decoder outputs (the network's units, unclipped) at (row, col) pairs, grouped
        by row ``chunk_rows`` distinct rows at a time; nothing ``n_columns`` wide is formed.
        :meth:`AutoRec._predict_known` maps them to stars."""
        out = np.empty(len(rows))
        if not len(rows):
            return out
        order = np.argsort(rows, kind="stable")
        unique_rows, first = np.unique(rows[order], return_index=True)
        bounds = np.append(first, len(order))
        for lo in range(0, len(unique_rows), chunk_rows):
            hi = min(lo + chunk_rows, len(unique_rows))
            pos = order[bounds[lo]:bounds[hi]]
            hidden = self._hidden(unique_rows[lo:hi])
            local = np.repeat(np.arange(hi - lo, dtype=np.int32), np.diff(bounds[lo:hi + 1]))
            out[pos] = self._decode_pairs_fn(hidden, local, cols[pos].astype(np.int32)).numpy()
        return out

    def _validation_scores(self, val_matrix) -> tuple[float, float]:
        """Keras' ``val_loss`` without the L2 term (row-weighted mean over batches of
        the batch masked MSE, batches of ``batch_size`` rows in index order) and
        ``val_rmse``, both in the network's units (as Keras reports them for the dense
        model; :meth:`AutoRec._record_history` converts the RMSE to stars).

        Parameters
        ----------
        val_matrix : scipy.sparse.csr_matrix
            Validation ratings in this model's layout, as stored (stars).
        """
        net_matrix, shift = self._network_view(val_matrix)
        coo = net_matrix.tocoo()
        target = coo.data.astype(np.float64) - shift
        err2 = (self._pair_outputs(coo.row, coo.col, 4096) - target) ** 2
        n_rows, bs = val_matrix.shape[0], self.config.batch_size
        batch = coo.row // bs
        n_batches = math.ceil(n_rows / bs)
        sse = np.bincount(batch, err2, n_batches)
        count = np.bincount(batch, minlength=n_batches)
        rows_in = np.minimum(bs, n_rows - bs * np.arange(n_batches))
        mse = float((sse / np.maximum(count, 1) * rows_in).sum() / n_rows)
        return mse, math.sqrt(err2.sum() / max(len(err2), 1))

    def _network_rows(self, rows: np.ndarray) -> np.ndarray:
        """The network's outputs (its own units, float64) for some rows, ``(b, n_columns)``.

        :meth:`AutoRec.reconstruct` maps them to stars (scale, offset and, with residual
        input, the biases added back), so use it for a few rows; ``predict`` never forms
        it whole, and ``recommend`` forms it a block of rows at a time.
        """
        hidden = self._hidden(np.asarray(rows))
        n = self._W.shape[0]
        out = self._decode_block_fn(hidden, np.int32(0), np.int32(n)).numpy()
        return out.astype(np.float64)

    #: Distinct rows encoded at a time by ``predict`` (``chunk_rows * hidden`` floats
    #: plus the pairs' gathered decoder columns); ``predict`` itself is the base class's
    #: :meth:`~recsys_ae.base.RatingPredictor.predict`, which ends in :meth:`_pair_outputs`.
    PREDICT_CHUNK_ROWS = 4096


# --------------------------------------------------------------------------------------------
# Dense optimizer updates (the small encoder bias; the Adam fallback of objective="exact")
# --------------------------------------------------------------------------------------------


def _sgd_dense(var, slot, grad, lr, momentum):
    """``keras.optimizers.SGD``'s update of a whole variable."""
    if momentum:
        slot.assign(momentum * slot - lr * grad)
        var.assign_add(slot)
    else:
        var.assign_sub(lr * grad)


def _adam_alpha(lr, t):
    """Adam's bias-corrected step size at step ``t`` (1-based), as in Keras."""
    return lr * tf.sqrt(1.0 - _ADAM_BETA_2 ** t) / (1.0 - _ADAM_BETA_1 ** t)


def _adam_dense(var, m, v, grad, lr, t):
    """``keras.optimizers.Adam``'s update of a whole variable (Kingma & Ba 2015)."""
    m.assign_add((grad - m) * (1 - _ADAM_BETA_1))
    v.assign_add((tf.square(grad) - v) * (1 - _ADAM_BETA_2))
    var.assign_sub(_adam_alpha(lr, t) * m / (tf.sqrt(v) + _ADAM_EPSILON))
