// Packed, blocked GEMM: C = A * B for any strides, with a per-tile epilogue.
//
// Determinism: every C element is the sum, in block order, of its k-block partials
// (blocks of kKC, fixed), each accumulated from zero over its k in order in one register
// lane. Tiling, thread count and scheduling therefore never change a result; only the
// micro-kernel's ISA (FMA or not) does, and it is chosen once per process. Threads split
// output tiles only, never k. Blocked partials are also more accurate than one long
// running sum (k = 12288 in float32 is common here).
#pragma once

#include <cstdlib>
#include <cstring>

#include "common.hpp"
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

// Blocking: an A block (kMC x kKC) stays in L2, a B micro-panel (kKC x NR) in L1.
// kMC is a multiple of every MR, kNC of every NR.
constexpr idx kMC = 96, kKC = 256, kNC = 512;
// Open a parallel region only above this many multiply-adds (fork/join costs ~µs).
constexpr double kGemmParWork = double(1 << 18);
// Split columns (down to kMinNC) until there are kMinTiles tiles, so small outputs with a
// long k (e.g. 20 x 209 over k = 12288) still spread over threads.
constexpr idx kMinTiles = 16, kMinNC = 32;

template <class T>
struct GemmArgs {
    Mat<const T> A, B;
    Mat<T> C;
};

template <class T>
using TileFn = void (*)(const GemmArgs<T>&, idx i0, idx mc, idx j0, idx nc, T* Ap, T* Bp);

template <class T>
struct GemmImpl {
    TileFn<T> tile;
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
template <class T, int MR>
PYNEURAL_ALWAYS_INLINE void pack_a(const Mat<const T>& A, idx i0, idx mc, idx p0, idx kc, T* dst) {
    for (idx ir = 0; ir < mc; ir += MR) {
        const idx mr = std::min<idx>(MR, mc - ir);
        T* d = dst + ir * kc;
        const T* s = A.p + (i0 + ir) * A.rs + p0 * A.cs;
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
template <class T, int NR>
PYNEURAL_ALWAYS_INLINE void pack_b(const Mat<const T>& B, idx p0, idx kc, idx j0, idx nc, T* dst) {
    for (idx jr = 0; jr < nc; jr += NR) {
        const idx nr = std::min<idx>(NR, nc - jr);
        T* d = dst + jr * kc;
        const T* s = B.p + p0 * B.rs + (j0 + jr) * B.cs;
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
template <class T, int MR, int NV, int VB>
PYNEURAL_ALWAYS_INLINE void micro(idx kc, const T* a, const T* b, T* c, idx ldc, bool add) {
    PYNEURAL_FP_CONTRACT_FAST
    constexpr int W = VB / int(sizeof(T));
#if PYNEURAL_VECEXT
    typedef T vreg __attribute__((vector_size(VB)));
    typedef T vmem __attribute__((vector_size(VB), aligned(sizeof(T)), may_alias));
    vreg acc[MR][NV];
    PYNEURAL_UNROLL for (int i = 0; i < MR; ++i)
        PYNEURAL_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] = vreg{};
    for (idx p = 0; p < kc; ++p) {
        vreg bv[NV];
        PYNEURAL_UNROLL for (int v = 0; v < NV; ++v) bv[v] = *(const vmem*)(b + v * W);
        PYNEURAL_UNROLL for (int i = 0; i < MR; ++i) {
            const T ai = a[i];
            PYNEURAL_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] += ai * bv[v];
        }
        a += MR;
        b += NV * W;
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
    for (idx p = 0; p < kc; ++p, a += MR, b += NR)
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) c[i * ldc + j] = add ? c[i * ldc + j] + acc[i][j] : acc[i][j];
#endif
}

// Computes the finished tile C[i0:i0+mc, j0:j0+nc] over all of k.
template <class T, int MR, int NV, int VB>
PYNEURAL_ALWAYS_INLINE void tile_impl(const GemmArgs<T>& g, idx i0, idx mc, idx j0, idx nc, T* Ap, T* Bp) {
    constexpr int NR = NV * (VB / int(sizeof(T)));
    const Mat<T>& C = g.C;
    const idx K = g.A.cols;
    alignas(64) T buf[MR * NR];
    for (idx pc = 0; pc < K; pc += kKC) {
        const idx kc = std::min(kKC, K - pc);
        const bool add = pc > 0;
        pack_b<T, NR>(g.B, pc, kc, j0, nc, Bp);
        pack_a<T, MR>(g.A, i0, mc, pc, kc, Ap);
        for (idx jr = 0; jr < nc; jr += NR) {
            const idx nr = std::min<idx>(NR, nc - jr);
            for (idx ir = 0; ir < mc; ir += MR) {
                const idx mr = std::min<idx>(MR, mc - ir);
                T* c = C.p + (i0 + ir) * C.rs + (j0 + jr) * C.cs;
                if (mr == MR && nr == NR && C.cs == 1) {
                    micro<T, MR, NV, VB>(kc, Ap + ir * kc, Bp + jr * kc, c, C.rs, add);
                    continue;
                }
                // Edge or strided C: go through a local tile (padding zeroed, then discarded).
                if (add) {
                    for (int i = 0; i < MR * NR; ++i) buf[i] = T(0);
                    for (idx i = 0; i < mr; ++i)
                        for (idx j = 0; j < nr; ++j) buf[i * NR + j] = c[i * C.rs + j * C.cs];
                }
                micro<T, MR, NV, VB>(kc, Ap + ir * kc, Bp + jr * kc, buf, NR, add);
                for (idx i = 0; i < mr; ++i)
                    for (idx j = 0; j < nr; ++j) c[i * C.rs + j * C.cs] = buf[i * NR + j];
            }
        }
    }
}

template <class T>
void tile_generic(const GemmArgs<T>& g, idx i0, idx mc, idx j0, idx nc, T* Ap, T* Bp) {
    tile_impl<T, 6, 2, 16>(g, i0, mc, j0, nc, Ap, Bp);
}

#if PYNEURAL_X86_DISPATCH
template <class T>
__attribute__((target("avx2,fma"))) void tile_avx2(const GemmArgs<T>& g, idx i0, idx mc, idx j0, idx nc, T* Ap,
                                                   T* Bp) {
    tile_impl<T, 6, 2, 32>(g, i0, mc, j0, nc, Ap, Bp);
}

template <class T>
__attribute__((target("avx512f"))) void tile_avx512(const GemmArgs<T>& g, idx i0, idx mc, idx j0, idx nc, T* Ap,
                                                    T* Bp) {
    tile_impl<T, 12, 2, 64>(g, i0, mc, j0, nc, Ap, Bp);
}
#endif

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
            case 2: return GemmImpl<T>{&tile_avx512<T>, 12, 2 * v64, "avx512"};
            case 1: return GemmImpl<T>{&tile_avx2<T>, 6, 2 * v32, "avx2"};
            default: break;
        }
#endif
        return GemmImpl<T>{&tile_generic<T>, 6, 2 * v16, "generic"};
    }();
    return impl;
}

