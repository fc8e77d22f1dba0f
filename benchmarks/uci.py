"""UCI regression benchmark: test NLL and RMSE on the standard splits.

Protocol of the probabilistic-regression literature (Hernández-Lobato & Adams
2015; Gal & Ghahramani 2016; Lakshminarayanan et al. 2017; Duan et al. 2020):
for each split, fit on the training rows and report, on the test rows, the
negative log-likelihood per sample in the target's units and the RMSE of the
predicted mean; then the mean ± standard error over splits. Every model sees
the same splits in the same run; the fit of each is timed.

Usage::

    python benchmarks/uci.py --datasets yacht,bostonHousing --splits 5 \\
        --models mdn,ngboost --out benchmarks/results

See ``benchmarks/README.md`` for the models, the cost and the caveats.
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime
import importlib.metadata
import os
import platform
import re
import shlex
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Run as a file, not a package: make the sibling uci_models importable from
# any working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from target_grid import TargetGrid, dequantize, find_grid  # noqa: E402
from uci_models import (  # noqa: E402
    BEST_PUBLISHED_NLL,
    MODEL_NAMES,
    PEER_MODELS,
    PUBLISHED_METHODS,
    PUBLISHED_NLL,
    PUBLISHED_RMSE,
    PUBLISHED_SOURCE,
    SKMDN_MODELS,
    TUNING_GRIDS,
    BenchmarkOptions,
    check_available,
    make_model,
    published_name,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "uci"
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"
GRID_MARK = "†"
GRID_NOTE = (
    "target on a grid: on the raw values the densities of continuous models "
    "are not comparable, a density model can put spikes on the grid points; "
    "the dequantized row (deq.) is the comparable one"
)
# Which versions of a gridded target to run (--grid-targets).
GRID_VARIANTS = {"both": (False, True), "raw": (False,), "dequantized": (True,)}
CSV_FIELDS = (
    "dataset",
    "model",
    "split",
    "n_train",
    "n_test",
    "nll",
    "rmse",
    "fit_seconds",
    "target_grid",
    "dequantized",
    "notes",
)
VERSION_PACKAGES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "torch",
    "skorch",
    "skmdn",
    "ngboost",
    "xgboost-distribution",
    "xgboost-cpu",
    "pgbm",
    "skpro",
    "pandas",
)


@dataclass
class UCIDataset:
    """One dataset in the standard layout.

    Attributes
    ----------
    name : str
        Folder name.
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    splits : list of (ndarray, ndarray)
        Train and test row indices of each split.
    grid : TargetGrid or None
        The regular grid the target sits on (e.g. wine's integer grades, see
        :func:`target_grid.find_grid`), None for a continuous target.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    splits: list
    grid: TargetGrid | None


def find_datasets(root):
    """List the dataset folders of ``root`` that follow the standard layout.

    Parameters
    ----------
    root : str or Path
        Folder holding one subfolder per dataset.

    Returns
    -------
    list of str
        Sorted names of the subfolders with ``data/data.txt``.
    """
    root = Path(root)
    return sorted(p.parent.parent.name for p in root.glob("*/data/data.txt"))


def _read_indices(path):
    return np.loadtxt(path, dtype=np.int64, ndmin=1)


