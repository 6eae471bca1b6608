"""Vectorisable exp, log, tanh and sigmoid for float32 and float64 inside Numba kernels.

Numba lowers ``np.exp`` / ``np.log`` / ``np.tanh`` to scalar libm calls (SVML is not there to
replace them), so every loop calling them stays scalar at ~5-20 ns per element. These
helpers are a port of the C++ core's ``csrc/include/pyneural/simd_math.hpp``: the same
formulas, constants and operation order, made of +, -, *, /, compares, selects and integer
bit operations only, inlined (``inline="always"``) into the calling loop, which LLVM then
vectorises like any other arithmetic.

Bits: kernels are compiled without fastmath (``_jit.FASTMATH``) and nothing here is written
as a fused multiply-add, so each function performs the IEEE operations of its C++
counterpart in the same order and returns the same bits for the same input (NaN payloads
aside) - vectorised or not, in any thread count. They differ from libm/NumPy by a few ulp
(max errors against a long-double truth over dense sweeps are asserted in
``tests/backends/test_numba_simd_math.py``).

Special values (as in C++): exp(+-inf) = inf / 0, overflow gives inf and the underflow goes
through the subnormals to 0 with a single rounding; log(0) = -inf, log(x < 0) = NaN,
log(inf) = inf, subnormal inputs are scaled exactly first; tanh(+-inf) = +-1,
tanh(+-0) = +-0; sigmoid saturates to exactly 0 / 1. NaN in gives NaN out everywhere.

Integers: Numba widens integer arithmetic to 64 bits, so the bit manipulations run on uint64
(unsigned: wrap-around, as C++'s unsigned types, and no ``nsw`` flags); the float32 bits are
zero-extended and masked back to 32 bits before the one right shift that would see the high
bits, and :func:`_from_bits` truncates, so every result equals C++'s ``uint32_t`` arithmetic.

Use from a kernel: ``from .simd_math import exp`` and call ``exp(x)`` on a float32 or
float64 scalar; the version is chosen by the argument's type, so constants never promote
float32 to float64. From Python the functions run compiled on one scalar (for tests).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload, register_jitable

from ._jit import FASTMATH

_INLINE = dict(inline="always")

# ---- bit casts ----------------------------------------------------------------------------


@intrinsic
def _to_bits(typingctx, x):
    """The IEEE bits of a float32 / float64 as a uint64 (float32: zero-extended)."""
    if not isinstance(x, types.Float):
        return None
    width = x.bitwidth

    def codegen(context, builder, sig, args):
        bits = builder.bitcast(args[0], ir.IntType(width))
        return builder.zext(bits, ir.IntType(64)) if width < 64 else bits

    return types.uint64(x), codegen


@intrinsic
def _from_bits(typingctx, u, like):
    """The float of ``like``'s type whose bits are the low bits of the 64-bit integer ``u``."""
    if not (isinstance(u, types.Integer) and u.bitwidth == 64 and isinstance(like, types.Float)):
        return None
    width = like.bitwidth

    def codegen(context, builder, sig, args):
        bits = builder.trunc(args[0], ir.IntType(width)) if width < 64 else args[0]
        return builder.bitcast(bits, context.get_value_type(like))

    return like(u, like), codegen


# ---- polynomials (near-minimax Chebyshev fits, made with mpmath.chebyfit; as in C++) ------
# float32 coefficients are float literals in C++ (decimal rounded once to float); here they
# are np.float32 of the decimal, which the tests check is the same rounding.
_f = np.float32


@register_jitable(**_INLINE)
def _exp_q32(r):
    """Q(r) = (e^r - 1 - r) / r^2 on |r| <= 0.35 (so e^r = 1 + r + r^2 Q(r))."""
    return _f(0.5) + r * (_f(0.16666573423859741391) + r * (_f(0.041666550162720300509) + r * (
        _f(0.0083637670232870369657) + r * _f(0.0013926918055947981606))))


@register_jitable(**_INLINE)
def _exp_q64(r):
    return 0.50000000000000011267 + r * (0.16666666666666667533 + r * (0.041666666666620679954 + r * (
        0.008333333333329796681 + r * (0.0013888888918918906171 + r * (0.00019841269864364931867 + r * (
            0.000024801518672268354212 + r * (2.7557266442353424752e-6 + r * (
                2.7621324269313686155e-7 + r * 2.5101335854788521849e-8))))))))


@register_jitable(**_INLINE)
def _log_r32(z):
    """R(z) / z where log(1 + f) = 2s + s R(z), s = f / (2 + f), z = s^2 <= 0.02944."""
    return _f(0.66666685041012674272) + z * (_f(0.39988779977937430218) + z * _f(0.29579976082732718484))


@register_jitable(**_INLINE)
def _log_r64(z):
    return 0.66666666666666696867 + z * (0.39999999999899488719 + z * (0.28571428625982638331 + z * (
        0.22222211133627372625 + z * (0.18182889210338451055 + z * (
            0.15331718772652658013 + z * 0.14616484638725867704)))))


