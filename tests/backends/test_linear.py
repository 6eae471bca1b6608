"""linear_forward, linear_backward, output_delta, output_delta_labels against the reference.

GEMM-type results are compared with a forward-error bound computed from the absolute
values: ``|got - ref| <= K * u * (|W| @ |A_prev| + |b|)`` with ``K = 2k + 8`` (both
results are within ``~k u`` of the exact value for any summation order).
"""

from __future__ import annotations

import numpy as np
import pytest
import pyneural_backend_test_helpers as H

from pyneural.backends import contract
from pyneural.backends import reference as ref

ACTS = list(contract.ACTIVATIONS)
# (n, k, m): W is (n, k), A_prev (k, m).
DIMS = [(1, 1, 1), (1, 7, 13), (7, 13, 1), (13, 1, 7), (7, 13, 17), (10, 3, 129), (37, 129, 65), (2, 64, 5)]
LAYOUT_DIMS = [(7, 13, 5), (1, 5, 1), (6, 1, 4)]
LAYOUT_ACTS = ["identity", "tanh", "softmax"]
# Crosses the compiled GEMM's cache blocks (96 rows, 256 inner in float32 / 192 in float64,
# 1024 columns) with tails.
LARGE_DIMS = (101, 300, 1061)
LARGE_LAYOUTS = ["C", "F", "strided", "mixed"]
ALPHA = 0.01


def _gemm_bound(dtype, absW, absX, k, extra=0.0):
    return (2 * k + 8) * H.eps(dtype) * (absW @ absX + extra) + H.tiny(dtype)


def _act_bound(act, A_ref, bZ, dtype):
    """Bound on A = g(Z) given a bound ``bZ`` on Z (Lipschitz constants of g)."""
    A_ref = A_ref.astype(np.float64)
    if act == "softmax":
        n = A_ref.shape[0]
        return (2.1 * bZ.max(axis=0, keepdims=True) + (2 * n + 8) * H.eps(dtype)) * A_ref + H.tiny(dtype)
    lipschitz = 0.25 if act == "sigmoid" else 1.0
    return lipschitz * bZ + H.elem_bound(A_ref, dtype)


def _forward_case(backend, dtype, rng, dims, act, layout):
    n, k, m = dims
    W = (rng.normal(size=(n, k)) / np.sqrt(k)).astype(dtype)
    A_prev = rng.normal(size=(k, m)).astype(dtype)
    b = rng.normal(size=(n, 1)).astype(dtype)
    inputs = {"W": W, "A_prev": A_prev, "b": b}
    outputs = {"Z": ((n, m), dtype), "A": ((n, m), dtype)}
    scalars = {"act": contract.ACTIVATIONS[act], "alpha": ALPHA}
    _, want = H.call_op(ref, "linear_forward", inputs, outputs, scalars)
    ret, got = H.call_op(backend, "linear_forward", inputs, outputs, scalars, layout)
    assert ret is None
    W64, X64, b64 = (x.astype(np.float64) for x in (W, A_prev, b))
    bZ = _gemm_bound(dtype, np.abs(W64), np.abs(X64), k, np.abs(b64))
    H.assert_within(got["Z"], want["Z"], bZ, f"linear_forward Z ({layout})")
    H.assert_within(got["A"], want["A"], _act_bound(act, want["A"], bZ, dtype), f"linear_forward A {act} ({layout})")
    # And against exact float64 arithmetic, to catch a wrong reference as well.
    H.assert_within(got["Z"], W64 @ X64 + b64, bZ, "linear_forward Z vs float64")


@pytest.mark.parametrize("dims", DIMS, ids=H.shape_id)
@pytest.mark.parametrize("act", ACTS)
def test_linear_forward(backend, dtype, rng, act, dims):
    _forward_case(backend, dtype, rng, dims, act, "C")


@pytest.mark.parametrize("layout", H.LAYOUTS)
@pytest.mark.parametrize("dims", LAYOUT_DIMS, ids=H.shape_id)
@pytest.mark.parametrize("act", LAYOUT_ACTS)
def test_linear_forward_layouts(backend, dtype, rng, act, dims, layout):
    _forward_case(backend, dtype, rng, dims, act, layout)


@pytest.mark.parametrize("layout", LARGE_LAYOUTS)
@pytest.mark.parametrize("act", ["relu", "softmax"])
def test_linear_forward_large(backend, dtype, rng, act, layout):
    _forward_case(backend, dtype, rng, LARGE_DIMS, act, layout)


