"""
Choosing components and hidden units by cross-validated likelihood
==================================================================

How many mixture components, and how large a network? The held-out
negative log-likelihood answers both: it rewards a model for giving high
density to data it has not seen, so it penalizes too few components (the
branches are merged) as well as a network that overfits. Here
:class:`~sklearn.model_selection.GridSearchCV` compares a few sizes on the
inverted sinusoid with :data:`skmdn.metrics.nll_scorer` and
:data:`skmdn.metrics.crps_scorer`.
"""

# %%
# The search
# ----------
#
# Three numbers of components and two networks, three shuffled folds. The
# NLL decides (``refit="nll"``); the CRPS, in the units of the target, is
# recorded beside it. Each of the 18 fits is capped at 400 epochs (60 with
# the ``CI`` variable set), to keep the example quick.
import os

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV, KFold

from skmdn import MDNRegressor
from skmdn.datasets import make_inverted_sinusoid
from skmdn.metrics import crps_scorer, nll_scorer

max_epochs = 60 if os.environ.get("CI") else 400

X, y = make_inverted_sinusoid(1000, random_state=0)
grid = {"n_components": [1, 3, 5], "hidden_layer_sizes": [(10,), (32, 32)]}
search = GridSearchCV(
    MDNRegressor(max_epochs=max_epochs, random_state=0),
    grid,
    scoring={"nll": nll_scorer, "crps": crps_scorer},
    refit="nll",
    cv=KFold(3, shuffle=True, random_state=0),
    n_jobs=2,
).fit(X, y)

# %%
# The scorers return *minus* the NLL and the CRPS (greater is better, as
# scikit-learn's convention wants); we flip the sign back.
results = pd.DataFrame(search.cv_results_)
table = pd.DataFrame(
    {
        "n_components": results["param_n_components"],
        "hidden_layer_sizes": results["param_hidden_layer_sizes"].astype(str),
        "NLL": -results["mean_test_nll"],
        "NLL std": results["std_test_nll"],
        "CRPS": -results["mean_test_crps"],
        "fit seconds": results["mean_fit_time"],
    }
).sort_values("NLL", ignore_index=True)
table.round(3)

# %%
print("best:", search.best_params_)

# %%
# The curves
# ----------
#
# One component is a Gaussian regression: it cannot represent five
# branches. More components lower the held-out NLL until there is one per
# branch. The CRPS, in the units of the target, need not rank the
# candidates in the same order: a distribution that spreads its mass over
# the gaps between the branches costs it less than it costs the NLL.
fig, ax = plt.subplots(figsize=(6, 4))
for hidden, rows in table.groupby("hidden_layer_sizes"):
    rows = rows.sort_values("n_components")
    ax.errorbar(
        rows["n_components"],
        rows["NLL"],
        yerr=rows["NLL std"],
        marker="o",
        capsize=3,
        label=f"hidden_layer_sizes={hidden}",
    )
ax.axhline(1.291, color="grey", ls="--", label="Bayes limit")
ax.set(
    xlabel="n_components",
    ylabel="cross-validated NLL (nats)",
    xticks=grid["n_components"],
    title="Held-out NLL of each candidate",
)
ax.legend()

# %%
# On fresh data
# -------------
#
# The refitted best model on 20,000 new draws. ``score`` of an MDN is the
# mean log-likelihood, so the default ``scoring`` of a search would have
# selected by the same criterion as ``nll_scorer``.
X_test, y_test = make_inverted_sinusoid(20_000, random_state=1)
best = search.best_estimator_
print(f"test NLL of the selected model: {-best.score(X_test, y_test):.3f}")
print(f"the same through the scorer:    {-nll_scorer(best, X_test, y_test):.3f}")
