"""Comparing two runs of the UCI benchmark, split by split."""

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCHMARKS))

from compare_runs import compare  # noqa: E402


def _rows(model, nlls, fit):
    return [
        {
            "dataset": "toy",
            "model": model,
            "split": k,
            "nll": v,
            "fit_seconds": fit,
            "target_grid": float("nan"),
            "dequantized": False,
        }
        for k, v in enumerate(nlls)
    ]


def test_paired_difference_flags_a_set_worse_by_more_than_one_se():
    old = _rows("mdn", [1.0, 2.0, 3.0, 4.0], fit=2.0)
    better = _rows("mdn", [0.9, 1.8, 3.1, 3.7], fit=1.0)
    (line,) = compare(old, better, ["mdn"])[2:]
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[:3] == ["mdn", "toy", "4"]
    assert cells[3].startswith("-0.125")
    assert cells[4:6] == ["3/4", "no"]
    assert cells[-1] == "0.50"
    worse = _rows("mdn", [1.2, 2.2, 3.1, 4.3], fit=2.0)
    (line,) = compare(old, worse, ["mdn"])[2:]
    assert "| 0/4 | yes |" in line


def test_only_splits_both_runs_finished_are_paired():
    old = _rows("mdn", [1.0, 2.0], fit=1.0)
    new = _rows("mdn", [0.5, 1.5, 9.0], fit=1.0)
    (line,) = compare(old, new, ["mdn", "absent"])[2:]
    assert "| toy | 2 | -0.500 ± 0.000 |" in line
