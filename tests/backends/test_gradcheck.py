"""Finite-difference gradient checks (float64) of every backward kernel on every backend.

Each kernel's output is compared with central differences of a scalar objective built
from the same backend's forward kernels, using the course's relative difference
``||g - g_num|| / (||g|| + ||g_num||) < 1e-7``.
"""

from __future__ import annotations

import numpy as np
import pytest
import pyneural_backend_test_helpers as H

from pyneural.backends import contract

F64 = np.float64
ALPHA = 0.05


def _away_from_kink(rng, shape, scale=1.5):
    Z = rng.normal(0.0, scale, size=shape)
    return np.where(np.abs(Z) < 0.05, np.copysign(0.05, Z) + Z, Z)  # |Z| > 1e-3 everywhere


def _forward(backend, Z, act):
    A = np.empty_like(Z)
    backend.activation_forward(Z, A, contract.ACTIVATIONS[act], ALPHA)
    return A


@pytest.mark.parametrize("shape", [(4, 5), (1, 3), (10, 2)], ids=H.shape_id)
@pytest.mark.parametrize("act", list(contract.ACTIVATIONS))
def test_activation_backward(backend, rng, act, shape):
    Z = _away_from_kink(rng, shape)
    dA = rng.normal(size=shape)
    A = _forward(backend, Z, act)
    dZ = np.full(shape, np.nan)
    backend.activation_backward(dA, Z, A, dZ, contract.ACTIVATIONS[act], ALPHA)
    numeric = H.numeric_grad(lambda: float(np.sum(dA * _forward(backend, Z, act))), Z)
    if act == "softmax" and shape[0] == 1:  # a single class: A == 1 whatever Z, so no gradient
        np.testing.assert_array_equal(numeric, 0.0)
        np.testing.assert_allclose(dZ, 0.0, atol=1e-15)
        return
    H.assert_grad_close(dZ, numeric, f"{act} backward")


@pytest.mark.parametrize("lambd", [0.0, 0.8])
@pytest.mark.parametrize("dims", [(3, 4, 5), (1, 2, 1), (5, 1, 3)], ids=H.shape_id)
def test_linear_backward(backend, rng, dims, lambd):
    """J = (1/m) sum(G * (W A_prev + b)) + (lambd / 2m) sum(W^2) has
    dJ/dW = G A_prev^T / m + (lambd/m) W = dW, dJ/db = sum_j G / m = db and
    dJ/dA_prev = W^T G / m = dA_prev / m, the kernel's outputs for dZ = G."""
    n, k, m = dims
    W = rng.normal(size=(n, k))
    A_prev = rng.normal(size=(k, m))
    b = rng.normal(size=(n, 1))
    G = rng.normal(size=(n, m))

    def objective():
        Z = np.empty((n, m))
        A = np.empty((n, m))
        backend.linear_forward(W, A_prev, b, Z, A, contract.ACT_IDENTITY, 0.0)
        return float(np.sum(G * Z)) / m + lambd / (2 * m) * backend.sum_squares(W)

    dW = np.full((n, k), np.nan)
    db = np.full((n, 1), np.nan)
    dA_prev = np.full((k, m), np.nan)
    backend.linear_backward(G, A_prev, W, dW, db, dA_prev, lambd)
    H.assert_grad_close(dW, H.numeric_grad(objective, W), "dW")
    H.assert_grad_close(db, H.numeric_grad(objective, b), "db")
    H.assert_grad_close(dA_prev, m * H.numeric_grad(objective, A_prev), "dA_prev")


def _delta(backend, AL, Y):
    dZ = np.full(AL.shape, np.nan)
    backend.output_delta(AL, Y, dZ)
    return dZ


@pytest.mark.parametrize("soft", [False, True], ids=["binary", "soft"])
def test_output_delta_bce(backend, rng, soft):
    """d/dZ bce_cost(sigmoid(Z), Y) = sigmoid(Z) - Y."""
    Z = rng.normal(0.0, 2.0, size=(3, 7))
    Y = rng.uniform(size=Z.shape) if soft else (rng.uniform(size=Z.shape) < 0.5).astype(F64)
    numeric = H.numeric_grad(lambda: backend.bce_cost(_forward(backend, Z, "sigmoid"), Y), Z)
    H.assert_grad_close(_delta(backend, _forward(backend, Z, "sigmoid"), Y), numeric, "bce delta")


@pytest.mark.parametrize("shape", [(2, 5), (10, 4)], ids=H.shape_id)
def test_output_delta_softmax_ce(backend, rng, shape):
    """d/dZ softmax_ce_cost(softmax(Z), Y) = softmax(Z) - Y for one-hot Y."""
    Z = rng.normal(0.0, 2.0, size=shape)
    labels = rng.integers(0, shape[0], size=shape[1])
    Y = H.one_hot(labels, shape[0], F64)
    numeric = H.numeric_grad(lambda: backend.softmax_ce_cost(_forward(backend, Z, "softmax"), Y), Z)
    H.assert_grad_close(_delta(backend, _forward(backend, Z, "softmax"), Y), numeric, "softmax CE delta")


@pytest.mark.parametrize("shape", [(2, 5), (10, 4)], ids=H.shape_id)
def test_output_delta_labels_softmax_ce(backend, rng, shape):
    """d/dZ softmax_ce_labels_cost(softmax(Z), labels) = softmax(Z) - onehot(labels)."""
    Z = rng.normal(0.0, 2.0, size=shape)
    labels = rng.integers(0, shape[0], size=shape[1]).astype(np.int64)
    numeric = H.numeric_grad(lambda: backend.softmax_ce_labels_cost(_forward(backend, Z, "softmax"), labels), Z)
    dZ = np.full(shape, np.nan)
    backend.output_delta_labels(_forward(backend, Z, "softmax"), labels, dZ)
    H.assert_grad_close(dZ, numeric, "softmax CE labels delta")


def test_output_delta_half_mse(backend, rng):
    """d/dZ 0.5 * mse_cost(Z, Y) = Z - Y (identity output)."""
    Z = rng.normal(size=(2, 6))
    Y = rng.normal(size=(2, 6))
    numeric = H.numeric_grad(lambda: 0.5 * backend.mse_cost(_forward(backend, Z, "identity"), Y), Z)
    H.assert_grad_close(_delta(backend, Z, Y), numeric, "half-MSE delta")


def test_sum_squares_gradient(backend, rng):
    """d/dW sum_squares(W) = 2 W: the L2 term's cost and gradient agree."""
    W = rng.normal(size=(3, 4))
    H.assert_grad_close(2 * W, H.numeric_grad(lambda: backend.sum_squares(W), W), "sum_squares")


def test_dropout_apply_gradient(backend, rng):
    """dropout_apply is linear: d/dA sum(G * apply(A)) = apply(G) with the same mask."""
    A = rng.normal(size=(4, 6))
    G = rng.normal(size=(4, 6))
    mask = (rng.uniform(size=A.shape) < 0.6).astype(np.uint8)

    def objective():
        out = np.empty_like(A)
        backend.dropout_apply(A, mask, out, 0.6)
        return float(np.sum(G * out))

    analytic = np.empty_like(G)
    backend.dropout_apply(G, mask, analytic, 0.6)
    H.assert_grad_close(analytic, H.numeric_grad(objective, A), "dropout_apply")
