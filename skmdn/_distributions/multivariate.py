"""Predictive distribution of a mixture density network with a vector target.

:class:`MultivariateMixtureDistribution` holds a batch of ``d``-dimensional
Gaussian mixtures with full covariance matrices, one mixture per row (one row
per sample of ``X``).  Every component is parametrised by the lower-triangular
Cholesky factor ``L`` of its covariance ``L L^T``.  Everything is vectorised
over rows with NumPy; the only Python loops run over the components, over the
output dimensions or over fixed-size chunks of rows (to bound memory).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

from .._checks import LOG_2PI as _LOG_2PI
from .._checks import as_float_array as _as_float_array
from .._checks import as_points, check_finite, check_no_nan, check_weights
from ._base import BaseMixtureDistribution, read_only
from ._kernels import row_chunks as _row_chunks
from .univariate import MixtureDistribution

__all__ = ["MultivariateMixtureDistribution"]

# Number of (row, component, point, output) values evaluated per chunk of
# logpdf(); 2**18 float64 values (2 MiB) per temporary.
_CHUNK = 2**18


def _tril_inverse(L: NDArray) -> NDArray:
    """Inverse of a batch ``(..., d, d)`` of lower-triangular matrices.

    Forward substitution on the identity, one output row at a time, so the
    result is exactly lower triangular.
    """
    d = L.shape[-1]
    inv = np.zeros_like(L)
    for i in range(d):
        row = -np.einsum("...j,...jk->...k", L[..., i, :i], inv[..., :i, :])
        row[..., i] += 1.0
        inv[..., i, :] = row / L[..., i, i : i + 1]
    return inv


class MultivariateMixtureDistribution(BaseMixtureDistribution):
    """A batch of ``d``-dimensional Gaussian mixtures, one per row.

    Row ``i`` is the density
    ``p_i(y) = sum_k w_ik N(y; mu_ik, L_ik L_ik^T)`` over ``y`` in ``R^d``.

    Parameters
    ----------
    weights : array-like of shape (n_rows, n_components)
        Non-negative mixture weights; every row must sum to 1 within 1e-6
        (rows are then renormalised to sum to 1 exactly).
    means : array-like of shape (n_rows, n_components, n_outputs)
        Component means.
    scale_tril : array-like of shape (n_rows, n_components, n_outputs, n_outputs)
        Lower-triangular Cholesky factors ``L`` of the component covariances
        ``L L^T``, with a strictly positive diagonal.  Entries above the
        diagonal must be zero.

    Attributes
    ----------
    weights : ndarray of shape (n_rows, n_components)
    means : ndarray of shape (n_rows, n_components, n_outputs)
    scale_tril : ndarray of shape (n_rows, n_components, n_outputs, n_outputs)
        Read-only float64 copies of the parameters.
    n_components : int
        Number of mixture components ``K``.
    n_outputs : int
        Dimension ``d`` of the target.

    See Also
    --------
    skmdn.MixtureDistribution : The one-dimensional counterpart, returned by
        :meth:`marginal`.

    Notes
    -----
    Point arguments ``y`` of :meth:`logpdf` and :meth:`pdf` follow one shape
    rule: an array of shape ``(n_outputs,)`` is one point applied to every row
    and gives shape ``(n_rows,)``; an array of shape ``(n_rows, n_outputs)``
    pairs one point with each row and gives ``(n_rows,)``; an array of shape
    ``(n_rows, m, n_outputs)`` gives ``m`` points per row and shape
    ``(n_rows, m)``.  Other shapes raise a ``ValueError``.

    Densities are computed in log space with a log-sum-exp over components,
    using the inverse Cholesky factors (computed once) and
    ``log det(L L^T) = 2 sum log diag(L)``; points far in the tails get a
    finite, very negative ``logpdf`` and zero weights are allowed.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn import MultivariateMixtureDistribution
    >>> dist = MultivariateMixtureDistribution.from_diagonal(
    ...     weights=[[0.5, 0.5]],
    ...     means=[[[-1.0, 0.0], [1.0, 0.0]]],
    ...     scales=[[[0.5, 1.0], [0.5, 1.0]]],
    ... )
    >>> dist
    MultivariateMixtureDistribution(n_rows=1, n_components=2, n_outputs=2)
    >>> dist.mean()
    array([[0., 0.]])
    >>> dist.covariance()
    array([[[1.25, 0.  ],
            [0.  , 1.  ]]])
    >>> dist.logpdf([1.0, 0.0]).round(4)
    array([-1.8375])
    >>> dist.sample(5, random_state=0).shape
    (1, 5, 2)
    >>> dist.conditional(1, [0.5]).marginal(0).mean()
    array([0.])
    """

    def __init__(
        self, weights: ArrayLike, means: ArrayLike, scale_tril: ArrayLike
    ) -> None:
        self._set(*self._check(weights, means, scale_tril))

    @staticmethod
    def _check(weights, means, scale_tril) -> tuple[NDArray, NDArray, NDArray]:
        """The constructor's checks; float64 arrays with renormalised weights."""
        w = _as_float_array(weights, "weights")
        mu = _as_float_array(means, "means")
        L = _as_float_array(scale_tril, "scale_tril")
        shapes = {"weights": w.shape, "means": mu.shape, "scale_tril": L.shape}
        if w.ndim != 2 or mu.ndim != 3 or L.ndim != 4:
            raise ValueError(
                "expected weights of shape (n_rows, n_components), means of shape "
                "(n_rows, n_components, n_outputs) and scale_tril of shape "
                "(n_rows, n_components, n_outputs, n_outputs); got shapes "
                f"{shapes}."
            )
        n, K = w.shape
        d = mu.shape[2]
        if mu.shape[:2] != (n, K) or L.shape != (n, K, d, d):
            raise ValueError(
                "inconsistent shapes: expected weights (n_rows, n_components), "
                "means (n_rows, n_components, n_outputs) and scale_tril "
                f"(n_rows, n_components, n_outputs, n_outputs); got {shapes}."
            )
        if K == 0:
            raise ValueError("A mixture needs at least one component; got 0.")
        if d == 0:
            raise ValueError("A mixture needs at least one output; got n_outputs=0.")
        check_finite({"weights": w, "means": mu, "scale_tril": L})
        w = check_weights(w)
        diag = np.diagonal(L, axis1=2, axis2=3)
        if diag.size and np.any(diag <= 0):
            raise ValueError(
                "scale_tril must have a strictly positive diagonal; got minimum "
                f"{diag.min()!r}."
            )
        upper = np.triu(L, k=1)
        if np.any(upper != 0):
            raise ValueError(
                "scale_tril must be lower triangular; got entries above the "
                f"diagonal up to {np.abs(upper).max()!r} in absolute value."
            )
        return w, mu, L

    @classmethod
    def from_diagonal(
        cls,
        weights: ArrayLike,
        means: ArrayLike,
        scales: ArrayLike,
        *,
        log_weights: ArrayLike | None = None,
    ) -> MultivariateMixtureDistribution:
        """Mixture of Gaussians with diagonal covariances.

        Parameters
        ----------
        weights : array-like of shape (n_rows, n_components)
            Mixture weights, as in the constructor.
        means : array-like of shape (n_rows, n_components, n_outputs)
            Component means.
        scales : array-like of shape (n_rows, n_components, n_outputs)
            Per-output standard deviations of every component, strictly
            positive.
        log_weights : array-like of shape (n_rows, n_components), optional
            ``log(weights)``, already normalised in log space (as a network's
            log-softmax output).  When given, the densities use it instead
            of recomputing ``log(weights)``.

        Returns
        -------
        dist : MultivariateMixtureDistribution
            With ``scale_tril`` the diagonal matrices ``diag(scales)``.
        """
        s = _as_float_array(scales, "scales")
        mu = _as_float_array(means, "means")
        if s.ndim != 3 or s.shape != mu.shape:
            raise ValueError(
                "scales must have the shape of means, (n_rows, n_components, "
                f"n_outputs); got scales of shape {s.shape} and means of shape "
                f"{mu.shape}."
            )
        check_finite({"scales": s})
        if s.size and np.any(s <= 0):
            raise ValueError(
                f"scales must be strictly positive; got minimum {s.min()!r}."
            )
        tril = s[..., :, None] * np.eye(s.shape[2])
        if log_weights is None:
            return cls(weights, mu, tril)
        return cls._from_validated(
            *cls._check(weights, mu, tril), log_weights=log_weights
        )

    def _set(self, w, mu, L, tril_inv=None, log_coef=None, log_w=None) -> None:
        w = np.array(w, dtype=np.float64)
        mu = np.array(mu, dtype=np.float64)
        L = np.array(L, dtype=np.float64)
        if tril_inv is None:
            tril_inv = _tril_inverse(L)
        if log_coef is None:
            log_diag = np.log(np.diagonal(L, axis1=2, axis2=3))
            if log_w is None:
                with np.errstate(divide="ignore"):
                    log_w = np.log(w)
            log_coef = log_w - log_diag.sum(axis=2) - 0.5 * mu.shape[2] * _LOG_2PI
        tril_inv = np.array(tril_inv, dtype=np.float64)
        log_coef = np.array(log_coef, dtype=np.float64)
        read_only(w, mu, L, tril_inv, log_coef)
        self.weights, self.means, self.scale_tril = w, mu, L
        # Inverse Cholesky factors and log(w_k / ((2 pi)^(d/2) det L_k)).
        self._tril_inv, self._log_coef = tril_inv, log_coef

    @classmethod
    def _from_validated(
        cls,
        weights: ArrayLike,
        means: ArrayLike,
        scale_tril: ArrayLike,
        *,
        log_weights: ArrayLike | None = None,
        tril_inv: ArrayLike | None = None,
        log_coef: ArrayLike | None = None,
    ) -> MultivariateMixtureDistribution:
        """A distribution from parameters known to be valid, unchecked.

        The arrays satisfy the constructor's rules (rows of ``weights`` sum
        to 1; they are not renormalised) and are copied as float64.
        ``log_weights`` (``log(weights)``, normalised in log space) is used
        instead of recomputing ``log(weights)``; ``tril_inv`` (the inverse
        Cholesky factors) and ``log_coef``
        (``log(w_k / ((2 pi)^(d/2) det L_k))``, which supersedes
        ``log_weights``) are taken as given when known.
        """
        obj = cls.__new__(cls)
        lw = None if log_weights is None else np.asarray(log_weights, np.float64)
        obj._set(weights, means, scale_tril, tril_inv, log_coef, lw)
        return obj

    def _parameters(self):
        kwargs = {"tril_inv": self._tril_inv, "log_coef": self._log_coef}
        return (self.weights, self.means, self.scale_tril), kwargs

    # ------------------------------------------------------------------ #
    # Shapes
    # ------------------------------------------------------------------ #
    @property
    def covariances(self) -> NDArray:
        """Component covariances ``L L^T``, shape ``(n_rows, K, d, d)``."""
        L = self.scale_tril
        return np.einsum("nkij,nklj->nkil", L, L)

    # ------------------------------------------------------------------ #
    # Moments
    # ------------------------------------------------------------------ #
    def mean(self) -> NDArray:
        """Mean vector of every row.

        Returns
        -------
        mean : ndarray of shape (n_rows, n_outputs)
        """
        return np.einsum("nk,nkd->nd", self.weights, self.means)

    def covariance(self) -> NDArray:
        """Covariance matrix of every row (law of total covariance).

        ``sum_k w_k (Sigma_k + (mu_k - mean)(mu_k - mean)^T)``: the expected
        within-component covariance plus the covariance of the component
        means.

        Returns
        -------
        covariance : ndarray of shape (n_rows, n_outputs, n_outputs)
        """
        centred = self.means - self.mean()[:, None, :]
        within = np.einsum("nk,nkij->nij", self.weights, self.covariances)
        between = np.einsum("nk,nki,nkj->nij", self.weights, centred, centred)
        return within + between

    def std(self) -> NDArray:
        """Standard deviation of every output of every row.

        Returns
        -------
        std : ndarray of shape (n_rows, n_outputs)
            Square root of the diagonal of :meth:`covariance`.
        """
        return np.sqrt(np.diagonal(self.covariance(), axis1=1, axis2=2))

    # ------------------------------------------------------------------ #
    # Densities
    # ------------------------------------------------------------------ #
    def _as_points(self, y: ArrayLike) -> tuple[NDArray, bool]:
        """Apply the shape rule; return ``(n_rows, m, d)`` points and squeeze."""
        out, squeeze = as_points(y, len(self), "y", self.n_outputs)
        check_no_nan(out, "y")
        return out, squeeze

    def _logpdf_points(self, y: NDArray) -> NDArray:
        """Log density of points ``y`` of shape ``(n_rows, m, d)``."""
        n, m, d = y.shape
        K = self.n_components
        out = np.empty((n, m))
        infinite = ~np.all(np.isfinite(y), axis=2)
        if infinite.any():
            y = np.where(np.isfinite(y), y, 0.0)
        for rows in _row_chunks(n, K * m * d, _CHUNK):
            diff = y[rows, None, :, :] - self.means[rows, :, None, :]
            z = np.einsum("nkij,nkmj->nkmi", self._tril_inv[rows], diff)
            terms = self._log_coef[rows, :, None] - 0.5 * np.einsum(
                "nkmi,nkmi->nkm", z, z
            )
            out[rows] = logsumexp(terms, axis=1)
        out[infinite] = -np.inf
        return out

    def logpdf(self, y: ArrayLike) -> NDArray:
        """Log density.

        Parameters
        ----------
        y : array-like of shape (n_outputs,), (n_rows, n_outputs) or \
(n_rows, m, n_outputs)
            Points; see the shape rule in the class notes.  A point with an
            infinite coordinate has log density ``-inf``; NaN raises
            ``ValueError``.

        Returns
        -------
        logpdf : ndarray of shape (n_rows,) or (n_rows, m)
        """
        points, squeeze = self._as_points(y)
        out = self._logpdf_points(points)
        return out[:, 0] if squeeze else out

    def pdf(self, y: ArrayLike) -> NDArray:
        """Probability density.

        Parameters
        ----------
        y : array-like of shape (n_outputs,), (n_rows, n_outputs) or \
(n_rows, m, n_outputs)
            Points; see the shape rule in the class notes.

        Returns
        -------
        pdf : ndarray of shape (n_rows,) or (n_rows, m)
        """
        return np.exp(self.logpdf(y))

    # ------------------------------------------------------------------ #
    # Sampling
    # ------------------------------------------------------------------ #
    def sample(self, n_samples: int = 1, random_state=None) -> NDArray:
        """Draw samples from every row.

        Parameters
        ----------
        n_samples : int, default=1
            Number of draws per row.
        random_state : None, int, numpy.random.RandomState or \
numpy.random.Generator
            Seed or generator, as in scikit-learn's ``check_random_state``;
            a ``numpy.random.Generator`` is used as is.

        Returns
        -------
        samples : ndarray of shape (n_rows, n_samples, n_outputs)
        """
        comp, rng = self._sample_components(n_samples, random_state)
        n, K, d = self.means.shape
        n_samples = comp.shape[1]
        noise = rng.standard_normal((n, n_samples, d))
        out = np.empty((n, n_samples, d))
        for rows in _row_chunks(n, n_samples * d * d, _CHUNK):
            r = np.arange(n)[rows, None]
            c = comp[rows]
            out[rows] = self.means[r, c] + np.einsum(
                "nsij,nsj->nsi", self.scale_tril[r, c], noise[rows]
            )
        return out

    # ------------------------------------------------------------------ #
    # Marginals and conditionals
    # ------------------------------------------------------------------ #
    def _check_output(self, j, name: str = "j") -> int:
        d = self.n_outputs
        if isinstance(j, (bool, np.bool_)) or not isinstance(j, numbers.Integral):
            raise ValueError(f"{name} must be an integer output index; got {j!r}.")
        if not -d <= j < d:
            raise ValueError(
                f"{name}={j} is out of range for a distribution with {d} outputs."
            )
        return int(j) % d

    def marginal(self, j: int) -> MixtureDistribution:
        """One-dimensional marginal distribution of output ``j``.

        The marginal of a Gaussian mixture is the mixture of the components'
        marginals: same weights, means ``means[..., j]`` and standard
        deviations ``sqrt(covariances[..., j, j])``.

        Parameters
        ----------
        j : int
            Output index, in ``[-n_outputs, n_outputs)``.

        Returns
        -------
        marginal : MixtureDistribution
            With ``n_rows`` rows and ``n_components`` components.
        """
        j = self._check_output(j)
        # sqrt((L L^T)_jj) is the norm of row j of L.
        scales = np.sqrt(
            np.einsum(
                "nki,nki->nk", self.scale_tril[:, :, j, :], self.scale_tril[:, :, j, :]
            )
        )
        return MixtureDistribution._from_validated(
            self.weights, self.means[:, :, j], scales
        )

    def conditional(
        self, index: int | Sequence[int], values: ArrayLike
    ) -> MultivariateMixtureDistribution:
        """Distribution of the other outputs given the values of some outputs.

        Conditioning a Gaussian mixture on ``y_b = values`` gives again a
        Gaussian mixture over the remaining outputs ``y_a``: component ``k``
        keeps its covariance's Schur complement
        ``S_aa - S_ab S_bb^{-1} S_ba`` and has mean
        ``mu_a + S_ab S_bb^{-1} (values - mu_b)``, and its weight becomes
        proportional to ``w_k N(values; mu_b, S_bb)`` (computed in log space).
        Both are read off the Cholesky factor of the covariance with the
        outputs reordered as ``(b, a)``.

        Parameters
        ----------
        index : int or sequence of int
            Distinct indices of the observed outputs; at least one output must
            remain.
        values : array-like of shape (n_rows, len(index)) or (len(index),)
            Observed values, one vector per row or one vector for all rows
            (a scalar is broadcast too; with a single ``index`` an array of
            shape ``(n_rows,)`` gives one value per row).  Must be finite.

        Returns
        -------
        conditional : MultivariateMixtureDistribution
            Always a multivariate distribution over the ``n_outputs -
            len(index)`` remaining outputs, in increasing order of their
            original index, even when a single output remains: use
            ``.marginal(0)`` to get a :class:`MixtureDistribution` then.
        """
        n, K, d = self.means.shape
        scalar_index = isinstance(index, numbers.Integral) and not isinstance(
            index, (bool, np.bool_)
        )
        idx_list = [index] if scalar_index else list(np.atleast_1d(np.asarray(index)))
        if len(idx_list) == 0:
            raise ValueError("index must name at least one output; got none.")
        b = [self._check_output(i, "index") for i in idx_list]
        if len(set(b)) != len(b):
            raise ValueError(f"index must not repeat outputs; got {b}.")
        if len(b) >= d:
            raise ValueError(
                f"cannot condition on all {d} outputs: at least one must remain."
            )
        p = len(b)
        a = [i for i in range(d) if i not in b]
        x = _as_float_array(values, "values")
        if x.ndim == 0:
            x = np.broadcast_to(x, (n, p))
        elif x.shape == (p,):
            x = np.broadcast_to(x, (n, p))
        elif x.shape == (n,) and p == 1:
            x = x[:, None]
        elif x.shape != (n, p):
            raise ValueError(
                f"values must have shape ({p},) or ({n}, {p}) to condition on "
                f"{p} output(s) of a distribution with {n} rows; got an array of "
                f"shape {x.shape}."
            )
        if not np.all(np.isfinite(x)):
            raise ValueError("values contains NaN or infinite values.")

        order = b + a
        if order == list(range(d)):
            L = self.scale_tril
        else:
            cov = self.covariances[:, :, order][:, :, :, order]
            try:
                L = np.linalg.cholesky(cov)
            except np.linalg.LinAlgError as exc:
                raise ValueError(
                    "a component covariance is numerically singular after "
                    "reordering the outputs; cannot condition."
                ) from exc
        L_bb, L_ab, L_aa = L[:, :, :p, :p], L[:, :, p:, :p], L[:, :, p:, p:]
        diff = x[:, None, :] - self.means[:, :, b]
        z = np.einsum("nkij,nkj->nki", _tril_inverse(L_bb), diff)
        log_det = np.log(np.diagonal(L_bb, axis1=2, axis2=3)).sum(axis=2)
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights)
        log_post = log_w - log_det - 0.5 * np.einsum("nki,nki->nk", z, z)
        log_post -= logsumexp(log_post, axis=1, keepdims=True)
        w = np.exp(log_post)
        w /= w.sum(axis=1, keepdims=True)
        mu = self.means[:, :, a] + np.einsum("nkij,nkj->nki", L_ab, z)
        return MultivariateMixtureDistribution._from_validated(w, mu, L_aa)
