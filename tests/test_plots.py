"""recsys_ae.plots: every figure of the book, drawn once on real data (MovieLens 100K).

Each test checks the labels a reader needs (title, axis labels with units) and that the
plotted numbers equal counts computed here independently of the plotting code.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from recsys_ae import data, plots, preprocess  # noqa: E402


@pytest.fixture(scope="module")
def ml100k(shared_data):
    return data.load_dataset("ml-100k", data_dir=shared_data)


def _only_axes(fig):
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_title(), "every figure has a title"
    assert ax.get_xlabel() and ax.get_ylabel(), "both axes are labelled"
    return ax


def _bar_heights(ax):
    return np.array([p.get_height() for p in ax.patches])


def test_rating_histogram(ml100k):
    ax = _only_axes(plots.rating_histogram(ml100k))
    expected = np.bincount(ml100k["rating"].astype(int))[1:]  # 1..5 stars
    np.testing.assert_array_equal(_bar_heights(ax), expected)
    assert "stars" in ax.get_xlabel() and "number of ratings" in ax.get_ylabel()
    assert "ml-100k" in ax.get_title()
    shares = [t.get_text() for t in ax.texts]
    assert shares == [f"{n / expected.sum():.0%}" for n in expected]


def test_degree_distribution(ml100k):
    ax = _only_axes(plots.degree_distribution(ml100k))
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    series = {c.get_label(): c.get_offsets() for c in ax.collections
              if isinstance(c, PathCollection)}
    assert set(series) == {"users", "items"}
    for column, label in (("user", "users"), ("item", "items")):
        per_node = np.unique(ml100k[column].to_numpy(), return_counts=True)[1]
        degree, n_nodes = np.unique(per_node, return_counts=True)
        np.testing.assert_array_equal(series[label][:, 0], degree)
        np.testing.assert_array_equal(series[label][:, 1], n_nodes)
        assert n_nodes.sum() == ml100k[column].nunique()
    assert "log scale" in ax.get_xlabel() and "log scale" in ax.get_ylabel()


def test_ratings_over_time(ml100k):
    ax = _only_axes(plots.ratings_over_time(ml100k))
    years = pd.to_datetime(ml100k["timestamp"], unit="s").dt.year
    expected = years.value_counts().sort_index()
    np.testing.assert_array_equal(_bar_heights(ax), expected.to_numpy())
    assert _bar_heights(ax).sum() == len(ml100k)
    assert "year" in ax.get_xlabel() and "per year" in ax.get_ylabel()
    monthly = _only_axes(plots.ratings_over_time(ml100k, freq="MS"))
    assert _bar_heights(monthly).sum() == len(ml100k)
    assert len(monthly.patches) == pd.to_datetime(
        ml100k["timestamp"], unit="s").dt.to_period("M").nunique()


def test_ratings_over_time_needs_timestamps(ml100k):
    with pytest.raises(ValueError, match="timestamp"):
        plots.ratings_over_time(ml100k.drop(columns="timestamp"))
    with pytest.raises(ValueError, match="freq"):
        plots.ratings_over_time(ml100k, freq="D")


def test_filter_comparison(ml100k):
    seed_kept, seed_report = preprocess.one_pass_filter(ml100k)
    core_kept, core_report = preprocess.kcore_filter(ml100k, k=5)
    ax = _only_axes(plots.filter_comparison({"one-pass": seed_report, "5-core": core_report}))
    heights = _bar_heights(ax).reshape(2, 3)  # one row of bars per filter
    for row, kept in zip(heights, (seed_kept, core_kept)):
        expected = [
            100 * len(kept) / len(ml100k),
            100 * kept["user"].nunique() / ml100k["user"].nunique(),
            100 * kept["item"].nunique() / ml100k["item"].nunique(),
        ]
        np.testing.assert_allclose(row, expected)
    labels = [t.get_text() for t in ax.texts]
    assert f"{len(core_kept):,}" in labels and f"{len(seed_kept):,}" in labels
    assert "%" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one-pass", "5-core"]
    with pytest.raises(ValueError):
        plots.filter_comparison({})


def test_matrix_memory(ml100k):
    index = preprocess.IdIndex.fit(ml100k)
    matrix = preprocess.rating_matrix(ml100k, index)
    csr = matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    dense = 943 * 1_682 * 4
    ax = _only_axes(plots.matrix_memory({"dense": dense, "CSR": csr}))
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == sorted([dense, csr])
    assert ax.get_xscale() == "log" and "bytes" in ax.get_xlabel()


def test_human_bytes():
    assert plots.human_bytes(512) == "512 B"
    assert plots.human_bytes(1536) == "1.5 KiB"
    assert plots.human_bytes(1_206_756_373_016) == "1.1 TiB"


def test_sparsity_pattern(ml100k):
    index = preprocess.IdIndex.fit(ml100k)
    matrix = preprocess.rating_matrix(ml100k, index)
    ax = _only_axes(plots.sparsity_pattern(matrix, max_rows=100, max_cols=300))
    rows = index.user_rows(ml100k["user"])
    cols = index.item_cols(ml100k["item"])
    expected = int(((rows < 100) & (cols < 300)).sum())
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points.get_offsets()) == expected
    assert f"{expected:,}" in ax.get_title()
    assert "user" in ax.get_ylabel() and "item" in ax.get_xlabel()
    # works on any sparse format and smaller-than-corner matrices
    _only_axes(plots.sparsity_pattern(sp.coo_matrix(np.eye(3))))


def test_figures_do_not_use_pyplot_state(ml100k):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.rating_histogram(ml100k)
    assert plt.get_fignums() == before


def test_synthetic_data_is_labelled_in_titles():
    df = data.load_dataset("synthetic")
    ax = _only_axes(plots.rating_histogram(df))
    assert "SYNTHETIC" in ax.get_title()


def test_step_times():
    table = pd.DataFrame({"path": ["dense", "sparse", "dense", "sparse"],
                          "n_columns": [4_000, 1_000, 1_000, 4_000],
                          "seconds_per_step": [0.8, 0.006, 0.05, 0.005]})
    ax = _only_axes(plots.step_times(table, title="Seconds per step: SYNTHETIC"))
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "log scale" in ax.get_xlabel() and "seconds" in ax.get_ylabel()
    assert "SYNTHETIC" in ax.get_title()
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines) == ["dense", "sparse"]  # in order of first appearance
    np.testing.assert_array_equal(lines["dense"].get_xdata(), [1_000, 4_000])  # sorted by width
    np.testing.assert_array_equal(lines["dense"].get_ydata(), [0.05, 0.8])
    np.testing.assert_array_equal(lines["sparse"].get_ydata(), [0.006, 0.005])
    with pytest.raises(ValueError, match="columns"):
        plots.step_times(table.drop(columns="path"))
    with pytest.raises(ValueError, match="> 0"):
        plots.step_times(table.assign(seconds_per_step=0.0))
