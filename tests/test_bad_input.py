"""Bad input to the loader: every kind gets a clear error, a counted fix or a refusal.

One test (or a few) per row of ``book/bad_input.md``. Every input is written here, byte for byte,
to ``tmp_path``; the real files under ``shared/data`` are read only.
"""

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys_ae.data import (
    DATASETS,
    DataQualityWarning,
    infer_rating_scale,
    load_dataset,
    load_ratings,
)

GOOD = "A2,B00X,4.0,1400000000\nA3,B00Y,5.0,1400000001\n"


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def no_warnings(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return func(*args, **kwargs)


def error_of(path: Path, **kwargs) -> str:
    with pytest.raises(ValueError) as err:
        load_ratings(path, **kwargs)
    return str(err.value)


def whole_stars(n: int) -> str:
    """``n`` ratings cycling 1..5 stars, one per line."""
    return "".join(f"U{k},I{k % 7},{1 + k % 5}.0,{1400000000 + k}\n" for k in range(n))


# --------------------------------------------------------------------------- 1. header or data


@pytest.mark.parametrize(
    ("first", "phrase"),
    [("A1,I1,five,1", "non-numeric rating"), ("A1,I1,,1", "missing or non-numeric rating")],
)
def test_bad_first_row_is_data_with_the_same_error_as_line_2(tmp_path, first, phrase):
    on_line_1 = write(tmp_path / "first.csv", first + "\n" + GOOD)
    on_line_2 = write(tmp_path / "second.csv", GOOD.split("\n")[0] + "\n" + first + "\n")
    message_1, message_2 = error_of(on_line_1), error_of(on_line_2)
    assert message_1 == f"{on_line_1}: line 1: missing or non-numeric rating: {first!r}"
    assert message_2 == f"{on_line_2}: line 2: missing or non-numeric rating: {first!r}"
    assert phrase in message_1


def test_quoted_comma_in_first_row_is_data(tmp_path):
    path = write(tmp_path / "quoted.csv", '"A,5",B00Y,3.0,1\n' + GOOD)
    df = no_warnings(load_ratings, path)
    assert df["user"].tolist() == ["A,5", "A2", "A3"]
    assert df["timestamp"].tolist() == [1, 1400000000, 1400000001]
    assert df.attrs["header"] is None
    assert df.attrs["notes"][0].startswith("quoted.csv: no header; line 1 is data")


@pytest.mark.parametrize(
    ("first", "why"),
    [
        ("userId,movieId,rating,timestamp", "a known header"),
        ("user_id,parent_asin,rating,timestamp", "a known header"),
        ("UserId,ProductId,Rating,Timestamp,", "a known header"),
        ("who,what,stars,when", "every field is a name"),
    ],
)
def test_header_decision_is_reported(tmp_path, first, why, caplog):
    path = write(
        tmp_path / "h.csv", first + "\n" + GOOD.replace("\n", ",\n" if first[-1] == "," else "\n")
    )
    with caplog.at_level(logging.INFO, logger="recsys_ae.data"):
        df = no_warnings(load_ratings, path)
    assert len(df) == 2
    assert df.attrs["header"] == first
    assert why in df.attrs["notes"][0]
    assert df.attrs["notes"][0] in caplog.text  # logged: a command line can show it


def test_header_only_file_has_no_ratings(tmp_path):
    path = write(tmp_path / "h.csv", "userId,movieId,rating,timestamp\n")
    message = error_of(path)
    assert str(path) in message and "has no ratings" in message
    assert "no ratings" in error_of(write(tmp_path / "h2.csv", "user,item,rating\n\n\n"))


# --------------------------------------------------------------------------- 2. truncated last line


def test_truncated_last_line_is_an_error(tmp_path):
    text = "A1,B00W,5.0,1400000002\n" + GOOD + "A4,B00X,4.0,14046"
    path = write(tmp_path / "cut.csv", text)
    message = error_of(path)
    assert message.startswith(f"{path}: line 4: the last line has no final newline")
    assert "'A4,B00X,4.0,14046'" in message and "cut off" in message


def test_complete_last_line_without_newline_loads(tmp_path, shared_data):
    path = write(tmp_path / "whole.csv", GOOD + "A4,B00X,4.0,1400000003")
    assert no_warnings(load_ratings, path)["timestamp"].iloc[-1] == 1400000003
    # a short timestamp on a line that does end with a newline was written in full
    ended = write(tmp_path / "ended.csv", GOOD + "A4,B00X,4.0,14046\n")
    assert no_warnings(load_ratings, ended)["timestamp"].iloc[-1] == 14046
    sample = shared_data / "amazon-beauty-2014-prefix499" / "ratings_Beauty.csv"
    assert not sample.read_bytes().endswith(b"\n")
    with pytest.warns(DataQualityWarning):
        assert len(load_ratings(sample)) == 499


# --------------------------------------------------------------------------- 3. rating scale


def test_registry_datasets_carry_their_scale():
    assert DATASETS["ml-100k"].rating_scale == (1, 5, 1)
    assert DATASETS["ml-latest-small"].rating_scale == (0.5, 5, 0.5)
    assert DATASETS["amazon-beauty"].rating_scale == (1, 5, 1)
    assert DATASETS["amazon-beauty-sample"].rating_scale == (1, 5, 1)
    assert DATASETS["synthetic"].rating_scale == (1, 5, 1)


def test_infer_rating_scale_on_the_real_files(shared_data):
    ml100k = load_ratings(shared_data / "ml-100k" / "u.data")
    assert infer_rating_scale(ml100k["rating"]) == (1.0, 5.0, 1.0)
    assert ml100k.attrs["rating_scale"] == (1.0, 5.0, 1.0)
    assert ml100k.attrs["rating_scale_source"] == "inferred"
    small = shared_data / "ml-latest-small" / "ratings.csv"
    assert infer_rating_scale(load_ratings(small)["rating"]) == (0.5, 5.0, 0.5)
    parts = sorted((shared_data / "filmtrust" / "rating").glob("ratings_*.txt"))
    filmtrust = pd.concat([load_ratings(p) for p in parts], ignore_index=True)
    assert infer_rating_scale(filmtrust["rating"]) == (0.5, 4.0, 0.5)
    df = no_warnings(load_dataset, "ml-latest-small", download=False)
    assert df.attrs["rating_scale"] == (0.5, 5.0, 0.5)
    assert df.attrs["rating_scale_source"] == "stated"


def test_lone_half_star_among_whole_stars_is_an_error(tmp_path):
    path = write(tmp_path / "half.csv", whole_stars(2000) + "U9,I9,4.5,1400009999\n")
    message = error_of(path)
    assert str(path) in message
    assert "1 rating(s) off the grid of step 1" in message
    assert "line 2001: 4.5" in message
    assert "rating_scale=" in message  # says how to keep it if it is genuine
    stated = load_ratings(path, rating_scale=(1, 5, 0.5))
    assert stated.attrs["rating_scale"] == (1.0, 5.0, 0.5)


def test_rating_error_line_numbers_count_header_and_blank_lines(tmp_path):
    rows = whole_stars(1500).splitlines(keepends=True)
    text = "user,item,rating,timestamp\n" + "".join(rows[:200]) + "\n\n" + "".join(rows[200:])
    path = write(tmp_path / "blank.csv", text + "U9,I9,4.5,1400009999\n")
    assert "line 1504: 4.5" in error_of(path)


def test_lone_six_above_a_full_one_to_five_range_is_an_error(tmp_path):
    path = write(
        tmp_path / "six.csv", whole_stars(1000) + "U9,I9,6.0,1400009999\n" + whole_stars(5)
    )
    message = error_of(path)
    assert "outside the scale 1-5" in message and "line 1001: 6" in message


def test_genuine_half_stars_make_a_half_star_scale(tmp_path):
    text = "".join(f"U{k},I{k % 7},{0.5 + (k % 10) / 2},{1400000000 + k}\n" for k in range(2000))
    df = no_warnings(load_ratings, write(tmp_path / "halves.csv", text))
    assert df.attrs["rating_scale"] == (0.5, 5.0, 0.5)


def test_small_file_gets_the_scale_it_shows(tmp_path):
    # under 1,000 ratings nothing is "rare": the scale is inferred and reported, not judged
    df = load_ratings(write(tmp_path / "s.csv", whole_stars(10) + "U9,I9,4.5,1400009999\n"))
    assert df.attrs["rating_scale"] == (1.0, 5.0, 0.5)
    assert df.attrs["notes"][-1] == (
        "s.csv: rating scale 1-5, step 0.5 (inferred; only 11 ratings, too few to call any "
        "value rare: state rating_scale= to check them)"
    )


def test_stated_scale_names_the_rows_outside_it(tmp_path):
    path = write(tmp_path / "s.csv", whole_stars(10) + "U9,I9,4.5,1400009999\nU8,I8,0,1\n")
    message = error_of(path, rating_scale=(1, 5, 1))
    assert "2 rating(s) outside the stated rating_scale 1-5 or off its step 1" in message
    assert "line 11: 4.5, line 12: 0" in message
    assert "line 12: 0" in error_of(path, rating_scale=(0.5, 5))
    with pytest.raises(ValueError, match="rating_scale must be"):
        load_ratings(path, rating_scale=(5, 1))


def test_infer_rating_scale_function():
    assert infer_rating_scale([1, 2, 3, 4, 5]) == (1.0, 5.0, 1.0)
    assert infer_rating_scale(np.array([0.5, 4.0, 2.5])) == (0.5, 4.0, 0.5)
    assert infer_rating_scale([1.23, 4.567, 2.0001])[2] is None  # no grid fits
    ratings = pd.Series([1.0, 2, 3, 4, 5] * 400 + [4.5], index=[f"r{k}" for k in range(2001)])
    with pytest.raises(ValueError, match=r"off the grid of step 1.*label 'r2000': 4.5"):
        infer_rating_scale(ratings)
    with pytest.raises(ValueError, match="no ratings"):
        infer_rating_scale([])
    with pytest.raises(ValueError, match="finite"):
        infer_rating_scale([1.0, np.nan])


# --------------------------------------------------------------------------- 4. Amazon 2014 ids

AMAZON_ROWS = [
    "A39HTATAQ9V7YF,0205616461,5.0,1369699200",
    "A3JM6GV9MNOF9X,0558925278,3.0,1355443200",
    "A1Z513UWSAAO0F,0558925278,5.0,1404691200",
    "A1WMRR494NWEWV,0733001998,4.0,1382572800",
    "A3IAAVS479H7M7,0737104473,1.0,1274227200",
    "AKJHHD5VEH7VG,0762451459,5.0,1404518400",
    "A1BG8QW55XHN6U,1304139212,5.0,1371945600",
    "A22VW0P4VZHDE3,1304139220,5.0,1373068800",
]


def test_implausible_amazon_2014_user_ids_are_counted_not_dropped(tmp_path):
    rows = AMAZON_ROWS + ["Delete,1304146537,5.0,1372032000", "Delete,130414674X,4.0,1372032000"]
    path = write(tmp_path / "ratings_Beauty.csv", "\n".join(rows) + "\n")
    with pytest.warns(DataQualityWarning, match=r"2 row\(s\) with 1 user id\(s\).*'Delete'"):
        df = load_ratings(path)
    assert len(df) == 10 and (df["user"] == "Delete").sum() == 2
    assert df.attrs["amazon_ids"] == {
        "implausible_users": {"rows": 2, "ids": 1, "examples": ["Delete"]}
    }


def test_stripped_asins_are_reported_and_repaired_only_on_request(tmp_path):
    rows = [r.replace(",0", ",", 1) if "0205616461" in r else r for r in AMAZON_ROWS]
    path = write(tmp_path / "r.csv", "\n".join(rows) + "\n")
    with pytest.warns(DataQualityWarning, match=r"1 row\(s\) with 1 all-digit ASIN.*205616461"):
        kept = load_ratings(path)
    assert kept["item"].iloc[0] == "205616461"
    assert kept.attrs["amazon_ids"]["stripped_asins"] == {
        "rows": 1,
        "ids": 1,
        "examples": ["205616461"],
        "repaired": False,
    }
    with pytest.warns(DataQualityWarning, match="zero-padded 1 ASIN"):
        fixed = load_ratings(path, repair_asins=True)
    assert fixed["item"].iloc[0] == "0205616461"
    assert fixed.attrs["amazon_ids"]["stripped_asins"]["repaired"] is True
    # MovieLens ids are digits too, but the file is not Amazon 2014: no check, no repair
    ml = write(tmp_path / "ml.csv", "1,31,2.5,1260759144\n1,1029,3.0,1260759179\n")
    assert "amazon_ids" not in no_warnings(load_ratings, ml).attrs
    with pytest.raises(ValueError, match="Amazon 2014 ratings files only"):
        load_ratings(ml, repair_asins=True)


def test_real_prefix_file_reports_its_stripped_zeros(shared_data):
    path = shared_data / "amazon-beauty-2014-prefix499" / "ratings_Beauty.csv"
    with pytest.warns(DataQualityWarning) as record:
        df = load_ratings(path)
    assert len(record) == 1 and "6 row(s) with 5 all-digit ASIN(s)" in str(record[0].message)
    assert df.attrs["amazon_ids"] == {
        "stripped_asins": {
            "rows": 6,
            "ids": 5,
            "examples": ["205616461", "558925278", "733001998", "737104473", "762451459"],
            "repaired": False,
        }
    }
    with pytest.warns(DataQualityWarning, match="zero-padded 5 ASIN"):
        fixed = load_dataset("amazon-beauty-sample", download=False, repair_asins=True)
    assert fixed["item"].str.len().eq(10).all()
    assert fixed["item"].iloc[0] == "0205616461"
    assert fixed["item"].nunique() == 170


def test_amazon_2023_ids_are_not_judged_by_2014_rules(shared_data):
    path = shared_data / "amazon-all-beauty-2023-5core" / "All_Beauty.csv"
    df = no_warnings(load_ratings, path)
    assert "amazon_ids" not in df.attrs


# --------------------------------------------------------------------------- 5. spreadsheet copy

SPREADSHEET = (
    "UserId,ProductId,Rating,Timestamp,\r\n"
    "A39HTATAQ9V7YF,0205616461,5,1369699200,\r\n"
    "A3JM6GV9MNOF9X,0558925278,3,1355443200,Delete\r\n"
    "A1Z513UWSAAO0F,0558925278,5,1404691200,\r\n"
    "A1WMRR494NWEWV,0733001998,4,1382572800,Delete\r\n"
)


def test_spreadsheet_copy_is_refused_by_default(tmp_path):
    path = write(tmp_path / "edited.csv", SPREADSHEET)
    message = error_of(path)
    assert message.startswith(f"{path}: line 3: extra non-empty column")
    assert "first_columns=4" in message


def test_spreadsheet_copy_loads_with_first_columns(tmp_path):
    path = write(tmp_path / "edited.csv", SPREADSHEET)
    with pytest.warns(DataQualityWarning, match=r"dropped 2 non-empty value\(s\) in 2 row"):
        df = load_ratings(path, first_columns=4)
    assert df["user"].tolist()[:2] == ["A39HTATAQ9V7YF", "A3JM6GV9MNOF9X"]
    assert list(df.columns) == ["user", "item", "rating", "timestamp"]
    assert df.attrs["dropped_extra_values"] == 2
    assert df.attrs["header"] == "UserId,ProductId,Rating,Timestamp,"
    # ragged extras (a sixth and an eighth column on some lines) are dropped and counted too
    ragged = write(tmp_path / "ragged.csv", "a,b,5,1\nc,d,4,2,x,y\ne,f,3,3,,,,z\n")
    with pytest.warns(DataQualityWarning, match=r"dropped 3 non-empty value\(s\) in 2 row"):
        assert len(load_ratings(ragged, first_columns=4)) == 3
    with pytest.raises(ValueError, match="first_columns must be 3 or 4"):
        load_ratings(path, first_columns=5)


# --------------------------------------------------------------------------- 6. no crashes


def test_timestamp_beyond_64_bits_is_a_clear_error(tmp_path):
    path = write(tmp_path / "big.csv", "A1,I1,5.0,1400000000\nA2,I2,4.0,123456789012345678901234\n")
    message = error_of(path)
    assert message.startswith(f"{path}: line 2: timestamp beyond the 64-bit integer range")
    edge = write(tmp_path / "edge.csv", "A1,I1,5.0,9223372036854775807\nA2,I2,4.0,-5\n")
    assert no_warnings(load_ratings, edge)["timestamp"].tolist() == [2**63 - 1, -5]
    over = write(tmp_path / "over.csv", "A1,I1,5.0,9223372036854775808\n")
    assert "line 1: timestamp beyond the 64-bit" in error_of(over)


@pytest.mark.parametrize("line", [1, 2])
def test_latin1_bytes_name_file_and_line(tmp_path, line):
    rows = ["A1,I1,5.0,1", "A2,I2,4.0,2"]
    rows[line - 1] = "Ren\xe9,I9,3.0,3"
    path = write(tmp_path / "latin.csv", "\n".join(rows).encode("latin-1") + b"\n")
    message = error_of(path)
    assert message.startswith(f"{path}: line {line}: not UTF-8 text (byte 0xe9")
    assert "iconv" in message


# --------------------------------------------------------------------------- 7. download


def test_amazon_beauty_uses_https_and_no_invented_checksum():
    spec = DATASETS["amazon-beauty"]
    assert spec.url.startswith("https://snap.stanford.edu/")
    assert spec.sha256 is None  # no trusted public record exists
    assert "size and counts only" in spec.description
    assert "size and counts only" in load_dataset.__doc__.replace("\n        ", " ")
