"""What the displays share: matplotlib, the input grid, panels and outputs."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils import check_array

from .._checks import as_float_array, check_finite, check_integer
from .._distributions import MixtureDistribution
from ..metrics import _as_distribution, predictive_distribution


def import_pyplot(caller: str):
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib, which is not installed: "
            "pip install 'skmdn[plot]' (or pip install matplotlib)."
        ) from exc
    return plt


def check_panels(panels, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A non-empty tuple of distinct panel names out of ``allowed``."""
    chosen = (panels,) if isinstance(panels, str) else tuple(panels)
    if (
        not chosen
        or any(p not in allowed for p in chosen)
        or len(set(chosen)) != len(chosen)
    ):
        raise ValueError(
            f"panels must be distinct names out of {allowed}; got {panels!r}."
        )
    return chosen


def panel_axes(ax, panels: tuple[str, ...], caller: str, size=(4.6, 3.6)):
    """One Axes per panel (a dict) and their figure.

    ``ax`` is None (a new figure with the panels side by side), one Axes
    (for one panel), a sequence or array of Axes in the order of ``panels``,
    or a dict from panel names to Axes, such as the ``axes_`` of another
    display.
    """
    plt = import_pyplot(caller)
    if ax is None:
        fig, grid = plt.subplots(
            1,
            len(panels),
            figsize=(size[0] * len(panels), size[1]),
            layout="constrained",
            squeeze=False,
        )
        return dict(zip(panels, grid[0])), fig
    if isinstance(ax, dict):
        missing = [p for p in panels if p not in ax]
        if missing:
            raise ValueError(f"ax has no Axes for the panels {missing}.")
        axes = [ax[p] for p in panels]
    elif hasattr(ax, "plot"):
        axes = [ax]
    else:
        axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != len(panels) or not all(hasattr(a, "plot") for a in axes):
        raise ValueError(
            f"ax must give one matplotlib Axes per panel {panels}; got {ax!r}."
        )
    return dict(zip(panels, axes)), axes[0].figure


def univariate(y_pred, output):
    """The one-dimensional distribution a display draws.

    ``y_pred`` is a distribution or a tuple ``(weights, means, scales)``. A
    distribution of several outputs needs ``output=j`` and gives the
    marginal distribution of output ``j``.
    """
    dist = _as_distribution(y_pred)
    if isinstance(dist, MixtureDistribution):
        if output not in (None, 0):
            raise ValueError(
                f"output must be None or 0 for a single output; got {output!r}."
            )
        return dist
    if output is None:
        raise ValueError(
            f"the predictions have {dist.n_outputs} outputs: pass output=j to "
            "draw the marginal distribution of output j."
        )
    return dist.marginal(dist._check_output(output, "output"))


def target_column(y, n_rows: int, n_outputs: int, output):
    """The targets ``y`` of the output a display draws, of shape ``(n_rows,)``."""
    y = as_float_array(y, "y")
    if n_outputs == 1:
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        expected = (n_rows,)
    else:
        expected = (n_rows, n_outputs)
    if y.shape != expected:
        raise ValueError(f"y must have shape {expected}; got {y.shape}.")
    return y if n_outputs == 1 else y[:, output]


def check_x_grid(x_grid: ArrayLike, n_rows: int) -> NDArray:
    """The feature values of a display's grid: finite, 1-D, one per row."""
    x = as_float_array(x_grid, "x_grid")
    if x.ndim != 1 or x.shape[0] != n_rows or n_rows < 2:
        raise ValueError(
            "x_grid must be a 1-D array with one value per row of y_pred (at "
            f"least 2); got shape {x.shape} for {n_rows} rows."
        )
    check_finite({"x_grid": x})
    return x


def check_data(x_data, y_data) -> tuple[NDArray | None, NDArray | None]:
    """Observations to draw over a display: both or neither, 1-D, same length."""
    if x_data is None and y_data is None:
        return None, None
    if x_data is None or y_data is None:
        raise ValueError("x_data and y_data must be given together.")
    x = as_float_array(x_data, "x_data")
    y = as_float_array(y_data, "y_data")
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(
            "x_data and y_data must be 1-D arrays of the same length; got shapes "
            f"{x.shape} and {y.shape}."
        )
    return x, y


