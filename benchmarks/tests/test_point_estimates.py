"""The point-estimate benchmark: the statistics it compares, on toy data."""

import sys
from pathlib import Path

import numpy as np

from skmdn import MixtureDistribution

BENCHMARKS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCHMARKS))

from bench_point_estimates import main, point_predictions  # noqa: E402
from test_uci_benchmark import _write_dataset  # noqa: E402


def test_point_predictions_of_a_two_component_mixture():
    # One heavy component at 0 and a light one far away: the mean is pulled
    # towards the light one, the median, mode and trimmed mean are not.
    dist = MixtureDistribution(
        weights=[[0.97, 0.03]], means=[[0.0, 10.0]], scales=[[1.0, 1.0]]
    )
    preds = point_predictions(dist, min_weight=0.05)
    np.testing.assert_allclose(preds["mean"], [0.3])
    np.testing.assert_allclose(preds["trimmed mean"], [0.0])
    np.testing.assert_allclose(preds["mode"], [0.0], atol=1e-6)
    assert 0.0 < preds["median"][0] < 0.1
    # With no component below the threshold the trimmed mean is the mean.
    preds = point_predictions(dist, min_weight=0.01)
    np.testing.assert_allclose(preds["trimmed mean"], preds["mean"])


def test_script_prints_one_row_per_dataset(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 2))
    y = X @ [1.0, -2.0] + 0.3 * rng.normal(size=48)
    _write_dataset(tmp_path, "toy", np.column_stack([X, y]), 2)
    main(["--data", str(tmp_path), "--datasets", "toy", "--splits", "2"])
    out = capsys.readouterr().out.splitlines()
    assert out[-1].split()[:2] == ["toy", "2"]
    assert len(out[-1].split()) == 2 + 2 * 4
