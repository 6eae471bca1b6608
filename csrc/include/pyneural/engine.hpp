// The training engine's executor: whole epochs of mini-batch training (shuffle, gather,
// forward, cost, backward, optimizer update) over a plan built by pyneural/engine/plan.py,
// whose module docstring is the specification. Pure C++17, no Python: stopping is a
// callback (`poll`) the binding implements.
//
// Every op runs the same kernels, in the same order, as the per-layer path of fit on the
// cpp backend, so the numbers are bit for bit those of that path. Nothing allocates in the
// step loop (the plan holds every buffer; the few scratch vectors are made once per call),
// and every reduction is the kernels', so no result depends on the thread count.
//
// Layouts: the gathered batch Xb and targets Yb are stored (mb, n), one example per row
// (rows of XT/YT are copied whole), and read through their transposed views: the layout
// of the per-layer loop's X[:, idx] and Y[:, idx] (NumPy's fancy indexing makes them
// F-ordered), which matters for Yb because the cost kernels' summation order follows the
// layout. Every other (n, mb) matrix is C-contiguous with row length mb. The backward pass ping-pongs between the plan's D0/D1
// (and DZ) buffers; when a Dense layer's dA_prev GEMM feeds a layer whose elementwise
// activation must be back-propagated first, dZ = dA * g'(Z) runs in that GEMM's epilogue,
// in place, while the tile is in cache.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "batchnorm.hpp"
#include "dropout.hpp"
#include "engine_shuffle.hpp"
#include "linear.hpp"
#include "losses.hpp"
#include "optimizers.hpp"

namespace pyneural::engine {

// ---- the plan's tables (mirrors of plan.py's constants) --------------------------------

enum OpKind : int { kDense = 1, kBatchNorm = 2, kDropout = 3, kActivation = 4 };
enum OpCol : int { cKind, cNIn, cNOut, cAct, cP0, cP1, cOut, cAux0, cAux1, cAux2, cAux3, cState, cLayer, kOpFields };
enum FparCol : int { fAlpha, fKeep, fEps, fMomentum, kFparFields };
enum LossCode : int { kBce = 1, kCce = 2, kCceLabels = 3, kMse = 4 };
enum TaskCode : int { kBinary = 0, kMulticlass = 1, kRegression = 2 };
enum OptCode : int { kGd = 0, kMomentum = 1, kRmsprop = 2, kAdam = 3 };
enum MetaCol : int {
    mNOps, mNX, mNY, mM, mB, mFull, mLoss, mFused, mTask, mOpt, mEpsInside, mNParams, mNState, mSeed,
    mXb, mYb, mD0, mD1, mDz, mFirstGrad, kMetaFields
};
enum HyperCol : int { hL2, hBeta1, hBeta2, hEps, kHyperFields };
enum OutCol : int { oCost, oCorrect, oSeen, oSteps, oNanLayer, kOutFields };
enum Status : int { kOk = 0, kNonfinite = 1, kStopped = 2 };

struct Op {
    int kind, act;
    idx n_in, n_out, p0, p1, out, aux0, aux1, aux2, aux3, state, layer;
    double alpha, keep, eps, momentum;
};

// Tables and sizes (from ops/fpar/meta/hyper); pointers are filled by the caller.
template <class T>
struct Plan {
    std::vector<Op> ops;
    idx n_x = 0, n_y = 0, m = 0, B = 0, n_params = 0, n_state = 0, first_grad = 0;
    idx xb = 0, yb = 0, d0 = 0, d1 = 0, dz = 0, max_n = 0;
    bool full = false, fused = false, eps_inside = false;
    int loss = 0, task = 0, opt = 0;
    std::int64_t seed = 0;
    double l2 = 0, beta1 = 0, beta2 = 0, eps = 0;

    const T *X = nullptr, *XT = nullptr, *Y = nullptr, *YT = nullptr;
    const std::int64_t* labels = nullptr;
    T *params = nullptr, *grads = nullptr, *slot_v = nullptr, *slot_s = nullptr, *state = nullptr;
    T *snapshot = nullptr, *ws = nullptr;
    std::uint8_t* masks = nullptr;
    std::int64_t *lab = nullptr, *perm = nullptr;

