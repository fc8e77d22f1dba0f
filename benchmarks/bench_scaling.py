"""How MDNRegressor() scales with the number of rows.

A two-branch problem with a known conditional density: ``x ~ N(0, I_20)``,
``y = +-(1 + 0.5 tanh(u.x)) + 0.3 v.x + s(x) eps`` with each branch of
probability 1/2 and ``s(x) = 0.2 + 0.1 sigmoid(x_0)``. For each training
size ``n`` (default 10^3 ... 10^6) a default fit runs in its own process
(so that its peak memory is its own), and the script prints the epoch time,
the fit time, the batch size and patience chosen by ``"auto"``, the peak
resident memory of the whole process, and the test NLL against the true
conditional entropy (the NLL of the true density on the same test rows).
``--reference`` adds a long fit (batch 256, patience 50, 4000 epochs at
most) to compare the default's NLL with a converged fit of the same model.

Usage::

    python benchmarks/bench_scaling.py [--sizes 1000,10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
from scipy.special import expit, logsumexp

N_FEATURES = 20
N_TEST = 20_000


def make_two_branches(n, random_state):
    """Rows of the two-branch problem and the true log density of each."""
    rng = np.random.default_rng(random_state)
    u = np.random.default_rng(0).normal(size=N_FEATURES) / np.sqrt(N_FEATURES)
    v = np.random.default_rng(1).normal(size=N_FEATURES) / np.sqrt(N_FEATURES)
    X = rng.normal(size=(n, N_FEATURES))
    centre = 1.0 + 0.5 * np.tanh(X @ u)
    shift = 0.3 * X @ v
    scale = 0.2 + 0.1 * expit(X[:, 0])
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    y = sign * centre + shift + scale * rng.normal(size=n)
    z = (y[:, None] - shift[:, None] - np.stack([centre, -centre], axis=1)) / scale[
        :, None
    ]
    log_p = (
        logsumexp(-0.5 * z * z, axis=1)
        - np.log(2.0)
        - np.log(scale)
        - 0.5 * np.log(2 * np.pi)
    )
    return X, y, log_p


def run_one(n, reference):
    import torch

    from skmdn import MDNRegressor

    torch.set_num_threads(1)
    X, y, _ = make_two_branches(n, random_state=n)
    X_test, y_test, log_p = make_two_branches(N_TEST, random_state=7)
    params = {}
    if reference:
        params = dict(batch_size=256, patience=50, max_epochs=4000)
    start = time.perf_counter()
    mdn = MDNRegressor(random_state=0, **params).fit(X, y)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "n": n,
        "fit_s": seconds,
        "epochs": mdn.n_iter_,
        "epoch_s": seconds / mdn.n_iter_,
        "batch_size": mdn.batch_size_,
        "patience": mdn.patience_,
        "peak_mb": peak_mb,
        "nll": float(-mdn.score(X_test, y_test)),
        "truth": float(-log_p.mean()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.reference)))
        return
    print(
        f"two-branch problem, {N_FEATURES} features, {N_TEST} test rows; "
        "MDNRegressor() defaults, 1 thread, each size in its own process"
    )
    cols = (
        "n       batch patience epochs  epoch s   fit s  peak MB  test NLL  truth   gap"
    )
    print(cols)
    for n in (int(v) for v in args.sizes.split(",")):
        for reference in [False, True] if args.reference else [False]:
            cmd = [sys.executable, __file__, "--one", str(n)]
            if reference:
                cmd.append("--reference")
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            label = f"{n}" + (" (long fit)" if reference else "")
            print(
                f"{label:<8}{r['batch_size']:>5} {r['patience']:>8} {r['epochs']:>6}"
                f" {r['epoch_s']:8.3f} {r['fit_s']:7.1f} {r['peak_mb']:8.0f}"
                f" {r['nll']:9.4f} {r['truth']:6.4f} {r['nll'] - r['truth']:6.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
