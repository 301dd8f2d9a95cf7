"""Saving and loading a fitted AutoRec (recsys_ae.persist)."""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys_ae.autorec import AutoRec, AutoRecConfig
from recsys_ae.persist import (FORMAT_VERSION, ModelFolderError, check_save_path, load_autorec,
                               save_autorec)


@pytest.fixture(scope="module")
def ratings():
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"user": rng.integers(0, 40, n).astype(str),
                          "item": rng.integers(0, 30, n).astype(str),
                          "rating": rng.integers(1, 6, n).astype(float)})
    return frame.drop_duplicates(["user", "item"]).reset_index(drop=True)


@pytest.mark.parametrize("kind", ["item", "user"])
def test_loaded_model_predicts_identically(tmp_path, ratings, kind):
    config = AutoRecConfig.preset("paper", epochs=2, hidden_units=8)
    model = AutoRec(kind, config, seed=3, verbose=0).fit(ratings)
    users = np.append(ratings["user"].to_numpy()[:50], "stranger")
    items = np.append(ratings["item"].to_numpy()[:50], "0")
    before = model.predict(users, items)
    save_autorec(model, tmp_path / "m")
    loaded = load_autorec(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(users, items), before)
    assert loaded.cold_pairs(users, items).sum() == 1 and loaded.config == model.config
    assert loaded.kind == kind and loaded.seed == 3
    assert loaded.index_ == model.index_


def save_and_load(model, tmp_path):
    save_autorec(model, tmp_path / "saved")
    return load_autorec(tmp_path / "saved")


def test_recommend_excludes_rated_items_and_falls_back_to_popularity(tmp_path, ratings):
    config = AutoRecConfig.preset("paper", epochs=1, hidden_units=4)
    model = AutoRec("item", config, seed=0, verbose=0).fit(ratings)
    user = ratings["user"].iloc[0]
    top = model.recommend(user, k=5)
    items, scores, known = top["item"].tolist(), top["score"].tolist(), top.attrs["known_user"]
    rated = set(ratings.loc[ratings["user"] == user, "item"])
    assert known and len(items) == 5 and not rated & set(items)
    # scores are the model's own predictions before clipping, best first
    np.testing.assert_allclose(np.clip(scores, *model.rating_range_),
                               model.predict([user] * 5, items))
    rows = model.index_.item_cols(items)
    col = model.index_.user_rows([user])[0]
    np.testing.assert_allclose(scores, model.reconstruct(rows)[:, col])
    assert scores == sorted(scores, reverse=True)
    top = save_and_load(model, tmp_path).recommend("nobody", k=3)
    items, counts, known = top["item"].tolist(), top["score"].tolist(), top.attrs["known_user"]
    expected = ratings["item"].value_counts()
    assert not known
    assert counts == expected.iloc[:3].astype(float).tolist()
    assert all(expected[i] == c for i, c in zip(items, counts))


def test_load_reports_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_autorec"):
        load_autorec(tmp_path / "nothing")


# -- a saved folder is checked on load (issue 11; book/bad_input.md) ------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory, ratings):
    """One tiny saved I-AutoRec and one U-AutoRec; tests copy them before damaging."""
    root = tmp_path_factory.mktemp("saved")
    config = AutoRecConfig.preset("paper", epochs=1, hidden_units=4)
    for kind in ("item", "user"):
        save_autorec(AutoRec(kind, config, seed=0, verbose=0).fit(ratings), root / kind)
    return root


def copy_of(saved, tmp_path, kind="item"):
    return Path(shutil.copytree(saved / kind, tmp_path / kind))


def edit_sidecar(folder, change):
    meta = json.loads((folder / "autorec.json").read_text())
    change(meta)
    (folder / "autorec.json").write_text(json.dumps(meta))


