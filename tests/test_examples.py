import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_writes_its_figure_and_beats_mse(tmp_path):
    pytest.importorskip("matplotlib")
    demo = _load(ROOT / "examples" / "demo.py")
    nll_mdn, nll_mlp = demo.main(["--output", str(tmp_path), "--n-test", "2000"])
    assert (tmp_path / "inverted_sinusoid.png").stat().st_size > 10_000
    assert nll_mdn < 1.5 < 2.5 < nll_mlp


def test_demo_mse_fit_converges_and_is_robust_to_rounding():
    # An unconverged L-BFGS run amplifies rounding: a relative change of
    # 1e-13 in X moved the old curve by up to 7.6. The converged fit does not.
    demo = _load(ROOT / "examples" / "demo.py")
    from skmdn.datasets import make_inverted_sinusoid

    X, y = make_inverted_sinusoid(1000, random_state=0)
    grid = np.linspace(-12, 12, 400)[:, None]
    mlp, variance = demo.fit_mlp(X, y, 0)
    nudged, _ = demo.fit_mlp(X * (1 + 1e-13), y, 0)
    assert mlp[-1].n_iter_ < mlp[-1].max_iter
    curve = mlp.predict(grid)
    assert np.abs(curve - nudged.predict(grid)).max() < 0.5
    assert np.abs(np.diff(curve, 2)).max() < 0.05  # no spikes
    # It estimates E[x | y] of the seed's data, computed on a fine grid of x.
    xs = np.linspace(-10.5, 10.5, 20_001)
    lik = np.exp(-0.5 * (grid - (7 * np.sin(0.75 * xs) + 0.5 * xs)) ** 2)
    truth = lik @ xs / lik.sum(axis=1)
    assert np.sqrt(np.mean((curve - truth) ** 2)) < 1.0
    assert 15 < variance < 30
