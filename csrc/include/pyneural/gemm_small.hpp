// Direct loops for tiny products (the course's nets: 5x2 @ 2x64, dW of 4x400 @ 400x2).
//
// The packed path pads every tile to a full micro-tile (12x32 in float32 on AVX-512), so a
// 4x2 output over k = 400 costs as much as a 12x32 one, plus packing. Below kGemmSmallWork
// multiply-adds these loops run instead, serially. Which loop runs depends only on the
// shape and the strides, never on the thread count, and each has a fixed summation order
// with separate multiplies and adds (-ffp-contract=off), so its bits are the same in every
// SIMD clone: results stay deterministic. They are not the packed path's bits (that path
// sums k-blocks with FMA); no product ever switches between the two except by its shape.
#pragma once

#include <cstdlib>
#include <string_view>

#include "common.hpp"

namespace pyneural {

// Below this many multiply-adds a product takes the direct loops.
constexpr double kGemmSmallWork = double(1 << 15);
// Lanes of the dot products: partial sums of k = l (mod kDotLanes), then a fixed tree.
constexpr int kDotLanes = 16;
// The dot and row loops need this much k or n to beat the plain triple loop.
constexpr idx kSmallMinRun = 16;

// Σ_k a[k·as]·b[k·bs]: 16 interleaved partial sums (independent dependency chains), then
// a halving tree. Contiguous operands get their own loop, which vectorises.
template <class T>
PYNEURAL_ALWAYS_INLINE T dot_lanes(idx n, const T* PYNEURAL_RESTRICT a, idx as, const T* PYNEURAL_RESTRICT b,
                                   idx bs) {
    T acc[kDotLanes];
    for (int l = 0; l < kDotLanes; ++l) acc[l] = T(0);
    idx k = 0;
    if (as == 1 && bs == 1) {
        for (; k + kDotLanes <= n; k += kDotLanes)
            for (int l = 0; l < kDotLanes; ++l) acc[l] = acc[l] + a[k + l] * b[k + l];
    } else {
        for (; k + kDotLanes <= n; k += kDotLanes)
            for (int l = 0; l < kDotLanes; ++l) acc[l] = acc[l] + a[(k + l) * as] * b[(k + l) * bs];
    }
    for (int l = 0; k + l < n; ++l) acc[l] = acc[l] + a[(k + l) * as] * b[(k + l) * bs];
    for (int w = kDotLanes / 2; w > 0; w /= 2)
        for (int l = 0; l < w; ++l) acc[l] = acc[l] + acc[l + w];
    return acc[0];
}

// Long k (dW = dZ·Xᵀ over the batch): one dot product per output.
template <class T>
PYNEURAL_CLONES void small_dots(Mat<const T> A, Mat<const T> B, Mat<T> C) {
    for (idx i = 0; i < C.rows; ++i)
        for (idx j = 0; j < C.cols; ++j)
            C(i, j) = dot_lanes<T>(A.cols, A.p + i * A.rs, A.cs, B.p + j * B.cs, B.rs);
}

// B and C rows contiguous (Z = W·X): C[i, :] = Σ_p A[i, p]·B[p, :], p in order.
template <class T>
PYNEURAL_CLONES void small_rows(Mat<const T> A, Mat<const T> B, Mat<T> C) {
    const idx N = C.cols;
    for (idx i = 0; i < C.rows; ++i) {
        T* PYNEURAL_RESTRICT c = C.p + i * C.rs;
        for (idx j = 0; j < N; ++j) c[j] = T(0);
        for (idx p = 0; p < A.cols; ++p) {
            const T a = A(i, p);
            const T* PYNEURAL_RESTRICT b = B.p + p * B.rs;
            for (idx j = 0; j < N; ++j) c[j] = c[j] + a * b[j];
        }
    }
}

// Anything else: one running sum per output, p in order.
template <class T>
PYNEURAL_CLONES void small_any(Mat<const T> A, Mat<const T> B, Mat<T> C) {
    for (idx i = 0; i < C.rows; ++i)
        for (idx j = 0; j < C.cols; ++j) {
            T s = T(0);
            for (idx p = 0; p < A.cols; ++p) s = s + A(i, p) * B(p, j);
            C(i, j) = s;
        }
}

// C = A * B by the direct loops when the product is tiny; false otherwise (nothing written).
// PYNEURAL_GEMM_SMALL=off turns them off (to compare against the packed path).
template <class T>
bool gemm_small(const Mat<const T>& A, const Mat<const T>& B, const Mat<T>& C) {
    static const bool enabled = [] {
        const char* env = std::getenv("PYNEURAL_GEMM_SMALL");
        return env == nullptr || std::string_view(env) != "off";
    }();
    const idx K = A.cols;
    if (!enabled || double(C.rows) * double(C.cols) * double(K) > kGemmSmallWork) return false;
    if (K >= kSmallMinRun)
        small_dots<T>(A, B, C);
    else if (C.cols >= kSmallMinRun && B.cs == 1 && C.cs == 1)
        small_rows<T>(A, B, C);
    else
        small_any<T>(A, B, C);
    return true;
}

}  // namespace pyneural
