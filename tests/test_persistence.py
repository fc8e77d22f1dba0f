"""Saving and loading models in skmdn's safe format."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

import skmdn
from skmdn import MDNEnsembleRegressor, MDNRegressor, load
from skmdn._persistence import MANIFEST

from ._data import noisy_line

FAST = dict(n_components=2, hidden_layer_sizes=(6, 5), max_epochs=8, random_state=0)


@pytest.fixture(scope="module")
def data():
    return noisy_line(150)


@pytest.fixture(scope="module")
def saved(data, tmp_path_factory):
    X, y = data
    mdn = MDNRegressor(**FAST).fit(X, y)
    path = tmp_path_factory.mktemp("models") / "model.skmdn"
    mdn.save(path)
    return mdn, path


def _every_prediction(model, X, y):
    return [
        model.predict(X),
        *model.predict(X, return_std=True),
        model.score_samples(X, y),
        model.predict_quantiles(X, [0.1, 0.9]),
        model.sample(X, 3, random_state=0),
    ]


def test_round_trip_predicts_bit_identically(saved, data):
    mdn, path = saved
    X, y = data
    loaded = load(path)
    assert type(loaded) is MDNRegressor
    for a, b in zip(_every_prediction(mdn, X, y), _every_prediction(loaded, X, y)):
        assert_array_equal(a, b)
    assert loaded.get_params() == {**mdn.get_params(), "callbacks": None}
    for name in ("n_features_in_", "n_outputs_", "n_iter_", "best_epoch_"):
        assert getattr(loaded, name) == getattr(mdn, name)
    assert loaded.best_validation_nll_ == mdn.best_validation_nll_
    assert_array_equal(loaded.y_scale_, mdn.y_scale_)


def test_multi_output_full_covariance_and_feature_names(tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(120, 2)), columns=["a", "b"])
    Y = np.column_stack([X["a"], X["a"] + X["b"]]) + 0.1 * rng.normal(size=(120, 2))
    mdn = MDNRegressor(covariance_type="full", **FAST).fit(X, Y)
    mdn.save(tmp_path / "m.skmdn")
    loaded = load(tmp_path / "m.skmdn")
    assert list(loaded.feature_names_in_) == ["a", "b"]
    assert_array_equal(loaded.score_samples(X, Y), mdn.score_samples(X, Y))


def test_ensemble_round_trip(data, tmp_path):
    X, y = data
    ens = MDNEnsembleRegressor(
        MDNRegressor(**FAST), n_estimators=2, early_stopping="ensemble", random_state=0
    )
    ens.fit(X, y)
    ens.save(tmp_path / "e.skmdn")
    loaded = load(tmp_path / "e.skmdn")
    assert type(loaded) is MDNEnsembleRegressor and len(loaded.estimators_) == 2
    assert_array_equal(loaded.score_samples(X, y), ens.score_samples(X, y))
    assert loaded.estimator.get_params()["hidden_layer_sizes"] == (6, 5)
    assert loaded.get_params(deep=False) == {
        **ens.get_params(deep=False),
        "estimator": loaded.estimator,
    }
    assert loaded.best_epoch_ == ens.best_epoch_ > 0
    assert loaded.best_validation_nll_ == ens.best_validation_nll_


def test_ensemble_file_from_before_early_stopping_loads_as_members(data, tmp_path):
    # Ensembles saved before early_stopping existed had members stopped one
    # by one, and load as such.
    X, y = data
    ens = MDNEnsembleRegressor(MDNRegressor(**FAST), n_estimators=2, random_state=0)
    ens.fit(X, y).save(tmp_path / "e.skmdn")

    def older(manifest):
        del manifest["model"]["params"]["early_stopping"]
        for name in ("best_epoch_", "best_validation_nll_"):
            del manifest["model"]["fitted"][name]
        return manifest

    _rewrite(tmp_path / "e.skmdn", tmp_path / "old.skmdn", older)
    loaded = load(tmp_path / "old.skmdn")
    assert loaded.early_stopping == "members"
    assert loaded.best_epoch_ is None and loaded.best_validation_nll_ is None
    assert_array_equal(loaded.score_samples(X, y), ens.score_samples(X, y))


def test_file_from_before_input_transform_loads_without_one(data, tmp_path):
    # Models saved before input_transform (now "auto" by default) only
    # standardized their inputs, and load as such.
    X, y = data
    mdn = MDNRegressor(input_transform=None, **FAST).fit(X, y)
    mdn.save(tmp_path / "m.skmdn")

    src, old = tmp_path / "m.skmdn", tmp_path / "old.skmdn"
    loaded = load(_older(src, old, ["input_transform"], ["input_lambdas_"]))
    assert loaded.input_transform is None and loaded.input_lambdas_ is None
    assert_array_equal(loaded.score_samples(X, y), mdn.score_samples(X, y))


def test_restarts_used_are_saved_and_old_files_take_their_n_init(data, tmp_path):
    X, y = data
    mdn = MDNRegressor(**FAST, restarts="best").fit(X, y)
    assert mdn.n_init == "auto" and mdn.n_init_ == 5
    mdn.save(tmp_path / "m.skmdn")
    loaded = load(tmp_path / "m.skmdn")
    assert loaded.n_init == "auto" and loaded.n_init_ == 5

    # Files from before n_init_ was saved had an int n_init (and kept the
    # best restart, without restart_weights_).
    new = ["restart_weights_"]
    old = _older(
        tmp_path / "m.skmdn",
        tmp_path / "old.skmdn",
        ["restarts"],
        ["n_init_", *new],
        n_init=1,
    )
    assert load(old).n_init_ == 1
    # Files from before n_init hold one network.
    oldest = tmp_path / "oldest.skmdn"
    older = load(
        _older(tmp_path / "m.skmdn", oldest, ["n_init", "restarts"], ["n_init_", *new])
    )
    assert older.n_init == 1 and older.n_init_ == 1
    assert_array_equal(older.score_samples(X, y), mdn.score_samples(X, y))


def test_stacked_restarts_round_trip_and_tampered_weights_are_refused(data, tmp_path):
    X, y = data
    mdn = MDNRegressor(**{**FAST, "max_epochs": 15}, n_init=5).fit(X, y)
    kept = np.flatnonzero(mdn.restart_weights_)
    assert len(kept) > 1, "the test needs a model of several networks"
    path = tmp_path / "stacked.skmdn"
    mdn.save(path)
    with zipfile.ZipFile(path) as archive:
        names = {n for n in archive.namelist() if n.startswith("network-")}
    assert len(names) == len(kept)
    loaded = load(path)
    assert loaded.restarts == "stack"
    assert_array_equal(loaded.restart_weights_, mdn.restart_weights_)
    assert len(loaded.net_.module_.networks) == len(kept)
    for a, b in zip(_every_prediction(mdn, X, y), _every_prediction(loaded, X, y)):
        assert_array_equal(a, b)
    # A loaded model continues its networks on a warm start.
    loaded.set_params(warm_start=True, max_epochs=2).fit(X, y)
    assert loaded.n_init_ == len(kept)

    def weights(value):
        def edit(m):
            fitted = {**m["model"]["fitted"], "restart_weights_": value}
            return {**m, "model": {**m["model"], "fitted": fitted}}

        return edit

    one = np.eye(5)[kept[0]].tolist()
    for i, (value, match) in enumerate(
        [
            ([0.5, 0.6, -0.1, 0.0, 0.0], "restart_weights_ must be"),
            ([0.5, 0.5], "restart_weights_ must be"),
            ([1.0, float("nan"), 0.0, 0.0, 0.0], "restart_weights_ must be"),
            (one, "a positive weight to each of the"),
            (None, "a positive weight to each of the"),
        ]
    ):
        bad = _rewrite(path, tmp_path / f"bad{i}.skmdn", manifest=weights(value))
        with pytest.raises(ValueError, match=match):
            load(bad)


def test_file_from_before_restarts_loads_as_keeping_the_best(data, tmp_path):
    X, y = data
    mdn = MDNRegressor(**FAST, n_init=3, restarts="best").fit(X, y)
    mdn.save(tmp_path / "m.skmdn")
    path = tmp_path / "old.skmdn"
    old = load(_older(tmp_path / "m.skmdn", path, ["restarts"], ["restart_weights_"]))
    assert old.restarts == "best" and old.restart_weights_ is None
    assert_array_equal(old.score_samples(X, y), mdn.score_samples(X, y))


def test_unfitted_model_cannot_be_saved(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MDNRegressor().save(tmp_path / "x.skmdn")


def _older(path, out, params=(), fitted=(), **set_params):
    """Copy a model file without some of its parameters and fitted values
    (as files written before they existed), or with other parameters."""

    def edit(manifest):
        model = manifest["model"]
        for name in params:
            del model["params"][name]
        for name in fitted:
            del model["fitted"][name]
        model["params"].update(set_params)
        return manifest

    return _rewrite(path, out, edit)


def _rewrite(path, out, manifest=None, members=None):
    """Copy a model file, replacing its manifest or some members."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == MANIFEST and manifest is not None:
                data = json.dumps(manifest(json.loads(data))).encode()
            if members and name in members:
                data = members[name]
            dst.writestr(name, data)
    return out


