"""Trial of XGBoostLSS / LightGBMLSS Gaussian mixtures on the UCI splits.

Not part of the main benchmark: both packages pin ``torch<2.10`` and older
numpy/scipy/pandas, so they live in their own virtualenv, installed with
``--no-deps`` (see ``benchmarks/results/lss-trial.md``). Run from there::

    .venv-lss/bin/python benchmarks/lss_trial.py --datasets yacht --splits 2

Recipe followed: the packages' "Gaussian-Mixture Regression (California
Housing Data)" examples (``docs/examples/GaussianMixture_Regression_
CaliforniaHousing.ipynb`` in both repositories): ``Mixture(Gaussian(
response_fn="softplus"), M=4, tau=1.0, hessian_mode="individual")`` (LightGBMLSS
adds ``stabilization="L2"``), ``hyper_opt`` over the example's search space
(100 rounds, 5 folds, 20 early-stopping rounds), then ``train`` with the tuned
rounds and ``predict(pred_type="parameters")``. The variants without tuning
train up to 500 rounds with early stopping (20) on a tenth of the training
rows. The score is computed here from the predicted parameters: test NLL per
row of the Gaussian mixture in the target's units and RMSE of its mean.

The mixing weights are passed through a Gumbel-softmax even at prediction, so
``predict(pred_type="parameters")`` returns noisy weights; ``nll_det`` scores
the same boosters with the noise-free softmax of the raw margins.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy.special import logsumexp, softmax  # noqa: E402
from scipy.stats import norm  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from uci import load_dataset  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
M = 4
TAU = 1.0
MAX_ROUNDS = 500
EARLY_STOP = 20

# The examples' search spaces, with the thread count pinned to one.
XGB_SPACE = {
    "eta": ["float", {"low": 1e-5, "high": 1, "log": True}],
    "max_depth": ["int", {"low": 1, "high": 10, "log": False}],
    "gamma": ["float", {"low": 1e-8, "high": 40, "log": True}],
    "subsample": ["float", {"low": 0.2, "high": 1.0, "log": False}],
    "colsample_bytree": ["float", {"low": 0.2, "high": 1.0, "log": False}],
    "min_child_weight": ["float", {"low": 1e-8, "high": 500, "log": True}],
    "booster": ["categorical", ["gbtree"]],
    "nthread": ["categorical", [1]],
}
LGB_SPACE = {
    "eta": ["float", {"low": 1e-5, "high": 1, "log": True}],
    "max_depth": ["int", {"low": 1, "high": 10, "log": False}],
    "min_gain_to_split": ["float", {"low": 1e-8, "high": 40, "log": True}],
    "min_sum_hessian_in_leaf": ["float", {"low": 1e-8, "high": 500, "log": True}],
    "subsample": ["float", {"low": 0.2, "high": 1.0, "log": False}],
    "feature_fraction": ["float", {"low": 0.2, "high": 1.0, "log": False}],
    "boosting": ["categorical", ["gbdt"]],
    "num_threads": ["categorical", [1]],
    "verbose": ["categorical", [-1]],
}


def mixture_scores(loc, scale, weights, y):
    """NLL per row and RMSE of the mean of a Gaussian mixture, in log space."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = logsumexp(np.log(weights) + norm.logpdf(y[:, None], loc, scale), axis=1)
    mean = np.sum(weights * loc, axis=1)
    return float(-np.mean(logp)), float(np.sqrt(np.mean((mean - y) ** 2)))


def split_params(frame):
    """The loc, scale and weight columns of ``predict(pred_type="parameters")``."""

    def pick(prefix):
        return frame[[c for c in frame.columns if c.startswith(prefix)]].to_numpy(float)

    return pick("loc_"), pick("scale_"), pick("mix_prob_")


def deterministic_params(dist, margins):
    """The response functions applied to raw margins, softmax for the weights."""
    import torch

    parts = np.split(
        margins.reshape(-1, dist.n_dist_param), len(dist.param_dict), axis=1
    )
    out = {}
    for (name, fn), part in zip(dist.param_dict.items(), parts):
        if name == "mix_prob":
            out[name] = softmax(part / TAU, axis=1)
        else:
            out[name] = (
                fn(torch.tensor(part, dtype=torch.float32)).numpy().astype(float)
            )
    return out["loc"], out["scale"], out["mix_prob"]


def tune_rounds(variant):
    """The example's 100 rounds; the ``500`` variant lifts that cap."""
    return MAX_ROUNDS if variant.endswith("500") else 100


def holdout(n, seed):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_val = max(1, n // 10)
    return perm[n_val:], perm[:n_val]


def hyper_opt(model, space, dtrain, variant, n_trials, seed, unreported):
    """The docs' ``hyper_opt`` call: the tuned parameters, rounds and a note."""
    opt = dict(
        model.hyper_opt(
            space,
            dtrain,
            num_boost_round=tune_rounds(variant),
            nfold=5,
            early_stopping_rounds=EARLY_STOP,
            max_minutes=10,
            n_trials=n_trials,
            silence=True,
            seed=seed,
            hp_seed=seed,
        )
    )
    rounds = opt.pop("opt_rounds")
    chosen = f"rounds={rounds} " + " ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in opt.items()
        if k not in unreported
    )
    return opt, rounds, chosen


