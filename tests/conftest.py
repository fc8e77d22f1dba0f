import numpy as np
import pytest
import torch

from skmdn import MDNRegressor
from skmdn.datasets import make_inverted_sinusoid

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
