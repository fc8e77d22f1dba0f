"""Known-density suite: every model against the true conditional density.

For each generator of ``known_density.py`` (heteroscedastic Gaussian, two and
three branches, log-normal, Student t, correlated 2-D target) and each
training size, every model is fitted on the same draws and scored on the
same test draws (the test set depends on the generator only) by

- **gap**: test NLL minus the true NLL of the same points, mean ± standard
  error over the test points (paired, so the test noise cancels): the
  excess over the true conditional entropy, zero for the truth;
- **CRPS** (``skmdn.metrics.crps``; for the 2-D target the energy score,
  ``skmdn.metrics.energy_score``, 1000 draws);
- **PIT KS**: the Kolmogorov-Smirnov statistic of the PIT values against
  U(0, 1) (about ``1 / sqrt(n_test)`` for a calibrated model; 1-D only);
- **cover90**: the fraction of test targets inside the central 90 % interval
  (1-D only);
- the fit time, and its ratio to ``mdn``'s fit on the same data in the same
  process.

The ``truth`` row scores the generator's own density: its CRPS and PIT KS
are the floor a model can reach on these test points.

Usage::

    python benchmarks/bench_known_density.py --n-train 500,5000 \\
        --out benchmarks/results/known-density.md
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from known_density import GENERATORS  # noqa: E402
from uci import _parse_list, package_versions  # noqa: E402
from uci_models import BenchmarkOptions, check_available, make_model  # noqa: E402

MODELS = (
    "mdn",
    "mdn-ensemble",
    "deep-ensemble",
    "ngboost",
    "xgb-distribution",
    "gp",
    "gaussian-baseline",
)
# Models that fit a 2-D target here (the boosting peers and the Gaussian
# baselines are one-output models in this benchmark).
MULTI_OUTPUT = ("mdn", "mdn-ensemble", "deep-ensemble")
REFERENCE = "mdn"
N_TRAIN = (500, 5000, 50000)
TRUTH_DRAWS = 1000
ENERGY_DRAWS = 1000


def _as_distribution(dist):
    from skmdn import MixtureDistribution

    return MixtureDistribution(*dist) if isinstance(dist, tuple) else dist


def score_distribution(dist, X, y, true_logpdf, random_state=0):
    """Score one predictive distribution on the test points.

    Parameters
    ----------
    dist : distribution or tuple
        What ``skmdn.metrics`` takes: a mixture distribution, or a tuple
        ``(weights, means, scales)``.
    X : ndarray of shape (n_test, 1)
    y : ndarray of shape (n_test,) or (n_test, 2)
    true_logpdf : ndarray of shape (n_test,)
        The generator's exact log density at the test points.
    random_state : int
        Seed of the energy score's draws.

    Returns
    -------
    dict
        ``gap``, ``gap_se``, ``nll``, ``crps`` (energy score for 2-D),
        ``pit_ks`` and ``cover90`` (NaN for 2-D).
    """
    from skmdn.metrics import crps, energy_score, interval_coverage, pit

    dist = _as_distribution(dist)
    log_lik = dist.logpdf(y)
    excess = true_logpdf - log_lik
    scores = {
        "gap": float(excess.mean()),
        "gap_se": float(excess.std() / np.sqrt(len(excess))),
        "nll": float(-log_lik.mean()),
        "pit_ks": np.nan,
        "cover90": np.nan,
    }
    if y.ndim == 2:
        scores["crps"] = float(
            energy_score(y, dist, n_samples=ENERGY_DRAWS, random_state=random_state)
        )
        return scores
    scores["crps"] = float(crps(y, dist))
    scores["pit_ks"] = float(stats.kstest(pit(y, dist), "uniform").statistic)
    lower, upper = dist.interval(0.9)
    scores["cover90"] = float(interval_coverage(y, lower, upper))
    return scores


def score_truth(gen, X, y, random_state=0):
    """The scores of the generator's own density on the test points.

    Parameters
    ----------
    gen : known_density.KnownDensity
    X, y : ndarray
        Test points.
    random_state : int
        Seed of the Monte Carlo draws (CRPS of non-mixtures, energy score).

    Returns
    -------
    dict
        As :func:`score_distribution`, with a gap of zero.
    """
    from skmdn import MultivariateMixtureDistribution
    from skmdn.metrics import crps

    true_logpdf = gen.logpdf(X, y)
    x = X[:, 0]
    if gen.n_outputs == 2:
        means, L = gen.cholesky(x)
        dist = MultivariateMixtureDistribution(
            np.ones((len(x), 1)), means[:, None, :], L[:, None]
        )
        return score_distribution(dist, X, y, true_logpdf, random_state)
    if hasattr(gen, "mixture"):
        crps_value = float(crps(y, gen.mixture(x)))
    else:
        # CRPS = E|Y - y| - E|Y - Y'| / 2 from independent draws of p(y | x).
        draws = gen.sample_y(X, TRUTH_DRAWS, random_state)
        half = TRUTH_DRAWS // 2
        spread = np.abs(draws[:, :half] - draws[:, half : 2 * half]).mean(axis=1)
        crps_value = float(
            np.mean(np.abs(draws - y[:, None]).mean(axis=1) - spread / 2)
        )
    lower, upper = gen.ppf(X, 0.05), gen.ppf(X, 0.95)
    return {
        "gap": 0.0,
        "gap_se": 0.0,
        "nll": float(-true_logpdf.mean()),
        "crps": crps_value,
        "pit_ks": float(stats.kstest(gen.cdf(X, y), "uniform").statistic),
        "cover90": float(np.mean((y >= lower) & (y <= upper))),
    }


def run_suite(generators, sizes, models, n_test, seed, options, log=sys.stderr):
    """Fit and score every model on every generator and training size.

    Parameters
    ----------
    generators : list of str
        Keys of :data:`known_density.GENERATORS`.
    sizes : list of int
        Training sizes.
    models : list of str
        Model names of ``uci_models``, already checked to be importable.
    n_test : int
        Test points per generator.
    seed : int
        Seed of the draws and of the models.
    options : BenchmarkOptions
        Settings passed to the models.
    log : file
        Where progress lines go.

    Yields
    ------
    dict
        One row per generator, size and model (``truth`` first), with the
        scores of :func:`score_distribution`, ``fit_seconds`` and ``notes``.
    """
    for g_index, name in enumerate(generators):
        gen = GENERATORS[name]
        X_test, y_test = gen.sample(n_test, random_state=[seed, g_index, 0])
        true_logpdf = gen.logpdf(X_test, y_test)
        truth = score_truth(gen, X_test, y_test, random_state=seed)
        for n in sizes:
            base = {"generator": name, "n_train": n}
            yield {**base, "model": "truth", **truth, "fit_seconds": np.nan}
            X, y = gen.sample(n, random_state=[seed, g_index, n])
            for model_name in models:
                row = {**base, "model": model_name, "fit_seconds": np.nan, "notes": ""}
                if gen.n_outputs > 1 and model_name not in MULTI_OUTPUT:
                    row["notes"] = "one-output model"
                    yield row
                    continue
                model = make_model(model_name, seed, options, n)
                if isinstance(model, str):
                    row["notes"] = model
                    yield row
                    continue
                try:
                    start = time.perf_counter()
                    model.fit(X, y)
                    row["fit_seconds"] = time.perf_counter() - start
                    dist = model.distribution(X_test)
                    row.update(
                        score_distribution(dist, X_test, y_test, true_logpdf, seed)
                    )
                    row["notes"] = model.describe()
                except Exception as exc:  # a failed fit is a result
                    row["notes"] = f"failed: {type(exc).__name__}: {exc}"
                print(
                    f"[{name} n={n}] {model_name}: gap={row.get('gap', np.nan):.3f} "
                    f"fit={row['fit_seconds']:.1f}s {row['notes']}",
                    file=log,
                    flush=True,
                )
                yield row


def _fmt(value, digits=3):
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def format_report(rows, command, notes=()):
    """The Markdown report: a gap table, then one table per generator.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`run_suite`.
    command : str
        The command line, for the header.
    notes : sequence of str
        Extra header lines.

    Returns
    -------
    str
    """
    versions = package_versions()
    lines = [
        "# Known-density suite",
        "",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- command: `{command}`",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs",
        *(f"- {note}" for note in notes),
        "",
        "## Gap to the true conditional entropy (nats, lower is better)",
        "",
        "Test NLL minus the true NLL of the same test points, mean ± standard "
        "error over the test points. Smallest gap of each row in bold.",
        "",
    ]
    models = list(dict.fromkeys(r["model"] for r in rows if r["model"] != "truth"))
    keys = list(dict.fromkeys((r["generator"], r["n_train"]) for r in rows))
    cell = {(r["generator"], r["n_train"], r["model"]): r for r in rows}
    lines += [
        _row(["generator", "n_train", *models]),
        _row(["---"] * (2 + len(models))),
    ]
    for g, n in keys:
        gaps = {m: cell.get((g, n, m), {}).get("gap", np.nan) for m in models}
        finite = [v for v in gaps.values() if np.isfinite(v)]
        best = min(finite) if finite else None
        cells = []
        for m in models:
            r = cell.get((g, n, m), {})
            if not np.isfinite(gaps[m]):
                cells.append("")
                continue
            text = f"{gaps[m]:.3f} ± {r['gap_se']:.3f}"
            cells.append(f"**{text}**" if gaps[m] == best else text)
        lines.append(_row([g, str(n), *cells]))
    lines += ["", "## Per generator", ""]
    header = ["n_train", "model", "gap", "NLL", "CRPS", "PIT KS", "cover90"]
    header += ["fit s", f"fit / {REFERENCE}", "notes"]
    for g in dict.fromkeys(k[0] for k in keys):
        score = "energy score" if GENERATORS[g].n_outputs > 1 else "CRPS"
        lines += [f"### {g}", "", _row(header).replace("CRPS", score)]
        lines.append(_row(["---"] * len(header)))
        for r in (r for r in rows if r["generator"] == g):
            ref = cell.get((g, r["n_train"], REFERENCE), {}).get("fit_seconds", np.nan)
            ratio = r["fit_seconds"] / ref if np.isfinite(ref) and ref > 0 else np.nan
            lines.append(
                _row(
                    [
                        str(r["n_train"]),
                        r["model"],
                        _fmt(r.get("gap")),
                        _fmt(r.get("nll")),
                        _fmt(r.get("crps")),
                        _fmt(r.get("pit_ks")),
                        _fmt(r.get("cover90")),
                        _fmt(r["fit_seconds"], 1),
                        _fmt(ratio, 2),
                        r.get("notes", ""),
                    ]
                )
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _row(cells):
    return "| " + " | ".join(cells) + " |"


def build_parser():
    """Command-line interface.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--generators",
        default=",".join(GENERATORS),
        help=f"comma-separated generators from: {', '.join(GENERATORS)}",
    )
    parser.add_argument(
        "--n-train",
        default=",".join(map(str, N_TRAIN)),
        help="comma-separated training sizes",
    )
    parser.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated models from: {', '.join(MODELS)}",
    )
    parser.add_argument("--n-test", type=int, default=10_000, help="test points")
    parser.add_argument("--seed", type=int, default=0, help="seed of draws and models")
    parser.add_argument(
        "--note", action="append", default=[], help="a header line (repeatable)"
    )
    parser.add_argument("--out", type=Path, default=None, help="Markdown report file")
    return parser


def main(argv=None):
    """Run the suite from the command line.

    Parameters
    ----------
    argv : list of str or None
        Arguments; None reads ``sys.argv``.

    Returns
    -------
    list of dict
        The rows of :func:`run_suite`.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        generators = _parse_list(args.generators, list(GENERATORS), "generator")
        sizes = [int(n) for n in _parse_list(args.n_train)]
        models = _parse_list(args.models, MODELS, "model")
    except (argparse.ArgumentTypeError, ValueError) as exc:
        parser.error(str(exc))
    notes = list(args.note)
    for model in list(models):
        reason = check_available(model)
        if reason is not None:
            models.remove(model)
            notes.append(f"{model} not run: {reason}")
            print(f"note: skipping {model}: {reason}", file=sys.stderr)
    argv_list = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["python", "benchmarks/bench_known_density.py", *argv_list])
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in run_suite(
            generators, sizes, models, args.n_test, args.seed, BenchmarkOptions()
        ):
            rows.append(row)
            if args.out is not None:
                # Rewritten after every fit: a stopped run keeps what it did.
                args.out.write_text(format_report(rows, command, notes), "utf-8")
    if args.out is not None:
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(format_report(rows, command, notes))
    return rows


if __name__ == "__main__":
    main()
