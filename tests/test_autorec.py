"""U-AutoRec / I-AutoRec: configuration, prediction rules, reproducibility."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from recsys_ae.autorec import PRESETS, AutoRec, AutoRecConfig
from recsys_ae.preprocess import IdIndex, rating_matrix

TINY = AutoRecConfig(hidden_units=4, activation="tanh", l2=0.0, optimizer="adam",
                     learning_rate=0.01, batch_size=2, epochs=3)


def frame(rows):
    return pd.DataFrame(rows, columns=["user", "item", "rating"]).astype(
        {"user": str, "item": str, "rating": float})


@pytest.fixture(scope="module")
def small_ratings():
    rng = np.random.default_rng(0)
    pairs = {(f"u{u:02d}", f"i{i:02d}") for u, i in zip(rng.integers(0, 30, 300),
                                                         rng.integers(0, 20, 300))}
    pairs = sorted(pairs)
    ratings = rng.integers(1, 6, len(pairs)).astype(float)
    return frame([(u, i, r) for (u, i), r in zip(pairs, ratings)])


def test_presets_hold_the_seed_and_paper_hyperparameters():
    seed = PRESETS["notebook"]
    assert (seed.hidden_units, seed.activation, seed.dropout, seed.l2) == (700, "tanh", 0.7, 1e-4)
    assert (seed.optimizer, seed.learning_rate, seed.momentum, seed.batch_size) == (
        "sgd", 0.08, 0.9, 128)
    paper = PRESETS["paper"]
    assert (paper.hidden_units, paper.activation, paper.output_activation) == (
        500, "sigmoid", "linear")
    assert AutoRecConfig.preset("notebook", epochs=2).epochs == 2
    with pytest.warns(FutureWarning, match="notebook"):
        assert AutoRecConfig.preset("seed") == PRESETS["notebook"]
    with pytest.raises(ValueError, match="unknown preset"):
        AutoRecConfig.preset("nope")
    with pytest.raises(ValueError, match="field"):
        AutoRecConfig.preset("notebook", hiden_units=3)
    with pytest.raises(ValueError, match="optimizer"):
        AutoRecConfig(optimizer="rmsprop")


def test_model_shapes_follow_the_kind(small_ratings):
    index = IdIndex.fit(small_ratings)
    u = AutoRec("user", TINY).build(index.n_items)
    i = AutoRec("item", TINY).build(index.n_users)
    assert u.output_shape == (None, index.n_items)
    assert i.output_shape == (None, index.n_users)
    assert u.get_layer("encoder").kernel.shape == (index.n_items, 4)
    with pytest.raises(ValueError, match="kind"):
        AutoRec("pixel")


def test_seed_preset_builds_the_seed_architecture():
    model = AutoRec("user", "notebook").build(50)
    names = [layer.name for layer in model.layers]
    assert names == ["ratings", "input_dropout", "encoder", "decoder"]
    assert model.get_layer("input_dropout").rate == 0.7
    assert model.get_layer("encoder").units == 700


def test_predictions_are_clipped_and_cold_start_uses_the_known_bias(small_ratings):
    from recsys_ae.baselines import BiasBaseline

    model = AutoRec("user", TINY, seed=1, verbose=0).fit(small_ratings)
    users = ["u00", "never-seen", "u01", "never-seen"]
    items = ["i00", "i00", "never-seen", "never-seen"]
    pred = model.predict(users, items)
    assert model.cold_pairs(users, items).tolist() == [False, True, True, True]
    # an unseen user gets mu + b_i, an unseen item mu + b_u: the bias baseline's answers
    bias = BiasBaseline().fit(small_ratings)
    np.testing.assert_allclose(pred[1:], bias.predict(users[1:], items[1:]), rtol=1e-12)
    assert pred[3] == pytest.approx(model.mean_)
    # push the output far off the scale: predictions stay within the training range
    weights = model.model_.get_weights()
    weights[-1] = weights[-1] + 50.0  # decoder bias
    model.model_.set_weights(weights)
    high = model.predict(list(small_ratings.user), list(small_ratings.item))
    assert high.max() == small_ratings.rating.max()
    assert model.rating_range_ == (1.0, 5.0)


def test_prediction_uses_training_ratings_only(small_ratings):
    """Predictions for test cells do not depend on the test ratings."""
    train = small_ratings.iloc[::2]
    test = small_ratings.iloc[1::2]
    test = test[test.user.isin(train.user) & test.item.isin(train.item)]
    model = AutoRec("item", TINY, seed=0, verbose=0).fit(train)
    a = model.predict(test.user.to_numpy(), test.item.to_numpy())
    flipped = test.assign(rating=6 - test.rating)
    b = model.predict(flipped.user.to_numpy(), flipped.item.to_numpy())
    np.testing.assert_array_equal(a, b)
    assert not model.cold_pairs(test.user.to_numpy(), test.item.to_numpy()).any()


@pytest.mark.parametrize("kind", ["user", "item"])
@pytest.mark.parametrize("options", [{}, {"centre": True},
                                     {"scale_ratings": True, "input": "residual", "lam": 5.0}])
def test_predict_matches_a_full_reconstruction(small_ratings, kind, options):
    """predict evaluates the network at the pairs only (sparse encoder product, one dot
    product per pair); the Keras forward pass over whole rows is the second method."""
    model = AutoRec(kind, dataclasses.replace(TINY, **options), seed=0,
                    verbose=0).fit(small_ratings)
    users = model.index_.user_rows(small_ratings.user)
    items = model.index_.item_cols(small_ratings.item)
    rows, cols = (users, items) if kind == "user" else (items, users)
    full = model.reconstruct(np.arange(model.train_matrix_.shape[0]))  # Keras, whole rows
    expected = np.clip(full[rows, cols], *model.rating_range_)
    model.PREDICT_CHUNK_ROWS = 7  # several chunks
    got = model.predict(small_ratings.user.to_numpy(), small_ratings.item.to_numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # recommend's scores of a user: the user's row (U-AutoRec) or column (I-AutoRec)
    scores = model._score_rows(np.array([0, 3]))
    whole = full if kind == "user" else full.T
    np.testing.assert_allclose(scores, whole[[0, 3]], rtol=1e-5, atol=1e-5)


def test_same_seed_same_model_different_seed_different(small_ratings):
    a = AutoRec("user", TINY, seed=3, verbose=0).fit(small_ratings)
    b = AutoRec("user", TINY, seed=3, verbose=0).fit(small_ratings)
    c = AutoRec("user", TINY, seed=4, verbose=0).fit(small_ratings)
    users, items = small_ratings.user.to_numpy(), small_ratings.item.to_numpy()
    np.testing.assert_allclose(a.predict(users, items), b.predict(users, items), rtol=1e-6)
    assert not np.allclose(a.predict(users, items), c.predict(users, items))


def test_dropout_seed_preset_trains_without_nan(small_ratings):
    model = AutoRec("user", AutoRecConfig.preset("notebook", epochs=2, hidden_units=8), seed=0,
                    verbose=0).fit(small_ratings, validation=small_ratings.iloc[:20])
    assert all(np.isfinite(model.history_["loss"]))
    assert all(np.isfinite(model.history_["val_rmse"]))
    assert len(model.history_["val_loss"]) == 2


def test_validation_rmse_equals_an_independent_computation(small_ratings):
    train, valid = small_ratings.iloc[::3], small_ratings.iloc[1::3]
    valid = valid[valid.user.isin(train.user) & valid.item.isin(train.item)]
    model = AutoRec("item", TINY, seed=0, verbose=0).fit(train, validation=valid)
    # unclipped reconstruction at the validation cells, from training inputs
    rows = model.index_.item_cols(valid.item)
    cols = model.index_.user_rows(valid.user)
    recon = model.reconstruct(rows)[np.arange(len(rows)), cols]
    expected = np.sqrt(np.mean((recon - valid.rating.to_numpy()) ** 2))
    assert model.history_["val_rmse"][-1] == pytest.approx(expected, rel=1e-4)


def test_fit_refuses_duplicates(small_ratings):
    doubled = pd.concat([small_ratings, small_ratings.iloc[:1]])
    with pytest.raises(ValueError, match="[Dd]uplicate"):
        AutoRec("user", TINY, verbose=0).fit(doubled)


def test_train_matrix_layout(small_ratings):
    model = AutoRec("item", TINY, verbose=0).fit(small_ratings)
    expected = rating_matrix(small_ratings, model.index_, by="item")
    assert (model.train_matrix_ != expected).nnz == 0


def test_cosine_schedule_halves_the_step_midway_and_ends_at_zero(small_ratings):
    # (1 + cos(pi t / T)) / 2 by hand: t = 0 -> 1, t = T/2 -> 1/2, t = T -> 0
    cfg = AutoRecConfig(**{**TINY.__dict__, "lr_schedule": "cosine"})
    schedule = AutoRec("user", cfg)._optimizer(total_steps=10)._learning_rate
    assert [float(schedule(t)) for t in (0, 5, 10)] == pytest.approx([0.01, 0.005, 0.0])
    model = AutoRec("user", cfg, seed=0, verbose=0).fit(small_ratings)
    steps = cfg.epochs * int(np.ceil(model.train_matrix_.shape[0] / cfg.batch_size))
    assert int(model.model_.optimizer.iterations) == steps
    assert float(model.model_.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="lr_schedule"):
        AutoRecConfig(lr_schedule="step")
    with pytest.raises(ValueError, match="total_steps"):
        AutoRec("user", cfg)._optimizer()
