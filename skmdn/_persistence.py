"""Saving fitted models in a format that runs no code when it is loaded.

A model file is a zip archive with two kinds of members:

- ``skmdn-model.json``: the format name and version, the skmdn, torch and
  scikit-learn versions that wrote it, the estimator's class and
  parameters, and its fitted attributes (standardization, sizes, feature
  names, training summary) as plain JSON;
- ``network-<i>.pt``: the weights of each network, a ``state_dict`` of
  tensors written by ``torch.save`` and read back with
  ``torch.load(weights_only=True)``, which refuses anything but tensors and
  plain containers (a pickled object put there is never executed).

Unlike pickle, loading builds the estimator from its class (one of a fixed
list) and its parameters, and only then fills in numbers.
"""

from __future__ import annotations

import copy
import io
import json
import math
import warnings
import zipfile

import numpy as np
import sklearn
import torch

FORMAT = "skmdn-model"
FORMAT_VERSION = 1
MANIFEST = "skmdn-model.json"

# Fitted attributes of an MDNRegressor, as arrays or scalars.
_ARRAYS = ("x_mean_", "x_scale_", "y_mean_", "y_scale_")
_SCALARS = ("n_features_in_", "n_outputs_", "n_iter_", "best_epoch_")
_OPTIONAL = ("best_validation_nll_", "n_init_", "batch_size_", "patience_")
_ENSEMBLE_OPTIONAL = ("best_epoch_", "best_validation_nll_")
# Parameters that are not data: training-time objects, not saved.
_NOT_SAVED = {"callbacks": None}


def save(estimator, path) -> None:
    """Write a fitted ``MDNRegressor`` or ``MDNEnsembleRegressor`` to ``path``."""
    manifest, weights = describe(estimator)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1, allow_nan=False))
        for i, state in enumerate(weights):
            buffer = io.BytesIO()
            torch.save(state, buffer)
            archive.writestr(f"network-{i}.pt", buffer.getvalue())


def load(path):
    """Read a model written by ``save``; see :func:`skmdn.load`."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not an skmdn model file: {exc}") from exc
    with archive:
        try:
            raw = archive.read(MANIFEST)
        except KeyError:
            raise ValueError(
                f"{path} is not an skmdn model file: it has no {MANIFEST}."
            ) from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ValueError(f"{path} is damaged: {exc}") from exc
        try:
            manifest = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} has a damaged {MANIFEST}: {exc}") from exc
        _check_manifest(manifest, path)
        return _build(manifest["model"], lambda i: _read_weights(archive, i), path)


def describe(estimator):
    """The manifest (plain JSON data) and the networks' weights (CPU tensors)."""
    from sklearn.utils.validation import check_is_fitted

    from . import __version__

    check_is_fitted(estimator)
    networks = []
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": {
            "skmdn": __version__,
            "torch": torch.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "model": _describe(estimator, networks),
    }
    weights = [
        {k: v.detach().cpu() for k, v in module.state_dict().items()}
        for module in networks
    ]
    return manifest, weights


# ------------------------------------------------------------------- skops
# skops.io (and anything else that persists an object through
# ``__getstate__`` / ``__setstate__``) gets this state: the manifest as plain
# data and the weights as NumPy arrays, so that loading trusts skmdn's
# estimator classes only and never unpickles. Pickle keeps the whole object
# (``BaseMixtureRegressor.__reduce_ex__``).
PORTABLE_KEY = "__skmdn_model__"


def portable_state(estimator):
    """The estimator as plain data and NumPy arrays (see ``from_portable_state``)."""
    manifest, weights = describe(estimator)
    arrays = [{k: v.numpy() for k, v in state.items()} for state in weights]
    return {PORTABLE_KEY: manifest, "weights": arrays}


def is_portable_state(state):
    return isinstance(state, dict) and PORTABLE_KEY in state


def from_portable_state(state):
    """Rebuild the estimator that ``portable_state`` described."""
    where = "the skmdn model state"
    manifest = state[PORTABLE_KEY]
    _check_manifest(manifest, where)
    weights = state.get("weights")
    if not isinstance(weights, list):
        raise ValueError(f"{where} has no list of weights.")

    def read(i):
        if not 0 <= i < len(weights) or not isinstance(weights[i], dict):
            raise ValueError(f"it has no weights for network {i}")
        tensors = {}
        for name, value in weights[i].items():
            if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
                raise ValueError(f"weight {name!r} of network {i} is not an array")
            tensors[name] = torch.from_numpy(np.array(value))
        return tensors

    return _build(manifest["model"], read, where)