def run_xgb(variant, X, y, Xt, n_trials, seed):
    import xgboost as xgb
    from xgboostlss.distributions.Gaussian import Gaussian
    from xgboostlss.distributions.Mixture import Mixture
    from xgboostlss.model import XGBoostLSS

    dist = Mixture(
        Gaussian(response_fn="softplus"),
        M=M,
        tau=TAU,
        hessian_mode="individual",
        initialize=variant != "default",
    )
    model = XGBoostLSS(dist)
    chosen = ""
    if variant.startswith("init+hyperopt"):
        dtrain = xgb.DMatrix(X, label=y, nthread=1)
        opt, rounds, chosen = hyper_opt(
            model, XGB_SPACE, dtrain, variant, n_trials, seed, ("booster", "nthread")
        )
        model.train(opt, xgb.DMatrix(X, label=y, nthread=1), num_boost_round=rounds)
    else:
        tr, va = holdout(len(y), seed)
        dtr = xgb.DMatrix(X[tr], label=y[tr], nthread=1)
        dva = xgb.DMatrix(X[va], label=y[va], nthread=1)
        model.train(
            {"nthread": 1},
            dtr,
            num_boost_round=MAX_ROUNDS,
            evals=[(dtr, "train"), (dva, "val")],
            early_stopping_rounds=EARLY_STOP,
            verbose_eval=False,
        )
        chosen = f"best_iteration={model.booster.best_iteration}"
    dtest = xgb.DMatrix(Xt, nthread=1)
    params = model.predict(dtest, pred_type="parameters")
    dtest = xgb.DMatrix(Xt, nthread=1)
    dtest.set_base_margin((np.ones((Xt.shape[0], 1)) * model.start_values).flatten())
    margins = model.booster.predict(dtest, output_margin=True)
    return (
        split_params(params),
        deterministic_params(model.dist, np.asarray(margins)),
        chosen,
    )


def run_lgb(variant, X, y, Xt, n_trials, seed):
    import lightgbm as lgb
    from lightgbmlss.distributions.Gaussian import Gaussian
    from lightgbmlss.distributions.Mixture import Mixture
    from lightgbmlss.model import LightGBMLSS

    dist = Mixture(
        Gaussian(response_fn="softplus", stabilization="L2"),
        M=M,
        tau=TAU,
        hessian_mode="individual",
        initialize=variant != "default",
    )
    model = LightGBMLSS(dist)
    base = {"num_threads": 1, "verbose": -1}
    if variant.startswith("init+hyperopt"):
        dtrain = lgb.Dataset(X, label=y, params={"verbose": -1})
        opt, rounds, chosen = hyper_opt(
            model,
            LGB_SPACE,
            dtrain,
            variant,
            n_trials,
            seed,
            ("boosting", "num_threads", "verbose"),
        )
        model.train(
            opt, lgb.Dataset(X, label=y, params={"verbose": -1}), num_boost_round=rounds
        )
    else:
        tr, va = holdout(len(y), seed)
        dtr = lgb.Dataset(X[tr], label=y[tr], params={"verbose": -1})
        dva = lgb.Dataset(X[va], label=y[va], params={"verbose": -1})
        model.train(
            base,
            dtr,
            num_boost_round=MAX_ROUNDS,
            valid_sets=[dva],
            valid_names=["val"],
            callbacks=[lgb.early_stopping(EARLY_STOP, verbose=False)],
        )
        chosen = f"best_iteration={model.booster.best_iteration}"
    params = model.predict(Xt, pred_type="parameters")
    margins = np.asarray(model.booster.predict(Xt, raw_score=True)).reshape(len(Xt), -1)
    margins = margins + np.asarray(model.start_values, dtype=float)[None, :]
    return split_params(params), deterministic_params(model.dist, margins), chosen


RUNNERS = {"xgboostlss": run_xgb, "lightgbmlss": run_lgb}
VARIANTS = ("default", "init", "init+hyperopt", "init+hyperopt500")
DEFAULT_VARIANTS = VARIANTS[:3]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=str(REPO_ROOT.parent / "shared" / "data" / "uci"),
        help="folder of the UCI datasets (default ../shared/data/uci)",
    )
    parser.add_argument("--datasets", nargs="+", default=["yacht", "bostonHousing"])
    parser.add_argument("--splits", type=int, default=2, help="first N splits")
    parser.add_argument(
        "--trials", type=int, default=5, help="optuna trials of hyper_opt"
    )
    parser.add_argument(
        "--packages", nargs="+", default=list(RUNNERS), choices=list(RUNNERS)
    )
    parser.add_argument(
        "--variants", nargs="+", default=list(DEFAULT_VARIANTS), choices=list(VARIANTS)
    )
    parser.add_argument("--seed", type=int, default=123)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    print(
        "| dataset | split | package | variant | NLL | NLL (no Gumbel noise) "
        "| RMSE | fit s | chosen |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets:
        data = load_dataset(args.data, name)
        for k, (train, test) in enumerate(data.splits[: args.splits]):
            X, y, Xt, yt = data.X[train], data.y[train], data.X[test], data.y[test]
            for package in args.packages:
                for variant in args.variants:
                    # The examples seed numpy's global state before tuning and
                    # training; do the same.
                    np.random.seed(args.seed)  # noqa: NPY002
                    torch.manual_seed(args.seed)
                    start = time.perf_counter()
                    try:
                        doc, det, chosen = RUNNERS[package](
                            variant, X, y, Xt, args.trials, args.seed
                        )
                    except Exception as exc:  # report and go on
                        print(
                            f"| {name} | {k} | {package} | {variant} | failed: "
                            f"{type(exc).__name__}: {str(exc)[:200]} | | | | |",
                            flush=True,
                        )
                        continue
                    seconds = time.perf_counter() - start
                    nll, rmse = mixture_scores(*doc, yt)
                    nll_det, rmse_det = mixture_scores(*det, yt)
                    print(
                        f"| {name} | {k} | {package} | {variant} | {nll:.3f} "
                        f"| {nll_det:.3f} | {rmse:.3f} ({rmse_det:.3f}) "
                        f"| {seconds:.1f} | {chosen} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
