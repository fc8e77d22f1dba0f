import numpy as np
import pytest
import torch

from skmdn import MDNRegressor, MixtureDistribution
from skmdn.datasets import make_inverted_sinusoid

from ._mixtures import random_mixture

# Tests run in parallel workers; one thread each avoids oversubscribing.
torch.set_num_threads(1)

FAST = dict(hidden_layer_sizes=(16,), max_epochs=40, batch_size=64, random_state=0)


@pytest.fixture(scope="session")
def sinusoid():
    X, y = make_inverted_sinusoid(400, random_state=0)
    return X, y


@pytest.fixture(scope="session")
def fitted(sinusoid):
    X, y = sinusoid
    return MDNRegressor(n_components=3, **FAST).fit(X, y)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def mix():
    # 50 random 4-component mixtures.
    return random_mixture()


@pytest.fixture(scope="module")
def separated():
    # Three well separated bumps with distinct heights, in two rows.
    w = [[0.5, 0.3, 0.2], [0.2, 0.5, 0.3]]
    mu = [[-10.0, 0.0, 10.0], [-10.0, 0.0, 10.0]]
    s = [[1.0, 1.0, 1.0], [1.0, 0.5, 2.0]]
    return MixtureDistribution(w, mu, s)
