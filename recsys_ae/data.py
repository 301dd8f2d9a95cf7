"""Rating files, the dataset registry and a synthetic Beauty-shaped stand-in.

Every loader returns the same *ratings frame*, one row per rating:

=============  ==========  ====================================================
column         dtype       meaning
=============  ==========  ====================================================
``user``       object      user id, a Python ``str`` exactly as in the file
``item``       object      item id (ASIN, movie id, ...), a ``str``
``rating``     float64     the explicit rating, on the file's scale (see below)
``timestamp``  int64       unix time; the column is absent when the file has none
=============  ==========  ====================================================

IDs are always read as text: the Amazon ASIN ``0205616461`` stays
``"0205616461"`` (a spreadsheet, or ``pd.read_csv`` left to guess, turns it
into the number 205616461). ``df.attrs`` records where the frame came from,
``{"dataset": ..., "synthetic": bool, "source": ...}``, and, for a file, what
the loader decided and found: the header line, the rating scale
``(min, max, step)`` (stated or :func:`infer_rating_scale`'s), counted oddities
and one readable line per decision in ``attrs["notes"]``. Nothing is dropped,
merged, padded or clipped silently: bad input gets a clear error naming file
and line, a counted fix (:class:`DataQualityWarning`), or a refusal with the
argument that states what to do (``book/bad_input.md`` lists every case).

Datasets live in a cache folder laid out ``<dir>/<dataset>/<file>``
(see :func:`data_dir`) and are downloaded with :mod:`pooch` on first use.
When a file cannot be found or fetched, :class:`DataNotFoundError` says which
file, from where, and into which folder; :func:`synthetic_ratings` is the
offline stand-in (``--dataset synthetic`` on the command line).
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import logging
import os
import re
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pooch

__all__ = [
    "BEAUTY_COUNTS",
    "DATASETS",
    "KNOWN_HEADERS",
    "KNOWN_SCALES",
    "RATING_COLUMNS",
    "RATING_STEPS",
    "SYNTHETIC_FULL",
    "CountMismatchWarning",
    "DataNotFoundError",
    "DataQualityWarning",
    "DatasetSpec",
    "check_counts",
    "data_dir",
    "dataset_counts",
    "infer_rating_scale",
    "load_canonical_split",
    "load_dataset",
    "load_item_titles",
    "load_ratings",
    "synthetic_ratings",
]

RATING_COLUMNS = ("user", "item", "rating", "timestamp")

#: Size of the full Amazon 2014 ``ratings_Beauty.csv`` as reported in the seed notebook.
BEAUTY_COUNTS = {"n_ratings": 2_023_070, "n_users": 1_210_271, "n_items": 249_274}

#: Size of ``synthetic_ratings`` at ``size="full"``: the same shape as Beauty.
SYNTHETIC_FULL = {"n_ratings": 2_023_070, "n_users": 1_210_271, "n_items": 249_274}

ENV_VAR = "RECSYS_AE_DATA_DIR"

_log = logging.getLogger(__name__)


class DataNotFoundError(FileNotFoundError):
    """A dataset file is neither in the data folder nor downloadable.

    The message names the file, the URL to get it from, and the folder to put
    it in.
    """


class CountMismatchWarning(UserWarning):
    """A loaded dataset does not have the reference number of ratings, users or items."""


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class DatasetSpec:
    """Where one dataset comes from and how to check it.

    Attributes
    ----------
    folder : str
        Sub-folder of the data folder that holds the files.
    file : str or None
        The ratings file inside ``folder`` (None for generated data).
    url : str or None
        Download address: the file itself, or a zip archive when
        ``archive_dir`` is set. None for local-only data.
    files : dict of str to (str or None)
        Every file fetched from ``url`` (``file`` included) and its sha256
        (None when no published hash exists).
    archive_dir : str or None
        Folder inside the zip archive that holds ``files``.
    archive_hash : str or None
        Hash of the archive in pooch's ``"alg:hex"`` form, when published.
    counts : dict of str to int or None
        Reference ``{"n_ratings", "n_users", "n_items"}``.
    rating_scale : tuple of (float, float, float) or None
        The dataset's known scale ``(min, max, step)``; :func:`load_dataset`
        passes it to :func:`load_ratings`, which refuses ratings outside it.
    description, citation, licence : str
        What the data are, what to cite, and the terms of use.
    """

    folder: str
    file: str | None
    url: str | None
    description: str
    citation: str
    licence: str
    files: dict[str, str | None] = field(default_factory=dict)
    archive_dir: str | None = None
    archive_hash: str | None = None
    counts: dict[str, int] | None = None
    rating_scale: tuple[float, float, float] | None = None

    @property
    def sha256(self) -> str | None:
        """Sha256 of the ratings file, or None when no published hash exists."""
        return self.files.get(self.file) if self.file else None


_ML100K_CITATION = (
    "F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and "
    "Context. ACM Transactions on Interactive Intelligent Systems 5(4):19. "
    "https://doi.org/10.1145/2827872"
)
_AMAZON_2014_CITATION = (
    "J. McAuley, C. Targett, Q. Shi, A. van den Hengel. Image-based recommendations on "
    "styles and substitutes. SIGIR 2015; R. He, J. McAuley. Ups and downs: modeling the "
    "visual evolution of fashion trends with one-class collaborative filtering. WWW 2016."
)
_AMAZON_2014_TERMS = (
    "No formal licence; released by the McAuley lab for research use. Cite the papers."
)

DATASETS: dict[str, DatasetSpec] = {
    "amazon-beauty": DatasetSpec(
        folder="amazon-beauty",
        file="ratings_Beauty.csv",
        url="https://snap.stanford.edu/data/amazon/productGraph/categoryFiles/ratings_Beauty.csv",
        files={"ratings_Beauty.csv": None},  # no published sha256: verified by its counts only
        counts=BEAUTY_COUNTS,
        rating_scale=(1.0, 5.0, 1.0),
        description=(
            "Amazon product data (2014), Beauty category, ratings only: CSV without header, "
            "lines user,asin,rating,unix_time; 2,023,070 ratings, about 80 MB. No checksum "
            "is published: a copy is verified by its size and counts only."
        ),
        citation=_AMAZON_2014_CITATION,
        licence=_AMAZON_2014_TERMS,
    ),
    "amazon-beauty-sample": DatasetSpec(
        folder="amazon-beauty-2014-prefix499",
        file="ratings_Beauty.csv",
        url=None,
        files={
            "ratings_Beauty.csv": "19a2396697e3af5dbe3a3504f97067aea40ab4280be966bb914fe04d97543d90"
        },
        counts={"n_ratings": 499, "n_users": 452, "n_items": 170},
        rating_scale=(1.0, 5.0, 1.0),
        description=(
            "First 499 rows of the Amazon 2014 ratings_Beauty.csv (Kaggle header, CRLF, "
            "leading zeros of all-digit ASINs stripped by a spreadsheet). Local only."
        ),
        citation=_AMAZON_2014_CITATION,
        licence=_AMAZON_2014_TERMS,
    ),
    "ml-100k": DatasetSpec(
        folder="ml-100k",
        file="u.data",
        url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        archive_dir="ml-100k",
        archive_hash="md5:0e33842e24a9c977be4e0107933c0723",
        files={
            "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
            "README": "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52",
            "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
            "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
            "u1.base": "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a",
            "u1.test": "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
            "u2.base": "6c06f0b5df4b256da1a994f3ac66edc8da4d3f09bc9282df6b14d893366d703e",
            "u2.test": "4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3",
            "u3.base": "afdc155c291c6edc41c0407e39d7462eb98d341e064f0b0a12175b80b3c4af5d",
            "u3.test": "0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d",
            "u4.base": "219f0f4d40dfe9c5141d425f53fa91ee23ed275f14e280bbf1b50117afb064ca",
            "u4.test": "7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9",
            "u5.base": "a9574e59ce961eec2121627760b6e9b0974ce1637b3fe69ac32cb14a4bfab485",
            "u5.test": "351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634",
            "ua.base": "67b5bcdb380c29f85d56a012ecd88612ae020f30a6730d117a334ee8203b91f2",
            "ua.test": "d0497e202417720f57a184ec8c66be2d1afa4ff41bb53787c57b28d6bf79bc42",
            "ub.base": "237254d253b6ad7de84f919d041055428646254f34ed8f562703c899430cd881",
            "ub.test": "d54a72d05730d5892062734b2bec73e976f9b713d18c828a18b968d6cce442da",
        },
        counts={"n_ratings": 100_000, "n_users": 943, "n_items": 1_682},
        rating_scale=(1.0, 5.0, 1.0),
        description=(
            "MovieLens 100K (GroupLens, 1998): 100,000 ratings 1-5 by 943 users on 1,682 "
            "movies; u.data is tab separated user,item,rating,unix_time; u1-u5 are the "
            "canonical 5-fold 80/20 splits, ua/ub hold out 10 ratings per user."
        ),
        citation=_ML100K_CITATION,
        licence=(
            "Research use only; acknowledge the dataset; no redistribution without separate "
            "permission; no commercial use without permission (see the README in the zip)."
        ),
    ),
    "ml-latest-small": DatasetSpec(
        folder="ml-latest-small",
        file="ratings.csv",
        url="https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
        archive_dir="ml-latest-small",
        files={
            "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
            "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
            "README.txt": "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404",
        },
        counts={"n_ratings": 100_836, "n_users": 610, "n_items": 9_724},
        rating_scale=(0.5, 5.0, 0.5),
        description=(
            "MovieLens latest-small (release of 2018-09-26): 100,836 ratings 0.5-5.0 by 610 "
            "users on 9,724 movies; CSV with header userId,movieId,rating,timestamp."
        ),
        citation=_ML100K_CITATION,
        licence=(
            "Research use; redistribution only under the same licence; no commercial use "
            "without permission (see README.txt in the zip)."
        ),
    ),
    "amazon-all-beauty-2023-5core": DatasetSpec(
        folder="amazon-all-beauty-2023-5core",
        file="All_Beauty.csv",
        url=None,
        files={"All_Beauty.csv":
               "502c64beaf441afa39f2897b0e7af3f5f361d9e77021011e365a154f0e5afb3a"},
        counts={"n_ratings": 2_535, "n_users": 253, "n_items": 356},
        rating_scale=(1.0, 5.0, 1.0),
        description=(
            "Amazon Reviews 2023, All_Beauty, 5-core, ratings only (McAuley Lab benchmark file "
            "benchmark/5core/rating_only/All_Beauty.csv): CSV with header "
            "user_id,parent_asin,rating,timestamp (milliseconds); every user and item has at "
            "least 5 ratings by construction. Local only."
        ),
        citation=("Y. Hou, J. Li, Z. He, A. Yan, X. Chen, J. McAuley. Bridging Language and "
                  "Items for Retrieval and Recommendation. arXiv:2403.03952, 2024."),
        licence="No formal licence; released by the McAuley lab for research use. Cite it.",
    ),
    "amazon-all-beauty-2018-5core": DatasetSpec(
        folder="amazon-all-beauty-2018-5core",
        file="All_Beauty_5.json.gz",
        url=None,
        files={"All_Beauty_5.json.gz":
               "8e49737fefaec9290187c69bf92889452df8be0ab5e36c9476520d6639683279"},
        counts={"n_ratings": 4_092, "n_users": 991, "n_items": 85},
        rating_scale=(1.0, 5.0, 1.0),
        description=(
            "Amazon Review Data (2018), All_Beauty '5-core' reviews: gzip of JSON lines with "
            "reviewerID, asin, overall, unixReviewTime. 5,269 records but only 4,092 distinct "
            "(user, item) pairs: the loader keeps one rating per pair (the latest review; "
            "exact copies dropped) and says so in attrs['notes']. Local only."
        ),
        citation=("J. Ni, J. Li, J. McAuley. Justifying recommendations using distantly-labeled "
                  "reviews and fine-grained aspects. EMNLP 2019."),
        licence="No formal licence; released by the McAuley lab for research use. Cite it.",
    ),
    "filmtrust": DatasetSpec(
        folder="filmtrust/rating",
        file="ratings_0.txt",
        # LibRec's copy, pinned to a commit; the ratings are the four files read together
        url=("https://raw.githubusercontent.com/guoguibing/librec/"
             "296082c072ce7d973ebfccde793e59062d8a3add/data/filmtrust/rating/"),
        files={
            "ratings_0.txt": "cafa37f1b848a03fc7386c66474679c6e5d96eaf718e4818039201843ffa0b6b",
            "ratings_1.txt": "61a1d503f60933a190b61a87390617bbdbabd93acc0710b22cece560febca914",
            "ratings_2.txt": "970d371db2c51a079469bafe034f3fda145b509ff6f9021b596c3bfabffb80de",
            "ratings_3.txt": "86e31a869eef1f8667217447f867436efc3bf32c05ff396902427dd5be01d3bd",
        },
        counts={"n_ratings": 35_497, "n_users": 1_508, "n_items": 2_071},
        rating_scale=(0.5, 4.0, 0.5),
        description=(
            "FilmTrust (crawled 2011; LibRec's distribution): 35,497 ratings 0.5-4.0 by 1,508 "
            "users on 2,071 films, in four space-separated files ratings_0.txt-ratings_3.txt "
            "(user item rating, no header, mixed CRLF/LF line endings) read as one."
        ),
        citation=("G. Guo, J. Zhang, N. Yorke-Smith. A Novel Bayesian Similarity Measure for "
                  "Recommender Systems. IJCAI 2013."),
        licence="No explicit licence; the authors ask to cite the IJCAI 2013 paper.",
    ),
    "synthetic": DatasetSpec(
        folder="synthetic",
        file=None,
        url=None,
        description=(
            "Generated offline stand-in shaped like Amazon Beauty (see synthetic_ratings): "
            "heavy-tailed degrees, ratings skewed to 5, a planted low-rank structure."
        ),
        citation="Generated by recsys_ae.data.synthetic_ratings; no source to cite.",
        licence="No restrictions (generated data).",
        rating_scale=(1.0, 5.0, 1.0),
    ),
}


# --------------------------------------------------------------------------- small public helpers


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the folder that holds the datasets, laid out ``<dir>/<dataset>/<file>``.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Explicit folder. Takes precedence over everything else.

    Returns
    -------
    pathlib.Path
        ``path`` if given; else the environment variable ``RECSYS_AE_DATA_DIR``
        if set; else the per-user cache ``pooch.os_cache("recsys_ae")``.
        The folder is not created.
    """
    if path is None:
        path = os.environ.get(ENV_VAR) or pooch.os_cache("recsys_ae")
    return Path(path).expanduser()


