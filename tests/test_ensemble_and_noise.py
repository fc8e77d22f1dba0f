import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmdn import MDNEnsembleRegressor, MDNRegressor
from skmdn.datasets import make_correlated_mixture

from .conftest import FAST


@pytest.fixture(scope="module")
def ensemble(sinusoid):
    X, y = sinusoid
    member = MDNRegressor(n_components=2, **{**FAST, "random_state": None})
    return MDNEnsembleRegressor(member, n_estimators=3, random_state=0).fit(X, y)


def test_ensemble_density_is_the_average_of_its_members(ensemble, sinusoid):
    X, y = sinusoid
    dist = ensemble.predict_dist(X[:10])
    assert dist.weights.shape == (10, 6)
    assert_allclose(dist.weights.sum(axis=1), 1.0)
    members = np.mean(
        [m.predict_proba_density(X[:10], y[:10]) for m in ensemble.estimators_], axis=0
    )
    assert_allclose(ensemble.predict_proba_density(X[:10], y[:10]), members, rtol=1e-10)
    assert_allclose(
        ensemble.predict(X[:10]),
        np.mean([m.predict(X[:10]) for m in ensemble.estimators_], axis=0),
    )


def test_ensemble_members_differ_and_are_reproducible(ensemble, sinusoid):
    X, y = sinusoid
    preds = [m.predict(X[:5]) for m in ensemble.estimators_]
    assert not np.allclose(preds[0], preds[1])
    again = MDNEnsembleRegressor(
        ensemble.estimator, n_estimators=3, random_state=0
    ).fit(X, y)
    assert_allclose(again.predict(X[:5]), ensemble.predict(X[:5]))


def test_ensemble_keeps_the_probabilistic_api(ensemble, sinusoid):
    X, y = sinusoid
    assert ensemble.sample(X[:4], n_samples=5, random_state=0).shape == (4, 5)
    assert ensemble.score(X, y) == pytest.approx(ensemble.score_samples(X, y).mean())
    mean, std = ensemble.predict(X[:4], return_std=True)
    assert mean.shape == std.shape == (4,)
    assert ensemble.predict_dist(X[:4]).ppf(0.5).shape == (4,)


def test_ensemble_of_multi_output_members():
    X, y = make_correlated_mixture(300, random_state=0)
    member = MDNRegressor(n_components=2, covariance_type="full", **FAST)
    ens = MDNEnsembleRegressor(member, n_estimators=2, random_state=0).fit(X, y)
    dist = ens.predict_dist(X[:3])
    assert dist.means.shape == (3, 4, 2)
    assert ens.sample(X[:3], n_samples=2).shape == (3, 2, 2)


def test_ensemble_rejects_bad_input_and_parameters(sinusoid):
    X, y = sinusoid
    with pytest.raises(ValueError, match="n_estimators"):
        MDNEnsembleRegressor(n_estimators=0).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        MDNEnsembleRegressor(n_estimators=2).fit(np.full_like(X, np.nan), y)


def test_target_noise_sets_a_floor_on_the_predicted_spread(rng):
    # Noiseless targets: without noise the components shrink towards the
    # floor; target noise of s (in standardized units) keeps them near s.
    X = rng.uniform(-1, 1, size=(500, 1))
    y = 3.0 * X[:, 0]
    params = dict(
        n_components=1, hidden_layer_sizes=(16,), max_epochs=150, random_state=0
    )
    clean = MDNRegressor(**params).fit(X, y)
    noisy = MDNRegressor(target_noise=0.3, **params).fit(X, y)
    std_clean = clean.predict(X, return_std=True)[1].mean() / y.std()
    std_noisy = noisy.predict(X, return_std=True)[1].mean() / y.std()
    assert std_clean < 0.15
    assert std_noisy == pytest.approx(0.3, rel=0.3)


def test_input_noise_regularizes_and_is_reproducible(sinusoid):
    X, y = sinusoid
    a = MDNRegressor(n_components=2, input_noise=0.2, **FAST).fit(X, y)
    b = MDNRegressor(n_components=2, input_noise=0.2, **FAST).fit(X, y)
    c = MDNRegressor(n_components=2, **FAST).fit(X, y)
    assert_allclose(a.predict(X), b.predict(X))
    assert not np.allclose(a.predict(X), c.predict(X))


@pytest.mark.parametrize("param", ["input_noise", "target_noise"])
def test_negative_noise_is_rejected(sinusoid, param):
    X, y = sinusoid
    with pytest.raises(ValueError, match=param):
        MDNRegressor(**{param: -0.1}).fit(X, y)


