"""The weights, scales and means of every component along one feature."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._base import (
    along_feature,
    check_data,
    check_panels,
    check_x_grid,
    panel_axes,
    univariate,
)

__all__ = ["MixtureParametersDisplay"]

PANELS = ("weights", "scales", "means")


class MixtureParametersDisplay:
    """The parameters of every mixture component along one input feature.

    A mixture density network predicts, at each input, the weight
    ``pi_k(x)``, the mean ``mu_k(x)`` and the scale (standard deviation)
    ``sigma_k(x)`` of each component ``k``. This display draws them against
    one feature, one colour per component in every panel: the weights, the
    scales, and the means with bands of plus and minus one scale over the
    data. Build it with :meth:`from_estimator` or :meth:`from_distribution`.
    A model of stacked restarts (``MDNRegressor``'s default below 2,000
    rows) or an ensemble predicts the components of all its networks, each
    weighted by its share; ``MDNRegressor(restarts="best")`` shows one
    network's.

    Parameters
    ----------
    x_grid : ndarray of shape (n_x,)
        Values of the feature.
    weights, means, scales : ndarray of shape (n_x, n_components)
        The parameters at each value of the feature, one column per
        component in the order drawn.
    x_data, y_data : ndarray of shape (n_samples,), default=None
        Observations to scatter in the panel of the means.
    feature_name : str, default="x"
    target_name : str, default="y"

    Attributes
    ----------
    axes_ : dict of str to matplotlib Axes
        The Axes of each panel drawn, by name (``"weights"``, ``"scales"``,
        ``"means"``).
    figure_ : matplotlib Figure
    lines_ : dict of str to list of matplotlib Line2D
        The curves of each panel, one per component.
    bands_ : list of matplotlib PolyCollection
        The bands ``mean +- scale`` of each component (empty without the
        panel of the means or with ``bands=False``).
    data_scatter_ : matplotlib PathCollection or None
        The data in the panel of the means.

    See Also
    --------
    ConditionalDensityDisplay : The density these parameters make.

    Examples
    --------
    >>> from skmdn import MDNRegressor
    >>> from skmdn.datasets import make_inverted_sinusoid
    >>> from skmdn.plotting import MixtureParametersDisplay
    >>> X, y = make_inverted_sinusoid(300, random_state=0)
    >>> # One network's five components (the default stacks five restarts).
    >>> mdn = MDNRegressor(
    ...     n_components=5, restarts="best", max_epochs=20, random_state=0
    ... )
    >>> disp = MixtureParametersDisplay.from_estimator(mdn.fit(X, y), X, y)
    >>> sorted(disp.axes_)
    ['means', 'scales', 'weights']
    >>> len(disp.lines_["weights"]), len(disp.bands_)
    (5, 5)
    """

    def __init__(
        self,
        *,
        x_grid: NDArray,
        weights: NDArray,
        means: NDArray,
        scales: NDArray,
        x_data: NDArray | None = None,
        y_data: NDArray | None = None,
        feature_name: str = "x",
        target_name: str = "y",
    ) -> None:
        self.x_grid = x_grid
        self.weights = weights
        self.means = means
        self.scales = scales
        self.x_data = x_data
        self.y_data = y_data
        self.feature_name = feature_name
        self.target_name = target_name

    def plot(
        self,
        ax=None,
        *,
        panels=PANELS,
        bands: bool = True,
        line_kw: dict | None = None,
        band_kw: dict | None = None,
        data_kw: dict | None = None,
    ) -> MixtureParametersDisplay:
        """Draw the panels.

        Parameters
        ----------
        ax : matplotlib Axes, sequence of Axes or dict, default=None
            Where to draw: None makes a new figure with the panels side by
            side; otherwise one Axes per panel, in the order of ``panels``
            (or a dict from panel names to Axes).
        panels : str or sequence of str, default=("weights", "scales", "means")
            The panels to draw, out of ``"weights"``, ``"scales"`` and
            ``"means"``.
        bands : bool, default=True
            Shade ``mean +- scale`` of each component in the panel of the
            means.
        line_kw, band_kw, data_kw : dict, default=None
            Keyword arguments for ``plot`` (every curve), ``fill_between``
            (the bands) and ``scatter`` (the data), over the defaults.

        Returns
        -------
        display : MixtureParametersDisplay
            ``self``, with the figure, axes and artists stored.
        """
        panels = check_panels(panels, PANELS)
        self.axes_, self.figure_ = panel_axes(
            ax, panels, "MixtureParametersDisplay.plot"
        )
        x, f, t = self.x_grid, self.feature_name, self.target_name
        labels = {
            "weights": (f"Mixing weights $\\pi_k({f})$", "weight"),
            "scales": (f"Scales $\\sigma_k({f})$", f"standard deviation of {t}"),
            "means": (
                f"Means $\\mu_k({f}) \\pm \\sigma_k({f})$"
                if bands
                else f"Means $\\mu_k({f})$",
                t,
            ),
        }
        self.lines_, self.bands_, self.data_scatter_ = {}, [], None
        for panel, ax in self.axes_.items():
            if panel == "means" and self.x_data is not None:
                style = {"s": 4, "color": "grey", "alpha": 0.2, "linewidths": 0}
                self.data_scatter_ = ax.scatter(
                    self.x_data,
                    self.y_data,
                    **{**style, "label": "data", **(data_kw or {})},
                )
            values = getattr(self, panel)
            self.lines_[panel] = []
            for k in range(values.shape[1]):
                style = {"color": f"C{k % 10}", "lw": 2, "label": f"component {k}"}
                (line,) = ax.plot(x, values[:, k], **{**style, **(line_kw or {})})
                self.lines_[panel].append(line)
                if panel == "means" and bands:
                    mean, scale = self.means[:, k], self.scales[:, k]
                    style = {"color": line.get_color(), "alpha": 0.25, "lw": 0}
                    self.bands_.append(
                        ax.fill_between(
                            x,
                            mean - scale,
                            mean + scale,
                            **{**style, **(band_kw or {})},
                        )
                    )
            title, ylabel = labels[panel]
            ax.set(title=title, xlabel=f, ylabel=ylabel, xlim=(x[0], x[-1]))
            if panel == "weights":
                ax.set_ylim(-0.02, 1.02)
            if panel == "means" and self.y_data is not None:
                # Bands far from the data (where a component has no weight)
                # can be wide: keep the data in view, as the seed post does.
                low, high = self.y_data.min(), self.y_data.max()
                pad = 0.1 * (high - low) if high > low else 1.0
                ax.set_ylim(low - pad, high + pad)
        return self

    @classmethod
    def from_distribution(
        cls,
        x_grid: ArrayLike,
        y_pred,
        *,
        x_data: ArrayLike | None = None,
        y_data: ArrayLike | None = None,
        sort_components: bool = True,
        feature_name: str = "x",
        target_name: str = "y",
        ax=None,
        **kwargs,
    ) -> MixtureParametersDisplay:
        """Draw the components of predicted mixtures along a grid of inputs.

        Parameters
        ----------
        x_grid : array-like of shape (n_x,)
            The value of the feature at each row of ``y_pred``.
        y_pred : MixtureDistribution or tuple of (weights, means, scales)
            The predicted mixtures at each value of ``x_grid``.
        x_data, y_data : array-like of shape (n_samples,), default=None
            Observations to scatter in the panel of the means.
        sort_components : bool, default=True
            Order the components by their average mean over the grid, so
            that the colours follow the components from bottom to top
            (the network's own order is arbitrary). False keeps its order.
        feature_name, target_name : str, default="x", "y"
            Axis labels.
        ax : matplotlib Axes, sequence of Axes or dict, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : MixtureParametersDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from skmdn import MixtureDistribution
        >>> from skmdn.plotting import MixtureParametersDisplay
        >>> x = np.linspace(0, 1, 20)
        >>> w = np.c_[x, 1 - x]
        >>> dist = MixtureDistribution(w, np.c_[1 + x, -1 - x], np.ones((20, 2)))
        >>> disp = MixtureParametersDisplay.from_distribution(x, dist)
        >>> disp.means[0]  # sorted: the lower component first
        array([-1.,  1.])
        """
        dist = univariate(y_pred, None)
        x_grid = check_x_grid(x_grid, len(dist))
        x_data, y_data = check_data(x_data, y_data)
        order = np.arange(dist.n_components)
        if sort_components:
            order = np.argsort(dist.means.mean(axis=0), kind="stable")
        display = cls(
            x_grid=x_grid,
            weights=dist.weights[:, order],
            means=dist.means[:, order],
            scales=dist.scales[:, order],
            x_data=x_data,
            y_data=y_data,
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
        sort_components: bool = True,
        feature_name: str | None = None,
        target_name: str | None = None,
        ax=None,
        **kwargs,
    ) -> MixtureParametersDisplay:
        """Draw a fitted mixture model's components along one feature of ``X``.

        Parameters
        ----------
        estimator : fitted regressor
            An MDN (or a pipeline ending in one); its predictive
            distribution comes from
            :func:`skmdn.metrics.predictive_distribution`.
        X : array-like of shape (n_samples, n_features)
            The data: they set the range of the feature and, by their
            medians, ``reference``.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), \
                default=None
            Targets of ``X``, scattered in the panel of the means.
        feature : int or str, default=0
            The feature along which to draw: a column index or a column
            name.
        reference : array-like of shape (n_features,), default=None
            Values at which the other features are held; None takes the
            median of each column of ``X``.
        feature_range : tuple of two floats, default=None
            ``(low, high)`` of the grid; None spans ``X[:, feature]``.
        grid_resolution : int, default=200
            Number of values of the feature.
        output : int, default=None
            For a model of several outputs, the output whose marginal
            components to draw (required then).
        sort_components : bool, default=True
            As in :meth:`from_distribution`.
        feature_name, target_name : str, default=None
            Axis labels; None takes the column name (or ``x``) and ``y``.
        ax : matplotlib Axes, sequence of Axes or dict, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : MixtureParametersDisplay
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
            sort_components=sort_components,
            ax=ax,
            **kwargs,
        )
