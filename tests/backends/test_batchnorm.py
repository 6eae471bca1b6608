"""batchnorm_forward, batchnorm_inference, batchnorm_backward against the reference, a
finite-difference gradient check, thread-count determinism and the m = 1 edge case.

Error bounds (``u`` the unit roundoff of the dtype, ``K = 2m + 8``): a row mean computed
in any summation order is within ``~(m/2) u mean|Z|`` of the exact one, so two
implementations differ by at most ``K u mean|Z|``; the bound is propagated through the
two-pass variance, ``Zn = (Z - mean) / sqrt(var + eps)`` and ``out = gamma * Zn + beta``
(each elementwise step allowing a few more ``u``). Backward: ``dbeta`` and ``dgamma``
are means (``K u`` relative to the mean of the absolute terms), propagated through
``dZ = gamma / sqrt(var + eps) * (dout - dbeta - Zn * dgamma)``. float32 results are
also checked against the float64 reference on the same data, with the same bounds.
"""

from __future__ import annotations

import numpy as np
import pytest
import pyneural_backend_test_helpers as H

from pyneural.backends import reference as ref

F64 = np.float64
BN_EPS = 1e-5

# (n, m): n features (rows), m examples (columns). m = 1 is the degenerate var = 0 batch.
SHAPES = [(1, 1), (4, 1), (1, 13), (7, 13), (3, 129), (37, 200), (10, 1001)]
LAYOUT_SHAPES = [(7, 13), (1, 5), (6, 1)]
# n * m above the compiled kernels' parallel threshold, so layouts meet the threaded path.
LARGE_SHAPE = (67, 601)
LARGE_LAYOUTS = ["C", "F", "strided", "neg", "mixed"]


# ------------------------------------------------------------------------------- data


def _bn_data(rng, shape, dtype):
    """Z with per-row offsets and spreads (some rows far off-centre, so the mean cancels
    digits in ``Z - mean``; one constant row when n >= 3), and gamma/beta with signs."""
    n, m = shape
    offset = rng.choice([0.0, 3.0, -20.0], size=(n, 1))
    spread = rng.choice([0.5, 2.0, 1e-2], size=(n, 1))
    Z = offset + spread * rng.normal(size=shape)
    if n >= 3:
        Z[1, :] = 0.1  # var ~ 0: only rounding of the mean remains
    gamma = rng.normal(1.0, 0.5, size=(n, 1))
    gamma[0, 0] = -gamma[0, 0]
    beta = rng.normal(size=(n, 1))
    return Z.astype(dtype), gamma.astype(dtype), beta.astype(dtype)


def _f64(*arrays):
    return tuple(np.asarray(a, dtype=F64) for a in arrays)


def _u(dtype):
    return H.eps(dtype) / 2


# ----------------------------------------------------------------------------- bounds


def _forward_bounds(Z, gamma, beta, mean, var, Zn, eps, dtype):
    """Bounds on mean, var, Zn, out around the reference values (mean, var, Zn)."""
    Z, gamma, beta, mean, var, Zn = _f64(Z, gamma, beta, mean, var, Zn)
    m = Z.shape[1]
    u, tiny = _u(dtype), H.tiny(dtype)
    K = 2 * m + 8
    b_mean = K * u * np.abs(Z).mean(axis=1, keepdims=True) + tiny
    c = np.abs(Z - mean)
    b_var = K * u * var + 2 * c.mean(axis=1, keepdims=True) * b_mean + 2 * b_mean**2 + tiny
    v = var + float(np.asarray(eps, dtype=dtype))
    sd = np.sqrt(v)
    b_zn = (b_mean + c * (0.5 * b_var / v + 8 * u)) / sd + tiny
    b_out = np.abs(gamma) * b_zn + 8 * u * (np.abs(gamma * Zn) + np.abs(beta)) + tiny
    return b_mean, b_var, b_zn, b_out


def _inference_bound(Z, gamma, beta, mean, var, eps, dtype):
    Z, gamma, beta, mean, var = _f64(Z, gamma, beta, mean, var)
    u = _u(dtype)
    q = np.abs(Z - mean) / np.sqrt(var + float(np.asarray(eps, dtype=dtype)))
    return 8 * u * (2 * np.abs(gamma) * q + np.abs(beta)) + H.tiny(dtype)


