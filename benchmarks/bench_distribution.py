"""Benchmark the vectorised MixtureDistribution against straightforward per-row code.

Builds a random batch of Gaussian mixtures (default 100,000 rows x 5
components) and times ``cdf``, ``ppf``, ``hdr``, ``modes`` and the closed-form
CRPS of skmdn on all rows, against a plain SciPy reference that loops over a
subsample of rows (``scipy.integrate.quad`` of the density for the cdf and the
CRPS, ``scipy.optimize.brentq`` for quantiles, a dense grid for the HDR and the
modes).  The reference time is extrapolated linearly to all rows.  The last
column is the largest disagreement between the two on the subsample.  A last
check times ``ppf`` and ``cdf`` on 20,000 rows against a 5 s limit: row-by-row
code would take seconds there.

Usage::

    python benchmarks/bench_distribution.py --rows 100000 --components 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import integrate, optimize
from scipy.special import ndtr

from skmdn import MixtureDistribution, metrics


def best_time(func, repeats):
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


# --------------------------------------------------------------------------- #
# Per-row reference implementations (plain SciPy, one row at a time)
# --------------------------------------------------------------------------- #
def row_pdf(w, mu, s):
    def pdf(x):
        z = (x - mu) / s
        return float(np.sum(w * np.exp(-0.5 * z * z) / (s * np.sqrt(2 * np.pi))))

    return pdf


def row_cdf(w, mu, s):
    def cdf(x):
        return float(np.sum(w * ndtr((x - mu) / s)))

    return cdf


def ref_cdf(w, mu, s, y):
    out = np.empty(len(y))
    for i in range(len(y)):
        out[i] = integrate.quad(
            row_pdf(w[i], mu[i], s[i]), -np.inf, y[i], epsabs=1e-13
        )[0]
    return out


def ref_ppf(w, mu, s, q):
    out = np.empty(len(q))
    for i in range(len(q)):
        cdf = row_cdf(w[i], mu[i], s[i])
        lo = np.min(mu[i] - 40 * s[i])
        hi = np.max(mu[i] + 40 * s[i])
        out[i] = optimize.brentq(
            lambda x, cdf=cdf, qi=q[i]: cdf(x) - qi, lo, hi, xtol=1e-13
        )
    return out


def ref_crps(w, mu, s, y):
    out = np.empty(len(y))
    for i in range(len(y)):
        cdf = row_cdf(w[i], mu[i], s[i])
        lo = np.min(mu[i] - 15 * s[i])
        hi = np.max(mu[i] + 15 * s[i])
        below = integrate.quad(lambda x, cdf=cdf: cdf(x) ** 2, lo, y[i], limit=200)[0]
        above = integrate.quad(
            lambda x, cdf=cdf: (1 - cdf(x)) ** 2, y[i], hi, limit=200
        )[0]
        out[i] = below + above
    return out


def row_grid(w, mu, s, n_grid, z):
    x = np.linspace(np.min(mu - z * s), np.max(mu + z * s), n_grid)
    zz = (x[:, None] - mu) / s
    p = np.sum(w * np.exp(-0.5 * zz * zz) / (s * np.sqrt(2 * np.pi)), axis=1)
    return x, p


def ref_hdr(w, mu, s, coverage, n_grid):
    """Per-row HDR on a dense grid: threshold and list of pieces."""
    thresholds, pieces = np.empty(len(w)), []
    for i in range(len(w)):
        x, p = row_grid(w[i], mu[i], s[i], n_grid, 9.0)
        order = np.argsort(p)[::-1]
        mass = np.cumsum(p[order]) * (x[1] - x[0])
        t = p[order[np.searchsorted(mass, coverage)]]
        inside = np.concatenate([[False], p >= t, [False]])
        edges = np.flatnonzero(np.diff(inside.astype(np.int8)))
        thresholds[i] = t
        pieces.append(x[np.minimum(edges, n_grid - 1)].reshape(-1, 2))
    return thresholds, pieces


def ref_modes(w, mu, s, n_grid):
    out = []
    for i in range(len(w)):
        x, p = row_grid(w[i], mu[i], s[i], n_grid, 0.0)
        peak = np.flatnonzero((p[1:-1] > p[:-2]) & (p[1:-1] >= p[2:])) + 1
        if p[0] > p[1]:
            peak = np.concatenate([[0], peak])
        if p[-1] > p[-2]:
            peak = np.concatenate([peak, [n_grid - 1]])
        out.append(np.sort(x[peak]))
    return out


# --------------------------------------------------------------------------- #
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--components", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ref-rows", type=int, default=2_000, help="rows of the reference"
    )
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--coverage", type=float, default=0.9)
    parser.add_argument(
        "--grid", type=int, default=20_001, help="reference grid points"
    )
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    n, K = args.rows, args.components
    w = rng.dirichlet(np.ones(K), n)
    mu = rng.normal(0.0, 3.0, (n, K))
    s = np.exp(rng.normal(0.0, 0.5, (n, K)))
    dist = MixtureDistribution(w, mu, s)
    y = dist.sample(1, random_state=args.seed)[:, 0]
    q = rng.uniform(0.0, 1.0, n)
    m = min(args.ref_rows, n)
    sub = rng.choice(n, m, replace=False)
    ws, mus, ss = w[sub], mu[sub], s[sub]
    scale = n / m

    print(
        f"MixtureDistribution: {n:,} rows x {K} components; reference on {m:,} rows, "
        f"extrapolated; skmdn best of {args.repeats}.\n"
    )
    rows = []

    t_fast, F = best_time(lambda: dist.cdf(y), args.repeats)
    t_ref, F_ref = best_time(lambda: ref_cdf(ws, mus, ss, y[sub]), 1)
    rows.append(
        ("cdf", t_fast, t_ref * scale, f"{np.max(np.abs(F[sub] - F_ref)):.1e} (abs)")
    )

    t_fast, x = best_time(lambda: dist.ppf(q), args.repeats)
    t_ref, x_ref = best_time(lambda: ref_ppf(ws, mus, ss, q[sub]), 1)
    err_cdf = np.max(np.abs(dist.cdf(x) - q))
    rows.append(
        (
            "ppf",
            t_fast,
            t_ref * scale,
            f"{np.max(np.abs(x[sub] - x_ref)):.1e} (x); "
            f"|cdf(ppf(q)) - q| <= {err_cdf:.0e}",
        )
    )

    c = args.coverage
    t_fast, region = best_time(lambda: dist.hdr(c), args.repeats)
    t_ref, (thr_ref, pieces_ref) = best_time(
        lambda: ref_hdr(ws, mus, ss, c, args.grid), 1
    )
    fast_pieces = region.to_list()
    same = [len(pieces_ref[j]) == region.n_intervals[i] for j, i in enumerate(sub)]
    diffs = [
        np.max(np.abs(np.asarray(fast_pieces[i]) - pieces_ref[j]))
        for j, i in enumerate(sub)
        if same[j]
    ]
    span = np.max(mus + 9 * ss, axis=1) - np.min(mus - 9 * ss, axis=1)
    step = np.median(span) / (args.grid - 1)
    rows.append(
        (
            f"hdr({c})",
            t_fast,
            t_ref * scale,
            f"{max(diffs):.1e} (ends, grid step ~{step:.0e}); "
            f"{m - sum(same)} rows differ in pieces; "
            f"|coverage - {c}| <= {np.max(np.abs(region.coverage - c)):.0e}",
        )
    )

    t_fast, (loc, _) = best_time(dist.modes, args.repeats)
    t_ref, modes_ref = best_time(lambda: ref_modes(ws, mus, ss, args.grid), 1)
    found = [np.sort(loc[i][~np.isnan(loc[i])]) for i in sub]
    same = [len(a) == len(b) for a, b in zip(found, modes_ref)]
    diffs = [np.max(np.abs(a - b)) for a, b, ok in zip(found, modes_ref, same) if ok]
    rows.append(
        (
            "modes",
            t_fast,
            t_ref * scale,
            f"{max(diffs):.1e} (x); {m - sum(same)} rows differ in count",
        )
    )

    t_fast, score = best_time(lambda: metrics.crps(y, dist, reduce=False), args.repeats)
    t_ref, score_ref = best_time(lambda: ref_crps(ws, mus, ss, y[sub]), 1)
    rows.append(
        ("crps", t_fast, t_ref * scale, f"{np.max(np.abs(score[sub] - score_ref)):.1e}")
    )

    header = (
        "operation",
        "skmdn [s]",
        "reference [s]",
        "speed-up",
        "largest disagreement",
    )
    print(
        f"{header[0]:<10} {header[1]:>10} {header[2]:>14} {header[3]:>9}  {header[4]}"
    )
    for name, fast, ref, note in rows:
        print(f"{name:<10} {fast:>10.3f} {ref:>14.1f} {ref / fast:>8.0f}x  {note}")
    check_vectorised(args.seed)


def check_vectorised(seed, n=20_000, limit=5.0):
    """Print whether ppf and cdf of ``n`` rows take vectorised time."""
    rng = np.random.default_rng(seed + 5)
    w = rng.dirichlet(np.ones(5), n)
    mu = rng.normal(0.0, 3.0, (n, 5))
    dist = MixtureDistribution(w, mu, np.exp(rng.normal(0.0, 0.5, (n, 5))))
    start = time.perf_counter()
    dist.ppf(0.3)
    dist.cdf(0.3)
    took = time.perf_counter() - start
    verdict = "ok" if took < limit else "TOO SLOW: not vectorised?"
    print(
        f"\nvectorised: ppf and cdf of {n:,} rows in {took:.3f} s "
        f"(limit {limit:.0f} s): {verdict}"
    )


if __name__ == "__main__":
    main()
