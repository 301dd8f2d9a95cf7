"""Shared test set-up: point the dataset cache at ``../shared/data`` (read-only, real files)."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()

# Tests never download: they use the real files beside the clone.
if "RECSYS_AE_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["RECSYS_AE_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real datasets laid out ``<dir>/<dataset>/<file>``; skip if absent."""
    path = Path(os.environ.get("RECSYS_AE_DATA_DIR", SHARED_DATA))
    if not (path / "ml-100k" / "u.data").is_file():
        pytest.skip(f"real datasets not found under {path}")
    return path


@pytest.fixture(scope="module")
def settings(shared_data):
    """The book's settings as CI runs the notebooks: MovieLens 100K, ``ci`` profile."""
    from recsys_ae.chapters.settings import book_settings

    return book_settings({"RECSYS_AE_DATASET": "ml-100k", "RECSYS_AE_PROFILE": "ci",
                          "RECSYS_AE_DATA_DIR": str(shared_data)})


@pytest.fixture(scope="module")
def u1_first_200(shared_data):
    """The ratings of ML-100K u1 by its first 200 users: (train, test)."""
    from recsys_ae import data

    train, test = data.load_canonical_split("ml-100k", 1)
    keep = lambda df: df[df["user"].astype(int) <= 200].reset_index(drop=True)  # noqa: E731
    return keep(train), keep(test)


def to_1_100(df):
    """The same ratings linearly on 1-100: 1 -> 1, 5 -> 100."""
    out = df.copy()
    out["rating"] = 1.0 + (out["rating"].astype(float) - 1.0) * 99.0 / 4.0
    return out


@pytest.fixture(scope="session")
def to_100():
    """:func:`to_1_100`, for tests that rescale ratings."""
    return to_1_100