# --------------------------------------------------------------------- save
def _describe(estimator, networks):
    from ._ensemble import MDNEnsembleRegressor
    from ._regressor import MDNRegressor

    if isinstance(estimator, MDNEnsembleRegressor):
        if not all(isinstance(m, MDNRegressor) for m in estimator.estimators_):
            raise TypeError(
                "only ensembles of MDNRegressor can be saved in the skmdn format; "
                "use pickle or joblib for others."
            )
        return {
            "class": "MDNEnsembleRegressor",
            "params": {
                "n_estimators": estimator.n_estimators,
                "early_stopping": estimator.early_stopping,
                "n_jobs": estimator.n_jobs,
                "random_state": _plain_seed(estimator.random_state),
            },
            "estimator": None
            if estimator.estimator is None
            else _params(estimator.estimator),
            "fitted": {
                **_common_fitted(estimator),
                **{
                    name: _plain(getattr(estimator, name, None))
                    for name in _ENSEMBLE_OPTIONAL
                },
            },
            "members": [_describe(m, networks) for m in estimator.estimators_],
        }
    if type(estimator) is not MDNRegressor:
        raise TypeError(
            f"{type(estimator).__name__} cannot be saved in the skmdn format."
        )
    fitted = _common_fitted(estimator)
    for name in _ARRAYS:
        fitted[name] = np.asarray(getattr(estimator, name)).tolist()
    for name in _SCALARS + _OPTIONAL:
        value = getattr(estimator, name, None)
        fitted[name] = None if value is None else _plain(value)
    lambdas = getattr(estimator, "input_lambdas_", None)
    fitted["input_lambdas_"] = None if lambdas is None else lambdas.tolist()
    shares = getattr(estimator, "restart_weights_", None)
    fitted["restart_weights_"] = None if shares is None else shares.tolist()
    module = estimator.net_.module_
    kept = getattr(module, "networks", None)
    if kept is None:
        fitted["network"] = len(networks)
        networks.append(module)
    else:
        # Stacked restarts: one weights file per kept network.
        fitted["network"] = list(range(len(networks), len(networks) + len(kept)))
        networks.extend(kept)
    return {"class": "MDNRegressor", "params": _params(estimator), "fitted": fitted}


def _common_fitted(estimator):
    fitted = {
        "n_features_in_": int(estimator.n_features_in_),
        "n_outputs_": int(estimator.n_outputs_),
    }
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        fitted["feature_names_in_"] = [str(n) for n in names]
    return fitted


def _params(estimator):
    params = estimator.get_params(deep=False)
    for name, value in _NOT_SAVED.items():
        params[name] = value
    params["random_state"] = _plain_seed(params["random_state"])
    params["device"] = str(params["device"])
    if not isinstance(params["hidden_layer_sizes"], int):
        params["hidden_layer_sizes"] = [int(s) for s in params["hidden_layer_sizes"]]
    return {k: _plain(v) for k, v in params.items()}


def _plain_seed(random_state):
    # A RandomState instance cannot be written as data; its draws are spent.
    if isinstance(random_state, (int, np.integer)) and not isinstance(
        random_state, bool
    ):
        return int(random_state)
    return None


def _plain(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


# --------------------------------------------------------------------- load
def _check_manifest(manifest, path):
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not an skmdn model file.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"{path} has an invalid format_version {version!r}.")
    if version > FORMAT_VERSION:
        written = manifest.get("versions", {}).get("skmdn", "a newer skmdn")
        raise ValueError(
            f"{path} was written by skmdn {written} in model format {version}; "
            f"this skmdn reads format {FORMAT_VERSION} and older. Upgrade skmdn."
        )


def _build(model, read_weights, path):
    from ._ensemble import MDNEnsembleRegressor
    from ._regressor import MDNRegressor

    if not isinstance(model, dict):
        raise ValueError(f"{path}: the model description is not an object.")
    kind = model.get("class")
    try:
        if kind == "MDNRegressor":
            return _build_regressor(model, read_weights)
        if kind == "MDNEnsembleRegressor":
            estimator = model["estimator"]
            base = (
                None
                if estimator is None
                else MDNRegressor(**_restore_params(estimator))
            )
            # Files from before the ensemble's early_stopping hold ensembles
            # whose members were stopped one by one.
            params = {"early_stopping": "members", **model["params"]}
            ensemble = MDNEnsembleRegressor(base, **params)
            ensemble._validate_params()
            ensemble.estimators_ = [
                _build_regressor(member, read_weights) for member in model["members"]
            ]
            _set_common(ensemble, model["fitted"])
            for name in _ENSEMBLE_OPTIONAL:
                setattr(ensemble, name, model["fitted"].get(name))
            return ensemble
    except ValueError as exc:
        raise ValueError(f"{path} is not a valid skmdn model: {exc}") from exc
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"{path} is not a valid skmdn model: missing or malformed {exc}."
        ) from exc
    raise ValueError(f"{path} holds an unknown estimator class {kind!r}.")


def _restore_params(params):
    """Parameters as the estimator had them (JSON keeps tuples as lists)."""
    params = dict(params)
    # Files from before input_transform (whose default is now "auto") hold
    # models that only standardize their inputs.
    params.setdefault("input_transform", None)
    # Files from before n_init (now "auto") hold a single network's model,
    # and files from before restarts kept the best restart.
    params.setdefault("n_init", 1)
    params.setdefault("restarts", "best")
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    return params


