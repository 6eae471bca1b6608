"""Costs (sums returned as Python floats) against the reference.

Bound: ``(8 eps(dtype) + N eps64) * sum_i M_i`` where ``M_i`` bounds the size of term ``i``
and of its rounding (``|y| (|log a| + 1)`` for a log term: a relative error ``d`` in ``a``
moves ``log a`` by ``d``); ``N eps64`` covers a float64 sum of ``N`` terms in any order.
"""

from __future__ import annotations

import numpy as np
import pytest
import pyneural_backend_test_helpers as H
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pyneural.backends import reference as ref

SHAPES = [(1, 1), (1, 13), (10, 1), (7, 13), (37, 129), (10, 7001)]


def _log_mag(x, dtype):
    return np.abs(np.log(np.maximum(x, H.tiny(dtype)))) + 1.0


def _bce_mag(AL, Y, dtype):
    a, y = AL.astype(np.float64), Y.astype(np.float64)
    return float(np.sum(np.abs(y) * _log_mag(a, dtype) + np.abs(1 - y) * _log_mag(1 - a, dtype)))


def _ce_mag(AL, Y, dtype):
    a, y = AL.astype(np.float64), Y.astype(np.float64)
    return float(np.sum(np.abs(y) * _log_mag(a, dtype)))


def _labels_mag(AL, labels, dtype):
    return float(np.sum(_log_mag(AL.astype(np.float64)[labels, np.arange(labels.size)], dtype)))


def _mse_mag(AL, Y, dtype):
    return float(np.sum((AL.astype(np.float64) - Y.astype(np.float64)) ** 2))


def _sq_mag(W, dtype):
    return float(np.sum(W.astype(np.float64) ** 2))


def _check(backend, name, inputs, magnitude, n_terms, dtype, layout):
    want, _ = H.call_op(ref, name, inputs, {}, {})
    got, _ = H.call_op(backend, name, inputs, {}, {}, layout)
    H.assert_cost_within(got, want, magnitude, n_terms, dtype, f"{backend.NAME}.{name} ({layout})")
    return got


def _softmax_cols(rng, shape, dtype, scale=2.0):
    Z = rng.normal(0.0, scale, size=shape)
    E = np.exp(Z - Z.max(axis=0))
    return (E / E.sum(axis=0)).astype(dtype)


def _probs(rng, shape, dtype):
    return rng.uniform(0.001, 0.999, size=shape).astype(dtype)


def _binary(rng, shape, dtype):
    Y = (rng.uniform(size=shape) < 0.5).astype(dtype)
    Y.reshape(-1)[1::4] = rng.uniform(size=Y.size)[1::4]  # soft labels are allowed too
    return Y


# ---------------------------------------------------------------- bce


def _bce_case(backend, dtype, AL, Y, layout="C"):
    return _check(backend, "bce_cost", {"AL": AL, "Y": Y}, _bce_mag(AL, Y, dtype), AL.size, dtype, layout)


@pytest.mark.parametrize("shape", SHAPES, ids=H.shape_id)
def test_bce_cost(backend, dtype, rng, shape):
    _bce_case(backend, dtype, _probs(rng, shape, dtype), _binary(rng, shape, dtype))


@pytest.mark.parametrize("layout", ["F", "strided"])
def test_costs_large_layouts(backend, dtype, rng, layout):
    shape = (10, 7001)
    AL, Y = _probs(rng, shape, dtype), _binary(rng, shape, dtype)
    _bce_case(backend, dtype, AL, Y, layout)
    _ce_case(backend, dtype, AL, Y, layout)
    _mse_case(backend, dtype, AL, Y, layout)
    _sq_case(backend, dtype, AL, layout)
    _labels_case(backend, dtype, AL, rng.integers(0, 10, size=shape[1]).astype(np.int64), layout)


@pytest.mark.parametrize("layout", H.LAYOUTS)
def test_bce_cost_layouts(backend, dtype, rng, layout):
    _bce_case(backend, dtype, _probs(rng, (7, 13), dtype), _binary(rng, (7, 13), dtype), layout)


def test_bce_cost_saturated_outputs_are_finite(backend, dtype):
    """a exactly 0 or 1 gives a large finite cost: -log(tiny) per wrong saturated term."""
    AL = np.array([[0.0, 1.0, 0.0, 1.0, 0.5, 1e-30]], dtype)
    Y = np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 0.0]], dtype)
    got = _bce_case(backend, dtype, AL, Y)
    expected = -2 * np.log(np.float64(np.finfo(dtype).tiny)) + np.log(2.0) + 1e-30
    assert got == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------- softmax CE


CE_SHAPES = [(2, 1), (2, 13), (10, 1), (10, 33), (37, 129), (10, 7001)]


def _ce_case(backend, dtype, AL, Y, layout="C"):
    return _check(backend, "softmax_ce_cost", {"AL": AL, "Y": Y}, _ce_mag(AL, Y, dtype), AL.size, dtype, layout)


@pytest.mark.parametrize("shape", CE_SHAPES, ids=H.shape_id)
def test_softmax_ce_cost(backend, dtype, rng, shape):
    labels = rng.integers(0, shape[0], size=shape[1])
    _ce_case(backend, dtype, _softmax_cols(rng, shape, dtype), H.one_hot(labels, shape[0], dtype))


