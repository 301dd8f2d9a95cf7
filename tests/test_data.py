"""Tests for recsys_ae.data: file formats, the real datasets, the registry and the synthetic set.

Expected values for the real files come from /work/shared/data/README.md (computed there
independently) or are recomputed here with the standard library.
"""

import hashlib
import shutil
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pooch
import pytest
import requests

from recsys_ae import data
from recsys_ae.data import (
    BEAUTY_COUNTS,
    DATASETS,
    RATING_COLUMNS,
    SYNTHETIC_FULL,
    CountMismatchWarning,
    DataNotFoundError,
    DataQualityWarning,
    check_counts,
    dataset_counts,
    load_canonical_split,
    load_dataset,
    load_ratings,
    synthetic_ratings,
)

ML100K_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
BEAUTY_URL = "https://snap.stanford.edu/data/amazon/productGraph/categoryFiles/ratings_Beauty.csv"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


def core_attrs(df) -> dict:
    """The three attrs every loader sets (the loader adds its findings beside them)."""
    return {k: df.attrs[k] for k in ("dataset", "synthetic", "source")}


def pairs(df) -> set:
    return set(zip(df["user"], df["item"]))


def assert_ratings_frame(df, with_timestamp=True):
    expected = list(RATING_COLUMNS) if with_timestamp else list(RATING_COLUMNS[:3])
    assert list(df.columns) == expected
    assert df["user"].dtype == object and df["item"].dtype == object
    assert df["rating"].dtype == np.float64
    if with_timestamp:
        assert df["timestamp"].dtype == np.int64
    assert all(isinstance(v, str) for v in df["user"].head(1000))
    assert all(isinstance(v, str) for v in df["item"].head(1000))


# --------------------------------------------------------------------------- formats


def test_leading_zero_ids_stay_strings_after_many_rows(tmp_path):
    # 200k non-digit ids first, then all-digit ids with leading zeros: a parser that guesses
    # types chunk by chunk would turn the late ones into numbers.
    n_text, n_digit = 200_000, 1_000
    users = [f"A{i:09d}X" for i in range(n_text)] + [f"{i:010d}" for i in range(n_digit)]
    items = [f"B{i % 5000:09d}" for i in range(n_text)] + ["0205616461"] * n_digit
    lines = [f"{u},{i},5.0,1369699200" for u, i in zip(users, items)]
    # the first ids look like Amazon 2014 reviewer ids, so the all-digit ones are reported
    with pytest.warns(DataQualityWarning, match=r"1,000 row\(s\) with 1,000 user id"):
        df = load_ratings(write(tmp_path / "big.csv", "\n".join(lines) + "\n"))
    assert_ratings_frame(df)
    assert len(df) == n_text + n_digit
    assert df["user"].iloc[-1] == "0000000999"
    assert df["item"].iloc[-1] == "0205616461"
    assert df["user"].tolist() == users
    assert df["item"].tolist() == items


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_header_and_no_header_give_the_same_frame(tmp_path, newline, final_newline):
    rows = ["A39HTATAQ9V7YF,0205616461,5.0,1369699200", "A3JM6GV9MNOF9X,0558925278,3.0,1355443200"]
    end = newline if final_newline else ""
    plain = write(tmp_path / "plain.csv", newline.join(rows) + end)
    kaggle = write(
        tmp_path / "kaggle.csv",
        newline.join(["UserId,ProductId,Rating,Timestamp", *rows]) + end,
    )
    a, b = load_ratings(plain), load_ratings(kaggle)
    assert_ratings_frame(a)
    pd.testing.assert_frame_equal(a, b)
    assert a.to_dict("list") == {
        "user": ["A39HTATAQ9V7YF", "A3JM6GV9MNOF9X"],
        "item": ["0205616461", "0558925278"],
        "rating": [5.0, 3.0],
        "timestamp": [1369699200, 1355443200],
    }
    assert core_attrs(a) == {"dataset": "plain", "synthetic": False, "source": str(plain)}
    assert a.attrs["header"] is None
    assert b.attrs["header"] == "UserId,ProductId,Rating,Timestamp"
    assert a.attrs["amazon_ids"] == b.attrs["amazon_ids"] == {}  # checked: nothing odd


