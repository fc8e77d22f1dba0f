"""
Comparing an MDN with standard regressors
=========================================

A mixture density network is a regressor like any other, so it can sit in
one table with gradient boosting, a random forest and a Gaussian process.
:func:`skmdn.model_selection.compare_regressors` cross-validates every
model on the same splits and reports, for each, the RMSE of its point
prediction and, where the model predicts a distribution, its negative
log-likelihood, CRPS and calibration error, with the fit time. Point
regressors get empty probabilistic columns: they predict no distribution.

The data here are the inverted sinusoid of the tutorial, where ``y`` given
``x`` has up to five branches: no point prediction can do well there, and
the distributional scores show by how much the MDN does better.
"""

# %%
# The table
# ---------
#
# Five shuffled folds of 1,000 rows. The MDNs are capped at 300 epochs (60
# with the ``CI`` variable set) to keep the example quick.
import os

import matplotlib.pyplot as plt
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.model_selection import KFold

from skmdn import MDNEnsembleRegressor, MDNRegressor
from skmdn.datasets import make_inverted_sinusoid
from skmdn.model_selection import compare_regressors

max_epochs = 60 if os.environ.get("CI") else 300

X, y = make_inverted_sinusoid(1000, random_state=0)
models = {
    "gradient boosting": HistGradientBoostingRegressor(random_state=0),
    "random forest": RandomForestRegressor(n_estimators=100, random_state=0),
    "Gaussian process": GaussianProcessRegressor(
        RBF(length_scale_bounds=(1e-2, 1e2)) + WhiteKernel(), normalize_y=True
    ),
    "MDN": MDNRegressor(max_epochs=max_epochs, random_state=0),
    "MDN ensemble (5)": MDNEnsembleRegressor(
        MDNRegressor(max_epochs=max_epochs), random_state=0
    ),
}
table = compare_regressors(models, X, y, cv=KFold(5, shuffle=True, random_state=0))
table.round(3)

# %%
# Reading it
# ----------
#
# The RMSE hardly separates the models: every one of them predicts
# something near the conditional mean, which lies between the branches.
# The NLL and the CRPS do. The Gaussian process predicts one wide Gaussian
# per ``x``: calibrated on average, but it puts density between the
# branches, where there are no data. The MDN and the ensemble of five MDNs
# put one component on each branch and beat it by more than a nat per
# sample. ``per_split=True`` gives one row per model and fold, for paired
# comparisons:
folds = compare_regressors(
    {"Gaussian process": models["Gaussian process"], "MDN": models["MDN"]},
    X,
    y,
    cv=KFold(5, shuffle=True, random_state=0),
    per_split=True,
)
paired = folds.pivot(index="split", columns="model", values="nll")
paired["MDN - GP"] = paired["MDN"] - paired["Gaussian process"]
paired.round(3)

# %%
# The same comparison as a picture: NLL (lower is better) and fit time.
probabilistic = table.dropna(subset=["nll"])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
ax1.barh(probabilistic["model"], probabilistic["nll"], color="tab:blue")
ax1.set_xlabel("test NLL (nats)")
ax1.invert_yaxis()
ax2.barh(table["model"], table["fit_time"], color="tab:gray")
ax2.set_xlabel("fit time per fold (s)")
ax2.set_xscale("log")
ax2.invert_yaxis()
plt.show()