def load_dataset(root, name):
    """Read one dataset and its splits from the standard layout.

    Parameters
    ----------
    root : str or Path
        Folder holding the dataset folders.
    name : str
        Dataset folder name; files are read from ``root/name/data/``.

    Returns
    -------
    UCIDataset
        Features, target, splits and the grid the target sits on, if any.
    """
    folder = Path(root) / name / "data"
    if not (folder / "data.txt").is_file():
        raise FileNotFoundError(f"{folder / 'data.txt'} not found")
    data = np.loadtxt(folder / "data.txt", ndmin=2)
    features = _read_indices(folder / "index_features.txt")
    target = _read_indices(folder / "index_target.txt")
    if target.size != 1:
        raise ValueError(f"{name}: one target column expected, got {target}")
    X = data[:, features]
    y = data[:, int(target[0])]

    if (folder / "n_splits.txt").is_file():
        n_splits = int(np.loadtxt(folder / "n_splits.txt"))
    else:
        n_splits = len(list(folder.glob("index_train_*.txt")))
    splits = []
    for k in range(n_splits):
        train = _read_indices(folder / f"index_train_{k}.txt")
        test = _read_indices(folder / f"index_test_{k}.txt")
        for part in (train, test):
            if part.size and (part.min() < 0 or part.max() >= len(y)):
                raise ValueError(f"{name}: split {k} indexes rows out of range")
        splits.append((train, test))
    if not splits:
        raise ValueError(f"{name}: no splits found in {folder}")
    return UCIDataset(name, X, y, splits, find_grid(y))


def evaluate_split(model, X_train, y_train, X_test, y_test, y_test_rmse):
    """Fit one model on one split and score it on the test rows.

    Parameters
    ----------
    model : object
        Adapter from :func:`uci_models.make_model`.
    X_train, y_train, X_test, y_test : ndarray
        The split's rows; ``y_test`` is the target the NLL is computed on.
    y_test_rmse : ndarray
        The target the RMSE is computed on (the undequantized one).

    Returns
    -------
    dict
        ``nll`` (= -mean test log-likelihood), ``rmse`` and ``fit_seconds``.
    """
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    log_lik = np.asarray(model.log_likelihood(X_test, y_test), dtype=float)
    mean = np.asarray(model.predict_mean(X_test), dtype=float).ravel()
    return {
        "nll": float(-np.mean(log_lik)),
        "rmse": float(np.sqrt(np.mean((mean - y_test_rmse) ** 2))),
        "fit_seconds": fit_seconds,
    }


def run_benchmark(
    datasets,
    models,
    options,
    root,
    n_splits=None,
    grid_targets="both",
    done=frozenset(),
    first_split=0,
):
    """Run every model on every split of every dataset, split by split.

    Parameters
    ----------
    datasets : list of str
        Dataset folder names under ``root``.
    models : list of str
        Model names (see :data:`uci_models.MODEL_NAMES`), already checked to
        be importable.
    options : BenchmarkOptions
        Settings shared by the models.
    root : Path
        Data folder.
    n_splits : int or None
        Run ``n_splits`` splits only, from ``first_split`` on; None runs
        them all.
    grid_targets : {"both", "raw", "dequantized"}
        What to fit on a target that sits on a grid: the raw values and the
        dequantized ones (each model fitted twice per split), or one of them
        (see :func:`target_grid.dequantize`).
    done : set of tuple, default=frozenset()
        ``(dataset, model, split, dequantized)`` of fits to skip: those an
        earlier, interrupted run finished (``--resume``).
    first_split : int, default=0
        Index of the first split to run: later splits can extend a run that
        stopped at an earlier one.

    Yields
    ------
    dict
        One row per dataset, model and split, with the fields of
        :data:`CSV_FIELDS`.
    """
    loaded = [load_dataset(root, name) for name in datasets]
    stop = None if n_splits is None else first_split + n_splits
    runs = [range(len(data.splits))[first_split:stop] for data in loaded]
    # Split-major order (split 0 of every dataset, then split 1, ...): an
    # interrupted run leaves every dataset with about the same number of
    # finished splits, instead of all splits of the first datasets only.
    for k in range(first_split, max(r.stop for r in runs)):
        for data, splits in zip(loaded, runs):
            if k not in splits:
                continue
            name = data.name
            train, test = data.splits[k]
            grid = data.grid
            variants = (False,) if grid is None else GRID_VARIANTS[grid_targets]
            for dequantized in variants:
                y = dequantize(data.y, k, grid.spacing) if dequantized else data.y
                for model_name in models:
                    if (name, model_name, k, dequantized) in done:
                        continue
                    row = {
                        "dataset": name,
                        "model": model_name,
                        "split": k,
                        "n_train": len(train),
                        "n_test": len(test),
                        "nll": np.nan,
                        "rmse": np.nan,
                        "fit_seconds": np.nan,
                        "target_grid": np.nan if grid is None else grid.spacing,
                        "dequantized": dequantized,
                        "notes": "",
                    }
                    row.update(_run_one(model_name, k, options, data, y, train, test))
                    _progress(row, splits.stop)
                    yield row