@pytest.mark.parametrize("header", ["", "user,item,rating,timestamp,\n", "u,i,r,t\n"])
def test_trailing_comma_does_not_shift_columns(tmp_path, header):
    path = write(tmp_path / "t.csv", header + "u1,0001,5.0,123,\nu2,0002,4.0,124,\n")
    df = load_ratings(path)
    assert df.to_dict("list") == {
        "user": ["u1", "u2"],
        "item": ["0001", "0002"],
        "rating": [5.0, 4.0],
        "timestamp": [123, 124],
    }


def test_three_columns_and_whitespace_and_ml1m(tmp_path):
    ws = load_ratings(write(tmp_path / "f.txt", "1 2 3\r\n4 5 2.5\n\n"))
    assert_ratings_frame(ws, with_timestamp=False)
    assert ws.to_dict("list") == {"user": ["1", "4"], "item": ["2", "5"], "rating": [3.0, 2.5]}
    ml1m = load_ratings(write(tmp_path / "ratings.dat", "1::1193::5::978300760\n2::0661::3::9\n"))
    assert ml1m.to_dict("list") == {
        "user": ["1", "2"],
        "item": ["1193", "0661"],
        "rating": [5.0, 3.0],
        "timestamp": [978300760, 9],
    }
    forced = load_ratings(write(tmp_path / "x.csv", "a,b,4\n"), fmt="csv")
    assert forced.to_dict("list") == {"user": ["a"], "item": ["b"], "rating": [4.0]}
    with pytest.raises(ValueError, match="unknown fmt"):
        load_ratings(tmp_path / "x.csv", fmt="tsv")


def test_ids_that_look_like_missing_values_stay_text(tmp_path):
    df = load_ratings(write(tmp_path / "na.csv", "NA,null,5,1\nnan,None,4,2\n"))
    assert df["user"].tolist() == ["NA", "nan"] and df["item"].tolist() == ["null", "None"]


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ("u,i,r,t\nu1,0001,5.0,123\nu2,0002,x,124\n", 3, "non-numeric rating"),
        ("u1,0001,5.0,123\nu2,0002,,124\n", 2, "missing or non-numeric rating"),
        ("u1,0001,5.0,123\nu2,0002,4.0,12.5\n", 2, "non-integer timestamp"),
        ("u1,0001,5.0,123\nu2,0002,4.0,abc\n", 2, "non-integer timestamp"),
        ("u1,0001,5.0,123\n,0002,4.0,124\n", 2, "empty user id"),
        ("u1,0001,5.0,123\nu2,,4.0,124\n", 2, "empty item id"),
        ("u1,0001,5.0,123\nu2,0002,4.0,124\nu3,0003\n", 3, "too few columns"),
        ("u1,0001,5.0,123\r\nu2,0002,4.0,124,9\r\n", 2, "too many columns"),
        ("u1,0001,5.0,123,\nu2,0002,4.0,124,x\n", 2, "extra non-empty column"),
        ("u1,0001,5.0,123,x\n", 1, "found 5"),
        ("u1,0001\n", 1, "found 2"),
        ("1::2::3::4\n\n5::6::x::7\n", 3, "non-numeric rating"),
    ],
)
def test_bad_lines_name_file_line_and_field(tmp_path, text, line, phrase):
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError) as err:
        load_ratings(path)
    message = str(err.value)
    assert str(path) in message
    assert f"line {line}:" in message
    assert phrase in message


def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="line 1 is empty"):
        load_ratings(write(tmp_path / "empty.csv", ""))


# --------------------------------------------------------------------------- real files


def test_ml100k_u_data(shared_data):
    df = load_ratings(shared_data / "ml-100k" / "u.data")
    assert_ratings_frame(df)
    assert dataset_counts(df) == {"n_ratings": 100_000, "n_users": 943, "n_items": 1_682}
    assert df["rating"].value_counts().sort_index().to_dict() == {
        1.0: 6_110,
        2.0: 11_370,
        3.0: 27_145,
        4.0: 34_174,
        5.0: 21_201,
    }
    assert (df["timestamp"].min(), df["timestamp"].max()) == (874724710, 893286638)
    first = (shared_data / "ml-100k" / "u.data").read_text().split("\n", 1)[0].split("\t")
    assert df.iloc[0].tolist() == [first[0], first[1], float(first[2]), int(first[3])]


