"""Save and load a fitted AutoRec: Keras' own format plus a small sidecar.

A saved model is a folder::

    PATH/
      model.keras          the Keras model (architecture + weights), Keras 3 format
      autorec.json         kind, seed, config, mean, rating range, user and item IDs
      train_matrix.npz     the training ratings (CSR) the model reads as input

AutoRec predicts a rating by *reconstructing a row of training ratings*
(Sedhain et al. 2015), so the training matrix is part of the model, not just
the weights; it is stored next to them (the sidecar would otherwise hold one
number per rating). A loaded model predicts and recommends
(:meth:`~recsys_ae.base.Recommender.recommend`) like the fitted one; the item
popularity used by its cold-start fallback is recomputed from the matrix.

References
----------
S. Sedhain, A. K. Menon, S. Sanner, L. Xie. "AutoRec: Autoencoders Meet
Collaborative Filtering". WWW 2015 Companion, pp. 111-112.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = ["save_autorec", "load_autorec", "save_model", "load_model", "FORMAT_VERSION"]

#: Version of the folder layout written by :func:`save_autorec`.
FORMAT_VERSION = 1


def save_autorec(model, path) -> Path:
    """Save a fitted :class:`~recsys_ae.autorec.AutoRec` to the folder ``path``.

    Parameters
    ----------
    model : AutoRec
        Fitted (has ``model_``, ``index_``, ``train_matrix_``).
    path : str or Path
        Folder to create (it may exist; the three files are overwritten).

    Returns
    -------
    Path
        The folder.
    """
    if not hasattr(model, "model_"):
        raise ValueError("the model is not fitted; call fit() before saving")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    model.model_.save(folder / "model.keras")
    m = sp.csr_matrix(model.train_matrix_)
    np.savez_compressed(folder / "train_matrix.npz", data=m.data, indices=m.indices,
                        indptr=m.indptr, shape=np.array(m.shape))
    meta = {
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "objective": getattr(model, "objective", None),
        "kind": model.kind,
        "seed": model.seed,
        "config": dataclasses.asdict(model.config),
        "mean": model.mean_,
        "rating_range": list(model.rating_range_),
        "users": [str(u) for u in model.index_.users],
        "items": [str(i) for i in model.index_.items],
    }
    (folder / "autorec.json").write_text(json.dumps(meta, indent=1))
    return folder


def load_autorec(path):
    """Load a model saved by :func:`save_autorec`.

    Returns
    -------
    AutoRec
        Ready to ``predict``; predictions equal those of a saved dense
        ``AutoRec`` exactly, and those of a saved ``SparseAutoRec`` to float32
        rounding (the dense forward pass is used).

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing.
    ValueError
        For an unknown format version.
    """
    import keras

    from recsys_ae.autorec import AutoRec, AutoRecConfig
    from recsys_ae.preprocess import IdIndex

    folder = Path(path)
    for name in ("model.keras", "autorec.json", "train_matrix.npz"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name} not found: is {folder} a folder written "
                                    "by 'python -m recsys_ae train --save' (or "
                                    "recsys_ae.persist.save_autorec)?")
    meta = json.loads((folder / "autorec.json").read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"unsupported format_version {meta.get('format_version')!r}; "
                         f"expected {FORMAT_VERSION}")
    if meta.get("class") not in ("AutoRec", "SparseAutoRec"):
        raise ValueError(f"cannot load a {meta.get('class')!r} model")
    # A SparseAutoRec has the same weights and layout; it is reloaded as the dense
    # AutoRec, whose predictions agree with it to float32 rounding (~1e-6).
    model = AutoRec(meta["kind"], AutoRecConfig(**meta["config"]), seed=meta["seed"],
                    verbose=0)
    model.model_ = keras.saving.load_model(folder / "model.keras", compile=False)
    with np.load(folder / "train_matrix.npz") as z:
        model.train_matrix_ = sp.csr_matrix((z["data"], z["indices"], z["indptr"]),
                                            shape=tuple(z["shape"]))
    model.index_ = IdIndex(meta["users"], meta["items"])
    model.mean_ = float(meta["mean"])
    model.rating_range_ = tuple(float(x) for x in meta["rating_range"])
    return model


#: Model-neutral names (the registry's ``can_save`` models are the AutoRecs).
save_model = save_autorec
load_model = load_autorec
