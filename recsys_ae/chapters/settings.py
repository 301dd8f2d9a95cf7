"""The one place that decides what the book's notebooks run on.

Every notebook starts with::

    from recsys_ae.chapters import quiet_notebook
    quiet_notebook()  # first: before anything imports tqdm
    from recsys_ae.chapters.settings import book_settings, data_banner
    S = book_settings()
    display(Markdown(data_banner(S)))
    ratings = S.load()

and never names a dataset, a data folder or a number of epochs itself; the models it trains
come from the registry with the preset the book shows for them (:meth:`BookSettings.make_model`,
:data:`MODEL_PRESETS`). Three environment
variables choose, read once by :func:`book_settings`:

=========================  ==================  =============================================
variable                   default             meaning
=========================  ==================  =============================================
``RECSYS_AE_DATASET``      ``amazon-beauty``   a name from :data:`recsys_ae.data.DATASETS`
``RECSYS_AE_PROFILE``      ``full``            ``full`` (the presets' sizes) or ``ci``
                                               (small but real: fewer epochs, smaller
                                               samples; what CI and a quick look use)
``RECSYS_AE_DATA_DIR``     the user cache      data folder ``<dir>/<dataset>/<file>``; a
                                               relative path is taken from the repository
                                               root (where ``.ci/run`` sets it), so it works
                                               from ``notebooks/`` too
``RECSYS_AE_SYNTHETIC_SIZE``  from the profile  ``small`` or ``full`` (Beauty-sized)
=========================  ==================  =============================================

The profile decides every size a notebook uses: epochs per model (:meth:`BookSettings.epochs`;
``full`` trains each model for its preset's own epochs, ``ci`` for a few), the size of the
synthetic stand-in that is counted (``synthetic_size``) and the one models are trained on
(``synthetic_model_size``), and the timing sample of chapter 2.

The default is the real Amazon Beauty file. Offline without it, loading fails loudly with
:class:`recsys_ae.data.DataNotFoundError` (file, URL, folder); nothing falls back to
generated data on its own. The synthetic stand-in runs only when chosen
(``RECSYS_AE_DATASET=synthetic``), and then :func:`data_banner` puts a warning on the page.

Importing this module changes nothing global: the one warnings filter the pages want is
installed by :func:`recsys_ae.chapters.quiet_notebook`, which each notebook calls first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from recsys_ae import data, registry
from recsys_ae.chapters import quiet_notebook  # re-exported: settings.quiet_notebook()

__all__ = [
    "DEFAULT_DATASET",
    "MODEL_PRESETS",
    "PROFILES",
    "REPO_ROOT",
    "BookSettings",
    "Profile",
    "banner_markdown",
    "book_settings",
    "data_banner",
    "quiet_notebook",
]

DEFAULT_DATASET = "amazon-beauty"
#: The repository root (where ``.ci/run`` and the book live), for a relative
#: ``RECSYS_AE_DATA_DIR``. Only the chapters' machinery knows it; the library has no such path.
REPO_ROOT = Path(__file__).resolve().parents[2]

_PRETTY = {
    "amazon-beauty": "Amazon Beauty ratings (2014)",
    "amazon-beauty-sample": "the first 499 rows of the Amazon Beauty ratings (2014)",
    "ml-100k": "MovieLens 100K",
    "ml-latest-small": "MovieLens latest-small",
    "synthetic": "a SYNTHETIC Beauty-shaped stand-in",
}


#: The registry preset (:data:`recsys_ae.configs.AUTOREC_PRESETS`) each of the book's models is
#: shown with: U-AutoRec as the student notebook configured it, I-AutoRec as the AutoRec paper
#: did. Models not named here get their registry default.
MODEL_PRESETS = MappingProxyType({"u-autorec": "notebook", "i-autorec": "paper"})


def _check_model_presets(presets) -> None:
    """Every entry of :data:`MODEL_PRESETS` names a registered model and one of its presets."""
    for name, preset in presets.items():
        spec = registry.get_spec(name)  # ValueError for an unknown model
        if spec.name != name:
            raise ValueError(f"MODEL_PRESETS key {name!r}: use the registry name {spec.name!r}")
        if preset not in spec.presets:
            raise ValueError(f"MODEL_PRESETS[{name!r}] = {preset!r} is not a preset of {name}; "
                             f"choose one of {sorted(spec.presets)}")


_check_model_presets(MODEL_PRESETS)




@dataclass(frozen=True)
class Profile:
    """Sizes that differ between a full run and a CI run.

    Attributes
    ----------
    name : str
        ``"full"`` or ``"ci"``.
    epochs_by_model : mapping of str to (int or None)
        Training epochs per model name; ``"default"`` for any other name. ``None`` means "the
        model's own": the epochs of its preset in :data:`MODEL_PRESETS` (``"notebook"``: 20,
        ``"paper"``: 60), or the caller's default for a model without one.
    synthetic_size : str
        ``"small"`` (20,000 ratings) or ``"full"`` (Beauty's 2,023,070) for the stand-in where
        a chapter only *counts* (cold start, sparsity).
    timing_sample : int
        Ratings used to time the seed's row-by-row matrix build (chapter 2).
    synthetic_model_size : str
        ``"small"`` or ``"full"``: size of the stand-in on which the book *trains* models.
        ``"small"`` in both profiles, so that the sections that train several models on the
        stand-in take seconds. Where a chapter trains on a Beauty-sized matrix (its own dataset
        under the defaults, or the full-size stand-in), it uses the sparse backend
        (:func:`recsys_ae.registry.resolve_backend`; chapter 5 through
        :func:`recsys_ae.chapters.studies.book_models`): the dense one needs hours per epoch
        there (chapter 4, "Why the seed never finished an epoch").
    lesson_dataset : str
        Where chapter 3 ("The autoencoder") trains its lessons (learning curves, dropout,
        centring, I- against U-AutoRec): ``"ml-100k"`` in both profiles. Those lessons need
        many runs of tens of epochs each, affordable on MovieLens 100K (under a second an
        epoch) and not at Beauty scale.
    lesson_epochs : int
        Epochs of every model chapter 3 trains, the same for all of them (equal budgets):
        60, enough for the validation curves to reach their minimum (see the chapter).
    full_scale_epochs : int
        Epochs of the one sparse U-AutoRec that chapter 4 ("Training at full scale") trains on
        the Beauty-shaped stand-in of size ``synthetic_size``: ``ci`` 10 on the small
        stand-in, ``full`` 3 on the Beauty-sized one (about 15 s an epoch on a quiet 2-core
        CPU, ``benchmarks/README.md``; the cell stays well under the 600 s cell timeout).
    """

    name: str
    epochs_by_model: MappingProxyType
    synthetic_size: str
    timing_sample: int
    synthetic_model_size: str = "small"
    lesson_dataset: str = "ml-100k"
    lesson_epochs: int = 60
    full_scale_epochs: int = 10


PROFILES: dict[str, Profile] = {
    "full": Profile(
        name="full",
        # each model's preset decides: the notebook's U-AutoRec 20 epochs, the paper's 60
        epochs_by_model=MappingProxyType({"u-autorec": None, "i-autorec": None,
                                          "default": None}),
        synthetic_size="full",
        timing_sample=50_000,
        synthetic_model_size="small",
        full_scale_epochs=3,
    ),
    "ci": Profile(
        name="ci",
        # Why 25 and 3: the measurements in recsys_ae/chapters/recorded.json, entry
        # "ci_epochs" (tables.recorded("ci_epochs")): I-AutoRec with the paper preset passes
        # the user + item bias baseline on u1 after about 11 epochs; U-AutoRec needs its tuned
        # preset and 60 epochs to pass it, so it gets only enough epochs to draw a learning
        # curve.
        epochs_by_model=MappingProxyType({"u-autorec": 3, "i-autorec": 25, "default": 3}),
        synthetic_size="small",
        timing_sample=5_000,
        synthetic_model_size="small",
        full_scale_epochs=10,
    ),
}


@dataclass(frozen=True)
class BookSettings:
    """What a notebook runs on. Build it with :func:`book_settings`, not by hand.

    Attributes
    ----------
    dataset : str
        Dataset name (see :data:`recsys_ae.data.DATASETS`).
    profile : str
        ``"full"`` or ``"ci"``.
    seed : int
        Seed for splits, the stand-in and model initialisation.
    synthetic_size : str
        ``"small"`` or ``"full"``: size of the stand-in when it is loaded.
    synthetic_model_size : str
        ``"small"`` or ``"full"``: size of the stand-in when models are trained on it (from the
        profile; pass it to :func:`recsys_ae.chapters.studies.book_split` as
        ``synthetic_size``).
    data_dir : pathlib.Path or None
        Resolved data folder, or None for the package default (the user cache).
    """

    dataset: str = DEFAULT_DATASET
    profile: str = "full"
    seed: int = 0
    synthetic_size: str = "full"
    data_dir: Path | None = None
    _profile: Profile = field(default=PROFILES["full"], repr=False, compare=False)

    @property
    def synthetic(self) -> bool:
        """bool: True when the chosen dataset is the generated stand-in."""
        return self.dataset == "synthetic"

    @property
    def timing_sample(self) -> int:
        """int: ratings used for the matrix-build timing in chapter 2."""
        return self._profile.timing_sample

    @property
    def synthetic_model_size(self) -> str:
        """str: size of the stand-in the book trains models on (``"small"`` or ``"full"``)."""
        return self._profile.synthetic_model_size

    @property
    def lesson_dataset(self) -> str:
        """str: the dataset chapter 3 trains its lessons on (``"ml-100k"`` in every profile)."""
        return self._profile.lesson_dataset

    @property
    def lesson_epochs(self) -> int:
        """int: epochs of every model chapter 3 trains (equal budgets, in every profile)."""
        return self._profile.lesson_epochs

    @property
    def full_scale_epochs(self) -> int:
        """int: epochs of chapter 4's sparse U-AutoRec on the Beauty-shaped stand-in."""
        return self._profile.full_scale_epochs

    def epochs(self, model: str = "default") -> int | None:
        """Training epochs for ``model`` (a registry name: ``"u-autorec"``, ...) in this profile.

        Returns
        -------
        int or None
            The profile's number. Where the profile says ``None`` ("the model's own", the
            ``full`` profile), a model of :data:`MODEL_PRESETS` gets its preset's epochs
            (``"u-autorec"``: the notebook's 20, ``"i-autorec"``: the paper's 60) and any other
            name ``None``, meaning "the preset's": leave the configuration's epochs as they
            are.
        """
        table = self._profile.epochs_by_model
        value = table.get(model, table["default"])
        if value is not None:
            return int(value)
        if model in MODEL_PRESETS:
            return int(registry.get_spec(model).presets[MODEL_PRESETS[model]].epochs)
        return None

    def make_model(self, name: str, **overrides):
        """An unfitted model as the book shows it, built by :func:`recsys_ae.registry.make_model`.

        Parameters
        ----------
        name : str
            Registry or display name (``"u-autorec"``, ``"i-autorec"``, ``"bias"``, ...).
        **overrides
            Config fields and model options (e.g. ``dropout=0.0``, ``dtype="float64"``,
            ``backend="sparse"``) on top of the book's choices.

        Returns
        -------
        Recommender
            The preset of :data:`MODEL_PRESETS` (else the registry's default), the epochs of
            :meth:`epochs` for a model that has epochs, this settings' seed and, for a model
            with a ``verbose`` option, ``verbose=0``.
        """
        import dataclasses

        spec = registry.get_spec(name)
        fields = {f.name for f in dataclasses.fields(spec.config_class)}
        if "epochs" in fields and "epochs" not in overrides:
            epochs = self.epochs(spec.name)
            if epochs is not None:
                overrides["epochs"] = epochs
        if "verbose" in spec.options:
            overrides.setdefault("verbose", 0)
        return registry.make_model(spec.name, MODEL_PRESETS.get(spec.name), seed=self.seed,
                                   **overrides)

    def config(self, name: str, **overrides):
        """The configuration :meth:`make_model` gives ``name`` (a config dataclass)."""
        return self.make_model(name, **overrides).config

    @staticmethod
    def label(name: str) -> str:
        """Name of a model in the book's tables: its display name, with the preset the book
        shows when :data:`MODEL_PRESETS` names one (``"U-AutoRec (notebook)"``)."""
        spec = registry.get_spec(name)
        preset = MODEL_PRESETS.get(spec.name)
        return f"{spec.display_name} ({preset})" if preset else spec.display_name

    def load(self, dataset: str | None = None) -> pd.DataFrame:
        """Load the chosen dataset (or ``dataset``) as a ratings frame.

        Parameters
        ----------
        dataset : str, optional
            Another registered name, e.g. ``"synthetic"`` where a chapter needs Beauty's
            sparsity explicitly. Default: :attr:`dataset`.

        Returns
        -------
        pandas.DataFrame
            The ratings frame; ``attrs["synthetic"]`` is True for the stand-in.

        Raises
        ------
        recsys_ae.data.DataNotFoundError
            The real file is missing and cannot be downloaded; the message says which
            file, from where and into which folder.
        """
        name = dataset or self.dataset
        if name == "synthetic":
            df = data.load_dataset("synthetic", size=self.synthetic_size, seed=self.seed)
        else:
            df = data.load_dataset(name, data_dir=self.data_dir)
        df.attrs.setdefault("synthetic", name == "synthetic")
        return df


def _resolve_data_dir(value: str | None) -> Path | None:
    """A relative ``RECSYS_AE_DATA_DIR`` is read from the repository root when it exists there."""
    if not value:
        return None
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    from_root = (REPO_ROOT / path).resolve()
    return from_root if from_root.is_dir() else path.resolve()


def book_settings(environ: dict | None = None) -> BookSettings:
    """Read the book's settings from the environment (see the module docstring).

    Parameters
    ----------
    environ : mapping, optional
        Where to read the variables; default :data:`os.environ`. Tests pass a dict.

    Returns
    -------
    BookSettings
        Frozen; equal inputs give equal settings.

    Raises
    ------
    ValueError
        Unknown dataset (the message lists the valid names), unknown profile, or a
        synthetic size other than ``small``/``full``.
    """
    env = os.environ if environ is None else environ
    dataset = (env.get("RECSYS_AE_DATASET") or DEFAULT_DATASET).strip()
    if dataset not in data.DATASETS:
        raise ValueError(
            f"RECSYS_AE_DATASET={dataset!r} is not a known dataset; choose one of "
            f"{sorted(data.DATASETS)}"
        )
    profile_name = (env.get("RECSYS_AE_PROFILE") or "full").strip()
    if profile_name not in PROFILES:
        raise ValueError(
            f"RECSYS_AE_PROFILE={profile_name!r} is not a profile; choose one of {sorted(PROFILES)}"
        )
    profile = PROFILES[profile_name]
    size = (env.get("RECSYS_AE_SYNTHETIC_SIZE") or profile.synthetic_size).strip()
    if size not in ("small", "full"):
        raise ValueError(f"RECSYS_AE_SYNTHETIC_SIZE must be 'small' or 'full', not {size!r}")
    return BookSettings(
        dataset=dataset,
        profile=profile_name,
        seed=int(env.get("RECSYS_AE_SEED") or 0),
        synthetic_size=size,
        data_dir=_resolve_data_dir(env.get("RECSYS_AE_DATA_DIR")),
        _profile=profile,
    )


#: The banner's link to the book's page on choosing data (a MyST role: the banner is rendered as
#: MyST by the book, ``nb_render_markdown_format: myst`` in ``_config.yml``).
HOW_TO_RUN_LINK = "{doc}`How to run this book </book/how_to_run>`"


def data_banner(settings: BookSettings, dataset: str | None = None, *,
                section: bool | None = None) -> str:
    """The MyST admonition shown at the top of a page (or of a section) about its data.

    Parameters
    ----------
    settings : BookSettings
    dataset : str, optional
        The dataset the page (or section) uses, when it is not ``settings.dataset`` — e.g.
        ``"synthetic"`` for a section that needs Beauty's sparsity.
    section : bool, optional
        Whether the banner heads one section rather than the page: the synthetic warning then
        says "This section runs on ...", and that the section uses the stand-in whatever
        ``RECSYS_AE_DATASET`` says. Default: a section when ``dataset`` names another dataset
        than ``settings.dataset``.

    Returns
    -------
    str
        Markdown holding one MyST admonition. Real data: a ``note`` naming the dataset, its
        source and citation, and the profile. Synthetic data: a ``warning`` saying the page
        (or section) ran on a SYNTHETIC stand-in, that its numbers are not Amazon's, and how
        to get the real file (URL, folder, ``RECSYS_AE_DATA_DIR``). Both link to the page
        *How to run this book* (:data:`HOW_TO_RUN_LINK`). Contains no machine-specific path.
    """
    name = dataset or settings.dataset
    spec = data.DATASETS[name]
    if section is None:
        section = dataset is not None and dataset != settings.dataset
    profile = (
        "the **ci** profile (fewer epochs, smaller samples)"
        if settings.profile == "ci"
        else "the **full** profile (the seed notebook's sizes)"
    )
    if name == "synthetic":
        real = data.DATASETS[DEFAULT_DATASET]
        size = "20,000-rating" if settings.synthetic_size == "small" else "Beauty-sized"
        stand_in = (
            f"SYNTHETIC stand-in (`synthetic`, {size}, seed {settings.seed}), generated by "
            "`recsys_ae.data.synthetic_ratings` to have Amazon Beauty's shape: most users rate "
            "one item, ratings skewed to 5 stars. It is **not** real data: "
        )
        get_real = (
            f"download {real.url}, put `{real.file}` in the folder `{real.folder}/` inside your "
            "data folder, set `RECSYS_AE_DATA_DIR` to that data folder and "
            "`RECSYS_AE_DATASET=amazon-beauty` (the default)"
        )
        if section:
            return (
                "```{warning}\n"
                f"**SYNTHETIC DATA.** This section runs on a {stand_in}no number in this "
                "section is an Amazon number.\n\n"
                "It uses the stand-in whatever `RECSYS_AE_DATASET` says; the rest of the page "
                "uses the data named in the box at its top. To run the rest of the page on the "
                f"real file, {get_real}. This run used {profile}; see {HOW_TO_RUN_LINK}.\n"
                "```\n"
            )
        return (
            "```{warning}\n"
            f"**SYNTHETIC DATA.** This page ran on a {stand_in}no number below is an Amazon "
            "number.\n\n"
            f"To run this page on the real file, {get_real}. This run used {profile}; see "
            f"{HOW_TO_RUN_LINK}.\n"
            "```\n"
        )
    pretty = _PRETTY.get(name, name)
    return (
        "```{note}\n"
        f"**Data on this page:** {pretty} (`{name}`), real ratings, read by "
        f"`recsys_ae.data.load_dataset({name!r})`; this run used {profile}. "
        "Choose another dataset with the environment variable `RECSYS_AE_DATASET` "
        f"(see {HOW_TO_RUN_LINK}).\n\n"
        f"Source and citation: {spec.citation}\n"
        "```\n"
    )


def banner_markdown(dataset: str | None = None) -> str:
    """:func:`data_banner` for the current environment's settings."""
    return data_banner(book_settings(), dataset)
