"""Every figure the book shows, each a function that returns a :class:`matplotlib.figure.Figure`.

The notebooks only call these functions and display the result, so each figure is
tested (``tests/test_plots.py``) on real data: titles, axis labels with units, and the
plotted numbers against counts computed independently.

Rules for every function here:

* it takes data (a ratings frame, a :class:`~recsys_ae.preprocess.Report`, a matrix,
  plain numbers) and returns a new Figure; it never calls ``plt.show()`` and never
  reads files;
* it sets a title and labels both axes, with the unit in the label ("number of
  ratings", "bytes", "stars");
* it never changes its inputs.

The module is importable without a display: figures are made with
:class:`matplotlib.figure.Figure` directly, not through :mod:`matplotlib.pyplot`'s global
state, so no backend has to be chosen and nothing leaks between figures.

The first section holds the data figures (chapters 1 and 2); the second, at the end of the
file, the model and evaluation figures (chapters 3 and 4).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

__all__ = [
    "degree_distribution",
    "filter_comparison",
    "human_bytes",
    "human_duration",
    "matrix_memory",
    "rating_histogram",
    "ratings_over_time",
    "sparsity_pattern",
    "time_bin",
]

_USER_COLOUR = "#1f77b4"
_ITEM_COLOUR = "#d62728"


def _new_figure(width: float = 6.4, height: float = 4.0) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _thousands(ax, axis: str = "y") -> None:
    fmt = FuncFormatter(lambda x, _: f"{x:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _label(df: pd.DataFrame) -> str:
    """The dataset's name for titles, with a visible SYNTHETIC tag for the stand-in."""
    name = df.attrs.get("dataset", "ratings")
    return "SYNTHETIC stand-in" if df.attrs.get("synthetic") else str(name)


#: Text of the stamp :func:`_mark_synthetic` puts on a figure drawn from the stand-in.
SYNTHETIC_STAMP = "SYNTHETIC DATA (not Amazon's)"


