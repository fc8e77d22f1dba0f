"""Prediction methods shared by the estimators that predict mixtures."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array

from ._checks import check_n_samples, check_rng

__all__ = ["MixturePredictionMixin"]

# Rows per chunk at prediction time: bounds the memory of one forward pass
# and of the mixture parameters held at once.
CHUNK_ROWS = 65_536


class MixturePredictionMixin:
    """``predict``, densities, scores and samples from ``predict_dist``.

    An estimator that sets ``n_outputs_`` in ``fit`` and implements
    ``_validated_X(X)`` (the fitted check and input validation) and
    ``_dist_of(X)`` (the ``MixtureDistribution``, or
    ``MultivariateMixtureDistribution`` for several outputs, of validated
    rows) gets ``predict_dist`` and the rest of the probabilistic regressor
    API from this mixin. Methods that return one value per row work through
    the rows in chunks, so memory grows with the output, not with the
    mixture parameters of every row at once.
    """

    _chunk_rows = CHUNK_ROWS

    def _map_rows(self, X, fn, *row_args):
        """``fn(dist, *row_args)`` on chunks of the validated rows ``X``.

        ``row_args`` are arrays with one entry per row of ``X``, sliced with
        it; ``fn`` returns an array or a tuple of arrays, concatenated over
        the chunks.
        """
        parts = []
        for start in range(0, len(X), self._chunk_rows):
            rows = slice(start, start + self._chunk_rows)
            parts.append(fn(self._dist_of(X[rows]), *(a[rows] for a in row_args)))
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
        if d == 1:
            paired, grid = f"({n_samples},)", f"({n_samples}, m)"
            if y.ndim == 2 and y.shape[1] == 1 and not allow_grid:
                y = y[:, 0]
            ok = y.ndim == 1 or (allow_grid and y.ndim == 2)
        else:
            paired, grid = f"({n_samples}, {d})", f"({n_samples}, m, {d})"
            if y.ndim >= 2 and y.shape[-1] != d:
                raise ValueError(
                    f"y has {y.shape[-1]} outputs, but the model was fitted with "
                    f"n_outputs_={d}."
                )
            ok = y.ndim == 2 or (allow_grid and y.ndim == 3)
        if not ok or y.shape[0] != n_samples:
            expected = f"{paired} (one point per row of X)"
            if allow_grid:
                expected += f" or {grid} (m points per row)"
            raise ValueError(f"y must have shape {expected}, got {y.shape}.")
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
        levels = np.asarray(quantiles, dtype=np.float64)
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
            if self.n_outputs_ != 1:
                raise ValueError(
                    "method='hdr' needs a single output; use "
                    "predict_dist(X).marginal(j).hdr(coverage) per output."
                )
            return self.predict_dist(X).hdr(coverage)

        def interval_of(dist):
            if self.n_outputs_ == 1:
                return dist.interval(coverage)
            bounds = [
                dist.marginal(j).interval(coverage) for j in range(self.n_outputs_)
            ]
            return tuple(np.stack(side, axis=-1) for side in zip(*bounds))

        return self._map_rows(self._validated_X(X), interval_of)
