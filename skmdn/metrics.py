"""Probabilistic metrics and scorers for predictive distributions.

Every metric takes the observed targets ``y_true`` of shape ``(n_samples,)``
and a predictive distribution ``y_pred``: a
:class:`~skmdn.MixtureDistribution` with one row per sample, or a tuple
``(weights, means, scales)`` of arrays of shape ``(n_samples, n_components)``.
:func:`negative_log_likelihood` and :func:`energy_score` also take a
:class:`~skmdn.MultivariateMixtureDistribution` with targets of shape
``(n_samples, n_outputs)`` (the NLL is then the joint one, equal to minus the
estimator's ``score``); the CRPS, the PIT and the calibration metrics are
defined for one output and say so for several. Every metric also takes a
:class:`~skmdn.TransformedDistribution` (a mixture seen through a target
transform, as :func:`predictive_distribution` gives for a
:class:`~sklearn.compose.TransformedTargetRegressor`); its CRPS is computed
from 512 quantiles, as it has no closed form.

The scorers (:data:`nll_scorer`, :data:`crps_scorer`,
:data:`calibration_scorer`, or any built with
:func:`make_probabilistic_scorer`) plug into ``scoring=`` of
:class:`~sklearn.model_selection.GridSearchCV`,
:func:`~sklearn.model_selection.cross_validate` and friends.  They follow
scikit-learn's convention that greater is better, so losses are negated.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr
from sklearn.metrics._scorer import _BaseScorer

from ._checks import INV_SQRT_2PI as _INV_SQRT_2PI
from ._checks import as_float_array, check_sample_weights
from ._distributions import (
    MixtureDistribution,
    TransformedDistribution,
)
from ._wrappers import DISTRIBUTIONS, distribution_of

__all__ = [
    "calibration_curve",
    "calibration_error",
    "calibration_scorer",
    "crps",
    "crps_scorer",
    "energy_score",
    "interval_coverage",
    "interval_width",
    "make_probabilistic_scorer",
    "negative_log_likelihood",
    "nll_scorer",
    "pit",
    "predictive_distribution",
]


# Elements of the (rows, K, K) pair term of the CRPS evaluated at once.
_CRPS_CHUNK = 2**18

_DEFAULT_LEVELS = np.linspace(0.05, 0.95, 19)


# Quantile levels of the numerical CRPS of a transformed distribution.
_CRPS_LEVELS = 512


# --------------------------------------------------------------------------- #
# Input validation
# --------------------------------------------------------------------------- #
def _as_distribution(y_pred: Any, metric: str | None = None):
    """The mixture distribution of ``y_pred``.

    ``metric`` names a metric that is only defined for a single output: a
    distribution of several outputs is then refused with a pointer to what
    works in several dimensions.
    """
    if isinstance(y_pred, DISTRIBUTIONS):
        dist = y_pred
    elif isinstance(y_pred, (tuple, list)) and len(y_pred) == 3:
        dist = MixtureDistribution(*y_pred)
    else:
        raise TypeError(
            "y_pred must be a MixtureDistribution, a MultivariateMixtureDistribution "
            "or a tuple (weights, means, scales) of arrays of shape (n_samples, "
            f"n_components); got {type(y_pred).__name__}."
        )
    if metric is not None and dist.n_outputs == 1 and hasattr(dist, "marginal"):
        return dist.marginal(0)
    if metric is not None and dist.n_outputs > 1:
        raise ValueError(
            f"{metric} is defined for a single output, but y_pred has "
            f"n_outputs={dist.n_outputs}. Use energy_score for a multivariate "
            f"score, or {metric} of each output's marginal distribution, "
            "y_pred.marginal(j), with y_true[:, j]."
        )
    return dist


def _non_empty(values: ArrayLike, name: str) -> NDArray:
    arr = as_float_array(values, name, copy=False)
    if arr.size == 0:
        raise ValueError(f"{name} is empty: a score needs at least one sample.")
    return arr


def _check_1d(values: ArrayLike, name: str, n: int | None = None) -> NDArray:
    arr = _non_empty(values, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D of shape (n_samples,); got shape {arr.shape}."
        )
    if n is not None and arr.shape[0] != n:
        raise ValueError(
            f"{name} has {arr.shape[0]} samples but the predictive distribution "
            f"has {n} rows."
        )
    return arr


def _check_y_true(y_true: ArrayLike, dist) -> NDArray:
    """``y_true`` for ``dist``: ``(n,)`` for one output, ``(n, d)`` for ``d``."""
    if isinstance(dist, (MixtureDistribution, TransformedDistribution)) and (
        dist.n_outputs == 1
    ):
        y = _check_1d(y_true, "y_true", len(dist))
    else:
        n, d = len(dist), dist.n_outputs
        y = _non_empty(y_true, "y_true")
        if y.shape != (n, d):
            raise ValueError(
                f"y_true must have shape ({n}, {d}) for a predictive distribution "
                f"of {n} rows and {d} outputs; got shape {y.shape}."
            )
    if np.isnan(y).any():
        raise ValueError("y_true contains NaN.")
    if np.isinf(y).any():
        raise ValueError("y_true contains infinite values.")
    return y


def _check_sample_weight(sample_weight: ArrayLike | None, n: int) -> NDArray | None:
    return None if sample_weight is None else check_sample_weights(sample_weight, n)


def _check_levels(levels: ArrayLike | None, name: str = "levels") -> NDArray:
    """Probability levels in the open interval (0, 1), as a 1-D array."""
    if levels is None:
        return _DEFAULT_LEVELS.copy()
    lv = np.atleast_1d(as_float_array(levels, name))
    if lv.ndim != 1 or lv.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array; got shape {lv.shape}.")
    if not np.all((lv > 0) & (lv < 1)):
        raise ValueError(
            f"{name} must lie in the open interval (0, 1); got {lv.tolist()}."
        )
    return lv


def _average(values: NDArray, sample_weight: NDArray | None) -> float:
    return float(np.average(values, weights=sample_weight))


# --------------------------------------------------------------------------- #
# Metrics
# --------------------------------------------------------------------------- #
def negative_log_likelihood(
    y_true: ArrayLike, y_pred: Any, *, sample_weight: ArrayLike | None = None
) -> float:
    """Mean negative log predictive density.

    For a distribution of several outputs this is the joint density of the
    output vector, so ``-negative_log_likelihood(y, model.predict_dist(X))``
    equals ``model.score(X, y)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Observed targets.
    y_pred : MixtureDistribution, MultivariateMixtureDistribution or \
            tuple of (weights, means, scales)
        Predictive distribution, one row per sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the average.

    Returns
    -------
    nll : float
        ``-mean(log p_i(y_i))``; lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn.metrics import negative_log_likelihood
    >>> w, mu, s = np.ones((2, 1)), np.zeros((2, 1)), np.ones((2, 1))
    >>> round(negative_log_likelihood([0.0, 0.0], (w, mu, s)), 4)
    0.9189
    """
    dist = _as_distribution(y_pred)
    y = _check_y_true(y_true, dist)
    sw = _check_sample_weight(sample_weight, len(y))
    return -_average(dist.logpdf(y), sw)


def _gauss_a(m: NDArray, var: NDArray) -> NDArray:
    # A(m, s^2) = E|X| for X ~ N(m, s^2) = 2 s phi(m/s) + m (2 Phi(m/s) - 1).
    sd = np.sqrt(var)
    z = m / sd
    return 2.0 * sd * _INV_SQRT_2PI * np.exp(-0.5 * z * z) + m * (2.0 * ndtr(z) - 1.0)


def crps(
    y_true: ArrayLike,
    y_pred: Any,
    *,
    sample_weight: ArrayLike | None = None,
    reduce: bool = True,
) -> float | NDArray:
    """Continuous ranked probability score, in closed form for Gaussian mixtures.

    ``CRPS(F, y) = integral (F(x) - 1{x >= y})^2 dx = E|X - y| - E|X - X'| / 2``
    with ``X, X'`` independent draws from ``F``.  For a Gaussian mixture
    (Grimit et al., 2006)::

        CRPS = sum_k w_k A(y - mu_k, s_k^2)
               - 1/2 sum_{j,k} w_j w_k A(mu_j - mu_k, s_j^2 + s_k^2)

    where ``A(m, v) = 2 sqrt(v) phi(m / sqrt(v)) + m (2 Phi(m / sqrt(v)) - 1)``
    is the mean of ``|N(m, v)|``.  The score is in the units of ``y``; lower is
    better; for a point forecast it reduces to the absolute error.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed targets.
    y_pred : MixtureDistribution or tuple of (weights, means, scales)
        Predictive distribution, one row per sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the average (ignored when ``reduce=False``).
    reduce : bool, default=True
        Return the (weighted) mean; if False, the per-sample scores.

    Returns
    -------
    crps : float or ndarray of shape (n_samples,)

    References
    ----------
    E. P. Grimit, T. Gneiting, V. J. Berrocal and N. A. Johnson (2006), "The
    continuous ranked probability score for circular variables and its
    application to mesoscale forecast ensemble verification", Quarterly
    Journal of the Royal Meteorological Society 132, 2925-2942.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn.metrics import crps
    >>> w, mu, s = np.ones((1, 1)), np.zeros((1, 1)), np.ones((1, 1))
    >>> round(crps([0.0], (w, mu, s)), 4)  # (sqrt(2) - 1) / sqrt(pi)
    0.2337
    """
    dist = _as_distribution(y_pred, "crps")
    y = _check_y_true(y_true, dist)
    if isinstance(dist, TransformedDistribution):
        scores = _quantile_crps(y, dist)
        if not reduce:
            return scores
        return _average(scores, _check_sample_weight(sample_weight, len(y)))
    w, mu, s = dist.weights, dist.means, dist.scales
    var = s * s
    n, K = w.shape
    first = np.einsum("ik,ik->i", w, _gauss_a(y[:, None] - mu, var))
    pair = np.empty(n)
    step = max(1, _CRPS_CHUNK // (K * K))
    for start in range(0, n, step):
        sl = slice(start, start + step)
        a = _gauss_a(
            mu[sl, :, None] - mu[sl, None, :], var[sl, :, None] + var[sl, None, :]
        )
        pair[sl] = np.einsum("ij,ik,ijk->i", w[sl], w[sl], a)
    scores = first - 0.5 * pair
    if not reduce:
        return scores
    sw = _check_sample_weight(sample_weight, n)
    return _average(scores, sw)


def _quantile_crps(y: NDArray, dist) -> NDArray:
    """CRPS from quantiles, for distributions without a closed form.

    ``CRPS = E|Y - y| - E|Y - Y'| / 2 = int_0^1 |q(t) - y| dt - int_0^1
    q(t) (2t - 1) dt``, by the midpoint rule over ``_CRPS_LEVELS`` levels.
    """
    t = (np.arange(_CRPS_LEVELS) + 0.5) / _CRPS_LEVELS
    scores = np.empty(len(y))
    step = max(1, _CRPS_CHUNK // _CRPS_LEVELS)
    for start in range(0, len(y), step):
        sl = slice(start, start + step)
        q = dist[sl].ppf(np.broadcast_to(t, (len(y[sl]), t.size)))
        scores[sl] = np.mean(np.abs(q - y[sl, None]), axis=1) - np.mean(
            q * (2.0 * t - 1.0), axis=1
        )
    return scores


def energy_score(
    y_true: ArrayLike,
    y_pred: Any,
    *,
    n_samples: int = 1000,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
    sample_weight: ArrayLike | None = None,
    reduce: bool = True,
) -> float | NDArray:
    """Energy score, the multivariate generalisation of the CRPS, by Monte Carlo.

    ``ES(F, y) = E||X - y|| - E||X - X'|| / 2`` with ``X, X'`` independent
    draws from ``F`` and ``||.||`` the Euclidean norm (Gneiting and Raftery,
    2007).  It has no closed form for Gaussian mixtures in several
    dimensions, so it is estimated from ``n_samples`` draws per row:
    ``mean_i ||x_i - y|| - mean_i ||x_i - x_{i+1}|| / 2``, unbiased, with a
    Monte Carlo error of order ``1 / sqrt(n_samples)`` relative to the
    spread of the distribution.  In one dimension it equals the CRPS (in
    expectation); use :func:`crps` there, which is exact.

    Parameters
    ----------
    y_true : array-like of shape (n_samples_y, n_outputs) or (n_samples_y,)
        Observed targets (1-D for a :class:`~skmdn.MixtureDistribution`).
    y_pred : MultivariateMixtureDistribution, MixtureDistribution or \
            tuple of (weights, means, scales)
        Predictive distribution, one row per sample.
    n_samples : int, default=1000
        Monte Carlo draws per row.
    random_state : None, int, RandomState or Generator, default=None
        Seed of the draws.
    sample_weight : array-like of shape (n_samples_y,), default=None
        Weights of the average (ignored when ``reduce=False``).
    reduce : bool, default=True
        Return the (weighted) mean; if False, the per-row scores.

    Returns
    -------
    energy_score : float or ndarray of shape (n_samples_y,)
        Lower is better.

    References
    ----------
    T. Gneiting and A. E. Raftery (2007), "Strictly proper scoring rules,
    prediction, and estimation", Journal of the American Statistical
    Association 102, 359-378.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn.metrics import energy_score
    >>> w, mu, s = np.ones((1, 1)), np.zeros((1, 1)), np.ones((1, 1))
    >>> # one dimension: close to the CRPS (sqrt(2) - 1) / sqrt(pi) = 0.2337
    >>> round(energy_score([0.0], (w, mu, s), n_samples=100_000, random_state=0), 2)
    0.23
    """
    if (
        isinstance(n_samples, (bool, np.bool_))
        or not isinstance(n_samples, numbers.Integral)
        or n_samples < 2
    ):
        raise ValueError(f"n_samples must be an integer >= 2; got {n_samples!r}.")
    dist = _as_distribution(y_pred)
    y = _check_y_true(y_true, dist)
    draws = dist.sample(n_samples, random_state=random_state)
    if y.ndim == 1:
        y, draws = y[:, None], draws[:, :, None]
    to_y = np.linalg.norm(draws - y[:, None, :], axis=2).mean(axis=1)
    # Consecutive draws are independent pairs: an unbiased estimate of
    # E||X - X'|| in O(n_samples) rather than O(n_samples^2).
    spread = np.linalg.norm(np.diff(draws, axis=1), axis=2).mean(axis=1)
    scores = to_y - 0.5 * spread
    if not reduce:
        return scores
    sw = _check_sample_weight(sample_weight, scores.shape[0])
    return _average(scores, sw)


def pit(y_true: ArrayLike, y_pred: Any) -> NDArray:
    """Probability integral transform ``F_i(y_i)``.

    For a calibrated model the PIT values are uniform on ``[0, 1]``; a
    U-shaped histogram means overconfidence, a hump underconfidence.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_pred : MixtureDistribution or tuple of (weights, means, scales)

    Returns
    -------
    pit : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn.metrics import pit
    >>> w, mu, s = np.ones((2, 1)), np.zeros((2, 1)), np.ones((2, 1))
    >>> pit([0.0, 1.0], (w, mu, s)).round(3)
    array([0.5  , 0.841])
    """
    dist = _as_distribution(y_pred, "pit")
    y = _check_y_true(y_true, dist)
    return dist.cdf(y)


def calibration_curve(
    y_true: ArrayLike,
    y_pred: Any,
    levels: ArrayLike | None = None,
    *,
    sample_weight: ArrayLike | None = None,
) -> tuple[NDArray, NDArray]:
    """Nominal versus observed coverage of central prediction intervals.

    The central interval of level ``c`` is ``[ppf((1 - c) / 2), ppf((1 + c) / 2)]``;
    ``y`` falls inside it exactly when its PIT value lies in
    ``[(1 - c) / 2, (1 + c) / 2]``, so no quantile needs to be computed.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_pred : MixtureDistribution or tuple of (weights, means, scales)
    levels : array-like of shape (n_levels,), default=None
        Nominal levels in (0, 1); default ``np.linspace(0.05, 0.95, 19)``.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    nominal : ndarray of shape (n_levels,)
    observed : ndarray of shape (n_levels,)
        (Weighted) fraction of ``y_true`` inside each interval.  Plot
        ``observed`` against ``nominal``: the diagonal is perfect
        calibration, points below it mean intervals that are too narrow.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn.metrics import calibration_curve
    >>> w, mu, s = np.ones((4, 1)), np.zeros((4, 1)), np.ones((4, 1))
    >>> y = [-2.0, -0.1, 0.1, 2.0]
    >>> nominal, observed = calibration_curve(y, (w, mu, s), [0.5, 0.99])
    >>> observed
    array([0.5, 1. ])
    """
    dist = _as_distribution(y_pred, "calibration_curve")
    y = _check_y_true(y_true, dist)
    lv = _check_levels(levels)
    sw = _check_sample_weight(sample_weight, len(y))
    u = dist.cdf(y)
    lower = 0.5 * (1.0 - lv)
    upper = 0.5 * (1.0 + lv)
    inside = (u[:, None] >= lower) & (u[:, None] <= upper)
    observed = np.average(inside, axis=0, weights=sw)
    return lv, observed


def calibration_error(
    y_true: ArrayLike,
    y_pred: Any,
    *,
    sample_weight: ArrayLike | None = None,
    levels: ArrayLike | None = None,
) -> float:
    """Mean absolute gap between nominal and observed interval coverage.

    ``mean_c |observed(c) - c|`` over the levels ``c`` of
    :func:`calibration_curve`: 0 for a perfectly calibrated model; at most
    about 0.5.  It measures calibration only, not sharpness: a model that
    always predicts the marginal distribution of ``y`` is calibrated, so use
    it alongside :func:`crps` or :func:`negative_log_likelihood`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_pred : MixtureDistribution or tuple of (weights, means, scales)
    sample_weight : array-like of shape (n_samples,), default=None
    levels : array-like of shape (n_levels,), default=None
        Nominal levels in (0, 1); default ``np.linspace(0.05, 0.95, 19)``.

    Returns
    -------
    error : float

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn.metrics import calibration_error
    >>> w, mu, s = np.ones((4, 1)), np.zeros((4, 1)), np.ones((4, 1))
    >>> y = [-2.0, -0.1, 0.1, 2.0]
    >>> round(calibration_error(y, (w, mu, s), levels=[0.5, 0.99]), 3)
    0.005
    """
    nominal, observed = calibration_curve(
        y_true, y_pred, levels, sample_weight=sample_weight
    )
    return _coverage_gap(nominal, observed)


def _coverage_gap(nominal: NDArray, observed: NDArray) -> float:
    """The calibration error of a calibration curve: mean ``|observed - c|``."""
    return float(np.mean(np.abs(observed - nominal)))


def _check_bounds(lower: ArrayLike, upper: ArrayLike) -> tuple[NDArray, NDArray]:
    lo = _check_1d(lower, "lower")
    hi = _check_1d(upper, "upper", lo.shape[0])
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise ValueError("lower and upper must not contain NaN.")
    if np.any(lo > hi):
        raise ValueError(
            f"lower must not exceed upper; it does for {np.sum(lo > hi)} sample(s)."
        )
    return lo, hi


def interval_coverage(
    y_true: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Fraction of targets inside their prediction interval ``[lower, upper]``.

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (n_samples,)
        Bounds may be infinite.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    coverage : float

    Examples
    --------
    >>> from skmdn.metrics import interval_coverage
    >>> interval_coverage([0.0, 1.0, 5.0], [-1, -1, -1], [1, 1, 1])
    0.6666666666666666
    """
    lo, hi = _check_bounds(lower, upper)
    y = _check_1d(y_true, "y_true", lo.shape[0])
    if np.isnan(y).any():
        raise ValueError("y_true contains NaN.")
    sw = _check_sample_weight(sample_weight, len(y))
    return _average((y >= lo) & (y <= hi), sw)


