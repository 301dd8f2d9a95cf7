"""Chapter 5's glued numbers, read from the run nbval just made (``glued`` in conftest.py).

The chapter runs once in CI (nbval, MovieLens 100K and the ``ci`` profile, which conftest.py
pins); these tests assert what it glued into its prose, without recomputing anything
(LensKit / microsoft-recommenders style bands). Deterministic numbers (counts, the baselines,
the recorded full run) are asserted exactly or to 1e-4; trained networks to a band around the
value measured when the chapter was written (2026-12-05, the project's 2-core VM), wide enough
for machine-to-machine differences and narrow enough that a package regression (a broken mask,
a wrong split, a fallback that drifts) falls outside it.
"""

import pytest

from recsys_ae.chapters import tables

#: tolerance for deterministic numbers (baselines, counts of a fixed split)
EXACT = 1e-4
#: band for networks trained for a few epochs from a fixed seed
NET = 0.05


@pytest.fixture(scope="module")
def ch5(glued):
    return glued("05_evaluation")


def test_four_models_on_u1(ch5):
    assert ch5["profile"] == "ci"
    assert ch5["gm_rmse"] == pytest.approx(1.1537, abs=EXACT)
    assert ch5["bias_rmse"] == pytest.approx(0.9599, abs=EXACT)
    assert ch5["bias_mae"] == pytest.approx(0.7616, abs=EXACT)
    # the ci profile's epochs (25 and 3): I-AutoRec passes the biases, U-AutoRec does not
    assert (ch5["i_epochs"], ch5["u_epochs"]) == (25, 3)
    assert ch5["i_rmse"] == pytest.approx(0.927, abs=NET)
    assert ch5["u_rmse"] == pytest.approx(1.119, abs=NET)
    assert ch5["best_ae"] == "I-AutoRec (paper)" and ch5["ae_vs_bias"] == "beats"
    assert (ch5["u_preset_epochs"], ch5["i_preset_epochs"]) == (20, 60)


def test_results_table_quick_and_the_recorded_full_run(ch5):
    assert ch5["rt_gm_rmse"] == pytest.approx(1.1537, abs=EXACT)
    assert ch5["rt_bias_rmse"] == pytest.approx(0.9599, abs=EXACT)
    assert ch5["rt_mf_rmse"] == pytest.approx(0.9256, abs=0.003)  # MF: no epochs, no mode
    assert ch5["rt_i_rmse"] == pytest.approx(0.919, abs=0.02)
    assert ch5["rt_u_rmse"] == pytest.approx(1.021, abs=NET)
    # the recorded run is quoted, not recomputed: the page shows the file's numbers and date
    full = tables.recorded("full_run_rmse")
    assert ch5["full_date"] == full["date"]
    assert ch5["full_i_rmse"] == full["values"]["u1"]["I-AutoRec"][0]
    assert ch5["folds_bias_rmse"] == full["values"]["u1-u5"]["user + item bias"][0]
    # three I-AutoRec numbers for u1, one per run: paper/ci, tuned/quick, tuned/full
    assert ch5["full_i_rmse"] < ch5["rt_i_rmse"] + 0.03
    assert ch5["tuned_epochs"] == 100


def test_activity_table_has_no_empty_or_tiny_bucket(ch5):
    # u1: every user keeps >= 4 training ratings; the one user with 3-5 is merged into 6-20
    assert ch5["min_train_per_user"] >= 3 and ch5["min_ratings_per_user_all"] == 20
    assert (ch5["n_buckets"], ch5["top_bucket"]) == (2, ">20")
    assert ch5["share_top_bucket"] == pytest.approx(100 * 18_627 / 20_000)


def test_cold_start_on_the_stand_in(ch5):
    assert ch5["n_cold_users"] == 0  # u1
    assert ch5["s_cold_users_pct"] == pytest.approx(100 * 114 / 1_812)
    assert ch5["s_cold_ratings_pct"] == pytest.approx(100 * 221 / 2_371)
    # 221 cold-user test ratings, 10 of them with a cold item too: 211 compared
    assert (ch5["cs_cold_user_ratings"], ch5["cs_both_cold"], ch5["cs_pairs"]) == (221, 10, 211)
    assert ch5["cs_gm"] == pytest.approx(1.2906, abs=EXACT)
    # AutoRec's fallback is the bias baseline's answer, one value per item
    assert ch5["cs_fallback"] == pytest.approx(1.1934, abs=EXACT)
    assert ch5["cs_bias"] == pytest.approx(ch5["cs_fallback"], abs=1e-6)
    assert ch5["cs_fb_vs_bias"] < 1e-6 and ch5["cs_distinct"] > 100
    assert ch5["cs_empty"] == pytest.approx(1.205, abs=0.1)
    assert ch5["s_gm_rmse"] == pytest.approx(1.3173, abs=EXACT)
    assert ch5["s_bias_rmse"] == pytest.approx(1.1928, abs=EXACT)
    assert ch5["s_backend"] == "sparse"


