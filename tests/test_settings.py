"""recsys_ae.chapters.settings: the one place that chooses the notebooks' data and sizes."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from recsys_ae import data
from recsys_ae.chapters.settings import (
    DEFAULT_DATASET,
    PROFILES,
    REPO_ROOT,
    banner_markdown,
    book_settings,
    data_banner,
)


def test_defaults_are_the_real_beauty_file_and_the_full_profile():
    s = book_settings({})
    assert s.dataset == DEFAULT_DATASET == "amazon-beauty"
    assert s.profile == "full"
    assert s.synthetic is False
    assert s.synthetic_size == "full"
    assert s.seed == 0
    assert s.data_dir is None
    assert s.epochs("u-autorec") == 20  # the student notebook's 20 epochs
    assert s.epochs("i-autorec") == 60  # the paper preset's
    assert s.epochs("anything-else") is None  # "the preset's": leave the config's epochs


def test_full_profile_uses_each_presets_own_epochs():
    from recsys_ae.chapters.settings import MODEL_PRESETS
    from recsys_ae.configs import AUTOREC_PRESETS as PRESETS

    full = book_settings({})
    assert set(PROFILES["full"].epochs_by_model.values()) == {None}
    for model, preset in MODEL_PRESETS.items():
        assert full.epochs(model) == PRESETS[preset].epochs
    assert dict(MODEL_PRESETS) == {"u-autorec": "notebook", "i-autorec": "paper"}


def test_ci_profile_is_smaller_but_the_same_data():
    full = book_settings({"RECSYS_AE_DATASET": "ml-100k"})
    ci = book_settings({"RECSYS_AE_DATASET": "ml-100k", "RECSYS_AE_PROFILE": "ci"})
    assert ci.dataset == full.dataset == "ml-100k"
    assert ci.profile == "ci"
    for model in ("u-autorec", "i-autorec"):
        assert 1 <= ci.epochs(model) < full.epochs(model)
    assert 1 <= ci.epochs("anything-else") <= 5
    # I-AutoRec gets enough epochs to beat the bias baseline on ML-100K u1 (measured: 0.927
    # after 25, tests/test_book_metrics.py); U-AutoRec only enough for a learning curve
    assert ci.epochs("i-autorec") == 25 and ci.epochs("u-autorec") == 3
    assert ci.timing_sample < full.timing_sample
    assert ci.synthetic_size == "small"


def test_synthetic_model_size_comes_from_the_profile():
    for name, profile in PROFILES.items():
        s = book_settings({"RECSYS_AE_PROFILE": name})
        assert s.synthetic_model_size == profile.synthetic_model_size == "small"
    # RECSYS_AE_SYNTHETIC_SIZE sizes the counted stand-in only, never the trained one
    s = book_settings({"RECSYS_AE_SYNTHETIC_SIZE": "full"})
    assert (s.synthetic_size, s.synthetic_model_size) == ("full", "small")


def test_synthetic_flag_and_size_override():
    s = book_settings({"RECSYS_AE_DATASET": "synthetic", "RECSYS_AE_SYNTHETIC_SIZE": "small"})
    assert s.synthetic is True
    assert s.synthetic_size == "small"


def test_settings_are_frozen_and_comparable():
    s = book_settings({"RECSYS_AE_DATASET": "ml-100k"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.dataset = "synthetic"
    assert s == book_settings({"RECSYS_AE_DATASET": "ml-100k"})


@pytest.mark.parametrize(
    "env, word",
    [
        ({"RECSYS_AE_DATASET": "beauty"}, "amazon-beauty"),  # the message lists valid names
        ({"RECSYS_AE_PROFILE": "fast"}, "ci"),
        ({"RECSYS_AE_SYNTHETIC_SIZE": "huge"}, "small"),
    ],
)
def test_bad_values_raise_with_the_valid_choices(env, word):
    with pytest.raises(ValueError, match=word):
        book_settings(env)


def test_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("RECSYS_AE_DATASET", "ml-latest-small")
    monkeypatch.setenv("RECSYS_AE_PROFILE", "ci")
    s = book_settings()
    assert (s.dataset, s.profile) == ("ml-latest-small", "ci")


def test_relative_data_dir_is_read_from_the_repository_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # e.g. a notebook running in notebooks/
    s = book_settings({"RECSYS_AE_DATA_DIR": "."})
    assert s.data_dir == REPO_ROOT
    absolute = book_settings({"RECSYS_AE_DATA_DIR": str(tmp_path)})
    assert absolute.data_dir == tmp_path


def test_load_reads_the_chosen_real_dataset(shared_data):
    s = book_settings({"RECSYS_AE_DATASET": "ml-100k", "RECSYS_AE_DATA_DIR": str(shared_data)})
    df = s.load()
    assert data.dataset_counts(df) == {"n_ratings": 100_000, "n_users": 943, "n_items": 1_682}
    assert df.attrs["synthetic"] is False


def test_load_synthetic_is_labelled_and_sized_by_the_profile():
    s = book_settings({"RECSYS_AE_DATASET": "synthetic", "RECSYS_AE_PROFILE": "ci"})
    df = s.load()
    assert df.attrs["synthetic"] is True
    assert len(df) == 20_000
    # an explicit other dataset on the same settings (chapter 1's stand-in section)
    assert s.load("synthetic").equals(df)


def test_missing_real_file_fails_loudly(tmp_path):
    s = book_settings({"RECSYS_AE_DATA_DIR": str(tmp_path)})
    with pytest.raises(data.DataNotFoundError):
        data.load_dataset(s.dataset, data_dir=s.data_dir, download=False)


def test_banner_for_real_data_is_a_note_naming_dataset_profile_and_citation():
    s = book_settings({"RECSYS_AE_DATASET": "ml-100k", "RECSYS_AE_PROFILE": "ci"})
    text = data_banner(s)
    assert text.startswith("```{note}") and text.rstrip().endswith("```")
    assert "MovieLens 100K" in text and "`ml-100k`" in text
    assert "Harper" in text and "**ci** profile" in text
    assert "SYNTHETIC" not in text


def test_banner_for_synthetic_data_warns_and_says_how_to_get_the_real_file():
    s = book_settings({"RECSYS_AE_DATASET": "synthetic"})
    text = data_banner(s)
    assert text.startswith("```{warning}")
    assert "SYNTHETIC" in text
    beauty = data.DATASETS["amazon-beauty"]
    assert beauty.url in text and beauty.file in text and f"{beauty.folder}/" in text
    assert "RECSYS_AE_DATA_DIR" in text
    assert "This page ran on" in text
    # a section can ask for the stand-in explicitly, whatever the page's dataset; its banner
    # then speaks of the section, not the page
    ml = book_settings({"RECSYS_AE_DATASET": "ml-100k"})
    assert data_banner(ml, "synthetic", section=False) == text
    section = data_banner(ml, "synthetic")
    assert section == data_banner(ml, "synthetic", section=True)
    assert section.startswith("```{warning}") and "This section runs on" in section
    assert "This page ran on" not in section and "no number in this section" in section
    assert beauty.url in section and beauty.file in section and "RECSYS_AE_DATA_DIR" in section


def test_synthetic_banner_does_not_call_the_stand_in_real():
    for profile in ("ci", "full"):
        s = book_settings({"RECSYS_AE_DATASET": "synthetic", "RECSYS_AE_PROFILE": profile})
        assert "but real" not in data_banner(s)


def test_banner_has_no_machine_specific_path(tmp_path):
    for name in ("ml-100k", "synthetic", "amazon-beauty"):
        s = book_settings({"RECSYS_AE_DATASET": name, "RECSYS_AE_DATA_DIR": str(tmp_path)})
        assert str(tmp_path) not in data_banner(s)
        assert str(Path.home()) not in data_banner(s)


def test_banner_markdown_uses_the_environment(monkeypatch):
    monkeypatch.setenv("RECSYS_AE_DATASET", "synthetic")
    assert "SYNTHETIC" in banner_markdown()


def test_every_profile_has_a_default_epoch_count():
    for profile in PROFILES.values():
        assert "default" in profile.epochs_by_model


def test_model_presets_are_checked_against_the_registry():
    from recsys_ae.chapters.settings import MODEL_PRESETS, _check_model_presets

    _check_model_presets(MODEL_PRESETS)
    with pytest.raises(ValueError, match="not a preset"):
        _check_model_presets({"u-autorec": "seed"})  # the old name is not a preset key
    with pytest.raises(ValueError, match="unknown model"):
        _check_model_presets({"v-autorec": "paper"})
    with pytest.raises(ValueError, match="registry name"):
        _check_model_presets({"U-AutoRec": "paper"})


def test_make_model_uses_the_registry_the_books_preset_and_the_profile():
    from recsys_ae.configs import AUTOREC_PRESETS

    ci = book_settings({"RECSYS_AE_DATASET": "ml-100k", "RECSYS_AE_PROFILE": "ci",
                        "RECSYS_AE_SEED": "4"})
    u = ci.make_model("u-autorec")
    assert u.config == dataclasses.replace(AUTOREC_PRESETS["notebook"], epochs=3)
    assert (u.kind, u.seed, u.verbose) == ("user", 4, 0)
    i = ci.make_model("I-AutoRec", dtype="float64")  # display names work too
    assert i.config == dataclasses.replace(AUTOREC_PRESETS["paper"], epochs=25, dtype="float64")
    assert ci.config("u-autorec", dropout=0.0).dropout == 0.0
    assert ci.make_model("bias").seed == 4
    assert book_settings({}).config("i-autorec").epochs == AUTOREC_PRESETS["paper"].epochs
    assert [ci.label(n) for n in ("u-autorec", "i-autorec", "bias", "global-mean")] == [
        "U-AutoRec (notebook)", "I-AutoRec (paper)", "user + item bias", "global mean"]


def test_importing_settings_installs_no_warnings_filter():
    """The filter is quiet_notebook()'s job, not a side effect of an import."""
    code = ("import warnings\n"
            "import numpy, pandas, scipy.sparse  # third-party imports add their own filters\n"
            "before = list(warnings.filters)\n"
            "import recsys_ae, recsys_ae.data, recsys_ae.chapters.settings as s\n"
            "assert warnings.filters == before, 'importing changed warnings.filters'\n"
            "from recsys_ae.chapters import quiet_notebook\n"
            "assert s.quiet_notebook is quiet_notebook\n"
            "quiet_notebook()\n"
            "assert [f[1].pattern for f in warnings.filters if f not in before] == "
            "['IProgress not found']\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent)


def test_repo_root_is_the_repository():
    assert (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "notebooks").is_dir()
