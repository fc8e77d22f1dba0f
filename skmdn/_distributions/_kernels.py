"""Evaluation kernels of one-dimensional Gaussian mixtures.

The mixtures' parameters are laid out component-first, as ``(K, a)`` arrays
for ``a`` mixtures (:class:`Components`): every reduction over components is
then an element-wise operation between contiguous vectors.  The log density
and its derivatives (:func:`log_density`) are written once, for any layout of
the points that broadcasts against the per-component parameters.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import log_ndtr, logsumexp, ndtr

from .._checks import LOG_SQRT_2PI

# Number of (row, point) pairs evaluated per chunk.  Every component adds a few
# temporaries of this size; 2**16 float64 values (512 KiB) keep them in cache.
CHUNK = 2**16


def row_chunks(n: int, per_row: int, chunk: int = CHUNK):
    """Slices of ``n`` rows holding about ``chunk`` values of ``per_row`` each."""
    step = max(1, chunk // max(1, per_row))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def sum0(a):
    """Sum over the first axis in a fixed order.

    ``np.sum(axis=0)`` may switch to pairwise summation for narrow arrays,
    which would make a mixture's result depend on how many others share its
    batch (and so on the threading of :meth:`MixtureDistribution.hdr`).
    """
    out = a[0].copy()
    for row in a[1:]:
        out += row
    return out


def log_density(mu, inv_s, log_coef, x, derivs=0, *, logp=True, finite=True):
    """Log density of Gaussian mixtures and its first ``derivs`` derivatives.

    ``mu``, ``inv_s`` and ``log_coef`` (``log(w_k / s_k) - log(sqrt(2 pi))``)
    are indexed by component first; ``mu[k]`` (and the others) broadcast
    against the points ``x``.  The sum over components is a log-sum-exp, so
    far tails get a finite log density.

    Returns ``logp``, ``(logp, g)`` or ``(logp, g, h)`` with
    ``g = d log p / dx`` and ``h = d^2 log p / dx^2``; with ``logp=False``
    (and ``derivs=1``) only ``g``.  ``finite=False`` allows infinite points
    (log density ``-inf``).
    """
    K = len(mu)
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
    if not finite:
        # All terms are -inf only for infinite x: keep exp() finite there.
        top[~np.isfinite(top)] = 0.0
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
    with np.errstate(divide="ignore", invalid="ignore"):
        if derivs >= 1:
            g /= total
        if not logp:
            return g
        lp = np.log(total)
        lp += top
        if derivs == 0:
            return lp
        if derivs == 1:
            return lp, g
        h /= total
        h -= g * g
    return lp, g, h


def slot_logpdf(P, x, derivs=1):
    """:func:`log_density` of mixtures ``P`` (a ``(4, K, n)`` stack, see
    :class:`Components`) at slot-major points ``x`` of shape ``(m, n)``."""
    _, mu, inv_s, log_coef = P
    return log_density(mu, inv_s, log_coef, x, derivs)


def gather_cdf(P, cols, x):
    """Mixture cdf at flat points ``x``; ``cols`` selects the mixture of each.

    ``P`` is a ``(4, K, n)`` parameter stack (see :class:`Components`).
    """
    w, mu, inv_s, _ = P
    out = np.zeros(x.shape)
    for k in range(mu.shape[0]):
        out += w[k, cols] * ndtr((x - mu[k, cols]) * inv_s[k, cols])
    return np.clip(out, 0.0, 1.0, out=out)


class Components:
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
    def from_arrays(cls, w, mu, s, log_w=None) -> Components:
        """From ``(K, a)`` weights, means and scales; ``log_w``, when given,
        is used for ``log(w)``."""
        with np.errstate(divide="ignore"):
            if log_w is None:
                log_w = np.log(w)
            log_coef = log_w - np.log(s) - LOG_SQRT_2PI
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

    def take(self, idx) -> Components:
        if isinstance(idx, slice):
            return Components(self.params[:, :, idx])
        return Components(np.take(self.params, idx, axis=2))

    def columns(self, x):
        """The parameter stack shaped to broadcast against ``x`` ``(a,)`` or
        ``(a, m)``."""
        return self.params if x.ndim == 1 else self.params[:, :, :, None]

    def _z(self, k, x):
        P = self.columns(x)
        return (x - P[self._MU, k]) * P[self._INV_S, k]

    def logpdf(self, x, derivs: int = 0):
        """:func:`log_density` at points ``x`` of shape ``(a,)`` or ``(a, m)``."""
        _, mu, inv_s, log_coef = self.columns(x)
        return log_density(mu, inv_s, log_coef, x, derivs, finite=False)

    def slopes(self, x):
        """``d log p / dx`` at points ``x`` of shape ``(a, m)``."""
        _, mu, inv_s, log_coef = self.columns(x)
        return log_density(mu, inv_s, log_coef, x, 1, logp=False)

    def _tail(self, x, upper: bool):
        out = np.zeros(np.shape(x))
        w = self.columns(x)[self._W]
        sign = -1.0 if upper else 1.0
        for k in range(self.n_components):
            out += w[k] * ndtr(sign * self._z(k, x))
        # The weights sum to 1 only up to rounding; the limits are exact.
        out[np.isneginf(x) if upper else np.isposinf(x)] = 1.0
        return np.clip(out, 0.0, 1.0, out=out)

    def cdf(self, x):
        return self._tail(x, upper=False)

    def sf(self, x):
        return self._tail(x, upper=True)

    def _log_tail(self, x, upper: bool):
        # log sum_k w_k Phi(+-z_k).  The direct sum is accurate in relative
        # terms until it underflows; only those entries need log_ndtr.
        prob = self._tail(x, upper)
        with np.errstate(divide="ignore"):
            out = np.log(prob)
        tiny = prob < 1e-250
        if np.any(tiny):
            rows = np.flatnonzero(tiny) if x.ndim == 1 else np.nonzero(tiny)[0]
            sub = self.take(rows)
            sign = -1.0 if upper else 1.0
            xs = x[tiny]
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
