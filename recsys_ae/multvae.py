"""Mult-DAE and Mult-VAE: autoencoders for top-N recommendation from clicks.

Liang, Krishnan, Hoffman & Jebara (WWW 2018) read a user's row of 0/1 interactions
(clicks, or ratings >= 4 turned into "liked") as draws from a **multinomial** over the
catalogue: the decoder gives one probability per item, ``softmax(f(z))``, and the loss
is the negative log-likelihood of the items the user did click,

    -log p(x | z) = - sum_i x_i log softmax(f(z))_i .

The items compete for one unit of probability mass, which is what a top-N list needs:
the model is rewarded for putting the clicked items *above* the others, not for
predicting a number per item. Two encoders are built here:

* **Mult-DAE** (``variational=False``): a denoising autoencoder; the input row is
  L2-normalised, half its entries are dropped, and the network must still give the
  clicked items high probability.
* **Mult-VAE** (``variational=True``): the encoder gives a mean ``mu`` and a
  log-variance for a Gaussian code ``z``; training decodes a sample of it and adds
  ``beta`` times the KL divergence from the prior N(0, I), with ``beta`` rising linearly
  from 0 to ``beta_max`` = 0.2 ("KL annealing"). A user with few clicks cannot move
  their code far from the prior, which regularises the sparse rows.

What follows the paper's code (github.com/dawenl/vae_cf, read, not copied): the
architecture [n_items -> 600 -> 200 -> 600 -> n_items] with tanh between layers and a
linear last layer (the VAE's code layer is linear too, it outputs mu and log sigma^2);
Glorot-uniform weights and biases from N(0, 0.001^2); dropout 0.5 after L2-normalising the
input; Adam 1e-3; batches of 500 users; weight decay on the weight matrices only, 0.01
per 500-user batch for Mult-DAE (``l2 = 2e-5`` on the batch mean) and 0 for Mult-VAE;
scoring by the decoder's logits at ``z = mu`` with no dropout; the epoch kept is the one
with the best validation NDCG@100. What differs: the code's Mult-DAE notebook cell uses
the shallower [n_items -> 200 -> n_items]; here both models use the paper's stated
architecture. ``total_anneal_steps`` (200,000 for ML-20M) is scaled to the data by
default (see :class:`~recsys_ae.configs.MultVAEConfig`).

Training never densifies more than one batch of rows: the user x item matrix stays
sparse (CSR) and each batch of 500 rows is turned into a dense array just before the
training step. One seed controls the initial weights, the dropout masks, the batch order
and the VAE's samples.

References
----------
D. Liang, R. G. Krishnan, M. D. Hoffman, T. Jebara. "Variational Autoencoders for
Collaborative Filtering". WWW 2018.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import pandas as pd
import scipy.sparse as sp
import tensorflow as tf

from recsys_ae.base import Recommender
from recsys_ae.configs import MULTDAE_PRESETS, MULTVAE_PRESETS, MultVAEConfig
from recsys_ae.preprocess import IdIndex
from recsys_ae.topn import binarise, interaction_matrix

__all__ = ["MultVAE", "MultDAE", "MultVAEConfig", "multinomial_nll", "gaussian_kl",
           "kl_weight", "build_networks", "ndcg_at_100"]


def multinomial_nll(logits, x):
    """Multinomial negative log-likelihood, summed over items, averaged over users.

    Parameters
    ----------
    logits : tensor, shape (b, n_items)
        The decoder's output before the softmax.
    x : tensor, shape (b, n_items)
        The users' 0/1 rows (the clicks, not normalised).

    Returns
    -------
    scalar tensor
        ``mean_u( - sum_i x_ui * log_softmax(logits_u)_i )``.
    """
    log_probs = keras.ops.log_softmax(logits, axis=-1)
    return -keras.ops.mean(keras.ops.sum(log_probs * x, axis=-1))


def gaussian_kl(mu, logvar):
    """KL divergence of N(mu, diag(exp(logvar))) from N(0, I), summed over the code's
    dimensions and averaged over users:
    ``mean_u sum_d 0.5 * (exp(logvar) + mu^2 - 1 - logvar)``."""
    return keras.ops.mean(keras.ops.sum(
        0.5 * (keras.ops.exp(logvar) + mu ** 2 - 1.0 - logvar), axis=-1))


def kl_weight(step: int, total_anneal_steps: int, beta_max: float) -> float:
    """beta after ``step`` updates: ``min(beta_max, step / total_anneal_steps)``."""
    return float(min(beta_max, step / total_anneal_steps))


def build_networks(n_items: int, config: MultVAEConfig, seed: int):
    """The encoder and the decoder, as two Keras models.

    Encoder: n_items -> hidden_units (tanh) -> latent_dim (tanh, Mult-DAE) or
    2 x latent_dim (linear: mu and log sigma^2, Mult-VAE). Decoder: latent_dim ->
    hidden_units (tanh) -> n_items (linear logits). Weights Glorot-uniform, biases
    N(0, 0.001^2) truncated, each layer with its own seed derived from ``seed``.
    """
    def dense(units, activation, k):
        return keras.layers.Dense(
            units, activation=activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 8 + k),
            bias_initializer=keras.initializers.TruncatedNormal(stddev=0.001,
                                                                seed=seed * 8 + 4 + k))

    code = 2 * config.latent_dim if config.variational else config.latent_dim
    encoder = keras.Sequential([
        keras.Input((n_items,)),
        dense(config.hidden_units, "tanh", 0),
        dense(code, None if config.variational else "tanh", 1),
    ], name="encoder")
    decoder = keras.Sequential([
        keras.Input((config.latent_dim,)),
        dense(config.hidden_units, "tanh", 2),
        dense(n_items, None, 3),
    ], name="decoder")
    return encoder, decoder


def ndcg_at_100(scores: np.ndarray, heldout: sp.csr_matrix, k: int = 100) -> np.ndarray:
    """NDCG@k per user of score rows against 0/1 held-out rows (binary relevance);
    NaN for a user with nothing held out. Scores of items to exclude must be -inf."""
    b = scores.shape[0]
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    hits = np.asarray(heldout[np.arange(b)[:, None], top].todense()) > 0
    dcg = (hits * discounts).sum(axis=1)
    n_rel = np.diff(heldout.indptr)
    idcg = np.cumsum(discounts)[np.clip(np.minimum(n_rel, k) - 1, 0, None)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_rel > 0, dcg / idcg, np.nan)


class MultVAE(Recommender):
    """Mult-VAE (``variational=True``) or Mult-DAE (``False``) of Liang et al. (2018).

    Parameters
    ----------
    config : None, str or MultVAEConfig
        ``"paper"`` (the default) or a config.
    seed : int
        Seeds the initial weights, dropout, batch order and the VAE's samples.
    **overrides
        Fields of :class:`~recsys_ae.configs.MultVAEConfig`.

    Attributes
    ----------
    index_ : IdIndex
    x_ : csr_matrix, shape (n_users, n_items), float32
        Training positives (``rating >= threshold``), the encoder's input for known users.
    history_ : DataFrame
        One row per epoch: ``epoch``, ``loss``, ``nll``, ``kl``, ``beta``, ``val_ndcg@100``
        (NaN without validation data), ``seconds``.
    best_epoch_ : int
        The epoch whose weights were kept (1-based; the last one without validation).
    train_seconds_ : float
    """

    name = "Mult-VAE"
    Config = MultVAEConfig
    PRESETS = MULTVAE_PRESETS

    def __init__(self, config=None, *, seed: int = 0, **overrides):
        super().__init__("paper" if config is None else config, seed=seed, **overrides)
        self.name = "Mult-VAE" if self.config.variational else "Mult-DAE"

    # -- training -------------------------------------------------------------------------
    def fit(self, train: pd.DataFrame, *, index: IdIndex | None = None,
            validation: tuple[sp.csr_matrix, sp.csr_matrix] | None = None,
            verbose: bool = False) -> MultVAE:
        """Fit on the positives of a ratings frame; return ``self``.

        Parameters
        ----------
        train : DataFrame with columns ``user``, ``item``, ``rating``
            Ratings ``>= config.threshold`` are the clicks.
        index : IdIndex, optional
            Users and items (default: those of ``train``).
        validation : (fold_in, heldout), optional
            Two 0/1 CSR matrices of held-out users, shape (n_val, n_items of ``index``):
            the items the model sees and the items it must rank. After every epoch the
            model scores ``fold_in`` (its items excluded) and computes NDCG@100 against
            ``heldout``; the weights of the best epoch are restored at the end.
        verbose : bool
            Print one line per epoch.
        """
        cfg = self.config
        self.index_ = IdIndex.fit(train) if index is None else index
        self.x_ = interaction_matrix(binarise(train, cfg.threshold), self.index_
                                     ).astype(np.float32)
        self._remember_seen(train)
        n_items = self.index_.n_items
        self.encoder_, self.decoder_ = build_networks(n_items, cfg, self.seed)
        weights = [layer.kernel for m in (self.encoder_, self.decoder_) for layer in m.layers]
        variables = self.encoder_.trainable_variables + self.decoder_.trainable_variables
        optimizer = keras.optimizers.Adam(cfg.learning_rate)
        optimizer.build(variables)
        noise = keras.random.SeedGenerator(self.seed)
        latent, variational = cfg.latent_dim, cfg.variational

        @tf.function(input_signature=[tf.TensorSpec([None, n_items], tf.float32),
                                      tf.TensorSpec([], tf.float32)])
        def train_step(x, beta):
            with tf.GradientTape() as tape:
                h = keras.ops.normalize(x, axis=-1, order=2)
                h = keras.random.dropout(h, cfg.dropout, seed=noise)
                code = self.encoder_(h, training=True)
                if variational:
                    mu, logvar = code[:, :latent], code[:, latent:]
                    eps = keras.random.normal(keras.ops.shape(mu), seed=noise)
                    z = mu + eps * keras.ops.exp(0.5 * logvar)
                    kl = gaussian_kl(mu, logvar)
                else:
                    z, kl = code, tf.constant(0.0)
                nll = multinomial_nll(self.decoder_(z, training=True), x)
                penalty = cfg.l2 * tf.add_n([tf.reduce_sum(w ** 2) for w in weights])
                loss = nll + beta * kl + penalty
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss, nll, kl

        rows = np.flatnonzero(np.diff(self.x_.indptr) > 0)  # users with at least one click
        per_epoch = int(np.ceil(len(rows) / cfg.batch_size))
        anneal = cfg.total_anneal_steps or max(1, round(cfg.epochs * per_epoch
                                                        / max(cfg.beta_max, 1e-12)))
        rng = np.random.default_rng(self.seed)
        history, best, best_weights, waited, step = [], -np.inf, None, 0, 0
        start = time.perf_counter()
        for epoch in range(1, cfg.epochs + 1):
            t0 = time.perf_counter()
            order = rng.permutation(rows)
            sums = np.zeros(3)
            for lo in range(0, len(order), cfg.batch_size):
                batch = self.x_[order[lo:lo + cfg.batch_size]].toarray()  # one batch dense
                beta = kl_weight(step, anneal, cfg.beta_max) if variational else 0.0
                out = train_step(tf.constant(batch), tf.constant(beta, tf.float32))
                sums += [float(v) for v in out]
                step += 1
            val = np.nan
            if validation is not None:
                val = float(np.nanmean(self._validation_ndcg(*validation)))
            history.append({"epoch": epoch, "loss": sums[0] / per_epoch,
                            "nll": sums[1] / per_epoch, "kl": sums[2] / per_epoch,
                            "beta": beta, "val_ndcg@100": val,
                            "seconds": time.perf_counter() - t0})
            if verbose:
                print(f"epoch {epoch}: loss {history[-1]['loss']:.2f}, "
                      f"val NDCG@100 {val:.4f}", flush=True)
            if validation is None or val > best:
                best, waited, self.best_epoch_ = val, 0, epoch
                if validation is not None:
                    best_weights = [v.numpy() for v in variables]
            else:
                waited += 1
                if cfg.patience and waited >= cfg.patience:
                    break
        if best_weights is not None:
            for v, w in zip(variables, best_weights):
                v.assign(w)
        self.train_seconds_ = time.perf_counter() - start
        self.history_ = pd.DataFrame(history)
        return self

    def _validation_ndcg(self, fold_in: sp.csr_matrix, heldout: sp.csr_matrix) -> np.ndarray:
        scores = self.fold_in(fold_in)
        fold_in = sp.csr_matrix(fold_in)
        scores[np.repeat(np.arange(fold_in.shape[0]), np.diff(fold_in.indptr)),
               fold_in.indices] = -np.inf
        return ndcg_at_100(scores, sp.csr_matrix(heldout))

    # -- scoring --------------------------------------------------------------------------
    def fold_in(self, rows, batch_size: int = 2000) -> np.ndarray:
        """Scores of every item for users given by their rows of clicks (strong
        generalisation: users the model was not trained on).

        Parameters
        ----------
        rows : csr_matrix or array, shape (b, n_items)
            0/1 rows in the columns of ``index_``.

        Returns
        -------
        ndarray of float64, shape (b, n_items)
            The decoder's logits at the code's mean (no dropout, no sampling); the
            softmax would not change the order.
        """
        self._check_fitted()
        rows = sp.csr_matrix(rows, dtype=np.float32)
        if rows.shape[1] != self.index_.n_items:
            raise ValueError(f"rows have {rows.shape[1]} columns, the model "
                             f"{self.index_.n_items} items")
        out = np.empty(rows.shape, dtype=np.float64)
        for lo in range(0, rows.shape[0], batch_size):
            x = rows[lo:lo + batch_size].toarray()
            h = keras.ops.normalize(x, axis=-1, order=2)
            code = self.encoder_(h, training=False)
            z = code[:, :self.config.latent_dim]
            out[lo:lo + batch_size] = keras.ops.convert_to_numpy(
                self.decoder_(z, training=False))
        return out

    def _score_rows(self, user_rows) -> np.ndarray:
        """Fold-in scores of known users from their training clicks."""
        return self.fold_in(self.x_[np.asarray(user_rows, dtype=np.int64)])


class MultDAE(MultVAE):
    """Mult-DAE: :class:`MultVAE` with ``variational=False`` and the DAE's ``"paper"``
    preset (weight decay ``2e-5`` on the batch mean)."""

    name = "Mult-DAE"
    PRESETS = MULTDAE_PRESETS
