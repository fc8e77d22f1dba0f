"""Predictive distribution of a mixture density network.

:class:`MixtureDistribution` holds a batch of one-dimensional Gaussian
mixtures, one mixture per row (one row per sample of ``X``).  Everything is
vectorised over rows with NumPy/SciPy; the only Python loops run over the
components, over fixed-size chunks of rows (to bound memory) or over a bounded
number of solver iterations.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_ndtr, logsumexp, ndtr, ndtri
from sklearn.utils import check_random_state

__all__ = ["HighestDensityRegion", "MixtureDistribution"]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_EPS = np.finfo(np.float64).eps

# Phi(-40) ~ 4e-350 underflows to 0 in float64, so every quantile, HDR endpoint
# or tail crossing that float64 can represent lies within 40 scales of a mean.
_BRACKET_Z = 40.0

# Number of (row, point) pairs evaluated per chunk.  Every component adds a few
# temporaries of this size; 2**16 float64 values (512 KiB) keep them in cache.
_CHUNK = 2**16

# Root finders work on all unknowns of up to this many (row, point) pairs at
# once: large enough to amortise the Python overhead of each iteration.
_SOLVER_CHUNK = 2**18
_HDR_CHUNK = 2**16  # rows per hdr() batch

# Relative tolerance (in units of the row's smallest component scale) of the
# root finders.  Newton converges quadratically, so the result is usually far
# more accurate than this.
_XTOL_REL = 1e-12

# Derivative-sign grid used to bracket the critical points of the density: a
# uniform grid over [min mean, max mean] (every critical point of a Gaussian
# mixture lies in that range) plus a stencil around every component mean.
# hdr() retries the rare rows whose mass equation shows a missed bump with the
# finer uniform grids of _N_UNIFORM_RETRY.
# The stencil was tuned on random mixtures against dense grids: nodes packed
# near each mean catch the shallow bumps a component makes on another's slope.
_N_UNIFORM = 8
_N_UNIFORM_RETRY = (1024, 16384)
_STENCIL = np.array([-2.0, -1.2, -0.6, -0.2, 0.2, 0.6, 1.2, 2.0])

# Two maxima separated by a dip shallower than this (in log density) are one
# plateau, not two modes.
_MODE_MERGE_LOGTOL = 1e-9

# Tolerance on each row's weight sum (weights are renormalised afterwards).
_WEIGHT_SUM_TOL = 1e-6


# --------------------------------------------------------------------------- #
# Low-level kernels
# --------------------------------------------------------------------------- #
class _Components:
    """Component parameters laid out as ``(K, a)`` arrays for ``a`` mixtures.

    Keeping the component axis first makes every reduction over components an
    element-wise operation between contiguous ``(a,)`` vectors, which is several
    times faster than reducing a short trailing axis.  The parameters live in
    one stacked array so that selecting mixtures is a single indexing call.
    """

    __slots__ = ("params",)

    # Rows of ``params``; log_coef = log(w_k / s_k) - log(sqrt(2 pi)) is the
    # constant part of log(w_k phi_k).  Only what the hot loops need is stored
    # (gathering rows is a large share of the solvers' cost).
    _W, _MU, _INV_S, _LOG_COEF = range(4)

    def __init__(self, params: NDArray) -> None:
        self.params = params

    @classmethod
    def from_arrays(cls, w, mu, s) -> _Components:
        with np.errstate(divide="ignore"):
            log_coef = np.log(w) - np.log(s) - _LOG_SQRT_2PI
        return cls(np.stack([w, mu, 1.0 / s, log_coef]))

    w = property(lambda self: self.params[self._W])
    mu = property(lambda self: self.params[self._MU])
    inv_s = property(lambda self: self.params[self._INV_S])
    log_coef = property(lambda self: self.params[self._LOG_COEF])

    @property
    def s(self) -> NDArray:
        return 1.0 / self.inv_s

    @property
    def logw(self) -> NDArray:
        with np.errstate(divide="ignore"):
            return np.log(self.w)

    @property
    def n_components(self) -> int:
        return self.params.shape[1]

    def __len__(self) -> int:
        return self.params.shape[2]

    def take(self, idx) -> _Components:
        if isinstance(idx, slice):
            return _Components(self.params[:, :, idx])
        return _Components(np.take(self.params, idx, axis=2))

    @staticmethod
    def _col(param, x):
        # Broadcast a per-mixture parameter against x of shape (a,) or (a, m).
        return param if x.ndim == 1 else param[:, None]

    def _z(self, k, x):
        return (x - self._col(self.mu[k], x)) * self._col(self.inv_s[k], x)

    def logpdf(self, x, derivs: int = 0):
        """Log density and optionally the first two derivatives of it.

        Returns ``logp`` or ``(logp, g)`` or ``(logp, g, h)`` with
        ``g = d log p / dx`` and ``h = d^2 log p / dx^2``.
        """
        K = self.n_components
        zs = [self._z(k, x) for k in range(K)]
        terms = [self._col(self.log_coef[k], x) - 0.5 * zs[k] * zs[k] for k in range(K)]
        top = terms[0].copy()
        for k in range(1, K):
            np.maximum(top, terms[k], out=top)
        # All terms are -inf only for infinite x: keep exp() finite there.
        top[~np.isfinite(top)] = 0.0
        total = np.zeros_like(top)
        g_num = np.zeros_like(top) if derivs >= 1 else None
        h_num = np.zeros_like(top) if derivs >= 2 else None
        for k in range(K):
            e = np.exp(terms[k] - top, out=terms[k])
            total += e
            if derivs >= 1:
                inv_s = self._col(self.inv_s[k], x)
                ez = e * zs[k]
                g_num -= ez * inv_s
                if derivs >= 2:
                    h_num += (ez * zs[k] - e) * (inv_s * inv_s)
        with np.errstate(divide="ignore"):
            logp = np.log(total)
        logp += top
        if derivs == 0:
            return logp
        with np.errstate(divide="ignore", invalid="ignore"):
            g = g_num / total
            if derivs == 1:
                return logp, g
            h = h_num / total - g * g
        return logp, g, h

    def cdf(self, x):
        out = np.zeros(np.shape(x))
        for k in range(self.n_components):
            out += self._col(self.w[k], x) * ndtr(self._z(k, x))
        # The weights sum to 1 only up to rounding; the limits are exact.
        out[np.isposinf(x)] = 1.0
        return np.clip(out, 0.0, 1.0, out=out)

    def sf(self, x):
        out = np.zeros(np.shape(x))
        for k in range(self.n_components):
            out += self._col(self.w[k], x) * ndtr(-self._z(k, x))
        out[np.isneginf(x)] = 1.0
        return np.clip(out, 0.0, 1.0, out=out)

    def _log_tail(self, x, upper: bool):
        # log sum_k w_k Phi(+-z_k).  The direct sum is accurate in relative
        # terms until it underflows; only those entries need log_ndtr.
        prob = self.sf(x) if upper else self.cdf(x)
        with np.errstate(divide="ignore"):
            out = np.log(prob)
        tiny = prob < 1e-250
        if np.any(tiny):
            if x.ndim == 1:
                rows, xs = np.flatnonzero(tiny), x[tiny]
            else:
                rows, xs = np.nonzero(tiny)[0], x[tiny]
            sub = self.take(rows)
            sign = -1.0 if upper else 1.0
            terms = np.stack(
                [
                    sub.logw[k] + log_ndtr(sign * sub._z(k, xs))
                    for k in range(sub.n_components)
                ]
            )
            out[tiny] = logsumexp(terms, axis=0)
        return out

    def logcdf(self, x):
        return self._log_tail(x, upper=False)

    def logsf(self, x):
        return self._log_tail(x, upper=True)


def _solve_increasing(
    make_fun: Callable[[NDArray], Callable[[NDArray], tuple[NDArray, NDArray]]],
    x0: NDArray,
    lo: NDArray,
    hi: NDArray,
    xtol: NDArray,
    ftol: float = 0.0,
    maxiter: int = 200,
    compact_below: float = 0.5,
) -> NDArray:
    """Vectorised safeguarded Newton iteration with an Illinois fallback.

    Solves ``f_i(x_i) = 0`` for many independent increasing functions at once,
    given brackets with ``f_i(lo_i) <= 0 <= f_i(hi_i)``.  ``make_fun(idx)``
    returns a function mapping points ``x`` of the elements ``idx`` (an index
    array, or ``slice(None)`` for all of them) to ``(f, df/dx)``.

    As in Numerical Recipes' ``rtsafe``, a Newton step is taken when it stays
    inside the bracket and at most half as long as the step before last;
    otherwise the step is an Illinois (modified regula falsi) step between the
    bracket ends, or a bisection while a bracket end has no function value
    yet.  The bracket shrinks at every iteration, so every element converges
    even where the derivative is tiny, infinite or discontinuous (the HDR mass
    has square-root kinks).  An element stops when its step or bracket is
    below ``xtol`` or ``|f| <= ftol``.  The working set is compacted when
    fewer than ``compact_below`` of its members are still active.
    """
    x_out = np.array(x0, dtype=float)
    lo = np.array(lo, dtype=float)
    hi = np.array(hi, dtype=float)
    xtol = np.maximum(xtol, 4.0 * _EPS * np.maximum(np.abs(lo), np.abs(hi)))
    bad = ~((x_out > lo) & (x_out < hi))
    x_out[bad] = 0.5 * (lo[bad] + hi[bad])
    # The state of the current working set is kept compact, so that each
    # iteration is element-wise work only.  Gathering the function's
    # parameters can cost more than a few evaluations, so the working set is
    # only compacted once fewer than ``compact_below`` of it is still live;
    # converged members are re-evaluated but no longer updated.
    work = np.arange(x_out.size)
    x = x_out.copy()
    f_lo = np.full(x.size, np.nan)
    f_hi = np.full(x.size, np.nan)
    moved_lo = np.zeros(x.size, dtype=bool)  # which end the last update moved
    dx = hi - lo
    dxold = dx.copy()
    width_old = np.full(x.size, np.inf)  # bracket width two iterations ago
    width_last = np.full(x.size, np.inf)
    live = np.ones(x.size, dtype=bool)
    fun = make_fun(slice(None))  # a view: no gather for the first pass
    for it in range(maxiter):
        n_live = np.count_nonzero(live)
        if n_live == 0:
            break
        if n_live < compact_below * work.size:
            x_out[work] = x
            keep = np.flatnonzero(live)
            work = work[keep]
            x, lo, hi, xtol = x[keep], lo[keep], hi[keep], xtol[keep]
            f_lo, f_hi, moved_lo = f_lo[keep], f_hi[keep], moved_lo[keep]
            dx, dxold = dx[keep], dxold[keep]
            width_old, width_last = width_old[keep], width_last[keep]
            live = np.ones(work.size, dtype=bool)
            fun = make_fun(work)
        f, df = fun(x)
        below = f < 0
        la = np.where(below, x, lo)
        ha = np.where(below, hi, x)
        fla = np.where(below, f, f_lo)
        fha = np.where(below, f_hi, f)
        # Illinois: when the same end moves twice running, halve the value
        # kept at the other end so that regula falsi cannot stall.
        if it > 0:
            again = below == moved_lo
            fla = np.where(again & ~below, 0.5 * fla, fla)
            fha = np.where(again & below, 0.5 * fha, fha)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = f / df
            newton = x - step
            # The current point is now an end of the bracket, so a converged
            # Newton step may land on it: the bracket test must be inclusive.
            use_newton = (
                np.isfinite(newton)
                & (newton >= la)
                & (newton <= ha)
                & (np.abs(2.0 * step) <= np.abs(dxold))
            )
            secant = la - fla * (ha - la) / (fha - fla)
            # Regula falsi can creep along a staircase-like function (a far
            # tail of log cdf): unless the bracket has at least halved over the
            # last two iterations, bisect instead.
            use_secant = (
                np.isfinite(secant)
                & (secant > la)
                & (secant < ha)
                & (ha - la <= 0.5 * width_old)
            )
        xn = np.where(use_secant, secant, 0.5 * (la + ha))
        xn = np.where(use_newton, newton, xn)
        # A point meeting ftol is kept as is, so the caller's last evaluation
        # is at the returned point.
        xn = np.where(np.abs(f) <= ftol, x, xn)
        d = np.where(live, xn - x, 0.0)
        # Only live members move; converged ones keep their state.
        x = np.where(live, xn, x)
        lo = np.where(live, la, lo)
        hi = np.where(live, ha, hi)
        f_lo = np.where(live, fla, f_lo)
        f_hi = np.where(live, fha, f_hi)
        moved_lo = np.where(live, below, moved_lo)
        dxold = np.where(live, dx, dxold)
        dx = np.where(live, d, dx)
        width_old = np.where(live, width_last, width_old)
        width_last = np.where(live, ha - la, width_last)
        # A tiny Newton or bisection step means convergence; a tiny regula
        # falsi step only means that one end value dwarfs the other.
        small_step = (np.abs(d) <= xtol) & (use_newton | ~use_secant)
        done = small_step | (ha - la <= xtol) | (np.abs(f) <= ftol)
        live &= ~done
    x_out[work] = x
    return x_out


def _row_chunks(n: int, per_row: int, chunk: int = _CHUNK):
    step = max(1, chunk // max(1, per_row))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _check_probability(q: ArrayLike, name: str) -> NDArray:
    arr = np.asarray(q, dtype=float)
    bad = ~((arr >= 0.0) & (arr <= 1.0))
    if np.any(bad):
        raise ValueError(
            f"{name} must contain probabilities in [0, 1]; got invalid values "
            f"{np.unique(arr[bad])[:5].tolist()}."
        )
    return arr


def _check_level(value: float, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{name} must be a float in the open interval (0, 1); got {value!r}."
        )
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in the open interval (0, 1); got {value!r}.")
    return value


def _as_points(values: ArrayLike, n: int, name: str) -> tuple[NDArray, bool]:
    """Apply the shape rule: scalar, ``(n,)`` or ``(n, m)``.

    Returns a 2-D ``(n, m)`` array and whether the result must be squeezed
    back to ``(n,)``.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        return np.broadcast_to(arr, (n, 1)), True
    if arr.ndim == 1 and arr.shape[0] == n:
        return arr[:, None], True
    if arr.ndim == 2 and arr.shape[0] == n:
        return arr, False
    raise ValueError(
        f"{name} must be a scalar, an array of shape ({n},) (one value per row) "
        f"or an array of shape ({n}, m) (m values per row) for a distribution "
        f"with {n} rows; got an array of shape {arr.shape}."
    )