def test_garbage_truncated_and_foreign_files_are_clear_errors(saved, tmp_path):
    _, path = saved
    garbage = tmp_path / "garbage.skmdn"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="not an skmdn model file"):
        load(garbage)
    truncated = tmp_path / "truncated.skmdn"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="not an skmdn model file|damaged"):
        load(truncated)
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="has no skmdn-model.json"):
        load(foreign)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.skmdn")


def test_newer_format_and_tampered_contents_are_refused(saved, tmp_path):
    _, path = saved

    def newer(m):
        return {**m, "format_version": 99}

    with pytest.raises(ValueError, match="model format 99.*Upgrade skmdn"):
        load(_rewrite(path, tmp_path / "newer.skmdn", manifest=newer))

    def other_class(m):
        return {**m, "model": {**m["model"], "class": "os.system"}}

    with pytest.raises(ValueError, match="unknown estimator class 'os.system'"):
        load(_rewrite(path, tmp_path / "cls.skmdn", manifest=other_class))

    def bad_scale(m):
        fitted = {**m["model"]["fitted"], "y_scale_": [-1.0]}
        return {**m, "model": {**m["model"], "fitted": fitted}}

    with pytest.raises(ValueError, match="y_scale_ must be positive"):
        load(_rewrite(path, tmp_path / "scale.skmdn", manifest=bad_scale))

    def bad_param(m):
        params = {**m["model"]["params"], "n_components": -3}
        return {**m, "model": {**m["model"], "params": params}}

    with pytest.raises(ValueError, match="n_components"):
        load(_rewrite(path, tmp_path / "param.skmdn", manifest=bad_param))

    wrong = io.BytesIO()
    torch.save({"head.weight": torch.zeros(3, 3)}, wrong)
    members = {"network-0.pt": wrong.getvalue()}
    with pytest.raises(ValueError, match="do not fit the network"):
        load(_rewrite(path, tmp_path / "weights.skmdn", members=members))


