"""Test NLL of MDNRegressor on the seed's inverse problem.

Protocol (REFERENCES.md §1): model ``x | y`` of the inverted sinusoid with
1000 training rows; test NLL on fresh test rows. Each draw has its own
training data (seed ``1000 + d``) and its own ``random_state`` (``d``), so
a draw is what a new user with new data gets. Prints, for
``MDNRegressor()`` with its defaults and the seed's own recipe run through
MDNRegressor, the test NLL of every draw, their mean and worst, and the fit
time per draw, next to the Bayes limit (1.291).

Usage::

    python benchmarks/bench_quality.py [--draws 10] [--first-draw 0]
        [--set n_init=3 ...] [--ensemble] [--n-test 20000]
"""

from __future__ import annotations

import argparse
import ast
import time

import numpy as np

from skmdn import MDNEnsembleRegressor, MDNRegressor
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


def evaluate(params, draws, X_test, y_test, ensemble=None):
    """Test NLL and fit seconds of each draw; ``ensemble``: the parameters
    of an ``MDNEnsembleRegressor`` of such members instead of one network."""
    nlls, seconds = [], []
    for draw in draws:
        X, y = make_inverted_sinusoid(1000, random_state=1000 + draw)
        start = time.perf_counter()
        if ensemble is None:
            mdn = MDNRegressor(**params, random_state=draw)
        else:
            mdn = MDNEnsembleRegressor(
                MDNRegressor(**params), **ensemble, random_state=draw
            )
        mdn.fit(X, y)
        seconds.append(time.perf_counter() - start)
        nlls.append(-mdn.score(X_test, y_test))
    return np.array(nlls), np.array(seconds)


def _assignment(text):
    key, _, value = text.partition("=")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--first-draw", type=int, default=0)
    parser.add_argument("--n-test", type=int, default=20_000)
    parser.add_argument("--skip-seed-recipe", action="store_true")
    parser.add_argument(
        "--ensemble",
        action="store_true",
        help="also run MDNEnsembleRegressor() of default members, stopped "
        "member by member (its default) and as an ensemble",
    )
    parser.add_argument(
        "--set",
        action="append",
        type=_assignment,
        default=[],
        metavar="KEY=VALUE",
        help="also run the defaults with this parameter changed (repeatable)",
    )
    args = parser.parse_args(argv)
    X_test, y_test = make_inverted_sinusoid(args.n_test, random_state=12345)
    draws = range(args.first_draw, args.first_draw + args.draws)

    rows = [("MDNRegressor() defaults", {}, None)]
    rows += [
        (f"MDNRegressor({key}={value!r})", {key: value}, None)
        for key, value in args.set
    ]
    if not args.skip_seed_recipe:
        rows.append(
            ("seed recipe (1x20 tanh, 8000 full-batch epochs)", SEED_RECIPE, None)
        )
    if args.ensemble:
        rows.append(("MDNEnsembleRegressor() (5 members)", {}, {}))
        rows.append(
            (
                "MDNEnsembleRegressor(early_stopping='ensemble')",
                {},
                {"early_stopping": "ensemble"},
            )
        )
    print(
        f"inverse sinusoid x | y, n_train=1000, n_test={args.n_test}, "
        f"draws {draws.start}..{draws.stop - 1} (data seed 1000 + d, "
        f"random_state d); Bayes limit {BAYES_LIMIT}"
    )
    print(f"{'model':<50} {'mean':>6} {'worst':>6} {'fit s':>6}  per draw")
    results = {}
    for name, params, ensemble in rows:
        nlls, seconds = evaluate(params, draws, X_test, y_test, ensemble)
        per_draw = " ".join(f"{v:.3f}" for v in nlls)
        print(
            f"{name:<50} {nlls.mean():6.3f} {nlls.max():6.3f} "
            f"{seconds.mean():6.1f}  {per_draw}",
            flush=True,
        )
        results[name] = nlls
    return results


if __name__ == "__main__":
    main()
