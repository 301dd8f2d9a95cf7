"""One registry of models: name -> class, config dataclass, presets, display name.

Everything that builds a model (the command line, the results table, the
validation search, the book, the benchmarks) calls :func:`make_model`, so a
model is built the same way everywhere::

    from recsys_ae.registry import make_model
    model = make_model("i-autorec", "tuned", seed=0)          # an unfitted AutoRec
    model = make_model("biased-mf", n_factors=20)             # a config field overridden
    model = make_model("u-autorec", "notebook", backend="sparse", objective="exact")

Importing this module does not import TensorFlow; building an AutoRec does.

========================  ==========  ===================  =====================
name                      task        presets              recommended preset
========================  ==========  ===================  =====================
``i-autorec``             rating      notebook, paper,     tuned
                                      tuned, tuned-user
``u-autorec``             rating      (the same)           tuned-user
``biased-mf``             rating      default              default
``bias``                  rating      default              default
``global-mean``           rating      default              default
``ease``                  ranking     default              default
``popularity``            ranking     default              default
========================  ==========  ===================  =====================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from recsys_ae import configs

__all__ = ["ModelSpec", "MODELS", "BACKENDS", "get_spec", "make_model", "make_recommended",
           "model_names",
           "register", "resolve_backend"]

#: Training backends of AutoRec: ``"dense"`` (the Keras model, every batch densified) and
#: ``"sparse"`` (only the observed ratings are computed); ``"auto"`` picks by density.
BACKENDS = ("auto", "dense", "sparse")

#: ``backend="auto"`` trains on the sparse path when the training matrix is less full than
#: this (Beauty after the one-pass filter: 0.002%; MovieLens 100K: 6.3%).
SPARSE_BELOW_DENSITY = 0.01


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model.

    Attributes
    ----------
    name : str
        Registry name (lower case, as on the command line), e.g. ``"i-autorec"``.
    display_name : str
        Name in tables and plots, e.g. ``"I-AutoRec"``.
    task : {"rating", "ranking"}
        ``"rating"``: a :class:`~recsys_ae.base.RatingPredictor` (has ``predict``);
        ``"ranking"``: a :class:`~recsys_ae.base.Recommender` only.
    config_class : type
        The config dataclass.
    presets : dict of str to config
        Named configurations (``"default"`` for models with one).
    default_preset : str
        Preset used when none is given (AutoRec: ``"paper"``, the paper's model).
    recommended_preset : str
        The preset chosen on validation data, used by the results table and the book's
        comparisons.
    build : callable
        ``build(config, seed, **options)`` returns the unfitted model.
    options : tuple of str
        Keyword arguments of :func:`make_model` that are not config fields
        (AutoRec: ``backend``, ``objective``, ``verbose``).
    can_save : bool
        Whether :func:`recsys_ae.persist.save_model` can save it.
    summary : str
        One line for help texts.
    """

    name: str
    display_name: str
    task: str
    config_class: type
    presets: dict
    default_preset: str
    recommended_preset: str
    build: Callable
    options: tuple = ()
    can_save: bool = False
    summary: str = ""
    aliases: tuple = field(default=())


#: Every registered model, by registry name.
MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add a model to :data:`MODELS` (a name may be registered once)."""
    if spec.name in MODELS:
        raise ValueError(f"model {spec.name!r} is already registered")
    if spec.task not in ("rating", "ranking"):
        raise ValueError(f"task must be 'rating' or 'ranking', got {spec.task!r}")
    MODELS[spec.name] = spec
    return spec


def model_names(task: str | None = None) -> list[str]:
    """Registry names, optionally only those of one task (``"rating"`` or ``"ranking"``)."""
    return [n for n, s in MODELS.items() if task is None or s.task == task]


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a registry name or display name (case-insensitive).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the registered ones.
    """
    key = str(name).strip().lower()
    for spec in MODELS.values():
        if key in (spec.name, spec.display_name.lower(), *spec.aliases):
            return spec
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")


