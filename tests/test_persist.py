"""Saving and loading a fitted AutoRec (recsys_ae.persist)."""

import numpy as np
import pandas as pd
import pytest

from recsys_ae.autorec import AutoRec, AutoRecConfig
from recsys_ae.persist import load_autorec, save_autorec


@pytest.fixture(scope="module")
def ratings():
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"user": rng.integers(0, 40, n).astype(str),
                          "item": rng.integers(0, 30, n).astype(str),
                          "rating": rng.integers(1, 6, n).astype(float)})
    return frame.drop_duplicates(["user", "item"]).reset_index(drop=True)


@pytest.mark.parametrize("kind", ["item", "user"])
def test_loaded_model_predicts_identically(tmp_path, ratings, kind):
    config = AutoRecConfig.preset("paper", epochs=2, hidden_units=8)
    model = AutoRec(kind, config, seed=3, verbose=0).fit(ratings)
    users = np.append(ratings["user"].to_numpy()[:50], "stranger")
    items = np.append(ratings["item"].to_numpy()[:50], "0")
    before = model.predict(users, items)
    save_autorec(model, tmp_path / "m")
    loaded = load_autorec(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(users, items), before)
    assert loaded.cold_pairs(users, items).sum() == 1 and loaded.config == model.config
    assert loaded.kind == kind and loaded.seed == 3
    assert loaded.index_ == model.index_


def save_and_load(model, tmp_path):
    save_autorec(model, tmp_path / "saved")
    return load_autorec(tmp_path / "saved")


def test_recommend_excludes_rated_items_and_falls_back_to_popularity(tmp_path, ratings):
    config = AutoRecConfig.preset("paper", epochs=1, hidden_units=4)
    model = AutoRec("item", config, seed=0, verbose=0).fit(ratings)
    user = ratings["user"].iloc[0]
    top = model.recommend(user, k=5)
    items, scores, known = top["item"].tolist(), top["score"].tolist(), top.attrs["known_user"]
    rated = set(ratings.loc[ratings["user"] == user, "item"])
    assert known and len(items) == 5 and not rated & set(items)
    # scores are the model's own predictions before clipping, best first
    np.testing.assert_allclose(np.clip(scores, *model.rating_range_),
                               model.predict([user] * 5, items))
    rows = model.index_.item_cols(items)
    col = model.index_.user_rows([user])[0]
    np.testing.assert_allclose(scores, model.reconstruct(rows)[:, col])
    assert scores == sorted(scores, reverse=True)
    top = save_and_load(model, tmp_path).recommend("nobody", k=3)
    items, counts, known = top["item"].tolist(), top["score"].tolist(), top.attrs["known_user"]
    expected = ratings["item"].value_counts()
    assert not known
    assert counts == expected.iloc[:3].astype(float).tolist()
    assert all(expected[i] == c for i, c in zip(items, counts))


def test_load_reports_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_autorec"):
        load_autorec(tmp_path / "nothing")
