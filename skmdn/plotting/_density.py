"""The conditional density ``p(y | x)`` as a heatmap along one feature."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import as_float_array, check_finite, check_integer
from ..metrics import _check_levels
from ._base import (
    along_feature,
    check_data,
    check_x_grid,
    import_pyplot,
    univariate,
)

__all__ = ["ConditionalDensityDisplay"]

# Line styles of successive HDR coverages.
_HDR_STYLES = ("-", "--", ":", "-.")


class ConditionalDensityDisplay:
    """Heatmap of the conditional density ``p(y | x)`` along one input feature.

    Each column of the heatmap is the predicted density of ``y`` at one value
    of the feature (the other features held fixed). The data, draws from
    the model, quantile curves and the outlines of highest-density regions
    can be drawn over it. Build it with :meth:`from_estimator` or
    :meth:`from_distribution`; the constructor only stores what to draw.

    Parameters
    ----------
    x_grid : ndarray of shape (n_x,)
        Values of the feature.
    y_grid : ndarray of shape (n_y,)
        Values of the target at which the density is evaluated.
    density : ndarray of shape (n_x, n_y)
        ``density[i, j]`` is ``p(y_grid[j] | x_grid[i])``.
    x_data, y_data : ndarray of shape (n_samples,), default=None
        Observations to scatter over the heatmap.
    samples : ndarray of shape (n_x, n_draws), default=None
        Draws from ``p(y | x_grid[i])``.
    quantile_levels : ndarray of shape (n_quantiles,), default=None
        Probabilities of the quantile curves.
    quantiles : ndarray of shape (n_x, n_quantiles), default=None
        The quantiles at each value of the feature.
    hdr_coverages : ndarray of shape (n_regions,), default=None
        Coverages of the highest-density regions.
    hdr_thresholds : ndarray of shape (n_x, n_regions), default=None
        Density level of each region at each value of the feature: the
        region is where ``density >= threshold``, so its outline is the
        contour of ``density / threshold`` at 1.
    feature_name : str, default="x"
    target_name : str, default="y"

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    mesh_ : matplotlib QuadMesh
        The heatmap.
    colorbar_ : matplotlib Colorbar or None
    data_scatter_ : matplotlib PathCollection or None
    samples_scatter_ : matplotlib PathCollection or None
    quantile_lines_ : list of matplotlib Line2D
        One per quantile level.
    hdr_contours_ : list of matplotlib ContourSet
        One per coverage.

    See Also
    --------
    MixtureParametersDisplay : The weights, means and scales of the mixture
        along the same feature.

    Examples
    --------
    >>> from skmdn import MDNRegressor
    >>> from skmdn.datasets import make_inverted_sinusoid
    >>> from skmdn.plotting import ConditionalDensityDisplay
    >>> X, y = make_inverted_sinusoid(300, random_state=0)
    >>> mdn = MDNRegressor(max_epochs=20, random_state=0).fit(X, y)
    >>> disp = ConditionalDensityDisplay.from_estimator(
    ...     mdn, X, y, hdr=0.9, quantiles=[0.5]
    ... )
    >>> disp.density.shape
    (200, 200)
    >>> len(disp.hdr_contours_), len(disp.quantile_lines_)
    (1, 1)
    """

    def __init__(
        self,
        *,
        x_grid: NDArray,
        y_grid: NDArray,
        density: NDArray,
        x_data: NDArray | None = None,
        y_data: NDArray | None = None,
        samples: NDArray | None = None,
        quantile_levels: NDArray | None = None,
        quantiles: NDArray | None = None,
        hdr_coverages: NDArray | None = None,
        hdr_thresholds: NDArray | None = None,
        feature_name: str = "x",
        target_name: str = "y",
    ) -> None:
        self.x_grid = x_grid
        self.y_grid = y_grid
        self.density = density
        self.x_data = x_data
        self.y_data = y_data
        self.samples = samples
        self.quantile_levels = quantile_levels
        self.quantiles = quantiles
        self.hdr_coverages = hdr_coverages
        self.hdr_thresholds = hdr_thresholds
        self.feature_name = feature_name
        self.target_name = target_name

    def plot(
        self,
        ax=None,
        *,
        cmap: str = "Blues",
        colorbar: bool = True,
        mesh_kw: dict | None = None,
        data_kw: dict | None = None,
        samples_kw: dict | None = None,
        quantile_kw: dict | None = None,
        hdr_kw: dict | None = None,
    ) -> ConditionalDensityDisplay:
        """Draw the heatmap and what lies over it.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        cmap : str or matplotlib Colormap, default="Blues"
            Colormap of the density.
        colorbar : bool, default=True
            Add a colorbar of the density.
        mesh_kw, data_kw, samples_kw, quantile_kw, hdr_kw : dict, default=None
            Keyword arguments for ``pcolormesh`` (the heatmap), ``scatter``
            (data, samples), ``plot`` (quantile curves) and ``contour`` (HDR
            outlines), over the display's defaults.

        Returns
        -------
        display : ConditionalDensityDisplay
            ``self``, with the figure, axes and artists stored.
        """
        plt = import_pyplot("ConditionalDensityDisplay.plot")
        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        self.ax_, self.figure_ = ax, ax.figure
        self.mesh_ = ax.pcolormesh(
            self.x_grid,
            self.y_grid,
            self.density.T,
            **{
                "cmap": cmap,
                "shading": "nearest",
                "rasterized": True,
                **(mesh_kw or {}),
            },
        )
        self.colorbar_ = None
        if colorbar:
            label = f"p({self.target_name} | {self.feature_name})"
            self.colorbar_ = self.figure_.colorbar(self.mesh_, ax=ax, label=label)
        self.data_scatter_ = None
        if self.x_data is not None:
            style = {"s": 4, "color": "black", "alpha": 0.3, "linewidths": 0}
            self.data_scatter_ = ax.scatter(
                self.x_data,
                self.y_data,
                **{**style, "label": "data", **(data_kw or {})},
            )
        self.samples_scatter_ = None
        if self.samples is not None:
            style = {"s": 4, "color": "C3", "alpha": 0.5, "linewidths": 0}
            self.samples_scatter_ = ax.scatter(
                np.repeat(self.x_grid, self.samples.shape[1]),
                self.samples.ravel(),
                **{**style, "label": "samples", **(samples_kw or {})},
            )
        self.quantile_lines_ = []
        if self.quantiles is not None:
            for level, curve in zip(self.quantile_levels, self.quantiles.T):
                style = {"color": "C1", "lw": 1.5, "label": f"quantile {level:g}"}
                (line,) = ax.plot(
                    self.x_grid, curve, **{**style, **(quantile_kw or {})}
                )
                self.quantile_lines_.append(line)
        self.hdr_contours_ = []
        handles = []
        if self.hdr_thresholds is not None:
            for j, (coverage, threshold) in enumerate(
                zip(self.hdr_coverages, self.hdr_thresholds.T)
            ):
                style = {
                    "colors": "black",
                    "linewidths": 1.2,
                    "linestyles": _HDR_STYLES[j % len(_HDR_STYLES)],
                    **(hdr_kw or {}),
                }
                self.hdr_contours_.append(
                    ax.contour(
                        self.x_grid,
                        self.y_grid,
                        (self.density / threshold[:, None]).T,
                        levels=[1.0],
                        **style,
                    )
                )
                # A contour set has no legend entry of its own.
                handles.append(
                    plt.Line2D(
                        [],
                        [],
                        color=np.atleast_1d(style["colors"])[0],
                        lw=np.atleast_1d(style["linewidths"])[0],
                        ls=np.atleast_1d(style["linestyles"])[0],
                        label=f"{coverage:.0%} HDR",
                    )
                )
        ax.set(
            xlim=(self.x_grid[0], self.x_grid[-1]),
            ylim=(self.y_grid[0], self.y_grid[-1]),
            xlabel=self.feature_name,
            ylabel=self.target_name,
        )
        handles = ax.get_legend_handles_labels()[0] + handles
        if handles:
            ax.legend(handles=handles, loc="upper left", markerscale=3)
        return self

    @classmethod
    def from_distribution(
        cls,
        x_grid: ArrayLike,
        y_pred,
        *,
        y_grid: ArrayLike | None = None,
        y_resolution: int = 200,
        x_data: ArrayLike | None = None,
        y_data: ArrayLike | None = None,
        n_samples: int = 0,
        quantiles: ArrayLike | None = None,
        hdr: float | ArrayLike | None = None,
        random_state=None,
        feature_name: str = "x",
        target_name: str = "y",
        ax=None,
        **kwargs,
    ) -> ConditionalDensityDisplay:
        """Draw the density of predicted distributions along a grid of inputs.

        Parameters
        ----------
        x_grid : array-like of shape (n_x,)
            The value of the feature at each row of ``y_pred``.
        y_pred : MixtureDistribution or tuple of (weights, means, scales)
            The predicted distribution at each value of ``x_grid``.
        y_grid : array-like of shape (n_y,), default=None
            Increasing values of the target for the heatmap's rows. None
            spans the data (``y_data``), padded by 5%, or without data the
            central 99% intervals of all rows, in ``y_resolution`` steps.
        y_resolution : int, default=200
            Number of target values when ``y_grid`` is None.
        x_data, y_data : array-like of shape (n_samples,), default=None
            Observations to scatter over the heatmap.
        n_samples : int, default=0
            Draws from the model at each value of ``x_grid`` to scatter.
        quantiles : float or array-like of floats in (0, 1), default=None
            Probabilities of quantile curves to draw.
        hdr : float or array-like of floats in (0, 1), default=None
            Coverages of highest-density regions to outline: at each ``x``
            the smallest set of ``y`` with that probability, a union of
            intervals where the density is multimodal.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.
        feature_name, target_name : str, default="x", "y"
            Axis labels.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ConditionalDensityDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from skmdn import MixtureDistribution
        >>> from skmdn.plotting import ConditionalDensityDisplay
        >>> x = np.linspace(-1, 1, 50)
        >>> ones = np.ones((50, 2))
        >>> dist = MixtureDistribution(ones / 2, np.c_[-1 - x, 1 + x], ones / 4)
        >>> disp = ConditionalDensityDisplay.from_distribution(x, dist, hdr=0.5)
        >>> disp.hdr_thresholds.shape
        (50, 1)
        """
        dist = univariate(y_pred, None)
        x_grid = check_x_grid(x_grid, len(dist))
        x_data, y_data = check_data(x_data, y_data)
        if y_grid is None:
            n_y = check_integer(y_resolution, "y_resolution", 2)
            if y_data is not None:
                low, high = y_data.min(), y_data.max()
                pad = 0.05 * (high - low) if high > low else 1.0
                low, high = low - pad, high + pad
            else:
                lower, upper = dist.interval(0.99)
                low, high = lower.min(), upper.max()
            y_grid = np.linspace(low, high, n_y)
        else:
            y_grid = as_float_array(y_grid, "y_grid")
            if y_grid.ndim != 1 or y_grid.size < 2 or np.any(np.diff(y_grid) <= 0):
                raise ValueError(
                    "y_grid must be a 1-D increasing array of at least 2 values; "
                    f"got shape {y_grid.shape}."
                )
            check_finite({"y_grid": y_grid})
        n_x = len(x_grid)
        density = dist.pdf(np.broadcast_to(y_grid, (n_x, y_grid.size)))
        n_samples = check_integer(n_samples, "n_samples", 0)
        samples = dist.sample(n_samples, random_state) if n_samples else None
        levels = curves = None
        if quantiles is not None:
            levels = _check_levels(quantiles, "quantiles")
            curves = dist.ppf(np.broadcast_to(levels, (n_x, levels.size)))
        coverages = thresholds = None
        if hdr is not None:
            coverages = _check_levels(hdr, "hdr")
            thresholds = np.column_stack([dist.hdr(c).threshold for c in coverages])
        display = cls(
            x_grid=x_grid,
            y_grid=y_grid,
            density=density,
            x_data=x_data,
            y_data=y_data,
            samples=samples,
            quantile_levels=levels,
            quantiles=curves,
            hdr_coverages=coverages,
            hdr_thresholds=thresholds,
            feature_name=feature_name,
            target_name=target_name,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X: ArrayLike,
        y: ArrayLike | None = None,
        *,
        feature: int | str = 0,
        reference: ArrayLike | None = None,
        feature_range: tuple[float, float] | None = None,
        grid_resolution: int = 200,
        output: int | None = None,
        y_grid: ArrayLike | None = None,
        y_resolution: int = 200,
        n_samples: int = 0,
        quantiles: ArrayLike | None = None,
        hdr: float | ArrayLike | None = None,
        random_state=None,
        feature_name: str | None = None,
        target_name: str | None = None,
        ax=None,
        **kwargs,
    ) -> ConditionalDensityDisplay:
        """Draw a fitted model's ``p(y | x)`` along one feature of ``X``.

        The model predicts at ``grid_resolution`` values of the feature,
        from its smallest to its largest value in ``X`` (or over
        ``feature_range``), with the other features held at ``reference``.
        The distribution comes from
        :func:`skmdn.metrics.predictive_distribution`, so that a pipeline
        ending in an MDN, or any regressor with ``predict(X,
        return_std=True)`` (drawn as a Gaussian), works too.

        Parameters
        ----------
        estimator : fitted regressor
        X : array-like of shape (n_samples, n_features)
            The data: they set the range of the feature and, by their
            medians, ``reference``.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), \
                default=None
            Targets of ``X``, scattered against the feature.
        feature : int or str, default=0
            The feature along which to draw: a column index, or a column
            name of a DataFrame ``X`` (or of the model's
            ``feature_names_in_``).
        reference : array-like of shape (n_features,), default=None
            Values at which the other features are held; None takes the
            median of each column of ``X``. Its entry for ``feature`` is
            ignored.
        feature_range : tuple of two floats, default=None
            ``(low, high)`` of the grid; None spans ``X[:, feature]``. A
            wider range shows how the model extrapolates.
        grid_resolution : int, default=200
            Number of values of the feature.
        output : int, default=None
            For a model of several outputs, the output whose marginal
            density to draw (required then).
        y_grid, y_resolution, n_samples, quantiles, hdr, random_state
            As in :meth:`from_distribution`.
        feature_name, target_name : str, default=None
            Axis labels; None takes the column name (or ``x``, ``x0``, ...)
            and ``y`` (``y0``, ... for one of several outputs).
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ConditionalDensityDisplay
        """
        return cls.from_distribution(
            **along_feature(
                estimator,
                X,
                y,
                feature=feature,
                reference=reference,
                feature_range=feature_range,
                grid_resolution=grid_resolution,
                output=output,
                feature_name=feature_name,
                target_name=target_name,
            ),
            y_grid=y_grid,
            y_resolution=y_resolution,
            n_samples=n_samples,
            quantiles=quantiles,
            hdr=hdr,
            random_state=random_state,
            ax=ax,
            **kwargs,
        )
