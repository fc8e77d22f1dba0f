"""What the univariate and multivariate mixture distributions share."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import check_n_samples, check_rng


def _rebuild(cls, args, kwargs):
    """Unpickle through the non-validating constructor (see ``__reduce__``)."""
    return cls._from_validated(*args, **kwargs)


def read_only(*arrays: NDArray) -> None:
    """Make the arrays read-only."""
    for arr in arrays:
        arr.flags.writeable = False


class BaseMixtureDistribution:
    """A batch of Gaussian mixtures, one mixture per row.

    The base of :class:`~skmdn.MixtureDistribution` (one output) and
    :class:`~skmdn.MultivariateMixtureDistribution` (``n_outputs``
    outputs): rows, weights, row selection, component sampling, ``repr``
    and pickling.  Subclasses set ``weights`` and ``means`` (with the
    component axis second) and implement :meth:`_parameters` and
    :meth:`_from_validated`.

    Attributes
    ----------
    weights : ndarray of shape (n_rows, n_components)
        Read-only mixture weights; every row sums to 1.
    """

    weights: NDArray
    means: NDArray

    @classmethod
    def _from_validated(cls, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def _parameters(self) -> tuple[tuple, dict]:
        """``(args, kwargs)`` that rebuild this distribution through
        :meth:`_from_validated`; every array has the rows first."""
        raise NotImplementedError  # pragma: no cover - abstract

    @property
    def n_components(self) -> int:
        """Number of mixture components ``K``."""
        return self.weights.shape[1]

    @property
    def n_outputs(self) -> int:
        """Dimension ``d`` of the target (1 for a one-dimensional mixture)."""
        return 1 if self.means.ndim == 2 else self.means.shape[2]

    def __len__(self) -> int:
        return self.weights.shape[0]

    # ------------------------------------------------------------------ #
    # Row selection
    # ------------------------------------------------------------------ #
    def _row_key(self, key):
        """Check a row selector; return one that keeps NumPy indexing 2-D."""
        n = len(self)
        if isinstance(key, (bool, np.bool_)):
            raise TypeError(
                f"Cannot index a {type(self).__name__} with a boolean scalar."
            )
        if isinstance(key, numbers.Integral):
            i = int(key)
            if not -n <= i < n:
                raise IndexError(f"row index {i} is out of range for {n} rows.")
            return [i % n]
        if isinstance(key, slice):
            return key
        key = np.asarray(key)
        if key.dtype == bool:
            if key.shape != (n,):
                raise IndexError(
                    f"boolean mask must have shape ({n},); got shape {key.shape}."
                )
            return key
        if key.ndim != 1 or not (key.size == 0 or np.issubdtype(key.dtype, np.integer)):
            raise IndexError(
                "rows must be selected with an integer, a slice, a 1-D integer "
                f"array or a boolean mask; got an array of dtype {key.dtype} "
                f"and shape {key.shape}."
            )
        key = key.astype(np.intp)
        if key.size and (key.min() < -n or key.max() >= n):
            raise IndexError(f"row indices out of range for {n} rows.")
        return key

    def __getitem__(self, key: int | slice | ArrayLike):
        """Select rows.

        An integer gives a one-row distribution; a slice, an integer array or
        a boolean mask of length ``n_rows`` gives the selected rows.
        """
        key = self._row_key(key)
        args, kwargs = self._parameters()
        return type(self)._from_validated(
            *(a[key] for a in args),
            **{k: None if v is None else v[key] for k, v in kwargs.items()},
        )

    # ------------------------------------------------------------------ #
    # Sampling, repr, pickling
    # ------------------------------------------------------------------ #
    def _sample_components(self, n_samples: int, random_state):
        """Draw component indices ``(n_rows, n_samples)`` and return them
        with the generator, which then draws the noise."""
        n_samples = check_n_samples(n_samples)
        rng = check_rng(random_state)
        u = rng.random((len(self), n_samples))
        # Inverse-CDF choice of the component: draw u counts the cumulative
        # weights it reaches.  Dividing by the total makes the last one
        # exactly 1, so a zero weight (equal consecutive cumulative weights)
        # can never be chosen.
        cum = np.cumsum(self.weights, axis=1)
        cum /= cum[:, -1:]
        comp = np.zeros(u.shape, dtype=np.intp)
        for k in range(self.n_components - 1):
            comp += u >= cum[:, k, None]
        return comp, rng

    def __repr__(self) -> str:
        n, K = self.weights.shape
        extra = "" if self.means.ndim == 2 else f", n_outputs={self.n_outputs}"
        return f"{type(self).__name__}(n_rows={n}, n_components={K}{extra})"

    def __reduce__(self):
        # Rebuild through the non-validating constructor: the unpickled copy
        # gets its derived arrays and read-only parameters back, bit for bit
        # (the constructor would renormalise the weights once more).
        args, kwargs = self._parameters()
        return (_rebuild, (type(self), args, kwargs))
