"""Calibration of predictive distributions: PIT histogram and coverage."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_integer, check_sample_weights
from ..metrics import (
    _as_distribution,
    _check_y_true,
    _coverage_gap,
    calibration_curve,
    pit,
    predictive_distribution,
)
from ._base import check_panels, panel_axes, univariate

__all__ = ["CalibrationDisplay"]

PANELS = ("pit", "reliability")

# The gid of the reference lines and bands, drawn once per Axes when
# several models are drawn over each other.
_REFERENCE = "skmdn-calibration-reference"

# Half-width, in standard deviations, of the band a calibrated model's PIT
# histogram stays in for about 95% of its bins.
_BAND_Z = 1.96


def _has_reference(ax) -> bool:
    return any(artist.get_gid() == _REFERENCE for artist in ax.get_children())


class CalibrationDisplay:
    """Calibration of a predictive distribution on held-out data.

    Two panels, as in the calibration check of the user guide:

    - ``"pit"``: the histogram of the probability integral transform
      ``F_i(y_i)`` (:func:`skmdn.metrics.pit`). A calibrated model gives a
      flat histogram at density 1; a U shape means distributions that are
      too narrow (over-confident), a hump distributions that are too wide.
      The grey band is where about 95% of the bins of a calibrated model
      fall with this many samples.
    - ``"reliability"``: the fraction of targets inside the central
      interval of each nominal level against that level
      (:func:`skmdn.metrics.calibration_curve`); the diagonal is perfect
      calibration, points below it too narrow intervals. The legend gives
      the :func:`skmdn.metrics.calibration_error`.

    Build it with :meth:`from_estimator` or :meth:`from_predictions`. Pass
    ``ax=display.axes_`` to draw another model over the same panels.

    Parameters
    ----------
    pit : ndarray of shape (n_samples,)
        PIT values of the targets.
    nominal : ndarray of shape (n_levels,)
        Nominal levels of the central intervals.
    observed : ndarray of shape (n_levels,)
        Observed coverage at each level.
    calibration_error : float
        Mean absolute gap between ``observed`` and ``nominal``.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the PIT values in the histogram.
    name : str, default=None
        Name of the model, for the legend.

    Attributes
    ----------
    axes_ : dict of str to matplotlib Axes
        The Axes of each panel drawn (``"pit"``, ``"reliability"``).
    figure_ : matplotlib Figure
    pit_hist_ : matplotlib StepPatch or None
        The histogram; ``pit_hist_.get_data()`` gives its densities and
        bin edges.
    pit_band_ : matplotlib Rectangle or None
        The band of a calibrated model's histogram (None when ``band=False``
        or when another display drew it on the same Axes).
    reliability_line_ : matplotlib Line2D or None
    diagonal_line_ : matplotlib Line2D or None
        The diagonal (None when another display drew it on the same Axes).

    See Also
    --------
    skmdn.metrics.calibration_error : The same gap as one number.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn.plotting import CalibrationDisplay
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=1000)
    >>> ones = np.ones((1000, 1))
    >>> too_narrow = (ones, np.zeros((1000, 1)), 0.5 * ones)
    >>> disp = CalibrationDisplay.from_predictions(
    ...     y, too_narrow, levels=[0.5, 0.9], name="sd 0.5"
    ... )
    >>> disp.observed.round(2)  # intervals too narrow: coverage far too low
    array([0.26, 0.61])
    >>> values, edges, _ = disp.pit_hist_.get_data()
    >>> bool(values[0] > 2 and values[-1] > 2)  # a U-shaped histogram
    True
    """

    def __init__(
        self,
        *,
        pit: NDArray,
        nominal: NDArray,
        observed: NDArray,
        calibration_error: float,
        sample_weight: NDArray | None = None,
        name: str | None = None,
    ) -> None:
        self.pit = pit
        self.nominal = nominal
        self.observed = observed
        self.calibration_error = calibration_error
        self.sample_weight = sample_weight
        self.name = name

    def plot(
        self,
        ax=None,
        *,
        panels=PANELS,
        n_bins: int = 10,
        band: bool = True,
        name: str | None = None,
        hist_kw: dict | None = None,
        line_kw: dict | None = None,
    ) -> CalibrationDisplay:
        """Draw the panels.

        Parameters
        ----------
        ax : matplotlib Axes, sequence of Axes or dict, default=None
            Where to draw: None makes a new figure with the panels side by
            side; otherwise one Axes per panel, in the order of ``panels``,
            or a dict from panel names to Axes (the ``axes_`` of another
            display, to compare models).
        panels : str or sequence of str, default=("pit", "reliability")
            The panels to draw.
        n_bins : int, default=10
            Number of bins of the PIT histogram.
        band : bool, default=True
            Shade the range of a calibrated model's histogram.
        name : str, default=None
            Name for the legend; None uses the display's ``name``.
        hist_kw, line_kw : dict, default=None
            Keyword arguments for ``stairs`` (the histogram) and ``plot``
            (the reliability curve), over the defaults.

        Returns
        -------
        display : CalibrationDisplay
            ``self``, with the figure, axes and artists stored.
        """
        panels = check_panels(panels, PANELS)
        n_bins = check_integer(n_bins, "n_bins")
        self.axes_, self.figure_ = panel_axes(ax, panels, "CalibrationDisplay.plot")
        name = self.name if name is None else name
        self.pit_hist_ = self.pit_band_ = None
        self.reliability_line_ = self.diagonal_line_ = None
        if "pit" in self.axes_:
            ax = self.axes_["pit"]
            values, edges = np.histogram(
                self.pit,
                bins=n_bins,
                range=(0.0, 1.0),
                weights=self.sample_weight,
                density=True,
            )
            if not _has_reference(ax):
                ax.axhline(1.0, color="black", ls="--", lw=1, gid=_REFERENCE)
                if band:
                    # A bin of a calibrated model holds a fraction
                    # p = 1 / n_bins of the (effective) samples; its density
                    # has standard deviation sqrt((1 - p) / (n p)).
                    w = self.sample_weight
                    n = len(self.pit) if w is None else w.sum() ** 2 / (w**2).sum()
                    p = 1.0 / n_bins
                    half = _BAND_Z * np.sqrt((1.0 - p) / (n * p))
                    self.pit_band_ = ax.axhspan(
                        1.0 - half, 1.0 + half, color="grey", alpha=0.25, lw=0
                    )
            style = {"lw": 2, "label": name}
            self.pit_hist_ = ax.stairs(values, edges, **{**style, **(hist_kw or {})})
            ax.set(
                title="PIT histogram",
                xlabel="PIT value $F(y \\mid x)$",
                ylabel="density",
                xlim=(0.0, 1.0),
            )
            if name is not None and "reliability" not in self.axes_:
                ax.legend(loc="lower center", fontsize="small")
        if "reliability" in self.axes_:
            ax = self.axes_["reliability"]
            if not _has_reference(ax):
                (self.diagonal_line_,) = ax.plot(
                    [0, 1],
                    [0, 1],
                    "k--",
                    lw=1,
                    label="perfect calibration",
                    gid=_REFERENCE,
                )
            label = f"calibration error {self.calibration_error:.3f}"
            if name is not None:
                label = f"{name} ({label})"
            style = {"marker": "o", "ms": 4, "lw": 1.5, "label": label}
            (self.reliability_line_,) = ax.plot(
                self.nominal, self.observed, **{**style, **(line_kw or {})}
            )
            ax.set(
                title="Coverage of central intervals",
                xlabel="nominal coverage",
                ylabel="observed coverage",
                xlim=(0.0, 1.0),
                ylim=(0.0, 1.0),
                aspect="equal",
            )
            ax.legend(loc="upper left", fontsize="small")
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: ArrayLike,
        y_pred,
        *,
        sample_weight: ArrayLike | None = None,
        levels: ArrayLike | None = None,
        output: int | None = None,
        name: str | None = None,
        ax=None,
        **kwargs,
    ) -> CalibrationDisplay:
        """Draw the calibration of predicted distributions against targets.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Observed targets.
        y_pred : MixtureDistribution, MultivariateMixtureDistribution or \
                tuple of (weights, means, scales)
            The predicted distribution of each target.
        sample_weight : array-like of shape (n_samples,), default=None
        levels : array-like of shape (n_levels,), default=None
            Nominal levels of the central intervals, in (0, 1); None takes
            ``np.linspace(0.05, 0.95, 19)``.
        output : int, default=None
            For distributions of several outputs, the output whose marginal
            calibration to draw (required then).
        name : str, default=None
            Name of the model, for the legend.
        ax : matplotlib Axes, sequence of Axes or dict, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : CalibrationDisplay
        """
        predicted = _as_distribution(y_pred)
        dist = univariate(predicted, output)
        y = _check_y_true(y_true, predicted)
        if y.ndim == 2:
            y = y[:, output]
        if sample_weight is not None:
            sample_weight = check_sample_weights(sample_weight, len(y))
        nominal, observed = calibration_curve(
            y, dist, levels, sample_weight=sample_weight
        )
        display = cls(
            pit=pit(y, dist),
            nominal=nominal,
            observed=observed,
            # From the curve just computed, not a second pass over the rows.
            calibration_error=_coverage_gap(nominal, observed),
            sample_weight=sample_weight,
            name=name,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X: ArrayLike,
        y: ArrayLike,
        *,
        sample_weight: ArrayLike | None = None,
        levels: ArrayLike | None = None,
        output: int | None = None,
        name: str | None = None,
        ax=None,
        **kwargs,
    ) -> CalibrationDisplay:
        """Draw the calibration of a fitted model on data, held out ideally.

        The predictive distribution comes from
        :func:`skmdn.metrics.predictive_distribution`: an MDN, a pipeline
        ending in one, or any regressor with ``predict(X, return_std=True)``
        (a Gaussian), such as
        :class:`~sklearn.gaussian_process.GaussianProcessRegressor`.

        Parameters
        ----------
        estimator : fitted regressor
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight, levels, output
            As in :meth:`from_predictions`.
        name : str, default=None
            Name for the legend; None takes the estimator's class name.
        ax : matplotlib Axes, sequence of Axes or dict, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : CalibrationDisplay
        """
        return cls.from_predictions(
            y,
            predictive_distribution(estimator, X),
            sample_weight=sample_weight,
            levels=levels,
            output=output,
            name=type(estimator).__name__ if name is None else name,
            ax=ax,
            **kwargs,
        )
