"""The chapter-6 figure (plots.topn_by_activity) on a real protocol run (MovieLens 100K,
EASE and popularity, one split)."""

import numpy as np
import pytest

from recsys_ae import plots, protocol
from recsys_ae.topn import EASE, Popularity


@pytest.fixture(scope="module")
def table(shared_data):
    from recsys_ae.data import load_dataset

    ratings = load_dataset("ml-100k", data_dir=shared_data)
    models = {"EASE": lambda s: EASE(lam=200.0), "popularity": lambda s: Popularity()}
    _, per_user = protocol.run_protocol(ratings, models, seeds=(0,), n_heldout=100,
                                        dataset="ml-100k")
    return protocol.activity_table(per_user), per_user


def test_topn_by_activity_plots_the_bucket_means(table):
    act, per_user = table
    fig = plots.topn_by_activity(act)
    (ax,) = fig.axes
    assert ax.get_title() == "ml-100k" and "fold-in clicks" in ax.get_xlabel()
    assert "NDCG@100" in ax.get_ylabel() and fig._suptitle.get_text()
    lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
    assert set(lines) == {"EASE", "popularity"}
    ease = per_user[per_user["model"] == "EASE"]
    first = ease[ease["n_fold_in"] <= 10]["ndcg@100"].mean()
    assert lines["EASE"][0] == pytest.approx(first)
    assert np.isfinite(lines["popularity"]).all()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0].startswith("4-10") and "users" in labels[0]


def test_topn_by_activity_refuses_an_empty_table():
    import pandas as pd

    with pytest.raises(ValueError, match="columns"):
        plots.topn_by_activity(pd.DataFrame())
