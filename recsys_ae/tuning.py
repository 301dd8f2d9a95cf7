"""The validation search behind AutoRec's ``tuned`` presets (``python -m recsys_ae tune``).

Hyperparameters are chosen on a validation split carved from the *training*
ratings only (:func:`recsys_ae.preprocess.validation_split`); the test ratings
are never read. :data:`TUNING_GRID` holds the configurations tried and
:func:`validation_search` scores them with the package's one scoring rule
(:func:`recsys_ae.metrics.evaluate`). :func:`paper_l2_equivalent` converts the
AutoRec paper's penalty weight ``lambda`` (on a *summed* objective) into the
per-batch L2 coefficient of the Keras model.

References
----------
S. Sedhain, A. K. Menon, S. Sanner, L. Xie. "AutoRec: Autoencoders Meet
Collaborative Filtering". WWW 2015 Companion, eq. 2.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import pandas as pd

from recsys_ae import configs, data, preprocess
from recsys_ae.metrics import evaluate
from recsys_ae.registry import get_spec, make_model

__all__ = ["TUNING_GRID", "validation_search", "paper_l2_equivalent", "AUTO_BASE",
           "AUTO_STEPS", "AutoSearch", "auto_search", "auto_fit", "estimate_search_seconds",
           "save_config", "load_config", "SearchTooLong", "check_search_time"]


def paper_l2_equivalent(lam: float, n_ratings: int) -> float:
    """Keras ``L2`` coefficient equivalent to the AutoRec paper's penalty weight.

    Sedhain et al. (2015, eq. 2) minimise a *summed* error over all observed
    ratings, full batch (L-BFGS / RProp)::

        sum_obs (r - r_hat)^2 + (lam / 2) (||W||^2 + ||V||^2)

    Dividing by the number of observed ratings ``N`` does not move the
    minimum, and gives ``mean_obs (r - r_hat)^2 + lam / (2 N) ||.||^2``. Each
    Keras batch computes the *mean* masked error of its rows (an unbiased
    estimate of the full mean) plus ``l2 * ||.||^2``, so the same objective
    has ``l2 = lam / (2 N)``.

    Examples
    --------
    The paper's grid {0.001, ..., 100, 1000} at ``N = 80,000`` (``u1.base``):
    ``lam = 100`` is ``l2 = 6.25e-4``; the preset's ``l2 = 1e-3`` is
    ``lam = 160``.

    >>> paper_l2_equivalent(100, 80_000)
    0.000625
    """
    if n_ratings < 1:
        raise ValueError(f"n_ratings must be >= 1, got {n_ratings}")
    return lam / (2.0 * n_ratings)




#: The validation search behind the presets ``"tuned"`` and ``"tuned-user"``: for each model, the
#: preset it starts from and the field overrides tried (``{}`` is the preset itself). Run it
#: with ``python -m recsys_ae tune`` (:func:`validation_search`).
TUNING_GRID = {
    "I-AutoRec": ("tuned", (
        {},
        # the previous preset: constant Adam 1e-3, input dropout 0.2, 60 epochs
        {"lr_schedule": "constant", "learning_rate": 1e-3, "dropout": 0.2, "epochs": 60},
        {"dropout": 0.0, "learning_rate": 3e-3, "epochs": 60},
        {"dropout": 0.0, "learning_rate": 1e-2, "epochs": 60},
        {"learning_rate": 3e-3}, {"learning_rate": 1e-2},
        {"dropout": 0.4}, {"dropout": 0.6},
        {"l2": 5e-4}, {"l2": 2e-3},
        {"hidden_units": 700}, {"hidden_units": 1000},
        {"batch_size": 128}, {"batch_size": 512},
        {"epochs": 150},
        {"activation": "tanh"},
    )),
    "U-AutoRec": ("tuned-user", (
        {},
        # the previous preset: constant Adam 3e-3, 45 epochs
        {"lr_schedule": "constant", "learning_rate": 3e-3, "epochs": 45},
        {"learning_rate": 3e-2, "dropout": 0.5, "epochs": 100},
        {"learning_rate": 3e-3, "dropout": 0.3, "epochs": 100},
    )),
}


def validation_search(model: str = "I-AutoRec", grid=None, *, seeds=(0,), fold: int = 1,
                      validation_size: float = 0.1, data_dir=None) -> pd.DataFrame:
    """Score AutoRec configurations on a validation split carved from ``u<fold>.base``.

    The protocol behind the presets ``"tuned"`` and ``"tuned-user"``: each
    configuration is trained on ``u<fold>.base`` minus a random
    ``validation_size`` share (:func:`recsys_ae.preprocess.validation_split`,
    seed 0) and scored on that share with :func:`recsys_ae.metrics.evaluate`
    (clipped predictions, cold pairs at the global mean), the same rule as the
    test scores. ``u<fold>.test`` is never read.

    Parameters
    ----------
    model : {"I-AutoRec", "U-AutoRec"}
    grid : (str, sequence of dict), optional
        ``(preset, overrides)``: the preset to start from and the
        :class:`~recsys_ae.autorec.AutoRecConfig` fields to change, one dict per
        configuration. Default: ``TUNING_GRID[model]``.
    seeds : sequence of int
        Model seeds (initialisation, dropout, batch order); the validation split
        always uses seed 0, so every configuration sees the same data.
    fold : int
        Canonical MovieLens 100K fold whose ``.base`` file is split.
    validation_size : float
        Share of ``u<fold>.base`` held out.
    data_dir : str or os.PathLike, optional

    Returns
    -------
    DataFrame
        One row per configuration and seed: ``model``, ``preset``, ``overrides``
        (text), ``seed``, ``epochs``, ``val_rmse``, ``val_mae`` (stars),
        ``n_validation``, ``seconds``.

    Raises
    ------
    ValueError
        Unknown model, preset or configuration field.
    """
    spec = get_spec(model)
    if spec.display_name not in TUNING_GRID and grid is None:
        raise ValueError(f"no tuning grid for {model!r}; choose one of {sorted(TUNING_GRID)} "
                         "or pass grid=")
    preset, overrides_list = TUNING_GRID[spec.display_name] if grid is None else grid
    train, _ = data.load_canonical_split("ml-100k", fold, data_dir=data_dir)
    fit, val = preprocess.validation_split(train, validation_size, seed=0)
    rows = []
    for overrides in overrides_list:
        for seed in seeds:
            start = time.perf_counter()
            fitted = make_model(spec.name, preset, seed=seed, verbose=0, **overrides)
            config = fitted.config
            fitted.fit(fit)
            scores = evaluate(fitted, val)
            rows.append({"model": spec.display_name, "preset": preset,
                         "overrides": ", ".join(f"{k}={v}" for k, v in overrides.items())
                         or "(preset)",
                         "seed": seed, "epochs": config.epochs, "val_rmse": scores["rmse"],
                         "val_mae": scores["mae"], "n_validation": len(val),
                         "seconds": time.perf_counter() - start})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# The recommended workflow on any ratings: a small validation search with early stopping
# ---------------------------------------------------------------------------------------------

#: Where the automatic search starts (:func:`auto_search`): the ``tuned`` preset's network
#: and optimisation (500 sigmoid units, identity output, input dropout 0.5, Adam with a cosine
#: schedule from 3e-2) on ratings mapped onto the width of a 1-5 scale
#: (``scale_ratings``), the penalty as the paper's lambda on the summed objective (144 is the
#: preset's ``l2 = 1e-3`` at ML-100K's 72,000 fit ratings), early stopping as a guard (the
#: best epoch's weights are kept). ``epochs`` is set from the time budget
#: (:func:`auto_epochs`).
AUTO_BASE = configs.AutoRecConfig(
    hidden_units=500, activation="sigmoid", output_activation="linear", dropout=0.5, l2=0.0,
    optimizer="adam", learning_rate=3e-2, lr_schedule="cosine", momentum=0.0,
    batch_size=256, epochs=100, centre=False, scale_ratings=True, input="raw", lam=144.0,
    early_stopping_patience=15)

#: The search of :func:`auto_search`, one field at a time (coordinate search): each step tries
#: the listed values of one field on top of the best configuration so far and keeps the best
#: (the base value is scored once). A step whose best value is at the end of its list tries
#: one more value beyond it (:data:`AUTO_EXTEND`).
AUTO_STEPS = (
    ("input", ("raw", "residual")),
    ("lam", (144.0, 36.0, 576.0)),
    ("dropout", (0.5, 0.25)),
    ("learning_rate", (3e-2, 1e-2)),
    ("hidden_units", (500, 250)),
)

#: Steps that may be extended past the end of their list, by this factor.
AUTO_EXTEND = {"lam": 4.0}

#: Bounds of the epochs of a search run (:func:`auto_epochs`).
AUTO_EPOCHS = (20, 100)

#: Default time budget of the search and refit, seconds (:func:`auto_epochs`).
AUTO_BUDGET_SECONDS = 600.0


@dataclass
class AutoSearch:
    """The result of :func:`auto_search`.

    Attributes
    ----------
    model : str
        Registry name (``"i-autorec"`` or ``"u-autorec"``).
    config : AutoRecConfig
        The chosen configuration for the refit on all training ratings: early stopping
        off and ``epochs`` the best epoch of the chosen run.
    table : DataFrame
        One row per configuration tried: ``step``, ``field``, ``value``, the searched
        fields, ``best_epoch``, ``epochs_run``, ``val_rmse``, ``val_mae``, ``seconds``,
        ``chosen`` (True for the chosen row).
    val_rmse : float
        Validation RMSE of the chosen configuration.
    baselines : dict
        Validation RMSE and MAE of the bias baseline and biased MF on the same split
        (``{"bias": {"rmse", "mae"}, "biased_mf": {...}}``).
    n_fit, n_validation : int
        Ratings trained on and held out during the search.
    seconds : float
        Wall-clock time of the search.
    seed : int
    """

    model: str
    config: configs.AutoRecConfig
    table: pd.DataFrame
    val_rmse: float
    baselines: dict
    n_fit: int
    n_validation: int
    seconds: float
    seed: int = 0
    estimate: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The chosen configuration and how it was chosen (for :func:`save_config`): the
        validation scores, the baselines and every configuration tried (``table``)."""
        return {"model": self.model, "config": dataclasses.asdict(self.config),
                "search": {"val_rmse": self.val_rmse, "baselines": self.baselines,
                           "n_fit": self.n_fit, "n_validation": self.n_validation,
                           "seconds": round(self.seconds, 1), "seed": self.seed,
                           "n_configurations": len(self.table),
                           "table": _records(self.table)}}