@register_jitable(**_INLINE)
def _tanh_small32(x):
    """tanh(x) for |x| < 0.625: x + x^3 p(x^2), p a degree-5 polynomial."""
    z = x * x
    p = _f(-0.33333333172140361638) + z * (_f(0.13333303556915741766) + z * (_f(-0.053959259577204542744) + z * (
        _f(0.021768918651028210152) + z * (_f(-0.008343945515839152048) + z * _f(0.0022927448161781423431)))))
    return x + (x * z) * p


@register_jitable(**_INLINE)
def _tanh_small64(x):
    """tanh(x) for |x| < 0.625: Cephes' rational P(z) / Q(z), z = x^2 (rel. error 5e-18)."""
    z = x * x
    p = (-9.64399179425052238628E-1 * z + -9.92877231001918586564E1) * z + -1.61468768441708447952E3
    q = ((z + 1.12811678491632931402E2) * z + 2.23548839060100448583E3) * z + 4.84406305325125486048E3
    return x + ((x * z) * p) / q


# ---- formats ------------------------------------------------------------------------------


class _Fmt:
    """Constants of one float format (``Fmt<T>`` in C++), as typed NumPy scalars."""

    def __init__(self, T, mant, bias, magic, magic_bits, sqrt_half_bits, exp_hi, exp_lo, ln2_hi, ln2_lo,
                 exp_q, log_r, tanh_small):
        U = np.uint64
        self.T, self.exp_q, self.log_r, self.tanh_small = T, exp_q, log_r, tanh_small
        self.mant = U(mant)
        self.bias = np.int64(bias)
        self.width_mask = U((1 << (np.dtype(T).itemsize * 8)) - 1)  # wrap-around of the C++ U
        self.magic, self.magic_bits = T(magic), U(magic_bits)  # magic = 1.5 * 2^mant
        self.sqrt_half_bits = U(sqrt_half_bits)  # sqrt(0.5) rounded to T
        self.bias_bits = U(bias << mant)
        self.sub_bias = U(bias + mant)  # exponent offset of a subnormal scaled by 2^mant
        self.mant_mask = U((1 << mant) - 1)
        self.two_mant = T(2.0**mant)  # scales subnormals to normals
        self.tiny = T(np.finfo(T).tiny)
        self.exp_hi, self.exp_lo = T(exp_hi), T(exp_lo)  # above: inf; below: 0
        # Cody-Waite ln 2 = ln2_hi + ln2_lo; k * ln2_hi is exact for every k that occurs.
        self.ln2_hi, self.ln2_lo = T(ln2_hi), T(ln2_lo)
        self.log2e = T(1.44269504088896340736)
        self.tanh_lim = T(0.625)
        self.zero, self.half, self.one, self.two = T(0.0), T(0.5), T(1.0), T(2.0)
        self.inf, self.nan = T(np.inf), T(np.nan)


_F32 = _Fmt(np.float32, 23, 127, 12582912.0, 0x4B400000, 0x3F3504F3, 88.8, -104.0, 0.693359375, -2.12194440e-4,
            _exp_q32, _log_r32, _tanh_small32)
_F64 = _Fmt(np.float64, 52, 1023, 6755399441055744.0, 0x4338000000000000, 0x3FE6A09E667F3BCD, 709.9, -745.2,
            6.93145751953125E-1, 1.42860682030941723212E-6, _exp_q64, _log_r64, _tanh_small64)


def _fmt(x):
    """The format of Numba scalar type ``x``, or None (then the overload does not apply)."""
    return {types.float32: _F32, types.float64: _F64}.get(x)


# ---- functions, built per format ----------------------------------------------------------


def _make_exp(F):
    exp_q, magic, magic_bits, log2e = F.exp_q, F.magic, F.magic_bits, F.log2e
    exp_hi, exp_lo, ln2_hi, ln2_lo, one, bias, mant = F.exp_hi, F.exp_lo, F.ln2_hi, F.ln2_lo, F.one, F.bias, F.mant

    def exp(x):
        # e^x = 2^k e^r, k = round(x / ln 2), r = x - k ln 2 (Cody-Waite, exact first step).
        # 2^k is applied as 2^(k - o) 2^o, o in {-64, 0, 64}, so both factors are normal:
        # overflow gives inf and subnormal results are rounded once.
        xc = exp_hi if x > exp_hi else x  # NaN passes both clamps and poisons p
        xc = exp_lo if xc < exp_lo else xc
        t = xc * log2e + magic  # rounds to the nearest integer, held in the low mantissa bits
        kf = t - magic
        r = (xc - kf * ln2_hi) - kf * ln2_lo
        p = one + (r + (r * r) * exp_q(r))
        k = np.int64(_to_bits(t) - magic_bits)
        o = 64 if k > 64 else (-64 if k < -64 else 0)
        s1 = _from_bits(np.uint64(k - o + bias) << mant, x)  # 2^(k - o), built from bits
        s2 = _from_bits(np.uint64(o + bias) << mant, x)
        return (p * s1) * s2

    return exp


