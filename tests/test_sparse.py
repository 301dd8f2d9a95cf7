"""The sparse AutoRec path: same loss, gradients, updates and predictions as the dense one."""

import math

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from recsys_ae.autorec import AutoRec, AutoRecConfig
from recsys_ae.preprocess import IdIndex
from recsys_ae.metrics import evaluate
from recsys_ae.sparse import SparseAutoRec, csr_entries, observed_loss
from recsys_ae.training import MaskedMSE, dense_rows, masked_mse


def frame(rows):
    return pd.DataFrame(rows, columns=["user", "item", "rating"]).astype(
        {"user": str, "item": str, "rating": float})


@pytest.fixture(scope="module")
def ratings():
    rng = np.random.default_rng(1)
    pairs = sorted({(f"u{u:02d}", f"i{i:02d}") for u, i in zip(rng.integers(0, 25, 160),
                                                                rng.integers(0, 15, 160))})
    values = rng.integers(1, 6, len(pairs)).astype(float)
    return frame([(u, i, r) for (u, i), r in zip(pairs, values)])


def config(**kw):
    # l2 = 2**-7 is exact in float32: Keras casts the L2 coefficient to float32
    base = dict(hidden_units=5, activation="tanh", dropout=0.0, l2=2.0**-7, optimizer="sgd",
                learning_rate=0.05, momentum=0.9, batch_size=8, epochs=3, dtype="float64")
    base.update(kw)
    return AutoRecConfig(**base)


def test_csr_entries_lists_the_rows_entries_in_order():
    import scipy.sparse as sp
    m = sp.csr_matrix(np.array([[0, 2, 0, 3], [0, 0, 0, 0], [5, 0, 0, 0]], dtype=float))
    row_of, cols, values = csr_entries(m, np.array([2, 1, 0]))
    assert row_of.tolist() == [0, 2, 2] and cols.tolist() == [0, 1, 3]
    assert values.tolist() == [5, 2, 3]


def test_initial_weights_are_those_of_the_dense_model(ratings):
    cfg = config()
    sparse = SparseAutoRec("user", cfg, seed=3).setup(ratings)
    dense = AutoRec("user", cfg, seed=3).build(sparse.train_matrix_.shape[1])
    for a, b in zip(sparse.get_weights(), dense.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["user", "item"])
def test_loss_and_gradients_equal_the_dense_keras_formulation(ratings, kind):
    cfg = config()
    model = SparseAutoRec(kind, cfg, seed=0).setup(ratings)
    matrix = model.train_matrix_
    rows = np.array([3, 0, 7, 1, 5])
    # an empty row, and a rating equal to the mean (0.0 after centring, still observed)
    matrix = matrix.tolil()
    matrix[7, :] = 0
    matrix = matrix.tocsr()
    matrix.eliminate_zeros()
    matrix[0, matrix[0].indices[0]] = model.mean_
    shift = model.mean_
    keras_model = AutoRec(kind, cfg, seed=0).build(matrix.shape[1])
    x = dense_rows(matrix, rows, shift=shift, fill=0.0, dtype=np.float64)
    y = dense_rows(matrix, rows, shift=shift, fill=np.nan, dtype=np.float64)
    with tf.GradientTape() as tape:
        out = keras_model(x, training=False)
        # the seed's L2 regulariser, l2 * (||W||^2 + ||V||^2), written out in float64
        # (Keras' own loss terms are kept in float32, too coarse for a 1e-9 check)
        kernels = [v for v in keras_model.trainable_variables if len(v.shape) == 2]
        l2_term = cfg.l2 * tf.add_n([tf.reduce_sum(tf.square(k)) for k in kernels])
        dense_loss = masked_mse(y, out) + l2_term
    dense_grads = tape.gradient(dense_loss, keras_model.trainable_variables)

    weights = [tf.Variable(w) for w in keras_model.get_weights()]
    row_of, cols, values = csr_entries(matrix, rows)
    target = values - shift
    with tf.GradientTape() as tape:
        sparse_loss = observed_loss(weights, row_of, cols, target, target, len(rows),
                                    activation="tanh", l2=cfg.l2)
    sparse_grads = tape.gradient(sparse_loss, weights)
    assert float(sparse_loss) == pytest.approx(float(dense_loss), rel=1e-9)
    for g_sparse, g_dense in zip(sparse_grads, dense_grads):
        g_sparse, g_dense = tf.convert_to_tensor(g_sparse).numpy(), g_dense.numpy()
        assert np.all(np.isfinite(g_sparse))
        scale = np.abs(g_dense).max()
        np.testing.assert_allclose(g_sparse, g_dense, rtol=0, atol=1e-9 * scale)


