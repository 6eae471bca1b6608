"""The Numba backend's vectorisable transcendentals (pyneural/backends/numba_jit/simd_math.py).

* bit-identity with an independent NumPy transcription of the C++ formulas
  (csrc/include/pyneural/simd_math.hpp): unsigned-integer arrays for the bit operations,
  one NumPy ufunc per IEEE operation in the C++ order; and, once that header is in the tree,
  with the C++ backend itself;
* accuracy against a long-double truth (the C++ test's bounds) and against NumPy, over dense
  sweeps incl. +-0, +-inf, NaN, subnormals and the overflow / underflow / saturation edges;
* the vectorised loop and the scalar path agree bit for bit, and the backend's kernels use
  these functions.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

numba = pytest.importorskip("numba")
sm = pytest.importorskip("pyneural.backends.numba_jit.simd_math")

FNS = ("exp", "log", "tanh", "sigmoid")
# Max ulp errors against the long-double truth, the C++ test's bounds (measured there: exp
# 1.04, log 0.85, tanh 1.34, sigmoid 2.40); the same formulas give the same errors here.
MAX_ULP = {"tanh": 2.0, "sigmoid": 3.0, "exp": 2.0, "log": 1.5}
# ... and in units of the last place of NumPy's result, NumPy's own error included (measured
# over 3M-point sweeps: float32 exp 3, log 3, tanh 2, sigmoid 3 - NumPy's float32 SIMD exp / log
# are themselves up to 2.4 / 3.3 ulp off - and float64 exp 1, log 1, tanh 2, sigmoid 2).
MAX_ULP_VS_NUMPY = {
    np.float32: {"exp": 4.0, "log": 4.0, "tanh": 3.0, "sigmoid": 4.0},
    np.float64: {"exp": 2.0, "log": 2.0, "tanh": 3.0, "sigmoid": 3.0},
}


def _kernel(fn):
    @numba.njit(fastmath=False, error_model="numpy", nogil=True)
    def run(x, out):
        for j in range(x.shape[0]):
            out[j] = fn(x[j])

    return run


_LOOPS = {name: _kernel(getattr(sm, name)) for name in FNS}


def _numba(name, x):
    out = np.empty_like(x)
    _LOOPS[name](x, out)
    return out


# ---- NumPy transcription of simd_math.hpp -------------------------------------------------


class _C:
    """Fmt<T> of the C++ header, as NumPy scalars / unsigned integers."""

    def __init__(self, T):
        self.T = T
        f32 = T == np.float32
        self.U = np.uint32 if f32 else np.uint64
        self.I = np.int32 if f32 else np.int64
        self.mant = 23 if f32 else 52
        self.bias = 127 if f32 else 1023
        self.magic = T(12582912.0 if f32 else 6755399441055744.0)
        self.magic_bits = self.U(0x4B400000 if f32 else 0x4338000000000000)
        self.sqrt_half_bits = self.U(0x3F3504F3 if f32 else 0x3FE6A09E667F3BCD)
        self.mant_mask = self.U(0x007FFFFF if f32 else 0x000FFFFFFFFFFFFF)
        self.two_mant = T(8388608.0 if f32 else 4503599627370496.0)
        self.exp_hi = T(88.8 if f32 else 709.9)
        self.exp_lo = T(-104.0 if f32 else -745.2)
        self.ln2_hi = T(0.693359375 if f32 else 6.93145751953125e-1)
        self.ln2_lo = T(-2.12194440e-4 if f32 else 1.42860682030941723212e-6)


def _np_poly(z, coefs, T):
    """c0 + z (c1 + z (c2 + ...)), evaluated innermost first like the C++ expression."""
    acc = T(coefs[-1])
    for c in reversed(coefs[:-1]):
        acc = T(c) + z * acc
    return acc


_EXP_Q = {
    np.float32: (0.5, 0.16666573423859741391, 0.041666550162720300509, 0.0083637670232870369657,
                 0.0013926918055947981606),
    np.float64: (0.50000000000000011267, 0.16666666666666667533, 0.041666666666620679954, 0.008333333333329796681,
                 0.0013888888918918906171, 0.00019841269864364931867, 0.000024801518672268354212,
                 2.7557266442353424752e-6, 2.7621324269313686155e-7, 2.5101335854788521849e-8),
}
_LOG_R = {
    np.float32: (0.66666685041012674272, 0.39988779977937430218, 0.29579976082732718484),
    np.float64: (0.66666666666666696867, 0.39999999999899488719, 0.28571428625982638331, 0.22222211133627372625,
                 0.18182889210338451055, 0.15331718772652658013, 0.14616484638725867704),
}
_TANH_P32 = (-0.33333333172140361638, 0.13333303556915741766, -0.053959259577204542744, 0.021768918651028210152,
             -0.008343945515839152048, 0.0022927448161781423431)


def _np_exp(x):
    T = x.dtype.type
    C = _C(T)
    with np.errstate(all="ignore"):
        xc = np.where(x > C.exp_hi, C.exp_hi, x)
        xc = np.where(xc < C.exp_lo, C.exp_lo, xc)
        t = xc * T(1.44269504088896340736) + C.magic
        kf = t - C.magic
        r = (xc - kf * C.ln2_hi) - kf * C.ln2_lo
        p = T(1) + (r + (r * r) * _np_poly(r, _EXP_Q[T], T))
        k = (t.view(C.U) - C.magic_bits).view(C.I)
        o = np.where(k > 64, 64, np.where(k < -64, -64, 0)).astype(C.I)
        s1 = ((k - o + C.I(C.bias)).view(C.U) << C.U(C.mant)).view(T)
        s2 = ((o + C.I(C.bias)).view(C.U) << C.U(C.mant)).view(T)
        return (p * s1) * s2


def _np_log(x):
    T = x.dtype.type
    C = _C(T)
    U = C.U
    with np.errstate(all="ignore"):
        sub = x < np.finfo(T).tiny
        xs = np.where(sub, x * C.two_mant, x)
        ix = xs.view(U) - C.sqrt_half_bits + (U(C.bias) << U(C.mant))
        ku = (ix >> U(C.mant)) - np.where(sub, U(C.bias + C.mant), U(C.bias))
        kf = (ku + C.magic_bits).view(T) - C.magic
        m = ((ix & C.mant_mask) + C.sqrt_half_bits).view(T)
        f = m - T(1)
        s = f / (T(2) + f)
        z = s * s
        R = z * _np_poly(z, _LOG_R[T], T)
        hfsq = T(0.5) * f * f
        res = kf * C.ln2_hi - ((hfsq - (s * (hfsq + R) + kf * C.ln2_lo)) - f)
        res = np.where(x == np.inf, T(np.inf), res)
        res = np.where(x == 0, T(-np.inf), res)
        res = np.where(x < 0, T(np.nan), res)
        return np.where(x != x, x, res)


def _np_tanh_small(x):
    T = x.dtype.type
    z = x * x
    if T == np.float32:
        return x + (x * z) * _np_poly(z, _TANH_P32, T)
    p = (T(-9.64399179425052238628e-1) * z + T(-9.92877231001918586564e1)) * z + T(-1.61468768441708447952e3)
    q = ((z + T(1.12811678491632931402e2)) * z + T(2.23548839060100448583e3)) * z + T(4.84406305325125486048e3)
    return x + ((x * z) * p) / q


def _np_tanh(x):
    T = x.dtype.type
    with np.errstate(all="ignore"):
        ax = np.where(x < 0, -x, x)
        e = _np_exp(ax + ax)
        big = T(1) - T(2) / (e + T(1))
        big = np.where(x < 0, -big, big)
        small = np.where(x == 0, x, _np_tanh_small(x))
        return np.where(ax < T(0.625), small, big)


def _np_sigmoid(x):
    T = x.dtype.type
    with np.errstate(all="ignore"):
        e = _np_exp(np.where(x < 0, x, -x))
        return np.where(x < 0, e / (T(1) + e), T(1) / (T(1) + e))


_TRANSCRIPTION = {"exp": _np_exp, "log": _np_log, "tanh": _np_tanh, "sigmoid": _np_sigmoid}


# ---- inputs and errors --------------------------------------------------------------------

SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-45, -1e-45, 1.17549435e-38, 5e-324,
            2.2250738585072014e-308, 0.625, -0.625, 0.62499994, 9.0, 9.01, 9.1, 19.06, 19.1, 20.0, 36.8, 37.0,
            88.72, 88.73, 88.8, 89.0, 103.9, 104.0, 709.78, 709.79, 709.9, 710.0, -87.33, -103.9, -104.0,
            -104.1, -708.4, -745.1, -745.2, -746.0, 1.0, -1.0, 3.4028235e38, -3.4028235e38, 1.7976931348623157e308,
            -1.7976931348623157e308, 1e300, -1e300, 0.7071067811865476, 1.4142135623730951, 2.0, 0.5]


def _bits_around(dtype, centres, half_width):
    """Every float of ``dtype`` within ``half_width`` steps of each centre."""
    U = np.uint32 if dtype == np.float32 else np.uint64
    out = []
    for c in centres:
        b = np.asarray(c, dtype).view(U)
        out.append((b + np.arange(-half_width, half_width, dtype=np.int64).astype(U)).view(dtype))
    return np.concatenate(out)


def _sweep(fn, dtype, rng, n=200_000):
    f32 = dtype == np.float32
    info = np.finfo(dtype)
    if fn == "log":
        parts = [np.linspace(0.0, 4.0, n), rng.uniform(0.0, 4.0, n), np.exp(rng.uniform(-700, 700, n)),
                 rng.uniform(0, float(info.tiny) * 4, n // 10), -rng.uniform(0, 10, 100)]
        centres = [0.7071067811865476, 1.0, 1.4142135623730951, float(info.tiny), float(info.smallest_subnormal)]
    else:
        lim = {"exp": (-110.0, 90.0) if f32 else (-750.0, 712.0)}.get(fn, (-30.0, 30.0) if f32 else (-50.0, 50.0))
        parts = [np.linspace(*lim, n), rng.uniform(*lim, n), rng.standard_normal(n // 2) * 1e-3,
                 rng.standard_normal(n // 2) * 1e-30]
        centres = [0.625, -0.625, 1.0, -1.0, 0.0, -0.0]
        centres += [88.72, 88.8, -87.33, -103.97, -104.0] if f32 else [709.78, 709.9, -708.4, -745.13, -745.2]
    with np.errstate(over="ignore"):
        x = np.concatenate(parts + [np.array(SPECIALS)]).astype(dtype)
    return np.concatenate([x, _bits_around(dtype, centres, 20_000 if f32 else 2_000)])


def _truth(fn, x):
    """Reference in long double (x87 80-bit on x86-64 Linux; at least float64 elsewhere)."""
    xl = x.astype(np.longdouble)
    with np.errstate(all="ignore"):
        if fn == "sigmoid":
            e = np.exp(-np.abs(xl))
            return np.where(xl < 0, e / (1 + e), 1 / (1 + e))
        return getattr(np, fn)(xl)


def _ulps(got, want, dtype):
    """|got - want| in units of the last place of ``want`` in ``dtype`` (finite ``want``)."""
    info = np.finfo(dtype)
    w = np.asarray(want, np.longdouble)
    ulp = np.maximum(np.ldexp(np.longdouble(1), np.frexp(np.abs(w))[1] - info.nmant - 1),
                     np.longdouble(info.smallest_subnormal))
    return np.abs(got.astype(np.longdouble) - w) / ulp


def _max_err(fn, got, x, dtype, want):
    """Max ulp error on the finite part; non-finite and NaN cases must match ``want`` exactly."""
    with np.errstate(all="ignore"):
        w = want.astype(dtype)
        special = ~np.isfinite(w) | np.isnan(x)
        ok = (np.isnan(w) & np.isnan(got)) | (w == got)
        bad = special & ~ok
        assert not bad.any(), f"{fn} {np.dtype(dtype).name}: {x[bad][:5]} -> {got[bad][:5]}, want {w[bad][:5]}"
        fin = ~special
        assert np.isfinite(got[fin]).all(), f"{fn}: non-finite result for a finite truth"
        err = _ulps(got[fin], want[fin], dtype)
        i = int(np.argmax(err))
        return float(err[i]), x[fin][i]


def _same_bits(a, b):
    return (a.view(np.uint8).reshape(a.size, -1) == b.view(np.uint8).reshape(b.size, -1)).all(axis=1) | (
        np.isnan(a) & np.isnan(b))


# ---- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", FNS)
def test_bit_identical_to_transcription_of_cpp(fn, dtype, rng):
    x = _sweep(fn, dtype, rng)
    got, want = _numba(fn, x), _TRANSCRIPTION[fn](x)
    same = _same_bits(got, want)
    assert same.all(), f"{fn}: {x[~same][:5]} -> {got[~same][:5]}, transcription {want[~same][:5]}"


@pytest.mark.parametrize("fn", FNS)
def test_max_ulp_vs_truth(fn, dtype, rng):
    x = _sweep(fn, dtype, rng)
    err, where = _max_err(fn, _numba(fn, x), x, dtype, _truth(fn, x))
    assert err <= MAX_ULP[fn], f"{fn} {np.dtype(dtype).name}: {err:.2f} ulp at {where!r}"


_NUMPY = {"exp": np.exp, "log": np.log, "tanh": np.tanh}


def _numpy_sigmoid(x):  # the reference backend's formula
    e = np.exp(-np.abs(x))
    return np.where(x < 0, e / (1 + e), 1 / (1 + e))


@pytest.mark.parametrize("fn", FNS)
def test_max_ulp_vs_numpy(fn, dtype, rng):
    x = _sweep(fn, dtype, rng)
    with np.errstate(all="ignore"):
        want = _NUMPY.get(fn, _numpy_sigmoid)(x)
    err, where = _max_err(fn, _numba(fn, x), x, dtype, want)
    assert err <= MAX_ULP_VS_NUMPY[dtype][fn], f"{fn} {np.dtype(dtype).name}: {err:.2f} ulp from NumPy at {where!r}"


def test_special_values(dtype):
    T = dtype
    info = np.finfo(dtype)
    inf, nan = T(np.inf), T(np.nan)
    big = T(3e38) if dtype == np.float32 else T(1e308)
    with np.errstate(all="ignore"):
        x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, big, -big], dtype)
        e, lg, th, sg = (_numba(fn, x) for fn in FNS)
    np.testing.assert_array_equal(e, [1, 1, inf, 0, nan, nan, inf, 0])
    np.testing.assert_array_equal(lg, [-inf, -inf, inf, nan, nan, nan, np.log(big), nan])
    np.testing.assert_array_equal(th, [0, 0, 1, -1, nan, nan, 1, -1])
    np.testing.assert_array_equal(np.signbit(th[:2]), [False, True])  # tanh(-0) = -0
    np.testing.assert_array_equal(sg, [0.5, 0.5, 1, 0, nan, nan, 1, 0])
    # log of subnormals (exact pre-scaling) and of the smallest normal
    sub = np.array([info.smallest_subnormal, info.smallest_subnormal * 3, info.tiny / 2, info.tiny], dtype)
    err, where = _max_err("log", _numba("log", sub), sub, dtype, _truth("log", sub))
    assert err <= MAX_ULP["log"], f"log of subnormals: {err:.2f} ulp at {where!r}"


def test_overflow_underflow_and_saturation_edges(dtype):
    f32 = dtype == np.float32
    # exp: the last finite value, the first overflow, the underflow through the subnormals to 0
    hi = np.log(np.longdouble(np.finfo(dtype).max))
    x_hi = _bits_around(dtype, [float(hi)], 50)
    with np.errstate(over="ignore"):
        want = _truth("exp", x_hi).astype(dtype)
        got = _numba("exp", x_hi)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    lo = -104.0 if f32 else -745.2
    x_lo = np.array([lo, np.nextafter(dtype(lo), dtype(-np.inf)), lo - 1, -1e4, 2 * lo], dtype)
    assert (_numba("exp", x_lo) == 0).all()
    sub_lo = np.array([-88.0, -95.0, -100.0, -103.0] if f32 else [-709.0, -720.0, -740.0, -744.4], dtype)
    e = _numba("exp", sub_lo)
    assert ((e > 0) & (e < np.finfo(dtype).tiny)).all()  # subnormal results, not flushed to 0
    # tanh and sigmoid reach +-1 / 0 / 1 exactly and stay there
    t_sat = 9.1 if f32 else 19.1
    s_sat = 17.0 if f32 else 37.0
    ramp = np.geomspace(1.0, 1e4, 200) if f32 else np.geomspace(1.0, 1e6, 200)
    x = (np.concatenate([ramp + t_sat - 1, [3e38 if f32 else 1e308]])).astype(dtype)
    assert (_numba("tanh", x) == 1).all() and (_numba("tanh", -x) == -1).all()
    x = (np.concatenate([ramp + s_sat - 1, [3e38 if f32 else 1e308]])).astype(dtype)
    assert (_numba("sigmoid", x) == 1).all()
    x = (np.concatenate([ramp - lo - 1, [3e38 if f32 else 1e308]])).astype(dtype)
    assert (_numba("sigmoid", -x) == 0).all()
    mono = _numba("sigmoid", np.linspace(-lo, lo, 100_001).astype(dtype))
    assert (np.diff(mono) <= 0).all()  # monotone through the tails


def test_vector_loop_matches_scalar_calls(dtype, rng):
    """The vectorised loop body and the scalar code (tail / Python call) give the same bits."""
    x = np.concatenate([rng.standard_normal(61) * 10, np.array(SPECIALS[:30]), rng.uniform(0, 3, 20)]).astype(dtype)
    for fn in FNS:
        with np.errstate(all="ignore"):
            vec = _numba(fn, x)
            one = np.array([getattr(sm, fn)(v) for v in x], dtype)
        assert _same_bits(vec, one).all(), fn


def test_float32_literals_rounded_once():
    """np.float32(python float) rounds twice (decimal -> double -> float); C++ float literals
    once. Every float32 literal of the module must come out the same both ways."""
    src = Path(sm.__file__).read_text()
    lits = re.findall(r"_f\(([-+0-9.eE]+)\)", src)
    f32_fmt = src[src.index("_F32 = _Fmt("):src.index("_F64 = _Fmt(")]
    lits += re.findall(r"(?<![\w.])-?\d+\.\d*(?:[eE][-+]?\d+)?", f32_fmt)
    assert len(lits) > 15
    for s in lits:
        q = Fraction(s)
        v = np.float32(float(s))
        cands = [np.nextafter(v, np.float32(-np.inf)), v, np.nextafter(v, np.float32(np.inf))]
        best = min(cands, key=lambda c: (abs(Fraction(float(c)) - q), int(np.float32(c).view(np.uint32)) & 1))
        assert best == v, f"{s}: np.float32 gives {v!r}, correctly rounded {best!r}"


def test_backend_kernels_use_simd_math(dtype, rng):
    """The numba backend's sigmoid / tanh / softmax / bce go through these functions."""
    from pyneural.backends import contract, load

    nb = load("numba")
    Z = (rng.standard_normal((3, 257)) * 4).astype(dtype)
    for fn in ("tanh", "sigmoid"):
        A = np.empty_like(Z)
        nb.activation_forward(Z, A, contract.ACTIVATIONS[fn], 0.0)
        assert _same_bits(A.ravel(), _numba(fn, Z.ravel())).all(), fn
    A = np.empty_like(Z)
    nb.activation_forward(Z, A, contract.ACT_SOFTMAX, 0.0)
    e = _numba("exp", (Z - Z.max(axis=0)).ravel()).reshape(Z.shape)
    s = np.zeros(Z.shape[1], dtype)
    for row in e:  # the column sums, row by row as the kernel adds them
        s = s + row
    assert _same_bits(A.ravel(), (e / s).ravel()).all()
    AL = rng.uniform(0, 1, (1, 1000)).astype(dtype)
    Y = (rng.uniform(size=AL.shape) < 0.5).astype(dtype)
    terms = Y[0].astype(np.float64) * _numba("log", AL[0]).astype(np.float64) + (1 - Y[0].astype(np.float64)) * (
        _numba("log", dtype(1) - AL[0]).astype(np.float64))
    want = 0.0
    for t in terms:  # summed in element order in float64
        want += float(t)
    assert nb.bce_cost(AL, Y) == -want


