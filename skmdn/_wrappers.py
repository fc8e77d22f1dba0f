"""The predictive distribution of a fitted estimator, through sklearn's wrappers.

:func:`skmdn.metrics.predictive_distribution` calls :func:`distribution_of`,
which reaches the mixture model inside fitted searches, pipelines, frozen
estimators, target transforms, bagging and voting ensembles, and
:func:`gives_distribution` answers the same question for an unfitted
estimator (for choosing the scorers of a comparison before fitting).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ._distributions import (
    BaseMixtureDistribution,
    MixtureDistribution,
    TransformedDistribution,
)

# A Gaussian regressor can predict a standard deviation of exactly 0 (e.g. a
# Gaussian process at a training point); it is raised to this fraction of the
# largest predicted |mean| or std so that scores stay finite.
STD_FLOOR_REL = 1e-12

# What a predictive distribution may be (also what the metrics accept).
DISTRIBUTIONS = (BaseMixtureDistribution, TransformedDistribution)


def _kind(estimator: Any) -> str:
    """Which wrapper ``estimator`` is, by duck type (fitted or not)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import BaggingRegressor, VotingRegressor
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection._search import BaseSearchCV
    from sklearn.pipeline import Pipeline

    if hasattr(estimator, "predict_dist"):
        return "dist"
    if isinstance(estimator, FrozenEstimator):
        return "frozen"
    if isinstance(estimator, BaseSearchCV):
        return "search"
    if isinstance(estimator, Pipeline):
        return "pipeline"
    if isinstance(estimator, TransformedTargetRegressor):
        return "target"
    if isinstance(estimator, BaggingRegressor):
        return "bagging"
    if isinstance(estimator, VotingRegressor):
        return "voting"
    return "other"


def _has_return_std(estimator: Any) -> bool:
    predict = getattr(estimator, "predict", None)
    if predict is None:
        return False
    try:
        return "return_std" in inspect.signature(predict).parameters
    except (TypeError, ValueError):
        return False


def gives_distribution(estimator: Any) -> bool:
    """Whether ``estimator``, once fitted, has a predictive distribution."""
    kind = _kind(estimator)
    if kind == "dist":
        return True
    if kind in ("search", "frozen"):
        return gives_distribution(estimator.estimator)
    if kind == "pipeline":
        return gives_distribution(estimator.steps[-1][1])
    if kind == "target":
        return estimator.regressor is not None and gives_distribution(
            estimator.regressor
        )
    if kind == "bagging":
        return estimator.estimator is not None and gives_distribution(
            estimator.estimator
        )
    if kind == "voting":
        members = [e for _, e in estimator.estimators if e != "drop"]
        return bool(members) and all(gives_distribution(e) for e in members)
    return _has_return_std(estimator)


def _label(estimator: Any, where: str) -> str:
    name = type(estimator).__name__
    return name if not where else f"{where} -> {name}"


