"""An ensemble of mixture density networks combined into one mixture."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import validate_data

from ._base import BaseMixtureRegressor, check_numeric_columns, combine_mixtures
from ._regressor import MDNRegressor, fit_together

__all__ = ["MDNEnsembleRegressor"]


def _fit_member(estimator, X, y, sample_weight):
    return estimator.fit(X, y, sample_weight=sample_weight)


class MDNEnsembleRegressor(BaseMixtureRegressor):
    """Deep ensemble of mixture density networks, as one mixture.

    ``n_estimators`` copies of ``estimator`` are trained from different
    random initializations (and batch orders) on the same data. Their
    predictions are combined into a single Gaussian mixture with
    ``n_estimators * n_components`` components, each member's weights
    divided by ``n_estimators`` (Lakshminarayanan et al., 2017). The
    combined density averages out the idiosyncrasies of single fits and is
    usually better calibrated and has a lower test NLL than any one member.

    The ensemble has the whole API of :class:`MDNRegressor`: densities,
    scores, samples and :meth:`predict_dist` with quantiles and intervals.

    Members that are :class:`MDNRegressor` are trained together as one
    stacked network (batched matrix products), each with its own
    initialization, batch order and learning-rate schedule, so that five
    members cost far less than five fits (``benchmarks/bench_restarts.py``).
    By default each member also has its own validation split and early
    stopping, as if it were fitted alone. With
    ``early_stopping="ensemble"`` they are stopped as the ensemble they
    form instead: they share one validation split, and every member keeps
    its weights of the epoch at which the *ensemble's* validation NLL is
    lowest. Averaging cancels much of what each member overfits, so that
    epoch is often later than the members' own best epochs; on the other
    hand no member trains on the shared validation rows, and a validation
    split that happens to favour an early epoch stops every member there
    (``benchmarks/results/ablation-ensemble-stopping.md``: better on
    concrete and energy, equal within the noise on yacht and boston, worse
    on the seed problem). Choose between the two by held-out likelihood, e.g. with
    ``GridSearchCV``. Other estimators with ``predict_dist`` are fitted one
    by one, in parallel with ``n_jobs``.

    The strongest configuration measured on the UCI benchmark is ten
    members with Yeo-Johnson transformed features, stopped together:
    ``MDNEnsembleRegressor(MDNRegressor(input_transform="yeo-johnson"),
    n_estimators=10, early_stopping="ensemble")``, below the best published
    test NLL on five of the six continuous sets and level with it on the
    sixth, whose features are not skewed
    (``benchmarks/results/ablation-input-transform.md``).

    Parameters
    ----------
    estimator : MDNRegressor or None, default=None
        The member to clone; ``None`` uses ``MDNRegressor()``. A member's
        ``n_init="auto"`` is 1 here: the average dilutes a member in a poor
        optimum, and more members do what restarts would.
    n_estimators : int, default=5
        Number of members.
    early_stopping : {"members", "ensemble"}, default="members"
        How :class:`MDNRegressor` members with ``early_stopping=True`` are
        stopped. ``"members"``: each member has its own validation split,
        restarts (``n_init``) and best epoch, as if fitted alone.
        ``"ensemble"``: they share one validation split (drawn as the first
        member's) and all stop when the ensemble's validation NLL has not
        improved for the member's ``patience`` epochs, each keeping its
        weights of the ensemble's best epoch; needs ``n_init=1`` (or
        ``"auto"``). Ignored
        for other estimators and for members without early stopping.
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
    best_epoch_ : int or None
        With ``early_stopping="ensemble"``: the epoch whose weights every
        member keeps, at which the ensemble's validation NLL was lowest.
        ``None`` otherwise (each member has its own ``best_epoch_``).
    best_validation_nll_ : float or None
        With ``early_stopping="ensemble"``: the ensemble's validation NLL at
        ``best_epoch_``, in the units of ``y`` (what ``-score`` gives on the
        validation rows). ``None`` otherwise.

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
        "early_stopping": [StrOptions({"members", "ensemble"})],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        n_estimators=5,
        early_stopping="members",
        n_jobs=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.early_stopping = early_stopping
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit(self, X, y, sample_weight):
        base = MDNRegressor() if self.estimator is None else self.estimator
        # Validated here too so that the ensemble records the feature names
        # and rejects bad input before any member is trained.
        check_numeric_columns(X)
        validate_data(self, X, y, multi_output=True, y_numeric=True)
        joint = (
            self.early_stopping == "ensemble"
            and isinstance(base, MDNRegressor)
            and base.early_stopping
        )
        if joint and base.n_init not in (1, "auto"):
            raise ValueError(
                f"early_stopping='ensemble' stops the members together at the "
                f"ensemble's best epoch, which leaves no restarts to select: "
                f"got a member with n_init={base.n_init}. Use n_init=1 or "
                "early_stopping='members'."
            )
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_estimators)
        members = [clone(base).set_params(random_state=int(s)) for s in seeds]
        if isinstance(base, MDNRegressor):
            # All members train together as one stacked network.
            self.estimators_ = fit_together(
                members, X, y, sample_weight, joint=joint, ensemble=True
            )
        else:
            self.estimators_ = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_member)(m, X, y, sample_weight) for m in members
            )
        self.n_outputs_ = self.estimators_[0].n_outputs_
        self.best_epoch_ = self.best_validation_nll_ = None
        if joint:
            lead = self.estimators_[0]
            training = dict(lead.net_.callbacks_)["mdn_training"]
            self.best_epoch_ = lead.best_epoch_
            self.best_validation_nll_ = (
                training.ensemble_best_nll_ + training.nll_offset
            )
        return self

    def _dist_of(self, X):
        # Members get the validated array through their own _dist_of: their
        # predict_dist would validate again and warn about feature names.
        return combine_mixtures([member._dist_of(X) for member in self.estimators_])
