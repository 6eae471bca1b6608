"""pyneural.data: splits, the notes' input normalisation (R14, ERR-13), one-hot labels."""

from __future__ import annotations

import numpy as np
import pytest

from pyneural import data
from pyneural import functional as F


def test_random_mini_batches_is_the_functional_one():
    assert data.random_mini_batches is F.random_mini_batches


# --- train_dev_test_split ----------------------------------------------------------------


def _xy(m=50, n=3):
    X = np.arange(n * m, dtype=np.float64).reshape(n, m)
    Y = np.arange(m)  # the label of column j is j, so columns can be traced
    return X, Y


def test_split_sizes_disjoint_and_complete():
    X, Y = _xy(50)
    Xtr, Ytr, Xd, Yd, Xte, Yte = data.train_dev_test_split(X, Y, dev=0.1, test=0.2, seed=1)
    assert (Xtr.shape, Xd.shape, Xte.shape) == ((3, 35), (3, 5), (3, 10))
    assert (Ytr.shape, Yd.shape, Yte.shape) == ((35,), (5,), (10,))
    ids = np.concatenate([Ytr, Yd, Yte])
    assert sorted(ids) == list(range(50))  # disjoint and nothing lost
    for Xp, Yp in ((Xtr, Ytr), (Xd, Yd), (Xte, Yte)):
        np.testing.assert_array_equal(Xp, X[:, Yp])  # X and Y columns stay paired


def test_split_uses_randomstate_permutation_and_is_seeded():
    X, Y = _xy(20)
    a = data.train_dev_test_split(X, Y, dev=4, test=4, seed=7)
    b = data.train_dev_test_split(X, Y, dev=4, test=4, seed=7)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    perm = np.random.RandomState(7).permutation(20)
    np.testing.assert_array_equal(np.concatenate([a[1], a[3], a[5]]), perm)
    c = data.train_dev_test_split(X, Y, dev=4, test=4, seed=np.random.default_rng(7))
    assert sorted(np.concatenate([c[1], c[3], c[5]])) == list(range(20))


def test_split_absolute_counts_2d_labels_and_no_shuffle():
    X, _ = _xy(10)
    Y = np.arange(10).reshape(1, 10)
    Xtr, Ytr, Xd, Yd, Xte, Yte = data.train_dev_test_split(X, Y, dev=2, test=3, shuffle=False)
    np.testing.assert_array_equal(Ytr, [[0, 1, 2, 3, 4]])
    np.testing.assert_array_equal(Yd, [[5, 6]])
    np.testing.assert_array_equal(Yte, [[7, 8, 9]])
    assert np.shares_memory(Xtr, X)  # views when not shuffled


def test_split_fraction_rounding_and_empty_parts():
    X, Y = _xy(30)
    out = data.train_dev_test_split(X, Y, dev=0.1, test=0.0)  # 0.1 * 30 is 3.0000000000000004
    assert [a.shape[1] if a.ndim == 2 else a.shape[0] for a in out] == [27, 27, 3, 3, 0, 0]


@pytest.mark.parametrize(
    "kw, exc, word",
    [
        ({"dev": 1.0}, ValueError, "dev"),
        ({"test": -0.1}, ValueError, "test"),
        ({"dev": -1}, ValueError, "dev"),
        ({"dev": True}, TypeError, "dev"),
        ({"dev": "a"}, TypeError, "dev"),
        ({"dev": 0.5, "test": 0.5}, ValueError, "no training"),
    ],
)
def test_split_rejects_bad_sizes(kw, exc, word):
    X, Y = _xy(10)
    with pytest.raises(exc, match=word):
        data.train_dev_test_split(X, Y, **kw)


def test_split_rejects_mismatched_shapes():
    X, Y = _xy(10)
    with pytest.raises(ValueError, match=r"Y must have shape \(n_y, 10\)"):
        data.train_dev_test_split(X, Y[:9])
    with pytest.raises(ValueError, match="X must be a 2-D"):
        data.train_dev_test_split(X[0], Y)


# --- Normalizer -----------------------------------------------------------------------


