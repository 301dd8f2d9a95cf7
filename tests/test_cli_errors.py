"""The command line's bad-input answers (issue 11; rows of book/bad_input.md).

Every argument is checked before any data is read, errors are one line naming the
option (exit status 2) or the file (status 1), a save path is checked before
training, and Ctrl-C during training exits with one line (status 130), keeping the
weights reached so far with --save.
"""

import json

import numpy as np
import pandas as pd
import pytest

from recsys_ae import cli


def error_of(capsys, argv, status):
    """Run the CLI; return its one-line stderr error after checking the exit status."""
    try:
        code = cli.main(argv)
    except SystemExit as stop:
        code = stop.code
    assert code == status
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1, err
    return err[0]


@pytest.fixture
def ratings_file(tmp_path):
    """A small headerless file on a 1-5 scale: 300 ratings of 30 users and 20 items."""
    rng = np.random.default_rng(0)
    pairs = pd.DataFrame({"user": rng.integers(0, 30, 800), "item": rng.integers(0, 20, 800)})
    pairs = pairs.drop_duplicates().iloc[:300]
    pairs["rating"] = rng.integers(1, 6, len(pairs))
    path = tmp_path / "mine.csv"
    pairs.to_csv(path, index=False, header=False)
    return path


@pytest.mark.parametrize("argv, says", [
    (["--seed", "-1"], "argument --seed: expected an integer from 0 to 4294967295"),
    (["--seed", str(2**32)], "argument --seed: expected an integer from 0 to 4294967295"),
    (["--filter", "kcore-x"], "argument --filter: expected 'one-pass', 'none' or 'kcore-K'"),
    (["--epochs", "0"], "argument --epochs: expected a positive integer"),
    (["--model", "bias", "--epochs", "3"], "argument --epochs: bias is not trained in epochs"),
    (["--rating-scale", "1", "5"], "argument --rating-scale: applies to --ratings files"),
    (["--split", "u1", "--dataset", "synthetic"], "argument --split: u1 is MovieLens 100K's"),
    (["--overwrite"], "argument --overwrite: needs --save"),
    (["--test", "x.csv"], "argument --test: no such file"),
    (["--ratings", "no/such.csv"], "argument --ratings: no such file: 'no/such.csv'"),
])
def test_arguments_are_checked_before_any_work_naming_the_option(capsys, argv, says):
    assert says in error_of(capsys, ["train", *argv], 2)


def test_ratings_options_are_checked_together(capsys, ratings_file):
    f = str(ratings_file)
    assert "--ratings: not allowed with --dataset" in error_of(
        capsys, ["train", "--ratings", f, "--dataset", "ml-100k"], 2)
    assert "--test: needs --ratings" in error_of(capsys, ["train", "--test", f], 2)
    assert "--split: not allowed with --test" in error_of(
        capsys, ["train", "--ratings", f, "--test", f, "--split", "random"], 2)
    assert "--rating-scale: expected MIN MAX [STEP] with MIN <= MAX" in error_of(
        capsys, ["train", "--ratings", f, "--rating-scale", "5", "1"], 2)


