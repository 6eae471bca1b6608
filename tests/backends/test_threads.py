"""Threaded backends give bit-identical results for any thread count.

The problems are large enough to take the parallel paths. Each op is run with 1 thread
and with more, and the outputs compared with ``np.array_equal`` / ``==``.
"""

from __future__ import annotations

import numpy as np
import pytest

from pyneural.backends import contract

pytestmark = pytest.mark.parametrize("backend_name", ["cpp", "numba"], indirect=True)

THREAD_COUNTS = (1, 2, 3)


@pytest.fixture
def threaded(backend):
    """The backend; its thread count is restored after the test."""
    before = backend.get_num_threads()
    yield backend
    backend.set_num_threads(before)


def _results_per_thread_count(backend, run):
    results = {}
    for n in THREAD_COUNTS:
        backend.set_num_threads(n)
        results[n] = run()
    return results


def _assert_identical(results, what):
    base = results[THREAD_COUNTS[0]]
    for n, res in results.items():
        assert len(res) == len(base)
        for i, (a, b) in enumerate(zip(base, res)):
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype and np.array_equal(a, b), f"{what}[{i}]: 1 thread != {n} threads"
            else:
                assert a == b, f"{what}[{i}]: 1 thread gives {a!r}, {n} threads {b!r}"


def _check(backend, what, run):
    _assert_identical(_results_per_thread_count(backend, run), what)


@pytest.mark.parametrize("act", ["relu", "sigmoid", "softmax"])
def test_linear_forward(threaded, dtype, rng, act):
    W = rng.normal(size=(300, 500)).astype(dtype) / np.sqrt(500).astype(dtype)
    A_prev = rng.normal(size=(500, 400)).astype(dtype)
    b = rng.normal(size=(300, 1)).astype(dtype)

    def run():
        Z = np.full((300, 400), np.nan, dtype)
        A = np.full((300, 400), np.nan, dtype)
        threaded.linear_forward(W, A_prev, b, Z, A, contract.ACTIVATIONS[act], 0.01)
        return Z, A

    _check(threaded, f"linear_forward {act}", run)


def test_linear_backward(threaded, dtype, rng):
    dZ = rng.normal(size=(300, 400)).astype(dtype)
    A_prev = rng.normal(size=(500, 400)).astype(dtype)
    W = rng.normal(size=(300, 500)).astype(dtype)

    def run():
        dW = np.full((300, 500), np.nan, dtype)
        db = np.full((300, 1), np.nan, dtype)
        dA_prev = np.full((500, 400), np.nan, dtype)
        threaded.linear_backward(dZ, A_prev, W, dW, db, dA_prev, 0.5)
        return dW, db, dA_prev

    _check(threaded, "linear_backward", run)


def test_linear_forward_strided(threaded, rng):
    """Non-contiguous operands take the general paths; those must be thread-invariant too."""
    W = np.asfortranarray(rng.normal(size=(200, 300)))
    A_prev = rng.normal(size=(300, 800))[:, ::2]
    b = rng.normal(size=(200, 1))

    def run():
        Z = np.full((200, 400), np.nan, order="F")
        A = np.full((200, 800), np.nan)[:, ::2]
        threaded.linear_forward(W, A_prev, b, Z, A, contract.ACT_TANH, 0.0)
        return Z.copy(), A.copy()

    _check(threaded, "linear_forward strided", run)


@pytest.mark.parametrize("act", list(contract.ACTIVATIONS))
def test_activations(threaded, dtype, rng, act):
    shape = (10, 50000)
    Z = rng.normal(0.0, 3.0, size=shape).astype(dtype)
    dA = rng.normal(size=shape).astype(dtype)
    code = contract.ACTIVATIONS[act]

    def run():
        A = np.full(shape, np.nan, dtype)
        dZ = np.full(shape, np.nan, dtype)
        threaded.activation_forward(Z, A, code, 0.01)
        threaded.activation_backward(dA, Z, A, dZ, code, 0.01)
        return A, dZ

    _check(threaded, f"activation {act}", run)


def test_costs(threaded, dtype, rng):
    n = 10**6
    C, m = 10, n // 10
    AL = rng.uniform(0.0, 1.0, size=(C, m)).astype(dtype)
    AL[0, :10] = 0.0  # clamped logs
    AL[1, :10] = 1.0
    Y = (rng.uniform(size=(C, m)) < 0.5).astype(dtype)
    labels = rng.integers(0, C, size=m).astype(np.int64)
    W = rng.normal(size=(1000, 1000)).astype(dtype)

    def run():
        return (
            threaded.bce_cost(AL, Y),
            threaded.softmax_ce_cost(AL, Y),
            threaded.softmax_ce_labels_cost(AL, labels),
            threaded.mse_cost(AL, Y),
            threaded.sum_squares(W),
        )

    _check(threaded, "costs", run)


def test_output_deltas(threaded, dtype, rng):
    C, m = 10, 100_000
    AL = rng.uniform(size=(C, m)).astype(dtype)
    Y = rng.uniform(size=(C, m)).astype(dtype)
    labels = rng.integers(0, C, size=m).astype(np.int64)

    def run():
        d1 = np.full((C, m), np.nan, dtype)
        d2 = np.full((C, m), np.nan, dtype)
        threaded.output_delta(AL, Y, d1)
        threaded.output_delta_labels(AL, labels, d2)
        return d1, d2

    _check(threaded, "output deltas", run)


def test_dropout(threaded, dtype, rng):
    shape = (1000, 1000)
    A = rng.normal(size=shape).astype(dtype)

    def run():
        out = np.full(shape, np.nan, dtype)
        mask = np.full(shape, 0xAB, np.uint8)
        threaded.dropout_forward(A, out, mask, 0.8, 2**40 + 3, 12, 2)
        back = np.full(shape, np.nan, dtype)
        threaded.dropout_apply(A, mask, back, 0.8)
        return out, mask, back

    _check(threaded, "dropout", run)


@pytest.mark.parametrize("op", ["gd_update", "momentum_update", "rmsprop_update", "adam_update"])
def test_optimizers(threaded, dtype, rng, op):
    n = 10**6
    p0 = rng.normal(size=n).astype(dtype)
    v0 = rng.normal(0, 0.1, size=n).astype(dtype)
    s0 = rng.uniform(0, 0.1, size=n).astype(dtype)
    grads = [rng.normal(size=n).astype(dtype) for _ in range(2)]

    def run():
        p, v, s = p0.copy(), v0.copy(), s0.copy()
        for t, g in enumerate(grads, start=1):
            if op == "gd_update":
                threaded.gd_update(p, g, 0.01)
            elif op == "momentum_update":
                threaded.momentum_update(p, g, v, 0.01, 0.9)
            elif op == "rmsprop_update":
                threaded.rmsprop_update(p, g, s, 0.01, 0.9, 1e-8)
            else:
                threaded.adam_update(p, g, v, s, 0.01, 0.9, 0.999, 1e-8, t, t == 2)
        return p, v, s

    _check(threaded, op, run)