def keras_stepped_like(sparse, seed):
    """AutoRec's Keras model with ``sparse``'s config and seed, stepped with train_on_batch
    on the same batches in the same order as ``sparse.fit`` took them (Model.fit on a
    PyDataset fetches batch 0 first to peek, so it cannot be the reference)."""
    cfg = sparse.config
    builder = AutoRec("user", cfg, seed=seed)
    dense = builder.build(sparse.train_matrix_.shape[1])
    dense.compile(optimizer=builder._optimizer(cfg.epochs * sparse.steps_per_epoch_),
                  loss=MaskedMSE())
    matrix, shift = sparse.train_matrix_, sparse.mean_
    order_rng = np.random.default_rng(seed)
    order = np.arange(matrix.shape[0])
    order_rng.shuffle(order)
    for _ in range(cfg.epochs):
        for i in range(sparse.steps_per_epoch_):
            rows = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            dense.train_on_batch(dense_rows(matrix, rows, shift=shift, fill=0.0),
                                 dense_rows(matrix, rows, shift=shift, fill=np.nan))
        order_rng.shuffle(order)
    return dense


@pytest.mark.parametrize("optimizer,momentum,schedule", [
    ("sgd", 0.9, "constant"), ("sgd", 0.0, "constant"), ("adam", 0.0, "constant"),
    ("adam", 0.0, "cosine")])
def test_seed_objective_trains_exactly_like_the_dense_model(ratings, optimizer, momentum,
                                                            schedule):
    # several epochs of several batches: columns skip steps, so the catch-up A^k is exercised.
    # The dense reference is AutoRec's Keras model stepped on the same batches in the same
    # order (keras_stepped_like). float32: Keras cannot add a float64 model's L2 losses.
    cfg = config(optimizer=optimizer, momentum=momentum, dtype="float32",
                 learning_rate=0.01 if optimizer == "adam" else 0.05, lr_schedule=schedule)
    sparse = SparseAutoRec("user", cfg, seed=2, verbose=0, objective="exact").fit(ratings)
    dense = keras_stepped_like(sparse, seed=2)
    for a, b in zip(sparse.get_weights(), dense.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=5e-6)


def test_exact_sgd_objective_refuses_a_learning_rate_schedule(ratings):
    cfg = config(optimizer="sgd", momentum=0.9, lr_schedule="cosine")
    with pytest.raises(ValueError, match="constant learning rate"):
        SparseAutoRec("user", cfg, seed=0, verbose=0, objective="exact").fit(ratings)


def test_one_step_from_given_weights_is_identical(ratings):
    cfg = config(batch_size=1000, epochs=1, dtype="float32")  # one batch = one step
    start = SparseAutoRec("user", cfg, seed=5).setup(ratings).get_weights()
    start = [w + 0.01 for w in start]
    dense = AutoRec("user", cfg, seed=0, verbose=0).fit(ratings, initial_weights=start)
    for objective in ("exact", "lazy"):  # one batch touches every column: both the same
        sparse = SparseAutoRec("user", cfg, seed=0, verbose=0, objective=objective)
        sparse.fit(ratings, initial_weights=start)
        for a, b in zip(sparse.get_weights(), dense.model_.get_weights()):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
        for a, b in zip(sparse.initial_weights_, start):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["user", "item"])
