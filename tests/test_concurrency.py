"""One fitted model used from several threads at once."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from numpy.testing import assert_array_equal

from skmdn import MDNRegressor

from ._data import noisy_line


@pytest.fixture(scope="module")
def model_and_data():
    X, y = noisy_line(300)
    mdn = MDNRegressor(n_components=3, hidden_layer_sizes=(8,), max_epochs=10)
    return mdn.fit(X, y), X, y


CALLS = {
    "predict": lambda m, X, y, i: m.predict(X),
    "sample": lambda m, X, y, i: m.sample(X, 4, random_state=i),
    "score_samples": lambda m, X, y, i: m.score_samples(X, y),
    "predict_dist": lambda m, X, y, i: m.predict_dist(X).cdf(y),
    "quantiles": lambda m, X, y, i: m.predict_quantiles(X, [0.1, 0.9]),
}


@pytest.mark.parametrize("call", CALLS)
def test_eight_threads_give_what_sequential_calls_give(model_and_data, call):
    model, X, y = model_and_data
    fn = CALLS[call]
    expected = [fn(model, X, y, i) for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: fn(model, X, y, i), range(16)))
    for got, want in zip(results, expected):
        assert_array_equal(got, want)


def test_parallel_grid_search_equals_the_sequential_one(model_and_data):
    from sklearn.model_selection import GridSearchCV, KFold

    _, X, y = model_and_data
    estimator = MDNRegressor(hidden_layer_sizes=(4,), max_epochs=5, random_state=0)
    grid = {"n_components": [1, 2]}
    cv = KFold(2, shuffle=True, random_state=0)
    scores = [
        GridSearchCV(estimator, grid, cv=cv, n_jobs=n_jobs)
        .fit(X, y)
        .cv_results_["mean_test_score"]
        for n_jobs in (1, 2)
    ]
    assert_array_equal(scores[0], scores[1])
