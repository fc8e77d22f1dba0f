"""Probabilistic scoring through scikit-learn's meta-estimators and routing.

Every test uses the real scikit-learn objects: searches, pipelines, frozen
estimators, target transforms, bagging and voting ensembles.
"""

import copy
import pickle
import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import BaggingRegressor, RandomForestRegressor, VotingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import BayesianRidge, LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    PowerTransformer,
    QuantileTransformer,
    StandardScaler,
)
from sklearn.utils.fixes import parse_version

from skmdn import (
    MDNEnsembleRegressor,
    MDNRegressor,
    MixtureDistribution,
    TransformedDistribution,
)
from skmdn.metrics import (
    calibration_scorer,
    crps,
    crps_scorer,
    energy_score,
    make_probabilistic_scorer,
    negative_log_likelihood,
    nll_scorer,
    predictive_distribution,
)
from skmdn.model_selection import compare_regressors

FAST = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=15, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(240, 2))
    y = np.exp(X[:, 0] + 0.3 * rng.normal(size=240))  # log-normal given x
    w = rng.uniform(0.1, 3.0, size=240)
    return X, y, w


@pytest.fixture(scope="module")
def mdn(data):
    X, y, _ = data
    return MDNRegressor(**FAST).fit(X, y)


# ------------------------------------------------------------------ routing
def test_scorers_route_sample_weight_with_metadata_routing(data):
    X, y, w = data
    scorer = make_probabilistic_scorer(negative_log_likelihood)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer.set_score_request(sample_weight=True)
        est = MDNRegressor(**FAST).set_fit_request(sample_weight=False)
        result = cross_validate(
            est,
            X,
            y,
            cv=KFold(3),
            scoring=scorer,
            params={"sample_weight": w},
            return_estimator=True,
            return_indices=True,
        )
    for fitted, test, score in zip(
        result["estimator"], result["indices"]["test"], result["test_score"]
    ):
        dist = fitted.predict_dist(X[test])
        weighted = -negative_log_likelihood(y[test], dist, sample_weight=w[test])
        unweighted = -negative_log_likelihood(y[test], dist)
        assert score == pytest.approx(weighted, rel=1e-12)
        assert abs(weighted - unweighted) > 1e-4


def test_unrequested_weights_behave_as_for_scikit_learns_own_scorers(data):
    # scikit-learn >= 1.7 refuses metadata that a scorer has not requested;
    # 1.6 drops it for every scorer. Ours do what scikit-learn's own do.
    from sklearn.metrics import make_scorer, mean_squared_error

    X, y, w = data

    def run(scorer):
        with sklearn.config_context(enable_metadata_routing=True):
            est = BayesianRidge().set_fit_request(sample_weight=True)
            try:
                cross_validate(est, X, y, scoring=scorer, params={"sample_weight": w})
            except Exception as exc:  # UnsetMetadataPassedError
                return type(exc).__name__, "set_score_request" in str(exc)
            return None

    expected = run(make_scorer(mean_squared_error))
    assert run(make_probabilistic_scorer(crps)) == expected
    if parse_version(sklearn.__version__) >= parse_version("1.7"):
        assert expected == ("UnsetMetadataPassedError", True)


def test_grid_search_scores_with_routed_weights(data):
    X, y, w = data
    scorer = make_probabilistic_scorer(crps)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer.set_score_request(sample_weight=True)
        search = GridSearchCV(
            BayesianRidge().set_fit_request(sample_weight=False),
            {"alpha_1": [1e-6, 1e-2]},
            cv=KFold(2),
            scoring=scorer,
        ).fit(X, y, sample_weight=w)
    train, test = next(KFold(2).split(X))
    model = BayesianRidge(alpha_1=1e-6).fit(X[train], y[train])
    expected = -crps(
        y[test], predictive_distribution(model, X[test]), sample_weight=w[test]
    )
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(expected)


def test_scorers_are_real_scikit_learn_scorers():
    from sklearn.metrics._scorer import _BaseScorer

    for scorer in (nll_scorer, crps_scorer, calibration_scorer):
        assert isinstance(scorer, _BaseScorer)
        assert hasattr(scorer, "set_score_request")
        assert repr(pickle.loads(pickle.dumps(scorer))) == repr(scorer)
    assert repr(nll_scorer) == "make_probabilistic_scorer(negative_log_likelihood)"
    assert (
        repr(make_probabilistic_scorer(energy_score, n_samples=50))
        == "make_probabilistic_scorer(energy_score, n_samples=50)"
    )
    with pytest.raises(RuntimeError, match="metadata routing"):
        copy.deepcopy(nll_scorer).set_score_request(sample_weight=True)


