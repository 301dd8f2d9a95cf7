"""Hyperparameters of every model: one small frozen dataclass each, with named presets.

Importing this module is cheap (no TensorFlow), so the command line and the
registry can list models and presets before any model is built. Each model
module re-exports its own config (``recsys_ae.autorec.AutoRecConfig`` is
:class:`AutoRecConfig`).

=====================  ==========================================  ======================
config                 model                                       presets
=====================  ==========================================  ======================
:class:`AutoRecConfig` U-/I-AutoRec (Sedhain et al. 2015)          ``notebook``, ``paper``,
                                                                   ``tuned``, ``tuned-user``
:class:`BiasConfig`    user + item bias (Koren 2010)               ``default``
:class:`MFConfig`      biased matrix factorization (Koren 2009)    ``default``
:class:`EASEConfig`    EASE (Steck 2019)                           ``default``
:class:`PopularityConfig` most popular items                       ``default``
:class:`GlobalMeanConfig` global mean                              ``default``
=====================  ==========================================  ======================

:func:`resolve_config` turns ``None``, a preset name or a config plus field
overrides into one config, rejecting unknown fields by name.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

__all__ = ["AutoRecConfig", "AUTOREC_INPUTS", "AUTOREC_PRESETS", "BiasConfig", "MFConfig",
           "EASEConfig", "PopularityConfig", "GlobalMeanConfig", "PRESET_ALIASES", "resolve_config"]

#: Old preset names that still work, with a warning: ``"seed"`` was the student
#: notebook's preset, now ``"notebook"`` ("seed" also meant the random seed).
PRESET_ALIASES = {"seed": "notebook"}


def _positive_ints(obj, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{type(obj).__name__}.{name} must be a positive integer, "
                             f"got {value!r}")


def _non_negative(obj, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{type(obj).__name__}.{name} must be a number >= 0, "
                             f"got {value!r}")


#: Values of :attr:`AutoRecConfig.input` (``None``: decided by ``centre``).
AUTOREC_INPUTS = (None, "raw", "centred", "residual")


@dataclass(frozen=True)
class AutoRecConfig:
    """Hyperparameters of an AutoRec model (U-AutoRec or I-AutoRec).

    Parameters
    ----------
    hidden_units : int
        Width of the hidden layer (the "code").
    activation : str
        Encoder activation ``g`` (a Keras activation name).
    output_activation : str
        Decoder activation ``f``; ``"linear"`` (identity) in the paper.
    dropout : float in [0, 1)
        Dropout rate applied to the input row during training (the student
        notebook uses 0.7; the paper uses none).
    l2 : float
        Coefficient of the L2 penalty ``l2 * (||W||^2 + ||V||^2)`` added to the
        mean masked squared error of each batch (Keras ``L2`` regulariser).
    optimizer : {"sgd", "adam"}
    learning_rate : float
        Step size (the peak one under ``lr_schedule="cosine"``).
    lr_schedule : {"constant", "cosine"}
        ``"constant"``: the same step size throughout. ``"cosine"``: the step
        size of optimizer step ``t`` (0-based) of a run of ``T`` steps is
        ``learning_rate * (1 + cos(pi * t / T)) / 2``, falling smoothly to 0
        by the last epoch (Loshchilov & Hutter 2017, SGDR, without restarts;
        Keras ``CosineDecay``). Large steps early, small steps late: the run
        ends near a minimum instead of rattling around it.
    momentum : float
        SGD momentum (ignored by Adam).
    batch_size : int
        Rows per batch.
    epochs : int
    centre : bool
        Subtract the global training mean from every observed rating, in the
        input and the target, and add it back when predicting (the student
        notebook's choice). When False the rows hold raw ratings with 0 for
        "not rated" (the paper's choice). Centring has a cost for the *input*:
        a rating equal to the mean becomes 0.0, the same number as "not
        rated", so the encoder can no longer tell them apart (the loss still
        counts it, since the mask comes from the sparse structure).
    dtype : {"float32", "float64"}
        Precision of weights and arithmetic.
    scale_ratings : bool
        Map the ratings the network sees (input and target) linearly by the training
        scale (``min``, ``max``: the smallest and largest training rating) onto the
        width of a 1-5 scale: ``(r - offset) / s`` with ``s = (max - min) / 4`` (raw
        ratings land on [1, 5], so the smallest rating never becomes the 0 of "not
        rated"); predictions are mapped back (``* s + offset``) and clipped. The
        network, its L2 term, ``lam`` and the learning rate then mean on a 0.5-5 or a
        1-100 scale what they mean on 1-5, where nothing changes. (Mapping onto [0, 1]
        instead changes what the presets' penalty and step size do: validation RMSE
        1.01 instead of 0.888 on ML-100K u1 with the ``tuned`` settings.) Default False
        (the ``notebook`` and ``paper`` presets are literal).
    input : {None, "raw", "centred", "residual"}
        What the network reconstructs. ``"raw"``: the ratings (0 = not rated);
        ``"centred"``: rating minus the global training mean; ``"residual"``: rating
        minus the bias baseline's prediction ``mu + b_u + b_i`` (the regularised
        biases of :class:`~recsys_ae.baselines.BiasBaseline`, fitted on the same
        training ratings), so the network models only what the biases miss and a
        heavily regularised network falls back to the bias baseline. ``None`` (the
        default): ``"centred"`` if ``centre`` else ``"raw"``. When set it decides
        and ``centre`` is ignored.
    lam : float >= 0 or None
        The paper's lambda (Sedhain et al. 2015, eq. 2) on the *summed* objective
        ``sum_obs (r - r_hat)^2 + lam / 2 (||W||^2 + ||V||^2)``; the model converts it
        to the per-batch coefficient ``l2 = lam / (2 N)``, ``N`` the training ratings
        (:func:`recsys_ae.tuning.paper_l2_equivalent`), so one lambda means the same on
        a small and a large dataset. When set it replaces ``l2``. Default None (use
        ``l2`` as it is).
    early_stopping_patience : int >= 1 or None
        Dense backend: stop after this many epochs without a lower validation RMSE
        (``fit(train, validation=...)``, required then) and restore the weights of
        the best epoch (``best_epoch_``); ``epochs`` is then the most epochs. Default
        None: train exactly ``epochs`` epochs.

    Raises
    ------
    ValueError
        For an unknown optimizer, schedule or input, a dropout outside [0, 1), or a
        non-positive ``hidden_units``, ``batch_size``, ``epochs`` or
        ``early_stopping_patience``, or a negative ``lam``.
    """

    hidden_units: int = 500
    activation: str = "sigmoid"
    output_activation: str = "linear"
    dropout: float = 0.0
    l2: float = 0.0
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"
    momentum: float = 0.0
    batch_size: int = 64
    epochs: int = 30
    centre: bool = True
    dtype: str = "float32"
    scale_ratings: bool = False
    input: str | None = None
    lam: float | None = None
    early_stopping_patience: int | None = None

    def __post_init__(self):
        if self.input not in AUTOREC_INPUTS:
            raise ValueError(f"input must be one of {AUTOREC_INPUTS}, got {self.input!r}")
        if not isinstance(self.scale_ratings, bool):
            raise ValueError(f"scale_ratings must be a bool, got {self.scale_ratings!r}")
        if self.lam is not None:
            _non_negative(self, "lam")
        if self.early_stopping_patience is not None:
            _positive_ints(self, "early_stopping_patience")
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', "
                             f"got {self.lr_schedule!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        _positive_ints(self, "hidden_units", "batch_size", "epochs")
        _non_negative(self, "l2", "learning_rate", "momentum")

    @property
    def input_mode(self) -> str:
        """``input`` resolved: ``"raw"``, ``"centred"`` or ``"residual"`` (``None``
        follows ``centre``)."""
        if self.input is None:
            return "centred" if self.centre else "raw"
        return self.input

    @classmethod
    def preset(cls, name: str, **overrides) -> AutoRecConfig:
        """A named configuration from :data:`AUTOREC_PRESETS`, with fields overridden.

        Raises
        ------
        ValueError
            If ``name`` is not a preset or an override is not a field.
        """
        return resolve_config(cls, AUTOREC_PRESETS, name, overrides)


#: Named AutoRec configurations.
#:
#: ``"notebook"`` is the student notebook's U-AutoRec: 700 tanh units, input
#: dropout 0.7, L2 1e-4, SGD with learning rate 0.08 and momentum 0.9, batch
#: 128, 20 epochs (``"seed"`` is a deprecated alias).
#:
#: ``"paper"`` follows Sedhain et al. (2015): 500 sigmoid hidden units, an
#: identity output, no dropout, raw (uncentred) ratings and an L2 penalty.
#: The paper minimises a *summed* squared error with L-BFGS / RProp over the whole matrix; with a
#: per-batch *mean* loss and Adam, its penalty weight is rescaled, and the
#: value here was chosen on a validation split carved from MovieLens 100K's
#: ``u1.base`` (never on ``u1.test``).
#:
#: ``"tuned"`` (I-AutoRec) and ``"tuned-user"`` (U-AutoRec): the ``"paper"`` preset with the
#: fields chosen on a 10 % validation split of MovieLens 100K ``u1.base``
#: (``preprocess.validation_split(seed=0)``; ``u1.test`` never read). The search is
#: ``recsys_ae.tuning.TUNING_GRID``, rerun by ``python -m recsys_ae tune``; its validation RMSE
#: (clipped, cold pairs at the global mean, seed 0, 2026-11-29):
#:
#: * I-AutoRec: input dropout 0.5, Adam with peak learning rate 3e-2 on a cosine schedule, 100
#:   epochs: 0.8900 (seeds 1, 2: 0.8900, 0.8906). The previous preset (constant 1e-3, dropout
#:   0.2, 60 epochs): 0.9037. Cosine without dropout, peak 3e-3 / 1e-2, 60 epochs: 0.8984 /
#:   0.9043; peak 3e-3 / 1e-2 with dropout 0.5: 0.8931 / 0.8919; dropout 0.4 / 0.6: 0.8899 (a
#:   tie) / 0.8911; L2 5e-4 / 2e-3: 0.8936 / 0.9041; 700 / 1000 hidden units: 0.8904 / 0.8911;
#:   batch 128 / 512: 0.8933 / 0.8915; 150 epochs: 0.8920; tanh hidden units: 0.9149.
#: * U-AutoRec: Adam with peak learning rate 1e-2 on a cosine schedule, 60 epochs, no dropout:
#:   0.9381. Previous preset (constant 3e-3, 45 epochs): 0.9461; peak 3e-2 with dropout 0.5,
#:   100 epochs: 0.9387; peak 3e-3 with dropout 0.3, 100 epochs: 0.9424.
AUTOREC_PRESETS: dict[str, AutoRecConfig] = {
    "notebook": AutoRecConfig(hidden_units=700, activation="tanh", output_activation="linear",
                              dropout=0.7, l2=1e-4, optimizer="sgd", learning_rate=0.08,
                              momentum=0.9, batch_size=128, epochs=20, centre=True),
    "paper": AutoRecConfig(hidden_units=500, activation="sigmoid", output_activation="linear",
                           dropout=0.0, l2=1e-3, optimizer="adam", learning_rate=1e-3,
                           momentum=0.0, batch_size=256, epochs=60, centre=False),
}
AUTOREC_PRESETS["tuned"] = dataclasses.replace(
    AUTOREC_PRESETS["paper"], dropout=0.5, learning_rate=3e-2, lr_schedule="cosine", epochs=100)
AUTOREC_PRESETS["tuned-user"] = dataclasses.replace(
    AUTOREC_PRESETS["paper"], learning_rate=1e-2, lr_schedule="cosine", epochs=60)


@dataclass(frozen=True)
class GlobalMeanConfig:
    """The global mean has no hyperparameters."""


@dataclass(frozen=True)
class BiasConfig:
    """Hyperparameters of the user + item bias baseline (Koren 2010, section 2.1).

    Parameters
    ----------
    reg_user : float, default 15
        Shrinkage of user biases towards 0 (in units of "pseudo-ratings").
    reg_item : float, default 10
        Shrinkage of item biases.
    n_sweeps : int, default 10
        Alternating sweeps. The defaults are Surprise's ``BaselineOnly`` with
        ``method="als"``.
    """

    reg_user: float = 15.0
    reg_item: float = 10.0
    n_sweeps: int = 10

    def __post_init__(self):
        _non_negative(self, "reg_user", "reg_item")
        _positive_ints(self, "n_sweeps")


@dataclass(frozen=True)
class MFConfig:
    """Hyperparameters of biased matrix factorization by ALS (Koren, Bell & Volinsky 2009).

    Parameters
    ----------
    n_factors : int, default 50
        Latent dimension ``k``.
    reg : float, default 0.15
        L2 weight on the factors (multiplied by the row's rating count when
        ``weighted``). The defaults (50, 0.15, 0.05) were chosen on a 10%
        validation split of MovieLens 100K ``u1.base`` (validation RMSE
        0.9105; grid k in {20, 50, 100}, reg in {0.05, ..., 0.3}).
    reg_bias : float, default 0.05
        L2 weight on the biases (likewise).
    n_sweeps : int, default 15
        Alternating sweeps (users then items).
    weighted : bool, default True
        Scale each row's penalty by its rating count (Zhou et al. 2008).
    init_scale : float, default 0.1
        Standard deviation of the initial item factors.
    """

    n_factors: int = 50
    reg: float = 0.15
    reg_bias: float = 0.05
    n_sweeps: int = 15
    weighted: bool = True
    init_scale: float = 0.1

    def __post_init__(self):
        _positive_ints(self, "n_factors", "n_sweeps")
        _non_negative(self, "reg", "reg_bias", "init_scale")


@dataclass(frozen=True)
class EASEConfig:
    """Hyperparameters of EASE (Steck 2019).

    Parameters
    ----------
    lam : float > 0, default 100
        L2 weight of the item-item matrix (choose it on validation data,
        :func:`recsys_ae.topn.select_ease_lambda`).
    threshold : float, default 4
        Training ratings at or above it are the positive interactions.
    """

    lam: float = 100.0
    threshold: float = 4.0

    def __post_init__(self):
        if not isinstance(self.lam, (int, float)) or isinstance(self.lam, bool) or self.lam <= 0:
            raise ValueError(f"EASEConfig.lam must be > 0, got {self.lam!r}")


@dataclass(frozen=True)
class PopularityConfig:
    """Hyperparameters of the popularity ranker.

    Parameters
    ----------
    threshold : float, default 4
        Training ratings at or above it count as interactions.
    """

    threshold: float = 4.0


def resolve_config(config_class, presets: dict, config=None, overrides: dict | None = None):
    """One config from a preset name, a config instance or ``None``, plus field overrides.

    Parameters
    ----------
    config_class : dataclass type
    presets : dict of str to config_class
        Named presets (``"default"`` is used when ``config`` is None and it exists).
    config : None, str or config_class
        ``None``: the ``"default"`` preset, else ``config_class()``. A str: that preset
        (a deprecated alias from :data:`PRESET_ALIASES` works with a ``FutureWarning``).
    overrides : dict, optional
        Field values replacing the preset's.

    Returns
    -------
    config_class instance

    Raises
    ------
    ValueError
        For an unknown preset name, an override that is not a field (the message lists the
        fields), or a field value the dataclass rejects.
    TypeError
        If ``config`` is neither None, a str nor a ``config_class``.
    """
    overrides = dict(overrides or {})
    if config is None:
        config = presets.get("default", None) or config_class()
    elif isinstance(config, str):
        if config not in presets and config in PRESET_ALIASES and \
                PRESET_ALIASES[config] in presets:
            warnings.warn(f"preset {config!r} is deprecated; use {PRESET_ALIASES[config]!r}",
                          FutureWarning, stacklevel=3)
            config = PRESET_ALIASES[config]
        if config not in presets:
            raise ValueError(f"unknown preset {config!r} for {config_class.__name__}; "
                             f"choose one of {sorted(presets)}")
        config = presets[config]
    elif not isinstance(config, config_class):
        raise TypeError(f"config must be a preset name or a {config_class.__name__}, "
                        f"got {type(config).__name__}")
    fields = {f.name for f in dataclasses.fields(config_class)}
    unknown = set(overrides) - fields
    if unknown:
        raise ValueError(f"unknown {config_class.__name__} field(s) {sorted(unknown)}; "
                         f"fields are {sorted(fields) or 'none'}")
    return dataclasses.replace(config, **overrides) if overrides else config


# ---------------------------------------------------------------------------------------------
# Mult-DAE and Mult-VAE (Liang et al. 2018), chapter 6
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MultVAEConfig:
    """Hyperparameters of Mult-VAE and Mult-DAE (Liang, Krishnan, Hoffman & Jebara, WWW 2018).

    One dataclass for both models; ``variational`` says which. The ``"paper"`` presets
    (:data:`MULTVAE_PRESETS`, :data:`MULTDAE_PRESETS`) follow the paper and its code
    (github.com/dawenl/vae_cf, ``VAE_ML20M_WWW2018.ipynb``): architecture
    [n_items -> 600 -> 200 -> 600 -> n_items], tanh, Glorot-uniform weights, biases from
    a normal of standard deviation 0.001, dropout 0.5 on the L2-normalised input, Adam
    1e-3, batches of 500 users, 200 epochs with the epoch chosen by validation NDCG@100.

    Parameters
    ----------
    variational : bool
        True: Mult-VAE (the encoder gives a mean and a log-variance; a sampled code is
        decoded; the loss adds ``beta`` times the KL divergence to the prior N(0, I)).
        False: Mult-DAE (a deterministic code; the only noise is the input dropout).
    hidden_units : int
        Width of the encoder's and the decoder's hidden layer (600).
    latent_dim : int
        Size of the code (200).
    dropout : float in [0, 1)
        Dropout rate on the L2-normalised input during training (0.5, the code's
        ``keep_prob`` 0.5).
    l2 : float >= 0
        Coefficient of ``l2 * sum ||W||^2`` over the weight matrices (not the biases),
        added to the batch-mean loss. The paper's code gives Mult-DAE ``lam = 0.01 /
        batch_size`` and adds ``2 * lam * sum ||W||^2 / 2``, i.e. 0.01 per 500-user batch
        sum, ``2e-5`` on the mean; Mult-VAE ``lam = 0``.
    beta_max : float >= 0
        The cap of the KL weight beta (``anneal_cap`` 0.2). Mult-VAE only.
    total_anneal_steps : int or None
        beta after ``t`` updates is ``min(beta_max, t / total_anneal_steps)``, as in the
        code (200,000 for ML-20M: with 234 updates an epoch and 200 epochs, beta reaches
        0.2 after about 171 epochs). ``None`` scales it to the data: beta reaches
        ``beta_max`` at the last planned update (``epochs x updates per epoch``).
    learning_rate : float
        Adam's step size (1e-3).
    batch_size : int
        Users per batch (500).
    epochs : int
        Most epochs (200).
    patience : int
        Stop after this many epochs without a better validation NDCG@100 (0: never stop
        early, the paper's choice; the best epoch's weights are restored either way).
    threshold : float
        Ratings at or above it are the positive (clicked) items (4, the paper's MovieLens
        binarisation).
    """

    variational: bool = True
    hidden_units: int = 600
    latent_dim: int = 200
    dropout: float = 0.5
    l2: float = 0.0
    beta_max: float = 0.2
    total_anneal_steps: int | None = None
    learning_rate: float = 1e-3
    batch_size: int = 500
    epochs: int = 200
    patience: int = 0
    threshold: float = 4.0

    def __post_init__(self):
        if not isinstance(self.variational, bool):
            raise ValueError(f"MultVAEConfig.variational must be a bool, got "
                             f"{self.variational!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        _positive_ints(self, "hidden_units", "latent_dim", "batch_size", "epochs")
        _non_negative(self, "l2", "beta_max", "learning_rate", "patience")
        if self.total_anneal_steps is not None:
            _positive_ints(self, "total_anneal_steps")


#: Mult-VAE as in the paper and its code (weight decay 0).
MULTVAE_PRESETS = {"paper": MultVAEConfig(variational=True, l2=0.0)}
#: Mult-DAE as in the paper and its code (weight decay 0.01 per 500-user batch sum).
MULTDAE_PRESETS = {"paper": MultVAEConfig(variational=False, l2=0.01 / 500)}
__all__ += ["MultVAEConfig", "MULTVAE_PRESETS", "MULTDAE_PRESETS"]