def _run_one(model_name, split, options, data, y, train, test):
    try:
        model = make_model(model_name, split, options, len(train))
        if isinstance(model, str):
            return {"notes": model}
        scores = evaluate_split(
            model, data.X[train], y[train], data.X[test], y[test], data.y[test]
        )
        return {**scores, "notes": model.describe()}
    except Exception as exc:
        # One failed fit (divergence, a peer's bug) must not lose the hours
        # already spent on the other models and splits.
        return {"notes": f"failed: {type(exc).__name__}: {exc}"}


def _progress(row, n_splits):
    if np.isnan(row["nll"]):
        result = row["notes"]
    else:
        result = (
            f"nll={row['nll']:.3f} rmse={row['rmse']:.3f} fit={row['fit_seconds']:.1f}s"
        )
        if row["notes"]:
            result += f" ({row['notes']})"
    label = row["dataset"] + (" deq." if row["dequantized"] else "")
    print(
        f"[{label} split {row['split'] + 1}/{n_splits}] {row['model']}: {result}",
        file=sys.stderr,
        flush=True,
    )


def write_csv(rows, path):
    """Write the per-split results.

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`run_benchmark`.
    path : Path
        Output file.
    """
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: f"{v:.6g}" if isinstance(v, float) else v for k, v in row.items()}
            )


def read_csv(path):
    """Read per-split results written by :func:`write_csv`.

    Parameters
    ----------
    path : Path
        A ``uci_results.csv`` of an earlier run.

    Returns
    -------
    list of dict
        Rows with the types of :func:`run_benchmark`'s rows.
    """
    numbers = {"split": int, "n_train": int, "n_test": int}
    floats = ("nll", "rmse", "fit_seconds", "target_grid")
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for raw in csv.DictReader(f):
            row = dict(raw)
            if "integer_target" in row:
                # Files written before grids were detected in general flagged
                # integer targets only: their grid is the integers.
                row["target_grid"] = "1" if row.pop("integer_target") == "True" else ""
            for key, kind in numbers.items():
                row[key] = kind(row[key])
            for key in floats:
                row[key] = float(row[key]) if row[key] not in ("", "nan") else np.nan
            row["dequantized"] = row["dequantized"] == "True"
            rows.append(row)
    return rows


