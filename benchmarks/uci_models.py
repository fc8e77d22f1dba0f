"""Models and published reference numbers for the UCI benchmark (``uci.py``).

Every model is wrapped in a small adapter with one interface: ``fit(X, y)``
on NumPy arrays, then ``log_likelihood(X, y)`` (per row, in the units of
``y``) and ``predict_mean(X)``. Peers are imported lazily, so a missing
package only removes its model (see :func:`check_available`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

# Published test NLL (mean, error over splits), lower is better, and RMSE.
# Source: REFERENCES.md §2, quoting Lakshminarayanan et al. 2017, "Simple and
# Scalable Predictive Uncertainty Estimation using Deep Ensembles", Table 1
# (with the PBP and MC-dropout columns as reported by Hernández-Lobato & Adams
# 2015 and Gal & Ghahramani 2016), and Duan et al. 2020, "NGBoost: Natural
# Gradient Boosting for Probabilistic Prediction" (arXiv 1910.03225).
PUBLISHED_METHODS = ("PBP", "MC dropout", "Deep Ensembles", "NGBoost")
PUBLISHED_NLL = {
    "Boston": ((2.57, 0.09), (2.46, 0.25), (2.41, 0.25), (2.43, 0.15)),
    "Concrete": ((3.16, 0.02), (3.04, 0.09), (3.06, 0.18), (3.04, 0.17)),
    "Energy": ((2.04, 0.02), (1.99, 0.09), (1.38, 0.22), (0.60, 0.45)),
    "Kin8nm": ((-0.90, 0.01), (-0.95, 0.03), (-1.20, 0.02), (-0.49, 0.02)),
    "Naval": ((-3.73, 0.01), (-3.80, 0.05), (-5.63, 0.05), (-5.34, 0.04)),
    "Power": ((2.84, 0.01), (2.80, 0.05), (2.79, 0.04), (2.79, 0.11)),
    "Protein": ((2.97, 0.00), (2.89, 0.01), (2.83, 0.02), (2.81, 0.03)),
    "Wine (red)": ((0.97, 0.01), (0.93, 0.06), (0.94, 0.12), (0.91, 0.06)),
    "Yacht": ((1.63, 0.02), (1.55, 0.12), (1.18, 0.21), (0.20, 0.26)),
}
PUBLISHED_RMSE = {
    "Boston": (3.01, 2.97, 3.28, 2.94),
    "Concrete": (5.67, 5.23, 6.03, 5.06),
    "Energy": (1.80, 1.66, 2.09, 0.46),
    "Kin8nm": (0.10, 0.10, 0.09, 0.16),
    "Naval": (0.01, 0.01, 0.00, 0.00),
    "Power": (4.12, 4.02, 4.11, 3.79),
    "Protein": (4.73, 4.36, 4.71, 4.33),
    "Wine (red)": (0.64, 0.62, 0.64, 0.63),
    "Yacht": (1.02, 1.11, 1.58, 0.50),
}
PUBLISHED_SOURCE = (
    "Lakshminarayanan et al. 2017, Table 1 (PBP and MC-dropout columns as "
    "reported by their papers); Duan et al. 2020, NGBoost (arXiv 1910.03225). "
    "Mean ± error over the 20 standard splits (5 for protein)."
)

# Best published test NLL found (a 2026 survey, REFERENCES.md §2b): mean,
# error, method, source. Only numbers REFERENCES.md gives; a dataset without
# one has no entry (and an empty cell).
BEST_PUBLISHED_NLL = {
    "Boston": (
        2.35,
        0.06,
        "Deep Evidential Regression",
        "WGBoost paper (arXiv 2405.09536) Table 1, reprinting DER",
    ),
    "Concrete": (2.75, 0.21, "PGBM", "TreeFlow (ECAI 2023) Table 3"),
    "Energy": (0.37, 0.28, "RoNGBa", "TreeFlow (ECAI 2023) Table 3"),
    "Kin8nm": (-1.24, 0.01, "Deep Evidential Regression", "WGBoost Table 1"),
    "Naval": (-5.87, 0.05, "Concrete Dropout", "WGBoost Table 1"),
    "Power": (
        2.60,
        0.02,
        "PGBM (WGBoost: 2.60 ± 0.04)",
        "TreeFlow (ECAI 2023) Table 3; WGBoost Table 1",
    ),
    "Protein": (2.02, 0.02, "TreeFlow", "TreeFlow (ECAI 2023) Table 3"),
    "Wine (red)": (
        -0.56,
        0.62,
        "TreeFlow, on the integer grades",
        "TreeFlow (ECAI 2023) Table 3",
    ),
    "Yacht": (0.05, 0.28, "PGBM", "TreeFlow (ECAI 2023) Table 3"),
}

# Folder names of the standard layout (Gal's repository) to published names.
DATASET_ALIASES = {
    "bostonhousing": "Boston",
    "concrete": "Concrete",
    "energy": "Energy",
    "kin8nm": "Kin8nm",
    "naval-propulsion-plant": "Naval",
    "power-plant": "Power",
    "protein-tertiary-structure": "Protein",
    "wine-quality-red": "Wine (red)",
    "yacht": "Yacht",
}

# The tuning recipe for MDNRegressor: 12 candidates, 3-fold inner CV scored by
# held-out mean log-likelihood (MDNRegressor.score).
TUNING_GRIDS = {
    "small": {
        "n_components": [3, 5],
        "hidden_layer_sizes": [(32,), (32, 32), (64, 64)],
        "input_noise": [0.0, 0.1],
    },
    "tiny": {
        "n_components": [3, 5],
        "hidden_layer_sizes": [(32, 32)],
        "input_noise": [0.0, 0.1],
    },
}

# An exact GP costs O(n^3) time and O(n^2) memory per optimizer step: beyond
# this many training rows (kin8nm, power) it is skipped, not approximated.
GP_MAX_TRAIN = 2000

MODEL_NAMES = (
    "mdn",
    "mdn-tuned",
    "mdn-ensemble",
    "mdn-ensemble-yj",
    "deep-ensemble",
    "ngboost",
    "xgb-distribution",
    "pgbm",
    "skpro-mdn",
    "gaussian-baseline",
    "gp",
)
# The paired comparison of the summary pits each skmdn model against each
# peer probabilistic regressor. The deep ensemble is built with skmdn but is
# a peer: the method of Lakshminarayanan et al. (2017).
SKMDN_MODELS = ("mdn", "mdn-tuned", "mdn-ensemble", "mdn-ensemble-yj")
PEER_MODELS = ("ngboost", "xgb-distribution", "pgbm", "deep-ensemble", "skpro-mdn")

# The ensemble recipe of the docs (docs/estimator.md, "Recommended tuning
# recipe"): ten MDNs whose features are Yeo-Johnson transformed before the
# standardization, stopped together at the epoch where the ensemble's
# validation NLL is best (results/ablation-input-transform.md).
ENSEMBLE_RECIPE_MEMBER = {"input_transform": "yeo-johnson"}
ENSEMBLE_RECIPE = {"early_stopping": "ensemble", "n_estimators": 10}

# Deep Ensembles (Lakshminarayanan et al. 2017, UCI protocol): five networks
# with one Gaussian output each, one hidden layer of 50 ReLU units, combined
# with equal weights. See the README for where skmdn's version differs.
DEEP_ENSEMBLE_MEMBER = {
    "n_components": 1,
    "hidden_layer_sizes": (50,),
    "activation": "relu",
    # The protocol standardizes the inputs and does nothing else.
    "input_transform": None,
}
# What each ensemble model sets on its members and on the ensemble itself.
MEMBER_RECIPES = {
    "mdn-ensemble-yj": ENSEMBLE_RECIPE_MEMBER,
    "deep-ensemble": DEEP_ENSEMBLE_MEMBER,
}
ENSEMBLE_RECIPES = {"mdn-ensemble-yj": ENSEMBLE_RECIPE}
# xgboost-distribution's documented recipe (its README): 500 rounds at most,
# early stopping after 10 rounds without improvement on a held-out set, here
# a tenth of the training rows.
XGB_DISTRIBUTION_PARAMS = {
    "distribution": "normal",
    "n_estimators": 500,
    "early_stopping_rounds": 10,
}
XGB_DISTRIBUTION_VALIDATION = 0.1
# PGBM's documented recipe (examples/torch/example07_optimizeddistribution.py,
# the settings of the PGBM paper's UCI experiments): up to 2000 trees with
# early stopping (100 rounds) on 20 % of the training rows, then
# optimize_distribution on those rows, then a refit on all training rows with
# the best number of trees, the chosen distribution and tree correlation.
PGBM_PARAMS = {
    "min_split_gain": 0.0,
    "min_data_in_leaf": 2,
    "max_leaves": 8,
    "max_bin": 64,
    "learning_rate": 0.1,
    "reg_lambda": 1.0,
    "verbose": 1,
}
PGBM_MAX_TREES = 2000
PGBM_EARLY_STOPPING = 100
PGBM_VALIDATION = 0.2
# optimize_distribution's candidates, less those whose density cannot be
# scored: weibull's parameters come from an iterative fit inside
# predict_dist, poisson and negativebinomial are discrete. lognormal and
# gamma are dropped too when a target is not positive.
PGBM_DISTRIBUTIONS = (
    "normal",
    "studentt",
    "laplace",
    "logistic",
    "lognormal",
    "gamma",
    "gumbel",
)


def published_name(dataset):
    """Return the published name of a dataset folder, or None if unknown.

    Parameters
    ----------
    dataset : str
        Folder name in the standard layout, e.g. ``"bostonHousing"``.

    Returns
    -------
    str or None
        Key of :data:`PUBLISHED_NLL`, e.g. ``"Boston"``.
    """
    return DATASET_ALIASES.get(dataset.lower())


# Marks, in BenchmarkOptions.mdn_params, a parameter of the ensemble itself.
ENSEMBLE_PREFIX = "ensemble__"


@dataclass
class BenchmarkOptions:
    """Settings shared by the models of one benchmark run.

    Parameters
    ----------
    grid : {"small", "tiny"}
        Tuning grid of ``mdn-tuned``.
    n_jobs : int or None
        Parallel jobs of the inner grid search and of the ensemble.
    mdn_params : dict
        Extra ``MDNRegressor`` parameters applied to every skmdn model (for
        quick runs, e.g. ``{"max_epochs": 50}``); keys that start with
        ``"ensemble__"`` set the ``MDNEnsembleRegressor`` of the ensemble
        models instead (``{"ensemble__early_stopping": "members"}``).
    """

    grid: str = "small"
    n_jobs: int | None = None
    mdn_params: dict = field(default_factory=dict)


def check_available(name):
    """Say whether a model's packages are importable.

    Parameters
    ----------
    name : str
        One of :data:`MODEL_NAMES`.

    Returns
    -------
    reason : str or None
        None when the model can run, else why not.
    """
    modules = {
        "mdn": "skmdn",
        "mdn-tuned": "skmdn",
        "mdn-ensemble": "skmdn",
        "mdn-ensemble-yj": "skmdn",
        "deep-ensemble": "skmdn",
        "ngboost": "ngboost",
        "xgb-distribution": "xgboost_distribution",
        "pgbm": "pgbm",
        "skpro-mdn": "skpro",
    }
    names = {
        "mdn-ensemble": "MDNEnsembleRegressor",
        "mdn-ensemble-yj": "MDNEnsembleRegressor",
        "deep-ensemble": "MDNEnsembleRegressor",
        "skpro-mdn": "MDNRegressor",
        "xgb-distribution": "XGBDistribution",
        "pgbm": "PGBMRegressor",
    }
    paths = {"skpro-mdn": "skpro.regression.mdn", "pgbm": "pgbm.torch"}
    if name not in modules:
        return None
    module = modules[name]
    if importlib.util.find_spec(module) is None:
        return f"package {module!r} is not installed"
    path = paths.get(name, module)
    try:
        imported = importlib.import_module(path)
        if name in names:
            getattr(imported, names[name])
    except Exception as exc:
        # A package that is installed but broken (or too old to have the
        # model) is reported, not allowed to crash the other models.
        return f"{path} is not usable ({type(exc).__name__}: {exc})"
    return None


def make_model(name, split, options, n_train):
    """Build the adapter of one model for one split.

    Parameters
    ----------
    name : str
        One of :data:`MODEL_NAMES`.
    split : int
        Split index, used as the model's ``random_state``.
    options : BenchmarkOptions
        Shared settings.
    n_train : int
        Number of training rows (the GP is skipped above
        :data:`GP_MAX_TRAIN`).

    Returns
    -------
    model : object or str
        An adapter with ``fit``, ``log_likelihood`` and ``predict_mean``, or
        a string saying why the model does not run on this data.
    """
    if name == "mdn":
        return _SkmdnModel(_mdn(split, options))
    if name == "mdn-tuned":
        return _SkmdnModel(_tuned_mdn(split, options))
    if name in ("mdn-ensemble", "mdn-ensemble-yj", "deep-ensemble"):
        from skmdn import MDNEnsembleRegressor

        # The run's own settings (--mdn-set) are applied last, so that they
        # override a recipe's.
        member = _mdn(None, options).set_params(
            **{**MEMBER_RECIPES.get(name, {}), **_member_params(options)}
        )
        ensemble = MDNEnsembleRegressor(
            member, n_estimators=5, n_jobs=options.n_jobs, random_state=split
        )
        return _SkmdnModel(
            ensemble.set_params(
                **{**ENSEMBLE_RECIPES.get(name, {}), **_ensemble_params(options)}
            )
        )
    if name == "ngboost":
        return _NGBoostModel(split)
    if name == "xgb-distribution":
        return _XGBDistributionModel(split)
    if name == "pgbm":
        return _PGBMModel(split)
    if name == "skpro-mdn":
        return _SkproMDNModel(split)
    if name == "gaussian-baseline":
        return _BayesianRidgeModel()
    if name == "gp":
        if n_train > GP_MAX_TRAIN:
            return f"exact GP skipped: n_train={n_train} > {GP_MAX_TRAIN}"
        return _GPModel(split)
    raise ValueError(f"unknown model {name!r}; choose from {MODEL_NAMES}")


def tuning_grid(grid, estimator):
    """Return the tuning grid, without parameters the estimator lacks.

    Parameters
    ----------
    grid : {"small", "tiny"}
        Name of the grid in :data:`TUNING_GRIDS`.
    estimator : MDNRegressor
        The estimator to tune.

    Returns
    -------
    dict
        Parameter grid for ``GridSearchCV``.
    """
    # input_noise arrived in skmdn after this benchmark was first written; an
    # older skmdn is still tuned over the rest of the grid.
    params = estimator.get_params()
    return {k: v for k, v in TUNING_GRIDS[grid].items() if k in params}


def _member_params(options):
    return {
        k: v for k, v in options.mdn_params.items() if not k.startswith(ENSEMBLE_PREFIX)
    }


def _ensemble_params(options):
    n = len(ENSEMBLE_PREFIX)
    return {
        k[n:]: v for k, v in options.mdn_params.items() if k.startswith(ENSEMBLE_PREFIX)
    }


def _mdn(split, options):
    from skmdn import MDNRegressor

    return MDNRegressor(random_state=split).set_params(**_member_params(options))


def _tuned_mdn(split, options):
    from sklearn.model_selection import GridSearchCV, KFold

    estimator = _mdn(split, options)
    # Shuffled folds: a dataset's training indices may come sorted (by a
    # feature or the target), and unshuffled folds would then extrapolate.
    cv = KFold(3, shuffle=True, random_state=split)
    return GridSearchCV(
        estimator,
        tuning_grid(options.grid, estimator),
        cv=cv,
        n_jobs=options.n_jobs,
        error_score=np.nan,
    )


class _SkmdnModel:
    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        self.estimator.fit(X, y)
        return self

    @property
    def _fitted(self):
        # GridSearchCV.score_samples takes X only: score the refitted MDN.
        return getattr(self.estimator, "best_estimator_", self.estimator)

    def log_likelihood(self, X, y):
        return self._fitted.score_samples(X, y)

    def predict_mean(self, X):
        return self._fitted.predict(X)

    def distribution(self, X):
        from skmdn.metrics import predictive_distribution

        return predictive_distribution(self._fitted, X)

    def describe(self):
        best = getattr(self.estimator, "best_params_", None)
        return "" if best is None else _format_params(best)


class _NGBoostModel:
    def __init__(self, split):
        from ngboost import NGBRegressor

        # Defaults of the paper's setting (Normal, 500 stages, lr 0.01); only
        # the seed and the per-iteration printing are set.
        self.estimator = NGBRegressor(random_state=split, verbose=False)

    def fit(self, X, y):
        self.estimator.fit(X, y)
        return self

    def log_likelihood(self, X, y):
        return self.estimator.pred_dist(X).logpdf(y)

    def predict_mean(self, X):
        return self.estimator.predict(X)

    def distribution(self, X):
        params = self.estimator.pred_dist(X).params
        return gaussian(params["loc"], params["scale"])

    def describe(self):
        return ""


class _XGBDistributionModel:
    def __init__(self, split):
        from xgboost_distribution import XGBDistribution

        self.split = split
        self.estimator = XGBDistribution(**XGB_DISTRIBUTION_PARAMS, random_state=split)

    def fit(self, X, y):
        from sklearn.model_selection import train_test_split

        X_fit, X_val, y_fit, y_val = train_test_split(
            X, y, test_size=XGB_DISTRIBUTION_VALIDATION, random_state=self.split
        )
        self.estimator.fit(X_fit, y_fit, eval_set=[(X_val, y_val)], verbose=False)
        return self

    def _predict(self, X):
        # predict() uses the trees up to the best iteration of early stopping.
        params = self.estimator.predict(X)
        return params.loc, params.scale

    def log_likelihood(self, X, y):
        return stats.norm.logpdf(y, *self._predict(X))

    def predict_mean(self, X):
        return self._predict(X)[0]

    def distribution(self, X):
        return gaussian(*self._predict(X))

    def describe(self):
        return f"best_iteration={self.estimator.best_iteration}"


class _PGBMModel:
    def __init__(self, split):
        self.split = split

    def _regressor(self, n_estimators):
        from pgbm.torch import PGBMRegressor

        return PGBMRegressor(
            **PGBM_PARAMS, n_estimators=n_estimators, random_state=self.split
        )

    def fit(self, X, y):
        import torch
        from sklearn.model_selection import train_test_split

        X_fit, X_val, y_fit, y_val = train_test_split(
            X, y, test_size=PGBM_VALIDATION, random_state=self.split
        )
        probe = self._regressor(PGBM_MAX_TREES).fit(
            X_fit,
            y_fit,
            eval_set=(X_val, y_val),
            early_stopping_rounds=PGBM_EARLY_STOPPING,
        )
        candidates = [
            d
            for d in PGBM_DISTRIBUTIONS
            if np.min(y) > 0 or d not in ("lognormal", "gamma")
        ]
        # optimize_distribution scores sampled forecasts: seed them.
        torch.manual_seed(self.split)
        self.best_iteration_ = int(probe.learner_.best_iteration)
        distribution, correlation = probe.learner_.optimize_distribution(
            X_val, y_val, distributions=candidates
        )
        self.estimator = self._regressor(self.best_iteration_).fit(X, y)
        self.estimator.learner_.distribution = distribution
        self.estimator.learner_.tree_correlation = correlation
        return self

    def _moments(self, X):
        _, mu, variance = self.estimator.learner_.predict_dist(
            np.asarray(X, dtype=np.float32),
            n_forecasts=1,
            output_sample_statistics=True,
        )
        return mu.double(), variance.double()

    def log_likelihood(self, X, y):
        import torch

        mu, variance = self._moments(X)
        dist = pgbm_distribution(self.estimator.learner_.distribution, mu, variance)
        return dist.log_prob(torch.as_tensor(np.asarray(y, dtype=float))).numpy()

    def predict_mean(self, X):
        return self._moments(X)[0].numpy()

    def describe(self):
        learner = self.estimator.learner_
        return (
            f"distribution={learner.distribution} "
            f"tree_correlation={float(learner.tree_correlation):.3f} "
            f"n_estimators={self.best_iteration_}"
        )


def pgbm_distribution(name, mu, variance):
    """The distribution PGBM samples from, as a ``torch.distributions`` object.

    PGBM learns a mean and a variance per row and, in ``predict_dist``, maps
    them to the parameters of the chosen distribution; this is the same map
    (pgbm 2.3.0, ``pgbm.torch.PGBM.predict_dist``), so that the density of
    what PGBM predicts can be scored.

    Parameters
    ----------
    name : str
        One of :data:`PGBM_DISTRIBUTIONS`.
    mu, variance : torch.Tensor of shape (n_samples,)
        PGBM's learned mean and variance.

    Returns
    -------
    torch.distributions.Distribution
    """
    import math

    from torch import distributions as D

    variance = variance.nan_to_num(1e-9)
    if name == "normal":
        return D.Normal(mu, variance.sqrt().clamp(1e-9))
    if name == "studentt":
        return D.StudentT(3.0, mu, (variance / 3.0).sqrt().clamp(1e-9))
    if name == "laplace":
        return D.Laplace(mu, (0.5 * variance).sqrt().clamp(1e-9))
    if name == "logistic":
        scale = (3.0 * variance / math.pi**2).sqrt().clamp(1e-9)
        return D.TransformedDistribution(
            D.Uniform(mu.new_zeros(mu.shape), mu.new_ones(mu.shape)),
            [D.SigmoidTransform().inv, D.AffineTransform(mu, scale)],
        )
    if name == "lognormal":
        m, v = mu.clamp(1e-9), variance.clamp(1e-9)
        loc = (m**2 / (v + m**2).sqrt()).log()
        return D.LogNormal(loc, (1 + v / m**2).log().clamp(1e-9).sqrt())
    if name == "gamma":
        m, v = mu.clamp(1e-9), variance.clamp(1e-9)
        rate = m / v
        return D.Gamma(m * rate, rate)
    if name == "gumbel":
        scale = (6.0 * variance / math.pi**2).sqrt().clamp(1e-9)
        return D.Gumbel(mu - scale * np.euler_gamma, scale)
    raise ValueError(f"no density for PGBM distribution {name!r}")


def gaussian(mean, std):
    """A one-component predictive distribution for ``skmdn.metrics``.

    Parameters
    ----------
    mean, std : array-like of shape (n_samples,)

    Returns
    -------
    tuple of ndarray of shape (n_samples, 1)
        ``(weights, means, scales)``, as :func:`skmdn.metrics.crps` takes.
    """
    mean = np.asarray(mean, dtype=float).reshape(-1, 1)
    std = np.asarray(std, dtype=float).reshape(-1, 1)
    return np.ones_like(mean), mean, std


class _Standardized:
    """Standardize X and y for a peer that does not, and map densities back."""

    def _standardize_fit(self, X, y):
        self.x_mean_, self.x_scale_ = X.mean(axis=0), _safe_std(X)
        self.y_mean_, self.y_scale_ = y.mean(), _safe_std(y)

    def _x(self, X):
        return (X - self.x_mean_) / self.x_scale_

    def _y(self, y):
        return (y - self.y_mean_) / self.y_scale_


class _SkproMDNModel(_Standardized):
    def __init__(self, split):
        from skpro.regression.mdn import MDNRegressor

        self.estimator = MDNRegressor(random_state=split)

    def _frames(self, X, y=None):
        import pandas as pd

        Xf = pd.DataFrame(self._x(X), columns=[f"x{j}" for j in range(X.shape[1])])
        yf = None if y is None else pd.DataFrame({"y": self._y(y)})
        return Xf, yf

    def fit(self, X, y):
        # skpro's MDN trains on raw values: unscaled features such as Boston's
        # tax (~400) would saturate its first layer, which is no fair test.
        self._standardize_fit(X, y)
        self.estimator.fit(*self._frames(X, y))
        return self

    def log_likelihood(self, X, y):
        Xf, yf = self._frames(X, y)
        log_pdf = self.estimator.predict_proba(Xf).log_pdf(yf)
        return np.asarray(log_pdf, dtype=float).ravel() - np.log(self.y_scale_)

    def predict_mean(self, X):
        Xf, _ = self._frames(X)
        mean = np.asarray(self.estimator.predict(Xf), dtype=float).ravel()
        return self.y_mean_ + self.y_scale_ * mean

    def describe(self):
        return "X and y standardized by the benchmark"


class _BayesianRidgeModel:
    def __init__(self):
        from sklearn.linear_model import BayesianRidge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.estimator = make_pipeline(StandardScaler(), BayesianRidge())

    def fit(self, X, y):
        self.estimator.fit(X, y)
        return self

    def _predict(self, X):
        scaler, ridge = self.estimator[0], self.estimator[-1]
        return ridge.predict(scaler.transform(X), return_std=True)

    def log_likelihood(self, X, y):
        mean, std = self._predict(X)
        return stats.norm.logpdf(y, loc=mean, scale=std)

    def predict_mean(self, X):
        return self._predict(X)[0]

    def distribution(self, X):
        return gaussian(*self._predict(X))

    def describe(self):
        return "linear"


class _GPModel(_Standardized):
    def __init__(self, split):
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        self.split = split
        self._make = lambda n_features: GaussianProcessRegressor(
            ConstantKernel(1.0) * RBF(np.ones(n_features)) + WhiteKernel(0.1),
            random_state=split,
        )

    def fit(self, X, y):
        self._standardize_fit(X, y)
        self.estimator = self._make(X.shape[1]).fit(self._x(X), self._y(y))
        return self

    def log_likelihood(self, X, y):
        mean, std = self.estimator.predict(self._x(X), return_std=True)
        return stats.norm.logpdf(self._y(y), loc=mean, scale=std) - np.log(
            self.y_scale_
        )

    def predict_mean(self, X):
        return self.y_mean_ + self.y_scale_ * self.estimator.predict(self._x(X))

    def distribution(self, X):
        mean, std = self.estimator.predict(self._x(X), return_std=True)
        return gaussian(self.y_mean_ + self.y_scale_ * mean, self.y_scale_ * std)

    def describe(self):
        return "ARD RBF + white noise"


def _safe_std(a):
    std = np.std(a, axis=0)
    return np.where(std > 0, std, 1.0)


def _format_params(params):
    return " ".join(f"{k}={v!r}".replace(" ", "") for k, v in sorted(params.items()))
