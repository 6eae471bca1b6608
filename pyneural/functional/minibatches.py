"""The course's ``random_mini_batches``: shuffle the columns, full batches, then the rest."""

from __future__ import annotations

import math

import numpy as np

from .._validation import as_float

__all__ = ["random_mini_batches"]


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """List of ``(mini_batch_X, mini_batch_Y)`` after one shuffle by
    ``RandomState(seed).permutation(m)`` (the course's ``np.random.seed(seed)``, without
    touching NumPy's global state): ``⌊m/size⌋`` full batches, then the remainder."""
    X = as_float(X, "X")
    Y = np.asarray(Y)
    m = X.shape[1]
    if Y.ndim == 1:
        Y = Y.reshape(1, -1)
    if Y.ndim != 2 or Y.shape[1] != m:
        raise ValueError(f"Y must have shape (n_y, {m}) to match X of shape {X.shape}, got {Y.shape}")
    if isinstance(mini_batch_size, (bool, np.bool_)) or not isinstance(mini_batch_size, (int, np.integer)):
        raise TypeError(f"mini_batch_size must be a positive int, got {mini_batch_size!r}")
    if mini_batch_size < 1:
        raise ValueError(f"mini_batch_size must be >= 1, got {mini_batch_size}")
    permutation = list(np.random.RandomState(seed).permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation]
    batches = []
    full = math.floor(m / mini_batch_size)
    for k in range(full):
        sl = slice(k * mini_batch_size, (k + 1) * mini_batch_size)
        batches.append((shuffled_X[:, sl], shuffled_Y[:, sl]))
    if m % mini_batch_size != 0:
        batches.append((shuffled_X[:, full * mini_batch_size : m], shuffled_Y[:, full * mini_batch_size : m]))
    return batches