    bool labels_mode() const { return loss == kCceLabels; }
    idx steps_per_epoch() const { return full ? 1 : (m + B - 1) / B; }
};

template <class T>
Plan<T> parse_plan(const std::int64_t* ops, idx n_ops, const double* fpar, const std::int64_t* meta,
                   const double* hyper) {
    Plan<T> p;
    p.ops.resize(std::size_t(n_ops));
    for (idx i = 0; i < n_ops; ++i) {
        const std::int64_t* r = ops + i * kOpFields;
        const double* f = fpar + i * kFparFields;
        p.ops[std::size_t(i)] = Op{int(r[cKind]), int(r[cAct]), r[cNIn], r[cNOut], r[cP0], r[cP1], r[cOut],
                                   r[cAux0], r[cAux1], r[cAux2], r[cAux3], r[cState], r[cLayer],
                                   f[fAlpha], f[fKeep], f[fEps], f[fMomentum]};
    }
    p.n_x = meta[mNX], p.n_y = meta[mNY], p.m = meta[mM], p.B = meta[mB];
    p.full = meta[mFull] != 0, p.fused = meta[mFused] != 0, p.eps_inside = meta[mEpsInside] != 0;
    p.loss = int(meta[mLoss]), p.task = int(meta[mTask]), p.opt = int(meta[mOpt]);
    p.n_params = meta[mNParams], p.n_state = meta[mNState], p.seed = meta[mSeed];
    p.xb = meta[mXb], p.yb = meta[mYb], p.d0 = meta[mD0], p.d1 = meta[mD1], p.dz = meta[mDz];
    p.first_grad = meta[mFirstGrad];
    p.l2 = hyper[hL2], p.beta1 = hyper[hBeta1], p.beta2 = hyper[hBeta2], p.eps = hyper[hEps];
    p.max_n = p.n_x;
    for (const Op& o : p.ops) p.max_n = std::max(p.max_n, std::max(o.n_in, o.n_out));
    return p;
}

// Consistency of the tables: op chain, codes, and every offset inside its buffer. Returns
// an error message, or "" when the plan can run. ws_size/masks_size are element counts.
template <class T>
std::string check_plan(const Plan<T>& p, idx ws_size, idx masks_size) {
    auto bad = [](const std::string& s) { return s; };
    const idx n_ops = idx(p.ops.size()), B = p.B;
    if (n_ops < 1) return bad("the plan has no ops");
    if (p.n_x < 1 || p.n_y < 1) return bad("n_x and n_y must be >= 1");
    if (p.m < 1) return bad("m must be >= 1 (no training examples)");
    if (B < 1 || B > p.m || (p.full && B != p.m)) return bad("batch size B must be in [1, m] (m when full batch)");
    if (p.loss < kBce || p.loss > kMse) return bad("unknown loss code " + std::to_string(p.loss));
    if (p.task < kBinary || p.task > kRegression) return bad("unknown task code " + std::to_string(p.task));
    if (p.opt < kGd || p.opt > kAdam) return bad("unknown optimizer code " + std::to_string(p.opt));
    if (p.labels_mode() && p.task != kMulticlass) return bad("integer labels need the multiclass task");
    if (p.n_params < 0 || p.n_state < 0) return bad("negative parameter or state count");
    if (p.first_grad < 0 || p.first_grad > n_ops) return bad("first_grad outside [0, n_ops]");
    if (!(p.l2 >= 0.0)) return bad("l2 must be >= 0");
    auto in_ws = [&](idx off, idx len) { return off >= 0 && len >= 0 && off <= ws_size && len <= ws_size - off; };
    auto in_params = [&](idx off, idx len) { return off >= 0 && off <= p.n_params && len <= p.n_params - off; };
    if (!in_ws(p.xb, p.n_x * B) || !in_ws(p.yb, p.n_y * B)) return bad("Xb/Yb lie outside ws");
    for (idx off : {p.d0, p.d1, p.dz})
        if (!in_ws(off, p.max_n * B)) return bad("a gradient buffer (D0/D1/DZ) lies outside ws");
    idx n_prev = p.n_x;
    for (idx i = 0; i < n_ops; ++i) {
        const Op& o = p.ops[std::size_t(i)];
        const std::string at = "ops[" + std::to_string(i) + "]: ";
        const idx n = o.n_out, nb = n * B;
        if (o.n_in != n_prev) return bad(at + "N_IN does not match the previous op's output");
        if (n < 1) return bad(at + "N_OUT must be >= 1");
        if (o.act < kIdentity || o.act > kSoftmax) return bad(at + "unknown activation code");
        if (o.layer < 0 || o.layer > 0xffffffffLL) return bad(at + "LAYER outside [0, 2**32)");
        switch (o.kind) {
            case kDense:
                if (!in_params(o.p0, n * o.n_in)) return bad(at + "W lies outside params");
                if (o.p1 != -1 && !in_params(o.p1, n)) return bad(at + "b lies outside params");
                if (!in_ws(o.aux0, nb) || !in_ws(o.out, nb)) return bad(at + "Z/A lie outside ws");
                break;
            case kBatchNorm:
                if (o.n_in != n) return bad(at + "batch norm must keep its width");
                if (!in_params(o.p0, n) || !in_params(o.p1, n)) return bad(at + "gamma/beta lie outside params");
                if (!in_ws(o.aux0, nb) || !in_ws(o.aux1, nb) || !in_ws(o.out, nb) || !in_ws(o.aux2, n) ||
                    !in_ws(o.aux3, n))
                    return bad(at + "Zn/out/A/mean/var lie outside ws");
                if (o.state < 0 || o.state > p.n_state || 2 * n > p.n_state - o.state)
                    return bad(at + "running statistics lie outside state");
                if (!(o.eps > 0.0)) return bad(at + "epsilon must be > 0");
                break;
            case kDropout:
                if (o.n_in != n) return bad(at + "dropout must keep its width");
                if (!(o.keep > 0.0 && o.keep <= 1.0)) return bad(at + "keep_prob must be in (0, 1]");
                if (o.keep < 1.0 && (!in_ws(o.out, nb) || o.aux0 < 0 || o.aux0 > masks_size || nb > masks_size - o.aux0))
                    return bad(at + "output/mask lie outside ws/masks");
                break;
            case kActivation:
                if (o.n_in != n) return bad(at + "an activation must keep its width");
                if (!in_ws(o.out, nb)) return bad(at + "output lies outside ws");
                break;
            default: return bad(at + "unknown op kind " + std::to_string(o.kind));
        }
        n_prev = n;
    }
    if (n_prev != p.n_y) return bad("the last op's N_OUT differs from n_y");
    return "";
}

// ---- small helpers ----------------------------------------------------------------------

template <class T>
inline bool all_finite(Mat<const T> a) {
    for (idx i = 0; i < a.rows; ++i)
        for (idx j = 0; j < a.cols; ++j)
            if (!std::isfinite(a(i, j))) return false;
    return true;
}

// Index of the first maximum of column j (NaN counts as the maximum, as np.argmax).
template <class T>
inline idx argmax_col(Mat<const T> a, idx j) {
    idx best = 0;
    T v = a(0, j);
    if (v != v) return 0;
    for (idx i = 1; i < a.rows; ++i) {
        const T u = a(i, j);
        if (u != u) return i;
        if (u > v) v = u, best = i;
    }
    return best;
}

// dA = the loss's gradient w.r.t. AL (losses.py output_dA): BCE -(Y/max(AL,tiny) -
// (1-Y)/max(1-AL,tiny)); CCE -Y/max(AL,tiny) (Y one-hot or from labels); MSE AL - Y.
template <class T>
void output_dA(int loss, Mat<const T> AL, Mat<const T> Y, const std::int64_t* labels, Mat<T> dA) {
    const T tiny = std::numeric_limits<T>::min(), one = T(1);
    auto clamp = [tiny](T x) { return x < tiny ? tiny : x; };  // np.maximum: NaN stays NaN
    for (idx i = 0; i < AL.rows; ++i)
        for (idx j = 0; j < AL.cols; ++j) {
            const T a = AL(i, j);
            switch (loss) {
                case kBce: {
                    const T y = Y(i, j);
                    dA(i, j) = -(y / clamp(a) - (one - y) / clamp(one - a));
                    break;
                }
                case kCce: dA(i, j) = -Y(i, j) / clamp(a); break;
                case kCceLabels: dA(i, j) = -(labels[j] == i ? one : T(0)) / clamp(a); break;
                default: dA(i, j) = a - Y(i, j); break;
            }
        }
}

// Copies a row of n elements (short rows without a library call).
template <class T>
PYNEURAL_ALWAYS_INLINE void copy_row(T* PYNEURAL_RESTRICT d, const T* PYNEURAL_RESTRICT s, idx n) {
    switch (n) {
        case 1: d[0] = s[0]; return;
        case 2: d[0] = s[0], d[1] = s[1]; return;
        case 3: d[0] = s[0], d[1] = s[1], d[2] = s[2]; return;
        case 4: d[0] = s[0], d[1] = s[1], d[2] = s[2], d[3] = s[3]; return;
        default: std::memcpy(d, s, std::size_t(n) * sizeof(T));
    }
}

// Calls poll() (with the GIL, in the binding) after the first step of a call, then at most
// every kPollPeriod, reading the clock only every `every_` steps; `every_` adapts so the
// clock is read every ~1-10 ms. Polling the first step means a Ctrl-C that arrived between
// calls stops after one step, as in the per-layer loop.
class PollTimer {
public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds kPollPeriod{50};

