"""Benchmark: building the rating matrix, the seed's way against the vectorised way.

The seed notebook filled a ``lil_matrix`` one rating at a time through
``DataFrame.apply`` (855,900 training ratings after its filter). This script
times, in one process on the same data:

* ``preprocess.rating_matrix``: vectorised COO -> CSR, on ALL training ratings;
* ``preprocess.seed_build_matrix``: the seed's row-by-row build, on a random
  SAMPLE of the ratings (the full build would take minutes), extrapolated
  linearly to all ratings -- the output says so.

Data: the synthetic Beauty-shaped stand-in at the seed's full scale
(2,023,070 ratings), filtered and split as the seed did. It is SYNTHETIC: the
shape statistics match the seed's file, the ratings are generated.

Usage::

    python benchmarks/bench_matrix_build.py                # full scale
    python benchmarks/bench_matrix_build.py --size small   # seconds
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from recsys_ae import experiment, preprocess


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("full", "small"), default="full",
                        help="synthetic stand-in size (default: %(default)s)")
    parser.add_argument("--sample", type=int, default=20_000,
                        help="ratings built the seed's way, then extrapolated (default: "
                             "%(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (median reported)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    prepared = experiment.prepare("synthetic", size=args.size, seed=args.seed)
    train = prepared.split.train
    index = preprocess.IdIndex.fit(prepared.ratings)
    n = len(train)
    sample = train.sample(n=min(args.sample, n), random_state=args.seed)

    fast_full = _median_seconds(lambda: preprocess.rating_matrix(train, index), args.repeats)
    fast_sample = _median_seconds(lambda: preprocess.rating_matrix(sample, index),
                                  args.repeats)
    seed_sample = _median_seconds(lambda: preprocess.seed_build_matrix(sample, index),
                                  max(1, args.repeats // 2))
    seed_full_extrapolated = seed_sample * n / len(sample)

    # same matrix both ways on the sample
    a = preprocess.rating_matrix(sample, index, dtype=np.float64)
    b = preprocess.seed_build_matrix(sample, index)
    assert (a != b).nnz == 0, "the two builds disagree"

    print(f"data: SYNTHETIC Beauty-shaped stand-in ({args.size}), seed filter + random 80/20")
    print(f"matrix: {index.n_users:,} users x {index.n_items:,} items, "
          f"{n:,} training ratings")
    print(f"machine: {platform.processor() or platform.machine()}, python "
          f"{platform.python_version()}")
    print()
    print(f"{'build':<44}{'ratings':>12}{'seconds':>12}")
    print(f"{'vectorised rating_matrix (measured)':<44}{len(sample):>12,}{fast_sample:>12.4f}")
    print(f"{'seed lil_matrix + apply (measured)':<44}{len(sample):>12,}{seed_sample:>12.4f}")
    print(f"{'vectorised rating_matrix (measured)':<44}{n:>12,}{fast_full:>12.4f}")
    print(f"{'seed lil_matrix + apply (EXTRAPOLATED)':<44}{n:>12,}"
          f"{seed_full_extrapolated:>12.1f}")
    print()
    print(f"ratio on the sample (measured both ways): {seed_sample / fast_sample:,.0f}x")
    print(f"ratio at full size (seed extrapolated linearly): "
          f"{seed_full_extrapolated / fast_full:,.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
