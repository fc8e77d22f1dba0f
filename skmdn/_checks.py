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


def check_n_samples(n_samples) -> int:
    """A positive number of samples or draws, or a ValueError naming it."""
    if (
        isinstance(n_samples, (bool, np.bool_))
        or not isinstance(n_samples, numbers.Integral)
        or n_samples < 1
    ):
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
    return int(n_samples)


def check_rng(random_state):
    """A NumPy ``Generator`` as it is; anything else as ``check_random_state``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return check_random_state(random_state)


def check_probability(q: ArrayLike, name: str) -> NDArray:
    """An array of probabilities in [0, 1], or a ValueError naming ``name``."""
    arr = np.asarray(q, dtype=float)
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


def as_float_array(value: ArrayLike, name: str) -> NDArray:
    """A float64 copy of ``value``, or a ValueError naming ``name``."""
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from exc
