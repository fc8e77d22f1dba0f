import copy
import io
import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import trapezoid
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback, LRScheduler

from skmdn import MDNEnsembleRegressor, MDNRegressor, MixtureDistribution, load
from skmdn._regressor import STACKING_PRIOR, _network_rows
from skmdn._skorch import stacking_weights
from skmdn.datasets import make_inverted_sinusoid

from .conftest import FAST

# ----------------------------------------------------------------- numerics


def test_density_integrates_to_one(fitted, sinusoid):
    X, _ = sinusoid
    grid = np.linspace(-40, 40, 8001)
    density = fitted.predict_proba_density(X[:5], np.tile(grid, (5, 1)))
    assert density.shape == (5, grid.size)
    assert_allclose(trapezoid(density, grid, axis=1), 1.0, atol=1e-4)


def test_sample_moments_match_predicted_mean_and_std(fitted, sinusoid):
    X, _ = sinusoid
    mean, std = fitted.predict(X[:4], return_std=True)
    draws = fitted.sample(X[:4], n_samples=40_000, random_state=0)
    assert draws.shape == (4, 40_000)
    stderr = std / np.sqrt(draws.shape[1])
    assert np.all(np.abs(draws.mean(axis=1) - mean) < 5 * stderr)
    assert_allclose(draws.std(axis=1), std, rtol=0.03)


def test_score_is_mean_of_score_samples(fitted, sinusoid):
    X, y = sinusoid
    log_lik = fitted.score_samples(X, y)
    assert log_lik.shape == (len(y),)
    assert fitted.score(X, y) == pytest.approx(log_lik.mean())
    w = np.linspace(0.5, 2.0, len(y))
    assert fitted.score(X, y, sample_weight=w) == pytest.approx(
        np.average(log_lik, weights=w)
    )
    assert_allclose(np.exp(log_lik), fitted.predict_proba_density(X, y))


def test_density_in_user_units_applies_the_jacobian(sinusoid):
    # Standardization makes the fitted network independent of an affine
    # change of y, so densities must transform with exactly 1 / |a|.
    X, y = sinusoid
    a, b = 250.0, -3000.0
    base = MDNRegressor(n_components=3, **FAST).fit(X, y)
    scaled = MDNRegressor(n_components=3, **FAST).fit(X, a * y + b)
    assert_allclose(
        scaled.predict_proba_density(X[:20], a * y[:20] + b),
        base.predict_proba_density(X[:20], y[:20]) / a,
        rtol=1e-5,
    )
    assert_allclose(scaled.predict(X[:20]), a * base.predict(X[:20]) + b, rtol=1e-5)


def test_density_matches_finite_difference_of_the_cdf(fitted, sinusoid):
    X, y = sinusoid
    dist = fitted.predict_dist(X[:10])
    h = 1e-4
    numeric = (dist.cdf(y[:10] + h) - dist.cdf(y[:10] - h)) / (2 * h)
    assert_allclose(fitted.predict_proba_density(X[:10], y[:10]), numeric, rtol=1e-5)


def test_predict_dist_parameters_in_user_units(fitted, sinusoid):
    X, _ = sinusoid
    dist = fitted.predict_dist(X[:7])
    assert isinstance(dist, MixtureDistribution)
    # Three components per network the model kept (stacked restarts).
    k = 3 * np.count_nonzero(fitted.restart_weights_)
    assert dist.weights.shape == dist.means.shape == dist.scales.shape == (7, k)
    assert_allclose(dist.weights.sum(axis=1), 1.0)
    assert (dist.scales >= fitted.min_scale * fitted.y_scale_[0] * (1 - 1e-6)).all()
    assert_allclose(fitted.predict(X[:7]), dist.mean())


def test_constant_feature_column_is_harmless(rng):
    X = np.column_stack([rng.normal(size=200), np.full(200, 3.0)])
    y = X[:, 0] + 0.1 * rng.normal(size=200)
    mdn = MDNRegressor(n_components=2, **FAST).fit(X, y)
    assert mdn.x_scale_[1] == 1.0
    assert np.isfinite(mdn.score(X, y))


def test_outlier_targets_give_finite_log_likelihood(fitted, sinusoid):
    X, _ = sinusoid
    log_lik = fitted.score_samples(X[:3], np.array([1e8, -1e8, 1e3]))
    assert np.all(np.isfinite(log_lik)) and np.all(log_lik < -100)


def test_mdn_beats_a_single_gaussian_on_the_inverse_problem():
    X, y = make_inverted_sinusoid(1000, random_state=1)
    X_test, y_test = make_inverted_sinusoid(2000, random_state=2)
    params = dict(hidden_layer_sizes=(32,), max_epochs=150, random_state=0)
    one = MDNRegressor(n_components=1, **params).fit(X, y)
    five = MDNRegressor(n_components=5, **params).fit(X, y)
    assert five.score(X_test, y_test) > one.score(X_test, y_test) + 0.5


# ------------------------------------------------------------ reproducible