    PollTimer() : last_check_(clock::now()), last_poll_(last_check_ - kPollPeriod) {}

    template <class Poll>
    bool should_stop(Poll& poll) {
        if (--left_ > 0) return false;
        const auto now = clock::now();
        const auto dt = now - last_check_;
        if (dt < std::chrono::milliseconds(1) && every_ < (idx(1) << 20)) every_ *= 2;
        else if (dt > std::chrono::milliseconds(10) && every_ > 1) every_ /= 2;
        left_ = every_;
        last_check_ = now;
        if (now - last_poll_ < kPollPeriod) return false;
        last_poll_ = now;
        return poll();
    }

private:
    clock::time_point last_check_, last_poll_;
    idx every_ = 1, left_ = 1;
};

struct Result {
    int status;
    idx epochs_done;
};

// ---- the executor -----------------------------------------------------------------------

template <class T>
class Runner {
public:
    explicit Runner(const Plan<T>& p)
        : p_(p),
          n_ops_(idx(p.ops.size())),
          in_(p.ops.size()),
          out_(p.ops.size()),
          zeros_(std::size_t(p.max_n), T(0)),
          db_scratch_(std::size_t(p.max_n)) {}

    template <class Poll>
    Result run(idx epoch0, idx n_epochs, const double* lrs, std::int64_t step0, std::int64_t t0, double* out,
               Poll& poll) {
        const idx n_steps = p_.steps_per_epoch();
        const idx total_steps = n_epochs * n_steps;
        idx done = 0;
        PollTimer timer;
        for (idx r = 0; r < n_epochs; ++r) {
            double* o = out + r * kOutFields;
            o[oCost] = o[oCorrect] = o[oSeen] = o[oSteps] = 0.0;
            o[oNanLayer] = -1.0;
            take_snapshot();
            try {
                if (!p_.full) {
                    const std::uint64_t e = std::uint64_t(epoch0) + std::uint64_t(r);
                    legacy_permutation(rng_, std::uint32_t(std::uint64_t(p_.seed) + e), p_.perm, p_.m);
                }
                for (idx s = 0; s < n_steps; ++s) {
                    const idx k = s * p_.B, mb = std::min(p_.B, p_.m - k);
                    gather(k, mb);
                    forward(mb, std::uint32_t(std::uint64_t(step0) + std::uint64_t(done)));
                    const double cost = cost_of(mb);
                    if (!std::isfinite(cost)) {
                        o[oNanLayer] = double(first_nonfinite_layer());
                        o[oSteps] = double(s);
                        restore_snapshot();
                        return {kNonfinite, r};
                    }
                    o[oCost] += cost * double(mb);
                    o[oCorrect] += correct(mb);
                    o[oSeen] += double(mb);
                    backward(mb);
                    update(lrs[r], t0 + std::int64_t(done) + 1);
                    ++done;
                    o[oSteps] = double(s + 1);
                    if (done < total_steps && timer.should_stop(poll)) return {kStopped, r + (s + 1 == n_steps)};
                }
            } catch (...) {  // e.g. bad_alloc growing the GEMM scratch: leave the epoch unapplied
                restore_snapshot();
                throw;
            }
        }
        return {kOk, n_epochs};
    }

private:
    // (n, mb) C-contiguous views into ws.
    Mat<T> wv(idx off, idx n, idx mb) const { return {p_.ws + off, n, mb, mb, 1}; }
    Mat<const T> y_view(idx mb) const {
        if (p_.full) return {p_.Y, p_.n_y, mb, p_.m, 1};
        return {p_.ws + p_.yb, p_.n_y, mb, 1, p_.n_y};
    }
    const std::int64_t* labels_of_batch() const { return p_.full ? p_.labels : p_.lab; }

