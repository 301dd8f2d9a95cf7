"""Issue 10: AutoRec's recommended workflow on any ratings file.

The rating scale is handled by the model (``scale_ratings``), the penalty is the paper's
lambda (``lam``), epochs are chosen by early stopping, and ``tune`` / ``train --preset auto``
choose the configuration on validation ratings carved from the training part only.
"""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from recsys_ae import cli, experiment, preprocess, tuning
from recsys_ae.configs import AutoRecConfig
from recsys_ae.metrics import evaluate
from recsys_ae.registry import make_model

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: A small, quick configuration using every new field.
QUICK = AutoRecConfig(hidden_units=16, batch_size=128, epochs=3, centre=False,
                      scale_ratings=True, input="residual", lam=10.0, learning_rate=1e-2)


@pytest.fixture(scope="module")
def small(u1_first_200):
    return u1_first_200


def test_lam_is_the_papers_lambda_on_the_training_ratings(small):
    train, _ = small
    model = make_model("i-autorec", config=QUICK, verbose=0).fit(train)
    assert model.l2_ == pytest.approx(tuning.paper_l2_equivalent(10.0, len(train)))
    assert model.l2_ == pytest.approx(10.0 / (2 * len(train)))
    assert model.model_.get_layer("encoder").kernel_regularizer.l2 == pytest.approx(model.l2_)
    # without lam, l2 is used as it is
    plain = make_model("i-autorec", config=dataclasses.replace(QUICK, lam=None, l2=3e-4),
                       verbose=0).fit(train)
    assert plain.l2_ == 3e-4
    with pytest.raises(ValueError, match="lam"):
        AutoRecConfig(lam=-1.0)


@pytest.mark.parametrize("backend", ["dense", "sparse"])
@pytest.mark.parametrize("inp", ["raw", "residual"])
def test_scaled_ratings_give_an_rmse_that_scales_with_the_scale(to_100, small, inp, backend):
    train, test = small
    cfg = dataclasses.replace(QUICK, input=inp, dtype="float64")
    a = make_model("i-autorec", config=cfg, backend=backend, verbose=0).fit(train)
    b = make_model("i-autorec", config=cfg, backend=backend, verbose=0).fit(to_100(train))
    rmse_a = evaluate(a, test)["rmse"] / 4.0
    rmse_b = evaluate(b, to_100(test))["rmse"] / 99.0
    assert rmse_b == pytest.approx(rmse_a, rel=0.02)
    assert b.history_["rmse"][-1] / 99.0 == pytest.approx(a.history_["rmse"][-1] / 4.0,
                                                          rel=0.02)
    pred = b.predict(test["user"].tolist(), test["item"].tolist())
    assert pred.min() >= 1.0 and pred.max() <= 100.0


def test_scaling_changes_nothing_on_a_1_to_5_scale(small):
    train, test = small
    cfg = dataclasses.replace(QUICK, input="raw", lam=None, l2=1e-3)
    a = make_model("i-autorec", config=cfg, verbose=0).fit(train)
    b = make_model("i-autorec", config=dataclasses.replace(cfg, scale_ratings=False),
                   verbose=0).fit(train)
    users, items = test["user"].tolist(), test["item"].tolist()
    assert np.array_equal(a.predict(users, items), b.predict(users, items))


def test_early_stopping_keeps_the_best_validation_epoch(small):
    train, _ = small
    fit, val = preprocess.validation_split(train, 0.1, seed=0)
    cfg = dataclasses.replace(QUICK, epochs=40, early_stopping_patience=2,
                              learning_rate=5e-2)
    model = make_model("i-autorec", config=cfg, verbose=0).fit(fit, validation=val)
    val_rmse = model.history_["val_rmse"]
    assert model.best_epoch_ == int(np.argmin(val_rmse)) + 1
    assert len(val_rmse) <= model.best_epoch_ + 2
    # the kept weights are the best epoch's: Keras' validation RMSE recomputed
    known = model.cold_pairs(val["user"].tolist(), val["item"].tolist())
    v = val[~known]
    pred = model._predict_known(model.index_.user_rows(v["user"].tolist()),
                                model.index_.item_cols(v["item"].tolist()))
    got = np.sqrt(np.mean((pred - v["rating"].to_numpy(float)) ** 2))
    assert got == pytest.approx(min(val_rmse), rel=1e-3)
    with pytest.raises(ValueError, match="needs validation"):
        make_model("i-autorec", config=cfg, verbose=0).fit(fit)


