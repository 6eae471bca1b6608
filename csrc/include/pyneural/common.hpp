// Shared building blocks for the pyneural kernels: strided views, thread control,
// fixed-order parallel loops and scratch buffers. Pure C++17, no Python.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <tuple>

#ifdef _OPENMP
#include <omp.h>
#endif

// Run-time SIMD selection through function multiversioning (GCC >= 12 knows the x86-64
// micro-architecture levels, whose v3 includes FMA; plain "avx2" does not).
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(PYNEURAL_NO_CLONES)
#if !defined(__clang__) && __GNUC__ >= 12
#define PYNEURAL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PYNEURAL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#define PYNEURAL_X86_DISPATCH 1
#else
#define PYNEURAL_CLONES
#define PYNEURAL_X86_DISPATCH 0
#endif

#if defined(__GNUC__)
#define PYNEURAL_ALWAYS_INLINE inline __attribute__((always_inline))
#define PYNEURAL_RESTRICT __restrict__
#elif defined(_MSC_VER)
#define PYNEURAL_ALWAYS_INLINE __forceinline
#define PYNEURAL_RESTRICT __restrict
#else
#define PYNEURAL_ALWAYS_INLINE inline
#define PYNEURAL_RESTRICT
#endif

namespace pyneural {

using idx = std::int64_t;

// Elements per contiguous run / reduction chunk. Fixed, so work splitting (and with it
// every summation order) never depends on the thread count.
constexpr idx kRun = 4096;
// Parallelise only above these element counts: cheap ops (copies, compares) and ops
// calling a transcendental per element.
constexpr idx kParCheap = idx(1) << 16;
constexpr idx kParHeavy = idx(1) << 13;

// Strided 2-D view. Strides are in elements and may be negative or zero.
template <class T>
struct Mat {
    T* p;
    idx rows, cols, rs, cs;

    T& operator()(idx i, idx j) const { return p[i * rs + j * cs]; }
    Mat t() const { return {p, cols, rows, cs, rs}; }
    Mat sub(idx i, idx j, idx r, idx c) const { return {p + i * rs + j * cs, r, c, rs, cs}; }
    Mat<const T> c() const { return {p, rows, cols, rs, cs}; }
    idx size() const { return rows * cols; }
    bool c_contig() const { return (rows <= 1 || rs == cols) && (cols <= 1 || cs == 1); }
    bool f_contig() const { return (cols <= 1 || cs == rows) && (rows <= 1 || rs == 1); }
    Mat flat() const { return {p, 1, rows * cols, rows * cols, 1}; }
};

// ---- threads ---------------------------------------------------------------------------

// Process-wide setting (omp_set_num_threads only affects the calling thread's ICV, and
// kernels may be called from any Python thread). 0 means "not set": use the OpenMP default.
inline std::atomic<int>& thread_setting() {
    static std::atomic<int> n{0};
    return n;
}

inline int num_threads() {
#ifdef _OPENMP
    const int n = thread_setting().load(std::memory_order_relaxed);
    return n > 0 ? n : omp_get_max_threads();
#else
    return 1;
#endif
}

inline void set_num_threads(int n) {
    thread_setting().store(n < 1 ? 1 : n, std::memory_order_relaxed);
#ifdef _OPENMP
    omp_set_num_threads(n < 1 ? 1 : n);
#endif
}

inline int thread_id() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

// f(t) for t in [0, n). Parallel (static schedule) only when asked and worthwhile; the
// serial path opens no OpenMP region at all, so small calls pay no fork/join.
template <class F>
inline void parallel_for(idx n, bool par, F&& f) {
#ifdef _OPENMP
    const int nt = par && n > 1 ? num_threads() : 1;
    if (nt > 1) {
#pragma omp parallel for schedule(static) num_threads(nt)
        for (idx t = 0; t < n; ++t) f(t);
        return;
    }
#endif
    for (idx t = 0; t < n; ++t) f(t);
}

// ---- scratch ---------------------------------------------------------------------------

// Per-calling-thread buffer that only ever grows: sized before any parallel region, so
// nothing allocates inside one, and repeated calls of one shape never allocate.
class Scratch {
public:
    Scratch() = default;
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() { release(); }

