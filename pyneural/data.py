"""Data preparation with examples as columns: splits, input normalisation, one-hot labels.

    >>> from pyneural.data import train_dev_test_split, Normalizer, one_hot
    >>> X_tr, Y_tr, X_dev, Y_dev, X_te, Y_te = train_dev_test_split(X, Y, dev=0.1, test=0.1)
    >>> norm = Normalizer().fit(X_tr)                 # statistics of the TRAINING set only
    >>> X_tr, X_dev = norm.transform(X_tr), norm.transform(X_dev)
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import as_float, as_labels, check_finite, check_number
from .functional.minibatches import random_mini_batches

__all__ = ["Normalizer", "NotFittedError", "one_hot", "random_mini_batches", "train_dev_test_split"]


class NotFittedError(ValueError, AttributeError):
    """Raised when a transformer is used before ``fit`` (a ``ValueError``, as scikit-learn's)."""


def _count(value, name: str, m: int) -> int:
    """A split size: a fraction in [0, 1) of ``m`` (rounded half up) or an absolute int."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a fraction in [0, 1) or a number of examples, got {value!r}")
    if isinstance(value, (int, np.integer)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0 examples, got {value}")
        return int(value)
    v = check_number(value, name, minimum=0.0)
    if v >= 1.0:
        # 1.0 is ambiguous (all examples or one?): ask for an int count instead
        raise ValueError(f"{name} as a fraction must be in [0, 1), got {value!r} (pass an int for a count)")
    return int(math.floor(v * m + 0.5))


def train_dev_test_split(X, Y, dev=0.1, test=0.1, seed=0, shuffle=True):
    """Split the examples (columns) into training, dev and test sets.

    Parameters
    ----------
    X : array of shape (n_x, m)
        Examples as columns; any dtype, kept as it is (splitting does not convert).
    Y : array of shape (n_y, m) or (m,)
        Labels; each part keeps Y's layout.
    dev, test : float in [0, 1) or int >= 0
        Size of the dev and test sets: a fraction of ``m`` (rounded to the nearest example,
        halves up) or a number of examples. The training set gets the rest and must not be empty.
    seed : int, numpy.random.Generator or RandomState
        With an int the column order is ``RandomState(seed).permutation(m)``, as in
        ``random_mini_batches``.
    shuffle : bool
        If False the columns stay in order: train first, then dev, then test (useful for
        time-ordered data); the parts are then views of X and Y.

    Returns
    -------
    X_train, Y_train, X_dev, Y_dev, X_test, Y_test
        The notes (M02) ask for dev and test from the same distribution: shuffling both from
        one pool does that.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (n_features, m), got shape {X.shape}")
    m = X.shape[1]
    Y = np.asarray(Y)
    if Y.ndim not in (1, 2) or Y.shape[-1] != m:
        raise ValueError(f"Y must have shape (n_y, {m}) or ({m},) to match X of shape {X.shape}, got {Y.shape}")
    n_dev, n_test = _count(dev, "dev", m), _count(test, "test", m)
    n_train = m - n_dev - n_test
    if n_train < 1:
        raise ValueError(
            f"dev ({n_dev}) and test ({n_test}) leave no training examples out of m = {m}"
        )
    if shuffle:
        if isinstance(seed, (np.random.Generator, np.random.RandomState)):
            order = seed.permutation(m)
        else:
            order = np.random.RandomState(seed).permutation(m)
    else:
        order = np.arange(m)
    parts = (order[:n_train], order[n_train : n_train + n_dev], order[n_train + n_dev :])
    out = []
    for idx in parts:
        # basic slices (views) when not shuffled; fancy indexing (copies) otherwise
        sel = slice(int(idx[0]), int(idx[-1]) + 1) if (not shuffle and idx.size) else idx
        out.append(X[:, sel])
        out.append(Y[..., sel])
    return tuple(out)


class Normalizer:
    """Input normalisation (notes R14): per feature, subtract the mean and divide by the
    standard deviation, both computed over the training examples (axis 1).

    ``fit`` computes μ = (1/m) Σ x⁽ⁱ⁾ and σ² = (1/m) Σ (x⁽ⁱ⁾ − μ)² (the notes' ERR-13 fixed:
    μ has the 1/m, and σ² is taken after centring). ``transform`` gives
    (X − μ)/√(σ² + ε) in X's float dtype. Reuse the same fitted object for dev and test data
    (never refit on them). A constant feature gives 0 after transform (with ``epsilon=0`` it is
    only centred, not divided by 0).

    Attributes
    ----------
    mean_, var_ : float64 arrays of shape (n_features, 1)
    """

    def __init__(self, epsilon: float = 1e-8):
        self.epsilon = check_number(epsilon, "epsilon", minimum=0.0)
        self.mean_: np.ndarray | None = None
        self.var_: np.ndarray | None = None

    def __repr__(self) -> str:
        fitted = "unfitted" if self.mean_ is None else f"n_features={self.mean_.shape[0]}"
        return f"Normalizer(epsilon={self.epsilon!r}, {fitted})"

    def fit(self, X) -> Normalizer:
        X = as_float(X, "X")
        if X.shape[1] < 1:
            raise ValueError(f"X must hold at least one example (column), got shape {X.shape}")
        check_finite(X, "X")
        # statistics in float64 even for float32 data: sums over many examples lose digits
        self.mean_ = X.mean(axis=1, keepdims=True, dtype=np.float64)
        self.var_ = ((X - self.mean_) ** 2).mean(axis=1, keepdims=True)
        return self

    def _scale(self) -> np.ndarray:
        s = np.sqrt(self.var_ + self.epsilon)
        return np.where(s > 0, s, 1.0)

    def _check(self, X, name: str) -> np.ndarray:
        if self.mean_ is None:
            raise NotFittedError("this Normalizer is not fitted yet: call fit(X_train) first")
        X = as_float(X, name)
        n = self.mean_.shape[0]
        if X.shape[0] != n:
            raise ValueError(
                f"{name} must have {n} rows (features), as the data given to fit; got shape {X.shape}"
            )
        return X

    def transform(self, X) -> np.ndarray:
        X = self._check(X, "X")
        dt = X.dtype
        return (X - self.mean_.astype(dt)) / self._scale().astype(dt)

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X) -> np.ndarray:
        X = self._check(X, "X")
        dt = X.dtype
        return X * self._scale().astype(dt) + self.mean_.astype(dt)

    def get_state(self) -> dict:
        """Plain arrays (``mean``, ``var``, ``epsilon``) that ``np.savez`` can store without pickle."""
        if self.mean_ is None:
            raise NotFittedError("this Normalizer is not fitted yet: nothing to save")
        return {"mean": self.mean_.copy(), "var": self.var_.copy(), "epsilon": np.array(self.epsilon)}

    @classmethod
    def from_state(cls, state) -> Normalizer:
        """Rebuild from ``get_state()`` output (or a loaded ``np.load`` archive)."""
        try:
            mean, var = state["mean"], state["var"]
        except (KeyError, TypeError) as exc:
            raise TypeError(f"state must be a mapping with keys 'mean' and 'var', got {state!r:.80}") from exc
        eps = state["epsilon"] if "epsilon" in state else 1e-8
        obj = cls(epsilon=float(np.asarray(eps)))
        mean = as_float(mean, "state['mean']", ndim=None).astype(np.float64).reshape(-1, 1)
        var = as_float(var, "state['var']", ndim=None).astype(np.float64).reshape(-1, 1)
        if mean.shape != var.shape:
            raise ValueError(
                f"state['mean'] and state['var'] must have the same size, got {mean.shape} and {var.shape}"
            )
        check_finite(mean, "state['mean']")
        check_finite(var, "state['var']")
        if (var < 0).any():
            raise ValueError("state['var'] must be >= 0")
        obj.mean_, obj.var_ = mean, var
        return obj


