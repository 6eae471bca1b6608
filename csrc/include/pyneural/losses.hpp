// Costs (sums over all elements, accumulated in double) and the L2 sum of squares.
// Each run of <= kRun elements is summed pairwise; run partials are added in run order.
#pragma once

#include <cmath>
#include <limits>

#include "common.hpp"

namespace pyneural {

// log(max(x, smallest normal of T)) computed in T, then promoted: the reference's _safe_log.
template <class T>
PYNEURAL_ALWAYS_INLINE double safe_log(T x) {
    const T tiny = std::numeric_limits<T>::min();
    return double(std::log(x < tiny ? tiny : x));  // a NaN x stays NaN, like np.maximum
}

template <class T>
double bce_cost(Mat<const T> AL, Mat<const T> Y) {
    return -reduce_runs(true, kParHeavy,
                        [](idx n, const T* a, const T* y, idx as, idx ys) {
                            return pairwise_sum<double>(n, [=](idx k) {
                                const T av = a[k * as];
                                const double yv = double(y[k * ys]);
                                return yv * safe_log(av) + (1.0 - yv) * safe_log(T(T(1) - av));
                            });
                        },
                        AL, Y);
}

template <class T>
double softmax_ce_cost(Mat<const T> AL, Mat<const T> Y) {
    return -reduce_runs(true, kParHeavy,
                        [](idx n, const T* a, const T* y, idx as, idx ys) {
                            return pairwise_sum<double>(n, [=](idx k) {
                                const double yv = double(y[k * ys]);
                                return yv != 0.0 ? yv * safe_log(a[k * as]) : 0.0;
                            });
                        },
                        AL, Y);
}

// labels were range-checked by the caller.
template <class T>
double softmax_ce_labels_cost(Mat<const T> AL, const std::int64_t* labels, idx ls) {
    const idx m = AL.cols, nb = (m + kRun - 1) / kRun;
    double s = 0.0;
    for (idx b = 0; b < nb; ++b) {
        const idx j0 = b * kRun;
        s += pairwise_sum<double>(std::min(kRun, m - j0), [&](idx j) { return safe_log(AL(labels[j * ls], j)); }, j0);
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