def dataset_counts(df: pd.DataFrame) -> dict[str, int]:
    """Count ratings, distinct users and distinct items of a ratings frame.

    Parameters
    ----------
    df : pandas.DataFrame
        Ratings frame with ``user`` and ``item`` columns.

    Returns
    -------
    dict of str to int
        ``{"n_ratings": rows, "n_users": distinct users, "n_items": distinct items}``.
    """
    return {
        "n_ratings": len(df),
        "n_users": int(df["user"].nunique()),
        "n_items": int(df["item"].nunique()),
    }


def check_counts(df: pd.DataFrame, expected: dict[str, int], *, name: str) -> bool:
    """Compare a frame's counts with reference counts; warn about each difference.

    Parameters
    ----------
    df : pandas.DataFrame
        Ratings frame.
    expected : dict of str to int
        Reference values for some of ``"n_ratings"``, ``"n_users"``, ``"n_items"``.
    name : str
        Dataset name used in the warning.

    Returns
    -------
    bool
        True when every expected count matches, else False.

    Warns
    -----
    CountMismatchWarning
        One warning listing every differing count as expected vs got.

    Raises
    ------
    ValueError
        If ``expected`` has a key other than the three counts.
    """
    got = dataset_counts(df)
    unknown = set(expected) - set(got)
    if unknown:
        raise ValueError(f"unknown count names {sorted(unknown)}; use {sorted(got)}")
    diffs = [f"{k}: expected {v:,}, got {got[k]:,}" for k, v in expected.items() if got[k] != v]
    if diffs:
        warnings.warn(
            f"{name}: counts differ from the reference ({'; '.join(diffs)}). "
            "The file is probably another version, a partial copy or an edited copy.",
            CountMismatchWarning,
            stacklevel=2,
        )
        return False
    return True


# --------------------------------------------------------------------------- reading files

_SEPARATORS = {"csv": ",", "ml100k": "\t", "ml1m": "::", "whitespace": None}

#: Header lines recognised by name (lower-cased fields, a trailing empty field ignored).
KNOWN_HEADERS = frozenset(
    {
        ("userid", "productid", "rating", "timestamp"),  # Kaggle copy of Amazon 2014
        ("userid", "movieid", "rating", "timestamp"),  # MovieLens ratings.csv
        ("user_id", "parent_asin", "rating", "timestamp"),  # Amazon 2023 benchmark files
        ("user_id", "item_id", "rating", "timestamp"),
        ("user_id", "asin", "rating", "timestamp"),
        ("reviewerid", "asin", "overall", "unixreviewtime"),  # Amazon 2014/2018 JSON names
        ("user", "item", "rating", "timestamp"),
        ("user", "item", "rating"),
        ("userid", "itemid", "rating"),
        ("user_id", "item_id", "rating"),
    }
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ .\-]*")

