"""Test NLL of MDNRegressor on the seed's inverse problem.

Protocol (REFERENCES.md §1): model ``x | y`` of the inverted sinusoid with
1000 training rows; test NLL on fresh test rows; mean over training draws.
Prints ``MDNRegressor()`` with its defaults and the seed's own recipe run
through MDNRegressor, next to the Bayes limit (1.291).

Usage::

    python benchmarks/bench_quality.py [--draws 3] [--n-test 20000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from skmdn import MDNRegressor
from skmdn.datasets import make_inverted_sinusoid

BAYES_LIMIT = 1.291
SEED_RECIPE = dict(
    n_components=5,
    hidden_layer_sizes=(20,),
    lr=1e-3,
    batch_size=None,
    max_epochs=8000,
    early_stopping=False,
    lr_schedule=None,
)


def evaluate(params, draws, X_test, y_test):
    nlls, seconds = [], []
    for draw in range(draws):
        X, y = make_inverted_sinusoid(1000, random_state=draw)
        start = time.perf_counter()
        mdn = MDNRegressor(**params, random_state=draw).fit(X, y)
        seconds.append(time.perf_counter() - start)
        nlls.append(-mdn.score(X_test, y_test))
    return np.array(nlls), np.array(seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--n-test", type=int, default=20_000)
    parser.add_argument("--skip-seed-recipe", action="store_true")
    args = parser.parse_args(argv)
    X_test, y_test = make_inverted_sinusoid(args.n_test, random_state=12345)

    rows = [("MDNRegressor() defaults", {})]
    if not args.skip_seed_recipe:
        rows.append(("seed recipe (1x20 tanh, 8000 full-batch epochs)", SEED_RECIPE))
    print(
        f"inverse sinusoid x | y, n_train=1000, n_test={args.n_test}, "
        f"{args.draws} training draws; Bayes limit {BAYES_LIMIT}"
    )
    print(f"{'model':<50} {'test NLL':>9} {'per draw':>24} {'fit s':>6}")
    results = {}
    for name, params in rows:
        nlls, seconds = evaluate(params, args.draws, X_test, y_test)
        per_draw = " ".join(f"{v:.3f}" for v in nlls)
        print(f"{name:<50} {nlls.mean():9.3f} {per_draw:>24} {seconds.mean():6.1f}")
        results[name] = nlls.mean()
    return results


if __name__ == "__main__":
    main()
