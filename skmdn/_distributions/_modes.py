"""Critical points and modes of batches of one-dimensional Gaussian mixtures.

The critical points of every mixture are bracketed by sign changes of
``d log p / dx`` on a grid (:func:`grid_brackets`) and refined by safeguarded
Newton steps (:func:`refine_critical`).  The solvers hold the ``c`` unknowns
of each of ``n`` mixtures in slot-major ``(c, n)`` arrays: the parameters of
a mixture then broadcast along the slots without being gathered, and every
reduction over the slots of a mixture is an element-wise operation between
contiguous rows.  The mixtures are grouped by their number of critical
points so that no slot is padding.
"""

from __future__ import annotations

import numpy as np

from ._kernels import Components, row_chunks, slot_logpdf
from ._roots import Bracket, compact

# Relative tolerance (in units of the row's smallest component scale) of the
# root finders.  Newton converges quadratically, so the result is usually far
# more accurate than this.
XTOL_REL = 1e-12

# Derivative-sign grid used to bracket the critical points of the density: a
# uniform grid over [min mean, max mean] (every critical point of a Gaussian
# mixture lies in that range) plus a stencil around every component mean.
# hdr() retries the rare rows whose mass equation shows a missed bump with the
# finer uniform grids of N_UNIFORM_RETRY.
# The stencil was tuned on random mixtures against dense grids: nodes packed
# near each mean catch the shallow bumps a component makes on another's slope.
N_UNIFORM = 8
N_UNIFORM_RETRY = (1024, 16384)
_STENCIL = np.array([-2.0, -1.2, -0.6, -0.2, 0.2, 0.6, 1.2, 2.0])

# Two maxima separated by a dip shallower than this (in log density) are one
# plateau, not two modes.
_MODE_MERGE_LOGTOL = 1e-9

_GROUP_SLOTS = 2**16  # unknowns per group batch: the working set stays in cache


def grid_brackets(comp: Components, n_uniform: int):
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
    for rows in row_chunks(a, per_row):
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
        g = part.slopes(nodes)
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


def count_groups(count, per_slot: int = 1):
    """Yield ``(c, rows)``: batches of mixtures with ``c`` critical points."""
    for c in np.unique(count):
        rows_c = np.flatnonzero(count == c)
        step = max(1, _GROUP_SLOTS // (c + per_slot))
        for start in range(0, rows_c.size, step):
            yield int(c), rows_c[start : start + step]


def group_critical(comp: Components, br, c: int, rows):
    """The parameters ``(4, K, n)`` of the mixtures ``rows`` (with ``c``
    critical points each, bracketed in ``br`` as from :func:`grid_brackets`)
    and their refined critical points ``(3, c, n)``."""
    P = np.take(comp.params, rows, axis=2)
    crit = refine_critical(P, np.ascontiguousarray(br[:, rows, :c].transpose(0, 2, 1)))
    return P, crit


def refine_critical(P, br, maxiter: int = 100):
    """Newton-bisection on ``d log p / dx`` inside the brackets ``br``.

    ``br`` is a ``(4, c, n)`` slot-major bracket stack of ``n`` mixtures with
    ``c`` critical points each.  Returns their location, log density and
    second derivative of the log density, each of shape ``(c, n)``.  A
    mixture stops once all of its critical points have converged.
    """
    xl, xr, gl, gr = br
    c, n = xl.shape
    # Orient d log p / dx to increase through every root (maxima come first).
    sign = np.where(np.arange(c) % 2 == 0, -1.0, 1.0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        x = xl + (xr - xl) * gl / (gl - gr)  # regula falsi start
    x = np.where((x > xl) & (x < xr), x, 0.5 * (xl + xr))
    bracket = Bracket.start(xl, xr, secant=False)
    xtol = XTOL_REL / P[2].max(axis=0)
    out = np.empty((3, c, n))
    cols = np.arange(n)
    live = np.ones(n, bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for it in range(maxiter):
            lp, g, h = slot_logpdf(P, x, 2)
            bracket.update(x, sign * g)
            step = g / h
            newton, ok = bracket.newton(x, step)
            # Newton converges quadratically: a step of s after one of t
            # leaves an error of about s^3 / t^2.
            size = np.abs(step)
            last = np.abs(bracket.step1)
            small = size <= xtol
            small |= (
                ok & (size <= 0.1 * last) & (size**3 <= xtol * last * last) & (it > 0)
            )
            xn = np.where(ok | small, newton, bracket.fallback()[0])
            done = live & np.all(small | (bracket.hi - bracket.lo <= xtol), axis=0)
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
                        P[..., keep],
                        xtol[keep],
                        cols[keep],
                        live[keep],
                    )
                    xn, x = xn[:, keep], x[:, keep]
                    bracket = compact(bracket, keep)
            bracket.record(xn - x)
            x = xn
    return out


def critical_points(comp: Components, n_uniform: int = N_UNIFORM):
    """Local maxima and minima of the density of ``a`` mixtures.

    Returns ``(x, logp, curv, count)``: arrays of shape ``(a, W)`` with the
    critical points of every row sorted left to right (alternating maximum,
    minimum, maximum, ..., maximum; NaN-padded), their log density, the
    second derivative of the log density there, and the number ``count``
    (odd) of critical points per row.
    """
    count, br = grid_brackets(comp, n_uniform)
    out = np.full((3, len(comp), br.shape[2]), np.nan)
    for c, rows in count_groups(count, 0):
        _, crit = group_critical(comp, br, c, rows)
        out[:, rows, :c] = crit.transpose(0, 2, 1)
    return out[0], out[1], out[2], count


def modes(comp: Components):
    """Mode locations and densities of every mixture, highest first.

    See :meth:`MixtureDistribution.modes`: arrays ``(a, width)``,
    NaN-padded, with ``width`` at least the number of components.
    """
    n, K = len(comp), comp.n_components
    if n == 0:
        return np.empty((0, K)), np.empty((0, K))
    x, lp, _, _ = critical_points(comp)
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