def test_predictions_follow_autorecs_rule(ratings, kind):
    model = SparseAutoRec(kind, config(epochs=2), seed=0, verbose=0).fit(ratings)
    reference = AutoRec(kind, model.config)
    for attr in ("index_", "mean_", "rating_range_", "train_matrix_"):
        setattr(reference, attr, getattr(model, attr))
    reference.model_ = model.model_
    users = np.array(["u00", "u03", "nobody", "u10", "u04"])
    items = np.array(["i01", "i02", "i03", "unknown", "i14"])
    got = model.predict(users, items)
    want = reference.predict(users, items)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert model.cold_pairs(users, items).sum() == reference.cold_pairs(users, items).sum() == 2
    assert got[2] == pytest.approx(reference.predict(["nobody"], ["i03"])[0], rel=1e-12)
    np.testing.assert_allclose(model.reconstruct([0, 4]), reference.reconstruct([0, 4]),
                               rtol=1e-12)
    test = frame(list(zip(users, items, [3.0, 4.0, 5.0, 1.0, 2.0])))
    assert evaluate(model, test)["rmse"] == pytest.approx(
        math.sqrt(np.mean((want - test["rating"].to_numpy()) ** 2)), rel=1e-12)


def test_batch_counts_history_and_validation(ratings):
    train, val = ratings.iloc[::2], ratings.iloc[1::2]
    index = IdIndex.fit(ratings)
    model = SparseAutoRec("user", config(batch_size=4, dropout=0.5), seed=0, verbose=0)
    model.fit(train, val, index=index)
    assert model.steps_per_epoch_ == math.ceil(index.n_users / 4)
    assert model.steps_ == 3 * model.steps_per_epoch_
    assert set(model.history_) == {"loss", "rmse", "val_loss", "val_rmse"}
    assert all(len(v) == 3 and np.all(np.isfinite(v)) for v in model.history_.values())


def test_empty_rows_stay_nan_free(ratings):
    index = IdIndex(list(ratings["user"].unique()) + ["lonely"], ratings["item"].unique())
    for objective in ("lazy", "exact"):
        model = SparseAutoRec("user", config(), seed=0, verbose=0, objective=objective)
        model.fit(ratings, index=index)
        assert all(np.all(np.isfinite(w)) for w in model.get_weights())
        assert np.all(np.isfinite(model.predict(["lonely"], ["i01"])))


