"""Chapter 2's glued numbers, read from the run nbval just made (``glued`` in conftest.py).

Sizes are exact (MovieLens 100K, pinned by conftest.py; Beauty's shape as quoted in
``recsys_ae.results``); timings are checked within wide bands, since they depend on the
machine and its load.
"""

import re

import pytest

from recsys_ae import plots, preprocess, results


@pytest.fixture(scope="module")
def ch2(glued):
    return glued("02_sparse_encoding")


def test_beauty_sizes_from_the_quoted_shapes(ch2):
    assert results.BEAUTY_SHAPES["one-pass filter"] == (321_366, 133_211)
    assert (ch2["filtered_users"], ch2["filtered_items"]) == (321_366, 133_211)
    assert ch2["beauty_ratings"] == 2_023_070
    assert ch2["beauty_dense"] == "1.1 TiB"
    assert ch2["filtered_dense"] == "159.5 GiB"
    assert ch2["beauty_csr"] == plots.human_bytes(2_023_070 * 8 + (1_210_271 + 1) * 4)


def test_movielens_matrix_sizes_are_exact(ch2):
    dense = preprocess.dense_bytes((943, 1_682))
    csr = 100_000 * 4 + 100_000 * 4 + 944 * 4  # float32 values, int32 indices and pointers
    assert ch2["here_dense"] == plots.human_bytes(dense) == "6.1 MiB"
    assert ch2["here_csr"] == plots.human_bytes(csr) == "784.9 KiB"
    assert ch2["here_ratio"] == pytest.approx(dense / csr)


def test_timings_within_bands(ch2):
    assert ch2["timing_sample"] == 5_000  # the ci profile's sample
    assert 1 < ch2["t_seed_ms"] < 20_000
    assert 0.01 < ch2["t_fast_ms"] < 2_000
    assert 5 < ch2["speedup"] < 10_000  # the loop is always far slower
    assert ch2["seed_train_ratings"] == 855_900
    duration = re.compile(r"^\d+(\.\d+)? (seconds|minutes|hours|days)$")
    for key in ("seed_train_loop_time", "seed_train_fast_time"):
        assert duration.match(ch2[key]), ch2[key]
        assert not ch2[key].startswith("0.0 ")  # the unit suits the value
    # the estimate is the measured per-rating cost times the seed's training ratings
    assert ch2["seed_train_loop_time"] == plots.human_duration(
        ch2["t_seed_ms"] / 1e3 / 5_000 * 855_900)


def test_real_amazon_2018_repeats(ch2):
    assert ch2["amazon2018_repeats"] == "1,177"  # 5,269 records, 4,092 distinct pairs


def test_saved_matrix_is_compressed(ch2):
    size, unit = ch2["npz_size"].split()
    assert unit == "KiB" and 50 < float(size) < 784.9
