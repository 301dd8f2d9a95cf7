"""Command line: ``python -m recsys_ae train | recommend | tune | results``.

``train`` loads a dataset (or your own file: ``--ratings PATH [--test PATH]``),
cleans, filters and splits it, trains a rating model of the registry (AutoRec by
default) and prints its test RMSE and MAE next to the global-mean and bias
baselines on the same split. ``--json`` adds the same as one JSON object on the
last line; ``--save PATH`` keeps the trained model (:mod:`recsys_ae.persist`).

Nothing is silent and no work is lost: every argument is checked before any
data is read (an error names the option), the save path is checked before
training, the loader's decisions (header, rating scale, fixes) are printed to
stderr unless ``--quiet``, and Ctrl-C during training exits with one line
(status 130), saving the weights reached so far with ``--save`` (marked
interrupted). Errors are one line and exit with status 1 (2 for arguments).

``recommend --model PATH --user ID -k 10`` prints a saved model's top-k items
for a user, excluding items the user rated in training; an unknown user gets a
message and the most-rated items (popularity fallback).

``results [--quick] [--out results.csv]`` prints (and writes) the results
table of :func:`recsys_ae.results.results_table`.
"""

from __future__ import annotations

import argparse
import json
import sys

from recsys_ae import __version__

__all__ = ["main", "build_parser", "format_table"]