#: Steps tried by :func:`infer_rating_scale`, coarsest first.
RATING_STEPS = (1.0, 0.5, 0.25, 0.1, 0.05, 0.01)
#: Conventional rating scales ``(min, max)``: a rare value just outside one that the
#: other ratings fill from end to end is reported as out of range.
KNOWN_SCALES = ((1.0, 5.0), (0.5, 5.0), (0.5, 4.0), (0.0, 5.0), (1.0, 10.0), (0.0, 10.0))
#: A kind of off-grid or out-of-range rating is *rare* when at most this share of rows has it.
RARE_SHARE = 0.001

# Amazon 2014 ("ratings only") ids: reviewer ids are "A" + upper-case letters and digits,
# 12-21 characters in the real file (10-21 accepted); an ASIN is 10 upper-case letters/digits.
_AMAZON_2014_USER = r"A[0-9A-Z]{9,20}"
_ASIN = r"[0-9A-Z]{10}"
_STRIPPED_ASIN = r"[0-9]{1,9}"


class DataQualityWarning(UserWarning):
    """The loader found or fixed something in a file that it reports but does not refuse.

    The same facts are in ``df.attrs`` (counts and examples) and, as one line each,
    in ``df.attrs["notes"]``.
    """


def load_ratings(
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    rating_scale: tuple[float, float] | tuple[float, float, float] | None = None,
    first_columns: int | None = None,
    repair_asins: bool = False,
) -> pd.DataFrame:
    """Read a ratings file into a ratings frame; refuse or report every oddity.

    Handles, with auto-detection when ``fmt`` is None:

    * Amazon 2014 "ratings only" CSV without header
      (``A39HTATAQ9V7YF,0205616461,5.0,1369699200``) and its Kaggle copy with
      header ``UserId,ProductId,Rating,Timestamp``;
    * any CSV whose columns are user, item, rating[, timestamp] in that order,
      whatever the header names (Amazon 2023 ``user_id,parent_asin,...``,
      MovieLens ``ratings.csv``);
    * MovieLens 100K ``u.data`` (tab separated) and 1M ``ratings.dat`` (``::``);
    * whitespace separated ``user item rating`` (FilmTrust).

    LF or CRLF line endings, a missing final newline, double-quoted CSV fields
    and a trailing separator on every line (an empty last column) are
    accepted. What the loader decided is written to ``df.attrs`` and, one line
    per decision, to ``df.attrs["notes"]`` (also logged at INFO level on the
    ``recsys_ae.data`` logger) so that a command line can show it:

    * **Header.** The first line is a header when it is a known header
      (:data:`KNOWN_HEADERS`, e.g. ``userId,movieId,rating,timestamp``) or when
      every field is a *name*: starts with a letter or ``_``, holds only
      letters, digits, ``_``, ``.``, ``-`` or spaces, and is not a number
      (``UserId,ProductId,Rating,Timestamp,`` with its trailing comma is one).
      Any line with a number or an empty field (``A1,I1,five,1``,
      ``A1,I1,,1``) is data, and a bad data line on line 1 gets the same error
      as on any other line. ``attrs["header"]`` is the header text or None.
    * **Truncated last line.** A last line without a final newline whose
      timestamp has fewer digits than every other timestamp in the file
      (``A4,B00X,4.0,14046`` after 10-digit times) is an error: the file was
      probably cut off.
    * **Rating scale.** ``attrs["rating_scale"]`` is ``(min, max, step)``:
      ``rating_scale`` when given, else :func:`infer_rating_scale`'s answer.
      Rare ratings off the grid or outside a conventional scale are an error
      naming their lines.
    * **Amazon 2014 ids.** For a file whose ids look like the 2014 Amazon
      ratings (reviewer ids ``A`` + 9-20 upper-case letters/digits, 10-character
      ASINs), ids that cannot be real (``Delete``) are counted, not dropped:
      ``attrs["amazon_ids"]`` and a :class:`DataQualityWarning`. All-digit ASINs
      shorter than 10 characters (a spreadsheet stripped their leading zeros:
      ``205616461`` is ``0205616461``) are counted the same way and zero-padded
      only with ``repair_asins=True``.

    Parameters
    ----------
    path : str or os.PathLike
        The file, UTF-8 (a byte-order mark is allowed).
    fmt : {"csv", "ml100k", "ml1m", "whitespace"}, optional
        Force the separator: comma, tab, ``::`` or runs of whitespace.
    rating_scale : tuple (min, max) or (min, max, step), optional
        The scale the ratings are known to use, e.g. ``(1, 5, 1)`` or
        ``(0.5, 5, 0.5)``. Every rating must lie in ``[min, max]`` and, when
        ``step`` is given, on the grid of multiples of ``step``. Default:
        inferred with :func:`infer_rating_scale`.
    first_columns : {3, 4}, optional
        Keep only the first 3 or 4 columns of every line and drop the rest (a
        spreadsheet-edited copy with a fifth column of notes). The number of
        non-empty values dropped is in ``attrs["dropped_extra_values"]`` and in a
        :class:`DataQualityWarning`. Default: a non-empty extra column is an
        error.
    repair_asins : bool, default False
        Zero-pad all-digit ASINs shorter than 10 characters to 10 characters
        (Amazon 2014 files only). The number of rows and ids changed is
        reported.

    Returns
    -------
    pandas.DataFrame
        Columns ``user`` (object of str), ``item`` (object of str), ``rating``
        (float64) and, when the file has a fourth column, ``timestamp``
        (int64). ``attrs`` holds ``dataset`` (file stem), ``synthetic``
        (False), ``source`` (the path), ``header`` (str or None),
        ``rating_scale`` ((min, max, step); step None when no grid fits),
        ``rating_scale_source`` ("stated" or "inferred"), ``notes`` (list of
        str) and, when they apply, ``amazon_ids`` (dict of counts and first
        examples) and ``dropped_extra_values`` (int).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For an unknown ``fmt``, a bad ``first_columns`` or ``rating_scale``,
        ``repair_asins=True`` on a file that is not an Amazon 2014 ratings
        file, an empty file, a file with a header and no ratings, bytes that are
        not UTF-8, a truncated last line, ratings outside the stated scale or
        rare off-grid/out-of-range ratings, or a bad line: the message names the
        file, the 1-based line number and the field (too few or too many
        columns, empty user or item id, missing or non-numeric rating,
        non-integer timestamp, timestamp beyond the 64-bit range).

    Warns
    -----
    DataQualityWarning
        Implausible or zero-stripped Amazon ids (counted, kept), ASINs
        repaired, extra-column values dropped with ``first_columns``.
    """
    path = Path(path)
    if fmt is not None and fmt not in _SEPARATORS:
        raise ValueError(f"unknown fmt {fmt!r}; use one of {sorted(_SEPARATORS)} or None")
    if first_columns is not None and first_columns not in (3, 4):
        raise ValueError(f"first_columns must be 3 or 4 (or None), not {first_columns!r}")
    scale = _check_scale_argument(rating_scale)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            lines = [fh.readline().rstrip("\r\n"), fh.readline().rstrip("\r\n")]
    except UnicodeDecodeError:
        _raise_not_utf8(path)
    if not lines[0].strip():
        raise ValueError(f"{path}: line 1 is empty; expected a rating or a header line")
    fmt = fmt or _sniff_format(lines[0])
    header, why = _is_header(_split(lines[0], fmt))
    notes = [
        f"{path.name}: header on line 1 ({why}): {lines[0]!r}"
        if header
        else f"{path.name}: no header; line 1 is data: {lines[0]!r}"
    ]
    lineno = 2 if header and lines[1] else 1  # count the columns on the first data line
    fields = _split(lines[lineno - 1], fmt)
    if first_columns is not None:
        if len(fields) < first_columns:
            _raise_bad_line(path, fmt, lineno, "too few columns", RATING_COLUMNS[:first_columns])
        n_fields, extra = first_columns, [f"_extra{k}" for k in range(len(fields) - first_columns)]
    else:
        trailing = len(fields) > 3 and fields[-1] == ""  # "u,i,5.0,123," on every line
        n_fields, extra = len(fields) - trailing, ["_trailing"] * trailing
        if n_fields not in (3, 4):
            raise ValueError(
                f"{path}: line {lineno}: expected 3 or 4 columns (user, item, rating[, "
                f"timestamp]), found {n_fields}: {lines[lineno - 1]!r}"
            )
    names = list(RATING_COLUMNS[:n_fields])
    try:
        df, extra = _read(path, fmt, header, names, extra, first_columns is not None)
    except UnicodeDecodeError:
        _raise_not_utf8(path)
    if len(df) == 0:
        what = f"a header line ({lines[0]!r}) and" if header else "only blank lines,"
        raise ValueError(f"{path}: the file has no ratings: it holds {what} no rating lines")
    attrs = {
        "dataset": path.stem,
        "synthetic": False,
        "source": str(path),
        "header": lines[0] if header else None,
    }
    warn = []
    if extra:
        values = df[extra].fillna("").astype(str).to_numpy()
        dropped = int((values != "").sum())
        rows = int((values != "").any(axis=1).sum())
        attrs["dropped_extra_values"] = dropped
        message = (
            f"{path.name}: first_columns={first_columns}: dropped {dropped:,} non-empty "
            f"value(s) in {rows:,} row(s) from column(s) after the first {first_columns}"
        )
        notes.append(message)
        if dropped:
            warn.append(message)
    df = df[names].reset_index(drop=True)
    if "timestamp" in df:
        _check_truncated_last_line(path, df["timestamp"].to_numpy())
    attrs["rating_scale"], attrs["rating_scale_source"] = _rating_scale(
        path, fmt, header, names, extra, df["rating"].to_numpy(), scale, notes
    )
    if n_fields == 4:
        df = _check_amazon_2014_ids(path, df, repair_asins, attrs, notes, warn)
    elif repair_asins:
        raise ValueError(f"{path}: repair_asins=True applies to Amazon 2014 ratings files only")
    attrs["notes"] = notes
    for note in notes:
        _log.info(note)
    for message in warn:
        warnings.warn(message, DataQualityWarning, stacklevel=2)
    df.attrs = attrs
    return df


