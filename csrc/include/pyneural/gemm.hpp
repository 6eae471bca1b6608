// Packed, blocked GEMM: C = A * B for any strides, with a per-tile epilogue.
//
// Determinism: every C element is the sum, in block order, of its k-block partials
// (blocks of kKC, fixed), each accumulated from zero over its k in order in one register
// lane. Tiling, thread count and scheduling therefore never change a result; only the
// micro-kernel's ISA (FMA or not) does, and it is chosen once per process. Threads split
// output rows (or columns) only, never k; they share each packed B block. Blocked
// partials are also more accurate than one long running sum (k = 12288 in float32 is
// common here). Tiny products (gemm_small.hpp) skip all this for direct loops with their
// own fixed order; which path runs depends on the shape and strides alone.
#pragma once

#include <cstdlib>
#include <cstring>

#include "common.hpp"
#include "gemm_pack_avx512.hpp"
#include "gemm_small.hpp"

#if PYNEURAL_X86_DISPATCH || (defined(__GNUC__) && !defined(PYNEURAL_NO_VECEXT))
#define PYNEURAL_VECEXT 1
#else
#define PYNEURAL_VECEXT 0
#endif

#if defined(__clang__)
#define PYNEURAL_UNROLL _Pragma("unroll")
#define PYNEURAL_FP_CONTRACT_FAST _Pragma("clang fp contract(fast)")
#elif defined(__GNUC__)
#define PYNEURAL_UNROLL _Pragma("GCC unroll 16")
#define PYNEURAL_FP_CONTRACT_FAST
#else
#define PYNEURAL_UNROLL
#define PYNEURAL_FP_CONTRACT_FAST
#endif

