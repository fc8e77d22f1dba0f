"""The skpro adapter: skpro's own checks, and agreement with skmdn.

skpro caps pandas below the tested 3.1, so these tests run in their own
environment (``make test-skpro``) and are skipped elsewhere.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

pytest.importorskip("skpro")

from sklearn.model_selection import KFold  # noqa: E402
from skpro.metrics import CRPS, LogLoss  # noqa: E402
from skpro.model_selection import GridSearchCV  # noqa: E402
from skpro.utils.estimator_checks import check_estimator  # noqa: E402

from skmdn import MDNRegressor  # noqa: E402
from skmdn.datasets import make_inverted_sinusoid  # noqa: E402
from skmdn.metrics import crps  # noqa: E402
from skmdn.skpro import MDNMixtureDistribution, MDNProbaRegressor  # noqa: E402

from .conftest import FAST  # noqa: E402


@pytest.fixture(scope="module")
def data():
    X, y = make_inverted_sinusoid(400, random_state=0)
    # A row index that does not start at 0, to check that it is kept.
    X = pd.DataFrame(X, columns=["y"], index=pd.RangeIndex(100, 500))
    y_train = pd.DataFrame({"x": y[:300]}, index=X.index[:300])
    return X.iloc[:300], y_train, X.iloc[300:], y[300:]


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _, _ = data
    return MDNProbaRegressor(MDNRegressor(n_components=3, **FAST)).fit(X, y)


@pytest.mark.parametrize("obj", [MDNProbaRegressor, MDNMixtureDistribution])
def test_skpro_checks_pass(obj):
    results = check_estimator(obj, raise_exceptions=False, verbose=False)
    failed = {name: result for name, result in results.items() if result != "PASSED"}
    assert len(results) > 50
    assert not failed


def test_log_loss_is_minus_the_mean_log_likelihood(fitted, data):
    _, _, X_test, y_test = data
    dist = fitted.predict_proba(X_test)
    y_true = pd.DataFrame({"x": y_test}, index=X_test.index)
    log_loss = LogLoss()(y_true, dist)
    assert log_loss == pytest.approx(
        -fitted.estimator_.score(X_test, y_test), rel=1e-10
    )


def test_crps_is_skmdn_closed_form(fitted, data):
    _, _, X_test, y_test = data
    dist = fitted.predict_proba(X_test)
    y_true = pd.DataFrame({"x": y_test}, index=X_test.index)
    expected = crps(y_test, fitted.estimator_.predict_dist(X_test))
    assert CRPS()(y_true, dist) == pytest.approx(expected, rel=1e-10)


def test_predictions_are_skmdn_predictions(fitted, data):
    _, _, X_test, _ = data
    mdn = fitted.estimator_
    mean = fitted.predict(X_test)
    assert list(mean.columns) == ["x"] and mean.index.equals(X_test.index)
    np.testing.assert_allclose(mean["x"], mdn.predict(X_test))
    interval = fitted.predict_interval(X_test, coverage=0.8)
    lower, upper = mdn.predict_interval(X_test, 0.8)
    np.testing.assert_allclose(interval[("x", 0.8, "lower")], lower, rtol=1e-9)
    np.testing.assert_allclose(interval[("x", 0.8, "upper")], upper, rtol=1e-9)
    np.testing.assert_allclose(
        fitted.predict_var(X_test)["x"], mdn.predict(X_test, return_std=True)[1] ** 2
    )


def test_energy_is_exact():
    # A bimodal mixture, where a one-Gaussian approximation of E|X - X'| is
    # far off: compare with 2 * int F (1 - F) and int |t - x| dF.
    dist = MDNMixtureDistribution([0.3, 0.7], [-4.0, 3.0], [0.5, 1.5])
    self_energy = 2 * quad(lambda t: dist.cdf(t) * (1 - dist.cdf(t)), -30, 30)[0]
    assert dist.energy() == pytest.approx(self_energy, rel=1e-9)
    to_one = quad(lambda t: abs(t - 1.0) * dist.pdf(t), -30, 30, points=[1.0])[0]
    assert dist.energy(1.0) == pytest.approx(to_one, rel=1e-9)


def test_columns_of_a_row_share_its_component():
    # Components at (-10, -10) and (10, 10): a joint draw never mixes signs.
    dist = MDNMixtureDistribution(
        weights=[[0.5, 0.5]] * 4,
        means=[[[-10.0, -10.0], [10.0, 10.0]]] * 4,
        scales=np.full((4, 2, 2), 0.1),
        columns=pd.Index(["a", "b"]),
    )
    # skpro's convention: draws come from NumPy's global generator.
    np.random.seed(0)  # noqa: NPY002
    draws = dist.sample(500)
    assert draws.shape == (2000, 2)
    assert (np.sign(draws["a"]) == np.sign(draws["b"])).all()
    assert 0.4 < (draws["a"] > 0).mean() < 0.6
    np.random.seed(0)  # noqa: NPY002
    pd.testing.assert_frame_equal(dist.sample(500), draws)


def test_several_outputs_have_skmdn_marginals(data):
    X, y, X_test, y_test = data
    Y = pd.DataFrame({"x": y["x"], "x2": 2 * y["x"] + 1}, index=y.index)
    reg = MDNProbaRegressor(MDNRegressor(n_components=2, **FAST)).fit(X, Y)
    Y_test = np.column_stack([y_test, 2 * y_test + 1])
    log_pdf = reg.predict_proba(X_test).log_pdf(Y_test)
    joint = reg.estimator_.predict_dist(X_test)
    assert list(log_pdf.columns) == ["x", "x2"]
    for j, name in enumerate(["x", "x2"]):
        np.testing.assert_allclose(
            log_pdf[name], joint.marginal(j).logpdf(Y_test[:, j]), rtol=1e-10
        )


def test_full_covariance_is_refused_for_several_outputs(data):
    X, y, _, _ = data
    Y = pd.DataFrame({"x": y["x"], "x2": -y["x"]}, index=y.index)
    reg = MDNProbaRegressor(MDNRegressor(covariance_type="full", **FAST))
    with pytest.raises(ValueError, match="covariance_type='full'"):
        reg.fit(X, Y)
    assert not hasattr(reg, "estimator_")


def test_grid_search_tunes_the_wrapped_network(data):
    X, y, _, _ = data
    search = GridSearchCV(
        MDNProbaRegressor(MDNRegressor(**FAST)),
        param_grid={"estimator__n_components": [1, 3]},
        cv=KFold(2),
        scoring=LogLoss(),
    ).fit(X, y)
    # x | y has up to five branches: three components fit better than one.
    assert search.best_params_ == {"estimator__n_components": 3}
