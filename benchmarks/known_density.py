"""Regression problems whose conditional density ``p(y | x)`` is known exactly.

Each generator draws ``x ~ Uniform(-2, 2)`` (one feature) and ``y`` from a
known ``p(y | x)``, and evaluates that density, its CDF and its quantiles at
any ``(x, y)``. On such data a model's test NLL minus the true NLL of the same
test points is its gap to the true conditional entropy (zero for a perfect
model, positive otherwise, with the test noise largely cancelled), which is
what ``bench_known_density.py`` reports.

The shapes cover what a conditional density model meets: a heteroscedastic
Gaussian, two and three branches (mixtures whose weights and means move with
``x``), a skewed target (log-normal), a heavy-tailed one (Student t with 3
degrees of freedom) and a two-dimensional target whose correlation changes
sign with ``x``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import log_softmax, logsumexp

X_LOW, X_HIGH = -2.0, 2.0


def _x(X):
    X = np.asarray(X, dtype=float)
    return X[:, 0] if X.ndim == 2 else X


class KnownDensity:
    """A regression problem with a known conditional density.

    Subclasses define ``_sample_y(x, rng)``, ``_logpdf(x, y)`` and, for one
    output, ``_cdf(x, y)``; ``x`` is the 1-D array of inputs.

    Attributes
    ----------
    name : str
        Short name, used by ``bench_known_density.py --generators``.
    n_outputs : int
        Dimension of ``y``.
    """

    name = ""
    n_outputs = 1

    def sample(self, n_samples, random_state=None):
        """Draw a data set.

        Parameters
        ----------
        n_samples : int
            Number of rows.
        random_state : int, Generator or None
            Seed of the draws.

        Returns
        -------
        X : ndarray of shape (n_samples, 1)
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        rng = np.random.default_rng(random_state)
        x = rng.uniform(X_LOW, X_HIGH, size=n_samples)
        return x[:, None], self._sample_y(x, rng)

    def sample_y(self, X, n_draws, random_state=None):
        """Draw from ``p(y | x)`` at given inputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
        n_draws : int
            Draws per row.
        random_state : int, Generator or None

        Returns
        -------
        ndarray of shape (n_samples, n_draws) or (n_samples, n_draws, n_outputs)
        """
        rng = np.random.default_rng(random_state)
        x = np.repeat(_x(X), n_draws)
        y = self._sample_y(x, rng)
        return y.reshape(len(x) // n_draws, n_draws, *y.shape[1:])

    def logpdf(self, X, y):
        """Exact log density of ``y`` given ``x``, per row.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._logpdf(_x(X), np.asarray(y, dtype=float))

    def cdf(self, X, y):
        """Exact conditional CDF ``P(Y <= y | x)`` (one output only).

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
        y : array-like of shape (n_samples,)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._cdf(_x(X), np.asarray(y, dtype=float))

    def pit(self, X, y):
        """Probability integral transform of ``y``: uniform under the truth.

        For several outputs this is the Rosenblatt transform, ``F(y_1 | x)``,
        ``F(y_2 | y_1, x)``, ...: independent uniforms under the truth.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        ndarray of the shape of ``y``
        """
        return self.cdf(X, y)

    def ppf(self, X, q, tol=1e-10):
        """Conditional quantiles, by bisection on the exact CDF.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
        q : float or array-like of shape (n_samples,)
            Levels in (0, 1).
        tol : float
            Width of the final bracket.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        x = _x(X)
        q = np.broadcast_to(np.asarray(q, dtype=float), x.shape)
        lo, hi = np.full_like(x, -1.0), np.full_like(x, 1.0)
        # Widen the brackets until they hold the quantile, then halve them.
        while np.any(low := self._cdf(x, lo) > q):
            lo = np.where(low, 2 * lo - 1, lo)
        while np.any(high := self._cdf(x, hi) < q):
            hi = np.where(high, 2 * hi + 1, hi)
        while np.max(hi - lo) > tol:
            mid = 0.5 * (lo + hi)
            below = self._cdf(x, mid) < q
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)


class HeteroscedasticGaussian(KnownDensity):
    """``y | x ~ N(sin(1.5 x), (0.1 + 0.2 x^2)^2)``: the noise grows tenfold."""

    name = "heteroscedastic"

    @staticmethod
    def _params(x):
        return np.sin(1.5 * x), 0.1 + 0.2 * x**2

    def _sample_y(self, x, rng):
        mean, scale = self._params(x)
        return mean + scale * rng.standard_normal(x.shape)

    def _logpdf(self, x, y):
        return stats.norm.logpdf(y, *self._params(x))

    def _cdf(self, x, y):
        return stats.norm.cdf(y, *self._params(x))


class GaussianBranches(KnownDensity):
    """A mixture of Gaussians whose weights and means move with ``x``.

    Parameters
    ----------
    n_branches : {2, 3}
        Two branches ``sin(1.5 x) +- 1`` (scales 0.25) weighted
        ``sigmoid(2 x)`` and ``sigmoid(-2 x)``; or three, ``x - 1.5``,
        ``0.8 sin(2 x)`` and ``1.5 - x`` (scales 0.2, 0.3, 0.2), weighted
        ``softmax(x, 0.5, -x)``: the outer two cross the middle one near
        ``x = +-1.5``.
    """

    def __init__(self, n_branches=2):
        if n_branches not in (2, 3):
            raise ValueError(f"n_branches must be 2 or 3, got {n_branches!r}")
        self.n_branches = n_branches
        self.name = f"{'two' if n_branches == 2 else 'three'}-branches"

    def mixture(self, x):
        """Weights, means and scales of ``p(y | x)``.

        Parameters
        ----------
        x : ndarray of shape (n_samples,)

        Returns
        -------
        weights, means, scales : ndarray of shape (n_samples, n_branches)
        """
        log_weights, means, scales = self._log_mixture(x)
        return np.exp(log_weights), means, scales

    def _log_mixture(self, x):
        if self.n_branches == 2:
            # log sigmoid(2 x) and log sigmoid(-2 x), exact in both tails.
            logits = np.stack([2.0 * x, np.zeros_like(x)], axis=1)
            wave = np.sin(1.5 * x)
            means = np.stack([wave + 1.0, wave - 1.0], axis=1)
            scales = np.full_like(means, 0.25)
        else:
            logits = np.stack([x, np.full_like(x, 0.5), -x], axis=1)
            means = np.stack([x - 1.5, 0.8 * np.sin(2.0 * x), 1.5 - x], axis=1)
            scales = np.broadcast_to([0.2, 0.3, 0.2], means.shape)
        return log_softmax(logits, axis=1), means, scales

    def _sample_y(self, x, rng):
        weights, means, scales = self.mixture(x)
        u = rng.uniform(size=(len(x), 1))
        k = np.minimum(
            (np.cumsum(weights, axis=1) < u).sum(axis=1), weights.shape[1] - 1
        )
        rows = np.arange(len(x))
        return means[rows, k] + scales[rows, k] * rng.standard_normal(len(x))

    def _logpdf(self, x, y):
        log_w, means, scales = self._log_mixture(x)
        return logsumexp(log_w + stats.norm.logpdf(y[:, None], means, scales), axis=1)

    def _cdf(self, x, y):
        weights, means, scales = self.mixture(x)
        return np.sum(weights * stats.norm.cdf(y[:, None], means, scales), axis=1)


class LogNormal(KnownDensity):
    """A right-skewed target: ``log y | x ~ N(0.5 sin(1.5 x), (0.3 + 0.1 x)^2)``."""

    name = "skewed"

    @staticmethod
    def _params(x):
        return 0.5 * np.sin(1.5 * x), 0.3 + 0.1 * x

    def _sample_y(self, x, rng):
        mean, scale = self._params(x)
        return np.exp(mean + scale * rng.standard_normal(x.shape))

    def _logpdf(self, x, y):
        mean, scale = self._params(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_y = np.log(y)
            out = stats.norm.logpdf(log_y, mean, scale) - log_y
        return np.where(y > 0, out, -np.inf)

    def _cdf(self, x, y):
        mean, scale = self._params(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, stats.norm.cdf(np.log(y), mean, scale), 0.0)


class StudentT(KnownDensity):
    """A heavy-tailed target: ``y = sin(1.5 x) + 0.3 t``, ``t`` Student t (df 3).

    Parameters
    ----------
    df : float, default=3.0
        Degrees of freedom: with 3 the variance is finite, the fourth moment
        is not.
    """

    name = "heavy-tailed"

    def __init__(self, df=3.0):
        self.df = df

    def _sample_y(self, x, rng):
        return np.sin(1.5 * x) + 0.3 * rng.standard_t(self.df, size=x.shape)

    def _logpdf(self, x, y):
        return stats.t.logpdf(y, self.df, np.sin(1.5 * x), 0.3)

    def _cdf(self, x, y):
        return stats.t.cdf(y, self.df, np.sin(1.5 * x), 0.3)


class CorrelatedGaussian2D(KnownDensity):
    """A 2-D Gaussian target whose correlation turns from -0.9 to +0.9.

    Means ``(sin(1.5 x), cos(1.5 x))``, standard deviations 0.3 and 0.2,
    correlation ``0.9 tanh(1.5 x)``: a model with independent outputs misses
    up to ``-0.5 log(1 - 0.81) = 0.83`` nats at the ends of the range.
    """

    name = "correlated-2d"
    n_outputs = 2
    scales = (0.3, 0.2)

    @staticmethod
    def _params(x):
        return np.sin(1.5 * x), np.cos(1.5 * x), 0.9 * np.tanh(1.5 * x)

    def cholesky(self, x):
        """Means and Cholesky factors of the covariances of ``p(y | x)``.

        Parameters
        ----------
        x : ndarray of shape (n_samples,)

        Returns
        -------
        means : ndarray of shape (n_samples, 2)
        scale_tril : ndarray of shape (n_samples, 2, 2)
        """
        m1, m2, rho = self._params(x)
        s1, s2 = self.scales
        L = np.zeros((len(x), 2, 2))
        L[:, 0, 0] = s1
        L[:, 1, 0] = s2 * rho
        L[:, 1, 1] = s2 * np.sqrt(1.0 - rho**2)
        return np.stack([m1, m2], axis=1), L

    def _sample_y(self, x, rng):
        means, L = self.cholesky(x)
        z = rng.standard_normal((len(x), 2))
        return means + np.einsum("nij,nj->ni", L, z)

    def _standardized(self, x, y):
        # Rosenblatt: y_1 | x, then y_2 | y_1, x, both standard normal.
        m1, m2, rho = self._params(x)
        s1, s2 = self.scales
        z1 = (y[:, 0] - m1) / s1
        z2 = (y[:, 1] - m2 - s2 * rho * z1) / (s2 * np.sqrt(1.0 - rho**2))
        return z1, z2, rho

    def _logpdf(self, x, y):
        z1, z2, rho = self._standardized(x, y)
        s1, s2 = self.scales
        log_det = np.log(s1 * s2) + 0.5 * np.log(1.0 - rho**2)
        return -np.log(2 * np.pi) - log_det - 0.5 * (z1**2 + z2**2)

    def cdf(self, X, y):
        """Not defined for two outputs; use :meth:`pit`."""
        raise ValueError("correlated-2d has two outputs: use pit (Rosenblatt)")

    def ppf(self, X, q, tol=1e-10):
        """Not defined for two outputs."""
        raise ValueError("correlated-2d has two outputs: no quantiles")

    def pit(self, X, y):
        """Rosenblatt transform ``(F(y_1 | x), F(y_2 | y_1, x))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
        y : array-like of shape (n_samples, 2)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        z1, z2, _ = self._standardized(_x(X), np.asarray(y, dtype=float))
        return stats.norm.cdf(np.stack([z1, z2], axis=1))


GENERATORS = {
    g.name: g
    for g in (
        HeteroscedasticGaussian(),
        GaussianBranches(2),
        GaussianBranches(3),
        LogNormal(),
        StudentT(3.0),
        CorrelatedGaussian2D(),
    )
}