def test_same_random_state_gives_identical_predictions(sinusoid):
    X, y = sinusoid
    a = MDNRegressor(n_components=2, **FAST).fit(X, y)
    b = MDNRegressor(n_components=2, **FAST).fit(X, y)
    assert_array_equal(a.predict(X), b.predict(X))
    assert_array_equal(a.sample(X, 3, random_state=1), b.sample(X, 3, random_state=1))


def test_sample_weight_two_equals_a_duplicated_row(rng):
    X = rng.normal(size=(60, 2))
    y = X[:, 0] - X[:, 1] + 0.2 * rng.normal(size=60)
    w = np.ones(60)
    w[:10] = 2
    params = dict(
        n_components=2,
        hidden_layer_sizes=(8,),
        max_epochs=60,
        batch_size=None,
        early_stopping=False,
        random_state=0,
    )
    weighted = MDNRegressor(**params).fit(X, y, sample_weight=w)
    duplicated = MDNRegressor(**params).fit(np.vstack([X, X[:10]]), np.r_[y, y[:10]])
    assert_allclose(weighted.predict(X), duplicated.predict(X), rtol=1e-4, atol=1e-5)
    assert weighted.score(X, y) == pytest.approx(duplicated.score(X, y), rel=1e-4)


# ------------------------------------------------------- sklearn ecosystem


def test_pipeline_with_standard_scaler(sinusoid):
    X, y = sinusoid
    pipe = make_pipeline(StandardScaler(), MDNRegressor(n_components=2, **FAST)).fit(
        X, y
    )
    mean, std = pipe.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5,)
    assert np.isfinite(pipe.score(X, y))


def test_grid_search_selects_by_held_out_likelihood():
    X, y = make_inverted_sinusoid(600, random_state=3)
    grid = GridSearchCV(
        MDNRegressor(max_epochs=60, random_state=0),
        {"n_components": [1, 4], "hidden_layer_sizes": [(16,), (16, 16)]},
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    assert grid.best_params_["n_components"] == 4
    ranks = grid.cv_results_["rank_test_score"]
    means = grid.cv_results_["mean_test_score"]
    assert means[ranks == 1][0] == means.max()
    assert np.isfinite(grid.score(X, y))


def test_cross_val_score_uses_log_likelihood_and_accepts_r2(sinusoid):
    X, y = sinusoid
    mdn = MDNRegressor(n_components=2, **FAST)
    ll = cross_val_score(mdn, X, y, cv=3)
    r2 = cross_val_score(mdn, X, y, cv=3, scoring="r2")
    assert ll.shape == r2.shape == (3,)
    assert np.all(ll < 0) and np.all(r2 < 1)


def test_clone_gives_an_unfitted_copy_with_the_same_params(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        copy.predict(np.zeros((1, 1)))


def test_pickle_round_trip_gives_identical_predictions(fitted, sinusoid):
    X, y = sinusoid
    restored = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(restored.predict(X), fitted.predict(X))
    assert_array_equal(restored.score_samples(X, y), fitted.score_samples(X, y))


class _TensorSpy(pickle.Pickler):
    """A pickler that lists the tensors it is given to pickle itself."""

    def __init__(self):
        super().__init__(io.BytesIO())
        self.tensors = []

    def reducer_override(self, obj):
        if isinstance(obj, torch.Generator):
            # The batch-order generator: its state is a CPU tensor, wherever
            # the model was trained.
            return torch.Generator, ()
        if isinstance(obj, torch.Tensor):
            self.tensors.append(tuple(obj.shape))
        return NotImplemented


FITS = {
    "one network": lambda: MDNRegressor(**FAST),
    "restarts": lambda: MDNRegressor(**FAST, n_init=2),
    # The scheduler holds the optimizer, and so the network's parameters.
    "user LRScheduler": lambda: MDNRegressor(
        **FAST, callbacks=[LRScheduler("StepLR", step_size=10)]
    ),
    "ensemble": lambda: MDNEnsembleRegressor(
        MDNRegressor(**FAST), n_estimators=2, random_state=0
    ),
}


@pytest.mark.parametrize("fit", FITS)
def test_every_tensor_of_a_pickle_goes_through_the_device_mapping(sinusoid, fit):
    # skorch pickles a net's module, criterion and optimizer apart and maps
    # them to the CPU when the training device is missing; a tensor pickled
    # anywhere else (the validation rows, training-time snapshots) would
    # need that device to load: a model fitted on a GPU would not unpickle
    # on a machine without one.
    X, y = sinusoid
    model = FITS[fit]().fit(X, y)
    spy = _TensorSpy()
    spy.dump(model)
    assert spy.tensors == []
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.score_samples(X, y), model.score_samples(X, y))


@pytest.mark.parametrize("fit", FITS)
def test_a_fit_leaves_torch_global_generator_as_it_was(sinusoid, fit):
    X, y = sinusoid
    state = torch.get_rng_state()
    FITS[fit]().fit(X, y)
    assert torch.equal(torch.get_rng_state(), state)


def test_pandas_input_keeps_feature_names(rng):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100)})
    y = pd.Series(X["a"] + 0.1 * rng.normal(size=100), name="target")
    mdn = MDNRegressor(n_components=2, **FAST).fit(X, y)
    assert list(mdn.feature_names_in_) == ["a", "b"]
    assert mdn.predict(X).shape == (100,)
    with pytest.warns(UserWarning, match="feature names"):
        mdn.predict(X.to_numpy())


