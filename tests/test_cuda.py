"""``device="cuda"`` end to end; skipped where PyTorch finds no CUDA device.

What a CPU can check of the device handling runs everywhere: every tensor
of a pickle goes through skorch's device mapping (test_regressor.py), and a
model set up for CUDA saves, loads and predicts on the CPU
(test_persistence.py).
"""

import pickle
import warnings
from unittest import mock

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from skorch.callbacks import LRScheduler

from skmdn import MDNEnsembleRegressor, MDNRegressor, load

from ._data import noisy_line

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device"
)

DEVICE = "cuda"
FAST = dict(n_components=3, hidden_layer_sizes=(16,), max_epochs=20, random_state=0)
MODELS = {
    "one network": lambda: MDNRegressor(**FAST, device=DEVICE),
    "restarts": lambda: MDNRegressor(**FAST, n_init=3, device=DEVICE),
    "ensemble": lambda: MDNEnsembleRegressor(
        MDNRegressor(**FAST, device=DEVICE), n_estimators=3, random_state=0
    ),
    "full covariance": lambda: MDNRegressor(
        **FAST, covariance_type="full", device=DEVICE
    ),
    # The scheduler holds the optimizer, whose tensors are on the GPU.
    "user LRScheduler": lambda: MDNRegressor(
        **FAST, device=DEVICE, callbacks=[LRScheduler("StepLR", step_size=10)]
    ),
}
# GPU and CPU float32 kernels round differently.
CLOSE = dict(rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def data():
    X, y = noisy_line(300)
    noise = np.random.default_rng(1).normal(size=300)
    return X, y, np.column_stack([y, X[:, 1] + 0.1 * noise])


@pytest.fixture(scope="module", params=list(MODELS))
def fitted(request, data):
    X, y, Y = data
    target = Y if request.param == "full covariance" else y
    return MODELS[request.param]().fit(X, target), X, target


def _networks(model):
    return [m.net_.module_ for m in getattr(model, "estimators_", [model])]


def _on(model, device_type):
    return all(
        p.device.type == device_type
        for network in _networks(model)
        for p in network.parameters()
    )


def _predictions(model, X, y):
    dist = model.predict_dist(X)
    return {
        "predict": model.predict(X),
        "std": model.predict(X, return_std=True)[1],
        "density": model.predict_proba_density(X, y),
        "log-likelihood": model.score_samples(X, y),
        "weights": dist.weights,
        "means": dist.means,
    }


def test_trains_on_the_gpu_and_returns_numpy(fitted):
    model, X, y = fitted
    assert _on(model, DEVICE)
    results = _predictions(model, X, y)
    results["samples"] = model.sample(X, 4, random_state=0)
    for name, value in results.items():
        assert isinstance(value, np.ndarray), name
        assert value.dtype == np.float64, name
        assert np.all(np.isfinite(value)), name
    assert results["samples"].shape[:2] == (len(X), 4)
    assert np.isfinite(model.score(X, y))


def test_saved_model_loads_on_the_cpu_and_predicts_the_same(fitted, tmp_path):
    model, X, y = fitted
    model.save(tmp_path / "model.skmdn")
    loaded = load(tmp_path / "model.skmdn")
    assert _on(loaded, "cpu")
    on_gpu, on_cpu = _predictions(model, X, y), _predictions(loaded, X, y)
    for name, value in on_gpu.items():
        assert_allclose(on_cpu[name], value, **CLOSE, err_msg=name)


def test_pickle_loads_with_and_without_cuda(fitted):
    model, X, y = fitted
    blob = pickle.dumps(model)
    same = pickle.loads(blob)
    assert _on(same, DEVICE)
    assert_array_equal(same.score_samples(X, y), model.score_samples(X, y))
    with mock.patch.object(torch.cuda, "is_available", return_value=False):
        with warnings.catch_warnings():
            # skorch's DeviceWarning: the nets load on the CPU instead.
            warnings.simplefilter("ignore")
            moved = pickle.loads(blob)
    assert _on(moved, "cpu")
    assert_allclose(moved.score_samples(X, y), model.score_samples(X, y), **CLOSE)


def test_weighted_warm_start_on_the_gpu_continues_from_the_weights(data):
    X, y, _ = data
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    model = MDNRegressor(**FAST, device=DEVICE, warm_start=True)
    model.fit(X, y, sample_weight=w)
    before = model.score_samples(X, y)
    # One epoch at a negligible rate: the weights stay where the first fit
    # left them, which they only do if they were carried over.
    model.set_params(lr=1e-12, max_epochs=1).fit(X, y, sample_weight=w)
    assert _on(model, DEVICE)
    assert_allclose(model.score_samples(X, y), before, **CLOSE)


def test_a_fit_leaves_the_cuda_generator_as_it_was(data):
    X, y, _ = data
    state = torch.cuda.get_rng_state()
    MDNRegressor(**FAST, n_init=2, device=DEVICE).fit(X, y)
    assert torch.equal(torch.cuda.get_rng_state(), state)
