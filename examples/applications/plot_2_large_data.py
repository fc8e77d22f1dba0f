"""
Fitting on many rows
====================

``MDNRegressor``'s defaults adapt to the number of training rows: batches
grow with its square root (``batch_size="auto"``) and the patience of early
stopping is a number of optimizer steps (``patience="auto"``), so a large
data set takes large, cheap steps and few epochs. This example fits the
inverted sinusoid on more and more rows, up to a million, and watches the
test NLL approach the Bayes limit. With the ``CI`` variable set, to keep
the documentation build short, it stops at a hundred thousand rows and
caps every fit at 100 epochs.
"""

# %%
# Fits of growing size
# --------------------
import os
import time

import matplotlib.pyplot as plt
import numpy as np

from skmdn import MDNRegressor
from skmdn.datasets import make_inverted_sinusoid
from skmdn.plotting import ConditionalDensityDisplay

ci = bool(os.environ.get("CI"))
sizes = [1_000, 10_000, 100_000] if ci else [1_000, 10_000, 100_000, 1_000_000]
max_epochs = 100 if ci else 1000
BAYES_LIMIT = 1.291  # test NLL of the true conditional density

X_test, y_test = make_inverted_sinusoid(50_000, random_state=1)
rows = []
for n in sizes:
    X, y = make_inverted_sinusoid(n, random_state=0)
    start = time.perf_counter()
    mdn = MDNRegressor(max_epochs=max_epochs, random_state=0).fit(X, y)
    seconds = time.perf_counter() - start
    nll = -mdn.score(X_test, y_test)
    rows.append((n, mdn.batch_size_, mdn.patience_, mdn.n_iter_, seconds, nll))
    print(
        f"{n:>9,} rows: batch {mdn.batch_size_:>4}, patience {mdn.patience_:>3}, "
        f"{mdn.n_iter_:>3} epochs, {seconds:5.1f} s, test NLL {nll:.3f}"
    )

# %%
# With more rows the batches grow and the fit stops after fewer epochs,
# each of them more steps: the time of a fit grows much more slowly than
# the data. The test NLL approaches the Bayes limit, 1.291 nats.
n, batch, patience, epochs, seconds, nll = map(np.array, zip(*rows))
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
axes[0].semilogx(n, nll - BAYES_LIMIT, "o-")
axes[0].set(
    xlabel="training rows",
    ylabel="test NLL - Bayes limit (nats)",
    title="Closer to the truth with more data",
)
axes[1].loglog(n, seconds, "o-", label="fit time")
axes[1].loglog(n, seconds[0] * n / n[0], "k--", lw=1, label="proportional to rows")
axes[1].set(xlabel="training rows", ylabel="seconds", title="Fit time")
axes[1].legend()

# %%
# The largest model
# -----------------
#
# Its density and 90% highest-density region, over a sample of its
# training rows (a heatmap of a million points would hide the model).
rng = np.random.default_rng(0)
shown = rng.choice(len(X), size=2000, replace=False)
ConditionalDensityDisplay.from_distribution(
    np.linspace(-12, 12, 200),
    mdn.predict_dist(np.linspace(-12, 12, 200)[:, None]),
    x_data=X[shown, 0],
    y_data=y[shown],
    hdr=0.9,
    feature_name="y",
    target_name="x",
)

# %%
# Prediction works through the rows in chunks of 65,536, so that the
# memory of ``predict``, ``score`` or ``sample`` grows with what they
# return, not with the mixture parameters of every row:
start = time.perf_counter()
samples = mdn.sample(X, random_state=0)
print(f"one draw for each of {len(X):,} rows in {time.perf_counter() - start:.2f} s")
