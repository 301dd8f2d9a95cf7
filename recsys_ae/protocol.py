"""The strong-generalisation protocol of Liang et al. (2018) for top-N recommendation.

Steps (:func:`strong_split`), each as in the paper's code (github.com/dawenl/vae_cf):

1. **Binarise.** Keep ratings ``>= 4`` (the code keeps ``rating > 3.5`` on ML-20M's
   half-star scale, which is the same set: 4.0, 4.5 and 5.0; on MovieLens 100K's whole
   stars it is 4 and 5). The kept pairs are the "clicks".
2. **Active users.** Keep users with at least 5 clicks (the code's ``min_uc = 5``; items
   are not filtered, ``min_sc = 0``).
3. **Held-out users.** Shuffle the users with the split's seed; ``n_heldout`` of them are
   validation users, ``n_heldout`` others test users, the rest training users. The paper
   holds out 10,000 + 10,000 of ML-20M's 136,677 users (7.3% each); this book holds out
   :data:`HELDOUT_USERS` per dataset (about 10% each, so that each part still has some
   users to average over).
4. **Catalogue.** The items clicked by training users; a held-out user's clicks on other
   items are dropped (a model cannot score an item it has never seen).
5. **Fold-in and scored items.** For every held-out user with at least 5 remaining
   clicks, ``floor(0.2 n)`` of them, drawn at random, are *scored* (the model must rank
   them); the other 80% are the *fold-in* items the model is shown. A held-out user with
   fewer than 5 remaining clicks keeps them all as fold-in items and is not scored (as
   in the code).

Models are fitted on the training users only. At test time each model gets the fold-in
rows of the test users, scores every item (:func:`fold_in_scores`), the fold-in items are
removed from the ranking, and the list is scored against the other 20%
(:func:`evaluate_strong`): Recall@20 and Recall@50 with the paper's normalisation
``hits / min(k, scored items)`` and NDCG@100 (binary relevance), averaged over users.
The popularity-bias share of a top-20 list is the share of its slots taken by the 1%
most clicked training items.

References
----------
D. Liang, R. G. Krishnan, M. D. Hoffman, T. Jebara. "Variational Autoencoders for
Collaborative Filtering". WWW 2018.
H. Steck. "Embarrassingly Shallow Autoencoders for Sparse Data". WWW 2019.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_ae.preprocess import IdIndex
from recsys_ae.topn import EASE, Popularity, interaction_matrix, most_popular

__all__ = ["HELDOUT_USERS", "THRESHOLD", "MIN_USER_CLICKS", "HELDOUT_SHARE", "StrongSplit",
           "strong_split", "fold_in_scores", "ProtocolEASE", "ease_weights_low_rank",
           "select_ease_lam", "rank_items", "recall_at_k_batch",
           "ndcg_at_k_batch", "evaluate_strong", "run_protocol", "summarise",
           "activity_table", "ACTIVITY_BUCKETS", "CHAPTER_RUNS", "chapter_models"]

#: Ratings at or above it are clicks.
THRESHOLD = 4.0
#: Users (and held-out users after step 4) need at least this many clicks.
MIN_USER_CLICKS = 5
#: Share of a held-out user's clicks that are scored.
HELDOUT_SHARE = 0.2
#: Validation users and, as many again, test users per dataset.
HELDOUT_USERS = {"ml-100k": 100, "ml-latest-small": 60}


@dataclass(frozen=True)
class StrongSplit:
    """One strong-generalisation split (see the module docstring).

    Attributes
    ----------
    train : DataFrame
        The clicks (``rating >= threshold``) of the training users, columns ``user``,
        ``item``, ``rating``.
    index : IdIndex
        Training users x the items they clicked: the columns of every matrix below.
    val_users, test_users : ndarray of str
        Held-out users, in the rows' order of the matrices below.
    val_fold_in, val_heldout, test_fold_in, test_heldout : csr_matrix, 0/1
        Shape (n users of the part, ``index.n_items``): the items shown to the model
        (80%) and the items it must rank (20%).
    seed : int
    """

    train: pd.DataFrame
    index: IdIndex
    val_users: np.ndarray
    test_users: np.ndarray
    val_fold_in: sp.csr_matrix
    val_heldout: sp.csr_matrix
    test_fold_in: sp.csr_matrix
    test_heldout: sp.csr_matrix
    seed: int

    def counts(self) -> dict:
        """Users, items and clicks of each part."""
        return {"train_users": self.index.n_users, "items": self.index.n_items,
                "train_clicks": len(self.train),
                "val_users": len(self.val_users), "test_users": len(self.test_users),
                "test_scored_users": int((np.diff(self.test_heldout.indptr) > 0).sum())}


def _part_matrices(clicks: pd.DataFrame, users: np.ndarray, items: pd.Index,
                   rng: np.random.Generator) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Fold-in and scored 0/1 matrices of held-out users (rows in ``users`` order)."""
    part = clicks[clicks["user"].isin(users) & clicks["item"].isin(items)]
    index = IdIndex(users, items)
    rows, cols, _ = index.encode(part)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    scored = np.zeros(len(rows), dtype=bool)
    starts = np.searchsorted(rows, np.arange(len(users)))
    ends = np.searchsorted(rows, np.arange(len(users)), side="right")
    for lo, hi in zip(starts, ends):
        n = hi - lo
        if n >= MIN_USER_CLICKS:
            scored[lo + rng.choice(n, size=int(HELDOUT_SHARE * n), replace=False)] = True
    shape = (len(users), len(items))

    def matrix(keep):
        return sp.csr_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=shape)
    return matrix(~scored), matrix(scored)


