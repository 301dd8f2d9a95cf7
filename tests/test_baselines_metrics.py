"""Baselines and metrics against hand-worked values and a second method."""

import math

import numpy as np
import pandas as pd
import pytest

from recsys_ae.baselines import BiasBaseline, GlobalMean
from recsys_ae.metrics import mae, ndcg_at_k, recall_at_k, rmse, rmse_by_activity


def frame(rows):
    return pd.DataFrame(rows, columns=["user", "item", "rating"]).astype(
        {"user": str, "item": str, "rating": float})


def test_rmse_and_mae_hand_worked():
    # errors 1, -2, 0, 1 -> squared 1, 4, 0, 1 -> mean 1.5
    assert rmse([4, 3, 5, 2], [5, 1, 5, 3]) == pytest.approx(math.sqrt(1.5))
    assert mae([4, 3, 5, 2], [5, 1, 5, 3]) == pytest.approx(1.0)


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="shape"):
        rmse([1, 2], [1])
    with pytest.raises(ValueError, match="no ratings"):
        mae([], [])
    with pytest.raises(ValueError, match="finite"):
        rmse([1, 2], [1, np.nan])


def test_global_mean():
    train = frame([("a", "x", 5), ("a", "y", 3), ("b", "x", 4)])
    model = GlobalMean().fit(train)
    np.testing.assert_allclose(model.predict(["a", "zz"], ["x", "q"]), [4.0, 4.0])


def test_bias_baseline_one_sweep_hand_worked():
    # mu = 4. One sweep with reg 1 each:
    #   b_x = ((5-4) + (4-4)) / (1 + 2) = 1/3, b_y = (3-4) / (1 + 1) = -1/2
    #   b_a = ((5-4-1/3) + (3-4+1/2)) / (1 + 2) = (2/3 - 1/2) / 3 = 1/18
    #   b_b = (4-4-1/3) / (1 + 1) = -1/6
    train = frame([("a", "x", 5), ("a", "y", 3), ("b", "x", 4)])
    model = BiasBaseline(reg_user=1, reg_item=1, n_sweeps=1).fit(train)
    item_bias = dict(zip(model.index_.items, model.item_bias_))
    user_bias = dict(zip(model.index_.users, model.user_bias_))
    assert item_bias["x"] == pytest.approx(1 / 3)
    assert item_bias["y"] == pytest.approx(-1 / 2)
    assert user_bias["a"] == pytest.approx(1 / 18)
    assert user_bias["b"] == pytest.approx(-1 / 6)
    pred = model.predict(["b", "a"], ["y", "x"])
    np.testing.assert_allclose(pred, [4 - 1 / 6 - 1 / 2, 4 + 1 / 18 + 1 / 3])


def test_bias_baseline_matches_least_squares_solution():
    # With many sweeps ALS converges to the regularised least-squares optimum,
    # which a direct linear solve computes independently.
    rng = np.random.default_rng(0)
    rows = {(f"u{rng.integers(8)}", f"i{rng.integers(6)}") for _ in range(40)}
    train = frame([(u, i, float(rng.integers(1, 6))) for u, i in sorted(rows)])
    model = BiasBaseline(reg_user=2.0, reg_item=3.0, n_sweeps=500).fit(train)
    users = sorted(train.user.unique())
    items = sorted(train.item.unique())
    mu = train.rating.mean()
    a = np.zeros((len(train), len(users) + len(items)))
    a[np.arange(len(train)), train.user.map(users.index)] = 1
    a[np.arange(len(train)), len(users) + train.item.map(items.index)] = 1
    penalty = np.diag([2.0] * len(users) + [3.0] * len(items))
    solution = np.linalg.solve(a.T @ a + penalty, a.T @ (train.rating.to_numpy() - mu))
    np.testing.assert_allclose(model.user_bias_[model.index_.user_rows(users)],
                               solution[:len(users)], atol=1e-8)
    np.testing.assert_allclose(model.item_bias_[model.index_.item_cols(items)],
                               solution[len(users):], atol=1e-8)


