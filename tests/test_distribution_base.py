"""What MixtureDistribution and MultivariateMixtureDistribution share."""

import pickle

import numpy as np
import pytest

from skmdn import MixtureDistribution, MultivariateMixtureDistribution
from skmdn._distributions import BaseMixtureDistribution


def _raw_params(n=6, K=3, d=None, seed=0):
    """Parameters whose weights are not exactly normalised in float64."""
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(K), n) * (1.0 + 1e-9)
    shape = (n, K) if d is None else (n, K, d)
    return w, rng.normal(0.0, 2.0, shape), np.exp(rng.normal(0.0, 0.3, shape))


@pytest.fixture
def both():
    w, mu, s = _raw_params()
    uni = MixtureDistribution(w / w.sum(axis=1, keepdims=True), mu, s)
    w, mu, s = _raw_params(d=2, seed=1)
    multi = MultivariateMixtureDistribution.from_diagonal(
        w / w.sum(axis=1, keepdims=True), mu, s
    )
    return uni, multi


def test_both_share_the_base_class(both):
    for dist in both:
        assert isinstance(dist, BaseMixtureDistribution)
        assert len(dist) == 6 and dist.n_components == 3
        assert isinstance(dist[1:3], type(dist)) and len(dist[1:3]) == 2


def test_n_outputs(both):
    uni, multi = both
    assert uni.n_outputs == 1
    assert multi.n_outputs == 2
    assert multi.marginal(0).n_outputs == 1


@pytest.mark.parametrize("which", [0, 1])
def test_one_set_of_row_checks(both, which):
    dist = both[which]
    name = type(dist).__name__
    with pytest.raises(TypeError, match=f"Cannot index a {name} with a boolean"):
        dist[True]
    with pytest.raises(IndexError, match="out of range"):
        dist[6]
    with pytest.raises(IndexError, match="out of range"):
        dist[np.array([0, 6])]
    with pytest.raises(IndexError, match="boolean mask"):
        dist[np.ones(3, dtype=bool)]
    with pytest.raises(IndexError, match="1-D integer"):
        dist[np.array([0.5])]


def test_one_component_sampling(both):
    # Both classes choose components with the same draws: with one output
    # and the same weights, means and scales, the samples are identical.
    uni = both[0]
    multi = MultivariateMixtureDistribution.from_diagonal(
        uni.weights, uni.means[:, :, None], uni.scales[:, :, None]
    )
    np.testing.assert_array_equal(
        multi.sample(50, random_state=3)[:, :, 0], uni.sample(50, random_state=3)
    )


def _assert_same_state(a, b):
    assert type(a) is type(b)
    assert set(vars(a)) == set(vars(b))
    for key, value in vars(a).items():
        other = vars(b)[key]
        if value is None:
            assert other is None
            continue
        if hasattr(value, "params"):  # derived arrays, rebuilt
            value, other = value.params, other.params
        else:
            assert not other.flags.writeable
        np.testing.assert_array_equal(value, other)
        assert value.dtype == other.dtype


def test_pickle_round_trip_is_bit_identical():
    # Weights off 1 in the last bits: the constructor would renormalise them
    # once more; unpickling must not.
    w, mu, s = _raw_params(seed=4)
    w = w / w.sum(axis=1, keepdims=True)
    w[:, 0] *= 1.0 + 4e-16
    uni = MixtureDistribution._from_validated(w, mu, s)
    assert not np.all(uni.weights.sum(axis=1) == 1.0)
    _assert_same_state(uni, pickle.loads(pickle.dumps(uni)))
    with_log = MixtureDistribution._from_validated(w, mu, s, log_weights=np.log(w))
    _assert_same_state(with_log, pickle.loads(pickle.dumps(with_log)))

    w, mu, s = _raw_params(d=3, seed=5)
    L = s[..., :, None] * np.eye(3)
    L[..., 2, 0] = 0.3
    multi = MultivariateMixtureDistribution._from_validated(w, mu, L)
    copy = pickle.loads(pickle.dumps(multi))
    _assert_same_state(multi, copy)
    np.testing.assert_array_equal(copy.weights, w)


def test_from_validated_log_weights_matches_constructor():
    w, mu, s = _raw_params(n=40, K=4, seed=6)
    w = w / w.sum(axis=1, keepdims=True)
    log_w = np.log(w)
    dist = MixtureDistribution(w, mu, s)
    fast = MixtureDistribution._from_validated(w, mu, s, log_weights=log_w)
    y = np.linspace(-6.0, 6.0, 11)[None].repeat(40, axis=0)
    np.testing.assert_allclose(fast.logpdf(y), dist.logpdf(y), rtol=1e-14)
    np.testing.assert_allclose(fast.ppf(0.3), dist.ppf(0.3), rtol=1e-12)
    np.testing.assert_allclose(fast.hdr(0.9).threshold, dist.hdr(0.9).threshold)
    np.testing.assert_array_equal(fast[3:5]._log_weights, log_w[3:5])

    w, mu, s = _raw_params(n=40, K=4, d=2, seed=7)
    w = w / w.sum(axis=1, keepdims=True)
    y = np.random.default_rng(0).normal(size=(40, 5, 2))
    ref = MultivariateMixtureDistribution.from_diagonal(w, mu, s)
    L = s[..., :, None] * np.eye(2)
    for fast in (
        MultivariateMixtureDistribution._from_validated(
            w, mu, L, log_weights=np.log(w)
        ),
        MultivariateMixtureDistribution.from_diagonal(w, mu, s, log_weights=np.log(w)),
    ):
        np.testing.assert_allclose(fast.logpdf(y), ref.logpdf(y), rtol=1e-14)
