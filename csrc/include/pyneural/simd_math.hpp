// Vectorisable exp, log, tanh and sigmoid for float and double.
//
// libm's std::exp / std::log / std::tanh are opaque scalar calls, so every loop calling them
// stays scalar (~10-20 ns per element). These are branch-free inline functions made of
// +, -, *, /, compares, selects and integer bit operations only, so a plain loop calling them
// is vectorised by GCC in every PYNEURAL_CLONES clone (SSE2, AVX2, AVX-512).
//
// Bits: the build uses -ffp-contract=off and no FMA is written here, so each clone performs
// exactly the same IEEE operations in the same order: the result of a function for a given
// input is the same in the SSE2, AVX2 and AVX-512 clones and the scalar tail (and
// independent of the thread count, as for any elementwise op). They differ from libm/NumPy
// by a few ulp (max errors measured over dense sweeps: see tests/backends/test_simd_math.py).
//
// Special values: exp(+-inf) = inf / 0, exp overflows to inf and underflows through the
// subnormals to 0 with a single rounding; log(0) = -inf, log(x < 0) = NaN, log(inf) = inf,
// subnormal inputs are exact-scaled first; tanh(+-inf) = +-1, tanh(+-0) = +-0; sigmoid
// saturates to exactly 0 / 1. NaN in gives NaN out everywhere.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

#include "common.hpp"

namespace pyneural {

// Elements before p reaches a 64-byte (cache-line) boundary, at most n; 0 if p is not even
// T-aligned. Memory-bound loops run these first so their vector stores do not straddle
// cache lines: NumPy's large arrays start 16 bytes past a line, and line-split 64-byte
// stores cost ~40% of the achievable bandwidth on the AVX-512 test machine (measured).
template <class T>
PYNEURAL_ALWAYS_INLINE idx line_peel(const T* p, idx n) {
    const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p);
    if (a % sizeof(T) != 0) return 0;
    const idx k = idx(((64 - a % 64) % 64) / sizeof(T));
    return k < n ? k : n;
}