def strong_split(ratings: pd.DataFrame, n_heldout: int, *, seed: int = 0,
                 threshold: float = THRESHOLD) -> StrongSplit:
    """Split users into training, validation and test users (see the module docstring).

    Parameters
    ----------
    ratings : DataFrame with columns ``user``, ``item`` (str), ``rating``
    n_heldout : int
        Validation users, and as many test users.
    seed : int
        Decides which users are held out and which of their clicks are scored.
    threshold : float
        Ratings at or above it are clicks.

    Returns
    -------
    StrongSplit

    Raises
    ------
    ValueError
        If fewer than ``2 * n_heldout + 1`` users have at least 5 clicks.
    """
    clicks = ratings.loc[ratings["rating"] >= threshold, ["user", "item", "rating"]]
    clicks = clicks.drop_duplicates(["user", "item"])
    per_user = clicks["user"].value_counts()
    active = np.sort(per_user.index[per_user >= MIN_USER_CLICKS].to_numpy().astype(str))
    if len(active) <= 2 * n_heldout:
        raise ValueError(f"{len(active)} users have >= {MIN_USER_CLICKS} clicks; cannot hold "
                         f"out 2 x {n_heldout}")
    rng = np.random.default_rng(seed)
    users = active[rng.permutation(len(active))]
    val_users, test_users = users[:n_heldout], users[n_heldout:2 * n_heldout]
    train = clicks[clicks["user"].isin(users[2 * n_heldout:])].reset_index(drop=True)
    index = IdIndex.fit(train)
    val_fold_in, val_heldout = _part_matrices(clicks, val_users, index.items, rng)
    test_fold_in, test_heldout = _part_matrices(clicks, test_users, index.items, rng)
    return StrongSplit(train, index, val_users, test_users, val_fold_in, val_heldout,
                       test_fold_in, test_heldout, seed)


def fold_in_scores(model, fold_in: sp.csr_matrix) -> np.ndarray:
    """Scores of every item for users the model was not trained on, from their fold-in rows.

    A small adapter, so that models fitted on the training users can be scored on held-out
    users without changing their classes:

    * a model with a ``fold_in`` method (Mult-DAE, Mult-VAE) is asked directly;
    * :class:`~recsys_ae.topn.EASE`: ``X_fold_in @ B`` (its item-item weights act on any
      user's row, which is why EASE folds in for free);
    * :class:`~recsys_ae.topn.Popularity`: the training popularity, the same for everyone.

    Returns
    -------
    ndarray of float64, shape (n users, model.index_.n_items)

    Raises
    ------
    TypeError
        For a model with none of these.
    """
    fold_in = sp.csr_matrix(fold_in, dtype=np.float64)
    if hasattr(model, "fold_in"):
        return np.asarray(model.fold_in(fold_in), dtype=np.float64)
    if isinstance(model, EASE):
        return np.asarray(fold_in @ model.weights_)
    if isinstance(model, Popularity):
        return np.tile(model.popularity_.astype(np.float64), (fold_in.shape[0], 1))
    raise TypeError(f"cannot fold in users for a {type(model).__name__}; give it a "
                    "fold_in(rows) method")


