"""The model contract, checked for every registered model (LensKit-style ``ScorerTests``).

Each model in :data:`recsys_ae.registry.MODELS` is built through the registry and fitted
on the same slice of real MovieLens 100K ratings; the checks that apply to its kind run:
every model recommends k distinct unseen known items, falls back to popularity for an
unknown user, refuses to work before ``fit`` and is deterministic under a seed; rating
predictors also predict within the training scale, answer unknown users and items with
their documented fallback, reject IDs that are not strings, and (where the command line
can save them) survive a save/load round trip unchanged.
"""

import numpy as np
import pytest

from recsys_ae.base import NotFittedError, RatingPredictor, Recommender
from recsys_ae.registry import MODELS, get_spec, make_model

#: Small settings so each model trains in a second or two; every other field is the
#: model's default preset.
FAST = {
    "i-autorec": {"epochs": 2, "hidden_units": 16, "verbose": 0},
    "u-autorec": {"epochs": 2, "hidden_units": 16, "verbose": 0},
    "biased-mf": {"n_factors": 5, "n_sweeps": 3},
    "mult-dae": {"epochs": 2},
    "mult-vae": {"epochs": 2},
}
#: Every registered model, and AutoRec on its sparse backend too ("name@sparse").
NAMES = sorted(MODELS) + [f"{n}@sparse" for n in sorted(MODELS)
                          if "backend" in MODELS[n].options]
RATING = [n for n in NAMES if MODELS[n.split("@")[0]].task == "rating"]


def build(name, seed=0):
    base, _, backend = name.partition("@")
    options = {"backend": backend} if backend else {}
    return make_model(base, seed=seed, **options, **FAST.get(base, {}))


@pytest.fixture(scope="module")
def ratings(shared_data):
    from recsys_ae.data import load_canonical_split

    train, _ = load_canonical_split("ml-100k", 1)
    part = train[train["user"].astype(int).le(80) & train["item"].astype(int).le(400)]
    return part.reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted(ratings):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = build(name).fit(ratings)
        return cache[name]
    return get


@pytest.mark.parametrize("name", NAMES)
def test_registry_builds_the_declared_class_and_config(name):
    spec = get_spec(name.split("@")[0])
    model = build(name)
    assert isinstance(model, Recommender)
    assert isinstance(model, RatingPredictor) == (spec.task == "rating")
    assert isinstance(model.config, spec.config_class)
    assert get_spec(spec.display_name) is spec
    for preset in spec.presets:
        assert isinstance(make_model(spec.name, preset).config, spec.config_class)
    with pytest.raises(ValueError, match="no_such_field"):
        make_model(spec.name, no_such_field=1)
    with pytest.raises(ValueError, match="unknown preset"):
        make_model(spec.name, "no-such-preset")


@pytest.mark.parametrize("name", NAMES)
def test_nothing_works_before_fit(name):
    model = build(name)
    with pytest.raises(NotFittedError, match="fit"):
        model.recommend("1")
    if isinstance(model, RatingPredictor):
        with pytest.raises(NotFittedError, match="fit"):
            model.predict(["1"], ["1"])


@pytest.mark.parametrize("name", NAMES)
def test_recommend_returns_k_distinct_unseen_known_items(name, fitted, ratings):
    model = fitted(name)
    user = "1"
    top = model.recommend(user, k=10)
    rated = set(ratings.loc[ratings["user"] == user, "item"])
    items = top["item"].tolist()
    assert len(items) == 10 and len(set(items)) == 10
    assert not rated & set(items)
    assert set(items) <= set(ratings["item"])
    assert top.attrs["known_user"] and top["rank"].tolist() == list(range(1, 11))
    assert (np.diff(top["score"].to_numpy()) <= 0).all()  # best first
    with_seen = model.recommend(user, k=model.index_.n_items, exclude_seen=False)
    assert len(with_seen) == model.index_.n_items