class _Untouchable(pd.DataFrame):
    """A test frame that fails as soon as anything looks into it."""

    def __getattribute__(self, name):
        if name.startswith("_") and name not in ("__class__",):
            return object.__getattribute__(self, name)
        raise AssertionError(f"the test part was read ({name})")

    def __len__(self):
        raise AssertionError("the test part was read (len)")


@pytest.fixture
def tiny_search(monkeypatch):
    """A two-configuration search of 2-epoch runs."""
    monkeypatch.setattr(tuning, "AUTO_BASE", dataclasses.replace(
        tuning.AUTO_BASE, hidden_units=16, early_stopping_patience=2))
    monkeypatch.setattr(tuning, "AUTO_STEPS", (("input", ("raw", "residual")),))
    monkeypatch.setattr(tuning, "AUTO_EPOCHS", (2, 2))


def test_tune_never_reads_the_test_part(small, monkeypatch, capsys, tmp_path, tiny_search):
    train, _ = small
    real_prepare = experiment.prepare

    def prepare(*args, **kwargs):
        prepared = real_prepare(*args, **kwargs)
        prepared.split = preprocess.Split(train=train, test=_Untouchable(),
                                          name="poisoned")
        return prepared

    monkeypatch.setattr(experiment, "prepare", prepare)
    out_file = tmp_path / "chosen.json"
    assert cli.main(["tune", "--dataset", "ml-100k", "--config-out", str(out_file)]) == 0
    out = capsys.readouterr()
    assert "<- chosen" in out.out and "validation RMSE of the bias baseline" in out.out
    assert out.err.count("recsys_ae: [") == 2  # one progress line per configuration
    payload = json.loads(out_file.read_text())
    assert payload["search"]["n_fit"] + payload["search"]["n_validation"] == len(train)


def test_train_config_round_trip(small, tmp_path, capsys):
    train, test = small
    path = tmp_path / "cfg.json"
    cfg = dataclasses.replace(QUICK, epochs=2)
    tuning.save_config(path, cfg, "u-autorec")
    assert tuning.load_config(path) == ("u-autorec", cfg)
    ratings, test_file = tmp_path / "r.csv", tmp_path / "t.csv"
    train[["user", "item", "rating"]].to_csv(ratings, index=False)
    test[["user", "item", "rating"]].to_csv(test_file, index=False)
    assert cli.main(["train", "--ratings", str(ratings), "--test", str(test_file), "--config",
                     str(path), "--quiet", "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["model"] == "U-AutoRec" and result["preset"] == "config"
    assert result["epochs"] == 2 and "biased_mf" in result["baselines"]
    assert "biased MF (default)" in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": "i-autorec", "config": {"hiden_units": 5}}))
    with pytest.raises(ValueError, match="unknown configuration field 'hiden_units'"):
        tuning.load_config(bad)


def test_auto_refuses_a_search_of_hours_with_the_command_to_run(small, monkeypatch, capsys,
                                                                 tmp_path):
    train, _ = small
    monkeypatch.setattr(tuning, "SECONDS_PER_CELL_UNIT_EPOCH", 1e-3)
    ratings = tmp_path / "r.csv"
    train[["user", "item", "rating"]].to_csv(ratings, index=False)
    assert cli.main(["train", "--ratings", str(ratings), "--preset", "auto", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "hours" in err and "python -m recsys_ae tune" in err and "--preset paper" in err


def test_auto_workflow_beats_the_bias_baseline_on_real_ratings(small, tiny_search,
                                                               monkeypatch):
    """The searched, refitted I-AutoRec against the biases on held-out ratings."""
    train, test = small
    monkeypatch.setattr(tuning, "AUTO_EPOCHS", (30, 30))
    monkeypatch.setattr(tuning, "AUTO_BASE", dataclasses.replace(
        tuning.AUTO_BASE, hidden_units=100, early_stopping_patience=5))
    model, search = tuning.auto_fit(train, "i-autorec", seed=0)
    assert len(search.table) == 2 and search.table["chosen"].sum() == 1
    assert search.config.early_stopping_patience is None
    bias = evaluate(make_model("bias").fit(train), test)["rmse"]
    assert evaluate(model, test)["rmse"] < bias
