"""recsys_ae.chapters.studies: the permutation experiment, cold-start counts, the book helpers."""

import numpy as np
import pandas as pd
import pytest

from recsys_ae import data, experiment
from recsys_ae.autorec import AutoRec, AutoRecConfig
from recsys_ae.baselines import BiasBaseline, GlobalMean
from recsys_ae.chapters import studies
from recsys_ae.chapters.settings import book_settings
from recsys_ae.metrics import rmse

SMALL = AutoRecConfig(hidden_units=24, activation="tanh", dropout=0.0, l2=1e-4,
                      optimizer="adam", learning_rate=3e-3, batch_size=32, epochs=3,
                      centre=True, dtype="float64")


@pytest.fixture(scope="module")
def ml100k_subset(shared_data):
    """Users 1-150 of MovieLens 100K's canonical u1 split (real ratings, small)."""
    train, test = data.load_canonical_split("ml-100k", fold="1", data_dir=shared_data,
                                            download=False)
    keep = lambda df: df[df["user"].astype(int) <= 150].reset_index(drop=True)  # noqa: E731
    return keep(train), keep(test)


@pytest.fixture(scope="module")
def synthetic_split():
    """The one-pass filter and random 80/20 split of the 20,000-rating stand-in."""
    return experiment.prepare("synthetic", seed=0, size="small").split


# --------------------------------------------------------------------------- permutation


def test_permute_initial_weights_makes_the_network_equivariant():
    rng = np.random.default_rng(0)
    n, h = 7, 3
    weights = [rng.normal(size=(n, h)), rng.normal(size=h), rng.normal(size=(h, n)),
               rng.normal(size=n)]
    perm = rng.permutation(n)
    x = rng.normal(size=(5, n))

    def net(x, w):
        return np.tanh(x @ w[0] + w[1]) @ w[2] + w[3]

    permuted = studies.permute_initial_weights(weights, perm)
    np.testing.assert_allclose(net(x[:, perm], permuted), net(x, weights)[:, perm], atol=1e-12)
    assert np.array_equal(weights[0], weights[0].copy())  # inputs untouched
    with pytest.raises(ValueError, match="4 weight arrays"):
        studies.permute_initial_weights(weights[:3], perm)
    with pytest.raises(ValueError, match="do not match"):
        studies.permute_initial_weights(weights, perm[:-1])


def test_permutation_experiment_matches_to_float_tolerance(ml100k_subset):
    train, test = ml100k_subset
    result = studies.permutation_experiment(train, test, config=SMALL, seed=3, perm_seed=7)
    n_items = train["item"].nunique()
    assert len(result.perm) == n_items
    assert not np.array_equal(result.perm, np.arange(n_items))  # a real shuffle
    assert result.pred_original.shape == (len(test),)
    assert np.std(result.pred_original) > 0.05  # not a constant predictor
    assert result.max_abs_diff < 1e-6
    assert result.weights_max_abs_diff < 1e-6
    assert result.rmse_original == pytest.approx(result.rmse_permuted, abs=1e-9)
    truth = test["rating"].to_numpy()
    assert result.rmse_original == pytest.approx(rmse(truth, result.pred_original))
    assert 0.8 < result.rmse_original < 1.4
    assert result.summary()["max_abs_diff"] == result.max_abs_diff


def test_permutation_experiment_refuses_dropout_unless_asked(ml100k_subset):
    train, test = ml100k_subset
    noisy = AutoRecConfig.preset("notebook", hidden_units=16, epochs=2, batch_size=32,
                                 dtype="float64")
    with pytest.raises(ValueError, match="per column"):
        studies.permutation_experiment(train, test, config=noisy)
    result = studies.permutation_experiment(train, test, config=noisy, allow_dropout=True)
    # different dropout masks per item: predictions differ, accuracy stays comparable
    assert result.max_abs_diff > 1e-3
    assert abs(result.rmse_original - result.rmse_permuted) < 0.1


# --------------------------------------------------------------------------- cold start


def _pandas_cold_counts(train, test):
    """An independent count with merges and indicators."""
    users = pd.DataFrame({"user": train["user"].unique(), "seen_user": True})
    items = pd.DataFrame({"item": train["item"].unique(), "seen_item": True})
    t = test[["user", "item"]].merge(users, on="user", how="left").merge(items, on="item",
                                                                         how="left")
    cold_u = t["seen_user"].isna()
    cold_i = t["seen_item"].isna()
    return {
        "n_test_ratings": len(t),
        "n_test_users": t["user"].nunique(),
        "n_test_items": t["item"].nunique(),
        "n_cold_users": t.loc[cold_u, "user"].nunique(),
        "n_cold_user_ratings": int(cold_u.sum()),
        "n_cold_items": t.loc[cold_i, "item"].nunique(),
        "n_cold_item_ratings": int(cold_i.sum()),
        "n_cold_ratings": int((cold_u | cold_i).sum()),
    }


