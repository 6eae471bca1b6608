"""The assignments' datasets: shapes, the course's draws, NumPy's global state untouched."""

from __future__ import annotations

import numpy as np
import pytest

import pyneural as pn


def course_planar():
    """The course's load_planar_dataset, transcribed (it seeds the global RNG)."""
    np.random.seed(1)
    m, N, a = 400, 200, 4
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1), dtype="uint8")
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
        r = a * np.sin(4 * t) + np.random.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T


def test_planar_matches_course_and_leaves_global_rng_alone():
    state = np.random.get_state()
    X, Y = pn.datasets.planar()
    after = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(state[1:2], after[1:2])) and state[2] == after[2]
    Xc, Yc = course_planar()
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(Y, Yc)


def test_moons_and_circles_match_scikit_learn():
    sklearn = pytest.importorskip("sklearn.datasets")
    X, Y = pn.datasets.moons()
    np.random.seed(3)
    x, y = sklearn.make_moons(n_samples=300, noise=0.2)
    np.testing.assert_array_equal(X, x.T)
    np.testing.assert_array_equal(Y, y.reshape(1, -1))
    Xtr, Ytr, Xte, Yte = pn.datasets.circles()
    np.random.seed(1)
    x, y = sklearn.make_circles(n_samples=300, noise=0.05)
    np.random.seed(2)
    x2, y2 = sklearn.make_circles(n_samples=100, noise=0.05)
    np.testing.assert_array_equal(Xtr, x.T)
    np.testing.assert_array_equal(Ytr, y.reshape(1, -1))
    np.testing.assert_array_equal(Xte, x2.T)
    np.testing.assert_array_equal(Yte, y2.reshape(1, -1))
    assert Xtr.shape == (2, 300) and Xte.shape == (2, 100)


@pytest.mark.parametrize("bad", [0, -5, 1.5, "300", True])
def test_dataset_sizes_are_checked(bad):
    with pytest.raises((TypeError, ValueError), match="n_samples"):
        pn.datasets.moons(n_samples=bad)
