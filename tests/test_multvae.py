"""Mult-DAE and Mult-VAE (recsys_ae.multvae): the loss terms by hand, the annealing of beta,
determinism under a seed, the base contract (recommend), fold-in, and bands on real
MovieLens 100K under the strong-generalisation protocol."""

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_ae import protocol
from recsys_ae.multvae import MultDAE, MultVAE, gaussian_kl, kl_weight, multinomial_nll
from recsys_ae.registry import get_spec, make_model
from recsys_ae.topn import Popularity


def test_multinomial_nll_by_hand():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], dtype=np.float32)
    x = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    # user 1: log softmax of items 1 and 3; user 2: of item 2; summed, averaged over users
    z1 = np.log(np.exp(1.0) + np.exp(2.0) + np.exp(0.5))
    z2 = np.log(np.exp(0.0) + np.exp(-1.0) + np.exp(3.0))
    by_hand = (-((1.0 - z1) + (0.5 - z1)) - (-1.0 - z2)) / 2
    assert float(multinomial_nll(logits, x)) == pytest.approx(by_hand, rel=1e-6)


def test_gaussian_kl_by_hand():
    mu = np.array([[0.0, 1.0], [0.5, -0.5]], dtype=np.float32)
    logvar = np.array([[0.0, 0.0], [np.log(2.0), np.log(0.5)]], dtype=np.float32)
    # KL(N(m, s^2) || N(0, 1)) = 0.5 (s^2 + m^2 - 1 - log s^2), summed per user, averaged
    user1 = 0.0 + 0.5 * 1.0
    user2 = 0.5 * (2 + 0.25 - 1 - np.log(2)) + 0.5 * (0.5 + 0.25 - 1 - np.log(0.5))
    assert float(gaussian_kl(mu, logvar)) == pytest.approx((user1 + user2) / 2, rel=1e-6)
    assert float(gaussian_kl(np.zeros((3, 4), np.float32), np.zeros((3, 4), np.float32))) == 0


def test_beta_rises_linearly_to_its_cap():
    assert kl_weight(0, 1000, 0.2) == 0.0
    assert kl_weight(100, 1000, 0.2) == pytest.approx(0.1)
    assert kl_weight(200, 1000, 0.2) == pytest.approx(0.2)
    assert kl_weight(10_000, 1000, 0.2) == pytest.approx(0.2)


def test_registry_names_and_paper_presets():
    vae, dae = make_model("mult-vae"), make_model("Mult-DAE")
    assert isinstance(vae, MultVAE) and isinstance(dae, MultDAE)
    assert (vae.name, dae.name) == ("Mult-VAE", "Mult-DAE")
    assert vae.config.variational and not dae.config.variational
    assert vae.config.l2 == 0 and dae.config.l2 == pytest.approx(0.01 / 500)
    for c in (vae.config, dae.config):
        assert (c.hidden_units, c.latent_dim, c.dropout, c.batch_size, c.learning_rate,
                c.beta_max) == (600, 200, 0.5, 500, 1e-3, 0.2)
    for name in ("mult-vae", "mult-dae"):
        spec = get_spec(name)
        assert spec.task == "ranking" and spec.recommended_preset == "paper"
    with pytest.raises(ValueError, match="dropout"):
        make_model("mult-vae", dropout=1.0)


@pytest.fixture(scope="module")
def split(shared_data):
    from recsys_ae.data import load_dataset

    return protocol.strong_split(load_dataset("ml-100k", data_dir=shared_data), 100, seed=0)


def small(cls, seed=0, **kw):
    return cls(seed=seed, epochs=kw.pop("epochs", 3), batch_size=100, hidden_units=64,
               latent_dim=16, **kw)


@pytest.mark.parametrize("cls", [MultVAE, MultDAE])
def test_same_seed_same_model_other_seed_other_model(cls, split):
    a = small(cls).fit(split.train, index=split.index)
    b = small(cls).fit(split.train, index=split.index)
    c = small(cls, seed=1).fit(split.train, index=split.index)
    sa, sb, sc = (m.fold_in(split.test_fold_in) for m in (a, b, c))
    np.testing.assert_array_equal(sa, sb)
    np.testing.assert_array_equal(a.history_["loss"], b.history_["loss"])
    assert np.abs(sa - sc).max() > 1e-3


def test_known_users_are_scored_from_their_training_clicks(split):
    model = small(MultVAE).fit(split.train, index=split.index)
    rows = np.arange(5)
    np.testing.assert_allclose(model._score_rows(rows), model.fold_in(model.x_[rows]))
    assert model.x_.shape == (split.index.n_users, split.index.n_items)
    with pytest.raises(ValueError, match="columns"):
        model.fold_in(sp.csr_matrix((2, 3)))


def test_recommend_unseen_known_items_and_popularity_for_strangers(split):
    model = small(MultDAE).fit(split.train, index=split.index)
    user = split.index.users[0]
    top = model.recommend(user, k=10)
    clicked = set(split.train.loc[split.train["user"] == user, "item"])
    assert len(set(top["item"])) == 10 and not clicked & set(top["item"])
    assert set(top["item"]) <= set(split.index.items)
    cold = model.recommend(split.test_users[0], k=5)
    assert not cold.attrs["known_user"]
    counts = split.train["item"].value_counts()
    assert cold["item"].tolist() == counts.index[:5].tolist()


def test_validation_keeps_the_best_epoch(split):
    model = small(MultVAE, epochs=4).fit(
        split.train, index=split.index, validation=(split.val_fold_in, split.val_heldout))
    h = model.history_
    assert list(h["epoch"]) == [1, 2, 3, 4]
    assert model.best_epoch_ == int(h.loc[h["val_ndcg@100"].idxmax(), "epoch"])
    again = np.nanmean(model._validation_ndcg(split.val_fold_in, split.val_heldout))
    assert again == pytest.approx(h["val_ndcg@100"].max(), abs=1e-6)
    assert (h["beta"].diff().dropna() > 0).all()  # annealing


@pytest.mark.slow
@pytest.mark.parametrize("cls", [MultVAE, MultDAE])
def test_band_on_ml100k_strong_generalisation(cls, split):
    """Paper architecture, 100-user batches, 25 epochs: NDCG@100 on the test users well
    above popularity (about 0.25 on this split) and near EASE (about 0.42)."""
    model = cls(seed=0, epochs=25, batch_size=100).fit(
        split.train, index=split.index, validation=(split.val_fold_in, split.val_heldout))
    ndcg = protocol.evaluate_strong(model, split)["ndcg@100"].mean()
    pop = protocol.evaluate_strong(Popularity().fit(split.train, index=split.index), split)
    assert 0.33 < ndcg < 0.50
    assert ndcg > pop["ndcg@100"].mean() + 0.08
