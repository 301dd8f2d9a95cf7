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

import time

import pandas as pd

from recsys_ae import data, preprocess
from recsys_ae.metrics import evaluate
from recsys_ae.registry import get_spec, make_model

__all__ = ["TUNING_GRID", "validation_search", "paper_l2_equivalent"]


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
