// Inverted dropout with Philox4x32-10 masks (bit-identical to reference/philox.py).
#pragma once

#include <cmath>
#include <cstdint>

#include "common.hpp"

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

// out = (A * mask) / keep_prob in the array dtype: multiply then divide, as the reference.
template <class T>
PYNEURAL_CLONES void mask_scale_run(idx n, const T* a, idx as, const std::uint8_t* mk, idx ms, T* o, idx os, T kp) {
    if (as == 1 && ms == 1 && os == 1) {
        for (idx i = 0; i < n; ++i) o[i] = (a[i] * T(mk[i])) / kp;
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
        philox_keep(keep, u64(e0), len, key, thr);
        if (flat) {
            mask_scale_run<T>(len, A.p + e0, 1, keep, 1, out.p + e0, 1, kp);
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
