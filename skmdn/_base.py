"""The base class of the estimators that predict Gaussian mixtures.

:class:`BaseMixtureRegressor` holds what ``MDNRegressor`` and
``MDNEnsembleRegressor`` share: ``fit`` with its rollback, input validation
at prediction time, and every prediction method (``predict``, densities,
scores, samples, quantiles, intervals), all derived from one hook,
``_dist_of``. The functions below it build distribution objects from
network outputs (:func:`mixture_from_network`) and combine those of several
networks (:func:`combine_mixtures`) without validating them again:
validation happens once, where the user's data come in.
"""

from __future__ import annotations

import copyreg
from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._checks import (
    as_float_array,
    check_n_samples,
    check_rng,
    check_sample_weights,
)
from ._distributions import MixtureDistribution, MultivariateMixtureDistribution
from ._distributions._hdr import concatenate_regions
from ._distributions._kernels import row_chunks
from ._skorch import CHUNK_ROWS

__all__ = ["BaseMixtureRegressor", "combine_mixtures", "mixture_from_network"]


def mixture_from_network(log_weights, means, scales, y_mean, y_scale):
    """The distribution of network outputs, in the units of ``y``.

    Parameters
    ----------
    log_weights : ndarray of shape (n, K)
        The network's log mixing weights (``log_softmax`` in float32); they
        are normalized once more in float64, in log space.
    means : ndarray of shape (n, K, d)
        Standardized component means.
    scales : ndarray of shape (n, K, d) or (n, K, d, d)
        Standardized standard deviations, or Cholesky factors.
    y_mean, y_scale : ndarray of shape (d,)
        The target standardization to undo.

    Returns
    -------
    MixtureDistribution or MultivariateMixtureDistribution
        A :class:`MixtureDistribution` for ``d == 1``.
    """
    log_weights = log_weights - logsumexp(log_weights, axis=1, keepdims=True)
    weights = np.exp(log_weights)
    means = means * y_scale + y_mean
    if scales.ndim == 4:
        # Cholesky factor of D Sigma D for D = diag(y_scale).
        tril = scales * y_scale[:, None]
        first = tril[..., 0, 0]
    else:
        scales = scales * y_scale
        tril, first = None, scales[..., 0]
    if means.shape[2] == 1:
        return MixtureDistribution._from_validated(
            weights, means[..., 0], first, log_weights=log_weights
        )
    if tril is None:
        tril = scales[..., :, None] * np.eye(scales.shape[2])
    return MultivariateMixtureDistribution._from_validated(
        weights, means, tril, log_weights=log_weights
    )


def combine_mixtures(dists, member_weights=None):
    """One mixture of the components of ``dists``.

    ``dists`` are distributions of the same rows and the same kind (as the
    members of an ensemble predict them); a mixture of ``m`` of them has the
    components of all, each member's weights multiplied by its share of
    ``member_weights`` (``1 / m`` each by default).
    """
    if member_weights is None:
        share = np.full(len(dists), 1.0 / len(dists))
    else:
        share = np.asarray(member_weights, dtype=float)
        if share.shape != (len(dists),) or np.any(share < 0) or share.sum() <= 0:
            raise ValueError(
                f"member weights must be {len(dists)} non-negative numbers with "
                f"a positive sum; got {member_weights!r}."
            )
        share = share / share.sum()
    weights = np.concatenate([d.weights * s for d, s in zip(dists, share)], axis=1)
    means = np.concatenate([d.means for d in dists], axis=1)
    if isinstance(dists[0], MixtureDistribution):
        scales = np.concatenate([d.scales for d in dists], axis=1)
        return MixtureDistribution._from_validated(weights, means, scales)
    tril = np.concatenate([d.scale_tril for d in dists], axis=1)
    return MultivariateMixtureDistribution._from_validated(weights, means, tril)


def check_numeric_columns(X):
    """Name the non-numeric columns of a DataFrame before NumPy meets them.

    NumPy's own error ("could not convert string to float: 'x'") says
    neither which column nor what to do.
    """
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns"):
        return
    try:
        from pandas.api.types import is_bool_dtype, is_numeric_dtype
    except ImportError:  # a DataFrame-like object without pandas
        return
    bad = [
        str(name)
        for name, dtype in zip(X.columns, dtypes)
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))
    ]
    if bad:
        raise ValueError(
            f"X has non-numeric columns {bad}: a mixture density network needs "
            "numbers. Encode them first, for example with "
            "sklearn.compose.ColumnTransformer and "
            "sklearn.preprocessing.OneHotEncoder in a Pipeline."
        )


