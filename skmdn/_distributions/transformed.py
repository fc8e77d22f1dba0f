"""The predictive distribution of a model fitted on a transformed target.

A :class:`~sklearn.compose.TransformedTargetRegressor` fits its regressor on
``z = g(y)``. If that regressor predicts a mixture for ``z``, the density of
``y`` is ``p_y(y) = p_z(g(y)) |det dg/dy|``: :class:`TransformedDistribution`
holds the mixture and the fitted transformer ``g`` and gives densities,
probabilities, quantiles, moments and samples in the units of ``y``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import (
    as_float_array,
    as_points,
    check_level,
    check_no_nan,
    check_probability,
)
from ._base import BaseMixtureDistribution

__all__ = ["TransformedDistribution"]

# Gauss-Hermite nodes per component for the moments: exact for affine
# transforms, accurate to ~1e-10 for exp of a scale up to about 2.
_HERMITE_NODES = 64

# Relative step of the central differences: about the cube root of the
# float64 epsilon, the step that balances truncation and rounding.
_DIFF_STEP = 6e-6


# log |g'(y)| of FunctionTransformer(func) for these funcs (without kw_args).
_FUNCTION_RULES = {
    np.log: lambda v: -np.log(v),
    np.log2: lambda v: -np.log(v) - np.log(np.log(2.0)),
    np.log10: lambda v: -np.log(v) - np.log(np.log(10.0)),
    np.log1p: lambda v: -np.log1p(v),
    np.sqrt: lambda v: -np.log(2.0) - 0.5 * np.log(v),
    np.exp: lambda v: v,
    np.expm1: lambda v: v,
    np.arcsinh: lambda v: -0.5 * np.log1p(v * v),
}


def _analytic_rule(transformer):
    """``y -> log |dg/dy|`` (on one column) for transformers whose derivative
    is known in closed form, else ``None``. Every one of them is increasing."""
    from sklearn.preprocessing import (
        FunctionTransformer,
        MaxAbsScaler,
        MinMaxScaler,
        PowerTransformer,
        RobustScaler,
        StandardScaler,
    )

    kind = type(transformer)
    if kind is FunctionTransformer:
        if transformer.kw_args:
            return None
        if transformer.func is None:
            return np.zeros_like
        return _FUNCTION_RULES.get(transformer.func)
    if kind in (StandardScaler, MaxAbsScaler, RobustScaler, MinMaxScaler):
        scale = getattr(transformer, "scale_", None)
        if scale is None:  # with_std=False, with_scaling=False
            return np.zeros_like
        # MinMaxScaler multiplies by its scale_, the others divide by it.
        log_scale = np.log(scale) if kind is MinMaxScaler else -np.log(scale)
        return lambda v: np.broadcast_to(log_scale, v.shape).copy()
    if kind is PowerTransformer:
        return lambda v: _power_log_derivative(transformer, v)
    return None


def _power_log_derivative(transformer, y):
    lam = transformer.lambdas_
    if transformer.method == "box-cox":
        out = (lam - 1.0) * np.log(y)
    else:  # yeo-johnson
        out = np.where(
            y >= 0,
            (lam - 1.0) * np.log1p(np.abs(y)),
            (1.0 - lam) * np.log1p(np.abs(y)),
        )
    if transformer.standardize:
        out = out - np.log(transformer._scaler.scale_)
    return out


class TransformedDistribution:
    """The distribution of ``y`` when ``z = g(y)`` follows a mixture.

    This is what :func:`skmdn.metrics.predictive_distribution` returns for a
    :class:`~sklearn.compose.TransformedTargetRegressor` around a mixture
    model: ``base`` is the mixture the inner model predicts for the
    transformed target and ``transformer`` the fitted transformer ``g``
    (``transform`` maps ``y`` to ``z``, ``inverse_transform`` back). ``g``
    must be strictly monotone in each output (``log``, ``sqrt``, a power or
    quantile transform, a scaler, ...).

    * Densities carry the Jacobian, ``log p_y(y) = log p_z(g(y)) +
      log |det dg/dy|``. It is analytic for a ``FunctionTransformer`` of
      ``np.log``, ``np.log2``, ``np.log10``, ``np.log1p``, ``np.sqrt``,
      ``np.exp``, ``np.expm1`` or ``np.arcsinh`` (without ``kw_args``), for
      ``StandardScaler``, ``MinMaxScaler``, ``MaxAbsScaler``,
      ``RobustScaler`` and ``PowerTransformer``; for every other transformer
      it is taken by central differences of ``transform`` with a relative
      step of ``6e-6`` (about 1e-9 relative error for smooth ``g``). Outside
      the domain of ``g`` (``y <= 0`` for ``np.log``) the density is 0.
    * ``cdf``, ``ppf``, ``interval`` and ``median`` (one output) map
      probabilities through ``g``, which is exact: quantiles of ``y`` are the
      transformed quantiles of ``z`` (reversed where ``g`` decreases).
    * ``mean``, ``var`` and ``std`` (one output) integrate ``g^-1`` against
      each Gaussian component with 64-point Gauss-Hermite quadrature;
      ``sample`` transforms samples of ``z``.

    Parameters
    ----------
    base : MixtureDistribution or MultivariateMixtureDistribution
        The distribution of ``z``, one row per sample.
    transformer : fitted transformer
        ``g``, with ``transform`` and ``inverse_transform`` on arrays of
        shape ``(n, n_outputs)``.

    Attributes
    ----------
    base, transformer
        As given.
    n_outputs : int
        Dimension of ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skmdn import MixtureDistribution, TransformedDistribution
    >>> z = MixtureDistribution([[1.0]], [[0.0]], [[1.0]])  # log y ~ N(0, 1)
    >>> g = FunctionTransformer(np.log, np.exp).fit(np.ones((1, 1)))
    >>> y = TransformedDistribution(z, g)  # y is log-normal
    >>> bool(np.isclose(y.mean()[0], np.exp(0.5)))
    True
    >>> y.median().round(6)
    array([1.])
    """

    def __init__(self, base: BaseMixtureDistribution, transformer) -> None:
        if not isinstance(base, BaseMixtureDistribution):
            raise TypeError(
                "base must be a MixtureDistribution or a "
                f"MultivariateMixtureDistribution; got {type(base).__name__}."
            )
        for method in ("transform", "inverse_transform"):
            if not callable(getattr(transformer, method, None)):
                raise TypeError(
                    f"transformer must have a {method} method; "
                    f"{type(transformer).__name__} has none."
                )
        if base.n_outputs == 1 and hasattr(base, "marginal"):
            base = base.marginal(0)
        self.base = base
        self.transformer = transformer

    # ------------------------------------------------------------------ #
    @property
    def n_outputs(self) -> int:
        """Dimension of the target."""
        return self.base.n_outputs

    @property
    def n_components(self) -> int:
        """Number of components of the mixture of the transformed target."""
        return self.base.n_components

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, rows) -> TransformedDistribution:
        return TransformedDistribution(self.base[rows], self.transformer)

    def __repr__(self) -> str:
        return (
            f"TransformedDistribution(n_rows={len(self)}, "
            f"n_components={self.n_components}, n_outputs={self.n_outputs}, "
            f"transformer={type(self.transformer).__name__})"
        )

    def _one_output(self, method: str) -> None:
        if self.n_outputs != 1:
            raise ValueError(
                f"{method} is defined for one output; this distribution has "
                f"{self.n_outputs}. Use logpdf or sample."
            )

    # ------------------------------------------------------------------ #
    # The transform and its Jacobian
    # ------------------------------------------------------------------ #
    def _g(self, y: NDArray) -> NDArray:
        """``g`` on rows of shape ``(n, d)``; NaN outside its domain."""
        with np.errstate(all="ignore"):
            return np.asarray(self.transformer.transform(y), dtype=np.float64)

    def _g_inv(self, z: NDArray) -> NDArray:
        with np.errstate(all="ignore"):
            out = self.transformer.inverse_transform(z)
        return np.asarray(out, dtype=np.float64).reshape(z.shape)

    def _forward(self, y: NDArray):
        """``g(y)``, ``log |det dg/dy|`` and the sign of ``dg/dy`` (one output)
        for points ``y`` of shape ``(n, d)``."""
        z = self._g(y).reshape(y.shape)
        d = y.shape[1]
        if d == 1:
            rule = _analytic_rule(self.transformer)
            if rule is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    logdet = rule(y)
                return z, logdet[:, 0], np.ones(y.shape[0])
        jac = np.empty((y.shape[0], d, d))
        for j in range(d):
            h = _DIFF_STEP * np.maximum(np.abs(y[:, j]), 1e-8)
            step = np.zeros_like(y)
            step[:, j] = h
            up, down = self._g(y + step), self._g(y - step)
            up_ok = np.isfinite(up).all(axis=1)
            down_ok = np.isfinite(down).all(axis=1)
            # One-sided at the edge of the domain (log near 0).
            up = np.where(up_ok[:, None], up, z)
            down = np.where(down_ok[:, None], down, z)
            width = np.where(up_ok & down_ok, 2.0, 1.0)
            jac[:, :, j] = (up - down) / (width * h)[:, None]
        with np.errstate(all="ignore"):
            sign, logdet = np.linalg.slogdet(jac)
        return z, logdet, sign

    # ------------------------------------------------------------------ #
    # Pointwise
    # ------------------------------------------------------------------ #
    def _points(self, y: ArrayLike):
        """``y`` as ``(n_rows * m, d)`` rows, with the shape to give back."""
        n, d = len(self), self.n_outputs
        if d == 1:
            y2, squeeze = as_points(y, n, "y")
            shape = y2.shape
            return y2.reshape(-1, 1), shape, squeeze
        arr = as_float_array(y, "y")
        if arr.shape != (n, d):
            raise ValueError(
                f"y must have shape ({n}, {d}) for {n} rows of {d} outputs; "
                f"got shape {arr.shape}."
            )
        return arr, (n,), False

    def logpdf(self, y: ArrayLike) -> NDArray:
        """Log density of ``y``, with the log Jacobian of the transform.

        Parameters
        ----------
        y : float or array-like of shape (n_rows,) or (n_rows, m) for one \
                output; array-like of shape (n_rows, n_outputs) for several

        Returns
        -------
        logpdf : ndarray of shape (n_rows,) or (n_rows, m)
        """
        flat, shape, squeeze = self._points(y)
        check_no_nan(flat, "y")
        z, logdet, _ = self._forward(flat)
        inside = np.isfinite(z).all(axis=1) & np.isfinite(logdet)
        out = np.full(flat.shape[0], -np.inf)
        if self.n_outputs == 1:
            zz = np.where(inside, z[:, 0], 0.0).reshape(shape)
            base = self.base.logpdf(zz).reshape(-1)
        else:
            base = self.base.logpdf(np.where(inside[:, None], z, 0.0))
        out[inside] = base[inside] + logdet[inside]
        out = out.reshape(shape)
        return out[:, 0] if squeeze else out

    def pdf(self, y: ArrayLike) -> NDArray:
        """Density of ``y``; see :meth:`logpdf`."""
        return np.exp(self.logpdf(y))

    def cdf(self, y: ArrayLike) -> NDArray:
        """``P(Y <= y)`` (one output).

        Parameters
        ----------
        y : float or array-like of shape (n_rows,) or (n_rows, m)

        Returns
        -------
        cdf : ndarray of shape (n_rows,) or (n_rows, m)
        """
        self._one_output("cdf")
        flat, shape, squeeze = self._points(y)
        check_no_nan(flat, "y")
        z, _, sign = self._forward(flat)
        z = z[:, 0].reshape(shape)
        sign = sign.reshape(shape)
        inside = ~np.isnan(z)
        known = np.isfinite(sign) & (sign != 0)
        # The median (a root solve per row) only where a point needs it.
        median = None if inside.all() and known.all() else self.median()
        increasing = sign > 0
        if not known.all():
            increasing = np.where(known, increasing, self._increasing(median)[:, None])
        p = self.base.cdf(np.where(inside, z, 0.0))
        p = np.where(increasing, p, 1.0 - p)
        if not inside.all():
            # Outside the domain of g: below or above it, seen from the median.
            above = flat[:, 0].reshape(shape) > median[:, None]
            p = np.where(inside, p, above.astype(float))
        return p[:, 0] if squeeze else p

    def _increasing(self, median=None) -> NDArray:
        """Whether ``g`` increases, per row (tested at the median of ``y``,
        given or computed here; known without a test for a closed-form g)."""
        if _analytic_rule(self.transformer) is not None:
            return np.ones(len(self), bool)
        ym = self.median() if median is None else median
        _, _, sign = self._forward(ym[:, None])
        return sign >= 0

    def ppf(self, q: ArrayLike) -> NDArray:
        """Quantile function (one output): ``g^-1`` of the quantile of ``z``.

        Parameters
        ----------
        q : float or array-like of shape (n_rows,) or (n_rows, m)

        Returns
        -------
        quantiles : ndarray of shape (n_rows,) or (n_rows, m)
        """
        self._one_output("ppf")
        q2, squeeze = as_points(q, len(self), "q")
        q2 = check_probability(q2, "q")
        q2 = np.where(self._increasing()[:, None], q2, 1.0 - q2)
        zq = self.base.ppf(q2)
        out = self._g_inv(zq.reshape(-1, 1)).reshape(zq.shape)
        return out[:, 0] if squeeze else out

    def median(self) -> NDArray:
        """Median of each row (one output)."""
        self._one_output("median")
        return self._g_inv(self.base.median()[:, None])[:, 0]

    def interval(self, confidence: float) -> tuple[NDArray, NDArray]:
        """Equal-tailed interval of probability ``confidence`` (one output).

        Parameters
        ----------
        confidence : float
            Probability in (0, 1) between the ends.

        Returns
        -------
        lower, upper : ndarray of shape (n_rows,)
        """
        c = check_level(confidence, "confidence")
        both = self.ppf(np.array([[0.5 * (1 - c), 0.5 * (1 + c)]] * len(self)))
        return both[:, 0], both[:, 1]

    # ------------------------------------------------------------------ #
    # Moments and samples
    # ------------------------------------------------------------------ #
    def _expect(self, power: int) -> NDArray:
        x, w = np.polynomial.hermite.hermgauss(_HERMITE_NODES)
        base = self.base
        z = base.means[:, :, None] + np.sqrt(2.0) * base.scales[:, :, None] * x
        y = self._g_inv(z.reshape(-1, 1)).reshape(z.shape)
        per_component = np.einsum("ikn,n->ik", y**power, w / np.sqrt(np.pi))
        return np.einsum("ik,ik->i", base.weights, per_component)

    def mean(self) -> NDArray:
        """Mean of each row (one output), by Gauss-Hermite quadrature."""
        self._one_output("mean")
        return self._expect(1)

    def var(self) -> NDArray:
        """Variance of each row (one output), by Gauss-Hermite quadrature."""
        self._one_output("var")
        mean = self._expect(1)
        return np.maximum(self._expect(2) - mean * mean, 0.0)

    def std(self) -> NDArray:
        """Standard deviation of each row (one output)."""
        return np.sqrt(self.var())

    def sample(self, n_samples: int = 1, random_state=None) -> NDArray:
        """Draw samples of ``y``: ``g^-1`` of samples of ``z``.

        Parameters
        ----------
        n_samples : int, default=1
            Draws per row.
        random_state : None, int, numpy.random.RandomState or numpy.random.Generator
            Seed or generator of the draws.

        Returns
        -------
        samples : ndarray of shape (n_rows, n_samples) for one output, \
                (n_rows, n_samples, n_outputs) for several
        """
        z = self.base.sample(n_samples, random_state=random_state)
        d = self.n_outputs
        return self._g_inv(z.reshape(-1, d)).reshape(z.shape)
