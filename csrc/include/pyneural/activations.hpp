// Activations and their backward passes (contract: activation_forward/backward).
#pragma once

#include <cmath>

#include "common.hpp"
#include "simd_math.hpp"

namespace pyneural {

enum Act : int { kIdentity = 0, kSigmoid = 1, kTanh = 2, kRelu = 3, kLeakyRelu = 4, kSoftmax = 5 };

inline bool valid_act(int act) { return act >= kIdentity && act <= kSoftmax; }

// Stable sigmoid as the reference (exp only of -|z|), with the vectorisable exp.
template <class T>
PYNEURAL_ALWAYS_INLINE T sigmoid(T z) {
    return simd::sigmoid(z);
}

// y[i] = f(x[i]); the unit-stride branch is the one that vectorises.
template <class T, class F>
PYNEURAL_ALWAYS_INLINE void map1(idx n, const T* x, idx xs, T* y, idx ys, F f) {
    if (xs == 1 && ys == 1) {
        const idx h = line_peel(y, n);  // then the vector stores are line-aligned
        for (idx i = 0; i < h; ++i) y[i] = f(x[i]);
        for (idx i = h; i < n; ++i) y[i] = f(x[i]);
    } else {
        for (idx i = 0; i < n; ++i) y[i * ys] = f(x[i * xs]);
    }
}

template <class T, class F>
PYNEURAL_ALWAYS_INLINE void map2(idx n, const T* x, idx xs, const T* w, idx ws, T* y, idx ys, F f) {
    if (xs == 1 && ws == 1 && ys == 1) {
        const idx h = line_peel(y, n);
        for (idx i = 0; i < h; ++i) y[i] = f(x[i], w[i]);
        for (idx i = h; i < n; ++i) y[i] = f(x[i], w[i]);
    } else {
        for (idx i = 0; i < n; ++i) y[i * ys] = f(x[i * xs], w[i * ws]);
    }
}

// The transcendental activations get clone functions of their own: inside the big switch
// below GCC stopped inlining the (large) tanh lambda, and a loop with a call stays scalar.
template <class T>
PYNEURAL_CLONES void sigmoid_run(idx n, const T* z, idx zs, T* a, idx as) {
    map1(n, z, zs, a, as, [](T v) { return simd::sigmoid(v); });
}

template <class T>
PYNEURAL_CLONES void tanh_run(idx n, const T* z, idx zs, T* a, idx as) {
    map1(n, z, zs, a, as, [](T v) { return simd::tanh(v); });
}

// One run of an elementwise activation (all codes but softmax).
template <class T>
PYNEURAL_CLONES void act_forward_run(int act, T alpha, idx n, const T* z, idx zs, T* a, idx as) {
    switch (act) {
        case kSigmoid: sigmoid_run<T>(n, z, zs, a, as); break;
        case kTanh: tanh_run<T>(n, z, zs, a, as); break;
        case kRelu: map1(n, z, zs, a, as, [](T v) { return v > T(0) ? v : T(0); }); break;
        case kLeakyRelu: map1(n, z, zs, a, as, [alpha](T v) { return v > T(0) ? v : alpha * v; }); break;
        default: map1(n, z, zs, a, as, [](T v) { return v; }); break;
    }
}

// One run of dZ = dA * g'(Z) for the elementwise activations (A = g(Z) given).
template <class T>
PYNEURAL_CLONES void act_backward_run(int act, T alpha, idx n, const T* da, idx das, const T* z, idx zs,
                                      const T* a, idx as, T* dz, idx dzs) {
    switch (act) {
        case kSigmoid:
            map2(n, da, das, a, as, dz, dzs, [](T g, T v) { return g * v * (T(1) - v); });
            break;
        case kTanh: map2(n, da, das, a, as, dz, dzs, [](T g, T v) { return g * (T(1) - v * v); }); break;
        case kRelu: map2(n, da, das, z, zs, dz, dzs, [](T g, T v) { return v > T(0) ? g : T(0); }); break;
        case kLeakyRelu:
            map2(n, da, das, z, zs, dz, dzs, [alpha](T g, T v) { return v > T(0) ? g : alpha * g; });
            break;
        default: map1(n, da, das, dz, dzs, [](T g) { return g; }); break;
    }
}

// ---- softmax (per column) --------------------------------------------------------------

// Columns per task. Column-major data is walked one column at a time; otherwise a block
// of columns is walked row by row with per-column accumulators on the stack. Either way
// each column's max/sum runs over rows 0..n-1 in order, so both give identical bits.
constexpr idx kSoftmaxCols = 256;

template <class T>
PYNEURAL_ALWAYS_INLINE T nan_max(T m, T v) {
    return (v > m || v != v) ? v : m;  // like np.max: a NaN sticks
}

template <class T>
PYNEURAL_CLONES void softmax_forward_block(Mat<const T> Z, Mat<T> A) {
    const idx n = Z.rows, m = Z.cols;
    T mx[kSoftmaxCols], s[kSoftmaxCols];
    if (std::abs(Z.rs) < std::abs(Z.cs)) {
        for (idx j = 0; j < m; ++j) {
            T mj = Z(0, j), sj = T(0);
            for (idx i = 1; i < n; ++i) mj = nan_max(mj, Z(i, j));
            // exp in its own loop (vectorises; unit-stride copy of the common F-order case),
            // then the sum in row order as before: same bits, the sum just reads A back.
            if (Z.rs == 1 && A.rs == 1) {
                const T* zc = &Z(0, j);
                T* ac = &A(0, j);
                for (idx i = 0; i < n; ++i) ac[i] = simd::exp(zc[i] - mj);
            } else {
                for (idx i = 0; i < n; ++i) A(i, j) = simd::exp(Z(i, j) - mj);
            }
            for (idx i = 0; i < n; ++i) sj += A(i, j);
            for (idx i = 0; i < n; ++i) A(i, j) = A(i, j) / sj;
        }
        return;
    }
    for (idx j = 0; j < m; ++j) mx[j] = Z(0, j), s[j] = T(0);
    for (idx i = 1; i < n; ++i)
        for (idx j = 0; j < m; ++j) mx[j] = nan_max(mx[j], Z(i, j));
    for (idx i = 0; i < n; ++i) {
        if (Z.cs == 1 && A.cs == 1) {  // C order: unit stride across the block's columns
            const T* zr = &Z(i, 0);
            T* ar = &A(i, 0);
            for (idx j = 0; j < m; ++j) {
                const T e = simd::exp(zr[j] - mx[j]);
                ar[j] = e;
                s[j] += e;
            }
        } else {
            for (idx j = 0; j < m; ++j) {
                const T e = simd::exp(Z(i, j) - mx[j]);
                A(i, j) = e;
                s[j] += e;
            }
        }
    }
    for (idx i = 0; i < n; ++i)
        for (idx j = 0; j < m; ++j) A(i, j) = A(i, j) / s[j];
}

// dZ = A * (dA - sum_k dA_k A_k), the column sum in the array dtype as the reference.
template <class T>
PYNEURAL_CLONES void softmax_backward_block(Mat<const T> dA, Mat<const T> A, Mat<T> dZ) {
    const idx n = A.rows, m = A.cols;
    T s[kSoftmaxCols];
    if (std::abs(A.rs) < std::abs(A.cs)) {
        for (idx j = 0; j < m; ++j) {
            T sj = T(0);
            for (idx i = 0; i < n; ++i) sj += dA(i, j) * A(i, j);
            for (idx i = 0; i < n; ++i) dZ(i, j) = A(i, j) * (dA(i, j) - sj);
        }
        return;
    }
    for (idx j = 0; j < m; ++j) s[j] = T(0);
    for (idx i = 0; i < n; ++i)
        for (idx j = 0; j < m; ++j) s[j] += dA(i, j) * A(i, j);
    for (idx i = 0; i < n; ++i)
        for (idx j = 0; j < m; ++j) dZ(i, j) = A(i, j) * (dA(i, j) - s[j]);
}

template <class T>
void softmax_forward(Mat<const T> Z, Mat<T> A, bool par) {
    const idx n = Z.rows, m = Z.cols;
    if (n == 0 || m == 0) return;
    const idx nb = (m + kSoftmaxCols - 1) / kSoftmaxCols;
    parallel_for(nb, par && n * m >= kParHeavy, [&](idx b) {
        const idx j0 = b * kSoftmaxCols, w = std::min(kSoftmaxCols, m - j0);
        softmax_forward_block<T>(Z.sub(0, j0, n, w), A.sub(0, j0, n, w));
    });
}

template <class T>
void softmax_backward(Mat<const T> dA, Mat<const T> A, Mat<T> dZ, bool par) {
    const idx n = A.rows, m = A.cols;
    if (n == 0 || m == 0) return;
    const idx nb = (m + kSoftmaxCols - 1) / kSoftmaxCols;
    parallel_for(nb, par && n * m >= kParCheap, [&](idx b) {
        const idx j0 = b * kSoftmaxCols, w = std::min(kSoftmaxCols, m - j0);
        softmax_backward_block<T>(dA.sub(0, j0, n, w), A.sub(0, j0, n, w), dZ.sub(0, j0, n, w));
    });
}

// ---- public kernels --------------------------------------------------------------------

template <class T>
void activation_forward(Mat<const T> Z, Mat<T> A, int act, T alpha, bool par = true) {
    if (act == kSoftmax) return softmax_forward(Z, A, par);
    const idx par_min = (act == kSigmoid || act == kTanh) ? kParHeavy : kParCheap;
    for_each_run(par, par_min,
                 [&](idx n, T* a, const T* z, idx as, idx zs) { act_forward_run<T>(act, alpha, n, z, zs, a, as); },
                 A, Z);
}

template <class T>
void activation_backward(Mat<const T> dA, Mat<const T> Z, Mat<const T> A, Mat<T> dZ, int act, T alpha,
                         bool par = true) {
    if (act == kSoftmax) return softmax_backward(dA, A, dZ, par);
    for_each_run(par, kParCheap,
                 [&](idx n, T* dz, const T* da, const T* z, const T* a, idx dzs, idx das, idx zs, idx as) {
                     act_backward_run<T>(act, alpha, n, da, das, z, zs, a, as, dz, dzs);
                 },
                 dZ, dA, Z, A);
}

}  // namespace pyneural