    void take_snapshot() {
        std::memcpy(p_.snapshot, p_.params, std::size_t(p_.n_params) * sizeof(T));
        std::memcpy(p_.snapshot + p_.n_params, p_.state, std::size_t(p_.n_state) * sizeof(T));
    }
    void restore_snapshot() {
        std::memcpy(p_.params, p_.snapshot, std::size_t(p_.n_params) * sizeof(T));
        std::memcpy(p_.state, p_.snapshot + p_.n_params, std::size_t(p_.n_state) * sizeof(T));
    }

    // Xb (mb, n_x) and Yb (mb, n_y) from rows perm[k..k+mb) of XT and YT, lab from labels.
    // Full batch reads X/Y in place.
    void gather(idx k, idx mb) {
        if (p_.full) {
            x_ = {p_.X, p_.n_x, mb, p_.m, 1};
            return;
        }
        const std::int64_t* idxs = p_.perm + k;
        const idx n_x = p_.n_x;
        T* xb = p_.ws + p_.xb;
        constexpr idx kRows = 64;
        const idx nblk = (mb + kRows - 1) / kRows;
        parallel_for(nblk, n_x * mb >= kParCheap, [&](idx b) {
            const idx j1 = std::min(mb, (b + 1) * kRows);
            for (idx j = b * kRows; j < j1; ++j) copy_row(xb + j * n_x, p_.XT + idxs[j] * n_x, n_x);
        });
        x_ = {xb, n_x, mb, 1, n_x};
        if (p_.labels_mode()) {
            for (idx j = 0; j < mb; ++j) p_.lab[j] = p_.labels[idxs[j]];
        } else {
            const idx n_y = p_.n_y;
            T* yb = p_.ws + p_.yb;
            for (idx j = 0; j < mb; ++j) copy_row(yb + j * n_y, p_.YT + idxs[j] * n_y, n_y);
        }
    }