_HEADER = Path(__file__).resolve().parents[2] / "csrc" / "include" / "pyneural" / "simd_math.hpp"


@pytest.mark.skipif(not _HEADER.exists(), reason="the C++ simd_math.hpp is not in this tree yet")
@pytest.mark.parametrize("fn", ["tanh", "sigmoid", "exp"])
def test_bit_identical_to_cpp(fn, dtype, rng):
    """Same formulas, no FMA on either side: the C++ and Numba backends give the same bits."""
    from pyneural.backends import BackendUnavailableError, contract, load

    try:
        cpp = load("cpp")
    except BackendUnavailableError as exc:  # pragma: no cover - depends on the build
        pytest.skip(f"cpp backend unavailable: {exc}")
    x = _sweep(fn, dtype, rng, n=50_000)
    with np.errstate(all="ignore"):
        if fn == "exp":  # through a 2-row softmax column [0, x], x <= 0: A[1] = e^x / (1 + e^x)
            x = -np.abs(x[~np.isnan(x)])
            Z = np.stack([np.zeros_like(x), x])
            got, want = np.empty_like(Z), np.empty_like(Z)
            cpp.activation_forward(Z, got, contract.ACT_SOFTMAX, 0.0)
            load("numba").activation_forward(Z, want, contract.ACT_SOFTMAX, 0.0)
        else:
            got, want = np.empty((1, x.size), dtype), _numba(fn, x).reshape(1, -1)
            cpp.activation_forward(x.reshape(1, -1), got, contract.ACTIVATIONS[fn], 0.0)
    same = _same_bits(got.ravel(), want.ravel())
    assert same.all(), f"{fn}: C++ {got.ravel()[~same][:5]} vs Numba {want.ravel()[~same][:5]}"
