"""The tuned recipe's grid search: n_jobs=1 against a 2-worker LocalCluster.

The search is the UCI benchmark's ``mdn-tuned`` model
(``uci_models.make_model``: ``GridSearchCV(MDNRegressor(random_state=split),
TUNING_GRIDS[grid], cv=KFold(3, shuffle=True))`` with its refit) on the
training rows of one split of a UCI dataset, optionally a random subset of
them. In one process it runs first locally with ``n_jobs=1``, then on a
``LocalCluster`` of ``--workers`` single-threaded worker processes through
joblib's Dask backend (``forkserver`` workers, data scattered once), and
prints both wall times, the speed-up and whether the two searches agree.
Starting the cluster and the workers' first import of skmdn are timed
apart and not counted in the search; ``--repeats`` alternates the two.

Usage::

    python benchmarks/bench_distributed.py [--dataset kin8nm] [--rows 3000]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

# Run as a file: make the sibling UCI modules importable from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from uci import DEFAULT_DATA, load_dataset  # noqa: E402
from uci_models import TUNING_GRIDS, BenchmarkOptions, make_model  # noqa: E402


def tuned_search(split, grid, folds, n_train):
    """The benchmark's ``mdn-tuned`` grid search, with ``folds`` inner folds."""
    from sklearn.model_selection import KFold

    options = BenchmarkOptions(grid=grid, n_jobs=None)
    search = make_model("mdn-tuned", split, options, n_train).estimator
    return search.set_params(cv=KFold(folds, shuffle=True, random_state=split))


def training_rows(dataset, split, rows):
    """The training rows of ``split``, or a seeded subset of ``rows`` of them."""
    train, _ = dataset.splits[split]
    if rows is not None and rows < len(train):
        train = np.random.default_rng(split).choice(train, rows, replace=False)
    return dataset.X[train], dataset.y[train]


def timed_fit(search, X, y):
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start


def same_results(a, b):
    """Whether two searches have the same candidates, test scores and ranks."""
    if a.cv_results_["params"] != b.cv_results_["params"]:
        return False
    return all(
        np.array_equal(a.cv_results_[k], b.cv_results_[k])
        for k in a.cv_results_
        if "test_" in k
    )


def _import_skmdn():
    import skmdn

    return skmdn.__version__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--dataset", default="kin8nm")
    parser.add_argument("--split", type=int, default=0)
    parser.add_argument(
        "--rows", type=int, default=None, help="subsample the training rows"
    )
    parser.add_argument("--grid", choices=sorted(TUNING_GRIDS), default="tiny")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--repeats", type=int, default=1, help="alternate local and Dask runs"
    )
    args = parser.parse_args(argv)

    import dask
    import torch
    from distributed import Client, LocalCluster
    from joblib import parallel_config
    from sklearn.base import clone
    from sklearn.model_selection import ParameterGrid

    torch.set_num_threads(1)
    dataset = load_dataset(args.data, args.dataset)
    X, y = training_rows(dataset, args.split, args.rows)
    search = tuned_search(args.split, args.grid, args.folds, len(X))
    n_candidates = len(ParameterGrid(search.param_grid))
    print(
        f"torch {torch.__version__}, dask {dask.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} cores; load average "
        f"{os.getloadavg()[0]:.2f} at the start"
    )
    print(
        f"{args.dataset} split {args.split}: {len(X)} training rows"
        f"{' (a random subset)' if args.rows else ''}; grid {args.grid!r} "
        f"({n_candidates} candidates x {args.folds} folds = "
        f"{n_candidates * args.folds} fits, "
        "then the refit); MDNRegressor defaults, num_threads=1"
    )

    start = time.perf_counter()
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, dashboard_address=":0"
        )
    with cluster, Client(cluster) as client:
        startup_s = time.perf_counter() - start
        start = time.perf_counter()
        client.run(_import_skmdn)
        warmup_s = time.perf_counter() - start
        print(
            f"cluster start {startup_s:.1f} s, workers' first import of skmdn "
            f"{warmup_s:.1f} s (in no time below)",
            flush=True,
        )
        runs = {"local": [], "dask": []}
        for repeat in range(args.repeats):
            local = clone(search).set_params(n_jobs=1)
            runs["local"].append((timed_fit(local, X, y), local))
            _report(f"[{repeat}] local, n_jobs=1", *runs["local"][-1])
            remote = clone(search).set_params(n_jobs=-1)
            with parallel_config(backend="dask", scatter=[X, y]):
                runs["dask"].append((timed_fit(remote, X, y), remote))
            _report(
                f"[{repeat}] LocalCluster, {args.workers} workers x 1 thread",
                *runs["dask"][-1],
            )
        start = time.perf_counter()
    close_s = time.perf_counter() - start

    (local_s, local), (remote_s, remote) = (min(r, key=_seconds) for r in runs.values())
    speedup = local_s / remote_s
    without_refit = (local_s - local.refit_time_) / (remote_s - remote.refit_time_)
    best = "the best of each" if args.repeats > 1 else "one run each"
    print(
        f"speed-up ({best}) {speedup:.2f}x with the refit, which runs in the "
        f"client either way; {without_refit:.2f}x for the cross-validation fits"
    )
    same = all(same_results(local, fitted) for _, fitted in runs["dask"])
    print(
        "same cv_results_ (params, test scores, ranks): "
        f"{'yes' if same else 'NO'}; best {local.best_params_}; cluster close "
        f"{close_s:.1f} s; load average {os.getloadavg()[0]:.2f} at the end"
    )


def _seconds(run):
    return run[0]


def _report(name, seconds, fitted):
    refit = fitted.refit_time_
    print(
        f"{name:<42} {seconds:7.1f} s, of which refit {refit:5.1f} s "
        f"(cross-validation {seconds - refit:7.1f} s)",
        flush=True,
    )


if __name__ == "__main__":
    main()
