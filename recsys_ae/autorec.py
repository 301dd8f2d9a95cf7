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

import dataclasses
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd

from recsys_ae.preprocess import IdIndex, rating_matrix
from recsys_ae.training import MaskedMSE, MaskedRMSE, RowBatches, dense_rows

__all__ = ["AutoRecConfig", "PRESETS", "AutoRec", "KernelL2"]


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



@dataclass(frozen=True)
class AutoRecConfig:
    """Hyperparameters of an AutoRec model.

    Parameters
    ----------
    hidden_units : int
        Width of the hidden layer (the "code").
    activation : str
        Encoder activation ``g`` (a Keras activation name).
    output_activation : str
        Decoder activation ``f``; ``"linear"`` (identity) in the paper.
    dropout : float in [0, 1)
        Dropout rate applied to the input row during training (the seed uses
        0.7; the paper uses none).
    l2 : float
        Coefficient of the L2 penalty ``l2 * (||W||^2 + ||V||^2)`` added to the
        mean masked squared error of each batch (Keras ``L2`` regulariser).
    optimizer : {"sgd", "adam"}
    learning_rate : float
        Step size (the peak one under ``lr_schedule="cosine"``).
    lr_schedule : {"constant", "cosine"}
        ``"constant"``: the same step size throughout. ``"cosine"``: the step
        size of optimizer step ``t`` (0-based) of a run of ``T`` steps is
        ``learning_rate * (1 + cos(pi * t / T)) / 2``, falling smoothly to 0
        by the last epoch (Loshchilov & Hutter 2017, SGDR, without restarts;
        Keras ``CosineDecay``). Large steps early, small steps late: the run
        ends near a minimum instead of rattling around it.
    momentum : float
        SGD momentum (ignored by Adam).
    batch_size : int
        Rows per batch.
    epochs : int
    centre : bool
        Subtract the global training mean from every observed rating, in the
        input and the target, and add it back when predicting (the seed's
        choice). When False the rows hold raw ratings with 0 for "not
        rated" (the paper's choice). Centring has a cost for the *input*: a
        rating equal to the mean becomes 0.0, the same number as "not
        rated", so the encoder can no longer tell them apart (the loss still
        counts it, since the mask comes from the sparse structure).
    dtype : {"float32", "float64"}
        Precision of weights and arithmetic.
    """

    hidden_units: int = 500
    activation: str = "sigmoid"
    output_activation: str = "linear"
    dropout: float = 0.0
    l2: float = 0.0
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"
    momentum: float = 0.0
    batch_size: int = 64
    epochs: int = 30
    centre: bool = True
    dtype: str = "float32"

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', "
                             f"got {self.lr_schedule!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        for name in ("hidden_units", "batch_size", "epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    @classmethod
    def preset(cls, name: str, **overrides) -> AutoRecConfig:
        """A named configuration from :data:`PRESETS`, with fields overridden.

        Raises
        ------
        ValueError
            If ``name`` is not a preset or an override is not a field.
        """
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(overrides) - fields
        if unknown:
            raise ValueError(f"unknown AutoRecConfig field(s) {sorted(unknown)}")
        return dataclasses.replace(PRESETS[name], **overrides)


#: Named configurations.
#:
#: ``"seed"`` is the student notebook's U-AutoRec: 700 tanh units, input
#: dropout 0.7, L2 1e-4, SGD with learning rate 0.08 and momentum 0.9, batch
#: 128, 20 epochs.
#:
#: ``"paper"`` follows Sedhain et al. (2015): 500 sigmoid hidden units, an
#: identity output, no dropout, raw (uncentred) ratings and an L2 penalty.
#: The paper minimises a *summed* squared error with L-BFGS / RProp over the whole matrix; with a
#: per-batch *mean* loss and Adam, its penalty weight is rescaled, and the
#: value here was chosen on a validation split carved from MovieLens 100K's
#: ``u1.base`` (never on ``u1.test``).
PRESETS: dict[str, AutoRecConfig] = {
    "seed": AutoRecConfig(hidden_units=700, activation="tanh", output_activation="linear",
                          dropout=0.7, l2=1e-4, optimizer="sgd", learning_rate=0.08,
                          momentum=0.9, batch_size=128, epochs=20, centre=True),
    "paper": AutoRecConfig(hidden_units=500, activation="sigmoid", output_activation="linear",
                           dropout=0.0, l2=1e-3, optimizer="adam", learning_rate=1e-3,
                           momentum=0.0, batch_size=256, epochs=60, centre=False),
}

