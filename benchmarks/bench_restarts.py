"""Cost of restarts and ensemble members trained together, against one fit.

``MDNRegressor(n_init=K)`` and ``MDNEnsembleRegressor(n_estimators=K)``
train their K networks as one stacked model. This script times them
against a single network (``n_init=1``) on the same data, in the same
process, alternating, and prints the ratios and the test NLLs; below 2,000
rows it times ``MDNRegressor()`` too, whose ``n_init="auto"`` trains three
restarts there. Two problems: the
seed's inverse problem (1000 training rows) and the same generator with
10,000 rows.

Usage::

    python benchmarks/bench_restarts.py [--k 5] [--repeats 2]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from skmdn import MDNEnsembleRegressor, MDNRegressor
from skmdn.datasets import make_inverted_sinusoid


def timed_fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    X_test, y_test = make_inverted_sinusoid(20_000, random_state=12345)
    # The first fit of a process pays for imports (about 2 s: the optimizer
    # pulls in torch._dynamo); a short warm-up keeps them out of the timings.
    MDNRegressor(max_epochs=2, random_state=0).fit(*make_inverted_sinusoid(100))
    print(
        f"torch {torch.__version__}, 1 thread, {platform.machine()}; "
        f"K = {args.k}; times are the best of {args.repeats}, alternating"
    )
    header = f"{'n_train':>8} {'model':<34} {'fit s':>7} {'ratio':>6} {'epochs':>7}"
    print(header + f" {'test NLL':>9}")
    for n in (int(v) for v in args.sizes.split(",")):
        X, y = make_inverted_sinusoid(n, random_state=n)
        models = {
            "MDNRegressor(n_init=1)": lambda: MDNRegressor(n_init=1, random_state=0),
            f"MDNRegressor(n_init={args.k})": lambda: MDNRegressor(
                n_init=args.k, random_state=0
            ),
            f"MDNEnsembleRegressor({args.k})": lambda: MDNEnsembleRegressor(
                n_estimators=args.k, random_state=0
            ),
        }
        if MDNRegressor()._resolve_n_init(n) != 1:
            models["MDNRegressor() (n_init='auto')"] = lambda: MDNRegressor(
                random_state=0
            )
        best = dict.fromkeys(models, np.inf)
        fitted = {}
        for _ in range(args.repeats):
            for name, make in models.items():
                model = make()
                best[name] = min(best[name], timed_fit(model, X, y))
                fitted[name] = model
        base = best["MDNRegressor(n_init=1)"]
        for name, seconds in best.items():
            model = fitted[name]
            epochs = getattr(model, "n_iter_", None)
            if epochs is None:
                epochs = model.estimators_[0].n_iter_
            nll = -model.score(X_test, y_test)
            print(
                f"{n:>8} {name:<34} {seconds:7.2f} {seconds / base:6.2f} "
                f"{epochs:>7} {nll:9.3f}"
            )


if __name__ == "__main__":
    main()