def resolve_backend(backend: str, train=None) -> str:
    """Resolve ``backend="auto"`` to ``"sparse"`` or ``"dense"`` for a training set.

    The dense formulation costs ``rows x columns`` per epoch, the sparse one grows with
    the number of observed ratings but pays more per rating, so the sparse backend wins
    only on very sparse matrices (under :data:`SPARSE_BELOW_DENSITY` full).

    Parameters
    ----------
    backend : {"auto", "dense", "sparse"}
    train : DataFrame, optional
        Training ratings; without them ``"auto"`` means ``"sparse"``.

    Returns
    -------
    str
        ``"dense"`` or ``"sparse"``.

    Raises
    ------
    ValueError
        For an unknown backend.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    if train is None:
        return "sparse"
    density = len(train) / (train["user"].nunique() * train["item"].nunique())
    return "sparse" if density < SPARSE_BELOW_DENSITY else "dense"


def make_model(name: str, preset: str | None = None, *, seed: int = 0, config=None, **kwargs):
    """An unfitted model from the registry.

    Parameters
    ----------
    name : str
        Registry name or display name (see :data:`MODELS`).
    preset : str, optional
        A preset of the model (default: its ``default_preset``). Ignored when
        ``config`` is given.
    seed : int
        The one seed of the model's random choices.
    config : config dataclass, optional
        A full configuration instead of a preset.
    **kwargs
        The model's options (``spec.options``, e.g. AutoRec's ``backend``,
        ``objective``, ``verbose``) and config fields overriding the preset's.

    Returns
    -------
    Recommender

    Raises
    ------
    ValueError
        For an unknown model, preset or config field.
    """
    spec = get_spec(name)
    options = {k: kwargs.pop(k) for k in list(kwargs) if k in spec.options}
    chosen = config if config is not None else (preset or spec.default_preset)
    cfg = configs.resolve_config(spec.config_class, spec.presets, chosen, kwargs)
    return spec.build(cfg, seed, **options)


# ---------------------------------------------------------------------------------------------
# The models of this package
# ---------------------------------------------------------------------------------------------

def _autorec_builder(kind: str):
    def build(config, seed, *, backend: str = "dense", objective: str = "auto",
              verbose="auto"):
        """AutoRec on the ``dense`` or ``sparse`` backend. ``objective`` (sparse only):
        ``"exact"`` (the notebook's objective: L2 on all weights, full momentum) or
        ``"lazy"``; ``"auto"`` is ``"exact"`` for SGD and ``"lazy"`` for Adam."""
        if backend == "auto":
            raise ValueError("backend='auto' needs the training data: resolve it first "
                             "with registry.resolve_backend(backend, train)")
        if backend not in ("dense", "sparse"):
            raise ValueError(f"unknown backend {backend!r}; choose 'dense' or 'sparse'")
        if backend == "dense":
            from recsys_ae.autorec import AutoRec

            if objective not in ("auto",):
                warnings.warn(f"objective={objective!r} applies to the sparse backend only; "
                              "ignored", UserWarning, stacklevel=3)
            return AutoRec(kind, config, seed=seed, verbose=verbose)
        from recsys_ae.sparse import SparseAutoRec

        if objective == "auto":
            objective = "exact" if config.optimizer == "sgd" else "lazy"
        return SparseAutoRec(kind, config, seed=seed, verbose=verbose, objective=objective)
    return build


def _simple_builder(module: str, cls: str):
    def build(config, seed):
        import importlib

        return getattr(importlib.import_module(module), cls)(config, seed=seed)
    return build


_AUTOREC_PRESETS = configs.AUTOREC_PRESETS
register(ModelSpec(
    "i-autorec", "I-AutoRec", "rating", configs.AutoRecConfig, _AUTOREC_PRESETS, "paper",
    "tuned", _autorec_builder("item"), ("backend", "objective", "verbose"), can_save=True,
    summary="item-based AutoRec: rows are items (Sedhain et al. 2015)"))
register(ModelSpec(
    "u-autorec", "U-AutoRec", "rating", configs.AutoRecConfig, _AUTOREC_PRESETS, "paper",
    "tuned-user", _autorec_builder("user"), ("backend", "objective", "verbose"),
    can_save=True, summary="user-based AutoRec: rows are users, as in the student notebook"))
def _register_simple(name, display_name, task, config_class, module, cls, summary, **kw):
    """Register a model with one preset (``"default"``, the config's defaults)."""
    register(ModelSpec(name, display_name, task, config_class, {"default": config_class()},
                       "default", "default", _simple_builder(module, cls), summary=summary,
                       **kw))


_register_simple("biased-mf", "biased MF", "rating", configs.MFConfig, "recsys_ae.mf",
                 "BiasedMF", "biased matrix factorization by ALS (Koren et al. 2009)",
                 aliases=("biased mf (als)", "mf"))
_register_simple("bias", "user + item bias", "rating", configs.BiasConfig,
                 "recsys_ae.baselines", "BiasBaseline",
                 "global mean + regularised user and item biases (Koren 2010)")
_register_simple("global-mean", "global mean", "rating", configs.GlobalMeanConfig,
                 "recsys_ae.baselines", "GlobalMean", "the mean training rating for every pair")
_register_simple("ease", "EASE", "ranking", configs.EASEConfig, "recsys_ae.topn", "EASE",
                 "closed-form linear item-item autoencoder (Steck 2019)")
_register_simple("popularity", "popularity", "ranking", configs.PopularityConfig,
                 "recsys_ae.topn", "Popularity",
                 "the items with the most positive training ratings")


def make_recommended(name: str, seed: int = 0, *, epochs: int | None = None, **overrides):
    """A model as the results table and the book compare it: its recommended preset
    (chosen on validation data), silent, optionally with fewer epochs.

    Parameters
    ----------
    name : str
        Registry or display name.
    seed : int
    epochs : int, optional
        Replaces the preset's epochs for models that have them (AutoRec); ignored by
        models without (quick runs ask every model for fewer epochs at once).
    **overrides
        Config fields.

    Returns
    -------
    Recommender
        Unfitted.
    """
    import dataclasses

    spec = get_spec(name)
    if epochs is not None and "epochs" in {f.name for f in
                                           dataclasses.fields(spec.config_class)}:
        overrides["epochs"] = epochs
    if "verbose" in spec.options:
        overrides["verbose"] = 0
    return make_model(spec.name, spec.recommended_preset, seed=seed, **overrides)


# Mult-DAE and Mult-VAE (Liang et al. 2018), chapter 6: ranking models fitted on clicks.
register(ModelSpec(
    "mult-dae", "Mult-DAE", "ranking", configs.MultVAEConfig, configs.MULTDAE_PRESETS, "paper",
    "paper", _simple_builder("recsys_ae.multvae", "MultDAE"),
    summary="denoising autoencoder with a multinomial likelihood (Liang et al. 2018)"))
register(ModelSpec(
    "mult-vae", "Mult-VAE", "ranking", configs.MultVAEConfig, configs.MULTVAE_PRESETS, "paper",
    "paper", _simple_builder("recsys_ae.multvae", "MultVAE"),
    summary="variational autoencoder with a multinomial likelihood (Liang et al. 2018)"))