def _check_no_nan(arr: NDArray, name: str) -> None:
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN.")


# --------------------------------------------------------------------------- #
# Result object for highest-density regions
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)
class HighestDensityRegion:
    """Highest-density regions of a batch of mixtures.

    Returned by :meth:`MixtureDistribution.hdr`.  Row ``i`` is the set
    ``{y : pdf_i(y) >= threshold[i]}``, a union of ``n_intervals[i]`` disjoint
    closed intervals.

    Attributes
    ----------
    intervals : ndarray of shape (n_rows, n_pieces, 2)
        Lower and upper end of every piece, sorted left to right; rows with
        fewer pieces than ``n_pieces`` (the most any row needs) are padded
        with NaN.
    n_intervals : ndarray of shape (n_rows,)
        Number of pieces of every row.
    threshold : ndarray of shape (n_rows,)
        Density level ``t`` defining the region.
    coverage : ndarray of shape (n_rows,)
        Probability mass actually enclosed: the requested coverage to about
        1e-10, unless a bump was missed (see :meth:`MixtureDistribution.hdr`)
        or a component scale is so small relative to ``|y|`` that float64
        cannot resolve the ends finely enough.
    """

    intervals: NDArray
    n_intervals: NDArray
    threshold: NDArray
    coverage: NDArray

    def __len__(self) -> int:
        return self.threshold.shape[0]

    @property
    def length(self) -> NDArray:
        """Total length (Lebesgue measure) of each row's region, shape ``(n_rows,)``."""
        widths = self.intervals[:, :, 1] - self.intervals[:, :, 0]
        return np.nansum(widths, axis=1)

    def to_list(self) -> list[list[tuple[float, float]]]:
        """Per-row lists of ``(lower, upper)`` tuples.

        Returns
        -------
        pieces : list of list of tuple of float
            ``pieces[i]`` holds the ``n_intervals[i]`` intervals of row ``i``.
        """
        return [
            [(float(lo), float(hi)) for lo, hi in row[:count]]
            for row, count in zip(self.intervals, self.n_intervals)
        ]

    def contains(self, y: ArrayLike) -> NDArray:
        """Whether points lie inside the region.

        Parameters
        ----------
        y : float or array-like of shape (n_rows,) or (n_rows, m)
            Scalar (tested against every row), one point per row, or ``m``
            points per row.

        Returns
        -------
        inside : ndarray of bool, shape (n_rows,) or (n_rows, m)
        """
        n = len(self)
        y2, squeeze = _as_points(y, n, "y")
        _check_no_nan(y2, "y")
        lower = self.intervals[:, None, :, 0]
        upper = self.intervals[:, None, :, 1]
        # NaN padding compares False, so padded pieces never match.
        inside = np.any((y2[:, :, None] >= lower) & (y2[:, :, None] <= upper), axis=2)
        return inside[:, 0] if squeeze else inside

    def __repr__(self) -> str:
        return (
            f"HighestDensityRegion(n_rows={len(self)}, "
            f"max_intervals={self.intervals.shape[1]})"
        )


