"""Construction, validation and the container protocol of MixtureDistribution."""

import numpy as np
import pytest
from scipy import stats

from skmdn import MixtureDistribution


def test_stores_float64_read_only_and_renormalises():
    w = [[0.3, 0.7 + 5e-7]]
    dist = MixtureDistribution(w, [[0, 1]], [[1, 2]])
    assert dist.weights.dtype == np.float64
    assert dist.n_components == 2
    np.testing.assert_allclose(dist.weights.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="read-only"):
        dist.means[0, 0] = 3.0


@pytest.mark.parametrize(
    "w, mu, s, match",
    [
        ([0.5, 0.5], [0, 1], [1, 1], "2-D"),
        ([[0.5, 0.5]], [[0, 1, 2]], [[1, 1]], "same shape"),
        ([[0.5, 0.5]], [[0, np.nan]], [[1, 1]], "means contains NaN"),
        ([[0.5, 0.5]], [[0, 1]], [[1, np.inf]], "scales contains NaN or infinite"),
        ([[0.5, 0.5]], [[0, 1]], [[1, 0]], "scales must be strictly positive"),
        ([[1.5, -0.5]], [[0, 1]], [[1, 1]], "weights must be non-negative"),
        ([[0.5, 0.6]], [[0, 1]], [[1, 1]], "sum to 1"),
        (
            np.empty((2, 0)),
            np.empty((2, 0)),
            np.empty((2, 0)),
            "at least one component",
        ),
    ],
)
def test_invalid_parameters(w, mu, s, match):
    with pytest.raises(ValueError, match=match):
        MixtureDistribution(w, mu, s)


def test_zero_weights_are_allowed():
    dist = MixtureDistribution([[1.0, 0.0]], [[0.0, 5.0]], [[1.0, 1.0]])
    np.testing.assert_allclose(dist.logpdf(5.0), stats.norm.logpdf(5.0))
    np.testing.assert_allclose(dist.cdf(1.0), stats.norm.cdf(1.0))
    assert np.isfinite(dist.sample(100, random_state=0)).all()
    assert np.all(np.abs(dist.sample(1000, random_state=0)) < 6)


def test_len_getitem(mix):
    n = len(mix)
    assert n == 50
    one = mix[3]
    assert isinstance(one, MixtureDistribution) and len(one) == 1
    np.testing.assert_array_equal(one.means[0], mix.means[3])
    np.testing.assert_array_equal(mix[-1].weights[0], mix.weights[-1])
    assert len(mix[10:20]) == 10
    np.testing.assert_array_equal(mix[[0, 5, 5]].scales, mix.scales[[0, 5, 5]])
    mask = np.zeros(n, dtype=bool)
    mask[[1, 2]] = True
    np.testing.assert_allclose(mix[mask].cdf(0.0), mix.cdf(0.0)[mask])
    with pytest.raises(IndexError, match="out of range"):
        mix[n]
    with pytest.raises(IndexError, match="boolean mask"):
        mix[np.ones(3, dtype=bool)]


def test_empty_selection(mix):
    empty = mix[np.zeros(len(mix), dtype=bool)]
    assert len(empty) == 0
    assert empty.mean().shape == (0,)
    assert empty.cdf(0.0).shape == (0,)
    assert empty.ppf(0.5).shape == (0,)
    assert empty.modes()[0].shape == (0, mix.n_components)
    assert empty.hdr(0.5).threshold.shape == (0,)
    assert empty.sample(3).shape == (0, 3)


def test_pickle_round_trip(mix):
    import pickle

    copy = pickle.loads(pickle.dumps(mix))
    np.testing.assert_array_equal(copy.means, mix.means)
    np.testing.assert_allclose(copy.ppf(0.3), mix.ppf(0.3), rtol=1e-12)
    assert not copy.weights.flags.writeable


def test_repr(mix):
    assert repr(mix) == "MixtureDistribution(n_rows=50, n_components=4)"
    small = repr(MixtureDistribution([[1.0]], [[2.0]], [[3.0]]))
    assert small == "MixtureDistribution(weights=[[1.]], means=[[2.]], scales=[[3.]])"
    assert "HighestDensityRegion(n_rows=50" in repr(mix.hdr(0.5))


def test_subnormal_scales_are_refused_instead_of_nan_densities():
    with pytest.raises(ValueError, match="smallest normal float64"):
        MixtureDistribution([[1.0]], [[0.0]], [[1e-310]])
    dist = MixtureDistribution([[1.0]], [[0.0]], [[1e-300]])
    assert np.isfinite(dist.logpdf(0.0)).all()
