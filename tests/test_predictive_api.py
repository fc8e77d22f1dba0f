"""Quantiles, intervals and probabilistic scores at the estimator level."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import BayesianRidge
from sklearn.model_selection import GridSearchCV, cross_validate

from skmdn import MDNRegressor
from skmdn.datasets import make_correlated_mixture, make_inverted_sinusoid
from skmdn.metrics import calibration_scorer, crps_scorer, nll_scorer

from .conftest import FAST


def test_predict_quantiles_are_ordered_and_match_the_distribution(fitted, sinusoid):
    X, _ = sinusoid
    q = fitted.predict_quantiles(X[:6], [0.1, 0.5, 0.9])
    assert q.shape == (6, 3)
    assert np.all(np.diff(q, axis=1) > 0)
    assert_allclose(q[:, 1], fitted.predict_dist(X[:6]).median())
    assert fitted.predict_quantiles(X[:6], 0.5).shape == (6,)
    with pytest.raises(ValueError, match=r"\[0, 1\]|0 and 1|outside"):
        fitted.predict_quantiles(X[:6], [0.5, 1.5])


def test_predict_interval_has_the_requested_mass(fitted, sinusoid):
    X, _ = sinusoid
    dist = fitted.predict_dist(X[:8])
    lower, upper = fitted.predict_interval(X[:8], coverage=0.8)
    assert_allclose(dist.cdf(upper) - dist.cdf(lower), 0.8, atol=1e-6)
    hdr = fitted.predict_interval(X[:8], coverage=0.8, method="hdr")
    assert_allclose(hdr.coverage, 0.8, atol=1e-5)
    widths = np.nansum(hdr.intervals[..., 1] - hdr.intervals[..., 0], axis=1)
    assert np.all(widths <= upper - lower + 1e-6)
    with pytest.raises(ValueError, match="coverage|confidence"):
        fitted.predict_interval(X[:8], coverage=1.2)
    with pytest.raises(ValueError, match="method"):
        fitted.predict_interval(X[:8], method="shortest")


def test_quantiles_and_intervals_per_output_for_multi_output():
    X, y = make_correlated_mixture(300, random_state=0)
    mdn = MDNRegressor(n_components=2, covariance_type="full", **FAST).fit(X, y)
    assert mdn.predict_quantiles(X[:4], [0.25, 0.75]).shape == (4, 2, 2)
    lower, upper = mdn.predict_interval(X[:4], 0.5)
    assert lower.shape == upper.shape == (4, 2) and np.all(lower < upper)
    with pytest.raises(ValueError, match="single output"):
        mdn.predict_interval(X[:4], method="hdr")


def test_one_cross_validate_table_for_mdn_and_sklearn_regressors():
    X, y = make_inverted_sinusoid(500, random_state=0)
    scoring = {
        "nll": nll_scorer,
        "crps": crps_scorer,
        "calibration": calibration_scorer,
    }
    models = {
        "mdn": MDNRegressor(hidden_layer_sizes=(32,), max_epochs=150, random_state=0),
        "bayesian_ridge": BayesianRidge(),
        "gp": GaussianProcessRegressor(alpha=1.0),
    }
    table = {
        name: cross_validate(model, X, y, cv=3, scoring=scoring)
        for name, model in models.items()
    }
    for scores in table.values():
        assert all(np.isfinite(scores[f"test_{k}"]).all() for k in scoring)
    nll = {name: -scores["test_nll"].mean() for name, scores in table.items()}
    assert nll["mdn"] < nll["gp"] - 0.5 and nll["mdn"] < nll["bayesian_ridge"] - 0.5
    # The default score of MDNRegressor is the same quantity with the sign flipped.
    mdn_default = cross_validate(models["mdn"], X, y, cv=3)["test_score"]
    assert_allclose(mdn_default, table["mdn"]["test_nll"], rtol=1e-10)


def test_grid_search_by_crps(sinusoid):
    X, y = sinusoid
    search = GridSearchCV(
        MDNRegressor(**FAST), {"n_components": [1, 3]}, scoring=crps_scorer, cv=2
    ).fit(X, y)
    assert search.best_params_["n_components"] in (1, 3)
    assert np.isfinite(search.best_score_) and search.best_score_ < 0


def test_row_chunks_do_not_change_any_result(fitted, sinusoid, monkeypatch):
    X, y = sinusoid
    grid = np.tile(np.linspace(-8, 8, 5), (len(y), 1))

    def results():
        return [
            fitted.predict(X, return_std=True),
            fitted.score_samples(X, y),
            fitted.predict_proba_density(X, grid),
            fitted.predict_quantiles(X, [0.1, 0.9]),
            fitted.predict_interval(X, 0.8),
        ]

    expected = results()
    monkeypatch.setattr(type(fitted), "_chunk_rows", 7)
    chunked = results()
    for a, b in zip(expected, chunked):
        for u, v in zip(
            a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)
        ):
            # float32 forward passes over other batches of rows differ at 1e-6.
            assert_allclose(u, v, rtol=1e-5)
    draws = fitted.sample(X, n_samples=3, random_state=0)
    assert draws.shape == (len(y), 3)
    assert_allclose(draws, fitted.sample(X, n_samples=3, random_state=0))


def test_hdr_intervals_are_computed_in_chunks_of_rows(fitted, sinusoid, monkeypatch):
    X, _ = sinusoid
    whole = fitted.predict_interval(X[:50], 0.9, method="hdr")
    monkeypatch.setattr(type(fitted), "_chunk_rows", 7)
    chunked = fitted.predict_interval(X[:50], 0.9, method="hdr")
    assert_allclose(chunked.n_intervals, whole.n_intervals)
    width = whole.intervals.shape[1]
    assert chunked.intervals.shape == whole.intervals.shape
    # The network's float32 outputs differ in their last bits between
    # chunk sizes: endpoints near zero agree to about 1e-7 in y's units.
    assert_allclose(chunked.intervals[:, :width], whole.intervals, rtol=1e-5, atol=1e-6)
    assert_allclose(chunked.coverage, whole.coverage, rtol=1e-6)