def _validation_rows(member, n_samples):
    """The rows ``member`` holds out for early stopping (``_draw_split``)."""
    _, _, rows = member._draw_split(n_samples)
    return rows


# Members that stop early: a large learning rate overfits 400 rows fast.
STOPPED = dict(
    n_components=2,
    hidden_layer_sizes=(16,),
    lr=0.03,
    max_epochs=200,
    batch_size=64,
    patience=8,
)


@pytest.mark.parametrize("weighted", [False, True])
def test_ensemble_stops_its_members_together_at_its_best_epoch(sinusoid, weighted):
    X, y = sinusoid
    w = np.random.default_rng(0).uniform(0.2, 2.0, len(X)) if weighted else None
    ens = MDNEnsembleRegressor(
        MDNRegressor(**STOPPED),
        n_estimators=3,
        early_stopping="ensemble",
        random_state=0,
    )
    ens.fit(X, y, sample_weight=w)
    assert {m.best_epoch_ for m in ens.estimators_} == {ens.best_epoch_}
    # The history's validation NLL is the ensemble's, lowest at best_epoch_.
    valid = np.array(ens.estimators_[0].net_.history[:, "valid_loss"])
    assert valid[ens.best_epoch_ - 1] <= valid.min() + 1e-4
    assert len(valid) == ens.best_epoch_ + STOPPED["patience"]
    # All members were validated on the first member's rows, and the kept
    # weights are the ensemble's best: its NLL there is best_validation_nll_,
    # which no member alone reaches.
    rows = _validation_rows(ens.estimators_[0], len(X))
    weights = None if w is None else w[rows]
    nll = -ens.score(X[rows], y[rows], sample_weight=weights)
    assert ens.best_validation_nll_ == pytest.approx(nll, abs=1e-4)
    for member in ens.estimators_:
        assert -member.score(X[rows], y[rows], sample_weight=weights) > nll
        assert member.best_validation_nll_ == pytest.approx(
            -member.score(X[rows], y[rows], sample_weight=weights), abs=1e-4
        )


def test_ensemble_stopping_of_one_member_is_that_member_s_own(sinusoid):
    X, y = sinusoid
    member = MDNRegressor(**STOPPED)
    ens = MDNEnsembleRegressor(
        member, n_estimators=1, early_stopping="ensemble", random_state=0
    ).fit(X, y)
    (fitted,) = ens.estimators_
    assert ens.best_epoch_ == fitted.best_epoch_
    assert ens.best_validation_nll_ == pytest.approx(fitted.best_validation_nll_)


def test_members_stopping_by_default_gives_each_its_own_split_and_epoch(sinusoid):
    X, y = sinusoid
    ens = MDNEnsembleRegressor(
        MDNRegressor(**STOPPED),
        n_estimators=3,
        early_stopping="members",
        random_state=0,
    ).fit(X, y)
    assert ens.best_epoch_ is None and ens.best_validation_nll_ is None
    assert len({m.best_epoch_ for m in ens.estimators_}) > 1
    for member in ens.estimators_:
        rows = _validation_rows(member, len(X))
        assert member.best_validation_nll_ == pytest.approx(
            -member.score(X[rows], y[rows]), abs=1e-4
        )


def test_ensemble_stopping_refuses_members_with_restarts(sinusoid):
    X, y = sinusoid
    member = MDNRegressor(n_init=2, **FAST)
    joint = MDNEnsembleRegressor(member, n_estimators=2, early_stopping="ensemble")
    with pytest.raises(ValueError, match="n_init=2.*early_stopping='members'"):
        joint.fit(X, y)
    with pytest.raises(ValueError, match="early_stopping"):
        MDNEnsembleRegressor(early_stopping="joint").fit(X, y)
    ens = MDNEnsembleRegressor(member, n_estimators=2)
    assert len(ens.fit(X, y).estimators_) == 2
    assert [m.n_init_ for m in ens.estimators_] == [2, 2]


def test_ensemble_members_with_auto_restarts_train_one_network_each(sinusoid):
    # The average dilutes a poor member: "auto" is one network per member,
    # also when they are stopped together.
    X, y = sinusoid
    for stopping in ("members", "ensemble"):
        ens = MDNEnsembleRegressor(
            MDNRegressor(**FAST), n_estimators=2, early_stopping=stopping
        ).fit(X, y)
        assert [m.n_init_ for m in ens.estimators_] == [1, 1]
        training = dict(ens.estimators_[0].net_.callbacks_)["mdn_training"]
        assert training.best_nll_.shape == (2,)