def rank_items(scores: np.ndarray, exclude: sp.csr_matrix, k: int) -> np.ndarray:
    """The ``k`` best-scored items of each row, best first, never one of ``exclude``'s.

    Ties are broken by column order. Returns ndarray of int64, shape (b, k).
    """
    scores = np.array(scores, dtype=np.float64, copy=True)
    exclude = sp.csr_matrix(exclude)
    scores[np.repeat(np.arange(exclude.shape[0]), np.diff(exclude.indptr)),
           exclude.indices] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def _hits(lists: np.ndarray, heldout: sp.csr_matrix) -> np.ndarray:
    heldout = sp.csr_matrix(heldout)
    return np.asarray(heldout[np.arange(lists.shape[0])[:, None], lists].todense()) > 0


def recall_at_k_batch(lists: np.ndarray, heldout: sp.csr_matrix, k: int) -> np.ndarray:
    """Recall@k per user with the paper's normalisation: ``hits / min(k, scored items)``.

    ``lists`` are ranked item columns (at least ``k`` per row); NaN for a user with no
    scored item.
    """
    hits = _hits(lists[:, :k], heldout).sum(axis=1)
    n = np.diff(sp.csr_matrix(heldout).indptr)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, hits / np.minimum(k, n), np.nan)


def ndcg_at_k_batch(lists: np.ndarray, heldout: sp.csr_matrix, k: int) -> np.ndarray:
    """NDCG@k per user, binary relevance: DCG of the list over the DCG of a list with all
    scored items first; NaN for a user with no scored item."""
    hits = _hits(lists[:, :k], heldout)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts[:hits.shape[1]]).sum(axis=1)
    n = np.minimum(np.diff(sp.csr_matrix(heldout).indptr), k)
    idcg = np.concatenate([[0.0], np.cumsum(discounts)])[n]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, dcg / idcg, np.nan)


def evaluate_strong(model, split: StrongSplit, part: str = "test", *,
                    popular_share: float = 0.01) -> pd.DataFrame:
    """Per-user metrics of a fitted model on the held-out users of ``part``.

    Returns
    -------
    DataFrame, one row per scored user
        ``user``, ``n_fold_in`` (items shown), ``n_scored``, ``recall@20``, ``recall@50``,
        ``ndcg@100`` and ``pop_share@20`` (share of the top-20 slots taken by the
        ``ceil(popular_share * n_items)`` most clicked training items).
    """
    fold_in = getattr(split, f"{part}_fold_in")
    heldout = getattr(split, f"{part}_heldout")
    users = getattr(split, f"{part}_users")
    scored = np.flatnonzero(np.diff(heldout.indptr) > 0)
    fold_in, heldout = fold_in[scored], heldout[scored]
    lists = rank_items(fold_in_scores(model, fold_in), fold_in, 100)
    popularity = np.asarray(interaction_matrix(split.train, split.index).sum(axis=0)).ravel()
    head = most_popular(popularity, popular_share)
    return pd.DataFrame({
        "user": users[scored], "n_fold_in": np.diff(fold_in.indptr),
        "n_scored": np.diff(heldout.indptr),
        "recall@20": recall_at_k_batch(lists, heldout, 20),
        "recall@50": recall_at_k_batch(lists, heldout, 50),
        "ndcg@100": ndcg_at_k_batch(lists, heldout, 100),
        "pop_share@20": np.isin(lists[:, :20], head).mean(axis=1)})


def ease_weights_low_rank(x, lam: float) -> np.ndarray:
    """EASE's weights (:func:`recsys_ae.topn.ease_weights`) through the Woodbury identity.

    ``(X^T X + lam I)^{-1} = (I - X^T (X X^T + lam I)^{-1} X) / lam`` needs the inverse of a
    users x users matrix instead of an items x items one: the same ``B``, much faster when
    there are fewer users than items (ml-latest-small's training users: about 480 users,
    6,000 items).
    """
    if lam <= 0:
        raise ValueError(f"lam must be > 0, got {lam!r}")
    x = sp.csr_matrix(x, dtype=np.float64)
    small = (x @ x.T).toarray()
    small[np.diag_indices_from(small)] += lam
    right = np.linalg.solve(small, x.toarray())            # (X X^T + lam I)^{-1} X
    p = -np.asarray(x.T @ right)
    p[np.diag_indices_from(p)] += 1.0
    p /= lam
    b = -p / np.diag(p)[None, :]
    b[np.diag_indices_from(b)] = 0.0
    return b