def _backward_bounds(dout, Zn, gamma, var, dgamma, dbeta, eps, dtype):
    """Bounds on dZ, dgamma, dbeta around the reference values (dgamma, dbeta)."""
    dout, Zn, gamma, var, dgamma, dbeta = _f64(dout, Zn, gamma, var, dgamma, dbeta)
    m = dout.shape[1]
    u, tiny = _u(dtype), H.tiny(dtype)
    K = 2 * m + 8
    b_db = K * u * np.abs(dout).mean(axis=1, keepdims=True) + tiny
    b_dg = K * u * np.abs(dout * Zn).mean(axis=1, keepdims=True) + tiny
    k = np.abs(gamma) / np.sqrt(var + float(np.asarray(eps, dtype=dtype)))
    terms = np.abs(dout) + np.abs(dbeta) + np.abs(Zn * dgamma)
    b_dz = k * (b_db + np.abs(Zn) * b_dg + 8 * u * terms) + tiny
    return b_dz, b_dg, b_db


# ------------------------------------------------------------------------------ cases


def _forward_case(backend, dtype, rng, shape, layout, eps=BN_EPS):
    n, m = shape
    Z, gamma, beta = _bn_data(rng, shape, dtype)
    inputs = {"Z": Z, "gamma": gamma, "beta": beta}
    outputs = {
        "Zn": (shape, dtype),
        "out": (shape, dtype),
        "mean": ((n, 1), dtype),
        "var": ((n, 1), dtype),
    }
    _, want = H.call_op(ref, "batchnorm_forward", inputs, outputs, {"eps": eps})
    ret, got = H.call_op(backend, "batchnorm_forward", inputs, outputs, {"eps": eps}, layout)
    assert ret is None
    references = [("reference", want)]
    if dtype == np.float32:  # the same data through float64 arithmetic
        in64 = {k: v.astype(F64) for k, v in inputs.items()}
        out64 = {k: (s, F64) for k, (s, _) in outputs.items()}
        references.append(("float64", H.call_op(ref, "batchnorm_forward", in64, out64, {"eps": eps})[1]))
    for label, w in references:
        b_mean, b_var, b_zn, b_out = _forward_bounds(Z, gamma, beta, w["mean"], w["var"], w["Zn"], eps, dtype)
        what = f"batchnorm_forward {shape} ({layout}) vs {label}"
        H.assert_within(got["mean"], w["mean"], b_mean, f"{what}: mean")
        H.assert_within(got["var"], w["var"], b_var, f"{what}: var")
        H.assert_within(got["Zn"], w["Zn"], b_zn, f"{what}: Zn")
        H.assert_within(got["out"], w["out"], b_out, f"{what}: out")
    assert (got["var"] >= 0).all(), "a variance is negative"


def _inference_case(backend, dtype, rng, shape, layout, eps=BN_EPS):
    n, m = shape
    Z, gamma, beta = _bn_data(rng, shape, dtype)
    mean = rng.normal(size=(n, 1)).astype(dtype)
    var = rng.uniform(0.0, 3.0, size=(n, 1)).astype(dtype)
    var[0, 0] = 0.0  # only eps keeps the square root positive
    inputs = {"Z": Z, "gamma": gamma, "beta": beta, "mean": mean, "var": var}
    outputs = {"out": (shape, dtype)}
    _, want = H.call_op(ref, "batchnorm_inference", inputs, outputs, {"eps": eps})
    ret, got = H.call_op(backend, "batchnorm_inference", inputs, outputs, {"eps": eps}, layout)
    assert ret is None
    bound = _inference_bound(Z, gamma, beta, mean, var, eps, dtype)
    H.assert_within(got["out"], want["out"], bound, f"batchnorm_inference {shape} ({layout})")
    Z64, g64, b64, mu64, v64 = _f64(Z, gamma, beta, mean, var)
    exact = g64 * (Z64 - mu64) / np.sqrt(v64 + float(np.asarray(eps, dtype=dtype))) + b64
    H.assert_within(got["out"], exact, bound, f"batchnorm_inference {shape} ({layout}) vs float64")


