"""The C++ backend's vectorised transcendentals (csrc/include/pyneural/simd_math.hpp) and
SIMD Philox dropout: accuracy against high-precision truth over dense sweeps incl. special
values, and bit-identity of every run-time SIMD path.

The transcendentals are reached through the kernels using them: tanh / sigmoid through
``activation_forward``, exp through a 2-row softmax, log through one-element costs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from pyneural.backends import BackendUnavailableError, contract, load


@pytest.fixture(scope="module")
def cpp():
    try:
        return load("cpp")
    except BackendUnavailableError as exc:  # pragma: no cover - depends on the build
        pytest.skip(f"cpp backend unavailable: {exc}")


# Max ulp errors measured over dense sweeps (every float in [-10, 10]; 45M random/uniform
# doubles) were exp 1.04, log 0.85, tanh 1.34, sigmoid 2.40; the bounds leave a little room.
MAX_ULP = {"tanh": 2.0, "sigmoid": 3.0, "exp": 2.0, "log": 1.5}
SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1.17549435e-38, 5e-324, 2.2250738585072014e-308,
            0.625, -0.625, 0.62499994, 9.0, 9.1, 19.1, 20.0, 88.72, 88.73, 89.0, 709.78, 710.0, -87.33, -103.9, -104.0,
            -708.4, -745.1, -746.0, 1.0, -1.0, 3.4028235e38, -3.4028235e38, 1.7976931348623157e308]


def _truth(fn, x):
    """Reference in long double (x87 80-bit on x86-64 Linux; at least float64 elsewhere)."""
    xl = x.astype(np.longdouble)
    with np.errstate(all="ignore"):
        if fn == "tanh":
            return np.tanh(xl)
        if fn == "exp":
            return np.exp(xl)
        if fn == "log":
            return np.log(xl)
        e = np.exp(-np.abs(xl))
        return np.where(xl < 0, e / (1 + e), 1 / (1 + e))


def _ulp_err(got, x, fn, dtype):
    t = _truth(fn, x)
    with np.errstate(all="ignore"):
        t_rounded = t.astype(dtype)
        special = ~np.isfinite(t_rounded) | np.isnan(x)
        # special values (inf, nan, overflow) must match the correctly rounded result exactly
        ok = (np.isnan(t_rounded) & np.isnan(got)) | (t_rounded == got)
        assert ok[special].all(), f"{fn} {np.dtype(dtype).name}: special values {x[special & ~ok][:5]} -> {got[special & ~ok][:5]}"
        fin = ~special
        assert np.isfinite(got[fin]).all(), f"{fn}: non-finite result for finite truth"
        tf = np.abs(t[fin])
        info = np.finfo(dtype)
        ulp = np.maximum(np.ldexp(np.longdouble(1), np.frexp(tf)[1] - info.nmant - 1), np.longdouble(info.smallest_subnormal))
        err = np.abs(got[fin].astype(np.longdouble) - t[fin]) / ulp
        return float(err.max()) if err.size else 0.0, x[fin][np.argmax(err)] if err.size else None


def _sweep(dtype, lo, hi, n, rng):
    x = np.concatenate([np.linspace(lo, hi, n), rng.uniform(lo, hi, n), np.array(SPECIALS)])
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    if dtype == np.float32:  # plus every float in a slice around the branch points
        for c in (0.625, 1.0, -1.0):
            b = np.frombuffer(np.float32(c).tobytes(), np.uint32)[0]
            x = np.concatenate([x, np.arange(b - 20000, b + 20000, dtype=np.uint32).view(np.float32)])
    return x


@pytest.mark.parametrize("fn", ["tanh", "sigmoid"])
def test_activation_transcendentals_ulp(cpp, dtype, rng, fn):
    x = _sweep(dtype, -30.0, 30.0, 200_000, rng)
    x = np.concatenate([x, (rng.standard_normal(100_000) * 1e-3).astype(dtype)])
    A = np.empty((1, x.size), dtype)
    cpp.activation_forward(x.reshape(1, -1), A, contract.ACTIVATIONS[fn], 0.0)
    err, where = _ulp_err(A[0], x, fn, dtype)
    assert err <= MAX_ULP[fn], f"{fn} {np.dtype(dtype).name}: {err:.2f} ulp at {where!r}"
    if fn == "tanh":
        assert np.array_equal(np.signbit(A[0][x == 0]), np.signbit(x[x == 0]))  # tanh(-0) = -0
    else:
        assert A[0][x == np.inf][0] == 1.0 and A[0][x == -np.inf][0] == 0.0


def test_exp_through_softmax(cpp, dtype, rng):
    """Column [0, x] with x <= 0: A[1] = e^x / (1 + e^x); checks exp including underflow."""
    lo = -110.0 if dtype == np.float32 else -750.0
    x = np.concatenate([np.linspace(lo, 0.0, 100_000), rng.uniform(lo, 0.0, 100_000), [-np.inf, -0.0]]).astype(dtype)
    Z = np.stack([np.zeros_like(x), x])
    A = np.empty_like(Z)
    cpp.activation_forward(Z, A, contract.ACT_SOFTMAX, 0.0)
    # recover e^x = A1 / A0 (A0 = 1 / (1 + e) exactly as computed): compare against truth of the formula
    e = _truth("exp", x.astype(np.float64) if dtype == np.float32 else x)
    want = (e / (1 + e)).astype(np.longdouble)
    ulp = np.maximum(np.abs(want) * np.finfo(dtype).eps, np.longdouble(np.finfo(dtype).smallest_subnormal))
    err = np.abs(A[1].astype(np.longdouble) - want) / ulp
    assert float(err.max()) <= 4.0  # exp error + the division
    assert A[1][x == -np.inf][0] == 0.0 and not np.isnan(A).any()


def test_log_through_costs(cpp, dtype, rng):
    """bce with y = 1 on one element is exactly -double(log_T(max(a, tiny)))."""
    tiny = np.finfo(dtype).tiny
    x = np.concatenate([rng.uniform(0, 1, 400), np.exp(rng.uniform(-80, 0, 400)), [1.0, 0.5, tiny, tiny * 3, 1e-30, 0.999999]])
    x = x.astype(dtype)
    got = np.array([-cpp.bce_cost(np.array([[v]], dtype), np.ones((1, 1), dtype)) for v in x], dtype)
    err, where = _ulp_err(got, x, "log", dtype)
    assert err <= MAX_ULP["log"], f"log {np.dtype(dtype).name}: {err:.2f} ulp at {where!r}"
    # log(0) is clamped to log(tiny): finite
    assert np.isfinite(cpp.bce_cost(np.zeros((1, 3), dtype), np.ones((1, 3), dtype)))


_ISA_SCRIPT = r"""
import hashlib, numpy as np
from pyneural.backends import load
cpp = load("cpp")
rng = np.random.default_rng(1)
h = hashlib.sha256()
for dt in (np.float32, np.float64):
    for shape in [(1, 1), (3, 131), (257, 129), (64, 4096), (33, 1000)]:
        A = rng.standard_normal(shape).astype(dt)
        A.flat[::7] = -0.0
        A.flat[3::11] = np.inf
        for kp in (1e-10, 1e-9, 0.5, 0.8, 1.0):
            for order in ("C", "F"):
                Aa = np.asarray(A, order=order)
                out = np.empty_like(Aa)
                m = np.empty(A.shape, np.uint8, order=order)
                cpp.dropout_forward(Aa, out, m, kp, 2**40 + 17, 3, 5)
                h.update(out.tobytes()); h.update(m.tobytes())
