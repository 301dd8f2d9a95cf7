"""Small controlled experiments behind the book's chapters on the autoencoder and its limits.

Each function here runs one experiment the book shows and returns plain numbers or a
:class:`pandas.DataFrame`, so that a notebook only has to call it and plot, and a test can
assert the same numbers.

===============================  ==============================================================
function                         question it answers
===============================  ==============================================================
:func:`permutation_experiment`   Does the order of the item columns matter "like pixels"?
                                 (No: a Dense layer is equivariant to a column permutation.)
:func:`cold_start_counts`        How many test ratings belong to users (or items) with no
                                 training rating?
:func:`cold_start_study`         What does the autoencoder predict for those users?
:func:`learning_curves`          Training and validation RMSE per epoch, as a table.
:func:`centring_study`           Mean-centred against raw inputs, on a validation split.
:func:`book_models`              The models a chapter compares, built by the registry with
                                 the book's presets and fitted on one split.
:func:`model_comparison`         Test RMSE / MAE of several fitted models on the same split
                                 (:func:`recsys_ae.metrics.evaluate`, the one scoring rule).
:func:`activity_comparison`      Test RMSE by user (or item) training activity, for several
                                 models; empty and tiny buckets merged.
:func:`autorec_diagnosis`        Defect checks for an AutoRec that scores badly: input scale,
                                 saturated hidden units, cold pairs, clipping, overfitting.
:func:`fallback_comparison`      Test RMSE with cold pairs answered by the global mean or by
                                 the model's bias fallback.
:func:`loss_study`               Why I-AutoRec loses to the global mean on a dataset, and what
                                 each fix buys.
===============================  ==============================================================

Every model is built by the registry (:func:`recsys_ae.registry.make_model`, through
:meth:`recsys_ae.chapters.settings.BookSettings.make_model` where the book's presets apply).
Importing this module does not import TensorFlow; building an AutoRec does.

References
----------
S. Sedhain, A. K. Menon, S. Sanner, L. Xie. "AutoRec: Autoencoders Meet Collaborative
Filtering". WWW 2015 Companion, pp. 111-112.

N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever, R. Salakhutdinov. "Dropout: A Simple Way
to Prevent Neural Networks from Overfitting". JMLR 15:1929-1958, 2014.

M. Zaheer, S. Kottur, S. Ravanbakhsh, B. Poczos, R. Salakhutdinov, A. Smola. "Deep Sets".
NeurIPS 2017 (permutation invariance and equivariance of layers).
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recsys_ae.metrics import ACTIVITY_BINS, evaluate, rmse
from recsys_ae.preprocess import IdIndex
from recsys_ae.registry import make_model

__all__ = [
    "PermutationResult",
    "permute_initial_weights",
    "permutation_experiment",
    "ColdStartCounts",
    "cold_start_counts",
    "cold_start_study",
    "learning_curves",
    "centring_study",
    "model_comparison",
    "activity_comparison",
    "autorec_diagnosis",
    "fallback_comparison",
    "loss_study",
    "LOSS_STUDY_VARIANTS",
    "SPARSE_BOOK_EPOCHS",
    "CHAPTER_MODELS",
    "SYNTHETIC_MODEL_SIZE",
    "book_models",
    "book_split",
]

#: Size of the synthetic stand-in on which chapter 5's Beauty-shaped section *trains* models,
#: in every profile, so that the section takes seconds. (At Beauty's full size
#: :func:`book_models` trains with the sparse backend, which the top of the chapter uses when
#: it runs on the full-size stand-in.) Counting (cold start) uses the size the settings choose.
SYNTHETIC_MODEL_SIZE = "small"


# --------------------------------------------------------------------------------------------
# What the book's chapters run on
# --------------------------------------------------------------------------------------------


def book_split(settings, dataset: str | None = None, *, synthetic_size: str | None = None):
    """Load, clean, filter and split the data a chapter uses, as the settings say.

    Parameters
    ----------
    settings : recsys_ae.chapters.settings.BookSettings
    dataset : str, optional
        A dataset other than ``settings.dataset`` (e.g. ``"synthetic"`` where a point needs
        Beauty's sparsity).
    synthetic_size : {"small", "full"}, optional
        Size of the stand-in; default ``settings.synthetic_size``.

    Returns
    -------
    recsys_ae.experiment.Prepared
        With the dataset's default filter and split (:func:`recsys_ae.experiment.prepare`):
        MovieLens 100K's canonical ``u1`` split; the one-pass filter and a random 80/20 split
        for the Amazon data and the stand-in.
    """
    from recsys_ae import experiment

    name = dataset or settings.dataset
    kwargs = {}
    if name == "synthetic":
        kwargs["size"] = synthetic_size or settings.synthetic_size
    return experiment.prepare(name, seed=settings.seed, data_dir=settings.data_dir, **kwargs)


# --------------------------------------------------------------------------------------------
# Column permutation
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _floatx(dtype: str):
    """Set Keras' default float type to ``dtype`` for the duration of a block.

    Keras keeps the total loss, and with it the L2 penalty terms, in its default float type
    (float32). Inside this block they stay in ``dtype`` too, so a float64 experiment is float64
    throughout (and a Keras that refuses to add a float64 penalty to a float32 loss is not
    asked to).
    """
    import keras

    before = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(before)


@dataclass
class PermutationResult:
    """Outcome of :func:`permutation_experiment`.

    Attributes
    ----------
    perm : ndarray of int, shape (n_items,)
        Column ``j`` of the permuted run holds column ``perm[j]`` of the original run.
    pred_original, pred_permuted : ndarray of float64, shape (n_test,)
        Predicted ratings for the rows of ``test``, in order, from the model trained on the
        original column order and from the one trained on permuted columns.
    max_abs_diff : float
        ``max |pred_original - pred_permuted|``, in stars.
    rmse_original, rmse_permuted : float
        Test RMSE of each run.
    weights_max_abs_diff : float
        Largest difference between the trained weights of the permuted run and the trained
        weights of the original run permuted the same way.
    config : AutoRecConfig
        The configuration both runs used.
    seed : int
    perm_seed : int
    """

    perm: np.ndarray
    pred_original: np.ndarray
    pred_permuted: np.ndarray
    max_abs_diff: float
    rmse_original: float
    rmse_permuted: float
    weights_max_abs_diff: float
    config: object
    seed: int
    perm_seed: int
    history_original: dict = field(default_factory=dict, repr=False)
    history_permuted: dict = field(default_factory=dict, repr=False)

    def summary(self) -> dict:
        """The scalar results as a dict (``n_items``, the two RMSEs, the differences)."""
        return {"n_items": int(len(self.perm)), "rmse_original": self.rmse_original,
                "rmse_permuted": self.rmse_permuted, "max_abs_diff": self.max_abs_diff,
                "weights_max_abs_diff": self.weights_max_abs_diff,
                "dropout": self.config.dropout, "dtype": self.config.dtype,
                "seed": self.seed, "perm_seed": self.perm_seed}


def permute_initial_weights(weights, perm) -> list:
    """Permute U-AutoRec weights to match a permutation of the item columns.

    With input columns reordered as ``x[:, perm]``, a network whose encoder kernel has its rows
    reordered the same way computes the same hidden code (the sum ``x @ W`` only changes the
    order of its terms), and a decoder whose kernel columns and bias are reordered the same way
    produces the same outputs, reordered: ``f(x[:, perm]) == f(x)[:, perm]``.

    Parameters
    ----------
    weights : list of ndarray
        ``AutoRec.model_.get_weights()``: encoder kernel ``(n_items, h)``, encoder bias
        ``(h,)``, decoder kernel ``(h, n_items)``, decoder bias ``(n_items,)``.
    perm : array_like of int, shape (n_items,)

    Returns
    -------
    list of ndarray
        New arrays; the inputs are not modified.

    Raises
    ------
    ValueError
        If the weights do not have the four shapes above.
    """
    perm = np.asarray(perm)
    if len(weights) != 4:
        raise ValueError(f"expected 4 weight arrays (encoder kernel and bias, decoder kernel "
                         f"and bias), got {len(weights)}")
    enc_kernel, enc_bias, dec_kernel, dec_bias = weights
    n = len(perm)
    if enc_kernel.shape[0] != n or dec_kernel.shape[1] != n or dec_bias.shape != (n,):
        raise ValueError(f"weights do not match {n} columns: encoder kernel "
                         f"{enc_kernel.shape}, decoder kernel {dec_kernel.shape}, decoder bias "
                         f"{dec_bias.shape}")
    return [enc_kernel[perm, :].copy(), enc_bias.copy(), dec_kernel[:, perm].copy(),
            dec_bias[perm].copy()]


def permutation_experiment(train: pd.DataFrame, test: pd.DataFrame, *, config, seed: int = 0,
                           perm_seed: int = 1, allow_dropout: bool = False
                           ) -> PermutationResult:
    """Train U-AutoRec on the original and on permuted item columns, and compare.

    The seed notebook claimed that an autoencoder treats the rating matrix "like any image
    pixel matrix" and that, unlike pixels, the order of items is arbitrary. This experiment
    tests whether item order matters to AutoRec at all:

    1. fit U-AutoRec (rows = users, columns = items) with the given seed;
    2. shuffle the item columns with ``perm`` (:meth:`IdIndex.permute_items`) and fit again,
       with the same seed (hence the same batch order), starting from the first run's initial
       weights permuted to match (:func:`permute_initial_weights`);
    3. predict the test ratings with both models, by (user, item) id, and compare.

    A Dense layer treats its inputs as an unordered set of weighted terms, so it is
    *equivariant* to a permutation of its input and output units: every gradient step of the
    second run is the first run's step, permuted. The two models therefore predict the same
    ratings, up to floating-point rounding (sums taken in another order). Use
    ``config.dtype="float64"`` to see agreement to about 1e-10 stars; float32 agrees to about
    1e-4.

    Parameters
    ----------
    train, test : DataFrame with columns ``user``, ``item``, ``rating``
    config : AutoRecConfig
        Both runs use it. ``dropout`` must be 0 (see Notes) unless ``allow_dropout``.
    seed : int
        Seed of both runs (initial weights, batch order).
    perm_seed : int
        Seed of the random permutation of the item columns.
    allow_dropout : bool
        Run even with dropout; then the predictions agree only statistically (similar RMSE,
        different numbers).

    Returns
    -------
    PermutationResult

    Raises
    ------
    ValueError
        If ``config.dropout > 0`` and ``allow_dropout`` is False.

    Notes
    -----
    **Why dropout must be off.** Dropout (Srivastava et al. 2014) multiplies each input unit by
    a random 0/1 mask drawn *per column position*. With the same seed the two runs draw the same
    masks, but position ``j`` holds item ``j`` in one run and item ``perm[j]`` in the other, so
    each run drops different items: the two runs see different noise and follow different
    trajectories. Only their statistics (test RMSE) stay close.

    The experiment permutes columns only. Permuting the *rows* (users) would change which
    users share a batch, and with it every gradient step; the rows' order enters only through
    the shuffled batches, which a seed fixes.
    """
    if config.dropout > 0 and not allow_dropout:
        raise ValueError(
            f"config.dropout={config.dropout}: dropout draws its random mask per column "
            "position, so the permuted run would drop different items than the original run "
            "and the two could only agree statistically. Use dropout=0.0, or pass "
            "allow_dropout=True to measure that statistical agreement.")
    index = IdIndex.fit(train)
    rng = np.random.default_rng(perm_seed)
    perm = rng.permutation(index.n_items)

    with _floatx(config.dtype):
        original = make_model("u-autorec", config=config, seed=seed, verbose=0).fit(
            train, index=index)
        start = permute_initial_weights(original.initial_weights_, perm)
        permuted = make_model("u-autorec", config=config, seed=seed, verbose=0).fit(
            train, index=index.permute_items(perm), initial_weights=start)

    users, items = test["user"].to_numpy(), test["item"].to_numpy()
    p0 = original.predict(users, items)
    p1 = permuted.predict(users, items)
    truth = test["rating"].to_numpy(dtype=np.float64)
    expected = permute_initial_weights(original.model_.get_weights(), perm)
    got = permuted.model_.get_weights()
    w_diff = max(float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
                 for a, b in zip(expected, got))
    return PermutationResult(
        perm=perm, pred_original=p0, pred_permuted=p1,
        max_abs_diff=float(np.max(np.abs(p0 - p1))),
        rmse_original=rmse(truth, p0), rmse_permuted=rmse(truth, p1),
        weights_max_abs_diff=w_diff, config=config, seed=seed, perm_seed=perm_seed,
        history_original=original.history_, history_permuted=permuted.history_)


# --------------------------------------------------------------------------------------------
# Cold start
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColdStartCounts:
    """How much of a test set a model must answer without training data.

    A test rating is *cold* for a user-based model when its user has no training rating, and
    for an item-based model when its item has none.

    Attributes
    ----------
    n_test_ratings, n_test_users, n_test_items : int
        Size of the test set (ratings, distinct users, distinct items).
    n_cold_users : int
        Distinct test users with no training rating.
    n_cold_user_ratings : int
        Test ratings whose user has no training rating.
    n_cold_items, n_cold_item_ratings : int
        The same for items.
    n_cold_ratings : int
        Test ratings whose user *or* item has no training rating (what
        ``AutoRec.predict`` answers with its fallback, for either kind).
    """

    n_test_ratings: int
    n_test_users: int
    n_test_items: int
    n_cold_users: int
    n_cold_user_ratings: int
    n_cold_items: int
    n_cold_item_ratings: int
    n_cold_ratings: int

    @property
    def share_cold_user_ratings(self) -> float:
        """float: ``n_cold_user_ratings / n_test_ratings``."""
        return self.n_cold_user_ratings / self.n_test_ratings

    @property
    def share_cold_users(self) -> float:
        """float: ``n_cold_users / n_test_users``."""
        return self.n_cold_users / self.n_test_users

    @property
    def share_cold_ratings(self) -> float:
        """float: ``n_cold_ratings / n_test_ratings``."""
        return self.n_cold_ratings / self.n_test_ratings

    def as_dict(self) -> dict:
        """All counts and the three shares."""
        out = dataclasses.asdict(self)
        out.update(share_cold_user_ratings=self.share_cold_user_ratings,
                   share_cold_users=self.share_cold_users,
                   share_cold_ratings=self.share_cold_ratings)
        return out


def cold_start_counts(train: pd.DataFrame, test: pd.DataFrame) -> ColdStartCounts:
    """Count the test ratings, users and items that have no training rating.

    Parameters
    ----------
    train, test : DataFrame with columns ``user`` and ``item``

    Returns
    -------
    ColdStartCounts

    Raises
    ------
    ValueError
        If ``test`` is empty.

    Examples
    --------
    >>> train = pd.DataFrame({"user": ["a", "b"], "item": ["x", "y"]})
    >>> test = pd.DataFrame({"user": ["a", "c", "c"], "item": ["y", "x", "z"]})
    >>> c = cold_start_counts(train, test)
    >>> c.n_cold_users, c.n_cold_user_ratings, c.n_cold_item_ratings, c.n_cold_ratings
    (1, 2, 1, 2)
    """
    if len(test) == 0:
        raise ValueError("test set is empty")
    cold_user = ~test["user"].isin(set(train["user"])).to_numpy()
    cold_item = ~test["item"].isin(set(train["item"])).to_numpy()
    return ColdStartCounts(
        n_test_ratings=len(test),
        n_test_users=int(test["user"].nunique()),
        n_test_items=int(test["item"].nunique()),
        n_cold_users=int(test["user"][cold_user].nunique()),
        n_cold_user_ratings=int(cold_user.sum()),
        n_cold_items=int(test["item"][cold_item].nunique()),
        n_cold_item_ratings=int(cold_item.sum()),
        n_cold_ratings=int((cold_user | cold_item).sum()),
    )


def cold_start_study(train: pd.DataFrame, test: pd.DataFrame, model, *, baseline=None
                     ) -> dict:
    """Four answers for test users with no training rating, compared on their test ratings.

    Compared on the test ratings whose user is cold and whose item is known:

    * ``global_mean``: the average training rating, the same number for every pair (what
      AutoRec answered before it used biases);
    * ``fallback``: what ``model.predict`` returns for those pairs. AutoRec answers a cold
      pair with the global mean plus the training bias of whichever of user and item is known
      (:meth:`~recsys_ae.autorec.AutoRec.cold_start_biases`): here ``mu + b_i``, the bias
      baseline's answer, one value per item;
    * ``empty_row``: what the network itself outputs for an all-"not rated" input row, had the
      user been given a row of the matrix. It is one fixed vector (``f(V g(b) + c)``, plus the
      mean when centred): every cold user gets the same ranking of items, learned from how the
      decoder's bias and the hidden code of an empty row fit the training data;
    * ``baseline``: a fitted baseline (e.g. :class:`~recsys_ae.baselines.BiasBaseline`), which
      for an unknown user predicts ``mean + item bias``.

    Parameters
    ----------
    train, test : DataFrame with columns ``user``, ``item``, ``rating``
        The split ``model`` was trained on.
    model : AutoRec
        A fitted U-AutoRec (``kind="user"``), dense or sparse backend. (For I-AutoRec a cold
        user is a missing *column*; the network has no output for it and only the fallback
        applies.)
    baseline : fitted model with ``predict(users, items)``, optional

    Returns
    -------
    dict
        ``counts`` (:class:`ColdStartCounts`), ``n_pairs`` (cold-user test ratings with a
        known item), ``global_mean`` (float), ``n_distinct_fallback`` (distinct predicted
        values among those pairs: one per distinct item bias), ``fallback_vs_baseline``
        (largest absolute difference between the fallback and the baseline's predictions,
        when a baseline is given), ``rmse`` (dict name -> RMSE over those pairs, keys
        ``global_mean``, ``fallback``, ``empty_row`` and ``baseline`` when given),
        ``empty_row`` (Series of the empty-row prediction per item id, clipped to the rating
        range).

    Raises
    ------
    ValueError
        If ``model`` is not a U-AutoRec, or no cold-user test rating has a known item.
    """
    if getattr(model, "kind", None) != "user":
        raise ValueError("cold_start_study needs a fitted U-AutoRec (kind='user')")
    counts = cold_start_counts(train, test)
    index = model.index_
    cold = (index.user_rows(test["user"].to_numpy()) < 0) & \
        (index.item_cols(test["item"].to_numpy()) >= 0)
    pairs = test[cold]
    if len(pairs) == 0:
        raise ValueError("no test rating has a cold user and a known item")
    users, items = pairs["user"].to_numpy(), pairs["item"].to_numpy()
    truth = pairs["rating"].to_numpy(dtype=np.float64)
    fallback = model.predict(users, items)
    mean = float(model.mean_)

    import keras  # model is fitted, so Keras is already imported

    shift = model.mean_ if model.config.centre else 0.0
    zeros = np.zeros((1, index.n_items), dtype=model.config.dtype)
    out = keras.ops.convert_to_numpy(model.model_(zeros, training=False))[0]
    empty = np.clip(out.astype(np.float64) + shift, *model.rating_range_)
    empty_row = pd.Series(empty, index=index.items, name="empty_row_prediction")
    empty_pred = empty_row.reindex(items).to_numpy()

    scores = {"global_mean": rmse(truth, np.full(len(truth), mean)),
              "fallback": rmse(truth, fallback), "empty_row": rmse(truth, empty_pred)}
    result = {"counts": counts, "n_pairs": int(len(pairs)), "global_mean": mean,
              "n_distinct_fallback": int(len(np.unique(fallback))), "rmse": scores,
              "empty_row": empty_row}
    if baseline is not None:
        base = baseline.predict(users, items)
        scores["baseline"] = rmse(truth, base)
        result["fallback_vs_baseline"] = float(np.max(np.abs(fallback - base)))
    return result


# --------------------------------------------------------------------------------------------
# Where an autoencoder loses to the global mean: defects ruled out, causes measured
# --------------------------------------------------------------------------------------------


def _hidden_codes(model, rows: np.ndarray) -> np.ndarray:
    """Pre-activations ``z = W x + b`` of the hidden layer for rows of the training matrix."""
    from recsys_ae.training import dense_rows

    enc_kernel, enc_bias = [np.asarray(w, dtype=np.float64) for w in model.get_weights()[:2]] \
        if hasattr(model, "get_weights") else \
        [np.asarray(w, dtype=np.float64) for w in model.model_.get_weights()[:2]]
    shift = model.mean_ if model.config.centre else 0.0
    x = dense_rows(model.train_matrix_, np.asarray(rows), shift=shift, fill=0.0,
                   dtype="float64")
    return x @ enc_kernel + enc_bias


def autorec_diagnosis(model, train: pd.DataFrame, test: pd.DataFrame, *,
                      sample_rows: int = 2000, seed: int = 0) -> dict:
    """Checks that tell a defect from a real weakness when an AutoRec scores badly.

    Parameters
    ----------
    model : AutoRec
        Fitted (dense or sparse backend).
    train, test : DataFrame with columns ``user``, ``item``, ``rating``
        The split it was fitted on.
    sample_rows : int
        Training rows whose hidden units are inspected.
    seed : int
        Seed of that sample.

    Returns
    -------
    dict
        ``input_min``, ``input_max`` (what the network is fed: raw ratings unless centred),
        ``centre``, ``activation``;
        ``saturated_share``: share of (row, hidden unit) pairs whose slope is under a tenth of
        the activation's largest (sigmoid: ``|z| > 3.6``; tanh: ``|z| > 1.8``; other
        activations: NaN); ``mean_abs_z``: mean ``|z|``;
        ``n_test``, ``n_cold``: test ratings, and those with an unknown user or item;
        ``rmse``, ``rmse_known``, ``rmse_cold``: over all, known and cold pairs (cold: NaN
        when none); ``cold_error_share``: the cold pairs' share of the summed squared error;
        ``clipped_share``: share of known-pair predictions that clipping moved;
        ``rmse_unclipped_known``: RMSE on known pairs before clipping;
        ``train_rmse``: RMSE on the training ratings (clipped);
        ``n_train``, ``l2``, ``paper_lambda``: the summed objective's penalty weight
        ``2 * l2 * n_train`` that the per-batch ``l2`` amounts to (Sedhain et al. 2015, eq. 2;
        :func:`recsys_ae.tuning.paper_l2_equivalent` is its inverse).
    """
    cfg = model.config
    shift = model.mean_ if cfg.centre else 0.0
    values = model.train_matrix_.data.astype(np.float64) - shift
    rng = np.random.default_rng(seed)
    n_rows = model.train_matrix_.shape[0]
    rows = rng.choice(n_rows, size=min(sample_rows, n_rows), replace=False)
    z = _hidden_codes(model, rows)
    limit = {"sigmoid": 3.6, "tanh": 1.8}.get(cfg.activation)
    saturated = float(np.mean(np.abs(z) > limit)) if limit is not None else float("nan")

    users, items = test["user"].to_numpy(), test["item"].to_numpy()
    truth = test["rating"].to_numpy(dtype=np.float64)
    pred = model.predict(users, items)
    cold = model.cold_pairs(users, items)
    sq = (truth - pred) ** 2
    index = model.index_
    rows_u, cols_i = index.user_rows(users[~cold]), index.item_cols(items[~cold])
    raw = model._predict_known(rows_u, cols_i)
    lo, hi = model.rating_range_
    train_pred = model.predict(train["user"].to_numpy(), train["item"].to_numpy())
    n_train = int(len(train))
    return {
        "input_min": float(values.min()), "input_max": float(values.max()),
        "centre": bool(cfg.centre), "activation": cfg.activation,
        "saturated_share": saturated, "mean_abs_z": float(np.mean(np.abs(z))),
        "n_test": int(len(test)), "n_cold": int(cold.sum()),
        "rmse": float(np.sqrt(sq.mean())),
        "rmse_known": float(np.sqrt(sq[~cold].mean())),
        "rmse_cold": float(np.sqrt(sq[cold].mean())) if cold.any() else float("nan"),
        "cold_error_share": float(sq[cold].sum() / sq.sum()),
        "clipped_share": float(np.mean((raw < lo) | (raw > hi))),
        "rmse_unclipped_known": rmse(truth[~cold], raw),
        "train_rmse": rmse(train["rating"].to_numpy(dtype=np.float64), train_pred),
        "n_train": n_train, "l2": float(cfg.l2), "paper_lambda": 2.0 * cfg.l2 * n_train,
    }


def fallback_comparison(model, test: pd.DataFrame) -> dict:
    """Test RMSE of a fitted model with its cold pairs answered two ways.

    Returns
    -------
    dict
        ``n_cold`` (test pairs with an unknown user or item), ``global_mean`` (RMSE over all
        test ratings with every cold pair answered by the training mean, as AutoRec did before
        it used biases) and ``bias`` (the model's own predictions: ``mu`` plus the known
        side's training bias).
    """
    users, items = test["user"].to_numpy(), test["item"].to_numpy()
    truth = test["rating"].to_numpy(dtype=np.float64)
    pred = model.predict(users, items)
    cold = model.cold_pairs(users, items)
    old = pred.copy()
    old[cold] = float(model.mean_)
    return {"n_cold": int(cold.sum()), "global_mean": rmse(truth, old),
            "bias": rmse(truth, pred)}


#: Training ratings of MovieLens 100K's ``u1.base``: the data size the ``paper`` preset's ``l2``
#: was chosen on. :func:`loss_study`'s variant ``"paper, L2 for this N"`` rescales ``l2`` by
#: ``LOSS_STUDY_REFERENCE_N / N`` so that the summed objective's penalty ``2 * l2 * N`` is the
#: one the preset has on ``u1.base``.
LOSS_STUDY_REFERENCE_N = 80_000

#: The I-AutoRec variants :func:`loss_study` can train, by label: (preset, overrides).
#: ``"scale"`` is :data:`recsys_ae.tuning.AUTO_BASE`, the starting point of the automatic
#: search: ratings mapped onto the width of a 1-5 scale (``scale_ratings``), the paper's
#: ``lam`` (converted to ``l2 = lam / (2N)`` for each dataset's ``N``), input dropout 0.5, a
#: cosine schedule; early stopping off, the settings' epochs. Those fields exist on the dense
#: backend only, so these variants train dense (never at Beauty scale).
LOSS_STUDY_VARIANTS = {
    "I-AutoRec (paper)": ("paper", {}),
    "I-AutoRec (paper, L2 for this N)": ("paper", {"l2": "matched"}),
    "I-AutoRec (tuned)": ("tuned", {}),
    "I-AutoRec (scaled, raw input)": ("scale", {"input": "raw"}),
    "I-AutoRec (scaled, residual input)": ("scale", {"input": "residual"}),
}


def loss_study(settings, train: pd.DataFrame, test: pd.DataFrame,
               variants=("I-AutoRec (paper)",), *, baselines: bool = True) -> dict:
    """Why I-AutoRec loses to the global mean on a dataset, and what each fix buys.

    Fits the global mean and the bias baseline (when ``baselines``) and the I-AutoRec
    ``variants`` (labels of :data:`LOSS_STUDY_VARIANTS`: the ``paper`` preset; the same with
    ``l2`` rescaled to ``l2 * 80,000 / N``, the penalty it has on MovieLens 100K's ``u1.base``;
    the ``tuned`` preset; the automatic search's starting configuration with the rating scale
    handled, raw or residual input), each with the settings' epochs for ``"i-autorec"`` and
    the backend :func:`recsys_ae.registry.resolve_backend` picks for ``train``. Call it once
    per group of variants to keep each call (a notebook cell) short.

    Returns
    -------
    dict
        ``table``: DataFrame indexed by model with ``rmse``, ``mae``, ``n_cold`` (test
        ratings) and ``rmse_gm_fallback`` (the same model with its cold pairs answered by the
        global mean, as AutoRec did before it used biases); ``models``; ``backend``;
        ``matched_l2``; and, when the paper preset is among the variants and ``baselines``,
        ``by_item`` and ``by_user`` (:func:`activity_comparison` by item and by user activity
        for the global mean, the biases and the paper preset) and ``diagnosis``
        (:func:`autorec_diagnosis` of the paper preset).
    """
    from recsys_ae import registry

    unknown = set(variants) - set(LOSS_STUDY_VARIANTS)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)}; choose from "
                         f"{list(LOSS_STUDY_VARIANTS)}")
    backend = registry.resolve_backend("auto", train)
    epochs = settings.epochs("i-autorec")
    matched = settings.config("i-autorec").l2 * LOSS_STUDY_REFERENCE_N / len(train)
    models = {}
    if baselines:
        models["global mean"] = registry.make_model("global-mean").fit(train)
        models["user + item bias"] = registry.make_model("bias").fit(train)
    for label in variants:
        preset, extra = LOSS_STUDY_VARIANTS[label]
        kwargs = {k: (matched if v == "matched" else v) for k, v in extra.items()}
        if preset == "scale":
            if _beauty_scale(train):
                raise ValueError(f"{label} trains on the dense backend only; this training "
                                 "set is Beauty-sized")
            from recsys_ae import tuning

            config = dataclasses.replace(tuning.AUTO_BASE, early_stopping_patience=None,
                                         epochs=epochs or tuning.AUTO_BASE.epochs, **kwargs)
            model = registry.make_model("i-autorec", config=config, seed=settings.seed,
                                        backend="dense", verbose=0)
        else:
            model = registry.make_model("i-autorec", preset, seed=settings.seed,
                                        epochs=epochs, backend=backend, verbose=0, **kwargs)
        models[label] = model.fit(train)
    table = model_comparison(test, models)
    table["rmse_gm_fallback"] = [fallback_comparison(m, test)["global_mean"]
                                 for m in models.values()]
    out = {"table": table, "models": models, "backend": backend, "matched_l2": matched}
    paper = "I-AutoRec (paper)"
    if baselines and paper in models:
        shown = {k: models[k] for k in ("global mean", "user + item bias", paper)}
        out["by_item"] = activity_comparison(train, test, shown, by="item")
        out["by_user"] = activity_comparison(train, test, shown, by="user")
        out["diagnosis"] = autorec_diagnosis(models[paper], train, test, seed=settings.seed)
    return out


# --------------------------------------------------------------------------------------------
# Training curves and variants
# --------------------------------------------------------------------------------------------


def learning_curves(model) -> pd.DataFrame:
    """A fitted model's ``history_`` as a table, one row per epoch.

    Parameters
    ----------
    model : AutoRec
        Fitted, with or without validation data.

    Returns
    -------
    DataFrame indexed by ``epoch`` (1, 2, ...) with columns ``train_rmse`` and ``loss``, and
    ``val_rmse`` and ``val_loss`` when the model was fitted with validation data. RMSEs are in
    stars over all observed ratings (no L2 term); ``loss`` is what the optimiser minimised
    (batch-mean masked squared error plus the L2 penalty).
    """
    history = model.history_
    names = {"rmse": "train_rmse", "loss": "loss", "val_rmse": "val_rmse",
             "val_loss": "val_loss"}
    frame = pd.DataFrame({new: history[old] for old, new in names.items() if old in history})
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
    return frame


def centring_study(train: pd.DataFrame, validation: pd.DataFrame, *, config, kind: str = "item",
                   seed: int = 0) -> pd.DataFrame:
    """Fit the same AutoRec with and without mean-centring and compare on validation data.

    Parameters
    ----------
    train, validation : DataFrame with columns ``user``, ``item``, ``rating``
        Validation ratings must come from the training part of a split, never from the test
        part.
    config : AutoRecConfig
        Used as is except for ``centre``, set to True and to False.
    kind : {"item", "user"}
    seed : int

    Returns
    -------
    DataFrame indexed by ``centre`` (True, False) with columns ``final_val_rmse`` (after the
    last epoch), ``best_val_rmse``, ``best_epoch`` and ``final_train_rmse``. RMSEs are
    unclipped, in stars.
    """
    if kind not in ("item", "user"):
        raise ValueError(f"kind must be 'item' or 'user', got {kind!r}")
    rows = []
    for centre in (True, False):
        cfg = dataclasses.replace(config, centre=centre)
        model = make_model(f"{kind[0]}-autorec", config=cfg, seed=seed, verbose=0).fit(
            train, validation)
        curves = learning_curves(model)
        rows.append({"centre": centre, "final_val_rmse": float(curves["val_rmse"].iloc[-1]),
                     "best_val_rmse": float(curves["val_rmse"].min()),
                     "best_epoch": int(curves["val_rmse"].idxmin()),
                     "final_train_rmse": float(curves["train_rmse"].iloc[-1])})
    return pd.DataFrame(rows).set_index("centre")


# --------------------------------------------------------------------------------------------
# Comparing fitted models on one split
# --------------------------------------------------------------------------------------------


def model_comparison(test: pd.DataFrame, models: dict) -> pd.DataFrame:
    """Test RMSE and MAE of fitted models on the same test ratings.

    Parameters
    ----------
    test : DataFrame with columns ``user``, ``item``, ``rating``
    models : dict of str -> fitted RatingPredictor

    Returns
    -------
    DataFrame indexed by ``model`` (the dict keys, in order) with columns ``rmse``, ``mae``
    (stars, over *all* test ratings, cold ones answered by each model's fallback) and
    ``n_cold`` (test pairs the model's ``cold_pairs`` marks), all from
    :func:`recsys_ae.metrics.evaluate`.
    """
    rows = []
    for name, model in models.items():
        scores = evaluate(model, test)
        rows.append({"model": name, "rmse": scores["rmse"], "mae": scores["mae"],
                     "n_cold": scores["n_cold"]})
    return pd.DataFrame(rows).set_index("model")


#: The models chapter 5 (evaluation) compares, by registry name, in the order of its tables.
CHAPTER_MODELS = ("global-mean", "bias", "u-autorec", "i-autorec")


#: At Beauty scale (the sparse backend) each AutoRec of :func:`book_models` trains for at most
#: this many epochs, so that one notebook cell (one model) stays under the book's 600 s per-cell
#: limit. On the full-size stand-in (402,812 x 182,275 after the one-pass filter) the project's
#: 2-core VM took 11-25 s per sparse epoch (benchmarks/README.md, 2026-11-29); measured again on
#: 2026-12-05 at a load average of 12: about 95 s of set-up plus about 20 s per epoch
#: (I-AutoRec, paper preset: 116 s for 1 epoch, 155 s for 3; U-AutoRec, notebook preset: 110 s
#: and 164 s).
SPARSE_BOOK_EPOCHS = 10


def _beauty_scale(train: pd.DataFrame) -> bool:
    """More than 10^9 cells (users x items): a Beauty-sized matrix, not MovieLens or the
    20,000-rating stand-in."""
    return train["user"].nunique() * train["item"].nunique() > 1e9


def book_models(settings, train: pd.DataFrame, names=CHAPTER_MODELS, *,
                backend: str = "auto") -> dict:
    """The models a chapter compares, built by the registry and fitted on ``train``.

    Each is :meth:`~recsys_ae.chapters.settings.BookSettings.make_model`: the preset the book
    shows (:data:`recsys_ae.chapters.settings.MODEL_PRESETS`: U-AutoRec as the student
    notebook configured it, I-AutoRec as the paper did), the epochs of the settings' profile
    and the settings' seed. AutoRec uses the backend
    :func:`recsys_ae.registry.resolve_backend` picks for ``train``: the dense Keras model on
    MovieLens-sized data, the sparse one on Beauty-shaped data, where it is the only one that
    finishes (on a matrix of more than 10^9 cells each AutoRec trains for at most
    :data:`SPARSE_BOOK_EPOCHS` epochs).

    Parameters
    ----------
    settings : recsys_ae.chapters.settings.BookSettings
    train : DataFrame with columns ``user``, ``item``, ``rating``
    names : sequence of str
        Registry names; default :data:`CHAPTER_MODELS`.
    backend : {"auto", "dense", "sparse"}

    Returns
    -------
    dict of str -> fitted model
        Keyed by :meth:`~recsys_ae.chapters.settings.BookSettings.label`, in the order of
        ``names``: ``"global mean"``, ``"user + item bias"``, ``"U-AutoRec (notebook)"``,
        ``"I-AutoRec (paper)"`` by default. Each AutoRec has ``backend_`` set to the backend
        it used.
    """
    from recsys_ae import registry

    chosen = registry.resolve_backend(backend, train)
    out = {}
    for name in names:
        kwargs = {}
        if registry.get_spec(name).name in ("u-autorec", "i-autorec"):
            kwargs["backend"] = chosen
            if chosen == "sparse" and _beauty_scale(train):
                kwargs["epochs"] = min(settings.epochs(name) or SPARSE_BOOK_EPOCHS,
                                       SPARSE_BOOK_EPOCHS)
        model = settings.make_model(name, **kwargs).fit(train)
        if "backend" in kwargs:
            model.backend_ = chosen
        out[settings.label(name)] = model
    return out


def _merged_buckets(counts: np.ndarray, entities: np.ndarray, bins, min_entities: int):
    """Bucket labels per test rating, adjacent buckets merged until each holds
    ``min_entities`` distinct users (or items); empty buckets vanish."""
    from recsys_ae.metrics import activity_bucket

    labels = activity_bucket(counts, bins)
    groups, current = [], []
    for label, lo, hi in bins:
        sel = labels == label
        if not sel.any():
            continue
        current.append((label, lo, hi))
        mask = np.isin(labels, [c[0] for c in current])
        if len(np.unique(entities[mask])) >= min_entities:
            groups.append(current)
            current = []
    if current:
        if groups:
            groups[-1] = groups[-1] + current
        else:
            groups.append(current)
    out = np.empty(len(labels), dtype=object)
    names = []
    for group in groups:
        if len(group) == 1:
            name = group[0][0]
        else:
            lo, hi = group[0][1], group[-1][2]
            name = f">{lo - 1}" if hi is None or np.isinf(hi) else f"{lo}-{hi}"
        names.append(name)
        out[np.isin(labels, [g[0] for g in group])] = name
    return out, names


def activity_comparison(train: pd.DataFrame, test: pd.DataFrame, models: dict,
                        bins=ACTIVITY_BINS, *, by: str = "user", min_entities: int = 10
                        ) -> pd.DataFrame:
    """Test RMSE by training activity of the test rating's user (or item), for fitted models.

    Parameters
    ----------
    train, test : DataFrame with columns ``user``, ``item``, ``rating``
    models : dict of str -> fitted model
    bins : sequence of (label, lo, hi)
        Buckets of training-rating counts; default
        :data:`recsys_ae.metrics.ACTIVITY_BINS` (0, 1, 2, 3-5, 6-20, >20).
    by : {"user", "item"}
        Whose training ratings are counted.
    min_entities : int
        Empty buckets are dropped, and a bucket with fewer than this many distinct users
        (items) is merged with the next one (the last with the one before), so that no row
        rests on a handful of users. 1 keeps every non-empty bucket.

    Returns
    -------
    DataFrame indexed by ``bucket`` with columns ``n_ratings``, ``n_users`` (or ``n_items``:
    test ratings and distinct test users or items in the bucket) and one RMSE column per
    model. Every test rating is in exactly one bucket.
    """
    if by not in ("user", "item"):
        raise ValueError(f"by must be 'user' or 'item', not {by!r}")
    counts = test[by].map(train[by].value_counts()).fillna(0).to_numpy()
    entities = test[by].astype(str).to_numpy()
    labels, names = _merged_buckets(counts, entities, bins, max(1, int(min_entities)))
    truth = test["rating"].to_numpy(dtype=np.float64)
    users, items = test["user"].to_numpy(), test["item"].to_numpy()
    out = pd.DataFrame(
        {"n_ratings": [int((labels == n).sum()) for n in names],
         f"n_{by}s": [int(len(np.unique(entities[labels == n]))) for n in names]},
        index=pd.Index(names, name="bucket"))
    for name, model in models.items():
        sq = (truth - model.predict(users, items)) ** 2
        out[name] = [float(np.sqrt(sq[labels == n].mean())) for n in names]
    return out