class _Payload:
    """Pickles to a call that would create a file if it were run."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


def test_a_crafted_pickle_in_place_of_the_weights_is_never_run(saved, tmp_path):
    _, path = saved
    target = tmp_path / "pwned"
    members = {"network-0.pt": pickle.dumps({"head.weight": _Payload(target)})}
    with pytest.raises(ValueError, match="not a plain file of tensors"):
        load(_rewrite(path, tmp_path / "evil.skmdn", members=members))
    torch_pickle = io.BytesIO()
    torch.save({"head.weight": _Payload(target)}, torch_pickle)
    members = {"network-0.pt": torch_pickle.getvalue()}
    with pytest.raises(ValueError, match="not a plain file of tensors"):
        load(_rewrite(path, tmp_path / "evil2.skmdn", members=members))
    assert not target.exists()


def test_load_is_public():
    assert skmdn.load is load
    assert "load" in skmdn.__all__


def test_a_model_for_cuda_loads_and_predicts_on_the_cpu(saved, data, tmp_path):
    mdn, _ = saved
    X, y = data
    cuda_model = pickle.loads(pickle.dumps(mdn)).set_params(device="cuda")
    cuda_model.save(tmp_path / "cuda.skmdn")
    loaded = load(tmp_path / "cuda.skmdn")
    assert loaded.device == "cuda"
    assert next(loaded.net_.module_.parameters()).device.type == "cpu"
    assert_array_equal(loaded.score_samples(X, y), mdn.score_samples(X, y))


# ---------------------------------------------------------------- skops.io
# The types a user trusts to load an skmdn model with skops (documented in
# docs/estimator.md, "Saving and loading").
SKOPS_TRUSTED = [
    "skmdn._regressor.MDNRegressor",
    "skmdn._ensemble.MDNEnsembleRegressor",
]


def test_skops_round_trip_trusts_only_skmdn_classes(saved, data, tmp_path):
    sio = pytest.importorskip("skops.io")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mdn, _ = saved
    X, y = data
    sio.dump(mdn, tmp_path / "m.skops")
    assert sio.get_untrusted_types(file=tmp_path / "m.skops") == [SKOPS_TRUSTED[0]]
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(tmp_path / "m.skops")
    loaded = sio.load(tmp_path / "m.skops", trusted=SKOPS_TRUSTED)
    for a, b in zip(_every_prediction(mdn, X, y), _every_prediction(loaded, X, y)):
        assert_array_equal(a, b)
    assert loaded.best_validation_nll_ == mdn.best_validation_nll_

    # Inside a pipeline, and as bytes.
    pipe = make_pipeline(StandardScaler(), MDNRegressor(**FAST)).fit(X, y)
    blob = sio.dumps(pipe)
    assert sio.get_untrusted_types(data=blob) == [SKOPS_TRUSTED[0]]
    assert_array_equal(
        sio.loads(blob, trusted=SKOPS_TRUSTED).predict(X), pipe.predict(X)
    )


def test_skops_ensemble_and_multi_output(data, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = data
    ens = MDNEnsembleRegressor(MDNRegressor(**FAST), n_estimators=2, random_state=0)
    ens.fit(X, y)
    blob = sio.dumps(ens)
    assert sio.get_untrusted_types(data=blob) == [SKOPS_TRUSTED[1]]
    loaded = sio.loads(blob, trusted=SKOPS_TRUSTED)
    assert_array_equal(loaded.score_samples(X, y), ens.score_samples(X, y))

    Y = np.column_stack([y, y + X[:, 1]])
    mdn = MDNRegressor(covariance_type="full", **FAST).fit(X, Y)
    loaded = sio.loads(sio.dumps(mdn), trusted=SKOPS_TRUSTED)
    assert_array_equal(loaded.score_samples(X, Y), mdn.score_samples(X, Y))


def test_skops_file_with_tampered_weights_is_a_clear_error(saved):
    from skmdn._persistence import portable_state

    mdn, _ = saved
    state = portable_state(mdn)
    name = next(iter(state["weights"][0]))
    state["weights"][0][name] = "not an array"
    with pytest.raises(ValueError, match="is not an array"):
        MDNRegressor.__new__(MDNRegressor).__setstate__(state)
    state = portable_state(mdn)
    state["weights"][0][name] = state["weights"][0][name][:1]
    with pytest.raises(ValueError, match="do not fit the network"):
        MDNRegressor.__new__(MDNRegressor).__setstate__(state)
    state = portable_state(mdn)
    with pytest.raises(ValueError, match="not of a MDNEnsembleRegressor"):
        MDNEnsembleRegressor.__new__(MDNEnsembleRegressor).__setstate__(state)


def test_pickle_keeps_the_whole_object(saved, data):
    # Pickle and copy do not go through the portable state: the training
    # history and the callbacks survive.
    import copy

    mdn, _ = saved
    X, _ = data
    for clone in (pickle.loads(pickle.dumps(mdn)), copy.deepcopy(mdn)):
        assert len(clone.net_.history) == len(mdn.net_.history)
        assert_array_equal(clone.predict(X), mdn.predict(X))


def test_a_pickled_cuda_model_and_its_skops_state_load_on_the_cpu(saved, data):
    if torch.cuda.is_available():
        pytest.skip("tests the mapping to the CPU on a machine without CUDA")
    sio = pytest.importorskip("skops.io")
    mdn, _ = saved
    X, y = data
    cuda_model = pickle.loads(pickle.dumps(mdn))
    cuda_model.set_params(device="cuda")
    cuda_model.net_.device = "cuda"
    from skorch.exceptions import DeviceWarning

    with pytest.warns(DeviceWarning, match="(?i)cuda"):
        loaded = pickle.loads(pickle.dumps(cuda_model))
    assert str(loaded.net_.device) == "cpu"
    assert_array_equal(loaded.score_samples(X, y), mdn.score_samples(X, y))
    loaded = sio.loads(sio.dumps(cuda_model), trusted=SKOPS_TRUSTED)
    assert loaded.device == "cuda"
    assert_array_equal(loaded.score_samples(X, y), mdn.score_samples(X, y))