def test_normalizer_hand_example():
    # feature 0: 1, 2, 3 -> mean 2, var (1 + 0 + 1)/3 = 2/3; feature 1: 10, 10, 40 -> 20, 200
    X = np.array([[1.0, 2.0, 3.0], [10.0, 10.0, 40.0]])
    norm = data.Normalizer(epsilon=0.0).fit(X)
    np.testing.assert_allclose(norm.mean_, [[2.0], [20.0]])
    np.testing.assert_allclose(norm.var_, [[2 / 3], [200.0]])
    assert norm.mean_.shape == norm.var_.shape == (2, 1)
    Z = norm.transform(X)
    s0, s1 = np.sqrt(2 / 3), np.sqrt(200.0)
    np.testing.assert_allclose(Z, [[-1 / s0, 0, 1 / s0], [-10 / s1, -10 / s1, 20 / s1]])
    np.testing.assert_allclose(Z.mean(axis=1), 0, atol=1e-15)
    np.testing.assert_allclose(Z.var(axis=1), 1)


def test_normalizer_epsilon_and_train_statistics_reused_on_dev():
    X_train = np.array([[0.0, 2.0, 4.0, 6.0]])  # mean 3, var 5
    X_dev = np.array([[3.0, 8.0]])
    norm = data.Normalizer(epsilon=1e-2).fit(X_train)
    np.testing.assert_allclose(norm.transform(X_dev), [[0.0, 5.0 / np.sqrt(5.01)]])
    # the dev data's own statistics are not used
    assert norm.mean_[0, 0] == 3.0
    np.testing.assert_allclose(norm.inverse_transform(norm.transform(X_dev)), X_dev)


def test_normalizer_dtype_and_constant_feature():
    X = np.array([[1, 2, 3, 4], [5, 5, 5, 5]], dtype=np.float32)
    norm = data.Normalizer()
    Z = norm.fit_transform(X)
    assert Z.dtype == np.float32 and norm.mean_.dtype == np.float64
    np.testing.assert_array_equal(Z[1], 0)
    Z0 = data.Normalizer(epsilon=0.0).fit_transform(X)  # no division by zero
    assert np.isfinite(Z0).all()
    assert data.Normalizer().fit_transform(np.array([[1, 3]])).dtype == np.float64  # ints -> float64


def test_normalizer_state_round_trip(tmp_path):
    X = np.random.default_rng(0).normal(3.0, 2.0, size=(4, 30))
    norm = data.Normalizer(epsilon=1e-5).fit(X)
    state = norm.get_state()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    np.savez(tmp_path / "n.npz", **state)
    with np.load(tmp_path / "n.npz", allow_pickle=False) as loaded:
        again = data.Normalizer.from_state(loaded)
    assert again.epsilon == 1e-5
    np.testing.assert_array_equal(again.transform(X), norm.transform(X))


def test_normalizer_errors():
    norm = data.Normalizer()
    with pytest.raises(data.NotFittedError, match="fit"):
        norm.transform(np.ones((2, 3)))
    with pytest.raises(ValueError, match="not fitted"):  # NotFittedError is a ValueError
        norm.get_state()
    norm.fit(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"X must have 2 rows \(features\).*\(3, 5\)"):
        norm.transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match="epsilon"):
        data.Normalizer(epsilon=-1.0)
    with pytest.raises(ValueError, match="NaN"):
        data.Normalizer().fit(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="2-D"):
        data.Normalizer().fit(np.ones(3))
    with pytest.raises(ValueError, match="same size"):
        data.Normalizer.from_state({"mean": np.zeros(2), "var": np.ones(3)})
    with pytest.raises(TypeError, match="'mean' and 'var'"):
        data.Normalizer.from_state({"mean": np.zeros(2)})


# --- one_hot ----------------------------------------------------------------------------


def test_one_hot():
    out = data.one_hot(np.array([[1, 2, 3, 0, 2, 1]]), n_classes=4)  # the course's example
    expected = np.array(
        [[0, 0, 0, 1, 0, 0], [1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0]], dtype=float
    )
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(data.one_hot([2, 0]), [[0, 1], [0, 0], [1, 0]])  # C inferred
    np.testing.assert_array_equal(data.one_hot(np.array([1.0, 0.0])), [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    "labels, n, exc, word",
    [
        ([0, 3], 3, ValueError, r"\[0, 3\)"),
        ([-1, 0], None, ValueError, ">= 0"),
        ([0.5, 1], None, ValueError, "whole-number"),
        (["a"], None, TypeError, "integer"),
        (np.zeros((2, 2)), None, ValueError, "shape"),
        ([0, 1], 0, ValueError, "n_classes"),
        ([0, 1], 2.0, TypeError, "n_classes"),
        ([], None, ValueError, "n_classes"),
    ],
)
def test_one_hot_errors(labels, n, exc, word):
    with pytest.raises(exc, match=word):
        data.one_hot(labels, n)
