"""Every backend module implements the whole op table with the contract's signatures."""

from __future__ import annotations

import inspect

import pytest

from pyneural.backends import contract


@pytest.mark.parametrize("op", contract.OPS)
def test_op_has_contract_signature(backend, op):
    fn = getattr(backend, op, None)
    assert fn is not None, f"backend {backend.NAME!r} lacks op {op!r}"
    assert callable(fn)
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError) as exc:  # e.g. a bare pybind11 function without a text signature
        pytest.fail(f"{backend.NAME}.{op} has no introspectable signature: {exc}")
    assert params == contract.signature(op), f"{backend.NAME}.{op}{tuple(params)}"


def test_backend_module_attributes(backend, backend_name):
    assert backend.NAME == backend_name
    assert callable(backend.set_num_threads)
    assert callable(backend.get_num_threads)
    n = backend.get_num_threads()
    assert isinstance(n, int) and n >= 1


@pytest.mark.parametrize("backend_name", ["cpp", "numba"], indirect=True)
def test_thread_setting_round_trips(backend):
    before = backend.get_num_threads()
    try:
        backend.set_num_threads(1)
        assert backend.get_num_threads() == 1
    finally:
        backend.set_num_threads(before)
    assert backend.get_num_threads() == before


def test_contract_tables_are_consistent():
    assert len(set(contract.OPS)) == len(contract.OPS)
    for op in contract.OPS:
        assert contract.signature(op), op
    assert contract.ACTIVATIONS == {
        "identity": contract.ACT_IDENTITY,
        "sigmoid": contract.ACT_SIGMOID,
        "tanh": contract.ACT_TANH,
        "relu": contract.ACT_RELU,
        "leaky_relu": contract.ACT_LEAKY_RELU,
        "softmax": contract.ACT_SOFTMAX,
    }
    assert sorted(contract.ACTIVATIONS.values()) == list(range(len(contract.ACTIVATIONS)))
