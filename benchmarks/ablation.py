"""Ablation of MDNRegressor's defaults on the UCI standard splits.

Each variant changes one default of ``MDNRegressor()``; every variant is
fitted on the same splits with the same seeds as the defaults, and the table
reports the paired test-NLL difference to the defaults (negative: the
variant is better), the splits it won, and its fit time. This is the
evidence behind the defaults (``docs/estimator.md``) on real data, next to
the seed problem of ``bench_quality.py``.

Usage::

    python benchmarks/ablation.py --splits 5 --out benchmarks/results/ablation.md

The splits used here are also splits of ``uci.py``'s results: a default
picked from this table is picked on those splits' test rows. Confirm a
choice on splits it was not picked on (``--first-split 5 --splits 15``);
the summary says which splits it used.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from uci import (  # noqa: E402
    DEFAULT_DATA,
    _parse_assignment,
    evaluate_split,
    format_paired,
    load_dataset,
    package_versions,
    paired_differences,
    summarize,
)
from uci_models import BenchmarkOptions, make_model  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASETS = "yacht,bostonHousing,energy,concrete"

# One change from MDNRegressor() each; "defaults" is the reference.
VARIANTS = {
    "defaults": {},
    "patience=50": {"patience": 50},
    "patience=200": {"patience": 200},
    "lr_schedule=None": {"lr_schedule": None},
    "weight_decay=1e-4": {"weight_decay": 1e-4},
    "batch_size=128": {"batch_size": 128},
    "n_components=3": {"n_components": 3},
    "n_components=8": {"n_components": 8},
    "n_components=10": {"n_components": 10},
    "input_noise=0.1": {"input_noise": 0.1},
    "target_noise=0.05": {"target_noise": 0.05},
    "average_steps=None": {"average_steps": None},
    "average_steps=100": {"average_steps": 100},
    "average_steps=1000": {"average_steps": 1000},
    "n_init=1": {"n_init": 1},
    "n_init=3": {"n_init": 3},
    "n_init=5": {"n_init": 5},
    # The restart with the best validation NLL kept alone, not stacked.
    "restarts=best": {"restarts": "best"},
    # Each restart validated on a fold of its own, stacked on their union.
    "restarts=crossfit": {"restarts": "crossfit"},
    "validation_fraction=0.2": {"validation_fraction": 0.2},
    # With --model mdn-ensemble: the members stopped together at the
    # ensemble's best epoch, on one shared validation split.
    "early_stopping=ensemble": {"ensemble__early_stopping": "ensemble"},
    # Each feature Yeo-Johnson transformed before the standardization.
    "input_transform=yeo-johnson": {"input_transform": "yeo-johnson"},
    # Only the highly skewed features (|skewness| > 1) transformed (the
    # default), or none.
    "input_transform=auto": {"input_transform": "auto"},
    "input_transform=None": {"input_transform": None},
    "early_stopping=ensemble/input_transform=yeo-johnson": {
        "ensemble__early_stopping": "ensemble",
        "input_transform": "yeo-johnson",
    },
    # The ensemble's size (with --model mdn-ensemble or mdn-ensemble-yj).
    "n_estimators=10": {"ensemble__n_estimators": 10},
    # (no comma in a name: --variants is a comma-separated list; a name
    # not listed here that joins listed ones with "/" combines them)
    "batch_size=32/patience=100": {"batch_size": 32, "patience": 100},
    # The defaults before "auto" batches and patience and weight averaging.
    "previous-defaults": {"batch_size": 32, "patience": 100, "average_steps": None},
}


def variant_params(name):
    """Return the parameters of a variant, combined ones included.

    Parameters
    ----------
    name : str
        A key of :data:`VARIANTS`, or several joined by ``"/"``
        (``"patience=200/input_noise=0.1"``).

    Returns
    -------
    dict
        The parameters, merged.

    Raises
    ------
    KeyError
        If a part is not a variant, or two parts set one parameter to
        different values.
    """
    if name in VARIANTS:
        return dict(VARIANTS[name])
    params = {}
    for part in name.split("/"):
        if part not in VARIANTS:
            raise KeyError(part)
        for key, value in VARIANTS[part].items():
            if params.get(key, value) != value:
                raise KeyError(f"{name}: two values of {key}")
            params[key] = value
    return params


def run_ablation(
    root, datasets, variants, n_splits, first_split=0, log=sys.stderr, model="mdn"
):
    """Fit every variant on every split.

    Parameters
    ----------
    root : Path
        Data folder in the standard layout.
    datasets : list of str
        Dataset names.
    variants : dict
        Variant name to ``MDNRegressor`` parameters; must contain
        ``"defaults"``.
    n_splits : int
        Number of splits per dataset.
    first_split : int
        Index of the first split: a variant chosen on the first splits can be
        confirmed on later ones it was not chosen on.
    log : file
        Where progress lines go.
    model : {"mdn", "mdn-ensemble", "mdn-ensemble-yj"}
        What a variant's parameters configure: one ``MDNRegressor``, or each
        member of ``MDNEnsembleRegressor(n_estimators=5)``, or of the
        ensemble recipe (see ``uci_models``).

    Returns
    -------
    dict
        ``(dataset, variant)`` to a list of ``(split, nll, fit_seconds)``.
    """
    results = {}
    loaded = [load_dataset(root, name) for name in datasets]
    for k in range(first_split, first_split + n_splits):
        for data in loaded:
            if k >= len(data.splits):
                continue
            train, test = data.splits[k]
            for name, params in variants.items():
                options = BenchmarkOptions(mdn_params=params)
                estimator = make_model(model, k, options, len(train))
                try:
                    scores = evaluate_split(
                        estimator,
                        data.X[train],
                        data.y[train],
                        data.X[test],
                        data.y[test],
                        data.y[test],
                    )
                except Exception as exc:  # a diverged variant is a result
                    scores = {"nll": np.nan, "fit_seconds": np.nan}
                    print(f"  {name} failed: {exc}", file=log)
                results.setdefault((data.name, name), []).append(
                    (k, scores["nll"], scores["fit_seconds"])
                )
                print(
                    f"[{data.name} split {k + 1}] {name}: nll={scores['nll']:.3f} "
                    f"fit={scores['fit_seconds']:.1f}s",
                    file=log,
                    flush=True,
                )
    return results


def _paired(results, dataset, variant):
    # The benchmark's pairing rule: common splits, finite NLLs only.
    rows = [
        {"dataset": d, "model": v, "split": k, "nll": nll}
        for (d, v), runs in results.items()
        for k, nll, _ in runs
    ]
    return paired_differences(rows, variant, "defaults", dataset)


def format_table(results, datasets, variants):
    """Markdown table: one row per variant, one column per dataset.

    Parameters
    ----------
    results : dict
        Output of :func:`run_ablation`.
    datasets : list of str
    variants : list of str

    Returns
    -------
    list of str
    """
    header = ["variant", *datasets, "mean difference", "fit time vs defaults"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    ref_time = np.nanmean(
        [t for d in datasets for _, _, t in results.get((d, "defaults"), [])]
    )
    for variant in variants:
        cells = [variant]
        means = []
        for dataset in datasets:
            if variant == "defaults":
                mean, se, n = summarize([v for _, v, _ in results[(dataset, variant)]])
                cells.append(f"{mean:.3f} ± {se:.3f} (NLL)")
                continue
            diffs = _paired(results, dataset, variant)
            if diffs.size == 0:
                cells.append("failed")
                continue
            means.append(summarize(diffs)[0])
            cells.append(format_paired(diffs, digits=3))
        times = [t for d in datasets for _, _, t in results.get((d, variant), [])]
        cells.append("" if variant == "defaults" else f"{np.mean(means):+.3f}")
        cells.append(f"{np.nanmean(times) / ref_time:.2f}×")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    """Run the ablation from the command line.

    Parameters
    ----------
    argv : list of str or None
        Arguments; None reads ``sys.argv``.

    Returns
    -------
    dict
        Output of :func:`run_ablation`.
    """
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--datasets", default=DEFAULT_DATASETS)
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument(
        "--first-split",
        type=int,
        default=0,
        help="start at this split (0-based), e.g. to confirm on splits a "
        "variant was not chosen on",
    )
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help=f"comma-separated, from: {', '.join(VARIANTS)}",
    )
    parser.add_argument(
        "--mdn-set",
        action="append",
        type=_parse_assignment,
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter in every variant (smoke runs only)",
    )
    parser.add_argument(
        "--model",
        choices=("mdn", "mdn-ensemble", "mdn-ensemble-yj"),
        default="mdn",
        help="the variants configure one MDNRegressor, or each member of "
        "MDNEnsembleRegressor(n_estimators=5), or of the ensemble recipe "
        "(mdn-ensemble-yj, whose settings are then the defaults row)",
    )
    parser.add_argument("--out", type=Path, default=None, help="Markdown file")
    args = parser.parse_args(argv)
    datasets = [d for d in args.datasets.split(",") if d]
    names = ["defaults"] + [
        v for v in args.variants.split(",") if v and v != "defaults"
    ]
    params, unknown = {}, []
    for v in names:
        try:
            params[v] = variant_params(v)
        except KeyError:
            unknown.append(v)
    if unknown:
        parser.error(
            f"unknown variants {unknown}; choose from {list(VARIANTS)}, or join "
            "several with '/'"
        )
    if args.splits < 1 or args.first_split < 0:
        parser.error("--splits must be at least 1 and --first-split at least 0")

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = dict(args.mdn_set)
        variants = {v: {**base, **p} for v, p in params.items()}
        results = run_ablation(
            args.data,
            datasets,
            variants,
            args.splits,
            args.first_split,
            model=args.model,
        )
    elapsed = time.perf_counter() - start
    versions = package_versions()
    lines = [
        "# Ablation of MDNRegressor's defaults (UCI standard splits)"
        + {
            "mdn": "",
            "mdn-ensemble": ", as members of MDNEnsembleRegressor",
            "mdn-ensemble-yj": ", as members of the ensemble recipe "
            "(mdn-ensemble-yj: its settings are the defaults row)",
        }[args.model],
        "",
        f"- command: `python benchmarks/ablation.py "
        f"{' '.join(sys.argv[1:] if argv is None else argv)}`",
        f"- splits: {args.first_split + 1} to {args.first_split + args.splits} "
        f"(1-based) of each dataset, fewer where a dataset has fewer; "
        f"{elapsed / 60:.1f} min in all",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        *([f"- overridden in every variant: {base}"] if base else []),
        "",
        "Defaults row: test NLL, mean ± se over splits. Other rows: paired "
        "difference to the defaults, mean ± se (negative: better), and the "
        "splits won. Mean difference: average over the datasets. Fit time: "
        "mean fit time relative to the defaults'.",
        "",
        *format_table(results, datasets, names),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
