"""End to end on real MovieLens 100K (canonical u1 split), and the train command."""

import json
import math

import numpy as np
import pytest

from recsys_ae import data, experiment
from recsys_ae.cli import main
from recsys_ae.registry import make_model, resolve_backend


@pytest.fixture(scope="module")
def i_autorec_u1(shared_data):
    return experiment.run("ml-100k", "i-autorec", preset="paper", seed=0, verbose=0)


def test_prepare_ml100k_uses_the_canonical_u1_split(shared_data):
    prepared = experiment.prepare("ml-100k")
    train, test = prepared.split.train, prepared.split.test
    assert (len(train), len(test)) == (80_000, 20_000)
    assert test.user.nunique() == 459  # published in the data README
    assert not prepared.synthetic


@pytest.mark.slow
def test_i_autorec_paper_beats_the_bias_baseline_on_u1(i_autorec_u1):
    result = i_autorec_u1
    assert result["n_ratings"] == 100_000 and result["n_test"] == 20_000
    # 32 test ratings are of items absent from u1.base: counted, predicted by the fallback
    assert result["n_test_cold"] == 32
    bias = result["baselines"]["bias"]["rmse"]
    assert 0.94 < bias < 0.97
    assert result["test_rmse"] < bias
    assert result["test_rmse"] < 0.95
    # and it is a real model, not a lucky constant: clearly better than the global mean
    assert result["test_rmse"] < result["baselines"]["global_mean"]["rmse"] - 0.2
    assert result["test_mae"] < result["baselines"]["bias"]["mae"]


def test_u_autorec_notebook_preset_trains_without_nan(shared_data):
    result = experiment.run("ml-100k", "u-autorec", preset="notebook", epochs=3, seed=0, verbose=0)
    assert all(math.isfinite(v) for v in result["history"]["loss"])
    assert math.isfinite(result["test_rmse"])
    # three epochs of the seed's SGD already beat predicting the global mean
    assert result["test_rmse"] < result["baselines"]["global_mean"]["rmse"]


def test_synthetic_run_is_labelled_and_reproducible():
    kwargs = dict(preset="paper", epochs=2, seed=5, verbose=0, size="small")
    a = experiment.run("synthetic", "u-autorec", **kwargs)
    b = experiment.run("synthetic", "u-autorec", **kwargs)
    assert a["synthetic"] is True
    assert a["test_rmse"] == pytest.approx(b["test_rmse"], rel=1e-6)
    # the seed filter ran and its removals are reported
    raw = data.load_dataset("synthetic", size="small", seed=5)
    assert a["raw"]["n_ratings"] == len(raw)
    assert a["filter_removed"] == len(raw) - a["n_ratings"]
    assert a["n_train"] + a["n_test"] == a["n_ratings"]
    assert a["n_train"] == int(0.8 * a["n_ratings"])


def test_prepare_rejects_unknown_filter_and_split():
    with pytest.raises(ValueError, match="filter"):
        experiment.prepare("synthetic", filter="magic")
    with pytest.raises(ValueError, match="canonical"):
        experiment.prepare("synthetic", split="u1")


def test_cli_train_json_on_ml100k(shared_data, capsys):
    status = main(["train", "--dataset", "ml-100k", "--model", "u-autorec", "--epochs", "2",
                   "--quiet", "--json"])
    out = capsys.readouterr().out
    assert status == 0
    result = json.loads(out.strip().splitlines()[-1])
    for key in ("dataset", "n_ratings", "n_users", "n_items", "model", "test_rmse", "test_mae",
                "baselines", "seconds"):
        assert key in result
    assert (result["n_ratings"], result["n_users"], result["n_items"]) == (100_000, 943, 1_682)
    assert set(result["baselines"]) == {"global_mean", "bias", "biased_mf"}
    assert set(result["baselines"]["bias"]) == {"rmse", "mae"}
    assert np.isfinite(result["test_rmse"])
    assert "U-AutoRec" in out and "user + item bias" in out and "biased MF" in out


def test_cli_synthetic_output_says_synthetic(capsys):
    assert main(["train", "--dataset", "synthetic", "--epochs", "1", "--quiet"]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out


def test_cli_offline_without_file_is_a_clear_error_not_a_traceback(tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.setenv("RECSYS_AE_DATA_DIR", str(tmp_path))
    status = main(["train", "--no-download", "--quiet"])  # default dataset: amazon-beauty
    err = capsys.readouterr().err
    assert status == 1
    assert "ratings_Beauty.csv" in err
    assert "snap.stanford.edu" in err
    assert str(tmp_path / "amazon-beauty") in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, needle", [
    (["train", "--dataset", "nope"], "invalid choice: 'nope'"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "--epochs", "0"], "positive integer"),
])
def test_cli_bad_arguments_give_one_line_and_exit_2(argv, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert needle in err
    assert len(err.strip().splitlines()) == 1


def test_cli_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--dataset", "--model", "--preset", "--epochs", "--seed", "--split",
                   "--filter", "--size", "--data-dir", "--no-download", "--json"):
        assert option in text


def test_auto_path_is_sparse_for_beauty_shaped_data_and_dense_for_movielens(shared_data):
    ml = experiment.prepare("ml-100k").split.train
    synthetic = experiment.prepare("synthetic").split.train
    # density = ratings / (users x items), computed independently
    ml_density = len(ml) / (ml.user.nunique() * ml.item.nunique())
    syn_density = len(synthetic) / (synthetic.user.nunique() * synthetic.item.nunique())
    assert ml_density > 0.05 and syn_density < 0.01
    assert resolve_backend("auto", ml) == "dense"
    assert resolve_backend("auto", synthetic) == "sparse"
    assert resolve_backend("dense", synthetic) == "dense"
    with pytest.raises(ValueError, match="backend"):
        resolve_backend("gpu")


def test_float64_model_with_l2_trains():
    # Keras keeps its loss in float32; the L2 term must not break float64 weights
    from recsys_ae.autorec import AutoRec, AutoRecConfig

    ratings = data.synthetic_ratings(2_000, 200, 50, seed=1)
    config = AutoRecConfig(hidden_units=4, l2=1e-3, epochs=1, batch_size=16, dtype="float64")
    model = AutoRec("user", config, verbose=0).fit(ratings)
    assert model.model_.get_layer("encoder").kernel.dtype == "float64"
    assert math.isfinite(model.history_["loss"][0])


def test_auto_objective_is_exact_for_sgd_and_lazy_for_adam():
    notebook_model = make_model("u-autorec", "notebook", backend="sparse")
    paper_model = make_model("i-autorec", "paper", backend="sparse")
    assert notebook_model.config.optimizer == "sgd" and notebook_model.objective == "exact"
    assert paper_model.config.optimizer == "adam" and paper_model.objective == "lazy"
    assert make_model("u-autorec", "notebook", backend="sparse",
                      objective="lazy").objective == "lazy"
    with pytest.warns(FutureWarning, match="'lazy'"):
        assert make_model("u-autorec", "notebook", backend="sparse",
                          objective="fast").objective == "lazy"
