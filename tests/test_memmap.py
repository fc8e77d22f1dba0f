"""Fitting and predicting from a NumPy memmap, read from disk batch by batch."""

import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skmdn import MDNEnsembleRegressor, MDNRegressor

FAST = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=4, random_state=0)


def _memmap(tmp_path, X, name="X.npy"):
    path = tmp_path / name
    out = np.lib.format.open_memmap(path, mode="w+", dtype=X.dtype, shape=X.shape)
    out[:] = X
    out.flush()
    return np.load(path, mmap_mode="r")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3)).astype(np.float32)
    y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=600)
    return X, y


@pytest.mark.parametrize(
    "params",
    [{}, {"n_init": 2}, {"batch_size": None}, {"early_stopping": False}],
    ids=["defaults", "restarts", "full-batch", "no-validation"],
)
def test_a_memmap_fit_equals_the_in_memory_fit(tmp_path, data, params):
    X, y = data
    Xm = _memmap(tmp_path, X)
    in_memory = MDNRegressor(**FAST, **params).fit(X, y)
    on_disk = MDNRegressor(**FAST, **params).fit(Xm, y)
    assert_array_equal(on_disk.predict(Xm), in_memory.predict(X))
    assert_array_equal(on_disk.score_samples(X, y), in_memory.score_samples(X, y))


def test_weights_ensembles_and_float64_memmaps(tmp_path, data):
    X, y = data
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    X64 = X.astype(np.float64)
    Xm = _memmap(tmp_path, X64, "X64.npy")
    a = MDNRegressor(**FAST).fit(X64, y, sample_weight=w)
    b = MDNRegressor(**FAST).fit(Xm, y, sample_weight=w)
    assert_array_equal(a.predict(X64), b.predict(Xm))
    ens = MDNEnsembleRegressor(MDNRegressor(**FAST), n_estimators=2, random_state=0)
    a = ens.fit(X, y).predict(X)
    assert_array_equal(ens.fit(_memmap(tmp_path, X), y).predict(X), a)


def test_training_does_not_copy_a_memmap_into_memory(tmp_path):
    # NumPy allocations are traced: from memory, training holds a float32
    # copy of X; from a memmap it holds chunks and batches only (both hold
    # the same chunk-sized temporaries, whose size does not grow with n).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 20)).astype(np.float32)
    y = X[:, 0] + 0.1 * rng.normal(size=len(X))
    Xm = _memmap(tmp_path, X)
    params = dict(n_components=1, hidden_layer_sizes=(4,), max_epochs=1)

    def peak_during_fit(data):
        tracemalloc.start()
        MDNRegressor(**params, random_state=0).fit(data, y[: len(data)])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    peak_during_fit(X[:1000])  # imports and first-call caches, not counted
    assert peak_during_fit(X) - peak_during_fit(Xm) > 0.7 * X.nbytes


def test_memmaps_of_other_dtypes_or_shapes_are_refused(tmp_path, data):
    X, y = data
    with pytest.raises(ValueError, match="memmap of int16.*float32 or float64"):
        MDNRegressor(**FAST).fit(_memmap(tmp_path, X.astype(np.int16), "i.npy"), y)
    with pytest.raises(ValueError, match="2D array"):
        MDNRegressor(**FAST).fit(_memmap(tmp_path, X[:, 0].copy(), "v.npy"), y)
    fitted = MDNRegressor(**FAST).fit(X, y)
    before = fitted.predict(X)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(_memmap(tmp_path, X[:, :2].copy(), "narrow.npy"))
    assert_array_equal(fitted.predict(X), before)