class _OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m recsys_ae``."""
    from recsys_ae.configs import AUTOREC_PRESETS, PRESET_ALIASES
    from recsys_ae.data import DATASETS
    from recsys_ae.registry import model_names

    parser = _OneLineParser(
        prog="python -m recsys_ae", allow_abbrev=False,
        description="Autoencoders for collaborative filtering on explicit ratings.")
    parser.add_argument("--version", action="version", version=f"recsys_ae {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    train = sub.add_parser(
        "train", allow_abbrev=False, help="train and evaluate a model (AutoRec by default) "
                                          "against baselines",
        description="Load a dataset, filter and split it, train a model, and print "
                    "its test RMSE/MAE next to the global-mean and user+item bias baselines "
                    "on the same split.")
    train.add_argument("--dataset", default=None, choices=sorted(DATASETS),
                       metavar="NAME",
                       help="dataset: %(choices)s (default: amazon-beauty, the seed notebook's "
                            "ratings_Beauty.csv; 'synthetic' is a generated Beauty-shaped "
                            "stand-in that works offline)")
    train.add_argument("--ratings", default=None, metavar="PATH", type=_existing_file,
                       help="train on your own ratings file instead of --dataset (any file "
                            "recsys_ae.data.load_ratings reads: user,item,rating[,timestamp], "
                            "comma, tab or MovieLens separated); without --test it gets the "
                            "seeded random 80/20 split, and no filter unless --filter")
    train.add_argument("--test", default=None, metavar="PATH", type=_existing_file,
                       help="with --ratings: a test file, used as it is (no split, no filter) "
                            "and read on the training file's rating scale")
    train.add_argument("--rating-scale", default=None, nargs="+", metavar="X",
                       type=_number,
                       help="with --ratings: the scale MIN MAX [STEP] (e.g. 1 5 1); a rating "
                            "outside it is an error naming its line (default: inferred and "
                            "printed)")
    train.add_argument("--first-columns", default=None, type=_positive_int, metavar="N",
                       help="keep only the first N columns of each line (a spreadsheet-edited "
                            "copy with an extra column); the dropped values are counted")
    train.add_argument("--repair-asins", action="store_true",
                       help="Amazon 2014 files: zero-pad ASINs whose leading zeros a "
                            "spreadsheet stripped (counted and reported)")
    train.add_argument("--model", default=None, choices=model_names("rating"),
                       help="i-autorec (rows are items), u-autorec (rows are users, as in "
                            "the student notebook), or a baseline: biased-mf, bias, "
                            "global-mean (default: i-autorec, or the model of --config)")
    train.add_argument("--config", default=None, metavar="FILE", type=_existing_file,
                       help="AutoRec configuration from a JSON file written by 'tune "
                            "--config-out FILE' (instead of --preset)")
    train.add_argument("--budget-minutes", default=None, type=_positive_float,
                       metavar="MIN",
                       help="with --preset auto: time budget of the search, which sets its "
                            "epochs (default: 10)")
    train.add_argument("--preset", default=None,
                       choices=[*AUTOREC_PRESETS, "auto", "default", *PRESET_ALIASES],
                       help="AutoRec hyperparameters: 'paper' (Sedhain et al. 2015: 500 "
                            "sigmoid units, L2, Adam; the default) or 'notebook' (the student "
                            "notebook's 700 tanh units, dropout 0.7, SGD 0.08 with momentum "
                            "0.9; formerly 'seed'); 'tuned' (for I-AutoRec) / 'tuned-user' "
                            "(for U-AutoRec), chosen on a validation split of ML-100K u1.base; "
                            "'auto': search the configuration on a validation part of this "
                            "data's training ratings (printed, one line per configuration), "
                            "then refit on all of them (states its time; refuses searches of "
                            "hours). Baselines have one preset, 'default'")
    train.add_argument("--epochs", type=_positive_int, default=None,
                       help="training epochs (default: the preset's)")
    train.add_argument("--seed", type=_seed, default=0,
                       help="the one seed for the split, initialisation, dropout and batch "
                            "order (default: %(default)s)")
    train.add_argument("--split", default=None,
                       choices=("random", "per-user", "u1", "u2", "u3", "u4", "u5"),
                       help="random 80/20 split of ratings (the seed's), a per-user 80/20 "
                            "holdout, or MovieLens 100K's canonical uN split (default: u1 for "
                            "ml-100k, random otherwise)")
    train.add_argument("--filter", default=None, type=_filter_name,
                       help="'one-pass' (users with >1 item, then items with >1 user, each "
                            "counted once: the student notebook's rule), 'none', or 'kcore-K' "
                            "(default: one-pass for Amazon and synthetic, none for MovieLens)")
    train.add_argument("--size", default="small", choices=("small", "full"),
                       help="size of the synthetic stand-in: small (tens of thousands of "
                            "ratings) or full (the seed's 2,023,070) (default: %(default)s)")
    train.add_argument("--data-dir", default=None,
                       help="dataset folder laid out <dir>/<dataset>/<file> (default: "
                            "$RECSYS_AE_DATA_DIR, else the user cache)")
    train.add_argument("--no-download", action="store_true",
                       help="never download; fail with instructions if a file is missing")
    train.add_argument("--json", action="store_true",
                       help="also print the results as one JSON object on the last line")
    train.add_argument("--quiet", action="store_true",
                       help="print no per-epoch progress (a Keras progress bar on a "
                            "terminal, one line per epoch when piped)")
    train.add_argument("--backend", default="auto", choices=("auto", "sparse", "dense"),
                       help="AutoRec's training backend: 'sparse' computes only at observed "
                            "ratings (cost grows with ratings, not items), 'dense' is the "
                            "student notebook's Keras formulation (every batch densified); "
                            "'auto' picks sparse for matrices under 1%% full, such as Amazon "
                            "Beauty, and dense otherwise, such as MovieLens 100K "
                            "(default: %(default)s)")
    train.add_argument("--path", dest="backend_alias", default=None,
                       choices=("auto", "sparse", "dense"), help=argparse.SUPPRESS)
    train.add_argument("--objective", default="auto",
                       choices=("auto", "exact", "lazy", "fast", "seed"),
                       help="sparse backend only: 'lazy' applies L2 and momentum/Adam to the "
                            "rows a batch touches; 'exact' keeps the student notebook's exact "
                            "objective (L2 on all weights, full momentum; exact and cheap with "
                            "SGD, slow with Adam); 'auto' is 'exact' for SGD and 'lazy' for "
                            "Adam ('fast' and 'seed' are their former names) "
                            "(default: %(default)s)")
    train.add_argument("--save", default=None, metavar="PATH",
                       help="save the trained model to the folder PATH (Keras file + JSON "
                            "sidecar + training matrix), for 'recommend'; checked before "
                            "training; Ctrl-C saves the weights reached so far")
    train.add_argument("--overwrite", action="store_true",
                       help="with --save: replace a model already saved at PATH")

    rec = sub.add_parser(
        "recommend", allow_abbrev=False, help="top-k items for a user from a saved model",
        description="Print the top-k items for a user from a model saved with "
                    "'train --save', excluding the items the user rated in training. An "
                    "unknown user gets the k most-rated items (popularity fallback).")
    rec.add_argument("--model", required=True, metavar="PATH", help="folder written by --save")
    rec.add_argument("--user", required=True, metavar="ID", help="user ID as in the data")
    rec.add_argument("-k", type=_positive_int, default=10, help="list length (default: 10)")
    rec.add_argument("--json", action="store_true", help="print the list as JSON")

    tune = sub.add_parser(
        "tune", allow_abbrev=False,
        help="choose AutoRec's configuration on validation ratings (never reads a test part)",
        description="With --dataset or --ratings: the automatic search "
                    "(recsys_ae.tuning.auto_search) on a 10% validation part of the "
                    "training ratings of that data (its test part is never read), one line "
                    "per configuration, then the table; --config-out FILE keeps the chosen "
                    "configuration for 'train --config FILE'. Without them: the grid behind "
                    "the 'tuned' presets (recsys_ae.tuning.TUNING_GRID) on MovieLens 100K "
                    "u1.base minus a 10% validation split (u1.test never read).")
    tune.add_argument("--model", default="i-autorec", choices=("i-autorec", "u-autorec"),
                      help="which model (default: %(default)s)")
    tune.add_argument("--dataset", default=None, choices=sorted(DATASETS), metavar="NAME",
                      help="search on this dataset's training part (split as 'train' does)")
    tune.add_argument("--ratings", default=None, metavar="PATH", type=_existing_file,
                      help="search on your own ratings file: on the training part of its "
                           "seeded 80/20 split, or on all of it with --no-split (when you "
                           "keep a test file apart)")
    tune.add_argument("--no-split", action="store_true",
                      help="with --ratings: the file is all training ratings (use it with "
                           "'train --ratings PATH --test TEST --config FILE')")
    tune.add_argument("--rating-scale", default=None, nargs="+", metavar="X", type=_number,
                      help="with --ratings: the scale MIN MAX [STEP]")
    tune.add_argument("--split", default=None,
                      choices=("random", "per-user", "u1", "u2", "u3", "u4", "u5"),
                      help="as in 'train' (default: u1 for ml-100k, random otherwise)")
    tune.add_argument("--filter", default=None, type=_filter_name, help="as in 'train'")
    tune.add_argument("--seed", type=_seed, default=0,
                      help="seed of the split, the validation part and the models "
                           "(default: 0)")
    tune.add_argument("--budget-minutes", default=None, type=_positive_float, metavar="MIN",
                      help="time budget of the search, which sets its epochs (default: 10)")
    tune.add_argument("--config-out", default=None, metavar="FILE",
                      help="write the chosen configuration as JSON, for 'train --config FILE'")
    tune.add_argument("--seeds", type=_seed, nargs="+", default=[0], metavar="SEED",
                      help="without --dataset/--ratings: model seeds per configuration "
                           "(default: 0)")
    tune.add_argument("--out", default=None, metavar="CSV", help="also write the table as CSV")
    tune.add_argument("--data-dir", default=None,
                      help="dataset folder (default: $RECSYS_AE_DATA_DIR, else the user cache)")

    res = sub.add_parser(
        "results", allow_abbrev=False,
        help="the evaluation results table (RMSE, top-N, activity, cost)",
        description="Run every evaluation of the book's evaluation chapter and print one "
                    "table (dataset, split, model, metric, value, std, seeds). Without "
                    "--quick this takes several minutes on two CPU cores.")
    res.add_argument("--quick", action="store_true",
                     help="one seed, fold u1 only, few AutoRec epochs (a smoke run; its "
                          "AutoRec numbers are not the reported ones)")
    res.add_argument("--out", default=None, metavar="CSV", help="also write the table as CSV")
    res.add_argument("--data-dir", default=None,
                     help="dataset folder (default: $RECSYS_AE_DATA_DIR, else the user cache)")
    return parser


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to {2**32 - 1} (2**32 - 1), got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _existing_file(text: str) -> str:
    from pathlib import Path

    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    return text


def _filter_name(text: str) -> str:
    if text in ("one-pass", "none", "seed"):
        return text
    if text.startswith("kcore-") and text[6:].isdigit() and int(text[6:]) >= 1:
        return text
    raise argparse.ArgumentTypeError(
        f"expected 'one-pass', 'none' or 'kcore-K' with K a positive integer, got {text!r}")


def _check_train_args(parser, args) -> None:
    """Checks across options, before any data is read (errors name the option)."""
    from recsys_ae.persist import check_save_path

    fail = parser.error
    if args.ratings is not None and args.dataset is not None:
        fail("argument --ratings: not allowed with --dataset (one source of ratings)")
    if args.test is not None and args.ratings is None:
        fail("argument --test: needs --ratings (the training file)")
    if args.ratings is None:
        args.dataset = args.dataset or "amazon-beauty"
        for flag, value in (("--rating-scale", args.rating_scale),):
            if value is not None:
                fail(f"argument {flag}: applies to --ratings files; dataset {args.dataset!r} "
                     "is read with its known scale")
    if args.dataset == "synthetic" and (args.first_columns or args.repair_asins):
        fail("argument --first-columns/--repair-asins: apply to files, not to 'synthetic'")
    if args.rating_scale is not None:
        scale = args.rating_scale
        if len(scale) not in (2, 3) or scale[0] > scale[1] or (len(scale) == 3
                                                                and scale[2] <= 0):
            fail(f"argument --rating-scale: expected MIN MAX [STEP] with MIN <= MAX and "
                 f"STEP > 0, got {' '.join(f'{v:g}' for v in scale)}")
    split = args.split
    if split and split.startswith("u") and args.dataset != "ml-100k":
        fail(f"argument --split: {split} is MovieLens 100K's canonical split; use random "
             "or per-user")
    if args.test is not None and split is not None:
        fail("argument --split: not allowed with --test (the test file is the split)")
    if args.test is not None and args.filter not in (None, "none"):
        fail("argument --filter: not allowed with --test (a test file is used as it is)")
    import dataclasses

    from recsys_ae.registry import get_spec

    if args.config is not None:
        from recsys_ae.tuning import load_config

        if args.preset is not None:
            fail("argument --config: not allowed with --preset (the file is the configuration)")
        try:
            file_model, args.config_value = load_config(args.config)
        except ValueError as err:
            fail(f"argument --config: {err}")
        if args.model is not None and get_spec(args.model).name != file_model:
            fail(f"argument --model: {args.model} differs from the model of --config "
                 f"({file_model})")
        args.model = file_model
    args.model = args.model or "i-autorec"
    if args.preset == "auto" and get_spec(args.model).config_class.__name__ != "AutoRecConfig":
        fail(f"argument --preset: 'auto' searches AutoRec's configuration, not {args.model}'s")
    if args.budget_minutes is not None and args.preset != "auto":
        fail("argument --budget-minutes: needs --preset auto")
    spec = get_spec(args.model)
    if args.epochs is not None and "epochs" not in {
            f.name for f in dataclasses.fields(spec.config_class)}:
        fail(f"argument --epochs: {spec.name} is not trained in epochs")
    if args.save and not spec.can_save:
        fail(f"argument --save: keeps AutoRec models only, not {spec.name}")
    if args.overwrite and not args.save:
        fail("argument --overwrite: needs --save")
    if args.save:
        try:
            check_save_path(args.save, overwrite=args.overwrite)
        except OSError as err:
            fail(f"argument --save: {err}")


class _NoteHandler:
    """Prints the loader's notes (logger ``recsys_ae.data``, INFO) to stderr."""

    def __init__(self):
        import logging

        class Handler(logging.Handler):
            def emit(self, record):
                print(f"recsys_ae: note: {record.getMessage()}", file=sys.stderr)

        self.logger = logging.getLogger("recsys_ae.data")
        self.handler = Handler(logging.INFO)
        self.level = self.logger.level

    def __enter__(self):
        import logging

        self.logger.addHandler(self.handler)
        if self.logger.getEffectiveLevel() > logging.INFO:
            self.logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


