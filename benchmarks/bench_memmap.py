"""Fitting from a NumPy memmap: memory and time against the same data in memory.

The two-branch problem of ``bench_scaling.py`` (20 features, known density)
is written, a chunk at a time, to a float32 ``.npy`` file. Two fits of
``MDNRegressor(max_epochs=E, random_state=0)`` then run, each in its own
process: one on the array loaded into memory, one on ``np.load(...,
mmap_mode="r")``, which training reads batch by batch. For each the script
prints the fit time and the peak anonymous memory of the process (``RssAnon``
sampled every 20 ms: the file's pages in the page cache are the operating
system's, evictable, and not counted), and checks that both give the same
predictions. The memmap fit holds the targets, one validation split and
the network in memory, not the inputs.

Usage::

    python benchmarks/bench_memmap.py [--rows 2000000] [--epochs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_scaling import N_FEATURES, make_two_branches  # noqa: E402

CHUNK = 200_000


def rss_anon_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def write_data(path, n):
    X = np.lib.format.open_memmap(
        path + ".X.npy", mode="w+", dtype=np.float32, shape=(n, N_FEATURES)
    )
    y = np.empty(n)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        Xc, yc, _ = make_two_branches(stop - start, random_state=start)
        X[start:stop], y[start:stop] = Xc, yc
    X.flush()
    np.save(path + ".y.npy", y)


def run_one(path, mode, epochs):
    import torch

    from skmdn import MDNRegressor

    torch.set_num_threads(1)
    peak = [rss_anon_mb()]
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_anon_mb())

    X = np.load(path + ".X.npy", mmap_mode="r" if mode == "memmap" else None)
    y = np.load(path + ".y.npy")
    before = rss_anon_mb()
    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    start = time.perf_counter()
    mdn = MDNRegressor(max_epochs=epochs, random_state=0).fit(X, y)
    fit_time = time.perf_counter() - start
    done.set()
    watcher.join()
    X_test, y_test, log_p = make_two_branches(20_000, random_state=-1 % 2**32)
    pred = mdn.predict(X_test[:1000])
    return {
        "mode": mode,
        "fit_time": fit_time,
        "peak_mb": max(peak[0], rss_anon_mb()),
        "before_mb": before,
        "gap": float(-mdn.score(X_test, y_test) + log_p.mean()),
        "pred": pred.tolist(),
        "batch_size": mdn.batch_size_,
        "epochs": mdn.n_iter_,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--one", nargs=2, metavar=("PATH", "MODE"), help="internal")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(*args.one, args.epochs)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data")
        write_data(path, args.rows)
        size_mb = os.path.getsize(path + ".X.npy") / 2**20
        print(
            f"{args.rows:,} rows x {N_FEATURES} features, float32 X on disk: "
            f"{size_mb:.0f} MB; MDNRegressor(max_epochs={args.epochs}), one "
            "thread, each fit in its own process"
        )
        results = {}
        for mode in ("memory", "memmap"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--epochs",
                    str(args.epochs),
                    "--one",
                    path,
                    mode,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            results[mode] = r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"  {mode:7s} fit {r['fit_time']:6.1f} s ({r['epochs']} epochs, "
                f"batch {r['batch_size']}), peak anonymous memory "
                f"{r['peak_mb']:6.0f} MB ({r['peak_mb'] - r['before_mb']:+.0f} MB "
                f"during fit), NLL - truth {r['gap']:.4f}"
            )
        mem, mm = results["memory"], results["memmap"]
        same = mem["pred"] == mm["pred"]
        print(
            f"memmap / memory: fit time {mm['fit_time'] / mem['fit_time']:.2f}, "
            f"peak memory {mm['peak_mb'] / mem['peak_mb']:.2f}; identical "
            f"predictions: {same}"
        )


if __name__ == "__main__":
    main()