def feature_names(estimator, X) -> list[str] | None:
    """Column names of ``X`` or, failing that, those seen by ``estimator``."""
    columns = getattr(X, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    names = getattr(estimator, "feature_names_in_", None)
    return None if names is None else [str(c) for c in names]


def feature_index(feature, names: list[str] | None, n_features: int) -> int:
    """The column index of ``feature``: an int, or a name out of ``names``."""
    if isinstance(feature, str):
        if names is None or feature not in names:
            known = "X has no column names" if names is None else f"columns {names}"
            raise ValueError(f"feature={feature!r} is not a column of X ({known}).")
        return names.index(feature)
    if (
        isinstance(feature, numbers.Integral)
        and not isinstance(feature, (bool, np.bool_))
        and -n_features <= feature < n_features
    ):
        return int(feature) % n_features
    raise ValueError(
        f"feature must be a column index in [0, {n_features}) or a column name; "
        f"got {feature!r}."
    )


def feature_grid(estimator, X, feature, reference, feature_range, grid_resolution: int):
    """The rows at which a display evaluates a model along one feature.

    Returns ``(x_grid, rows, x_data, name)``: the grid of the feature, the
    input rows (the ``reference`` row with the feature set to each grid
    value; a DataFrame with the columns of ``X`` when ``X`` is one), the
    feature's column of ``X`` and its name.
    """
    names = feature_names(estimator, X)
    X_arr = check_array(X, dtype=np.float64, input_name="X")
    n_features = X_arr.shape[1]
    idx = feature_index(feature, names, n_features)
    n_grid = check_integer(grid_resolution, "grid_resolution", 2)
    if reference is None:
        row = np.median(X_arr, axis=0)
    else:
        row = as_float_array(reference, "reference")
        if row.shape != (n_features,):
            raise ValueError(
                f"reference must have shape ({n_features},), one value per "
                f"feature of X; got {row.shape}."
            )
        check_finite({"reference": row})
    column = X_arr[:, idx]
    if feature_range is None:
        low, high = float(column.min()), float(column.max())
        if not low < high:
            raise ValueError(
                f"feature {idx} of X is constant ({low!r}): pass feature_range="
                "(low, high) to choose the grid."
            )
    else:
        bounds = as_float_array(feature_range, "feature_range")
        if bounds.shape != (2,) or not (
            np.all(np.isfinite(bounds)) and bounds[0] < bounds[1]
        ):
            raise ValueError(
                "feature_range must be two finite floats (low, high) with low < "
                f"high; got {feature_range!r}."
            )
        low, high = float(bounds[0]), float(bounds[1])
    x_grid = np.linspace(low, high, n_grid)
    rows = np.tile(row, (n_grid, 1))
    rows[:, idx] = x_grid
    if hasattr(X, "iloc"):
        # The model was fitted with feature names: predict with them too.
        import pandas as pd

        rows = pd.DataFrame(rows, columns=X.columns)
    name = names[idx] if names is not None else f"x{idx}" if n_features > 1 else "x"
    return x_grid, rows, column, name


def along_feature(
    estimator,
    X,
    y,
    *,
    feature,
    reference,
    feature_range,
    grid_resolution,
    output,
    feature_name,
    target_name,
) -> dict:
    """What ``from_estimator`` passes on to ``from_distribution``.

    The grid of the feature, the model's one-dimensional predictive
    distribution on it, the data (when ``y`` is given) and the axis labels.
    """
    x_grid, rows, column, name = feature_grid(
        estimator, X, feature, reference, feature_range, grid_resolution
    )
    predicted = predictive_distribution(estimator, rows)
    dist = univariate(predicted, output)
    y_data = None
    if y is not None:
        y_data = target_column(y, len(column), predicted.n_outputs, output)
    return {
        "x_grid": x_grid,
        "y_pred": dist,
        "x_data": None if y is None else column,
        "y_data": y_data,
        "feature_name": name if feature_name is None else feature_name,
        # y for one output, y0, y1, ... for one of several.
        "target_name": (
            ("y" if output is None else f"y{output}")
            if target_name is None
            else target_name
        ),
    }
