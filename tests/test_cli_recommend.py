"""``python -m recsys_ae train --save`` then ``recommend`` (and the preset list of the CLI)."""

import pytest

from recsys_ae import cli


def test_cli_presets_are_the_registry_presets_and_the_old_name():
    from recsys_ae.registry import MODELS

    choices = next(a.choices for a in cli.build_parser()._subparsers._group_actions[0]
                   .choices["train"]._actions if a.dest == "preset")
    every = {p for spec in MODELS.values() for p in spec.presets}
    assert set(choices) == every | {"seed", "auto"}  # auto: the validation search


@pytest.mark.slow
def test_train_save_then_recommend(shared_data, tmp_path, capsys):
    from recsys_ae.data import load_canonical_split

    path = tmp_path / "model"
    assert cli.main(["train", "--dataset", "ml-100k", "--split", "u1", "--epochs", "1",
                     "--quiet", "--save", str(path)]) == 0
    assert (path / "model.keras").is_file()
    capsys.readouterr()
    train, _ = load_canonical_split("ml-100k", 1)

    assert cli.main(["recommend", "--model", str(path), "--user", "1", "-k", "10"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("top 10 for user 1")
    items = [line.split()[1] for line in lines[2:]]
    assert len(items) == 10
    rated = set(train.loc[train["user"] == "1", "item"])
    assert not rated & set(items)

    assert cli.main(["recommend", "--model", str(path), "--user", "no-such-user", "-k", "3"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "no training ratings" in out[0] and "popularity fallback" in out[0]
    most_rated = train["item"].value_counts()
    assert [line.split()[1] for line in out[2:]] == most_rated.index[:3].tolist()
    assert [int(line.split()[2]) for line in out[2:]] == most_rated.iloc[:3].tolist()


def test_recommend_with_a_missing_model_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["recommend", "--model", str(tmp_path / "none"), "--user", "1"]) == 1
    assert "error" in capsys.readouterr().err


def test_results_subcommand_parses_its_options():
    args = cli.build_parser().parse_args(["results", "--quick", "--out", "r.csv"])
    assert args.command == "results" and args.quick and args.out == "r.csv"


def test_a_preset_tuned_for_the_other_model_gets_a_note(shared_data, capsys):
    assert cli.main(["train", "--dataset", "ml-100k", "--model", "u-autorec", "--preset",
                     "tuned", "--epochs", "1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "preset 'tuned' was chosen for i-autorec" in err and "use tuned-user" in err
    assert cli.main(["train", "--dataset", "ml-100k", "--preset", "tuned", "--epochs", "1",
                     "--quiet"]) == 0
    assert "was chosen for" not in capsys.readouterr().err