def test_scorer_weights_without_routing_equal_direct_computation(data, mdn):
    X, y, w = data
    assert nll_scorer(mdn, X, y, sample_weight=w) == pytest.approx(
        -negative_log_likelihood(y, mdn.predict_dist(X), sample_weight=w)
    )


# ------------------------------------------- predictive_distribution wrappers
def test_distribution_through_fitted_search_pipeline_and_frozen(data):
    X, y, _ = data
    pipe = make_pipeline(StandardScaler(), MDNRegressor(**FAST))
    search = GridSearchCV(pipe, {"mdnregressor__n_components": [1, 2]}, cv=2)
    search.fit(X, y)
    best = search.best_estimator_
    expected = best[-1].predict_dist(best[0].transform(X))
    for wrapped in (search, best, FrozenEstimator(best), FrozenEstimator(search)):
        dist = predictive_distribution(wrapped, X)
        assert_array_equal(dist.means, expected.means)
        assert nll_scorer(wrapped, X, y) == pytest.approx(best.score(X, y))

    no_refit = GridSearchCV(
        MDNRegressor(**FAST), {"n_components": [1]}, cv=2, refit=False
    ).fit(X, y)
    with pytest.raises(ValueError, match="refit=False"):
        nll_scorer(no_refit, X, y)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        predictive_distribution(GridSearchCV(MDNRegressor(), {"n_components": [1]}), X)


def test_error_names_the_estimator_that_cannot_predict_a_distribution(data):
    X, y, _ = data
    search = GridSearchCV(
        make_pipeline(StandardScaler(), Ridge()), {"ridge__alpha": [1.0]}, cv=2
    ).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"GridSearchCV.best_estimator_ -> Pipeline\['ridge'\] -> Ridge cannot",
    ):
        nll_scorer(search, X, y)
    voting = VotingRegressor(
        [("mdn", MDNRegressor(**FAST)), ("lr", LinearRegression())]
    )
    with pytest.raises(ValueError, match=r"estimators_\[1\] -> LinearRegression"):
        predictive_distribution(voting.fit(X, y), X)


def test_bagging_and_voting_combine_their_members_mixtures(data):
    X, y, _ = data
    bag = BaggingRegressor(
        MDNRegressor(**FAST), n_estimators=3, max_features=0.5, random_state=0
    ).fit(X, y)
    dist = predictive_distribution(bag, X)
    parts = [
        m.predict_dist(X[:, f])
        for m, f in zip(bag.estimators_, bag.estimators_features_)
    ]
    # Each member's mixture (its stacked restarts' components) at a third.
    first = parts[0].n_components
    assert dist.n_components == sum(p.n_components for p in parts)
    assert_allclose(dist.weights[:, :first], parts[0].weights / 3)
    assert_allclose(dist.pdf(y), np.mean([p.pdf(y) for p in parts], axis=0))

    voting = VotingRegressor(
        [
            ("a", MDNRegressor(**FAST)),
            ("b", MDNRegressor(**{**FAST, "random_state": 1})),
        ],
        weights=[1, 3],
    ).fit(X, y)
    parts = [m.predict_dist(X) for m in voting.estimators_]
    dist = predictive_distribution(voting, X)
    assert_allclose(dist.pdf(y), 0.25 * parts[0].pdf(y) + 0.75 * parts[1].pdf(y))


def test_ensemble_of_the_wrapped_mixtures_matches_mdn_ensemble(data):
    X, y, _ = data
    ens = MDNEnsembleRegressor(MDNRegressor(**FAST), n_estimators=2, random_state=0)
    ens.fit(X, y)
    voting = VotingRegressor(
        [(str(i), FrozenEstimator(m)) for i, m in enumerate(ens.estimators_)]
    )
    voting.fit(X, y)
    assert nll_scorer(voting, X, y) == pytest.approx(ens.score(X, y), rel=1e-12)


# ------------------------------------------------------ target transforms
def test_log_target_densities_carry_the_jacobian(data):
    X, y, _ = data
    ttr = TransformedTargetRegressor(
        MDNRegressor(**FAST), func=np.log, inverse_func=np.exp
    )
    ttr.fit(X, y)
    dist = predictive_distribution(ttr, X)
    assert isinstance(dist, TransformedDistribution)
    inner = ttr.regressor_.score_samples(X, np.log(y))
    assert_allclose(dist.logpdf(y), inner - np.log(y), rtol=1e-12)
    assert nll_scorer(ttr, X, y) == pytest.approx(np.mean(inner - np.log(y)))
    # Probabilities map through the transform exactly.
    z = ttr.regressor_.predict_dist(X)
    assert_allclose(dist.cdf(y), z.cdf(np.log(y)), rtol=1e-12)
    assert_allclose(dist.ppf(0.9), np.exp(z.ppf(0.9)), rtol=1e-12)
    assert_allclose(dist.median(), np.exp(z.median()), rtol=1e-12)
    assert_allclose(ttr.predict(X), np.exp(z.mean()), rtol=1e-6)
    # The mean is E[exp(z)], not exp(E[z]) (which ttr.predict gives).
    draws = dist.sample(20000, random_state=0)
    assert_allclose(dist.mean()[:5], draws[:5].mean(axis=1), rtol=0.02)
    assert np.all(dist.mean() > ttr.predict(X))
    assert_allclose(dist.std()[:5], draws[:5].std(axis=1), rtol=0.05)
    # Outside the domain of log the density is zero.
    assert np.all(dist.logpdf(np.full(len(X), -1.0)) == -np.inf)
    assert np.all(dist.cdf(np.zeros(len(X))) == 0.0)
    lo, hi = dist.interval(0.8)
    assert_allclose(lo, dist.ppf(0.1)) and assert_allclose(hi, dist.ppf(0.9))


