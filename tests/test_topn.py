"""Top-N evaluation (recsys_ae.topn): hand-worked lists, EASE against a second method, ML-100K."""

import math

import numpy as np
import pandas as pd
import pytest

from recsys_ae import topn
from recsys_ae.base import Recommender
from recsys_ae.preprocess import IdIndex


class FixedScores(Recommender):
    """A ranker with given scores (users x items of ``index``), for hand-worked cases."""

    name = "fixed scores"

    def __init__(self, scores, index):
        self.scores, self.index_, self.seed = np.asarray(scores, dtype=float), index, 0

    def fit(self, train, **kwargs):
        self._remember_seen(train)
        return self

    def _score_rows(self, user_rows):
        return self.scores[user_rows]


def _frame(rows):
    return pd.DataFrame(rows, columns=["user", "item", "rating"]).astype(
        {"user": str, "item": str, "rating": float})


def test_hand_worked_recall_ndcg_coverage_and_popular_share():
    # two users, four items a..d; a is the most popular positive in training
    train = _frame([("u", "a", 5), ("v", "a", 4), ("v", "b", 2), ("u", "c", 1), ("w", "a", 5),
                    ("w", "d", 4)])
    test = _frame([("u", "b", 5), ("u", "d", 3), ("v", "c", 4), ("v", "d", 5)])
    index = IdIndex.fit(train)  # users u v w, items a b c d
    scores = np.array([[9.0, 1.0, 8.0, 2.0],    # u: a, c excluded -> d, b
                       [9.0, 8.0, 1.0, 2.0],    # v: a, b excluded -> d, c
                       [0.0, 0.0, 0.0, 0.0]])   # w: no relevant test item, not scored
    model = FixedScores(scores, index).fit(train)
    res = topn.evaluate_topn(model, train, test, ks=(1, 2), popular_share=0.25)
    assert res["n_users"] == 2
    # u: relevant {b} (d is 3 stars); top-1 = d -> 0, top-2 = d, b -> hit at rank 2
    # v: relevant {c, d}; top-1 = d -> hit; top-2 = d, c -> both
    assert res["recall@1"] == pytest.approx((0 + 1) / 2)
    assert res["recall@2"] == pytest.approx((1 + 1) / 2)
    ndcg_u = (1 / math.log2(3)) / 1.0
    ndcg_v = (1 + 1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert res["ndcg@2"] == pytest.approx((ndcg_u + ndcg_v) / 2)
    assert res["coverage@1"] == pytest.approx(1 / 4)   # only d
    assert res["coverage@2"] == pytest.approx(3 / 4)   # b, c, d
    # the popular head (1 item of 4) is a, which is excluded for both users
    assert res["pop_share@2"] == 0.0


def test_top_k_never_ranks_an_excluded_item_above_a_candidate():
    train = _frame([("u", "a", 5), ("u", "c", 1), ("v", "b", 3)])
    model = FixedScores([[5.0, 4.0, 3.0], [0.0, 0.0, 0.0]], IdIndex.fit(train)).fit(train)
    items, scores = model.top_k([0], 3)
    assert items.tolist() == [[1, 0, 2]]  # b, then the excluded a and c at the end
    assert scores[0, 0] == 4.0 and np.isneginf(scores[0, 1:]).all()
    assert model.recommend("u", 3)["item"].tolist() == ["b"]


def test_ease_equals_per_item_constrained_ridge_regressions():
    # Steck (2019): column j of B is the ridge regression of X_j on the other columns
    rng = np.random.default_rng(0)
    x = (rng.random((40, 7)) < 0.4).astype(float)
    lam = 3.0
    b = topn.ease_weights(x, lam)
    for j in range(7):
        others = [c for c in range(7) if c != j]
        a = x[:, others]
        coef = np.linalg.solve(a.T @ a + lam * np.eye(6), a.T @ x[:, j])
        np.testing.assert_allclose(b[others, j], coef, atol=1e-10)
        assert b[j, j] == 0.0


def test_popularity_counts_positive_training_ratings():
    train = _frame([("u", "a", 5), ("v", "a", 4), ("v", "b", 3), ("w", "b", 4)])
    model = topn.Popularity().fit(train)
    assert model.popularity_.tolist() == [2.0, 1.0]  # b's 3-star rating is not positive


@pytest.mark.slow
def test_ease_beats_popularity_and_rating_mf_on_ml100k_u1(shared_data):
    from recsys_ae.data import load_canonical_split
    from recsys_ae.mf import BiasedMF

    train, test = load_canonical_split("ml-100k", 1)
    index = IdIndex.fit(train)
    lam, table = topn.select_ease_lambda(train, (30, 300, 3000))
    assert lam in (30, 300, 3000) and len(table) == 3
    pop = topn.evaluate_topn(topn.Popularity().fit(train, index=index), train, test)
    ease = topn.evaluate_topn(topn.EASE(lam=lam).fit(train, index=index), train, test)
    mf = topn.evaluate_topn(BiasedMF(n_sweeps=5).fit(train, index=index), train, test)
    # users scored: test users with a >= 4-star test rating on an item seen in training
    known = test[test["rating"] >= 4]
    known = known[known["item"].isin(train["item"])]
    assert pop["n_users"] == known["user"].nunique()
    assert ease["ndcg@10"] > pop["ndcg@10"] + 0.1
    assert ease["recall@20"] > pop["recall@20"]
    # a rating predictor ranked by predicted stars is a poor top-N model (long-tail items)
    assert mf["ndcg@10"] < pop["ndcg@10"]
    # popularity concentrates on the head; EASE spreads recommendations wider
    assert pop["pop_share@10"] > ease["pop_share@10"]
    assert ease["coverage@10"] > pop["coverage@10"]