def _ease_weights(x, lam: float) -> np.ndarray:
    from recsys_ae.topn import ease_weights

    return ease_weights_low_rank(x, lam) if x.shape[0] < x.shape[1] else ease_weights(x, lam)


class ProtocolEASE(EASE):
    """:class:`~recsys_ae.topn.EASE` with the same ``B``, computed by
    :func:`ease_weights_low_rank` when there are fewer training users than items."""

    def fit(self, train: pd.DataFrame, *, index: IdIndex | None = None) -> ProtocolEASE:
        self.index_ = IdIndex.fit(train) if index is None else index
        self.x_ = interaction_matrix(train[train["rating"] >= self.config.threshold],
                                     self.index_)
        self.weights_ = _ease_weights(self.x_, self.config.lam)
        self._remember_seen(train)
        return self


def _fit(model, split: StrongSplit):
    """Fit on the training users (Mult-DAE/VAE also watch the validation users)."""
    if hasattr(model, "fold_in"):
        return model.fit(split.train, index=split.index,
                         validation=(split.val_fold_in, split.val_heldout))
    return model.fit(split.train, index=split.index)


def _ease_fold_in(x: sp.csr_matrix, fold_in: sp.csr_matrix, lam: float) -> np.ndarray:
    """``fold_in @ B`` of EASE without forming ``B`` when users < items (Woodbury):
    ``(F B)_uj = -(F P)_uj / P_jj + F_uj``, with ``F P`` and ``diag(P)`` from the
    users x users system."""
    if x.shape[0] >= x.shape[1]:
        return np.asarray(fold_in @ _ease_weights(x, lam))
    small = (x @ x.T).toarray()
    small[np.diag_indices_from(small)] += lam
    right = np.linalg.solve(small, x.toarray())
    fp = (fold_in.toarray() - (fold_in @ x.T).toarray() @ right) / lam
    diag = (1.0 - np.asarray(x.multiply(right).sum(axis=0)).ravel()) / lam
    return -fp / diag[None, :] + fold_in.toarray()


def select_ease_lam(split: StrongSplit, lams: Sequence[float] = (50, 100, 200, 500, 1000)
                    ) -> float:
    """EASE's ``lam`` with the best validation NDCG@100 on this split (test users unseen)."""
    x = interaction_matrix(split.train, split.index)
    best, best_lam = -np.inf, None
    for lam in lams:
        scores = _ease_fold_in(x, split.val_fold_in, float(lam))
        lists = rank_items(scores, split.val_fold_in, 100)
        ndcg = float(np.nanmean(ndcg_at_k_batch(lists, split.val_heldout, 100)))
        if ndcg > best:
            best, best_lam = ndcg, float(lam)
    return best_lam