    void forward(idx mb, std::uint32_t step) {
        Mat<const T> a = x_;
        for (idx i = 0; i < n_ops_; ++i) {
            const Op& o = p_.ops[std::size_t(i)];
            const idx n = o.n_out;
            in_[std::size_t(i)] = a;
            switch (o.kind) {
                case kDense: {
                    const Mat<const T> W{p_.params + o.p0, n, o.n_in, o.n_in, 1};
                    const T* b = o.p1 >= 0 ? p_.params + o.p1 : zeros_.data();
                    linear_forward<T>(W, a, b, 1, wv(o.aux0, n, mb), wv(o.out, n, mb), o.act, T(o.alpha));
                    break;
                }
                case kBatchNorm: {
                    T* mean = p_.ws + o.aux2;
                    T* var = p_.ws + o.aux3;
                    const Mat<T> pre = wv(o.aux1, n, mb);
                    batchnorm_forward<T>(a, {p_.params + o.p0, 1}, {p_.params + o.p1, 1}, wv(o.aux0, n, mb), pre,
                                         {mean, 1}, {var, 1}, o.eps);
                    // Running averages as the layer: T(mom) * r + T(1 - mom) * batch statistic.
                    const T mom = T(o.momentum), omm = T(1.0 - o.momentum);
                    T* rm = p_.state + o.state;
                    T* rv = rm + n;
                    for (idx k = 0; k < n; ++k) rm[k] = mom * rm[k] + omm * mean[k];
                    for (idx k = 0; k < n; ++k) rv[k] = mom * rv[k] + omm * var[k];
                    if (o.act != kIdentity) activation_forward<T>(pre.c(), wv(o.out, n, mb), o.act, T(o.alpha));
                    break;
                }
                case kDropout:
                    if (o.keep < 1.0) {
                        const Mat<std::uint8_t> mask{p_.masks + o.aux0, n, mb, mb, 1};
                        dropout_forward<T>(a, wv(o.out, n, mb), mask, o.keep, std::uint64_t(p_.seed), step,
                                           std::uint32_t(o.layer));
                    }
                    break;
                default:  // kActivation
                    activation_forward<T>(a, wv(o.out, n, mb), o.act, T(o.alpha));
                    break;
            }
            a = (o.kind == kDropout && o.keep >= 1.0) ? a : wv(o.out, n, mb).c();
            out_[std::size_t(i)] = a;
        }
    }

