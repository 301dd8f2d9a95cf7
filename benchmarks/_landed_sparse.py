# Reference copy for benchmarks/bench_sparse.py: recsys_ae/sparse.py as it was at commit
# 8c53de2, before the issue-13 speed work (GradientTape step, one Python call per step).
# Not imported by the package; do not edit.
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

Once the arithmetic is sparse, the *optimizer update* dominates: momentum, Adam
and an L2 penalty on the whole kernel all touch every one of the ``n_columns *
hidden`` weights every step. Two objectives are offered:

``objective="seed"`` (exact)
    The seed's objective and optimizer: masked MSE + ``l2 * (||W||^2 +
    ||V||^2)`` on the *whole* kernels, SGD with (heavy-ball) momentum, the
    same update as ``keras.optimizers.SGD``. A row ``j`` of ``W`` (and of
    ``V^T``, and the bias ``c_j``) that is not in the batch still moves: its
    gradient is the L2 term alone, so ``(w, m)`` follows the *linear*
    recurrence ``m <- mu m - a w, w <- w + m`` with ``a = 2 lr l2``, i.e.
    ``(w, m) <- A (w, m)`` with ``A = [[1 - a, mu], [-a, mu]]``. Instead of
    applying it to every row every step, each row remembers the step it was
    last updated and, when a batch next touches it, is brought forward by
    ``A^k`` in one go (``k`` = steps missed; the powers ``A^k`` are tabulated
    once). All rows are brought up to date at the end of every epoch. This is
    the same arithmetic as the dense update up to rounding, at a cost
    proportional to the rows touched. With Adam (whose update is not linear)
    this objective falls back to dense updates of the whole kernels (exact
    but slow).
``objective="fast"`` (lazy)
    The same per-step update, but only for the rows a batch touches: the L2
    penalty is ``l2 * (sum of ||W[j]||^2 + ||V[:, j]||^2 over the columns j in
    the batch)``, and a row's momentum (or Adam moments) is left as it was
    while the row is not in a batch ("lazy" momentum / Adam, as TensorFlow 1's
    ``LazyAdamOptimizer`` and TensorFlow Addons' ``LazyAdam``). Compared with
    the seed: (1) a column's weights are shrunk only in the steps that use
    it, so a column rated in ``n_j`` of the epoch's batches gets about
    ``n_j / n_batches`` of the seed's weight decay (rare items are much less
    regularised); (2) a row stops moving when it leaves the batch instead of
    coasting on its momentum (with momentum 0.9 the seed's coasting adds up to
    9 more times the last step). The encoder bias ``b`` is dense and updated
    as in the seed.

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

import math

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from recsys_ae.autorec import AutoRec, AutoRecConfig
from recsys_ae.preprocess import IdIndex

__all__ = ["OBJECTIVES", "SparseAutoRec", "csr_entries", "observed_forward", "observed_loss",
           "sparse_rmse", "recommend_top_n"]

#: Training objectives of :class:`SparseAutoRec`.
OBJECTIVES = ("fast", "seed")

