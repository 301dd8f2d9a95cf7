"""The strong-generalisation protocol (recsys_ae.protocol): the paper's Recall and NDCG on
hand-made cases, what each part of a split may contain, determinism, the fold-in adapter
for EASE and popularity, and bands for EASE and popularity on real MovieLens 100K."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_ae import protocol
from recsys_ae.metrics import ndcg_at_k, recall_at_k
from recsys_ae.topn import EASE, Popularity, ease_weights


def test_recall_uses_min_k_and_scored_items():
    lists = np.array([[0, 1, 2, 3], [4, 5, 6, 7]])
    heldout = sp.csr_matrix(np.array([[1, 0, 1, 0, 0, 0, 0, 0, 1, 1],    # 4 scored, 2 hits
                                      [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]]))  # 1 scored, 1 hit
    # k = 2: user 1 found item 0 only -> 1 / min(2, 4) = 0.5; user 2 nothing -> 0
    np.testing.assert_allclose(protocol.recall_at_k_batch(lists, heldout, 2), [0.5, 0.0])
    # k = 4: user 1: 2 / min(4, 4); user 2: 1 / min(4, 1) = 1
    np.testing.assert_allclose(protocol.recall_at_k_batch(lists, heldout, 4), [0.5, 1.0])
    for u, rel in enumerate([{0, 2, 8, 9}, {7}]):
        for k in (2, 4):
            assert protocol.recall_at_k_batch(lists, heldout, k)[u] == recall_at_k(lists[u], rel, k)


def test_ndcg_by_hand():
    lists = np.array([[0, 1, 2], [3, 4, 5]])
    heldout = sp.csr_matrix(np.array([[0, 1, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]]))
    # user 1: hit at rank 2 -> DCG 1/log2(3); ideal: 2 items at ranks 1, 2 -> 1 + 1/log2(3)
    by_hand = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    got = protocol.ndcg_at_k_batch(lists, heldout, 3)
    assert got[0] == pytest.approx(by_hand)
    assert np.isnan(got[1])  # nothing scored
    assert got[0] == pytest.approx(ndcg_at_k(lists[0], {1, 6}, 3))


def test_rank_items_never_returns_an_excluded_item():
    scores = np.array([[5.0, 4.0, 3.0, 2.0], [1.0, 1.0, 1.0, 9.0]])
    exclude = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 0, 0, 1]]))
    np.testing.assert_array_equal(protocol.rank_items(scores, exclude, 2), [[1, 3], [0, 1]])


@pytest.fixture(scope="module")
def ratings(shared_data):
    from recsys_ae.data import load_dataset

    return load_dataset("ml-100k", data_dir=shared_data)


@pytest.fixture(scope="module")
def split(ratings):
    return protocol.strong_split(ratings, 100, seed=0)


def _pairs(matrix, users, items):
    m = sp.coo_matrix(matrix)
    return set(zip(np.asarray(users)[m.row], np.asarray(items)[m.col]))


def test_held_out_users_never_reach_training_and_scored_items_never_reach_fold_in(
        split, ratings):
    train_users = set(split.train["user"])
    val, test = set(split.val_users), set(split.test_users)
    assert len(val) == len(test) == 100
    assert not train_users & val and not train_users & test and not val & test
    assert set(split.index.users) == train_users
    assert set(split.index.items) == set(split.train["item"])
    assert (split.train["rating"] >= 4).all()
    for part in ("val", "test"):
        users = getattr(split, f"{part}_users")
        fold = _pairs(getattr(split, f"{part}_fold_in"), users, split.index.items)
        scored = _pairs(getattr(split, f"{part}_heldout"), users, split.index.items)
        assert fold and scored and not fold & scored
        # every pair is a real click (rating >= 4) of that held-out user
        clicks = set(zip(ratings.loc[ratings["rating"] >= 4, "user"],
                         ratings.loc[ratings["rating"] >= 4, "item"]))
        assert fold | scored <= clicks
        # 20% of each user's clicks (on training items) scored, floor(0.2 n)
        n_fold = np.diff(getattr(split, f"{part}_fold_in").indptr)
        n_scored = np.diff(getattr(split, f"{part}_heldout").indptr)
        n = n_fold + n_scored
        np.testing.assert_array_equal(n_scored[n >= 5], np.floor(0.2 * n[n >= 5]))
        assert (n_scored[n < 5] == 0).all()


def test_users_with_fewer_than_five_clicks_are_dropped(split, ratings):
    clicks = ratings[ratings["rating"] >= 4]["user"].value_counts()
    kept = set(split.train["user"]) | set(split.val_users) | set(split.test_users)
    assert kept == set(clicks.index[clicks >= 5])


def test_same_seed_same_split(ratings, split):
    again = protocol.strong_split(ratings, 100, seed=0)
    other = protocol.strong_split(ratings, 100, seed=1)
    assert list(again.test_users) == list(split.test_users)
    assert (again.test_heldout != split.test_heldout).nnz == 0
    assert set(other.test_users) != set(split.test_users)


def test_too_few_users_is_refused(ratings):
    with pytest.raises(ValueError, match="hold"):
        protocol.strong_split(ratings, 500)


def test_fold_in_adapter_for_ease_and_popularity(split):
    ease = EASE(lam=200.0).fit(split.train, index=split.index)
    np.testing.assert_allclose(protocol.fold_in_scores(ease, split.test_fold_in),
                               split.test_fold_in @ ease.weights_)
    pop = Popularity().fit(split.train, index=split.index)
    scores = protocol.fold_in_scores(pop, split.test_fold_in)
    assert scores.shape == split.test_fold_in.shape
    assert (scores == pop.popularity_).all()
    with pytest.raises(TypeError, match="fold"):
        protocol.fold_in_scores(object(), split.test_fold_in)


def test_low_rank_ease_is_ease(split):
    x = sp.random(40, 90, density=0.2, random_state=0, format="csr")
    x.data[:] = 1
    np.testing.assert_allclose(protocol.ease_weights_low_rank(x, 7.0), ease_weights(x, 7.0),
                               atol=1e-10)
    f = sp.random(5, 90, density=0.2, random_state=1, format="csr")
    f.data[:] = 1
    np.testing.assert_allclose(protocol._ease_fold_in(x, f, 7.0), f @ ease_weights(x, 7.0),
                               atol=1e-10)
    fast = protocol.ProtocolEASE(lam=200.0).fit(split.train, index=split.index)
    slow = EASE(lam=200.0).fit(split.train, index=split.index)
    np.testing.assert_allclose(fast.weights_, slow.weights_, atol=1e-8)


def test_bands_for_ease_and_popularity_on_ml100k(ratings):
    models = {"EASE": lambda s: protocol.ProtocolEASE(lam=protocol.select_ease_lam(s)),
              "popularity": lambda s: Popularity()}
    results, per_user = protocol.run_protocol(ratings, models, seeds=(0, 1), n_heldout=100,
                                              dataset="ml-100k")
    table = protocol.summarise(results)
    ease, pop = table.loc[("ml-100k", "EASE")], table.loc[("ml-100k", "popularity")]
    assert 0.36 < ease["ndcg@100"] < 0.48 and 0.15 < pop["ndcg@100"] < 0.32
    assert ease["recall@20"] > pop["recall@20"] + 0.1
    assert ease["pop_share@20"] < pop["pop_share@20"]
    assert (results["n_test_users"] == 100).all() and len(per_user) == 400
    act = protocol.activity_table(per_user)
    assert set(act["model"]) == {"EASE", "popularity"}
    assert act.groupby("model")["n_users"].sum().tolist() == [200, 200]
    assert isinstance(table, pd.DataFrame) and "ndcg@100 sd" in table.columns