@pytest.mark.parametrize("layout", H.LAYOUTS)
def test_softmax_ce_cost_layouts(backend, dtype, rng, layout):
    labels = rng.integers(0, 10, size=13)
    _ce_case(backend, dtype, _softmax_cols(rng, (10, 13), dtype), H.one_hot(labels, 10, dtype), layout)


def test_softmax_ce_cost_saturated_outputs_are_finite(backend, dtype):
    AL = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype)
    Y = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype)
    got = _ce_case(backend, dtype, AL, Y)
    # Only y != 0 terms count: -log(tiny) + 0 + 0.
    assert got == pytest.approx(-np.log(np.float64(np.finfo(dtype).tiny)), rel=1e-6)


# ---------------------------------------------------------------- softmax CE with labels


def _labels_case(backend, dtype, AL, labels, layout="C"):
    inputs = {"AL": AL, "labels": labels}
    return _check(backend, "softmax_ce_labels_cost", inputs, _labels_mag(AL, labels, dtype), labels.size, dtype, layout)


@pytest.mark.parametrize("shape", [(1, 5), *CE_SHAPES], ids=H.shape_id)
def test_softmax_ce_labels_cost(backend, dtype, rng, shape):
    labels = rng.integers(0, shape[0], size=shape[1]).astype(np.int64)
    AL = _softmax_cols(rng, shape, dtype)
    got = _labels_case(backend, dtype, AL, labels)
    # Same value as the one-hot cost.
    want = ref.softmax_ce_cost(AL, H.one_hot(labels, shape[0], dtype))
    assert got == pytest.approx(want, rel=1e-5 if dtype == np.float32 else 1e-12, abs=1e-300)


@pytest.mark.parametrize("layout", H.LAYOUTS)
def test_softmax_ce_labels_cost_layouts(backend, dtype, rng, layout):
    labels = rng.integers(0, 10, size=13).astype(np.int64)
    _labels_case(backend, dtype, _softmax_cols(rng, (10, 13), dtype), labels, layout)


def test_softmax_ce_labels_cost_saturated_outputs_are_finite(backend, dtype):
    AL = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5]], dtype)
    labels = np.array([0, 0, 1], np.int64)
    got = _labels_case(backend, dtype, AL, labels)
    assert got == pytest.approx(-np.log(np.float64(np.finfo(dtype).tiny)) + np.log(2.0), rel=1e-6)


# ---------------------------------------------------------------- MSE and sum of squares


def _mse_case(backend, dtype, AL, Y, layout="C"):
    return _check(backend, "mse_cost", {"AL": AL, "Y": Y}, _mse_mag(AL, Y, dtype), AL.size, dtype, layout)


@pytest.mark.parametrize("shape", SHAPES, ids=H.shape_id)
def test_mse_cost(backend, dtype, rng, shape):
    AL = rng.normal(size=shape).astype(dtype)
    Y = rng.normal(size=shape).astype(dtype)
    got = _mse_case(backend, dtype, AL, Y)
    assert got >= 0.0


@pytest.mark.parametrize("layout", H.LAYOUTS)
def test_mse_cost_layouts(backend, dtype, rng, layout):
    _mse_case(backend, dtype, rng.normal(size=(7, 13)).astype(dtype), rng.normal(size=(7, 13)).astype(dtype), layout)


def test_mse_cost_exact_small_case(backend, dtype):
    AL = np.array([[1.0, 2.0], [3.0, -4.0]], dtype)
    Y = np.array([[1.0, 0.0], [0.5, 4.0]], dtype)
    assert _mse_case(backend, dtype, AL, Y) == 0.0 + 4.0 + 6.25 + 64.0


def _sq_case(backend, dtype, W, layout="C"):
    return _check(backend, "sum_squares", {"W": W}, _sq_mag(W, dtype), W.size, dtype, layout)


@pytest.mark.parametrize("shape", SHAPES, ids=H.shape_id)
def test_sum_squares(backend, dtype, rng, shape):
    _sq_case(backend, dtype, rng.normal(size=shape).astype(dtype))


@pytest.mark.parametrize("layout", H.LAYOUTS)
def test_sum_squares_layouts(backend, dtype, rng, layout):
    _sq_case(backend, dtype, rng.normal(size=(7, 13)).astype(dtype), layout)


def test_sum_squares_exact_small_case(backend, dtype):
    W = np.array([[3.0, -4.0, 0.5]], dtype)
    assert _sq_case(backend, dtype, W) == 25.25


# ---------------------------------------------------------------- properties


_probs_f32 = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=9),
    elements=st.floats(0.0, 1.0, width=32),
)


@settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(AL=_probs_f32, data=st.data())
def test_bce_cost_property(backend, AL, data):
    """Any probabilities (including exact 0 and 1, subnormals) and binary labels."""
    Y = data.draw(hnp.arrays(np.float32, AL.shape, elements=st.sampled_from([0.0, 1.0])))
    for dtype in (np.float32, np.float64):
        got = _bce_case(backend, dtype, AL.astype(dtype), Y.astype(dtype))
        assert got >= 0.0
