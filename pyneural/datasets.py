"""The toy datasets of the course's assignments, generated exactly as the course's helper
files generate them (their draws, in their order), from a local ``RandomState``.

``moons`` and ``circles`` re-implement scikit-learn's ``make_moons`` / ``make_circles``
(shuffle with ``RandomState.shuffle`` of the indices, then Gaussian noise), so they need no
scikit-learn; the tests check them against scikit-learn when it is installed.
Each returns ``X`` of shape ``(2, m)`` and ``Y`` of shape ``(1, m)`` (float64 0/1 labels).
"""

from __future__ import annotations

import numpy as np

__all__ = ["circles", "moons", "planar"]


def _count(n, name):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {n!r}")
    if n < 2:
        raise ValueError(f"{name} must be >= 2, got {n}")
    return int(n)


def planar(m=400, seed=1):
    """The planar "flower" (``load_planar_dataset``): two classes of ``m/2`` points on the
    petals ``r = 4 sin(4t)``, after ``np.random.seed(1)``. Returns ``(X (2, m), Y (1, m))``."""
    m = _count(m, "m")
    rng = np.random.RandomState(seed)
    N = m // 2
    a = 4
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1))
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + rng.randn(N) * 0.2
        r = a * np.sin(4 * t) + rng.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T.copy(), Y.T.copy()


def _shuffle_and_noise(X, y, rng, noise):
    idx = np.arange(X.shape[0])
    rng.shuffle(idx)
    X, y = X[idx], y[idx]
    if noise is not None:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


def make_moons(n_samples, noise, rng):
    """scikit-learn's ``make_moons(n_samples, noise=noise, random_state=rng)``, samples-first."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer = np.linspace(0, np.pi, n_out)
    inner = np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [np.append(np.cos(outer), 1 - np.cos(inner)), np.append(np.sin(outer), 1 - np.sin(inner) - 0.5)]
    ).T
    y = np.hstack([np.zeros(n_out), np.ones(n_in)])
    return _shuffle_and_noise(X, y, rng, noise)


def make_circles(n_samples, noise, rng, factor=0.8):
    """scikit-learn's ``make_circles(n_samples, noise=noise, random_state=rng)``, samples-first."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    lin_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    lin_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack(
        [np.append(np.cos(lin_out), np.cos(lin_in) * factor), np.append(np.sin(lin_out), np.sin(lin_in) * factor)]
    ).T
    y = np.hstack([np.zeros(n_out), np.ones(n_in)])
    return _shuffle_and_noise(X, y, rng, noise)


def moons(n_samples=300, noise=0.2, seed=3):
    """The optimisation assignment's data: ``make_moons(300, noise=.2)`` after
    ``np.random.seed(3)``. Returns ``(X (2, m), Y (1, m))``."""
    n = _count(n_samples, "n_samples")
    X, y = make_moons(n, noise, np.random.RandomState(seed))
    return X.T.copy(), y.reshape(1, -1)


def circles(n_train=300, n_test=100, noise=0.05, seeds=(1, 2)):
    """The initialisation assignment's data: train ``make_circles(300, noise=.05)`` after
    seed 1, test ``make_circles(100, noise=.05)`` after seed 2.
    Returns ``(train_X, train_Y, test_X, test_Y)``."""
    n_train, n_test = _count(n_train, "n_train"), _count(n_test, "n_test")
    Xtr, ytr = make_circles(n_train, noise, np.random.RandomState(seeds[0]))
    Xte, yte = make_circles(n_test, noise, np.random.RandomState(seeds[1]))
    return Xtr.T.copy(), ytr.reshape(1, -1), Xte.T.copy(), yte.reshape(1, -1)
