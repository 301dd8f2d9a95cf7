"""Command line: ``python -m recsys_ae train ...``.

Loads a dataset, cleans, filters and splits it, trains an AutoRec model and
prints its test RMSE and MAE next to the global-mean and bias baselines on the
same split. ``--json`` adds the same as one JSON object on the last line.
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
    from recsys_ae.data import DATASETS
    from recsys_ae.experiment import MODELS

    parser = _OneLineParser(
        prog="python -m recsys_ae",
        description="Autoencoders for collaborative filtering on explicit ratings.")
    parser.add_argument("--version", action="version", version=f"recsys_ae {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    train = sub.add_parser(
        "train", help="train and evaluate an AutoRec model against baselines",
        description="Load a dataset, filter and split it, train an AutoRec model, and print "
                    "its test RMSE/MAE next to the global-mean and user+item bias baselines "
                    "on the same split.")
    train.add_argument("--dataset", default="amazon-beauty", choices=sorted(DATASETS),
                       metavar="NAME",
                       help="dataset: %(choices)s (default: %(default)s, the seed notebook's "
                            "ratings_Beauty.csv; 'synthetic' is a generated Beauty-shaped "
                            "stand-in that works offline)")
    train.add_argument("--model", default="i-autorec", choices=MODELS,
                       help="I-AutoRec (rows are items) or U-AutoRec (rows are users, as in "
                            "the seed notebook) (default: %(default)s)")
    train.add_argument("--preset", default="paper", choices=("paper", "seed"),
                       help="hyperparameters: 'paper' (Sedhain et al. 2015: 500 sigmoid "
                            "units, L2, Adam) or 'seed' (the notebook's 700 tanh units, "
                            "dropout 0.7, SGD 0.08 with momentum 0.9) (default: %(default)s)")
    train.add_argument("--epochs", type=_positive_int, default=None,
                       help="training epochs (default: the preset's)")
    train.add_argument("--seed", type=int, default=0,
                       help="the one seed for the split, initialisation, dropout and batch "
                            "order (default: %(default)s)")
    train.add_argument("--split", default=None,
                       choices=("random", "per-user", "u1", "u2", "u3", "u4", "u5"),
                       help="random 80/20 split of ratings (the seed's), a per-user 80/20 "
                            "holdout, or MovieLens 100K's canonical uN split (default: u1 for "
                            "ml-100k, random otherwise)")
    train.add_argument("--filter", default=None,
                       help="'seed' (users with >1 item, then items with >1 user), 'none', or "
                            "'kcore-K' (default: seed for Amazon and synthetic, none for "
                            "MovieLens)")
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
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


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
        f"(cold-start test ratings: {result['n_test_cold']:,}, predicted with the global mean)",
        "",
        f"{'model':<28}{'test RMSE':>10}{'test MAE':>10}",
        f"{result['model'] + ' (' + result['preset'] + ', ' + str(result['epochs']) + ' ep)':<28}"
        f"{result['test_rmse']:>10.4f}{result['test_mae']:>10.4f}",
    ]
    for key, label in (("bias", "user + item bias"), ("global_mean", "global mean")):
        b = result["baselines"][key]
        lines.append(f"{label:<28}{b['rmse']:>10.4f}{b['mae']:>10.4f}")
    lines.append(f"\ntime      {result['seconds']:.1f} s (seed {result['seed']})")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Entry point; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from recsys_ae.data import DataNotFoundError
    from recsys_ae.experiment import run

    kwargs = {"size": args.size} if args.dataset == "synthetic" else {}
    try:
        result = run(args.dataset, args.model, preset=args.preset, epochs=args.epochs,
                     seed=args.seed, filter=args.filter, split=args.split,
                     data_dir=args.data_dir, download=not args.no_download,
                     verbose=0 if args.quiet else 1, **kwargs)
    except DataNotFoundError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 1
    except (ValueError, MemoryError) as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 1
    print(format_table(result))
    if args.json:
        result = {k: v for k, v in result.items() if k != "history"}
        print(json.dumps(result))
    return 0
