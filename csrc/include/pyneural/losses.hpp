// Costs (sums over all elements, accumulated in double) and the L2 sum of squares.
// Each run of <= kRun elements is summed pairwise; run partials are added in run order.
#pragma once

#include <cmath>
#include <limits>

#include "common.hpp"
#include "simd_math.hpp"

namespace pyneural {

// log(max(x, smallest normal of T)) computed in T, then promoted: the reference's _safe_log.
template <class T>
PYNEURAL_ALWAYS_INLINE T safe_log_t(T x) {
    const T tiny = std::numeric_limits<T>::min();
    return simd::log(x < tiny ? tiny : x);  // a NaN x stays NaN, like np.maximum
}

template <class T>
PYNEURAL_ALWAYS_INLINE double safe_log(T x) {
    return double(safe_log_t(x));
}

// out[k] = safe_log(a[k]) (or of 1 - a[k]) for a run, in a loop of its own so it vectorises;
// the pairwise sums then read these values, so the cost has the same bits as summing
// safe_log terms directly.
template <class T>
PYNEURAL_CLONES void safe_log_run(idx n, const T* a, idx as, bool one_minus, T* out) {
    if (as == 1) {
        if (one_minus) {
            for (idx k = 0; k < n; ++k) out[k] = safe_log_t(T(T(1) - a[k]));
        } else {
            for (idx k = 0; k < n; ++k) out[k] = safe_log_t(a[k]);
        }
    } else {
        for (idx k = 0; k < n; ++k) out[k] = safe_log_t(one_minus ? T(T(1) - a[k * as]) : a[k * as]);
    }
}

template <class T>
double bce_cost(Mat<const T> AL, Mat<const T> Y) {
    return -reduce_runs(true, kParHeavy,
                        [](idx n, const T* a, const T* y, idx as, idx ys) {
                            T la[kRun], lb[kRun];
                            safe_log_run<T>(n, a, as, false, la);
                            safe_log_run<T>(n, a, as, true, lb);
                            return pairwise_sum<double>(n, [&](idx k) {
                                const double yv = double(y[k * ys]);
                                return yv * double(la[k]) + (1.0 - yv) * double(lb[k]);
                            });
                        },
                        AL, Y);
}

template <class T>
double softmax_ce_cost(Mat<const T> AL, Mat<const T> Y) {
    return -reduce_runs(true, kParHeavy,
                        [](idx n, const T* a, const T* y, idx as, idx ys) {
                            T la[kRun];
                            safe_log_run<T>(n, a, as, false, la);
                            return pairwise_sum<double>(n, [&](idx k) {
                                const double yv = double(y[k * ys]);
                                return yv != 0.0 ? yv * double(la[k]) : 0.0;
                            });
                        },
                        AL, Y);
}

// labels were range-checked by the caller.
template <class T>
double softmax_ce_labels_cost(Mat<const T> AL, const std::int64_t* labels, idx ls) {
    const idx m = AL.cols, nb = (m + kRun - 1) / kRun;
    double s = 0.0;
    T g[kRun], lg[kRun];
    for (idx b = 0; b < nb; ++b) {
        const idx j0 = b * kRun, len = std::min(kRun, m - j0);
        for (idx j = 0; j < len; ++j) g[j] = AL(labels[(j0 + j) * ls], j0 + j);  // gather, then log
        safe_log_run<T>(len, g, 1, false, lg);
        s += pairwise_sum<double>(len, [&](idx j) { return double(lg[j]); });
    }
    return -s;
}

template <class T>
double mse_cost(Mat<const T> AL, Mat<const T> Y) {
    return reduce_runs(true, kParCheap,
                       [](idx n, const T* a, const T* y, idx as, idx ys) {
                           return pairwise_sum<double>(n, [=](idx k) {
                               const double d = double(a[k * as]) - double(y[k * ys]);
                               return d * d;
                           });
                       },
                       AL, Y);
}

template <class T>
double sum_squares(Mat<const T> W) {
    return reduce_runs(true, kParCheap,
                       [](idx n, const T* w, idx ws) {
                           if (ws == 1)
                               return pairwise_sum<double>(n, [=](idx k) { return double(w[k]) * double(w[k]); });
                           return pairwise_sum<double>(n, [=](idx k) {
                               const double v = double(w[k * ws]);
                               return v * v;
                           });
                       },
                       W);
}

}  // namespace pyneural
