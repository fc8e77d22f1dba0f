"""
Conformal intervals next to the model's own
===========================================

An MDN's intervals are as good as its calibration. Conformal prediction
instead guarantees the coverage on average over new data, for any model,
by widening or narrowing the model's intervals by an amount measured on
held-out rows. This example wraps a fitted :class:`~skmdn.MDNRegressor` in
MAPIE's split conformal regressor and compares the intervals with the MDN's
own central intervals and highest-density regions, on the inverted
sinusoid.
"""

# %%
# Three sets of data
# ------------------
#
# The MDN is fitted on one set; MAPIE measures its errors on a second (the
# conformalization set), and all intervals are judged on a third. (Fewer
# epochs with the ``CI`` variable set.)
import os

import matplotlib.pyplot as plt
import numpy as np
from mapie.conformity_scores import StdConformityScore
from mapie.regression import SplitConformalRegressor

from skmdn import MDNRegressor
from skmdn.datasets import make_inverted_sinusoid
from skmdn.metrics import interval_coverage, interval_width
from skmdn.plotting import ConditionalDensityDisplay

max_epochs = 150 if os.environ.get("CI") else 1000

X_train, y_train = make_inverted_sinusoid(1000, random_state=0)
X_conf, y_conf = make_inverted_sinusoid(500, random_state=1)
X_test, y_test = make_inverted_sinusoid(5000, random_state=2)

mdn = MDNRegressor(max_epochs=max_epochs, random_state=0).fit(X_train, y_train)

# %%
# Conformal intervals around the mean
# -----------------------------------
#
# Split conformal prediction needs a point prediction: ``mdn.predict`` is
# the conditional mean. With the absolute residual as conformity score the
# interval is the mean plus or minus one width for every input; with
# :class:`~mapie.conformity_scores.StdConformityScore` the residual is
# divided by the standard deviation that ``predict(X, return_std=True)``
# returns, so the width follows the MDN's spread.
intervals = {}
for name, score in [("absolute", "absolute"), ("std", StdConformityScore())]:
    conformal = SplitConformalRegressor(
        mdn, confidence_level=0.9, conformity_score=score, prefit=True
    ).conformalize(X_conf, y_conf)
    _, bounds = conformal.predict_interval(X_test)
    intervals[f"conformal ({name})"] = bounds[:, 0, 0], bounds[:, 1, 0]

# %%
# The MDN's own 90% regions
# -------------------------
#
# The central interval between the 5% and the 95% quantiles, and the
# highest-density region, a union of intervals.
intervals["MDN central"] = mdn.predict_interval(X_test, 0.9)
hdr = mdn.predict_interval(X_test, 0.9, method="hdr")

print(f"{'90% region':<22} {'coverage':>8} {'mean length':>11}")
for name, (lower, upper) in intervals.items():
    coverage = interval_coverage(y_test, lower, upper)
    print(f"{name:<22} {coverage:8.3f} {interval_width(lower, upper):11.2f}")
print(f"{'MDN HDR':<22} {hdr.contains(y_test).mean():8.3f} {hdr.length.mean():11.2f}")

# %%
# All four hold close to 90% of the test targets: the conformal ones by
# construction (on average over conformalization sets; one set of 500 rows
# can miss by a point or two), the MDN's as far as the model is calibrated
# (within a few points here). Their lengths differ a lot. Around the mean,
# a single interval per input has to reach from the lowest branch to the
# highest. The HDR covers only the branches.
#
# Along the input
# ---------------
order = np.argsort(X_test[:, 0])
y_sorted = X_test[order, 0]
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
ax = axes[0]
ax.scatter(X_test[:, 0], y_test, s=2, color="grey", alpha=0.3, label="test data")
for (name, (lower, upper)), colour in zip(intervals.items(), ["C0", "C1", "C2"]):
    ax.plot(y_sorted, lower[order], color=colour, lw=1.5, label=name)
    ax.plot(y_sorted, upper[order], color=colour, lw=1.5)
ax.set(xlabel="y", ylabel="x", ylim=(-14, 14), title="One interval per input")
ax.legend(loc="upper left", fontsize="small")

ConditionalDensityDisplay.from_estimator(
    mdn,
    X_test,
    y_test,
    hdr=0.9,
    feature_name="y",
    target_name="x",
    ax=axes[1],
    colorbar=False,
    data_kw={"s": 2, "alpha": 0.2},
)
axes[1].set_title("The MDN's density and its 90% HDR")

# %%
# Which to use? The conformal guarantee holds whatever the model, but only
# on average over inputs, and only for the shape of interval it is given:
# around a mean, that is one interval. The MDN's HDR is much shorter and
# follows the branches, and its coverage is as good as the model's
# calibration, which is worth checking on held-out data
# (:doc:`plot_2_calibration`).
