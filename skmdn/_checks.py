"""Argument checks and numerical constants shared across skmdn.

The distributions, the estimators, ``datasets`` and ``metrics`` validate
their arguments with these functions, so one kind of bad input gets one
message wherever it is passed.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils import check_random_state

LOG_2PI = math.log(2.0 * math.pi)
LOG_SQRT_2PI = 0.5 * LOG_2PI
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
EPS = float(np.finfo(np.float64).eps)


def check_integer(value, name: str, minimum: int = 1) -> int:
    """An integer of at least ``minimum``, or a ValueError naming ``name``."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        raise ValueError(f"{name} must be {kind}; got {value!r}.")
    return int(value)


def check_n_samples(n_samples) -> int:
    """A positive number of samples or draws, or a ValueError naming it."""
    return check_integer(n_samples, "n_samples")


def check_rng(random_state):
    """A NumPy ``Generator`` as it is; anything else as ``check_random_state``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return check_random_state(random_state)


def check_probability(q: ArrayLike, name: str) -> NDArray:
    """An array of probabilities in [0, 1], or a ValueError naming ``name``."""
    arr = as_float_array(q, name, copy=False)
    bad = ~((arr >= 0.0) & (arr <= 1.0))
    if np.any(bad):
        raise ValueError(
            f"{name} must contain probabilities in [0, 1]; got invalid values "
            f"{np.unique(arr[bad])[:5].tolist()}."
        )
    return arr


def check_level(value: float, name: str) -> float:
    """A float in the open interval (0, 1), such as a coverage."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{name} must be a float in the open interval (0, 1); got {value!r}."
        )
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in the open interval (0, 1); got {value!r}.")
    return value


def check_no_nan(arr: NDArray, name: str) -> None:
    """Raise a ValueError naming ``name`` if ``arr`` has a NaN."""
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN.")


def as_float_array(value: ArrayLike, name: str, copy: bool = True) -> NDArray:
    """A float64 array of ``value`` (a copy unless ``copy=False``), or a
    ValueError naming ``name``."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from exc
    if np.iscomplexobj(arr):
        # NumPy would silently keep the real part.
        raise ValueError(f"{name} must be real; got complex values.")
    try:
        if copy:
            return np.array(arr, dtype=np.float64)
        return np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from exc


# Tolerance on each row's weight sum (weights are renormalised afterwards).
WEIGHT_SUM_TOL = 1e-6


def check_weights(w: NDArray) -> NDArray:
    """Check that each row of ``w`` is a probability vector; renormalize it."""
    if np.any(w < 0):
        raise ValueError(f"weights must be non-negative; got minimum {w.min()!r}.")
    sums = w.sum(axis=1)
    off = np.abs(sums - 1.0) > WEIGHT_SUM_TOL
    if np.any(off):
        rows = np.flatnonzero(off)
        raise ValueError(
            f"each row of weights must sum to 1 (within {WEIGHT_SUM_TOL}); "
            f"{rows.size} row(s) do not, e.g. row {rows[0]} sums to "
            f"{sums[rows[0]]!r}."
        )
    return w / sums[:, None]


def check_finite(arrays: dict[str, NDArray]) -> None:
    """Raise a ValueError naming the first array with a NaN or an infinity."""
    for name, arr in arrays.items():
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values.")


def as_points(
    values: ArrayLike, n: int, name: str, n_outputs: int | None = None
) -> tuple[NDArray, bool]:
    """Apply the shape rule of the distributions' point arguments.

    For a one-dimensional distribution (``n_outputs=None``) the points are a
    scalar, ``(n,)`` or ``(n, m)``; the result is ``(n, m)``.  For ``d``
    outputs they are ``(d,)``, ``(n, d)`` or ``(n, m, d)``; the result is
    ``(n, m, d)``.  A single point (or one per row) gives ``m = 1`` and
    ``squeeze=True``: the caller drops that axis again.
    """
    arr = as_float_array(values, name, copy=False)
    event = () if n_outputs is None else (n_outputs,)
    core = arr.shape[: arr.ndim - len(event)]
    if arr.shape[len(core) :] == event:
        if core == ():
            return np.broadcast_to(arr, (n, 1) + event), True
        if core == (n,):
            return arr[:, None], True
        if len(core) == 2 and core[0] == n:
            return arr, False
    if n_outputs is None:
        raise ValueError(
            f"{name} must be a scalar, an array of shape ({n},) (one value per "
            f"row) or an array of shape ({n}, m) (m values per row) for a "
            f"distribution with {n} rows; got an array of shape {arr.shape}."
        )
    d = n_outputs
    raise ValueError(
        f"{name} must have shape ({d},) (one point for every row), ({n}, {d}) "
        f"(one point per row) or ({n}, m, {d}) (m points per row) for a "
        f"distribution with {n} rows and {d} outputs; got an array of shape "
        f"{arr.shape}."
    )


def check_sample_weights(sample_weight, n_samples: int) -> NDArray:
    """Finite, non-negative weights of ``n_samples`` rows, not all zero.

    A scalar is the same weight for every row; a column ``(n, 1)`` is read
    as ``(n,)``.
    """
    sw = as_float_array(sample_weight, "sample_weight", copy=False)
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.ndim == 2 and sw.shape[1] == 1:
        sw = sw[:, 0]
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        entries = sw.shape[0] if sw.ndim == 1 else sw.size
        raise ValueError(
            f"sample_weight has {entries} entries but there are {n_samples} "
            f"samples: it must have shape ({n_samples},); got shape {sw.shape}."
        )
    if not np.all(np.isfinite(sw)):
        raise ValueError(
            "sample_weight contains NaN or infinite values; weights must be finite."
        )
    if np.any(sw < 0):
        raise ValueError(
            f"sample_weight must be non-negative; got minimum {sw.min()!r}."
        )
    if not np.any(sw > 0):
        raise ValueError(
            "sample_weight must have at least one positive value; all are zero."
        )
    return sw
