"""
A log-normal target: densities through a target transform
=========================================================

Many targets are positive and skewed: prices, durations, concentrations.
Fitting the MDN on ``log y`` with scikit-learn's
:class:`~sklearn.compose.TransformedTargetRegressor` often helps, and
:func:`skmdn.metrics.predictive_distribution` gives the predictive
distribution back in the units of ``y``: a
:class:`~skmdn.TransformedDistribution`, whose density carries the
Jacobian of the transform (here ``1 / y``), so that its NLL is comparable
with that of a model fitted on ``y`` itself.
"""

# %%
# Data and models
# ---------------
#
# ``log y = sin(3 x) + (0.2 + 0.3 x) e``: log-normal given ``x``, more
# spread out as ``x`` grows. One MDN is fitted on ``y``, one on ``log y``.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import train_test_split

from skmdn import MDNRegressor
from skmdn.metrics import crps_scorer, nll_scorer, predictive_distribution

max_epochs = 60 if os.environ.get("CI") else 1000

rng = np.random.default_rng(0)
X = rng.uniform(0, 2, size=(2000, 1))
y = np.exp(np.sin(3 * X[:, 0]) + (0.2 + 0.3 * X[:, 0]) * rng.normal(size=2000))
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

plain = MDNRegressor(max_epochs=max_epochs, random_state=0).fit(X_train, y_train)
logged = TransformedTargetRegressor(
    MDNRegressor(max_epochs=max_epochs, random_state=0),
    func=np.log,
    inverse_func=np.exp,
).fit(X_train, y_train)

for name, model in [("MDN on y", plain), ("MDN on log y", logged)]:
    nll = -nll_scorer(model, X_test, y_test)
    crps = -crps_scorer(model, X_test, y_test)
    print(f"{name:13s}  test NLL {nll:.3f}  CRPS {crps:.3f}")

# %%
# The scorers reached the MDN inside the target transform: the NLL of the
# second model is that of its mixture for ``log y`` plus the mean of
# ``log y`` (the log Jacobian), in the units of ``y``. Note that
# ``logged.score`` would be R², scikit-learn's default for the wrapper.
#
# Densities in the units of y
# ---------------------------
#
# At three inputs, the density of ``y`` from each model. The transformed
# one is skewed, as the data are; the one fitted on ``y`` approximates the
# skew with its Gaussian components.
x0 = np.array([[0.3], [1.0], [1.8]])
grid = np.linspace(1e-3, 6, 600)
dist = predictive_distribution(logged, x0)
fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True, layout="constrained")
for i, ax in enumerate(axes):
    truth_mu, truth_s = np.sin(3 * x0[i, 0]), 0.2 + 0.3 * x0[i, 0]
    truth = np.exp(-0.5 * ((np.log(grid) - truth_mu) / truth_s) ** 2) / (
        grid * truth_s * np.sqrt(2 * np.pi)
    )
    ax.plot(grid, truth, "k:", label="true density")
    ax.plot(grid, dist[i : i + 1].pdf(grid[None, :])[0], label="MDN on log y")
    ax.plot(
        grid,
        plain.predict_proba_density(x0[i : i + 1], grid[None, :])[0],
        label="MDN on y",
    )
    ax.set_title(f"x = {x0[i, 0]}")
    ax.set_xlabel("y")
axes[0].set_ylabel("p(y | x)")
axes[0].legend()
plt.show()

# %%
# Means, medians and intervals
# ----------------------------
#
# ``logged.predict`` is ``exp`` of the mean of ``log y``: for a log-normal,
# that is the median, not the mean. The transformed distribution gives both,
# and intervals whose ends are the transformed quantiles (exact, as the
# transform is monotone).
print("mean    ", dist.mean().round(3))
print("median  ", dist.median().round(3))
print("predict ", logged.predict(x0).round(3))
lower, upper = dist.interval(0.9)
print("90% interval", np.column_stack([lower, upper]).round(3).tolist())
