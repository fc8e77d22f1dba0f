"""The safeguarded Newton iteration shared by every solver of the mixtures.

Quantiles, critical points and the level of a highest-density region all
solve many independent scalar equations ``f_i(x_i) = 0`` at once, each with a
bracket ``lo_i <= x_i <= hi_i`` across which ``f_i`` changes from negative to
positive.  :class:`Bracket` holds those brackets and the step history and
takes the steps of Numerical Recipes' ``rtsafe``: a Newton step when it stays
inside the bracket and is at most half as long as the step before last;
otherwise a regula falsi step between the bracket ends (optionally with the
Illinois modification), or a bisection.  The bracket shrinks at every
iteration, so every element converges even where the derivative is tiny,
infinite or discontinuous.  :func:`solve_increasing` is the complete solver
for equations given as a function; the critical-point and HDR solvers drive
:class:`Bracket` themselves because their convergence tests need more than
``f``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from .._checks import EPS


def compact(state, keep):
    """A copy of the dataclass ``state`` with only the elements ``keep``.

    Every array field is indexed on its last axis (the axis of the
    independent problems), nested dataclasses likewise; other fields are
    shared.
    """
    changes = {}
    for f in fields(state):
        value = getattr(state, f.name)
        if isinstance(value, np.ndarray):
            changes[f.name] = value[..., keep]
        elif hasattr(value, "__dataclass_fields__"):
            changes[f.name] = compact(value, keep)
    return replace(state, **changes)


@dataclass
class Bracket:
    """Brackets and step history of many increasing equations.

    ``f_lo``/``f_hi`` are the function values at the ends (NaN until an end
    has been evaluated); without them (``None``) the fallback is bisection
    and the ends move by arithmetic blending rather than selection (cheaper
    where the side is unpredictable, and exact enough for bisection).
    ``step1`` and ``step2`` are the last step and the one before,
    ``width1`` and ``width2`` the bracket widths after them.  A NaN value
    moves the upper end, unless ``nan_above`` is False (then neither).  Regula falsi
    is only taken once the bracket has halved within the last
    ``width_lag`` steps; ``illinois`` halves the value kept at an end when
    the other end moved twice running, so that regula falsi cannot stall.
    """

    lo: NDArray
    hi: NDArray
    step1: NDArray
    step2: NDArray
    f_lo: NDArray | None = None
    f_hi: NDArray | None = None
    width1: NDArray | None = None
    width2: NDArray | None = None
    moved_lo: NDArray | None = None
    illinois: bool = False
    width_lag: int = 2
    nan_above: bool = True

    @classmethod
    def start(
        cls,
        lo,
        hi,
        *,
        steps=np.inf,
        secant=True,
        f_lo=np.nan,
        f_hi=np.nan,
        illinois=False,
        width_lag=2,
        nan_above=True,
    ) -> Bracket:
        """Brackets ``[lo, hi]`` with step history ``steps``."""
        lo = np.array(lo, dtype=float)
        hi = np.array(hi, dtype=float)
        step = np.broadcast_to(np.asarray(steps, dtype=float), lo.shape)
        br = cls(lo, hi, step.copy(), step.copy())
        if secant:
            br.f_lo = np.broadcast_to(np.asarray(f_lo, dtype=float), lo.shape).copy()
            br.f_hi = np.broadcast_to(np.asarray(f_hi, dtype=float), lo.shape).copy()
            br.width1 = np.full(lo.shape, np.inf)
            br.width2 = np.full(lo.shape, np.inf)
            br.illinois, br.width_lag = illinois, width_lag
            br.nan_above = nan_above
        return br

    def reset(self, mask, lo, hi, f_lo, f_hi) -> None:
        """Replace the ends (not the step history) of the elements ``mask``."""
        self.lo = np.where(mask, lo, self.lo)
        self.hi = np.where(mask, hi, self.hi)
        self.f_lo = np.where(mask, f_lo, self.f_lo)
        self.f_hi = np.where(mask, f_hi, self.f_hi)

    def update(self, x, f, active=None) -> None:
        """Make ``x`` the end on its side: the lower end where ``f < 0``."""
        below = f < 0
        if self.f_lo is None:
            neg = below.astype(float)
            self.lo += neg * (x - self.lo)
            self.hi += (1.0 - neg) * (x - self.hi)
            return
        above = ~below if self.nan_above else f >= 0
        up = below if active is None else active & below
        dn = above if active is None else active & above
        f_lo = np.where(up, f, self.f_lo)
        f_hi = np.where(dn, f, self.f_hi)
        if self.illinois and self.moved_lo is not None:
            again = below == self.moved_lo
            f_lo = np.where(again & dn, 0.5 * f_lo, f_lo)
            f_hi = np.where(again & up, 0.5 * f_hi, f_hi)
        self.lo = np.where(up, x, self.lo)
        self.hi = np.where(dn, x, self.hi)
        self.f_lo, self.f_hi = f_lo, f_hi
        if self.illinois:
            if active is None or self.moved_lo is None:
                self.moved_lo = below if active is None else active & below
            else:
                self.moved_lo = np.where(active, below, self.moved_lo)

    def newton(self, x, step):
        """The Newton point ``x - step`` and whether rtsafe accepts it.

        ``x`` is an end of the bracket after :meth:`update`, and a converged
        step may land on it: the bracket test is inclusive.
        """
        xn = x - step
        ok = (
            (xn >= self.lo)
            & (xn <= self.hi)
            & (np.abs(2.0 * step) <= np.abs(self.step2))
        )
        return xn, ok

    def fallback(self):
        """The regula falsi point where it is trusted, else the midpoint."""
        mid = 0.5 * (self.lo + self.hi)
        if self.f_lo is None:
            return mid, False
        width = self.hi - self.lo
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            secant = self.lo - self.f_lo * width / (self.f_hi - self.f_lo)
        # Regula falsi can creep along a staircase-like function (a far tail
        # of log cdf): unless the bracket has halved recently, bisect.
        ref = self.width2 if self.width_lag == 2 else self.width1
        ok = (secant > self.lo) & (secant < self.hi) & (width <= 0.5 * ref)
        return np.where(ok, secant, mid), ok

    def record(self, d, active=None) -> None:
        """Append the step ``d`` (0 where not ``active``) to the history."""
        if active is None:
            self.step2, self.step1 = self.step1, d
        else:
            self.step2 = np.where(active, self.step1, self.step2)
            self.step1 = np.where(active, d, self.step1)
        if self.width1 is not None:
            width = self.hi - self.lo
            if active is not None:
                width = np.where(active, width, self.width1)
                self.width2 = np.where(active, self.width1, self.width2)
            else:
                self.width2 = self.width1
            self.width1 = width

    def step(self, x, f, df, active=None, ftol=None):
        """One complete rtsafe step of the ``active`` elements (all if None).

        Returns ``(new x, step, newton taken, regula falsi taken)``; the
        elements not active keep their point and state.  A point with
        ``|f| <= ftol`` is kept as is.
        """
        self.update(x, f, active)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton, use_newton = self.newton(x, f / df)
        alt, use_secant = self.fallback()
        xn = np.where(use_newton, newton, alt)
        if ftol is not None:
            xn = np.where(np.abs(f) <= ftol, x, xn)
        if active is not None:
            xn = np.where(active, xn, x)
        d = xn - x
        self.record(d, active)
        return xn, d, use_newton, use_secant


def solve_increasing(
    make_fun: Callable[[NDArray], Callable[[NDArray], tuple[NDArray, NDArray]]],
    x0: NDArray,
    lo: NDArray,
    hi: NDArray,
    xtol: NDArray,
    ftol: float = 0.0,
    maxiter: int = 200,
    compact_below: float = 0.5,
) -> NDArray:
    """Solve ``f_i(x_i) = 0`` for many increasing functions at once.

    Given brackets with ``f_i(lo_i) <= 0 <= f_i(hi_i)``, ``make_fun(idx)``
    returns a function mapping points ``x`` of the elements ``idx`` (an index
    array, or ``slice(None)`` for all of them) to ``(f, df/dx)``.  The steps
    are :class:`Bracket`'s with the Illinois fallback (the HDR mass has
    square-root kinks, the log cdf staircases in far tails).  An element
    stops when its step or bracket is below ``xtol`` or ``|f| <= ftol``.  The
    working set is compacted when fewer than ``compact_below`` of its members
    are still active.
    """
    x_out = np.array(x0, dtype=float)
    lo = np.array(lo, dtype=float)
    hi = np.array(hi, dtype=float)
    xtol = np.maximum(xtol, 4.0 * EPS * np.maximum(np.abs(lo), np.abs(hi)))
    bad = ~((x_out > lo) & (x_out < hi))
    x_out[bad] = 0.5 * (lo[bad] + hi[bad])
    # The state of the current working set is kept compact, so that each
    # iteration is element-wise work only.  Gathering the function's
    # parameters can cost more than a few evaluations, so the working set is
    # only compacted once fewer than ``compact_below`` of it is still live;
    # converged members are re-evaluated but no longer updated.
    work = np.arange(x_out.size)
    x = x_out.copy()
    br = Bracket.start(lo, hi, steps=hi - lo, illinois=True)
    live = np.ones(x.size, dtype=bool)
    fun = make_fun(slice(None))  # a view: no gather for the first pass
    for _ in range(maxiter):
        n_live = np.count_nonzero(live)
        if n_live == 0:
            break
        if n_live < compact_below * work.size:
            x_out[work] = x
            keep = np.flatnonzero(live)
            work, x, xtol, br = work[keep], x[keep], xtol[keep], compact(br, keep)
            live = np.ones(work.size, dtype=bool)
            fun = make_fun(work)
        f, df = fun(x)
        x, d, use_newton, use_secant = br.step(x, f, df, live, ftol)
        # A tiny Newton or bisection step means convergence; a tiny regula
        # falsi step only means that one end value dwarfs the other.
        small_step = (np.abs(d) <= xtol) & (use_newton | ~use_secant)
        done = small_step | (br.hi - br.lo <= xtol) | (np.abs(f) <= ftol)
        live &= ~done
    x_out[work] = x
    return x_out
