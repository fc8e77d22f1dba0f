"""Compare the same models across two runs of the UCI benchmark, split by split.

A change of defaults is judged against the committed results: for each
model and dataset, the paired test-NLL difference (new minus old, on the
splits both runs finished: mean ± standard error, splits improved) and the
ratio of mean fit times. A set is flagged when the new run is worse by more
than one standard error of the paired difference.

Usage::

    python benchmarks/compare_runs.py OLD.csv NEW.csv [NEW2.csv ...]
        [--models mdn,mdn-ensemble]

``git show REV:benchmarks/results/uci_results.csv > old.csv`` gives an
earlier committed run.
"""

from __future__ import annotations

import argparse

import numpy as np

try:
    from uci import merge_rows, paired_differences, read_csv, summarize, table_key
except ImportError:  # run from the repository root
    from benchmarks.uci import (
        merge_rows,
        paired_differences,
        read_csv,
        summarize,
        table_key,
    )


def compare(old_rows, new_rows, models):
    """Markdown table lines: one row per model and dataset both runs have."""
    rows = [{**r, "model": r["model"] + " (old)"} for r in old_rows] + new_rows
    keys = sorted({table_key(r) for r in new_rows} & {table_key(r) for r in old_rows})
    lines = [
        "| model | dataset | splits | NLL new - old | improved | worse by > 1 se "
        "| fit s old | fit s new | new / old |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for model in models:
        for dataset, deq in keys:
            diffs = paired_differences(rows, model, model + " (old)", dataset, deq)
            if diffs.size == 0:
                continue
            mean, se, n = summarize(diffs)
            fit = {}
            for name in (model + " (old)", model):
                times = [
                    r["fit_seconds"]
                    for r in rows
                    if r["model"] == name and table_key(r) == (dataset, deq)
                ]
                fit[name] = summarize(times)[0]
            old_fit, new_fit = fit[model + " (old)"], fit[model]
            worse = "yes" if n > 1 and mean > se else "no"
            label = dataset + (" (dequantized)" if deq else "")
            lines.append(
                f"| {model} | {label} | {n} | {mean:+.3f} ± {se:.3f} | "
                f"{int(np.sum(diffs < 0))}/{n} | {worse} | {old_fit:.1f} | "
                f"{new_fit:.1f} | {new_fit / old_fit:.2f} |"
            )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new", nargs="+")
    parser.add_argument("--models", default="mdn,mdn-tuned,mdn-ensemble")
    args = parser.parse_args(argv)
    old = read_csv(args.old)
    new = merge_rows(*(read_csv(path) for path in args.new))
    print("\n".join(compare(old, new, args.models.split(","))))


if __name__ == "__main__":
    main()
