"""Chapter 3 (``03_autoencoder``): the numbers its prose quotes, checked where nbval computed them.

The glued values come from the run nbval made of the notebook in this session (the ``glued``
fixture of ``notebooks/conftest.py``), so the chapter's training runs once in CI. Counts and the
masked-loss example are exact; trained networks are held to a band around the values measured
when the chapter was written (``recsys_ae/chapters/recorded.json``, entry ``lesson_epochs``), as
microsoft/recommenders does for its notebooks. The comparisons the prose states in words
(dropout helps, a curve turns upward, I-AutoRec ahead, centring) are checked as such: if one
flips, the glued word changes with it, and this test says the page's story changed.
"""

import pytest

#: band for trained networks (stars): seeded runs vary little across machines, while a package
#: regression (a broken mask, a wrong split) moves them by much more
NET = 0.03


@pytest.fixture(scope="module")
def ch3(glued):
    return glued("03_autoencoder")  # values as Python literals (notebooks/conftest.py)


def test_counts_and_examples_are_exact(ch3):
    assert (ch3["n_users"], ch3["n_items"]) == (943, 1650)
    assert (ch3["n_fit"], ch3["n_val"]) == (72_000, 8_000)
    assert ch3["observed_pct"] == pytest.approx(100 * 80_000 / (943 * 1650))
    assert ch3["masked_example"] == 0.5
    assert ch3["n_params"] == 2_312_350
    assert ch3["backend"] == "dense"
    assert ch3["epochs"] == 60
    assert 0 < ch3["u_seconds_per_epoch"] < 10  # the chapter's reason to train on ML-100K
    # the seed's matrix (quoted) is one row and one column larger than its users and items
    assert ch3["seed_rows"] - ch3["beauty_users"] == 1
    assert ch3["seed_cols"] - ch3["beauty_items"] == 1
    assert (ch3["u_hidden"], ch3["i_hidden"]) == (700, 500)
    assert ch3["seed_params"] == 2 * 133_212 * 700 + 700 + 133_212
    assert ch3["u_rows"] <= 943 and ch3["i_rows"] <= 1650  # rows of the fit part


def test_learning_curves_and_dropout(ch3):
    # dropout 0.7 (measured 2026-12-05: best 0.9636 at epoch 49)
    assert ch3["u_best"] == pytest.approx(0.964, abs=NET)
    assert 30 <= ch3["u_best_epoch"] <= 60
    # no dropout: lowest at epoch 16 (0.9938), then rises to 1.0111 after 60 epochs
    assert ch3["nd_best"] == pytest.approx(0.994, abs=NET)
    assert ch3["nd_best_epoch"] <= 30
    assert ch3["nd_rise"] > 0.005 and ch3["nd_shape"] == "rose"
    assert ch3["nd_train"] < ch3["nd_best"] - 0.3  # training keeps falling: overfitting
    assert ch3["dropout_helps"] == "helps" and ch3["dropout_gain"] > 0.01
    assert ch3["u_first_train"] > ch3["u_first_val"] and ch3["u_cross"] < ch3["epochs"]


def test_i_autorec_against_u_autorec_and_centring(ch3):
    assert ch3["i_best"] == pytest.approx(0.902, abs=NET)
    assert ch3["up_best"] == pytest.approx(0.946, abs=NET)
    assert ch3["i_vs_u"] == "lower" and ch3["i_best"] < ch3["up_best"] - 0.02
    # rows: users hold more ratings than items on ML-100K (the prose says so from these numbers)
    assert ch3["denser_rows"] == "user" and ch3["u_row_mean"] > ch3["i_row_mean"]
    assert ch3["i_rows"] > ch3["u_rows"] and ch3["i_weights"] < ch3["u_weights"]
    assert ch3["fit_pct"] == pytest.approx(100 * 72_000 / (ch3["u_rows"] * ch3["i_rows"]))
    assert ch3["u_row_mean"] / ch3["i_rows"] == pytest.approx(ch3["fit_pct"] / 100)
    # the clause the page prints after U-AutoRec's best epoch
    assert ch3["up_note"].startswith("still falling") == (ch3["up_best_epoch"] == ch3["epochs"])
    ratio = (ch3["i_rows"] / ch3["u_rows"]) ** 2
    assert ch3["rows_per_weight"] == pytest.approx(ratio, rel=0.05)
    # centring: faster start, worse at the best epoch (measured 0.9223 against 0.9021)
    assert ch3["c_best"] == pytest.approx(0.922, abs=NET)
    assert ch3["centred_first"] < ch3["raw_first"]
    assert ch3["centring_helps"] == "does not help" and ch3["centring_better"] == "raw"


def test_quoted_and_derived_numbers(ch3):
    assert ch3["lambda_equiv"] == pytest.approx(2 * ch3["paper_l2"] * 72_000)
    assert 100 < ch3["lambda_equiv"] < 1000  # "inside the range the authors searched"
    assert ch3["tuned_i_rmse"] == 0.8997 and ch3["tuned_u_vs_bias"] == "below"
    assert ch3["full_run_date"] == "2026-11-29"