#: ``"tuned"`` (I-AutoRec) and ``"tuned-user"`` (U-AutoRec): the ``"paper"`` preset with the
#: fields chosen on a 10 % validation split of MovieLens 100K ``u1.base``
#: (``preprocess.validation_split(seed=0)``; ``u1.test`` never read). The search is
#: ``recsys_ae.results.TUNING_GRID``, rerun by ``python -m recsys_ae tune``; its validation RMSE
#: (clipped, cold pairs at the global mean, seed 0, 2026-11-29):
#:
#: * I-AutoRec: input dropout 0.5, Adam with peak learning rate 3e-2 on a cosine schedule, 100
#:   epochs: 0.8900 (seeds 1, 2: 0.8900, 0.8906). The previous preset (constant 1e-3, dropout
#:   0.2, 60 epochs): 0.9037. Cosine without dropout, peak 3e-3 / 1e-2, 60 epochs: 0.8984 /
#:   0.9043; peak 3e-3 / 1e-2 with dropout 0.5: 0.8931 / 0.8919; dropout 0.4 / 0.6: 0.8899 (a
#:   tie) / 0.8911; L2 5e-4 / 2e-3: 0.8936 / 0.9041; 700 / 1000 hidden units: 0.8904 / 0.8911;
#:   batch 128 / 512: 0.8933 / 0.8915; 150 epochs: 0.8920; tanh hidden units: 0.9149.
#: * U-AutoRec: Adam with peak learning rate 1e-2 on a cosine schedule, 60 epochs, no dropout:
#:   0.9381. Previous preset (constant 3e-3, 45 epochs): 0.9461; peak 3e-2 with dropout 0.5,
#:   100 epochs: 0.9387; peak 3e-3 with dropout 0.3, 100 epochs: 0.9424.
PRESETS["tuned"] = dataclasses.replace(PRESETS["paper"], dropout=0.5, learning_rate=3e-2,
                                       lr_schedule="cosine", epochs=100)
PRESETS["tuned-user"] = dataclasses.replace(PRESETS["paper"], learning_rate=1e-2,
                                            lr_schedule="cosine", epochs=60)