namespace pyneural {

// Blocking. kKC fixes the k-blocks of the summation (see above), so it depends on nothing
// but the element type. Per (kNC column, kKC) block the B block is packed once and shared
// by all threads (it stays in L2: kKC x kNC); each thread packs kMC-row A blocks of its own
// rows and sweeps every MR-row A micro-panel (in L1) across the B block.
// float: A micro-panel 12 KB + B panel 32 KB; double (kc 192): 18 KB + 24 KB, where 256
// measured ~10% slower (the pair no longer fits the 48 KB L1).
template <class T>
constexpr idx kKC = sizeof(T) == 4 ? 256 : 192;
constexpr idx kMC = 96, kNC = 1024;
// Open a parallel region only above this many multiply-adds (~10 µs of one core): fork/join
// costs µs, and a region whose second thread is descheduled on a busy machine costs ms.
constexpr double kGemmParWork = double(1 << 20);
// The micro-kernel prefetches the streamed B rows this many bytes of packed panel ahead.
constexpr int kPrefetchB = 1024;

template <class T>
struct GemmArgs {
    Mat<const T> A, B;
    Mat<T> C;
};

// Packs B[p0:p0+kc, j0:j0+nc] into NR-column micro-panels.
template <class T>
using PackBFn = void (*)(const Mat<const T>& B, idx p0, idx kc, idx j0, idx nc, T* dst);
// Packs A[i0:i0+mc, p0:p0+kc] into Ap, then C[i0:i0+mc, j0:j0+nc] (+)= A_blk * B_blk with
// Bp the packed panels of columns j0.. (add: accumulate onto C, else overwrite). With Bd
// set, full panels are read in place instead (Bd: B[p0, j0], unit column stride, rows ldb
// apart); only a partial last panel is packed.
template <class T>
using BlockFn = void (*)(const Mat<const T>& A, const Mat<T>& C, idx i0, idx mc, idx j0, idx nc, idx p0, idx kc,
                         const T* Bp, const T* Bd, idx ldb, T* Ap, bool add);

template <class T>
struct GemmImpl {
    PackBFn<T> pack_b;
    BlockFn<T> block;
    int mr, nr;
    const char* name;
};

#if defined(__GNUC__) && !defined(__clang__)
// The micro-kernels want FMA where the ISA has it; the rest of the build keeps
// -ffp-contract=off so elementwise kernels give the same bits on every ISA.
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif

// Ap: MR-row micro-panels, [p][i] within a panel; rows past mc are zero.
// X512: the caller is compiled for AVX-512F (transposing layouts use avx512:: helpers).
template <class T, int MR, bool X512>
PYNEURAL_ALWAYS_INLINE void pack_a(const Mat<const T>& A, idx i0, idx mc, idx p0, idx kc, T* dst) {
    for (idx ir = 0; ir < mc; ir += MR) {
        const idx mr = std::min<idx>(MR, mc - ir);
        T* d = dst + ir * kc;
        const T* s = A.p + (i0 + ir) * A.rs + p0 * A.cs;
#if PYNEURAL_X86_DISPATCH
        if constexpr (X512) {
            if (A.cs == 1) {
                avx512::pack_a_rows<T, MR>(s, A.rs, int(mr), kc, d);
                continue;
            }
        }
#endif
        if (A.rs == 1 && mr == MR) {
            for (idx p = 0; p < kc; ++p)
                for (int i = 0; i < MR; ++i) d[p * MR + i] = s[p * A.cs + i];
        } else {
            for (idx i = 0; i < mr; ++i) {
                const T* r = s + i * A.rs;
                for (idx p = 0; p < kc; ++p) d[p * MR + i] = r[p * A.cs];
            }
            for (idx i = mr; i < MR; ++i)
                for (idx p = 0; p < kc; ++p) d[p * MR + i] = T(0);
        }
    }
}

// Bp: NR-column micro-panels, [p][j] within a panel; columns past nc are zero.
template <class T, int NR, bool X512>
PYNEURAL_ALWAYS_INLINE void pack_b(const Mat<const T>& B, idx p0, idx kc, idx j0, idx nc, T* dst) {
    for (idx jr = 0; jr < nc; jr += NR) {
        const idx nr = std::min<idx>(NR, nc - jr);
        T* d = dst + jr * kc;
        const T* s = B.p + p0 * B.rs + (j0 + jr) * B.cs;
#if PYNEURAL_X86_DISPATCH
        if constexpr (X512) {
            if (B.rs == 1 && nr == NR) {
                avx512::pack_b_cols<T, NR>(s, B.cs, kc, d);
                continue;
            }
        }
#endif
        if (B.cs == 1 && nr == NR) {
            for (idx p = 0; p < kc; ++p)
                for (int j = 0; j < NR; ++j) d[p * NR + j] = s[p * B.rs + j];
        } else {
            for (idx j = 0; j < nr; ++j) {
                const T* c = s + j * B.cs;
                for (idx p = 0; p < kc; ++p) d[p * NR + j] = c[p * B.rs];
            }
            for (idx j = nr; j < NR; ++j)
                for (idx p = 0; p < kc; ++p) d[p * NR + j] = T(0);
        }
    }
}

// MR x (NV*W) register tile: c[i][j] = (add ? c[i][j] : 0) + (sum_p a[p][i] * b[p][j]),
// the sum over p in order from zero.
// b: the k-th NR-wide row of the B panel at b + k * ldb.
template <class T, int MR, int NV, int VB>
PYNEURAL_ALWAYS_INLINE void micro(idx kc, const T* a, const T* b, idx ldb, T* c, idx ldc, bool add) {
    PYNEURAL_FP_CONTRACT_FAST
    constexpr int W = VB / int(sizeof(T));
    constexpr idx kPfRows = kPrefetchB / (NV * VB);
#if PYNEURAL_VECEXT
    typedef T vreg __attribute__((vector_size(VB)));
    typedef T vmem __attribute__((vector_size(VB), aligned(sizeof(T)), may_alias));
    vreg acc[MR][NV];
    // The C tile is read at the end: start fetching it now.
    if (add)
        PYNEURAL_UNROLL for (int i = 0; i < MR; ++i) {
            __builtin_prefetch(c + i * ldc, 1, 3);
            __builtin_prefetch(c + i * ldc + NV * W - 1, 1, 3);
        }
    PYNEURAL_UNROLL for (int i = 0; i < MR; ++i)
        PYNEURAL_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] = vreg{};
    for (idx p = 0; p < kc; ++p) {
        PYNEURAL_UNROLL for (int v = 0; v < NV * W * int(sizeof(T)) / 64; ++v)
            __builtin_prefetch(reinterpret_cast<const char*>(b + kPfRows * ldb) + 64 * v, 0, 3);
        vreg bv[NV];
        PYNEURAL_UNROLL for (int v = 0; v < NV; ++v) bv[v] = *(const vmem*)(b + v * W);
        PYNEURAL_UNROLL for (int i = 0; i < MR; ++i) {
            const T ai = a[i];
            PYNEURAL_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] += ai * bv[v];
        }
        a += MR;
        b += ldb;
    }
    if (add) {
        PYNEURAL_UNROLL for (int i = 0; i < MR; ++i)
            PYNEURAL_UNROLL for (int v = 0; v < NV; ++v) {
                vmem* cv = (vmem*)(c + i * ldc + v * W);
                *cv = *cv + acc[i][v];
            }
    } else {
        PYNEURAL_UNROLL for (int i = 0; i < MR; ++i)
            PYNEURAL_UNROLL for (int v = 0; v < NV; ++v) *(vmem*)(c + i * ldc + v * W) = acc[i][v];
    }