_ADAM_BETA_1, _ADAM_BETA_2, _ADAM_EPSILON = 0.9, 0.999, 1e-7  # keras.optimizers.Adam defaults


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
    ``n_cold_``, ``initial_weights_``, ``model_``); ``get_weights()`` returns
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
    objective : {"fast", "seed"}
        ``"fast"``: L2 on and lazy momentum/Adam for the touched rows only;
        ``"seed"``: the seed's exact objective and optimizer. See the module
        docstring for the exact difference.

    Attributes
    ----------
    history_ : dict of lists
        Per epoch ``loss`` (row-weighted batch mean of the masked MSE plus the
        L2 term: for ``"fast"`` the touched-rows term as optimised; for
        ``"seed"`` the whole-kernel term evaluated at the end of the epoch),
        ``rmse`` (over the observed training cells of the epoch's batches,
        with dropout, no L2), and with validation data ``val_loss`` (with the
        whole-kernel L2 term, as Keras reports it) and ``val_rmse``.
    steps_ : int
        Training steps taken.

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
                 seed: int = 0, verbose="auto", objective: str = "fast"):
        super().__init__(kind, config, seed=seed, verbose=verbose)
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
        """The exact seed objective with SGD: untouched rows caught up by ``A^k``."""
        return self.objective == "seed" and self.config.optimizer == "sgd"

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
            ``objective="seed"``; it grows if exceeded). Default: one run of
            ``config.epochs`` epochs.
        """
        cfg = self.config
        if cfg.lr_schedule != "constant" and self._lazy_exact:
            raise ValueError("objective='seed' with SGD catches skipped rows up with a table "
                             "built for one constant learning rate; use "
                             "lr_schedule='constant' or objective='fast'")
        self._shift = self._fit_data(train, index)
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
        cfg = self.config
        size = steps + 2
        if size <= self._table_size:
            return
        a = 2.0 * cfg.learning_rate * cfg.l2
        self._kernel_powers.assign(_momentum_powers(a, cfg.momentum, size).astype(cfg.dtype))
        self._bias_powers.assign(_momentum_powers(0.0, cfg.momentum, size).astype(cfg.dtype))
        self._table_size = size

    def _build_functions(self) -> None:
        """Compile the training step and the inference helpers (fixed signatures, so
        that batches of any size never retrace)."""
        cfg = self.config
        dtype = tf.as_dtype(cfg.dtype)
        W, b, Vt, c = self._params
        base_lr, mom, l2 = cfg.learning_rate, cfg.momentum, cfg.l2
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

        @tf.function(input_signature=[vec_i, vec_i, vec_f, vec_f, scalar_i, scalar_i])
        def train_step(row_of, cols, inputs, targets, n_rows, step):
            lr = base_lr
            if cosine:  # keras.optimizers.schedules.CosineDecay at 0-based step `step`
                done = tf.cast(tf.minimum(step, total_steps), dtype) / total_steps
                lr = base_lr * 0.5 * (1.0 + tf.cos(np.pi * done))
            uniq, pos = tf.unique(cols)
            if lazy_exact:
                k = step - tf.gather(self._last, uniq)
                w_u, mw_u = catch_up(W, slots[0][0], uniq, k, self._kernel_powers)
                v_u, mv_u = catch_up(Vt, slots[0][2], uniq, k, self._kernel_powers)
                c_u, mc_u = catch_up(c, slots[0][3], uniq, k, self._bias_powers)
            else:
                w_u, v_u, c_u = tf.gather(W, uniq), tf.gather(Vt, uniq), tf.gather(c, uniq)
            with tf.GradientTape() as tape:
                tape.watch([w_u, b, v_u, c_u])
                outputs, _ = observed_forward(w_u, b, v_u, c_u, row_of, pos, inputs, n_rows,
                                              cfg.activation, cfg.output_activation)
                sse = tf.reduce_sum(tf.square(outputs - targets))
                n = tf.cast(tf.size(targets), dtype)
                mse = sse / tf.maximum(n, 1.0)
            g_w, g_b, g_v, g_c = tape.gradient(mse, [w_u, b, v_u, c_u])
            # gradients of gathered tensors arrive as IndexedSlices; these are small
            g_w, g_b, g_v, g_c = (tf.convert_to_tensor(g) for g in (g_w, g_b, g_v, g_c))
            touched_l2 = l2 * (tf.reduce_sum(tf.square(w_u)) + tf.reduce_sum(tf.square(v_u)))
            if l2 and not (objective == "seed" and not lazy_exact):
                g_w += 2.0 * l2 * w_u  # the L2 gradient of the rows in hand
                g_v += 2.0 * l2 * v_u

            if lazy_exact:  # exact seed SGD(+momentum) on the rows in hand, after catching up
                for var, slot, g, cur, m_cur in ((W, slots[0][0], g_w, w_u, mw_u),
                                                 (Vt, slots[0][2], g_v, v_u, mv_u),
                                                 (c, slots[0][3], g_c, c_u, mc_u)):
                    m_new = mom * m_cur - lr * g
                    slot.scatter_update(tf.IndexedSlices(m_new, uniq))
                    var.scatter_update(tf.IndexedSlices(cur + m_new, uniq))
                self._last.scatter_update(tf.IndexedSlices(tf.fill(tf.shape(uniq), step + 1),
                                                           uniq))
                _sgd_dense(b, slots[0][1], g_b, lr, mom)
            elif objective == "seed":  # Adam, exact: dense gradient incl. whole-kernel L2
                t = tf.cast(step + 1, dtype)
                for i, (var, g) in enumerate(((W, g_w), (b, g_b), (Vt, g_v), (c, g_c))):
                    dense_g = g
                    if var is not b:
                        dense_g = tf.scatter_nd(uniq[:, None], g, tf.shape(var, tf.int32))
                    if var.shape.rank == 2 and l2:
                        dense_g += 2.0 * l2 * var  # the whole kernel's L2 gradient
                    _adam_dense(var, slots[0][i], slots[1][i], dense_g, lr, t)
            else:  # fast: lazy momentum / lazy Adam on the touched rows
                t = tf.cast(step + 1, dtype)
                for i, (var, g) in enumerate(((W, g_w), (Vt, g_v), (c, g_c))):
                    i = (0, 2, 3)[i]
                    if optimizer == "adam":
                        m = tf.gather(slots[0][i], uniq)
                        v = tf.gather(slots[1][i], uniq)
                        m += (g - m) * (1 - _ADAM_BETA_1)
                        v += (tf.square(g) - v) * (1 - _ADAM_BETA_2)
                        slots[0][i].scatter_update(tf.IndexedSlices(m, uniq))
                        slots[1][i].scatter_update(tf.IndexedSlices(v, uniq))
                        var.scatter_sub(tf.IndexedSlices(
                            _adam_alpha(lr, t) * m / (tf.sqrt(v) + _ADAM_EPSILON), uniq))
                    elif mom:
                        m = mom * tf.gather(slots[0][i], uniq) - lr * g
                        slots[0][i].scatter_update(tf.IndexedSlices(m, uniq))
                        var.scatter_add(tf.IndexedSlices(m, uniq))
                    else:
                        var.scatter_sub(tf.IndexedSlices(lr * g, uniq))
                if optimizer == "adam":
                    _adam_dense(b, slots[0][1], slots[1][1], g_b, lr, t)
                else:
                    _sgd_dense(b, slots[0][1] if slots else None, g_b, lr, mom)
            return tf.stack([mse + touched_l2, sse, n])

        @tf.function(input_signature=[scalar_i, scalar_i, scalar_i])
        def catch_up_range(lo, hi, step):
            rows = tf.range(lo, hi)
            k = step - tf.gather(self._last, rows)
            for var, slot, powers in ((W, slots[0][0], self._kernel_powers),
                                      (Vt, slots[0][2], self._kernel_powers),
                                      (c, slots[0][3], self._bias_powers)):
                w, m = catch_up(var, slot, rows, k, powers)
                var.scatter_update(tf.IndexedSlices(w, rows))
                slot.scatter_update(tf.IndexedSlices(m, rows))
            self._last.scatter_update(tf.IndexedSlices(tf.fill(tf.shape(rows), step), rows))

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
            rows = tf.range(lo, hi)
            return (tf.reduce_sum(tf.square(tf.gather(W, rows)))
                    + tf.reduce_sum(tf.square(tf.gather(Vt, rows))))

        self._train_fn = train_step
        self._catch_up_fn = catch_up_range if lazy_exact else None
        self._encode_fn, self._decode_pairs_fn = encode, decode_pairs
        self._decode_block_fn, self._sum_squares_fn = decode_block, sum_squares

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
        row_of, cols, values = csr_entries(self.train_matrix_, rows)
        targets = (values - self._shift).astype(cfg.dtype, copy=False)
        inputs = targets
        if dropout and cfg.dropout > 0:
            keep = self._dropout_rng.random(len(targets)) >= cfg.dropout
            inputs = np.where(keep, targets / (1.0 - cfg.dropout), 0.0).astype(cfg.dtype)
        return self._step(row_of, cols, inputs, targets, len(rows))

    def _epoch_batches(self, order: np.ndarray):
        """Yield ``(row_of, cols, inputs, targets, n_rows)`` for every batch of an epoch.

        Why: the entries of the whole epoch are extracted, centred and dropped
        out in a few vectorised NumPy calls instead of ~3,000 small ones per
        epoch. The dropout draws come from the same generator in the same order
        as :meth:`train_step` would make them batch by batch (a generator's
        ``random(a + b)`` is ``random(a)`` then ``random(b)``), so training is
        unchanged to the bit.
        """
        cfg = self.config
        bs, matrix = cfg.batch_size, self.train_matrix_
        _, cols, values = csr_entries(matrix, order)
        lengths = np.diff(matrix.indptr)[order]
        row_of = np.repeat((np.arange(len(order)) % bs).astype(np.int32), lengths)
        targets = (values - self._shift).astype(cfg.dtype, copy=False)
        inputs = targets
        if cfg.dropout > 0:
            keep = self._dropout_rng.random(len(targets)) >= cfg.dropout
            inputs = np.where(keep, targets / (1.0 - cfg.dropout), 0.0).astype(cfg.dtype)
        bounds = np.concatenate([[0], np.cumsum(lengths)])[::bs].tolist() + [len(cols)]
        for i in range(self.steps_per_epoch_):
            lo, hi = bounds[i], bounds[i + 1]
            yield (row_of[lo:hi], cols[lo:hi], inputs[lo:hi], targets[lo:hi],
                   min(bs, len(order) - i * bs))

    def _step(self, row_of, cols, inputs, targets, n_rows):
        """Run the compiled step on one batch's entries."""
        if self._lazy_exact and self.steps_ + 2 > self._table_size:
            self._grow_tables(2 * self.steps_ + 2)
        out = self._train_fn(row_of, cols, inputs, targets, np.int32(n_rows),
                             np.int32(self.steps_))
        self.steps_ += 1
        # one tensor back: one device-to-host conversion per step instead of three
        loss, sse, n = out.numpy()
        return float(loss), float(sse), float(n)

    def synchronize(self, chunk: int = 16384) -> None:
        """Bring every row up to the current step (``objective="seed"`` with SGD only;
        a no-op otherwise). Done at the end of every epoch and of ``fit``."""
        if self._catch_up_fn is None:
            return
        n = self._W.shape[0]
        for lo in range(0, n, chunk):
            self._catch_up_fn(np.int32(lo), np.int32(min(n, lo + chunk)), np.int32(self.steps_))

    def l2_penalty(self, chunk: int = 16384) -> float:
        """``l2 * (||W||^2 + ||V||^2)`` over the whole kernels, read in chunks of rows."""
        if not self.config.l2:
            return 0.0
        n = self._W.shape[0]
        total = sum(float(self._sum_squares_fn(np.int32(lo), np.int32(min(n, lo + chunk))))
                    for lo in range(0, n, chunk))
        return self.config.l2 * total

    def fit(self, train: pd.DataFrame, validation: pd.DataFrame | None = None, *,
            index: IdIndex | None = None, initial_weights=None) -> SparseAutoRec:
        """Train on a ratings frame; the same contract as :meth:`AutoRec.fit`.

        Batches are the rows of ``train_matrix_`` in the same seeded, per-epoch
        reshuffled order as :class:`recsys_ae.training.RowBatches`.
        """
        cfg = self.config
        self.setup(train, index=index, initial_weights=initial_weights)
        n_rows = self.train_matrix_.shape[0]
        self.n_validation_cold_ = 0
        val_matrix = None
        if validation is not None:
            val_matrix, self.n_validation_cold_ = self._matrix(validation)
        order_rng = np.random.default_rng(self.seed)
        order = np.arange(n_rows)
        order_rng.shuffle(order)
        verbose = 1 if self.verbose == "auto" else int(self.verbose)
        history = {"loss": [], "rmse": []}
        if val_matrix is not None:
            history.update(val_loss=[], val_rmse=[])
        bs = cfg.batch_size
        for epoch in range(cfg.epochs):
            if verbose:
                print(f"Epoch {epoch + 1}/{cfg.epochs}")
            bar = keras.utils.Progbar(self.steps_per_epoch_, verbose=verbose,
                                      stateful_metrics=["loss", "rmse", "val_loss", "val_rmse"])
            weighted_loss = mse_weighted = sse_total = n_total = 0.0
            for i, entries in enumerate(self._epoch_batches(order)):
                loss, sse, n = self._step(*entries)
                rows = order[i * bs:(i + 1) * bs]
                weighted_loss += loss * len(rows)
                mse_weighted += sse / max(n, 1.0) * len(rows)
                sse_total += sse
                n_total += n
                if verbose == 1:
                    bar.update(i + 1, [("loss", weighted_loss / min(n_rows, (i + 1) * bs)),
                                       ("rmse", math.sqrt(sse_total / max(n_total, 1.0)))])
            self.synchronize()
            if self.objective == "seed":  # the whole-kernel L2 term, at the end of the epoch
                epoch_loss = mse_weighted / n_rows + self.l2_penalty()
            else:
                epoch_loss = weighted_loss / n_rows
            logs = {"loss": epoch_loss, "rmse": math.sqrt(sse_total / max(n_total, 1.0))}
            if val_matrix is not None:
                val_mse, val_rmse = self._validation_scores(val_matrix)
                logs["val_loss"] = val_mse + self.l2_penalty()
                logs["val_rmse"] = val_rmse
            for key, value in logs.items():
                history[key].append(float(value))
            if verbose:
                bar.update(self.steps_per_epoch_, list(logs.items()), finalize=True)
            order_rng.shuffle(order)
        self.history_ = history
        return self

    # -- inference --------------------------------------------------------------------------
    def _hidden(self, rows: np.ndarray) -> np.ndarray:
        """Hidden codes ``h`` of rows of ``train_matrix_`` (training ratings as input)."""
        row_of, cols, values = csr_entries(self.train_matrix_, rows)
        inputs = (values - self._shift).astype(self.config.dtype, copy=False)
        return self._encode_fn(row_of, cols, inputs, np.int32(len(rows)))

    def _pair_outputs(self, rows: np.ndarray, cols: np.ndarray, chunk_rows: int) -> np.ndarray:
        """Decoder outputs (centred units, unclipped) at (row, col) pairs, grouped by row
        ``chunk_rows`` distinct rows at a time; nothing ``n_columns`` wide is formed."""
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
        ``val_rmse``."""
        coo = val_matrix.tocoo()
        target = coo.data.astype(np.float64) - self._shift
        err2 = (self._pair_outputs(coo.row, coo.col, 4096) - target) ** 2
        n_rows, bs = val_matrix.shape[0], self.config.batch_size
        batch = coo.row // bs
        n_batches = math.ceil(n_rows / bs)
        sse = np.bincount(batch, err2, n_batches)
        count = np.bincount(batch, minlength=n_batches)
        rows_in = np.minimum(bs, n_rows - bs * np.arange(n_batches))
        mse = float((sse / np.maximum(count, 1) * rows_in).sum() / n_rows)
        return mse, math.sqrt(err2.sum() / max(len(err2), 1))

    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        """Reconstructed rows in stars (mean added back when centred), not clipped.

        The same as :meth:`AutoRec.reconstruct`: ``(b, n_columns)`` float64, so
        use it for a few rows; :meth:`predict` and :func:`recommend_top_n` never
        form it whole.
        """
        rows = np.asarray(rows)
        hidden = self._hidden(rows)
        n = self._W.shape[0]
        out = self._decode_block_fn(hidden, np.int32(0), np.int32(n)).numpy()
        return out.astype(np.float64) + self._shift

    #: Distinct rows encoded at a time by ``predict`` (``chunk_rows * hidden`` floats
    #: plus the pairs' gathered decoder columns); ``predict`` itself is
    #: :meth:`AutoRec.predict`, which calls :meth:`_pair_outputs` below.
    PREDICT_CHUNK_ROWS = 4096


# --------------------------------------------------------------------------------------------
# Dense optimizer updates (the small encoder bias; the Adam fallback of objective="seed")
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


# --------------------------------------------------------------------------------------------
# Evaluation at scale
# --------------------------------------------------------------------------------------------


def sparse_rmse(model, test: pd.DataFrame) -> float:
    """RMSE of a fitted model over *all* test ratings, computed at those entries only.

    Parameters
    ----------
    model : SparseAutoRec (or any model with ``predict(users, items)``)
        With a :class:`SparseAutoRec` no row is reconstructed whole: each test
        pair costs one gathered decoder column and one dot product.
    test : DataFrame with columns ``user``, ``item``, ``rating``
        Pairs with an unknown user or item get the model's cold-start fallback
        (the global mean) and count.

    Returns
    -------
    float
        ``sqrt(mean((prediction - rating)^2))`` over the test frame, in stars.
    """
    pred = model.predict(test["user"].to_numpy(), test["item"].to_numpy())
    truth = test["rating"].to_numpy(dtype=np.float64)
    return float(np.sqrt(np.mean((pred - truth) ** 2)))


def recommend_top_n(model: SparseAutoRec, users, k: int = 10, *, batch_rows: int = 256,
                    chunk_columns: int = 32768) -> pd.DataFrame:
    """Top-``k`` items per user, excluding the items the user rated in training.

    Scores are the reconstructed ratings (before clipping). Memory stays bounded
    by ``batch_rows * chunk_columns`` scores whatever the catalogue size: the
    items are scored in chunks and a running top-``k`` is kept per user.

    Parameters
    ----------
    model : SparseAutoRec, fitted
    users : sequence of str
        User IDs; users unknown to the model get no recommendation (counted in
        the result's ``attrs["n_unknown"]``).
    k : int
        Items per user (fewer if a user has rated almost everything).
    batch_rows : int
        Users scored at a time.
    chunk_columns : int
        Items scored at a time (U-AutoRec: decoder columns; I-AutoRec: item
        rows encoded).

    Returns
    -------
    DataFrame with columns ``user``, ``rank`` (1..k), ``item``, ``score``
        Sorted by user (in the order given) then rank.

    Notes
    -----
    U-AutoRec: a user's scores are ``V^T h_u + c``, one decoder chunk at a
    time. I-AutoRec: the user is a *column*; the score of item ``i`` is
    ``h_i . V[:, u] + c_u``, so the item rows are encoded chunk by chunk (once
    per batch of users).
    """
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    users = pd.Index(users).astype(str)
    user_idx = model.index_.user_rows(users)
    known = user_idx >= 0
    users, user_idx = users[known], user_idx[known]
    n_items = model.index_.n_items
    by_user = model.train_matrix_ if model.kind == "user" else model.train_matrix_.T.tocsr()
    item_ids = np.asarray(model.index_.items)
    pieces = []
    for lo in range(0, len(user_idx), batch_rows):
        batch = user_idx[lo:lo + batch_rows]
        b = len(batch)
        row_of, seen, _ = csr_entries(by_user, batch)
        best_s = np.full((b, 0), -np.inf)
        best_i = np.zeros((b, 0), dtype=np.int64)
        if model.kind == "user":
            hidden = model._hidden(batch)
        else:
            user_vecs = tf.gather(model._Vt, batch.astype(np.int32))
            user_bias = tf.gather(model._c, batch.astype(np.int32))
        for c_lo in range(0, n_items, chunk_columns):
            c_hi = min(n_items, c_lo + chunk_columns)
            if model.kind == "user":
                scores = model._decode_block_fn(hidden, np.int32(c_lo), np.int32(c_hi)).numpy()
            else:
                h_items = model._hidden(np.arange(c_lo, c_hi))
                act = keras.activations.get(model.config.output_activation)
                scores = act(tf.matmul(user_vecs, h_items, transpose_b=True)
                             + user_bias[:, None]).numpy()
            scores = scores.astype(np.float64)
            inside = (seen >= c_lo) & (seen < c_hi)
            scores[row_of[inside], seen[inside] - c_lo] = -np.inf
            cand_s = np.concatenate([best_s, scores], axis=1)
            cand_i = np.concatenate([best_i, np.broadcast_to(np.arange(c_lo, c_hi),
                                                             scores.shape)], axis=1)
            keep = min(k, cand_s.shape[1])
            top = np.argpartition(-cand_s, keep - 1, axis=1)[:, :keep]
            best_s = np.take_along_axis(cand_s, top, axis=1)
            best_i = np.take_along_axis(cand_i, top, axis=1)
        order = np.argsort(-best_s, axis=1, kind="stable")
        best_s = np.take_along_axis(best_s, order, axis=1)
        best_i = np.take_along_axis(best_i, order, axis=1)
        valid = np.isfinite(best_s)
        rank = np.broadcast_to(np.arange(1, best_s.shape[1] + 1), best_s.shape)
        pieces.append(pd.DataFrame({
            "user": np.repeat(np.asarray(users[lo:lo + b]), valid.sum(axis=1)),
            "rank": rank[valid],
            "item": item_ids[best_i[valid]],
            "score": best_s[valid] + model._shift,
        }))
    out = (pd.concat(pieces, ignore_index=True) if pieces
           else pd.DataFrame({"user": [], "rank": [], "item": [], "score": []}))
    out.attrs["n_unknown"] = int((~known).sum())
    return out
