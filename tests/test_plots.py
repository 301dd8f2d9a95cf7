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
    # MovieLens 100K spans 214 days: counted per month by default, not in two yearly bars
    ax = _only_axes(plots.ratings_over_time(ml100k))
    months = pd.to_datetime(ml100k["timestamp"], unit="s").dt.to_period("M")
    expected = months.value_counts().sort_index()
    assert len(expected) == 8  # September 1997 to April 1998
    np.testing.assert_array_equal(_bar_heights(ax), expected.to_numpy())
    assert "month" in ax.get_xlabel() and "per month" in ax.get_ylabel()
    yearly = _only_axes(plots.ratings_over_time(ml100k, freq="YS"))
    years = pd.to_datetime(ml100k["timestamp"], unit="s").dt.year.value_counts().sort_index()
    np.testing.assert_array_equal(_bar_heights(yearly), years.to_numpy())
    assert "year" in yearly.get_xlabel() and "per year" in yearly.get_ylabel()
    weekly = _only_axes(plots.ratings_over_time(ml100k, freq="W"))
    assert _bar_heights(weekly).sum() == len(ml100k)
    assert "per week" in weekly.get_ylabel()


@pytest.mark.parametrize(("days", "expected"), [
    (10, "W"), (16 * 7, "W"), (16 * 7 + 1, "MS"), (214, "MS"), (3 * 365, "MS"),
    (3 * 365 + 1, "YS"), (20 * 365, "YS"),
])
def test_time_bin_from_span(days, expected):
    first = pd.Timestamp("2000-01-01")
    assert plots.time_bin(first, first + pd.Timedelta(days=days)) == expected


def test_ratings_over_time_reads_milliseconds(shared_data):
    # Amazon 2023 files store unix milliseconds; the real All_Beauty 5-core spans 2018-2023
    beauty = data.load_ratings(shared_data / "amazon-all-beauty-2023-5core" / "All_Beauty.csv")
    assert beauty["timestamp"].min() > 1e12
    ax = _only_axes(plots.ratings_over_time(beauty))
    years = pd.to_datetime(beauty["timestamp"], unit="ms").dt.year.value_counts().sort_index()
    np.testing.assert_array_equal(_bar_heights(ax), years.to_numpy())
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(y) for y in years.index]


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


@pytest.mark.parametrize(("seconds", "text"), [
    (0.0421, "0.042 seconds"), (0.42, "0.42 seconds"), (13.04, "13.0 seconds"),
    (95, "1.6 minutes"), (3_000, "50.0 minutes"), (7_200, "2.0 hours"),
    (200_000, "2.3 days"),
])
def test_human_duration_picks_the_unit_from_the_value(seconds, text):
    assert plots.human_duration(seconds) == text


def test_human_duration_rejects_nonsense():
    with pytest.raises(ValueError):
        plots.human_duration(-1)
    with pytest.raises(ValueError):
        plots.human_duration(float("nan"))


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


def _says_synthetic(ax) -> bool:
    return ("SYNTHETIC" in ax.get_title()
            and plots.SYNTHETIC_STAMP in [t.get_text() for t in ax.texts])


def test_synthetic_data_is_labelled_on_every_data_figure():
    df = data.load_dataset("synthetic", size="small")
    assert df.attrs["synthetic"]
    for figure in (plots.rating_histogram, plots.degree_distribution, plots.ratings_over_time):
        assert _says_synthetic(_only_axes(figure(df))), figure.__name__
    _, report = preprocess.one_pass_filter(df)
    assert _says_synthetic(_only_axes(plots.filter_comparison({"one-pass": report},
                                                              synthetic=True)))
    assert _says_synthetic(_only_axes(plots.matrix_memory({"CSR": 1_000}, synthetic=True)))
    matrix = preprocess.rating_matrix(df, preprocess.IdIndex.fit(df))
    assert _says_synthetic(_only_axes(plots.sparsity_pattern(matrix, synthetic=True)))


def test_real_data_is_not_stamped(ml100k):
    for fig in (plots.rating_histogram(ml100k), plots.degree_distribution(ml100k),
                plots.matrix_memory({"CSR": 1_000}),
                plots.filter_comparison({"one-pass": preprocess.one_pass_filter(ml100k)[1]})):
        ax = _only_axes(fig)
        assert "SYNTHETIC" not in ax.get_title()
        assert plots.SYNTHETIC_STAMP not in [t.get_text() for t in ax.texts]


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
    assert plots.SYNTHETIC_STAMP not in [t.get_text() for t in ax.texts]
    stamped = _only_axes(plots.step_times(table, synthetic=True))
    assert plots.SYNTHETIC_STAMP in [t.get_text() for t in stamped.texts]
    with pytest.raises(ValueError, match="columns"):
        plots.step_times(table.drop(columns="path"))
    with pytest.raises(ValueError, match="> 0"):
        plots.step_times(table.assign(seconds_per_step=0.0))