#else
    constexpr int NR = NV * W;
    T acc[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) acc[i][j] = T(0);
    for (idx p = 0; p < kc; ++p, a += MR, b += ldb)
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) c[i * ldc + j] = add ? c[i * ldc + j] + acc[i][j] : acc[i][j];
#endif
}

// See BlockFn. Loop order: each A micro-panel (MR x kc, in L1) sweeps the B panels (L2).
template <class T, int MR, int NV, int VB, bool X512>
PYNEURAL_ALWAYS_INLINE void block_impl(const Mat<const T>& A, const Mat<T>& C, idx i0, idx mc, idx j0, idx nc,
                                       idx p0, idx kc, const T* Bp, const T* Bd, idx ldb, T* Ap, bool add) {
    constexpr int NR = NV * (VB / int(sizeof(T)));
    pack_a<T, MR, X512>(A, i0, mc, p0, kc, Ap);
    alignas(64) T buf[MR * NR];
    for (idx ir = 0; ir < mc; ir += MR) {
        const idx mr = std::min<idx>(MR, mc - ir);
        const T* a = Ap + ir * kc;
        for (idx jr = 0; jr < nc; jr += NR) {
            const idx nr = std::min<idx>(NR, nc - jr);
            T* c = C.p + (i0 + ir) * C.rs + (j0 + jr) * C.cs;
            const bool direct = Bd != nullptr && nr == NR;
            const T* b = direct ? Bd + jr : Bp + jr * kc;
            const idx bs = direct ? ldb : NR;
            if (mr == MR && nr == NR && C.cs == 1) {
                micro<T, MR, NV, VB>(kc, a, b, bs, c, C.rs, add);
                continue;
            }
            // Edge or strided C: go through a local tile (padding zeroed, then discarded).
            if (add) {
                for (int i = 0; i < MR * NR; ++i) buf[i] = T(0);
                for (idx i = 0; i < mr; ++i)
                    for (idx j = 0; j < nr; ++j) buf[i * NR + j] = c[i * C.rs + j * C.cs];
            }
            micro<T, MR, NV, VB>(kc, a, b, bs, buf, NR, add);
            for (idx i = 0; i < mr; ++i)
                for (idx j = 0; j < nr; ++j) c[i * C.rs + j * C.cs] = buf[i * NR + j];
        }
    }
}

