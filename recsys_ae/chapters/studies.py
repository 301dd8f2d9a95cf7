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
:func:`activity_comparison`      Test RMSE by user training activity, for several models.
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

from recsys_ae.metrics import ACTIVITY_BINS, evaluate, rmse, rmse_by_activity
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
    "CHAPTER_MODELS",
    "SYNTHETIC_MODEL_SIZE",
    "book_models",
    "book_split",
]

#: Size of the synthetic stand-in on which the book *trains* models, in every profile. The
#: dense Keras path densifies one batch of rows at a time; on a Beauty-sized matrix (about
#: 320,000 users by 133,000 items after the one-pass filter) one epoch of U-AutoRec takes hours
#: on a CPU. Counting (cold start) uses the size the settings choose.
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
    """What a fitted U-AutoRec predicts for test users with no training rating.

    Three answers are compared on the test ratings whose user is cold (and whose item is
    known):

    * ``fallback``: what :meth:`AutoRec.predict` returns, the global training mean for every
      cold pair (the same number for every user and item);
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
        A fitted U-AutoRec (``kind="user"``). (For I-AutoRec a cold user is a missing
        *column*; the network has no output for it and only the fallback applies.)
    baseline : fitted model with ``predict(users, items)``, optional

    Returns
    -------
    dict
        ``counts`` (:class:`ColdStartCounts`), ``n_pairs`` (cold-user test ratings with a
        known item), ``fallback_value`` (float), ``n_distinct_fallback`` (distinct predicted
        values among those pairs: 1), ``rmse`` (dict name -> RMSE over those pairs, keys
        ``fallback``, ``empty_row`` and ``baseline`` when given), ``empty_row`` (Series of the
        empty-row prediction per item id, clipped to the rating range).

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
    truth = pairs["rating"].to_numpy(dtype=np.float64)
    fallback = model.predict(pairs["user"].to_numpy(), pairs["item"].to_numpy())

    import keras  # model is fitted, so Keras is already imported

    shift = model.mean_ if model.config.centre else 0.0
    zeros = np.zeros((1, index.n_items), dtype=model.config.dtype)
    out = keras.ops.convert_to_numpy(model.model_(zeros, training=False))[0]
    empty = np.clip(out.astype(np.float64) + shift, *model.rating_range_)
    empty_row = pd.Series(empty, index=index.items, name="empty_row_prediction")
    empty_pred = empty_row.reindex(pairs["item"].to_numpy()).to_numpy()

    scores = {"fallback": rmse(truth, fallback), "empty_row": rmse(truth, empty_pred)}
    if baseline is not None:
        scores["baseline"] = rmse(truth, baseline.predict(pairs["user"].to_numpy(),
                                                          pairs["item"].to_numpy()))
    return {"counts": counts, "n_pairs": int(len(pairs)), "fallback_value": float(model.mean_),
            "n_distinct_fallback": int(len(np.unique(fallback))), "rmse": scores,
            "empty_row": empty_row}


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


#: The models chapter 4 compares, by registry name, in the order of its tables.
CHAPTER_MODELS = ("global-mean", "bias", "u-autorec", "i-autorec")


def book_models(settings, train: pd.DataFrame, names=CHAPTER_MODELS) -> dict:
    """The models a chapter compares, built by the registry and fitted on ``train``.

    Each is :meth:`~recsys_ae.chapters.settings.BookSettings.make_model`: the preset the book
    shows (:data:`recsys_ae.chapters.settings.MODEL_PRESETS`: U-AutoRec as the student
    notebook configured it, I-AutoRec as the paper did), the epochs of the settings' profile
    and the settings' seed.

    Parameters
    ----------
    settings : recsys_ae.chapters.settings.BookSettings
    train : DataFrame with columns ``user``, ``item``, ``rating``
    names : sequence of str
        Registry names; default :data:`CHAPTER_MODELS`.

    Returns
    -------
    dict of str -> fitted model
        Keyed by :meth:`~recsys_ae.chapters.settings.BookSettings.label`, in the order of
        ``names``: ``"global mean"``, ``"user + item bias"``, ``"U-AutoRec (notebook)"``,
        ``"I-AutoRec (paper)"`` by default.
    """
    return {settings.label(name): settings.make_model(name).fit(train) for name in names}


def activity_comparison(train: pd.DataFrame, test: pd.DataFrame, models: dict,
                        bins=ACTIVITY_BINS) -> pd.DataFrame:
    """Test RMSE by user training activity, for several fitted models.

    Parameters
    ----------
    train, test : DataFrame with columns ``user``, ``item``, ``rating``
    models : dict of str -> fitted model
    bins : sequence of (label, lo, hi)
        Buckets of training-rating counts; default
        :data:`recsys_ae.metrics.ACTIVITY_BINS` (0, 1, 2, 3-5, 6-20, >20).

    Returns
    -------
    DataFrame indexed by ``bucket`` with columns ``n_ratings``, ``n_users`` (test ratings and
    distinct test users in the bucket) and one RMSE column per model (NaN for an empty
    bucket). See :func:`recsys_ae.metrics.rmse_by_activity`.
    """
    users, items = test["user"].to_numpy(), test["item"].to_numpy()
    out = None
    for name, model in models.items():
        table = rmse_by_activity(test, model.predict(users, items), train, bins=bins)
        if out is None:
            out = table[["n_ratings", "n_users"]].copy()
        out[name] = table["rmse"]
    return out