class AutoRec:
    """U-AutoRec or I-AutoRec with a scikit-learn-like ``fit`` / ``predict``.

    Parameters
    ----------
    kind : {"item", "user"}
        ``"item"`` for I-AutoRec (rows of the rating matrix are items),
        ``"user"`` for U-AutoRec (rows are users).
    config : AutoRecConfig or str, optional
        Hyperparameters, or the name of a preset. Default: the ``"paper"``
        preset.
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
        inputs, unclipped).
    n_cold_ : int
        Pairs in the last ``predict`` that used the cold-start fallback.
    """

    def __init__(self, kind: str = "item", config: AutoRecConfig | str | None = None, *,
                 seed: int = 0, verbose="auto"):
        if kind not in ("item", "user"):
            raise ValueError(f"kind must be 'item' (I-AutoRec) or 'user' (U-AutoRec), "
                             f"got {kind!r}")
        if config is None:
            config = PRESETS["paper"]
        elif isinstance(config, str):
            config = AutoRecConfig.preset(config)
        self.kind = kind
        self.config = config
        self.seed = int(seed)
        self.verbose = verbose

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
        reg = KernelL2(cfg.l2) if cfg.l2 > 0 else None
        inputs = keras.Input(shape=(n_columns,), dtype=cfg.dtype, name="ratings")
        x = inputs
        if cfg.dropout > 0:
            x = keras.layers.Dropout(cfg.dropout, seed=self.seed, dtype=cfg.dtype,
                                     name="input_dropout")(x)
        hidden = keras.layers.Dense(
            cfg.hidden_units, activation=cfg.activation, kernel_regularizer=reg,
            kernel_initializer=keras.initializers.GlorotUniform(seed=self.seed),
            dtype=cfg.dtype, name="encoder")(x)
        outputs = keras.layers.Dense(
            n_columns, activation=cfg.output_activation, kernel_regularizer=reg,
            kernel_initializer=keras.initializers.GlorotUniform(seed=self.seed + 1),
            dtype=cfg.dtype, name="decoder")(hidden)
        return keras.Model(inputs, outputs, name=self.name.replace("-", "_"))

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
        """Set ``index_``, ``train_matrix_``, ``mean_`` and ``rating_range_`` from the
        training ratings; return the shift subtracted from stored ratings (the mean
        when ``config.centre``, else 0)."""
        self.index_ = IdIndex.fit(train) if index is None else index
        self.train_matrix_ = rating_matrix(train, self.index_, by=self._by,
                                           dtype=np.dtype(self.config.dtype))
        ratings = train["rating"].to_numpy(dtype=np.float64)
        self.mean_ = float(ratings.mean())
        self.rating_range_ = (float(ratings.min()), float(ratings.max()))
        return self.mean_ if self.config.centre else 0.0

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
        shift = self._fit_data(train, index)

        keras.utils.set_random_seed(self.seed)
        self.model_ = self.build(self.train_matrix_.shape[1])
        if initial_weights is not None:
            self.model_.set_weights(initial_weights)
        self.initial_weights_ = [w.copy() for w in self.model_.get_weights()]
        batches = RowBatches(self.train_matrix_, batch_size=cfg.batch_size, mean=shift,
                             shuffle=True, seed=self.seed, dtype=cfg.dtype)
        self.model_.compile(optimizer=self._optimizer(cfg.epochs * len(batches)),
                            loss=MaskedMSE(dtype=cfg.dtype), metrics=[MaskedRMSE()])
        val_batches = None
        self.n_validation_cold_ = 0
        if validation is not None:
            val_matrix, self.n_validation_cold_ = self._matrix(validation)
            val_matrix = val_matrix.astype(cfg.dtype)
            val_batches = RowBatches(self.train_matrix_, val_matrix, batch_size=cfg.batch_size,
                                     mean=shift, shuffle=False, dtype=cfg.dtype)
        history = self.model_.fit(batches, validation_data=val_batches, epochs=cfg.epochs,
                                  verbose=self.verbose)
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        return self

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
        shift = self.mean_ if self.config.centre else 0.0
        x = dense_rows(self.train_matrix_, np.asarray(rows), shift=shift, fill=0.0,
                       dtype=self.config.dtype)
        out = keras.ops.convert_to_numpy(self.model_(x, training=False))
        return out.astype(np.float64) + shift

    def predict(self, users, items, *, chunk_rows: int | None = None) -> np.ndarray:
        """Predict ratings for (user, item) pairs from the training ratings alone.

        Parameters
        ----------
        users, items : sequence of str, length n
            IDs as in the ratings frame.
        chunk_rows : int, optional
            Distinct rows computed at a time, which bounds memory (default:
            :attr:`PREDICT_CHUNK_ROWS`).

        Returns
        -------
        ndarray of float64, shape (n,)
            Reconstructed entries plus the global mean, clipped to
            ``rating_range_``. **Cold start:** a pair whose user or item was
            not in the training data gets the global training mean
            ``mean_``; ``n_cold_`` counts such pairs.
        """
        if len(users) != len(items):
            raise ValueError(f"users ({len(users)}) and items ({len(items)}) differ in length")
        user_rows = self.index_.user_rows(users)
        item_cols = self.index_.item_cols(items)
        rows, cols = (user_rows, item_cols) if self.kind == "user" else (item_cols, user_rows)
        known = (rows >= 0) & (cols >= 0)
        self.n_cold_ = int((~known).sum())
        pred = np.full(len(rows), self.mean_, dtype=np.float64)
        if known.any():
            shift = self.mean_ if self.config.centre else 0.0
            pred[known] = self._pair_outputs(rows[known], cols[known],
                                             chunk_rows or self.PREDICT_CHUNK_ROWS) + shift
        return np.clip(pred, *self.rating_range_)

    #: Rows reconstructed at a time by :meth:`predict` (``chunk_rows * n_columns`` floats).
    PREDICT_CHUNK_ROWS = 256

    def _pair_outputs(self, rows: np.ndarray, cols: np.ndarray, chunk_rows: int) -> np.ndarray:
        """Network outputs (centred units when ``config.centre``, unclipped) at known
        (row, column) pairs: each distinct row is reconstructed once, in chunks."""
        shift = self.mean_ if self.config.centre else 0.0
        order = np.argsort(rows, kind="stable")
        unique_rows, starts = np.unique(rows[order], return_index=True)
        ends = np.append(starts[1:], len(order))
        values = np.empty(len(order))
        for lo in range(0, len(unique_rows), chunk_rows):
            block = unique_rows[lo:lo + chunk_rows]
            recon = self.reconstruct(block) - shift
            for j in range(len(block)):
                pos = order[starts[lo + j]:ends[lo + j]]
                values[pos] = recon[j, cols[pos]]
        return values