def _backward_inputs(rng, shape, dtype, eps):
    """dout, and Zn / var from the reference forward (so Zn is a real normalised batch)."""
    n, m = shape
    Z, gamma, beta = _bn_data(rng, shape, dtype)
    Zn, out = np.empty(shape, dtype), np.empty(shape, dtype)
    mean, var = np.empty((n, 1), dtype), np.empty((n, 1), dtype)
    ref.batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, eps)
    dout = rng.normal(size=shape).astype(dtype)
    return dout, Zn, gamma, var


def _backward_case(backend, dtype, rng, shape, layout, eps=BN_EPS):
    n, m = shape
    dout, Zn, gamma, var = _backward_inputs(rng, shape, dtype, eps)
    inputs = {"dout": dout, "Zn": Zn, "gamma": gamma, "var": var}
    outputs = {"dZ": (shape, dtype), "dgamma": ((n, 1), dtype), "dbeta": ((n, 1), dtype)}
    _, want = H.call_op(ref, "batchnorm_backward", inputs, outputs, {"eps": eps})
    ret, got = H.call_op(backend, "batchnorm_backward", inputs, outputs, {"eps": eps}, layout)
    assert ret is None
    references = [("reference", want)]
    if dtype == np.float32:
        in64 = {k: v.astype(F64) for k, v in inputs.items()}
        out64 = {k: (s, F64) for k, (s, _) in outputs.items()}
        references.append(("float64", H.call_op(ref, "batchnorm_backward", in64, out64, {"eps": eps})[1]))
    for label, w in references:
        b_dz, b_dg, b_db = _backward_bounds(dout, Zn, gamma, var, w["dgamma"], w["dbeta"], eps, dtype)
        what = f"batchnorm_backward {shape} ({layout}) vs {label}"
        H.assert_within(got["dbeta"], w["dbeta"], b_db, f"{what}: dbeta")
        H.assert_within(got["dgamma"], w["dgamma"], b_dg, f"{what}: dgamma")
        H.assert_within(got["dZ"], w["dZ"], b_dz, f"{what}: dZ")


# ------------------------------------------------------------------ reference tests


@pytest.mark.parametrize("shape", SHAPES, ids=H.shape_id)
def test_batchnorm_forward(backend, dtype, rng, shape):
    _forward_case(backend, dtype, rng, shape, "C")


@pytest.mark.parametrize("layout", H.LAYOUTS)
@pytest.mark.parametrize("shape", LAYOUT_SHAPES, ids=H.shape_id)
def test_batchnorm_forward_layouts(backend, dtype, rng, shape, layout):
    _forward_case(backend, dtype, rng, shape, layout, eps=1e-3)


@pytest.mark.parametrize("layout", LARGE_LAYOUTS)
def test_batchnorm_forward_large(backend, dtype, rng, layout):
    _forward_case(backend, dtype, rng, LARGE_SHAPE, layout)


@pytest.mark.parametrize("shape", SHAPES, ids=H.shape_id)
def test_batchnorm_inference(backend, dtype, rng, shape):
    _inference_case(backend, dtype, rng, shape, "C")


@pytest.mark.parametrize("layout", H.LAYOUTS)
@pytest.mark.parametrize("shape", LAYOUT_SHAPES, ids=H.shape_id)
def test_batchnorm_inference_layouts(backend, dtype, rng, shape, layout):
    _inference_case(backend, dtype, rng, shape, layout, eps=1e-3)


@pytest.mark.parametrize("layout", LARGE_LAYOUTS)
def test_batchnorm_inference_large(backend, dtype, rng, layout):
    _inference_case(backend, dtype, rng, LARGE_SHAPE, layout)


@pytest.mark.parametrize("shape", SHAPES, ids=H.shape_id)
def test_batchnorm_backward(backend, dtype, rng, shape):
    _backward_case(backend, dtype, rng, shape, "C")


@pytest.mark.parametrize("layout", H.LAYOUTS)
@pytest.mark.parametrize("shape", LAYOUT_SHAPES, ids=H.shape_id)
def test_batchnorm_backward_layouts(backend, dtype, rng, shape, layout):
    _backward_case(backend, dtype, rng, shape, layout, eps=1e-3)