#define PYNEURAL_GEMM_ISA(NAME, TARGET, MR, NV, VB, X512)                                                              \
    template <class T>                                                                                           \
    TARGET void pack_b_##NAME(const Mat<const T>& B, idx p0, idx kc, idx j0, idx nc, T* dst) {                   \
        pack_b<T, NV*(VB / int(sizeof(T))), X512>(B, p0, kc, j0, nc, dst);                                             \
    }                                                                                                            \
    template <class T>                                                                                           \
    TARGET void block_##NAME(const Mat<const T>& A, const Mat<T>& C, idx i0, idx mc, idx j0, idx nc, idx p0,     \
                             idx kc, const T* Bp, const T* Bd, idx ldb, T* Ap, bool add) {                       \
        block_impl<T, MR, NV, VB, X512>(A, C, i0, mc, j0, nc, p0, kc, Bp, Bd, ldb, Ap, add);                     \
    }

PYNEURAL_GEMM_ISA(generic, , 6, 2, 16, false)
#if PYNEURAL_X86_DISPATCH
PYNEURAL_GEMM_ISA(avx2, __attribute__((target("avx2,fma"))), 6, 2, 32, false)
PYNEURAL_GEMM_ISA(avx512, __attribute__((target("avx512f"))), 12, 2, 64, true)
#endif
#undef PYNEURAL_GEMM_ISA

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

// 2 = AVX-512F, 1 = AVX2 + FMA, 0 = portable. PYNEURAL_GEMM_KERNEL=generic|avx2|avx512
// can lower (never raise) the choice, to test every kernel on one machine.
inline int gemm_level() {
    int level = 0;
#if PYNEURAL_X86_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        level = 2;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        level = 1;
#endif
    if (const char* env = std::getenv("PYNEURAL_GEMM_KERNEL")) {
        int want = level;
        if (std::strcmp(env, "generic") == 0) want = 0;
        if (std::strcmp(env, "avx2") == 0) want = 1;
        if (std::strcmp(env, "avx512") == 0) want = 2;
        level = std::min(level, want);
    }
    return level;
}

template <class T>
const GemmImpl<T>& gemm_impl() {
    static const GemmImpl<T> impl = [] {
        constexpr int v16 = 16 / int(sizeof(T));
#if PYNEURAL_X86_DISPATCH
        constexpr int v32 = 32 / int(sizeof(T)), v64 = 64 / int(sizeof(T));
        switch (gemm_level()) {
            case 2: return GemmImpl<T>{&pack_b_avx512<T>, &block_avx512<T>, 12, 2 * v64, "avx512"};
            case 1: return GemmImpl<T>{&pack_b_avx2<T>, &block_avx2<T>, 6, 2 * v32, "avx2"};
            default: break;
        }
#endif
        return GemmImpl<T>{&pack_b_generic<T>, &block_generic<T>, 6, 2 * v16, "generic"};
    }();
    return impl;
}

