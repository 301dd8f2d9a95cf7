"""The book's results-table helpers and recorded numbers (chapter 5, evaluation), without
recomputing the chapter.

Chapter 5 calls :func:`recsys_ae.results.results_table` exactly as the command
``python -m recsys_ae results --quick`` does. Its numbers are asserted once, from the outputs
nbval collected when it ran the notebook (``notebooks/test_ch05_values.py``), so the chapter's
work runs once in CI. What stays here are pure-library checks: the table's argument checks,
the recorded full run (date, machine, command), the published numbers and the figures.
"""

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from recsys_ae import plots, results
from recsys_ae.chapters import tables

# --------------------------------------------------------------------------- fast checks


def test_results_table_rejects_unknown_sections():
    with pytest.raises(ValueError, match="unknown sections"):
        results.results_table(quick=True, sections=("rating", "nonsense"))


def test_full_run_record_is_inside_the_single_seed_bands():
    from test_results import I_AUTOREC_BAND, U_AUTOREC_BAND

    u1 = tables.FULL_RUN_RMSE["u1"]
    assert I_AUTOREC_BAND[0] <= u1["I-AutoRec"][0] <= I_AUTOREC_BAND[1]
    assert U_AUTOREC_BAND[0] <= u1["U-AutoRec"][0] <= U_AUTOREC_BAND[1]
    # the order the chapters state: I-AutoRec < MF < U-AutoRec < bias < global mean on u1
    order = sorted(u1, key=lambda name: u1[name][0])
    assert order == ["I-AutoRec", "biased MF", "U-AutoRec", "user + item bias", "global mean"]
    folds = tables.FULL_RUN_RMSE["u1-u5"]
    assert all(std > 0 for _, std in folds.values())


def test_recorded_numbers_carry_date_machine_and_command():
    every = tables.recorded()
    assert {"full_run_rmse", "ci_epochs"} <= set(every)
    for name, entry in every.items():
        assert set(tables.RECORD_FIELDS) <= set(entry), name
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["date"]), name
        assert entry["machine"] and entry["command"], name
    assert "python -m recsys_ae results" in tables.recorded("full_run_rmse")["command"]
    # FULL_RUN_RMSE is the file's numbers as (mean, std), a missing std as NaN
    values = tables.recorded("full_run_rmse")["values"]
    assert tables.FULL_RUN_RMSE["u1"]["I-AutoRec"] == (0.8997, 0.0004)
    assert np.isnan(tables.FULL_RUN_RMSE["u1"]["global mean"][1])
    assert values["u1"]["global mean"] == [1.1537, None]
    assert {split: set(models) for split, models in values.items()} == \
        {split: set(models) for split, models in tables.FULL_RUN_RMSE.items()}
    # a copy each time, and an unknown entry names the known ones
    tables.recorded("full_run_rmse")["values"]["u1"].clear()
    assert tables.recorded("full_run_rmse")["values"]["u1"]
    with pytest.raises(KeyError, match="full_run_rmse"):
        tables.recorded("nonsense")
    # the ci profile's epochs rest on the recorded measurements
    ci = tables.recorded("ci_epochs")["values"]
    assert ci["i_autorec_paper_rmse_by_epochs"]["25"] < ci["bias_baseline_rmse"]
    assert ci["bias_baseline_rmse"] == tables.FULL_RUN_RMSE["u1"]["user + item bias"][0]


def test_published_numbers_each_carry_dataset_and_split():
    pub = tables.published_results()
    assert not pub[["source", "dataset", "split", "model"]].isna().any().any()
    assert pub["rmse"].between(0.8, 1.0).all()
    by = pub.set_index("model")
    assert by.loc["I-AutoRec", "split"] == "random 90/10"
    assert by.loc["I-AutoRec", "dataset"] == "ML-1M"
    assert (pub.loc[pub["dataset"] == "ML-100K", "split"] != "").all()


def test_topn_comparison_figure():
    summary = pd.DataFrame({"recall@10": [0.25, 0.45], "ndcg@10": [0.26, 0.47],
                            "coverage@10": [0.03, 0.15], "pop_share@10": [0.94, 0.32]},
                           index=["popularity", "EASE"])
    fig = plots.topn_comparison(summary, k=10, title="top-N")
    assert isinstance(fig, Figure) and fig.get_suptitle() == "top-N"
    left, right = fig.axes
    assert "top 10" in left.get_xlabel() and "model" in left.get_ylabel()
    assert "1% most popular" in right.get_xlabel()
    widths = sorted(p.get_width() for p in right.patches)
    assert widths == pytest.approx([0.32, 0.94])
    assert [t.get_text().split("\n")[0] for t in left.get_yticklabels()] == ["popularity", "EASE"]
    with pytest.raises(ValueError):
        plots.topn_comparison(summary.drop(columns="ndcg@10"))


def test_output_layer_growth_figure():
    cost = results.output_layer_cost([1_000, 10_000, 100_000])
    fig = plots.output_layer_growth(cost, marks={"Beauty items": 133_211}, title="cost")
    ax = fig.axes[0]
    assert ax.get_title() == "cost" and "bytes" in ax.get_ylabel() and "columns" in ax.get_xlabel()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    lines = [line for line in ax.get_lines() if line.get_label().startswith(("weights", "one"))]
    assert len(lines) == 3
    np.testing.assert_array_equal(lines[1].get_ydata(), cost["adam_bytes"])
    with pytest.raises(ValueError):
        plots.output_layer_growth(cost.iloc[:0])
