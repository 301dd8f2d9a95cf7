"""Chapter 1's glued numbers, read from the run nbval just made (``glued`` in conftest.py).

Counts on real data are exact: MovieLens 100K (the settings conftest.py pins), the real
Amazon All_Beauty 2023 5-core file and the stand-in (seed 0) are fixed inputs, so any change
is a change of the data or of the code that counts it. Quoted figures (the seed notebook's
printed counts) are checked against the constants they are quoted from.
"""

import pytest

from recsys_ae import data


@pytest.fixture(scope="module")
def ch1(glued):
    return glued("01_data_exploration")


def test_movielens_counts_are_exact(ch1):
    assert (ch1["n_ratings"], ch1["n_users"], ch1["n_items"]) == (100_000, 943, 1_682)
    assert ch1["n_cells"] == 943 * 1_682
    assert ch1["density_pct"] == pytest.approx(100 * 100_000 / (943 * 1_682))
    assert ch1["density_pct"] + ch1["empty_pct"] == pytest.approx(100)
    assert ch1["ratings_per_user"] == pytest.approx(100_000 / 943)


def test_movielens_stars_and_degrees(ch1):
    assert ch1["mean_rating"] == pytest.approx(3.52986)
    assert (ch1["top_star"], ch1["top_star_pct"]) == (5.0, pytest.approx(21.201))
    assert (ch1["max_user_degree"], ch1["max_item_degree"]) == (737, 583)
    assert ch1["median_user_degree"] == 65
    # every MovieLens 100K user has at least 20 ratings: the prose says so instead of "0 users"
    assert ch1["min_user_degree"] == 20
    assert ch1["few_users_sentence"] == ("No user here has fewer than 20 ratings, so none has "
                                         "exactly one or two.")


def test_time_span_is_binned_by_month(ch1):
    assert (ch1["first_date"], ch1["last_date"]) == ("20 September 1997", "22 April 1998")
    assert ch1["span_days"] == 214
    assert ch1["time_bin"] == "month"


def test_filters(ch1):
    assert ch1["one_pass_kept_ratings"] == 99_859
    assert ch1["core_kept_ratings"] == 99_287
    assert ch1["one_pass_kept_pct"] == pytest.approx(99.859)
    assert ch1["core_kept_pct"] == pytest.approx(99.287)


def test_seed_figures_are_the_quoted_ones(ch1):
    assert ch1["seed_n_ratings"] == data.BEAUTY_COUNTS["n_ratings"] == 2_023_070
    assert ch1["seed_n_users"] == data.BEAUTY_COUNTS["n_users"] == 1_210_271
    assert ch1["seed_n_items"] == data.BEAUTY_COUNTS["n_items"] == 249_274
    assert (ch1["seed_kept_n_ratings"], ch1["seed_kept_n_users"],
            ch1["seed_kept_n_items"]) == (1_069_875, 321_366, 133_211)
    assert ch1["seed_kept_share_pct"] == pytest.approx(100 * 1_069_875 / 2_023_070)
    per_user = 2_023_070 / 1_210_271
    assert ch1["seed_ratings_per_user"] == pytest.approx(per_user)
    # at most a share (mean - 1) / 2 of the users can have three or more ratings
    assert ch1["seed_most_users_max_pct"] == pytest.approx(50 * (per_user - 1))
    assert ch1["seed_few_users_min_pct"] == pytest.approx(100 - 50 * (per_user - 1))
    assert ch1["seed_few_users_min_pct"] > 66


def test_real_amazon_5core_file(ch1):
    assert (ch1["beauty5_n_ratings"], ch1["beauty5_n_users"],
            ch1["beauty5_n_items"]) == ("2,535", "253", "356")
    assert ch1["beauty5_min_user"] == "5"  # 5-core: by construction
    assert ch1["beauty5_top_pct"] == "56%"  # 1,413 of 2,535 are five stars
    assert ch1["beauty5_per_user"] == "10.0"


def test_synthetic_stand_in(ch1):
    assert ch1["stand_in_one_pct"] == pytest.approx(100 * 7_846 / 11_965)
    assert 80 < ch1["stand_in_few_pct"] < 95
    assert ch1["stand_in_seed_pct"] == pytest.approx(100 * 11_854 / 20_000)