def summarize(values):
    """Mean and standard error over splits, ignoring failed splits.

    Parameters
    ----------
    values : array-like
        One value per split.

    Returns
    -------
    mean, se : float
        ``se`` is ``std / sqrt(n)`` with the population std (``ddof=0``), as
        in the PBP and MC-dropout code; NaN when no split succeeded.
    n : int
        Number of finite values.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan, np.nan, 0
    return values.mean(), values.std() / np.sqrt(values.size), values.size


def _cell(rows, field, digits=2, with_se=True, n_splits=None):
    if not rows:
        return ""
    mean, se, n = summarize([r[field] for r in rows])
    if n == 0:
        note = rows[0]["notes"]
        return "n/a" if note.startswith("exact GP skipped") else "failed"
    text = f"{mean:.{digits}f}"
    if with_se and n > 1:
        text += f" ± {se:.{digits}f}"
    if n < len(rows):
        text += f" ({len(rows) - n} failed)"
    if n_splits is not None and len(rows) != n_splits:
        # An interrupted run or a merged one: say this cell's own count.
        text += f" [{len(rows)} splits]"
    return text


def table_key(row):
    """The table line of a result row: its dataset, raw or dequantized.

    Parameters
    ----------
    row : dict
        A row from :func:`run_benchmark` or :func:`read_csv`.

    Returns
    -------
    (str, bool)
        Dataset name and whether its target was dequantized; a gridded
        target run both ways has two lines.
    """
    return row["dataset"], bool(row.get("dequantized", False))


def on_grid(row):
    """Whether a result row's target sits on a grid (:func:`find_grid`).

    Parameters
    ----------
    row : dict
        A row from :func:`run_benchmark` or :func:`read_csv`.

    Returns
    -------
    bool
    """
    return bool(np.isfinite(row.get("target_grid", np.nan)))


def _dataset_label(key, rows):
    name, dequantized = key
    n_splits = len({r["split"] for r in rows})
    label = f"{name} ({n_splits})"
    if rows and on_grid(rows[0]):
        label += " " + GRID_MARK
    if dequantized:
        label += " deq."
    return label


def package_versions():
    """Versions of the packages the results depend on.

    Returns
    -------
    dict
        Package name to version, ``"not installed"`` when missing.
    """
    versions = {"python": platform.python_version()}
    for package in VERSION_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def write_summary(rows, path, command, models, options, skipped, notes=()):
    """Write the Markdown summary: NLL, RMSE and fit-time tables.

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`run_benchmark`.
    path : Path
        Output file.
    command : str
        The command line, for the header.
    models : list of str
        The models that ran, in column order.
    options : BenchmarkOptions
        Settings of the run.
    skipped : dict
        Model name to the reason it was not run.
    notes : sequence of str
        Extra lines for the header.
    """
    datasets = list(dict.fromkeys(map(table_key, rows)))
    by_cell = {}
    for r in rows:
        by_cell.setdefault((table_key(r), r["model"]), []).append(r)
    versions = package_versions()
    lines = [
        "# UCI regression benchmark",
        "",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- command: `{command}`",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- machine: {platform.platform()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs",
    ]
    lines += [f"- {note}" for note in notes]
    if "mdn-tuned" in models:
        lines.append(
            f"- mdn-tuned grid ({options.grid}): {TUNING_GRIDS[options.grid]}, "
            "3-fold shuffled inner CV scored by mean log-likelihood"
        )
    if options.mdn_params:
        lines.append(f"- skmdn parameters overridden: {options.mdn_params}")
    for model, reason in skipped.items():
        lines.append(f"- {model} not run: {reason}")
    lines += [
        "",
        "Test NLL per sample in the target's units (lower is better), mean ± "
        "standard error over splits (number of splits in parentheses). "
        "Published columns: " + PUBLISHED_SOURCE,
        "",
    ]

    def table(title, field, digits, published, with_se=True, best=None):
        header = ["dataset", *models]
        if published is not None:
            header += [f"{m} (publ.)" for m in PUBLISHED_METHODS]
        if best is not None:
            header.append("best published")
        out = [f"## {title}", "", _row(header), _row(["---"] * len(header))]
        for key in datasets:
            ds_rows = [r for r in rows if table_key(r) == key]
            cells = [_dataset_label(key, ds_rows)]
            n_splits = len({r["split"] for r in ds_rows})
            cells += [
                _cell(by_cell.get((key, m), []), field, digits, with_se, n_splits)
                for m in models
            ]
            if published is not None:
                # The published numbers are on the raw values.
                name, dequantized = key
                cells += _published_cells(
                    published, None if dequantized else published_name(name)
                )
            if best is not None:
                name, dequantized = key
                cells.append(_best_cell(None if dequantized else published_name(name)))
            out.append(_row(cells))
        return out + [""]

    lines += table("Test NLL", "nll", 2, PUBLISHED_NLL, best=BEST_PUBLISHED_NLL)
    lines += best_published_notes(datasets)
    lines += table("Test RMSE", "rmse", 2, PUBLISHED_RMSE)
    lines += table("Fit time (seconds per split)", "fit_seconds", 1, None, False)
    lines += paired_comparison(rows, models)
    lines += grid_notes(rows)
    failures = sorted(
        {(r["dataset"], r["model"], r["notes"]) for r in rows if "failed" in r["notes"]}
    )
    for dataset, model, note in failures:
        lines.append(f"- {dataset} / {model}: {note}")
    Path(path).write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def grid_notes(rows):
    """Markdown lines saying which targets sit on a grid and what deq. means.

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`run_benchmark`.

    Returns
    -------
    list of str
        Nothing when no target is on a grid.
    """
    spacings = {r["dataset"]: r["target_grid"] for r in rows if on_grid(r)}
    if not spacings:
        return []
    grids = ", ".join(f"{name}: spacing {h:.6g}" for name, h in spacings.items())
    lines = [f"{GRID_MARK} {GRID_NOTE} ({grids})."]
    if any(r["dequantized"] for r in rows):
        lines.append(
            "deq.: the same splits with U(-h/2, h/2) noise on the train and "
            "test targets, h the grid spacing found from the data "
            "(`--grid-targets`): the NLL is that of a continuous density (the "
            "grid points' probabilities, each spread over its cell, plus "
            "log h); RMSE is against the raw values. The published columns "
            "are on the raw values and left empty on deq. rows."
        )
    return lines + [""]


def paired_differences(rows, model, peer, dataset, dequantized=False):
    """Test-NLL differences of two models on the splits both finished.

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`run_benchmark`.
    model, peer : str
        The two models; a difference is ``nll(model) - nll(peer)``.
    dataset : str
        Dataset name.
    dequantized : bool, default=False
        Compare the runs on the dequantized target of a gridded dataset.

    Returns
    -------
    ndarray
        One difference per common split with finite NLLs (negative: ``model``
        is better on that split).
    """
    nll = {}
    for r in rows:
        if table_key(r) == (dataset, dequantized) and r["model"] in (model, peer):
            nll[r["model"], r["split"]] = r["nll"]
    splits = {m: {k for mm, k in nll if mm == m} for m in (model, peer)}
    common = sorted(splits[model] & splits[peer])
    diffs = np.array([nll[model, k] - nll[peer, k] for k in common], dtype=float)
    return diffs[np.isfinite(diffs)]


def format_paired(diffs, digits=2):
    """Format paired differences as ``mean ± se (won/n)``.

    Parameters
    ----------
    diffs : ndarray
        Finite differences, one per split (negative: a win).
    digits : int
        Decimals.

    Returns
    -------
    str
    """
    mean, se, n = summarize(diffs)
    spread = f" ± {se:.{digits}f}" if n > 1 else ""
    return f"{mean:+.{digits}f}{spread} ({int(np.sum(diffs < 0))}/{n})"


def paired_comparison(rows, models):
    """Markdown lines comparing each skmdn model with each peer, split by split.

    A paired comparison is sharper than two overlapping error bars: the
    splits' difficulty, which dominates the spread across splits, cancels.

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`run_benchmark`.
    models : list of str
        Models of the run.

    Returns
    -------
    list of str
        The section, or nothing when the run has no skmdn model and no peer.
    """
    ours = [m for m in models if m in SKMDN_MODELS]
    peers = [m for m in models if m in PEER_MODELS]
    if not ours or not peers:
        return []
    datasets = list(dict.fromkeys(map(table_key, rows)))
    gridded = {r["dataset"] for r in rows if on_grid(r)}
    pairs = [(m, p) for m in ours for p in peers]
    header = ["dataset", *(f"{m} − {p}" for m, p in pairs)]
    lines = [
        "## Paired comparison",
        "",
        "Test-NLL difference on the splits both models finished, mean ± "
        "standard error (negative: the skmdn model is better), and the number "
        "of splits it won.",
        "",
        _row(header),
        _row(["---"] * len(header)),
    ]
    wins = dict.fromkeys(pairs, 0)
    counted = dict.fromkeys(pairs, 0)
    for key in datasets:
        name, dequantized = key
        label = name + (f" {GRID_MARK}" if name in gridded else "")
        cells = [label + (" deq." if dequantized else "")]
        for pair in pairs:
            diffs = paired_differences(rows, *pair, name, dequantized)
            if diffs.size == 0:
                cells.append("")
                continue
            cells.append(format_paired(diffs))
            mean = summarize(diffs)[0]
            if name not in gridded:
                counted[pair] += 1
                wins[pair] += bool(mean < 0)
        lines.append(_row(cells))
    lines += [
        "",
        "Lower mean test NLL, datasets whose target is not on a grid:",
        "",
    ]
    for pair in pairs:
        if counted[pair]:
            lines.append(
                f"- {pair[0]} beats {pair[1]} on {wins[pair]} of {counted[pair]}"
            )
    return lines + [""]


def _row(cells):
    return "| " + " | ".join(cells) + " |"


def _best_cell(key):
    if key not in BEST_PUBLISHED_NLL:
        return ""
    mean, se, method, _ = BEST_PUBLISHED_NLL[key]
    return f"{mean:.2f} ± {se:.2f} {method}"


def best_published_notes(datasets):
    """Markdown lines giving the source of every "best published" cell.

    Parameters
    ----------
    datasets : list of (str, bool)
        The table lines, as :func:`table_key` gives them.

    Returns
    -------
    list of str
    """
    names = list(dict.fromkeys(name for name, _ in datasets))
    sources = [
        f"{key}: {BEST_PUBLISHED_NLL[key][3]}"
        for key in dict.fromkeys(map(published_name, names))
        if key in BEST_PUBLISHED_NLL
    ]
    missing = [n for n in names if published_name(n) not in BEST_PUBLISHED_NLL]
    lines = [
        "Best published: the lowest test NLL found for the dataset in a 2026 "
        "survey of the literature (`../shared/REFERENCES.md` §2b), on the raw "
        "targets, mean ± error over the standard splits"
        + (": " + "; ".join(sources) if sources else "")
        + ". Left empty on deq. rows (no record is on dequantized targets)"
        + (f" and for {', '.join(missing)} (no record found)" if missing else "")
        + "; there is no best-published RMSE column (none is on record).",
        "",
    ]
    return lines


def _published_cells(published, key):
    if key is None:
        return [""] * len(PUBLISHED_METHODS)
    values = published[key]
    return [
        f"{v[0]:.2f} ± {v[1]:.2f}" if isinstance(v, tuple) else f"{v:.2f}"
        for v in values
    ]


def plot_nll(rows, path, models):
    """Plot test NLL per dataset, one panel each, with error bars.

    Our models are filled markers with ± one standard error; the published
    numbers are hollow grey markers to their right.

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`run_benchmark`.
    path : Path
        Output PNG file.
    models : list of str
        Models in plotting order.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(map(table_key, rows)))
    n_cols = min(4, len(datasets))
    n_rows = -(-len(datasets) // n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3.6 * n_cols, 3.4 * n_rows), squeeze=False
    )
    for ax, panel in zip(axes.flat, datasets):
        name, dequantized = panel
        labels, means, ses, colors = [], [], [], []
        for i, model in enumerate(models):
            mean, se, _ = summarize(
                [r["nll"] for r in rows if (table_key(r), r["model"]) == (panel, model)]
            )
            labels.append(model)
            means.append(mean)
            ses.append(se)
            colors.append(f"C{i}")
        x = np.arange(len(labels))
        for xi, mean, se, color in zip(x, means, ses, colors):
            ax.errorbar(xi, mean, yerr=se, fmt="o", color=color, capsize=3)
        # The published numbers are on the raw values.
        key = None if dequantized else published_name(name)
        if key is not None:
            px = len(labels) + np.arange(len(PUBLISHED_METHODS))
            pm = [v[0] for v in PUBLISHED_NLL[key]]
            pe = [v[1] for v in PUBLISHED_NLL[key]]
            ax.errorbar(px, pm, yerr=pe, fmt="o", mfc="none", color="0.5", capsize=3)
            labels += [f"{m} (publ.)" for m in PUBLISHED_METHODS]
            x = np.arange(len(labels))
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
        ds_rows = [r for r in rows if table_key(r) == panel]
        ax.set_title(_dataset_label(panel, ds_rows), fontsize=9)
        ax.set_ylabel("test NLL (lower is better)", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes.flat[len(datasets) :]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _parse_list(text, choices=None, what="value"):
    items = [s.strip() for s in text.split(",") if s.strip()]
    if choices is not None:
        unknown = [s for s in items if s not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {unknown}; choose from {', '.join(choices)}"
            )
    return items


def _parse_assignment(text):
    key, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_]\w*", key):
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def build_parser():
    """Command-line interface of the benchmark.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="folder of datasets in the standard layout "
        "(<name>/data/data.txt, index_*.txt)",
    )
    parser.add_argument(
        "--datasets",
        default=None,
        help="comma-separated dataset folder names (default: every dataset "
        "folder under --data)",
    )
    parser.add_argument(
        "--splits",
        type=int,
        default=None,
        help="run only N splits of each dataset, from --first-split on (default: all)",
    )
    parser.add_argument(
        "--first-split",
        type=int,
        default=0,
        metavar="K",
        help="skip the first K splits (0-based index of the first one run), "
        "to extend an earlier run to later splits",
    )
    parser.add_argument(
        "--models",
        default=",".join(MODEL_NAMES),
        help=f"comma-separated models from: {', '.join(MODEL_NAMES)}",
    )
    parser.add_argument(
        "--grid",
        choices=sorted(TUNING_GRIDS),
        default="small",
        help="tuning grid of mdn-tuned: small (12 candidates) or tiny (4)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="parallel jobs of the inner grid search and of the ensemble",
    )
    parser.add_argument(
        "--grid-targets",
        choices=sorted(GRID_VARIANTS),
        default="both",
        help="a target on a grid (few distinct values, all multiples of one "
        "spacing h, e.g. wine's grades) is fitted raw and dequantized, with "
        "U(-h/2, h/2) noise on train and test targets so that the NLL is that "
        "of a continuous density (both: two table rows), or one of the two",
    )
    parser.add_argument(
        "--dequantize",
        action="store_const",
        const="dequantized",
        dest="grid_targets",
        help="the same as --grid-targets dequantized",
    )
    parser.add_argument(
        "--mdn-set",
        action="append",
        type=_parse_assignment,
        default=[],
        metavar="KEY=VALUE",
        help="override an MDNRegressor parameter in every skmdn model (repeat "
        "for several), e.g. --mdn-set max_epochs=50 for a smoke run",
    )
    parser.add_argument(
        "--include",
        type=Path,
        action="append",
        default=[],
        metavar="CSV",
        help="uci_results.csv of an earlier run whose rows join this run's "
        "tables (a cell run again here replaces its earlier rows); repeat for "
        "several, e.g. to combine runs with different --splits",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the rows of the requested datasets and models that "
        "--out/uci_results.csv already holds (an interrupted run) and run "
        "only the fits it lacks",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: write the summary and figure of the --include runs "
        "(e.g. runs made in parallel on different datasets)",
    )
    parser.add_argument(
        "--note",
        action="append",
        default=[],
        metavar="TEXT",
        help="a line for the summary's header, e.g. the commands of the "
        "merged runs or the load on the machine (repeat for several)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output folder for uci_results.csv, uci_summary.md, uci_nll.png",
    )
    return parser


def main(argv=None):
    """Run the benchmark from the command line.

    Parameters
    ----------
    argv : list of str or None
        Arguments; None reads ``sys.argv``.

    Returns
    -------
    list of dict
        The per-split result rows.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.splits is not None and args.splits < 1:
        parser.error("--splits must be at least 1")
    if args.first_split < 0:
        parser.error("--first-split must be at least 0")
    try:
        models = _parse_list(args.models, MODEL_NAMES, "model")
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    if args.report_only:
        return _report(args, parser, argv)
    available = find_datasets(args.data)
    if not available:
        parser.error(f"no dataset in the standard layout under {args.data}")
    datasets = available if args.datasets is None else _parse_list(args.datasets)
    missing = [d for d in datasets if d not in available]
    if missing:
        parser.error(f"datasets {missing} not under {args.data}: {available}")

    skipped = {}
    for model in models:
        reason = check_available(model)
        if reason is not None:
            skipped[model] = reason
            print(f"note: skipping {model}: {reason}", file=sys.stderr)
    models = [m for m in models if m not in skipped]
    if not models:
        parser.error("none of the requested models can run")

    options = BenchmarkOptions(
        grid=args.grid, n_jobs=args.n_jobs, mdn_params=dict(args.mdn_set)
    )
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path = args.out / "uci_results.csv"

    earlier = [read_csv(path) for path in args.include]
    rows = []
    if args.resume and csv_path.is_file():
        rows = [
            r
            for r in read_csv(csv_path)
            if r["dataset"] in datasets
            and r["model"] in models
            and r["split"] >= args.first_split
            and (args.splits is None or r["split"] < args.first_split + args.splits)
        ]
        print(f"note: resuming after {len(rows)} finished fits", file=sys.stderr)
    done = {(r["dataset"], r["model"], r["split"], r["dequantized"]) for r in rows}
    with warnings.catch_warnings():
        # Peers warn per fit (convergence, deprecations); the progress lines
        # on stderr are the record that matters.
        warnings.simplefilter("ignore")
        for row in run_benchmark(
            datasets,
            models,
            options,
            args.data,
            args.splits,
            args.grid_targets,
            done,
            args.first_split,
        ):
            rows.append(row)
            # Rewritten after every fit so that an interrupted run keeps its
            # finished splits.
            write_csv(rows, csv_path)
    rows = merge_rows(*earlier, rows)
    models = list(dict.fromkeys([*models, *(r["model"] for r in rows)]))
    command = _command(argv)
    if args.include:
        command += "  (with rows of: " + ", ".join(map(str, args.include)) + ")"
    _write_outputs(rows, args.out, command, models, options, skipped, args.note)
    return rows


