// AVX-512 packing for the GEMM: the layouts that need a transpose (a row-major A block into
// MR-row micro-panels, a column-major B block into NR-column micro-panels) go through
// in-register W x W transposes instead of scalar strided copies, which cost ~10% of a large
// product. Only compiled where run-time x86 dispatch is available.
#pragma once

#include "common.hpp"

#if PYNEURAL_X86_DISPATCH
#include <immintrin.h>

namespace pyneural {
namespace avx512 {

#define PYNEURAL_AVX512 __attribute__((target("avx512f"), always_inline)) inline

// Transposes the W x W block held in r[0..W) (W = 16 floats / 8 doubles): log2(W) stages
// of block swaps; at distance b, rows x and x+b exchange their off-diagonal b-wide halves
// (row x keeps lanes j without bit b and takes row x+b's lane j-b for the others).
struct SwapIndex {
    alignas(64) std::int32_t i32[16][2][16];  // [b][hi][lane], b = 1, 2, 4, 8 used
    alignas(64) std::int64_t i64[8][2][8];
    constexpr SwapIndex() : i32(), i64() {
        for (int b = 1; b <= 8; b *= 2)
            for (int hi = 0; hi < 2; ++hi) {
                for (int j = 0; j < 16; ++j) i32[b][hi][j] = (j & b) ? (hi ? 16 + j : 16 + j - b) : (hi ? j + b : j);
                if (b < 8)
                    for (int j = 0; j < 8; ++j) i64[b][hi][j] = (j & b) ? (hi ? 8 + j : 8 + j - b) : (hi ? j + b : j);
            }
    }
};
inline constexpr SwapIndex kSwapIndex{};

template <int B>
PYNEURAL_AVX512 void swap_stage(__m512* r) {
    const __m512i lo = _mm512_load_si512(kSwapIndex.i32[B][0]), hi = _mm512_load_si512(kSwapIndex.i32[B][1]);
#pragma GCC unroll 16
    for (int x = 0; x < 16; ++x)
        if (!(x & B)) {
            const __m512 u = r[x], v = r[x + B];
            r[x] = _mm512_permutex2var_ps(u, lo, v);
            r[x + B] = _mm512_permutex2var_ps(u, hi, v);
        }
}

template <int B>
PYNEURAL_AVX512 void swap_stage(__m512d* r) {
    const __m512i lo = _mm512_load_si512(kSwapIndex.i64[B][0]), hi = _mm512_load_si512(kSwapIndex.i64[B][1]);
#pragma GCC unroll 8
    for (int x = 0; x < 8; ++x)
        if (!(x & B)) {
            const __m512d u = r[x], v = r[x + B];
            r[x] = _mm512_permutex2var_pd(u, lo, v);
            r[x + B] = _mm512_permutex2var_pd(u, hi, v);
        }
}

PYNEURAL_AVX512 void transpose(__m512* r) {
    swap_stage<8>(r);
    swap_stage<4>(r);
    swap_stage<2>(r);
    swap_stage<1>(r);
}

PYNEURAL_AVX512 void transpose(__m512d* r) {
    swap_stage<4>(r);
    swap_stage<2>(r);
    swap_stage<1>(r);
}

PYNEURAL_AVX512 __m512 loadu(const float* p) { return _mm512_loadu_ps(p); }
PYNEURAL_AVX512 __m512d loadu(const double* p) { return _mm512_loadu_pd(p); }
PYNEURAL_AVX512 void zero(__m512& v) { v = _mm512_setzero_ps(); }
PYNEURAL_AVX512 void zero(__m512d& v) { v = _mm512_setzero_pd(); }
PYNEURAL_AVX512 void storeu(float* p, __m512 v, int n) {
    _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1u), v);
}
PYNEURAL_AVX512 void storeu(double* p, __m512d v, int n) {
    _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1u), v);
}

template <class T>
struct Vec;
template <>
struct Vec<float> {
    typedef __m512 type;
};
template <>
struct Vec<double> {
    typedef __m512d type;
};

// Moves rows lines of W elements each (line x at s + x * ss, rows <= W) into W lines of
// width elements each (line q at d + q * ds, rows <= width <= W, lanes past rows zero):
// d[q * ds + x] = s[x * ss + q].
template <class T>
PYNEURAL_AVX512 void transpose_lines(const T* s, idx ss, int rows, int width, T* d, idx ds) {
    constexpr int W = 64 / int(sizeof(T));
    typename Vec<T>::type r[W];
#pragma GCC unroll 16
    for (int x = 0; x < W; ++x) {
        if (x < rows) r[x] = loadu(s + x * ss);
        else zero(r[x]);
    }
    transpose(r);
#pragma GCC unroll 16
    for (int q = 0; q < W; ++q) storeu(d + q * ds, r[q], width);
}

// (Out of line: the callers carry other optimize options, which blocks forced inlining.)
// A[i0.., p0..] with unit column stride, one MR-row micro-panel (mr <= MR rows real, the
// rest zero) of kc columns: d[p * MR + i] = A[i, p].
template <class T, int MR>
__attribute__((target("avx512f"))) void pack_a_rows(const T* s, idx rs, int mr, idx kc, T* d) {
    constexpr int W = 64 / int(sizeof(T));
    idx p = 0;
    for (; p + W <= kc; p += W)
        for (int i = 0; i < MR; i += W)
            transpose_lines<T>(s + i * rs + p, rs, std::max(0, std::min(W, mr - i)), std::min(W, MR - i),
                               d + p * MR + i, MR);
    for (; p < kc; ++p)
        for (int i = 0; i < MR; ++i) d[p * MR + i] = i < mr ? s[i * rs + p] : T(0);
}

// B[p0.., j0..] with unit row stride, one full NR-column micro-panel of kc rows:
// d[p * NR + j] = B[p, j].
template <class T, int NR>
__attribute__((target("avx512f"))) void pack_b_cols(const T* s, idx cs, idx kc, T* d) {
    constexpr int W = 64 / int(sizeof(T));
    idx p = 0;
    for (; p + W <= kc; p += W)
        for (int j = 0; j < NR; j += W) transpose_lines<T>(s + j * cs + p, cs, W, W, d + p * NR + j, NR);
    for (; p < kc; ++p)
        for (int j = 0; j < NR; ++j) d[p * NR + j] = s[j * cs + p];
}

#undef PYNEURAL_AVX512

}  // namespace avx512
}  // namespace pyneural
#endif
