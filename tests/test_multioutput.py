import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import multivariate_normal

from skmdn import MDNRegressor, MixtureDistribution, MultivariateMixtureDistribution
from skmdn.datasets import make_correlated_mixture, make_robot_arm, robot_arm_forward

PARAMS = dict(n_components=2, hidden_layer_sizes=(16,), max_epochs=30, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_correlated_mixture(600, random_state=0)
    return X, y


@pytest.fixture(scope="module", params=["diag", "full"])
def fitted(request, data):
    X, y = data
    return MDNRegressor(covariance_type=request.param, **PARAMS).fit(X, y)


def test_shapes_of_every_method(fitted, data):
    X, y = data
    n, d = 5, y.shape[1]
    assert fitted.n_outputs_ == d
    assert fitted.predict(X[:n]).shape == (n, d)
    mean, std = fitted.predict(X[:n], return_std=True)
    assert mean.shape == std.shape == (n, d)
    assert fitted.sample(X[:n], n_samples=7, random_state=0).shape == (n, 7, d)
    assert fitted.score_samples(X[:n], y[:n]).shape == (n,)
    grid = np.repeat(y[:n, None, :], 4, axis=1)
    density = fitted.predict_proba_density(X[:n], grid)
    assert density.shape == (n, 4)
    assert_allclose(density[:, 0], fitted.predict_proba_density(X[:n], y[:n]))
    dist = fitted.predict_dist(X[:n])
    assert isinstance(dist, MultivariateMixtureDistribution)
    # Two components per network the model kept (stacked restarts).
    k = 2 * np.count_nonzero(fitted.restart_weights_)
    assert dist.means.shape == (n, k, d)
    assert dist.covariances.shape == (n, k, d, d)
    assert isinstance(dist.marginal(1), MixtureDistribution)


def test_density_in_user_units_matches_a_direct_computation(fitted, data):
    # Densities in user units equal the mixture of multivariate normals with
    # the returned parameters (the Jacobian of the standardization included).
    X, y = data
    dist = fitted.predict_dist(X[:6])
    direct = [
        sum(
            dist.weights[i, k]
            * multivariate_normal(dist.means[i, k], dist.covariances[i, k]).pdf(y[i])
            for k in range(dist.n_components)
        )
        for i in range(6)
    ]
    assert_allclose(fitted.predict_proba_density(X[:6], y[:6]), direct, rtol=1e-8)


def test_affine_change_of_outputs_applies_the_jacobian(data):
    X, y = data
    scale, shift = np.array([10.0, 0.5]), np.array([-3.0, 100.0])
    for covariance_type in ["diag", "full"]:
        base = MDNRegressor(covariance_type=covariance_type, **PARAMS).fit(X, y)
        moved = MDNRegressor(covariance_type=covariance_type, **PARAMS).fit(
            X, y * scale + shift
        )
        assert_allclose(
            moved.score_samples(X[:20], y[:20] * scale + shift),
            base.score_samples(X[:20], y[:20]) - np.log(scale).sum(),
            rtol=1e-5,
        )


def test_full_covariance_learns_correlation_that_diag_cannot(data):
    X, y = make_correlated_mixture(4000, random_state=1)
    X_test, y_test = make_correlated_mixture(4000, random_state=2)
    params = dict(
        n_components=2, hidden_layer_sizes=(32,), max_epochs=80, random_state=0
    )
    full = MDNRegressor(covariance_type="full", **params).fit(X, y)
    diag = MDNRegressor(covariance_type="diag", **params).fit(X, y)
    assert full.score(X_test, y_test) > diag.score(X_test, y_test) + 0.1
    cov = full.predict_dist(X_test[:50]).covariances
    corr = cov[..., 0, 1] / np.sqrt(cov[..., 0, 0] * cov[..., 1, 1])
    assert np.abs(corr).max() > 0.5


def test_single_output_is_unchanged_by_covariance_type():
    X, y = make_robot_arm(300, random_state=0)
    a = MDNRegressor(covariance_type="diag", **PARAMS).fit(X, y[:, 0])
    b = MDNRegressor(covariance_type="full", **PARAMS).fit(X, y[:, 0])
    assert_allclose(a.predict(X), b.predict(X), rtol=1e-6)
    assert isinstance(a.predict_dist(X), MixtureDistribution)
    assert a.predict(X).shape == (300,)


def test_sampled_robot_arm_angles_reach_the_target():
    X, y = make_robot_arm(3000, random_state=0)
    mdn = MDNRegressor(
        n_components=4,
        covariance_type="full",
        hidden_layer_sizes=(32, 32),
        max_epochs=150,
        random_state=0,
    ).fit(X, y)
    X_test, _ = make_robot_arm(300, random_state=1)
    angles = mdn.sample(X_test, n_samples=1, random_state=0)[:, 0, :]
    sampled_error = np.linalg.norm(robot_arm_forward(angles) - X_test, axis=1)
    mean_error = np.linalg.norm(robot_arm_forward(mdn.predict(X_test)) - X_test, axis=1)
    assert np.median(sampled_error) < 0.05
    assert np.median(sampled_error) < 0.5 * np.median(mean_error)


def test_wrong_number_of_outputs_at_scoring_time(fitted, data):
    X, y = data
    with pytest.raises(ValueError, match="3 outputs.*n_outputs_=2"):
        fitted.score(X[:5], np.zeros((5, 3)))
    with pytest.raises(ValueError, match="y must have shape"):
        fitted.score_samples(X[:5], y[:4])
    with pytest.raises(ValueError, match="y must have shape"):
        fitted.score_samples(X[:5], y[:5, 0])


def test_invalid_covariance_type(data):
    X, y = data
    with pytest.raises(ValueError, match="covariance_type"):
        MDNRegressor(covariance_type="spherical").fit(X, y)


def test_nll_scorer_is_the_joint_log_likelihood(fitted, data):
    from sklearn.model_selection import cross_val_score

    from skmdn.metrics import negative_log_likelihood, nll_scorer

    X, y = data
    assert_allclose(nll_scorer(fitted, X, y), fitted.score(X, y), rtol=1e-12)
    w = np.linspace(0.1, 2.0, len(X))
    assert_allclose(
        nll_scorer(fitted, X, y, sample_weight=w),
        fitted.score(X, y, sample_weight=w),
        rtol=1e-12,
    )
    dist = fitted.predict_dist(X)
    assert_allclose(-negative_log_likelihood(y, dist), fitted.score(X, y))
    folds = cross_val_score(
        MDNRegressor(covariance_type=fitted.covariance_type, **PARAMS),
        X,
        y,
        cv=2,
        scoring=nll_scorer,
    )
    assert np.all(np.isfinite(folds))


@pytest.mark.parametrize("name", ["crps", "pit", "calibration_error"])
def test_one_dimensional_metrics_point_to_energy_score(fitted, data, name):
    from skmdn import metrics

    X, y = data
    dist = fitted.predict_dist(X[:20])
    with pytest.raises(ValueError, match="n_outputs=2.*energy_score.*marginal"):
        getattr(metrics, name)(y[:20], dist)
    # Each output's marginal is a 1-D mixture that the metric accepts.
    value = getattr(metrics, name)(y[:20, 0], dist.marginal(0))
    assert np.all(np.isfinite(value))
    with pytest.raises(ValueError, match="energy_score"):
        metrics.crps_scorer(fitted, X[:20], y[:20])


def test_energy_score_scorer_on_a_multi_output_model(fitted, data):
    from skmdn.metrics import energy_score, make_probabilistic_scorer

    X, y = data
    scorer = make_probabilistic_scorer(energy_score, n_samples=200, random_state=0)
    value = scorer(fitted, X[:50], y[:50])
    expected = energy_score(
        y[:50], fitted.predict_dist(X[:50]), n_samples=200, random_state=0
    )
    assert value == pytest.approx(-expected)
    with pytest.raises(ValueError, match=r"shape \(50, 2\)"):
        energy_score(y[:50, 0], fitted.predict_dist(X[:50]))