def _one_line_warnings():
    """DataQualityWarning and other warnings as one stderr line each (no source line)."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"recsys_ae: warning: {message}", file=sys.stderr)

    warnings.showwarning = show


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _model_label(result: dict) -> str:
    if result.get("backend") is None:
        return f"{result['model']} ({result['preset']})"
    backend = result["backend"]
    if backend == "sparse":
        backend = f"sparse/{result.get('objective')}"
    return f"{result['model']} ({result['preset']}, {result['epochs']} ep, {backend})"


#: Config fields shown for a searched configuration.
_SEARCHED = ("input", "lam", "dropout", "hidden_units", "learning_rate", "epochs")


def format_table(result: dict) -> str:
    """A small human-readable report of :func:`recsys_ae.experiment.run`'s result."""
    tag = "  [SYNTHETIC stand-in, not real ratings]" if result["synthetic"] else ""
    raw = result["raw"]
    lines = [
        f"dataset   {result['dataset']}{tag}",
        f"  loaded  {raw['n_ratings']:,} ratings, {raw['n_users']:,} users, "
        f"{raw['n_items']:,} items",
        f"  used    {result['n_ratings']:,} ratings, {result['n_users']:,} users, "
        f"{result['n_items']:,} items (duplicates merged: {result['duplicates_merged']:,}; "
        f"removed by filter: {result['filter_removed']:,})",
        f"split     {result['split']}: train {result['n_train']:,}, test {result['n_test']:,} "
        f"(cold-start test ratings: {result['n_test_cold']:,}, given the model's fallback: "
        "mean + known user or item bias)",
        "",
        f"{'model':<36}{'test RMSE':>10}{'test MAE':>10}",
        f"{_model_label(result):<36}{result['test_rmse']:>10.4f}{result['test_mae']:>10.4f}",
    ]
    for key, label in (("biased_mf", "biased MF (default)"), ("bias", "user + item bias"),
                       ("global_mean", "global mean")):
        b = result["baselines"].get(key)
        if b is not None and label.split(" (")[0] != result["model"]:  # not the model again
            lines.append(f"{label:<36}{b['rmse']:>10.4f}{b['mae']:>10.4f}")
    search = result.get("search")
    if search:
        info = search["search"]
        lines.append(f"\nsearch    {info['n_configurations']} configurations on "
                     f"{info['n_validation']:,} validation ratings carved from the training "
                     f"part ({info['seconds']:.0f} s); chosen: "
                     + ", ".join(f"{k}={search['config'][k]}" for k in _SEARCHED))
    lines.append(f"\ntime      {result['seconds']:.1f} s (seed {result['seed']})")
    return "\n".join(lines)


