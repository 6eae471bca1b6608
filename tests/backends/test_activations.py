"""activation_forward / activation_backward against the NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
import pyneural_backend_test_helpers as H
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pyneural.backends import contract
from pyneural.backends import reference as ref

ACTS = list(contract.ACTIVATIONS)
SHAPES = [(1, 1), (1, 13), (13, 1), (2, 50), (7, 13), (10, 1), (10, 33), (37, 129)]
# Large enough for the parallel and column-blocked paths of the compiled backends.
LARGE_SHAPES = [(10, 7001), (300, 257)]
LAYOUT_SHAPES = [(7, 13), (1, 5), (6, 1)]
LARGE_LAYOUTS = ["F", "strided", "mixed"]
ALPHA = 0.01


def _forward_bound(act, A_ref, dtype):
    if act == "softmax":
        n = A_ref.shape[0]
        return (2 * n + 8) * H.eps(dtype) * np.abs(A_ref) + H.tiny(dtype)
    return H.elem_bound(A_ref, dtype)


def _backward_bound(act, dZ_ref, dA, A, dtype):
    dA = dA.astype(np.float64)
    A = A.astype(np.float64)
    if act == "tanh":  # 1 - A*A cancels when |A| ~ 1: the error scales with A*A, not with 1 - A*A
        return H.rtol(dtype) * (np.abs(dZ_ref) + np.abs(dA) * A * A) + H.tiny(dtype)
    if act == "softmax":  # A * (dA - sum_k dA_k A_k): a column reduction, then a cancellation
        n = A.shape[0]
        col = np.abs(dA * A).sum(axis=0, keepdims=True)
        return (2 * n + 8) * H.eps(dtype) * np.abs(A) * (np.abs(dA) + col) + H.tiny(dtype)
    return H.elem_bound(dZ_ref, dtype)


def _check_forward(backend, dtype, Z, act, layout, alpha=ALPHA):
    code = contract.ACTIVATIONS[act]
    shape = Z.shape
    _, want = H.call_op(ref, "activation_forward", {"Z": Z}, {"A": (shape, dtype)}, {"act": code, "alpha": alpha})
    ret, got = H.call_op(
        backend, "activation_forward", {"Z": Z}, {"A": (shape, dtype)}, {"act": code, "alpha": alpha}, layout
    )
    assert ret is None
    H.assert_within(got["A"], want["A"], _forward_bound(act, want["A"], dtype), f"{act} forward {layout}")
    return got["A"], want["A"]


def _check_backward(backend, dtype, rng, Z, act, layout, alpha=ALPHA):
    code = contract.ACTIVATIONS[act]
    shape = Z.shape
    A = np.empty(shape, dtype)
    ref.activation_forward(Z, A, code, alpha)
    dA = rng.normal(size=shape).astype(dtype)
    inputs = {"dA": dA, "Z": Z, "A": A}
    scalars = {"act": code, "alpha": alpha}
    _, want = H.call_op(ref, "activation_backward", inputs, {"dZ": (shape, dtype)}, scalars)
    ret, got = H.call_op(backend, "activation_backward", inputs, {"dZ": (shape, dtype)}, scalars, layout)
    assert ret is None
    H.assert_within(got["dZ"], want["dZ"], _backward_bound(act, want["dZ"], dA, A, dtype), f"{act} backward {layout}")
    return got["dZ"]


@pytest.mark.parametrize("shape", SHAPES, ids=H.shape_id)
@pytest.mark.parametrize("act", ACTS)
def test_forward_matches_reference(backend, dtype, rng, act, shape):
    _check_forward(backend, dtype, H.random_z(rng, shape, dtype), act, "C")


@pytest.mark.parametrize("layout", H.LAYOUTS)
@pytest.mark.parametrize("shape", LAYOUT_SHAPES, ids=H.shape_id)
@pytest.mark.parametrize("act", ACTS)
def test_forward_layouts(backend, dtype, rng, act, shape, layout):
    _check_forward(backend, dtype, H.random_z(rng, shape, dtype), act, layout)


@pytest.mark.parametrize("shape", SHAPES, ids=H.shape_id)
@pytest.mark.parametrize("act", ACTS)
def test_backward_matches_reference(backend, dtype, rng, act, shape):
    _check_backward(backend, dtype, rng, H.random_z(rng, shape, dtype), act, "C")


@pytest.mark.parametrize("layout", H.LAYOUTS)
@pytest.mark.parametrize("shape", LAYOUT_SHAPES, ids=H.shape_id)
@pytest.mark.parametrize("act", ACTS)
def test_backward_layouts(backend, dtype, rng, act, shape, layout):
    _check_backward(backend, dtype, rng, H.random_z(rng, shape, dtype), act, layout)


@pytest.mark.parametrize("layout", ["C", *LARGE_LAYOUTS])
@pytest.mark.parametrize("shape", LARGE_SHAPES, ids=H.shape_id)
@pytest.mark.parametrize("act", ACTS)
def test_large(backend, dtype, rng, act, shape, layout):
    Z = H.random_z(rng, shape, dtype)
    _check_forward(backend, dtype, Z, act, layout)
    _check_backward(backend, dtype, rng, Z, act, layout)


@pytest.mark.parametrize("alpha", [0.0, 0.2, 1.0, 3.0])
def test_leaky_relu_alpha(backend, dtype, rng, alpha):
    Z = H.random_z(rng, (5, 9), dtype)
    A, _ = _check_forward(backend, dtype, Z, "leaky_relu", "C", alpha=alpha)
    expected = np.where(Z > 0, Z, dtype(alpha) * Z)
    H.assert_within(A, expected, H.elem_bound(expected, dtype), "leaky_relu vs formula")
    _check_backward(backend, dtype, rng, Z, "leaky_relu", "C", alpha=alpha)


def test_relu_kink_is_zero(backend, dtype):
    """ReLU'(0) = 0 (the course's ``Z > 0`` mask), forward and backward, also for -0.0."""
    Z = np.array([[0.0, -0.0, 1.0, -1.0]], dtype)
    A = np.full(Z.shape, np.nan, dtype)
    backend.activation_forward(Z, A, contract.ACT_RELU, 0.0)
    np.testing.assert_array_equal(A, [[0.0, 0.0, 1.0, 0.0]])
    dA = np.full(Z.shape, 5.0, dtype)
    dZ = np.full(Z.shape, np.nan, dtype)
    backend.activation_backward(dA, Z, A, dZ, contract.ACT_RELU, 0.0)
    np.testing.assert_array_equal(dZ, [[0.0, 0.0, 5.0, 0.0]])
    backend.activation_backward(dA, Z, A, dZ, contract.ACT_LEAKY_RELU, 0.5)
    np.testing.assert_array_equal(dZ, [[2.5, 2.5, 5.0, 2.5]])


EXTREMES = np.array([-1e4, -1e3, -745.0, -120.0, -89.0, -30.0, -1e-30, 0.0, 1e-30, 30.0, 89.0, 120.0, 745.0, 1e3, 1e4])


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softmax"])
def test_extreme_inputs_stay_finite(backend, dtype, rng, act):
    cols = [EXTREMES, -EXTREMES, np.full(EXTREMES.size, 1e4), np.full(EXTREMES.size, -1e4), rng.permutation(EXTREMES)]
    cols += [np.r_[1e4, np.full(EXTREMES.size - 1, -1e4)]]
    Z = np.stack(cols, axis=1).astype(dtype)
    A, _ = _check_forward(backend, dtype, Z, act, "C")
    assert np.isfinite(A).all(), f"{act}: non-finite output for extreme inputs"
    if act == "sigmoid":
        assert ((A >= 0) & (A <= 1)).all()
        assert A[0, 0] == 0.0 and A[-1, 0] == 1.0
    elif act == "tanh":
        assert ((A >= -1) & (A <= 1)).all()
        assert A[0, 0] == -1.0 and A[-1, 0] == 1.0
    else:
        assert ((A >= 0) & (A <= 1)).all()
        sums = A.astype(np.float64).sum(axis=0)
        H.assert_within(sums, np.ones_like(sums), (Z.shape[0] + 4) * H.eps(dtype), "softmax column sums")
        np.testing.assert_allclose(A[:, 2], 1.0 / Z.shape[0], rtol=8 * H.eps(dtype))  # equal inputs
        assert A[0, 5] == pytest.approx(1.0, rel=4 * H.eps(dtype))
    dZ = _check_backward(backend, dtype, rng, Z, act, "C")
    assert np.isfinite(dZ).all()


@pytest.mark.parametrize("shape", [(2, 1), (2, 257), (10, 1), (10, 300)], ids=H.shape_id)
def test_softmax_columns_sum_to_one(backend, dtype, rng, shape):
    Z = rng.normal(0.0, 20.0, size=shape).astype(dtype)
    A, _ = _check_forward(backend, dtype, Z, "softmax", "C")
    sums = A.astype(np.float64).sum(axis=0)
    H.assert_within(sums, np.ones_like(sums), (shape[0] + 4) * H.eps(dtype), "softmax column sums")
    # The gradient through softmax of an upstream that is constant per column is zero.
    dA = np.broadcast_to(rng.normal(size=(1, shape[1])), shape).astype(dtype)
    dZ = np.full(shape, np.nan, dtype)
    backend.activation_backward(dA, Z, A, dZ, contract.ACT_SOFTMAX, 0.0)
    bound = 2 * (2 * shape[0] + 8) * H.eps(dtype) * np.abs(A) * np.abs(dA)
    H.assert_within(dZ, np.zeros(shape), bound, "softmax shift")


_z_arrays = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=7),
    elements=st.floats(-1e4, 1e4, allow_subnormal=False),
)


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(Z=_z_arrays)
def test_forward_backward_property(backend, Z):
    """Arbitrary finite inputs in [-1e4, 1e4], every activation, both dtypes."""
    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        Zd = Z.astype(dtype)
        for act in ACTS:
            A, _ = _check_forward(backend, dtype, Zd, act, "C")
            assert np.isfinite(A).all(), act
            dZ = _check_backward(backend, dtype, rng, Zd, act, "C")
            assert np.isfinite(dZ).all(), act