// Tile grid from the problem size alone (never the thread count): even splits rounded to
// the micro-tile. Rows come in blocks of at most kMC; for parallelism only the columns are
// split further (down to kMinNC, until there are kMinTiles tiles): an extra column split
// re-reads A, an extra row split would re-read all of B, the big operand in the
// examples-as-columns layout (e.g. X of 12288 x 209 against W of 20 x 12288).
inline void gemm_tiles(idx M, idx N, bool split, int mr, int nr, idx& mc, idx& nc) {
    auto cdiv = [](idx a, idx b) { return (a + b - 1) / b; };
    const idx tm = cdiv(M, kMC);
    idx tn = cdiv(N, kNC);
    while (split && tm * tn < kMinTiles && cdiv(N, tn * 2) >= kMinNC) tn *= 2;
    mc = cdiv(cdiv(M, tm), mr) * mr;
    nc = cdiv(cdiv(N, tn), nr) * nr;
}

template <class T, class Epi>
void gemm_run(const GemmArgs<T>& g, Epi& epi) {
    const GemmImpl<T>& impl = gemm_impl<T>();
    const idx M = g.C.rows, N = g.C.cols, K = g.A.cols;
    const bool big = double(M) * double(N) * double(K) >= kGemmParWork;
    idx mc = 0, nc = 0;
    gemm_tiles(M, N, big, impl.mr, impl.nr, mc, nc);
    const idx tn = (N + nc - 1) / nc, ntiles = ((M + mc - 1) / mc) * tn;
    // Per-thread packing space for this tile size (parts rounded to 64 elements, so Bp
    // stays 64-byte aligned).
    auto round64 = [](idx n) { return (n + 63) / 64 * 64; };
    const idx kc = std::min(K, kKC), a_len = round64(mc * kc);
    const std::size_t per = std::size_t(a_len + round64(kc * nc));
    const int nt = big ? int(std::min<idx>(num_threads(), ntiles)) : 1;
    T* pool = scratch(kScratchGemm).get<T>(per * std::size_t(nt));
    auto do_tile = [&](idx t, T* Ap) {
        const idx i0 = (t / tn) * mc, j0 = (t % tn) * nc;
        const idx m = std::min(mc, M - i0), n = std::min(nc, N - j0);
        impl.tile(g, i0, m, j0, n, Ap, Ap + a_len);
        epi(i0, i0 + m, j0, j0 + n);
    };
#ifdef _OPENMP
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        {
            T* Ap = pool + per * std::size_t(thread_id());
#pragma omp for schedule(static)
            for (idx t = 0; t < ntiles; ++t) do_tile(t, Ap);
        }
        return;
    }
#endif
    for (idx t = 0; t < ntiles; ++t) do_tile(t, pool);
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