def interval_width(
    lower: ArrayLike, upper: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """Mean width ``upper - lower`` of prediction intervals.

    Parameters
    ----------
    lower, upper : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    width : float

    Examples
    --------
    >>> from skmdn.metrics import interval_width
    >>> interval_width([0.0, 1.0], [1.0, 4.0])
    2.0
    """
    lo, hi = _check_bounds(lower, upper)
    sw = _check_sample_weight(sample_weight, len(lo))
    return _average(hi - lo, sw)


# --------------------------------------------------------------------------- #
# Scorers
# --------------------------------------------------------------------------- #
def predictive_distribution(estimator: Any, X: ArrayLike):
    """Predictive distribution of a fitted regressor.

    * An estimator with ``predict_dist`` (skmdn's, or a
      :class:`~sklearn.frozen.FrozenEstimator` of one) gives
      ``estimator.predict_dist(X)``.
    * A fitted search (:class:`~sklearn.model_selection.GridSearchCV` and
      friends) gives the distribution of its ``best_estimator_``.
    * A :class:`~sklearn.pipeline.Pipeline` transforms ``X`` with its first
      steps and gives the distribution of its last step.
    * A :class:`~sklearn.compose.TransformedTargetRegressor` gives the
      distribution of its regressor seen through the target transform, in
      the units of ``y``, Jacobian included: a
      :class:`~skmdn.TransformedDistribution`.
    * A :class:`~sklearn.ensemble.BaggingRegressor` gives the mixture of its
      members' mixtures with equal weights (each member sees its own
      features), a :class:`~sklearn.ensemble.VotingRegressor` the mixture of
      its members' mixtures weighted by its ``weights`` (equal by default),
      as :class:`~skmdn.MDNEnsembleRegressor` does.
    * Otherwise ``estimator.predict(X, return_std=True)`` (as offered by
      :class:`~sklearn.gaussian_process.GaussianProcessRegressor` and
      :class:`~sklearn.linear_model.BayesianRidge`) gives a one-component
      Gaussian.  Standard deviations below ``1e-12`` times the largest
      predicted ``|mean|`` or std are raised to that floor, so that a zero
      predicted std (a Gaussian process at a training point) gives a finite,
      if very bad, score.

    These nest: a search over a pipeline that ends in a target transform of
    an MDN works.

    Parameters
    ----------
    estimator : fitted estimator
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    dist : MixtureDistribution, MultivariateMixtureDistribution or \
            TransformedDistribution
        One row per sample.

    Raises
    ------
    ValueError
        If the estimator, or the one inside it that has to predict, offers
        neither ``predict_dist`` nor ``predict(X, return_std=True)``; the
        message names it by its path, e.g.
        ``GridSearchCV.best_estimator_ -> Pipeline['ridge'] -> Ridge``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from skmdn.metrics import predictive_distribution
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> dist = predictive_distribution(BayesianRidge().fit(X, 2 * X[:, 0]), X[:3])
    >>> dist.n_components, len(dist)
    (1, 3)
    """
    return distribution_of(estimator, X)


class _ProbabilisticScorer(_BaseScorer):
    """A scikit-learn scorer of a predictive distribution.

    Built by :func:`make_probabilistic_scorer`. It is a scorer like those
    of :func:`sklearn.metrics.make_scorer`: with metadata routing enabled,
    ``set_score_request(sample_weight=True)`` makes
    :func:`~sklearn.model_selection.cross_validate` and the searches pass
    the test fold's weights to it.
    """

    def __init__(self, metric: Callable, sign: int, kwargs: dict) -> None:
        # ``response_method`` only decides scikit-learn's prediction cache in
        # multi-metric scoring; every regressor has ``predict``.
        super().__init__(metric, sign, kwargs, response_method="predict")

    def _score(self, method_caller, estimator, X, y_true, **kwargs) -> float:
        # ``method_caller`` caches predictions of scikit-learn's response
        # methods; the distribution is computed once per call here.
        self._warn_overlap(
            message=(
                "There is an overlap between set kwargs of this scorer instance "
                "and passed metadata. Please pass them either as kwargs to "
                "`make_probabilistic_scorer` or metadata, but not both."
            ),
            kwargs=kwargs,
        )
        dist = predictive_distribution(estimator, X)
        return self._sign * float(
            self._score_func(y_true, dist, **{**self._kwargs, **kwargs})
        )

    def _accept_sample_weight(self) -> bool:
        # Queried by scikit-learn's multi-metric scoring to decide whether to
        # forward sample_weight when metadata routing is disabled.
        return True

    def __repr__(self) -> str:
        name = getattr(self._score_func, "__name__", repr(self._score_func))
        args = [name]
        if self._sign > 0:
            args.append("greater_is_better=True")
        args += [f"{key}={value!r}" for key, value in self._kwargs.items()]
        return f"make_probabilistic_scorer({', '.join(args)})"


def make_probabilistic_scorer(
    metric: Callable[..., float], *, greater_is_better: bool = False, **kwargs: Any
) -> _ProbabilisticScorer:
    """Turn a probabilistic metric into a scikit-learn scorer.

    The scorer gets the predictive distribution with
    :func:`predictive_distribution` and returns
    ``sign * metric(y, dist, **kwargs)``, with ``sign = -1`` unless
    ``greater_is_better``, so that greater is always better.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, dist, **kwargs) -> float``; it must accept
        ``sample_weight`` if the scorer is called with one.
    greater_is_better : bool, default=False
        Whether ``metric`` is a score (True) or a loss (False).
    **kwargs
        Extra keyword arguments for ``metric``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None) -> float``.

    Examples
    --------
    >>> from skmdn.metrics import calibration_error, make_probabilistic_scorer
    >>> make_probabilistic_scorer(calibration_error, levels=[0.5, 0.9])
    make_probabilistic_scorer(calibration_error, levels=[0.5, 0.9])
    """
    if not callable(metric):
        raise TypeError(f"metric must be callable; got {metric!r}.")
    return _ProbabilisticScorer(metric, 1 if greater_is_better else -1, kwargs)


#: Scorer returning minus the mean negative log-likelihood.
nll_scorer = make_probabilistic_scorer(negative_log_likelihood)
#: Scorer returning minus the mean CRPS.
crps_scorer = make_probabilistic_scorer(crps)
#: Scorer returning minus the calibration error.
calibration_scorer = make_probabilistic_scorer(calibration_error)
