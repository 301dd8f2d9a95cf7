"""Sparse AutoRec training: the landed step against the current one, with peers.

Run from the repository root::

    .venv/bin/python benchmarks/bench_sparse.py --scale small   # ~1-2 min
    .venv/bin/python benchmarks/bench_sparse.py                 # full scale, ~15-25 min
    .venv/bin/python benchmarks/bench_sparse.py --landed-epochs 3 --skip-peers

Data: ``prepare("synthetic", size=...)`` (Beauty-shaped synthetic ratings, the
seed's filter, a seeded random 80/20 split), prepared once by this process and
handed to the children as pickles. Model: the ``"notebook"`` preset, U-AutoRec
(700 tanh units, dropout 0.7, L2 1e-4, SGD 0.08 momentum 0.9, batch 128).

Every training run is a **child process** (one at a time, so they do not
compete for the cores), which loads the split, trains, scores the test set
and reports its peak resident memory (``resource.getrusage(RUSAGE_SELF)
.ru_maxrss``: data, TensorFlow and model together):

1. ``landed``: the implementation as it was before the speed work, kept
   verbatim in ``benchmarks/_landed_sparse.py``, for ``--landed-epochs``
   epochs of each objective (``lazy`` and ``exact``; the landed module called them ``fast``
   and ``seed``);
2. ``new``: ``recsys_ae.sparse.SparseAutoRec``, ``--epochs`` epochs of each;
3. peers on the same split: the bias baseline (mu + b_u + b_i); Surprise's SVD
   (its defaults: 100 factors, 20 epochs) if ``scikit-surprise`` imports here,
   else in the benchmark-only environment; LensKit's biased MF (explicit ALS,
   ``lenskit.als.BiasedMFScorer`` with LensKit's defaults: 50 features, 10
   epochs, regularisation 0.1, bias damping 5) run by ``benchmarks/peer_lenskit.py``
   in the benchmark-only environment ``benchmarks/.peers-venv`` (LensKit needs
   PyTorch, which stays out of the package's requirements; ``bash
   benchmarks/peers_env.sh`` creates it; without it the LensKit peer is skipped
   with a note). Children in that environment read the split as CSV (its pandas 2
   cannot read the pickles of the main environment's pandas 3).

Seconds per epoch are measured per epoch (the end of an epoch is when
``synchronize`` runs); the first epoch includes tracing and is reported apart,
the "s/epoch" column is the median of the later ones. Ratios are landed / new
in the same invocation. Test RMSE is over all test ratings (``metrics.evaluate``:
a cold-start pair gets the model's fallback, the known user's or item's bias).

4. Step cost against batch size (landed and new, each objective, one process,
   alternating, ``--rounds`` rounds, medians): seconds per step at batch
   64/128/256/512 rows, fitted as ``fixed + per_rating * ratings`` (larger batches
   leave this regime: their temporaries are big enough to page-fault on every step).
5. ``--profile STEPS``: where the new step's time goes. A child traces STEPS steps
   with ``tf.profiler`` and sums the time of every TensorFlow operation by op type
   (``child_profile``); the table groups them (``PROFILE_GROUPS``).

Threads: the new step's children run with one TensorFlow thread per operation
(``recsys_ae.sparse.set_op_threads``, as the command line does; ``--new-threads
default`` for TensorFlow's default), the landed step's with TensorFlow's default, as it
shipped (``--landed-threads one`` to give it the same setting, so that the ratio is the
code's alone). The result table says which each run used. ``--json FILE`` keeps the
results (``recsys_ae/chapters/recorded.json["benchmark_sparse_speed"]`` was made from them).

Load: the 1/5/15-minute load averages are printed; other processes on a
shared machine slow every wall-clock time, the ratios less so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

#: The benchmark-only environment's interpreter (``bash benchmarks/peers_env.sh``).
PEERS_PYTHON = HERE / ".peers-venv" / "bin" / "python"
PEERS_ENV_HINT = "create it with `bash benchmarks/peers_env.sh`"


#: The landed module's names of the objectives (renamed since: lazy, exact).
LANDED_OBJECTIVES = {"lazy": "fast", "exact": "seed"}


def objective_name(module, objective: str) -> str:
    """``objective`` as ``module`` calls it (the landed reference keeps the old names)."""
    return LANDED_OBJECTIVES[objective] if module.__name__ == "_landed_sparse" else objective


def load() -> str:
    """The 1/5/15-minute load averages (other processes compete for the cores)."""
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB


# ---------------------------------------------------------------------------------------------
# children
# ---------------------------------------------------------------------------------------------


def apply_threads(args) -> str:
    """``--threads one``: one TensorFlow thread per operation
    (``recsys_ae.sparse.set_op_threads``, what the command line does), before
    TensorFlow starts; ``default``: TensorFlow's default (all cores per operation)."""
    import recsys_ae  # noqa: F401  (sets the TensorFlow environment first)
    if args.threads == "one":
        from recsys_ae.sparse import set_op_threads
        set_op_threads(1)
    import tensorflow as tf
    return f"{args.threads} (intra-op {tf.config.threading.get_intra_op_parallelism_threads()})"


