"""U-AutoRec and I-AutoRec: one-hidden-layer autoencoders for rating prediction.

AutoRec (Sedhain et al. 2015) reconstructs one row ``r`` of the rating matrix:

    h(r) = g(W r + b)          encoder: n_columns -> hidden units
    r_hat = f(V h(r) + c)      decoder: hidden units -> n_columns

and is trained on the squared error of the *observed* entries only, plus an
L2 penalty on ``W`` and ``V`` (paper, eq. 2). The predicted rating of user u
for item i is the reconstructed entry at (u, i).

* **I-AutoRec** (the paper's better variant): rows are items, so an item is
  described by the ratings its users gave it; ``n_columns`` = number of users.
* **U-AutoRec** (what the seed notebook built): rows are users;
  ``n_columns`` = number of items.

This module keeps the seed's choices that are sound (masked MSE, optional
mean-centring, optional input dropout) and fixes its bugs: the observation mask
comes from the sparse structure, duplicates are resolved before the matrix is
built, predictions are made from training ratings only, clipped to the rating
scale, and unknown users or items get a documented fallback.

References
----------
S. Sedhain, A. K. Menon, S. Sanner, L. Xie. "AutoRec: Autoencoders Meet
Collaborative Filtering". WWW 2015 Companion, pp. 111-112.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_ae.base import RatingPredictor, _check_seed
from recsys_ae.configs import AUTOREC_PRESETS, AutoRecConfig, resolve_config
from recsys_ae.preprocess import IdIndex, rating_matrix
from recsys_ae.training import MaskedMSE, MaskedRMSE, RowBatches, dense_rows

__all__ = ["AutoRecConfig", "PRESETS", "AutoRec", "KernelL2"]

#: Named configurations (the same dict as :data:`recsys_ae.configs.AUTOREC_PRESETS`).
PRESETS = AUTOREC_PRESETS


@keras.saving.register_keras_serializable(package="recsys_ae")
class KernelL2(keras.regularizers.L2):
    """``l2 * sum(w**2)``, returned in Keras' default float type.

    Keras adds regularisation terms to a loss kept in ``keras.config.floatx()``
    (float32) and refuses a float64 term. Casting the scalar penalty keeps
    float64 models trainable; its *gradient* ``2 * l2 * w`` is still computed
    in the weights' precision.
    """

    def __call__(self, x):
        return keras.ops.cast(super().__call__(x), keras.config.floatx())



class AutoRec(RatingPredictor):
    """U-AutoRec or I-AutoRec with a scikit-learn-like ``fit`` / ``predict``.

    Parameters
    ----------
    kind : {"item", "user"}
        ``"item"`` for I-AutoRec (rows of the rating matrix are items),
        ``"user"`` for U-AutoRec (rows are users).
    config : AutoRecConfig or str, optional
        Hyperparameters, or the name of a preset (:data:`PRESETS`). Default:
        the ``"paper"`` preset.
    seed : int
        The one seed for weight initialisation, dropout masks and batch
        order. Two fits with the same seed, data and configuration give the
        same model.
    verbose : int or "auto"
        Passed to ``keras.Model.fit``: 1 shows Keras' progress bar, 2 one line
        per epoch, 0 nothing.

    Attributes
    ----------
    index_ : IdIndex
        The ID mapping fitted on the training ratings (or given to ``fit``).
    mean_ : float
        Global mean of the training ratings, subtracted before training.
    rating_range_ : (float, float)
        Smallest and largest training rating; predictions are clipped to it.
    train_matrix_ : scipy.sparse.csr_matrix
        Training ratings, rows = users (U-AutoRec) or items (I-AutoRec).
    model_ : keras.Model
    initial_weights_ : list of ndarray
        Weights right after initialisation (for the permutation experiment).
    history_ : dict of lists
        Per epoch: ``loss`` (batch-mean masked squared error plus the L2
        term, as optimised) and ``rmse`` (RMSE over all observed training
        cells, no L2 term, in stars); with validation data also ``val_loss``
        and ``val_rmse`` (the held-out ratings, predicted from training
        inputs, unclipped). ``rmse`` and ``val_rmse`` are in stars whatever
        ``config.scale_ratings`` says; ``loss`` is in the network's units.
    best_epoch_ : int or None
        With validation data: the epoch (1-based) of the lowest ``val_rmse``,
        whose weights the model keeps when ``config.early_stopping_patience``
        is set; None without validation data.
    l2_ : float
        The L2 coefficient used: ``config.l2``, or ``lam / (2 N)`` when
        ``config.lam`` is set (``N`` training ratings).

    Notes
    -----
    Cold start: the network has no input row for a user (U-AutoRec) or item
    (I-AutoRec) it was not trained on, and no output column for an unseen item
    (user). Such a pair gets what *is* known about it: the global training mean
    plus the regularised bias of its known user or item, fitted on the same
    training ratings as :class:`~recsys_ae.baselines.BiasBaseline` (Koren 2010;
    ``mu + b_u`` for an unseen item, ``mu + b_i`` for an unseen user, ``mu`` when
    both are unseen). :meth:`cold_pairs` says which pairs; the biases are
    recomputed from ``train_matrix_``, so a loaded model answers the same.

    What the network sees (``config.input``, ``config.scale_ratings``): the stored
    rating ``r`` at row/column pair (a, j) enters input and target as
    ``(r - offset(a, j)) / scale``, and a prediction is ``output * scale +
    offset(a, j)``, with ``scale = (max - min) / 4`` of the training ratings (1 without
    scaling) and ``offset`` 0 (raw; ``min - scale`` when scaled, so raw ratings land on
    [1, 5]), ``mean_`` (centred) or
    ``mean_ + b_u + b_i`` (residual, the biases of :meth:`cold_start_biases`). All of
    it is recomputed from ``train_matrix_``, ``mean_`` and ``rating_range_``, so a
    saved and loaded model predicts the same.
    """

    Config = AutoRecConfig
    PRESETS = AUTOREC_PRESETS

    def __init__(self, kind: str = "item", config: AutoRecConfig | str | None = None, *,
                 seed: int = 0, verbose="auto", **overrides):
        if kind not in ("item", "user"):
            raise ValueError(f"kind must be 'item' (I-AutoRec) or 'user' (U-AutoRec), "
                             f"got {kind!r}")
        self.kind = kind
        self.config = resolve_config(AutoRecConfig, AUTOREC_PRESETS,
                                     "paper" if config is None else config, overrides)
        self.seed = _check_seed(seed)
        self.verbose = verbose

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind!r}, {self.config!r}, seed={self.seed})"

    @property
    def name(self) -> str:
        return "I-AutoRec" if self.kind == "item" else "U-AutoRec"

    @property
    def _by(self) -> str:
        return self.kind

    # -- building ---------------------------------------------------------------------------
    def build(self, n_columns: int) -> keras.Model:
        """Build (not train) the Keras model for rows of ``n_columns`` entries.

        Input (n_columns) -> [Dropout] -> Dense(hidden_units, activation) ->
        Dense(n_columns, output_activation). Initialisers and dropout are
        seeded from ``seed``.
        """
        cfg = self.config
        l2 = self._effective_l2()
        reg = KernelL2(l2) if l2 > 0 else None
        inputs = keras.Input(shape=(n_columns,), dtype=cfg.dtype, name="ratings")
        x = inputs
        if cfg.dropout > 0:
            x = keras.layers.Dropout(cfg.dropout, seed=self.seed, dtype=cfg.dtype,
                                     name="input_dropout")(x)
        hidden = keras.layers.Dense(
            cfg.hidden_units, activation=cfg.activation, kernel_regularizer=reg,
            kernel_initializer=keras.initializers.GlorotUniform(seed=self.seed),
            dtype=cfg.dtype, name="encoder")(x)
        bias_reg = reg if self._penalises_decoder_bias() else None
        outputs = keras.layers.Dense(
            n_columns, activation=cfg.output_activation, kernel_regularizer=reg,
            bias_regularizer=bias_reg,
            kernel_initializer=keras.initializers.GlorotUniform(seed=self.seed + 1),
            dtype=cfg.dtype, name="decoder")(hidden)
        name = "I_AutoRec" if self.kind == "item" else "U_AutoRec"
        return keras.Model(inputs, outputs, name=name)

    def _optimizer(self, total_steps: int | None = None):
        """The configured Keras optimizer; ``total_steps`` (the run's optimizer steps) is
        needed by ``lr_schedule="cosine"``."""
        cfg = self.config
        lr = cfg.learning_rate
        if cfg.lr_schedule == "cosine":
            if not total_steps:
                raise ValueError("lr_schedule='cosine' needs the run's total_steps")
            lr = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, total_steps)
        if cfg.optimizer == "sgd":
            return keras.optimizers.SGD(learning_rate=lr, momentum=cfg.momentum)
        return keras.optimizers.Adam(learning_rate=lr)

    def _matrix(self, ratings: pd.DataFrame):
        """CSR matrix of ``ratings`` in this model's row layout; pairs unknown to
        ``index_`` are left out and counted (returned as the second value)."""
        rows, cols, known = self.index_.encode(ratings)
        kept = ratings[known]
        return rating_matrix(kept, self.index_, by=self._by), int((~known).sum())

    # -- fitting ----------------------------------------------------------------------------
    def _fit_data(self, train: pd.DataFrame, index: IdIndex | None) -> float:
        """Set ``index_``, ``train_matrix_``, ``mean_``, ``rating_range_`` and ``l2_``
        from the training ratings; return the shift subtracted from stored ratings (the
        mean for centred input, else 0).
        """
        self.index_ = IdIndex.fit(train) if index is None else index
        self.train_matrix_ = rating_matrix(train, self.index_, by=self._by,
                                           dtype=np.dtype(self.config.dtype))
        ratings = train["rating"].to_numpy(dtype=np.float64)
        self.mean_ = float(ratings.mean())
        self.rating_range_ = (float(ratings.min()), float(ratings.max()))
        self.l2_ = self._effective_l2()
        return self.mean_ if self.config.input_mode == "centred" else 0.0

    def _check_early_stopping(self, validation) -> None:
        """Early stopping watches the validation RMSE: refuse it without validation ratings."""
        if self.config.early_stopping_patience is not None and validation is None:
            raise ValueError("config.early_stopping_patience needs validation ratings: "
                             "fit(train, validation=...); or set it to None and give epochs")

    def _effective_l2(self) -> float:
        """``config.l2``, or the paper's ``lam`` converted with the training ratings."""
        cfg = self.config
        if cfg.lam is None:
            return float(cfg.l2)
        matrix = getattr(self, "train_matrix_", None)
        if matrix is None:
            raise ValueError("config.lam is converted to a per-batch L2 weight with the number "
                             "of training ratings; call fit first")
        from recsys_ae.tuning import paper_l2_equivalent

        return paper_l2_equivalent(cfg.lam, max(1, int(matrix.nnz)))

    def _penalises_decoder_bias(self) -> bool:
        """Whether the L2 term covers the decoder bias ``c`` too (residual input only).

        With residual input the decoder bias (one per column: a user of I-AutoRec) would be
        a second, unshrunk bias on top of the baseline's; it is penalised like the weights,
        so a heavily regularised network falls back to the bias baseline.
        """
        return self.config.input_mode == "residual"

    # -- what the network sees ----------------------------------------------------------------
    #: Width of the scale the network works on when ``config.scale_ratings``: the
    #: training scale is mapped linearly onto [1, 5] (width 4).
    NET_SPAN = 4.0

    def _net_scale(self) -> float:
        """Rating units per network unit: ``(max - min) / 4`` of the training ratings when
        ``config.scale_ratings`` (1 for a one-valued scale, and for a 1-5 scale), else 1."""
        if not self.config.scale_ratings:
            return 1.0
        lo, hi = self.rating_range_
        return float(hi - lo) / self.NET_SPAN if hi > lo else 1.0

    def _net_shift(self) -> float:
        """The constant part of the offset: 0 (raw), ``min - scale`` (raw, scaled: the
        smallest rating becomes 1, never the 0 of "not rated") or ``mean_``."""
        mode = self.config.input_mode
        if mode == "raw":
            if not self.config.scale_ratings:
                return 0.0
            return float(self.rating_range_[0]) - self._net_scale()
        return float(self.mean_)

    def _simple_transform(self) -> bool:
        """True when the network sees ``stored - constant`` (the original code path)."""
        return self._net_scale() == 1.0 and self.config.input_mode != "residual" and \
            self._net_shift() in (0.0, float(self.mean_))

    def _row_col_bias(self) -> tuple[np.ndarray, np.ndarray]:
        """Residual input: the biases of the matrix rows and of its columns."""
        b_u, b_i = self.cold_start_biases()
        return (b_u, b_i) if self.kind == "user" else (b_i, b_u)

    def _offsets(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Offset (stars) subtracted at (row, column) pairs of the matrix."""
        out = np.full(len(rows), self._net_shift())
        if self.config.input_mode == "residual":
            b_row, b_col = self._row_col_bias()
            out += b_row[rows] + b_col[cols]
        return out

    def _to_net(self, matrix) -> sp.csr_matrix:
        """A matrix of stored ratings (this model's layout) in network units, CSR."""
        coo = sp.coo_matrix(matrix)
        values = (coo.data.astype(np.float64) - self._offsets(coo.row, coo.col)) \
            / self._net_scale()
        out = sp.csr_matrix((values.astype(self.config.dtype), (coo.row, coo.col)),
                            shape=matrix.shape)
        out.sort_indices()
        return out

    def _net_matrix(self) -> sp.csr_matrix:
        """``train_matrix_`` in network units (cached; rebuilt for a new matrix)."""
        key = (self._net_scale(), self._net_shift(), self.config.input_mode)
        cached = getattr(self, "_net_cache", None)
        if cached is None or cached[0] is not self.train_matrix_ or cached[1] != key:
            cached = (self.train_matrix_, key, self._to_net(self.train_matrix_))
            self._net_cache = cached
        return cached[2]

    def fit(self, train: pd.DataFrame, validation: pd.DataFrame | None = None, *,
            index: IdIndex | None = None, initial_weights=None) -> AutoRec:
        """Train on a ratings frame.

        Parameters
        ----------
        train : DataFrame with columns ``user``, ``item``, ``rating``
            One rating per (user, item) pair (see
            :func:`recsys_ae.preprocess.deduplicate`).
        validation : DataFrame, optional
            Held-out ratings whose masked MSE is recorded each epoch as
            ``val_loss``. The inputs are the training rows; pairs with an ID
            not in the index are left out and counted in
            ``n_validation_cold_``.
        index : IdIndex, optional
            ID mapping to use; fitted on ``train`` when omitted.
        initial_weights : list of ndarray, optional
            Replace the seeded initial weights (for controlled experiments).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            If ``train`` has duplicate pairs or IDs missing from ``index``.
        """
        cfg = self.config
        self._check_early_stopping(validation)
        shift = self._fit_data(train, index)

        keras.utils.set_random_seed(self.seed)
        self.model_ = self.build(self.train_matrix_.shape[1])
        if initial_weights is not None:
            self.model_.set_weights(initial_weights)
        self.initial_weights_ = [w.copy() for w in self.model_.get_weights()]
        simple = self._simple_transform()
        inputs = self.train_matrix_ if simple else self._net_matrix()
        shift = shift if simple else 0.0
        batches = RowBatches(inputs, batch_size=cfg.batch_size, mean=shift,
                             shuffle=True, seed=self.seed, dtype=cfg.dtype)
        self.model_.compile(optimizer=self._optimizer(cfg.epochs * len(batches)),
                            loss=MaskedMSE(dtype=cfg.dtype), metrics=[MaskedRMSE()])
        val_batches = None
        self.n_validation_cold_ = 0
        if validation is not None:
            val_matrix, self.n_validation_cold_ = self._matrix(validation)
            val_matrix = val_matrix.astype(cfg.dtype) if simple else self._to_net(val_matrix)
            val_batches = RowBatches(inputs, val_matrix, batch_size=cfg.batch_size,
                                     mean=shift, shuffle=False, dtype=cfg.dtype)
        callbacks = []
        if cfg.early_stopping_patience is not None:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor="val_rmse", mode="min", patience=cfg.early_stopping_patience,
                restore_best_weights=True))
        history = self.model_.fit(batches, validation_data=val_batches, epochs=cfg.epochs,
                                  verbose=self.verbose, callbacks=callbacks)
        self._record_history(history.history)
        return self

    def _record_history(self, history: dict) -> None:
        """Set ``history_`` from per-epoch values in the network's units (RMSEs converted
        to stars, losses kept as optimised) and ``best_epoch_`` from its ``val_rmse``."""
        scale = self._net_scale()
        self.history_ = {k: [float(v) * (scale if k.endswith("rmse") else 1.0) for v in vals]
                         for k, vals in history.items()}
        val = self.history_.get("val_rmse")
        self.best_epoch_ = int(np.argmin(val)) + 1 if val else None

    # -- predicting -------------------------------------------------------------------------
    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        """Reconstructed rows in stars (mean added back when centred), not clipped.

        Parameters
        ----------
        rows : ndarray of int, shape (b,)
            Row numbers of ``train_matrix_`` (users for U-AutoRec, items for
            I-AutoRec). Only training ratings are fed in.

        Returns
        -------
        ndarray of float64, shape (b, n_columns)
        """
        rows = np.asarray(rows)
        out = self._network_rows(rows) * self._net_scale() + self._net_shift()
        if self.config.input_mode == "residual":
            b_row, b_col = self._row_col_bias()
            out += b_row[rows][:, None] + b_col[None, :]
        return out

    def _network_rows(self, rows: np.ndarray) -> np.ndarray:
        """The network's outputs (its own units, float64) for some rows."""
        if self._simple_transform():
            x = dense_rows(self.train_matrix_, rows, shift=self._net_shift(), fill=0.0,
                           dtype=self.config.dtype)
        else:
            x = dense_rows(self._net_matrix(), rows, fill=0.0, dtype=self.config.dtype)
        out = keras.ops.convert_to_numpy(self.model_(x, training=False))
        return out.astype(np.float64)

    def _predict_known(self, user_rows: np.ndarray, item_cols: np.ndarray) -> np.ndarray:
        """Reconstructed entries in stars (offset added back, unclipped) at known pairs."""
        rows, cols = (user_rows, item_cols) if self.kind == "user" else (item_cols, user_rows)
        return (self._pair_outputs(rows, cols, self.PREDICT_CHUNK_ROWS) * self._net_scale()
                + self._offsets(rows, cols))

    def cold_start_biases(self) -> tuple[np.ndarray, np.ndarray]:
        """User and item biases of the training ratings, used for cold-start pairs.

        Returns
        -------
        user_bias : ndarray of float64, shape (index_.n_users,)
        item_bias : ndarray of float64, shape (index_.n_items,)
            :func:`recsys_ae.baselines.fit_biases` with the
            :class:`~recsys_ae.configs.BiasConfig` defaults, on ``train_matrix_``.
        """
        cached = getattr(self, "_biases_cache", None)
        if cached is None or cached[0] is not self.train_matrix_:
            from recsys_ae.baselines import fit_biases
            from recsys_ae.configs import BiasConfig

            m = self.train_matrix_.tocoo()
            rows, cols = (m.row, m.col) if self.kind == "user" else (m.col, m.row)
            r = m.data.astype(np.float64)  # the matrix holds raw ratings
            cfg = BiasConfig()
            _, b_u, b_i = fit_biases(rows, cols, r, (self.index_.n_users, self.index_.n_items),
                                     cfg.reg_user, cfg.reg_item, cfg.n_sweeps)
            cached = (self.train_matrix_, b_u, b_i)
            self._biases_cache = cached
        return cached[1], cached[2]

    def _predict_cold(self, user_rows: np.ndarray, item_cols: np.ndarray) -> np.ndarray:
        """The global mean plus the bias of whichever of user and item is known."""
        b_u, b_i = self.cold_start_biases()
        return (self.mean_ + np.where(user_rows >= 0, b_u[np.maximum(user_rows, 0)], 0.0)
                + np.where(item_cols >= 0, b_i[np.maximum(item_cols, 0)], 0.0))

    def _seen_matrix(self):
        """The training pairs, users x items (the training matrix, transposed for I-AutoRec)."""
        seen = getattr(self, "_seen_cache", None)
        if seen is None or seen[0] is not self.train_matrix_:
            m = self.train_matrix_
            seen = (m, m.tocsr() if self.kind == "user" else m.T.tocsr())
            self._seen_cache = seen
        return seen[1]

    def _score_rows(self, user_rows: np.ndarray) -> np.ndarray:
        """Reconstructed ratings (unclipped) of every item for some users.

        U-AutoRec reconstructs the users' rows. I-AutoRec's user is a *column*: the
        network is evaluated at the pairs (every item, each of these users) only
        (:meth:`_predict_known`), never at all the other users' columns.
        """
        user_rows = np.asarray(user_rows)
        if self.kind == "user":
            return self.reconstruct(user_rows)
        n_items = self.train_matrix_.shape[0]
        items = np.tile(np.arange(n_items), len(user_rows))
        users = np.repeat(user_rows, n_items)
        return self._predict_known(users, items).reshape(len(user_rows), n_items)

    #: Rows reconstructed at a time by ``predict`` (``chunk_rows * n_columns`` floats).
    PREDICT_CHUNK_ROWS = 256

    def _pair_outputs(self, rows: np.ndarray, cols: np.ndarray, chunk_rows: int) -> np.ndarray:
        """Network outputs (the network's units, unclipped) at known (row, column) pairs.

        The network evaluated at the pairs only, ``chunk_rows`` distinct rows at a time,
        from the trained layers' weights: ``h = g(x W + b)`` with the sparse row ``x``
        (scipy's sparse-dense product; the zeros of a row add nothing), then one dot
        product ``h . V[:, j] + c_j`` per pair. The same function as the Keras model
        (dropout is off at inference), but nothing ``chunk_rows x n_columns`` wide is
        formed: for I-AutoRec at Beauty scale (402,812 output users) the dense forward
        pass would be 0.4 TFLOP per 256-row chunk.
        """
        values = np.empty(len(rows))
        if not len(rows):
            return values
        cfg = self.config
        encoder, decoder = self.model_.get_layer("encoder"), self.model_.get_layer("decoder")
        # the kernels stay in their own dtype (at Beauty scale a float64 copy of the decoder
        # would be 1.6 GB); the pairs' gathered columns and the hidden codes are float64
        w, b = encoder.get_weights()
        v, c = decoder.get_weights()
        act = keras.activations.get(cfg.activation)
        out_act = keras.activations.get(cfg.output_activation)
        matrix = self._net_matrix() if not self._simple_transform() else None
        shift = self._net_shift()
        order = np.argsort(rows, kind="stable")
        unique_rows, first = np.unique(rows[order], return_index=True)
        bounds = np.append(first, len(order))
        for lo in range(0, len(unique_rows), chunk_rows):
            hi = min(lo + chunk_rows, len(unique_rows))
            block = unique_rows[lo:hi]
            # the rows in the kernel's dtype, so that the product does not copy the kernel
            if matrix is None:  # stored ratings minus a constant, at the observed cells
                x = self.train_matrix_[block].astype(w.dtype)
                x.data -= w.dtype.type(shift)
            else:
                x = matrix[block].astype(w.dtype)
            h = np.asarray(keras.ops.convert_to_numpy(act(np.asarray(x @ w) + b)),
                           dtype=np.float64)
            pos = order[bounds[lo]:bounds[hi]]
            local = np.repeat(np.arange(hi - lo), np.diff(bounds[lo:hi + 1]))
            pre = (np.einsum("ph,hp->p", h[local], v[:, cols[pos]].astype(np.float64))
                   + c[cols[pos]].astype(np.float64))
            values[pos] = keras.ops.convert_to_numpy(out_act(pre))
        return values
