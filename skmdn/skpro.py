"""skmdn's mixture density networks for skpro users.

:class:`MDNProbaRegressor` is an skpro probabilistic regressor
(``skpro.regression.base.BaseProbaRegressor``) that fits an
:class:`~skmdn.MDNRegressor` or :class:`~skmdn.MDNEnsembleRegressor`; its
``predict_proba`` returns an :class:`MDNMixtureDistribution`, an skpro
distribution whose computations are skmdn's: densities in log space, an
exact inverse cdf, the closed-form energy of a Gaussian mixture (so skpro's
CRPS is exact) and vectorized sampling.

Needs the extra ``skpro`` (``pip install ".[skpro]"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

try:
    from skpro.distributions.base import BaseDistribution
    from skpro.regression.base import BaseProbaRegressor
    from skpro.utils.sklearn import prep_skl_df
except ImportError as exc:
    raise ImportError(
        "skmdn.skpro needs skpro: install skmdn with the extra skpro "
        '(pip install ".[skpro]" in the checkout).'
    ) from exc

from ._distributions import MixtureDistribution, MultivariateMixtureDistribution
from ._ensemble import MDNEnsembleRegressor
from ._regressor import MDNRegressor
from .metrics import _gauss_a, crps

__all__ = ["MDNMixtureDistribution", "MDNProbaRegressor"]


def _mean_abs_deviation(dist: MixtureDistribution, x: np.ndarray) -> np.ndarray:
    """``E|X - x_i|`` for ``X`` of row ``i`` of a one-dimensional mixture."""
    var = dist.scales * dist.scales
    return np.einsum("ik,ik->i", dist.weights, _gauss_a(x[:, None] - dist.means, var))


class MDNMixtureDistribution(BaseDistribution):
    """Gaussian mixtures, one per row, as an skpro distribution.

    Entry ``(i, j)`` is the mixture ``sum_k weights[i, k] *
    N(means[i, k, j], scales[i, k, j] ** 2)``. The columns of a row share its
    components, as a mixture with diagonal covariances does: :meth:`sample`
    draws one component per row and sample for all its columns, and the
    marginal of each column is the one-dimensional mixture above. Every
    method is computed by skmdn's :class:`~skmdn.MixtureDistribution` of the
    column: densities in log space, ``ppf`` by root finding to about 1e-12,
    and ``energy`` in closed form (Grimit et al., 2006), so that skpro's CRPS
    is exact.

    Parameters
    ----------
    weights : array-like of shape (n_rows, n_components) or (n_components,)
        Mixture weights; each row sums to 1 (within 1e-6).
    means : array-like of shape (n_rows, n_components, n_columns), \
            (n_rows, n_components) or (n_components,)
        Component means; the second shape is one column, the third a scalar
        distribution (with ``weights`` of shape ``(n_components,)``).
    scales : array-like of the shape of ``means``
        Component standard deviations, strictly positive.
    index : pandas.Index, default=None
        Row labels; ``RangeIndex(n_rows)`` when None.
    columns : pandas.Index, default=None
        Column labels; ``RangeIndex(n_columns)`` when None.

    See Also
    --------
    MDNProbaRegressor : The skpro regressor that predicts this distribution.
    skmdn.MixtureDistribution : The same mixtures, with skmdn's API (HDRs,
        modes, intervals).

    Examples
    --------
    >>> from skmdn.skpro import MDNMixtureDistribution
    >>> dist = MDNMixtureDistribution(
    ...     weights=[[0.5, 0.5], [0.2, 0.8]],
    ...     means=[[-1.0, 1.0], [0.0, 3.0]],
    ...     scales=[[0.5, 1.0], [1.0, 0.5]],
    ... )
    >>> dist.shape
    (2, 1)
    >>> dist.mean()
         0
    0  0.0
    1  2.4
    >>> dist.cdf(dist.ppf([[0.25], [0.75]])).round(12)
          0
    0  0.25
    1  0.75
    """

    _tags = {
        "capabilities:approx": ["pdfnorm"],
        "capabilities:exact": [
            "mean",
            "var",
            "energy",
            "pdf",
            "log_pdf",
            "cdf",
            "surv",
            "ppf",
        ],
        "distr:measuretype": "continuous",
        "distr:paramtype": "composite",
    }

    def __init__(self, weights, means, scales, index=None, columns=None):
        self.weights = weights
        self.means = means
        self.scales = scales

        w = np.asarray(weights, dtype=np.float64)
        mu = np.asarray(means, dtype=np.float64)
        s = np.asarray(scales, dtype=np.float64)
        scalar = w.ndim == 1 and index is None and columns is None
        # [K] -> [1, K] (a scalar), [n, K] -> [n, K, 1] (one column).
        w, mu, s = (a[None] if a.ndim == 1 else a for a in (w, mu, s))
        mu, s = (a[:, :, None] if a.ndim == 2 else a for a in (mu, s))
        if mu.shape != s.shape or mu.shape[:2] != w.shape:
            raise ValueError(
                "means and scales must have the same shape, (n_rows, "
                "n_components, n_columns), with weights of shape (n_rows, "
                f"n_components); got weights {w.shape}, means {mu.shape} and "
                f"scales {s.shape}."
            )
        self._columns = [
            MixtureDistribution(w, mu[:, :, j], s[:, :, j]) for j in range(mu.shape[2])
        ]
        self._means, self._scales = mu, s
        if not scalar:
            index = pd.RangeIndex(mu.shape[0]) if index is None else index
            columns = pd.RangeIndex(mu.shape[2]) if columns is None else columns
        super().__init__(index=index, columns=columns)

    def _per_column(self, method, x=None):
        """``method`` of each column's mixture, in the shape of ``self``."""
        n, d = self._means.shape[0], self._means.shape[2]
        if x is not None:
            x = np.asarray(x, dtype=np.float64).reshape(n, d)
        out = np.column_stack(
            [
                getattr(dist, method)() if x is None else getattr(dist, method)(x[:, j])
                for j, dist in enumerate(self._columns)
            ]
        )
        return float(out[0, 0]) if self.ndim == 0 else out

    def _mean(self):
        return self._per_column("mean")

    def _var(self):
        return self._per_column("var")

    def _pdf(self, x):
        return self._per_column("pdf", x)

    def _log_pdf(self, x):
        return self._per_column("logpdf", x)

    def _cdf(self, x):
        return self._per_column("cdf", x)

    def _surv(self, x):
        return self._per_column("sf", x)

    def _ppf(self, p):
        return self._per_column("ppf", p)

    def _row_energy(self, per_column):
        """Sum over the columns of ``per_column(j, dist)``, one per row."""
        total = sum(per_column(j, dist) for j, dist in enumerate(self._columns))
        return float(total[0]) if self.ndim == 0 else total[:, None]

    def _energy_self(self):
        # E|X - X'| = 2 (E|X - m| - CRPS(m)) for any m; at the mean both
        # terms are of the order of the spread, so nothing cancels badly.
        def self_energy(j, dist):
            m = dist.mean()
            return 2.0 * (_mean_abs_deviation(dist, m) - crps(m, dist, reduce=False))

        return self._row_energy(self_energy)

    def _energy_x(self, x):
        n, d = self._means.shape[0], self._means.shape[2]
        x = np.asarray(x, dtype=np.float64).reshape(n, d)
        return self._row_energy(lambda j, dist: _mean_abs_deviation(dist, x[:, j]))

    def sample(self, n_samples=None):
        """Sample from the distribution.

        One component is drawn per row and sample, for all the columns of
        the row. Draws come from NumPy's global generator, as in skpro:
        ``numpy.random.seed`` fixes them.

        Parameters
        ----------
        n_samples : int, default=None
            Number of samples; None draws one, in the shape of ``self``.

        Returns
        -------
        pandas.DataFrame or float
            With ``n_samples=None``, one draw with the index and columns of
            ``self`` (a float for a scalar distribution); otherwise
            ``n_samples`` draws, stacked with a row ``MultiIndex`` of
            ``RangeIndex(n_samples)`` and the index of ``self``.
        """
        N = 1 if n_samples is None else n_samples
        comp, rng = self._columns[0]._sample_components(N, None)  # [n, N]
        rows = np.arange(comp.shape[0])[:, None]
        noise = rng.standard_normal(comp.shape + (self._means.shape[2],))
        draws = self._means[rows, comp] + self._scales[rows, comp] * noise  # [n, N, d]
        flat = draws.transpose(1, 0, 2).reshape(-1, draws.shape[2])
        if self.ndim == 0:
            if n_samples is None:
                return float(flat[0, 0])
            return pd.DataFrame(flat, index=pd.RangeIndex(N), columns=pd.RangeIndex(1))
        if n_samples is None:
            index = self.index
        else:
            index = pd.MultiIndex.from_product([pd.RangeIndex(N), self.index])
        return pd.DataFrame(flat, index=index, columns=self.columns)

    def _iloc(self, rowidx=None, colidx=None):
        if np.isscalar(rowidx) and np.isscalar(colidx):
            return self._iat(rowidx, colidx)
        n, d = self._means.shape[0], self._means.shape[2]
        rows = np.arange(n) if rowidx is None else np.atleast_1d(np.arange(n)[rowidx])
        cols = np.arange(d) if colidx is None else np.atleast_1d(np.arange(d)[colidx])
        return type(self)(
            weights=self._columns[0].weights[rows],
            means=self._means[rows][:, :, cols],
            scales=self._scales[rows][:, :, cols],
            index=self.index.take(rows),
            columns=self.columns.take(cols),
        )

    def _iat(self, rowidx=None, colidx=None):
        return type(self)(
            weights=self._columns[0].weights[rowidx],
            means=self._means[rowidx, :, colidx],
            scales=self._scales[rowidx, :, colidx],
        )

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Parameter sets for skpro's checks: a table, labelled, a scalar."""
        weights = np.array([[0.3, 0.7], [0.5, 0.5], [0.8, 0.2]])
        means = np.array([[[0, 1], [3, 4]], [[1, 2], [4, 5]], [[2, 3], [5, 6]]])
        scales = np.array([[[1, 0.5], [1, 2]], [[0.5, 1], [1, 1]], [[1, 1], [2, 1]]])
        table = {"weights": weights, "means": means, "scales": scales}
        labelled = dict(table, index=pd.Index([1, 2, 5]), columns=pd.Index(["a", "b"]))
        scalar = {"weights": [0.4, 0.6], "means": [0.0, 3.0], "scales": [1.0, 2.0]}
        return [table, labelled, scalar]


