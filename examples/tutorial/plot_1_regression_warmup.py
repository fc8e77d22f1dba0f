"""
Warm-up: regression with mean-squared error, and where it fails
===============================================================

The tutorial this package grew from starts with a plain regression network
on a sinusoid, then turns the problem around. This example follows it: the
forward problem, which mean-squared error solves, and the inverse problem,
where it predicts something no data point looks like.
"""

# %%
# The forward problem
# -------------------
#
# The data are :math:`y = 7 \sin(0.75 x) + 0.5 x + \epsilon`, with
# :math:`x` uniform on :math:`[-10.5, 10.5]` and standard Gaussian noise
# :math:`\epsilon`: :func:`skmdn.datasets.make_inverted_sinusoid` with
# ``inverse=False`` draws them.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmdn.datasets import make_inverted_sinusoid

x, y = make_inverted_sinusoid(1000, inverse=False, random_state=0)

fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(x[:, 0], y, s=4, alpha=0.3)
ax.set(xlabel="x", ylabel="y", title="The forward problem: y from x")

# %%
# A network with one hidden layer of 20 tanh units, as in the tutorial,
# trained on the squared error. L-BFGS on standardized inputs with a small
# L2 penalty converges to the same curve on every run.


def mse_network():
    return make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(20,),
            activation="tanh",
            solver="lbfgs",
            alpha=1.0,
            max_iter=3000,
            random_state=0,
        ),
    )


forward = mse_network().fit(x, y)
x_grid = np.linspace(-10.5, 10.5, 500)[:, None]

fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(x[:, 0], y, s=4, alpha=0.3, label="data")
ax.plot(x_grid[:, 0], forward.predict(x_grid), "C1", lw=2, label="MSE network")
ax.set(xlabel="x", ylabel="y", title="Mean-squared error fits the forward problem")
ax.legend(loc="upper left")
print(f"root mean squared error: {np.sqrt(np.mean((forward.predict(x) - y) ** 2)):.3f}")

# %%
# Its error is about the noise's standard deviation, 1: nothing is left to
# learn.
#
# The inverse problem
# -------------------
#
# Now swap the roles: predict :math:`x` from :math:`y`. These are the same
# points (``make_inverted_sinusoid`` returns the inverse problem by default,
# with the sinusoid's output as the one input column), but for most
# :math:`y` there are up to five :math:`x`, one on each branch.
X, target = make_inverted_sinusoid(1000, random_state=0)
inverse = mse_network().fit(X, target)
y_grid = np.linspace(-15, 15, 500)[:, None]

fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(X[:, 0], target, s=4, alpha=0.3, label="data")
ax.plot(y_grid[:, 0], inverse.predict(y_grid), "C1", lw=2, label="MSE network")
ax.set(xlabel="y", ylabel="x", title="Mean-squared error on the inverse problem")
ax.legend(loc="upper left")
print(
    "root mean squared error: "
    f"{np.sqrt(np.mean((inverse.predict(X) - target) ** 2)):.3f}"
)

# %%
# Why it fails
# ------------
#
# Squared error is minimized by the conditional mean
# :math:`\mathrm{E}[x \mid y]`, and that is what the network learns. For
# this problem the mean is known: the data's joint density is
# :math:`p(x, y) \propto \phi(y - f(x))` on the interval of :math:`x`, so
# :math:`\mathrm{E}[x \mid y]` is a ratio of two integrals over :math:`x`.
xs = np.linspace(-10.5, 10.5, 20_001)
likelihood = np.exp(-0.5 * (y_grid - (7 * np.sin(0.75 * xs) + 0.5 * xs)) ** 2)
conditional_mean = likelihood @ xs / likelihood.sum(axis=1)

fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(X[:, 0], target, s=4, alpha=0.3, label="data")
ax.plot(y_grid[:, 0], conditional_mean, "k--", lw=2, label="E[x | y]")
ax.plot(y_grid[:, 0], inverse.predict(y_grid), "C1", lw=2, label="MSE network")
ax.set(xlabel="y", ylabel="x", ylim=(-12, 12), title="It learns the mean")
ax.legend(loc="upper left")

# %%
# The network follows the conditional mean, which runs between the branches
# where hardly any data lie. No single output can be right when there are
# five plausible answers: the model has to predict a distribution. That is
# what a mixture density network does, in
# :doc:`the next example <plot_2_mixture_density_network>`.
