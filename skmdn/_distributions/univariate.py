"""Predictive distribution of a mixture density network with a scalar target.

:class:`MixtureDistribution` holds a batch of one-dimensional Gaussian
mixtures, one mixture per row (one row per sample of ``X``).  Everything is
vectorised over rows with NumPy/SciPy; the only Python loops run over the
components, over fixed-size chunks of rows (to bound memory, or to share them
among threads), over groups of rows with the same number of critical points,
or over a bounded number of solver iterations.  The numerical work lives in
the private modules next to this one: the kernels (``_kernels``), the root
finder (``_roots``), critical points and modes (``_modes``) and the
highest-density regions (``_hdr``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from .._checks import (
    as_float_array,
    as_points,
    check_finite,
    check_level,
    check_no_nan,
    check_probability,
    check_weights,
)
from . import _hdr, _modes
from ._base import BaseMixtureDistribution, read_only
from ._hdr import BRACKET_Z, HighestDensityRegion
from ._kernels import Components, row_chunks
from ._modes import XTOL_REL
from ._roots import solve_increasing

# Below this coverage hdr() takes the region around the highest modes
# directly (the level solver loses the tiny mass in the rounding of 1).
SMALL_COVERAGE = 1e-4

__all__ = ["MixtureDistribution"]

# Root finders work on all unknowns of up to this many (row, point) pairs at
# once: large enough to amortise the Python overhead of each iteration.
_SOLVER_CHUNK = 2**18


class MixtureDistribution(BaseMixtureDistribution):
    """A batch of one-dimensional Gaussian mixtures, one mixture per row.

    Row ``i`` is the density
    ``p_i(y) = sum_k weights[i, k] * N(y; means[i, k], scales[i, k] ** 2)``.
    This is the predictive distribution returned by a mixture density network
    for ``n`` samples: all methods are vectorised over rows.

    Parameters
    ----------
    weights : array-like of shape (n_rows, n_components)
        Non-negative mixture weights; every row must sum to 1 within 1e-6
        (rows are then renormalised to sum to 1 exactly).
    means : array-like of shape (n_rows, n_components)
        Component means.
    scales : array-like of shape (n_rows, n_components)
        Component standard deviations, strictly positive.

    Attributes
    ----------
    weights, means, scales : ndarray of shape (n_rows, n_components)
        Read-only float64 copies of the parameters.
    n_components : int
        Number of mixture components ``K``.
    n_outputs : int
        Always 1: the dimension of the target.

    Notes
    -----
    Point arguments (``y`` of :meth:`pdf`, :meth:`cdf`, ... and ``q`` of
    :meth:`ppf`) follow one shape rule: a scalar is applied to every row and
    gives shape ``(n_rows,)``; an array of shape ``(n_rows,)`` pairs one value
    with each row and gives ``(n_rows,)``; an array of shape ``(n_rows, m)``
    gives ``m`` values per row and shape ``(n_rows, m)``.  Other shapes raise a
    ``ValueError``.

    Densities are computed in log space with a log-sum-exp over components, so
    points far in the tails get a finite (very negative) ``logpdf`` rather than
    ``-inf`` or NaN, and zero weights are allowed.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn import MixtureDistribution
    >>> dist = MixtureDistribution(
    ...     weights=[[0.5, 0.5], [0.2, 0.8]],
    ...     means=[[-1.0, 1.0], [0.0, 3.0]],
    ...     scales=[[0.5, 1.0], [1.0, 0.5]],
    ... )
    >>> dist
    MixtureDistribution(n_rows=2, n_components=2)
    >>> dist.mean().round(3)
    array([0. , 2.4])
    >>> dist.ppf(0.5).round(3)
    array([-0.333,  2.841])
    >>> dist.pdf([[0.0, 1.0], [0.0, 3.0]]).shape
    (2, 2)
    >>> dist.hdr(0.9).n_intervals  # the second row's 90% HDR has two pieces
    array([1, 2])
    """

    def __init__(self, weights: ArrayLike, means: ArrayLike, scales: ArrayLike) -> None:
        arrays = {
            name: as_float_array(value, name)
            for name, value in (
                ("weights", weights),
                ("means", means),
                ("scales", scales),
            )
        }
        shapes = {name: arr.shape for name, arr in arrays.items()}
        if any(arr.ndim != 2 for arr in arrays.values()):
            raise ValueError(
                "weights, means and scales must be 2-D arrays of shape "
                f"(n_rows, n_components); got shapes {shapes}."
            )
        if len(set(shapes.values())) != 1:
            raise ValueError(
                f"weights, means and scales must have the same shape; got {shapes}."
            )
        if arrays["weights"].shape[1] == 0:
            raise ValueError(
                "A mixture needs at least one component; got n_components=0."
            )
        check_finite(arrays)
        w, mu, s = arrays["weights"], arrays["means"], arrays["scales"]
        if np.any(s <= 0):
            raise ValueError(
                f"scales must be strictly positive; got minimum {s.min()!r}."
            )
        tiny = np.finfo(np.float64).tiny
        if np.any(s < tiny):
            # 1 / scale overflows for subnormal scales: densities would be NaN.
            raise ValueError(
                f"scales must be at least {tiny!r}, the smallest normal float64; "
                f"got minimum {s.min()!r}. Rescale y (and the scales) first."
            )
        self._set(check_weights(w), mu, s, None)

    def _set(self, w: NDArray, mu: NDArray, s: NDArray, log_w) -> None:
        read_only(w, mu, s)
        self.weights, self.means, self.scales = w, mu, s
        self._log_weights = log_w
        if log_w is not None:
            read_only(log_w)
            log_w = log_w.T
        self._comp = Components.from_arrays(w.T, mu.T, s.T, log_w)

    @classmethod
    def _from_validated(
        cls,
        weights: ArrayLike,
        means: ArrayLike,
        scales: ArrayLike,
        *,
        log_weights: ArrayLike | None = None,
    ) -> MixtureDistribution:
        """A distribution from parameters known to be valid, unchecked.

        ``weights``, ``means`` and ``scales`` are ``(n_rows, n_components)``
        arrays satisfying the constructor's rules (rows of ``weights`` sum to
        1; they are not renormalised); they are copied as float64.
        ``log_weights``, when given, is ``log(weights)`` (normalised in log
        space, as a network's log-softmax output) and used by the densities
        instead of recomputing it.
        """
        obj = cls.__new__(cls)
        obj._set(
            np.array(weights, dtype=np.float64),
            np.array(means, dtype=np.float64),
            np.array(scales, dtype=np.float64),
            None if log_weights is None else np.array(log_weights, dtype=np.float64),
        )
        return obj

    def _parameters(self):
        kwargs = {"log_weights": self._log_weights}
        return (self.weights, self.means, self.scales), kwargs

    def _components(self, rows=slice(None)) -> Components:
        return self._comp.take(rows)

    def __repr__(self) -> str:
        n, K = self.weights.shape
        if n == 1 and K <= 5:

            def fmt(a):
                return np.array2string(a, precision=4, separator=", ")

            return (
                f"MixtureDistribution(weights={fmt(self.weights)}, "
                f"means={fmt(self.means)}, scales={fmt(self.scales)})"
            )
        return super().__repr__()

    # ------------------------------------------------------------------ #
    # Moments
    # ------------------------------------------------------------------ #
    def mean(self) -> NDArray:
        """Mean of every row.

        Returns
        -------
        mean : ndarray of shape (n_rows,)
        """
        return np.einsum("ij,ij->i", self.weights, self.means)

    def var(self) -> NDArray:
        """Variance of every row (law of total variance).

        ``sum_k w_k (s_k^2 + (mu_k - mean)^2)``: the expected within-component
        variance plus the variance of the component means.

        Returns
        -------
        var : ndarray of shape (n_rows,)
        """
        centred = self.means - self.mean()[:, None]
        return np.einsum("ij,ij->i", self.weights, self.scales**2 + centred**2)

    def std(self) -> NDArray:
        """Standard deviation of every row.

        Returns
        -------
        std : ndarray of shape (n_rows,)
        """
        return np.sqrt(self.var())

    def median(self) -> NDArray:
        """Median of every row, ``ppf(0.5)``.

        Returns
        -------
        median : ndarray of shape (n_rows,)
        """
        return self.ppf(0.5)

    # ------------------------------------------------------------------ #
    # Point-wise functions
    # ------------------------------------------------------------------ #
    def _pointwise(self, y: ArrayLike, method: str) -> NDArray:
        y2, squeeze = as_points(y, len(self), "y")
        check_no_nan(y2, "y")
        out = np.empty(y2.shape)
        for rows in row_chunks(y2.shape[0], y2.shape[1]):
            out[rows] = getattr(self._components(rows), method)(y2[rows])
        return out[:, 0] if squeeze else out

    def logpdf(self, y: ArrayLike) -> NDArray:
        """Log density.

        Parameters
        ----------
        y : float or array-like of shape (n_rows,) or (n_rows, m)
            Points; see the shape rule in the class notes.  ``+-inf`` is
            allowed (log density ``-inf``); NaN raises ``ValueError``.

        Returns
        -------
        logpdf : ndarray of shape (n_rows,) or (n_rows, m)
        """
        return self._pointwise(y, "logpdf")

    def pdf(self, y: ArrayLike) -> NDArray:
        """Probability density.

        Parameters
        ----------
        y : float or array-like of shape (n_rows,) or (n_rows, m)

        Returns
        -------
        pdf : ndarray of shape (n_rows,) or (n_rows, m)
        """
        return np.exp(self.logpdf(y))

    def cdf(self, y: ArrayLike) -> NDArray:
        """Cumulative distribution function ``P(Y <= y)``.

        Parameters
        ----------
        y : float or array-like of shape (n_rows,) or (n_rows, m)
            ``cdf(-inf) = 0`` and ``cdf(inf) = 1``.

        Returns
        -------
        cdf : ndarray of shape (n_rows,) or (n_rows, m)
        """
        return self._pointwise(y, "cdf")

    def logcdf(self, y: ArrayLike) -> NDArray:
        """Log of the cumulative distribution function, accurate in the left tail.

        Parameters
        ----------
        y : float or array-like of shape (n_rows,) or (n_rows, m)

        Returns
        -------
        logcdf : ndarray of shape (n_rows,) or (n_rows, m)
        """
        return self._pointwise(y, "logcdf")

    def sf(self, y: ArrayLike) -> NDArray:
        """Survival function ``P(Y > y) = 1 - cdf(y)``, accurate in the right tail.

        Parameters
        ----------
        y : float or array-like of shape (n_rows,) or (n_rows, m)

        Returns
        -------
        sf : ndarray of shape (n_rows,) or (n_rows, m)
        """
        return self._pointwise(y, "sf")

    def logsf(self, y: ArrayLike) -> NDArray:
        """Log of the survival function, accurate in the right tail.

        Parameters
        ----------
        y : float or array-like of shape (n_rows,) or (n_rows, m)

        Returns
        -------
        logsf : ndarray of shape (n_rows,) or (n_rows, m)
        """
        return self._pointwise(y, "logsf")

    # ------------------------------------------------------------------ #
    # Quantiles
    # ------------------------------------------------------------------ #
    def ppf(self, q: ArrayLike) -> NDArray:
        """Quantile function (inverse of :meth:`cdf`).

        Solved for all rows at once by safeguarded Newton-bisection on
        ``log cdf`` (``log sf`` for ``q > 0.5``, to stay accurate in both
        tails), bracketed by ``[min_k(mu_k - 40 s_k), max_k(mu_k + 40 s_k)]``.
        ``|cdf(ppf(q)) - q|`` is typically below 1e-12.

        Parameters
        ----------
        q : float or array-like of shape (n_rows,) or (n_rows, m)
            Probabilities in ``[0, 1]``; ``ppf(0) = -inf`` and ``ppf(1) = inf``.

        Returns
        -------
        quantiles : ndarray of shape (n_rows,) or (n_rows, m)
        """
        q2, squeeze = as_points(q, len(self), "q")
        q2 = check_probability(q2, "q")
        n, m = q2.shape
        out = np.empty((n, m))
        for rows in row_chunks(n, m, _SOLVER_CHUNK):
            out[rows] = self._ppf_chunk(self._components(rows), q2[rows])
        return out[:, 0] if squeeze else out

    @staticmethod
    def _ppf_chunk(comp: Components, q: NDArray) -> NDArray:
        a, m = q.shape
        out = np.empty((a, m))
        out[q == 0.0] = -np.inf
        out[q == 1.0] = np.inf
        lo_row = (comp.mu - BRACKET_Z * comp.s).min(axis=0)
        hi_row = (comp.mu + BRACKET_Z * comp.s).max(axis=0)
        mean = np.sum(comp.w * comp.mu, axis=0)
        std = np.sqrt(np.sum(comp.w * (comp.s**2 + (comp.mu - mean) ** 2), axis=0))
        smin = comp.s.min(axis=0)
        for upper in (False, True):
            sel = (q > 0.5) & (q < 1.0) if upper else (q > 0.0) & (q <= 0.5)
            rows, cols = np.nonzero(sel)
            if rows.size == 0:
                continue
            qs = q[rows, cols]
            sub = comp.take(rows)
            # Upper tail: solve log(1 - q) = log sf(x); 1 - q is exact for q > 0.5.
            target = np.log1p(-qs) if upper else np.log(qs)

            def make_fun(idx, sub=sub, target=target, upper=upper):
                part, tgt = sub.take(idx), target[idx]

                def fun(x):
                    logp = part.logpdf(x)
                    if upper:
                        logs = part.logsf(x)
                        return tgt - logs, np.exp(logp - logs)
                    logc = part.logcdf(x)
                    return logc - tgt, np.exp(logp - logc)

                return fun

            # Start from the moment-matched normal: exact for one component.
            x0 = mean[rows] + std[rows] * ndtri(qs)
            out[rows, cols] = solve_increasing(
                make_fun, x0, lo_row[rows], hi_row[rows], XTOL_REL * smin[rows]
            )
        return out

    def interval(self, confidence: float) -> tuple[NDArray, NDArray]:
        """Central (equal-tailed) prediction interval.

        Parameters
        ----------
        confidence : float
            Probability mass inside the interval, in the open interval (0, 1).

        Returns
        -------
        lower, upper : ndarray of shape (n_rows,)
            ``ppf((1 - confidence) / 2)`` and ``ppf((1 + confidence) / 2)``.
        """
        c = check_level(confidence, "confidence")
        n = len(self)
        q = np.empty((n, 2))
        q[:, 0] = 0.5 * (1.0 - c)
        q[:, 1] = 0.5 * (1.0 + c)
        bounds = self.ppf(q)
        return bounds[:, 0], bounds[:, 1]

    # ------------------------------------------------------------------ #
    # Critical points, modes and highest-density regions
    # ------------------------------------------------------------------ #
    def modes(self) -> tuple[NDArray, NDArray]:
        """Local maxima of every row's density.

        Critical points are bracketed by sign changes of ``d log pdf / dx`` on
        a per-row grid (8 uniform nodes over ``[min mean, max mean]``, where
        all critical points of a Gaussian mixture lie, plus nodes at
        ``mean_k + {+-0.2, +-0.6, +-1.2, +-2} * scale_k`` for every component) and
        refined by safeguarded Newton steps.  A mode/antimode pair closer than
        the local node spacing can be missed; such a bump is shallow (against
        dense grids on random 5-component mixtures, about 1% of rows missed a
        mode, always one less than 1% higher than its neighbouring dip).
        Maxima separated by a dip shallower than a relative 1e-9 are merged.

        Returns
        -------
        locations : ndarray of shape (n_rows, width)
            Mode locations, sorted by density (highest first), NaN-padded.
            ``width`` is ``n_components``: a one-dimensional mixture of ``K``
            Gaussians with equal scales has at most ``K`` modes.  With unequal
            scales we know no proof of that bound, so if some row ever has
            more modes the arrays widen to the largest count found rather than
            dropping modes.
        densities : ndarray of shape (n_rows, width)
            Density at each mode, same order and padding.
        """
        return _modes.modes(self._comp)

    def mode(self) -> NDArray:
        """Location of the highest mode of every row.

        Returns
        -------
        mode : ndarray of shape (n_rows,)
        """
        return self.modes()[0][:, 0]

    def hdr(self, coverage: float) -> HighestDensityRegion:
        """Highest-density region: the smallest set holding ``coverage`` mass.

        For every row this is ``{y : pdf(y) >= t}`` with the density level
        ``t`` chosen so that the set has probability ``coverage``.  For a
        multimodal row it can be a union of disjoint intervals.

        The critical points of the density are found as in :meth:`modes`.
        Between consecutive critical points the density is monotone, with at
        most one crossing of level ``t``.  The crossings and ``log t`` are
        solved jointly by safeguarded Newton iterations, each of which
        evaluates the density once at every crossing: a step for every
        crossing at the current level, and one for the level on the mass
        ``sum over pieces of cdf(upper) - cdf(lower)``, whose derivative is
        known in closed form (the cdf is carried between nearby evaluations
        by Hermite quadrature and evaluated exactly near the solution).  The
        few rows that this does not settle quickly are solved again with
        bracketed crossings.  A bump narrower than the grid spacing shows up
        as a jump in that mass; the affected rows are recomputed on a uniform
        grid of 1,024 and then 16,384 nodes between the smallest and largest
        component mean.  A bump that is still missed (narrower than
        ``(max mean - min mean) / 16,384``, or at the edge of that range) can
        make the region miss a sliver; ``coverage`` then reports the mass
        actually enclosed.

        Parameters
        ----------
        coverage : float
            Probability mass of the region, in the open interval (0, 1).

        Returns
        -------
        region : HighestDensityRegion
            With ``intervals`` of shape ``(n_rows, n_pieces, 2)``,
            ``n_intervals``, ``threshold`` and ``coverage`` of shape
            ``(n_rows,)``.
        """
        coverage = check_level(coverage, "coverage")
        if coverage < SMALL_COVERAGE:
            return self._small_hdr(coverage)
        return _hdr.hdr(self._comp, coverage)

    def _small_hdr(self, coverage: float) -> HighestDensityRegion:
        """The HDR of a tiny mass: short intervals around the highest modes.

        Where the density is flat (at a mode) an interval of mass ``c`` has
        half-width ``c / (2 p)`` to second order, with a relative error of
        order ``c**2``; the level solver cannot resolve such a mass against
        the whole density's. Modes of equal height share the mass.
        """
        locations, densities = self.modes()
        top = densities[:, :1]
        shares = np.where(densities >= top * (1.0 - 1e-12), 1.0, 0.0)
        n_top = shares.sum(axis=1)
        half = coverage / (2.0 * densities * n_top[:, None])
        ends = np.stack([locations - half, locations + half], axis=-1)
        ends[shares == 0] = np.nan
        order = np.argsort(np.where(shares > 0, locations, np.inf), axis=1)
        ends = np.take_along_axis(ends, order[..., None], axis=1)
        width = int(n_top.max()) if len(self) else 1
        ends = np.ascontiguousarray(ends[:, :width])
        lower = np.where(np.isnan(ends[..., 0]), 0.0, ends[..., 0])
        upper = np.where(np.isnan(ends[..., 1]), 0.0, ends[..., 1])
        mass = (self.cdf(upper) - self.cdf(lower)).sum(axis=1)
        threshold = self.pdf(upper[:, :1])[:, 0]
        return HighestDensityRegion(ends, n_top.astype(np.intp), threshold, mass)

    # ------------------------------------------------------------------ #
    # Sampling
    # ------------------------------------------------------------------ #
    def sample(
        self,
        n_samples: int = 1,
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
    ) -> NDArray:
        """Draw samples from every row.

        Parameters
        ----------
        n_samples : int, default=1
            Number of draws per row.
        random_state : None, int, numpy.random.RandomState or numpy.random.Generator
            Seed or generator, as in scikit-learn's ``check_random_state``;
            a ``numpy.random.Generator`` is used as is.

        Returns
        -------
        samples : ndarray of shape (n_rows, n_samples)
        """
        comp, rng = self._sample_components(n_samples, random_state)
        noise = rng.standard_normal(comp.shape)
        rows = np.arange(len(self))[:, None]
        return self.means[rows, comp] + self.scales[rows, comp] * noise