def test_bias_baseline_cold_start_and_clipping():
    train = frame([("a", "x", 5), ("a", "y", 5), ("b", "x", 5), ("c", "z", 1)])
    model = BiasBaseline(reg_user=0.0, reg_item=0.0, n_sweeps=20).fit(train)
    pred = model.predict(["new-user", "a", "a"], ["x", "new-item", "x"])
    assert model.cold_pairs(["new-user", "a", "a"], ["x", "new-item", "x"]).sum() == 2
    assert np.all((pred >= 1) & (pred <= 5))
    # unknown user: mu + b_x; unknown item: mu + b_a
    b_x = model.item_bias_[model.index_.item_cols(["x"])[0]]
    b_a = model.user_bias_[model.index_.user_rows(["a"])[0]]
    assert pred[0] == pytest.approx(np.clip(model.mean_ + b_x, 1, 5))
    assert pred[1] == pytest.approx(np.clip(model.mean_ + b_a, 1, 5))


def test_rmse_by_activity_buckets_every_rating_once():
    train = frame([("a", "x", 4), ("b", "x", 4), ("b", "y", 4)] +
                  [("c", f"i{k}", 3) for k in range(25)])
    test = frame([("a", "y", 5), ("b", "z", 2), ("c", "x", 3), ("new", "x", 1)])
    pred = np.array([4.0, 4.0, 3.0, 4.0])  # errors 1, 2, 0, 3
    table = rmse_by_activity(test, pred, train)
    assert table.loc["0", "n_ratings"] == 1 and table.loc["0", "rmse"] == pytest.approx(3.0)
    assert table.loc["1", "rmse"] == pytest.approx(1.0)
    assert table.loc["2", "rmse"] == pytest.approx(2.0)
    assert table.loc[">20", "rmse"] == pytest.approx(0.0)
    assert np.isnan(table.loc["3-5", "rmse"]) and table.loc["3-5", "n_ratings"] == 0
    assert table["n_ratings"].sum() == len(test)


def test_recall_and_ndcg_hand_worked():
    recommended = ["a", "b", "c", "d"]
    relevant = {"b", "d", "q"}
    # top-3 = a, b, c: one hit out of min(3, 3) relevant
    assert recall_at_k(recommended, relevant, 3) == pytest.approx(1 / 3)
    # DCG@3 = 1/log2(3); ideal = 1 + 1/log2(3) + 1/log2(4)
    ideal = 1 + 1 / math.log2(3) + 0.5
    assert ndcg_at_k(recommended, relevant, 3) == pytest.approx((1 / math.log2(3)) / ideal)
    assert ndcg_at_k(["b", "d", "q"], relevant, 3) == pytest.approx(1.0)
    assert math.isnan(recall_at_k(recommended, set(), 3))
    with pytest.raises(ValueError):
        ndcg_at_k(recommended, relevant, 0)


def test_bias_baseline_on_ml100k_u1_is_in_its_published_band(shared_data):
    # Surprise's BaselineOnly reports RMSE about 0.944 on ML-100K (5-fold); the
    # u1 fold is harder (its test users have fewer training ratings).
    names = ["user", "item", "rating", "timestamp"]
    kw = dict(sep="\t", names=names, dtype={"user": str, "item": str})
    train = pd.read_csv(shared_data / "ml-100k" / "u1.base", **kw)
    test = pd.read_csv(shared_data / "ml-100k" / "u1.test", **kw)
    model = BiasBaseline().fit(train)
    score = rmse(test.rating, model.predict(test.user.to_numpy(), test.item.to_numpy()))
    assert 0.94 < score < 0.97
    # 32 u1.test ratings are of items absent from u1.base
    assert model.cold_pairs(test.user, test.item).sum() == 32
    assert rmse(test.rating, GlobalMean().fit(train).predict(test.user, test.item)) > 1.1
