// Linear layer forward/backward and the output-layer deltas.
#pragma once

#include "activations.hpp"
#include "gemm.hpp"

namespace pyneural {

// Z[i, :] += b[i] on a block of Z whose first row is row i0 of the layer.
template <class T>
inline void add_bias(Mat<T> Z, const T* b, idx bs, idx i0) {
    if (Z.cs == 1 || std::abs(Z.cs) <= std::abs(Z.rs)) {
        for (idx i = 0; i < Z.rows; ++i) {
            const T bi = b[(i0 + i) * bs];
            T* z = Z.p + i * Z.rs;
            if (Z.cs == 1) {
                for (idx j = 0; j < Z.cols; ++j) z[j] = z[j] + bi;
            } else {
                for (idx j = 0; j < Z.cols; ++j) z[j * Z.cs] = z[j * Z.cs] + bi;
            }
        }
    } else {
        for (idx j = 0; j < Z.cols; ++j) {
            T* z = Z.p + j * Z.cs;
            for (idx i = 0; i < Z.rows; ++i) z[i * Z.rs] = z[i * Z.rs] + b[(i0 + i) * bs];
        }
    }
}

// Z = W @ X + b; A = g(Z). Bias and elementwise activations run per finished GEMM tile
// while it is in cache; softmax needs whole columns, so it runs after the product.
template <class T>
void linear_forward(Mat<const T> W, Mat<const T> X, const T* b, idx bs, Mat<T> Z, Mat<T> A, int act, T alpha) {
    gemm(W, X, Z, [&](idx i0, idx i1, idx j0, idx j1) {
        Mat<T> z = Z.sub(i0, j0, i1 - i0, j1 - j0);
        add_bias(z, b, bs, i0);
        if (act != kSoftmax) activation_forward<T>(z.c(), A.sub(i0, j0, i1 - i0, j1 - j0), act, alpha, false);
    });
    if (act == kSoftmax) softmax_forward<T>(Z.c(), A, true);
}

// One row's sum in NumPy's pairwise order (bit-identical to dZ.sum(axis=1) for C order).
template <class T>
inline T row_sum(const T* p, idx n, idx s) {
    if (s == 1) return pairwise_sum<T>(n, [p](idx k) { return p[k]; });
    return pairwise_sum<T>(n, [p, s](idx k) { return p[k * s]; });
}

// dW = dZ @ X.T / m + (lambd/m) W; db = sum(dZ, axis=1) / m; dA_prev = W.T @ dZ (optional).
template <class T>
void linear_backward(Mat<const T> dZ, Mat<const T> X, Mat<const T> W, Mat<T> dW, T* db, idx dbs, Mat<T>* dA_prev,
                     double lambd) {
    const idx n = dZ.rows, m = X.cols;
    const T mT = T(m), reg = T(lambd / double(m));
    gemm(dZ, X.t(), dW, [&](idx i0, idx i1, idx j0, idx j1) {
        for (idx i = i0; i < i1; ++i)
            for (idx j = j0; j < j1; ++j) dW(i, j) = dW(i, j) / mT + reg * W(i, j);
    });
    parallel_for(n, n * m >= kParCheap, [&](idx i) { db[i * dbs] = row_sum(dZ.p + i * dZ.rs, m, dZ.cs) / mT; });
    if (dA_prev != nullptr) gemm(W.t(), dZ, *dA_prev, [](idx, idx, idx, idx) {});
}

template <class T>
PYNEURAL_CLONES void sub_run(idx n, const T* a, idx as, const T* y, idx ys, T* d, idx ds) {
    map2(n, a, as, y, ys, d, ds, [](T u, T v) { return u - v; });
}

template <class T>
void output_delta(Mat<const T> AL, Mat<const T> Y, Mat<T> dZ) {
    for_each_run(true, kParCheap,
                 [](idx n, T* d, const T* a, const T* y, idx ds, idx as, idx ys) { sub_run<T>(n, a, as, y, ys, d, ds); },
                 dZ, AL, Y);
}

// dZ = AL - onehot(labels); labels were range-checked by the caller.
template <class T>
void output_delta_labels(Mat<const T> AL, const std::int64_t* labels, idx ls, Mat<T> dZ) {
    for_each_run(true, kParCheap,
                 [](idx n, T* d, const T* a, idx ds, idx as) {
                     act_forward_run<T>(kIdentity, T(0), n, a, as, d, ds);
                 },
                 dZ, AL);
    for (idx j = 0; j < AL.cols; ++j) {
        const idx l = labels[j * ls];
        dZ(l, j) = AL(l, j) - T(1);
    }
}

}  // namespace pyneural