def _records(table: pd.DataFrame) -> list[dict]:
    """The search table as JSON-ready rows (NumPy scalars as Python numbers)."""
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in table.to_dict("records")]


#: Seconds per (matrix cell x hidden unit) per epoch of the dense backend, measured on two
#: shared CPU cores (ML-100K and ml-latest-small I-AutoRec, 500 units, 2026-12): the dense
#: network computes every cell of every row, so its cost grows with rows x columns x hidden
#: units, not with the number of ratings. The validation pass of early stopping is included.
SECONDS_PER_CELL_UNIT_EPOCH = 1.3e-9

#: Fixed cost of an epoch of any size (Keras' loop, the validation pass), seconds.
SECONDS_PER_EPOCH_OVERHEAD = 0.2

#: ``train --preset auto`` refuses to start a search estimated to take longer than this.
AUTO_MAX_SECONDS = 3600.0


class SearchTooLong(ValueError):
    """The automatic search would take longer than allowed (:func:`check_search_time`)."""


def check_search_time(train: pd.DataFrame, max_seconds: float, **kwargs) -> dict:
    """The estimate of :func:`estimate_search_seconds`, or :class:`SearchTooLong` when it
    exceeds ``max_seconds`` (the message gives the estimate and its terms)."""
    est = estimate_search_seconds(train, **kwargs)
    if est["seconds"] > max_seconds:
        base = kwargs.get("base") or AUTO_BASE
        raise SearchTooLong(
            f"the automatic search would take about {est['seconds'] / 3600:.1f} hours here "
            f"({train['user'].nunique():,} users x {train['item'].nunique():,} items through "
            f"{base.hidden_units} hidden units on the dense backend, {est['n_runs']} "
            f"configurations and a refit of {est['epochs']} epochs, "
            f"{est['seconds_per_epoch']:.0f} s an epoch), over the "
            f"{max_seconds / 60:.0f} minutes allowed")
    return est


