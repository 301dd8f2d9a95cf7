"""Tests for recsys_ae.preprocess: hand-made inputs with hand-worked answers, then real files."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_ae.preprocess import (
    DuplicateReport,
    IdIndex,
    Report,
    Split,
    Step,
    centre,
    deduplicate,
    dense_bytes,
    kcore_filter,
    load_matrix,
    observed_mask,
    per_user_holdout,
    random_split,
    rating_matrix,
    save_matrix,
    seed_build_matrix,
    seed_filter,
    to_dense,
    validate_ratings,
    validation_split,
)

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def ratings(rows, index=None, timestamps=None, attrs=None) -> pd.DataFrame:
    """Build a ratings frame from (user, item, rating) triples."""
    df = pd.DataFrame(rows, columns=["user", "item", "rating"], index=index)
    df["rating"] = df["rating"].astype("float64")
    if timestamps is not None:
        df["timestamp"] = np.asarray(timestamps, dtype=np.int64)
    if attrs:
        df.attrs.update(attrs)
    return df


def pairs(df: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(df["user"], df["item"]))


def read_ml100k(shared_data) -> pd.DataFrame:
    df = pd.read_csv(
        shared_data / "ml-100k" / "u.data",
        sep="\t",
        names=["user", "item", "rating", "timestamp"],
        dtype={"user": str, "item": str},
    )
    df["rating"] = df["rating"].astype("float64")
    df.attrs.update({"dataset": "ml-100k", "synthetic": False, "source": "u.data"})
    return df


# --------------------------------------------------------------------------------------------
# Step / Report
# --------------------------------------------------------------------------------------------


def test_step_properties():
    s = Step("x", 10, 4, 5, 7, 3, 5)
    assert (s.ratings_removed, s.users_removed, s.items_removed) == (3, 1, 0)


def test_report_add_frame_str_total():
    df = ratings([("a", "x", 4), ("a", "y", 3), ("b", "x", 5), ("c", "z", 1)])
    report = Report()
    step1 = report.add("drop c", df, df[df["user"] != "c"])
    step2 = report.add("drop b", df.iloc[:3], df.iloc[:2])
    assert step1 == Step("drop c", 4, 3, 3, 3, 2, 2)
    assert step2 == Step("drop b", 3, 2, 2, 2, 1, 2)
    assert isinstance(report, list) and report == [step1, step2]
    assert report.total_removed() == {"ratings": 2, "users": 2, "items": 1}

    frame = report.to_frame()
    assert list(frame["step"]) == ["drop c", "drop b"]
    assert list(frame["ratings_removed"]) == [1, 1]
    assert list(frame["items_after"]) == [2, 2]
    assert frame.columns[:4].tolist() == [
        "step",
        "ratings_before",
        "ratings_after",
        "ratings_removed",
    ]

    text = str(report)
    assert "drop c" in text and "4 → 3" in text and "total" in text
    assert str(Report()) == "Report: no steps"
    assert Report().total_removed() == {"ratings": 0, "users": 0, "items": 0}
    assert len(Report().to_frame()) == 0


# --------------------------------------------------------------------------------------------
# validate_ratings
# --------------------------------------------------------------------------------------------


def test_validate_returns_same_object_when_valid():
    df = ratings([("u1", "i1", 1.0), ("u2", "i2", 5.0)])
    assert validate_ratings(df) is df
    assert validate_ratings(df, rating_scale=(1, 5)) is df


@pytest.mark.parametrize(
    ("bad_value", "expected"),
    [
        (0.0, "rating > 0"),
        (-1.0, "rating > 0"),
        (np.nan, "finite"),
        (np.inf, "finite"),
    ],
)
def test_validate_rejects_bad_rating_naming_row(bad_value, expected):
    df = ratings([("u1", "i1", 4), ("u2", "i2", bad_value), ("u3", "i3", 3)], index=[10, 20, 30])
    with pytest.raises(ValueError, match=expected) as err:
        validate_ratings(df)
    msg = str(err.value)
    assert "index label 20" in msg and "row 2 of 3" in msg and "rating" in msg


def test_validate_zero_is_rejected_as_seed_missing_code():
    df = ratings([("u1", "i1", 0.0)])
    with pytest.raises(ValueError, match="'no rating'"):
        validate_ratings(df)


def test_validate_rating_scale():
    df = ratings([("u1", "i1", 4), ("u1", "i2", 5.5), ("u2", "i1", 0.5)], index=list("abc"))
    with pytest.raises(ValueError, match=r"index label 'b' \(row 2 of 3\).*rating_scale=\(1, 5\)"):
        validate_ratings(df, rating_scale=(1, 5))
    assert validate_ratings(df, rating_scale=(0.5, 5.5)) is df
    with pytest.raises(ValueError, match="lo <= hi"):
        validate_ratings(df, rating_scale=(5, 1))


def test_validate_missing_and_blank_ids():
    df = ratings([("u1", "i1", 4), (None, "i2", 3)])
    with pytest.raises(ValueError, match=r"row 2 of 2\): user = .*non-empty id"):
        validate_ratings(df)
    df = ratings([("u1", "i1", 4), ("u2", "i2", 3), ("u3", "  ", 3)])
    with pytest.raises(ValueError, match=r"row 3 of 3\): item = '  '"):
        validate_ratings(df)


def test_validate_reports_first_offending_row_and_count():
    # Row 2 has a bad rating, row 3 a missing user, row 4 another bad rating: row 2 is named.
    df = ratings([("u1", "i1", 4), ("u2", "i2", -2), (None, "i3", 3), ("u4", "i4", 0)])
    with pytest.raises(ValueError, match=r"row 2 of 4\): rating = -2.0.*2 row\(s\) fail"):
        validate_ratings(df)


def test_validate_rejects_wrong_columns_and_dtypes():
    with pytest.raises(ValueError, match="lacks column"):
        validate_ratings(pd.DataFrame({"user": ["a"], "rating": [1.0]}))
    with pytest.raises(ValueError, match="must hold str ids"):
        validate_ratings(pd.DataFrame({"user": [1], "item": ["a"], "rating": [1.0]}))
    with pytest.raises(ValueError, match="must be numeric"):
        validate_ratings(pd.DataFrame({"user": ["u"], "item": ["a"], "rating": ["5"]}))


# --------------------------------------------------------------------------------------------
# deduplicate
# --------------------------------------------------------------------------------------------


@pytest.fixture
def dup_frame() -> pd.DataFrame:
    # (u1, a): rated 4 twice              -> affected, not conflicting
    # (u2, a): 5 at t=30, then 2 at t=15  -> conflicting; latest (t=30) is earlier in the file
    # (u3, b): 3 and 1, same timestamp    -> conflicting; tie goes to the later row (1)
    # (u4, c): once
    return ratings(
        [
            ("u1", "a", 4),
            ("u1", "a", 4),
            ("u2", "a", 5),
            ("u2", "a", 2),
            ("u3", "b", 3),
            ("u3", "b", 1),
            ("u4", "c", 2),
        ],
        timestamps=[10, 20, 30, 15, 5, 5, 1],
        attrs={"dataset": "hand"},
    )


def test_deduplicate_latest_and_report(dup_frame):
    out, rep = deduplicate(dup_frame)
    assert out.index.tolist() == [1, 2, 5, 6]
    assert out["rating"].tolist() == [4.0, 5.0, 1.0, 2.0]
    assert rep == DuplicateReport(
        n_rows_before=7,
        n_rows_after=4,
        n_duplicate_rows=3,
        n_pairs_affected=3,
        n_conflicting_pairs=2,
        policy="latest",
    )
    assert out.attrs == {"dataset": "hand"}
    assert "3 duplicate row(s)" in str(rep)


def test_deduplicate_never_sums(dup_frame):
    out, _ = deduplicate(dup_frame)
    index = IdIndex.fit(out)
    m = rating_matrix(out, index)
    assert m[index.user_rows(["u1"])[0], index.item_cols(["a"])[0]] == 4.0
    # What the guard prevents: scipy sums repeated coordinates, 4 + 4 = 8.
    summed = sp.coo_matrix(([4.0, 4.0], ([0, 0], [0, 0])), shape=(1, 1)).tocsr()
    assert summed[0, 0] == 8.0


@pytest.mark.parametrize(
    ("keep", "labels", "values"),
    [
        ("first", [0, 2, 4, 6], [4.0, 5.0, 3.0, 2.0]),
        ("last", [1, 3, 5, 6], [4.0, 2.0, 1.0, 2.0]),
        ("mean", [1, 2, 5, 6], [4.0, 3.5, 2.0, 2.0]),
    ],
)
def test_deduplicate_other_policies(dup_frame, keep, labels, values):
    out, rep = deduplicate(dup_frame, keep=keep)
    assert out.index.tolist() == labels
    assert out["rating"].tolist() == values
    assert (rep.n_duplicate_rows, rep.n_conflicting_pairs, rep.policy) == (3, 2, keep)


def test_deduplicate_mean_keeps_latest_timestamp(dup_frame):
    out, _ = deduplicate(dup_frame, keep="mean")
    assert out["timestamp"].tolist() == [20, 30, 5, 1]


def test_deduplicate_latest_without_timestamp_is_last_in_file(dup_frame):
    out, _ = deduplicate(dup_frame.drop(columns="timestamp"))
    assert out.index.tolist() == [1, 3, 5, 6]


def test_deduplicate_no_duplicates_and_bad_policy():
    df = ratings([("u1", "a", 4), ("u2", "a", 5)])
    out, rep = deduplicate(df)
    pd.testing.assert_frame_equal(out, df)
    assert (rep.n_duplicate_rows, rep.n_pairs_affected, rep.n_conflicting_pairs) == (0, 0, 0)
    with pytest.raises(ValueError, match="keep must be one of"):
        deduplicate(df, keep="sum")


def test_deduplicate_real_amazon_2018(shared_data):
    path = shared_data / "amazon-all-beauty-2018-5core" / "All_Beauty_5.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    df = pd.DataFrame(
        {
            "user": [r["reviewerID"] for r in records],
            "item": [r["asin"] for r in records],
            "rating": [float(r["overall"]) for r in records],
            "timestamp": [r["unixReviewTime"] for r in records],
        }
    )
    out, rep = deduplicate(validate_ratings(df, rating_scale=(1, 5)))
    # Figures from shared/data/README.md: 5,269 records, 4,092 pairs, 18 conflicting pairs.
    assert (rep.n_rows_before, rep.n_rows_after, rep.n_duplicate_rows) == (5269, 4092, 1177)
    assert rep.n_conflicting_pairs == 18
    assert not out.duplicated(["user", "item"]).any()


def test_deduplicate_real_filmtrust(shared_data):
    parts = sorted((shared_data / "filmtrust" / "rating").glob("ratings_*.txt"))
    df = pd.concat(
        [
            pd.read_csv(
                p,
                sep=" ",
                header=None,
                names=["user", "item", "rating"],
                dtype={"user": str, "item": str},
            )
            for p in parts
        ],
        ignore_index=True,
    )
    out, rep = deduplicate(validate_ratings(df, rating_scale=(0.5, 4.0)))
    # README: "308 12 4" twice; (308, 207) and (308, 235) conflicting; 35,494 unique pairs.
    assert (rep.n_rows_before, rep.n_rows_after) == (35497, 35494)
    assert (rep.n_pairs_affected, rep.n_conflicting_pairs) == (3, 2)
    # No timestamp: the later row in file order wins.
    last = out[(out["user"] == "308") & out["item"].isin(["207", "235"])]
    expected = df[(df["user"] == "308") & df["item"].isin(["207", "235"])].drop_duplicates(
        ["user", "item"], keep="last"
    )
    assert sorted(last["rating"]) == sorted(expected["rating"])


# --------------------------------------------------------------------------------------------
# seed_filter
# --------------------------------------------------------------------------------------------


@pytest.fixture
def seed_example() -> pd.DataFrame:
    # u1: a, b   u2: a, c   u3: b   u4: d
    # items on the input: a {u1,u2}, b {u1,u3}, c {u2}, d {u4}
    return ratings(
        [
            ("u1", "a", 5),
            ("u1", "b", 4),
            ("u2", "a", 3),
            ("u2", "c", 2),
            ("u3", "b", 1),
            ("u4", "d", 5),
        ],
        attrs={"dataset": "hand"},
    )


def test_seed_filter_counts_items_on_the_input(seed_example):
    out, report = seed_filter(seed_example)
    # Users kept: u1, u2 (u3, u4 have one item). Items kept: a, b (2 users each ON THE INPUT).
    # b survives although, after u3 is gone, only u1 rated it: counts are not recomputed.
    assert pairs(out) == {("u1", "a"), ("u1", "b"), ("u2", "a")}
    assert out.index.tolist() == [0, 1, 2]
    assert out.attrs == {"dataset": "hand"}
    assert report == [
        Step(report[0].name, 6, 4, 4, 4, 2, 3),
        Step(report[1].name, 4, 2, 3, 3, 2, 2),
    ]
    assert report.total_removed() == {"ratings": 3, "users": 2, "items": 2}

    # Recomputing item counts after the user filter would give a different, smaller answer.
    users_ok = seed_example.groupby("user")["item"].nunique().loc[lambda s: s > 1].index
    step1 = seed_example[seed_example["user"].isin(users_ok)]
    items_ok = step1.groupby("item")["user"].nunique().loc[lambda s: s > 1].index
    recomputed = step1[step1["item"].isin(items_ok)]
    assert pairs(recomputed) == {("u1", "a"), ("u2", "a")}
    assert pairs(recomputed) != pairs(out)


def test_seed_filter_matches_notebook_cells_on_beauty_prefix(shared_data):
    path = shared_data / "amazon-beauty-2014-prefix499" / "ratings_Beauty.csv"
    dataset = pd.read_csv(path, dtype={"UserId": str, "ProductId": str})
    # Seed cells 9-12, verbatim.
    user_frequency = pd.DataFrame(dataset.groupby("UserId")["ProductId"].nunique() > 1)
    user_frequency = user_frequency.reset_index()
    old_user = list(user_frequency["UserId"][user_frequency["ProductId"]])
    item_frequency = pd.DataFrame(dataset.groupby("ProductId")["UserId"].nunique() > 1)
    item_frequency = item_frequency.reset_index()
    old_item = list(item_frequency["ProductId"][item_frequency["UserId"]])
    dataset = dataset[dataset["UserId"].isin(old_user)]
    dataset = dataset[dataset["ProductId"].isin(old_item)]

    raw = pd.read_csv(path, dtype={"UserId": str, "ProductId": str}).rename(
        columns={
            "UserId": "user",
            "ProductId": "item",
            "Rating": "rating",
            "Timestamp": "timestamp",
        }
    )
    out, report = seed_filter(raw)
    assert out.index.tolist() == dataset.index.tolist()
    assert report[-1].ratings_after == len(dataset)


def test_seed_filter_real_ml100k_removes_only_single_user_items(shared_data):
    df = read_ml100k(shared_data)
    out, report = seed_filter(df)
    users_per_item = df.groupby("item")["user"].nunique()
    single = users_per_item.index[users_per_item == 1]
    assert len(single) > 0
    # Every ML-100K user has >= 20 ratings, so the user step removes nothing.
    assert df.groupby("user")["item"].nunique().min() >= 20
    assert report[0].ratings_removed == 0 and report[0].users_removed == 0
    assert report[1].items_removed == len(single)
    assert report[1].ratings_removed == int(df["item"].isin(single).sum())
    assert report.total_removed()["users"] == 0
    assert out.attrs["dataset"] == "ml-100k"


# --------------------------------------------------------------------------------------------
# kcore_filter
# --------------------------------------------------------------------------------------------


@pytest.fixture
def chain() -> pd.DataFrame:
    # A chain u1-i2-u2-i3-u3 with leaves i1 and i4, plus a complete 2x2 block (u5, u6) x (i5, i6).
    return ratings(
        [
            ("u1", "i1", 1),
            ("u1", "i2", 2),
            ("u2", "i2", 3),
            ("u2", "i3", 4),
            ("u3", "i3", 5),
            ("u3", "i4", 1),
            ("u5", "i5", 2),
            ("u5", "i6", 3),
            ("u6", "i5", 4),
            ("u6", "i6", 5),
        ]
    )


def test_kcore_chain_needs_several_passes(chain):
    core, report = kcore_filter(chain, k=2)
    assert pairs(core) == {("u5", "i5"), ("u5", "i6"), ("u6", "i5"), ("u6", "i6")}
    # input: 10 ratings, 5 users (u1 u2 u3 u5 u6), 6 items (i1..i6).
    # pass 1: every user has 2 items; items i1, i4 have 1 user -> dropped.
    # pass 2: u1, u3 now have 1 item -> dropped; then i2, i3 have 1 user (u2) -> dropped,
    #         which also empties u2. pass 3: nothing changes.
    assert [s.name for s in report] == [
        "k-core pass 1: users", "k-core pass 1: items",
        "k-core pass 2: users", "k-core pass 2: items",
        "k-core pass 3: users", "k-core pass 3: items",
    ]  # fmt: skip
    counts = [(s.ratings_before, s.users_before, s.items_before, s.ratings_after,
               s.users_after, s.items_after) for s in report]  # fmt: skip
    assert counts == [
        (10, 5, 6, 10, 5, 6),
        (10, 5, 6, 8, 5, 4),
        (8, 5, 4, 6, 3, 4),
        (6, 3, 4, 4, 2, 2),
        (4, 2, 2, 4, 2, 2),
        (4, 2, 2, 4, 2, 2),
    ]
    assert report[3].users_removed == 1  # u2 vanished in an item step
    assert report.total_removed() == {"ratings": 6, "users": 3, "items": 4}


def test_kcore_separate_thresholds_and_k1(chain):
    core, _ = kcore_filter(chain, k_user=2, k_item=1)
    assert len(core) == len(chain)  # every user has 2 items; k_item=1 keeps every item
    core, report = kcore_filter(chain, k=1)
    assert len(core) == len(chain) and len(report) == 2


def test_kcore_counts_distinct_pairs_and_raises(chain):
    doubled = pd.concat([chain, chain.iloc[[0]]])  # (u1, i1) twice is still one item for u1
    core, _ = kcore_filter(doubled, k=2)
    assert len(core) == 4
    with pytest.raises(RuntimeError, match="did not converge"):
        kcore_filter(chain, k=2, max_iter=1)
    with pytest.raises(ValueError, match="k_user >= 1"):
        kcore_filter(chain, k=0)


def test_kcore_real_ml100k_matches_simple_loop(shared_data):
    df = read_ml100k(shared_data)
    core, report = kcore_filter(df, k=5)

    # Independent implementation: plain value_counts, repeated until stable.
    ref = df[["user", "item"]]
    while True:
        user_n = ref["user"].value_counts()
        item_n = ref["item"].value_counts()
        ok = ref["user"].map(user_n).ge(5) & ref["item"].map(item_n).ge(5)
        if ok.all():
            break
        ref = ref[ok]
    assert sorted(core.index) == sorted(ref.index)
    assert (len(core), core["user"].nunique(), core["item"].nunique()) == (
        len(ref),
        ref["user"].nunique(),
        ref["item"].nunique(),
    )
    assert report[-1].ratings_after == len(ref)
    assert report.total_removed()["ratings"] == len(df) - len(ref)
    assert core.groupby("item")["user"].nunique().min() >= 5
    assert core.groupby("user")["item"].nunique().min() >= 5


# --------------------------------------------------------------------------------------------
# IdIndex
# --------------------------------------------------------------------------------------------


def test_idindex_fit_sorted_and_lookups():
    df = ratings([("u2", "b", 1), ("u10", "a", 2), ("u1", "c", 3), ("u2", "a", 4)])
    index = IdIndex.fit(df)
    assert index.users.tolist() == ["u1", "u10", "u2"]  # string order: "u10" < "u2"
    assert index.items.tolist() == ["a", "b", "c"]
    assert (index.n_users, index.n_items) == (3, 3)
    assert index.user_rows(["u2", "zz", "u1"]).tolist() == [2, -1, 0]
    assert index.item_cols(["c", "nope"]).tolist() == [2, -1]
    assert index.user_rows(["u1"]).dtype == np.int64
    rows, cols, known = index.encode(df)
    assert rows.tolist() == [2, 1, 0, 2] and cols.tolist() == [1, 0, 2, 0]
    assert known.all()
    assert IdIndex.fit(df.iloc[::-1]) == index  # row order does not matter
    assert repr(index) == "IdIndex(n_users=3, n_items=3)"


def test_idindex_matches_seed_category_codes(shared_data):
    df = read_ml100k(shared_data).sample(500, random_state=1)
    index = IdIndex.fit(df)
    rows, cols, _ = index.encode(df)
    assert np.array_equal(rows, df["user"].astype("category").cat.codes.to_numpy())
    assert np.array_equal(cols, df["item"].astype("category").cat.codes.to_numpy())


def test_idindex_rejects_bad_ids():
    with pytest.raises(ValueError, match="unique"):
        IdIndex(["a", "a"], ["x"])
    with pytest.raises(ValueError, match="str ids"):
        IdIndex([1, 2], ["x"])
    with pytest.raises(ValueError, match="str ids"):
        IdIndex(["a", None], ["x"])


def test_one_index_across_splits_and_cold_user():
    train = ratings([("u1", "a", 4), ("u1", "b", 3), ("u2", "a", 5)])
    test = ratings([("u2", "b", 2), ("u9", "a", 1)])  # u9 appears only in test
    index = IdIndex.fit(train)
    rows, cols, known = index.encode(test)
    assert rows.tolist() == [1, -1] and cols.tolist() == [1, 0]
    assert known.tolist() == [True, False]

    with pytest.raises(ValueError) as err:
        rating_matrix(test, index)
    msg = str(err.value)
    assert "1 of 2 ratings" in msg and "1 unknown user(s)" in msg and "'u9'" in msg
    assert "cold-start" in msg

    m_train = rating_matrix(train, index)
    m_test = rating_matrix(test[known], index)
    assert m_train.shape == m_test.shape == (2, 2)
    assert m_test.toarray().tolist() == [[0, 0], [0, 2]]

    summary = Split(train, test, name="hand").summary()
    assert summary["test_cold_ratings"] == 1 and summary["test_cold_users"] == 1
    assert summary["test_cold_items"] == 0


def test_permute_items_round_trip_and_matrix_columns():
    df = ratings([("u1", "a", 1), ("u1", "c", 3), ("u2", "b", 2), ("u2", "d", 4)])
    index = IdIndex.fit(df)
    perm = np.array([2, 0, 3, 1])
    permuted = index.permute_items(perm)
    assert permuted.items.tolist() == ["c", "a", "d", "b"]
    assert permuted.users.equals(index.users)
    assert permuted.permute_items(np.argsort(perm)) == index
    original = rating_matrix(df, index).toarray()
    assert np.array_equal(rating_matrix(df, permuted).toarray(), original[:, perm])
    with pytest.raises(ValueError, match="permutation"):
        index.permute_items([0, 0, 1, 2])
    with pytest.raises(ValueError, match="permutation"):
        index.permute_items([0, 1, 2])


# --------------------------------------------------------------------------------------------
# rating_matrix, seed_build_matrix
# --------------------------------------------------------------------------------------------


@pytest.fixture
def tiny() -> pd.DataFrame:
    return ratings([("bob", "y", 2), ("amy", "x", 5), ("amy", "z", 3.5), ("cat", "y", 1)])


def test_rating_matrix_by_hand_and_pivot(tiny):
    index = IdIndex.fit(tiny)  # users amy, bob, cat; items x, y, z
    m = rating_matrix(tiny, index)
    assert isinstance(m, sp.csr_matrix) and m.dtype == np.float32
    assert m.shape == (3, 3) and m.nnz == 4
    assert m.has_canonical_format and m.has_sorted_indices
    expected = [[5, 0, 3.5], [0, 2, 0], [0, 1, 0]]
    assert m.toarray().tolist() == expected
    pivot = tiny.pivot(index="user", columns="item", values="rating").fillna(0.0)
    assert np.array_equal(m.toarray(), pivot.to_numpy())
    assert rating_matrix(tiny, index, dtype=np.float64).dtype == np.float64


def test_rating_matrix_by_item_is_transpose(tiny):
    index = IdIndex.fit(tiny)
    by_user = rating_matrix(tiny, index)
    by_item = rating_matrix(tiny, index, by="item")
    assert by_item.shape == (index.n_items, index.n_users)
    assert np.array_equal(by_item.toarray(), by_user.toarray().T)
    assert by_item.has_canonical_format
    with pytest.raises(ValueError, match="by must be"):
        rating_matrix(tiny, index, by="col")


def test_rating_matrix_rejects_duplicates_and_nan(tiny):
    index = IdIndex.fit(tiny)
    doubled = pd.concat([tiny, tiny.iloc[[1]]])  # ("amy", "x") again
    with pytest.raises(ValueError, match=r"\('amy', 'x'\) at rows \[2, 5\].*deduplicate"):
        rating_matrix(doubled, index)
    with pytest.raises(ValueError, match="validate_ratings"):
        rating_matrix(tiny.assign(rating=[1.0, np.nan, 2.0, 3.0]), index)


def test_rating_matrix_equals_seed_lil_build(shared_data):
    df = read_ml100k(shared_data).sample(2000, random_state=0)
    index = IdIndex.fit(df)
    fast = rating_matrix(df, index)
    slow = seed_build_matrix(df, index)
    assert isinstance(slow, sp.csr_matrix) and slow.shape == fast.shape
    assert np.array_equal(fast.toarray(), slow.toarray())
    assert fast.nnz == slow.nnz == 2000


def test_seed_build_matrix_rejects_unknown_ids(tiny):
    index = IdIndex.fit(tiny.iloc[:2])
    with pytest.raises(ValueError, match="unknown to the index"):
        seed_build_matrix(tiny, index)


# --------------------------------------------------------------------------------------------
# centre, observed_mask, to_dense
# --------------------------------------------------------------------------------------------


def test_centre_keeps_a_rating_equal_to_mu_observed():
    df = ratings([("u1", "a", 3), ("u1", "b", 4), ("u2", "a", 5)])  # mean exactly 4
    index = IdIndex.fit(df)
    a = rating_matrix(df, index)
    mu = a.sum() / observed_mask(a).sum()
    assert mu == 4.0

    c = centre(a, mu)
    assert c.nnz == a.nnz == 3  # (u1, b) is now an explicit stored 0
    assert c.data.tolist() == [-1.0, 0.0, 1.0]
    assert c.toarray().tolist() == [[-1, 0], [1, 0]]
    assert np.array_equal(observed_mask(c).toarray(), observed_mask(a).toarray())
    assert np.array_equal(a.data, [3, 4, 5])  # input untouched

    # The seed's value-based mask on the centred matrix loses both the 0 and the -1:
    seed_mask = (c > 0) * 1.0
    assert seed_mask.nnz == 1
    assert (c != 0).nnz == 2  # so would K.not_equal(y_true, 0)
    # On raw ratings the seed's mask was right, which is why the bug went unnoticed.
    assert ((a > 0) * 1.0).nnz == 3


def test_centre_per_row_and_errors():
    a = sp.csr_matrix(np.array([[1.0, 0, 3], [0, 0, 0], [4, 5, 0]], dtype=np.float32))
    c = centre(a, [2.0, 9.0, 4.0])
    assert c.data.tolist() == [-1.0, 1.0, 0.0, 1.0]
    assert c.dtype == np.float32 and c.nnz == a.nnz
    with pytest.raises(ValueError, match="shape"):
        centre(a, [1.0, 2.0])


def test_observed_mask_reads_structure_not_values():
    data = np.array([5.0, 0.0, -1.0])
    m = sp.csr_matrix((data, ([0, 1, 1], [0, 0, 2])), shape=(2, 3))
    assert m.nnz == 3  # explicit zero stored
    mask = observed_mask(m)
    assert mask.toarray().tolist() == [[1, 0, 0], [1, 0, 1]]
    assert mask.dtype == np.float64
    assert observed_mask(m.astype(np.int64)).dtype == np.float32


def test_dense_bytes():
    assert dense_bytes((3, 4)) == 48
    assert dense_bytes((3, 4), np.float64) == 96
    assert dense_bytes((1_210_271, 249_274)) == 1_210_271 * 249_274 * 4  # no int overflow


class _NoToArray:
    """Looks like the full Beauty matrix; fails the test if anything tries to densify it."""

    shape = (1_210_271, 249_274)
    dtype = np.dtype(np.float32)

    def toarray(self):  # pragma: no cover - reaching here is the failure
        raise AssertionError("to_dense tried to allocate")


def test_to_dense_refuses_before_allocating():
    with pytest.raises(MemoryError) as err:
        to_dense(_NoToArray())
    msg = str(err.value)
    assert "1,210,271 × 249,274" in msg and "1.10 TiB" in msg and "1.00 GiB" in msg
    # A real (empty) sparse matrix of that shape is refused the same way.
    with pytest.raises(MemoryError, match="TiB"):
        to_dense(sp.csr_matrix(_NoToArray.shape, dtype=np.float32))


def test_to_dense_small_and_custom_limit(tiny):
    m = rating_matrix(tiny, IdIndex.fit(tiny))
    dense = to_dense(m)
    assert isinstance(dense, np.ndarray) and dense.shape == (3, 3)
    assert to_dense(m, max_bytes=36).shape == (3, 3)  # exactly 3*3*4 bytes is allowed
    with pytest.raises(MemoryError, match="36 bytes"):
        to_dense(m, max_bytes=35)


# --------------------------------------------------------------------------------------------
# splits
# --------------------------------------------------------------------------------------------


def test_random_split_ml100k_sizes_disjoint_reproducible(shared_data):
    df = read_ml100k(shared_data)
    split = random_split(df)
    assert (len(split.train), len(split.test)) == (80_000, 20_000)
    assert split.validation is None and split.seed == 0
    train_labels, test_labels = set(split.train.index), set(split.test.index)
    assert not train_labels & test_labels
    assert train_labels | test_labels == set(df.index)
    assert split.train.index.is_monotonic_increasing  # file order kept
    assert split.train.attrs["dataset"] == "ml-100k"

    again = random_split(df, seed=0)
    assert split.test.index.equals(again.test.index)
    other = random_split(df, seed=1)
    assert not split.test.index.equals(other.test.index)

    summary = split.summary()
    assert (summary["train_ratings"], summary["test_ratings"]) == (80_000, 20_000)
    assert summary["validation_ratings"] is None


def test_random_split_cutoff_is_seed_rule_and_validation():
    df = ratings([(f"u{i}", f"i{i}", 1 + i % 5) for i in range(13)])
    split = random_split(df, test_size=0.3, seed=5, validation_size=0.25)
    # cutoff = int((1 - 0.3) * 13) = int(9.1) = 9 -> test 4; validation carved from the 9:
    # cutoff = int((1 - 0.25) * 9) = int(6.75) = 6 -> validation 3, train 6.
    assert (len(split.train), len(split.validation), len(split.test)) == (6, 3, 4)
    labels = [set(p.index) for p in (split.train, split.validation, split.test)]
    assert set().union(*labels) == set(df.index) and sum(map(len, labels)) == 13
    with pytest.raises(ValueError, match="test_size"):
        random_split(df, test_size=1.0)
    with pytest.raises(ValueError, match="empty part"):
        random_split(df.iloc[:1])


def test_validation_split():
    df = ratings([(f"u{i}", "a", 1) for i in range(20)])
    fit, val = validation_split(df, validation_size=0.1, seed=3)
    assert (len(fit), len(val)) == (18, 2)
    assert set(fit.index).isdisjoint(val.index)
    _, val2 = validation_split(df, validation_size=0.1, seed=3)
    assert val.index.equals(val2.index)


def test_per_user_holdout_rule_by_hand():
    # u1: 1 rating, u2: 2, u3: 5, u4: 10, u5: 4
    rows = [("u1", "a", 1)]
    rows += [("u2", f"i{j}", 2) for j in range(2)]
    rows += [("u3", f"i{j}", 3) for j in range(5)]
    rows += [("u4", f"i{j}", 4) for j in range(10)]
    rows += [("u5", f"i{j}", 5) for j in range(4)]
    df = ratings(rows)

    split = per_user_holdout(df, test_size=0.2, seed=0, min_train=1)
    n_test = split.test.groupby("user").size().to_dict()
    # n_test = max(1, floor(0.2 n)) for n > min_train: u2 1, u3 1, u4 2, u5 1; u1 untested.
    assert n_test == {"u2": 1, "u3": 1, "u4": 2, "u5": 1}
    assert split.train.groupby("user").size().to_dict() == {
        "u1": 1, "u2": 1, "u3": 4, "u4": 8, "u5": 3
    }  # fmt: skip
    assert split.name == "per-user holdout"

    # min_train caps the test share: u5 (4 ratings) at test_size=0.5 gives 2, capped at 4-3=1.
    capped = per_user_holdout(df, test_size=0.5, seed=0, min_train=3)
    assert capped.test.groupby("user").size().to_dict() == {"u3": 2, "u4": 5, "u5": 1}

    # floor with tolerance: 0.29 * 100 counts as 29 (the float product is 28.999...).
    big = ratings([("u", f"i{j}", 1) for j in range(100)])
    assert len(per_user_holdout(big, test_size=0.29).test) == 29

    with pytest.raises(ValueError, match="test is empty"):
        per_user_holdout(df.iloc[:1])


def test_per_user_holdout_ml100k_every_user_in_both(shared_data):
    df = read_ml100k(shared_data)
    split = per_user_holdout(df, test_size=0.2, seed=0)
    assert set(split.test["user"]) == set(split.train["user"]) == set(df["user"])
    assert set(split.train.index).isdisjoint(split.test.index)
    assert len(split.train) + len(split.test) == len(df)
    expected = df.groupby("user").size().map(lambda n: max(1, int(np.floor(0.2 * n + 1e-9))))
    assert len(split.test) == expected.sum()
    assert split.summary()["test_cold_users"] == 0
    again = per_user_holdout(df, test_size=0.2, seed=0)
    assert split.test.index.equals(again.test.index)
    assert not split.test.index.equals(per_user_holdout(df, seed=1).test.index)


# --------------------------------------------------------------------------------------------
# save / load
# --------------------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path, tiny):
    m = rating_matrix(tiny, IdIndex.fit(tiny))
    written = save_matrix(tmp_path / "train", m)
    assert written == tmp_path / "train.npz" and written.is_file()
    back = load_matrix(written)
    assert isinstance(back, sp.csr_matrix) and back.dtype == m.dtype
    assert (back != m).nnz == 0 and back.shape == m.shape
    assert np.array_equal(back.indptr, m.indptr) and np.array_equal(back.indices, m.indices)
    # an explicit zero (a centred rating equal to mu) survives the round trip
    c = centre(m, 3.5)
    assert load_matrix(save_matrix(tmp_path / "c.npz", c)).nnz == c.nnz == 4
