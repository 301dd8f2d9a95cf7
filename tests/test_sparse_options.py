"""The sparse AutoRec backend with the options of issue 10: rating scaling, residual input,
the paper's lambda and early stopping compute what the dense backend computes.

The reference is the dense model (:class:`recsys_ae.autorec.AutoRec`) with its own
transform of the ratings (``_net_matrix``), stepped with ``train_on_batch`` through the
batches the sparse model took: ``Model.fit`` would also shuffle the order of the batches
(Keras' ``shuffle=True`` on a ``PyDataset``), which the sparse backend does not copy. As in
``tests/test_sparse.py``: float64, SGD with momentum, no dropout, ``objective="exact"``.
"""

import dataclasses

import keras
import numpy as np
import pytest

from recsys_ae import preprocess
from recsys_ae.autorec import AutoRec
from recsys_ae.configs import AutoRecConfig
from recsys_ae.registry import make_model
from recsys_ae.training import MaskedMSE, dense_rows

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: Float64, SGD with momentum, no dropout. The learning rate and the momentum are exact
#: in float32: Keras keeps the learning rate in a float32 variable and converts the
#: momentum through float32 (0.9 would become 0.89999998, a 4e-7 difference after 3 epochs).
EXACT = AutoRecConfig(hidden_units=16, activation="sigmoid", dropout=0.0, optimizer="sgd",
                      learning_rate=2.0**-7, momentum=0.875, l2=2.0**-10, batch_size=128,
                      epochs=3, centre=False, dtype="float64")

#: The options, one at a time and together. ``scale_ratings`` is tested on the 1-100 copy
#: of the ratings: on a 1-5 scale it changes nothing.
OPTIONS = {
    "scale_ratings": dict(scale_ratings=True),
    "residual": dict(input="residual"),
    "lam": dict(lam=10.0),
    "all": dict(scale_ratings=True, input="residual", lam=10.0),
}

#: Predictions of the two backends agree to this (stars on 1-5, 25x on the 1-100 copy).
ATOL = 1e-9


@pytest.fixture(scope="module")
def small(u1_first_200):
    return u1_first_200


def dense_twin(sparse, train):
    """The dense AutoRec trained on the batches ``sparse.fit`` took, in the same order.

    The data, the transform into network units and the Keras model are the dense
    class's own (``AutoRec._fit_data``, ``_net_matrix``, ``build``, ``_optimizer``), as
    in ``AutoRec.fit``; only the batch order is the sparse model's.
    """
    cfg = sparse.config
    dense = AutoRec(sparse.kind, cfg, seed=sparse.seed, verbose=0)
    shift = dense._fit_data(train, sparse.index_)
    if not dense._simple_transform():
        matrix, shift = dense._net_matrix(), 0.0
    else:
        matrix = dense.train_matrix_
    keras.utils.set_random_seed(dense.seed)
    dense.model_ = dense.build(matrix.shape[1])
    dense.model_.compile(optimizer=dense._optimizer(), loss=MaskedMSE(dtype=cfg.dtype))
    order_rng = np.random.default_rng(sparse.seed)
    order = np.arange(matrix.shape[0])
    order_rng.shuffle(order)
    bs = cfg.batch_size
    for _ in range(cfg.epochs):
        for lo in range(0, len(order), bs):
            rows = order[lo:lo + bs]
            dense.model_.train_on_batch(
                dense_rows(matrix, rows, shift=shift, fill=0.0, dtype=cfg.dtype),
                dense_rows(matrix, rows, shift=shift, fill=np.nan, dtype=cfg.dtype))
        order_rng.shuffle(order)
    return dense


@pytest.mark.parametrize("option,model", [(option, "i-autorec") for option in OPTIONS]
                         + [("all", "u-autorec")])  # U-AutoRec: rows and columns swap roles