def _recommend(args, prog: str) -> int:
    from recsys_ae.persist import load_model

    try:
        model = load_model(args.model)
    except (FileNotFoundError, ValueError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    if getattr(model, "interrupted_", False):
        print(f"recsys_ae: note: training of {args.model} was interrupted (Ctrl-C); its "
              "weights are those reached so far, not a finished model", file=sys.stderr)
    top = model.recommend(args.user, args.k)
    known = top.attrs["known_user"]
    if args.json:
        print(json.dumps({"user": args.user, "known_user": known,
                          "items": top["item"].tolist(), "scores": top["score"].tolist()}))
        return 0
    if known:
        print(f"top {len(top)} for user {args.user} ({model.name}, predicted rating before "
              "clipping to the scale; items rated in training excluded)")
    else:
        print(f"user {args.user!r} has no training ratings in this model: showing the "
              f"{len(top)} most-rated items instead (popularity fallback)")
    label = "predicted" if known else "n_ratings"
    print(f"{'rank':>4}  {'item':<12}{label:>10}")
    for rank, item, score in top.itertuples(index=False):
        print(f"{rank:>4}  {item:<12}{score:>10.3f}" if known
              else f"{rank:>4}  {item:<12}{int(score):>10d}")
    return 0


def _results(args) -> int:
    from recsys_ae.results import results_table, summarise

    table = results_table(quick=args.quick, data_dir=args.data_dir)
    print(summarise(table))
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {len(table)} rows to {args.out}")
    return 0


def _tune(args) -> int:
    if args.dataset is not None or args.ratings is not None:
        return _tune_auto(args)
    from recsys_ae.tuning import TUNING_GRID, validation_search

    name = {"i-autorec": "I-AutoRec", "u-autorec": "U-AutoRec"}[args.model]
    n_runs = len(TUNING_GRID[name][1]) * len(args.seeds)
    print(f"recsys_ae: training {name} {n_runs} times on ml-100k u1.base minus its validation "
          f"split; the table follows", file=sys.stderr)
    table = validation_search(name, seeds=tuple(args.seeds), data_dir=args.data_dir)
    shown = table[["preset", "overrides", "seed", "epochs", "val_rmse", "val_mae"]].copy()
    shown["seconds"] = table["seconds"].map(lambda v: f"{v:.1f}")
    best = table.groupby("overrides", sort=False)["val_rmse"].mean().idxmin()
    shown["best"] = (table["overrides"] == best).map({True: "<- lowest", False: ""})
    print(f"{name}: {table['n_validation'].iloc[0]:,} validation ratings, a random 10% of "
          f"ml-100k u1.base (u1.test not read); lower val_rmse is better")
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {len(table)} rows to {args.out}")
    return 0


def format_search(search) -> str:
    """The table of an :class:`recsys_ae.tuning.AutoSearch`, lowest validation RMSE marked."""
    table = search.table
    shown = table[["step", "field", "input", "lam", "dropout", "hidden_units",
                   "learning_rate", "epochs", "best_epoch", "val_rmse", "val_mae"]].copy()
    shown["seconds"] = table["seconds"].map(lambda v: f"{v:.0f}")
    shown["chosen"] = table["chosen"].map({True: "<- chosen", False: ""})
    b = search.baselines
    head = (f"{search.model}: {search.n_validation:,} validation ratings carved from "
            f"{search.n_fit + search.n_validation:,} training ratings (seed {search.seed}); "
            f"validation RMSE of the bias baseline {b['bias']['rmse']:.4f}, biased MF "
            f"{b['biased_mf']['rmse']:.4f}; lower is better")
    return head + "\n" + shown.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def _tune_auto(args) -> int:
    """``tune --dataset NAME | --ratings PATH``: the automatic search on the training part."""
    from recsys_ae import data, experiment, tuning

    if args.ratings is not None and args.dataset is not None:
        print("python -m recsys_ae tune: error: argument --ratings: not allowed with "
              "--dataset", file=sys.stderr)
        return 2
    say = lambda line: print(f"recsys_ae: {line}", file=sys.stderr, flush=True)  # noqa: E731
    kwargs = {}
    if args.rating_scale is not None:
        kwargs["rating_scale"] = tuple(args.rating_scale)
    if args.ratings is not None and args.no_split:
        train = data.load_ratings(args.ratings, **kwargs)
        from recsys_ae import preprocess

        train, _ = preprocess.deduplicate(train)
        label = args.ratings
    else:
        label = args.ratings or args.dataset
        if args.ratings is not None:
            kwargs["ratings"] = args.ratings
        prepared = experiment.prepare(label, seed=args.seed, filter=args.filter,
                                      split=args.split, data_dir=args.data_dir, **kwargs)
        train = prepared.split.train  # the test part is not used
        say(f"{label}: searching on the training part of split {prepared.split.name!r} "
            f"({len(train):,} ratings); its test part is not used")
    budget = 60.0 * (args.budget_minutes or tuning.AUTO_BUDGET_SECONDS / 60.0)
    search = tuning.auto_search(train, args.model, seed=args.seed, budget_seconds=budget,
                                progress=say)
    print(format_search(search))
    chosen = {k: getattr(search.config, k) for k in _SEARCHED}
    print("chosen    " + ", ".join(f"{k}={v}" for k, v in chosen.items())
          + f" (validation RMSE {search.val_rmse:.4f}; search {search.seconds:.0f} s)")
    if args.config_out:
        print(f"wrote     {tuning.save_config(args.config_out, search)} (use: python -m "
              f"recsys_ae train ... --config {args.config_out})")
    if args.out:
        search.table.to_csv(args.out, index=False)
        print(f"wrote {len(search.table)} rows to {args.out}")
    return 0


def _verbosity(quiet: bool) -> int:
    """Keras verbosity: nothing with --quiet, the live progress bar on a terminal,
    one line per epoch when the output goes to a file or a pipe."""
    if quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2


def main(argv=None) -> int:
    """Entry point; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "recommend":
        return _recommend(args, parser.prog)
    from recsys_ae.data import DataNotFoundError

    # one TensorFlow thread per operation, before TensorFlow starts: the sparse step is
    # 1.4-1.6x faster and the small dense models no slower (TF_NUM_INTRAOP_THREADS, if set,
    # wins); see recsys_ae.sparse.set_op_threads
    from recsys_ae.sparse import set_op_threads

    set_op_threads(warn=False)
    if args.command in ("results", "tune"):
        try:
            return _results(args) if args.command == "results" else _tune(args)
        except DataNotFoundError as err:
            print(f"{parser.prog}: error: {err}", file=sys.stderr)
            return 1
    _check_train_args(parser, args)
    try:
        return _train(args, parser.prog)
    except KeyboardInterrupt:  # outside training (loading, saving): nothing kept
        print(f"{parser.prog}: interrupted (Ctrl-C); nothing saved",
              file=sys.stderr)
        return 130


def _train(args, prog: str) -> int:
    from recsys_ae.configs import PRESET_ALIASES
    from recsys_ae.data import DataNotFoundError
    from recsys_ae.experiment import run
    from recsys_ae.registry import MODELS, get_spec

    parser_prog = prog
    if args.ratings is not None:
        kwargs = {"ratings": args.ratings, "test": args.test}
        if args.rating_scale is not None:
            kwargs["rating_scale"] = tuple(args.rating_scale)
        label = args.ratings
    else:
        kwargs = {"size": args.size} if args.dataset == "synthetic" else {}
        label = args.dataset
    if args.first_columns is not None:
        kwargs["first_columns"] = args.first_columns
    if args.repair_asins:
        kwargs["repair_asins"] = True
    spec = get_spec(args.model)
    for old, new, flag in ((args.preset, PRESET_ALIASES.get(args.preset), "--preset"),
                           (args.objective, {"fast": "lazy", "seed": "exact"}.get(
                               args.objective), "--objective")):
        if new:
            print(f"recsys_ae: note: {flag} {old!r} is now called {new!r}", file=sys.stderr)
    preset = PRESET_ALIASES.get(args.preset, args.preset)
    objective = {"fast": "lazy", "seed": "exact"}.get(args.objective, args.objective)
    backend = args.backend
    if args.backend_alias is not None:
        print("recsys_ae: note: --path is now called --backend", file=sys.stderr)
        backend = args.backend_alias
    if preset is not None and preset != "auto" and preset not in spec.presets:
        print(f"{parser_prog}: error: argument --preset: {spec.name} has no preset "
              f"{preset!r}; choose one of {', '.join(spec.presets)}", file=sys.stderr)
        return 2
    if args.save and not spec.can_save:
        print(f"{parser_prog}: error: argument --save: keeps AutoRec models only, not "
              f"{spec.name}", file=sys.stderr)
        return 2
    owner = next((s.name for s in MODELS.values() if s.recommended_preset == preset
                  and s.recommended_preset != s.default_preset), None)
    if owner and owner != spec.name:
        print(f"recsys_ae: note: preset {preset!r} was chosen for {owner}, not {spec.name}; "
              f"for {spec.name} use {spec.recommended_preset}", file=sys.stderr)
    config = getattr(args, "config_value", None)
    if not args.quiet:
        what = (f"the configuration of {args.config}" if config is not None else
                f"{preset or spec.default_preset} preset")
        print(f"recsys_ae: loading {label}, then training {spec.name} "
              f"({what}); results follow training", file=sys.stderr)
    search_kwargs = {}
    if preset == "auto":
        search_kwargs = {"progress": lambda line: print(f"recsys_ae: {line}", file=sys.stderr),
                         "budget_seconds": 60.0 * (args.budget_minutes or 10.0),
                         "max_search_seconds": _auto_max_seconds()}
    import contextlib
    import warnings

    notes = contextlib.nullcontext() if args.quiet else _NoteHandler()
    try:
        with notes, warnings.catch_warnings():
            _one_line_warnings()
            result, model = run(
                label, spec.name, preset=preset, epochs=args.epochs,
                seed=args.seed, filter=args.filter, split=args.split, data_dir=args.data_dir,
                download=not args.no_download, verbose=_verbosity(args.quiet),
                backend=backend, objective=objective, return_model=True, config=config,
                **search_kwargs, **kwargs)
    except KeyboardInterrupt as stop:
        return _interrupted(args, prog, getattr(stop, "model", None))
    except _search_too_long() as err:
        print(f"{parser_prog}: error: {err}; instead run the search apart, e.g. overnight: "
              f"{_tune_command(args)}, then train with --config FILE, or train a preset now: "
              f"{_train_command(args)} --preset paper", file=sys.stderr)
        return 1
    except DataNotFoundError as err:
        print(f"{parser_prog}: error: {err}", file=sys.stderr)
        return 1
    except (ValueError, MemoryError) as err:
        print(f"{parser_prog}: error: {err}", file=sys.stderr)
        return 1
    print(format_table(result))
    if args.save:
        from recsys_ae.persist import save_model

        try:
            print(f"saved     {save_model(model, args.save, overwrite=args.overwrite)}")
        except OSError as err:
            print(f"{parser_prog}: error: the model was trained but not saved: {err}",
                  file=sys.stderr)
            return 1
    if args.json:
        result = {k: v for k, v in result.items() if k != "history"}
        print(json.dumps(result))
    return 0


def _auto_max_seconds() -> float:
    from recsys_ae.tuning import AUTO_MAX_SECONDS

    return AUTO_MAX_SECONDS


def _search_too_long():
    from recsys_ae.tuning import SearchTooLong

    return SearchTooLong


def _data_args(args) -> str:
    """The data options of a train/tune command line, for a suggested command."""
    import shlex

    parts = []
    if args.ratings is not None:
        parts += ["--ratings", shlex.quote(args.ratings)]
    elif args.dataset is not None:
        parts += ["--dataset", args.dataset]
    for flag, value in (("--split", args.split), ("--filter", args.filter)):
        if value is not None:
            parts += [flag, value]
    if args.seed:
        parts += ["--seed", str(args.seed)]
    return " ".join(parts)


def _tune_command(args) -> str:
    return (f"python -m recsys_ae tune --model {args.model} {_data_args(args)} "
            "--budget-minutes 600 --config-out config.json")


def _train_command(args) -> str:
    test = f" --test {args.test}" if getattr(args, "test", None) else ""
    return f"python -m recsys_ae train --model {args.model} {_data_args(args)}{test}"


def _interrupted(args, prog: str, model) -> int:
    """Ctrl-C during ``train``: one line, exit status 130; with ``--save`` keep the
    weights reached so far, marked interrupted."""
    if model is None:
        print(f"{prog}: interrupted (Ctrl-C) before training started; nothing saved",
              file=sys.stderr)
        return 130
    if not args.save:
        print(f"{prog}: interrupted (Ctrl-C) during training; nothing saved (use --save "
              "PATH to keep the weights reached so far)", file=sys.stderr)
        return 130
    from recsys_ae.persist import save_model

    try:
        folder = save_model(model, args.save, overwrite=args.overwrite, interrupted=True)
    except (ValueError, OSError) as err:
        print(f"{prog}: interrupted (Ctrl-C) during training; the weights could not be "
              f"saved: {err}", file=sys.stderr)
        return 130
    print(f"{prog}: interrupted (Ctrl-C) during training; the weights reached so far are "
          f"saved to {folder}, marked interrupted", file=sys.stderr)
    return 130
