"""The first fit of a fresh process against the second fit in the same process.

Each trial starts a new Python interpreter that imports skmdn, then fits
``MDNRegressor`` twice on the same data (700 rows x 8 features, the size of
the UCI energy set; 20 epochs without early stopping, so both fits run the
same steps) and reports both times. Their ratio is the one-off cost a user
pays on the first fit of a session, a CLI call or each worker of a parallel
search; it is 1.0 when nothing but the fit itself is paid. Also printed:
whether ``torch._dynamo`` (which ``torch.optim`` imports lazily, about 1.5 s)
was imported by the fits.

Usage::

    python benchmarks/bench_first_fit.py [--trials 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

TRIAL = """
import json, sys, time
import numpy as np
from skmdn import MDNRegressor
rng = np.random.RandomState(0)
X = rng.randn(700, 8)
y = X[:, 0] + 0.3 * rng.randn(700)
times = []
for _ in range(2):
    start = time.perf_counter()
    MDNRegressor(max_epochs=20, early_stopping=False, random_state=0).fit(X, y)
    times.append(time.perf_counter() - start)
print(json.dumps({"times": times, "dynamo": "torch._dynamo" in sys.modules}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args(argv)
    rows = []
    for _ in range(args.trials):
        out = subprocess.run(
            [sys.executable, "-c", TRIAL], capture_output=True, text=True, check=True
        )
        rows.append(json.loads(out.stdout.splitlines()[-1]))
    first = np.array([r["times"][0] for r in rows])
    second = np.array([r["times"][1] for r in rows])
    print(f"{'trial':>5} {'first s':>8} {'second s':>9} {'ratio':>6}  torch._dynamo")
    for i, r in enumerate(rows):
        a, b = r["times"]
        print(f"{i:>5} {a:8.3f} {b:9.3f} {a / b:6.2f}  {r['dynamo']}")
    print(
        f"median ratio first / second fit: {np.median(first / second):.2f} "
        f"(first {np.median(first):.3f} s, second {np.median(second):.3f} s)"
    )
    return first, second


if __name__ == "__main__":
    main()