    double cost_of(idx mb) const {
        const Mat<const T> AL = out_.back();
        double total;
        switch (p_.loss) {
            case kBce: total = bce_cost<T>(AL, y_view(mb)); break;
            case kCce: total = softmax_ce_cost<T>(AL, y_view(mb)); break;
            case kCceLabels: total = softmax_ce_labels_cost<T>(AL, labels_of_batch(), 1); break;
            default: total = 0.5 * mse_cost<T>(AL, y_view(mb)); break;
        }
        double l2_term = 0.0;
        if (p_.l2 > 0.0) {
            double ss = 0.0;
            for (const Op& o : p_.ops)
                if (o.kind == kDense) ss += sum_squares<T>(Mat<const T>{p_.params + o.p0, o.n_out, o.n_in, o.n_in, 1});
            l2_term = p_.l2 / double(2 * mb) * ss;
        }
        return total / double(mb) + l2_term;
    }

    // Correct predictions of the batch (binary: matching elements of AL and Y).
    double correct(idx mb) const {
        const Mat<const T> AL = out_.back();
        if (p_.task == kBinary) {
            const Mat<const T> Y = y_view(mb);
            idx c = 0;
            for (idx i = 0; i < AL.rows; ++i)
                for (idx j = 0; j < mb; ++j) c += (AL(i, j) > T(0.5)) == (Y(i, j) > T(0.5));
            return double(c);
        }
        if (p_.task == kMulticlass) {
            idx c = 0;
            if (p_.labels_mode()) {
                const std::int64_t* lab = labels_of_batch();
                for (idx j = 0; j < mb; ++j) c += argmax_col(AL, j) == lab[j];
            } else {
                const Mat<const T> Y = y_view(mb);
                for (idx j = 0; j < mb; ++j) c += argmax_col(AL, j) == argmax_col(Y, j);
            }
            return double(c);
        }
        return 0.0;
    }

