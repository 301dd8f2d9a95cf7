"""The masked loss and row batching, on hand-worked cases."""

import numpy as np
import pytest
import scipy.sparse as sp
import tensorflow as tf

from recsys_ae.training import MaskedMSE, MaskedRMSE, RowBatches, dense_rows, masked_mse

NAN = np.nan


def test_masked_mse_hand_worked_case():
    # observed [5, -, 3], predicted [4, 2, 3]: ((4-5)^2 + (3-3)^2) / 2 = 0.5
    y_true = np.array([[5.0, NAN, 3.0]], dtype=np.float32)
    y_pred = tf.constant([[4.0, 2.0, 3.0]])
    assert float(masked_mse(y_true, y_pred)) == pytest.approx(0.5)
    assert float(MaskedMSE()(y_true, y_pred)) == pytest.approx(0.5)


def test_unobserved_prediction_changes_neither_loss_nor_gradient():
    y_true = np.array([[5.0, NAN, 3.0]], dtype=np.float32)
    results = []
    for unobserved_guess in (2.0, -100.0):
        y_pred = tf.Variable([[4.0, unobserved_guess, 3.0]])
        with tf.GradientTape() as tape:
            loss = masked_mse(y_true, y_pred)
        results.append((float(loss), tape.gradient(loss, y_pred).numpy()))
    (loss_a, grad_a), (loss_b, grad_b) = results
    assert loss_a == loss_b == pytest.approx(0.5)
    # d/dpred of ((p0-5)^2 + (p2-3)^2)/2 = [(p0-5), 0, (p2-3)] = [-1, 0, 0]
    np.testing.assert_allclose(grad_a, [[-1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(grad_a, grad_b)


def test_row_with_no_observed_entry_is_nan_free_and_contributes_nothing():
    empty_only = np.full((1, 3), NAN, dtype=np.float32)
    y_pred = tf.Variable([[1.0, 2.0, 3.0]])
    with tf.GradientTape() as tape:
        loss = masked_mse(empty_only, y_pred)
    assert float(loss) == 0.0
    assert np.all(np.isfinite(tape.gradient(loss, y_pred).numpy()))
    # an empty row added to a batch leaves the loss unchanged
    y_true = np.array([[5.0, NAN, 3.0], [NAN, NAN, NAN]], dtype=np.float32)
    y_pred2 = tf.constant([[4.0, 2.0, 3.0], [9.0, 9.0, 9.0]])
    assert float(masked_mse(y_true, y_pred2)) == pytest.approx(0.5)


def test_a_rating_equal_to_the_mean_is_still_counted():
    # after centring, a rating equal to the mean is 0.0: it must stay observed
    y_true = np.array([[0.0, NAN]], dtype=np.float32)
    y_pred = tf.constant([[1.0, 7.0]])
    assert float(masked_mse(y_true, y_pred)) == pytest.approx(1.0)


def test_masked_rmse_weights_every_rating_not_every_batch():
    metric = MaskedRMSE()
    metric.update_state(np.array([[1.0, NAN]], np.float32), tf.constant([[0.0, 5.0]]))  # 1 err^2=1
    metric.update_state(np.array([[0.0, 0.0, 0.0]], np.float32), tf.constant([[2.0, 2.0, 2.0]]))
    # (1 + 4 + 4 + 4) / 4 = 3.25, not the mean of batch MSEs (1 + 4) / 2
    assert float(metric.result()) == pytest.approx(np.sqrt(3.25))


def _csr(rows):
    """Small CSR from dict rows {col: rating}; explicit zeros allowed."""
    indptr, indices, data = [0], [], []
    for row in rows:
        for col, value in sorted(row.items()):
            indices.append(col)
            data.append(value)
        indptr.append(len(indices))
    return sp.csr_matrix((np.array(data, np.float32), indices, indptr), shape=(len(rows), 3))


def test_dense_rows_uses_structure_not_values():
    matrix = _csr([{0: 5.0, 2: 3.0}, {1: 4.0}])
    x = dense_rows(matrix, np.array([0, 1]), shift=4.0, fill=0.0)
    y = dense_rows(matrix, np.array([0, 1]), shift=4.0, fill=np.nan)
    np.testing.assert_array_equal(x, [[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    # the 4.0 rating equals the mean: 0.0 after centring, but observed in the target
    np.testing.assert_array_equal(np.isnan(y), [[False, True, False], [True, False, True]])
    assert y[1, 1] == 0.0


def test_ten_rows_batch_four_give_batches_of_4_4_2():
    rng = np.random.default_rng(0)
    matrix = sp.random(10, 3, density=0.5, format="csr", random_state=rng, dtype=np.float32)
    matrix.data[:] = 3.0
    batches = RowBatches(matrix, batch_size=4, shuffle=True, seed=1)
    assert len(batches) == 3
    sizes = [batches[i][0].shape[0] for i in range(len(batches))]
    assert sizes == [4, 4, 2]
    # every row appears exactly once per epoch
    assert sorted(batches.order.tolist()) == list(range(10))
    with pytest.raises(IndexError):
        batches[3]


def test_row_batches_same_seed_same_order_and_reshuffles_each_epoch():
    matrix = sp.identity(50, format="csr", dtype=np.float32)
    a = RowBatches(matrix, batch_size=8, seed=3)
    b = RowBatches(matrix, batch_size=8, seed=3)
    np.testing.assert_array_equal(a.order, b.order)
    first = a.order.copy()
    a.on_epoch_end()
    assert not np.array_equal(first, a.order)


def test_validation_batches_read_training_inputs_and_heldout_targets():
    train = _csr([{0: 5.0}, {1: 2.0}])
    held_out = _csr([{2: 4.0}, {}])
    x, y = RowBatches(train, held_out, batch_size=2, mean=3.0, shuffle=False)[0]
    np.testing.assert_array_equal(x, [[2.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    assert y[0, 2] == 1.0 and np.isnan(y[0, :2]).all() and np.isnan(y[1]).all()


def test_row_batches_rejects_bad_arguments():
    matrix = sp.identity(3, format="csr", dtype=np.float32)
    with pytest.raises(ValueError, match="batch_size"):
        RowBatches(matrix, batch_size=0)
    with pytest.raises(ValueError, match="shape"):
        RowBatches(matrix, sp.identity(4, format="csr"))
