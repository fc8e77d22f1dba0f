import importlib.util
from pathlib import Path

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