def test_user_callbacks_are_honoured_and_not_mutated(sinusoid):
    class CountEpochs(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1

    X, y = sinusoid
    counter = CountEpochs()
    mdn = MDNRegressor(n_components=2, callbacks=[("count", counter)], **FAST).fit(X, y)
    assert dict(mdn.net_.callbacks_)["count"].epochs_ == mdn.n_iter_
    assert not hasattr(counter, "epochs_")


def test_early_stopping_restores_the_best_epoch(sinusoid):
    X, y = sinusoid
    mdn = MDNRegressor(
        n_components=2,
        n_init=1,
        hidden_layer_sizes=(16,),
        max_epochs=2000,
        patience=5,
        random_state=0,
    ).fit(X, y)
    history = mdn.net_.history
    valid = np.array(history[:, "valid_loss"])
    assert mdn.n_iter_ < 2000
    assert np.argmin(valid) == len(valid) - 1 - 5
    assert mdn.best_epoch_ == int(np.argmin(valid)) + 1
    # The validation NLL is reported in the units of y, like -score.
    offset = np.log(mdn.y_scale_).sum()
    assert mdn.best_validation_nll_ == pytest.approx(valid.min() + offset)


def test_warm_start_continues_from_the_previous_weights(sinusoid):
    X, y = sinusoid
    params = dict(
        n_components=2,
        hidden_layer_sizes=(16,),
        max_epochs=30,
        batch_size=None,
        early_stopping=False,
        random_state=0,
    )
    mdn = MDNRegressor(**params, restarts="best", warm_start=True).fit(X, y)
    last = mdn.net_.history[-1, "train_loss"]
    assert mdn.n_init_ == 5
    mdn.fit(X, y)
    # The kept network goes on alone: no restarts from the same weights.
    assert mdn.n_init_ == 1
    cold = MDNRegressor(**params, restarts="best").fit(X, y)
    cold_first = cold.net_.history[0, "train_loss"]
    assert mdn.net_.history[0, "train_loss"] == pytest.approx(last, abs=0.05)
    assert cold_first > last + 0.1


def test_verbose_zero_prints_nothing_and_verbose_one_shows_progress(sinusoid, capsys):
    X, y = sinusoid
    MDNRegressor(n_components=2, **{**FAST, "max_epochs": 3}).fit(X, y)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    MDNRegressor(n_components=2, verbose=1, **{**FAST, "max_epochs": 3}).fit(X, y)
    err = capsys.readouterr().err
    assert "epoch" in err and "valid_nll" in err


def test_predict_proba_density_evaluates_a_grid_per_row(fitted, sinusoid):
    X, _ = sinusoid
    grid = np.tile(np.linspace(-10, 10, 7), (4, 1))
    density = fitted.predict_proba_density(X[:4], grid)
    assert density.shape == (4, 7)
    assert_allclose(density[:, 3], fitted.predict_proba_density(X[:4], grid[:, 3]))


# --------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_components": 0}, "n_components"),
        ({"activation": "swish"}, "activation"),
        ({"lr": -1.0}, "lr"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"batch_size": 0}, "batch_size"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"min_scale": 0.0}, "min_scale"),
        ({"hidden_layer_sizes": (16, 0)}, "hidden_layer_sizes"),
        ({"patience": 0}, "patience"),
        ({"batch_size": "big"}, "batch_size"),
        ({"patience": "long"}, "patience"),
        ({"n_init": 0}, "n_init"),
        ({"n_init": 2.5}, "n_init"),
        ({"n_init": "3"}, "n_init"),
        ({"n_init": "best"}, "n_init"),
        ({"n_init": True}, "n_init.*not a bool"),
        ({"restarts": "average"}, "restarts"),
        ({"restarts": None}, "restarts"),
        ({"n_components": True}, "n_components.*not a bool"),
    ],
)
def test_invalid_hyperparameters_are_rejected_in_fit(sinusoid, params, match):
    X, y = sinusoid
    with pytest.raises(ValueError, match=match):
        MDNRegressor(**params).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_are_rejected(sinusoid, bad):
    X, y = sinusoid
    X_bad, y_bad = X.copy(), y.copy()
    X_bad[3, 0] = bad
    y_bad[5] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        MDNRegressor(**FAST).fit(X_bad, y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        MDNRegressor(**FAST).fit(X, y_bad)


def test_malformed_inputs_are_rejected(sinusoid):
    X, y = sinusoid
    with pytest.raises(ValueError, match="could not convert|numeric"):
        MDNRegressor(**FAST).fit(np.array([["a"], ["b"]], dtype=object), [1.0, 2.0])
    with pytest.raises(ValueError, match="0 sample"):
        MDNRegressor(**FAST).fit(np.empty((0, 1)), np.empty(0))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MDNRegressor(**FAST).fit(X, y[:-1])
    with pytest.raises(ValueError, match="3 dimensions"):
        MDNRegressor(**FAST).fit(X, np.zeros((len(y), 2, 2)))
    with pytest.raises(ValueError, match="[Ss]ample.weight"):
        MDNRegressor(**FAST).fit(X, y, sample_weight=np.zeros(len(y)))


def test_bad_input_at_prediction_time(fitted, sinusoid):
    X, y = sinusoid
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.hstack([X, X]))
    with pytest.raises(ValueError, match=r"y must have shape \(5,\)"):
        fitted.predict_proba_density(X[:5], y[:4])
    with pytest.raises(
        ValueError, match=r"y has 3 dimensions.*takes y of shape \(5,\)"
    ):
        fitted.predict_proba_density(X[:5], np.zeros((5, 2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        fitted.score_samples(X[:2], np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(X[:2], n_samples=0)


def test_predict_before_fit_raises_not_fitted():
    for method, args in [
        ("predict", ()),
        ("predict_dist", ()),
        ("sample", ()),
        ("score_samples", ([0.0],)),
        ("predict_proba_density", ([0.0],)),
    ]:
        with pytest.raises(NotFittedError):
            getattr(MDNRegressor(), method)(np.zeros((1, 1)), *args)


def test_diverging_fit_raises_and_keeps_the_previous_model(fitted, sinusoid):
    X, y = sinusoid
    model = pickle.loads(pickle.dumps(fitted))
    before = model.predict(X[:10])
    model.set_params(optimizer="sgd", lr=1e30, early_stopping=False)
    with pytest.raises(FloatingPointError, match="diverged|non-finite"):
        model.fit(X, y)
    assert_array_equal(model.predict(X[:10]), before)


def test_failed_fit_on_bad_data_keeps_the_previous_model(fitted, sinusoid):
    X, y = sinusoid
    model = pickle.loads(pickle.dumps(fitted))
    before = model.predict(X[:10])
    X_bad = np.hstack([X, X])
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        model.fit(X_bad, y)
    assert model.n_features_in_ == 1
    assert_array_equal(model.predict(X[:10]), before)


def test_predictions_do_not_depend_on_row_order_or_subset(fitted, sinusoid):
    X, y = sinusoid
    order = np.random.default_rng(0).permutation(len(y))
    assert_allclose(fitted.predict(X[order]), fitted.predict(X)[order], rtol=1e-6)
    assert_allclose(
        fitted.score_samples(X[order], y[order]),
        fitted.score_samples(X, y)[order],
        rtol=1e-6,
    )
    assert_allclose(fitted.predict(X[:7]), fitted.predict(X)[:7], rtol=1e-6)


def test_num_threads_applies_during_fit_and_is_restored(sinusoid):

    class RecordThreads(Callback):
        def on_epoch_end(self, net, **kwargs):
            self.seen_ = torch.get_num_threads()

    X, y = sinusoid
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        mdn = MDNRegressor(
            num_threads=1, callbacks=[("threads", RecordThreads())], **FAST
        ).fit(X, y)
        assert dict(mdn.net_.callbacks_)["threads"].seen_ == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(ValueError, match="num_threads"):
            MDNRegressor(num_threads=0).fit(X, y)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_restarts_keep_the_best_validation_nll_and_are_reproducible(sinusoid):
    X, y = sinusoid
    params = dict(
        n_components=3, hidden_layer_sizes=(8,), max_epochs=30, restarts="best"
    )
    single = MDNRegressor(**params, random_state=0).fit(X, y)
    restarts = MDNRegressor(**params, n_init=4, random_state=0).fit(X, y)
    training = dict(restarts.net_.callbacks_)["mdn_training"]
    assert training.best_nll_.shape == (4,)
    kept = int(np.argmin(training.best_nll_))
    offset = np.log(restarts.y_scale_).sum()
    assert restarts.best_validation_nll_ == pytest.approx(
        training.best_nll_[kept] + offset
    )
    # Different initializations and batch orders reach different optima.
    assert len(set(np.round(training.best_nll_, 6))) == 4
    again = MDNRegressor(**params, n_init=4, random_state=0).fit(X, y)
    assert_array_equal(again.predict(X[:20]), restarts.predict(X[:20]))
    assert isinstance(restarts.net_.module_, type(single.net_.module_))
    assert_array_equal(restarts.restart_weights_, np.eye(4)[kept])
    assert restarts.best_epoch_ == training.member_best_epoch_[kept]


def _network_log_probs(model, X, y):
    """Each kept network's log-density of the rows, alone in a copy of model."""
    module = model.net_.module_
    log_probs = []
    for network in getattr(module, "networks", [module]):
        alone = copy.deepcopy(model)
        alone.net_.module_ = network
        log_probs.append(alone.score_samples(X, y))
    return np.array(log_probs)


def test_stacked_restarts_are_the_weighted_mixture_of_the_restarts(sinusoid):
    X, y = sinusoid
    params = dict(n_components=3, hidden_layer_sizes=(8,), max_epochs=40)
    stacked = MDNRegressor(**params, n_init=3, random_state=0).fit(X, y)
    assert stacked.restarts == "stack"
    w = stacked.restart_weights_
    assert w.shape == (3,) and np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    kept = np.flatnonzero(w)
    # The restarts' networks are those that restarts="best" trains: the same
    # seeds, splits and epochs; the model is their mixture with weights w.
    dist = stacked.predict_dist(X[:50])
    assert dist.weights.shape == (50, 3 * len(kept))
    assert_allclose(dist.weights.sum(axis=1), 1.0, rtol=1e-6)
    networks = stacked.net_.module_.networks
    assert len(networks) == len(kept) >= 2
    for j, m in enumerate(kept):
        share = dist.weights[:, 3 * j : 3 * j + 3].sum(axis=1)
        assert_allclose(share, w[m], rtol=1e-5)
    # The weights are the stacking weights (the posterior mode, under the
    # weak Dirichlet prior) of the restarts' log-densities of the validation
    # rows; the units of y only shift every restart's log-density of a row
    # by the same constant, which leaves the weights as they are.
    _, _, valid = stacked._draw_split(len(X), 3)
    best = stacked.score(X[valid], y[valid])
    assert stacked.best_validation_nll_ == pytest.approx(-best, rel=1e-4)
    log_probs = _network_log_probs(stacked, X[valid], y[valid])
    expected = stacking_weights(log_probs, prior=STACKING_PRIOR)
    assert_allclose(w[kept], expected, rtol=1e-4)
    # The prior keeps every restart: none has a weight of zero on 40 rows.
    assert len(kept) == 3
    # restarts="best" trains the same networks and keeps the best one.
    best_one = MDNRegressor(**params, n_init=3, restarts="best", random_state=0)
    best_one.fit(X, y)
    m = int(np.argmax(best_one.restart_weights_))
    assert m in kept
    assert best_one.score(X[valid], y[valid]) == pytest.approx(
        np.mean(log_probs[m]), rel=1e-6
    )
    again = MDNRegressor(**params, n_init=3, random_state=0).fit(X, y)
    assert_array_equal(again.predict(X[:20]), stacked.predict(X[:20]))
    assert_array_equal(again.restart_weights_, w)


def test_crossfit_restarts_hold_out_folds_of_their_own():
    n, n_init = 400, 4
    split = MDNRegressor(random_state=0)._draw_split(n, n_init)
    train, valid = _network_rows(split, n_init, crossfit=True)
    assert train.shape == (n_init, 360) and valid.shape == (n_init, 40)
    # Restart 0 keeps the split's own validation rows; the folds are
    # disjoint, and each restart trains on every row but its fold's.
    assert_array_equal(valid[0], split[2])
    assert len(np.unique(valid)) == n_init * 40
    for t, v in zip(train, valid):
        assert_array_equal(np.sort(np.concatenate([t, v])), np.arange(n))
    # More folds than rows: they overlap, each still of the split's size.
    train, valid = _network_rows(split, 12, crossfit=True)
    assert valid.shape == (12, 40) and len(np.unique(valid)) == n
    # Without crossfit the restarts share the split.
    train, valid = _network_rows(split, n_init, crossfit=False)
    assert (valid == split[2]).all() and (train == split[1]).all()


def test_crossfit_restarts_are_stacked_on_the_union_of_their_folds(sinusoid, tmp_path):
    X, y = sinusoid
    params = dict(n_components=3, hidden_layer_sizes=(8,), max_epochs=40)
    mdn = MDNRegressor(**params, n_init=3, restarts="crossfit", random_state=0)
    mdn.fit(X, y)
    training = dict(mdn.net_.callbacks_)["mdn_training"]
    w = mdn.restart_weights_
    kept = np.flatnonzero(w)
    assert w.shape == (3,) and w.sum() == pytest.approx(1.0) and len(kept) >= 2
    _, valid = _network_rows(mdn._draw_split(len(X), 3), 3, crossfit=True)
    # Each restart's validation NLL is that of its own fold.
    log_probs = _network_log_probs(mdn, X, y)
    offset = np.log(mdn.y_scale_).sum()
    for j, m in enumerate(kept):
        own = -np.mean(log_probs[j, valid[m]])
        assert own == pytest.approx(training.best_nll_[m] + offset, rel=1e-4)
    # The weights stack the restarts on every row some restart held out.
    union = np.unique(valid)
    expected = stacking_weights(log_probs[:, union], prior=STACKING_PRIOR)
    assert_allclose(w[kept], expected, rtol=1e-4)
    # The validation NLL is the held-out one: each restart's own, weighed.
    assert mdn.best_validation_nll_ == pytest.approx(
        w @ training.best_nll_ + offset, rel=1e-6
    )
    again = MDNRegressor(**params, n_init=3, restarts="crossfit", random_state=0)
    assert_array_equal(again.fit(X, y).predict(X[:20]), mdn.predict(X[:20]))
    mdn.save(tmp_path / "crossfit.skmdn")
    loaded = load(tmp_path / "crossfit.skmdn")
    assert loaded.restarts == "crossfit"
    assert_array_equal(loaded.score_samples(X, y), mdn.score_samples(X, y))
    # One network, or no validation rows: crossfit is "stack".
    for extra in ({"n_init": 1}, {"n_init": 3, "early_stopping": False}):
        a = MDNRegressor(**params, **extra, restarts="crossfit", random_state=0)
        b = MDNRegressor(**params, **extra, random_state=0)
        assert_array_equal(a.fit(X, y).predict(X[:20]), b.fit(X, y).predict(X[:20]))


def test_crossfit_refuses_a_fold_of_zero_weights(sinusoid):
    X, y = sinusoid
    mdn = MDNRegressor(**FAST, n_init=3, restarts="crossfit")
    _, valid = _network_rows(mdn._draw_split(len(X), 3), 3, crossfit=True)
    sw = np.ones(len(X))
    sw[valid[2]] = 0.0
    with pytest.raises(ValueError, match="validation split has sample_weight 0"):
        mdn.fit(X, y, sample_weight=sw)
    # Shared validation rows (restarts="stack") have positive weights here.
    MDNRegressor(**FAST, n_init=3).fit(X, y, sample_weight=sw)


def test_stacked_restarts_without_early_stopping_weigh_the_training_rows():
    X, y = make_inverted_sinusoid(300, random_state=3)
    params = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=15)
    mdn = MDNRegressor(**params, n_init=3, early_stopping=False, random_state=0)
    mdn.fit(X, y)
    assert mdn.best_validation_nll_ is None
    w = mdn.restart_weights_
    assert w.shape == (3,) and w.sum() == pytest.approx(1.0)
    # The weights are those of the training rows.
    log_probs = _network_log_probs(mdn, X, y)
    expected = stacking_weights(log_probs, prior=STACKING_PRIOR)
    assert_allclose(w[np.flatnonzero(w)], expected, rtol=1e-4)


def test_stacking_weights_maximize_the_mixture_likelihood():
    rng = np.random.default_rng(0)
    log_probs = rng.normal(size=(3, 200))
    log_probs[2] -= 5.0  # a restart far worse than the others
    w = stacking_weights(log_probs)
    assert w.sum() == pytest.approx(1.0) and w[2] == 0.0

    def loglik(v):
        return np.mean(logsumexp(log_probs + np.log(v)[:, None], axis=0))

    for other in rng.dirichlet(np.ones(3), size=50):
        assert loglik(w + 1e-300) >= loglik(other) - 1e-6
    # Sample weights weigh the rows: all weight on rows model 0 prefers.
    sw = (log_probs[0] > log_probs[1]).astype(float)
    assert stacking_weights(log_probs, sw)[0] == pytest.approx(1.0)
    # One model: all its weight.
    assert_array_equal(stacking_weights(log_probs[:1]), [1.0])


def test_stacking_weights_with_a_prior_are_the_posterior_mode():
    rng = np.random.default_rng(1)
    log_probs = rng.normal(size=(3, 200))
    log_probs[2] -= 5.0
    prior = 0.5
    w = stacking_weights(log_probs, prior=prior)
    # The far worse model keeps a small weight instead of none.
    assert 0.0 < w[2] < 0.01 and w.sum() == pytest.approx(1.0)

    def log_posterior(v):
        loglik = np.sum(logsumexp(log_probs + np.log(v)[:, None], axis=0))
        return loglik + prior * np.sum(np.log(v))

    for other in rng.dirichlet(np.ones(3), size=50):
        assert log_posterior(w) >= log_posterior(other) - 1e-6
    # The prior counts rows: with twenty times the rows it matters less.
    many = np.tile(log_probs, 20)
    assert np.abs(
        stacking_weights(many, prior=prior) - stacking_weights(many)
    ).max() < (np.abs(w - stacking_weights(log_probs)).max())
    # Rows count by their sample weights: a weight of 2 is a repeated row.
    sw = np.ones(200)
    sw[:10] = 2.0
    repeated = np.concatenate([log_probs, log_probs[:, :10]], axis=1)
    assert_allclose(
        stacking_weights(log_probs, sw, prior=prior),
        stacking_weights(repeated, prior=prior),
        rtol=1e-8,
    )
    # Without a prior, the maximum likelihood.
    assert_array_equal(
        stacking_weights(log_probs, prior=0.0), stacking_weights(log_probs)
    )


def test_auto_restarts_are_five_on_small_data_and_one_from_2000_rows(sinusoid):
    X, y = sinusoid
    params = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=5)
    auto = MDNRegressor(**params, random_state=0).fit(X, y)
    assert auto.n_init == "auto" and auto.n_init_ == 5
    training = dict(auto.net_.callbacks_)["mdn_training"]
    assert training.best_nll_.shape == (5,)
    # The same networks as asking for five.
    five = MDNRegressor(**params, n_init=5, random_state=0).fit(X, y)
    assert five.n_init_ == 5
    assert_array_equal(auto.predict(X[:20]), five.predict(X[:20]))
    X_big, y_big = make_inverted_sinusoid(2000, random_state=1)
    big = MDNRegressor(**{**params, "max_epochs": 1}, random_state=0)
    big.fit(X_big, y_big)
    assert big.n_init_ == 1
    assert dict(big.net_.callbacks_)["mdn_training"].best_nll_.shape == (1,)
    assert (
        MDNRegressor(**params, n_init=2, random_state=0).fit(X_big[:50], y_big[:50])
    ).n_init_ == 2


def test_restarts_take_sample_weights_in_one_full_batch():
    # Few rows: every restart trains on one full batch and shares the
    # validation rows, whose weights are one per row, not one per network.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X[:, 0] + rng.normal(size=40)
    w = rng.uniform(0.5, 2.0, size=40)
    for batch_size in (64, None):
        params = dict(max_epochs=10, batch_size=batch_size, random_state=0)
        restarts = MDNRegressor(n_init=3, **params).fit(X, y, sample_weight=w)
        training = dict(restarts.net_.callbacks_)["mdn_training"]
        assert training.best_nll_.shape == (3,)
        assert np.all(np.isfinite(training.best_nll_))
        # The kept network's validation NLL is the weighted one: what the
        # weighted score of the validation rows gives.
        _, _, valid = restarts._draw_split(len(X))
        assert valid.size == 4
        assert restarts.best_validation_nll_ == pytest.approx(
            -restarts.score(X[valid], y[valid], sample_weight=w[valid]), rel=1e-4
        )


def test_verbose_reports_the_best_epoch_in_the_units_of_y(sinusoid, capsys):
    X, y = sinusoid
    mdn = MDNRegressor(n_components=2, verbose=1, **{**FAST, "max_epochs": 5})
    mdn.fit(X, 1000.0 * y)
    out = capsys.readouterr().out
    assert f"best epoch {mdn.best_epoch_}" in out
    assert f"validation NLL {mdn.best_validation_nll_:.4f}" in out
    # In the units of y: scaling y by 1000 adds log(1000) to the NLL.
    assert mdn.best_validation_nll_ > np.log(1000.0)


def test_weight_averaging_keeps_a_running_average_of_the_iterates(sinusoid):

    class RecordWeights(Callback):
        def initialize(self):
            self.seen_ = []
            return self

        def on_epoch_end(self, net, **kwargs):
            self.seen_.append([p.detach().clone() for p in net.module_.parameters()])

    X, y = sinusoid
    params = dict(
        n_components=2,
        n_init=1,
        hidden_layer_sizes=(8,),
        batch_size=None,
        early_stopping=False,
        lr_schedule=None,
        max_epochs=60,
        random_state=0,
    )
    mdn = MDNRegressor(
        average_steps=4, callbacks=[("rec", RecordWeights())], **params
    ).fit(X, y)
    # One step per epoch: the average over the last tenth of the steps,
    # at most average_steps of them.
    seen = dict(mdn.net_.callbacks_)["rec"].seen_
    average = [p.clone() for p in seen[0]]
    for t, weights in enumerate(seen, start=1):
        w = min(1.0, max(10.0 / t, 1.0 / 4))
        average = [a + w * (p - a) for a, p in zip(average, weights)]
    for kept, expected in zip(mdn.net_.module_.parameters(), average):
        torch.testing.assert_close(kept.detach(), expected, rtol=1e-5, atol=1e-6)
    assert not torch.equal(average[0], seen[-1][0])
    # A horizon of one step is the raw weights.
    raw = MDNRegressor(average_steps=None, **params).fit(X, y)
    one = MDNRegressor(average_steps=1, **params).fit(X, y)
    assert_array_equal(raw.predict(X[:20]), one.predict(X[:20]))
    assert not np.array_equal(raw.predict(X[:20]), mdn.predict(X[:20]))


@pytest.mark.parametrize(
    "n_train, batch_size, patience",
    [(500, 32, 100), (900, 32, 100), (10_000, 128, 38), (1_000_000, 1024, 10)],
)
def test_auto_batch_size_and_patience_follow_the_documented_rule(
    n_train, batch_size, patience
):
    assert MDNRegressor()._resolve_schedule(n_train) == (batch_size, patience)
    assert MDNRegressor(batch_size=64, patience=7)._resolve_schedule(n_train) == (
        64,
        7,
    )
    # A full batch is one step per epoch: the patience is capped.
    assert MDNRegressor(batch_size=None)._resolve_schedule(n_train) == (None, 100)


def test_resolved_batch_size_and_patience_are_fitted_attributes(sinusoid):
    X, y = sinusoid
    mdn = MDNRegressor(n_components=2, hidden_layer_sizes=(8,), max_epochs=3)
    mdn.fit(X, y)
    assert (mdn.batch_size_, mdn.patience_) == mdn._resolve_schedule(360)
    assert mdn.batch_size == "auto" and mdn.patience == "auto"


def test_keyboard_interrupt_propagates_and_keeps_the_fitted_model(fitted, sinusoid):
    class Interrupt(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    X, y = sinusoid
    model = pickle.loads(pickle.dumps(fitted))
    before = model.predict(X[:10])
    model.set_params(callbacks=[("interrupt", Interrupt())])
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert_array_equal(model.predict(X[:10]), before)
    assert model.n_iter_ == fitted.n_iter_
    # Early stopping still ends a fit normally.
    short = MDNRegressor(n_components=2, hidden_layer_sizes=(4,), patience=2)
    assert short.fit(X, y).n_iter_ < short.max_epochs


@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(400), "non-negative"),
        (np.zeros(400), "at least one positive"),
        (np.full(400, np.nan), "NaN or infinite"),
        (np.ones(7), r"shape \(400,\)"),
    ],
)
def test_bad_sample_weights_are_refused_by_fit_and_score(
    fitted, sinusoid, weights, match
):
    X, y = sinusoid
    before = fitted.predict(X[:5])
    with pytest.raises(ValueError, match=match):
        fitted.score(X, y, sample_weight=weights)
    model = pickle.loads(pickle.dumps(fitted))
    with pytest.raises(ValueError, match="(?i)sample"):
        model.fit(X, y, sample_weight=weights)
    assert_array_equal(model.predict(X[:5]), before)