def test_save_path_is_checked_before_training(capsys, tmp_path, monkeypatch):
    import recsys_ae.experiment

    monkeypatch.setattr(recsys_ae.experiment, "run", lambda *a, **k: pytest.fail("trained"))
    (tmp_path / "a_file").write_text("x")
    assert "argument --save: cannot create" in error_of(
        capsys, ["train", "--save", str(tmp_path / "a_file" / "m")], 2)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert "holding other files (notes.txt)" in error_of(
        capsys, ["train", "--save", str(tmp_path / "mine")], 2)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_header_only_file_is_blamed_on_the_file(capsys, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("userId,movieId,rating,timestamp\n")
    err = error_of(capsys, ["train", "--ratings", str(path), "--quiet"], 1)
    assert "header.csv: the file has no ratings" in err and "test_size" not in err


def test_a_filter_that_removes_everything_is_named_with_its_report(capsys, ratings_file):
    err = error_of(capsys, ["train", "--ratings", str(ratings_file), "--filter", "kcore-50",
                            "--quiet"], 1)
    assert err.endswith("error: filter 'kcore-50' removed every rating (k-core pass 1: "
                        "users: 300 -> 0 ratings; k-core pass 1: items: 0 -> 0 ratings); use "
                        "a weaker filter or 'none'")


def test_a_rating_outside_the_stated_scale_names_its_line(capsys, ratings_file):
    with open(ratings_file, "a") as f:
        f.write("x,y,6\n")
    err = error_of(capsys, ["train", "--ratings", str(ratings_file), "--rating-scale", "1", "5",
                            "--quiet"], 1)
    assert "outside the stated rating_scale 1-5" in err and "line 301: 6" in err


def test_own_file_trains_with_notes_on_stderr(capsys, ratings_file):
    assert cli.main(["train", "--ratings", str(ratings_file), "--model", "bias", "--json"]) == 0
    captured = capsys.readouterr()
    assert "recsys_ae: note: mine.csv: no header; line 1 is data" in captured.err
    assert "rating scale 1-5, step 1 (inferred" in captured.err
    result = json.loads(captured.out.splitlines()[-1])
    assert (result["n_train"], result["n_test"], result["split"]) == (240, 60, "random")
    assert cli.main(["train", "--ratings", str(ratings_file), "--model", "bias",
                     "--quiet"]) == 0
    assert "note" not in capsys.readouterr().err


def test_own_train_and_test_files(capsys, ratings_file, tmp_path):
    test = tmp_path / "test.csv"
    test.write_text("0,0,4\n1,1,7\n")
    err = error_of(capsys, ["train", "--ratings", str(ratings_file), "--test", str(test),
                            "--model", "bias", "--quiet"], 1)
    assert "test.csv: 1 rating(s) outside the stated rating_scale 1-5" in err
    test.write_text("0,0,4\n1,1,2\n")
    assert cli.main(["train", "--ratings", str(ratings_file), "--test", str(test), "--model",
                     "bias", "--quiet", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (result["n_train"], result["n_test"]) == (300, 2)


def interrupt_after_first_batch(monkeypatch):
    """Make every Keras fit stop with KeyboardInterrupt after one batch has changed
    the weights, as Ctrl-C would."""
    import keras

    class CtrlC(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise KeyboardInterrupt

    original = keras.Model.fit

    def fit(self, *args, callbacks=None, **kwargs):
        return original(self, *args, callbacks=[*(callbacks or []), CtrlC()], **kwargs)
    monkeypatch.setattr(keras.Model, "fit", fit)


def test_ctrl_c_during_training_saves_the_weights_reached(capsys, ratings_file, tmp_path,
                                                           monkeypatch):
    from recsys_ae.persist import load_model

    interrupt_after_first_batch(monkeypatch)
    path = tmp_path / "partial"
    code = cli.main(["train", "--ratings", str(ratings_file), "--backend", "dense",
                     "--epochs", "5", "--quiet", "--save", str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 130
    assert lines == [f"python -m recsys_ae: interrupted (Ctrl-C) during training; the weights "
                     f"reached so far are saved to {path}, marked interrupted"]
    loaded = load_model(path)
    assert loaded.interrupted_
    assert json.loads((path / "autorec.json").read_text())["interrupted"] is True
    assert cli.main(["recommend", "--model", str(path), "--user", "0", "-k", "3"]) == 0
    assert f"note: training of {path} was interrupted (Ctrl-C)" in capsys.readouterr().err


def test_ctrl_c_without_save_is_one_line(capsys, ratings_file, monkeypatch):
    interrupt_after_first_batch(monkeypatch)
    code = cli.main(["train", "--ratings", str(ratings_file), "--backend", "dense",
                     "--quiet"])
    assert code == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "python -m recsys_ae: interrupted (Ctrl-C) during training; nothing saved (use "
        "--save PATH to keep the weights reached so far)"]


def test_the_library_lets_ctrl_c_through(ratings_file, monkeypatch):
    from recsys_ae.experiment import run

    interrupt_after_first_batch(monkeypatch)
    with pytest.raises(KeyboardInterrupt) as stop:
        run("mine", "i-autorec", ratings=str(ratings_file), backend="dense", verbose=0)
    assert stop.value.model.train_matrix_.shape == (20, 30)


def test_recommend_with_a_damaged_model_is_one_line(capsys, tmp_path, ratings_file):
    assert cli.main(["train", "--ratings", str(ratings_file), "--epochs", "1", "--quiet",
                     "--backend", "dense", "--save", str(tmp_path / "m")]) == 0
    capsys.readouterr()
    npz = tmp_path / "m" / "train_matrix.npz"
    npz.write_bytes(npz.read_bytes()[:100])
    err = error_of(capsys, ["recommend", "--model", str(tmp_path / "m"), "--user", "0"], 1)
    assert "train_matrix.npz: SHA-256 differs" in err
    assert "already holds a saved model; pass --overwrite" in error_of(
        capsys, ["train", "--ratings", str(ratings_file), "--save", str(tmp_path / "m")], 2)


def test_the_command_line_asks_for_one_thread_per_operation_first(capsys, tmp_path,
                                                                   monkeypatch):
    # the sparse step is faster with one TensorFlow thread per operation, a setting that
    # must come before TensorFlow's first operation: the command line makes it before it
    # reads anything, and silently (it may be called from a session that already started)
    import recsys_ae.sparse

    calls = []
    monkeypatch.setattr(recsys_ae.sparse, "set_op_threads",
                        lambda *a, **k: calls.append((a, k)) or False)
    path = tmp_path / "header.csv"
    path.write_text("userId,movieId,rating,timestamp\n")
    error_of(capsys, ["train", "--ratings", str(path), "--quiet"], 1)
    assert calls == [((), {"warn": False})]
