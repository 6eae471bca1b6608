// Batch normalisation (contract: batchnorm_forward / batchnorm_inference / batchnorm_backward).
//
// Each per-feature statistic is one row's sum in NumPy's pairwise order (as pairwise_sum,
// in the array dtype), then divided by m as np.mean does (in double, rounded to T). The
// order depends only on the column index, so the result is the same for every memory
// layout and bit-identical to the reference's Z.mean(axis=1) on C-ordered data.
// Elementwise formulas follow the reference's operation order exactly (division by
// sqrt(var + eps), no reciprocal, no FMA under -ffp-contract=off).
//
// Two walks, same bits: views whose rows are the short stride (C order, padded, strided)
// go row by row, each row one task; column-major-like views (F order) go column by column,
// blocks of rows carrying their pairwise sums side by side, then elementwise in memory
// order. Every row's sum runs in the same fixed order on one thread whatever the walk, the
// blocking or the thread count, so no result depends on either.
#pragma once

#include <cmath>

#include "common.hpp"

namespace pyneural {

// Parallelise above this many elements (three passes over the data, one division each).
constexpr idx kParBatchnorm = idx(1) << 15;

// Column-major walk: statistics of up to kBnLanes rows at once, side by side (each row its
// own pairwise sum in the usual order, so the blocking never changes a bit); blocks are
// not split below kBnMinLanes rows to feed more threads. Elementwise passes then run over
// chunks of whole columns (memory order), with per-row scalars staged in scratch.
constexpr idx kBnLanes = 256;
constexpr idx kBnMinLanes = 32;

// An (n, 1) vector: element i at p[i * s].
template <class T>
struct Vec {
    T* p;
    idx s;
    T& operator[](idx i) const { return p[i * s]; }
};

// np.mean's final step: sum / m computed in double and rounded to T (true_divide by an intp).
template <class T>
PYNEURAL_ALWAYS_INLINE T mean_of(T sum, idx m) {
    return T(double(sum) / double(m));
}

// w pairwise sums side by side (B > 0: w = B fixed; B = 0: runtime w <= kBnLanes):
// res[b] = sum_k g(b, k) for k in [off, off + n), each in exactly pairwise_sum's order
// (8 accumulators, blocks of 128, halves rounded down to a multiple of 8), so lane b gives
// the bits pairwise_sum gives for that row alone, whatever the other lanes are.
template <class Acc, int B, class G>
PYNEURAL_CLONES void pairwise_sum_lanes(idx n, const G& g, idx w_rt, Acc* res, idx off = 0) {
    constexpr idx cap = B > 0 ? B : kBnLanes;
    const idx w = B > 0 ? B : w_rt;
    if (n < 8) {
        for (idx b = 0; b < w; ++b) res[b] = Acc(0);
        for (idx i = 0; i < n; ++i)
            for (idx b = 0; b < w; ++b) res[b] += g(b, off + i);
        return;
    }
    if (n <= 128) {
        Acc r[8][cap];
        for (int j = 0; j < 8; ++j)
            for (idx b = 0; b < w; ++b) r[j][b] = g(b, off + j);
        idx i = 8;
        for (; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; ++j)
                for (idx b = 0; b < w; ++b) r[j][b] += g(b, off + i + j);
        for (idx b = 0; b < w; ++b)
            res[b] = ((r[0][b] + r[1][b]) + (r[2][b] + r[3][b])) + ((r[4][b] + r[5][b]) + (r[6][b] + r[7][b]));
        for (; i < n; ++i)
            for (idx b = 0; b < w; ++b) res[b] += g(b, off + i);
        return;
    }
    idx n2 = n / 2;
    n2 -= n2 % 8;
    Acc lo[cap];
    pairwise_sum_lanes<Acc, B>(n2, g, w, lo, off);
    pairwise_sum_lanes<Acc, B>(n - n2, g, w, res, off + n2);
    for (idx b = 0; b < w; ++b) res[b] = lo[b] + res[b];
}

// Term k of row b of a view (g(b, k) accessors for pairwise_sum_lanes).
template <class T>
struct AtUnitCol {  // rows adjacent: lane b at p[k * cs + b]
    const T* p;
    idx cs;
    PYNEURAL_ALWAYS_INLINE T operator()(idx b, idx k) const { return p[k * cs + b]; }
};
template <class T>
struct AtUnitRow {  // one row, contiguous
    const T* p;
    PYNEURAL_ALWAYS_INLINE T operator()(idx, idx k) const { return p[k]; }
};
template <class T>
struct AtAny {
    const T* p;
    idx rs, cs;
    PYNEURAL_ALWAYS_INLINE T operator()(idx b, idx k) const { return p[k * cs + b * rs]; }
};

// (g(b, k) - mu[b])^2 and a(b, k) * c(b, k), rounded to T per term as the reference.
template <class T, class A>
struct AtSq {
    A a;
    const T* mu;
    PYNEURAL_ALWAYS_INLINE T operator()(idx b, idx k) const {
        const T d = a(b, k) - mu[b];
        return d * d;
    }
};
template <class T, class A, class C>
struct AtProd {
    A a;
    C c;
    PYNEURAL_ALWAYS_INLINE T operator()(idx b, idx k) const { return a(b, k) * c(b, k); }
};

// f(acc) with the cheapest accessor for a block of rows (B = 1: a single row).
template <class T, int B, class F>
PYNEURAL_ALWAYS_INLINE void with_acc(Mat<const T> a, F&& f) {
    if constexpr (B == 1) {
        if (a.cs == 1) return f(AtUnitRow<T>{a.p});
    } else {
        if (a.rs == 1) return f(AtUnitCol<T>{a.p, a.cs});
    }
    f(AtAny<T>{a.p, a.rs, a.cs});
}

// mu[b], var[b] of the w rows of block a (B as in pairwise_sum_lanes).
template <class T, int B>
inline void bn_stats(Mat<const T> a, T* mu, T* var) {
    const idx m = a.cols, w = a.rows;
    with_acc<T, B>(a, [&](auto at) {
        pairwise_sum_lanes<T, B>(m, at, w, mu);
        for (idx b = 0; b < w; ++b) mu[b] = mean_of(mu[b], m);
        pairwise_sum_lanes<T, B>(m, AtSq<T, decltype(at)>{at, mu}, w, var);
        for (idx b = 0; b < w; ++b) var[b] = mean_of(var[b], m);
    });
}

// db[b] = mean(dout), dg[b] = mean(dout * Zn) of the w rows of a block.
template <class T, int B>
inline void bn_grad_stats(Mat<const T> d, Mat<const T> zn, T* db, T* dg) {
    const idx m = d.cols, w = d.rows;
    with_acc<T, B>(d, [&](auto ad) {
        pairwise_sum_lanes<T, B>(m, ad, w, db);
        with_acc<T, B>(zn, [&](auto az) {
            pairwise_sum_lanes<T, B>(m, AtProd<T, decltype(ad), decltype(az)>{ad, az}, w, dg);
        });
    });
    for (idx b = 0; b < w; ++b) db[b] = mean_of(db[b], m), dg[b] = mean_of(dg[b], m);
}

// Walk a view column by column? (Rows are the long stride, and there is more than one.)
template <class T>
inline bool bn_by_columns(const Mat<T>& a) {
    return a.rows > 1 && std::abs(a.rs) < std::abs(a.cs);
}

// Row blocks of the column walk's statistics: as few as possible (each block reads every
// column once), but at least one per thread when there is enough to share.
inline idx bn_blocks(idx n, bool par) {
    idx nb = (n + kBnLanes - 1) / kBnLanes;
    if (par) nb = std::max(nb, std::min<idx>(num_threads(), n / kBnMinLanes));
    return std::max<idx>(nb, 1);
}

// f(j0, j1) over chunks of whole columns (for the elementwise passes of the column walk).
template <class F>
inline void bn_column_chunks(idx n, idx m, bool par, F&& f) {
    const idx step = std::max<idx>(1, kRun / std::max<idx>(n, 1)), nc = (m + step - 1) / step;
    parallel_for(nc, par, [&](idx c) { f(c * step, std::min(m, (c + 1) * step)); });
}

// ---- elementwise passes: one row, or whole columns (per-row scalars in arrays) ------------

// zn = (z - mu) / sd; out = g * zn + b.
template <class T>
PYNEURAL_CLONES void bn_forward_row(idx m, const T* z, idx zs, T* zn, idx zns, T* o, idx os, T mu, T sd, T g, T b) {
    if (zs == 1 && zns == 1 && os == 1) {
        for (idx k = 0; k < m; ++k) {
            const T v = (z[k] - mu) / sd;
            zn[k] = v;
            o[k] = g * v + b;
        }
    } else {
        for (idx k = 0; k < m; ++k) {
            const T v = (z[k * zs] - mu) / sd;
            zn[k * zns] = v;
            o[k * os] = g * v + b;
        }
    }
}

template <class T>
PYNEURAL_CLONES void bn_forward_cols(Mat<const T> z, Mat<T> zn, Mat<T> o, const T* PYNEURAL_RESTRICT mu,
                                     const T* PYNEURAL_RESTRICT sd, const T* PYNEURAL_RESTRICT g,
                                     const T* PYNEURAL_RESTRICT b) {
    const idx n = z.rows;
    for (idx k = 0; k < z.cols; ++k) {
        const T* PYNEURAL_RESTRICT zc = z.p + k * z.cs;
        T* PYNEURAL_RESTRICT znc = zn.p + k * zn.cs;
        T* PYNEURAL_RESTRICT oc = o.p + k * o.cs;
        if (z.rs == 1 && zn.rs == 1 && o.rs == 1) {
            for (idx i = 0; i < n; ++i) {
                const T v = (zc[i] - mu[i]) / sd[i];
                znc[i] = v;
                oc[i] = g[i] * v + b[i];
            }
        } else {
            for (idx i = 0; i < n; ++i) {
                const T v = (zc[i * z.rs] - mu[i]) / sd[i];
                znc[i * zn.rs] = v;
                oc[i * o.rs] = g[i] * v + b[i];
            }
        }
    }
}

// out = g * ((z - mu) / sd) + b.
template <class T>
PYNEURAL_CLONES void bn_inference_row(idx m, const T* z, idx zs, T* o, idx os, T mu, T sd, T g, T b) {
    if (zs == 1 && os == 1) {
        for (idx k = 0; k < m; ++k) o[k] = g * ((z[k] - mu) / sd) + b;
    } else {
        for (idx k = 0; k < m; ++k) o[k * os] = g * ((z[k * zs] - mu) / sd) + b;
    }
}

template <class T>
PYNEURAL_CLONES void bn_inference_cols(Mat<const T> z, Mat<T> o, const T* PYNEURAL_RESTRICT mu,
                                       const T* PYNEURAL_RESTRICT sd, const T* PYNEURAL_RESTRICT g,
                                       const T* PYNEURAL_RESTRICT b) {
    const idx n = z.rows;
    for (idx k = 0; k < z.cols; ++k) {
        const T* PYNEURAL_RESTRICT zc = z.p + k * z.cs;
        T* PYNEURAL_RESTRICT oc = o.p + k * o.cs;
        if (z.rs == 1 && o.rs == 1) {
            for (idx i = 0; i < n; ++i) oc[i] = g[i] * ((zc[i] - mu[i]) / sd[i]) + b[i];
        } else {
            for (idx i = 0; i < n; ++i) oc[i * o.rs] = g[i] * ((zc[i * z.rs] - mu[i]) / sd[i]) + b[i];
        }
    }
}

// dz = c * ((dout - db) - zn * dg), with c = gamma / sqrt(var + eps).
template <class T>
PYNEURAL_CLONES void bn_backward_row(idx m, const T* d, idx ds, const T* zn, idx zns, T* dz, idx dzs, T c, T db,
                                     T dg) {
    if (ds == 1 && zns == 1 && dzs == 1) {
        for (idx k = 0; k < m; ++k) dz[k] = c * ((d[k] - db) - zn[k] * dg);
    } else {
        for (idx k = 0; k < m; ++k) dz[k * dzs] = c * ((d[k * ds] - db) - zn[k * zns] * dg);
    }
}

template <class T>
PYNEURAL_CLONES void bn_backward_cols(Mat<const T> d, Mat<const T> zn, Mat<T> dz, const T* PYNEURAL_RESTRICT c,
                                      const T* PYNEURAL_RESTRICT db, const T* PYNEURAL_RESTRICT dg) {
    const idx n = d.rows;
    for (idx k = 0; k < d.cols; ++k) {
        const T* PYNEURAL_RESTRICT dc = d.p + k * d.cs;
        const T* PYNEURAL_RESTRICT znc = zn.p + k * zn.cs;
        T* PYNEURAL_RESTRICT dzc = dz.p + k * dz.cs;
        if (d.rs == 1 && zn.rs == 1 && dz.rs == 1) {
            for (idx i = 0; i < n; ++i) dzc[i] = c[i] * ((dc[i] - db[i]) - znc[i] * dg[i]);
        } else {
            for (idx i = 0; i < n; ++i) dzc[i * dz.rs] = c[i] * ((dc[i * d.rs] - db[i]) - znc[i * zn.rs] * dg[i]);
        }
    }
}

// ---- the ops ----------------------------------------------------------------------------

// mean = rowmean(Z); var = rowmean((Z - mean)^2); Zn = (Z - mean) / sqrt(var + eps);
// out = gamma * Zn + beta.
template <class T>
void batchnorm_forward(Mat<const T> Z, Vec<const T> gamma, Vec<const T> beta, Mat<T> Zn, Mat<T> out, Vec<T> mean,
                       Vec<T> var, double eps) {
    const idx n = Z.rows, m = Z.cols;
    if (n <= 0) return;
    const T e = T(eps);
    const bool par = n * m >= kParBatchnorm;
    if (!bn_by_columns(Z)) {
        parallel_for(n, par, [&](idx i) {
            T mu, v;
            bn_stats<T, 1>(Z.sub(i, 0, 1, m), &mu, &v);
            mean[i] = mu;
            var[i] = v;
            bn_forward_row<T>(m, Z.p + i * Z.rs, Z.cs, Zn.p + i * Zn.rs, Zn.cs, out.p + i * out.rs, out.cs, mu,
                              std::sqrt(v + e), gamma[i], beta[i]);
        });
        return;
    }
    T* st = scratch(kScratchReduce).get<T>(std::size_t(4 * n));  // before any parallel region
    T *mu = st, *sd = st + n, *g = st + 2 * n, *b = st + 3 * n;
    const idx nb = bn_blocks(n, par);
    parallel_for(nb, par, [&](idx t) {
        const idx i0 = n * t / nb, i1 = n * (t + 1) / nb;
        bn_stats<T, 0>(Z.sub(i0, 0, i1 - i0, m), mu + i0, sd + i0);  // sd holds var for now
        for (idx i = i0; i < i1; ++i) {
            mean[i] = mu[i];
            var[i] = sd[i];
            sd[i] = std::sqrt(sd[i] + e);
            g[i] = gamma[i];
            b[i] = beta[i];
        }
    });
    bn_column_chunks(n, m, par, [&](idx j0, idx j1) {
        bn_forward_cols<T>(Z.sub(0, j0, n, j1 - j0), Zn.sub(0, j0, n, j1 - j0), out.sub(0, j0, n, j1 - j0), mu, sd, g,
                           b);
    });
}

// out = gamma * (Z - mean) / sqrt(var + eps) + beta with given statistics.
template <class T>
void batchnorm_inference(Mat<const T> Z, Vec<const T> gamma, Vec<const T> beta, Vec<const T> mean, Vec<const T> var,
                         Mat<T> out, double eps) {
    const idx n = Z.rows, m = Z.cols;
    if (n <= 0) return;
    const T e = T(eps);
    const bool par = n * m >= kParBatchnorm;
    if (!bn_by_columns(Z)) {
        parallel_for(n, par, [&](idx i) {
            bn_inference_row<T>(m, Z.p + i * Z.rs, Z.cs, out.p + i * out.rs, out.cs, mean[i], std::sqrt(var[i] + e),
                                gamma[i], beta[i]);
        });
        return;
    }
    T* st = scratch(kScratchReduce).get<T>(std::size_t(4 * n));
    T *mu = st, *sd = st + n, *g = st + 2 * n, *b = st + 3 * n;
    for (idx i = 0; i < n; ++i) {
        mu[i] = mean[i];
        sd[i] = std::sqrt(var[i] + e);
        g[i] = gamma[i];
        b[i] = beta[i];
    }
    bn_column_chunks(n, m, par, [&](idx j0, idx j1) {
        bn_inference_cols<T>(Z.sub(0, j0, n, j1 - j0), out.sub(0, j0, n, j1 - j0), mu, sd, g, b);
    });
}

// dbeta = rowmean(dout); dgamma = rowmean(dout * Zn);
// dZ = gamma / sqrt(var + eps) * (dout - dbeta - Zn * dgamma).
template <class T>
void batchnorm_backward(Mat<const T> dout, Mat<const T> Zn, Vec<const T> gamma, Vec<const T> var, Mat<T> dZ,
                        Vec<T> dgamma, Vec<T> dbeta, double eps) {
    const idx n = dout.rows, m = dout.cols;
    if (n <= 0) return;
    const T e = T(eps);
    const bool par = n * m >= kParBatchnorm;
    if (!bn_by_columns(dout)) {
        parallel_for(n, par, [&](idx i) {
            T db, dg;
            bn_grad_stats<T, 1>(dout.sub(i, 0, 1, m), Zn.sub(i, 0, 1, m), &db, &dg);
            dbeta[i] = db;
            dgamma[i] = dg;
            const T c = gamma[i] / std::sqrt(var[i] + e);
            bn_backward_row<T>(m, dout.p + i * dout.rs, dout.cs, Zn.p + i * Zn.rs, Zn.cs, dZ.p + i * dZ.rs, dZ.cs, c,
                               db, dg);
        });
        return;
    }
    T* st = scratch(kScratchReduce).get<T>(std::size_t(3 * n));
    T *c = st, *db = st + n, *dg = st + 2 * n;
    const idx nb = bn_blocks(n, par);
    parallel_for(nb, par, [&](idx t) {
        const idx i0 = n * t / nb, i1 = n * (t + 1) / nb;
        bn_grad_stats<T, 0>(dout.sub(i0, 0, i1 - i0, m), Zn.sub(i0, 0, i1 - i0, m), db + i0, dg + i0);
        for (idx i = i0; i < i1; ++i) {
            dbeta[i] = db[i];
            dgamma[i] = dg[i];
            c[i] = gamma[i] / std::sqrt(var[i] + e);
        }
    });
    bn_column_chunks(n, m, par, [&](idx j0, idx j1) {
        bn_backward_cols<T>(dout.sub(0, j0, n, j1 - j0), Zn.sub(0, j0, n, j1 - j0), dZ.sub(0, j0, n, j1 - j0), c, db,
                            dg);
    });
}

}  // namespace pyneural