    // LAYER of the first op whose cached float arrays (as the per-layer loop keeps them:
    // Dense input, Z, A; batch norm Zn, var, pre-activation, A; activation input and
    // output) hold a non-finite value; -1 if none.
    idx first_nonfinite_layer() const {
        const idx mb = out_.back().cols;
        for (idx i = 0; i < n_ops_; ++i) {
            const Op& o = p_.ops[std::size_t(i)];
            const std::size_t u = std::size_t(i);
            bool ok = true;
            switch (o.kind) {
                case kDense:
                    ok = all_finite(in_[u]) && all_finite(wv(o.aux0, o.n_out, mb).c()) && all_finite(out_[u]);
                    break;
                case kBatchNorm:
                    ok = all_finite(wv(o.aux0, o.n_out, mb).c()) && all_finite(wv(o.aux3, o.n_out, 1).c()) &&
                         all_finite(wv(o.aux1, o.n_out, mb).c()) && all_finite(out_[u]);
                    break;
                case kActivation: ok = all_finite(in_[u]) && all_finite(out_[u]); break;
                default: break;  // dropout keeps only its (integer) mask
            }
            if (!ok) return o.layer;
        }
        return -1;
    }

    // A gradient buffer other than the one at `busy` (D0/D1 alternate; DZ starts the pass).
    Mat<T> other(const T* busy, idx n, idx mb) const {
        const idx off = (p_.ws + p_.d0 == busy) ? p_.d1 : p_.d0;
        return wv(off, n, mb);
    }

    // Z (pre-activation) of a Dense or batch-norm op, for its activation's backward.
    Mat<const T> pre_activation(const Op& o, idx mb) const {
        return wv(o.kind == kDense ? o.aux0 : o.aux1, o.n_out, mb).c();
    }

    // Does op i's activation backward (an elementwise one) fold into the epilogue of the
    // GEMM that makes its dA?
    bool fusable(idx i) const {
        const Op& o = p_.ops[std::size_t(i)];
        return (o.kind == kDense || o.kind == kBatchNorm) && o.act != kIdentity && o.act != kSoftmax;
    }