def child_train(args) -> dict:
    threads = apply_threads(args)
    import pandas as pd
    from recsys_ae.autorec import AutoRecConfig
    from recsys_ae.metrics import evaluate

    if args.impl == "landed":
        import _landed_sparse as module
    else:
        import recsys_ae.sparse as module
    train = pd.read_pickle(Path(args.data) / "train.pkl")
    cfg = AutoRecConfig.preset("notebook", epochs=args.epochs)
    model = module.SparseAutoRec("user", cfg, seed=args.seed, verbose=0,
                                 objective=objective_name(module, args.objective))
    marks = []
    sync = model.synchronize

    def timed_sync(*a, **k):  # fit calls synchronize once at the end of every epoch
        sync(*a, **k)
        marks.append(time.perf_counter())

    model.synchronize = timed_sync
    start = time.perf_counter()
    cpu = time.process_time()
    model.fit(train)
    fit_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    del train
    test = pd.read_pickle(Path(args.data) / "test.pkl")
    t = time.perf_counter()
    rmse = evaluate(model, test)["rmse"]
    epochs = [b - a for a, b in zip([start] + marks[:-1], marks)]
    return dict(fit_s=fit_s, cpu_s=cpu_s, epoch_s=epochs, rmse=rmse,
                eval_s=time.perf_counter() - t, steps_per_epoch=model.steps_per_epoch_,
                loss=model.history_["loss"], peak_gib=peak_gib(), threads=threads)


def read_split(args, name: str):
    """The parent's ``train``/``test`` frame: the pickle, or with ``--csv`` the CSV copy
    (children in the benchmark-only environment, whose pandas 2 cannot read pandas 3
    pickles)."""
    import pandas as pd

    if args.csv:
        return pd.read_csv(Path(args.data) / f"{name}.csv",
                           dtype={"user": str, "item": str, "rating": float})
    return pd.read_pickle(Path(args.data) / f"{name}.pkl")


def child_peer(args) -> dict:
    import numpy as np

    train = read_split(args, "train")
    test = read_split(args, "test")
    truth = test["rating"].to_numpy(dtype=float)
    start = time.perf_counter()
    if args.impl == "bias":
        from recsys_ae.baselines import BiasBaseline
        model = BiasBaseline().fit(train)
        fit_s = time.perf_counter() - start
        pred = model.predict(test["user"].to_numpy(), test["item"].to_numpy())
    else:  # Surprise SVD, its defaults (100 factors, 20 epochs, lr 0.005, reg 0.02)
        from surprise import SVD, Dataset, Reader
        lo, hi = float(train["rating"].min()), float(train["rating"].max())
        data = Dataset.load_from_df(train[["user", "item", "rating"]],
                                    Reader(rating_scale=(lo, hi)))
        model = SVD(random_state=args.seed).fit(data.build_full_trainset())
        fit_s = time.perf_counter() - start
        pred = np.array([model.predict(u, i).est for u, i in
                         zip(test["user"].to_numpy(), test["item"].to_numpy())])
    rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
    return dict(fit_s=fit_s, rmse=rmse, peak_gib=peak_gib())