def test_cold_start_counts_equal_an_independent_pandas_count(synthetic_split):
    train, test = synthetic_split.train, synthetic_split.test
    counts = studies.cold_start_counts(train, test)
    expected = _pandas_cold_counts(train, test)
    got = {k: v for k, v in counts.as_dict().items() if not k.startswith("share")}
    assert got == expected
    assert counts.n_cold_user_ratings > 0  # the seed's split of Beauty-shaped data has them
    assert counts.share_cold_user_ratings == counts.n_cold_user_ratings / len(test)
    # the split's own summary agrees
    summary = synthetic_split.summary()
    assert summary["test_cold_users"] == counts.n_cold_users
    assert summary["test_cold_ratings"] == counts.n_cold_ratings


def test_cold_start_counts_on_canonical_u1(shared_data):
    train, test = data.load_canonical_split("ml-100k", fold="1", data_dir=shared_data,
                                            download=False)
    counts = studies.cold_start_counts(train, test)
    assert counts.n_cold_users == 0  # every u1.test user is in u1.base
    assert {k: getattr(counts, k) for k in _pandas_cold_counts(train, test)} == \
        _pandas_cold_counts(train, test)
    with pytest.raises(ValueError, match="empty"):
        studies.cold_start_counts(train, test.iloc[:0])


def test_cold_start_study_on_the_synthetic_split(synthetic_split):
    train, test = synthetic_split.train, synthetic_split.test
    cfg = AutoRecConfig.preset("notebook", hidden_units=16, epochs=1)
    model = AutoRec("user", cfg, seed=0, verbose=0).fit(train)
    bias = BiasBaseline().fit(train)
    study = studies.cold_start_study(train, test, model, baseline=bias)
    counts = study["counts"]
    known_item = test["item"].isin(set(train["item"]))
    cold_user = ~test["user"].isin(set(train["user"]))
    pairs = test[cold_user & known_item]
    assert study["n_pairs"] == len(pairs)
    assert study["global_mean"] == pytest.approx(train["rating"].mean())
    assert set(study["rmse"]) == {"global_mean", "fallback", "empty_row", "baseline"}
    gm = GlobalMean().fit(train)
    assert study["rmse"]["global_mean"] == pytest.approx(
        rmse(pairs["rating"], gm.predict(pairs["user"].to_numpy(), pairs["item"].to_numpy())))
    # AutoRec's fallback for a cold user is mu + b_i: the bias baseline's answer, one value
    # per item (not one number for all), and better than the global mean on these pairs
    assert study["n_distinct_fallback"] > 1
    assert study["fallback_vs_baseline"] < 1e-6
    assert study["rmse"]["fallback"] == pytest.approx(study["rmse"]["baseline"], abs=1e-6)
    assert study["rmse"]["fallback"] < study["rmse"]["global_mean"]
    assert len(study["empty_row"]) == train["item"].nunique()
    lo, hi = model.rating_range_
    assert study["empty_row"].between(lo, hi).all()
    assert counts.n_cold_user_ratings >= study["n_pairs"]
    with pytest.raises(ValueError, match="U-AutoRec"):
        studies.cold_start_study(train, test, AutoRec("item", cfg))


def test_autorec_diagnosis_and_fallback_comparison(synthetic_split):
    train, test = synthetic_split.train, synthetic_split.test
    cfg = AutoRecConfig.preset("paper", hidden_units=16, epochs=2)
    model = AutoRec("item", cfg, seed=0, verbose=0).fit(train)
    d = studies.autorec_diagnosis(model, train, test, sample_rows=200)
    assert (d["input_min"], d["input_max"]) == (1.0, 5.0)  # raw ratings, not centred
    assert d["activation"] == "sigmoid" and 0 <= d["saturated_share"] <= 1
    assert d["n_test"] == len(test)
    users, items = test["user"].to_numpy(), test["item"].to_numpy()
    assert d["n_cold"] == model.cold_pairs(users, items).sum() > 0
    assert d["rmse"] == pytest.approx(rmse(test["rating"], model.predict(users, items)))
    assert 0 < d["cold_error_share"] < 1
    assert d["paper_lambda"] == pytest.approx(2 * cfg.l2 * len(train))
    fb = studies.fallback_comparison(model, test)
    assert fb["n_cold"] == d["n_cold"] and fb["bias"] == pytest.approx(d["rmse"])
    # answering cold pairs with mu instead of mu + bias is what AutoRec did before: worse here
    assert fb["global_mean"] > fb["bias"]