@pytest.mark.parametrize(
    "transformer",
    [
        PowerTransformer(),
        PowerTransformer(method="box-cox"),
        QuantileTransformer(n_quantiles=50),
        StandardScaler(),
        FunctionTransformer(np.sqrt, np.square),
        # No closed-form rule: central differences.
        FunctionTransformer(lambda v: np.log(v) ** 3, lambda v: np.exp(np.cbrt(v))),
        # Decreasing.
        FunctionTransformer(lambda v: -np.log(v), lambda v: np.exp(-v)),
    ],
    ids=[
        "yeo-johnson",
        "box-cox",
        "quantile",
        "scaler",
        "sqrt",
        "numeric",
        "decreasing",
    ],
)
def test_transformed_density_is_a_distribution_in_y_units(data, transformer):
    X, y, _ = data
    ttr = TransformedTargetRegressor(MDNRegressor(**FAST), transformer=transformer)
    ttr.fit(X, y)
    dist = predictive_distribution(ttr, X[:3])
    grid = np.linspace(1e-3, np.max(y) * 4, 40001)
    dens = dist.pdf(np.broadcast_to(grid, (3, grid.size)))
    assert np.all(np.isfinite(dens)) and np.all(dens >= 0)
    mass = np.trapezoid(dens, grid, axis=1)
    assert_allclose(mass, dist.cdf(grid[-1]) - dist.cdf(grid[0]), atol=2e-3)
    # cdf is the integral of pdf, and ppf inverts cdf.
    q = np.array([[0.1, 0.5, 0.9]] * 3)
    assert_allclose(dist.cdf(dist.ppf(q)), q, atol=1e-7)
    mid = dist.ppf(0.5)
    inner = np.array(
        [np.trapezoid(d[grid <= m], grid[grid <= m]) for d, m in zip(dens, mid)]
    )
    assert_allclose(inner + dist.cdf(grid[0]), 0.5, atol=3e-3)


def test_numerical_jacobian_matches_the_analytic_one(mdn, data):
    X, y, _ = data
    z = mdn.predict_dist(X)
    analytic = FunctionTransformer(np.log, np.exp).fit(y[:, None])
    numeric = FunctionTransformer(lambda v: np.log(v), lambda v: np.exp(v)).fit(
        y[:, None]
    )
    a = TransformedDistribution(z, analytic).logpdf(y)
    b = TransformedDistribution(z, numeric).logpdf(y)
    assert_allclose(a, b, rtol=1e-8, atol=1e-8)


def test_affine_target_scores_equal_the_closed_form(mdn, data):
    X, y, _ = data
    z = mdn.predict_dist(X)
    scaler = StandardScaler().fit(y[:, None] * 3.0 + 1.0)
    m, s = scaler.mean_[0], scaler.scale_[0]
    in_y = MixtureDistribution(z.weights, m + s * z.means, s * z.scales)
    dist = TransformedDistribution(z, scaler)
    yy = m + s * np.asarray(z.mean())
    assert_allclose(dist.logpdf(yy), in_y.logpdf(yy), rtol=1e-10)
    assert_allclose(dist.mean(), in_y.mean(), rtol=1e-10)
    assert_allclose(dist.std(), in_y.std(), rtol=1e-8)
    assert crps(yy, dist) == pytest.approx(crps(yy, in_y), rel=2e-3)