def distribution_of(estimator: Any, X: Any, where: str = ""):
    """The predictive distribution of fitted ``estimator`` at ``X``.

    ``where`` is the path from the outermost estimator, for error messages.
    """
    from sklearn.utils.validation import check_is_fitted

    here = _label(estimator, where)
    kind = _kind(estimator)
    if kind == "dist":
        return _check_dist(estimator.predict_dist(X), here)
    if kind == "search":
        check_is_fitted(estimator)
        if not hasattr(estimator, "best_estimator_"):
            raise ValueError(
                f"{here} was fitted with refit=False, so it has no "
                "best_estimator_ to give a predictive distribution; fit it "
                "with refit=True (or refit='<scorer name>' for several scorers)."
            )
        return distribution_of(estimator.best_estimator_, X, f"{here}.best_estimator_")
    if kind == "frozen":
        return distribution_of(estimator.estimator, X, f"{here}.estimator")
    if kind == "pipeline":
        check_is_fitted(estimator)
        Xt = X
        for _, step in estimator.steps[:-1]:
            if step is not None and step != "passthrough":
                Xt = step.transform(Xt)
        name, final = estimator.steps[-1]
        return distribution_of(final, Xt, f"{here}[{name!r}]")
    if kind == "target":
        check_is_fitted(estimator)
        base = distribution_of(estimator.regressor_, X, f"{here}.regressor_")
        if isinstance(base, TransformedDistribution):
            raise ValueError(f"{here}: nested target transforms are not supported.")
        return TransformedDistribution(base, estimator.transformer_)
    if kind == "bagging":
        check_is_fitted(estimator)
        Xa = np.asarray(X) if not hasattr(X, "iloc") else X.to_numpy()
        dists = [
            distribution_of(member, Xa[:, features], f"{here}.estimators_[{i}]")
            for i, (member, features) in enumerate(
                zip(estimator.estimators_, estimator.estimators_features_)
            )
        ]
        return combine(dists, None, here)
    if kind == "voting":
        check_is_fitted(estimator)
        dists = [
            distribution_of(member, X, f"{here}.estimators_[{i}]")
            for i, member in enumerate(estimator.estimators_)
        ]
        return combine(dists, estimator._weights_not_none, here)
    return _gaussian_of(estimator, X, here)


def combine(dists, weights, here: str):
    """One mixture of the members' mixtures, weighted by ``weights``."""
    from ._base import combine_mixtures

    kinds = {type(d) for d in dists}
    if len(kinds) > 1 or TransformedDistribution in kinds:
        raise ValueError(
            f"{here}: its members' predictive distributions cannot be combined "
            f"into one mixture ({', '.join(sorted(k.__name__ for k in kinds))})."
        )
    if len({d.n_outputs for d in dists}) > 1:
        raise ValueError(f"{here}: its members predict different numbers of outputs.")
    return combine_mixtures(dists, weights)


def _check_dist(dist: Any, here: str):
    if not isinstance(dist, DISTRIBUTIONS):
        raise TypeError(
            f"{here}.predict_dist must return a MixtureDistribution or a "
            f"MultivariateMixtureDistribution; got {type(dist).__name__}."
        )
    return dist


def _gaussian_of(estimator: Any, X: Any, here: str) -> MixtureDistribution:
    """A one-component mixture from ``predict(X, return_std=True)``."""
    if not _has_return_std(estimator):
        raise ValueError(
            f"{here} cannot give a predictive distribution: a probabilistic "
            "scorer needs a model with predict_dist(X) (skmdn's estimators), "
            "predict(X, return_std=True) (GaussianProcessRegressor, "
            "BayesianRidge), or one of these inside a fitted search, Pipeline, "
            "FrozenEstimator, TransformedTargetRegressor, BaggingRegressor or "
            "VotingRegressor."
        )
    result = estimator.predict(X, return_std=True)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ValueError(
            f"{here}.predict(X, return_std=True) did not return a (mean, std) tuple."
        )
    mean = np.asarray(result[0], dtype=float)
    std = np.asarray(result[1], dtype=float)
    if mean.ndim == 2 and mean.shape[1] == 1:
        mean = mean[:, 0]
    if std.ndim == 2 and std.shape[1] == 1:
        std = std[:, 0]
    if mean.ndim != 1 or std.shape != mean.shape:
        raise ValueError(
            f"{here}: probabilistic scores of a predict(X, return_std=True) "
            "model need one output; predict returned mean of shape "
            f"{mean.shape} and std of shape {std.shape}."
        )
    if mean.size:
        scale = max(np.max(np.abs(mean)), np.max(np.abs(std)))
        floor = max(STD_FLOOR_REL * scale, np.finfo(float).tiny)
        std = np.maximum(std, floor)
    ones = np.ones((mean.shape[0], 1))
    return MixtureDistribution(ones, mean[:, None], std[:, None])