    template <class T>
    T* get(std::size_t count) {
        const std::size_t bytes = count * sizeof(T);
        if (bytes > bytes_) {
            void* q = ::operator new(bytes, std::align_val_t(64), std::nothrow);
            if (q == nullptr) throw std::bad_alloc();
            release();
            p_ = q;
            bytes_ = bytes;
        }
        return static_cast<T*>(p_);
    }

private:
    void release() {
        if (p_ != nullptr) ::operator delete(p_, std::align_val_t(64));
        p_ = nullptr;
        bytes_ = 0;
    }
    void* p_ = nullptr;
    std::size_t bytes_ = 0;
};

enum ScratchSlot { kScratchGemm = 0, kScratchReduce = 1, kScratchSlots = 2 };

inline Scratch& scratch(int slot) {
    thread_local Scratch s[kScratchSlots];
    return s[slot];
}

// ---- elementwise iteration -------------------------------------------------------------

// Bring same-shaped views into the cheapest common iteration order: one flat contiguous
// run if all are C- or all F-contiguous, else rows along the first view's smaller stride.
template <class M0, class... Ms>
inline void normalize(M0& m0, Ms&... ms) {
    if (m0.c_contig() && (ms.c_contig() && ...)) {
        m0 = m0.flat();
        ((ms = ms.flat()), ...);
    } else if (m0.f_contig() && (ms.f_contig() && ...)) {
        m0 = m0.flat();
        ((ms = ms.flat()), ...);
    } else if (std::abs(m0.rs) < std::abs(m0.cs)) {
        m0 = m0.t();
        ((ms = ms.t()), ...);
    }
}

// Calls f(len, p0, p1, ..., s0, s1, ...) on runs of at most kRun elements, where pk is a
// pointer to the run's first element in view k and sk its element stride along the run.
template <class F, class M0, class... Ms>
inline void for_each_run(bool par, idx par_min, F&& f, M0 m0, Ms... ms) {
    const idx total = m0.size();
    if (total <= 0) return;
    normalize(m0, ms...);
    const idx cols = m0.cols, nb = (cols + kRun - 1) / kRun;
    parallel_for(m0.rows * nb, par && total >= par_min, [&](idx t) {
        const idx i = t / nb, j0 = (t - i * nb) * kRun, len = std::min(kRun, cols - j0);
        f(len, m0.p + i * m0.rs + j0 * m0.cs, (ms.p + i * ms.rs + j0 * ms.cs)..., m0.cs, ms.cs...);
    });
}

// Same runs, f returns a double partial per run; partials are added in run order, so the
// result is identical for any thread count (the parallel path just stores them first).
template <class F, class M0, class... Ms>
inline double reduce_runs(bool par, idx par_min, F&& f, M0 m0, Ms... ms) {
    const idx total = m0.size();
    if (total <= 0) return 0.0;
    normalize(m0, ms...);
    const idx cols = m0.cols, nb = (cols + kRun - 1) / kRun, tasks = m0.rows * nb;
    auto run = [&](idx t) -> double {
        const idx i = t / nb, j0 = (t - i * nb) * kRun, len = std::min(kRun, cols - j0);
        return f(len, m0.p + i * m0.rs + j0 * m0.cs, (ms.p + i * ms.rs + j0 * ms.cs)..., m0.cs, ms.cs...);
    };
    double s = 0.0;
    if (par && total >= par_min && tasks > 1 && num_threads() > 1) {
        double* part = scratch(kScratchReduce).get<double>(static_cast<std::size_t>(tasks));
        parallel_for(tasks, true, [&](idx t) { part[t] = run(t); });
        for (idx t = 0; t < tasks; ++t) s += part[t];
    } else {
        for (idx t = 0; t < tasks; ++t) s += run(t);
    }
    return s;
}

// NumPy's pairwise summation (8 accumulators, blocks of 128), term k given by g(k):
// a fixed order, as accurate as NumPy's and bit-identical to its contiguous sums.
template <class Acc, class G>
inline Acc pairwise_sum(idx n, G&& g, idx off = 0) {
    if (n < 8) {
        Acc res = Acc(0);
        for (idx i = 0; i < n; ++i) res += Acc(g(off + i));
        return res;
    }
    if (n <= 128) {
        Acc r[8];
        for (int j = 0; j < 8; ++j) r[j] = Acc(g(off + j));
        idx i = 8;
        for (; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; ++j) r[j] += Acc(g(off + i + j));
        Acc res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) res += Acc(g(off + i));
        return res;
    }
    idx n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum<Acc>(n2, g, off) + pairwise_sum<Acc>(n - n2, g, off + n2);
}

}  // namespace pyneural