def test_invalid_or_missing_device_is_a_clear_error(sinusoid):

    X, y = sinusoid
    with pytest.raises(ValueError, match="not a PyTorch device"):
        MDNRegressor(device="gpu", **FAST).fit(X, y)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            MDNRegressor(device="cuda", **FAST).fit(X, y)


def test_warm_start_on_data_of_another_shape_says_so(sinusoid):
    X, y = sinusoid
    mdn = MDNRegressor(n_components=2, warm_start=True, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="1 features.*got 2 features"):
        mdn.fit(np.hstack([X, X]), y)
    assert mdn.n_features_in_ == 1


def test_hdr_interval_before_fit_is_not_fitted_error():
    with pytest.raises(NotFittedError):
        MDNRegressor().predict_interval(np.zeros((2, 1)), 0.9, method="hdr")


@pytest.mark.parametrize(
    "x_factor, y_factor", [(1, 1e-20), (1e-20, 1), (1, 1e160), (1e160, 1)]
)
def test_standardization_is_equivariant_at_extreme_scales(sinusoid, x_factor, y_factor):
    X, y = sinusoid
    params = dict(
        n_components=2, hidden_layer_sizes=(8,), max_epochs=20, random_state=0
    )
    base = MDNRegressor(**params).fit(X, y)
    scaled = MDNRegressor(**params).fit(X * x_factor, y * y_factor)
    # The score moves by the log of the Jacobian, nothing else.
    assert scaled.score(X * x_factor, y * y_factor) + np.log(y_factor) == pytest.approx(
        base.score(X, y), rel=1e-9
    )
    assert_allclose(scaled.predict(X[:5] * x_factor) / y_factor, base.predict(X[:5]))