def _backward_case(backend, dtype, rng, dims, lambd, with_dA_prev, layout):
    n, k, m = dims
    dZ = rng.normal(size=(n, m)).astype(dtype)
    A_prev = rng.normal(size=(k, m)).astype(dtype)
    W = rng.normal(size=(n, k)).astype(dtype)
    inputs = {"dZ": dZ, "A_prev": A_prev, "W": W}
    outputs = {"dW": ((n, k), dtype), "db": ((n, 1), dtype), "dA_prev": ((k, m), dtype) if with_dA_prev else None}
    _, want = H.call_op(ref, "linear_backward", inputs, outputs, {"lambd": lambd})
    ret, got = H.call_op(backend, "linear_backward", inputs, outputs, {"lambd": lambd}, layout)
    assert ret is None
    dZ64, A64, W64 = (np.abs(x.astype(np.float64)) for x in (dZ, A_prev, W))
    bW = _gemm_bound(dtype, dZ64, A64.T, m) / m + (2 * m + 8) * H.eps(dtype) * (lambd / m) * W64
    H.assert_within(got["dW"], want["dW"], bW, f"dW ({layout}, lambd={lambd})")
    bb = (2 * m + 8) * H.eps(dtype) * dZ64.sum(axis=1, keepdims=True) / m + H.tiny(dtype)
    H.assert_within(got["db"], want["db"], bb, f"db ({layout})")
    if with_dA_prev:
        H.assert_within(got["dA_prev"], want["dA_prev"], _gemm_bound(dtype, W64.T, dZ64, n), f"dA_prev ({layout})")
    else:
        assert "dA_prev" not in got


@pytest.mark.parametrize("with_dA_prev", [True, False], ids=["dA_prev", "no_dA_prev"])
@pytest.mark.parametrize("lambd", [0.0, 0.7])
@pytest.mark.parametrize("dims", DIMS, ids=H.shape_id)
def test_linear_backward(backend, dtype, rng, dims, lambd, with_dA_prev):
    _backward_case(backend, dtype, rng, dims, lambd, with_dA_prev, "C")


@pytest.mark.parametrize("layout", LARGE_LAYOUTS)
def test_linear_backward_large(backend, dtype, rng, layout):
    _backward_case(backend, dtype, rng, LARGE_DIMS, 0.4, True, layout)


@pytest.mark.parametrize("layout", H.LAYOUTS)
@pytest.mark.parametrize("dims", LAYOUT_DIMS, ids=H.shape_id)
def test_linear_backward_layouts(backend, dtype, rng, dims, layout):
    _backward_case(backend, dtype, rng, dims, 0.3, True, layout)


OUT_SHAPES = [(1, 1), (1, 13), (10, 1), (7, 13), (37, 129), (10, 7001)]


def _output_delta_case(backend, dtype, rng, shape, layout):
    AL = rng.uniform(0.0, 1.0, size=shape).astype(dtype)
    Y = (rng.uniform(size=shape) < 0.5).astype(dtype)
    Y.reshape(-1)[::3] = rng.uniform(size=Y.size)[::3]  # soft targets / regression values too
    inputs = {"AL": AL, "Y": Y}
    _, want = H.call_op(ref, "output_delta", inputs, {"dZ": (shape, dtype)}, {})
    ret, got = H.call_op(backend, "output_delta", inputs, {"dZ": (shape, dtype)}, {}, layout)
    assert ret is None
    H.assert_within(got["dZ"], want["dZ"], H.elem_bound(want["dZ"], dtype), f"output_delta ({layout})")


@pytest.mark.parametrize("shape", OUT_SHAPES, ids=H.shape_id)
def test_output_delta(backend, dtype, rng, shape):
    _output_delta_case(backend, dtype, rng, shape, "C")


@pytest.mark.parametrize("layout", H.LAYOUTS)
def test_output_delta_layouts(backend, dtype, rng, layout):
    _output_delta_case(backend, dtype, rng, (7, 13), layout)


LABEL_SHAPES = [(1, 4), (2, 1), (2, 13), (10, 1), (10, 33), (37, 129), (10, 7001)]