def child_paired(args) -> dict:
    """Landed and new models alive in one process, trained one epoch each in turn
    (the same batch order), so that both see the same machine load: paired ratios."""
    threads = apply_threads(args)
    import numpy as np
    import pandas as pd
    from recsys_ae.autorec import AutoRecConfig
    import _landed_sparse
    import recsys_ae.sparse as current

    train = pd.read_pickle(Path(args.data) / "train.pkl")
    cfg = AutoRecConfig.preset("notebook", epochs=args.epochs)
    models = {name: module.SparseAutoRec("user", cfg, seed=args.seed, verbose=0,
                                         objective=objective_name(module, args.objective)
                                         ).setup(train)
              for name, module in (("landed", _landed_sparse), ("new", current))}
    del train
    order = np.arange(models["new"].train_matrix_.shape[0])
    rng = np.random.default_rng(args.seed)
    rng.shuffle(order)

    def epoch(name):  # what fit does in an epoch, without the bookkeeping
        m = models[name]
        if name == "landed":
            for entries in m._epoch_batches(order):
                m._step(*entries)
        else:
            e = m._epoch_entries(order)
            bounds, n_rows = e[4], e[5]
            for lo in range(0, len(n_rows), m.STEPS_PER_CALL):
                hi = min(lo + m.STEPS_PER_CALL, len(n_rows))
                a, b = bounds[lo], bounds[hi]
                m._run_steps(*(x[a:b] for x in e[:4]), bounds[lo:hi + 1], n_rows[lo:hi])
        m.synchronize()
        if args.objective == "exact":
            m.l2_penalty()

    times = {name: [] for name in models}
    for i in range(args.epochs):
        for name in (("landed", "new") if i % 2 == 0 else ("new", "landed")):
            t = time.perf_counter()
            epoch(name)
            times[name].append(time.perf_counter() - t)
        rng.shuffle(order)
    weights = [m.get_weights() for m in models.values()]
    diff = max(float(np.abs(a - b).max()) for a, b in zip(*weights))
    return dict(epoch_s=times, max_weight_diff=diff, peak_gib=peak_gib(), threads=threads)


def child_steps(args) -> dict:
    """Seconds per step against ratings per step, landed vs new, one objective."""
    apply_threads(args)
    import numpy as np
    import pandas as pd
    from recsys_ae.autorec import AutoRecConfig
    from recsys_ae.sparse import csr_entries
    import _landed_sparse
    import recsys_ae.sparse as current

    train = pd.read_pickle(Path(args.data) / "train.pkl")
    cfg = AutoRecConfig.preset("notebook", epochs=1)
    models = {name: module.SparseAutoRec("user", cfg, seed=args.seed, verbose=0,
                                         objective=objective_name(module, args.objective)
                                         ).setup(train, total_steps=10**5)
              for name, module in (("landed", _landed_sparse), ("new", current))}
    del train
    matrix = models["new"].train_matrix_
    shift = models["new"].mean_
    rng = np.random.default_rng(args.seed)
    sizes = [s for s in (64, 128, 256, 512) if s <= matrix.shape[0]]
    budget = args.step_ratings  # ratings per timed block

    def batches(bs, n):
        out = []
        for _ in range(n):
            rows = rng.choice(matrix.shape[0], bs, replace=False)
            row_of, cols, values = csr_entries(matrix, rows)
            x = (values - shift).astype(np.float32)
            out.append((row_of, cols, x, x, bs))
        return out

    def run(name, blocks):
        m = models[name]
        if name == "landed":
            for b in blocks:
                m._step(*b)
            return
        cat = [np.concatenate([b[i] for b in blocks]) for i in range(4)]
        bounds = np.cumsum([0] + [len(b[1]) for b in blocks])
        m._run_steps(*cat, bounds, [b[4] for b in blocks])

    per = {name: {bs: [] for bs in sizes} for name in models}
    ratings = {}
    for name in models:
        run(name, batches(128, 30))  # warm-up (tracing)
    for _ in range(args.rounds):
        for bs in sizes:
            avg = matrix.nnz / matrix.shape[0] * bs
            blocks = batches(bs, max(5, int(budget / avg)))
            ratings[bs] = float(np.mean([len(b[1]) for b in blocks]))
            for name in models:
                t = time.perf_counter()
                run(name, blocks)
                per[name][bs].append((time.perf_counter() - t) / len(blocks))
    out = {}
    for name in models:
        x = np.array([ratings[bs] for bs in sizes])
        y = np.array([statistics.median(per[name][bs]) for bs in sizes])
        slope, fixed = np.polyfit(x, y, 1)
        out[name] = dict(sizes=sizes, ratings=x.tolist(), step_s=y.tolist(), fixed_s=fixed,
                         per_rating_s=slope)
    out["peak_gib"] = peak_gib()
    return out