    void backward(idx mb) {
        if (p_.first_grad >= n_ops_) return;
        const Mat<const T> AL = out_.back();
        Mat<T> cur{nullptr, 0, 0, 0, 0};
        bool dz_ready;  // cur already holds the gradient w.r.t. the op's pre-activation
        if (p_.fused) {
            cur = wv(p_.dz, p_.n_y, mb);
            if (p_.labels_mode())
                output_delta_labels<T>(AL, labels_of_batch(), 1, cur);
            else
                output_delta<T>(AL, y_view(mb), cur);
            dz_ready = true;
        } else {
            cur = wv(p_.d0, p_.n_y, mb);
            output_dA<T>(p_.loss, AL, y_view(mb), labels_of_batch(), cur);
            dz_ready = false;
        }
        for (idx i = n_ops_ - 1; i >= p_.first_grad; --i) {
            const Op& o = p_.ops[std::size_t(i)];
            const std::size_t u = std::size_t(i);
            const idx n = o.n_out;
            switch (o.kind) {
                case kDense: {
                    Mat<T> dZ = cur;
                    if (!dz_ready && o.act != kIdentity) {
                        dZ = other(cur.p, n, mb);
                        activation_backward<T>(cur.c(), pre_activation(o, mb), out_[u], dZ, o.act, T(o.alpha));
                    }
                    const Mat<const T> W{p_.params + o.p0, n, o.n_in, o.n_in, 1};
                    const Mat<T> dW{p_.grads + o.p0, n, o.n_in, o.n_in, 1};
                    T* db = o.p1 >= 0 ? p_.grads + o.p1 : db_scratch_.data();
                    linear_backward<T>(dZ.c(), in_[u], W, dW, db, 1, nullptr, p_.l2);
                    dz_ready = false;
                    if (i > p_.first_grad) {
                        // dA_prev = W.T @ dZ, as linear_backward computes it; the previous op's
                        // elementwise activation backward runs per finished tile, in place.
                        const Mat<T> dA = other(dZ.p, o.n_in, mb);
                        if (fusable(i - 1)) {
                            const Op& q = p_.ops[u - 1];
                            const Mat<const T> Z = pre_activation(q, mb), A = out_[u - 1];
                            const int act = q.act;
                            const T alpha = T(q.alpha);
                            gemm(W.t(), dZ.c(), dA, [&](idx i0, idx i1, idx j0, idx j1) {
                                const Mat<T> t = dA.sub(i0, j0, i1 - i0, j1 - j0);
                                activation_backward<T>(t.c(), Z.sub(i0, j0, i1 - i0, j1 - j0),
                                                       A.sub(i0, j0, i1 - i0, j1 - j0), t, act, alpha, false);
                            });
                            dz_ready = true;
                        } else {
                            gemm(W.t(), dZ.c(), dA, [](idx, idx, idx, idx) {});
                        }
                        cur = dA;
                    }
                    break;
                }
                case kBatchNorm: {
                    Mat<T> dout = cur;
                    if (!dz_ready && o.act != kIdentity) {
                        dout = other(cur.p, n, mb);
                        activation_backward<T>(cur.c(), pre_activation(o, mb), out_[u], dout, o.act, T(o.alpha));
                    }
                    const Mat<T> dIn = other(dout.p, n, mb);
                    batchnorm_backward<T>(dout.c(), wv(o.aux0, n, mb).c(), {p_.params + o.p0, 1},
                                          {p_.ws + o.aux3, 1}, dIn, {p_.grads + o.p0, 1}, {p_.grads + o.p1, 1}, o.eps);
                    cur = dIn;
                    dz_ready = false;
                    break;
                }
                case kDropout:
                    if (o.keep < 1.0) {
                        const Mat<T> d = other(cur.p, n, mb);
                        dropout_apply<T>(cur.c(), Mat<const std::uint8_t>{p_.masks + o.aux0, n, mb, mb, 1}, d, o.keep);
                        cur = d;
                    }
                    dz_ready = false;
                    break;
                default:  // kActivation; with dZ given (fused output) it passes it on
                    if (!dz_ready) {
                        const Mat<T> d = other(cur.p, n, mb);
                        activation_backward<T>(cur.c(), in_[u], out_[u], d, o.act, T(o.alpha));
                        cur = d;
                    }
                    dz_ready = false;
                    break;
            }
        }
    }

    void update(double lr, std::int64_t t) {
        const idx n = p_.n_params;
        switch (p_.opt) {
            case kGd: gd_update<T>(p_.params, p_.grads, n, lr); break;
            case kMomentum: momentum_update<T>(p_.params, p_.grads, p_.slot_v, n, lr, p_.beta1); break;
            case kRmsprop: rmsprop_update<T>(p_.params, p_.grads, p_.slot_s, n, lr, p_.beta1, p_.eps); break;
            default:
                adam_update<T>(p_.params, p_.grads, p_.slot_v, p_.slot_s, n, lr, p_.beta1, p_.beta2, p_.eps, t,
                               p_.eps_inside);
                break;
        }
    }

    const Plan<T>& p_;
    const idx n_ops_;
    Mat<const T> x_{nullptr, 0, 0, 0, 0};
    std::vector<Mat<const T>> in_, out_;  // each op's input and output of the current step
    std::vector<T> zeros_;                // the bias of a Dense layer without one (b = 0, as the layer)
    std::vector<T> db_scratch_;           // db of a Dense layer without bias (computed, unused)
    MT19937 rng_;
};

// Runs epochs epoch0 .. epoch0 + n_epochs - 1 (plan.py's engine_run semantics). poll() is
// called after a step at most every ~50 ms while steps remain; true stops the run.
template <class T, class Poll>
Result run(const Plan<T>& plan, idx epoch0, idx n_epochs, const double* lrs, std::int64_t step0, std::int64_t t0,
           double* out, Poll&& poll) {
    Runner<T> runner(plan);
    return runner.run(epoch0, n_epochs, lrs, step0, t0, out, poll);
}

}  // namespace pyneural::engine