def run_protocol(ratings: pd.DataFrame, models: Mapping[str, Callable], seeds: Sequence[int],
                 n_heldout: int, *, dataset: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every model on the same strong-generalisation splits, one split per seed.

    Parameters
    ----------
    ratings : DataFrame
    models : mapping of display name to ``factory(split) -> unfitted model``
        The factory sees the split (e.g. to choose EASE's ``lam`` on its validation
        users); the model's own seed should be the split's seed.
    seeds : sequence of int
        One split (and one model seed) each.
    n_heldout : int
        Validation users and test users per split.
    dataset : str
        Written into the tables.

    Returns
    -------
    results : DataFrame
        One row per (seed, model): ``dataset``, ``seed``, ``model``, the means over test
        users of ``recall@20``, ``recall@50``, ``ndcg@100``, ``pop_share@20``,
        ``train_s`` (seconds to fit, validation included), ``best_epoch`` (NaN for models
        without epochs), ``n_test_users``.
    per_user : DataFrame
        The per-user rows of :func:`evaluate_strong`, with ``dataset``, ``seed``, ``model``.
    """
    rows, per_user = [], []
    for seed in seeds:
        split = strong_split(ratings, n_heldout, seed=int(seed))
        for name, factory in models.items():
            model = factory(split)
            start = time.perf_counter()
            _fit(model, split)
            seconds = time.perf_counter() - start
            users = evaluate_strong(model, split)
            users.insert(0, "model", name)
            users.insert(0, "seed", int(seed))
            users.insert(0, "dataset", dataset)
            per_user.append(users)
            rows.append({"dataset": dataset, "seed": int(seed), "model": name,
                         **users[["recall@20", "recall@50", "ndcg@100", "pop_share@20"]
                                 ].mean().to_dict(),
                         "train_s": seconds,
                         "best_epoch": getattr(model, "best_epoch_", np.nan),
                         "n_test_users": len(users)})
    return pd.DataFrame(rows), pd.concat(per_user, ignore_index=True)


def summarise(results: pd.DataFrame,
              metrics: Sequence[str] = ("recall@20", "recall@50", "ndcg@100", "pop_share@20",
                                        "train_s")) -> pd.DataFrame:
    """Mean and standard deviation over seeds (``ddof=1``) per dataset and model.

    Returns a DataFrame indexed by (dataset, model), in the models' first-seen order, with
    columns ``<metric>`` (mean) and ``<metric> sd``.
    """
    grouped = results.groupby(["dataset", "model"], sort=False)[list(metrics)]
    mean, sd = grouped.mean(), grouped.std(ddof=1)
    out = pd.concat([mean, sd.add_suffix(" sd")], axis=1)
    return out[[c for m in metrics for c in (m, f"{m} sd")]]


#: Buckets of fold-in clicks for :func:`activity_table`: (label, lowest, highest) inclusive.
ACTIVITY_BUCKETS = (("4-10", 0, 10), ("11-25", 11, 25), ("26-60", 26, 60),
                    (">60", 61, np.inf))


def activity_table(per_user: pd.DataFrame, metric: str = "ndcg@100",
                   buckets=ACTIVITY_BUCKETS) -> pd.DataFrame:
    """Mean ``metric`` by bucket of fold-in clicks, per dataset and model (all seeds'
    test users pooled).

    Returns
    -------
    DataFrame with columns ``dataset``, ``model``, ``bucket``, ``n_users`` (user-splits
    pooled over seeds) and ``metric`` (the mean)
    """
    labels = np.empty(len(per_user), dtype=object)
    n = per_user["n_fold_in"].to_numpy()
    for label, lo, hi in buckets:
        labels[(n >= lo) & (n <= hi)] = label
    frame = per_user.assign(bucket=pd.Categorical(labels, [b[0] for b in buckets]))
    out = (frame.groupby(["dataset", "model", "bucket"], sort=False, observed=True)[metric]
           .agg(["size", "mean"]).reset_index()
           .rename(columns={"size": "n_users", "mean": "metric"}))
    return out.sort_values(["dataset", "bucket"], kind="stable").reset_index(drop=True)


#: What chapter 6 runs in each book profile (``recsys_ae.chapters.settings``): the split seeds
#: and the epochs of Mult-DAE/VAE. Both models use the paper's preset with batches of 100
#: users instead of 500: the paper's 500 users were 0.4% of ML-20M's training users, here 500
#: would be the whole training set (one update an epoch); 100 gives 5 to 8 updates an epoch
#: for the same arithmetic per epoch. ``ci`` is small enough for CI (about 3 minutes on 2
#: cores); ``full`` gives each model the paper's 200 epochs and four splits (five splits made
#: this chapter 14.8 minutes of the full profile's 30.5 on 2 cores, 2026-12-05; four keep the
#: whole book under half an hour, see book/how_to_run.md).
CHAPTER_RUNS = {
    "ci": {"seeds": (0, 1, 2), "epochs": 40, "batch_size": 100},
    "full": {"seeds": (0, 1, 2, 3), "epochs": 200, "batch_size": 100},
}


def chapter_models(profile: str) -> dict:
    """The four models of chapter 6 as ``run_protocol`` factories, for a book profile.

    Mult-VAE and Mult-DAE from the registry (preset ``"paper"``, the profile's epochs and
    batch size, seeded by the split's seed, weights of the best validation epoch); EASE with
    ``lam`` chosen on the split's validation users from (50, 100, 200, 500, 1000); popularity.
    """
    from recsys_ae.registry import make_model

    run = CHAPTER_RUNS[profile]

    def autoencoder(name):
        return lambda split: make_model(name, "paper", seed=split.seed, epochs=run["epochs"],
                                        batch_size=run["batch_size"])
    return {"Mult-VAE": autoencoder("mult-vae"), "Mult-DAE": autoencoder("mult-dae"),
            "EASE": lambda split: ProtocolEASE(lam=select_ease_lam(split)),
            "popularity": lambda split: Popularity()}