template <class T, class Epi>
void gemm_run(const GemmArgs<T>& g, Epi& epi) {
    const GemmImpl<T>& impl = gemm_impl<T>();
    const idx M = g.C.rows, N = g.C.cols, K = g.A.cols, MR = impl.mr, NR = impl.nr, KC = kKC<T>;
    auto cdiv = [](idx a, idx b) { return (a + b - 1) / b; };
    auto round64 = [](idx n) { return (n + 63) / 64 * 64; };
    const bool par = double(M) * double(N) * double(K) >= kGemmParWork;
    const int nt = par ? std::max(1, num_threads()) : 1;
    // Threads split rows (each its own A, all the same B) when there are enough of them,
    // else columns (all threads the same rows).
    const bool split_rows = cdiv(M, MR) >= 2 * idx(nt);
    // A single micro-panel row (e.g. a 10-unit output layer) reads each B element once:
    // packing B would only add a copy, so rows of B with unit column stride are used in place.
    const bool direct_b = M <= MR && g.B.cs == 1;
    // One B block (two when threaded: packing block s+1 while a slower thread still reads
    // block s would need a second barrier), plus one A block per thread; all parts
    // multiples of 64 elements, so every part is 64-byte aligned.
    const idx kc_max = std::min(K, KC);
    const idx b_len = round64(kc_max * cdiv(std::min(N, kNC), NR) * NR);
    const idx a_len = round64(kc_max * cdiv(std::min(M, kMC), MR) * MR);
    const int nbuf = nt > 1 ? 2 : 1;
    T* pool = scratch(kScratchGemm).get<T>(std::size_t(nbuf * b_len + nt * a_len));

    auto body = [&](int tid, int nth) {
        T* Ap = pool + nbuf * b_len + tid * a_len;
        idx step = 0;
        for (idx jc = 0; jc < N; jc += kNC) {
            const idx nc = std::min(kNC, N - jc), npan = cdiv(nc, NR);
            // This thread's share of the columns of the block (all when splitting rows).
            idx c0 = 0, c1 = nc;
            if (!split_rows) {
                c0 = npan * tid / nth * NR;
                c1 = std::min(nc, npan * (tid + 1) / nth * NR);
            }
            for (idx pc = 0; pc < K; pc += KC, ++step) {
                const idx kc = std::min(KC, K - pc);
                T* Bp = pool + (step % nbuf) * b_len;
                // Every thread packs a share of the panels; the barrier publishes them.
                idx q0 = npan * tid / nth * NR, q1 = std::min(nc, npan * (tid + 1) / nth * NR);
                if (direct_b) q0 = std::max(q0, nc / NR * NR);
                if (q1 > q0) impl.pack_b(g.B, pc, kc, jc + q0, q1 - q0, Bp + q0 * kc);
#ifdef _OPENMP
                if (nth > 1) {
#pragma omp barrier
                }
#endif
                if (c1 <= c0) continue;
                idx r0 = 0, r1 = M;
                if (split_rows) {
                    const idx mp = cdiv(M, MR);
                    r0 = mp * tid / nth * MR;
                    r1 = std::min(M, mp * (tid + 1) / nth * MR);
                }
                for (idx i0 = r0; i0 < r1; i0 += kMC) {
                    const idx mc = std::min(kMC, r1 - i0);
                    const T* Bd = direct_b ? g.B.p + pc * g.B.rs + jc + c0 : nullptr;
                    impl.block(g.A, g.C, i0, mc, jc + c0, c1 - c0, pc, kc, Bp + c0 * kc, Bd, g.B.rs, Ap, pc > 0);
                    if (pc + kc == K) epi(i0, i0 + mc, jc + c0, jc + c1);
                }
            }
        }
    };
#ifdef _OPENMP
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        body(thread_id(), omp_get_num_threads());
        return;
    }
#endif
    body(0, 1);
}

// C = A * B (A is M x K, B is K x N, C is M x N; C must not overlap A or B), then
// epi(i0, i1, j0, j1) on each finished block of C, possibly from a worker thread.
template <class T, class Epi>
void gemm(Mat<const T> A, Mat<const T> B, Mat<T> C, Epi&& epi) {
    const idx M = C.rows, N = C.cols;
    if (M == 0 || N == 0) return;
    if (A.cols == 0) {
        for (idx i = 0; i < M; ++i)
            for (idx j = 0; j < N; ++j) C(i, j) = T(0);
        epi(idx(0), M, idx(0), N);
        return;
    }
    if (gemm_small<T>(A, B, C)) {
        epi(idx(0), M, idx(0), N);
        return;
    }
    if (C.cs != 1 && C.rs == 1) {
        // Column-major C: compute C^T = B^T A^T so the kernel stores whole rows.
        auto epi_t = [&](idx i0, idx i1, idx j0, idx j1) { epi(j0, j1, i0, i1); };
        gemm_run(GemmArgs<T>{B.t(), A.t(), C.t()}, epi_t);
        return;
    }
    gemm_run(GemmArgs<T>{A, B, C}, epi);
}

}  // namespace pyneural