@pytest.mark.parametrize("layout", LARGE_LAYOUTS)
def test_batchnorm_backward_large(backend, dtype, rng, layout):
    _backward_case(backend, dtype, rng, LARGE_SHAPE, layout)


# ------------------------------------------------------------------- m = 1 edge case


@pytest.mark.parametrize("eps", [BN_EPS, 0.5])
def test_batchnorm_single_example(backend, dtype, rng, eps):
    """m = 1: mean = Z, var = 0, Zn = 0, out = beta; backward dbeta = dout, dgamma = 0,
    dZ = 0 (out does not depend on Z). Everything finite, exactly."""
    n = 5
    Z, gamma, beta = _bn_data(rng, (n, 1), dtype)
    Zn, out = np.full((n, 1), np.nan, dtype), np.full((n, 1), np.nan, dtype)
    mean, var = np.full((n, 1), np.nan, dtype), np.full((n, 1), np.nan, dtype)
    backend.batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, eps)
    np.testing.assert_array_equal(mean, Z)
    np.testing.assert_array_equal(var, 0.0)
    np.testing.assert_array_equal(Zn, 0.0)
    np.testing.assert_array_equal(out, beta)

    inf = np.full((n, 1), np.nan, dtype)
    backend.batchnorm_inference(Z, gamma, beta, mean, var, inf, eps)
    np.testing.assert_array_equal(inf, beta)

    dout = rng.normal(size=(n, 1)).astype(dtype)
    dZ = np.full((n, 1), np.nan, dtype)
    dgamma, dbeta = np.full((n, 1), np.nan, dtype), np.full((n, 1), np.nan, dtype)
    backend.batchnorm_backward(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps)
    np.testing.assert_array_equal(dbeta, dout)
    np.testing.assert_array_equal(dgamma, 0.0)
    np.testing.assert_array_equal(dZ, 0.0)


def test_batchnorm_constant_rows(backend, dtype):
    """Rows with no spread (var ~ 0, only eps in the square root): finite, |Zn| tiny."""
    Z = np.tile(np.array([[0.1], [-3.0], [0.0], [1e4]], dtype), (1, 37))
    n, m = Z.shape
    gamma, beta = np.full((n, 1), 2.0, dtype), np.full((n, 1), 0.5, dtype)
    Zn, out = np.full(Z.shape, np.nan, dtype), np.full(Z.shape, np.nan, dtype)
    mean, var = np.full((n, 1), np.nan, dtype), np.full((n, 1), np.nan, dtype)
    backend.batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, BN_EPS)
    for name, a in (("Zn", Zn), ("out", out), ("mean", mean), ("var", var)):
        assert np.isfinite(a).all(), f"{name} is not finite"
    assert (var >= 0).all()
    # |mean - z| <= K u |z|, so |Zn| <= K u |z| / sqrt(eps).
    bound = (2 * m + 8) * _u(dtype) * np.abs(Z[:, :1].astype(F64)) / np.sqrt(BN_EPS) + H.tiny(dtype)
    H.assert_within(Zn, np.zeros_like(Zn, dtype=F64), bound, "constant rows: Zn")
    dZ = np.full(Z.shape, np.nan, dtype)
    dgamma, dbeta = np.full((n, 1), np.nan, dtype), np.full((n, 1), np.nan, dtype)
    backend.batchnorm_backward(np.ones_like(Z), Zn, gamma, var, dZ, dgamma, dbeta, BN_EPS)
    for name, a in (("dZ", dZ), ("dgamma", dgamma), ("dbeta", dbeta)):
        assert np.isfinite(a).all(), f"{name} is not finite"


# ------------------------------------------------------------ finite-difference check

# m = 2 only with a large eps: with eps << var, Zn = +-c / sqrt(c^2 + eps) is ~ +-1 whatever
# Z, so the true dZ is O(eps) and the finite differences are all noise.
GRAD_CASES = [((3, 5), BN_EPS), ((1, 4), BN_EPS), ((4, 3), BN_EPS), ((2, 9), BN_EPS)]
GRAD_CASES += [(shape, 0.5) for shape, _ in GRAD_CASES] + [((4, 2), 0.5)]