def _int_labels(y, name: str) -> np.ndarray:
    """Non-negative whole-number labels of shape (m,) or (1, m) as a 1-D int64 array."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be integer labels of shape (m,) or (1, m), got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        check_finite(arr, name)
        if not np.all(arr == np.round(arr)):
            raise ValueError(
                f"{name} must hold whole-number class labels (threshold probabilities first, "
                f"e.g. (A > 0.5) for a sigmoid output)"
            )
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must hold class labels >= 0, got minimum {arr.min()}")
    return arr


def one_hot(labels, n_classes=None) -> np.ndarray:
    """(C, m) float64 one-hot matrix of integer labels of shape (m,) or (1, m).

    ``n_classes`` defaults to ``max(labels) + 1``. Column ``i`` has a 1 in row ``labels[i]``
    (the course's ``convert_to_one_hot``).
    """
    arr = _int_labels(labels, "labels")
    m = arr.shape[0]
    if n_classes is None:
        if m == 0:
            raise ValueError("n_classes must be given when labels is empty")
        n_classes = int(arr.max()) + 1
    else:
        if isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, (int, np.integer)):
            raise TypeError(f"n_classes must be a positive int, got {n_classes!r}")
        if n_classes < 1:
            raise ValueError(f"n_classes must be >= 1, got {n_classes}")
        arr = as_labels(arr, "labels", m, int(n_classes))
    out = np.zeros((int(n_classes), m), dtype=np.float64)
    out[arr, np.arange(m)] = 1.0
    return out
