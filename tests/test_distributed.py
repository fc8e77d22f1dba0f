"""Hyperparameter search over MDNs on a Dask cluster, through joblib's backend.

A LocalCluster of two single-threaded worker processes runs the searches;
each must give the ``cv_results_`` of the same search run locally. The
workers are started with the ``forkserver`` method that docs/distributed.md
recommends, which is what lets them shut down without being killed.
"""

import logging
from contextlib import contextmanager

import numpy as np
import pytest
import torch
from joblib import parallel_backend, parallel_config
from numpy.testing import assert_array_equal
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_validate,
)
from skorch.callbacks import Callback

from skmdn import MDNEnsembleRegressor, MDNRegressor
from skmdn.metrics import crps_scorer, nll_scorer

from ._data import noisy_line

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

FAST = dict(hidden_layer_sizes=(4,), max_epochs=5, random_state=0)
CV = KFold(2, shuffle=True, random_state=0)


@contextmanager
def local_cluster():
    """Two worker processes of one thread each, and a client to them."""
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    try:
        with distributed.Client(cluster) as client:
            yield cluster, client
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def client():
    with local_cluster() as (_, client):
        yield client


@pytest.fixture(scope="module")
def data():
    return noisy_line(160)


def assert_same_search(local, remote):
    """The same candidates, scores and ranks (the times may differ)."""
    assert local.cv_results_["params"] == remote.cv_results_["params"]
    for key, value in local.cv_results_.items():
        if "test_" in key:  # split, mean and std test scores, and the rank
            assert_array_equal(remote.cv_results_[key], value, err_msg=key)
    assert local.best_params_ == remote.best_params_
    X = np.linspace(-1, 1, 7)[:, None] * [1.0, 0.5]
    assert_array_equal(remote.predict(X), local.predict(X))


SEARCHES = {
    "grid-mdn": lambda: GridSearchCV(
        MDNRegressor(**FAST), {"n_components": [1, 2]}, cv=CV
    ),
    "grid-ensemble": lambda: GridSearchCV(
        MDNEnsembleRegressor(MDNRegressor(**FAST), n_estimators=2, random_state=0),
        {"estimator__n_components": [1, 2]},
        cv=CV,
    ),
    "randomized-mdn": lambda: RandomizedSearchCV(
        MDNRegressor(**FAST),
        {"n_components": [1, 2, 3], "input_noise": [0.0, 0.1]},
        n_iter=3,
        cv=CV,
        random_state=0,
    ),
}


@pytest.mark.parametrize("search", SEARCHES)
def test_search_on_the_cluster_equals_the_local_one(client, data, search):
    X, y = data
    local = SEARCHES[search]().fit(X, y)
    with parallel_config(backend="dask"):
        remote = SEARCHES[search]().fit(X, y)
    assert_same_search(local, remote)


def test_parallel_backend_and_scattered_data_give_the_same_search(client, data):
    X, y = data
    local = SEARCHES["grid-mdn"]().fit(X, y)
    with parallel_backend("dask"):
        remote = SEARCHES["grid-mdn"]().fit(X, y)
    assert_same_search(local, remote)
    with parallel_config(backend="dask", scatter=[X, y]):
        scattered = SEARCHES["grid-mdn"]().fit(X, y)
    assert_same_search(local, scattered)


def test_cross_validate_with_probabilistic_scorers(client, data):
    X, y = data
    model = MDNEnsembleRegressor(MDNRegressor(**FAST), n_estimators=2, random_state=0)
    scoring = {"nll": nll_scorer, "crps": crps_scorer}
    local = cross_validate(model, X, y, cv=CV, scoring=scoring)
    with parallel_config(backend="dask"):
        remote = cross_validate(model, X, y, cv=CV, scoring=scoring)
    for key in ("test_nll", "test_crps"):
        assert_array_equal(remote[key], local[key])


class RecordThreads(Callback):
    """Records PyTorch's intra-op thread count while the net trains."""

    def on_train_begin(self, net, **kwargs):
        self.threads_ = torch.get_num_threads()


def _worker_threads():
    return torch.get_num_threads()


@pytest.mark.parametrize("num_threads", [1, 2, None])
def test_a_fit_on_a_worker_uses_num_threads_and_restores_it(client, data, num_threads):
    # Dask starts its workers with OMP_NUM_THREADS=1: one PyTorch thread for
    # each of the worker's task threads, which num_threads=None keeps.
    X, y = data
    before = client.submit(_worker_threads, pure=False).result()
    assert before == 1
    model = MDNRegressor(**FAST, num_threads=num_threads, callbacks=[RecordThreads()])
    with parallel_config(backend="dask"):
        result = cross_validate(model, X, y, cv=CV, return_estimator=True)
    for fitted in result["estimator"]:
        recorded = dict(fitted.net_.callbacks_)["RecordThreads"].threads_
        assert recorded == (before if num_threads is None else num_threads)
    after = client.submit(_worker_threads, pure=False).result()
    assert after == before


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_the_cluster_shuts_down_cleanly_after_an_mdn_search(data):
    # With the default "spawn" workers, each one's interpreter teardown of
    # torch, scikit-learn and SciPy can outlast the nanny's 4 s grace on a
    # loaded machine, and the nanny kills it; forkserver workers exit at once.
    X, y = data
    records = _Records()
    nanny_log = logging.getLogger("distributed.nanny")
    nanny_log.addHandler(records)
    try:
        with local_cluster() as (cluster, client):
            with parallel_config(backend="dask"):
                SEARCHES["grid-mdn"]().fit(X, y)
            processes = [w.process.process for w in cluster.workers.values()]
    finally:
        nanny_log.removeHandler(records)
    assert not [m for m in records.messages if "killing" in m]
    # A process that the nanny had to kill would exit with -9 (SIGKILL).
    assert [p.exitcode for p in processes] == [0, 0]