print(h.hexdigest())
"""


def test_dropout_simd_paths_bit_identical(cpp):
    """AVX-512, AVX2 and scalar Philox (PYNEURAL_PHILOX caps the run-time choice) give the
    same masks and outputs, bit for bit (all run on an AVX-512 machine; lower ones elsewhere)."""
    digests = {}
    for cap in ("", "avx2", "scalar"):
        env = dict(os.environ, PYNEURAL_PHILOX=cap)
        # cwd="/": from the repository root, "-c" would import the source tree (no _core).
        res = subprocess.run([sys.executable, "-c", _ISA_SCRIPT], env=env, capture_output=True, text=True, check=True,
                             cwd="/")
        digests[cap or "best"] = res.stdout.strip()
    assert len(set(digests.values())) == 1, digests


def test_dropout_long_run_matches_reference(cpp, rng):
    """A long flat run (many SIMD steps and a scalar tail), against the NumPy reference."""
    ref = load("numpy")
    A = rng.standard_normal((3, 40_001)).astype(np.float32)
    got_out, got_mask = np.empty_like(A), np.empty(A.shape, np.uint8)
    want_out, want_mask = np.empty_like(A), np.empty(A.shape, np.uint8)
    cpp.dropout_forward(A, got_out, got_mask, 0.7, 99, 12, 4)
    ref.dropout_forward(A, want_out, want_mask, 0.7, 99, 12, 4)
    np.testing.assert_array_equal(got_mask, want_mask)
    np.testing.assert_array_equal(got_out, want_out)
