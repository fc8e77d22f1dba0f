"""
A mixture density network for the inverse problem
=================================================

The second half of the tutorial: a network that outputs the weights, means
and scales of five Gaussians for each input, trained on the negative
log-likelihood. We look at what it learned the way the tutorial does,
parameter by parameter, then draw samples from it.
"""

# %%
# The model
# ---------
#
# For each input :math:`y` the network gives a mixture
#
# .. math::
#
#    p(x \mid y) = \sum_{k=1}^{5} \pi_k(y)\,
#    \mathcal{N}\big(x;\ \mu_k(y),\ \sigma_k(y)^2\big).
#
# The tutorial's network has one hidden layer of 20 tanh units and trains
# for 8000 full-batch epochs. Here :class:`~skmdn.MDNRegressor` keeps its
# default network, two hidden layers of 32 tanh units, trained with Adam on
# small batches, early stopping on a held-out tenth of the rows and a
# running average of the weights: it stops after a few hundred epochs,
# where the tutorial's smaller network (``hidden_layer_sizes=(20,)``) is
# still far from the Bayes limit after a thousand. On 1000 rows it trains
# five restarts; ``restarts="best"`` keeps the one with the lowest
# validation NLL, so that the figures below show one network's five
# components, as the tutorial's do (the default, ``"stack"``, keeps a
# weighted mixture of the five: up to 25 components, and a slightly
# lower NLL). With the ``CI`` environment variable set, as when the
# documentation is built on a CI service, it trains for fewer epochs.
import os

import matplotlib.pyplot as plt
import numpy as np

from skmdn import MDNRegressor
from skmdn.datasets import make_inverted_sinusoid
from skmdn.plotting import ConditionalDensityDisplay, MixtureParametersDisplay

max_epochs = 150 if os.environ.get("CI") else 1000

X, x = make_inverted_sinusoid(1000, random_state=0)
mdn = MDNRegressor(
    n_components=5, restarts="best", max_epochs=max_epochs, random_state=0
).fit(X, x)
print(f"{mdn.n_iter_} epochs, best validation NLL {mdn.best_validation_nll_:.3f}")

# %%
# Its test negative log-likelihood (``-score``, in nats per point) on 20,000
# fresh draws, next to the best any model can reach on this problem: about
# 1.291 nats, the Bayes limit (by numerical integration of the true
# conditional density).
X_test, x_test = make_inverted_sinusoid(20_000, random_state=1)
print(f"test NLL: {-mdn.score(X_test, x_test):.3f} (Bayes limit 1.291)")

# %%
# The mixing weights
# ------------------
#
# :class:`~skmdn.plotting.MixtureParametersDisplay` draws the parameters of
# every component against the input, one colour per component (sorted by
# their average mean, so that blue is the lowest branch). As in the
# tutorial we go past the data, to :math:`y = \pm 15`.
panels = {"feature_range": (-15, 15), "feature_name": "y", "target_name": "x"}
MixtureParametersDisplay.from_estimator(mdn, X, panels="weights", **panels)

# %%
# At the ends of the range only one branch exists, and one component takes
# all the weight. In the middle, where five branches overlap, the weight is
# shared.
#
# The scales
# ----------
MixtureParametersDisplay.from_estimator(mdn, X, panels="scales", **panels)

# %%
# Where a component carries weight its scale is small, about the spread of
# the data around a branch. Where its weight is near zero (past the data,
# for most of them) its scale does not matter to the likelihood and can
# grow: read the scales together with the weights.
#
# The means
# ---------
disp = MixtureParametersDisplay.from_estimator(
    mdn, X, panels="means", bands=False, **panels
)
disp.axes_["means"].set_ylim(-12, 12)

# %%
# Each mean follows a branch, or a branch and then another: as the tutorial
# notes, solutions whose components jump between branches have about the
# same likelihood.
#
# Means with bands over the data
# ------------------------------
#
# The means with :math:`\mu_k \pm \sigma_k`, over the training data:
MixtureParametersDisplay.from_estimator(mdn, X, x, panels="means", **panels)

# %%
# The three panels side by side, the default of the display:
MixtureParametersDisplay.from_estimator(mdn, X, x, **panels)

# %%
# Samples over the data
# ---------------------
#
# To sample, pick a component with probability :math:`\pi_k(y)`, then draw
# from its Gaussian (the tutorial picks it with the Gumbel-max trick;
# :meth:`~skmdn.MDNRegressor.sample` uses the inverse CDF of the weights).
# One draw at each of 1000 inputs:
y_grid = np.linspace(-15, 15, 1000)[:, None]
samples = mdn.sample(y_grid, n_samples=1, random_state=0)[:, 0]

fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(X[:, 0], x, s=4, alpha=0.2, label="training data")
ax.scatter(y_grid[:, 0], samples, s=4, alpha=0.6, color="C3", label="samples")
ax.set(xlabel="y", ylabel="x", ylim=(-12, 12), title="Samples from the MDN")
ax.legend(loc="upper left")

# %%
# The samples lie on the branches, in about the proportions of the data.
#
# The density itself
# ------------------
#
# Beyond the tutorial: the whole conditional density as a heatmap, with the
# outline of its 90% highest-density region, the smallest set of :math:`x`
# holding 90% of the probability at each :math:`y` (a union of up to five
# intervals here).
ConditionalDensityDisplay.from_estimator(
    mdn, X, x, hdr=0.9, feature_range=(-12, 12), feature_name="y", target_name="x"
)
