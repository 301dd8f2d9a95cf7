"""The model and evaluation figures of recsys_ae.plots (chapters 3 and 4), on real numbers."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from recsys_ae import data, plots
from recsys_ae.chapters import studies
from recsys_ae.baselines import BiasBaseline, GlobalMean


@pytest.fixture(scope="module")
def u1(shared_data):
    return data.load_canonical_split("ml-100k", fold="1", data_dir=shared_data,
                                     download=False)


@pytest.fixture(scope="module")
def baselines(u1):
    train, _ = u1
    return {"global mean": GlobalMean().fit(train), "bias": BiasBaseline().fit(train)}


def _labels(ax):
    return ax.get_xlabel(), ax.get_ylabel(), ax.get_title()


def test_training_curves_plots_training_and_validation_per_model():
    curves = pd.DataFrame({"train_rmse": [1.2, 1.0, 0.9], "val_rmse": [1.1, 1.0, 0.95]},
                          index=pd.RangeIndex(1, 4, name="epoch"))
    only_train = curves[["train_rmse"]]
    fig = plots.training_curves({"A": curves, "B": only_train}, title="curves")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    x, y, title = _labels(ax)
    assert "epoch" in x and "stars" in y and title == "curves"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["A: training", "A: validation", "B: training"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), curves["val_rmse"])
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    with pytest.raises(ValueError):
        plots.training_curves({})
    with pytest.raises(ValueError, match="train_rmse"):
        plots.training_curves({"bad": curves[["val_rmse"]]})


def test_model_comparison_bars_show_each_models_rmse_and_mae(u1, baselines):
    _, test = u1
    table = studies.model_comparison(test, baselines)
    fig = plots.model_comparison_bars(table)
    ax = fig.axes[0]
    x, y, title = _labels(ax)
    assert "stars" in x and y == "model" and title
    widths = sorted(round(p.get_width(), 9) for p in ax.patches)
    expected = sorted(round(v, 9) for v in table[["rmse", "mae"]].to_numpy().ravel())
    assert widths == expected
    assert [t.get_text() for t in ax.get_yticklabels()] == list(table.index)


def test_activity_rmse_has_one_bar_per_model_and_bucket(u1, baselines):
    train, test = u1
    table = studies.activity_comparison(train, test, baselines)
    fig = plots.activity_rmse(table, title="by activity")
    ax = fig.axes[0]
    x, y, title = _labels(ax)
    assert "training ratings" in x and "stars" in y and title == "by activity"
    assert len(ax.patches) == len(table) * 2
    heights = np.array([p.get_height() for p in ax.patches[len(table):]])
    np.testing.assert_allclose(heights, np.nan_to_num(table["bias"].to_numpy()))
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[-1] == f">20\n({table.loc['>20', 'n_ratings']:,} ratings)"
    # the legend sits in the band above the tallest bar, covering none of them
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert all(legend.y0 >= p.get_window_extent().y1 for p in ax.patches)
    assert "SYNTHETIC" not in " ".join(t.get_text() for t in ax.texts)
    stamped = plots.activity_rmse(table, synthetic=True).axes[0]
    assert plots.SYNTHETIC_STAMP in [t.get_text() for t in stamped.texts]


def test_permutation_agreement_scatter():
    a = np.array([3.0, 4.0, 4.5])
    fig = plots.permutation_agreement(a, a + 1e-12)
    ax = fig.axes[0]
    x, y, title = _labels(ax)
    assert "original" in x and "permuted" in y and "1.0e-12" in title
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 0], a)
    with pytest.raises(ValueError, match="shapes"):
        plots.permutation_agreement(a, a[:2])
