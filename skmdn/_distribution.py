"""Predictive distribution of a mixture density network.

:class:`MixtureDistribution` holds a batch of one-dimensional Gaussian
mixtures, one mixture per row (one row per sample of ``X``).  Everything is
vectorised over rows with NumPy/SciPy; the only Python loops run over the
components, over fixed-size chunks of rows (to bound memory, or to share them
among threads), over groups of rows with the same number of critical points,
or over a bounded number of solver iterations.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_ndtr, logsumexp, ndtr, ndtri

from ._checks import EPS as _EPS
from ._checks import INV_SQRT_2PI as _INV_SQRT_2PI
from ._checks import LOG_SQRT_2PI as _LOG_SQRT_2PI
from ._checks import check_level as _check_level
from ._checks import check_n_samples as _check_n_samples
from ._checks import check_no_nan as _check_no_nan
from ._checks import check_probability as _check_probability
from ._checks import check_rng as _check_rng

__all__ = ["HighestDensityRegion", "MixtureDistribution"]


# Phi(-40) ~ 4e-350 underflows to 0 in float64, so every quantile, HDR endpoint
# or tail crossing that float64 can represent lies within 40 scales of a mean.
_BRACKET_Z = 40.0

# Number of (row, point) pairs evaluated per chunk.  Every component adds a few
# temporaries of this size; 2**16 float64 values (512 KiB) keep them in cache.
_CHUNK = 2**16

# Root finders work on all unknowns of up to this many (row, point) pairs at
# once: large enough to amortise the Python overhead of each iteration.
_SOLVER_CHUNK = 2**18
_HDR_CHUNK = 2**18  # rows per hdr() batch, to bound memory
# hdr() splits batches of at least twice _HDR_MIN_CHUNK rows across threads.
_HDR_THREADS = min(
    4,
    len(os.sched_getaffinity(0))
    if hasattr(os, "sched_getaffinity")
    else os.cpu_count() or 1,
)
_HDR_MIN_CHUNK = 2**13

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


# --------------------------------------------------------------------------- #
# Critical points and highest-density regions
# --------------------------------------------------------------------------- #
# The solvers below hold ``m`` unknowns for each of ``n`` mixtures in
# slot-major ``(m, n)`` arrays: the parameters of a mixture then broadcast
# along the slots without being gathered, and every reduction over the slots
# of a mixture is an element-wise operation between contiguous rows.  The
# mixtures are grouped by their number of critical points so that no slot is
# padding.  Their branch choices are written as arithmetic where the
# condition is unpredictable: ``np.where`` on a random mask costs about twenty
# times a multiplication.
_GROUP_SLOTS = 2**16  # unknowns per group batch: the working set stays in cache


def _sum0(a):
    """Sum over the first axis in a fixed order.

    ``np.sum(axis=0)`` may switch to pairwise summation for narrow arrays,
    which would make a mixture's result depend on how many others share its
    batch (and so on the threading of :meth:`MixtureDistribution.hdr`).
    """
    out = a[0].copy()
    for row in a[1:]:
        out += row
    return out


def _slot_eval(P, x, derivs=1):
    """Log density (and its first ``derivs`` derivatives) of mixtures ``P``.

    ``P`` is a ``(4, K, n)`` parameter stack (see :class:`_Components`) and
    ``x`` has shape ``(m, n)``; returns arrays of that shape.
    """
    _, mu, inv_s, log_coef = P
    K = mu.shape[0]
    zs, ts = [], []
    for k in range(K):
        z = x - mu[k]
        z *= inv_s[k]
        t = np.square(z)
        t *= -0.5
        t += log_coef[k]
        zs.append(z)
        ts.append(t)
    top = ts[0].copy()
    for k in range(1, K):
        np.maximum(top, ts[k], out=top)
    total = np.zeros_like(top)
    g = np.zeros_like(top) if derivs >= 1 else None
    h = np.zeros_like(top) if derivs >= 2 else None
    for k in range(K):
        e = np.exp(np.subtract(ts[k], top, out=ts[k]), out=ts[k])
        total += e
        if derivs == 1:
            ez = np.multiply(zs[k], e, out=zs[k])
            ez *= inv_s[k]
            g -= ez
        elif derivs >= 2:
            ez = e * zs[k]
            ez *= inv_s[k]
            g -= ez
            # e (z^2 - 1) / s^2
            ez *= zs[k]
            ez -= e * inv_s[k]
            ez *= inv_s[k]
            h += ez
    lp = np.log(total)
    lp += top
    if derivs == 0:
        return lp
    g /= total
    if derivs == 1:
        return lp, g
    h /= total
    h -= g * g
    return lp, g, h


def _slot_cdf(P, cols, x):
    """Mixture cdf at flat points ``x``; ``cols`` selects the mixture of each."""
    w, mu, inv_s, _ = P
    out = np.zeros(x.shape)
    for k in range(mu.shape[0]):
        out += w[k, cols] * ndtr((x - mu[k, cols]) * inv_s[k, cols])
    return np.clip(out, 0.0, 1.0, out=out)


def _node_slopes(P, nodes):
    """``d log p / dx`` of mixtures ``P`` ``(4, K, a)`` at ``nodes`` ``(a, m)``."""
    _, mu, inv_s, log_coef = P
    K = mu.shape[0]
    zs, ts = [], []
    for k in range(K):
        z = nodes - mu[k][:, None]
        z *= inv_s[k][:, None]
        t = np.square(z)
        t *= -0.5
        t += log_coef[k][:, None]
        zs.append(z)
        ts.append(t)
    top = ts[0].copy()
    for k in range(1, K):
        np.maximum(top, ts[k], out=top)
    total = np.zeros_like(top)
    g = np.zeros_like(top)
    for k in range(K):
        e = np.exp(np.subtract(ts[k], top, out=ts[k]), out=ts[k])
        total += e
        e *= zs[k]
        e *= inv_s[k][:, None]
        g -= e
    g /= total
    return g


def _grid_brackets(comp: _Components, n_uniform: int):
    """Bracket the critical points of every mixture on a derivative-sign grid.

    Returns ``count`` (odd, per mixture) and a ``(4, a, W)`` stack
    ``(left, right, d log p/dx at left, at right)`` of brackets sorted left
    to right, alternating maximum and minimum, NaN-padded.
    """
    a, K = len(comp), comp.n_components
    # The stencil nodes left of the smallest mean and right of the largest
    # are clipped onto the ends of the uniform grid: they are left out.
    half = _STENCIL.size // 2
    per_row = n_uniform + (K - 1) * _STENCIL.size
    found = []
    for rows in _row_chunks(a, per_row):
        part = comp.take(rows)
        n = len(part)
        ar = np.arange(n)
        lo = part.mu.min(axis=0)
        hi = part.mu.max(axis=0)
        grid = np.linspace(0.0, 1.0, n_uniform)
        uniform = lo[:, None] + (hi - lo)[:, None] * grid
        stencil = part.mu.T[:, :, None] + part.s.T[:, :, None] * _STENCIL
        keep = np.ones(stencil.shape, dtype=bool)
        keep[ar, part.mu.argmin(axis=0), :half] = False
        keep[ar, part.mu.argmax(axis=0), half:] = False
        stencil = np.clip(stencil[keep].reshape(n, -1), lo[:, None], hi[:, None])
        nodes = np.sort(np.concatenate([uniform, stencil], axis=1), axis=1)
        g = _node_slopes(part.params, nodes)
        # The density increases left of the smallest mean and decreases
        # right of the largest one; forcing those signs guarantees at least
        # one maximum and a strict max/min alternation of the brackets.
        rising = g >= 0
        rising[:, 0] = True
        rising[:, -1] = False
        change = rising[:, :-1] != rising[:, 1:]
        r, j = np.nonzero(change)
        # bracket index within its row: position in the row-major list
        first = np.searchsorted(r, np.arange(n))
        col = np.arange(r.size) - first[r]
        found.append(
            (r + rows.start, col, nodes[r, j], nodes[r, j + 1], g[r, j], g[r, j + 1])
        )
    rows, cols, *ends = (np.concatenate(f) for f in zip(*found))
    count = np.bincount(rows, minlength=a)
    out = np.full((4, a, int(count.max())), np.nan)
    for i, val in enumerate(ends):
        out[i, rows, cols] = val
    return count, out


def _count_groups(count, per_slot: int = 1):
    """Yield ``(c, rows)``: batches of mixtures with ``c`` critical points."""
    for c in np.unique(count):
        rows_c = np.flatnonzero(count == c)
        step = max(1, _GROUP_SLOTS // (c + per_slot))
        for start in range(0, rows_c.size, step):
            yield int(c), rows_c[start : start + step]


def _refine_critical(P, br, maxiter: int = 100):
    """Newton-bisection on ``d log p / dx`` inside the brackets ``br``.

    ``br`` is a ``(4, c, n)`` slot-major bracket stack of ``n`` mixtures with
    ``c`` critical points each.  Returns their location, log density and
    second derivative of the log density, each of shape ``(c, n)``.
    """
    xl, xr, gl, gr = br
    c, n = xl.shape
    # Orient d log p / dx to increase through every root (maxima come first).
    sign = np.where(np.arange(c) % 2 == 0, -1.0, 1.0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        x = xl + (xr - xl) * gl / (gl - gr)  # regula falsi start
    x = np.where((x > xl) & (x < xr), x, 0.5 * (xl + xr))
    lo, hi = xl.copy(), xr.copy()
    xtol = _XTOL_REL / P[2].max(axis=0)
    last = np.full((c, n), np.inf)  # the last two steps
    last2 = np.full((c, n), np.inf)
    out = np.empty((3, c, n))
    cols = np.arange(n)
    live = np.ones(n, bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for it in range(maxiter):
            lp, g, h = _slot_eval(P, x, 2)
            f = sign * g
            neg = (f < 0).astype(float)
            lo += neg * (x - lo)
            hi += (1.0 - neg) * (x - hi)
            step = -g / h
            # rtsafe: Newton while it stays in the bracket and the steps
            # shrink fast enough, bisection otherwise
            ok = (x + step >= lo) & (x + step <= hi) & (np.abs(2.0 * step) <= last2)
            small = np.abs(step) <= xtol
            # Newton converges quadratically: a step of s after one of t
            # leaves an error of about s^3 / t^2.
            size = np.abs(step)
            small |= (
                ok & (size <= 0.1 * last) & (size**3 <= xtol * last * last) & (it > 0)
            )
            xn = np.where(ok | small, x + step, 0.5 * (lo + hi))
            done = live & np.all(small | (hi - lo <= xtol), axis=0)
            if it == maxiter - 1:
                done = live
            if done.any():
                d = (xn - x)[:, done]
                idx = cols[done]
                out[0][:, idx] = xn[:, done]
                # the log density at the root, from the last evaluation
                out[1][:, idx] = lp[:, done] + d * (g[:, done] + 0.5 * h[:, done] * d)
                out[2][:, idx] = h[:, done]
                live &= ~done
                n_live = np.count_nonzero(live)
                if n_live == 0:
                    break
                if n_live < 0.5 * live.size:
                    keep = live
                    P, xtol, cols, live = (
                        P[:, :, keep],
                        xtol[keep],
                        cols[keep],
                        live[keep],
                    )
                    xn, x, lo, hi, last = (v[:, keep] for v in (xn, x, lo, hi, last))
            last2 = last
            last = np.abs(xn - x)
            x = xn
    return out


class _Segments:
    """The monotone segments of ``n`` mixtures and the level equation.

    ``crit`` is the slot-major ``(3, C, n)`` stack of critical points
    (location, log density, second derivative of the log density), of which
    the first ``count`` are valid for each mixture.  Segment ``s`` (of
    ``C + 1``) runs between critical points ``s - 1`` and ``s`` (or the
    ``+-40`` scale limits); the density rises on even segments, so their
    crossing of a level is a left end, and falls on odd ones.  Arrays are
    ``(C + 1, n)``: the log density at the segment's mode ``L`` and at its
    other ("far") end ``A``; segments past a mixture's last one (only when
    counts differ) get ``A > L``, an empty level range.

    The level is ``u = u_top - v^2 / 2`` (``u_top``: the highest mode) and its
    equation is ``H = Phi^-1((1 + mass) / 2) - z = 0`` with
    ``z = Phi^-1((1 + coverage) / 2)``: linear in ``v`` for a Gaussian.
    """

    def __init__(self, P, crit, count, coverage):
        C, n = crit.shape[1:]
        S = C + 1
        w, mu, inv_s, _ = P
        s = 1.0 / inv_s
        self.z = z = ndtri(0.5 * (1.0 + coverage))
        self.coverage = coverage
        # |mass - coverage| <= 1e-10, in the units of H.
        self.ftol = 1e-10 / (2.0 * _INV_SQRT_2PI * np.exp(-0.5 * z * z))
        lims = np.stack(
            [(mu - _BRACKET_Z * s).min(axis=0), (mu + _BRACKET_Z * s).max(axis=0)]
        )
        lp_lims = _slot_eval(P, lims, 0)
        past = np.arange(S + 1)[:, None] > count
        bx = np.where(past, lims[1], np.concatenate([lims[:1], crit[0], lims[1:]]))
        blp = np.where(
            past, lp_lims[1], np.concatenate([lp_lims[:1], crit[1], lp_lims[1:]])
        )
        nan_row = np.full((1, n), np.nan)
        bcv = np.concatenate([nan_row, crit[2], nan_row])
        rise = np.arange(S) % 2 == 0
        far = np.where(rise, np.arange(S), np.arange(S) + 1)
        peak = np.where(rise, np.arange(S) + 1, np.arange(S))
        self.sg = np.where(rise, -1.0, 1.0)[:, None]
        self.L = blp[peak]
        self.A = np.where(past[:-1], self.L + 1.0, blp[far])
        self.hRR = 0.5 * (self.L - self.A)
        self.lo, self.hi = bx[:-1], bx[1:]
        self.far_x, self.peak_x = bx[far], bx[peak]
        self.cv_far, self.cv_peak = bcv[far], bcv[peak]
        self.u_top = np.fmax.reduce(crit[1, 0::2], axis=0)
        self.xtol = _XTOL_REL * s.min(axis=0)
        # |p''''| / 720 <= herm: the Hermite update errs by at most herm * D^5.
        self.herm = 1.197 / 720.0 * _sum0(w * inv_s**5)
        # Bracket of v: the region is empty at v = 0 and, at v_hi, contains
        # [min(mu - z s), max(mu + z s)], which has mass >= coverage.
        edges = np.stack([(mu - z * s).min(axis=0), (mu + z * s).max(axis=0)])
        u_lo = _slot_eval(P, edges, 0).min(axis=0)
        if C > 1:
            u_lo = np.fmin(u_lo, np.fmin.reduce(crit[1, 1::2], axis=0))
        self.v_hi = np.sqrt(2.0 * np.maximum(self.u_top - u_lo, 0.0))
        # Start from the moment-matched Gaussian: exact for one component.
        mean = _sum0(w * mu)
        sd = np.sqrt(_sum0(w * (s * s + (mu - mean) ** 2)))
        v0 = 2.0 * (self.u_top + np.log(sd)) + 2.0 * _LOG_SQRT_2PI + z * z
        self.v0 = np.minimum(np.sqrt(np.maximum(v0, 0.0)), self.v_hi)

    def guess(self, si, ci, u):
        """First guess for the crossings of level ``u`` (one per point) on
        segments ``si`` of mixtures ``ci``: a Gaussian approximation at the
        segment end nearer in level, kept inside the segment."""
        at = u - self.A[si, ci]
        bt = self.L[si, ci] - u
        far_x, peak_x = self.far_x[si, ci], self.peak_x[si, ci]
        cv_far = self.cv_far[si, ci]
        sgn = self.sg[si, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            guess = np.where(
                (at < bt) & np.isfinite(cv_far),
                far_x - sgn * np.sqrt(2.0 * at / cv_far),
                peak_x + sgn * np.sqrt(2.0 * bt / -self.cv_peak[si, ci]),
            )
        lo = np.fmin(far_x, peak_x)
        hi = np.fmax(far_x, peak_x)
        guess = np.clip(guess, 0.95 * lo + 0.05 * hi, 0.05 * lo + 0.95 * hi)
        return np.where(np.isfinite(guess), guess, 0.5 * (lo + hi))

    def guess_all(self, u):
        """:meth:`guess` for every segment at the levels ``u`` ``(n,)``."""
        S, n = self.A.shape
        si, ci = np.divmod(np.arange(S * n), n)
        return self.guess(si, ci, u[ci]).reshape(S, n)


_LEAN_ITER = 20  # iterations of the fast pass; the rest is redone safely
_SAFE_ITER = 200


def _hdr_lean(P, seg, n, maxiter=_LEAN_ITER):
    """Fast pass of the HDR solve (the safe one is :func:`_hdr_safe`).

    The level and the crossings are solved jointly: every iteration evaluates
    the density once at each crossing and takes a Newton step for each
    crossing at the current level (see :func:`_hdr_safe` for the equation)
    and, for the mixtures whose crossings are close enough for the mass to be
    reliable, a safeguarded Newton step on the level.  Crossings are only kept
    inside their segment.  Returns ``(x, u, mass, ok)`` as :func:`_hdr_safe`,
    with ``ok`` False for the mixtures left over.
    """
    S = seg.A.shape[0]
    z, ftol = seg.z, seg.ftol
    out_x = np.full((S, n), np.nan)
    out_u = np.full(n, np.nan)
    out_m = np.full(n, np.nan)
    out_ok = np.zeros(n, bool)
    v = seg.v0
    u = seg.u_top - 0.5 * v * v
    act = (u > seg.A) & (u < seg.L)
    x = seg.guess_all(u)
    lo9, hi9 = 0.9 * seg.lo, 0.9 * seg.hi
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # A few Newton steps for the crossings at the first level: they start
        # from rough guesses, and these steps need no cdf.
        ra = np.sqrt(np.abs(u - seg.A))
        rb = np.sqrt(np.abs(seg.L - u))
        Tt = ra / (ra + rb)
        for _ in range(3):
            x = _crossing_step(P, seg.A, seg.L, seg.hRR, x, Tt, act, lo9, hi9)[0]
    R = {
        "v": v,
        "v_lo": np.zeros(n),
        "v_hi": seg.v_hi.copy(),
        "h_lo": np.full(n, -z),
        "h_hi": np.full(n, np.nan),
        "step1": np.full(n, np.inf),
        "step2": np.full(n, np.inf),
        "width": np.full(n, np.inf),
        "n_ready": np.zeros(n, np.intp),
        "h_prev": np.full(n, np.inf),
        "live": np.ones(n, bool),
        "u_top": seg.u_top,
        "xtol": seg.xtol,
        # steps up to dlim keep the Hermite error herm * D^5 below 1e-14
        # (1e-7 for dlim7, enough while the level is far)
        "dlim": (1e-14 / seg.herm) ** 0.2,
        "dlim7": (1e-7 / seg.herm) ** 0.2,
        "close": np.zeros(n, bool),
        "v_max": seg.v_hi,
        "idx": np.arange(n),
    }
    Q = {
        "x": x,
        "was": act,
        "ref": np.zeros((S, n), bool),
        "xe": x.copy(),
        "Fe": np.zeros((S, n)),
        "pe": np.zeros((S, n)),
        "qe": np.zeros((S, n)),
        "exact": np.zeros((S, n), bool),
        "A": seg.A,
        "L": seg.L,
        "hRR": seg.hRR,
        "lo9": lo9,
        "hi9": hi9,
    }
    sg = seg.sg
    Pl = P
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(maxiter):
            n_ = R["v"].size
            live = R["live"]
            v = R["v"]
            u = R["u_top"] - 0.5 * v * v
            A, L, hRR, lo9, hi9 = Q["A"], Q["L"], Q["hRR"], Q["lo9"], Q["hi9"]
            act = (u > A) & (u < L)
            ra = np.sqrt(np.abs(u - A))
            rb = np.sqrt(np.abs(L - u))
            rab = ra + rb
            x = Q["x"]
            fresh = act & ~Q["was"]
            if fresh.any():
                si, ci = np.nonzero(fresh)
                x = x.copy()
                x[si, ci] = seg.guess(si, R["idx"][ci], u[ci])
                Q["ref"] = Q["ref"] & ~fresh
            xn, xr, lp, g, dxdT = _crossing_step(
                Pl, A, L, hRR, x, ra / rab, act, lo9, hi9
            )
            dx = xn - x
            res = np.abs(g * dx)  # change of log p over the step
            # converged: the step is below xtol (or the spacing of floats
            # at x), or log p is within rounding of the level
            xtol = np.maximum(R["xtol"], 4.0 * _EPS * np.abs(x))
            conv = res <= np.maximum(xtol * np.abs(g), 8.0 * _EPS * (np.abs(lp) + 1.0))
            all_conv = np.all(conv | ~act, axis=0)
            ready = live & np.all(((res <= 0.05) & (xn == xr)) | ~act, axis=0)
            if ready.any():
                actf = act.astype(float)
                p = np.exp(lp) * actf
                q = p * g
                # The cdf is carried by Hermite quadrature from the last
                # evaluation.  It is evaluated exactly at a new crossing and,
                # once the level is close, wherever a step since the last
                # exact value was longer than dlim (the long early steps may
                # leave errors of order herm * D^5).
                D = x - Q["xe"]
                F = Q["Fe"] + D * (0.5 * (Q["pe"] + p) + D / 12.0 * (Q["qe"] - q))
                upd = act & ready
                aD = np.abs(D)
                exact = Q["exact"] & (aD <= R["dlim"])
                # Once the level is close (for good), the bracket built from
                # the approximate masses before is dropped.
                close = R["close"] | (np.abs(R["h_prev"]) <= 1e-3)
                fresh_close = ready & close & ~R["close"]
                if fresh_close.any():
                    R["v_lo"] = np.where(fresh_close, 0.0, R["v_lo"])
                    R["v_hi"] = np.where(fresh_close, R["v_max"], R["v_hi"])
                    R["h_lo"] = np.where(fresh_close, -z, R["h_lo"])
                    R["h_hi"] = np.where(fresh_close, np.nan, R["h_hi"])
                R["close"] = close
                need = upd & (~Q["ref"] | (close & ~exact) | (aD > R["dlim7"]))
                if need.any():
                    flat = np.flatnonzero(need)
                    F.flat[flat] = _slot_cdf(Pl, flat % n_, x.flat[flat])
                for key, val in (("xe", x), ("Fe", F), ("pe", p), ("qe", q)):
                    Q[key] = np.where(upd, val, Q[key])
                Q["ref"] = Q["ref"] | upd
                Q["exact"] = np.where(upd, exact | need, Q["exact"])
                synced = ready & close
                dxdv = (-v * hRR / (ra * rb * rab * rab)) * dxdT * actf
                dxdv[~np.isfinite(dxdv)] = 0.0
                sp = sg * p
                mass = _sum0(sg * F * actf + sp * dx)
                dmass = _sum0(sp * dxdv)
                hm = ndtri(0.5 * (1.0 + np.clip(mass, 0.0, 1.0 - _EPS)))
                H = hm - z
                dH = dmass / (2.0 * _INV_SQRT_2PI * np.exp(-0.5 * hm * hm))
                ready &= np.isfinite(H) & np.isfinite(dH)
                vnew, dv = _level_step(R, ready, v, H, dH)
                done = synced & all_conv & (np.abs(H) <= ftol)
                # Newton converges quadratically: once the previous step took
                # H from h_prev to H, the next leaves about H^3 / h_prev^2;
                # stop at the predicted point when that and the crossing
                # steps are negligible.
                final = (
                    synced
                    & ~done
                    & (np.abs(H) <= 1e-4)
                    & (np.abs(H) ** 3 <= 1e-3 * ftol * R["h_prev"] ** 2)
                )
                shift = dxdv * dv
                if final.any():
                    smin = R["xtol"] / _XTOL_REL
                    final &= np.max(np.abs(dx), axis=0) <= 1e-7 * smin
                    final &= np.max(shift * shift, axis=0) <= R["xtol"] * smin
                # Far out (|x| >> s) the rounding of x alone moves the cdf by
                # p |x| eps: there the mass is re-evaluated at the returned
                # crossings and no step is taken on a prediction.
                noisy = np.max(p * np.abs(x), axis=0) * _EPS > 1e-14
                final &= ~noisy
                redo = done & noisy
                if redo.any():
                    flat = np.flatnonzero(act & redo)
                    F.flat[flat] = _slot_cdf(Pl, flat % n_, xn.flat[flat])
                    mass = np.where(redo, _sum0(sg * F * actf), mass)
                R["h_prev"] = np.where(ready, H, R["h_prev"])
                R["v"] = vnew
                xp = np.fmin(np.fmax(xn + shift, lo9 + 0.1 * xn), hi9 + 0.1 * xn)
                fin = done | final
                if fin.any():
                    idx = R["idx"][fin]
                    vf = np.where(done, v, vnew)[fin]
                    out_u[idx] = R["u_top"][fin] - 0.5 * vf * vf
                    out_m[idx] = np.where(done, mass, mass + dmass * dv)[fin]
                    xs = np.where(done, xn, xp)
                    out_x[:, idx] = np.where(act, xs, np.nan)[:, fin]
                    out_ok[idx] = True
                    R["live"] = live & ~fin
                xn = xp
            Q["x"] = xn
            Q["was"] = act
            n_live = np.count_nonzero(R["live"])
            if n_live == 0:
                break
            if n_live < 0.5 * n_:
                keep = R["live"]
                for key in R:
                    R[key] = R[key][keep]
                for key in Q:
                    Q[key] = Q[key][:, keep]
                Pl = Pl[:, :, keep]
    return out_x, out_u, out_m, out_ok


def _crossing_step(P, A, L, hRR, x, Tt, act, lo9, hi9):
    """One Newton step for every crossing at its level, in ``T`` (see
    :func:`_hdr_safe`); slots off the level stay.  The step stops short of
    the segment's ends (``lo9``, ``hi9``: 0.9 times them), as Newton can
    overshoot on a shoulder of the density.

    Returns ``(new x, unclamped x, log p, d log p / dx, dx / dT)``."""
    lp, g = _slot_eval(P, x, 1)
    a = np.sqrt(np.abs(lp - A))
    b = np.sqrt(np.abs(L - lp))
    ab = a + b
    dxdT = a * b * ab * ab / (g * hRR)
    xr = x + (Tt - a / ab) * dxdT * act
    xn = np.fmin(np.fmax(xr, lo9 + 0.1 * x), hi9 + 0.1 * x)
    return xn, xr, lp, g, dxdT


def _level_step(R, ready, v, H, dH):
    """Safeguarded Newton step on v for the ``ready`` mixtures (rtsafe).

    Updates the bracket and step history in ``R``; returns the new v and the
    step.  Newton is taken inside the bracket while the steps shrink fast
    enough, else regula falsi once the bracket halves every two steps, else
    bisection.
    """
    up = ready & (H < 0)
    dn = ready & (H >= 0)
    v_lo = np.where(up, v, R["v_lo"])
    h_lo = np.where(up, H, R["h_lo"])
    v_hi = np.where(dn, v, R["v_hi"])
    h_hi = np.where(dn, H, R["h_hi"])
    width = v_hi - v_lo
    n_ready = R["n_ready"] + ready
    step = -H / dH
    newton = v + step
    # v is now an end of the bracket and a converged step may land on it:
    # the test is inclusive
    ok_newton = (
        (newton >= v_lo)
        & (newton <= v_hi)
        & ((np.abs(2.0 * step) <= np.abs(R["step2"])) | (n_ready <= 2))
    )
    sec = v_lo - h_lo * width / (h_hi - h_lo)
    ok_sec = (sec > v_lo) & (sec < v_hi) & (width <= 0.5 * R["width"])
    alt = np.where(ok_sec, sec, 0.5 * (v_lo + v_hi))
    vnew = np.where(ready, np.where(ok_newton, newton, alt), v)
    dv = vnew - v
    R.update(
        v_lo=v_lo,
        v_hi=v_hi,
        h_lo=h_lo,
        h_hi=h_hi,
        n_ready=n_ready,
        width=np.where(ready, width, R["width"]),
        step2=np.where(ready, R["step1"], R["step2"]),
        step1=np.where(ready, dv, R["step1"]),
    )
    return vnew, dv


def _hdr_safe(P, seg, n, maxiter=_SAFE_ITER):
    """Safe HDR solve: every crossing keeps a bracket (valid at every level,
    since ``T`` below does not depend on it) with a regula falsi or bisection
    fallback, the cdf is always evaluated exactly, and the level moves only
    once the crossings are close enough for the sign of the mass error to be
    certain, so that every update of its bracket is right.

    A crossing of level ``u`` on a segment solves ``T(log p(x)) = T(u)`` with
    ``T(l) = a / (a + b)``, ``a = sqrt(l - A)``, ``b = sqrt(L - l)``: linear in
    ``x`` near both ends of the segment and along a Gaussian tail.

    Returns ``(x, u, mass, ok)``: the crossing points ``(C + 1, n)`` (NaN
    where a segment is not crossed), the level, the mass and convergence
    flags.
    """
    S = seg.A.shape[0]
    z, ftol = seg.z, seg.ftol
    sg = seg.sg
    out_x = np.full((S, n), np.nan)
    out_u = np.full(n, np.nan)
    out_m = np.full(n, np.nan)
    out_ok = np.zeros(n, bool)
    R = {
        "v": seg.v0.copy(),
        "v_lo": np.zeros(n),
        "v_hi": seg.v_hi.copy(),
        "h_lo": np.full(n, -z),
        "h_hi": np.full(n, np.nan),
        "step1": np.full(n, np.inf),
        "step2": np.full(n, np.inf),
        "width": np.full(n, np.inf),
        "n_ready": np.zeros(n, np.intp),
        "live": np.ones(n, bool),
        "u_top": seg.u_top,
        "xtol": seg.xtol,
        "idx": np.arange(n),
    }
    x0 = 0.5 * (seg.far_x + seg.peak_x)
    Q = {
        "x": x0,
        "was": np.zeros((S, n), bool),
        "A": seg.A,
        "L": seg.L,
        "hRR": seg.hRR,
        "far_x": seg.far_x,
        "peak_x": seg.peak_x,
        "xP": seg.far_x.copy(),
        "TP": np.zeros((S, n)),
        "xQ": seg.peak_x.copy(),
        "TQ": np.ones((S, n)),
        "fb": np.zeros((S, n), bool),
        "cols": np.broadcast_to(np.arange(n), (S, n)),
    }
    Pl = P
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for it in range(maxiter):
            n_ = R["v"].size
            v = R["v"]
            u = R["u_top"] - 0.5 * v * v
            A, L, hRR = Q["A"], Q["L"], Q["hRR"]
            at = u - A
            bt = L - u
            act = (at > 0) & (bt > 0)
            ra = np.sqrt(np.abs(at))
            rb = np.sqrt(np.abs(bt))
            Tt = ra / (ra + rb)
            x = Q["x"]
            fresh = act & ~Q["was"]
            if fresh.any():
                si, ci = np.nonzero(fresh)
                x = x.copy()
                x[si, ci] = seg.guess(si, Q["cols"][si, ci], u[ci])
                for key, val in (
                    ("xP", Q["far_x"]),
                    ("TP", 0.0),
                    ("xQ", Q["peak_x"]),
                    ("TQ", 1.0),
                ):
                    Q[key] = np.where(fresh, val, Q[key])
                Q["fb"] = Q["fb"] & ~fresh
            # A bracket end on the wrong side of the new level becomes the
            # other end; the segment end takes its place.
            drop = act & (Tt < Q["TP"])
            if drop.any():
                Q["xQ"] = np.where(drop, Q["xP"], Q["xQ"])
                Q["TQ"] = np.where(drop, Q["TP"], Q["TQ"])
                Q["xP"] = np.where(drop, Q["far_x"], Q["xP"])
                Q["TP"] = np.where(drop, 0.0, Q["TP"])
            rose = act & (Tt > Q["TQ"])
            if rose.any():
                Q["xP"] = np.where(rose, Q["xQ"], Q["xP"])
                Q["TP"] = np.where(rose, Q["TQ"], Q["TP"])
                Q["xQ"] = np.where(rose, Q["peak_x"], Q["xQ"])
                Q["TQ"] = np.where(rose, 1.0, Q["TQ"])
            out = act & ((x - Q["xP"]) * (x - Q["xQ"]) > 0)
            if out.any():
                x = np.where(out, _regula_falsi(Q, Tt), x)
            lp, g = _slot_eval(Pl, x, 1)
            a = np.sqrt(np.abs(lp - A))
            b = np.sqrt(np.abs(L - lp))
            ab = a + b
            T = a / ab
            dxdT = a * b * ab * ab / (g * hRR)
            actf = act.astype(float)
            dx = (Tt - T) * dxdT * actf  # slots off the level stay put
            res = np.abs(g * dx)
            # converged: the step is below xtol (or the spacing of floats
            # at x), or log p is within rounding of the level
            xtol = np.maximum(R["xtol"], 4.0 * _EPS * np.abs(x))
            conv = res <= np.maximum(xtol * np.abs(g), 8.0 * _EPS * (np.abs(lp) + 1.0))
            below = (act & (T < Tt)).astype(float)
            above = actf - below
            Q["xP"] = Q["xP"] + below * (x - Q["xP"])
            Q["TP"] = Q["TP"] + below * (T - Q["TP"])
            Q["xQ"] = Q["xQ"] + above * (x - Q["xQ"])
            Q["TQ"] = Q["TQ"] + above * (T - Q["TQ"])
            xn = x + dx
            bad = act & ~conv & ((xn - Q["xP"]) * (xn - Q["xQ"]) > 0)
            if bad.any():
                xn = np.where(bad, _regula_falsi(Q, Tt), xn)
            Q["fb"] = bad
            conv |= np.abs(Q["xQ"] - Q["xP"]) <= xtol
            dx = xn - x
            all_conv = np.all(conv | ~act, axis=0)
            # Near-converged crossings (Newton steps inside their brackets
            # changing log p by < 0.05) give a mass whose sign against the
            # coverage is certain when the first-order correction is small
            # against their difference: only then does the level move.
            near = R["live"] & np.all(((res <= 0.05) & ~bad) | ~act, axis=0)
            ready = near & all_conv
            if near.any():
                F = np.zeros((S, n_))
                flat = np.flatnonzero(act & near)
                F.flat[flat] = _slot_cdf(Pl, flat % n_, x.flat[flat])
                p = np.exp(lp) * actf
                dxdv = np.where(
                    act, (-v * hRR / (ra * rb * (ra + rb) ** 2)) * dxdT, 0.0
                )
                mass = _sum0(sg * (F + p * dx))
                unc = _sum0(p * np.abs(dx))
                ready |= near & (4.0 * unc <= np.abs(mass - seg.coverage))
                dmass = _sum0(sg * p * dxdv)
                hm = ndtri(0.5 * (1.0 + np.clip(mass, 0.0, 1.0 - _EPS)))
                H = hm - z
                dH = dmass / (2.0 * _INV_SQRT_2PI * np.exp(-0.5 * hm * hm))
                vnew, dv = _level_step(R, ready, v, H, dH)
                # Converged, or stuck on a jump of the mass (a bump missed by
                # the grid: the caller retries on a finer one).
                consistent = ready & all_conv
                done = consistent & (
                    (np.abs(H) <= ftol) | (R["v_hi"] - R["v_lo"] <= 1e-12)
                )
                # as in _hdr_lean: where rounding of x moves the cdf, the
                # mass is that of the returned crossings
                noisy = consistent & (np.max(p * np.abs(x), axis=0) * _EPS > 1e-14)
                if noisy.any():
                    flat = np.flatnonzero(act & noisy)
                    F.flat[flat] = _slot_cdf(Pl, flat % n_, xn.flat[flat])
                    mass = np.where(noisy, _sum0(sg * F), mass)
                if consistent.any():
                    # the last state with converged crossings is the answer
                    # if the iterations run out
                    idx = R["idx"][consistent]
                    out_u[idx] = R["u_top"][consistent] - 0.5 * v[consistent] ** 2
                    out_m[idx] = mass[consistent]
                    out_x[:, idx] = np.where(act, xn, np.nan)[:, consistent]
                    out_ok[idx] = done[consistent]
                    R["live"] = R["live"] & ~done
                R["v"] = vnew
                xn = xn + dxdv * dv
            Q["x"] = xn
            Q["was"] = act
            if it == maxiter - 1:
                # Out of iterations without a converged state (not seen in
                # tests): the current crossings; the caller measures their
                # mass.
                lost = R["live"] & np.isnan(out_u[R["idx"]])
                idx = R["idx"][lost]
                out_u[idx] = R["u_top"][lost] - 0.5 * v[lost] ** 2
                out_x[:, idx] = np.where(act, x, np.nan)[:, lost]
            n_live = np.count_nonzero(R["live"])
            if n_live == 0:
                break
            if n_live < 0.5 * n_:
                keep = R["live"]
                for key in R:
                    R[key] = R[key][keep]
                for key in Q:
                    Q[key] = Q[key][:, keep]
                Pl = Pl[:, :, keep]
    return out_x, out_u, out_m, out_ok


def _regula_falsi(Q, Tt):
    """Interpolate the crossing in ``T`` between its bracket ends; bisect if
    the last step already fell back (regula falsi can stall)."""
    f = (Tt - Q["TP"]) / (Q["TQ"] - Q["TP"])
    f = np.where((f >= 0.0) & (f <= 1.0) & ~Q["fb"], f, 0.5)
    return Q["xP"] + f * (Q["xQ"] - Q["xP"])


def _hdr_rows(comp: _Components, coverage: float, n_uniform: int):
    """HDR of ``a`` mixtures: ``(ends, threshold, mass)``.

    ``ends`` ``(a, W + 1)`` holds every row's sorted crossing points,
    NaN-padded; consecutive pairs are the pieces.
    """
    a = len(comp)
    count, br = _grid_brackets(comp, n_uniform)
    width = br.shape[2]
    crit = np.full((3, width, a), np.nan)
    ends = np.full((a, width + 1), np.nan)
    level = np.full(a, np.nan)
    mass = np.full(a, np.nan)
    left = []
    for c, rows in _count_groups(count):
        P = np.take(comp.params, rows, axis=2)
        cr = _refine_critical(
            P, np.ascontiguousarray(br[:, rows, :c].transpose(0, 2, 1))
        )
        crit[:, :c, rows] = cr
        x, u, m, ok = _hdr_lean(P, _Segments(P, cr, c, coverage), rows.size)
        done = rows[ok]
        ends[done, : c + 1] = np.sort(x[:, ok].T, axis=1)
        level[done], mass[done] = u[ok], m[ok]
        left.append(rows[~ok])
    rows = np.concatenate(left)
    if rows.size:
        P = np.take(comp.params, rows, axis=2)
        seg = _Segments(P, crit[:, :, rows], count[rows], coverage)
        x, u, m, _ = _hdr_safe(P, seg, rows.size)
        ends[rows] = np.sort(x.T, axis=1)
        level[rows], mass[rows] = u, m
    lost = np.flatnonzero(np.isnan(mass))
    if lost.size:
        # out of iterations (not seen in tests): report the mass enclosed
        sub = comp.take(lost)
        cdf = sub.cdf(np.nan_to_num(ends[lost]))
        sign = np.where(np.arange(ends.shape[1]) % 2 == 0, -1.0, 1.0)
        mass[lost] = np.sum(np.where(np.isnan(ends[lost]), 0.0, sign * cdf), axis=1)
    return ends, np.exp(level), mass


def _hdr_chunk(comp: _Components, coverage: float):
    """:func:`_hdr_rows`, redone on finer grids for the rows whose mass
    misses the coverage: a bump narrower than the grid spacing shows up as a
    jump in the mass."""
    ends, thr, mass = _hdr_rows(comp, coverage, _N_UNIFORM)
    todo = np.flatnonzero(np.abs(mass - coverage) > 1e-9)
    for n_uniform in _N_UNIFORM_RETRY:
        if todo.size == 0:
            break
        e2, t2, m2 = _hdr_rows(comp.take(todo), coverage, n_uniform)
        better = np.abs(m2 - coverage) < np.abs(mass[todo] - coverage)
        fix = todo[better]
        if e2.shape[1] > ends.shape[1]:
            pad = np.full((ends.shape[0], e2.shape[1] - ends.shape[1]), np.nan)
            ends = np.concatenate([ends, pad], axis=1)
        ends[fix] = np.nan
        ends[fix, : e2.shape[1]] = e2[better]
        thr[fix], mass[fix] = t2[better], m2[better]
        todo = todo[np.abs(mass[todo] - coverage) > 1e-9]
    return ends, thr, mass


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
        count, br = _grid_brackets(comp, n_uniform)
        out = np.full((3, len(comp), br.shape[2]), np.nan)
        for c, rows in _count_groups(count, 0):
            P = np.take(comp.params, rows, axis=2)
            crit = _refine_critical(
                P, np.ascontiguousarray(br[:, rows, :c].transpose(0, 2, 1))
            )
            out[:, rows, :c] = crit.transpose(0, 2, 1)
        return out[0], out[1], out[2], count

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
        c = _check_level(coverage, "coverage")
        n = len(self)
        if n == 0:
            empty = np.empty(0)
            return HighestDensityRegion(
                np.empty((0, 1, 2)), np.empty(0, dtype=np.intp), empty, empty.copy()
            )
        # Rows are independent, so chunks of them can run on threads (NumPy
        # releases the GIL in its loops); the chunking does not change any
        # result.
        n_chunks = max(-(-n // _HDR_CHUNK), min(_HDR_THREADS, n // _HDR_MIN_CHUNK))
        bounds = np.linspace(0, n, n_chunks + 1).astype(np.intp)
        comps = [self._components(slice(a, b)) for a, b in zip(bounds, bounds[1:])]
        if n_chunks > 1 and _HDR_THREADS > 1:
            with ThreadPoolExecutor(min(_HDR_THREADS, n_chunks)) as pool:
                parts = list(pool.map(partial(_hdr_chunk, coverage=c), comps))
        else:
            parts = [_hdr_chunk(comp, c) for comp in comps]
        n_ends = np.concatenate([(~np.isnan(e)).sum(axis=1) for e, _, _ in parts])
        pieces = max(1, int(n_ends.max()) // 2)
        intervals = np.full((n, 2 * pieces), np.nan)
        for (ends, _, _), start in zip(parts, bounds):
            take = min(2 * pieces, ends.shape[1])
            intervals[start : start + ends.shape[0], :take] = ends[:, :take]
        return HighestDensityRegion(
            intervals.reshape(n, pieces, 2),
            n_ends // 2,
            np.concatenate([t for _, t, _ in parts]),
            np.concatenate([m for _, _, m in parts]),
        )

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
        n_samples = _check_n_samples(n_samples)
        rng = _check_rng(random_state)
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