def test_sidecar_records_version_shapes_and_checksums(saved):
    meta = json.loads((saved / "item" / "autorec.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION == 2
    assert meta["recsys_ae_version"] and meta["interrupted"] is False
    shapes = meta["shapes"]
    assert shapes["train_matrix"] == [shapes["n_items"], shapes["n_users"]]
    assert shapes["network"] == [shapes["n_users"], 4]
    digest = hashlib.sha256((saved / "item" / "model.keras").read_bytes()).hexdigest()
    assert meta["sha256"]["model.keras"] == digest
    assert {"train_matrix.npz", "users", "items", "kind", "rating_range"} <= set(meta["sha256"])


@pytest.mark.parametrize("field, change", [
    ("users", lambda m: m.__setitem__("users", m["users"][1:] + m["users"][:1])),   # reordered
    ("users", lambda m: m.__setitem__("users", m["users"][:-1])),                   # off by one
    ("items", lambda m: m.__setitem__("items", m["items"][:-1])),                   # item dropped
    ("kind", lambda m: m.__setitem__("kind", "user")),                              # kind flipped
    ("rating_range", lambda m: m.__setitem__("rating_range", m["rating_range"][::-1])),
])
def test_a_sidecar_that_disagrees_is_refused_naming_the_field(saved, tmp_path, field, change):
    folder = copy_of(saved, tmp_path)
    edit_sidecar(folder, change)
    with pytest.raises(ModelFolderError, match=f"autorec.json: field '{field}' does not match "
                                               "its recorded SHA-256"):
        load_autorec(folder)


def test_shapes_are_checked_even_when_the_checksums_were_redone(saved, tmp_path):
    folder = copy_of(saved, tmp_path)

    def drop_item_and_rehash(meta):
        meta["items"] = meta["items"][:-1]
        meta["sha256"]["items"] = hashlib.sha256(json.dumps(meta["items"]).encode()).hexdigest()
    edit_sidecar(folder, drop_item_and_rehash)
    with pytest.raises(ModelFolderError, match=r"autorec.json: .*items listed"):
        load_autorec(folder)


@pytest.mark.parametrize("name, damage", [
    ("model.keras", lambda p: p.write_bytes(p.read_bytes()[:500])),
    ("train_matrix.npz", lambda p: p.write_bytes(p.read_bytes()[:200])),   # was BadZipFile
    ("train_matrix.npz", lambda p: p.write_bytes(b"garbage")),
])
def test_a_damaged_file_is_a_one_line_error_naming_it(saved, tmp_path, name, damage):
    folder = copy_of(saved, tmp_path)
    damage(folder / name)
    with pytest.raises(ModelFolderError, match=f"{name}: SHA-256 differs") as err:
        load_autorec(folder)
    assert "\n" not in str(err.value)


def test_a_damaged_file_with_a_matching_checksum_is_still_a_clear_error(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    (folder / "train_matrix.npz").write_bytes(b"garbage")
    digest = hashlib.sha256(b"garbage").hexdigest()
    edit_sidecar(folder, lambda m: m["sha256"].__setitem__("train_matrix.npz", digest))
    with pytest.raises(ModelFolderError, match="train_matrix.npz: cannot be read"):
        load_autorec(folder)


def test_a_network_swapped_between_u_and_i_folders_is_refused(saved, tmp_path):
    folder = copy_of(saved, tmp_path, "item")
    shutil.copy(saved / "user" / "model.keras", folder / "model.keras")   # was an error in
    with pytest.raises(ModelFolderError, match="model.keras: SHA-256 differs"):  # recommend
        load_autorec(folder)
    digest = hashlib.sha256((folder / "model.keras").read_bytes()).hexdigest()
    edit_sidecar(folder, lambda m: m["sha256"].__setitem__("model.keras", digest))
    with pytest.raises(ModelFolderError, match="model.keras: network 'U_AutoRec', the sidecar "
                                               "says kind 'item'"):
        load_autorec(folder)


def test_a_newer_sidecar_with_an_extra_field_names_field_and_version(saved, tmp_path):
    folder = copy_of(saved, tmp_path)

    def newer(meta):
        meta["config"]["new_option"] = 1
        meta["recsys_ae_version"] = "9.0.0"
    edit_sidecar(folder, newer)
    with pytest.raises(ModelFolderError, match=r"unknown field 'config.new_option', written by "
                                               r"recsys_ae 9.0.0 .*upgrade"):
        load_autorec(folder)                                        # was a TypeError


def test_a_sidecar_saved_before_a_config_field_existed_loads_with_its_default(saved, tmp_path):
    from recsys_ae.persist import _sha256_value

    folder = copy_of(saved, tmp_path)
    before = load_autorec(folder)

    def older(meta):  # as written by a version without the field (checksum of that config)
        meta["config"].pop("early_stopping_patience")
        meta["sha256"]["config"] = _sha256_value(meta["config"])
    edit_sidecar(folder, older)
    loaded = load_autorec(folder)
    assert loaded.config == before.config

    def damaged(meta):
        meta["config"].pop("hidden_units")
        meta["sha256"]["config"] = _sha256_value(meta["config"])
    edit_sidecar(folder, damaged)
    with pytest.raises(ModelFolderError, match="config.hidden_units"):
        load_autorec(folder)


@pytest.mark.parametrize("version, says", [(1, "no checksums .* save the model again"),
                                           (3, "upgrade recsys_ae")])
def test_another_format_version_is_refused(saved, tmp_path, version, says):
    folder = copy_of(saved, tmp_path)
    edit_sidecar(folder, lambda m: m.__setitem__("format_version", version))
    with pytest.raises(ModelFolderError, match=f"format_version {version} .*{says}"):
        load_autorec(folder)


def test_a_sidecar_that_is_not_json_is_a_clear_error(saved, tmp_path):
    folder = copy_of(saved, tmp_path)
    (folder / "autorec.json").write_text("{oops")
    with pytest.raises(ModelFolderError, match="autorec.json: not a readable sidecar"):
        load_autorec(folder)


def test_save_refuses_files_and_non_empty_folders_and_replaces_only_with_overwrite(
        saved, tmp_path, ratings):
    model = load_autorec(saved / "item")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        save_autorec(model, tmp_path / "a_file")
    with pytest.raises(NotADirectoryError, match="a_file is a file, not a folder"):
        check_save_path(tmp_path / "a_file" / "m")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"other files \(notes.txt\)"):
        save_autorec(model, tmp_path / "notes", overwrite=True)
    target = save_autorec(model, tmp_path / "m")
    with pytest.raises(FileExistsError, match="already holds a saved model; pass --overwrite"):
        save_autorec(model, target)
    save_autorec(model, target, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "m", "notes"]
    assert load_autorec(target).predict(["0"], ["0"]).shape == (1,)


def test_an_interrupted_save_leaves_nothing(saved, tmp_path, monkeypatch):
    model = load_autorec(saved / "item")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_autorec(model, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_model_is_marked(saved, tmp_path):
    model = load_autorec(saved / "item")
    assert model.interrupted_ is False
    assert load_autorec(save_autorec(model, tmp_path / "m", interrupted=True)).interrupted_


def test_a_saved_sparse_autorec_passes_the_checks(tmp_path, ratings):
    from recsys_ae.sparse import SparseAutoRec

    config = AutoRecConfig.preset("paper", epochs=1, hidden_units=4)
    model = SparseAutoRec("item", config, seed=0, verbose=0).fit(ratings)
    loaded = load_autorec(save_autorec(model, tmp_path / "sparse"))
    users, items = ratings["user"].to_numpy()[:20], ratings["item"].to_numpy()[:20]
    np.testing.assert_allclose(loaded.predict(users, items), model.predict(users, items),
                               atol=1e-5)