def _check_scale_argument(scale) -> tuple[float, float, float | None] | None:
    if scale is None:
        return None
    try:
        values = [float(v) for v in scale]
    except (TypeError, ValueError):
        values = []
    if len(values) not in (2, 3) or not all(np.isfinite(values)) or values[0] > values[1]:
        raise ValueError(
            f"rating_scale must be (min, max) or (min, max, step) with min <= max, not {scale!r}"
        )
    if len(values) == 3 and values[2] <= 0:
        raise ValueError(f"rating_scale step must be positive, not {scale!r}")
    return (values[0], values[1], values[2] if len(values) == 3 else None)


def _sniff_format(first_line: str) -> str:
    if "::" in first_line:
        return "ml1m"
    if "\t" in first_line:
        return "ml100k"
    return "csv" if "," in first_line else "whitespace"


def _split(line: str, fmt: str) -> list[str]:
    """Fields of one line, double quotes honoured as ``pd.read_csv`` does."""
    if fmt == "whitespace":
        return line.split()
    if fmt == "ml1m":
        return line.split("::")
    return next(csv.reader([line], delimiter=_SEPARATORS[fmt]), [""])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_header(fields: list[str]) -> tuple[bool, str]:
    """Whether a first line is a header, and why (see :func:`load_ratings`)."""
    if len(fields) > 3 and fields[-1] == "":
        fields = fields[:-1]
    if tuple(f.strip().lower() for f in fields) in KNOWN_HEADERS:
        return True, "a known header"
    if len(fields) >= 3 and all(_NAME.fullmatch(f) and not _is_number(f) for f in fields):
        return True, "every field is a name, none a number"
    return False, "a field is a number or empty"


def _read_csv(path: Path, fmt: str, header: bool, columns: list[str], dtype, **kw) -> pd.DataFrame:
    """``pd.read_csv`` with the column layout of ``fmt``; ids always text."""
    if fmt == "ml1m":  # "::" as sep needs the slow Python engine; ":" + dropping gaps does not
        names = [n for i, col in enumerate(columns) for n in (col, f"_gap{i}")][:-1]
        sep = ":"
    else:
        names, sep = columns, _SEPARATORS[fmt] or r"\s+"
    dtypes = {c: dtype.get(c, object) for c in names}
    with warnings.catch_warnings():  # never lose data silently: a ParserWarning is an error
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            df = pd.read_csv(
                path,
                sep=sep,
                header=None,
                skiprows=int(header),
                names=names,
                index_col=False,
                dtype=dtypes,
                na_filter=False,
                encoding="utf-8-sig",
                **kw,
            )
        except pd.errors.ParserWarning as exc:
            raise ValueError(f"{path}: {exc}") from exc
    return df[[c for c in names if not c.startswith("_gap")]] if fmt == "ml1m" else df


def _read(path, fmt, header, names, extra, tolerate_extra) -> tuple[pd.DataFrame, list[str]]:
    """Read the file; with ``tolerate_extra`` widen ``extra`` until every line fits."""
    for _ in range(50):
        try:
            columns = names + extra
            df = _read_fast(path, fmt, header, columns)
            if df is None:
                df = _read_checked(path, fmt, header, columns)
            return df, extra
        except pd.errors.ParserError as exc:  # "Expected 4 fields in line 7, saw 5"
            found = re.search(r"line (\d+), saw (\d+)", str(exc))
            if found is None:
                raise ValueError(f"{path}: {exc}") from exc
            if not tolerate_extra:
                _raise_bad_line(path, fmt, int(found.group(1)), "too many columns", names)
            extra = [f"_extra{k}" for k in range(int(found.group(2)) - len(names))]
    raise ValueError(f"{path}: lines have too many different numbers of columns")


def _read_fast(path, fmt, header, columns) -> pd.DataFrame | None:
    """Let the C parser convert rating and timestamp; None if anything looks wrong."""
    try:
        df = _read_csv(path, fmt, header, columns, {"rating": "float64", "timestamp": "int64"})
    except (ValueError, OverflowError) as exc:  # a value that does not convert
        if isinstance(exc, (pd.errors.ParserError, UnicodeDecodeError)):
            raise
        return None
    ok = (
        np.isfinite(df["rating"].to_numpy()).all()
        and (df["user"] != "").all()
        and (df["item"] != "").all()
        and ("_trailing" not in df or (df["_trailing"] == "").all())
    )
    return df if ok else None


_INT64_MAX = str(np.iinfo(np.int64).max)


