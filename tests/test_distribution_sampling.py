"""Sampling from MixtureDistribution."""

import numpy as np
import pytest
from scipy import stats


def test_sample_moments_and_seed(mix):
    small = mix[:5]
    draws = small.sample(200_000, random_state=0)
    assert draws.shape == (5, 200_000)
    se_mean = small.std() / np.sqrt(draws.shape[1])
    assert np.all(np.abs(draws.mean(axis=1) - small.mean()) < 5 * se_mean)
    # The standard error of a sample std is std * sqrt(kurtosis - 1) / (2 sqrt(n)),
    # well below 2% here.
    assert np.all(np.abs(draws.std(axis=1) - small.std()) < 0.02 * small.std())
    np.testing.assert_array_equal(small.sample(3, random_state=42), small.sample(3, 42))
    rs = np.random.RandomState(1)
    assert small.sample(2, random_state=rs).shape == (5, 2)
    gen = np.random.default_rng(1)
    np.testing.assert_array_equal(
        small.sample(4, random_state=gen), small.sample(4, np.random.default_rng(1))
    )
    assert not np.array_equal(
        small.sample(3, random_state=1), small.sample(3, random_state=2)
    )


def test_sample_follows_distribution(separated):
    draws = separated.sample(20_000, random_state=0)
    for i in range(2):
        res = stats.kstest(
            draws[i], lambda x, i=i: separated[i].cdf(np.atleast_1d(x)[None])[0]
        )
        assert res.pvalue > 0.01


def test_sample_validation(mix):
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="n_samples"):
            mix.sample(bad)