def estimate_search_seconds(train: pd.DataFrame, *, steps=None, base=None,
                            budget_seconds: float = AUTO_BUDGET_SECONDS) -> dict:
    """Epochs and estimated wall-clock time of :func:`auto_search` plus the refit.

    Cost model of the dense backend: an epoch computes every cell of the rating matrix
    through the hidden layer, ``users x items x hidden_units x``
    :data:`SECONDS_PER_CELL_UNIT_EPOCH` seconds, whatever the number of ratings. The
    search trains ``n_runs`` configurations and the refit one more; each run gets the
    epochs that fit ``budget_seconds``, within :data:`AUTO_EPOCHS` (a huge matrix gets
    the lower bound and an estimate far above the budget).

    Returns
    -------
    dict
        ``n_runs``, ``epochs`` (per run), ``seconds`` (estimated, search and refit),
        ``seconds_per_epoch``, ``cells``.
    """
    steps = AUTO_STEPS if steps is None else steps
    base = AUTO_BASE if base is None else base
    n_users, n_items = train["user"].nunique(), train["item"].nunique()
    cells = float(n_users) * float(n_items)
    n_runs = _planned_runs(steps)
    per_epoch = cells * base.hidden_units * SECONDS_PER_CELL_UNIT_EPOCH \
        + SECONDS_PER_EPOCH_OVERHEAD
    lo, hi = AUTO_EPOCHS
    epochs = int(min(hi, max(lo, budget_seconds // max(per_epoch * (n_runs + 1), 1e-9))))
    return {"n_runs": n_runs, "epochs": epochs, "seconds": per_epoch * epochs * (n_runs + 1),
            "seconds_per_epoch": per_epoch, "cells": cells}


def _planned_runs(steps) -> int:
    """Configurations :func:`auto_search` trains (the first step's values, then the new
    values of every later step, plus one extension per extendable step)."""
    n = len(steps[0][1]) if steps else 1
    for name, values in steps[1:]:
        n += len(values) - 1 + (1 if name in AUTO_EXTEND else 0)
    return n


def auto_search(train: pd.DataFrame, model: str = "i-autorec", *, seed: int = 0,
                validation_size: float = 0.1, steps=None, base=None,
                budget_seconds: float = AUTO_BUDGET_SECONDS, epochs: int | None = None,
                progress=None) -> AutoSearch:
    """Choose AutoRec's configuration on validation ratings carved from ``train`` only.

    ``train`` is split once (:func:`recsys_ae.preprocess.validation_split`, ``seed``) into
    a fit part and a validation part; nothing else is read (a test set never enters).
    Starting from ``base`` (:data:`AUTO_BASE`), each step of ``steps`` trains the
    configurations that differ from the best so far in one field and keeps the one with
    the lowest validation RMSE (:func:`recsys_ae.metrics.evaluate`: clipped predictions,
    cold pairs by the model's fallback, the test rule). Every run stops early on the
    validation RMSE and keeps its best epoch, so the number of epochs is chosen too.

    Parameters
    ----------
    train : DataFrame
        Training ratings (columns ``user``, ``item``, ``rating``), on any scale.
    model : {"i-autorec", "u-autorec"}
    seed : int
        Seed of the validation split and of every model.
    validation_size : float
        Share of ``train`` held out for validation.
    steps : sequence of (field, values)
        The search (default :data:`AUTO_STEPS`).
    base : AutoRecConfig, optional
        Starting configuration (default :data:`AUTO_BASE`); must set
        ``early_stopping_patience``.
    budget_seconds : float
        Time budget of search and refit, which sets the epochs of every run
        (:func:`estimate_search_seconds`; the estimate is printed, not enforced).
    epochs : int, optional
        Epochs of every run, instead of the budget's.
    progress : callable, optional
        Called with one line of text per configuration (e.g. ``print``).

    Returns
    -------
    AutoSearch
    """
    spec = get_spec(model)
    if spec.config_class is not configs.AutoRecConfig:
        raise ValueError(f"auto_search tunes AutoRec, not {spec.display_name}")
    base = AUTO_BASE if base is None else base
    steps = AUTO_STEPS if steps is None else steps
    if base.early_stopping_patience is None:
        raise ValueError("the base configuration needs early_stopping_patience")
    say = progress or (lambda line: None)
    estimate = estimate_search_seconds(train, steps=steps, base=base,
                                       budget_seconds=budget_seconds)
    if epochs is not None:
        estimate.update(epochs=int(epochs), seconds=estimate["seconds_per_epoch"] * epochs
                        * (estimate["n_runs"] + 1))
    base = dataclasses.replace(base, epochs=estimate["epochs"])
    say(f"search: {estimate['n_runs']} configurations of {spec.display_name} and a refit, "
        f"{estimate['epochs']} epochs each, about {estimate['seconds'] / 60:.0f} min "
        f"(estimated {estimate['seconds_per_epoch']:.2f} s an epoch)")
    start = time.perf_counter()
    fit, val = preprocess.validation_split(train, validation_size, seed=seed)
    baselines = {}
    for key in ("bias", "biased-mf"):
        b = evaluate(make_model(key, seed=seed).fit(fit), val)
        baselines[key.replace("-", "_")] = {"rmse": b["rmse"], "mae": b["mae"]}
    say(f"validation: {len(val):,} of {len(train):,} training ratings (seed {seed}); bias "
        f"baseline val RMSE {baselines['bias']['rmse']:.4f}, biased MF "
        f"{baselines['biased_mf']['rmse']:.4f}")
    rows, scored = [], {}
    fields = [name for name, _ in steps]
    fields += [f for f in ("input", "lam", "dropout", "hidden_units", "learning_rate")
               if f not in fields]

    def run(config, step, name):
        key = tuple(getattr(config, f) for f in fields)
        if key in scored:
            return scored[key]
        t0 = time.perf_counter()
        fitted = make_model(spec.name, config=config, seed=seed, verbose=0,
                            backend="dense").fit(fit, validation=val)
        scores = evaluate(fitted, val)
        row = {"step": step, "field": name, **{f: getattr(config, f) for f in fields},
               "epochs": config.epochs, "best_epoch": fitted.best_epoch_,
               "epochs_run": len(fitted.history_["loss"]),
               "val_rmse": scores["rmse"], "val_mae": scores["mae"],
               "seconds": time.perf_counter() - t0}
        rows.append(row)
        scored[key] = row
        say(f"[{len(rows):>2}] {name:<13} " + ", ".join(f"{f}={getattr(config, f)}"
                                                     for f in fields)
            + f": val RMSE {row['val_rmse']:.4f} (best epoch {row['best_epoch']} of "
              f"{row['epochs_run']}, {row['seconds']:.0f} s)")
        return row

    best_config, best = base, None
    for step, (name, values) in enumerate(steps, 1):
        values = list(values)
        tried = []
        for value in values:
            config = dataclasses.replace(best_config, **{name: value})
            tried.append((config, run(config, step, name)))
        if name in AUTO_EXTEND and len(values) > 1:
            ordered = sorted(values)
            winner = min(tried, key=lambda t: t[1]["val_rmse"])[0]
            edge = getattr(winner, name)
            if edge in (ordered[0], ordered[-1]):
                factor = AUTO_EXTEND[name]
                value = edge * factor if edge == ordered[-1] else edge / factor
                config = dataclasses.replace(best_config, **{name: value})
                tried.append((config, run(config, step, name)))
        config, row = min(tried, key=lambda t: t[1]["val_rmse"])
        if best is None or row["val_rmse"] <= best["val_rmse"]:
            best_config, best = config, row
    table = pd.DataFrame(rows)
    table["chosen"] = [r is best for r in rows]
    chosen = dataclasses.replace(best_config, epochs=refit_epochs(best_config, best),
                                 early_stopping_patience=None)
    seconds = time.perf_counter() - start
    say("chosen: " + ", ".join(f"{f}={getattr(chosen, f)}" for f in fields)
        + f", epochs={chosen.epochs}: val RMSE {best['val_rmse']:.4f} ({seconds:.0f} s)")
    return AutoSearch(spec.name, chosen, table, float(best["val_rmse"]), baselines, len(fit),
                      len(val), seconds, seed, estimate)


def refit_epochs(config, row) -> int:
    """Epochs of the refit on all training ratings: the best epoch of the chosen run, or,
    for a cosine schedule that ran to its end, the whole schedule (its step size reaches 0
    at the last epoch, which is where such runs are best)."""
    if config.lr_schedule == "cosine" and row["epochs_run"] == config.epochs:
        return int(config.epochs)
    return int(row["best_epoch"])


def auto_fit(train: pd.DataFrame, model: str = "i-autorec", *, seed: int = 0,
             validation_size: float = 0.1, progress=None, verbose=0, **search_kwargs):
    """:func:`auto_search` on ``train``, then the chosen configuration refitted on all of
    ``train`` for the chosen epochs.

    Returns
    -------
    (AutoRec, AutoSearch)
        The fitted model and the search.
    """
    search = auto_search(train, model, seed=seed, validation_size=validation_size,
                         progress=progress, **search_kwargs)
    fitted = make_model(search.model, config=search.config, seed=seed, verbose=verbose,
                        backend="dense").fit(train)
    return fitted, search


def save_config(path, search_or_config, model: str = "i-autorec") -> str:
    """Write a configuration as JSON for ``train --config PATH`` (:func:`load_config`).

    Parameters
    ----------
    path : str or os.PathLike
    search_or_config : AutoSearch or AutoRecConfig
    model : str
        Registry name, when a bare config is given.

    Returns
    -------
    str
        The path written.
    """
    import json

    if isinstance(search_or_config, AutoSearch):
        payload = search_or_config.to_json()
    else:
        payload = {"model": get_spec(model).name,
                   "config": dataclasses.asdict(search_or_config)}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=2)
        fh.write("\n")
    return str(path)


def load_config(path) -> tuple[str, configs.AutoRecConfig]:
    """Read a file written by :func:`save_config` (or ``tune --config-out``).

    Returns
    -------
    (str, AutoRecConfig)
        The registry name of the model and its configuration.

    Raises
    ------
    ValueError
        For a file that is not such JSON, an unknown model or an unknown or invalid field
        (the message names it).
    """
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            payload = json.load(fh)
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a configuration file ({err})") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("config"), dict):
        raise ValueError(f"{path}: expected a JSON object with 'model' and 'config' "
                         "(as written by 'python -m recsys_ae tune --config-out')")
    spec = get_spec(payload.get("model", "i-autorec"))
    if spec.config_class is not configs.AutoRecConfig:
        raise ValueError(f"{path}: model {spec.name!r} has no AutoRec configuration")
    known = {f.name for f in dataclasses.fields(configs.AutoRecConfig)}
    unknown = sorted(set(payload["config"]) - known)
    if unknown:
        raise ValueError(f"{path}: unknown configuration field {unknown[0]!r}")
    try:
        config = configs.AutoRecConfig(**payload["config"])
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: {err}") from None
    return spec.name, config