def test_multi_output_target_transform_and_energy_scorer(data):
    X, y, _ = data
    Y = np.column_stack([y, y * np.exp(X[:, 1])])
    ttr = TransformedTargetRegressor(
        MDNRegressor(**FAST), func=np.log, inverse_func=np.exp, check_inverse=False
    ).fit(X, Y)
    dist = predictive_distribution(ttr, X)
    inner = ttr.regressor_.score_samples(X, np.log(Y))
    assert_allclose(dist.logpdf(Y), inner - np.log(Y).sum(axis=1), rtol=1e-7)
    with pytest.raises(ValueError, match="one output"):
        dist.cdf(Y)
    scorer = make_probabilistic_scorer(energy_score, n_samples=200, random_state=0)
    assert np.isfinite(scorer(ttr, X, Y))
    # Without a transform, the NLL scorer of a two-output model is its score.
    mdn = MDNRegressor(**FAST).fit(X, np.log(Y))
    assert nll_scorer(mdn, X, np.log(Y)) == pytest.approx(mdn.score(X, np.log(Y)))
    result = cross_validate(
        mdn, X, np.log(Y), cv=2, scoring={"nll": nll_scorer, "es": scorer}
    )
    assert np.all(np.isfinite(result["test_es"]))


def test_searches_score_target_transforms_in_y_units(data):
    X, y, _ = data
    search = GridSearchCV(
        make_pipeline(
            StandardScaler(),
            TransformedTargetRegressor(
                MDNRegressor(**FAST), func=np.log, inverse_func=np.exp
            ),
        ),
        {"transformedtargetregressor__regressor__n_components": [1, 2]},
        cv=2,
        scoring={"nll": nll_scorer, "crps": crps_scorer},
        refit="nll",
    ).fit(X, y)
    best = search.best_estimator_
    ttr = best[-1]
    Xt = best[0].transform(X)
    expected = np.mean(ttr.regressor_.score_samples(Xt, np.log(y)) - np.log(y))
    assert nll_scorer(search, X, y) == pytest.approx(expected)


def test_transformed_distribution_rejects_bad_arguments(mdn, data):
    X, y, _ = data
    z = mdn.predict_dist(X[:4])
    with pytest.raises(TypeError, match="base must be"):
        TransformedDistribution(np.zeros(3), StandardScaler())
    with pytest.raises(TypeError, match="must have a transform method"):
        TransformedDistribution(z, object())
    dist = TransformedDistribution(z, StandardScaler().fit(y[:, None]))
    with pytest.raises(ValueError, match="NaN"):
        dist.logpdf([np.nan, 1, 1, 1])
    with pytest.raises(ValueError):
        dist.ppf(1.5)
    assert len(dist[:2]) == 2 and "TransformedDistribution" in repr(dist)


# ------------------------------------------------------------- comparison
def test_compare_regressors_tabulates_point_and_probabilistic_models(data):
    pytest.importorskip("pandas")
    X, y, _ = data
    models = [
        Ridge(),
        RandomForestRegressor(n_estimators=5, random_state=0),
        BayesianRidge(),
        MDNRegressor(**FAST),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning spam for point regressors
        table = compare_regressors(models, X, y, cv=KFold(3))
    assert list(table["model"]) == [
        "Ridge",
        "RandomForestRegressor",
        "BayesianRidge",
        "MDNRegressor",
    ]
    assert list(table.columns) == [
        "model",
        "rmse",
        "nll",
        "crps",
        "calibration_error",
        "fit_time",
        "score_time",
    ]
    assert table.loc[:1, ["nll", "crps", "calibration_error"]].isna().all().all()
    assert table.loc[2:, ["nll", "crps", "calibration_error"]].notna().all().all()
    expected = -cross_validate(
        MDNRegressor(**FAST), X, y, cv=KFold(3), scoring=nll_scorer
    )["test_score"]
    assert table.loc[3, "nll"] == pytest.approx(expected.mean())


def test_compare_regressors_shares_one_set_of_splits(data):
    X, y, _ = data
    table = compare_regressors(
        {"a": Ridge(), "b": Ridge()},
        X,
        y,
        cv=ShuffleSplit(3),
        per_split=True,
        as_frame=False,
    )
    assert list(table["split"]) == [0, 1, 2, 0, 1, 2]
    assert_array_equal(table["rmse"][:3], table["rmse"][3:])
    assert table["model"].tolist() == ["a"] * 3 + ["b"] * 3


def test_compare_regressors_rejects_bad_arguments(data):
    from sklearn.linear_model import LogisticRegression

    X, y, _ = data
    with pytest.raises(ValueError, match="empty"):
        compare_regressors([], X, y)
    with pytest.raises(ValueError, match="unique"):
        compare_regressors([("a", Ridge()), ("a", Ridge())], X, y)
    with pytest.raises(ValueError, match="not a regressor"):
        compare_regressors([LogisticRegression()], X, y)
    with pytest.raises(TypeError, match="not a regressor with fit"):
        compare_regressors([object()], X, y)
    with pytest.raises(ValueError, match="at least 2"):
        compare_regressors([Ridge()], X, y, cv=1)
    names = compare_regressors([Ridge(), Ridge()], X, y, cv=2, as_frame=False)["model"]
    assert list(names) == ["Ridge", "Ridge-2"]