def _mark_synthetic(ax, synthetic: bool) -> None:
    """Stamp the axes with :data:`SYNTHETIC_STAMP` when the data is the generated stand-in.

    The title says so too; the stamp sits inside the plot, so a figure cropped or copied
    without its title still says what it shows.
    """
    if synthetic:
        ax.text(0.99, 0.97, SYNTHETIC_STAMP, transform=ax.transAxes, ha="right", va="top",
                fontsize=9, fontweight="bold", color="#b00020",
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#b00020"})


# ============================================================================================
# --- Data figures (chapters 1 and 2) ---
# ============================================================================================


def rating_histogram(df: pd.DataFrame) -> Figure:
    """Bar chart of how many ratings carry each star value.

    Parameters
    ----------
    df : pandas.DataFrame
        Ratings frame (column ``rating``).

    Returns
    -------
    matplotlib.figure.Figure
        One axes, one bar per distinct rating value (in increasing order), height = number of
        ratings with that value; each bar is annotated with its share of all ratings.
    """
    counts = df["rating"].value_counts().sort_index()
    fig, ax = _new_figure()
    width = 0.8 * float(np.min(np.diff(counts.index))) if len(counts) > 1 else 0.8
    bars = ax.bar(counts.index.to_numpy(dtype=float), counts.to_numpy(), width=width,
                  color=_USER_COLOUR)
    total = counts.sum()
    for bar, n in zip(bars, counts.to_numpy()):
        ax.annotate(f"{n / total:.0%}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=9)
    ax.set_xticks(counts.index.to_numpy(dtype=float))
    ax.set_xlabel("rating (stars)")
    ax.set_ylabel("number of ratings")
    _thousands(ax)
    ax.set_title(f"How the ratings are distributed: {_label(df)}")
    ax.margins(y=0.12)
    _mark_synthetic(ax, bool(df.attrs.get("synthetic")))
    return fig


def _degree_counts(degrees: pd.Series) -> pd.Series:
    """How many nodes have each degree: index = degree, value = number of nodes."""
    return degrees.value_counts().sort_index()


def degree_distribution(df: pd.DataFrame) -> Figure:
    """Degree distributions of users and items on log-log axes.

    The *degree* of a user is the number of ratings they gave; of an item, the number it
    received. For every degree ``d`` the figure plots how many users (or items) have exactly
    ``d`` ratings. A straight-ish falling line on log-log axes is the signature of a heavy
    tail: most users rate once, a few rate hundreds of items.

    Parameters
    ----------
    df : pandas.DataFrame
        Ratings frame (columns ``user`` and ``item``), one row per rating.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with two scatter series labelled ``"users"`` and ``"items"``; x = degree
        (ratings per user or per item), y = number of users or items with that degree; both
        axes logarithmic.
    """
    fig, ax = _new_figure()
    for column, label, colour, marker in (
        ("user", "users", _USER_COLOUR, "o"),
        ("item", "items", _ITEM_COLOUR, "s"),
    ):
        counts = _degree_counts(df[column].value_counts())
        ax.scatter(counts.index.to_numpy(), counts.to_numpy(), s=12, alpha=0.7, label=label,
                   color=colour, marker=marker)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("degree: number of ratings per user or per item (log scale)")
    ax.set_ylabel("number of users or items with that degree (log scale)")
    ax.set_title(f"Degree distributions: {_label(df)}")
    ax.legend(title="who", loc="lower left")
    ax.grid(True, which="major", alpha=0.3)
    _mark_synthetic(ax, bool(df.attrs.get("synthetic")))
    return fig


#: Bins :func:`ratings_over_time` can count in: pandas period alias -> (period code, name).
TIME_BINS = {"YS": ("Y", "year"), "MS": ("M", "month"), "W": ("W", "week")}


def _as_datetimes(timestamps: pd.Series) -> pd.Series:
    """Unix times as datetimes; values above 10**11 are milliseconds (Amazon 2023 files).

    10**11 seconds is the year 5138, so no real time in seconds is that large, and no time in
    milliseconds after March 1973 is smaller.
    """
    unit = "ms" if timestamps.max() > 1e11 else "s"
    return pd.to_datetime(timestamps, unit=unit)


def time_bin(first, last) -> str:
    """The bin :func:`ratings_over_time` chooses for ratings given from ``first`` to ``last``.

    Parameters
    ----------
    first, last : datetime-like
        Earliest and latest rating.

    Returns
    -------
    str
        ``"YS"`` (years) when the ratings span more than three years, ``"MS"`` (months) when
        they span more than 16 weeks, else ``"W"`` (weeks): between about 4 and 40 bars for
        any span of a few weeks or more, instead of the two bars a yearly count gives
        MovieLens 100K's 214 days.
    """
    days = (pd.Timestamp(last) - pd.Timestamp(first)).days
    if days > 3 * 365:
        return "YS"
    if days > 16 * 7:
        return "MS"
    return "W"


def ratings_over_time(df: pd.DataFrame, freq: str = "auto") -> Figure:
    """Number of ratings per period: per year, month or week, chosen from the time span.

    Parameters
    ----------
    df : pandas.DataFrame
        Ratings frame with a ``timestamp`` column in unix seconds (or milliseconds: values
        above 10**11, as in the Amazon 2023 files).
    freq : str, default "auto"
        ``"auto"``: :func:`time_bin` of the first and last rating; or a pandas period alias,
        ``"YS"`` (years), ``"MS"`` (months) or ``"W"`` (weeks, Monday to Sunday).

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one bar per period that holds at least one rating; heights sum to
        ``len(df)``. The x label names the period ("month of the rating"); the title names
        the data, SYNTHETIC for the stand-in (``df.attrs["synthetic"]``).

    Raises
    ------
    ValueError
        If the frame has no ``timestamp`` column, or ``freq`` is not one of the above.
    """
    if "timestamp" not in df.columns:
        raise ValueError("ratings_over_time needs a 'timestamp' column (unix seconds)")
    if freq != "auto" and freq not in TIME_BINS:
        raise ValueError(f"freq must be 'auto' or one of {sorted(TIME_BINS)}, not {freq!r}")
    when = _as_datetimes(df["timestamp"])
    if freq == "auto":
        freq = time_bin(when.min(), when.max())
    code, unit = TIME_BINS[freq]
    counts = when.dt.to_period(code).value_counts().sort_index()
    if freq == "W":  # "1997-09-15/1997-09-21" -> the week's Monday
        labels = [f"{p.start_time:%Y-%m-%d}" for p in counts.index]
    else:
        labels = [str(p) for p in counts.index]  # "1997" or "1997-09"
    fig, ax = _new_figure()
    x = np.arange(len(labels))
    ax.bar(x, counts.to_numpy(), width=0.8, color=_USER_COLOUR)
    step = max(1, -(-len(labels) // 12))  # at most 12 tick labels
    ax.set_xticks(x[::step], labels[::step], rotation=45 if len(labels) > 6 else 0,
                  ha="right" if len(labels) > 6 else "center")
    ax.set_xlabel(f"time ({unit} of the rating, UTC)")
    ax.set_ylabel(f"number of ratings per {unit}")
    _thousands(ax)
    ax.set_title(f"When the ratings were given: {_label(df)}")
    _mark_synthetic(ax, bool(df.attrs.get("synthetic")))
    return fig


def filter_comparison(reports: Mapping[str, object], synthetic: bool = False) -> Figure:
    """What each filter keeps: ratings, users and items left, as a share of the input.

    Parameters
    ----------
    reports : mapping of str to recsys_ae.preprocess.Report
        Filter name (legend label) → the report the filter returned. Each report is a chain:
        its first step's ``*_before`` counts are the input, its last step's ``*_after``
        counts the output.
    synthetic : bool, default False
        The reports come from the generated stand-in (pass the filtered frame's
        ``attrs["synthetic"]``; a report does not know its data): the title says SYNTHETIC
        and the plot carries a stamp.

    Returns
    -------
    matplotlib.figure.Figure
        Grouped bars: three groups (ratings, users, items), one bar per filter; bar height =
        percentage kept (0-100). Each bar is annotated with the absolute number kept.

    Raises
    ------
    ValueError
        If ``reports`` is empty or a report has no steps.
    """
    if not reports:
        raise ValueError("filter_comparison needs at least one report")
    what = ("ratings", "users", "items")
    fig, ax = _new_figure(7.0, 4.2)
    x = np.arange(len(what))
    width = 0.8 / len(reports)
    for k, (name, report) in enumerate(reports.items()):
        if len(report) == 0:
            raise ValueError(f"report {name!r} has no steps")
        first, last = report[0], report[-1]
        kept = np.array([getattr(last, f"{w}_after") for w in what])
        before = np.array([getattr(first, f"{w}_before") for w in what])
        share = 100.0 * kept / np.maximum(before, 1)
        bars = ax.bar(x + (k - (len(reports) - 1) / 2) * width, share, width, label=name)
        for bar, n in zip(bars, kept):
            ax.annotate(f"{n:,}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, list(what))
    ax.set_ylim(0, 130)  # room above the 100 % bars for the legend (and the SYNTHETIC stamp)
    ax.set_xlabel("what is counted")
    ax.set_ylabel("kept by the filter (% of the input)")
    ax.set_title("What each filter keeps" + (": SYNTHETIC stand-in" if synthetic else ""))
    ax.legend(title="filter", loc="upper left", fontsize=8, ncols=len(reports))
    _mark_synthetic(ax, synthetic)
    return fig


def matrix_memory(sizes: Mapping[str, int], synthetic: bool = False) -> Figure:
    """Horizontal bars of memory sizes in bytes, on a logarithmic axis.

    Parameters
    ----------
    sizes : mapping of str to int
        Label → number of bytes, e.g. ``{"dense float32": ..., "CSR": ...}``. The bars are
        drawn in the mapping's order, top to bottom.
    synthetic : bool, default False
        Some sizes come from the generated stand-in: the title says SYNTHETIC.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per entry, annotated with a human-readable size (KiB ... TiB).
    """
    labels = list(sizes)
    values = np.array([float(sizes[k]) for k in labels])
    fig, ax = _new_figure(7.0, 0.6 + 0.6 * max(len(labels), 2))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=[_ITEM_COLOUR if "dense" in k else _USER_COLOUR for k in labels])
    ax.set_yticks(y, labels)
    ax.set_xscale("log")
    for yi, v in zip(y, values):
        ax.annotate(f" {human_bytes(int(v))}", (v, yi), va="center", fontsize=9)
    ax.set_xlim(right=values.max() * 50)
    ax.set_xlabel("memory (bytes, log scale)")
    ax.set_ylabel("storage format")
    ax.set_title("Memory needed to hold the rating matrix"
                 + (" (page data: SYNTHETIC stand-in)" if synthetic else ""))
    _mark_synthetic(ax, synthetic)
    return fig


def human_bytes(n: int) -> str:
    """``1536`` → ``"1.5 KiB"``: a byte count in binary units (B, KiB, MiB, GiB, TiB, PiB)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"


def human_duration(seconds: float) -> str:
    """A duration in the unit that suits it: ``0.42`` → ``"0.4 seconds"``, ``95`` → ``"1.6
    minutes"``, ``7200`` → ``"2.0 hours"``, ``200_000`` → ``"2.3 days"``.

    Seconds below a minute, minutes below an hour, hours below two days, then days; one
    decimal (two significant digits below one second, ``"0.042 seconds"``).
    """
    value = float(seconds)
    if value < 0 or not np.isfinite(value):
        raise ValueError(f"a duration is a finite number of seconds >= 0, not {seconds!r}")
    if value < 1:
        return f"{value:.2g} seconds"
    for limit, divisor, unit in ((60, 1, "seconds"), (3600, 60, "minutes"),
                                 (172_800, 3600, "hours")):
        if value < limit:
            return f"{value / divisor:.1f} {unit}"
    return f"{value / 86_400:.1f} days"


def sparsity_pattern(matrix, max_rows: int = 200, max_cols: int = 400,
                     synthetic: bool = False) -> Figure:
    """Where the ratings are: one dot per stored entry of the top-left corner of a matrix.

    Parameters
    ----------
    matrix : scipy.sparse matrix, shape (n_rows, n_cols)
        Rows are users, columns items (or the transpose).
    max_rows, max_cols : int
        Size of the corner shown.
    synthetic : bool, default False
        The matrix holds the generated stand-in: the title says SYNTHETIC, with a stamp.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one marker per stored entry of
        ``matrix[:max_rows, :max_cols]``; the title gives that corner's density.
    """
    corner = sp.coo_matrix(sp.csr_matrix(matrix)[:max_rows, :max_cols])
    n_rows, n_cols = corner.shape
    fig, ax = _new_figure(7.0, 4.0)
    ax.scatter(corner.col, corner.row, s=2, marker="s", color="black", linewidths=0)
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xlabel(f"item (column index, first {n_cols:,})")
    ax.set_ylabel(f"user (row index, first {n_rows:,})")
    density = corner.nnz / max(n_rows * n_cols, 1)
    ax.set_title(("SYNTHETIC stand-in. " if synthetic else "")
                 + f"Stored entries in a {n_rows:,} × {n_cols:,} corner: "
                 f"{corner.nnz:,} of {n_rows * n_cols:,} cells ({density:.1%})")
    _mark_synthetic(ax, synthetic)
    return fig


# ============================================================================================
# --- Training cost figures (the full-scale chapter: the dense and the sparse AutoRec step) ---
# ============================================================================================

__all__ += ["step_times"]


def step_times(table: pd.DataFrame, title: str = "Seconds per training step", *,
               synthetic: bool = False) -> Figure:
    """Seconds per training step against the width of the rating matrix, one line per path.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per measurement, with columns ``path`` (legend label, e.g. ``"dense
        (Keras)"``), ``n_columns`` (item columns of the matrix, > 0) and
        ``seconds_per_step`` (> 0). Several rows per path, one per width.
    title : str
        Figure title; say there which data the timings ran on.
    synthetic : bool
        The timings ran on the generated stand-in: the plot gets the SYNTHETIC stamp.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with log-scaled axes; per path a line with markers through its widths
        (sorted), labelled with the path, in the order the paths first appear.

    Raises
    ------
    ValueError
        If the table is empty, lacks a column, or holds a width or a time that is not > 0.
    """
    needed = {"path", "n_columns", "seconds_per_step"}
    if table.empty or not needed <= set(table.columns):
        raise ValueError(f"step_times needs a non-empty table with columns {sorted(needed)}")
    if (table["n_columns"] <= 0).any() or (table["seconds_per_step"] <= 0).any():
        raise ValueError("widths and seconds per step must be > 0 (log axes)")
    fig, ax = _new_figure(6.4, 4.2)
    for k, path in enumerate(pd.unique(table["path"])):
        rows = table[table["path"] == path].sort_values("n_columns")
        ax.plot(rows["n_columns"].to_numpy(), rows["seconds_per_step"].to_numpy(),
                marker="o", color=_PATH_COLOURS[k % len(_PATH_COLOURS)], label=str(path))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("item columns of the rating matrix (log scale)")
    ax.set_ylabel("seconds per training step (log scale)")
    ax.set_title(title)
    ax.legend(loc="center right" if synthetic else "best")  # the stamp takes the top right
    _mark_synthetic(ax, synthetic)
    return fig


_PATH_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd")


# ============================================================================================
# --- Model and evaluation figures ---
# ============================================================================================

__all__ += [
    "activity_rmse",
    "model_comparison_bars",
    "permutation_agreement",
    "training_curves",
]

_MODEL_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def training_curves(curves: Mapping[str, pd.DataFrame], title: str = "Learning curves"
                    ) -> Figure:
    """Training and validation RMSE per epoch, for one or several fitted models.

    Parameters
    ----------
    curves : mapping of str to pandas.DataFrame
        Legend label → the table of :func:`recsys_ae.chapters.studies.learning_curves`: indexed by
        epoch (1, 2, ...), columns ``train_rmse`` and optionally ``val_rmse`` (stars).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; per model a dashed line (training RMSE) and a solid line with markers
        (validation RMSE), in the same colour, labelled ``"<label>: training"`` and
        ``"<label>: validation"``.

    Raises
    ------
    ValueError
        If ``curves`` is empty or a table has no ``train_rmse`` column.
    """
    if not curves:
        raise ValueError("training_curves needs at least one table")
    fig, ax = _new_figure(6.8, 4.2)
    for k, (label, table) in enumerate(curves.items()):
        if "train_rmse" not in table.columns:
            raise ValueError(f"table {label!r} has no 'train_rmse' column")
        colour = _MODEL_COLOURS[k % len(_MODEL_COLOURS)]
        epochs = table.index.to_numpy()
        ax.plot(epochs, table["train_rmse"].to_numpy(), linestyle="--", color=colour,
                label=f"{label}: training")
        if "val_rmse" in table.columns:
            ax.plot(epochs, table["val_rmse"].to_numpy(), linestyle="-", marker="o",
                    markersize=3, color=colour, label=f"{label}: validation")
    ax.set_xlabel("epoch (passes over the training rows)")
    ax.set_ylabel("RMSE (stars)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def model_comparison_bars(table: pd.DataFrame, title: str = "Test error by model") -> Figure:
    """Test RMSE and MAE of several models on one split, as grouped horizontal bars.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`recsys_ae.chapters.studies.model_comparison`: indexed by model name,
        columns ``rmse`` and ``mae`` (stars).
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        One axes; per model two bars (RMSE, MAE) annotated with their values to three
        decimals; models top to bottom in the table's order.
    """
    names = list(table.index)
    fig, ax = _new_figure(6.8, 1.2 + 0.7 * max(len(names), 2))
    y = np.arange(len(names))[::-1].astype(float)
    for offset, column, colour in ((0.2, "rmse", _USER_COLOUR), (-0.2, "mae", _ITEM_COLOUR)):
        values = table[column].to_numpy(dtype=float)
        ax.barh(y + offset, values, height=0.38, color=colour, label=column.upper())
        for yi, v in zip(y + offset, values):
            ax.annotate(f" {v:.3f}", (v, yi), va="center", fontsize=8)
    ax.set_yticks(y, names)
    ax.set_xlim(0, float(table[["rmse", "mae"]].to_numpy().max()) * 1.2)
    ax.set_xlabel("error on the test ratings (stars; lower is better)")
    ax.set_ylabel("model")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def activity_rmse(table: pd.DataFrame, title: str = "Test RMSE by user activity", *,
                  synthetic: bool = False) -> Figure:
    """Test RMSE per bucket of user training activity, one bar per model.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`recsys_ae.chapters.studies.activity_comparison`: indexed by bucket label
        (``"0"``, ``"1"``, ``"2"``, ``"3-5"``, ``"6-20"``, ``">20"``), columns ``n_ratings``,
        ``n_users`` and one RMSE column (stars) per model.
    title : str
    synthetic : bool
        The table comes from the generated stand-in: the plot gets the SYNTHETIC stamp.

    Returns
    -------
    matplotlib.figure.Figure
        Grouped bars: x = bucket, one bar per model (empty buckets show no bar); each
        bucket's tick label gives its number of test ratings; the legend sits in a row
        above the bars, where it covers none of them.
    """
    models = [c for c in table.columns if c not in ("n_ratings", "n_users")]
    fig, ax = _new_figure(7.2, 4.2)
    x = np.arange(len(table))
    width = 0.8 / max(len(models), 1)
    for k, name in enumerate(models):
        values = table[name].to_numpy(dtype=float)
        ax.bar(x + (k - (len(models) - 1) / 2) * width, np.nan_to_num(values), width,
               label=name, color=_MODEL_COLOURS[k % len(_MODEL_COLOURS)])
    labels = [f"{b}\n({n:,} ratings)" for b, n in zip(table.index, table["n_ratings"])]
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_xlabel("user's number of training ratings (test ratings in the bucket)")
    ax.set_ylabel("test RMSE (stars)")
    ax.set_title(title)
    top = np.nanmax(table[models].to_numpy(dtype=float)) if models else 1.0
    ax.set_ylim(0, 1.45 * top)  # a band above the bars for the legend and the stamp
    ax.legend(title="model", fontsize=8, ncol=min(2, max(len(models), 1)), loc="upper left")
    ax.grid(True, axis="y", alpha=0.3)
    _mark_synthetic(ax, synthetic)
    return fig


def permutation_agreement(pred_original, pred_permuted, max_abs_diff: float | None = None,
                          title: str = "Original against permuted item order") -> Figure:
    """Scatter of the predictions of two models trained on differently ordered columns.

    Parameters
    ----------
    pred_original, pred_permuted : array-like of float, shape (n,)
        Predicted ratings for the same test pairs (stars), e.g. from
        :func:`recsys_ae.chapters.studies.permutation_experiment`.
    max_abs_diff : float, optional
        Shown in the title; computed when omitted.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one point per test pair and the diagonal ``y = x``; equal predictions
        lie on the diagonal.
    """
    a = np.asarray(pred_original, dtype=float)
    b = np.asarray(pred_permuted, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    if max_abs_diff is None:
        max_abs_diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    fig, ax = _new_figure(5.0, 5.0)
    ax.scatter(a, b, s=8, alpha=0.5, color=_USER_COLOUR, linewidths=0, zorder=2,
               label="one test rating")
    lo = float(min(a.min(), b.min())) if a.size else 0.0
    hi = float(max(a.max(), b.max())) if a.size else 1.0
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.6, linestyle=":", zorder=3,
            label="y = x")
    ax.set_xlabel("prediction, original item order (stars)")
    ax.set_ylabel("prediction, permuted item order (stars)")
    ax.set_title(f"{title}\nlargest difference {max_abs_diff:.1e} stars")
    ax.legend(loc="upper left", fontsize=8)
    return fig


# ============================================================================================
# --- Results figures ---
# ============================================================================================

__all__ += ["topn_comparison", "output_layer_growth"]


def topn_comparison(table: pd.DataFrame, k: int = 10,
                    title: str = "Top-N lists on MovieLens 100K u1") -> Figure:
    """Accuracy and popularity bias of top-k lists, one group of bars per model.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by model name, with columns ``recall@k``, ``ndcg@k``, ``coverage@k`` and
        ``pop_share@k`` (shares in [0, 1]), as :func:`recsys_ae.chapters.tables.topn_summary`
        returns.
    k : int
        The cut-off named in the columns.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        Two axes side by side, models top to bottom in the table's order. Left: Recall@k
        and NDCG@k bars, annotated. Right: the share of all recommended slots that go to
        the 1% most popular items (annotated), with the catalogue coverage@k in the
        model's tick label.

    Raises
    ------
    ValueError
        If the table is empty or lacks one of the four columns.
    """
    cols = [f"recall@{k}", f"ndcg@{k}", f"coverage@{k}", f"pop_share@{k}"]
    if table.empty or not set(cols) <= set(table.columns):
        raise ValueError(f"topn_comparison needs a non-empty table with columns {cols}")
    names = [str(n) for n in table.index]
    fig = Figure(figsize=(9.0, 1.4 + 0.6 * max(len(names), 2)), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(names))[::-1].astype(float)
    for offset, column, colour in ((0.2, cols[0], _USER_COLOUR), (-0.2, cols[1], _ITEM_COLOUR)):
        values = table[column].to_numpy(dtype=float)
        left.barh(y + offset, values, height=0.38, color=colour, label=column.replace("@", " @ "))
        for yi, v in zip(y + offset, values):
            left.annotate(f" {v:.3f}", (v, yi), va="center", fontsize=8)
    labels = [f"{n}\n(coverage {c:.1%})" for n, c in zip(names, table[cols[2]])]
    left.set_yticks(y, labels, fontsize=8)
    left.set_xlim(0, max(float(table[cols[:2]].to_numpy().max()) * 1.3, 0.05))
    left.set_xlabel(f"share (0 to 1; higher is better), top {k}")
    left.set_ylabel("model")
    left.set_title("accuracy")
    left.legend(loc="lower right", fontsize=8)
    share = table[cols[3]].to_numpy(dtype=float)
    right.barh(y, share, height=0.5, color="#7f7f7f")
    for yi, v in zip(y, share):
        right.annotate(f" {v:.1%}", (v, yi), va="center", fontsize=8)
    right.set_xlim(0, 1.15)
    right.set_xlabel(f"share of the top-{k} slots given to the 1% most popular items")
    right.set_title("popularity bias")
    fig.suptitle(title)
    return fig


def output_layer_growth(cost: pd.DataFrame, marks: Mapping[str, int] | None = None,
                        title: str = "AutoRec grows with the catalogue") -> Figure:
    """Memory of AutoRec against the number of output columns, on log-log axes.

    Parameters
    ----------
    cost : pandas.DataFrame
        :func:`recsys_ae.results.output_layer_cost` for several catalogue sizes: columns
        ``n_columns``, ``weights_bytes``, ``adam_bytes`` and ``batch_bytes``.
    marks : mapping of str to int, optional
        Named catalogue sizes (e.g. Beauty's items) marked with a vertical line and a label.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        One axes; one line each for the weights, the weights with Adam's two moments, and
        one training batch (input, target, output), in bytes against output columns.

    Raises
    ------
    ValueError
        If the table is empty, lacks a column, or holds a size that is not > 0.
    """
    needed = ["n_columns", "weights_bytes", "adam_bytes", "batch_bytes"]
    if cost.empty or not set(needed) <= set(cost.columns):
        raise ValueError(f"output_layer_growth needs a non-empty table with columns {needed}")
    if (cost[needed] <= 0).to_numpy().any():
        raise ValueError("sizes must be > 0 (log axes)")
    rows = cost.sort_values("n_columns")
    fig, ax = _new_figure(6.8, 4.2)
    for k, (column, label) in enumerate((("weights_bytes", "weights (encoder + decoder)"),
                                         ("adam_bytes", "weights + Adam's two moments"),
                                         ("batch_bytes", "one batch: input, target, output"))):
        ax.plot(rows["n_columns"].to_numpy(), rows[column].to_numpy(), marker="o",
                markersize=3, color=_MODEL_COLOURS[k % len(_MODEL_COLOURS)], label=label)
    for name, n in (marks or {}).items():
        ax.axvline(n, color="black", linewidth=0.6, linestyle=":")
        ax.annotate(f" {name}\n {n:,}", (n, float(rows["batch_bytes"].min())), fontsize=7,
                    rotation=90, va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    from matplotlib.ticker import LogLocator, NullFormatter

    # ticks at 1, 16 and 256 of each binary unit (KiB, MiB, GiB, ...), labelled in those units
    ax.yaxis.set_major_locator(LogLocator(base=1024, subs=(1.0, 16.0, 256.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: human_bytes(v)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("output columns (items for U-AutoRec, users for I-AutoRec; log scale)")
    ax.set_ylabel("memory (bytes, log scale)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def topn_by_activity(table: pd.DataFrame, metric: str = "NDCG@100",
                     title: str = "Top-N quality by user activity") -> Figure:
    """A ranking metric by bucket of user activity, one line per model, one panel per dataset.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`recsys_ae.protocol.activity_table`: columns ``dataset``, ``model``,
        ``bucket`` (labels in plotting order), ``n_users`` and ``metric``.
    metric : str
        Name of the metric, for the y label.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        One axes per dataset (in first-seen order); x: the buckets of fold-in clicks, each
        labelled with its number of users; y: the mean metric; one line per model.

    Raises
    ------
    ValueError
        If the table is empty or lacks a column.
    """
    needed = ["dataset", "model", "bucket", "n_users", "metric"]
    if table.empty or not set(needed) <= set(table.columns):
        raise ValueError(f"topn_by_activity needs a non-empty table with columns {needed}")
    datasets = list(dict.fromkeys(table["dataset"]))
    models = list(dict.fromkeys(table["model"]))
    fig = Figure(figsize=(4.2 * len(datasets) + 0.6, 4.0), layout="constrained")
    axes = fig.subplots(1, len(datasets), squeeze=False, sharey=True)[0]
    for ax, dataset in zip(axes, datasets):
        part = table[table["dataset"] == dataset]
        buckets = list(dict.fromkeys(part["bucket"].astype(str)))
        x = np.arange(len(buckets))
        for k, model in enumerate(models):
            rows = part[part["model"] == model].set_index(part[part["model"] == model]
                                                          ["bucket"].astype(str))
            y = [float(rows.loc[b, "metric"]) if b in rows.index else np.nan for b in buckets]
            ax.plot(x, y, marker="o", color=_MODEL_COLOURS[k % len(_MODEL_COLOURS)],
                    label=model)
        users = part.groupby(part["bucket"].astype(str), sort=False)["n_users"].max()
        ax.set_xticks(x, [f"{b}\n({int(users[b])} users)" for b in buckets], fontsize=8)
        ax.set_xlabel("fold-in clicks of the test user (bucket)")
        ax.set_title(str(dataset))
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].set_ylabel(f"mean {metric} over test users")
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    return fig


# ============================================================================================
# --- The AutoRec network as a diagram (chapter 3) ---
# ============================================================================================

__all__ += ["autorec_diagram"]


def autorec_diagram(kind: str = "user", n_cells: int = 8, observed=(0, 3, 4, 6),
                    dropped=(3,), n_hidden: int = 3) -> Figure:
    """U-AutoRec or I-AutoRec drawn as one row flowing through the network to its masked loss.

    Parameters
    ----------
    kind : {"user", "item"}
        ``"user"``: the row is one user's ratings of every item (U-AutoRec); ``"item"``: one
        item's ratings by every user (I-AutoRec).
    n_cells : int
        Entries drawn for the row (a stand-in for the thousands of a real row).
    observed : sequence of int
        Positions of the row that hold a rating (shaded); the others are "not rated" (0).
    dropped : sequence of int
        Observed positions the input dropout hides in this step (crossed out).
    n_hidden : int
        Units drawn for the hidden code.

    Returns
    -------
    matplotlib.figure.Figure
        One axes without ticks, left to right: the input row, the dropout mask, the encoder
        ``W`` (with ``b`` and ``g``), the hidden code ``h``, the decoder ``V`` (with ``c`` and
        ``f``), the reconstructed row and the masked loss, which links only the observed
        positions of the output to their targets. Every block carries a text label.

    Raises
    ------
    ValueError
        For an unknown ``kind``, a position outside the row, or a dropped position that is
        not observed.
    """
    from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle

    if kind not in ("user", "item"):
        raise ValueError(f"kind must be 'user' or 'item', not {kind!r}")
    observed, dropped = sorted(set(observed)), sorted(set(dropped))
    if any(not 0 <= j < n_cells for j in observed):
        raise ValueError(f"observed positions must lie in 0..{n_cells - 1}")
    if not set(dropped) <= set(observed):
        raise ValueError("only observed positions can be dropped (the others are 0 already)")
    row, entry, other = ("user u", "item", "items") if kind == "user" else \
        ("item i", "user", "users")
    sym = "u" if kind == "user" else "i"
    fig = Figure(figsize=(9.6, 4.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xlim(-0.6, 15.2)
    ax.set_ylim(-1.9, n_cells + 1.7)
    ax.set_axis_off()
    name = "U-AutoRec" if kind == "user" else "I-AutoRec"
    ax.set_title(f"{name}: one row of the rating matrix ({row}'s ratings) through the network")

    def column(x, n, fill, hatch=None, y0=0.0, size=0.8):
        for j in range(n):
            y = y0 + (n - 1 - j)
            colour = fill(j)
            ax.add_patch(Rectangle((x, y), size, size, facecolor=colour, edgecolor="black",
                                   linewidth=0.8, hatch=hatch(j) if hatch else None))
        return [(x, y0 + (n - 1 - j) + size / 2) for j in range(n)]

    rated, blank, hid, out = "#9ecae1", "white", "#fdd0a2", "#c7e9c0"
    x_in, x_drop, x_h, x_out, x_tgt = 0.0, 2.4, 6.4, 10.4, 13.6
    column(x_in, n_cells, lambda j: rated if j in observed else blank)
    for j in observed:
        ax.text(x_in + 0.4, n_cells - 1 - j + 0.4, "r", ha="center", va="center", fontsize=8)
    column(x_drop, n_cells, lambda j: rated if j in observed and j not in dropped else blank)
    for j in dropped:
        y = n_cells - 1 - j
        ax.plot([x_drop, x_drop + 0.8], [y, y + 0.8], color="#d62728", linewidth=1.5)
        ax.plot([x_drop, x_drop + 0.8], [y + 0.8, y], color="#d62728", linewidth=1.5)
    y_h = (n_cells - n_hidden) / 2
    column(x_h, n_hidden, lambda j: hid, y0=y_h)
    column(x_out, n_cells, lambda j: out)
    column(x_tgt, n_cells, lambda j: rated if j in observed else blank)
    for j in observed:
        y = n_cells - 1 - j + 0.4
        ax.text(x_tgt + 0.4, y, "r", ha="center", va="center", fontsize=8)
        ax.plot([x_out + 0.8, x_tgt], [y, y], color="#6a51a3", linewidth=1.2)
    for j in range(n_cells):
        if j not in observed:
            y = n_cells - 1 - j + 0.4
            ax.text((x_out + 0.8 + x_tgt) / 2, y, "not in loss", ha="center", va="center",
                    fontsize=6, color="grey")

    # the two dense layers as trapezoids: wide row -> narrow code -> wide row
    top, bottom = n_cells - 0.1, 0.1
    ax.add_patch(Polygon([(3.6, bottom), (3.6, top), (6.0, y_h + n_hidden), (6.0, y_h)],
                         closed=True, facecolor="#e5e5e5", edgecolor="black"))
    ax.add_patch(Polygon([(7.6, y_h), (7.6, y_h + n_hidden), (10.0, top), (10.0, bottom)],
                         closed=True, facecolor="#e5e5e5", edgecolor="black"))
    mid = n_cells / 2
    ax.text(4.8, mid + 0.3, "encoder W", ha="center", va="center", fontsize=10)
    ax.text(4.8, mid - 0.5, "+ b, then g", ha="center", va="center", fontsize=8)
    ax.text(8.8, mid + 0.3, "decoder V", ha="center", va="center", fontsize=10)
    ax.text(8.8, mid - 0.5, "+ c, then f", ha="center", va="center", fontsize=8)
    for x0, x1 in ((0.9, 2.3), (3.3, 3.55)):
        ax.add_patch(FancyArrowPatch((x0, mid), (x1, mid), arrowstyle="-|>",
                                     mutation_scale=12, color="black"))

    labels = [
        (x_in + 0.4, f"input row r_{sym}\n({entry} ratings;\n0 = not rated)"),
        (x_drop + 0.4, "dropout\n(hides some\nratings)"),
        (x_h + 0.4, "hidden code h"),
        (x_out + 0.4, f"output r̂_{sym}\n(a rating for\nevery {entry})"),
        (x_tgt + 0.4, "targets\n(observed\nratings)"),
    ]
    for x, text in labels:
        ax.text(x, -0.25, text, ha="center", va="top", fontsize=8)
    ax.text((x_out + x_tgt + 0.8) / 2, n_cells + 0.35,
            "masked loss:\nobserved cells only", ha="center", va="bottom", fontsize=9,
            color="#6a51a3")
    ax.text(4.8, n_cells + 0.35, f"h = g(W r_{sym} + b)", ha="center", va="bottom",
            fontsize=9)
    ax.text(8.8, n_cells + 0.35, f"r̂_{sym} = f(V h + c)", ha="center", va="bottom",
            fontsize=9)
    ax.text(x_in + 0.4, n_cells + 0.35, f"one entry per {entry}\n(all {other})",
            ha="center", va="bottom", fontsize=8)
    return fig
