// In-place optimizer updates on 1-D contiguous buffers, in the reference's operation order
// (scalars are rounded to the array dtype first, as NumPy does with Python floats).
#pragma once

#include <cmath>

#include "common.hpp"
#include "simd_math.hpp"

namespace pyneural {

// Elements per parallel chunk; fixed so the split never depends on the thread count.
constexpr idx kOptChunk = idx(1) << 14;

// f(i0, len) over fixed chunks; the first h = line_peel(p) elements are a chunk of their
// own, so every other chunk starts (p being the array all updates write) on a cache line.
template <class T, class F>
inline void chunked(const T* p, idx n, F&& f) {
    const idx h = line_peel(p, n), m = n - h;
    if (h > 0) f(0, h);
    const idx nb = (m + kOptChunk - 1) / kOptChunk;
    parallel_for(nb, n >= kParCheap, [&](idx b) {
        const idx i0 = b * kOptChunk;
        f(h + i0, std::min(kOptChunk, m - i0));
    });
}

template <class T>
PYNEURAL_CLONES void gd_run(idx n, T* p, const T* g, T lr) {
    for (idx i = 0; i < n; ++i) p[i] = p[i] - lr * g[i];
}

template <class T>
PYNEURAL_CLONES void momentum_run(idx n, T* p, const T* g, T* v, T lr, T beta, T one_m_beta) {
    for (idx i = 0; i < n; ++i) {
        const T vi = v[i] * beta + one_m_beta * g[i];
        v[i] = vi;
        p[i] = p[i] - lr * vi;
    }
}

template <class T>
PYNEURAL_CLONES void rmsprop_run(idx n, T* p, const T* g, T* s, T lr, T beta, T one_m_beta, T eps) {
    for (idx i = 0; i < n; ++i) {
        const T gi = g[i];
        const T si = s[i] * beta + one_m_beta * gi * gi;
        s[i] = si;
        p[i] = p[i] - lr * gi / (std::sqrt(si) + eps);
    }
}

template <class T>
struct AdamScalars {
    T lr, b1, omb1, b2, omb2, c1, c2, eps;
};

template <class T>
PYNEURAL_CLONES void adam_run(idx n, T* p, const T* g, T* v, T* s, AdamScalars<T> k, bool inside) {
    for (idx i = 0; i < n; ++i) {
        const T gi = g[i];
        const T vi = v[i] * k.b1 + k.omb1 * gi;
        const T si = s[i] * k.b2 + k.omb2 * gi * gi;
        v[i] = vi;
        s[i] = si;
        const T vh = vi / k.c1, sh = si / k.c2;
        const T denom = inside ? std::sqrt(sh + k.eps) : std::sqrt(sh) + k.eps;
        p[i] = p[i] - k.lr * vh / denom;
    }
}

template <class T>
void gd_update(T* p, const T* g, idx n, double lr) {
    chunked(p, n, [&](idx i0, idx len) { gd_run<T>(len, p + i0, g + i0, T(lr)); });
}

template <class T>
void momentum_update(T* p, const T* g, T* v, idx n, double lr, double beta) {
    chunked(p, n, [&](idx i0, idx len) { momentum_run<T>(len, p + i0, g + i0, v + i0, T(lr), T(beta), T(1.0 - beta)); });
}

template <class T>
void rmsprop_update(T* p, const T* g, T* s, idx n, double lr, double beta, double eps) {
    chunked(p, n, [&](idx i0, idx len) {
        rmsprop_run<T>(len, p + i0, g + i0, s + i0, T(lr), T(beta), T(1.0 - beta), T(eps));
    });
}

// Bias corrections 1 - beta^t in double (Python's float ** int), then rounded to T.
template <class T>
void adam_update(T* p, const T* g, T* v, T* s, idx n, double lr, double beta1, double beta2, double eps,
                 std::int64_t t, bool eps_inside_sqrt) {
    const AdamScalars<T> k{T(lr),
                           T(beta1),
                           T(1.0 - beta1),
                           T(beta2),
                           T(1.0 - beta2),
                           T(1.0 - std::pow(beta1, double(t))),
                           T(1.0 - std::pow(beta2, double(t))),
                           T(eps)};
    chunked(p, n, [&](idx i0, idx len) { adam_run<T>(len, p + i0, g + i0, v + i0, s + i0, k, eps_inside_sqrt); });
}

}  // namespace pyneural
