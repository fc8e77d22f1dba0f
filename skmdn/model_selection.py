"""Comparing regressors, probabilistic and point ones, under one splitter."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import is_regressor
from sklearn.model_selection import check_cv, cross_validate
from sklearn.utils import indexable

from . import metrics
from ._wrappers import gives_distribution

__all__ = ["compare_regressors"]

# Column name -> (scorer, sign): the table shows losses as positive numbers.
_POINT = {"rmse": ("neg_root_mean_squared_error", -1.0)}
_PROBABILISTIC = {
    "nll": (metrics.nll_scorer, -1.0),
    "crps": (metrics.crps_scorer, -1.0),
    "calibration_error": (metrics.calibration_scorer, -1.0),
}
_TIMES = ("fit_time", "score_time")


def _named(estimators) -> list[tuple[str, Any]]:
    if isinstance(estimators, dict):
        pairs = list(estimators.items())
    else:
        try:
            items = list(estimators)
        except TypeError:
            raise TypeError(
                "estimators must be a list of regressors, of (name, regressor) "
                f"pairs, or a dict; got {type(estimators).__name__}."
            ) from None
        pairs = []
        counts: dict[str, int] = {}
        for item in items:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                pairs.append(item)
                continue
            name = type(item).__name__
            counts[name] = counts.get(name, 0) + 1
            pairs.append(
                (name if counts[name] == 1 else f"{name}-{counts[name]}", item)
            )
    if not pairs:
        raise ValueError("estimators is empty: give at least one regressor.")
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError(f"estimator names must be unique; got {names}.")
    for name, est in pairs:
        if not (hasattr(est, "fit") and hasattr(est, "predict")):
            raise TypeError(
                f"{name!r} is a {type(est).__name__}, not a regressor with fit "
                "and predict."
            )
        if not is_regressor(est):
            raise ValueError(f"{name!r} ({type(est).__name__}) is not a regressor.")
    return pairs


def compare_regressors(
    estimators,
    X,
    y,
    *,
    cv=5,
    params: dict | None = None,
    n_jobs: int | None = None,
    per_split: bool = False,
    as_frame: bool = True,
):
    """Cross-validate several regressors on the same splits and tabulate them.

    Every regressor is fitted and scored on the same train/test splits
    (``cv`` is turned into a list of splits once). Each row of the table
    gives a regressor's test RMSE and fit and score times and, for the
    regressors that predict a distribution (skmdn's estimators, those with
    ``predict(X, return_std=True)``, or these inside a search, pipeline,
    target transform, bagging or voting ensemble), its negative
    log-likelihood, CRPS and calibration error. Point regressors get NaN
    there: they are not asked for a distribution, so no warning is raised.

    Parameters
    ----------
    estimators : list of regressors, list of (name, regressor) or dict
        The unfitted regressors. Names default to the class names,
        numbered when they repeat.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    cv : int, cross-validation generator or iterable, default=5
        As in :func:`~sklearn.model_selection.cross_validate`; a splitter
        with ``shuffle=True`` and no ``random_state`` still gives every
        regressor the same splits.
    params : dict, default=None
        Passed to :func:`~sklearn.model_selection.cross_validate` (for
        example ``{"sample_weight": w}``, routed to ``fit``, or to ``fit``
        and the scorers with metadata routing).
    n_jobs : int, default=None
        Folds fitted in parallel, per regressor.
    per_split : bool, default=False
        One row per regressor and split instead of the mean over splits.
    as_frame : bool, default=True
        Return a pandas DataFrame (pandas must be installed); if False, a
        dict of column name to NumPy array.

    Returns
    -------
    table : pandas.DataFrame or dict
        Columns ``model`` (and ``split`` with ``per_split``), ``rmse``,
        ``nll``, ``crps``, ``calibration_error``, ``fit_time`` and
        ``score_time`` (seconds). Every score is a loss, lower is better:
        the sign of scikit-learn's scorers is undone.

    See Also
    --------
    sklearn.model_selection.cross_validate : What runs for each regressor.
    skmdn.metrics.predictive_distribution : How a distribution is found.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge, Ridge
    >>> from skmdn import MDNRegressor
    >>> from skmdn.model_selection import compare_regressors
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, (200, 1))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=200)
    >>> table = compare_regressors(
    ...     [Ridge(), BayesianRidge(), MDNRegressor(max_epochs=20, random_state=0)],
    ...     X, y, cv=3, as_frame=False)
    >>> list(table["model"])
    ['Ridge', 'BayesianRidge', 'MDNRegressor']
    >>> bool(np.isnan(table["nll"][0])), bool(np.isfinite(table["nll"][1]))
    (True, True)
    """
    pairs = _named(estimators)
    if not isinstance(per_split, (bool, np.bool_)):
        raise TypeError(f"per_split must be True or False; got {per_split!r}.")
    if as_frame:
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "compare_regressors(as_frame=True) needs pandas; install it or "
                "pass as_frame=False for a dict of arrays."
            ) from None
    X, y = indexable(X, y)
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool) and cv < 2:
        raise ValueError(f"cv must be at least 2 splits; got {cv}.")
    splits = list(check_cv(cv, y).split(X, y))
    columns = ["rmse", *_PROBABILISTIC, *_TIMES]
    rows: dict[str, list] = {"model": [], "split": []}
    rows.update({c: [] for c in columns})
    for name, est in pairs:
        scoring = dict(_POINT)
        if gives_distribution(est):
            scoring.update(_PROBABILISTIC)
        result = cross_validate(
            est,
            X,
            y,
            cv=splits,
            scoring={c: scorer for c, (scorer, _) in scoring.items()},
            params=params,
            n_jobs=n_jobs,
            error_score="raise",
        )
        values = {}
        for c in columns:
            if c in _TIMES:
                values[c] = result[c]
            elif c in scoring:
                values[c] = scoring[c][1] * result[f"test_{c}"]
            else:
                values[c] = np.full(len(splits), np.nan)
        if per_split:
            rows["model"] += [name] * len(splits)
            rows["split"] += list(range(len(splits)))
            for c in columns:
                rows[c] += list(values[c])
        else:
            rows["model"].append(name)
            for c in columns:
                rows[c].append(float(np.mean(values[c])))
    if not per_split:
        del rows["split"]
    table = {
        c: np.asarray(v, dtype=object if c == "model" else float)
        for c, v in rows.items()
    }
    if "split" in table:
        table["split"] = table["split"].astype(int)
    if as_frame:
        return pd.DataFrame(table)
    return table
