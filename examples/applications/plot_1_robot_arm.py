"""
Inverse kinematics of a robot arm: two outputs, two solutions
=============================================================

Bishop's motivating example for mixture density networks: a planar arm of
two links, of lengths 0.8 and 0.2, reaches a hand position :math:`(x_1,
x_2)` with joint angles :math:`(\\theta_1, \\theta_2)`. Going from angles
to position is a formula (:func:`skmdn.datasets.robot_arm_forward`); going
back has two answers for most positions, elbow up and elbow down. The
average of the two is not an answer, which is what a mean-squared-error
network predicts.
"""

# %%
# The data and two models
# -----------------------
#
# 5000 positions with their angles (:func:`skmdn.datasets.make_robot_arm`).
# The MDN models the two angles jointly, with full covariances
# (``covariance_type="full"``); the baseline is a mean-squared-error
# network of two hidden layers. (Fewer MDN epochs with the ``CI`` variable
# set.)
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmdn import MDNRegressor
from skmdn.datasets import make_robot_arm, robot_arm_forward
from skmdn.plotting import ConditionalDensityDisplay

max_epochs = 100 if os.environ.get("CI") else 1000

X, angles = make_robot_arm(5000, random_state=0)
X_test, _ = make_robot_arm(2000, random_state=1)

mdn = MDNRegressor(covariance_type="full", max_epochs=max_epochs, random_state=0)
mdn.fit(X, angles)
mlp = make_pipeline(
    StandardScaler(),
    MLPRegressor(
        hidden_layer_sizes=(64, 64), early_stopping=True, max_iter=500, random_state=0
    ),
).fit(X, angles)

# %%
# How far from the target does each prediction put the hand?
# ------------------------------------------------------------
#
# A prediction of the angles is good if the arm, moved to them, puts the
# hand where it was asked to: compare ``robot_arm_forward(angles)`` with
# the position. For the MDN, three ways to turn its distribution into
# angles: its conditional mean (``predict``), the mean of its heaviest
# component, and a draw from it.
dist = mdn.predict_dist(X_test)
heaviest = dist.means[np.arange(len(X_test)), dist.weights.argmax(axis=1)]
predictions = {
    "MLP (mean-squared error)": mlp.predict(X_test),
    "MDN conditional mean": mdn.predict(X_test),
    "MDN heaviest component": heaviest,
    "MDN sample": mdn.sample(X_test, random_state=0)[:, 0, :],
}
print(f"{'angles from':<26} {'median':>7} {'90th percentile':>16}")
for name, predicted in predictions.items():
    miss = np.linalg.norm(robot_arm_forward(predicted) - X_test, axis=1)
    print(f"{name:<26} {np.median(miss):7.4f} {np.percentile(miss, 90):16.4f}")

# %%
# The means, of the MLP and of the MDN alike, average the two solutions
# where there are two, and miss the target there. The heaviest component
# picks one solution; a sample picks one at random, with the noise of its
# component.
#
# One position, two arms
# ----------------------
#
# The angles :math:`(0.6, 2.6)` and the other solution of the same
# position, :math:`(\theta_1 + 2\beta, 2\pi - \theta_2)` with
# :math:`\beta = \operatorname{atan2}(l_2 \sin\phi, l_1 + l_2 \cos\phi)` and
# :math:`\phi = \theta_2 + \pi`, both lie in the range of the data.
l1, l2 = 0.8, 0.2
theta = np.array([0.6, 2.6])
phi = theta[1] + np.pi
beta = np.arctan2(l2 * np.sin(phi), l1 + l2 * np.cos(phi))
solutions = np.array([theta, [theta[0] + 2 * beta, 2 * np.pi - theta[1]]])
target = robot_arm_forward(theta[None, :])


def draw_arm(ax, angle, **style):
    elbow = l1 * np.array([np.cos(angle[0]), np.sin(angle[0])])
    hand = robot_arm_forward(angle[None, :])[0]
    ax.plot([0, elbow[0], hand[0]], [0, elbow[1], hand[1]], "-o", **style)


one = mdn.predict_dist(target)
keep = one.weights[0] > 0.05
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
ax = axes[0]
for k, angle in enumerate(solutions):
    draw_arm(ax, angle, color="grey", lw=6, alpha=0.35, label="solution" if k else None)
for k in np.flatnonzero(keep):
    weight = one.weights[0, k]
    draw_arm(
        ax, one.means[0, k], color="C0", lw=2, label=f"MDN component, w={weight:.2f}"
    )
draw_arm(ax, mlp.predict(target)[0], color="C3", lw=2, label="MLP")
ax.plot(*target[0], "k*", ms=14, label="target")
ax.set(aspect="equal", title="Arms at the predicted angles", xlabel="x1", ylabel="x2")
ax.legend(loc="lower left", fontsize="small")

ax = axes[1]
draws = mdn.sample(target, n_samples=500, random_state=0)[0]
ax.scatter(draws[:, 0], draws[:, 1], s=4, alpha=0.4, label="MDN samples")
ax.plot(*solutions.T, "k+", ms=14, mew=2, label="the two solutions")
ax.plot(*mlp.predict(target)[0], "o", color="C3", label="MLP")
ax.set(xlabel="theta1", ylabel="theta2", title="Joint angles for the target")
ax.legend(loc="upper right", fontsize="small")

# %%
# The MDN puts its probability on the two solutions, each a component of
# its mixture; the MLP lands between them, and its arm misses the target.
#
# The density of one angle along the position
# -------------------------------------------
#
# The marginal density of :math:`\theta_2` (``output=1``) as the hand moves
# along :math:`x_1`, with :math:`x_2` held at its median: where two
# solutions exist, two bands. (The data are left out: they spread over all
# :math:`x_2`, not only the median.)
ConditionalDensityDisplay.from_estimator(
    mdn, X, feature=0, output=1, hdr=0.9, feature_name="x1", target_name="theta2"
)
