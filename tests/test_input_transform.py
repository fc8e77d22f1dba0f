"""MDNRegressor(input_transform=...): skewed features made normal."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.preprocessing import PowerTransformer

from skmdn import MDNEnsembleRegressor, MDNRegressor, load

FAST = dict(n_components=2, hidden_layer_sizes=(6, 5), max_epochs=8, random_state=0)


@pytest.fixture(scope="module")
def skewed():
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [rng.exponential(size=200), rng.normal(size=200), np.full(200, 3.0)]
    )
    y = np.log1p(X[:, 0]) + 0.1 * rng.normal(size=200)
    return X, y


def test_exponents_are_scikit_learn_s_and_the_inputs_are_standardized_after(skewed):
    X, y = skewed
    mdn = MDNRegressor(input_transform="yeo-johnson", **FAST).fit(X, y)
    # The constant feature keeps the identity.
    reference = PowerTransformer(standardize=False).fit(X[:, :2]).lambdas_
    assert_allclose(mdn.input_lambdas_[:2], reference, rtol=1e-6)
    assert mdn.input_lambdas_[2] == 1.0
    transformed = stats.yeojohnson(X[:, 0], lmbda=mdn.input_lambdas_[0])
    assert_allclose(mdn.x_mean_[0], transformed.mean())
    assert_allclose(mdn.x_scale_[0], transformed.std())
    # The model is the plain one fitted on the transformed features.
    Xt = np.column_stack(
        [
            stats.yeojohnson(X[:, j], lmbda=lam)
            for j, lam in enumerate(mdn.input_lambdas_)
        ]
    )
    plain = MDNRegressor(input_transform=None, **FAST).fit(Xt, y)
    assert_allclose(mdn.score_samples(X, y), plain.score_samples(Xt, y), rtol=1e-5)
    assert MDNRegressor(input_transform=None, **FAST).fit(X, y).input_lambdas_ is None


def test_sample_weights_of_zero_do_not_move_the_exponents(skewed):
    X, y = skewed
    w = np.ones(len(X))
    w[:50] = 0
    weighted = MDNRegressor(input_transform="yeo-johnson", **FAST).fit(X, y, w)
    subset = MDNRegressor(input_transform="yeo-johnson", **FAST).fit(X[50:], y[50:])
    assert_allclose(weighted.input_lambdas_, subset.input_lambdas_)


def test_the_transform_survives_save_load_and_ensembles(skewed, tmp_path):
    X, y = skewed
    member = MDNRegressor(input_transform="yeo-johnson", **FAST)
    for model in (member, MDNEnsembleRegressor(member, n_estimators=2, random_state=0)):
        model.fit(X, y).save(tmp_path / "m.skmdn")
        loaded = load(tmp_path / "m.skmdn")
        assert_array_equal(loaded.score_samples(X, y), model.score_samples(X, y))
        assert_array_equal(loaded.predict(X), model.predict(X))
    lambdas = [m.input_lambdas_ for m in model.estimators_]
    assert_array_equal(lambdas[0], lambdas[1])


def test_the_ensemble_recipe_stops_transformed_members_together(skewed, tmp_path):
    # docs/estimator.md's recipe, smaller: the members share the exponents
    # (fitted on the same rows) and keep the weights of one epoch.
    X, y = skewed
    recipe = MDNEnsembleRegressor(
        MDNRegressor(input_transform="yeo-johnson", **FAST),
        n_estimators=3,
        early_stopping="ensemble",
        random_state=0,
    ).fit(X, y)
    assert 1 <= recipe.best_epoch_ <= FAST["max_epochs"]
    assert np.isfinite(recipe.best_validation_nll_)
    for member in recipe.estimators_:
        assert_array_equal(member.input_lambdas_, recipe.estimators_[0].input_lambdas_)
    recipe.save(tmp_path / "recipe.skmdn")
    loaded = load(tmp_path / "recipe.skmdn")
    assert_array_equal(loaded.score_samples(X, y), recipe.score_samples(X, y))


def test_inputs_far_outside_the_training_data_stay_finite(skewed):
    X, y = skewed
    mdn = MDNRegressor(input_transform="yeo-johnson", **FAST).fit(X, y)
    far = np.array([[1e300, 0.0, 3.0], [-1e300, 0.0, 3.0]])
    assert np.all(np.isfinite(mdn.predict(far)))


@pytest.mark.parametrize("transform", ["yeo-johnson", "auto"])
@pytest.mark.parametrize("columns", [slice(None), slice(1, None)])
def test_a_memmap_is_transformed_as_in_memory_data(
    skewed, tmp_path, transform, columns
):
    # slice(1, None): no skewed feature, so "auto" streams the rows from disk.
    X, y = skewed
    X = np.ascontiguousarray(X[:, columns])
    path = tmp_path / "X.npy"
    Xm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=X.shape)
    Xm[:] = X
    params = dict(input_transform=transform, **FAST)
    from_disk = MDNRegressor(**params).fit(Xm, y)
    in_memory = MDNRegressor(**params).fit(X, y)
    assert_array_equal(from_disk.input_lambdas_, in_memory.input_lambdas_)
    assert_allclose(from_disk.score_samples(Xm, y), in_memory.score_samples(X, y))


def test_a_changed_transform_on_warm_start_is_refused(skewed):
    X, y = skewed
    mdn = MDNRegressor(input_transform=None, warm_start=True, **FAST).fit(X, y)
    before = mdn.predict(X)
    mdn.set_params(input_transform="yeo-johnson")
    with pytest.raises(ValueError, match="input_transform=None"):
        mdn.fit(X, y)
    assert_array_equal(mdn.predict(X), before)
    with pytest.raises(ValueError, match="input_transform"):
        MDNRegressor(input_transform="box-cox").fit(X, y)


def test_auto_transforms_only_the_markedly_skewed_features(skewed):
    X, y = skewed
    # Exponential (skewness 2), normal (about 0), constant.
    mdn = MDNRegressor(input_transform="auto", **FAST).fit(X, y)
    reference = PowerTransformer(standardize=False).fit(X[:, :1]).lambdas_
    assert_allclose(mdn.input_lambdas_[0], reference[0], rtol=1e-6)
    assert_array_equal(mdn.input_lambdas_[1:], [1.0, 1.0])
    every = MDNRegressor(input_transform="yeo-johnson", **FAST).fit(X, y)
    assert every.input_lambdas_[1] != 1.0
    # The same model as "yeo-johnson" with the normal feature left alone.
    Xt = X.copy()
    Xt[:, 0] = stats.yeojohnson(X[:, 0], lmbda=mdn.input_lambdas_[0])
    plain = MDNRegressor(input_transform=None, **FAST).fit(Xt, y)
    assert_allclose(mdn.score_samples(X, y), plain.score_samples(Xt, y), rtol=1e-5)


def test_auto_without_skewed_features_is_the_plain_model(skewed, tmp_path):
    X, y = skewed
    X = X[:, 1:]
    auto = MDNRegressor(**FAST).fit(X, y)  # the default
    assert_array_equal(auto.input_lambdas_, [1.0, 1.0])
    plain = MDNRegressor(input_transform=None, **FAST).fit(X, y)
    assert_array_equal(auto.predict(X), plain.predict(X))
    auto.save(tmp_path / "auto.skmdn")
    loaded = load(tmp_path / "auto.skmdn")
    assert loaded.input_transform == "auto"
    assert_array_equal(loaded.score_samples(X, y), auto.score_samples(X, y))


def test_auto_and_yeo_johnson_are_not_swapped_on_warm_start(skewed):
    X, y = skewed
    mdn = MDNRegressor(input_transform="auto", warm_start=True, **FAST).fit(X, y)
    before = mdn.predict(X)
    mdn.set_params(input_transform="yeo-johnson")
    with pytest.raises(ValueError, match="input_transform='auto'"):
        mdn.fit(X, y)
    assert_array_equal(mdn.predict(X), before)
    mdn.set_params(input_transform="auto").fit(X, y)
    assert mdn.n_iter_ > 0