@pytest.mark.parametrize("name", NAMES)
def test_unknown_user_gets_the_most_rated_items(name, fitted, ratings):
    top = fitted(name).recommend("no-such-user", k=5)
    assert not top.attrs["known_user"]
    counts = ratings["item"].value_counts()
    assert top["score"].tolist() == counts.iloc[:5].astype(float).tolist()
    assert all(counts[i] == s for i, s in zip(top["item"], top["score"]))


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_recommendations(name, fitted, ratings):
    again = build(name).fit(ratings)
    for user in ("1", "7", "42"):
        a, b = fitted(name).recommend(user, 10), again.recommend(user, 10)
        assert a["item"].tolist() == b["item"].tolist()
        np.testing.assert_allclose(a["score"], b["score"], rtol=1e-6)


@pytest.mark.parametrize("name", RATING)
def test_predictions_stay_on_the_training_scale(name, fitted, ratings):
    model = fitted(name)
    users = np.repeat(ratings["user"].unique()[:20], 20)
    items = np.tile(ratings["item"].unique()[:20], 20)
    pred = model.predict(users, items)
    assert pred.dtype == np.float64 and pred.shape == (400,)
    assert np.isfinite(pred).all()
    assert pred.min() >= ratings["rating"].min() and pred.max() <= ratings["rating"].max()


@pytest.mark.parametrize("name", RATING)
def test_unknown_users_and_items_get_the_documented_fallback(name, fitted, ratings):
    model = fitted(name)
    users = ["no-such-user", "1", "no-such-user", "1"]
    items = ["1", "no-such-item", "no-such-item", "1"]
    assert model.cold_pairs(users, items).tolist() == [True, True, True, False]
    pred = model.predict(users, items)
    mean = ratings["rating"].mean()
    assert pred[2] == pytest.approx(mean)  # nothing known: the global mean, in every model
    if name == "global-mean":
        assert pred[0] == pytest.approx(mean) and pred[1] == pytest.approx(mean)
        return
    # a known item (user) keeps the bias the training ratings give it: mu + b_i (mu + b_u),
    # the user + item bias baseline's own answer for these pairs (AutoRec, whose network
    # has no row or column for them, borrows it)
    if name == "biased-mf":  # MF's own biases
        b_i = model.item_bias_[model.index_.item_cols(["1"])[0]]
        b_u = model.user_bias_[model.index_.user_rows(["1"])[0]]
        assert pred[0] == pytest.approx(np.clip(mean + b_i, *model.rating_range_))
        assert pred[1] == pytest.approx(np.clip(mean + b_u, *model.rating_range_))
        return
    bias = make_model("bias").fit(ratings)
    np.testing.assert_allclose(pred[:2], bias.predict(users[:2], items[:2]), rtol=1e-12)


@pytest.mark.parametrize("name", RATING)
def test_ids_that_are_not_strings_are_refused(name, fitted):
    model = fitted(name)
    with pytest.raises(TypeError, match=r"astype\(str\)"):
        model.predict(np.array([1, 2]), np.array([1, 2]))
    with pytest.raises(TypeError, match="single value"):
        model.predict("1", "1")
    with pytest.raises(ValueError, match="differ in length"):
        model.predict(["1", "2"], ["1"])


@pytest.mark.parametrize("name", RATING)
def test_predict_does_not_change_the_model(name, fitted, ratings):
    model = fitted(name)
    before = dict(vars(model))
    model.predict(ratings["user"][:50], ratings["item"][:50])
    model.predict(["no-such-user"], ["1"])
    assert set(vars(model)) <= set(before) | {"_seen_cache"}


@pytest.mark.parametrize("name", [n for n in NAMES if MODELS[n.split("@")[0]].can_save])
def test_save_load_round_trip(name, fitted, ratings, tmp_path):
    from recsys_ae.persist import load_model, save_model

    model = fitted(name)
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    users = np.append(ratings["user"].to_numpy()[:100], "no-such-user")
    items = np.append(ratings["item"].to_numpy()[:100], "1")
    # a sparse-backend model reloads as the dense one: equal to float32 rounding
    np.testing.assert_allclose(loaded.predict(users, items), model.predict(users, items),
                               rtol=1e-5)
    a, b = loaded.recommend("1", 10), model.recommend("1", 10)
    assert a["item"].tolist() == b["item"].tolist()
    np.testing.assert_allclose(a["score"], b["score"], rtol=1e-5)


def test_every_model_has_a_fast_setting_or_is_fast():
    slow = {n for n in MODELS if "epochs" in MODELS[n].config_class.__dataclass_fields__}
    assert slow <= set(FAST)
