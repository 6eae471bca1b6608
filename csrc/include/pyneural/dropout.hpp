// Inverted dropout with Philox4x32-10 masks (bit-identical to reference/philox.py).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common.hpp"
#include "simd_math.hpp"

#if PYNEURAL_X86_DISPATCH
#include <immintrin.h>
#endif

namespace pyneural {

using u32 = std::uint32_t;
using u64 = std::uint64_t;

struct PhiloxKey {
    u32 step, layer, k0, k1;
};

// Words of counter block `blk` = (blk lo32, blk hi32, step, layer).
PYNEURAL_ALWAYS_INLINE void philox4x32_10(u64 blk, const PhiloxKey& key, u32 out[4]) {
    u32 c0 = u32(blk), c1 = u32(blk >> 32), c2 = key.step, c3 = key.layer;
    u32 k0 = key.k0, k1 = key.k1;
    for (int r = 0; r < 10; ++r) {
        if (r) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const u64 p0 = u64(0xD2511F53u) * c0, p1 = u64(0xCD9E8D57u) * c2;
        const u32 n0 = u32(p1 >> 32) ^ c1 ^ k0, n2 = u32(p0 >> 32) ^ c3 ^ k1;
        c0 = n0;
        c1 = u32(p1);
        c2 = n2;
        c3 = u32(p0);
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

// keep = min(floor(keep_prob * 2^32), 2^32), compared against 32-bit words in 64-bit.
inline u64 keep_threshold(double keep_prob) {
    const double t = keep_prob * 4294967296.0;
    if (!(t > 0.0)) return 0;
    if (t >= 4294967296.0) return u64(1) << 32;
    return u64(t);
}

// keep[k] = word(e0 + k) < thr for k in [0, n): element e uses lane e % 4 of block e / 4.
inline PYNEURAL_CLONES void philox_keep(std::uint8_t* keep, u64 e0, idx n, PhiloxKey key, u64 thr) {
    u32 w[4];
    idx k = 0;
    for (; k < n && ((e0 + u64(k)) & 3u) != 0; ++k) {  // leading partial block
        philox4x32_10((e0 + u64(k)) >> 2, key, w);
        keep[k] = u64(w[(e0 + u64(k)) & 3u]) < thr;
    }
    const u64 b0 = (e0 + u64(k)) >> 2;
    const idx nfull = (n - k) / 4;
    for (idx b = 0; b < nfull; ++b) {
        philox4x32_10(b0 + u64(b), key, w);
        for (int l = 0; l < 4; ++l) keep[k + 4 * b + l] = u64(w[l]) < thr;
    }
    k += 4 * nfull;
    if (k < n) {  // trailing partial block
        philox4x32_10(b0 + u64(nfull), key, w);
        for (int l = 0; k < n; ++k, ++l) keep[k] = u64(w[l]) < thr;
    }
}

// ---- SIMD Philox ---------------------------------------------------------------------------
//
// The scalar Philox above costs ~10 ns per 4 elements, far below memory speed. Here 32
// counter blocks (128 elements) are computed at once: each counter word lives in the low half
// of a 64-bit lane, so one _mm512_mul_epu32 / _mm256_mul_epu32 gives the full 32x32->64
// product of a round (hi = p with its dword pairs swapped, lo = p; the garbage upper halves are ignored
// by the next multiply and masked out by the final transpose). The words are then transposed
// to element order (element e = lane e % 4 of block e / 4, exactly as the scalar code),
// compared with the threshold, and -- fused in the same pass -- the keep bytes are stored and
// out = (a * keep) / keep_prob computed for those 128 elements (same operations as
// mask_scale_run, so the same bits). Chosen at run time by CPU features (the target_clones
// of the rest of the library cannot express intrinsics).

constexpr idx kPhiloxSimdElems = 128;  // elements per SIMD step (32 blocks)

// Processes the first n / 128 * 128 elements starting at element e0 (e0 % 4 == 0). a and o
// may be null (mask only). Returns the number of elements done.
template <class T>
using PhiloxFusedFn = idx (*)(const T* a, T* o, std::uint8_t* keep, u64 e0, idx n, PhiloxKey key, u64 thr, T kp);

#if PYNEURAL_X86_DISPATCH

template <class T>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) idx philox_fused_avx512(const T* a, T* o,
                                                                                       std::uint8_t* keep, u64 e0,
                                                                                       idx n, PhiloxKey key, u64 thr,
                                                                                       T kp) {
    const idx nsteps = n / kPhiloxSimdElems;
    const __m512i M0 = _mm512_set1_epi64(0xD2511F53), M1 = _mm512_set1_epi64(0xCD9E8D57);
    const __m512i C2 = _mm512_set1_epi64(key.step), C3 = _mm512_set1_epi64(key.layer);
    __m512i K0[10], K1[10];  // round keys, hoisted out of the loop
    {
        u32 k0 = key.k0, k1 = key.k1;
        for (int r = 0; r < 10; ++r) {
            K0[r] = _mm512_set1_epi64(k0);
            K1[r] = _mm512_set1_epi64(k1);
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
    }
    const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i idx_lo = _mm512_set_epi32(30, 14, 28, 12, 26, 10, 24, 8, 22, 6, 20, 4, 18, 2, 16, 0);
    const __m512i q_lo = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
    const __m512i q_hi = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
    // keep = word < thr  <=>  word <= thr - 1 (thr in [0, 2^32]; thr = 0 keeps nothing).
    const __m512i thr_m1 = _mm512_set1_epi32(int(u32(thr - 1)));
    const bool none = thr == 0;
    u64 blk = e0 >> 2;
    for (idx st = 0; st < nsteps; ++st, blk += 32) {
        __m512i c0[4], c1[4], c2[4], c3[4];
        for (int g = 0; g < 4; ++g) {
            const __m512i b = _mm512_add_epi64(_mm512_set1_epi64(blk + 8 * g), lanes);
            c0[g] = b;
            c1[g] = _mm512_srli_epi64(b, 32);
            c2[g] = C2;
            c3[g] = C3;
        }
        for (int r = 0; r < 10; ++r) {
            for (int g = 0; g < 4; ++g) {
                const __m512i p0 = _mm512_mul_epu32(c0[g], M0), p1 = _mm512_mul_epu32(c2[g], M1);
                // hi words by swapping the dword pairs (vpshufd runs on the shuffle port, the
                // multiplies and shifts compete for the same one); upper halves are garbage.
                c0[g] = _mm512_ternarylogic_epi64(_mm512_shuffle_epi32(p1, _MM_PERM_CDAB), c1[g], K0[r], 0x96);
                c2[g] = _mm512_ternarylogic_epi64(_mm512_shuffle_epi32(p0, _MM_PERM_CDAB), c3[g], K1[r], 0x96);
                c1[g] = p1;
                c3[g] = p0;
            }
        }
        __mmask64 km[2];
        __mmask16 k16[8];
        for (int g = 0; g < 4; ++g) {
            const __m512i w01 = _mm512_permutex2var_epi32(c0[g], idx_lo, c1[g]);  // W0[j], W1[j]
            const __m512i w23 = _mm512_permutex2var_epi32(c2[g], idx_lo, c3[g]);
            const __m512i e_lo = _mm512_permutex2var_epi64(w01, q_lo, w23);  // blocks 0..3, element order
            const __m512i e_hi = _mm512_permutex2var_epi64(w01, q_hi, w23);  // blocks 4..7
            k16[2 * g] = none ? __mmask16(0) : _mm512_cmple_epu32_mask(e_lo, thr_m1);
            k16[2 * g + 1] = none ? __mmask16(0) : _mm512_cmple_epu32_mask(e_hi, thr_m1);
        }
        for (int h = 0; h < 2; ++h)
            km[h] = __mmask64(k16[4 * h]) | (__mmask64(k16[4 * h + 1]) << 16) | (__mmask64(k16[4 * h + 2]) << 32) |
                    (__mmask64(k16[4 * h + 3]) << 48);
        std::uint8_t* kp8 = keep + st * kPhiloxSimdElems;
        _mm512_storeu_si512(kp8, _mm512_maskz_set1_epi8(km[0], 1));
        _mm512_storeu_si512(kp8 + 64, _mm512_maskz_set1_epi8(km[1], 1));
        if (a == nullptr) continue;
        const idx off = st * kPhiloxSimdElems;
        if constexpr (sizeof(T) == 4) {
            const __m512 one = _mm512_set1_ps(1.0f), vkp = _mm512_set1_ps(kp);
            for (int v = 0; v < 8; ++v) {
                const __m512 x = _mm512_loadu_ps(a + off + 16 * v);
                const __m512 mf = _mm512_maskz_mov_ps(k16[v], one);
                _mm512_storeu_ps(o + off + 16 * v, _mm512_div_ps(_mm512_mul_ps(x, mf), vkp));
            }
        } else {
            const __m512d one = _mm512_set1_pd(1.0), vkp = _mm512_set1_pd(kp);
            for (int v = 0; v < 16; ++v) {
                const __mmask8 k8 = __mmask8(k16[v / 2] >> (8 * (v % 2)));
                const __m512d x = _mm512_loadu_pd(a + off + 8 * v);
                const __m512d mf = _mm512_maskz_mov_pd(k8, one);
                _mm512_storeu_pd(o + off + 8 * v, _mm512_div_pd(_mm512_mul_pd(x, mf), vkp));
            }
        }
    }
    return nsteps * kPhiloxSimdElems;
}

template <class T>
__attribute__((target("avx2"))) idx philox_fused_avx2(const T* a, T* o, std::uint8_t* keep, u64 e0, idx n,
                                                      PhiloxKey key, u64 thr, T kp) {
    const idx nsteps = n / kPhiloxSimdElems;
    const __m256i M0 = _mm256_set1_epi64x(0xD2511F53), M1 = _mm256_set1_epi64x(0xCD9E8D57);
    const __m256i C2 = _mm256_set1_epi64x(key.step), C3 = _mm256_set1_epi64x(key.layer);
    __m256i K0[10], K1[10];
    {
        u32 k0 = key.k0, k1 = key.k1;
        for (int r = 0; r < 10; ++r) {
            K0[r] = _mm256_set1_epi64x(k0);
            K1[r] = _mm256_set1_epi64x(k1);
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
    }
    const __m256i lanes = _mm256_set_epi64x(3, 2, 1, 0);
    const __m256i sign = _mm256_set1_epi32(int(0x80000000u));
    const __m256i thr_m1 = _mm256_xor_si256(_mm256_set1_epi32(int(u32(thr - 1))), sign);
    const __m256i all = _mm256_set1_epi32(-1), fix = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const bool none = thr == 0;
    u64 blk = e0 >> 2;
    for (idx st = 0; st < nsteps; ++st) {
        // 4 sub-steps of 8 blocks (32 elements): 2 vectors of 4 blocks each, interleaved.
        for (int q = 0; q < 4; ++q, blk += 8) {
            __m256i c0[2], c1[2], c2[2], c3[2];
            for (int g = 0; g < 2; ++g) {
                const __m256i b = _mm256_add_epi64(_mm256_set1_epi64x(blk + 4 * g), lanes);
                c0[g] = b;
                c1[g] = _mm256_srli_epi64(b, 32);
                c2[g] = C2;
                c3[g] = C3;
            }
            for (int r = 0; r < 10; ++r) {
                for (int g = 0; g < 2; ++g) {
                    const __m256i p0 = _mm256_mul_epu32(c0[g], M0), p1 = _mm256_mul_epu32(c2[g], M1);
                    c0[g] = _mm256_xor_si256(_mm256_xor_si256(_mm256_shuffle_epi32(p1, 0xB1), c1[g]), K0[r]);
                    c2[g] = _mm256_xor_si256(_mm256_xor_si256(_mm256_shuffle_epi32(p0, 0xB1), c3[g]), K1[r]);
                    c1[g] = p1;
                    c3[g] = p0;
                }
            }
            __m256i kk[4];  // keep as -1 / 0 dwords, element order, 8 elements each
            for (int g = 0; g < 2; ++g) {
                const __m256i x01 = _mm256_blend_epi32(c0[g], _mm256_slli_epi64(c1[g], 32), 0xAA);
                const __m256i x23 = _mm256_blend_epi32(c2[g], _mm256_slli_epi64(c3[g], 32), 0xAA);
                const __m256i lo = _mm256_unpacklo_epi64(x01, x23);  // blocks 0, 2
                const __m256i hi = _mm256_unpackhi_epi64(x01, x23);  // blocks 1, 3
                const __m256i f0 = _mm256_permute2x128_si256(lo, hi, 0x20), f1 = _mm256_permute2x128_si256(lo, hi, 0x31);
                // unsigned w <= thr - 1 as a signed compare of sign-flipped values
                kk[2 * g] = none ? _mm256_setzero_si256()
                                 : _mm256_xor_si256(_mm256_cmpgt_epi32(_mm256_xor_si256(f0, sign), thr_m1), all);
                kk[2 * g + 1] = none ? _mm256_setzero_si256()
                                     : _mm256_xor_si256(_mm256_cmpgt_epi32(_mm256_xor_si256(f1, sign), thr_m1), all);
            }
            const __m256i w = _mm256_packs_epi16(_mm256_packs_epi32(kk[0], kk[1]), _mm256_packs_epi32(kk[2], kk[3]));
            const __m256i bytes = _mm256_and_si256(_mm256_permutevar8x32_epi32(w, fix), _mm256_set1_epi8(1));
            const idx off = st * kPhiloxSimdElems + 32 * q;
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(keep + off), bytes);
            if (a == nullptr) continue;
            if constexpr (sizeof(T) == 4) {
                const __m256 one = _mm256_set1_ps(1.0f), vkp = _mm256_set1_ps(kp);
                for (int v = 0; v < 4; ++v) {
                    const __m256 x = _mm256_loadu_ps(a + off + 8 * v);
                    const __m256 mf = _mm256_and_ps(_mm256_castsi256_ps(kk[v]), one);
                    _mm256_storeu_ps(o + off + 8 * v, _mm256_div_ps(_mm256_mul_ps(x, mf), vkp));
                }
            } else {
                const __m256d one = _mm256_set1_pd(1.0), vkp = _mm256_set1_pd(kp);
                for (int v = 0; v < 8; ++v) {
                    const __m128i k4 = v % 2 ? _mm256_extracti128_si256(kk[v / 2], 1) : _mm256_castsi256_si128(kk[v / 2]);
                    const __m256d mf = _mm256_and_pd(_mm256_castsi256_pd(_mm256_cvtepi32_epi64(k4)), one);
                    const __m256d x = _mm256_loadu_pd(a + off + 4 * v);
                    _mm256_storeu_pd(o + off + 4 * v, _mm256_div_pd(_mm256_mul_pd(x, mf), vkp));
                }
            }
        }
    }
    return nsteps * kPhiloxSimdElems;
}

// The best kernel this CPU runs, or null (scalar code only). PYNEURAL_PHILOX=avx2 or =scalar
// in the environment caps the choice, so tests can check every path on one machine.
template <class T>
inline PhiloxFusedFn<T> pick_philox_fused() {
    const char* env = std::getenv("PYNEURAL_PHILOX");
    const std::string cap = env != nullptr ? env : "";
    if (cap == "scalar") return nullptr;
    __builtin_cpu_init();
    if (cap != "avx2" && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return &philox_fused_avx512<T>;
    if (__builtin_cpu_supports("avx2")) return &philox_fused_avx2<T>;
    return nullptr;
}

template <class T>
inline PhiloxFusedFn<T> philox_fused() {
    static const PhiloxFusedFn<T> fn = pick_philox_fused<T>();
    return fn;
}

#else

template <class T>
inline PhiloxFusedFn<T> philox_fused() {
    return nullptr;
}

#endif

// out = (A * mask) / keep_prob in the array dtype: multiply then divide, as the reference.
template <class T>
PYNEURAL_CLONES void mask_scale_run(idx n, const T* a, idx as, const std::uint8_t* mk, idx ms, T* o, idx os, T kp) {
    if (as == 1 && ms == 1 && os == 1) {
        const idx h = line_peel(o, n);  // line-aligned vector stores
        for (idx i = 0; i < h; ++i) o[i] = (a[i] * T(mk[i])) / kp;
        for (idx i = h; i < n; ++i) o[i] = (a[i] * T(mk[i])) / kp;
    } else {
        for (idx i = 0; i < n; ++i) o[i * os] = (a[i * as] * T(mk[i * ms])) / kp;
    }
}

template <class T>
void dropout_apply(Mat<const T> A, Mat<const std::uint8_t> mask, Mat<T> out, double keep_prob) {
    const T kp = T(keep_prob);
    for_each_run(true, kParCheap,
                 [kp](idx n, T* o, const T* a, const std::uint8_t* mk, idx os, idx as, idx ms) {
                     mask_scale_run<T>(n, a, as, mk, ms, o, os, kp);
                 },
                 out, A, mask);
}

// Mask from (seed, step, layer, logical index i*m + j) only; chunks of kRun elements in
// logical order, so neither layout nor thread count changes a bit.
template <class T>
void dropout_forward(Mat<const T> A, Mat<T> out, Mat<std::uint8_t> mask, double keep_prob, u64 seed, u32 step,
                     u32 layer) {
    const idx m = A.cols, total = A.size();
    if (total <= 0) return;
    const PhiloxKey key{step, layer, u32(seed), u32(seed >> 32)};
    const u64 thr = keep_threshold(keep_prob);
    const T kp = T(keep_prob);
    const bool flat = A.c_contig() && out.c_contig() && mask.c_contig();
    const bool flat_mask = mask.c_contig();
    const idx nchunks = (total + kRun - 1) / kRun;
    parallel_for(nchunks, total >= kParHeavy, [&](idx c) {
        const idx e0 = c * kRun, len = std::min(kRun, total - e0);
        std::uint8_t local[kRun];
        std::uint8_t* keep = flat_mask ? mask.p + e0 : local;
        // e0 is a multiple of kRun, so of 4: SIMD blocks start aligned with Philox blocks.
        const PhiloxFusedFn<T> simd_fn = philox_fused<T>();
        // Scalar head up to a cache-line boundary of out (if that is a whole number of
        // Philox blocks, e.g. float32 arrays 16 bytes past a line), SIMD body, scalar tail.
        idx h = flat ? line_peel(out.p + e0, len) : 0;
        if (h % 4 != 0) h = 0;
        const idx done = simd_fn ? simd_fn(flat ? A.p + e0 + h : nullptr, flat ? out.p + e0 + h : nullptr, keep + h,
                                           u64(e0 + h), len - h, key, thr, kp)
                                 : 0;
        if (h > 0) philox_keep(keep, u64(e0), h, key, thr);
        philox_keep(keep + h + done, u64(e0 + h + done), len - h - done, key, thr);
        if (flat) {
            if (h > 0) mask_scale_run<T>(h, A.p + e0, 1, keep, 1, out.p + e0, 1, kp);
            const idx t = h + done;
            mask_scale_run<T>(len - t, A.p + e0 + t, 1, keep + t, 1, out.p + e0 + t, 1, kp);
            return;
        }
        idx i = e0 / m, j = e0 - i * m;
        for (idx k = 0; k < len; ++k) {
            if (!flat_mask) mask(i, j) = keep[k];
            out(i, j) = (A(i, j) * T(keep[k])) / kp;
            if (++j == m) j = 0, ++i;
        }
    });
}

}  // namespace pyneural