def test_load_dataset_ml100k_uses_local_file_without_warnings(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = load_dataset("ml-100k", download=False)
    assert dataset_counts(df) == {"n_ratings": 100_000, "n_users": 943, "n_items": 1_682}
    assert core_attrs(df) == {
        "dataset": "ml-100k",
        "synthetic": False,
        "source": str(shared_data / "ml-100k" / "u.data"),
    }
    assert df.attrs["rating_scale"] == (1.0, 5.0, 1.0)
    assert df.attrs["rating_scale_source"] == "stated"


def test_canonical_split_u1(shared_data):
    train, test = load_canonical_split("ml-100k", fold=1, download=False)
    assert (len(train), len(test)) == (80_000, 20_000)
    assert test["user"].nunique() == 459
    assert train["user"].nunique() == 943
    full = load_ratings(shared_data / "ml-100k" / "u.data")
    assert pairs(train).isdisjoint(pairs(test))
    assert pairs(train) | pairs(test) == pairs(full)
    assert train.attrs["source"].endswith("u1.base") and test.attrs["source"].endswith("u1.test")


def test_canonical_split_ua_has_ten_test_ratings_per_user(shared_data):
    train, test = load_canonical_split(fold="a", download=False)
    assert (len(train), len(test)) == (90_570, 9_430)
    assert set(test.groupby("user").size()) == {10}


@pytest.mark.parametrize("fold", [0, 6, "c", True])
def test_canonical_split_rejects_bad_folds(fold):
    with pytest.raises(ValueError, match="fold"):
        load_canonical_split(fold=fold, download=False)
    with pytest.raises(ValueError, match="only for 'ml-100k'"):
        load_canonical_split("ml-latest-small", download=False)


def test_ml_latest_small(shared_data):
    df = load_dataset("ml-latest-small", download=False)
    assert_ratings_frame(df)
    assert dataset_counts(df) == {"n_ratings": 100_836, "n_users": 610, "n_items": 9_724}
    counts = df["rating"].value_counts()
    assert (counts[0.5], counts[3.5], counts[5.0]) == (1_370, 13_136, 13_211)
    assert df.attrs["dataset"] == "ml-latest-small"


def test_amazon_beauty_sample(shared_data):
    with pytest.warns(DataQualityWarning, match="leading zeros stripped"):
        df = load_dataset("amazon-beauty-sample", download=False)
    assert_ratings_frame(df)
    assert dataset_counts(df) == {"n_ratings": 499, "n_users": 452, "n_items": 170}
    assert df.iloc[0].tolist() == ["A39HTATAQ9V7YF", "205616461", 5.0, 1369699200]
    assert "558925278" in set(df["item"])
    assert df["rating"].value_counts().sort_index().tolist() == [62, 35, 38, 59, 305]
    assert (df["timestamp"].min(), df["timestamp"].max()) == (1141948800, 1405987200)


def test_amazon_all_beauty_2023_through_load_ratings(shared_data):
    path = shared_data / "amazon-all-beauty-2023-5core" / "All_Beauty.csv"
    df = load_ratings(path)
    assert_ratings_frame(df)
    assert dataset_counts(df) == {"n_ratings": 2_535, "n_users": 253, "n_items": 356}
    assert df["timestamp"].max() == 1678171704867  # milliseconds, beyond int32
    assert df.attrs["dataset"] == "All_Beauty"


def test_filmtrust_whitespace_files(shared_data):
    parts = sorted((shared_data / "filmtrust" / "rating").glob("ratings_*.txt"))
    df = pd.concat([load_ratings(p) for p in parts], ignore_index=True)
    assert_ratings_frame(df, with_timestamp=False)
    assert dataset_counts(df) == {"n_ratings": 35_497, "n_users": 1_508, "n_items": 2_071}


def test_filmtrust_dataset_reads_its_four_files_as_one(shared_data, tmp_path):
    df = load_dataset("filmtrust", download=False)
    assert_ratings_frame(df, with_timestamp=False)
    # the counts LibRec's wiki publishes for FilmTrust
    assert dataset_counts(df) == {"n_ratings": 35_497, "n_users": 1_508, "n_items": 2_071}
    assert df.attrs["dataset"] == "filmtrust"
    assert "ratings_2.txt (17,925)" in " ".join(df.attrs["notes"])
    # user 308 rated films 12, 207 and 235 twice in ratings_2.txt (found with awk); the rows
    # are kept and counted, deduplicate resolves them
    assert "6 rows repeat a (user, item) pair" in " ".join(df.attrs["notes"])
    assert df.duplicated(["user", "item"]).sum() == 3
    assert sorted(df["rating"].unique()) == [x / 2 for x in range(1, 9)]
    # one part missing: the error names that file and where it is downloaded from
    part = tmp_path / "filmtrust" / "rating"
    part.mkdir(parents=True)
    for name in ("ratings_0.txt", "ratings_1.txt", "ratings_2.txt"):
        (part / name).write_bytes((shared_data / "filmtrust" / "rating" / name).read_bytes())
    with pytest.raises(DataNotFoundError, match=r"ratings_3\.txt.*\n.*librec"):
        load_dataset("filmtrust", data_dir=tmp_path, download=False)


# --------------------------------------------------------------------------- registry, cache


def test_registry_and_unknown_name():
    assert set(DATASETS) >= {
        "amazon-beauty",
        "amazon-beauty-sample",
        "ml-100k",
        "ml-latest-small",
        "synthetic",
    }
    ml = DATASETS["ml-100k"]
    assert ml.sha256 == "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"
    splits = {f"u{k}.{p}" for k in [1, 2, 3, 4, 5, "a", "b"] for p in ("base", "test")}
    assert splits <= set(ml.files) and all(ml.files[f] for f in splits)
    assert DATASETS["amazon-beauty"].sha256 is None
    assert DATASETS["amazon-beauty"].url == BEAUTY_URL
    assert DATASETS["amazon-beauty-sample"].url is None
    for spec in DATASETS.values():
        assert spec.description and spec.citation and spec.licence
    with pytest.raises(ValueError, match="valid names: .*ml-100k"):
        load_dataset("netflix")


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_AE_DATA_DIR", str(tmp_path / "env"))
    assert data.data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert data.data_dir() == tmp_path / "env"
    monkeypatch.delenv("RECSYS_AE_DATA_DIR")
    assert data.data_dir() == Path(pooch.os_cache("recsys_ae"))


def test_missing_file_without_download_names_file_url_and_folder(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("ml-100k", data_dir=tmp_path, download=False)
    message = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    for part in [
        "u.data",
        ML100K_URL,
        str(tmp_path / "ml-100k"),
        "RECSYS_AE_DATA_DIR",
        "--dataset synthetic",
    ]:
        assert part in message
    assert not (tmp_path / "ml-100k").exists()  # nothing written without download


def test_local_only_sample_says_it_has_no_url(tmp_path):
    with pytest.raises(DataNotFoundError, match="no download URL") as err:
        load_dataset("amazon-beauty-sample", data_dir=tmp_path)
    assert str(tmp_path / "amazon-beauty-2014-prefix499") in str(err.value)


def test_download_failure_is_data_not_found(tmp_path, monkeypatch):
    calls = []

    def offline(url, **kwargs):
        calls.append(url)
        raise requests.exceptions.ConnectionError("no network")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("amazon-beauty", data_dir=tmp_path)
    assert calls == [BEAUTY_URL]
    message = str(err.value)
    for part in ["ratings_Beauty.csv", BEAUTY_URL, str(tmp_path / "amazon-beauty"), "no network"]:
        assert part in message
    # a failed download leaves no empty dataset folder behind
    assert not (tmp_path / "amazon-beauty").exists()


def fake_retrieve(source: Path, calls: list):
    """A pooch.retrieve stand-in that 'downloads' a local file, then runs the processor."""

    def retrieve(url, known_hash=None, fname=None, path=None, processor=None, progressbar=False):
        calls.append({"url": url, "fname": fname, "path": Path(path)})
        target = Path(path) / fname
        shutil.copyfile(source, target)
        return processor(str(target), "download", None) if processor else str(target)

    return retrieve


def test_zip_download_gives_cache_layout(tmp_path, shared_data, monkeypatch):
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in DATASETS["ml-100k"].files:
            zf.write(shared_data / "ml-100k" / name, f"ml-100k/{name}")
    calls = []
    monkeypatch.setattr(pooch, "retrieve", fake_retrieve(archive, calls))
    cache = tmp_path / "cache"
    df = load_dataset("ml-100k", data_dir=cache)
    assert [c["url"] for c in calls] == [ML100K_URL]
    assert (cache / "ml-100k" / "u.data").is_file()
    assert (cache / "ml-100k" / "u1.base").is_file()
    assert not (cache / "ml-100k" / "ml-100k").exists()
    assert not (cache / "ml-100k" / "ml-100k.zip").exists()
    assert dataset_counts(df) == {"n_ratings": 100_000, "n_users": 943, "n_items": 1_682}
    assert df.attrs["source"] == str(cache / "ml-100k" / "u.data")
    # the files are now local: no further download
    train, test = load_canonical_split(fold=3, data_dir=cache)
    assert (len(train), len(test)) == (80_000, 20_000)
    assert len(calls) == 1


def test_bare_csv_download_and_count_check(tmp_path, shared_data, monkeypatch, capsys):
    sample = shared_data / "amazon-beauty-2014-prefix499" / "ratings_Beauty.csv"
    calls = []
    monkeypatch.setattr(pooch, "retrieve", fake_retrieve(sample, calls))
    with pytest.warns((CountMismatchWarning, DataQualityWarning)) as record:
        df = load_dataset("amazon-beauty", data_dir=tmp_path)
    assert calls[0]["path"] == tmp_path / "amazon-beauty"
    assert calls[0]["fname"] == "ratings_Beauty.csv"
    assert len(df) == 499
    # no published checksum: said in the printed output, a warning and the notes
    unverified = "verified by its size and counts only (2,023,070 ratings"
    assert unverified in capsys.readouterr().out
    assert any(unverified in str(w.message) for w in record if w.category is DataQualityWarning)
    assert any(unverified in note for note in df.attrs["notes"])
    counts = [w for w in record if w.category is CountMismatchWarning]
    assert len(counts) == 1
    message = str(counts[0].message)
    assert "amazon-beauty" in message
    assert "n_ratings: expected 2,023,070, got 499" in message
    assert "n_users: expected 1,210,271, got 452" in message
    assert "n_items: expected 249,274, got 170" in message


def test_hash_mismatch_names_file_and_both_hashes(tmp_path, shared_data):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    raw = bytearray((shared_data / "ml-100k" / "u.data").read_bytes())
    raw[-3:-1] = b"99"  # change one timestamp's last digits
    (folder / "u.data").write_bytes(bytes(raw))
    actual = hashlib.sha256(bytes(raw)).hexdigest()
    with pytest.raises(ValueError) as err:
        load_dataset("ml-100k", data_dir=tmp_path, download=False)
    message = str(err.value)
    assert str(folder / "u.data") in message
    assert DATASETS["ml-100k"].sha256 in message
    assert actual in message


def test_extra_kwargs_only_for_synthetic():
    with pytest.raises(TypeError):
        load_dataset("ml-100k", download=False, seed=1)


def test_check_counts():
    df = pd.DataFrame({"user": ["a", "a", "b"], "item": ["x", "y", "x"], "rating": [1.0, 2, 3]})
    assert dataset_counts(df) == {"n_ratings": 3, "n_users": 2, "n_items": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_counts(df, {"n_ratings": 3, "n_users": 2, "n_items": 2}, name="toy")
    with pytest.warns(CountMismatchWarning, match="toy") as record:
        assert not check_counts(df, {"n_ratings": 4, "n_users": 2, "n_items": 5}, name="toy")
    message = str(record[0].message)
    assert "n_ratings: expected 4, got 3" in message
    assert "n_items: expected 5, got 2" in message
    assert "n_users" not in message
    assert (
        BEAUTY_COUNTS
        == SYNTHETIC_FULL
        == {
            "n_ratings": 2_023_070,
            "n_users": 1_210_271,
            "n_items": 249_274,
        }
    )


# --------------------------------------------------------------------------- synthetic


def test_synthetic_is_deterministic_and_seeded():
    a, b = synthetic_ratings(5_000, seed=3), synthetic_ratings(5_000, seed=3)
    pd.testing.assert_frame_equal(a, b)
    c = synthetic_ratings(5_000, seed=4)
    assert not a.equals(c)
    pd.testing.assert_frame_equal(load_dataset("synthetic"), synthetic_ratings())


def test_synthetic_shape_is_beauty_like():
    df = synthetic_ratings(50_000, seed=0)
    assert_ratings_frame(df)
    # counts scaled with Beauty's ratios, everyone rated at least once
    assert dataset_counts(df) == {
        "n_ratings": 50_000,
        "n_users": round(50_000 * 1_210_271 / 2_023_070),
        "n_items": round(50_000 * 249_274 / 2_023_070),
    }
    assert not df.duplicated(["user", "item"]).any()
    assert df["user"].str.fullmatch(r"SU\d{7}").all() and df["item"].str.fullmatch(r"SI\d{6}").all()
    assert set(df["rating"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 4.0 <= df["rating"].mean() <= 4.35
    shares = df["rating"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(shares, [0.09, 0.056, 0.084, 0.152, 0.618], atol=0.01)
    per_user = df.groupby("user").size()
    per_item = df.groupby("item").size()
    assert (per_user == 1).mean() > 0.5
    assert per_user.max() >= 20  # heavy tail
    assert per_item.max() >= 20 * per_item.median()
    low, high = 946_684_800, 1_406_073_600  # 2000-01-01 .. 2014-07-23
    assert df["timestamp"].between(low, high).all()
    assert df.attrs["synthetic"] is True and df.attrs["dataset"] == "synthetic"


def test_synthetic_explicit_sizes_and_errors():
    df = synthetic_ratings(3_000, n_users=1_000, n_items=200, rank=4, seed=1)
    assert dataset_counts(df) == {"n_ratings": 3_000, "n_users": 1_000, "n_items": 200}
    assert not df.duplicated(["user", "item"]).any()
    dense = synthetic_ratings(20_000, n_users=1_000, n_items=200)  # 10% of all pairs
    assert dataset_counts(dense) == {"n_ratings": 20_000, "n_users": 1_000, "n_items": 200}
    assert not dense.duplicated(["user", "item"]).any()
    complete = synthetic_ratings(9, n_users=3, n_items=3)
    assert sorted(pairs(complete)) == [
        (u, i) for u in sorted(set(complete["user"])) for i in sorted(set(complete["item"]))
    ]
    with pytest.raises(ValueError):
        synthetic_ratings(10, n_users=3, n_items=3)
    with pytest.raises(ValueError):
        synthetic_ratings(10, n_users=20, n_items=3)


def test_synthetic_structure_is_learnable():
    df = synthetic_ratings(50_000, seed=0)
    test = np.random.default_rng(42).random(len(df)) < 0.2
    train, held_out = df[~test], df[test]
    mu = train["rating"].mean()
    rmse_global = np.sqrt(((held_out["rating"] - mu) ** 2).mean())
    item_mean = train.groupby("item")["rating"].mean()
    prediction = held_out["item"].map(item_mean).fillna(mu)
    rmse_item = np.sqrt(((held_out["rating"] - prediction) ** 2).mean())
    assert rmse_item < rmse_global - 0.08, (rmse_item, rmse_global)


def test_split_download_failure_names_the_split_file(tmp_path, monkeypatch):
    def offline(url, **kwargs):
        raise requests.exceptions.HTTPError("404 Client Error")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(DataNotFoundError) as err:
        load_canonical_split(fold=2, data_dir=tmp_path)
    message = str(err.value)
    for part in ["u2.base", ML100K_URL, str(tmp_path / "ml-100k"), "404 Client Error"]:
        assert part in message