def test_same_seed_same_model_other_seed_other_model(ratings):
    cfg = config(dropout=0.5)
    fits = [SparseAutoRec("item", cfg, seed=s, verbose=0).fit(ratings) for s in (4, 4, 5)]
    for a, b in zip(fits[0].get_weights(), fits[1].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(fits[0].get_weights()[0], fits[2].get_weights()[0])
    assert fits[0].history_ == fits[1].history_


def test_fast_objective_with_adam_learns(ratings):
    cfg = config(optimizer="adam", learning_rate=0.01, epochs=20, dtype="float32")
    model = SparseAutoRec("user", cfg, seed=0, verbose=0, objective="lazy").fit(ratings)
    assert model.history_["rmse"][-1] < model.history_["rmse"][0]


@pytest.mark.parametrize("kind", ["user", "item"])
def test_top_n_matches_full_reconstruction_and_skips_training_items(ratings, kind):
    model = SparseAutoRec(kind, config(epochs=2), seed=0, verbose=0).fit(ratings)
    model.SCORE_BLOCK_BYTES = 64  # a few rows at a time: the chunked path
    assert not model.recommend("ghost", 3).attrs["known_user"]
    for user in ("u02", "u07", "u11"):
        got = model.recommend(user, 3)
        u = model.index_.user_rows([user])[0]
        if kind == "user":
            scores = model.reconstruct([u])[0]
        else:
            scores = model.reconstruct(np.arange(model.index_.n_items))[:, u]
        rated = set(ratings.loc[ratings["user"] == user, "item"])
        items = np.asarray(model.index_.items)
        candidates = [(s, i) for s, i in zip(scores, items) if i not in rated]
        best = sorted(candidates, key=lambda t: -t[0])[:3]
        assert list(got["rank"]) == [1, 2, 3]
        assert list(got["item"]) == [i for _, i in best]
        np.testing.assert_allclose(got["score"], [s for s, _ in best], rtol=1e-12)


@pytest.mark.parametrize("objective", ["lazy", "exact"])
def test_many_steps_per_call_equal_one_step_per_call(ratings, objective, monkeypatch):
    # fit runs STEPS_PER_CALL steps inside one compiled loop; one step per call must give
    # the same weights and history (the same arithmetic, in the same order)
    cfg = config(dropout=0.5, dtype="float32", epochs=2)
    fits = []
    for per_call in (1000, 1, 3):
        monkeypatch.setattr(SparseAutoRec, "STEPS_PER_CALL", per_call)
        fits.append(SparseAutoRec("user", cfg, seed=1, verbose=0, objective=objective)
                    .fit(ratings))
    for other in fits[1:]:
        for a, b in zip(fits[0].get_weights(), other.get_weights()):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
        assert other.steps_ == fits[0].steps_
        np.testing.assert_allclose(other.history_["loss"], fits[0].history_["loss"], rtol=1e-6)


def test_l2_penalty_kept_by_synchronize_equals_the_whole_kernel_sum(ratings):
    cfg = config(dtype="float64")
    model = SparseAutoRec("user", cfg, seed=0, verbose=0, objective="exact").fit(ratings)
    kept = model.l2_penalty()
    W, _, V, _ = model.get_weights()
    assert kept == pytest.approx(cfg.l2 * ((W ** 2).sum() + (V ** 2).sum()), rel=1e-12)
    model._squares = None  # recomputed from the variables
    assert model.l2_penalty() == pytest.approx(kept, rel=1e-12)


def test_lazy_momentum_equals_keras_sgd_when_every_batch_touches_every_column():
    # When each batch holds every column, "only the touched rows" is every row, so the lazy
    # objective's update (gather the momentum, m <- mu m - lr (g + 2 l2 w), w <- w + m,
    # scatter) must be keras.optimizers.SGD's on the whole model, step after step
    rng = np.random.default_rng(4)
    full = frame([(f"u{u:02d}", f"i{i}", float(rng.integers(1, 6)))
                  for u in range(12) for i in range(5)])  # every user rated every item
    cfg = config(dtype="float32", batch_size=4, epochs=2)  # 3 steps an epoch
    sparse = SparseAutoRec("user", cfg, seed=3, verbose=0, objective="lazy").fit(full)
    dense = keras_stepped_like(sparse, seed=3)
    assert sparse.steps_ == 6
    for a, b in zip(sparse.get_weights(), dense.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=5e-6)


def test_set_op_threads_keeps_the_users_setting_and_refuses_after_start(monkeypatch):
    from recsys_ae.sparse import set_op_threads

    with pytest.raises(ValueError, match="intra_op"):
        set_op_threads(-1)
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    assert set_op_threads(1) is False  # the environment variable wins, nothing changed
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS")
    tf.constant(0.0)  # TensorFlow has started in this process
    before = tf.config.threading.get_intra_op_parallelism_threads()
    other = 2 if before == 1 else 1
    with pytest.warns(RuntimeWarning, match="already started"):
        assert set_op_threads(other) is False
    assert tf.config.threading.get_intra_op_parallelism_threads() == before
    assert set_op_threads(before) is True  # already so: nothing to change



@pytest.mark.parametrize("objective,momentum,l2", [("exact", 0.9, 2.0**-7), ("lazy", 0.0, 0.0)])
def test_batches_without_a_repeated_column_train_like_the_dense_model(objective, momentum, l2):
    # The step takes a shortcut when no column appears twice in a batch: the entries are
    # then one per distinct column, and the sums by column are skipped. Here every item has
    # a single rater, so every batch takes it (the other tests' batches repeat columns).
    # The exact objective must equal Keras' SGD step after step; so must the lazy one
    # without momentum and L2, when an untouched row has nothing that would move it.
    rng = np.random.default_rng(6)
    data = frame([(f"u{u:02d}", f"i{u:02d}_{j}", float(rng.integers(1, 6)))
                  for u in range(12) for j in range(3)])
    cfg = config(dtype="float32", batch_size=4, epochs=2, momentum=momentum, l2=l2)
    sparse = SparseAutoRec("user", cfg, seed=3, verbose=0, objective=objective).fit(data)
    dense = keras_stepped_like(sparse, seed=3)
    assert sparse.steps_ == 6
    for a, b, start in zip(sparse.get_weights(), dense.get_weights(), sparse.initial_weights_):
        assert np.abs(a - start).max() > 1e-3  # the steps moved every weight
        np.testing.assert_allclose(a, b, rtol=0, atol=5e-6)
