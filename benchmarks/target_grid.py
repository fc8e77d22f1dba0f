"""Targets whose values sit on a regular grid, and their dequantization.

A target recorded on a grid (wine grades, scores in half points, counts) has
a discrete distribution: a density model can put narrow spikes on the grid
points and reach a test NLL no continuous model can, which is a likelihood of
the grid, not of a continuous ``y``. :func:`find_grid` detects such targets
from the data alone (few distinct values relative to the number of rows, all
of them multiples of one spacing, which it finds), and :func:`dequantize`
spreads each value uniformly over its grid cell so that densities become
comparable again (Theis et al. 2016, "A note on the evaluation of generative
models").

Every measured target is on *some* grid, its recording resolution (Boston's
prices to 0.1, power-plant's output to 0.01); those have about as many
distinct values as rows and are not flagged: a mixture of a few components
cannot put a spike on each of hundreds of grid points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# At most one distinct value per this many rows on average for a target to
# count as gridded: wine (6 grades, 1599 rows) is far below it, Boston (229
# values, 506 rows) and power-plant (4836, 9568) far above.
MAX_VALUES_PER_ROW = 0.25
# The spacing is the smallest gap between distinct values divided by the
# smallest k <= MAX_DIVISOR that puts every value on the grid: e.g. values
# {0, 2, 5} have gaps 2 and 3, spacing 2 / 2 = 1.
MAX_DIVISOR = 10
# Tolerance on (value - origin) / spacing being an integer, which absorbs the
# rounding of decimal grids such as 0.1 in binary floating point.
STEP_TOL = 1e-6


@dataclass(frozen=True)
class TargetGrid:
    """A regular grid that holds every value of a target.

    Attributes
    ----------
    spacing : float
        Distance between neighbouring grid points.
    origin : float
        Smallest value of the target (a grid point).
    n_values : int
        Number of distinct values.
    n_samples : int
        Number of finite values the grid was found from.
    """

    spacing: float
    origin: float
    n_values: int
    n_samples: int

    @property
    def is_integer(self):
        """True when the grid points are integers (spacing 1, integer origin)."""
        return self.spacing == 1.0 and float(self.origin).is_integer()

    def describe(self):
        """Say what the grid is, for a summary line.

        Returns
        -------
        str
            E.g. ``"spacing 1 (6 distinct values in 1599 rows)"``.
        """
        return (
            f"spacing {self.spacing:.6g} ({self.n_values} distinct values in "
            f"{self.n_samples} rows)"
        )


def find_grid(y, max_values_per_row=MAX_VALUES_PER_ROW):
    """Detect a target whose values sit on a regular grid.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Target values; non-finite values are ignored.
    max_values_per_row : float, default=MAX_VALUES_PER_ROW
        Flag the target only if it has at most this many distinct values per
        row (0.25: each value occurs four times on average).

    Returns
    -------
    TargetGrid or None
        The grid, or None when the target has too many distinct values, fewer
        than two, or values that no spacing found from the data holds.

    Examples
    --------
    >>> find_grid([3, 4, 4, 5, 3, 4, 5, 4, 4, 3, 5, 4]).spacing
    1.0
    >>> find_grid([0.1, 0.37, 0.52, 0.9]) is None
    True
    """
    y = np.asarray(y, dtype=float).ravel()
    y = y[np.isfinite(y)]
    values = np.unique(y)
    if values.size < 2 or values.size > max_values_per_row * y.size:
        return None
    smallest_gap = np.diff(values).min()
    offsets = values - values[0]
    for k in range(1, MAX_DIVISOR + 1):
        steps = offsets / (smallest_gap / k)
        if np.all(np.abs(steps - np.round(steps)) <= STEP_TOL):
            # The whole range over its number of steps is the most accurate
            # estimate of the spacing; 12 digits drop the binary rounding of
            # decimal grids (0.09999999999999432 -> 0.1).
            spacing = float(f"{offsets[-1] / np.round(steps[-1]):.12g}")
            return TargetGrid(spacing, float(values[0]), int(values.size), y.size)
    return None


def dequantize(y, split, spacing=1.0):
    """Spread a gridded target uniformly over its cells, reproducibly per split.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Target on a grid of the given spacing, all rows of the dataset.
    split : int
        Split index; the same split gets the same noise for every model.
    spacing : float, default=1.0
        Grid spacing (:attr:`TargetGrid.spacing`); the noise is
        ``U(-spacing / 2, spacing / 2)``.

    Returns
    -------
    ndarray of shape (n_samples,)
        A continuous target whose density integrates to each grid point's
        probability over its cell: its NLL is that of the grid's
        probabilities plus ``log(spacing)``.
    """
    rng = np.random.default_rng(10_000 + split)
    return y + spacing * rng.uniform(-0.5, 0.5, size=np.shape(y))