def _diagonal_mixture(dist):
    """``(weights, means, scales)`` of a predicted mixture, means and scales
    of shape ``(n_rows, n_components, n_outputs)``."""
    if isinstance(dist, MultivariateMixtureDistribution):
        scales = np.diagonal(dist.scale_tril, axis1=2, axis2=3)
        return dist.weights, dist.means, scales
    return dist.weights, dist.means[:, :, None], dist.scales[:, :, None]


class MDNProbaRegressor(BaseProbaRegressor):
    """A mixture density network as an skpro probabilistic regressor.

    Fits a clone of ``estimator`` (an :class:`~skmdn.MDNRegressor` or
    :class:`~skmdn.MDNEnsembleRegressor`) and predicts its Gaussian mixture
    for each row as an :class:`MDNMixtureDistribution`, so that skpro's
    metrics (``LogLoss``, ``CRPS``, ...), pipelines, tuning and benchmarking
    work with it. ``predict`` is the conditional mean; ``predict_interval``
    and ``predict_quantiles`` come from the mixture's exact quantiles.

    Several columns of ``y`` are modelled jointly when the network's
    covariances are diagonal (``covariance_type="diag"``, the default):
    skpro's distributions hold the marginal of each column and draw the
    columns of a row together. A full-covariance network's correlations have
    no place there, so it is refused for several columns; use
    ``estimator_.predict_dist`` for its joint distribution.

    Parameters
    ----------
    estimator : MDNRegressor, MDNEnsembleRegressor or None, default=None
        The model to fit; None fits ``MDNRegressor()``.

    Attributes
    ----------
    estimator_ : MDNRegressor or MDNEnsembleRegressor
        The fitted clone, with skmdn's whole API (``predict_dist``, HDRs,
        modes, ``save``).

    See Also
    --------
    MDNMixtureDistribution : The distribution that ``predict_proba`` returns.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmdn import MDNRegressor
    >>> from skmdn.datasets import make_inverted_sinusoid
    >>> from skmdn.skpro import MDNProbaRegressor
    >>> X, y = make_inverted_sinusoid(300, random_state=0)
    >>> X, y = pd.DataFrame(X, columns=["y"]), pd.DataFrame({"x": y})
    >>> reg = MDNProbaRegressor(MDNRegressor(n_components=3, max_epochs=20))
    >>> reg = reg.fit(X, y)
    >>> dist = reg.predict_proba(X.iloc[:2])
    >>> dist.shape
    (2, 1)
    >>> reg.predict_interval(X.iloc[:2], coverage=0.9).shape
    (2, 2)
    """

    _tags = {
        "capability:multioutput": True,
        "capability:missing": False,
        "X_inner_mtype": "pd_DataFrame_Table",
        "y_inner_mtype": "pd_DataFrame_Table",
    }

    def __init__(self, estimator=None):
        self.estimator = estimator
        super().__init__()

    def _fit(self, X, y):
        estimator = MDNRegressor() if self.estimator is None else clone(self.estimator)
        if y.shape[1] > 1 and "full" in (
            value
            for name, value in estimator.get_params().items()
            if name.endswith("covariance_type")
        ):
            raise ValueError(
                f"y has {y.shape[1]} columns, but skpro's distributions cannot "
                "hold the correlations of covariance_type='full'. Use "
                "covariance_type='diag', or skmdn's own predict_dist for the "
                "joint distribution."
            )
        target = y.to_numpy()[:, 0] if y.shape[1] == 1 else y.to_numpy()
        # skpro allows column names of mixed types, scikit-learn does not.
        self.estimator_ = estimator.fit(prep_skl_df(X, copy_df=True), target)
        self._y_columns = y.columns
        return self

    def _predict(self, X):
        mean = self.estimator_.predict(prep_skl_df(X, copy_df=True))
        mean = mean.reshape(len(X), -1)
        return pd.DataFrame(mean, index=X.index, columns=self._y_columns)

    def _predict_proba(self, X):
        dist = self.estimator_.predict_dist(prep_skl_df(X, copy_df=True))
        weights, means, scales = _diagonal_mixture(dist)
        return MDNMixtureDistribution(
            weights, means, scales, index=X.index, columns=self._y_columns
        )

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Small, fast models for skpro's checks: one network, an ensemble."""
        small = dict(hidden_layer_sizes=(8,), max_epochs=5, random_state=0)
        return [
            {"estimator": MDNRegressor(n_components=2, **small)},
            {
                "estimator": MDNEnsembleRegressor(
                    MDNRegressor(n_components=1, **small),
                    n_estimators=2,
                    random_state=0,
                )
            },
        ]