def test_complex_input_is_refused_not_truncated(fitted, sinusoid):
    from skmdn import metrics

    X, y = sinusoid
    dist = fitted.predict_dist(X[:3])
    for call in (
        lambda: dist.cdf(y[:3] + 1j),
        lambda: dist.ppf(0.5 + 0j),
        lambda: fitted.predict_quantiles(X[:3], [0.5 + 0j]),
        lambda: metrics.crps(y[:3] + 0j, dist),
    ):
        with pytest.raises(ValueError, match="complex"):
            call()


def test_metrics_refuse_empty_input():
    from skmdn import metrics

    empty = (np.ones((0, 1)), np.zeros((0, 1)), np.ones((0, 1)))
    for metric in (metrics.negative_log_likelihood, metrics.crps, metrics.pit):
        with pytest.raises(ValueError, match="empty"):
            metric(np.array([]), empty)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_inputs_beyond_float32_give_finite_predictions(sinusoid, activation):
    X, y = sinusoid
    mdn = MDNRegressor(n_components=2, activation=activation, **FAST).fit(X, y)
    far = np.array([[1e39], [-1e300], [1e300]])
    assert np.all(np.isfinite(mdn.predict(far)))
    assert np.all(np.isfinite(mdn.score_samples(far, np.zeros(3))))


def test_zero_weight_batches_train_and_a_zero_weight_validation_is_refused(rng):
    X = rng.normal(size=(200, 1))
    y = X[:, 0] + 0.1 * rng.normal(size=200)
    w = np.zeros(200)
    w[:4] = 1.0  # most batches have weight 0 only
    params = dict(n_components=2, hidden_layer_sizes=(4,), max_epochs=5)
    mdn = MDNRegressor(**params, early_stopping=False, batch_size=8)
    assert np.isfinite(mdn.fit(X, y, sample_weight=w).score(X, y))
    with pytest.raises(ValueError, match="validation split has sample_weight 0"):
        MDNRegressor(**params, random_state=0).fit(X, y, sample_weight=w)
