"""Highest-density regions of batches of one-dimensional Gaussian mixtures.

Between consecutive critical points (:mod:`._modes`) the density of a
mixture is monotone, so it crosses a level at most once there.  The solver
finds the level whose region holds the requested mass and the crossings
jointly.  Arrays are slot-major as in :mod:`._modes`: ``(S, n)`` for ``S``
segments of ``n`` mixtures.  Branch choices are written as arithmetic where
the condition is unpredictable: ``np.where`` on a random mask costs about
twenty times a multiplication.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from .._checks import EPS, INV_SQRT_2PI, LOG_SQRT_2PI, as_points, check_no_nan
from ._kernels import Components, gather_cdf, slot_logpdf, sum0
from ._modes import (
    N_UNIFORM,
    N_UNIFORM_RETRY,
    XTOL_REL,
    count_groups,
    grid_brackets,
    group_critical,
)
from ._roots import Bracket, compact

# Phi(-40) ~ 4e-350 underflows to 0 in float64, so every quantile, HDR endpoint
# or tail crossing that float64 can represent lies within 40 scales of a mean.
BRACKET_Z = 40.0

_HDR_CHUNK = 2**18  # rows per hdr() batch, to bound memory
# hdr() splits batches of at least twice _HDR_MIN_CHUNK rows across threads.
_HDR_THREADS = min(
    4,
    len(os.sched_getaffinity(0))
    if hasattr(os, "sched_getaffinity")
    else os.cpu_count() or 1,
)
_HDR_MIN_CHUNK = 2**13

_LEAN_ITER = 20  # iterations of the fast pass; the rest is redone safely
_SAFE_ITER = 200


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
        self.ftol = 1e-10 / (2.0 * INV_SQRT_2PI * np.exp(-0.5 * z * z))
        lims = np.stack(
            [(mu - BRACKET_Z * s).min(axis=0), (mu + BRACKET_Z * s).max(axis=0)]
        )
        lp_lims = slot_logpdf(P, lims, 0)
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
        self.xtol = XTOL_REL * s.min(axis=0)
        # |p''''| / 720 <= herm: the Hermite update errs by at most herm * D^5.
        self.herm = 1.197 / 720.0 * sum0(w * inv_s**5)
        # Bracket of v: the region is empty at v = 0 and, at v_hi, contains
        # [min(mu - z s), max(mu + z s)], which has mass >= coverage.
        edges = np.stack([(mu - z * s).min(axis=0), (mu + z * s).max(axis=0)])
        u_lo = slot_logpdf(P, edges, 0).min(axis=0)
        if C > 1:
            u_lo = np.fmin(u_lo, np.fmin.reduce(crit[1, 1::2], axis=0))
        self.v_hi = np.sqrt(2.0 * np.maximum(self.u_top - u_lo, 0.0))
        # Start from the moment-matched Gaussian: exact for one component.
        mean = sum0(w * mu)
        sd = np.sqrt(sum0(w * (s * s + (mu - mean) ** 2)))
        v0 = 2.0 * (self.u_top + np.log(sd)) + 2.0 * LOG_SQRT_2PI + z * z
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

    def equation(self, mass, dmass):
        """The level equation ``H`` and ``dH / dv`` from the mass and its
        derivative ``dmass / dv``."""
        hm = ndtri(0.5 * (1.0 + np.clip(mass, 0.0, 1.0 - EPS)))
        H = hm - self.z
        dH = dmass / (2.0 * INV_SQRT_2PI * np.exp(-0.5 * hm * hm))
        return H, dH


# --------------------------------------------------------------------------- #
# Solver state: one level per mixture (``(n,)`` arrays), one crossing per
# segment of it (``(S, n)`` arrays).  Both passes compact them with
# :func:`._roots.compact` once half of the mixtures are done.
# --------------------------------------------------------------------------- #
@dataclass
class _Level:
    v: NDArray  # the level is u_top - v^2 / 2
    bracket: Bracket  # of v, on H
    live: NDArray
    u_top: NDArray
    xtol: NDArray
    idx: NDArray  # the mixtures' columns in the output


@dataclass
class _LeanLevel(_Level):
    h_prev: NDArray  # H at the last level step
    close: NDArray  # the level is close for good: exact cdfs
    dlim: NDArray  # steps up to dlim keep the Hermite error below 1e-14
    dlim7: NDArray  # and up to dlim7 below 1e-7 (enough while far)
    v_max: NDArray


@dataclass
class _Crossings:
    x: NDArray
    was: NDArray  # whether the slot was on the level last iteration
    A: NDArray
    L: NDArray
    hRR: NDArray


@dataclass
class _LeanCrossings(_Crossings):
    lo9: NDArray  # 0.9 times the segment ends
    hi9: NDArray
    ref: NDArray  # whether the slot has a cdf value to carry
    exact: NDArray  # whether that value is exact
    xe: NDArray  # the point of that value, the cdf, pdf and pdf' there
    Fe: NDArray
    pe: NDArray
    qe: NDArray


@dataclass
class _SafeCrossings(_Crossings):
    far_x: NDArray
    peak_x: NDArray
    xP: NDArray  # bracket of the crossing: its ends and their T
    TP: NDArray
    xQ: NDArray
    TQ: NDArray
    fb: NDArray  # whether the last step fell back to regula falsi


def _crossing_step(P, A, L, hRR, x, Tt, act, lo9, hi9):
    """One Newton step for every crossing at its level, in ``T`` (see
    :class:`_SafePass`); slots off the level stay.  The step stops short of
    the segment's ends (``lo9``, ``hi9``: 0.9 times them), as Newton can
    overshoot on a shoulder of the density.

    Returns ``(new x, unclamped x, log p, d log p / dx, dx / dT)``."""
    lp, g = slot_logpdf(P, x, 1)
    a = np.sqrt(np.abs(lp - A))
    b = np.sqrt(np.abs(L - lp))
    ab = a + b
    dxdT = a * b * ab * ab / (g * hRR)
    xr = x + (Tt - a / ab) * dxdT * act
    xn = np.fmin(np.fmax(xr, lo9 + 0.1 * x), hi9 + 0.1 * x)
    return xn, xr, lp, g, dxdT


def _noisy(p, x):
    """Far out (|x| >> s) the rounding of x alone moves the cdf by
    p |x| eps: there the mass is re-evaluated at the returned crossings."""
    return np.max(p * np.abs(x), axis=0) * EPS > 1e-14


class _Pass:
    """Setup, loop, compaction and results shared by the two HDR passes.

    The level and the crossings are solved jointly; every iteration
    (:meth:`iterate`) evaluates the density once at each crossing.  Results
    are ``(x, u, mass, ok)``: the crossing points ``(C + 1, n)`` (NaN where a
    segment is not crossed), the level, the mass and convergence flags.
    """

    def __init__(self, P, seg: _Segments, n: int) -> None:
        S = seg.A.shape[0]
        self.P, self.seg = P, seg
        self.out_x = np.full((S, n), np.nan)
        self.out_u = np.full(n, np.nan)
        self.out_m = np.full(n, np.nan)
        self.out_ok = np.zeros(n, bool)
        self.level = dict(
            v=seg.v0.copy(),
            bracket=Bracket.start(
                np.zeros(n), seg.v_hi, f_lo=-seg.z, width_lag=1, nan_above=False
            ),
            live=np.ones(n, bool),
            u_top=seg.u_top,
            xtol=seg.xtol,
            idx=np.arange(n),
        )

    def run(self, maxiter: int):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for it in range(maxiter):
                self.iterate(it == maxiter - 1)
                live = self.level.live
                n_live = np.count_nonzero(live)
                if n_live == 0:
                    break
                if n_live < 0.5 * live.size:
                    self.level = compact(self.level, live)
                    self.cross = compact(self.cross, live)
                    self.P = self.P[..., live]
        return self.out_x, self.out_u, self.out_m, self.out_ok

    def iterate(self, last: bool) -> None:
        raise NotImplementedError

    def geometry(self):
        """The current levels ``u`` and, per slot, whether it is on the
        level, ``sqrt(u - A)``, ``sqrt(L - u)`` and the target ``T``."""
        lv, cr = self.level, self.cross
        u = lv.u_top - 0.5 * lv.v * lv.v
        act = (u > cr.A) & (u < cr.L)
        ra = np.sqrt(np.abs(u - cr.A))
        rb = np.sqrt(np.abs(cr.L - u))
        return u, act, ra, rb, ra / (ra + rb)

    def refresh(self, u, act):
        """The crossings, with first guesses for the slots new on the level."""
        x = self.cross.x
        fresh = act & ~self.cross.was
        if fresh.any():
            si, ci = np.nonzero(fresh)
            x = x.copy()
            x[si, ci] = self.seg.guess(si, self.level.idx[ci], u[ci])
        return x, fresh

    def converged(self, x, res, g, lp):
        """Crossings whose step is below xtol (or the spacing of floats at
        x), or whose log p is within rounding of the level; and that xtol."""
        xtol = np.maximum(self.level.xtol, 4.0 * EPS * np.abs(x))
        conv = res <= np.maximum(xtol * np.abs(g), 8.0 * EPS * (np.abs(lp) + 1.0))
        return conv, xtol

    def measure(self, F, mask, x):
        """Exact cdf values ``F`` at the slots ``mask`` of the points ``x``."""
        flat = np.flatnonzero(mask)
        F.flat[flat] = gather_cdf(self.P, flat % self.level.v.size, x.flat[flat])

    def remeasure(self, F, act, redo, x, mass):
        """The mass of the mixtures ``redo`` measured exactly at ``x``."""
        if not redo.any():
            return mass
        self.measure(F, act & redo, x)
        return np.where(redo, sum0(self.seg.sg * F * act), mass)

    def store(self, mask, v, mass, x, act, ok) -> None:
        """Record the results of the mixtures ``mask``."""
        lv = self.level
        idx = lv.idx[mask]
        self.out_u[idx] = lv.u_top[mask] - 0.5 * v[mask] ** 2
        self.out_m[idx] = mass[mask]
        self.out_x[:, idx] = np.where(act, x, np.nan)[:, mask]
        self.out_ok[idx] = ok[mask]


class _LeanPass(_Pass):
    """Fast pass of the HDR solve (the safe one is :class:`_SafePass`).

    Every iteration takes a Newton step for each crossing at the current
    level (see :class:`_SafePass` for the equation) and, for the mixtures
    whose crossings are close enough for the mass to be reliable, a
    safeguarded Newton step on the level.  Crossings are only kept inside
    their segment.  ``ok`` is False for the mixtures left over.
    """

    def __init__(self, P, seg: _Segments, n: int) -> None:
        super().__init__(P, seg, n)
        S = seg.A.shape[0]
        v = self.level["v"]
        u = seg.u_top - 0.5 * v * v
        act = (u > seg.A) & (u < seg.L)
        x = seg.guess_all(u)
        lo9, hi9 = 0.9 * seg.lo, 0.9 * seg.hi
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # A few Newton steps for the crossings at the first level: they
            # start from rough guesses, and these steps need no cdf.
            ra = np.sqrt(np.abs(u - seg.A))
            rb = np.sqrt(np.abs(seg.L - u))
            Tt = ra / (ra + rb)
            for _ in range(3):
                x = _crossing_step(P, seg.A, seg.L, seg.hRR, x, Tt, act, lo9, hi9)[0]
        self.level = _LeanLevel(
            **self.level,
            h_prev=np.full(n, np.inf),
            close=np.zeros(n, bool),
            dlim=(1e-14 / seg.herm) ** 0.2,
            dlim7=(1e-7 / seg.herm) ** 0.2,
            v_max=seg.v_hi,
        )
        zeros = np.zeros((S, n))
        self.cross = _LeanCrossings(
            x=x,
            was=act,
            A=seg.A,
            L=seg.L,
            hRR=seg.hRR,
            lo9=lo9,
            hi9=hi9,
            ref=np.zeros((S, n), bool),
            exact=np.zeros((S, n), bool),
            xe=x.copy(),
            Fe=zeros,
            pe=zeros,
            qe=zeros,
        )

    def iterate(self, last: bool) -> None:
        cr = self.cross
        u, act, ra, rb, Tt = self.geometry()
        x, fresh = self.refresh(u, act)
        if fresh.any():
            cr.ref = cr.ref & ~fresh
        xn, xr, lp, g, dxdT = _crossing_step(
            self.P, cr.A, cr.L, cr.hRR, x, Tt, act, cr.lo9, cr.hi9
        )
        res = np.abs(g * (xn - x))  # change of log p over the step
        ready = self.level.live & np.all(((res <= 0.05) & (xn == xr)) | ~act, axis=0)
        if ready.any():
            conv, _ = self.converged(x, res, g, lp)
            all_conv = np.all(conv | ~act, axis=0)
            xn = self._advance(x, xn, lp, g, dxdT, act, ra, rb, ready, all_conv)
        cr.x = xn
        cr.was = act

    def _advance(self, x, xn, lp, g, dxdT, act, ra, rb, ready, all_conv):
        """The level step of the ``ready`` mixtures; returns the crossings
        moved along with the level."""
        lv, cr, seg = self.level, self.cross, self.seg
        v = lv.v
        dx = xn - x
        actf = act.astype(float)
        p = np.exp(lp) * actf
        q = p * g
        # The cdf is carried by Hermite quadrature from the last evaluation.
        # It is evaluated exactly at a new crossing and, once the level is
        # close, wherever a step since the last exact value was longer than
        # dlim (the long early steps may leave errors of order herm * D^5).
        D = x - cr.xe
        F = cr.Fe + D * (0.5 * (cr.pe + p) + D / 12.0 * (cr.qe - q))
        upd = act & ready
        aD = np.abs(D)
        exact = cr.exact & (aD <= lv.dlim)
        # Once the level is close (for good), the bracket built from the
        # approximate masses before is dropped.
        close = lv.close | (np.abs(lv.h_prev) <= 1e-3)
        fresh_close = ready & close & ~lv.close
        if fresh_close.any():
            lv.bracket.reset(fresh_close, 0.0, lv.v_max, -seg.z, np.nan)
        lv.close = close
        need = upd & (~cr.ref | (close & ~exact) | (aD > lv.dlim7))
        if need.any():
            self.measure(F, need, x)
        cr.xe = np.where(upd, x, cr.xe)
        cr.Fe = np.where(upd, F, cr.Fe)
        cr.pe = np.where(upd, p, cr.pe)
        cr.qe = np.where(upd, q, cr.qe)
        cr.ref = cr.ref | upd
        cr.exact = np.where(upd, exact | need, cr.exact)
        synced = ready & close
        rab = ra + rb
        dxdv = (-v * cr.hRR / (ra * rb * rab * rab)) * dxdT * actf
        dxdv[~np.isfinite(dxdv)] = 0.0
        sp = seg.sg * p
        mass = sum0(seg.sg * F * actf + sp * dx)
        dmass = sum0(sp * dxdv)
        H, dH = seg.equation(mass, dmass)
        ready &= np.isfinite(H) & np.isfinite(dH)
        vnew, dv, _, _ = lv.bracket.step(v, H, dH, ready)
        done = synced & all_conv & (np.abs(H) <= seg.ftol)
        # Newton converges quadratically: once the previous step took H from
        # h_prev to H, the next leaves about H^3 / h_prev^2; stop at the
        # predicted point when that and the crossing steps are negligible.
        final = (
            synced
            & ~done
            & (np.abs(H) <= 1e-4)
            & (np.abs(H) ** 3 <= 1e-3 * seg.ftol * lv.h_prev**2)
        )
        shift = dxdv * dv
        if final.any():
            smin = lv.xtol / XTOL_REL
            final &= np.max(np.abs(dx), axis=0) <= 1e-7 * smin
            final &= np.max(shift * shift, axis=0) <= lv.xtol * smin
        # Where the mass is noisy no step is taken on a prediction.
        noisy = _noisy(p, x)
        final &= ~noisy
        mass = self.remeasure(F, act, done & noisy, xn, mass)
        lv.h_prev = np.where(ready, H, lv.h_prev)
        lv.v = vnew
        xp = np.fmin(np.fmax(xn + shift, cr.lo9 + 0.1 * xn), cr.hi9 + 0.1 * xn)
        fin = done | final
        if fin.any():
            self.store(
                fin,
                np.where(done, v, vnew),
                np.where(done, mass, mass + dmass * dv),
                np.where(done, xn, xp),
                act,
                fin,
            )
            lv.live = lv.live & ~fin
        return xp


class _SafePass(_Pass):
    """Safe HDR solve: every crossing keeps a bracket (valid at every level,
    since ``T`` below does not depend on it) with a regula falsi or bisection
    fallback, the cdf is always evaluated exactly, and the level moves only
    once the crossings are close enough for the sign of the mass error to be
    certain, so that every update of its bracket is right.

    A crossing of level ``u`` on a segment solves ``T(log p(x)) = T(u)`` with
    ``T(l) = a / (a + b)``, ``a = sqrt(l - A)``, ``b = sqrt(L - l)``: linear in
    ``x`` near both ends of the segment and along a Gaussian tail.
    """

    def __init__(self, P, seg: _Segments, n: int) -> None:
        super().__init__(P, seg, n)
        S = seg.A.shape[0]
        self.level = _Level(**self.level)
        self.cross = _SafeCrossings(
            x=0.5 * (seg.far_x + seg.peak_x),
            was=np.zeros((S, n), bool),
            A=seg.A,
            L=seg.L,
            hRR=seg.hRR,
            far_x=seg.far_x,
            peak_x=seg.peak_x,
            xP=seg.far_x.copy(),
            TP=np.zeros((S, n)),
            xQ=seg.peak_x.copy(),
            TQ=np.ones((S, n)),
            fb=np.zeros((S, n), bool),
        )

    def _set_ends(self, mask, xP, TP, xQ, TQ) -> None:
        cr = self.cross
        cr.xP, cr.TP = np.where(mask, xP, cr.xP), np.where(mask, TP, cr.TP)
        cr.xQ, cr.TQ = np.where(mask, xQ, cr.xQ), np.where(mask, TQ, cr.TQ)

    def _regula_falsi(self, Tt):
        """Interpolate the crossing in ``T`` between its bracket ends; bisect
        if the last step already fell back (regula falsi can stall)."""
        cr = self.cross
        f = (Tt - cr.TP) / (cr.TQ - cr.TP)
        f = np.where((f >= 0.0) & (f <= 1.0) & ~cr.fb, f, 0.5)
        return cr.xP + f * (cr.xQ - cr.xP)

    def iterate(self, last: bool) -> None:
        lv, cr, seg = self.level, self.cross, self.seg
        v = lv.v
        u, act, ra, rb, Tt = self.geometry()
        x, fresh = self.refresh(u, act)
        if fresh.any():
            self._set_ends(fresh, cr.far_x, 0.0, cr.peak_x, 1.0)
            cr.fb = cr.fb & ~fresh
        # A bracket end on the wrong side of the new level becomes the other
        # end; the segment end takes its place.
        drop = act & (Tt < cr.TP)
        if drop.any():
            self._set_ends(drop, cr.far_x, 0.0, cr.xP, cr.TP)
        rose = act & (Tt > cr.TQ)
        if rose.any():
            self._set_ends(rose, cr.xQ, cr.TQ, cr.peak_x, 1.0)
        out = act & ((x - cr.xP) * (x - cr.xQ) > 0)
        if out.any():
            x = np.where(out, self._regula_falsi(Tt), x)
        lp, g = slot_logpdf(self.P, x, 1)
        a = np.sqrt(np.abs(lp - cr.A))
        b = np.sqrt(np.abs(cr.L - lp))
        ab = a + b
        T = a / ab
        dxdT = a * b * ab * ab / (g * cr.hRR)
        actf = act.astype(float)
        dx = (Tt - T) * dxdT * actf  # slots off the level stay put
        res = np.abs(g * dx)
        conv, xtol = self.converged(x, res, g, lp)
        below = (act & (T < Tt)).astype(float)
        above = actf - below
        cr.xP = cr.xP + below * (x - cr.xP)
        cr.TP = cr.TP + below * (T - cr.TP)
        cr.xQ = cr.xQ + above * (x - cr.xQ)
        cr.TQ = cr.TQ + above * (T - cr.TQ)
        xn = x + dx
        bad = act & ~conv & ((xn - cr.xP) * (xn - cr.xQ) > 0)
        if bad.any():
            xn = np.where(bad, self._regula_falsi(Tt), xn)
        cr.fb = bad
        conv |= np.abs(cr.xQ - cr.xP) <= xtol
        dx = xn - x
        all_conv = np.all(conv | ~act, axis=0)
        # Near-converged crossings (Newton steps inside their brackets
        # changing log p by < 0.05) give a mass whose sign against the
        # coverage is certain when the first-order correction is small
        # against their difference: only then does the level move.
        near = lv.live & np.all(((res <= 0.05) & ~bad) | ~act, axis=0)
        if near.any():
            F = np.zeros(act.shape)
            self.measure(F, act & near, x)
            p = np.exp(lp) * actf
            dxdv = np.where(act, (-v * cr.hRR / (ra * rb * (ra + rb) ** 2)) * dxdT, 0.0)
            mass = sum0(seg.sg * (F + p * dx))
            unc = sum0(p * np.abs(dx))
            ready = near & all_conv | near & (4.0 * unc <= np.abs(mass - seg.coverage))
            dmass = sum0(seg.sg * p * dxdv)
            H, dH = seg.equation(mass, dmass)
            vnew, dv, _, _ = lv.bracket.step(v, H, dH, ready)
            # Converged, or stuck on a jump of the mass (a bump missed by the
            # grid: the caller retries on a finer one).
            consistent = ready & all_conv
            br = lv.bracket
            done = consistent & ((np.abs(H) <= seg.ftol) | (br.hi - br.lo <= 1e-12))
            mass = self.remeasure(F, act, consistent & _noisy(p, x), xn, mass)
            if consistent.any():
                # the last state with converged crossings is the answer if
                # the iterations run out
                self.store(consistent, v, mass, xn, act, done)
                lv.live = lv.live & ~done
            lv.v = vnew
            xn = xn + dxdv * dv
        cr.x = xn
        cr.was = act
        if last:
            # Out of iterations without a converged state (not seen in
            # tests): the current crossings; the caller measures their mass.
            lost = lv.live & np.isnan(self.out_u[lv.idx])
            nan = np.full(lost.shape, np.nan)
            self.store(lost, v, nan, x, act, np.zeros(lost.shape, bool))


def _hdr_rows(comp: Components, coverage: float, n_uniform: int):
    """HDR of ``a`` mixtures: ``(ends, threshold, mass)``.

    ``ends`` ``(a, W + 1)`` holds every row's sorted crossing points,
    NaN-padded; consecutive pairs are the pieces.
    """
    a = len(comp)
    count, br = grid_brackets(comp, n_uniform)
    width = br.shape[2]
    crit = np.full((3, width, a), np.nan)
    ends = np.full((a, width + 1), np.nan)
    level = np.full(a, np.nan)
    mass = np.full(a, np.nan)
    left = []
    for c, rows in count_groups(count):
        P, cr = group_critical(comp, br, c, rows)
        crit[:, :c, rows] = cr
        seg = _Segments(P, cr, c, coverage)
        x, u, m, ok = _LeanPass(P, seg, rows.size).run(_LEAN_ITER)
        done = rows[ok]
        ends[done, : c + 1] = np.sort(x[:, ok].T, axis=1)
        level[done], mass[done] = u[ok], m[ok]
        left.append(rows[~ok])
    rows = np.concatenate(left)
    if rows.size:
        P = np.take(comp.params, rows, axis=2)
        seg = _Segments(P, crit[:, :, rows], count[rows], coverage)
        x, u, m, _ = _SafePass(P, seg, rows.size).run(_SAFE_ITER)
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


def _hdr_chunk(comp: Components, coverage: float):
    """:func:`_hdr_rows`, redone on finer grids for the rows whose mass
    misses the coverage: a bump narrower than the grid spacing shows up as a
    jump in the mass."""
    ends, thr, mass = _hdr_rows(comp, coverage, N_UNIFORM)
    todo = np.flatnonzero(np.abs(mass - coverage) > 1e-9)
    for n_uniform in N_UNIFORM_RETRY:
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


def hdr(comp: Components, coverage: float) -> HighestDensityRegion:
    """The :class:`HighestDensityRegion` of ``coverage`` of every mixture."""
    n = len(comp)
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
    comps = [comp.take(slice(a, b)) for a, b in zip(bounds, bounds[1:])]
    if n_chunks > 1 and _HDR_THREADS > 1:
        with ThreadPoolExecutor(min(_HDR_THREADS, n_chunks)) as pool:
            parts = list(pool.map(partial(_hdr_chunk, coverage=coverage), comps))
    else:
        parts = [_hdr_chunk(c, coverage) for c in comps]
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
        y2, squeeze = as_points(y, n, "y")
        check_no_nan(y2, "y")
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


def concatenate_regions(parts):
    """One :class:`HighestDensityRegion` of the rows of several, in order."""
    if len(parts) == 1:
        return parts[0]
    width = max(part.intervals.shape[1] for part in parts)
    intervals = np.concatenate(
        [
            np.pad(
                part.intervals,
                ((0, 0), (0, width - part.intervals.shape[1]), (0, 0)),
                constant_values=np.nan,
            )
            for part in parts
        ]
    )
    return HighestDensityRegion(
        intervals,
        *(
            np.concatenate([getattr(part, name) for part in parts])
            for name in ("n_intervals", "threshold", "coverage")
        ),
    )
