"""LensKit's biased matrix factorization (explicit-feedback ALS) as a bench_sparse.py peer.

Run by ``bench_sparse.py`` with the interpreter of the benchmark-only environment
(``bash benchmarks/peers_env.sh`` creates ``benchmarks/.peers-venv``; LensKit needs
PyTorch, which the package's own environment does not have)::

    benchmarks/.peers-venv/bin/python benchmarks/peer_lenskit.py --data DIR [--seed 0]

``DIR`` holds the parent's split as ``train.csv``/``test.csv`` (columns user, item,
rating; IDs read as strings): the main environment's pandas 3 writes pickles that
LensKit's pandas 2 cannot read.

Model: ``lenskit.als.BiasedMFScorer`` with LensKit's defaults (``BiasedMFConfig``:
50 features, 10 epochs, regularisation 0.1 for users and items, bias damping 5.0,
user embeddings kept), trained with ``TrainingOptions(rng=seed)``. Every test pair is
scored by the trained scorer itself, one call per test user with
``RecQuery(user_id=...)`` (no history in the query, so the user embedding learned in
training is used) and an ``ItemList`` of that user's test items. For a user or item
unseen in training LensKit returns NaN (a user with no embedding: all NaN; an unknown
item: NaN); those pairs fall back to the scorer's own bias model
(``scorer.bias.compute_for_items``: mu + b_i when the item is known + b_u when the
user is known, the same damping), counted.

Prints progress to stderr and one JSON line to stdout: fit_s (data set construction
and training), predict_s, rmse, n_test, n_fallback (with the unknown-user and
unknown-item counts), peak_gib (``ru_maxrss`` of this process: data, PyTorch and
LensKit imports and the model), the configuration, the LensKit, PyTorch and NumPy
versions and the threads LensKit used (its parallel configuration: ``LK_NUM_THREADS``
etc. override the default of min(CPUs, 8) training threads).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB


def read_split(data: Path, name: str):
    import pandas as pd

    csv = data / f"{name}.csv"
    if csv.exists():
        return pd.read_csv(csv, dtype={"user": str, "item": str, "rating": float},
                           usecols=["user", "item", "rating"])
    return pd.read_pickle(data / f"{name}.pkl")[["user", "item", "rating"]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with train.csv and test.csv")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    data = Path(args.data)

    import numpy as np
    import torch
    import lenskit
    from lenskit.als import BiasedMFScorer
    from lenskit.data import ItemList, RecQuery, from_interactions_df
    from lenskit.parallel import get_parallel_config
    from lenskit.training import TrainingOptions

    train = read_split(data, "train")
    test = read_split(data, "test")
    parallel = get_parallel_config()  # LensKit's default, as its training would set it

    start = time.perf_counter()
    dataset = from_interactions_df(train, user_col="user", item_col="item",
                                   rating_col="rating")
    scorer = BiasedMFScorer()  # LensKit's defaults (BiasedMFConfig)
    scorer.train(dataset, TrainingOptions(rng=args.seed))
    fit_s = time.perf_counter() - start
    del train
    print(f"lenskit-biasedmf: {dataset.user_count:,} users x {dataset.item_count:,} items, "
          f"trained in {fit_s:.2f} s", file=sys.stderr)

    start = time.perf_counter()
    pred = np.empty(len(test))
    fallback = np.zeros(len(test), dtype=bool)
    positions = test.groupby("user", sort=False).indices
    items_all = test["item"].to_numpy()
    for user, rows in positions.items():
        items = ItemList(item_ids=items_all[rows])
        scores = scorer(RecQuery(user_id=user), items).scores()
        missing = ~np.isfinite(scores)
        if missing.any():
            base, _ = scorer.bias.compute_for_items(items, user_id=user)
            scores = np.where(missing, base, scores)
            fallback[rows[missing]] = True
        pred[rows] = scores
    predict_s = time.perf_counter() - start

    truth = test["rating"].to_numpy(dtype=float)
    known_user = test["user"].isin(dataset.users.ids()).to_numpy()
    known_item = test["item"].isin(dataset.items.ids()).to_numpy()
    n_fallback = int(fallback.sum())
    print(f"lenskit-biasedmf: {n_fallback} of {len(test)} test pairs scored NaN by LensKit "
          f"(user unseen: {int((~known_user).sum())}, item unseen: "
          f"{int((~known_item).sum())}), given the bias model's mu + b_i + b_u instead",
          file=sys.stderr)
    rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
    print(json.dumps(dict(
        fit_s=fit_s, predict_s=predict_s, rmse=rmse, n_test=len(test), n_fallback=n_fallback,
        n_unknown_user=int((~known_user).sum()), n_unknown_item=int((~known_item).sum()),
        n_fallback_known_pair=int((fallback & known_user & known_item).sum()),
        peak_gib=peak_gib(), config=scorer.config.model_dump(mode="json"),
        seed=args.seed, lenskit=lenskit.__version__, torch=torch.__version__,
        numpy=np.__version__, threads=parallel.threads,
        backend_threads=parallel.backend_threads,
        torch_threads=torch.get_num_threads())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
