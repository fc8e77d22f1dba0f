"""
Checking calibration on held-out data
=====================================

A predictive distribution is calibrated when events it gives probability
:math:`p` happen a fraction :math:`p` of the time: 90% intervals contain
90% of the targets, and the PIT values :math:`F(y_i \\mid x_i)` are
uniform. :class:`~skmdn.plotting.CalibrationDisplay` draws both checks for
any regressor with a predictive distribution; here an MDN, a Gaussian
process and a Bayesian linear model on the inverted sinusoid.
"""

# %%
# Three models
# ------------
#
# The Gaussian process and ``BayesianRidge`` predict a Gaussian through
# ``predict(X, return_std=True)``, which the display and the metrics of
# :mod:`skmdn.metrics` turn into a one-component mixture. (Fewer MDN epochs
# with the ``CI`` variable set.)
import os

import matplotlib.pyplot as plt
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import BayesianRidge

from skmdn import MDNRegressor
from skmdn.datasets import make_inverted_sinusoid
from skmdn.metrics import (
    calibration_error,
    crps,
    negative_log_likelihood,
    predictive_distribution,
)
from skmdn.plotting import CalibrationDisplay

max_epochs = 150 if os.environ.get("CI") else 1000

X, y = make_inverted_sinusoid(1000, random_state=0)
X_test, y_test = make_inverted_sinusoid(5000, random_state=1)
models = {
    "MDN": MDNRegressor(max_epochs=max_epochs, random_state=0),
    "Gaussian process": GaussianProcessRegressor(
        RBF(3.0) + WhiteKernel(1.0), normalize_y=True
    ),
    "BayesianRidge": BayesianRidge(),
}
for model in models.values():
    model.fit(X, y)

# %%
# The displays
# ------------
#
# The first call draws the two panels; the next ones draw over them
# (``ax=disp.axes_``).
disp = None
for name, model in models.items():
    disp = CalibrationDisplay.from_estimator(
        model, X_test, y_test, name=name, ax=None if disp is None else disp.axes_
    )
disp.figure_.set_size_inches(10, 4)

# %%
# The MDN's PIT histogram is nearly flat, at or near the grey band where a
# calibrated model's bins fall about 95% of the time, and its coverage
# follows the diagonal. The Gaussian models' histograms are far from flat:
# one bump cannot put the probability where the branches are.
#
# Calibration is not enough
# -------------------------
#
# Calibration says that the probabilities mean what they say, not that they
# are sharp: a model that predicted the marginal distribution of the target
# at every input would be calibrated, and useless. Read the calibration
# error with a score of the whole distribution, the NLL or the CRPS:
print(f"{'model':<18} {'calibration error':>17} {'NLL':>7} {'CRPS':>7}")
for name, model in models.items():
    dist = predictive_distribution(model, X_test)
    print(
        f"{name:<18} {calibration_error(y_test, dist):17.3f} "
        f"{negative_log_likelihood(y_test, dist):7.3f} {crps(y_test, dist):7.3f}"
    )

# %%
# Calibration where it matters
# ----------------------------
#
# Calibration over the whole test set can hide regions where a model is
# wrong in opposite directions. Between :math:`y = -5` and :math:`y = 5`
# the inverse problem has several branches; outside, mostly one. The same
# display on each part:
inner = abs(X_test[:, 0]) < 5
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for ax, mask, title in [(axes[0], inner, "|y| < 5"), (axes[1], ~inner, "|y| >= 5")]:
    for name, model in models.items():
        CalibrationDisplay.from_estimator(
            model, X_test[mask], y_test[mask], name=name, panels="reliability", ax=ax
        )
    ax.set_title(f"Coverage of central intervals, {title}")

# %%
# The MDN stays near the diagonal on both parts. The Gaussian models' errors
# on each part are about three times their overall error: their intervals
# cover too little where the branches spread out (:math:`|y| < 5`) and,
# for the Gaussian process, too much elsewhere. Over the whole test set the
# two partly cancel.
