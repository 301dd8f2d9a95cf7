"""Does the recommended AutoRec workflow beat the baselines on data it was not tuned on?

For each dataset and seed: the package's default split (``train`` would make the same),
then I-AutoRec with the presets named by ``--presets`` (``auto`` = the validation search
of ``recsys_ae.tuning.auto_search`` on the training part only, then the refit), each
through ``recsys_ae.experiment.run``, which also scores the bias baseline and biased MF on
the same split. ``--rescale`` adds a copy of each dataset with its ratings mapped linearly
onto 1-100 (written to a temporary file and read back with ``load_ratings``), to check
that the workflow does not assume a 1-5 scale.

Usage::

    python benchmarks/bench_accuracy.py --datasets filmtrust ml-latest-small --seeds 0 1 2
    python benchmarks/bench_accuracy.py --datasets ml-100k --split u1 --presets paper auto
    python benchmarks/bench_accuracy.py --datasets filmtrust --rescale --seeds 0

Writes one JSON line per run to ``--out`` (default ``_build/bench_accuracy.jsonl``,
appended) and prints the table of test RMSEs. Not a test; not run by CI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recsys_ae import data, experiment  # noqa: E402


def rescaled_copy(name: str, folder: Path) -> tuple[Path, tuple[float, float]]:
    """The dataset's ratings mapped linearly from its scale onto 1-100, as a CSV file."""
    df = data.load_dataset(name)
    lo, hi = data.DATASETS[name].rating_scale[:2]
    out = df[["user", "item"]].copy()
    out["rating"] = 1.0 + (df["rating"] - lo) * (99.0 / (hi - lo))
    path = folder / f"{name}-1-100.csv"
    out.to_csv(path, index=False, header=["user", "item", "rating"])
    return path, (lo, hi)


def record_entry(rows: list[dict], argv) -> dict:
    """A ``recorded.json`` entry: the search and the test comparison of one dataset and seed
    (chapter 5, "Tuning on a dataset you have never seen")."""
    import platform

    first = rows[0]
    runs = {r["preset"]: r for r in rows
            if r["dataset"] == first["dataset"] and r["seed"] == first["seed"]}
    auto, paper = runs["auto"], runs.get("paper")
    search = auto["search"]
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    test = {"global mean": auto["mean_rmse"], "user + item bias": auto["bias_rmse"],
            "biased MF": auto["mf_rmse"], "I-AutoRec (auto)": auto["test_rmse"]}
    if paper is not None:
        test["I-AutoRec (paper)"] = paper["test_rmse"]
    return {"description": "benchmarks/bench_accuracy.py: the automatic search "
                           "(tuning.auto_search) on the training part of one dataset, its "
                           "refit, and the test RMSE of every model on the same split",
            "date": auto["date"],
            "machine": f"{os.cpu_count()} CPU cores ({cpu})",
            "command": "python benchmarks/bench_accuracy.py " + " ".join(argv or sys.argv[1:]),
            "unit": "stars (RMSE); seconds",
            "values": {"dataset": first["dataset"], "seed": first["seed"],
                       "split": auto["split"], "n_train": auto["n_train"],
                       "n_test": auto["n_test"], "n_fit": search["search"]["n_fit"],
                       "n_validation": search["search"]["n_validation"],
                       "search_seconds": search["search"]["seconds"],
                       "auto_seconds": round(auto["seconds"], 1),
                       "validation": {"I-AutoRec (auto)": search["search"]["val_rmse"],
                                      **{k: v["rmse"] for k, v in
                                         search["search"]["baselines"].items()}},
                       "chosen": search["config"], "epochs": auto["epochs"],
                       "table": search["search"]["table"], "test_rmse": test}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["filmtrust", "ml-latest-small"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--presets", nargs="+", default=["paper", "auto"])
    parser.add_argument("--split", default=None, help="as in train (default: the dataset's)")
    parser.add_argument("--rescale", action="store_true",
                        help="also a copy of each dataset on a 1-100 scale")
    parser.add_argument("--only-rescaled", action="store_true")
    parser.add_argument("--out", default="_build/bench_accuracy.jsonl")
    parser.add_argument("--record", metavar="JSON",
                        help="also write the first dataset's first seed (presets paper and "
                             "auto) as a recorded.json entry to this file")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for name in args.datasets:
            if not args.only_rescaled:
                jobs.append((name, {"dataset": name}, 1.0))
            if args.rescale or args.only_rescaled:
                path, (lo, hi) = rescaled_copy(name, Path(tmp))
                # the original's filter, so that both copies keep the same ratings
                jobs.append((f"{name} (1-100)", {"dataset": f"{name}-1-100",
                                                 "ratings": str(path),
                                                 "filter": experiment.default_filter(name),
                                                 "rating_scale": (1.0, 100.0)},
                             99.0 / (hi - lo)))
        for label, kwargs, factor in jobs:
            for seed in args.seeds:
                for preset in args.presets:
                    t0 = time.perf_counter()
                    lines = []
                    result = experiment.run(
                        model="i-autorec", preset=preset, seed=seed, split=args.split,
                        verbose=0, progress=lines.append, download=False, **kwargs)
                    row = {"dataset": label, "seed": seed, "preset": preset,
                           "scale_factor": factor, "split": result["split"],
                           "n_train": result["n_train"], "n_test": result["n_test"],
                           "test_rmse": result["test_rmse"], "test_mae": result["test_mae"],
                           "bias_rmse": result["baselines"]["bias"]["rmse"],
                           "mf_rmse": result["baselines"]["biased_mf"]["rmse"],
                           "mean_rmse": result["baselines"]["global_mean"]["rmse"],
                           "epochs": result["epochs"], "seconds": time.perf_counter() - t0,
                           "search": result["search"], "date": time.strftime("%Y-%m-%d"),
                           "cpus": os.cpu_count()}
                    rows.append(row)
                    with out.open("a") as fh:
                        fh.write(json.dumps(row) + "\n")
                    print(f"{label:<28} seed {seed} {preset:<6} RMSE {row['test_rmse']:.4f} "
                          f"(bias {row['bias_rmse']:.4f}, MF {row['mf_rmse']:.4f}) "
                          f"{row['seconds']:.0f} s", flush=True)
    if args.record:
        Path(args.record).write_text(json.dumps(record_entry(rows, argv), indent=1) + "\n")
        print(f"recorded entry written to {args.record}")
    table = pd.DataFrame(rows).pivot_table(index=["dataset", "seed"], columns="preset",
                                           values="test_rmse")
    base = pd.DataFrame(rows).groupby(["dataset", "seed"])[["bias_rmse", "mf_rmse"]].first()
    print(base.join(table).round(4).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
