"""Save and load a fitted AutoRec: Keras' own format plus a checked sidecar.

A saved model is a folder::

    PATH/
      model.keras          the Keras model (architecture + weights), Keras 3 format
      autorec.json         kind, seed, config, mean, rating range, user and item IDs,
                           shapes and SHA-256 checksums of everything else
      train_matrix.npz     the training ratings (CSR) the model reads as input

AutoRec predicts a rating by *reconstructing a row of training ratings*
(Sedhain et al. 2015), so the training matrix is part of the model, not just
the weights; it is stored next to them (the sidecar would otherwise hold one
number per rating). A loaded model predicts and recommends
(:meth:`~recsys_ae.base.Recommender.recommend`) like the fitted one; the item
popularity used by its cold-start fallback is recomputed from the matrix.

Nothing in a folder is trusted on load. The sidecar records the SHA-256 of
``model.keras`` and ``train_matrix.npz``, of the user and item ID lists and of
each key field (kind, config, mean, rating range, ...), and the shapes of the
matrix and the network; :func:`load_autorec` checks all of them and refuses a
folder whose parts disagree with a :class:`ModelFolderError` (a
``ValueError``) of one line naming the file and what disagrees, instead of
loading a model that predicts wrongly or crashing later. A sidecar of another
``FORMAT_VERSION`` or with fields this version does not know is refused too,
naming the version that wrote it.

:func:`save_autorec` writes into a temporary sibling folder and renames it
into place, so an interrupted save leaves no half-written model; it refuses an
existing non-empty folder unless ``overwrite=True`` (and even then only a
folder holding a saved model and nothing else). :func:`check_save_path` runs
the same checks before any training (the command line calls it first).

References
----------
S. Sedhain, A. K. Menon, S. Sanner, L. Xie. "AutoRec: Autoencoders Meet
Collaborative Filtering". WWW 2015 Companion, pp. 111-112.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import uuid
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recsys_ae import __version__

__all__ = ["save_autorec", "load_autorec", "save_model", "load_model", "check_save_path",
           "ModelFolderError", "FORMAT_VERSION", "FILES"]

#: Version of the folder layout written by :func:`save_autorec`. Version 2 added
#: the checksums, shapes, ``recsys_ae_version`` and ``interrupted``; version 1
#: folders (no checksums) are refused with a message to save the model again.
FORMAT_VERSION = 2

#: The files of a saved model folder (and nothing else).
FILES = ("autorec.json", "model.keras", "train_matrix.npz")

#: AutoRec config fields added after format version 2 was first written; a sidecar without
#: them was saved before they existed and loads with their defaults (the old behaviour).
ADDED_CONFIG_FIELDS = frozenset({"scale_ratings", "input", "lam", "early_stopping_patience"})

#: Sidecar fields whose values are checked against a recorded SHA-256.
_HASHED_FIELDS = ("class", "objective", "kind", "seed", "config", "mean", "rating_range",
                  "interrupted", "users", "items")
_FIELDS = {"format_version", "recsys_ae_version", *_HASHED_FIELDS, "shapes", "sha256"}


class ModelFolderError(ValueError):
    """A saved model folder that cannot be loaded as it is: damaged, edited, mixed
    with another model's files, or written by another version. The message is one
    line naming the file and what disagrees."""


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_value(value) -> str:
    """Checksum of a JSON value as written (key order fixed)."""
    return _sha256_bytes(json.dumps(value, sort_keys=True).encode())


def check_save_path(path, *, overwrite: bool = False) -> Path:
    """Check that a model can be saved to the folder ``path``, writing nothing.

    The command line calls this before training so that a path that cannot be
    written fails at once, not after training.

    Parameters
    ----------
    path : str or Path
    overwrite : bool
        Allow replacing an existing folder that holds a saved model (only the
        files of :data:`FILES`).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    FileExistsError
        ``path`` is a file, or a non-empty folder (without ``overwrite``, or
        holding other files than a saved model's).
    NotADirectoryError
        A parent of ``path`` is a file.
    PermissionError
        The nearest existing parent cannot be written.
    """
    folder = Path(path)
    if folder.is_file() or (folder.exists() and not folder.is_dir()):
        raise FileExistsError(f"{folder} is a file, not a folder; choose another path to "
                              "save the model to")
    if folder.is_dir():
        present = sorted(p.name for p in folder.iterdir())
        if present:
            foreign = [name for name in present if name not in FILES]
            if foreign:
                raise FileExistsError(
                    f"{folder} is a folder holding other files ({', '.join(foreign[:3])}"
                    f"{', ...' if len(foreign) > 3 else ''}); choose a new or empty folder")
            if not overwrite:
                raise FileExistsError(f"{folder} already holds a saved model; pass "
                                      "--overwrite (overwrite=True) to replace it")
    parent = folder.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"cannot create {folder}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot create {folder}: folder {parent} is not writable")
    return folder


def save_autorec(model, path, *, overwrite: bool = False, interrupted: bool = False) -> Path:
    """Save a fitted :class:`~recsys_ae.autorec.AutoRec` to the folder ``path``.

    The files are written to a temporary sibling folder which is then renamed
    to ``path``: an interrupted save leaves nothing under ``path``.

    Parameters
    ----------
    model : AutoRec or SparseAutoRec
        Fitted (has ``model_``, ``index_``, ``train_matrix_``), or interrupted
        during training (the weights reached so far are saved).
    path : str or Path
        Folder to create. It may exist if it is empty; with ``overwrite=True``
        a folder holding a saved model is replaced.
    overwrite : bool
        Replace an existing saved model at ``path``.
    interrupted : bool
        Mark the model as interrupted during training (``"interrupted": true``
        in the sidecar; :func:`load_autorec` sets ``interrupted_``).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    ValueError
        If the model is not fitted.
    FileExistsError, NotADirectoryError, PermissionError
        See :func:`check_save_path`.
    """
    try:
        network = model.model_
        train_matrix, index = model.train_matrix_, model.index_
    except AttributeError:
        raise ValueError("the model is not fitted; call fit() before saving") from None
    folder = check_save_path(path, overwrite=overwrite)
    folder.absolute().parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.saving-{uuid.uuid4().hex[:8]}")
    try:
        tmp.mkdir()
        network.save(tmp / "model.keras")
        m = sp.csr_matrix(train_matrix)
        np.savez_compressed(tmp / "train_matrix.npz", data=m.data, indices=m.indices,
                            indptr=m.indptr, shape=np.array(m.shape))
        kernel = network.get_layer("encoder").get_weights()[0]
        meta = {
            "format_version": FORMAT_VERSION,
            "recsys_ae_version": __version__,
            "class": type(model).__name__,
            "objective": getattr(model, "objective", None),
            "kind": model.kind,
            "seed": model.seed,
            "config": dataclasses.asdict(model.config),
            "mean": model.mean_,
            "rating_range": list(model.rating_range_),
            "interrupted": bool(interrupted),
            "users": [str(u) for u in index.users],
            "items": [str(i) for i in index.items],
        }
        meta["shapes"] = {"n_users": len(meta["users"]), "n_items": len(meta["items"]),
                          "train_matrix": list(m.shape), "network": list(kernel.shape)}
        meta["sha256"] = {
            "model.keras": _sha256_file(tmp / "model.keras"),
            "train_matrix.npz": _sha256_file(tmp / "train_matrix.npz"),
            **{key: _sha256_value(meta[key]) for key in _HASHED_FIELDS},
        }
        (tmp / "autorec.json").write_text(json.dumps(meta, indent=1))
        if folder.exists():
            old = folder.with_name(f".{folder.name}.replaced-{uuid.uuid4().hex[:8]}")
            folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _read_sidecar(folder: Path) -> dict:
    """The sidecar, checked for version, fields and field checksums."""
    from recsys_ae.autorec import AutoRecConfig

    where = folder / "autorec.json"
    try:
        meta = json.loads(where.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFolderError(f"{where}: not a readable sidecar ({err}); the folder is "
                               "damaged: save the model again") from None
    if not isinstance(meta, dict):
        raise ModelFolderError(f"{where}: expected a JSON object, got {type(meta).__name__}")
    version = meta.get("format_version")
    wrote = meta.get("recsys_ae_version")
    by = f"recsys_ae {wrote}" if wrote else "a recsys_ae before 0.1.0"
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFolderError(
            f"{where}: format_version {version!r} written by {by} is not one this recsys_ae "
            f"{__version__} reads ({FORMAT_VERSION}); upgrade recsys_ae to load it")
    if version < FORMAT_VERSION:
        raise ModelFolderError(
            f"{where}: format_version {version} (written by {by}) has no checksums and is "
            f"no longer loaded; train and save the model again with recsys_ae {__version__} "
            "('python -m recsys_ae train ... --save PATH')")
    known_config = {f.name for f in dataclasses.fields(AutoRecConfig)}
    unknown = sorted(set(meta) - _FIELDS) + sorted(
        f"config.{k}" for k in set(meta.get("config") or {}) - known_config)
    if unknown:
        raise ModelFolderError(
            f"{where}: unknown field {unknown[0]!r}, written by {by} (this is recsys_ae "
            f"{__version__}); upgrade recsys_ae to load it")
    missing = sorted(_FIELDS - set(meta))
    if missing:
        raise ModelFolderError(f"{where}: missing field {missing[0]!r}; the sidecar is "
                               "damaged or edited: save the model again")
    sums = meta["sha256"]
    for key in _HASHED_FIELDS:
        if sums.get(key) != _sha256_value(meta[key]):
            raise ModelFolderError(
                f"{where}: field {key!r} does not match its recorded SHA-256 (edited after "
                "saving?); the folder cannot be trusted: save the model again")
    # config fields added after the model was saved take their defaults, which reproduce
    # the behaviour of the version that saved it (checked after the checksum, which covers
    # the config as written)
    defaults = {f.name: f.default for f in dataclasses.fields(AutoRecConfig)
                if f.name in ADDED_CONFIG_FIELDS}
    absent = known_config - set(meta["config"])
    if absent - set(defaults):
        raise ModelFolderError(f"{where}: missing field "
                               f"'config.{sorted(absent - set(defaults))[0]}'; the sidecar is "
                               "damaged or edited: save the model again")
    meta["config"] = {**{k: defaults[k] for k in absent}, **meta["config"]}
    return meta


def _check(condition: bool, where: Path, what: str) -> None:
    if not condition:
        raise ModelFolderError(f"{where}: {what}; the folder's files do not belong together: "
                               "save the model again")


def load_autorec(path):
    """Load a model saved by :func:`save_autorec`, checking every part of the folder.

    Returns
    -------
    AutoRec
        Ready to ``predict``; predictions equal those of a saved dense
        ``AutoRec`` exactly, and those of a saved ``SparseAutoRec`` to float32
        rounding (the dense forward pass is used). ``interrupted_`` is True
        when training was interrupted before the end (weights reached so far).

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing.
    ModelFolderError
        A ``ValueError`` of one line naming the file: an unreadable sidecar,
        another format version, an unknown or missing field, a file or field
        whose SHA-256 differs from the recorded one, shapes that disagree, or
        a file that cannot be read.
    """
    import keras

    from recsys_ae.autorec import AutoRec, AutoRecConfig
    from recsys_ae.preprocess import IdIndex

    folder = Path(path)
    for name in FILES:
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name} not found: is {folder} a folder written "
                                    "by 'python -m recsys_ae train --save' (or "
                                    "recsys_ae.persist.save_autorec)?")
    meta = _read_sidecar(folder)
    sidecar = folder / "autorec.json"
    if meta["class"] not in ("AutoRec", "SparseAutoRec"):
        raise ModelFolderError(f"{sidecar}: cannot load a {meta['class']!r} model")
    if meta["kind"] not in ("item", "user"):
        raise ModelFolderError(f"{sidecar}: kind must be 'item' or 'user', not "
                               f"{meta['kind']!r}")
    for name in ("model.keras", "train_matrix.npz"):
        if _sha256_file(folder / name) != meta["sha256"][name]:
            raise ModelFolderError(
                f"{folder / name}: SHA-256 differs from the one recorded in autorec.json "
                "(the file was changed, damaged or copied from another model folder); "
                "save the model again")
    shapes = meta["shapes"]
    n_users, n_items = len(meta["users"]), len(meta["items"])
    rows, cols = (n_users, n_items) if meta["kind"] == "user" else (n_items, n_users)
    _check([n_users, n_items] == [shapes.get("n_users"), shapes.get("n_items")], sidecar,
           f"{n_users} users and {n_items} items listed, {shapes.get('n_users')} and "
           f"{shapes.get('n_items')} recorded")
    _check(shapes.get("train_matrix") == [rows, cols], sidecar,
           f"a {meta['kind']} model of {n_users} users and {n_items} items needs a "
           f"{rows} x {cols} training matrix, {shapes.get('train_matrix')} recorded")
    network_shape = [cols, meta["config"]["hidden_units"]]
    _check(shapes.get("network") == network_shape, sidecar,
           f"network shape {shapes.get('network')} recorded, {network_shape} expected from "
           "the IDs and config")
    where = folder / "train_matrix.npz"
    try:
        with np.load(where) as z:
            matrix = sp.csr_matrix((z["data"], z["indices"], z["indptr"]),
                                   shape=tuple(int(v) for v in z["shape"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
        raise ModelFolderError(f"{where}: cannot be read ({type(err).__name__}: "
                               f"{str(err).splitlines()[0] if str(err) else ''})") from None
    _check(list(matrix.shape) == [rows, cols], where,
           f"matrix is {matrix.shape[0]} x {matrix.shape[1]}, the sidecar says {rows} x {cols}")
    where = folder / "model.keras"
    try:
        network = keras.saving.load_model(where, compile=False)
    except Exception as err:  # Keras raises many types for a damaged file
        raise ModelFolderError(f"{where}: cannot be read as a Keras model "
                               f"({type(err).__name__})") from None
    expected_name = {"item": "I_AutoRec", "user": "U_AutoRec"}[meta["kind"]]
    _check(network.name.startswith(expected_name), where,
           f"network {network.name!r}, the sidecar says kind {meta['kind']!r} "
           f"({expected_name!r})")
    _check(tuple(network.input_shape) == (None, cols), where,
           f"network input {tuple(network.input_shape)[1:]}, the training matrix has {cols} "
           "columns")
    # A SparseAutoRec has the same weights and layout; it is reloaded as the dense
    # AutoRec, whose predictions agree with it to float32 rounding (~1e-6).
    model = AutoRec(meta["kind"], AutoRecConfig(**meta["config"]), seed=meta["seed"],
                    verbose=0)
    model.model_ = network
    model.train_matrix_ = matrix
    model.index_ = IdIndex(meta["users"], meta["items"])
    model.mean_ = float(meta["mean"])
    lo, hi = (float(x) for x in meta["rating_range"])
    _check(lo <= hi, sidecar, f"rating_range {meta['rating_range']} has min above max")
    model.rating_range_ = (lo, hi)
    model.interrupted_ = bool(meta["interrupted"])
    return model


#: Model-neutral names (the registry's ``can_save`` models are the AutoRecs).
save_model = save_autorec
load_model = load_autorec