# --------------------------------------------------------------------------- #
# The distribution
# --------------------------------------------------------------------------- #
def _check_weights(w: NDArray) -> NDArray:
    """Check that each row of ``w`` is a probability vector; renormalize it."""
    if np.any(w < 0):
        raise ValueError(f"weights must be non-negative; got minimum {w.min()!r}.")
    sums = w.sum(axis=1)
    off = np.abs(sums - 1.0) > _WEIGHT_SUM_TOL
    if np.any(off):
        rows = np.flatnonzero(off)
        raise ValueError(
            f"each row of weights must sum to 1 (within {_WEIGHT_SUM_TOL}); "
            f"{rows.size} row(s) do not, e.g. row {rows[0]} sums to "
            f"{sums[rows[0]]!r}."
        )
    return w / sums[:, None]


class MixtureDistribution:
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
    >>> from skmdn._distribution import MixtureDistribution
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
        arrays = {}
        for name, value in (("weights", weights), ("means", means), ("scales", scales)):
            try:
                arr = np.array(value, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be a numeric array: {exc}") from exc
            arrays[name] = arr
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
        for name, arr in arrays.items():
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} contains NaN or infinite values.")
        w, mu, s = arrays["weights"], arrays["means"], arrays["scales"]
        if np.any(s <= 0):
            raise ValueError(
                f"scales must be strictly positive; got minimum {s.min()!r}."
            )
        w = _check_weights(w)
        self._set(w, mu, s)

    def _set(self, w: NDArray, mu: NDArray, s: NDArray) -> None:
        for arr in (w, mu, s):
            arr.flags.writeable = False
        self.weights, self.means, self.scales = w, mu, s
        self._comp = _Components.from_arrays(w.T, mu.T, s.T)

    @classmethod
    def _from_validated(
        cls, w: NDArray, mu: NDArray, s: NDArray
    ) -> MixtureDistribution:
        obj = cls.__new__(cls)
        obj._set(np.array(w), np.array(mu), np.array(s))
        return obj

    def _components(self, rows=slice(None)) -> _Components:
        return self._comp.take(rows)

    def __reduce__(self):
        # Rebuild through the constructor so that an unpickled copy gets its
        # derived arrays and read-only parameters back.
        return (type(self), (self.weights, self.means, self.scales))

    # ------------------------------------------------------------------ #
    # Container protocol
    # ------------------------------------------------------------------ #
    @property
    def n_components(self) -> int:
        """Number of mixture components ``K``."""
        return self.weights.shape[1]

    def __len__(self) -> int:
        return self.weights.shape[0]

    def __getitem__(self, key: int | slice | ArrayLike) -> MixtureDistribution:
        """Select rows.

        An integer gives a one-row distribution; a slice, an integer array or
        a boolean mask of length ``n_rows`` gives the selected rows.
        """
        n = len(self)
        if isinstance(key, (bool, np.bool_)):
            raise TypeError("Cannot index a MixtureDistribution with a boolean scalar.")
        if isinstance(key, numbers.Integral):
            i = int(key)
            if not -n <= i < n:
                raise IndexError(f"row index {i} is out of range for {n} rows.")
            key = [i % n]
        elif not isinstance(key, slice):
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (n,):
                    raise IndexError(
                        f"boolean mask must have shape ({n},); got shape {key.shape}."
                    )
            elif key.ndim != 1 or not (
                key.size == 0 or np.issubdtype(key.dtype, np.integer)
            ):
                raise IndexError(
                    "rows must be selected with an integer, a slice, a 1-D integer "
                    f"array or a boolean mask; got an array of dtype {key.dtype} "
                    f"and shape {key.shape}."
                )
            else:
                key = key.astype(np.intp)
        return MixtureDistribution._from_validated(
            self.weights[key], self.means[key], self.scales[key]
        )

    def __repr__(self) -> str:
        n, K = self.weights.shape
        if n == 1 and K <= 5:

            def fmt(a):
                return np.array2string(a, precision=4, separator=", ")

            return (
                f"MixtureDistribution(weights={fmt(self.weights)}, "
                f"means={fmt(self.means)}, scales={fmt(self.scales)})"
            )
        return f"MixtureDistribution(n_rows={n}, n_components={K})"

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
        y2, squeeze = _as_points(y, len(self), "y")
        _check_no_nan(y2, "y")
        out = np.empty(y2.shape)
        for rows in _row_chunks(y2.shape[0], y2.shape[1]):
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
        q2, squeeze = _as_points(q, len(self), "q")
        q2 = _check_probability(q2, "q")
        n, m = q2.shape
        out = np.empty((n, m))
        for rows in _row_chunks(n, m, _SOLVER_CHUNK):
            out[rows] = self._ppf_chunk(self._components(rows), q2[rows])
        return out[:, 0] if squeeze else out

    @staticmethod
    def _ppf_chunk(comp: _Components, q: NDArray) -> NDArray:
        a, m = q.shape
        out = np.empty((a, m))
        out[q == 0.0] = -np.inf
        out[q == 1.0] = np.inf
        lo_row = (comp.mu - _BRACKET_Z * comp.s).min(axis=0)
        hi_row = (comp.mu + _BRACKET_Z * comp.s).max(axis=0)
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
            out[rows, cols] = _solve_increasing(
                make_fun, x0, lo_row[rows], hi_row[rows], _XTOL_REL * smin[rows]
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
        c = _check_level(confidence, "confidence")
        n = len(self)
        q = np.empty((n, 2))
        q[:, 0] = 0.5 * (1.0 - c)
        q[:, 1] = 0.5 * (1.0 + c)
        bounds = self.ppf(q)
        return bounds[:, 0], bounds[:, 1]

    # ------------------------------------------------------------------ #
    # Critical points, modes and highest-density regions
    # ------------------------------------------------------------------ #
    @staticmethod
    def _critical_points(comp: _Components, n_uniform: int = _N_UNIFORM):
        """Local maxima and minima of the density of ``a`` mixtures.

        Returns ``(x, logp, curv, count)``: arrays of shape ``(a, W)`` with the
        critical points of every row sorted left to right (alternating maximum,
        minimum, maximum, ..., maximum; NaN-padded), their log density, the
        second derivative of the log density there, and the number ``count``
        (odd) of critical points per row.
        """
        a, K = len(comp), comp.n_components
        per_row = n_uniform + K * _STENCIL.size
        found = []
        for rows in _row_chunks(a, per_row):
            part = comp.take(rows)
            lo = part.mu.min(axis=0)
            hi = part.mu.max(axis=0)
            grid = np.linspace(0.0, 1.0, n_uniform)
            uniform = lo[:, None] + (hi - lo)[:, None] * grid
            stencil = part.mu.T[:, :, None] + part.s.T[:, :, None] * _STENCIL
            stencil = np.clip(stencil.reshape(lo.size, -1), lo[:, None], hi[:, None])
            nodes = np.sort(np.concatenate([uniform, stencil], axis=1), axis=1)
            _, g = part.logpdf(nodes, derivs=1)
            # The density increases left of the smallest mean and decreases
            # right of the largest one; forcing those signs guarantees at least
            # one maximum and a strict max/min alternation of the brackets.
            rising = g >= 0
            rising[:, 0] = True
            rising[:, -1] = False
            change = rising[:, :-1] != rising[:, 1:]
            r, j = np.nonzero(change)
            col = np.cumsum(change, axis=1)[r, j] - 1
            found.append(
                (
                    r + rows.start,
                    col,
                    nodes[r, j],
                    nodes[r, j + 1],
                    g[r, j],
                    g[r, j + 1],
                    rising[r, j],
                )
            )
        rows, cols, xl, xr, gl, gr, is_max = (np.concatenate(f) for f in zip(*found))
        count = np.bincount(rows, minlength=a)
        width = int(count.max())

        sub = comp.take(rows)
        # Orient d log p / dx so that it increases through every root.
        sign = np.where(is_max, -1.0, 1.0)

        def make_fun(idx):
            part, sgn = sub.take(idx), sign[idx]

            def fun(x):
                _, g1, h1 = part.logpdf(x, derivs=2)
                return sgn * g1, sgn * h1

            return fun

        with np.errstate(divide="ignore", invalid="ignore"):
            x0 = xl + (xr - xl) * gl / (gl - gr)  # regula falsi start
        xtol = _XTOL_REL * sub.s.min(axis=0)
        roots = _solve_increasing(make_fun, x0, xl, xr, xtol)
        logp, _, curv = sub.logpdf(roots, derivs=2)

        x_out = np.full((a, width), np.nan)
        lp_out = np.full((a, width), np.nan)
        curv_out = np.full((a, width), np.nan)
        x_out[rows, cols] = roots
        lp_out[rows, cols] = logp
        curv_out[rows, cols] = curv
        return x_out, lp_out, curv_out, count

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
        n, K = self.weights.shape
        if n == 0:
            return np.empty((0, K)), np.empty((0, K))
        x, lp, _, _ = self._critical_points(self._components())
        xm, lpm = x[:, 0::2], lp[:, 0::2]
        if x.shape[1] > 1:
            dip = lp[:, 1::2]
            flat = dip >= np.fmin(lpm[:, :-1], lpm[:, 1:]) - _MODE_MERGE_LOGTOL
            left_lower = lpm[:, :-1] < lpm[:, 1:]
            drop = np.zeros(xm.shape, dtype=bool)
            drop[:, :-1] |= flat & left_lower
            drop[:, 1:] |= flat & ~left_lower
            lpm = np.where(drop, np.nan, lpm)
        missing = np.isnan(lpm)
        order = np.argsort(np.where(missing, np.inf, -lpm), axis=1, kind="stable")
        locs = np.take_along_axis(np.where(missing, np.nan, xm), order, axis=1)
        dens = np.take_along_axis(np.exp(lpm), order, axis=1)
        width = max(K, int((~missing).sum(axis=1).max()))
        loc_out = np.full((n, width), np.nan)
        den_out = np.full((n, width), np.nan)
        w = min(width, locs.shape[1])
        loc_out[:, :w] = locs[:, :w]
        den_out[:, :w] = dens[:, :w]
        return loc_out, den_out

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
        Between consecutive critical points the density is monotone, so each
        crossing of level ``t`` is found by safeguarded Newton on ``log pdf``;
        ``log t`` itself is solved by safeguarded Newton on the exact mass
        ``sum over pieces of cdf(upper) - cdf(lower)``, whose derivative is
        known in closed form.  A bump narrower than the grid spacing shows up
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
        c = _check_level(coverage, "coverage")
        n = len(self)
        if n == 0:
            empty = np.empty(0)
            return HighestDensityRegion(
                np.empty((0, 1, 2)), np.empty(0, dtype=np.intp), empty, empty.copy()
            )
        parts = []
        for rows in _row_chunks(n, 1, _HDR_CHUNK):
            comp = self._components(rows)
            ends, thr, mass = self._hdr_rows(comp, self._critical_points(comp), c)
            todo = np.flatnonzero(np.abs(mass - c) > 1e-9)
            for n_uniform in _N_UNIFORM_RETRY:
                if todo.size == 0:
                    break
                sub = comp.take(todo)
                e2, t2, m2 = self._hdr_rows(
                    sub, self._critical_points(sub, n_uniform), c
                )
                better = np.abs(m2 - c) < np.abs(mass[todo] - c)
                fix = todo[better]
                if e2.shape[1] > ends.shape[1]:
                    pad = np.full((ends.shape[0], e2.shape[1] - ends.shape[1]), np.nan)
                    ends = np.concatenate([ends, pad], axis=1)
                ends[fix] = np.nan
                ends[fix, : e2.shape[1]] = e2[better]
                thr[fix], mass[fix] = t2[better], m2[better]
                todo = todo[np.abs(mass[todo] - c) > 1e-9]
            parts.append((ends, thr, mass))
        n_ends = np.concatenate([(~np.isnan(e)).sum(axis=1) for e, _, _ in parts])
        pieces = max(1, int(n_ends.max()) // 2)
        intervals = np.full((n, 2 * pieces), np.nan)
        start = 0
        for ends, _, _ in parts:
            take = min(2 * pieces, ends.shape[1])
            intervals[start : start + ends.shape[0], :take] = ends[:, :take]
            start += ends.shape[0]
        return HighestDensityRegion(
            intervals.reshape(n, pieces, 2),
            n_ends // 2,
            np.concatenate([t for _, t, _ in parts]),
            np.concatenate([m for _, _, m in parts]),
        )

    @staticmethod
    def _hdr_rows(comp: _Components, crit, coverage: float):
        """HDR of ``a`` mixtures given their critical points.

        Returns ``(ends, threshold, mass)``: the sorted crossing points of every
        row (``(a, W + 1)``, NaN-padded; consecutive pairs are the pieces), the
        density level and the mass enclosed.
        """
        x_c, lp_c, curv_c, count = crit
        a, width = x_c.shape
        ar = np.arange(a)
        n_seg = width + 1
        # Segment j runs from bounds[:, j] to bounds[:, j + 1]; the density
        # rises on even segments and falls on odd ones.
        bounds = np.full((a, width + 2), np.nan)
        bounds[:, 0] = (comp.mu - _BRACKET_Z * comp.s).min(axis=0)
        bounds[:, 1 : width + 1] = x_c
        bounds[ar, count + 1] = (comp.mu + _BRACKET_Z * comp.s).max(axis=0)
        lp_b = np.full((a, width + 2), np.nan)
        lp_b[:, 1 : width + 1] = lp_c
        lp_b[:, 0] = -np.inf
        lp_b[ar, count + 1] = -np.inf
        cdf_b = np.full((a, width + 2), np.nan)
        cdf_b[:, 1 : width + 1] = comp.cdf(np.nan_to_num(x_c))
        cdf_b[:, 0] = 0.0
        cdf_b[ar, count + 1] = 1.0
        seg_valid = np.arange(n_seg)[None, :] <= count[:, None]
        seg_mass = np.where(seg_valid, cdf_b[:, 1:] - cdf_b[:, :-1], 0.0)
        seg_lo = np.fmin(lp_b[:, :-1], lp_b[:, 1:])
        seg_hi = np.fmax(lp_b[:, :-1], lp_b[:, 1:])
        rising_seg = np.arange(n_seg) % 2 == 0
        # The mode bounding each segment, used for a first guess of crossings.
        mode_col = np.where(rising_seg, np.arange(n_seg), np.arange(n_seg) - 1)
        mode_col = np.clip(mode_col, 0, width - 1)
        smin = comp.s.min(axis=0)

        crossing = np.zeros((a, n_seg), dtype=bool)
        x_cross = np.full((a, n_seg), np.nan)
        mass_at = np.zeros(a)
        # Inexact Newton: while a row's mass is still far from the target its
        # crossings need not be exact (an error dx moves the mass by about
        # pdf * dx), which saves most inner iterations of the early steps.
        residual = np.ones(a)

        u_top = np.nanmax(lp_c, axis=1)

        # Both solves are shaped to be linear for a single Gaussian, where
        # Newton then converges at once.  Crossings solve phi(x) = phi* with
        # phi = sqrt(2 (log p(mode) - log p(x))) (|x - mu| / s for a Gaussian;
        # Newton on log p itself would crawl in from the tails).  The level
        # is v = sqrt(2 (u_top - log t)), and the equation for it is
        # Phi^-1((1 + mass(v)) / 2) = z (for a Gaussian, mass = 2 Phi(v) - 1).
        z = ndtri(0.5 * (1.0 + coverage))

        def mass_fun(idx, v, exact=False):
            # mass({pdf >= t(v)}) - coverage and its derivative in v.
            if isinstance(idx, slice):
                idx = ar[idx]
            u = u_top[idx] - 0.5 * v * v
            uu = u[:, None]
            valid = seg_valid[idx]
            full = valid & (uu <= seg_lo[idx])
            cross = valid & (uu > seg_lo[idx]) & (uu < seg_hi[idx])
            crossing[idx] = cross
            mass = np.sum(np.where(full, seg_mass[idx], 0.0), axis=1)
            inv_slope = np.zeros(idx.size)
            rr, jj = np.nonzero(cross)
            if rr.size:
                r = idx[rr]
                sub = comp.take(r)
                up = rising_seg[jj]
                sgn = np.where(up, 1.0, -1.0)
                mc = mode_col[jj]
                lp_mode = lp_c[r, mc]
                target = np.sqrt(2.0 * np.maximum(lp_mode - u[rr], 0.0))

                def make_level_fun(k):
                    part, sk, lm, tk = sub.take(k), sgn[k], lp_mode[k], target[k]

                    def fun(x):
                        lp, g = part.logpdf(x, derivs=1)
                        phi = np.sqrt(2.0 * np.maximum(lm - lp, 0.0))
                        with np.errstate(divide="ignore", invalid="ignore"):
                            return sk * (tk - phi), sk * g / phi

                    return fun

                x0 = x_cross[r, jj]
                fresh = np.isnan(x0)
                if np.any(fresh):
                    # Linear in phi: the Gaussian approximation at the mode.
                    rf, mf = r[fresh], mc[fresh]
                    with np.errstate(invalid="ignore", divide="ignore"):
                        dist = target[fresh] / np.sqrt(-curv_c[rf, mf])
                    x0[fresh] = np.where(
                        up[fresh], x_c[rf, mf] - dist, x_c[rf, mf] + dist
                    )
                lo, hi = bounds[r, jj], bounds[r, jj + 1]
                rel = (
                    _XTOL_REL if exact else np.clip(1e-2 * residual[r], _XTOL_REL, 1e-3)
                )
                x = _solve_increasing(make_level_fun, x0, lo, hi, rel * smin[r])
                x_cross[r, jj] = x
                _, g = sub.logpdf(x, derivs=1)
                F = sub.cdf(x)
                part = np.where(up, cdf_b[r, jj + 1] - F, F - cdf_b[r, jj])
                mass += np.bincount(rr, weights=part, minlength=idx.size)
                inv_slope = np.bincount(rr, weights=1.0 / np.abs(g), minlength=idx.size)
            mass_at[idx] = mass
            residual[idx] = np.abs(mass - coverage)
            # d mass / d log t = -t * sum 1 / |g| over the crossings.
            dmass = v * np.exp(u) * inv_slope
            h = ndtri(0.5 * (1.0 + np.clip(mass, 0.0, 1.0 - _EPS)))
            return h - z, dmass / (2.0 * _INV_SQRT_2PI * np.exp(-0.5 * h * h))

        # Bracket: at v = 0 (the highest mode) the region is empty; at v_hi it
        # contains [min(mu - z s), max(mu + z s)], which has mass >= coverage.
        edges = np.stack(
            [(comp.mu - z * comp.s).min(axis=0), (comp.mu + z * comp.s).max(axis=0)],
            axis=1,
        )
        u_lo = comp.logpdf(edges).min(axis=1)
        if width > 1:
            u_lo = np.minimum(u_lo, np.nanmin(lp_c[:, 1::2], axis=1, initial=np.inf))
        v_hi = np.sqrt(2.0 * np.maximum(u_top - u_lo, 0.0))
        # Start from the moment-matched Gaussian of standard deviation sd,
        # whose level is log t = -log(sd sqrt(2 pi)) - z^2 / 2: exact for one
        # component, and it adapts to peaked and to flat-topped mixtures.
        mean = np.sum(comp.w * comp.mu, axis=0)
        sd = np.sqrt(np.sum(comp.w * (comp.s**2 + (comp.mu - mean) ** 2), axis=0))
        v0 = np.sqrt(
            np.maximum(2.0 * (u_top + np.log(sd)) + 2.0 * _LOG_SQRT_2PI + z * z, 0.0)
        )
        v = _solve_increasing(
            lambda idx: partial(mass_fun, idx),
            np.minimum(v0, v_hi),
            np.zeros(a),
            v_hi,
            np.full(a, 1e-12),
            # |mass - coverage| <= 1e-10, in the units of the equation above.
            ftol=1e-10 / (2.0 * _INV_SQRT_2PI * np.exp(-0.5 * z * z)),
            compact_below=1.0,
        )
        # Rows stopped by ftol were last evaluated at their final level; the
        # others (a bracket collapsed on a jump of the mass) are re-evaluated.
        redo = np.flatnonzero(np.abs(mass_at - coverage) > 1e-10)
        if redo.size:
            mass_fun(redo, v[redo], exact=True)
        u = u_top - 0.5 * v * v
        ends = np.sort(np.where(crossing, x_cross, np.nan), axis=1)
        return ends, np.exp(u), mass_at

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
        if (
            isinstance(n_samples, (bool, np.bool_))
            or not isinstance(n_samples, numbers.Integral)
            or n_samples < 1
        ):
            raise ValueError(
                f"n_samples must be a positive integer; got {n_samples!r}."
            )
        n_samples = int(n_samples)
        if isinstance(random_state, np.random.Generator):
            rng = random_state
        else:
            rng = check_random_state(random_state)
        n, K = self.weights.shape
        u = rng.random((n, n_samples))
        noise = rng.standard_normal((n, n_samples))
        # Inverse-CDF choice of the component: draw u counts the cumulative
        # weights it reaches.  Dividing by the total makes the last one
        # exactly 1, so a zero weight (equal consecutive cumulative weights)
        # can never be chosen.
        cum = np.cumsum(self.weights, axis=1)
        cum /= cum[:, -1:]
        comp = np.zeros((n, n_samples), dtype=np.intp)
        for k in range(K - 1):
            comp += u >= cum[:, k, None]
        rows = np.arange(n)[:, None]
        return self.means[rows, comp] + self.scales[rows, comp] * noise