namespace simd {

template <class T>
struct Fmt;

template <>
struct Fmt<float> {
    using U = std::uint32_t;
    using I = std::int32_t;
    static constexpr int kMant = 23;
    static constexpr I kBias = 127;
    // 1.5 * 2^23: adding it rounds |y| < 2^22 to an integer held in the low mantissa bits.
    static constexpr float kMagic = 12582912.0f;
    static constexpr U kMagicBits = 0x4B400000u;
    static constexpr U kSqrtHalfBits = 0x3F3504F3u;  // sqrt(0.5) rounded to float
    static constexpr U kMantMask = 0x007FFFFFu;
    static constexpr float kTwoMant = 8388608.0f;     // 2^23, scales subnormals to normals
    static constexpr float kExpHi = 88.8f;            // above log(FLT_MAX) = 88.72: inf
    static constexpr float kExpLo = -104.0f;          // below log(2^-150): 0
    // Cody-Waite ln 2 = kLn2Hi + kLn2Lo; kLn2Hi has 9 significant bits so k * kLn2Hi is exact.
    static constexpr float kLn2Hi = 0.693359375f;
    static constexpr float kLn2Lo = -2.12194440e-4f;
    static constexpr float kTanhSmall = 0.625f;
};

template <>
struct Fmt<double> {
    using U = std::uint64_t;
    using I = std::int64_t;
    static constexpr int kMant = 52;
    static constexpr I kBias = 1023;
    static constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
    static constexpr U kMagicBits = 0x4338000000000000ull;
    static constexpr U kSqrtHalfBits = 0x3FE6A09E667F3BCDull;
    static constexpr U kMantMask = 0x000FFFFFFFFFFFFFull;
    static constexpr double kTwoMant = 4503599627370496.0;  // 2^52
    static constexpr double kExpHi = 709.9;                 // above log(DBL_MAX) = 709.78
    static constexpr double kExpLo = -745.2;                // below log(2^-1075)
    // 18 significant bits: k * kLn2Hi exact for |k| <= 1100.
    static constexpr double kLn2Hi = 6.93145751953125E-1;
    static constexpr double kLn2Lo = 1.42860682030941723212E-6;
    static constexpr double kTanhSmall = 0.625;
};

template <class T>
PYNEURAL_ALWAYS_INLINE typename Fmt<T>::U to_bits(T x) {
    typename Fmt<T>::U u;
    std::memcpy(&u, &x, sizeof u);
    return u;
}

template <class T>
PYNEURAL_ALWAYS_INLINE T from_bits(typename Fmt<T>::U u) {
    T x;
    std::memcpy(&x, &u, sizeof x);
    return x;
}

// 2^k for a k whose biased exponent is in [1, 2 * bias]: built from bits.
template <class T>
PYNEURAL_ALWAYS_INLINE T pow2i(typename Fmt<T>::I k) {
    using F = Fmt<T>;
    return from_bits<T>(typename F::U(k + F::kBias) << F::kMant);
}

// ---- polynomials (near-minimax Chebyshev fits, made with mpmath.chebyfit) ----------------

// Q(r) = (e^r - 1 - r) / r^2 on |r| <= 0.35 (so e^r = 1 + r + r^2 Q(r)).
PYNEURAL_ALWAYS_INLINE float exp_q(float r) {
    return 0.5f + r * (0.16666573423859741391f +
                       r * (0.041666550162720300509f + r * (0.0083637670232870369657f + r * 0.0013926918055947981606f)));
}
PYNEURAL_ALWAYS_INLINE double exp_q(double r) {
    return 0.50000000000000011267 +
           r * (0.16666666666666667533 +
                r * (0.041666666666620679954 +
                     r * (0.008333333333329796681 +
                          r * (0.0013888888918918906171 +
                               r * (0.00019841269864364931867 +
                                    r * (0.000024801518672268354212 +
                                         r * (2.7557266442353424752e-6 +
                                              r * (2.7621324269313686155e-7 + r * 2.5101335854788521849e-8))))))));
}

// R(z) / z where log(1 + f) = 2s + s R(z), s = f / (2 + f), z = s^2 <= 0.02944
// (f in [sqrt(1/2) - 1, sqrt(2) - 1]).
PYNEURAL_ALWAYS_INLINE float log_r(float z) {
    return 0.66666685041012674272f + z * (0.39988779977937430218f + z * 0.29579976082732718484f);
}
PYNEURAL_ALWAYS_INLINE double log_r(double z) {
    return 0.66666666666666696867 +
           z * (0.39999999999899488719 +
                z * (0.28571428625982638331 +
                     z * (0.22222211133627372625 +
                          z * (0.18182889210338451055 + z * (0.15331718772652658013 + z * 0.14616484638725867704)))));
}

// (tanh(x) - x) / x^3 as a function of z = x^2 <= 0.625^2. float: a degree-5 polynomial;
// double: Cephes' rational P(z) / Q(z) (relative error 5e-18 on the interval).
PYNEURAL_ALWAYS_INLINE float tanh_small(float x) {
    const float z = x * x;
    const float p =
        -0.33333333172140361638f +
        z * (0.13333303556915741766f +
             z * (-0.053959259577204542744f +
                  z * (0.021768918651028210152f + z * (-0.008343945515839152048f + z * 0.0022927448161781423431f))));
    return x + (x * z) * p;
}
PYNEURAL_ALWAYS_INLINE double tanh_small(double x) {
    const double z = x * x;
    const double p = (-9.64399179425052238628E-1 * z + -9.92877231001918586564E1) * z + -1.61468768441708447952E3;
    const double q = ((z + 1.12811678491632931402E2) * z + 2.23548839060100448583E3) * z + 4.84406305325125486048E3;
    return x + ((x * z) * p) / q;
}

// ---- functions ------------------------------------------------------------------------

// e^x = 2^k e^r, k = round(x / ln 2), r = x - k ln 2 (Cody-Waite, exact first step).
// The scale 2^k is applied as 2^(k - o) * 2^o with o in {-64, 0, 64} so both factors are
// normal numbers: overflow gives inf and subnormal results are rounded once.
template <class T>
PYNEURAL_ALWAYS_INLINE T exp(T x) {
    using F = Fmt<T>;
    using I = typename F::I;
    T xc = x > F::kExpHi ? F::kExpHi : x;  // NaN passes both clamps and poisons p
    xc = xc < F::kExpLo ? F::kExpLo : xc;
    const T t = xc * T(1.44269504088896340736) + F::kMagic;  // round to nearest integer
    const T kf = t - F::kMagic;
    const T r = (xc - kf * F::kLn2Hi) - kf * F::kLn2Lo;
    const T p = T(1) + (r + (r * r) * exp_q(r));
    const I k = I(to_bits(t) - F::kMagicBits);
    const I o = k > I(64) ? I(64) : (k < I(-64) ? I(-64) : I(0));
    return (p * pow2i<T>(k - o)) * pow2i<T>(o);
}

// x = 2^k m with m in [sqrt(1/2), sqrt(2)); log x = k ln 2 + log m, log m from s = f/(2+f)
// (f = m - 1) as in fdlibm. Everything is computed for every lane, specials selected last.
template <class T>
PYNEURAL_ALWAYS_INLINE T log(T x) {
    using F = Fmt<T>;
    using U = typename F::U;
    const bool sub = x < std::numeric_limits<T>::min();
    const T xs = sub ? x * F::kTwoMant : x;
    // bits - bits(sqrt(1/2)) splits into exponent k and a mantissa re-based on sqrt(1/2);
    // the added bias keeps the difference non-negative so a logical shift extracts k + bias.
    const U ix = to_bits(xs) - F::kSqrtHalfBits + (U(F::kBias) << F::kMant);
    const U ku = (ix >> F::kMant) - U(sub ? F::kBias + F::kMant : F::kBias);  // k, two's complement
    const T kf = from_bits<T>(ku + F::kMagicBits) - F::kMagic;                // exact int -> T
    const T m = from_bits<T>((ix & F::kMantMask) + F::kSqrtHalfBits);
    const T f = m - T(1);
    const T s = f / (T(2) + f);
    const T z = s * s;
    const T R = z * log_r(z);
    const T hfsq = T(0.5) * f * f;
    T res = kf * F::kLn2Hi - ((hfsq - (s * (hfsq + R) + kf * F::kLn2Lo)) - f);
    constexpr T inf = std::numeric_limits<T>::infinity();
    res = x == inf ? inf : res;
    res = x == T(0) ? -inf : res;
    res = x < T(0) ? std::numeric_limits<T>::quiet_NaN() : res;
    return x != x ? x : res;
}

// tanh: odd polynomial / rational below 0.625, else sign(x) (1 - 2 / (e^{2|x|} + 1)), which
// is exactly +-1 once e^{2|x|} is large or inf.
template <class T>
PYNEURAL_ALWAYS_INLINE T tanh(T x) {
    const T ax = x < T(0) ? -x : x;
    const T e = exp(ax + ax);
    T big = T(1) - T(2) / (e + T(1));
    big = x < T(0) ? -big : big;
    const T small = x == T(0) ? x : tanh_small(x);  // keeps tanh(-0) = -0 (-0 + +0 is +0)
    return ax < Fmt<T>::kTanhSmall ? small : big;
}

// Stable logistic as the reference: exp only of -|z|, e / (1 + e) for z < 0 else 1 / (1 + e).
template <class T>
PYNEURAL_ALWAYS_INLINE T sigmoid(T z) {
    const T e = exp(z < T(0) ? z : -z);
    return z < T(0) ? e / (T(1) + e) : T(1) / (T(1) + e);
}

}  // namespace simd
}  // namespace pyneural