def _parse_timestamps(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer timestamps from text: (values, bad, beyond 64 bits), vectorised."""
    text = text.fillna("").astype(str).str.strip()
    integer = text.str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
    digits = text.str.lstrip("+-").str.lstrip("0").str.len().to_numpy()
    magnitude = text.str.lstrip("+-").str.lstrip("0").to_numpy(dtype=object)
    huge = integer & (
        (digits > len(_INT64_MAX))
        | ((digits == len(_INT64_MAX)) & (magnitude.astype(str) > _INT64_MAX))
    )
    values = np.zeros(len(text), dtype=np.int64)
    fits = integer & ~huge
    values[fits] = text[fits].astype("int64").to_numpy()
    decimal = pd.to_numeric(text.where(~integer, ""), errors="coerce").to_numpy(dtype="float64")
    whole = ~integer & np.isfinite(decimal) & (decimal % 1 == 0) & (np.abs(decimal) < 2.0**53)
    values[whole] = decimal[whole].astype(np.int64)
    return values, ~(fits | whole | huge), huge


def _read_checked(path, fmt, header, columns) -> pd.DataFrame:
    """Read everything as text, validate vectorised, and report the first bad line."""
    df = _read_csv(path, fmt, header, columns, {}, skip_blank_lines=False)
    df[columns] = df[columns].fillna("")
    blank = (df[columns] == "").all(axis=1).to_numpy()  # blank lines are skipped
    rating = pd.to_numeric(df["rating"], errors="coerce").to_numpy(dtype="float64")
    problems = {
        "empty user id": df["user"] == "",
        "empty item id": df["item"] == "",
        "missing or non-numeric rating": ~np.isfinite(rating),
    }
    if "timestamp" in df:
        timestamp, bad, huge = _parse_timestamps(df["timestamp"])
        problems["missing or non-integer timestamp"] = bad
        problems["timestamp beyond the 64-bit integer range (at most 9223372036854775807)"] = huge
    if "_trailing" in df:
        problems["extra non-empty column"] = df["_trailing"] != ""
    first_bad = {}
    for what, mask in problems.items():
        rows = np.flatnonzero(np.asarray(mask) & ~blank)
        if rows.size:
            first_bad[what] = rows[0]
    if first_bad:
        what, row = min(first_bad.items(), key=lambda kv: kv[1])
        _raise_bad_line(path, fmt, int(row) + 1 + header, what, columns)
    keep = ~blank
    out = pd.DataFrame({"user": df["user"][keep], "item": df["item"][keep], "rating": rating[keep]})
    if "timestamp" in df:
        out["timestamp"] = timestamp[keep]
    for col in columns:
        if col.startswith("_extra"):
            out[col] = df[col][keep]
    return out.reset_index(drop=True)


def _raise_bad_line(path: Path, fmt: str, lineno: int, what: str, columns):
    """Raise ValueError quoting line ``lineno`` (1-based) of the file."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        text = next(itertools.islice(fh, lineno - 1, None), "").rstrip("\r\n")
    n_found = len(_split(text, fmt))
    n_data = len([c for c in columns if c in RATING_COLUMNS])
    if n_found < n_data or what == "too many columns":
        what = (
            f"too {'few' if n_found < n_data else 'many'} columns (found {n_found}, "
            f"expected {n_data}: {', '.join(RATING_COLUMNS[:n_data])})"
        )
    if n_found > n_data or what == "extra non-empty column":
        what += f" (load_ratings(..., first_columns={n_data}) keeps only the first {n_data})"
    raise ValueError(f"{path}: line {lineno}: {what}: {text!r}")


def _raise_not_utf8(path: Path):
    """Raise ValueError naming the first line of ``path`` that is not UTF-8."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = raw.count(b"\n", 0, exc.start) + 1
        start = raw.rfind(b"\n", 0, exc.start) + 1
        end = raw.find(b"\n", exc.start)
        line = raw[start : end if end >= 0 else len(raw)].rstrip(b"\r")
        raise ValueError(
            f"{path}: line {lineno}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
            f"{exc.start - start + 1}): {line!r}. Save the file as UTF-8 (from Latin-1: "
            f"iconv -f latin1 -t utf-8)."
        ) from None
    raise ValueError(f"{path}: cannot be decoded as UTF-8")  # pragma: no cover


def _line_numbers(path, fmt, header, columns, rows) -> np.ndarray:
    """1-based file line numbers of the frame rows ``rows`` (blank lines are not rows)."""
    text = _read_csv(path, fmt, header, columns, {}, skip_blank_lines=False)
    text = text[columns].fillna("")
    data_lines = np.flatnonzero(~(text == "").all(axis=1).to_numpy()) + 1 + int(header)
    return data_lines[np.asarray(rows, dtype=np.int64)]


def _check_truncated_last_line(path: Path, timestamp: np.ndarray) -> None:
    """Refuse a last line without newline whose timestamp is shorter than all others."""
    if timestamp.size < 2:
        return
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    if tail.endswith(b"\n"):
        return
    digits = len(str(abs(int(timestamp[-1]))))
    fewest = len(str(int(np.abs(timestamp[:-1]).min())))
    if digits >= fewest:
        return
    lineno = path.read_bytes().count(b"\n") + 1
    text = tail.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")
    raise ValueError(
        f"{path}: line {lineno}: the last line has no final newline and its timestamp has "
        f"{digits} digit(s), fewer than every other timestamp ({fewest} or more): the file "
        f"looks cut off (interrupted download or copy): {text!r}. Get a complete copy, or "
        f"delete the line if the file is otherwise whole."
    )


# --------------------------------------------------------------------------- rating scale


def _on_grid(values: np.ndarray, step: float) -> np.ndarray:
    scaled = values / step
    return np.abs(scaled - np.round(scaled)) < 1e-6


def _scale_problems(values: np.ndarray):
    """``((min, max, step), bad_mask, reason)`` for finite ratings ``values``."""
    n = values.size
    rare = int(RARE_SHARE * n)  # 0 below 1,000 ratings: nothing is called rare then
    step, bad, reason = None, np.zeros(n, dtype=bool), ""
    for candidate in RATING_STEPS:
        off = ~_on_grid(values, candidate)
        if off.sum() <= rare:
            step = candidate
            if off.any():
                bad, reason = off, f"off the grid of step {candidate:g}"
            break
    inside = values[~bad]
    if inside.size == 0:
        return (float("nan"), float("nan"), step), bad, reason
    lo, hi = float(inside.min()), float(inside.max())
    best = None
    for klo, khi in KNOWN_SCALES:
        outside = (values < klo - 1e-9) | (values > khi + 1e-9)
        n_out = int((outside & ~bad).sum())
        used = inside[(inside >= klo - 1e-9) & (inside <= khi + 1e-9)]
        fills = used.size and np.isclose(used.min(), klo) and np.isclose(used.max(), khi)
        if 0 < n_out <= rare and fills and (best is None or n_out < best[0]):
            best = (n_out, klo, khi, outside & ~bad)
    if best is not None:
        _, klo, khi, outside = best
        bad = bad | outside
        lo, hi = klo, khi
        reason = (reason + " or " if reason else "") + f"outside the scale {klo:g}-{khi:g}"
    return (lo, hi, step), bad, reason


def infer_rating_scale(ratings) -> tuple[float, float, float | None]:
    """Infer the rating scale ``(min, max, step)`` of a set of ratings.

    The rule, applied to all ratings at once (vectorised):

    1. **Step**: the largest of :data:`RATING_STEPS` (1, 0.5, 0.25, 0.1, 0.05,
       0.01) such that at least 99.9% of the ratings are multiples of it
       (at most ``floor(0.001 * n)`` are not). None when no step fits.
    2. **Off the grid**: the ratings that are not multiples of that step. If
       there are any, they are *rare* (at most 0.1% of the ratings), which
       means a typo or an edit, not a finer scale: an error.
    3. **Range**: a conventional scale of :data:`KNOWN_SCALES` (1-5, 0.5-5,
       0.5-4, 0-5, 1-10, 0-10) whose two ends both occur but which leaves out a
       rare set of ratings (at most 0.1%): those are out of range (a lone 6
       among ratings filling 1-5): an error. Otherwise min and max are the
       smallest and largest rating.

    Because "rare" means at most 0.1%, nothing is rare in fewer than 1,000
    ratings: a small file gets the scale it shows. State the scale instead
    (``load_ratings(path, rating_scale=(1, 5, 1))``) to check a small file.

    Parameters
    ----------
    ratings : array-like of float
        The ratings (a Series, array or list); all must be finite.

    Returns
    -------
    tuple of (float, float, float or None)
        ``(min, max, step)``, e.g. ``(1.0, 5.0, 1.0)`` for MovieLens 100K,
        ``(0.5, 5.0, 0.5)`` for MovieLens latest-small, ``(0.5, 4.0, 0.5)``
        for FilmTrust.

    Raises
    ------
    ValueError
        If there are no ratings, a rating is NaN or infinite, or some ratings
        are rare and off the grid or out of range: the message gives their
        positions (index labels for a Series) and values.
    """
    labels = ratings.index if isinstance(ratings, pd.Series) else None
    values = np.asarray(ratings, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("no ratings: cannot infer a rating scale")
    if not np.isfinite(values).all():
        raise ValueError("ratings must be finite numbers to infer a scale (NaN or inf found)")
    scale, bad, reason = _scale_problems(values)
    if bad.any():
        rows = np.flatnonzero(bad)
        names = labels[rows] if labels is not None else rows
        where = ", ".join(
            f"{'label' if labels is not None else 'position'} {r!r}: {v:g}"
            for r, v in zip(list(names[:10]), values[rows[:10]])
        )
        raise ValueError(
            f"{rows.size} rare rating(s) {reason} of the other {values.size - rows.size:,} "
            f"(scale {scale[0]:g}-{scale[1]:g}, step {scale[2]}): {where}"
            f"{' ...' if rows.size > 10 else ''}"
        )
    return scale


def _rating_scale(path, fmt, header, names, extra, values, stated, notes):
    """The file's scale (stated or inferred); ValueError naming the lines that break it."""
    if stated is not None:
        lo, hi, step = stated
        bad = (values < lo - 1e-9) | (values > hi + 1e-9)
        reason = f"outside the stated rating_scale {lo:g}-{hi:g}"
        if step is not None:
            bad |= ~_on_grid(values, step)
            reason += f" or off its step {step:g}"
        scale, source, hint = stated, "stated", "check the file or the stated scale"
    else:
        scale, bad, reason = _scale_problems(values)
        source = "inferred"
        hint = (
            "if these ratings are genuine, state the scale: load_ratings(..., "
            "rating_scale=(min, max, step))"
        )
    if bad.any():
        rows = np.flatnonzero(bad)
        lines = _line_numbers(path, fmt, header, names + extra, rows[:10])
        where = ", ".join(f"line {n}: {v:g}" for n, v in zip(lines, values[rows[:10]]))
        raise ValueError(
            f"{path}: {rows.size:,} rating(s) {reason} (the other {values.size - rows.size:,} "
            f"ratings fit): {where}{' ...' if rows.size > 10 else ''}; {hint}"
        )
    scale = tuple(None if v is None else float(v) for v in scale)
    notes.append(
        f"{path.name}: rating scale {scale[0]:g}-{scale[1]:g}, step "
        f"{'none' if scale[2] is None else f'{scale[2]:g}'} ({source}"
        + (
            f"; only {values.size:,} ratings, too few to call any value rare: state "
            "rating_scale= to check them)"
            if stated is None and int(RARE_SHARE * values.size) == 0
            else ")"
        )
    )
    return scale, source


# --------------------------------------------------------------------------- Amazon 2014 ids


def _check_amazon_2014_ids(path, df, repair, attrs, notes, warn) -> pd.DataFrame:
    """Count implausible and zero-stripped ids of an Amazon 2014 file; repair if asked."""
    head = df.head(1000)
    looks = (
        head["user"].str.fullmatch(_AMAZON_2014_USER).mean() >= 0.5
        and head["item"].str.fullmatch(f"{_ASIN}|{_STRIPPED_ASIN}").mean() >= 0.5
    )
    if not looks:
        if repair:
            raise ValueError(
                f"{path}: repair_asins=True applies to Amazon 2014 ratings files only; the ids "
                "here do not look like 2014 reviewer ids and ASINs"
            )
        return df
    report = {}
    users = pd.Series(pd.unique(df["user"]), dtype=object)
    items = pd.Series(pd.unique(df["item"]), dtype=object)
    bad_users = set(users[~users.str.fullmatch(_AMAZON_2014_USER)])
    stripped = set(items[items.str.fullmatch(_STRIPPED_ASIN)])
    bad_items = set(items[~items.str.fullmatch(_ASIN)]) - stripped
    for key, ids, col, what in [
        ("implausible_users", bad_users, "user", "user id(s) that cannot be 2014 reviewer ids"),
        ("implausible_items", bad_items, "item", "item id(s) that cannot be ASINs"),
        (
            "stripped_asins",
            stripped,
            "item",
            "all-digit ASIN(s) shorter than 10 characters "
            "(leading zeros stripped, e.g. by a spreadsheet)",
        ),
    ]:
        if not ids:
            continue
        rows = df[col].isin(ids).to_numpy()
        examples = list(pd.unique(df[col][rows]))[:5]
        report[key] = {"rows": int(rows.sum()), "ids": len(ids), "examples": examples}
        message = (
            f"{path.name}: {rows.sum():,} row(s) with {len(ids):,} {what}, kept: "
            f"{', '.join(map(repr, examples))}{' ...' if len(ids) > 5 else ''}"
        )
        if key == "stripped_asins":
            if repair:
                df = df.copy()
                df.loc[rows, "item"] = df.loc[rows, "item"].str.zfill(10)
                report[key]["repaired"] = True
                message = (
                    f"{path.name}: repair_asins=True: zero-padded {len(ids):,} ASIN(s) in "
                    f"{rows.sum():,} row(s) to 10 characters, e.g. {examples[0]!r} -> "
                    f"{examples[0].zfill(10)!r}"
                )
            else:
                report[key]["repaired"] = False
                message += "; load_ratings(..., repair_asins=True) zero-pads them"
        notes.append(message)
        warn.append(message)
    if repair and "stripped_asins" not in report:
        notes.append(f"{path.name}: repair_asins=True: no zero-stripped ASIN found")
    attrs["amazon_ids"] = report
    return df


# --------------------------------------------------------------------------- datasets


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    return DATASETS[name]


def _missing_message(name: str, spec: DatasetSpec, filename: str, folder: Path) -> str:
    if spec.url is None:
        how = f"{name!r} has no download URL (local-only data): copy {filename} yourself"
    elif spec.archive_dir:
        how = f"Download {spec.url}, unzip it and take {spec.archive_dir}/{filename}"
    elif spec.url.endswith("/"):
        how = f"Download {', '.join(spec.url + f for f in spec.files)}"
    else:
        how = f"Download {spec.url}"
    return (
        f"Dataset {name!r}: file {filename} not found at {folder / filename}.\n"
        f"{how} and put it in the folder {folder}{os.sep}\n"
        f"(or set {ENV_VAR} to a data folder laid out <dir>/<dataset>/<file>).\n"
        "No data at hand? Use the generated offline stand-in: --dataset synthetic "
        "(recsys_ae.data.load_dataset('synthetic'))."
    )


def _download(name: str, spec: DatasetSpec, filename: str, folder: Path) -> None:
    """Fetch the dataset's files into ``folder`` with pooch; DataNotFoundError on failure."""
    message = _missing_message(name, spec, filename, folder)
    if spec.url is None:
        raise DataNotFoundError(message)
    progressbar = importlib.util.find_spec("tqdm") is not None
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if spec.url.endswith("/"):  # a folder of files, each fetched and verified
            for fname, sha in spec.files.items():
                pooch.retrieve(spec.url + fname, known_hash=sha, fname=fname, path=folder,
                               progressbar=progressbar)
            return
        if spec.archive_dir is None:
            pooch.retrieve(
                spec.url,
                known_hash=spec.sha256,
                fname=spec.file,
                path=folder,
                progressbar=progressbar,
            )
            if spec.sha256 is None:
                note = _unverified_note(name, spec)
                print(note)
                warnings.warn(note, DataQualityWarning, stacklevel=4)
            return
        archive = Path(urlparse(spec.url).path).name
        members = [f"{spec.archive_dir}/{f}" for f in spec.files]
        extracted = pooch.retrieve(
            spec.url,
            known_hash=spec.archive_hash,
            fname=archive,
            path=folder,
            processor=pooch.Unzip(members=members, extract_dir=str(folder)),
            progressbar=progressbar,
        )
        for member in extracted:  # <folder>/ml-100k/u.data -> <folder>/u.data
            Path(member).replace(folder / Path(member).name)
        (folder / archive).unlink(missing_ok=True)
        shutil.rmtree(folder / spec.archive_dir, ignore_errors=True)
    except Exception as exc:  # network, HTTP, disk or archive errors all mean "no data"
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # leave no empty folder behind in the data directory
        reason = exc.__class__.__name__
        if isinstance(exc, OSError) or "ConnectionError" in reason or "HTTPError" in reason:
            reason = f"{reason} (no network, or the server refused)"
        detail = str(exc) if len(str(exc)) <= 240 else str(exc)[:240] + " ..."
        raise DataNotFoundError(f"{message}\nDownload failed: {reason}: {detail}") from exc


def _verify(path: Path, sha256: str | None) -> None:
    if sha256 is None:
        return
    actual = pooch.file_hash(str(path), alg="sha256")
    if actual != sha256:
        raise ValueError(
            f"{path}: sha256 mismatch: expected {sha256}, got {actual}. The file is not the "
            "published one (edited or truncated copy?); delete it to download it again, or "
            "read it on purpose with load_ratings(path)."
        )


def _fetch(name: str, filename: str, folder: str | os.PathLike | None, download: bool) -> Path:
    """Path of a verified dataset file, downloading it first if allowed."""
    spec = _spec(name)
    folder = data_dir(folder) / spec.folder
    path = folder / filename
    if not path.is_file():
        if not download:
            raise DataNotFoundError(_missing_message(name, spec, filename, folder))
        _download(name, spec, filename, folder)
        if not path.is_file():
            raise DataNotFoundError(
                _missing_message(name, spec, filename, folder) + "\n(download did not contain it)"
            )
    _verify(path, spec.files.get(filename))
    return path


def _unverified_note(name: str, spec: DatasetSpec) -> str:
    counts = ", ".join(f"{v:,} {k[2:]}" for k, v in (spec.counts or {}).items())
    return (
        f"{name}: no published sha256 exists for {spec.file}, so this copy is verified by its "
        f"size and counts only ({counts or 'no reference counts'})"
    )


def _load_review_json(path: Path, rating_scale) -> pd.DataFrame:
    """Amazon review JSON lines (gzip) as a ratings frame, one rating per (user, item) pair.

    Exact duplicate records are dropped; of several reviews of one pair with different
    ratings the latest (``unixReviewTime``; the later line on a tie) is kept. Both counts are
    written to ``attrs["notes"]`` and ``attrs["n_duplicates_dropped"]``.
    """
    raw = pd.read_json(path, lines=True, compression="gzip", dtype=False)
    missing = {"reviewerID", "asin", "overall", "unixReviewTime"} - set(raw.columns)
    if missing:
        raise ValueError(f"{path.name}: review records lack {sorted(missing)}")
    df = pd.DataFrame({"user": raw["reviewerID"].astype(str), "item": raw["asin"].astype(str),
                       "rating": raw["overall"].astype(np.float64),
                       "timestamp": raw["unixReviewTime"].astype(np.int64)})
    lo, hi, _ = rating_scale
    bad = ~df["rating"].between(lo, hi)
    if bad.any():
        raise ValueError(f"{path.name}: {int(bad.sum())} ratings outside {lo:g}-{hi:g}")
    n_records = len(df)
    exact = df.duplicated().sum()
    df = df.drop_duplicates()
    conflicting = int(df.duplicated(["user", "item"], keep=False).sum())
    df = (df.reset_index(drop=True).reset_index()
          .sort_values(["timestamp", "index"], kind="stable")
          .drop_duplicates(["user", "item"], keep="last")
          .sort_values("index", kind="stable").drop(columns="index").reset_index(drop=True))
    dropped = n_records - len(df)
    df.attrs["notes"] = [
        f"{path.name}: {n_records:,} review records, {len(df):,} distinct (user, item) pairs "
        f"kept: {int(exact):,} identical copies (same user, item, rating and time) dropped; of "
        f"{conflicting:,} records of pairs rated differently only the latest review kept"]
    df.attrs["n_duplicates_dropped"] = int(dropped)
    _log.info(df.attrs["notes"][0])
    return df


def _load_parts(name, spec, first_path, folder, download, kwargs) -> pd.DataFrame:
    """A dataset stored as several files of one format (FilmTrust's four parts), each read
    and checked by :func:`load_ratings`, concatenated in the order of ``spec.files``.
    A (user, item) pair rated in two parts is an error naming both files."""
    paths = [first_path] + [_fetch(name, f, folder, download) for f in spec.files
                            if f != spec.file]
    parts = [load_ratings(p, rating_scale=spec.rating_scale, **kwargs) for p in paths]
    df = pd.concat(parts, ignore_index=True)
    df.attrs = dict(parts[0].attrs)
    df.attrs["notes"] = [note for part in parts for note in part.attrs.get("notes", [])]
    df.attrs["notes"].append(f"{name}: {len(paths)} files read as one: "
                             + ", ".join(f"{p.name} ({len(part):,})"
                                         for p, part in zip(paths, parts)))
    _log.info(df.attrs["notes"][-1])
    repeated = int(df.duplicated(["user", "item"], keep=False).sum())
    if repeated:  # kept as read: preprocess.deduplicate resolves and counts them
        df.attrs["notes"].append(f"{name}: {repeated} rows repeat a (user, item) pair (kept "
                                 "as read; preprocess.deduplicate resolves and counts them)")
        _log.info(df.attrs["notes"][-1])
    return df


def load_dataset(
    name: str,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    **kwargs,
) -> pd.DataFrame:
    """Load a registered dataset (see :data:`DATASETS`) as a ratings frame.

    Looks for ``<data_dir>/<folder>/<file>``; when present its sha256 is
    checked (if published) and it is read without any network access. When
    absent it is downloaded with :func:`pooch.retrieve` if ``download``.

    Parameters
    ----------
    name : {"amazon-beauty", "amazon-beauty-sample", "amazon-all-beauty-2023-5core", \
"amazon-all-beauty-2018-5core", "ml-100k", "ml-latest-small", "filmtrust", "synthetic"}
        Dataset name. Sources: Amazon product data 2014, Beauty ratings
        (McAuley et al. SIGIR 2015; He & McAuley WWW 2016); the first 499 rows
        of it (local only); MovieLens 100K and latest-small (Harper & Konstan,
        TiiS 2015); FilmTrust (Guo, Zhang & Yorke-Smith, IJCAI 2013; its four
        files read as one); ``"synthetic"`` is :func:`synthetic_ratings`.
    data_dir : str or os.PathLike, optional
        Data folder; default :func:`data_dir` (``RECSYS_AE_DATA_DIR`` or the
        user cache).
    download : bool, default True
        Download a missing file. With False a missing file is an error.
    **kwargs
        For ``"synthetic"``: ``size`` (``"small"``, default, or ``"full"``),
        ``n_ratings``, ``n_users``, ``n_items``, ``rank``, ``seed`` (int,
        default 0); explicit counts override ``size``. For a file:
        ``first_columns`` and ``repair_asins``, passed to
        :func:`load_ratings`.

    Returns
    -------
    pandas.DataFrame
        Ratings frame (see :func:`load_ratings`) with
        ``attrs["dataset"] = name``, read with the dataset's known
        ``rating_scale``. The counts are compared with the reference counts.
        ``"amazon-beauty"`` has no published checksum: the download is
        verified by its size and counts only (:data:`BEAUTY_COUNTS`), as a
        printed line, a :class:`DataQualityWarning` and a line of
        ``attrs["notes"]`` say.

    Raises
    ------
    ValueError
        Unknown name (the message lists the valid ones), sha256 mismatch
        (names the file, expected and actual hash), or a bad line.
    TypeError
        Keyword arguments other than ``first_columns`` and ``repair_asins``
        given for a dataset other than ``"synthetic"``.
    DataNotFoundError
        File missing and not downloadable (``download=False``, no URL, or the
        download failed). The message names the file, the URL and the folder.

    Warns
    -----
    CountMismatchWarning
        The file loaded but has other counts than the reference.
    DataQualityWarning
        A download without a published checksum, or what :func:`load_ratings`
        reports (zero-stripped ASINs in ``"amazon-beauty-sample"``, ...).
    """
    spec = _spec(name)
    if name == "synthetic":
        size = kwargs.pop("size", "small")
        if size not in ("small", "full"):
            raise ValueError(f"size must be 'small' or 'full', not {size!r}")
        if size == "full":
            kwargs = {**SYNTHETIC_FULL, **kwargs}
        return synthetic_ratings(**kwargs)
    unknown = set(kwargs) - {"first_columns", "repair_asins"}
    if unknown:
        raise TypeError(
            f"load_dataset({name!r}) takes only first_columns and repair_asins as extra "
            f"arguments, not {sorted(unknown)}"
        )
    path = _fetch(name, spec.file, data_dir, download)
    if spec.file.endswith(".json.gz"):
        if kwargs:
            raise TypeError(f"load_dataset({name!r}) reads JSON lines; it takes no "
                            f"{sorted(kwargs)}")
        df = _load_review_json(path, spec.rating_scale)
    elif len(spec.files) > 1 and spec.url is not None and spec.url.endswith("/"):
        df = _load_parts(name, spec, path, data_dir, download, kwargs)
    else:
        df = load_ratings(path, rating_scale=spec.rating_scale, **kwargs)
    df.attrs.update(dataset=name, source=str(path))
    if spec.sha256 is None and spec.url is not None:
        df.attrs["notes"].append(_unverified_note(name, spec))
    if spec.counts is not None:
        check_counts(df, spec.counts, name=name)
    return df


def load_canonical_split(
    name: str = "ml-100k",
    fold: int | str = 1,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load a canonical train/test split shipped with a dataset.

    Parameters
    ----------
    name : {"ml-100k"}
        Only MovieLens 100K ships splits (Harper & Konstan, TiiS 2015).
    fold : {1, 2, 3, 4, 5, "a", "b"}, default 1
        ``1``-``5``: the five disjoint 80/20 folds ``u1.base``/``u1.test`` ...;
        ``"a"``/``"b"``: ``ua``/``ub``, ten test ratings per user.
    data_dir : str or os.PathLike, optional
        Data folder; see :func:`load_dataset`.
    download : bool, default True
        Download the archive if the split files are missing.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``(train, test)`` ratings frames from ``u<fold>.base`` and
        ``u<fold>.test``, both sha256-verified.

    Raises
    ------
    ValueError
        Unknown dataset or fold, sha256 mismatch.
    DataNotFoundError
        Files missing and not downloadable.
    """
    if name != "ml-100k":
        raise ValueError(f"canonical splits exist only for 'ml-100k', not {name!r}")
    if isinstance(fold, bool) or str(fold) not in {"1", "2", "3", "4", "5", "a", "b"}:
        raise ValueError(f"fold must be 1-5, 'a' or 'b', not {fold!r}")
    frames = []
    for part in ("base", "test"):
        path = _fetch(name, f"u{fold}.{part}", data_dir, download)
        df = load_ratings(path, fmt="ml100k", rating_scale=DATASETS[name].rating_scale)
        df.attrs.update(dataset=name)
        frames.append(df)
    return frames[0], frames[1]


# --------------------------------------------------------------------------- synthetic data

# Beauty's rating shares for 1..5 stars (mean 4.15) and its users/items per rating.
_RATING_SHARES = np.array([0.090, 0.056, 0.084, 0.152, 0.618])
_USERS_PER_RATING = BEAUTY_COUNTS["n_users"] / BEAUTY_COUNTS["n_ratings"]
_ITEMS_PER_RATING = BEAUTY_COUNTS["n_items"] / BEAUTY_COUNTS["n_ratings"]
_DAY = 86_400
_FIRST_DAY, _LAST_DAY = 946_684_800 // _DAY, 1_406_073_600 // _DAY  # 2000-01-01, 2014-07-23


def _degrees(rng: np.random.Generator, n: int, total: int, tail: float, cap: int) -> np.ndarray:
    """``n`` heavy-tailed degrees >= 1 summing to ``total``, none above ``cap``.

    Every node gets one rating; the other ``total - n`` go to nodes with
    probability proportional to a Lomax (Pareto II) weight: most weights are
    tiny (those nodes keep a single rating), a few are huge (the heavy tail).
    The weights are the ``n`` evenly spaced quantiles, shuffled, so the size of
    the largest degree does not swing from seed to seed.
    """
    weights = rng.permutation(((np.arange(n) + 0.5) / n) ** (-1.0 / tail) - 1.0)
    degree = 1 + np.bincount(rng.choice(n, total - n, p=weights / weights.sum()), minlength=n)
    while (excess := int(np.maximum(degree - cap, 0).sum())) > 0:  # rare: re-deal the excess
        degree = np.minimum(degree, cap)
        room = cap - degree
        degree += np.bincount(rng.choice(n, excess, p=room / room.sum()), minlength=n)
    return degree


def _in_sorted(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which ``keys`` occur in the sorted array ``sorted_keys``."""
    at = np.searchsorted(sorted_keys, keys).clip(max=sorted_keys.size - 1)
    return sorted_keys[at] == keys


def _pair_without_duplicates(rng, user_degree, item_degree, max_rounds=1000):
    """Match rating slots of users and items at random, with no (user, item) twice.

    Shuffles item slots against user slots (both degree sequences are kept
    exactly), then repairs each repeated pair by swapping its item with the
    item of a random other slot, when neither new pair exists yet.
    """
    n_items = item_degree.size
    users = np.repeat(np.arange(user_degree.size), user_degree).astype(np.int64)
    items = rng.permutation(np.repeat(np.arange(n_items), item_degree)).astype(np.int64)
    for _ in range(max_rounds):
        key = users * n_items + items
        order = np.argsort(key, kind="stable")
        known = key[order]
        repeated = order[1:][known[1:] == known[:-1]]
        if repeated.size == 0:
            return users, items
        partner = rng.integers(0, users.size, repeated.size)
        new_a = users[repeated] * n_items + items[partner]
        new_b = users[partner] * n_items + items[repeated]
        first_use = np.zeros(partner.size, dtype=bool)
        first_use[np.unique(partner, return_index=True)[1]] = True
        ok = first_use & ~np.isin(partner, repeated) & (new_a != new_b)
        ok &= ~_in_sorted(known, new_a) & ~_in_sorted(known, new_b)
        a, b = repeated[ok], partner[ok]
        items[a], items[b] = items[b], items[a]
    raise RuntimeError("could not avoid duplicate (user, item) pairs; the data is too dense")


def synthetic_ratings(
    n_ratings: int = 20_000,
    n_users: int | None = None,
    n_items: int | None = None,
    *,
    rank: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Generate a ratings frame shaped like Amazon Beauty, with learnable structure.

    A named *synthetic* dataset, the offline stand-in for the real data:

    * every user and every item has at least one rating, and the exact
      numbers of ratings, users and items asked for;
    * heavy-tailed degrees: most users rate one item (Beauty: 1.67 ratings per
      user, at most 389), item popularity is a power law (a few thousand
      ratings for the top item at full scale);
    * no duplicate (user, item) pair: collisions are re-drawn, never dropped;
    * integer ratings 1-5 with Beauty's shares (1: 9.0%, 2: 5.6%, 3: 8.4%,
      4: 15.2%, 5: 61.8%; mean 4.15);
    * a planted score ``user_bias + item_bias + <P_u, Q_i> + noise`` with
      rank-``rank`` factors; ratings are its quantile bins, so item means,
      biases and low-rank models all have something to find;
    * ids ``"SU0000001"`` / ``"SI000001"`` (str) and day-resolution unix
      timestamps between 2000-01-01 and 2014-07-23.

    Parameters
    ----------
    n_ratings : int, default 20_000
        Number of ratings (rows). ``SYNTHETIC_FULL["n_ratings"]`` is Beauty's.
    n_users, n_items : int, optional
        Number of distinct users and items; default: ``n_ratings`` times
        Beauty's users (0.598) and items (0.123) per rating.
    rank : int, default 8
        Rank of the planted user-item interaction.
    seed : int, default 0
        Seed of the :class:`numpy.random.Generator`; the same seed gives the
        same frame.

    Returns
    -------
    pandas.DataFrame
        Columns ``user``, ``item`` (object of str), ``rating`` (float64 in
        1..5), ``timestamp`` (int64), sorted by item then user;
        ``attrs = {"dataset": "synthetic", "synthetic": True, "source": ...}``.

    Raises
    ------
    ValueError
        Non-positive sizes or rank, fewer ratings than users or items, or more
        ratings than user-item pairs.
    """
    if n_users is None:
        n_users = max(1, round(n_ratings * _USERS_PER_RATING))
    if n_items is None:
        n_items = max(1, round(n_ratings * _ITEMS_PER_RATING))
    if min(n_ratings, n_users, n_items, rank) < 1:
        raise ValueError("n_ratings, n_users, n_items and rank must be positive")
    if not max(n_users, n_items) <= n_ratings <= n_users * n_items:
        raise ValueError(
            f"need max(n_users, n_items) <= n_ratings <= n_users * n_items, got "
            f"n_ratings={n_ratings}, n_users={n_users}, n_items={n_items}"
        )
    rng = np.random.default_rng(seed)
    # caps keep the pairing easy (half the other side) but never below what fits
    user_cap = max(n_items // 2, -(-n_ratings // n_users))
    item_cap = max(n_users // 2, -(-n_ratings // n_items))
    user_degree = _degrees(rng, n_users, n_ratings, tail=2.45, cap=user_cap)
    item_degree = _degrees(rng, n_items, n_ratings, tail=2.0, cap=item_cap)
    users, items = _pair_without_duplicates(rng, user_degree, item_degree)

    user_bias = rng.normal(0.0, 0.5, n_users)
    item_bias = rng.normal(0.0, 0.8, n_items)
    p = rng.normal(0.0, 1.0, (n_users, rank)).astype(np.float32)
    q = rng.normal(0.0, 1.0, (n_items, rank)).astype(np.float32)
    interaction = np.einsum("ij,ij->i", p[users], q[items]) / np.sqrt(rank)
    score = user_bias[users] + item_bias[items] + 0.8 * interaction
    score += rng.normal(0.0, 0.4, n_ratings)
    cuts = np.quantile(score, np.cumsum(_RATING_SHARES)[:-1])
    rating = 1.0 + np.searchsorted(cuts, score)
    timestamp = rng.integers(_FIRST_DAY, _LAST_DAY + 1, n_ratings) * _DAY

    order = np.lexsort((users, items))
    user_ids = np.array([f"SU{k:07d}" for k in range(1, n_users + 1)], dtype=object)
    item_ids = np.array([f"SI{k:06d}" for k in range(1, n_items + 1)], dtype=object)
    df = pd.DataFrame(
        {
            "user": pd.Series(user_ids[users[order]], dtype=object),
            "item": pd.Series(item_ids[items[order]], dtype=object),
            "rating": rating[order].astype("float64"),
            "timestamp": timestamp[order].astype("int64"),
        }
    )
    df.attrs = {
        "dataset": "synthetic",
        "synthetic": True,
        "source": (
            f"recsys_ae.data.synthetic_ratings(n_ratings={n_ratings}, n_users={n_users}, "
            f"n_items={n_items}, rank={rank}, seed={seed})"
        ),
    }
    return df


def load_item_titles(dataset: str, data_dir: str | os.PathLike | None = None,
                     download: bool = True) -> pd.Series:
    """Titles of a MovieLens dataset's items, by item ID (as the ratings frame spells it).

    Parameters
    ----------
    dataset : {"ml-100k", "ml-latest-small"}
        ``u.item`` (pipe-separated, ISO-8859-1, not UTF-8) or ``movies.csv`` (UTF-8).
    data_dir : str or os.PathLike, optional
    download : bool, default True

    Returns
    -------
    Series of str indexed by item ID (str), named ``"title"``.

    Raises
    ------
    ValueError
        For a dataset without titles (the message lists those with).
    """
    files = {"ml-100k": "u.item", "ml-latest-small": "movies.csv"}
    if dataset not in files:
        raise ValueError(f"no item titles for {dataset!r}; titles exist for {sorted(files)}")
    path = _fetch(dataset, files[dataset], data_dir, download)
    if dataset == "ml-100k":
        frame = pd.read_csv(path, sep="|", header=None, encoding="latin-1", usecols=[0, 1],
                            names=["item", "title"], dtype=str)
    else:
        frame = pd.read_csv(path, usecols=["movieId", "title"], dtype=str).rename(
            columns={"movieId": "item"})
    return frame.set_index("item")["title"].rename("title")
