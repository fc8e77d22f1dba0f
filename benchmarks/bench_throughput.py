"""Prediction throughput of a fitted MDNRegressor on 1,000,000 rows.

Times ``predict``, ``predict_proba_density``, ``sample``,
``predict_quantiles`` and ``predict_interval(method="hdr")`` and prints rows
per second, with the peak resident memory of the process after each call
(the network runs in chunks of 65,536 rows, so memory grows with the
mixture parameters of the output, not with the network's activations).

Usage::

    python benchmarks/bench_throughput.py [--rows 1000000] [--features 8]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from skmdn import MDNRegressor


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(2000, args.features))
    y_train = np.sin(X_train[:, 0]) + 0.3 * rng.normal(size=2000)
    mdn = MDNRegressor(max_epochs=20, random_state=0).fit(X_train, y_train)
    X = rng.normal(size=(args.rows, args.features))
    y = rng.normal(size=args.rows)

    calls = {
        "predict": lambda: mdn.predict(X),
        "predict(return_std=True)": lambda: mdn.predict(X, return_std=True),
        "predict_proba_density": lambda: mdn.predict_proba_density(X, y),
        "sample(n_samples=1)": lambda: mdn.sample(X, random_state=0),
        "predict_quantiles([.05, .5, .95])": lambda: mdn.predict_quantiles(X),
        "predict_interval(hdr, 0.9)": lambda: mdn.predict_interval(X, method="hdr"),
    }
    print(
        f"MDNRegressor() defaults (5 components, 32x32 tanh), {args.features} "
        f"features, {args.rows:,} rows, best of {args.repeats}"
    )
    print(f"{'call':<36} {'seconds':>8} {'rows/s':>12} {'peak RSS MB':>12}")
    for name, call in calls.items():
        best = np.inf
        for _ in range(args.repeats):
            start = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - start)
        print(f"{name:<36} {best:8.2f} {args.rows / best:12,.0f} {peak_rss_mb():12.0f}")


if __name__ == "__main__":
    main()
