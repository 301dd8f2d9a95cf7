"""Dense (seed) vs sparse AutoRec training at the seed's full Beauty scale.

Run from the repository root::

    .venv/bin/python benchmarks/bench_sparse.py                 # full scale, ~15-25 min
    .venv/bin/python benchmarks/bench_sparse.py --scale small   # < 1 min

Data: ``prepare("synthetic", size="full")`` (Beauty-shaped synthetic ratings,
the seed's filter, a seeded random 80/20 split). Model: the ``"seed"`` preset,
U-AutoRec (700 tanh units, dropout 0.7, L2 1e-4, SGD 0.08 momentum 0.9, batch
128).

1. Training, end to end: the sparse path with ``objective="fast"`` for
   ``--epochs`` epochs, then ``objective="seed"`` for ``--seed-epochs``
   (default the same); test RMSE over all test ratings (timed) against the
   bias baseline. Run first so that the process's peak memory (``ru_maxrss``)
   read after it is the sparse path's alone.
2. Step timing, in one process, alternating: the dense seed formulation
   (``AutoRec.build``'s Keras model, ``train_on_batch`` on batches densified
   with ``dense_rows``, densification included), the sparse fast step and the
   sparse seed-objective step (batch extraction included). Warm-up steps
   first; the medians of ``--rounds`` rounds are reported. The dense epoch
   time is extrapolated (median step x steps per epoch); the sparse epoch
   times are measured in part 1.

Memory: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the process's peak
resident set so far, so it only grows) and the current RSS from ``psutil``,
printed after each phase.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# recsys_ae first: importing it sets TF_ENABLE_ONEDNN_OPTS=0 and TF_CPP_MIN_LOG_LEVEL
# before anything imports TensorFlow (which reads them once, at import)
import recsys_ae  # noqa: E402, F401
import numpy as np  # noqa: E402
import psutil  # noqa: E402


def load() -> str:
    """The 1/5/15-minute load averages (other processes compete for the 2 cores)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def mem() -> str:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    rss = psutil.Process().memory_info().rss / 2**30
    return f"peak RSS so far {peak:.2f} GiB (ru_maxrss), current RSS {rss:.2f} GiB (psutil)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["full", "small"], default="full")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of the fast path (default 20 full, 10 small)")
    parser.add_argument("--seed-epochs", type=int, default=None,
                        help="epochs of the seed-objective path (default: --epochs)")
    parser.add_argument("--steps", type=int, default=3,
                        help="dense steps timed per round (sparse: 100x as many)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up steps per formulation")
    parser.add_argument("--skip-train", action="store_true", help="only time steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--intra-op-threads", type=int, default=0,
                        help="TensorFlow intra- and inter-op threads, whole process (0: TF's "
                             "default, one per core); applies to dense and sparse alike")
    args = parser.parse_args(argv)
    epochs = args.epochs or (20 if args.scale == "full" else 10)
    seed_epochs = epochs if args.seed_epochs is None else args.seed_epochs

    import keras
    import tensorflow as tf

    if args.intra_op_threads:
        # Why offer this: a sparse step is ~100 tiny ops; with two intra-op threads
        # each is split and re-joined, which on a busy 2-core machine costs more than
        # it saves. It must be set before TensorFlow's runtime starts.
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.intra_op_threads)

    from recsys_ae.autorec import AutoRec, AutoRecConfig
    from recsys_ae.baselines import BiasBaseline
    from recsys_ae.experiment import prepare
    from recsys_ae.sparse import SparseAutoRec, sparse_rmse
    from recsys_ae.training import MaskedMSE, dense_rows

    print(f"# bench_sparse  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  "
          f"{platform.processor() or platform.machine()}  {os.cpu_count()} CPUs  "
          f"TF {tf.__version__}  Keras {keras.__version__}  {load()}  "
          f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS')}  "
          f"threads intra/inter {tf.config.threading.get_intra_op_parallelism_threads()}/"
          f"{tf.config.threading.get_inter_op_parallelism_threads()} (0 = TF default)")
    t0 = time.perf_counter()
    prepared = prepare("synthetic", size=args.scale, seed=args.seed)
    train, test = prepared.split.train, prepared.split.test
    n_users, n_items = train["user"].nunique(), train["item"].nunique()
    print(f"data: synthetic size={args.scale}, seed filter, random 80/20 split, "
          f"prepared in {time.perf_counter() - t0:.1f} s")
    print(f"U-AutoRec matrix: {n_users:,} users x {n_items:,} items, {len(train):,} train "
          f"ratings, {len(test):,} test ratings (seed on real Beauty: 321,366 x 133,211, "
          f"855,900 / 213,975)")
    print(f"after data: {mem()}")

    def config(epochs_):
        return AutoRecConfig.preset("seed", epochs=max(epochs_, 1))

    results = {}
    if not args.skip_train:
        bias = BiasBaseline().fit(train)
        truth = test["rating"].to_numpy()
        bias_rmse = float(np.sqrt(np.mean((bias.predict(test["user"].to_numpy(),
                                                         test["item"].to_numpy()) - truth) ** 2)))
        for objective, n_ep in (("fast", epochs), ("seed", seed_epochs)):
            if n_ep < 1:
                continue
            print(f"\n## training: sparse path, objective={objective!r}, {n_ep} epochs")
            model = SparseAutoRec("user", config(n_ep), seed=args.seed, verbose=2,
                                  objective=objective)
            start = time.perf_counter()
            model.fit(train)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            rmse = sparse_rmse(model, test)
            rmse_s = time.perf_counter() - start
            results[objective] = dict(epochs=n_ep, fit_s=fit_s, epoch_s=fit_s / n_ep, rmse=rmse,
                                      rmse_s=rmse_s, n_cold=model.n_cold_)
            print(f"{objective}: {fit_s:.1f} s for {n_ep} epochs ({fit_s / n_ep:.2f} s/epoch, "
                  f"measured); test RMSE {rmse:.4f} over {len(test):,} ratings "
                  f"({model.n_cold_:,} cold-start) in {rmse_s:.2f} s")
            print(f"after {objective} training: {mem()}; {load()}")
            del model

    # ---- step timing, alternating -------------------------------------------------------
    print("\n## step timing (alternating, medians)")
    rng = np.random.default_rng(args.seed)
    cfg = config(1)
    sparse = {obj: SparseAutoRec("user", cfg, seed=args.seed, objective=obj, verbose=0)
              .setup(train, total_steps=10**5) for obj in ("fast", "seed")}
    matrix = sparse["fast"].train_matrix_
    n_rows, bs = matrix.shape[0], cfg.batch_size
    steps_per_epoch = math.ceil(n_rows / bs)
    mem_sparse = mem()
    dense_builder = AutoRec("user", cfg, seed=args.seed)
    keras.utils.set_random_seed(args.seed)
    dense = dense_builder.build(matrix.shape[1])
    dense.compile(optimizer=dense_builder._optimizer(), loss=MaskedMSE())
    shift = sparse["fast"].mean_

    def batch_rows():
        return rng.choice(n_rows, bs, replace=False)

    def dense_step():
        rows = batch_rows()
        x = dense_rows(matrix, rows, shift=shift, fill=0.0)
        y = dense_rows(matrix, rows, shift=shift, fill=np.nan)
        dense.train_on_batch(x, y)

    def sparse_block(obj, n):
        for _ in range(n):
            sparse[obj].train_step(batch_rows())

    sparse_n = 100 * args.steps
    for _ in range(args.warmup):
        dense_step()
    for obj in sparse:
        sparse_block(obj, max(args.warmup, 20))
    times = {"dense": [], "fast": [], "seed": []}
    for _ in range(args.rounds):
        for _ in range(args.steps):
            start = time.perf_counter()
            dense_step()
            times["dense"].append(time.perf_counter() - start)
        for obj in ("fast", "seed"):
            start = time.perf_counter()
            sparse_block(obj, sparse_n)
            times[obj].append((time.perf_counter() - start) / sparse_n)
    mem_dense = mem()
    med = {k: statistics.median(v) for k, v in times.items()}

    print(f"\nsteps per epoch: {steps_per_epoch:,} (batch {bs}); dense: {len(times['dense'])} "
          f"single steps timed; sparse: {args.rounds} blocks of {sparse_n} steps")
    print(f"memory after building both sparse models: {mem_sparse}")
    print(f"memory after the dense steps:             {mem_dense}")
    print(f"at the end: {load()}")
    header = f"{'formulation':<28}{'s/step':>10}{'s/epoch':>12}  {'epoch is':<24}{'vs dense':>9}"
    print("\n" + header + "\n" + "-" * len(header))
    rows = [("dense seed (Keras)", "dense", med["dense"] * steps_per_epoch, "extrapolated")]
    for obj in ("fast", "seed"):
        if obj in results:
            rows.append((f"sparse, objective={obj}", obj, results[obj]["epoch_s"],
                         f"measured ({results[obj]['epochs']} ep)"))
        else:
            rows.append((f"sparse, objective={obj}", obj, med[obj] * steps_per_epoch,
                         "extrapolated"))
    for label, key, epoch_s, how in rows:
        ratio = med["dense"] / med[key]
        print(f"{label:<28}{med[key]:>10.4f}{epoch_s:>12.1f}  {how:<24}{ratio:>8.0f}x")
    if results:
        print(f"\n{'test RMSE':<34}{'RMSE':>8}{'epochs':>8}{'train s':>9}{'eval s':>8}")
        print(f"{'bias baseline (mu + b_u + b_i)':<34}{bias_rmse:>8.4f}")
        for obj, r in results.items():
            print(f"{'sparse U-AutoRec, ' + obj:<34}{r['rmse']:>8.4f}{r['epochs']:>8}"
                  f"{r['fit_s']:>9.1f}{r['rmse_s']:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