def _reject_bool_integers(estimator):
    """Refuse ``True``/``False`` for integer parameters.

    ``bool`` is an ``int`` in Python, so scikit-learn's ``Interval(Integral,
    ...)`` accepts ``n_components=True``; it is almost always a mistake.
    """
    for name, constraints in estimator._parameter_constraints.items():
        integral = any(
            isinstance(c, Interval) and c.type is Integral for c in constraints
        )
        value = getattr(estimator, name)
        if integral and isinstance(value, (bool, np.bool_)):
            raise ValueError(
                f"The {name!r} parameter of {type(estimator).__name__} must be an "
                f"int, not a bool; got {value!r}."
            )


class BaseMixtureRegressor(RegressorMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the regressors that predict a Gaussian mixture per row.

    A subclass implements two hooks: ``_fit(X, y, sample_weight)``, which
    validates the data, fits, and sets ``n_outputs_`` (and
    ``n_features_in_`` through ``validate_data``); and ``_dist_of(X)``, the
    :class:`MixtureDistribution` (or, for several outputs, the
    :class:`MultivariateMixtureDistribution`) of already validated rows.
    Everything else (``fit`` with its rollback, ``predict_dist`` and the
    probabilistic regressor API) comes from here. Methods that return one
    value per row work through the rows in chunks of ``_chunk_rows``, the
    one chunking layer of prediction, so memory grows with the output, not
    with the mixture parameters of every row at once.
    """

    _chunk_rows = CHUNK_ROWS

    @abstractmethod
    def _fit(self, X, y, sample_weight):
        """Validate the data, fit the model and return ``self``."""

    @abstractmethod
    def _dist_of(self, X):
        """The predicted distribution of validated rows ``X``."""

    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``(X, y)`` by maximum likelihood.

        A fit that fails (bad input, a diverging loss, an interrupt) leaves
        an already fitted model as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; the loss is the weighted mean NLL, so a
            weight of 2 counts a row twice.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        _reject_bool_integers(self)
        previous_state = self.__dict__.copy()
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous_state)
            raise

    def save(self, path):
        """Save the fitted model to ``path`` in skmdn's safe format.

        The file is a zip archive of JSON (parameters, fitted attributes,
        versions) and the networks' weights as plain tensors; loading it
        with :func:`skmdn.load` runs no code from the file, unlike pickle.
        Training-time objects are not saved: ``callbacks`` come back as
        ``None``, the training history is not kept, and a ``random_state``
        that is a ``RandomState`` instance comes back as ``None``.

        Parameters
        ----------
        path : str or path-like
            Where to write; ``.skmdn`` is a good suffix.

        See Also
        --------
        skmdn.load : Read a saved model.
        """
        from ._persistence import save

        save(self, path)

    # Two ways to persist. Pickle (and copy, joblib, cloudpickle) goes through
    # ``__reduce_ex__`` and keeps the whole object, training history and
    # callbacks included. Libraries that persist objects through
    # ``__getstate__`` / ``__setstate__`` without pickle, as ``skops.io``
    # does, get the fitted model as plain data and NumPy arrays (the content
    # of a ``save`` file), so that loading it trusts skmdn's estimator
    # classes only and unpickles nothing.
    def __reduce_ex__(self, protocol):
        return (copyreg.__newobj__, (type(self),), BaseEstimator.__getstate__(self))

    def __getstate__(self):
        from ._persistence import portable_state

        if hasattr(self, "n_outputs_"):
            try:
                return portable_state(self)
            except TypeError:  # an ensemble of other regressors
                pass
        return BaseEstimator.__getstate__(self)

    def __setstate__(self, state):
        from ._persistence import from_portable_state, is_portable_state

        if not is_portable_state(state):
            BaseEstimator.__setstate__(self, state)
            return
        model = from_portable_state(state)
        if type(model) is not type(self):
            raise ValueError(
                f"the saved state is of a {type(model).__name__}, not of a "
                f"{type(self).__name__}."
            )
        self.__dict__.update(model.__dict__)

    def _validated_X(self, X):
        check_is_fitted(self)
        check_numeric_columns(X)
        try:
            # float32 stays float32 (a memmap stays on disk): rows are
            # standardized in float64 a chunk at a time.
            return validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        except ValueError as exc:
            if "features" not in str(exc) and "feature names" not in str(exc):
                raise
            raise ValueError(
                f"{exc} If this model is the last step of a Pipeline, transform "
                "X with the earlier steps first, or call "
                "skmdn.metrics.predictive_distribution(pipeline, X), which does."
            ) from None

    def predict_dist(self, X):
        """The predicted mixture of each row, as a distribution object.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        dist : MixtureDistribution or MultivariateMixtureDistribution
            For a single output, a :class:`MixtureDistribution` with
            ``weights``, ``means`` and ``scales`` of shape
            ``(n_samples, n_components)`` in the units of ``y``, and
            ``mean()``, ``std()``, ``pdf``, ``logpdf``, ``cdf``, ``ppf``,
            ``interval``, ``hdr``, ``modes``, ``sample``. For several outputs,
            a :class:`MultivariateMixtureDistribution` with means
            ``(n_samples, n_components, n_outputs)`` and covariances
            ``(n_samples, n_components, n_outputs, n_outputs)``; its
            ``marginal(j)`` is the 1-D mixture of output ``j``.
        """
        return self._dist_of(self._validated_X(X))

    def _map_rows(self, X, fn, *row_args, concatenate=None):
        """``fn(dist, *row_args)`` on chunks of the validated rows ``X``.

        ``row_args`` are arrays with one entry per row of ``X``, sliced with
        it; ``fn`` returns an array or a tuple of arrays, concatenated over
        the chunks, or anything that ``concatenate(parts)`` joins.
        """
        parts = [
            fn(self._dist_of(X[rows]), *(a[rows] for a in row_args))
            for rows in row_chunks(len(X), 1, self._chunk_rows)
        ]
        if concatenate is not None:
            return concatenate(parts)
        if isinstance(parts[0], tuple):
            return tuple(np.concatenate(p) for p in zip(*parts))
        return np.concatenate(parts)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # score() is a mean log-likelihood, not R²: the common check that
        # expects R² > 0.5 does not apply.
        tags.regressor_tags.poor_score = True
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X, return_std=False):
        """Conditional mean of ``y`` (and optionally its standard deviation).

        For a multimodal ``p(y | x)`` the mean can lie between the modes,
        where ``y`` is unlikely; see :meth:`predict_dist` for the modes,
        quantiles and samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return the standard deviation of the predicted mixture, as
            :class:`~sklearn.gaussian_process.GaussianProcessRegressor` does
            (per output for several outputs).

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        y_std : ndarray of the same shape
            Only when ``return_std=True``.
        """
        X = self._validated_X(X)
        if return_std:
            return self._map_rows(X, lambda dist: (dist.mean(), dist.std()))
        return self._map_rows(X, lambda dist: dist.mean())

    def _check_eval_target(self, y, n_samples, allow_grid=True):
        """Validate ``y`` for one point per row, or ``m`` points per row."""
        y = check_array(
            y,
            ensure_2d=False,
            allow_nd=True,
            dtype=np.float64,
            input_name="y",
            ensure_min_samples=0,
        )
        d = self.n_outputs_
        if y.ndim > (2 if d == 1 else 3) or (not allow_grid and y.ndim > 2):
            raise ValueError(
                f"y has {y.ndim} dimensions (shape {y.shape}); this model of "
                f"{d} output(s) takes y of shape "
                + (f"({n_samples},)" if d == 1 else f"({n_samples}, {d})")
                + (
                    ""
                    if not allow_grid
                    else " or "
                    + (f"({n_samples}, m)" if d == 1 else f"({n_samples}, m, {d})")
                    + " for m points per row"
                )
                + "."
            )
        if d == 1:
            paired, grid = f"({n_samples},)", f"({n_samples}, m)"
            if y.ndim == 2 and y.shape[1] == 1 and not allow_grid:
                y = y[:, 0]
            ok = y.ndim == 1 or (allow_grid and y.ndim == 2)
        else:
            paired, grid = f"({n_samples}, {d})", f"({n_samples}, m, {d})"
            if y.ndim >= 2 and y.shape[-1] != d:
                raise ValueError(
                    f"y has {y.shape[-1]} outputs (shape {y.shape}), but the "
                    f"model was fitted with n_outputs_={d}: pass the {d} "
                    "outputs as the last axis, in the order used for fit."
                )
            ok = y.ndim == 2 or (allow_grid and y.ndim == 3)
        if not ok or y.shape[0] != n_samples:
            expected = f"{paired} (one point per row of X)"
            if allow_grid:
                expected += f" or {grid} (m points per row)"
            hint = ""
            if d > 1 and y.ndim == 1:
                hint = f" This model predicts {d} outputs jointly: pass all of them."
            elif d == 1 and y.ndim == 2 and not allow_grid:
                hint = " This model was fitted on one output."
            raise ValueError(f"y must have shape {expected}, got {y.shape}.{hint}")
        return y

    def predict_proba_density(self, X, y):
        """Density ``p(y_i | x_i)`` in the units of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like
            One point per row, of shape ``(n_samples,)`` (or
            ``(n_samples, n_outputs)`` for several outputs), or ``m`` points
            per row (a grid, say), of shape ``(n_samples, m)`` (or
            ``(n_samples, m, n_outputs)``).

        Returns
        -------
        density : ndarray of shape (n_samples,) or (n_samples, m)
        """
        X = self._validated_X(X)
        y = self._check_eval_target(y, len(X))
        return self._map_rows(X, lambda dist, y: dist.pdf(y), y)

    def score_samples(self, X, y):
        """Log-likelihood ``log p(y_i | x_i)`` of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
        """
        X = self._validated_X(X)
        y = self._check_eval_target(y, len(X), allow_grid=False)
        return self._map_rows(X, lambda dist, y: dist.logpdf(y), y)

    def score(self, X, y, sample_weight=None):
        """Mean log-likelihood of the samples (higher is better).

        This is **not** R²: it is the average of :meth:`score_samples`,
        weighted by ``sample_weight``, so that ``GridSearchCV`` and
        ``cross_val_score`` select models by held-out likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        log_likelihood = self.score_samples(X, y)
        if sample_weight is not None:
            sample_weight = check_sample_weights(sample_weight, len(log_likelihood))
        return float(np.average(log_likelihood, weights=sample_weight))

    def sample(self, X, n_samples=1, random_state=None):
        """Draw samples of ``y`` from ``p(y | x_i)`` for each row.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
        n_samples : int, default=1
            Draws per row.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        samples : ndarray of shape (n_rows, n_samples) or \
                (n_rows, n_samples, n_outputs)
        """
        n_samples = check_n_samples(n_samples)
        # One generator across the chunks, so that a seed fixes every draw.
        rng = check_rng(random_state)
        return self._map_rows(
            self._validated_X(X), lambda dist: dist.sample(n_samples, random_state=rng)
        )

    def predict_quantiles(self, X, quantiles=(0.05, 0.5, 0.95)):
        """Quantiles of the predicted distribution of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        quantiles : float or array-like of shape (m,), default=(0.05, 0.5, 0.95)
            Probabilities in [0, 1].

        Returns
        -------
        q : ndarray of shape (n_samples, m)
            ``(n_samples,)`` for a scalar ``quantiles``. For several outputs,
            the quantiles of each output's marginal, shape
            ``(n_samples, m, n_outputs)`` (or ``(n_samples, n_outputs)``).
        """
        levels = as_float_array(quantiles, "quantiles", copy=False)
        if levels.ndim > 1:
            raise ValueError(
                f"quantiles must be a float or a 1-D array, got shape {levels.shape}."
            )
        if levels.ndim == 0:
            levels = levels.reshape(1)
            squeeze = True
        else:
            squeeze = False

        def quantiles_of(dist):
            grid = np.broadcast_to(levels, (len(dist), levels.size))
            if self.n_outputs_ == 1:
                return dist.ppf(grid)
            return np.stack(
                [dist.marginal(j).ppf(grid) for j in range(self.n_outputs_)], axis=-1
            )

        q = self._map_rows(self._validated_X(X), quantiles_of)
        return q[:, 0] if squeeze else q

    def predict_interval(self, X, coverage=0.9, *, method="central"):
        """Prediction intervals with the given coverage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        coverage : float, default=0.9
            Probability mass of the interval, in the open interval (0, 1).
        method : {"central", "hdr"}, default="central"
            ``"central"``: the interval between the ``(1 - coverage) / 2`` and
            ``(1 + coverage) / 2`` quantiles. ``"hdr"``: the highest-density
            region, the shortest set with that mass; for a multimodal
            prediction it is a union of disjoint intervals (single output
            only).

        Returns
        -------
        interval : tuple of ndarray or HighestDensityRegion
            For ``"central"``, ``(lower, upper)``, each of shape
            ``(n_samples,)`` (``(n_samples, n_outputs)`` for several outputs,
            per marginal). For ``"hdr"``, the region object of
            :meth:`MixtureDistribution.hdr`, with ``intervals``
            ``(n_samples, n_pieces, 2)``, ``threshold`` and ``coverage``.
        """
        if method not in ("central", "hdr"):
            raise ValueError(f"method must be 'central' or 'hdr', got {method!r}.")
        if method == "hdr":
            check_is_fitted(self)
            if self.n_outputs_ != 1:
                raise ValueError(
                    "method='hdr' needs a single output; use "
                    "predict_dist(X).marginal(j).hdr(coverage) per output."
                )
            return self._map_rows(
                self._validated_X(X),
                lambda dist: dist.hdr(coverage),
                concatenate=concatenate_regions,
            )

        def interval_of(dist):
            if self.n_outputs_ == 1:
                return dist.interval(coverage)
            bounds = [
                dist.marginal(j).interval(coverage) for j in range(self.n_outputs_)
            ]
            return tuple(np.stack(side, axis=-1) for side in zip(*bounds))

        return self._map_rows(self._validated_X(X), interval_of)