def merge_rows(*runs):
    """Merge the rows of several runs; a later run's cell replaces an earlier's.

    Parameters
    ----------
    *runs : list of dict
        Rows of each run, oldest first.

    Returns
    -------
    list of dict
    """
    rows = []
    for new in runs:
        cells = {(table_key(r), r["model"]) for r in new}
        rows = [r for r in rows if (table_key(r), r["model"]) not in cells] + new
    return rows


def _command(argv):
    argv_list = sys.argv[1:] if argv is None else list(argv)
    # Notes are header lines of their own; the command keeps the rest.
    kept = [
        a for a, prev in zip(argv_list, ["", *argv_list]) if "--note" not in (a, prev)
    ]
    return shlex.join(["python", "benchmarks/uci.py", *kept])


def _write_outputs(rows, out, command, models, options, skipped, notes):
    write_csv(rows, out / "uci_results.csv")
    write_summary(
        rows, out / "uci_summary.md", command, models, options, skipped, notes
    )
    plot_nll(rows, out / "uci_nll.png", models)
    print(
        f"wrote uci_results.csv, uci_summary.md and uci_nll.png in {out}",
        file=sys.stderr,
    )


def _report(args, parser, argv):
    if not args.include:
        parser.error("--report-only needs at least one --include CSV")
    rows = merge_rows(*(read_csv(path) for path in args.include))
    if not rows:
        parser.error("the --include files hold no rows")
    present = {r["model"] for r in rows}
    models = [m for m in MODEL_NAMES if m in present]
    models += sorted(present - set(models))
    options = BenchmarkOptions(grid=args.grid, n_jobs=args.n_jobs)
    args.out.mkdir(parents=True, exist_ok=True)
    _write_outputs(rows, args.out, _command(argv), models, options, {}, args.note)
    return rows


if __name__ == "__main__":
    main()