def _make_log(F):
    log_r, tiny, two_mant, sqrt_half_bits, bias_bits = F.log_r, F.tiny, F.two_mant, F.sqrt_half_bits, F.bias_bits
    width_mask, mant, sub_bias, magic_bits, magic = F.width_mask, F.mant, F.sub_bias, F.magic_bits, F.magic
    mant_mask, one, two, half, ln2_hi, ln2_lo = F.mant_mask, F.one, F.two, F.half, F.ln2_hi, F.ln2_lo
    zero, inf, nan = F.zero, F.inf, F.nan
    bias_u = np.uint64(F.bias)

    def log(x):
        # x = 2^k m, m in [sqrt(1/2), sqrt(2)); log x = k ln 2 + log m, log m from
        # s = f / (2 + f), f = m - 1 (fdlibm). Every input goes through the same arithmetic;
        # the special values are selected last.
        sub = x < tiny
        xs = x * two_mant if sub else x
        # bits - bits(sqrt(1/2)) splits into exponent k and a mantissa re-based on sqrt(1/2);
        # the added bias keeps the difference non-negative so a logical shift extracts k + bias.
        ix = (_to_bits(xs) - sqrt_half_bits + bias_bits) & width_mask
        ku = (ix >> mant) - (sub_bias if sub else bias_u)  # k, two's complement
        kf = _from_bits(ku + magic_bits, x) - magic  # exact int -> float
        m = _from_bits((ix & mant_mask) + sqrt_half_bits, x)
        f = m - one
        s = f / (two + f)
        z = s * s
        R = z * log_r(z)
        hfsq = half * f * f
        res = kf * ln2_hi - ((hfsq - (s * (hfsq + R) + kf * ln2_lo)) - f)
        res = inf if x == inf else res
        res = -inf if x == zero else res
        res = nan if x < zero else res
        return x if x != x else res

    return log


def _make_tanh(F, exp):
    tanh_small, zero, one, two, lim = F.tanh_small, F.zero, F.one, F.two, F.tanh_lim

    def tanh(x):
        # odd polynomial / rational below 0.625, else sign(x) (1 - 2 / (e^{2|x|} + 1)), which
        # is exactly +-1 once e^{2|x|} is large or inf.
        ax = -x if x < zero else x
        e = exp(ax + ax)
        big = one - two / (e + one)
        big = -big if x < zero else big
        small = x if x == zero else tanh_small(x)  # keeps tanh(-0) = -0 (-0 + +0 is +0)
        return small if ax < lim else big

    return tanh


def _make_sigmoid(F, exp):
    zero, one = F.zero, F.one

    def sigmoid(x):
        # Stable logistic as the reference: exp only of -|x|, e / (1 + e) for x < 0 else
        # 1 / (1 + e). The numerator is selected first: one division, the same IEEE one.
        e = exp(x if x < zero else -x)
        return (e if x < zero else one) / (one + e)

    return sigmoid


_JIT = dict(fastmath=FASTMATH, error_model="numpy", nogil=True, **_INLINE)


def _public(name, impls, doc):
    """The kernel-callable function ``name``: ``impls[fmt]`` chosen by the argument's type
    (float32 / float64) through an overload. Everything is inlined into the caller (Numba IR
    inlining), so the caller's flags apply: no fastmath, no division-by-zero checks."""

    def stub(x):
        raise TypeError(f"simd_math.{name} runs in Numba code only")

    @overload(stub, jit_options=dict(fastmath=FASTMATH, error_model="numpy"), **_INLINE)
    def _ol(x):
        F = _fmt(x)
        return None if F is None else impls[F]

    def fn(x):
        return stub(x)

    stub.__name__ = stub.__qualname__ = f"_{name}"
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return numba.njit(**_JIT)(fn)


_FMTS = (_F32, _F64)
_EXP = {F: register_jitable(**_INLINE)(_make_exp(F)) for F in _FMTS}
exp = _public("exp", _EXP, "e^x for a float32 / float64 scalar, in its dtype.")
log = _public("log", {F: _make_log(F) for F in _FMTS}, "Natural logarithm of a float32 / float64 scalar, in its dtype.")
tanh = _public("tanh", {F: _make_tanh(F, _EXP[F]) for F in _FMTS},
               "Hyperbolic tangent of a float32 / float64 scalar, in its dtype.")
sigmoid = _public("sigmoid", {F: _make_sigmoid(F, _EXP[F]) for F in _FMTS},
                  "Logistic ``1 / (1 + e^-x)`` of a float32 / float64 scalar (stable on both tails).")
