"""Multi-output MDNs: joint densities and the robot-arm inverse problem.

1. Correlated mixture (``skmdn.datasets.make_correlated_mixture``): a 2-D
   target whose true conditional density is known. Prints the test NLL of
   ``covariance_type="full"`` and ``"diag"`` next to the true conditional
   entropy (the NLL of the true density on the same test rows), and the
   energy score of each.
2. Robot arm (``make_robot_arm``): given the hand position, predict the two
   joint angles. Prints the median end-effector error of angles sampled from
   the MDN, of the MDN's most probable component mean, and of a
   mean-squared-error ``MLPRegressor`` (which averages elbow-up and
   elbow-down solutions).

Usage::

    python benchmarks/bench_multivariate.py [--n-train 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmdn import MDNRegressor
from skmdn.datasets import make_correlated_mixture, make_robot_arm, robot_arm_forward
from skmdn.metrics import energy_score


def correlated_mixture(n_train, n_test, seed, batch_size):
    X, y = make_correlated_mixture(n_train, random_state=seed)
    X_test, y_test, truth = make_correlated_mixture(
        n_test, random_state=seed + 1, return_distribution=True
    )
    entropy = -truth.logpdf(y_test).mean()
    print(f"correlated bivariate mixture: n_train={n_train}, n_test={n_test}")
    print(f"{'model':<36} {'test NLL':>9} {'- truth':>8} {'energy':>8} {'fit s':>7}")
    es_truth = energy_score(y_test[:2000], truth[:2000], random_state=0)
    print(f"{'true conditional density':<36} {entropy:9.3f} {0:8.3f} {es_truth:8.4f}")
    results = {"truth": entropy}
    for covariance_type in ["full", "diag"]:
        start = time.perf_counter()
        mdn = MDNRegressor(
            covariance_type=covariance_type, batch_size=batch_size, random_state=seed
        ).fit(X, y)
        seconds = time.perf_counter() - start
        nll = -mdn.score(X_test, y_test)
        es = energy_score(
            y_test[:2000], mdn.predict_dist(X_test[:2000]), random_state=0
        )
        name = f'MDNRegressor(covariance_type="{covariance_type}")'
        print(f"{name:<36} {nll:9.3f} {nll - entropy:8.3f} {es:8.4f} {seconds:7.1f}")
        results[covariance_type] = nll
    return results


def robot_arm(n_train, n_test, seed, batch_size):
    X, y = make_robot_arm(n_train, random_state=seed)
    X_test, _ = make_robot_arm(n_test, random_state=seed + 1)
    mdn = MDNRegressor(covariance_type="full", batch_size=batch_size, random_state=seed)
    mdn.fit(X, y)
    mlp = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=500, random_state=seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)

    def hand_error(angles):
        return np.linalg.norm(robot_arm_forward(angles) - X_test, axis=1)

    dist = mdn.predict_dist(X_test)
    best = dist.means[np.arange(len(X_test)), dist.weights.argmax(axis=1)]
    sampled = mdn.sample(X_test, n_samples=1, random_state=seed)[:, 0, :]
    rows = {
        "MDN: angles sampled from p(y | x)": hand_error(sampled),
        "MDN: mean of the heaviest component": hand_error(best),
        "MDN: conditional mean (predict)": hand_error(mdn.predict(X_test)),
        "MLPRegressor (MSE) prediction": hand_error(mlp.predict(X_test)),
    }
    print(f"\nrobot arm (links 0.8, 0.2): n_train={n_train}, n_test={n_test}")
    print(f"{'angles from':<40} {'median hand error':>18} {'90th pct':>9}")
    for name, err in rows.items():
        print(f"{name:<40} {np.median(err):18.4f} {np.quantile(err, 0.9):9.4f}")
    return {name: float(np.median(err)) for name, err in rows.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--n-test", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    correlated_mixture(args.n_train, args.n_test, args.seed, args.batch_size)
    robot_arm(args.n_train // 2, args.n_test // 4, args.seed, args.batch_size)


if __name__ == "__main__":
    main()