# --------------------------------------------------------------------------- curves, tables


def test_learning_curves_and_centring_study(ml100k_subset):
    train, test = ml100k_subset
    cfg = AutoRecConfig(hidden_units=8, epochs=2, batch_size=64)
    model = AutoRec("item", cfg, seed=0, verbose=0).fit(train, test)
    curves = studies.learning_curves(model)
    assert list(curves.index) == [1, 2] and curves.index.name == "epoch"
    assert set(curves.columns) == {"train_rmse", "loss", "val_rmse", "val_loss"}
    assert curves["val_rmse"].tolist() == model.history_["val_rmse"]
    table = studies.centring_study(train, test, config=cfg, kind="item")
    assert list(table.index) == [True, False]
    assert (table["best_val_rmse"] <= table["final_val_rmse"]).all()
    assert table.loc[True, "final_val_rmse"] == pytest.approx(curves["val_rmse"].iloc[-1])


def test_model_and_activity_comparison_agree_with_metrics(synthetic_split):
    train, test = synthetic_split.train, synthetic_split.test
    models = {"global mean": GlobalMean().fit(train), "bias": BiasBaseline().fit(train)}
    table = studies.model_comparison(test, models)
    assert list(table.index) == ["global mean", "bias"]
    truth = test["rating"].to_numpy()
    pred = models["bias"].predict(test["user"].to_numpy(), test["item"].to_numpy())
    assert table.loc["bias", "rmse"] == pytest.approx(rmse(truth, pred))
    users, items = test["user"].to_numpy(), test["item"].to_numpy()
    assert table.loc["bias", "n_cold"] == models["bias"].cold_pairs(users, items).sum()
    by_activity = studies.activity_comparison(train, test, models, min_entities=1)
    assert list(by_activity.index) == ["0", "1", "2", "3-5", "6-20", ">20"]
    assert by_activity["n_ratings"].sum() == len(test)
    assert by_activity.loc["0", "n_users"] == studies.cold_start_counts(train, test).n_cold_users
    # small buckets are merged with the next one; every rating still counted once
    merged = studies.activity_comparison(train, test, models, min_entities=200)
    assert merged["n_ratings"].sum() == len(test) and (merged["n_users"] >= 200).all()
    assert not merged.isna().any().any()
    by_item = studies.activity_comparison(train, test, models, by="item")
    assert "n_items" in by_item and by_item["n_ratings"].sum() == len(test)


def test_activity_comparison_drops_empty_and_merges_tiny_buckets(shared_data):
    train, test = data.load_canonical_split("ml-100k", fold="1", data_dir=shared_data,
                                            download=False)
    models = {"global mean": GlobalMean().fit(train)}
    table = studies.activity_comparison(train, test, models)
    # u1: no user with 0-2 training ratings (dropped), one user with 3-5 (merged into 6-20)
    assert table.index.tolist() == ["3-20", ">20"]
    assert table["n_ratings"].tolist() == [17 + 1356, 18627]
    assert table["n_users"].tolist() == [117, 342]
    assert not table.isna().any().any()
    with pytest.raises(ValueError, match="by must be"):
        studies.activity_comparison(train, test, models, by="film")


def test_book_split_and_config_follow_the_settings(shared_data):
    settings = book_settings({"RECSYS_AE_DATASET": "ml-100k", "RECSYS_AE_PROFILE": "ci",
                              "RECSYS_AE_DATA_DIR": str(shared_data)})
    prepared = studies.book_split(settings)
    assert prepared.split.name == "ml-100k canonical u1"
    assert (len(prepared.split.train), len(prepared.split.test)) == (80_000, 20_000)
    synthetic = studies.book_split(settings, "synthetic")
    assert synthetic.synthetic and len(synthetic.ratings) < 20_000
    u = settings.config("u-autorec")
    i = settings.config("i-autorec", dtype="float64")
    assert (u.hidden_units, u.dropout, u.epochs) == (700, 0.7, settings.epochs("u-autorec"))
    assert (i.hidden_units, i.centre, i.dtype) == (500, False, "float64")
    with pytest.raises(ValueError, match="unknown model"):
        settings.config("nonsense")


def test_book_models_come_from_the_registry_with_the_books_presets(synthetic_split):
    settings = book_settings({"RECSYS_AE_PROFILE": "ci"})
    models = studies.book_models(settings, synthetic_split.train,
                                 names=("global-mean", "bias", "u-autorec"))
    assert list(models) == ["global mean", "user + item bias", "U-AutoRec (notebook)"]
    u = models["U-AutoRec (notebook)"]
    assert u.config == settings.config("u-autorec") and u.is_fitted
    assert u.config.epochs == settings.epochs("u-autorec")