def _set_common(estimator, fitted):
    estimator.n_features_in_ = int(fitted["n_features_in_"])
    estimator.n_outputs_ = int(fitted["n_outputs_"])
    if "feature_names_in_" in fitted:
        names = np.asarray(fitted["feature_names_in_"], dtype=object)
        if names.shape != (estimator.n_features_in_,):
            raise ValueError("feature_names_in_ does not match n_features_in_")
        estimator.feature_names_in_ = names


def _build_regressor(model, read_weights):
    from ._regressor import MDNRegressor
    from ._skorch import build_net, select_member
    from ._stacked import MixtureOfNetworks

    if model.get("class") != "MDNRegressor":
        raise ValueError(f"an ensemble member is a {model.get('class')!r}")
    mdn = MDNRegressor(**_restore_params(model["params"]))
    mdn._validate_params()
    fitted = model["fitted"]
    _set_common(mdn, fitted)
    d, p = mdn.n_outputs_, mdn.n_features_in_
    for name in _ARRAYS:
        value = np.asarray(fitted[name], dtype=np.float64)
        expected = (p,) if name.startswith("x") else (d,)
        if value.shape != expected or not np.all(np.isfinite(value)):
            raise ValueError(f"{name} must be {expected} finite numbers")
        if name.endswith("scale_") and not np.all(value > 0):
            raise ValueError(f"{name} must be positive")
        setattr(mdn, name, value)
    for name in _SCALARS:
        setattr(mdn, name, int(fitted[name]))
    # Files from before input_transform hold models without one.
    lambdas = fitted.get("input_lambdas_")
    if lambdas is not None:
        lambdas = np.asarray(lambdas, dtype=np.float64)
        if lambdas.shape != (p,) or not np.all(np.isfinite(lambdas)):
            raise ValueError(f"input_lambdas_ must be {(p,)} finite numbers")
    if (lambdas is None) != (mdn.input_transform is None):
        raise ValueError("input_lambdas_ does not match input_transform")
    mdn.input_lambdas_ = lambdas
    mdn._fitted_input_transform = mdn.input_transform
    for name in _OPTIONAL:
        value = fitted.get(name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name} must be finite")
        setattr(mdn, name, value)
    if mdn.n_init_ is None and mdn.n_init != "auto":
        # Files from before n_init_ was recorded: n_init was an int then.
        mdn.n_init_ = mdn.n_init
    # The net is built as fit builds it, on the CPU, and only holds the
    # saved network: it is not trained again, so any resolved schedule does.
    params = mdn.get_params(deep=False)
    params["batch_size"], params["patience"] = mdn._resolve_schedule(1000)
    net = build_net(
        params,
        n_features=p,
        n_outputs=d,
        hidden_layer_sizes=mdn._check_hidden_layer_sizes(),
        seeds=[0],
        valid_ds=None,
    )
    net.set_params(device="cpu")
    net.initialize()
    indices = fitted["network"]
    several = isinstance(indices, list)
    indices = indices if several else [indices]
    shares = _restart_weights(fitted.get("restart_weights_"), mdn.n_init_)
    mdn.restart_weights_ = shares
    if several and (shares is None or np.count_nonzero(shares) != len(indices)):
        raise ValueError(
            "restart_weights_ must give a positive weight to each of the "
            f"{len(indices)} saved networks"
        )
    template = net.module_.network
    networks = []
    for i in indices:
        network = copy.deepcopy(template)
        try:
            network.load_state_dict(read_weights(int(i)))
        except RuntimeError as exc:  # missing, unexpected or misshapen tensors
            raise ValueError(f"the weights do not fit the network: {exc}") from None
        networks.append(network)
    net.module_.network = networks[0]
    select_member(net, 0)
    if several:
        net.module_ = MixtureOfNetworks(networks, shares[shares > 0])
    net.module_.eval()
    mdn.net_ = net
    return mdn


def _restart_weights(value, n_init):
    """``restart_weights_`` as saved (``None`` in files from before it)."""
    if value is None:
        return None
    shares = np.asarray(value, dtype=np.float64)
    if (
        shares.ndim != 1
        or (n_init is not None and len(shares) != n_init)
        or not np.all(np.isfinite(shares))
        or np.any(shares < 0)
        or not np.isclose(shares.sum(), 1.0)
    ):
        raise ValueError(
            "restart_weights_ must be n_init_ non-negative numbers summing to 1"
        )
    return shares


def _read_weights(archive, i):
    name = f"network-{i}.pt"
    try:
        raw = archive.read(name)
    except KeyError:
        raise ValueError(f"it has no {name}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{name} is damaged: {exc}") from exc
    try:
        with warnings.catch_warnings():
            # torch warns about the pickle protocol of files it then refuses.
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, ...
        raise ValueError(
            f"{name} is not a plain file of tensors (refused without running "
            f"it): {type(exc).__name__}"
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ValueError(f"{name} is not a state_dict of tensors")
    return state