@pytest.mark.parametrize(("shape", "eps"), GRAD_CASES, ids=[f"{H.shape_id(s)}-eps{e:g}" for s, e in GRAD_CASES])
def test_batchnorm_backward_gradient(backend, rng, shape, eps):
    """J = (1/m) sum(G * out), out = batchnorm_forward(Z, gamma, beta). In the pipeline
    convention dout = G (m dJ/dout), and the kernel gives dZ = m dJ/dZ, dgamma = dJ/dgamma,
    dbeta = dJ/dbeta. (A large eps makes its placement visible: the formulas are exact for
    any eps, a sqrt(var) in place of sqrt(var + eps) anywhere would fail.)"""
    n, m = shape
    Z = rng.normal(0.5, 1.5, size=shape)
    gamma = rng.normal(1.0, 0.5, size=(n, 1))
    beta = rng.normal(size=(n, 1))
    G = rng.normal(size=shape)

    def forward():
        Zn, out = np.empty(shape), np.empty(shape)
        mean, var = np.empty((n, 1)), np.empty((n, 1))
        backend.batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, eps)
        return Zn, out, var

    def objective():
        return float(np.sum(G * forward()[1])) / m

    Zn, _, var = forward()
    dZ = np.full(shape, np.nan)
    dgamma, dbeta = np.full((n, 1), np.nan), np.full((n, 1), np.nan)
    backend.batchnorm_backward(G, Zn, gamma, var, dZ, dgamma, dbeta, eps)
    H.assert_grad_close(dZ, m * H.numeric_grad(objective, Z), "dZ")
    H.assert_grad_close(dgamma, H.numeric_grad(objective, gamma), "dgamma")
    H.assert_grad_close(dbeta, H.numeric_grad(objective, beta), "dbeta")


# ----------------------------------------------------------------- thread invariance

THREAD_SHAPE = (300, 5000)
# 3 threads also changes how the compiled column-major walk blocks its rows.
THREAD_COUNTS = (1, 2, 3)


@pytest.fixture
def threaded(backend):
    """The backend; its thread count is restored after the test."""
    before = backend.get_num_threads()
    yield backend
    backend.set_num_threads(before)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("backend_name", ["cpp", "numba"], indirect=True)
def test_batchnorm_threads(threaded, dtype, rng, order):
    """1, 2 and 3 threads give bit-identical forward, inference and backward results."""
    n, m = THREAD_SHAPE
    Z, gamma, beta = _bn_data(rng, THREAD_SHAPE, dtype)
    dout = rng.normal(size=THREAD_SHAPE).astype(dtype)
    Z, dout = np.asarray(Z, order=order), np.asarray(dout, order=order)

    def run():
        Zn, out = np.full(Z.shape, np.nan, dtype, order=order), np.full(Z.shape, np.nan, dtype, order=order)
        mean, var = np.full((n, 1), np.nan, dtype), np.full((n, 1), np.nan, dtype)
        threaded.batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, BN_EPS)
        inf = np.full(Z.shape, np.nan, dtype, order=order)
        threaded.batchnorm_inference(Z, gamma, beta, mean, var, inf, BN_EPS)
        dZ = np.full(Z.shape, np.nan, dtype, order=order)
        dgamma, dbeta = np.full((n, 1), np.nan, dtype), np.full((n, 1), np.nan, dtype)
        threaded.batchnorm_backward(dout, Zn, gamma, var, dZ, dgamma, dbeta, BN_EPS)
        return Zn, out, mean, var, inf, dZ, dgamma, dbeta

    results = {}
    for threads in THREAD_COUNTS:
        threaded.set_num_threads(threads)
        results[threads] = run()
    names = ("Zn", "out", "mean", "var", "inference out", "dZ", "dgamma", "dbeta")
    for threads in THREAD_COUNTS[1:]:
        for name, a, b in zip(names, results[1], results[threads]):
            assert np.isfinite(a).all(), f"{name}: not finite"
            assert np.array_equal(a, b), f"{name}: 1 thread != {threads} threads"
