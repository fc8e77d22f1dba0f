"""An ensemble of mixture density networks combined into one mixture."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import validate_data

from ._base import BaseMixtureRegressor, check_numeric_columns, combine_mixtures
from ._regressor import MDNRegressor, fit_together

__all__ = ["MDNEnsembleRegressor"]


def _fit_member(estimator, X, y, sample_weight):
    return estimator.fit(X, y, sample_weight=sample_weight)


class MDNEnsembleRegressor(BaseMixtureRegressor):
    """Deep ensemble of mixture density networks, as one mixture.

    ``n_estimators`` copies of ``estimator`` are trained from different
    random initializations (and validation splits and batch orders) on the
    same data. Their predictions are combined into a single Gaussian mixture
    with ``n_estimators * n_components`` components, each member's weights
    divided by ``n_estimators`` (Lakshminarayanan et al., 2017). The
    combined density averages out the idiosyncrasies of single fits and is
    usually better calibrated and has a lower test NLL than any one member.

    The ensemble has the whole API of :class:`MDNRegressor`: densities,
    scores, samples and :meth:`predict_dist` with quantiles and intervals.

    Members that are :class:`MDNRegressor` are trained together as one
    stacked network (batched matrix products), each with its own
    initialization, validation split, batch order, early stopping and
    learning-rate schedule, so that five members cost far less than five
    fits (``benchmarks/bench_restarts.py``). Other estimators with
    ``predict_dist`` are fitted one by one, in parallel with ``n_jobs``.

    Parameters
    ----------
    estimator : MDNRegressor or None, default=None
        The member to clone; ``None`` uses ``MDNRegressor()``.
    n_estimators : int, default=5
        Number of members.
    n_jobs : int or None, default=None
        For members that are not :class:`MDNRegressor`: fitted in parallel
        with joblib (``-1`` for all cores). ``MDNRegressor`` members train
        together in one process.
    random_state : int, RandomState instance or None, default=None
        Draws the ``random_state`` of each member.

    Attributes
    ----------
    estimators_ : list of MDNRegressor
        The fitted members.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
    n_outputs_ : int

    See Also
    --------
    MDNRegressor : A single mixture density network.

    Examples
    --------
    >>> from skmdn import MDNEnsembleRegressor, MDNRegressor
    >>> from skmdn.datasets import make_inverted_sinusoid
    >>> X, y = make_inverted_sinusoid(300, random_state=0)
    >>> ens = MDNEnsembleRegressor(
    ...     MDNRegressor(n_components=3, max_epochs=20), n_estimators=3, random_state=0
    ... ).fit(X, y)
    >>> ens.predict_dist(X[:2]).weights.shape
    (2, 9)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_dist"]), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self, estimator=None, *, n_estimators=5, n_jobs=None, random_state=None
    ):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit(self, X, y, sample_weight):
        base = MDNRegressor() if self.estimator is None else self.estimator
        # Validated here too so that the ensemble records the feature names
        # and rejects bad input before any member is trained.
        check_numeric_columns(X)
        validate_data(self, X, y, multi_output=True, y_numeric=True)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_estimators)
        members = [clone(base).set_params(random_state=int(s)) for s in seeds]
        if isinstance(base, MDNRegressor):
            # All members train together as one stacked network.
            self.estimators_ = fit_together(members, X, y, sample_weight)
        else:
            self.estimators_ = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_member)(m, X, y, sample_weight) for m in members
            )
        self.n_outputs_ = self.estimators_[0].n_outputs_
        return self

    def _dist_of(self, X):
        # Members get the validated array through their own _dist_of: their
        # predict_dist would validate again and warn about feature names.
        return combine_mixtures([member._dist_of(X) for member in self.estimators_])