def _labels_case(backend, dtype, rng, shape, layout):
    C, m = shape
    Z = rng.normal(size=shape)
    AL = (np.exp(Z) / np.exp(Z).sum(axis=0)).astype(dtype)
    labels = rng.integers(0, C, size=m).astype(np.int64)
    labels[0] = C - 1
    inputs = {"AL": AL, "labels": labels}
    _, want = H.call_op(ref, "output_delta_labels", inputs, {"dZ": (shape, dtype)}, {})
    ret, got = H.call_op(backend, "output_delta_labels", inputs, {"dZ": (shape, dtype)}, {}, layout)
    assert ret is None
    H.assert_within(got["dZ"], want["dZ"], H.elem_bound(want["dZ"], dtype), f"output_delta_labels ({layout})")
    expected = AL.astype(np.float64) - H.one_hot(labels, C, np.float64)
    H.assert_within(got["dZ"], expected, H.elem_bound(expected, dtype), "output_delta_labels vs one-hot")


@pytest.mark.parametrize("shape", LABEL_SHAPES, ids=H.shape_id)
def test_output_delta_labels(backend, dtype, rng, shape):
    _labels_case(backend, dtype, rng, shape, "C")


@pytest.mark.parametrize("layout", H.LAYOUTS)
def test_output_delta_labels_layouts(backend, dtype, rng, layout):
    _labels_case(backend, dtype, rng, (10, 17), layout)


# Each GEMM micro-kernel (PYNEURAL_GEMM_KERNEL lowers the run-time choice, fixed per process,
# hence a subprocess): shapes around its register tile (12 x 32 / 6 x 16 float32) and the
# cache blocks, single-row products (B read in place), every operand layout of the training
# products; checked against float64 and for 1 vs 2 threads bitwise.
_KERNEL_SCRIPT = r"""
import sys
import numpy as np
from pyneural.backends import get_backend

be = get_backend("cpp")
want = sys.argv[1]
name = be.build_info()["gemm_kernel_float32"]
assert name == want or (want != "generic" and name in ("generic", "avx2")), (want, name)  # lowered, never raised
rng = np.random.default_rng(7)
dims = [(1, 1, 1), (5, 2, 64), (1, 4, 400), (11, 17, 33), (12, 256, 32), (13, 257, 31),
        (10, 300, 1030), (97, 193, 95), (25, 513, 1025), (130, 40, 300), (300, 500, 400)]
for dt in (np.float32, np.float64):
    for n, k, m in dims:
        for lay in ("NN", "NT", "TN"):
            W = rng.normal(size=(n, k)).astype(dt) if lay[0] == "N" else rng.normal(size=(k, n)).astype(dt).T
            X = rng.normal(size=(k, m)).astype(dt) if lay[1] == "N" else rng.normal(size=(m, k)).astype(dt).T
            b = rng.normal(size=(n, 1)).astype(dt)
            out = []
            for nt in (1, 2):
                be.set_num_threads(nt)
                Z = np.full((n, m), np.nan, dt)
                A = np.full((n, m), np.nan, dt)
                be.linear_forward(W, X, b, Z, A, 3, 0.0)
                out.append((Z, A))
            (Z1, A1), (Z2, A2) = out
            assert np.array_equal(Z1, Z2) and np.array_equal(A1, A2), (want, dt, n, k, m, lay, "1 vs 2 threads")
            W64, X64 = W.astype(np.float64), X.astype(np.float64)
            bound = (2 * k + 8) * np.finfo(dt).eps * (np.abs(W64) @ np.abs(X64) + np.abs(b)) + np.finfo(dt).tiny
            assert np.all(np.abs(Z1 - (W64 @ X64 + b)) <= bound), (want, dt, n, k, m, lay)
            assert np.array_equal(A1, np.maximum(Z1, 0)), (want, dt, n, k, m, lay, "relu")
print("ok")
"""


@pytest.mark.parametrize("kernel", ["generic", "avx2", "avx512"])
def test_gemm_kernels(kernel):
    import os
    import subprocess
    import sys

    from pyneural.backends import available_backends

    if "cpp" not in available_backends():
        pytest.skip("cpp backend not built")
    env = dict(os.environ, PYNEURAL_GEMM_KERNEL=kernel)
    # cwd="/": from the repository root, "-c" would import the source tree (no _core).
    res = subprocess.run([sys.executable, "-c", _KERNEL_SCRIPT, kernel], env=env, capture_output=True, text=True,
                         timeout=600, cwd="/")
    assert res.returncode == 0 and res.stdout.strip().endswith("ok"), res.stdout + res.stderr