def test_why_i_autorec_loses_to_the_global_mean(ch5):
    # baselines on real ml-latest-small (random 80/20, seed 0): deterministic
    assert ch5["mls_gm_rmse"] == pytest.approx(1.0414, abs=EXACT)
    assert ch5["mls_bias_rmse"] == pytest.approx(0.8690, abs=EXACT)
    assert ch5["syn_gm_rmse"] == pytest.approx(1.3173, abs=EXACT)
    # I-AutoRec (paper, 25 epochs): near the global mean on ml-latest-small, far behind it on
    # the stand-in
    assert ch5["mls_paper_rmse"] == pytest.approx(0.998, abs=NET)
    assert ch5["syn_paper_rmse"] == pytest.approx(1.512, abs=0.1)
    assert ch5["syn_paper_vs_gm"] == "worse"
    # defects ruled out: inputs on the rating scale, hidden units not saturated
    assert (float(ch5["mls_in_min"]), float(ch5["mls_in_max"])) == (0.5, 5.0)
    assert ch5["max_sat_pct"] < 5
    assert ch5["mls_n_cold"] == 811 and ch5["syn_n_cold"] == 303
    # the evidence: overfitting of items with one training rating
    assert ch5["mls_item1_ae"] > ch5["mls_item1_gm"] > ch5["mls_item1_bias"]
    assert ch5["mls_train_rmse"] < ch5["mls_paper_rmse"] - 0.2
    assert ch5["syn_lambda"] == pytest.approx(2 * 1e-3 * ch5["syn_n_train"])


def test_what_the_fixes_buy(ch5):
    assert 0 < ch5["mls_fb_gain"] < 0.05 and 0 < ch5["syn_fb_gain"] < 0.05
    assert ch5["mls_tuned_rmse"] == pytest.approx(0.845, abs=NET)
    assert ch5["mls_tuned_rmse"] < ch5["mls_bias_rmse"]
    # the scale-handling start of the automatic search, residual input, on the stand-in
    assert ch5["syn_res_rmse"] == pytest.approx(1.211, abs=0.08)
    assert ch5["syn_res_rmse"] < ch5["syn_gm_rmse"]


def test_real_amazon_5core(ch5):
    assert ch5["f_n"] == 2_535 and ch5["f_min_user"] == 5
    assert ch5["f_old_min_user"] == 1


def test_permutation_topn_and_cost(ch5):
    assert ch5["perm_diff"] < 1e-6 and ch5["perm_w_diff"] < 1e-6
    assert ch5["perm_rmse_a"] == pytest.approx(ch5["perm_rmse_b"], abs=1e-9)
    assert ch5["perm_rmse_a"] == pytest.approx(1.108, abs=NET)
    assert ch5["noisy_diff"] > 0.05
    assert abs(ch5["noisy_rmse_a"] - ch5["noisy_rmse_b"]) < 0.02
    assert ch5["tn_pop_ndcg"] == pytest.approx(0.2606, abs=EXACT)
    assert ch5["tn_ease_ndcg"] == pytest.approx(0.4675, abs=0.005)
    assert ch5["cost_u_items"] == 133_211
    assert ch5["cost_u_decoder"] == 500 * 133_211 + 133_211 == 66_738_711


def test_tuning_section_quotes_the_recorded_search(ch5):
    """The section on tuning an unseen dataset shows recorded.json's FilmTrust search as
    recorded (not recomputed), and its verdict words agree with its numbers."""
    rec = tables.recorded("auto_search_filmtrust")
    v = rec["values"]
    assert ch5["as_date"] == rec["date"] and ch5["as_command"] == rec["command"]
    assert ch5["as_n_runs"] == len(v["table"]) and ch5["as_n_fit"] == v["n_fit"]
    assert ch5["as_auto"] == v["test_rmse"]["I-AutoRec (auto)"]
    assert ch5["as_bias"] == v["test_rmse"]["user + item bias"]
    # the search read the training part only: fit + validation = training ratings
    assert v["n_fit"] + v["n_validation"] == v["n_train"]
    # exactly one configuration chosen, the one with the lowest validation RMSE
    chosen = [row for row in v["table"] if row["chosen"]]
    assert len(chosen) == 1
    assert chosen[0]["val_rmse"] == min(row["val_rmse"] for row in v["table"])
    assert chosen[0]["val_rmse"] == pytest.approx(ch5["as_val"])
    beats_both = ch5["as_auto"] < min(ch5["as_bias"], ch5["as_mf"])
    assert (ch5["as_verdict"] == "beats both the bias baseline and matrix factorization") \
        == beats_both
    # lambda of the paper preset's l2 at 5,000 and at Beauty's 2,023,070 ratings
    assert ch5["lam_small"] == pytest.approx(10.0)
    assert ch5["lam_beauty"] == pytest.approx(2 * 1e-3 * 2_023_070)
