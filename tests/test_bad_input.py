"""Every public entry point against the bad inputs users produce.

Each case feeds one bad argument to one entry point and expects a
``ValueError`` or ``TypeError`` whose message names the problem, and a
fitted model that predicts exactly as before afterwards.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from skmdn import MDNRegressor, MixtureDistribution, metrics

N = 40

BAD_X = {
    "nan": (np.full((N, 1), np.nan), "NaN"),
    "inf": (np.full((N, 1), np.inf), "infinity|infinite"),
    "strings": (np.array([["a"]] * N), "convert|numeric|string"),
    "object": (np.array([[1.0], ["x"]] * (N // 2), dtype=object), "convert|numeric"),
    "ragged": ([[1.0], [1.0, 2.0]] * (N // 2), "inhomogeneous|sequence|shape"),
    "3-D": (np.zeros((N, 1, 1)), "dim|2D|2-D|shape"),
    "empty": (np.zeros((0, 1)), "0 sample|empty|minimum"),
    "complex": (np.ones((N, 1)) + 1j, "(?i)complex"),
    "sparse": (sp.csr_matrix(np.ones((N, 1))), "[Ss]parse"),
    "wrong width": (np.zeros((N, 3)), "features"),
}


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 1))
    y = X[:, 0] + 0.1 * rng.normal(size=200)
    return MDNRegressor(n_components=2, hidden_layer_sizes=(4,), max_epochs=5).fit(X, y)


def _y(n=N):
    return np.zeros(n)


ESTIMATOR_CALLS = {
    "predict": lambda m, X: m.predict(X),
    "predict(return_std)": lambda m, X: m.predict(X, return_std=True),
    "predict_dist": lambda m, X: m.predict_dist(X),
    "predict_proba_density": lambda m, X: m.predict_proba_density(X, _y(len_of(X))),
    "score_samples": lambda m, X: m.score_samples(X, _y(len_of(X))),
    "score": lambda m, X: m.score(X, _y(len_of(X))),
    "sample": lambda m, X: m.sample(X, 2),
    "predict_quantiles": lambda m, X: m.predict_quantiles(X, [0.5]),
    "predict_interval": lambda m, X: m.predict_interval(X, 0.9),
    "predict_interval(hdr)": lambda m, X: m.predict_interval(X, 0.9, method="hdr"),
}


def len_of(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


@pytest.mark.parametrize("call", ESTIMATOR_CALLS)
@pytest.mark.parametrize("case", BAD_X)
def test_prediction_methods_refuse_bad_X(model, call, case):
    X_bad, match = BAD_X[case]
    X_ok = np.linspace(-1, 1, 5)[:, None]
    before = model.predict(X_ok)
    with pytest.raises((ValueError, TypeError), match=match):
        ESTIMATOR_CALLS[call](model, X_bad)
    assert_array_equal(model.predict(X_ok), before)


BAD_TARGETS = {
    "nan": (np.full(N, np.nan), "NaN"),
    "inf": (np.full(N, np.inf), "infinit"),
    "strings": (np.array(["a"] * N), "convert|numeric|string"),
    "complex": (np.zeros(N) + 1j, "(?i)complex"),
    "short": (np.zeros(N - 1), "shape|samples|inconsistent"),
    "3-D": (np.zeros((N, 1, 1)), "shape|dim"),
}


@pytest.mark.parametrize(
    "call",
    ["fit", "score", "score_samples", "predict_proba_density"],
)
@pytest.mark.parametrize("case", BAD_TARGETS)
def test_methods_with_targets_refuse_bad_y(model, call, case):
    y_bad, match = BAD_TARGETS[case]
    X = np.linspace(-1, 1, N)[:, None]
    X_ok = X[:5]
    before = model.predict(X_ok)
    estimator = model if call != "fit" else MDNRegressor(max_epochs=1)
    with pytest.raises((ValueError, TypeError), match=match):
        getattr(estimator, call)(X, y_bad)
    assert_array_equal(model.predict(X_ok), before)


@pytest.mark.parametrize("case", [c for c in BAD_X if c != "wrong width"])
def test_fit_refuses_bad_X_and_keeps_the_fitted_model(model, case):
    import pickle

    X_bad, match = BAD_X[case]
    fitted = pickle.loads(pickle.dumps(model))
    X_ok = np.linspace(-1, 1, 5)[:, None]
    before = fitted.predict(X_ok)
    y = _y(len_of(X_bad))
    with pytest.raises((ValueError, TypeError), match=match):
        fitted.fit(X_bad, y)
    assert_array_equal(fitted.predict(X_ok), before)


def test_a_single_sample_fits_without_early_stopping_and_is_refused_with_it():
    X, y = np.zeros((1, 1)), np.zeros(1)
    with pytest.raises(ValueError, match="at least 2 samples"):
        MDNRegressor(max_epochs=1).fit(X, y)
    mdn = MDNRegressor(max_epochs=2, early_stopping=False).fit(X, y)
    assert np.isfinite(mdn.predict(X)).all()


DIST = MixtureDistribution([[0.5, 0.5]] * 3, [[-1.0, 1.0]] * 3, [[1.0, 0.5]] * 3)

DIST_CALLS = {
    "pdf": lambda v: DIST.pdf(v),
    "logpdf": lambda v: DIST.logpdf(v),
    "cdf": lambda v: DIST.cdf(v),
    "sf": lambda v: DIST.sf(v),
    "ppf": lambda v: DIST.ppf(v),
}

BAD_POINTS = {
    "nan": (np.full(3, np.nan), "NaN|probabilit"),
    "strings": (np.array(["a"] * 3), "numeric|convert"),
    "ragged": ([[0.1], [0.1, 0.2], [0.3]], "numeric|inhomogeneous|shape"),
    "wrong rows": (np.zeros(4), "shape"),
    "3-D": (np.zeros((3, 1, 1)), "shape"),
    "complex": (np.zeros(3) + 0.5j, "complex"),
}


@pytest.mark.parametrize("call", DIST_CALLS)
@pytest.mark.parametrize("case", BAD_POINTS)
def test_distribution_methods_refuse_bad_points(call, case):
    value, match = BAD_POINTS[case]
    with pytest.raises((ValueError, TypeError), match=match):
        DIST_CALLS[call](value)


@pytest.mark.parametrize(
    "call, bad, match",
    [
        (lambda v: DIST.interval(v), 1.5, "open interval"),
        (lambda v: DIST.interval(v), "0.9", "float"),
        (lambda v: DIST.hdr(v), 0.0, "open interval"),
        (lambda v: DIST.hdr(v), np.nan, "open interval"),
        (lambda v: DIST.sample(v), 0, "positive integer"),
        (lambda v: DIST.sample(v), 2.5, "positive integer"),
        (lambda v: DIST[v], 10, "out of range|index"),
    ],
)
def test_distribution_arguments_are_checked(call, bad, match):
    with pytest.raises((ValueError, TypeError, IndexError), match=match):
        call(bad)


METRICS = {
    "negative_log_likelihood": metrics.negative_log_likelihood,
    "crps": metrics.crps,
    "pit": metrics.pit,
    "calibration_error": metrics.calibration_error,
    "energy_score": lambda y, d: metrics.energy_score(y, d, n_samples=10),
}

BAD_Y_TRUE = {
    "nan": (np.full(3, np.nan), "NaN"),
    "inf": (np.full(3, np.inf), "infinite"),
    "strings": (np.array(["a"] * 3), "numeric|convert"),
    "short": (np.zeros(2), "samples|shape|rows"),
    "2 columns": (np.zeros((3, 2)), "1-D|shape"),
    "empty": (np.zeros(0), "empty|samples|shape"),
    "complex": (np.zeros(3) + 1j, "complex"),
}


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("case", BAD_Y_TRUE)
def test_metrics_refuse_bad_targets(metric, case):
    y, match = BAD_Y_TRUE[case]
    with pytest.raises((ValueError, TypeError), match=match):
        METRICS[metric](y, DIST)


@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(3), "non-negative"),
        (np.zeros(3), "zero"),
        (np.ones(2), "entries|shape"),
        (np.full(3, np.nan), "finite"),
    ],
)
@pytest.mark.parametrize("metric", ["negative_log_likelihood", "crps"])
def test_metrics_refuse_bad_sample_weights(metric, weights, match):
    with pytest.raises(ValueError, match=match):
        METRICS[metric](np.zeros(3), DIST, sample_weight=weights)


@pytest.mark.parametrize("estimator", ["MDNRegressor", "MDNEnsembleRegressor"])
def test_dataframe_with_text_or_categories_names_the_columns(estimator):
    pd = pytest.importorskip("pandas")
    import skmdn

    df = pd.DataFrame(
        {
            "size": np.arange(20.0),
            "rooms": np.arange(20),
            "city": ["x", "y"] * 10,
            "kind": pd.Categorical(["u", "v"] * 10),
        }
    )
    model = getattr(skmdn, estimator)()
    with pytest.raises(ValueError, match=r"\['city', 'kind'\].*OneHotEncoder"):
        model.fit(df, np.arange(20.0))
    fitted = MDNRegressor(max_epochs=1).fit(df[["size", "rooms"]], np.arange(20.0))
    with pytest.raises(ValueError, match=r"\['rooms'\].*ColumnTransformer"):
        fitted.predict(df[["size", "rooms"]].assign(rooms="3"))