def test_each_option_trains_and_predicts_like_the_dense_model(to_100, small, option, model):
    train, test = small
    cfg = dataclasses.replace(EXACT, **OPTIONS[option])
    if cfg.scale_ratings:
        train, test = to_100(train), to_100(test)
    sparse = make_model(model, config=cfg, backend="sparse", objective="exact", seed=0,
                        verbose=0).fit(train)
    dense = dense_twin(sparse, train)
    assert sparse.l2_ == dense.l2_
    if cfg.lam is not None:
        assert sparse.l2_ == pytest.approx(cfg.lam / (2 * len(train)), rel=1e-15)
    users, items = test["user"].tolist(), test["item"].tolist()
    got, want = sparse.predict(users, items), dense.predict(users, items)
    assert np.abs(got - want).max() < ATOL * (25.0 if cfg.scale_ratings else 1.0)
    for a, b in zip(sparse.get_weights(), dense.model_.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    rows = np.arange(5)
    np.testing.assert_allclose(sparse.reconstruct(rows), dense.reconstruct(rows), rtol=0,
                               atol=ATOL * (25.0 if cfg.scale_ratings else 1.0))


def test_the_l2_penalty_covers_the_decoder_bias_with_residual_input(small):
    train, _ = small
    cfg = dataclasses.replace(EXACT, input="residual", lam=10.0, epochs=1)
    model = make_model("i-autorec", config=cfg, backend="sparse", objective="exact", seed=0,
                       verbose=0).fit(train)
    W, _, V, c = model.get_weights()
    want = model.l2_ * ((W ** 2).sum() + (V ** 2).sum() + (c ** 2).sum())
    assert model.l2_penalty() == pytest.approx(want, rel=1e-12)


def test_validation_rmse_is_in_stars_on_a_rescaled_scale(to_100, small):
    train, test = (to_100(df) for df in small)
    cfg = dataclasses.replace(EXACT, **OPTIONS["all"])
    model = make_model("i-autorec", config=cfg, backend="sparse", objective="exact", seed=0,
                       verbose=0).fit(train, validation=test)
    known = ~model.cold_pairs(test["user"].tolist(), test["item"].tolist())
    v = test[known]
    pred = model._predict_known(model.index_.user_rows(v["user"].tolist()),
                                model.index_.item_cols(v["item"].tolist()))
    rmse = np.sqrt(np.mean((pred - v["rating"].to_numpy(float)) ** 2))
    assert model.history_["val_rmse"][-1] == pytest.approx(rmse, rel=1e-9)
    assert model.best_epoch_ == int(np.argmin(model.history_["val_rmse"])) + 1


# the 1-100 copy on the sparse backend: test_tuning_transfer.py, parametrised by backend


def test_early_stopping_keeps_the_best_epoch_as_a_shorter_run_would_end(small):
    train, _ = small
    fit, val = preprocess.validation_split(train, 0.1, seed=0)
    # a learning rate high enough that the validation RMSE turns up within 40 epochs
    cfg = dataclasses.replace(EXACT, learning_rate=2.0**-3, epochs=40,
                              early_stopping_patience=3)
    model = make_model("i-autorec", config=cfg, backend="sparse", objective="exact", seed=0,
                       verbose=0).fit(fit, validation=val)
    val_rmse = model.history_["val_rmse"]
    assert model.best_epoch_ == int(np.argmin(val_rmse)) + 1
    assert len(val_rmse) == min(model.best_epoch_ + 3, cfg.epochs) < cfg.epochs
    assert all(v >= val_rmse[model.best_epoch_ - 1] for v in val_rmse[model.best_epoch_:])
    assert all(len(v) == len(val_rmse) for v in model.history_.values())

    shorter = dataclasses.replace(cfg, epochs=model.best_epoch_, early_stopping_patience=None)
    fresh = make_model("i-autorec", config=shorter, backend="sparse", objective="exact",
                       seed=0, verbose=0).fit(fit, validation=val)
    assert fresh.history_["val_rmse"] == val_rmse[:model.best_epoch_]
    users, items = val["user"].tolist(), val["item"].tolist()
    np.testing.assert_array_equal(model.predict(users, items), fresh.predict(users, items))
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    # the dense model seen through model_ has the restored weights too
    for a, b in zip(model.model_.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="needs validation"):
        make_model("i-autorec", config=cfg, backend="sparse", verbose=0).fit(fit)


def test_best_weights_go_to_disk_and_come_back_a_block_at_a_time(small, tmp_path,
                                                                 monkeypatch):
    train, _ = small
    model = make_model("i-autorec", config=EXACT, backend="sparse", seed=0, verbose=0)
    model.setup(train)
    monkeypatch.setattr(type(model), "WEIGHT_FILE_CHUNK_ROWS", 7)  # several blocks per weight
    saved = model.get_weights()
    model._save_weights(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"weight_{i}.npy" for i in range(4)]
    model.set_weights([w + 1.0 for w in saved])
    model._load_weights(str(tmp_path))
    for a, b in zip(model.get_weights(), saved):
        np.testing.assert_array_equal(a, b)