#: What the profile table groups together (TensorFlow op types, as the trace names them).
PROFILE_GROUPS = {
    "rows of the big tables (gather, scatter)": ("ResourceGather", "ResourceScatterUpdate"),
    "multiplies, adds, subtracts": ("Mul", "AddV2", "Sub"),
    "batch gathers and sorted sums": ("GatherV2", "SegmentSum"),
}


def child_profile(args) -> dict:
    """Where the new step's time goes: ``tf.profiler`` traces ``--profile`` steps of an
    epoch's batches (after 400 untraced warm-up steps) and the host events of every
    TensorFlow operation are summed by op type (the trace's ``name:Type`` events).
    The trace adds its own cost to every operation, so the shares are approximate."""
    threads = apply_threads(args)
    import collections
    import glob
    import numpy as np
    import pandas as pd
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2
    from recsys_ae.autorec import AutoRecConfig
    import recsys_ae.sparse as module

    train = pd.read_pickle(Path(args.data) / "train.pkl")
    cfg = AutoRecConfig.preset("notebook", epochs=1)
    model = module.SparseAutoRec("user", cfg, seed=args.seed, verbose=0,
                                 objective=args.objective).setup(train)
    del train
    order = np.random.default_rng(args.seed).permutation(model.train_matrix_.shape[0])
    row_of, cols, inputs, targets, bounds, n_rows = model._epoch_entries(order)
    warm = min(400, len(n_rows) // 2)
    traced = min(args.profile, len(n_rows) - warm)

    def run(lo, hi):
        a, b = bounds[lo], bounds[hi]
        model._run_steps(row_of[a:b], cols[a:b], inputs[a:b], targets[a:b],
                         bounds[lo:hi + 1], n_rows[lo:hi])

    run(0, warm)
    with tempfile.TemporaryDirectory(prefix="bench_sparse_trace_") as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        run(warm, warm + traced)
        wall = time.perf_counter() - start
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        space.ParseFromString(Path(glob.glob(f"{logdir}/**/*.xplane.pb",
                                             recursive=True)[0]).read_bytes())
    by_type = collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                meta = plane.event_metadata[event.metadata_id]
                # a TensorFlow operation is named "op name:OpType" and shown as its type;
                # the executor's own events ("ExecutorState::Process", ...) have no type
                if meta.display_name and meta.name.endswith(":" + meta.display_name):
                    by_type[meta.display_name] += event.duration_ps * 1e-12
    return dict(threads=threads, steps=traced, wall_s_per_step=wall / traced,
                op_s_per_step={k: v / traced for k, v in by_type.most_common()},
                peak_gib=peak_gib())


# ---------------------------------------------------------------------------------------------
# parent
# ---------------------------------------------------------------------------------------------


def run_child(cmd: list[str], label: str) -> dict | None:
    """Run ``cmd``; its last stdout line is a JSON object (None, with its stderr, if it
    fails)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  [{label}] failed:\n{proc.stderr[-2000:]}")
        return None
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - start
    return result


def spawn(data: str, kind: str, impl: str, objective: str = "", epochs: int = 0,
          extra=(), python: str = sys.executable, seed: int = 0,
          threads: str = "default") -> dict | None:
    cmd = [python, __file__, "--child", kind, "--data", data, "--impl", impl,
           "--objective", objective or "lazy", "--epochs", str(epochs), "--seed", str(seed),
           *(["--threads", threads] if python == sys.executable else []), *extra]
    return run_child(cmd, f"{kind} {impl} {objective}".strip())


def write_csv_split(data: str) -> None:
    """CSV copies of the split for children in the benchmark-only environment."""
    import pandas as pd

    for name in ("train", "test"):
        path = Path(data) / f"{name}.csv"
        if not path.exists():
            frame = pd.read_pickle(Path(data) / f"{name}.pkl")
            frame[["user", "item", "rating"]].to_csv(path, index=False)


def surprise_here() -> bool:
    import importlib.util

    return importlib.util.find_spec("surprise") is not None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["full", "small"], default="full")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of the new step, each objective (default 20; 0 skips "
                             "it)")
    parser.add_argument("--landed-epochs", type=int, default=None,
                        help="epochs of the landed step, each objective (default: --epochs; "
                             "0 skips it)")
    parser.add_argument("--objectives", default="lazy,exact")
    parser.add_argument("--skip-peers", action="store_true",
                        help="no bias baseline / Surprise SVD / LensKit biased MF")
    parser.add_argument("--skip-steps", action="store_true", help="no step-cost fit")
    parser.add_argument("--paired-epochs", type=int, default=None,
                        help="epochs of the paired landed/new run, each objective (default "
                             "4 full, 6 small; 0 skips it)")
    parser.add_argument("--rounds", type=int, default=3, help="step-cost rounds")
    parser.add_argument("--step-ratings", type=int, default=None,
                        help="ratings per timed step block (default 60,000 full, 6,000 small)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--new-threads", choices=["one", "default"], default="one",
                        help="TensorFlow threads per operation in the new step's children "
                             "(and in the step-cost and paired children, which hold both): "
                             "'one' as the command line sets it (default), or TF's default")
    parser.add_argument("--landed-threads", choices=["one", "default"], default="default",
                        help="the same for the landed step's training children (default: "
                             "TF's default, as it landed)")
    parser.add_argument("--profile", type=int, default=0, metavar="STEPS",
                        help="also trace STEPS steps of the new step with tf.profiler and "
                             "print where the time goes, by op type (default 0: no profile)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--threads", choices=["one", "default"], default="default",
                        help=argparse.SUPPRESS)
    # internal: a child process
    parser.add_argument("--child", choices=["train", "peer", "steps", "paired", "profile"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--impl", help=argparse.SUPPRESS)
    parser.add_argument("--objective", help=argparse.SUPPRESS)
    parser.add_argument("--csv", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step_ratings is None:
        args.step_ratings = 60_000 if args.scale == "full" else 6_000
    if args.child:
        result = {"train": child_train, "peer": child_peer, "steps": child_steps,
                  "paired": child_paired, "profile": child_profile}[args.child](args)
        print(json.dumps(result))
        return 0

    epochs = 20 if args.epochs is None else args.epochs  # 0: no training runs
    landed_epochs = epochs if args.landed_epochs is None else args.landed_epochs
    objectives = args.objectives.split(",")
    import recsys_ae  # noqa: F401
    import tensorflow as tf
    import keras
    from recsys_ae.experiment import prepare

    print(f"# bench_sparse  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  "
          f"{platform.processor() or platform.machine()}  {os.cpu_count()} CPUs  "
          f"TF {tf.__version__}  Keras {keras.__version__}  {load()}")
    t = time.perf_counter()
    prepared = prepare("synthetic", size=args.scale, seed=args.seed)
    train, test = prepared.split.train, prepared.split.test
    print(f"data: synthetic size={args.scale}, seed filter, random 80/20 split, prepared in "
          f"{time.perf_counter() - t:.1f} s: {train['user'].nunique():,} users x "
          f"{train['item'].nunique():,} items, {len(train):,} train / {len(test):,} test ratings")
    with tempfile.TemporaryDirectory(prefix="bench_sparse_") as data:
        train.to_pickle(Path(data) / "train.pkl")
        test.to_pickle(Path(data) / "test.pkl")
        del prepared, train, test
        runs = {}
        for obj in objectives:
            for impl, n_ep in (("new", epochs), ("landed", landed_epochs)):
                if n_ep < 1:
                    continue
                print(f"\n## training in a child: {impl}, objective={obj!r}, {n_ep} epochs  "
                      f"({load()})", flush=True)
                r = spawn(data, "train", impl, obj, n_ep, seed=args.seed,
                          threads=args.new_threads if impl == "new" else args.landed_threads)
                if r:
                    later = r["epoch_s"][1:] or r["epoch_s"]
                    r["median_s"] = statistics.median(later)
                    runs[impl, obj] = r
                    print("  epochs (s): " + " ".join(f"{x:.2f}" for x in r["epoch_s"])
                          + f"; RMSE {r['rmse']:.4f}; peak {r['peak_gib']:.2f} GiB", flush=True)
        peers = {}
        if not args.skip_peers:
            venv = PEERS_PYTHON.exists()
            for impl in ("bias", "svd", "lenskit"):
                python, extra, where = sys.executable, [], ""
                if impl == "svd" and not surprise_here():
                    if not venv:
                        print(f"\n## peer svd skipped: scikit-surprise does not import here "
                              f"and there is no benchmark-only environment ({PEERS_ENV_HINT})")
                        continue
                    python, extra, where = str(PEERS_PYTHON), ["--csv"], " (peers venv)"
                if impl == "lenskit":
                    if not venv:
                        print(f"\n## peer lenskit-biasedmf skipped: no benchmark-only "
                              f"environment {PEERS_PYTHON.parent.parent} ({PEERS_ENV_HINT})")
                        continue
                    python, where = str(PEERS_PYTHON), " (peers venv)"
                if python != sys.executable:
                    write_csv_split(data)
                print(f"\n## peer in a child: "
                      f"{'lenskit-biasedmf' if impl == 'lenskit' else impl}{where}  ({load()})",
                      flush=True)
                if impl == "lenskit":
                    r = run_child([str(PEERS_PYTHON), str(HERE / "peer_lenskit.py"), "--data",
                                   data, "--seed", str(args.seed)], "peer lenskit-biasedmf")
                    if r:
                        print(f"  LensKit {r['lenskit']}, torch {r['torch']}, "
                              f"{r['threads']} training threads ({r['backend_threads']} "
                              f"backend); BiasedMFScorer {r['config']}, rng seed {r['seed']}; "
                              f"{r['n_fallback']} of {r['n_test']} test pairs NaN from LensKit "
                              f"(user unseen {r['n_unknown_user']}, item unseen "
                              f"{r['n_unknown_item']}) -> its bias model; predicting took "
                              f"{r['predict_s']:.1f} s", flush=True)
                else:
                    r = spawn(data, "peer", impl, python=python, extra=extra, seed=args.seed)
                if r:
                    peers[impl] = r
        steps = {}
        if not args.skip_steps:
            for obj in objectives:
                print(f"\n## step cost in a child: objective={obj!r}  ({load()})", flush=True)
                r = spawn(data, "steps", "both", obj, 0,
                          ["--rounds", str(args.rounds), "--step-ratings",
                           str(args.step_ratings)], seed=args.seed, threads=args.new_threads)
                if r:
                    steps[obj] = r

        profiles = {}
        for obj in objectives if args.profile > 0 else []:
            print(f"\n## profile in a child: new, objective={obj!r}, {args.profile} steps  "
                  f"({load()})", flush=True)
            r = spawn(data, "profile", "new", obj, 0, ["--profile", str(args.profile)],
                      seed=args.seed, threads=args.new_threads)
            if r:
                profiles[obj] = r

        paired = {}
        n_paired = args.paired_epochs if args.paired_epochs is not None else (
            4 if args.scale == "full" else 6)
        for obj in objectives if n_paired > 0 else []:
            print(f"\n## paired epochs in a child: objective={obj!r}, {n_paired} epochs each, "
                  f"alternating  ({load()})", flush=True)
            r = spawn(data, "paired", "both", obj, n_paired, seed=args.seed,
                      threads=args.new_threads)
            if r:
                paired[obj] = r

    print(f"\n# results  ({load()})")
    head = (f"{'run':<30}{'epochs':>7}{'1st ep s':>9}{'s/epoch':>9}{'x faster':>9}"
            f"{'fit s':>8}{'RMSE':>8}{'peak GiB':>9}")
    print(head + "\n" + "-" * len(head))
    for (impl, obj), r in runs.items():
        ref = runs.get(("landed", obj))
        ratio = f"{ref['median_s'] / r['median_s']:.2f}" if ref else "-"
        print(f"{'sparse ' + impl + ', ' + obj:<30}{len(r['epoch_s']):>7}{r['epoch_s'][0]:>9.2f}"
              f"{r['median_s']:>9.2f}{ratio:>9}{r['fit_s']:>8.1f}{r['rmse']:>8.4f}"
              f"{r['peak_gib']:>9.2f}  threads per op: {r['threads']}")
    names = {"bias": "bias baseline (mu+b_u+b_i)", "svd": "Surprise SVD (20 epochs)",
             "lenskit": "LensKit biased MF (ALS)"}
    for impl, r in peers.items():
        print(f"{names[impl]:<30}{'':>7}{'':>9}{'':>9}{'':>9}{r['fit_s']:>8.1f}{r['rmse']:>8.4f}"
              f"{r['peak_gib']:>9.2f}")
    for obj in objectives:
        if ("new", obj) in runs and ("landed", obj) in runs:
            a, b = runs["landed", obj], runs["new", obj]
            n = min(len(a["epoch_s"]), len(b["epoch_s"]))
            print(f"{obj}: after {n} epochs each the epoch losses are landed "
                  f"{a['loss'][n - 1]:.6f}, new {b['loss'][n - 1]:.6f}")
    if paired:
        print("\npaired epochs (landed and new alive in one process, one epoch each in turn, "
              "same batch order; an epoch = steps + synchronize + L2 penalty)")
        for obj, r in paired.items():
            a, b = r["epoch_s"]["landed"], r["epoch_s"]["new"]
            ratios = [x / y for x, y in zip(a[1:], b[1:])]
            print(f"  {obj:<5} landed s: " + " ".join(f"{x:.2f}" for x in a)
                  + " | new s: " + " ".join(f"{x:.2f}" for x in b))
            print(f"  {obj:<5} ratio per later epoch: " + " ".join(f"{x:.2f}" for x in ratios)
                  + f"; median {statistics.median(ratios):.2f}x; max |weight difference| "
                  f"{r['max_weight_diff']:.2e}; peak {r['peak_gib']:.2f} GiB (two models)")
    if steps:
        print("\nstep cost (medians), fitted as fixed + per_rating * ratings")
        for obj, r in steps.items():
            for impl in ("landed", "new"):
                s = r[impl]
                pts = ", ".join(f"b{bs}: {n:.0f} ratings {t * 1e3:.2f} ms"
                                for bs, n, t in zip(s["sizes"], s["ratings"], s["step_s"]))
                print(f"  {obj:<5} {impl:<7} fixed {s['fixed_s'] * 1e3:6.3f} ms + "
                      f"{s['per_rating_s'] * 1e6:6.2f} us/rating   ({pts})")
            print(f"  {obj:<5} per-rating ratio landed/new: "
                  f"{r['landed']['per_rating_s'] / r['new']['per_rating_s']:.2f}")
    if profiles:
        print("\nprofile of the new step (tf.profiler; summed host time of the operations "
              "per step, both threads; the trace slows every operation)")
        for obj, r in profiles.items():
            ops = r["op_s_per_step"]
            total = sum(ops.values())
            print(f"  {obj}: {r['steps']} steps traced, {r['wall_s_per_step'] * 1e3:.2f} ms "
                  f"wall per step, {total * 1e3:.2f} ms of operations per step "
                  f"(threads per op: {r['threads']})")
            groups = {**PROFILE_GROUPS, "everything else": [
                k for k in ops if not any(k in types for types in PROFILE_GROUPS.values())]}
            for label, types in groups.items():
                t = sum(ops.get(k, 0.0) for k in types)
                print(f"    {label:<44}{t * 1e3:7.3f} ms {100 * t / total:5.1f}%   "
                      + ", ".join(f"{k} {ops.get(k, 0.0) * 1e3:.3f}" for k in types[:6]))
    if args.json:
        out = dict(date=time.strftime("%Y-%m-%d %H:%M"), argv=sys.argv[1:], scale=args.scale,
                   runs={f"{impl} {obj}": r for (impl, obj), r in runs.items()},
                   peers=peers, paired=paired, steps=steps, profiles=profiles)
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
        print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
