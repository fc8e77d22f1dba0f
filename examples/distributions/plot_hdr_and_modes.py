"""
Intervals, highest-density regions and modes
============================================

When :math:`p(x \\mid y)` has several branches, the usual summaries of a
prediction mislead: the mean falls between the branches, and a central
interval covers the empty space between them. The highest-density region
(HDR) and the modes describe such a distribution; this example puts them
side by side on the inverted sinusoid.
"""

# %%
# A model of the inverse problem
# -------------------------------
#
# ``MDNRegressor()`` with its defaults, on the tutorial's 1000 points (fewer
# epochs when the ``CI`` variable is set).
import os

import matplotlib.pyplot as plt
import numpy as np

from skmdn import MDNRegressor
from skmdn.datasets import make_inverted_sinusoid
from skmdn.metrics import interval_coverage, interval_width
from skmdn.plotting import ConditionalDensityDisplay

max_epochs = 150 if os.environ.get("CI") else 1000

X, x = make_inverted_sinusoid(1000, random_state=0)
mdn = MDNRegressor(max_epochs=max_epochs, random_state=0).fit(X, x)

# %%
# One input
# ---------
#
# At :math:`y = 1` all five branches are present. The predicted distribution of
# that one row is a :class:`~skmdn.MixtureDistribution`: its density, the
# central 90% interval, the 90% HDR, the modes and the mean.
dist = mdn.predict_dist([[1.0]])
grid = np.linspace(-12, 12, 2001)
density = dist.pdf(grid[None, :])[0]
lower, upper = dist.interval(0.9)
region = dist.hdr(0.9)
locations, heights = dist.modes()

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(grid, density, "k", lw=1.5, label="p(x | y = 1)")
ax.fill_between(
    grid,
    0,
    density,
    where=region.contains(grid[None, :])[0],
    color="C0",
    alpha=0.4,
    label="90% HDR",
)
level = -0.04 * density.max()
ax.plot([lower[0], upper[0]], [level, level], "C1", lw=4, label="central 90% interval")
ax.plot(locations[0], heights[0], "v", color="C3", ms=8, label="modes")
ax.axvline(dist.mean()[0], color="grey", ls="--", label="mean")
ax.set(xlabel="x", ylabel="density", title="The predicted distribution at y = 1")
ax.legend(loc="upper left")

print("HDR pieces:", [(round(a, 2), round(b, 2)) for a, b in region.to_list()[0]])
print(f"HDR length {region.length[0]:.2f}, central interval {upper[0] - lower[0]:.2f}")

# %%
# The HDR is the smallest set with 90% of the probability: where the
# density is above a level, so it is a union of intervals around the
# branches. The central interval runs from the 5% to the 95% quantile,
# across the gaps between the branches, and is longer for the same mass.
# The mean falls in one of those gaps.
#
# Along the input
# ---------------
#
# :class:`~skmdn.plotting.ConditionalDensityDisplay` draws the density at
# every :math:`y`, the outline of the 90% HDR and the 5% and 95% quantiles
# (the ends of the central interval). We add the modes of each row.
disp = ConditionalDensityDisplay.from_estimator(
    mdn,
    X,
    hdr=0.9,
    quantiles=[0.05, 0.95],
    feature_range=(-12, 12),
    feature_name="y",
    target_name="x",
)
modes, _ = mdn.predict_dist(disp.x_grid[:, None]).modes()
disp.ax_.scatter(
    np.repeat(disp.x_grid, modes.shape[1]),
    modes.ravel(),
    s=2,
    color="C3",
    label="modes",
)
disp.ax_.legend(loc="upper left", markerscale=3)

# %%
# Coverage and length on held-out data
# ------------------------------------
#
# Both regions are meant to hold 90% of the targets. On 10,000 fresh draws,
# :meth:`~skmdn.MDNRegressor.predict_interval` gives the central intervals
# and, with ``method="hdr"``, the HDRs:
X_test, x_test = make_inverted_sinusoid(10_000, random_state=1)
lower, upper = mdn.predict_interval(X_test, 0.9)
hdr = mdn.predict_interval(X_test, 0.9, method="hdr")

print(
    f"central: coverage {interval_coverage(x_test, lower, upper):.3f}, "
    f"mean length {interval_width(lower, upper):.2f}"
)
print(
    f"HDR:     coverage {hdr.contains(x_test).mean():.3f}, "
    f"mean length {hdr.length.mean():.2f}"
)
pieces = np.bincount(hdr.n_intervals)
print("rows whose HDR has 1, 2, ... pieces:", pieces[1:].tolist())

# %%
# Both hold close to 90% (how close depends on the model's calibration:
# :doc:`../model_selection/plot_2_calibration` checks it), and the HDRs are
# several times shorter: they leave out the gaps between the branches.
#
# Which point prediction?
# -----------------------
#
# If one value must be reported, the highest mode
# (:meth:`~skmdn.MixtureDistribution.mode`) is a value the data take; the
# mean often is not. The density of the model at each prediction shows it:
dist_test = mdn.predict_dist(X_test)
for name, point in [("mean", dist_test.mean()), ("highest mode", dist_test.mode())]:
    print(f"{name:>12}: median density {np.median(dist_test.pdf(point)):.3f}")
