"""Loaders of the real Amazon All_Beauty 5-core files and of MovieLens item titles."""

import gzip
import json

import pytest

from recsys_ae import data


def test_all_beauty_2023_5core_is_real_and_5core(shared_data):
    df = data.load_dataset("amazon-all-beauty-2023-5core", data_dir=shared_data,
                           download=False)
    assert (len(df), df["user"].nunique(), df["item"].nunique()) == (2_535, 253, 356)
    assert df.attrs["dataset"] == "amazon-all-beauty-2023-5core"
    # 5-core by construction: no user and no item with fewer than 5 ratings
    assert df.groupby("user").size().min() >= 5 and df.groupby("item").size().min() >= 5
    assert not df.duplicated(["user", "item"]).any()
    assert df["rating"].value_counts().sort_index().tolist() == [48, 106, 259, 709, 1_413]
    assert df["timestamp"].min() == 1_544_671_031_249  # milliseconds, as stored


def test_all_beauty_2018_5core_keeps_one_rating_per_pair(shared_data):
    df = data.load_dataset("amazon-all-beauty-2018-5core", data_dir=shared_data,
                           download=False)
    assert (len(df), df["user"].nunique(), df["item"].nunique()) == (4_092, 991, 85)
    assert not df.duplicated(["user", "item"]).any()
    assert df.attrs["n_duplicates_dropped"] == 5_269 - 4_092
    assert "5,269 review records" in df.attrs["notes"][0]
    assert df["rating"].between(1, 5).all()
    # despite the name, after de-duplication some users have a single item
    assert df.groupby("user").size().min() == 1


def test_review_json_keeps_the_latest_of_conflicting_ratings(tmp_path, monkeypatch):
    records = [
        {"reviewerID": "u1", "asin": "a", "overall": 5.0, "unixReviewTime": 10},
        {"reviewerID": "u1", "asin": "a", "overall": 5.0, "unixReviewTime": 10},  # copy
        {"reviewerID": "u1", "asin": "a", "overall": 2.0, "unixReviewTime": 20},  # later
        {"reviewerID": "u2", "asin": "a", "overall": 4.0, "unixReviewTime": 5},
    ]
    path = tmp_path / "r.json.gz"
    with gzip.open(path, "wt") as f:
        f.write("\n".join(json.dumps(r) for r in records) + "\n")
    df = data._load_review_json(path, (1.0, 5.0, 1.0))
    assert df[["user", "item", "rating"]].values.tolist() == [["u1", "a", 2.0],
                                                              ["u2", "a", 4.0]]
    assert df.attrs["n_duplicates_dropped"] == 2
    with gzip.open(path, "wt") as f:
        f.write(json.dumps({**records[0], "overall": 7.0}) + "\n")
    with pytest.raises(ValueError, match="outside 1-5"):
        data._load_review_json(path, (1.0, 5.0, 1.0))


def test_item_titles_of_movielens(shared_data):
    titles = data.load_item_titles("ml-100k", data_dir=shared_data, download=False)
    assert len(titles) == 1_682 and titles.name == "title"
    assert titles["1"] == "Toy Story (1995)"
    # u.item is Latin-1: the accented titles decode (UTF-8 would fail on byte 0xE9)
    assert titles.str.contains("é").any()
    ratings = data.load_dataset("ml-100k", data_dir=shared_data, download=False)
    assert set(ratings["item"]) <= set(titles.index)
    small = data.load_item_titles("ml-latest-small", data_dir=shared_data, download=False)
    assert small["1"] == "Toy Story (1995)" and len(small) == 9_742
    with pytest.raises(ValueError, match="no item titles"):
        data.load_item_titles("amazon-all-beauty-2023-5core")
