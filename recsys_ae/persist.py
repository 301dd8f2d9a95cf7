"""Save and load a fitted AutoRec: Keras' own format plus a small sidecar.

A saved model is a folder::

    PATH/
      model.keras          the Keras model (architecture + weights), Keras 3 format
      autorec.json         kind, seed, config, mean, rating range, user and item IDs
      train_matrix.npz     the training ratings (CSR) the model reads as input

AutoRec predicts a rating by *reconstructing a row of training ratings*
(Sedhain et al. 2015), so the training matrix is part of the model, not just
the weights; it is stored next to them (the sidecar would otherwise hold one
number per rating). The item popularity used by the cold-start fallback of
:func:`recommend` is recomputed from it.

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

__all__ = ["save_autorec", "load_autorec", "recommend", "FORMAT_VERSION"]

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


def recommend(model, user: str, k: int = 10) -> tuple[list[str], list[float], bool]:
    """Top-k items for one user, excluding items the user rated in training.

    Parameters
    ----------
    model : AutoRec
        Fitted or loaded.
    user : str
        User ID.
    k : int

    Returns
    -------
    items : list of str
        Item IDs, best first.
    scores : list of float
        Predicted ratings, unclipped: several items can exceed the top of the
        scale, and clipping them would turn their order into ties broken by
        item ID. For the fallback, the item's number of training ratings.
    known : bool
        False when ``user`` has no training ratings: the list is then the
        ``k`` items with the most training ratings (popularity fallback).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    index = model.index_
    m = sp.csr_matrix(model.train_matrix_)
    by_user = m if model.kind == "user" else m.T.tocsr()
    row = int(index.user_rows([str(user)])[0])
    if row < 0:
        counts = np.diff(sp.csc_matrix(by_user).indptr).astype(np.float64)
        order = np.argsort(-counts, kind="stable")[:k]
        return [str(index.items[j]) for j in order], counts[order].tolist(), False
    if model.kind == "user":
        scores = model.reconstruct(np.array([row]))[0]
    else:
        scores = np.concatenate([model.reconstruct(np.arange(lo, min(lo + 512, m.shape[0])))
                                 [:, row] for lo in range(0, m.shape[0], 512)])
    rated = by_user.indices[by_user.indptr[row]:by_user.indptr[row + 1]]
    scores[rated] = -np.inf
    order = np.argsort(-scores, kind="stable")[:k]
    order = order[np.isfinite(scores[order])]
    return [str(index.items[j]) for j in order], scores[order].tolist(), True
