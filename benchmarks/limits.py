"""The machine's limits: best GEMM GFLOP/s per dtype and STREAM-like memory bandwidth.

Limits are best cases, so each figure is the fastest of its repeats (results elsewhere are
medians). GEMM: square ``A @ B`` through NumPy's BLAS (and torch's, when installed) at a
few sizes; the best is the limit every GEMM-bound result is divided by.

Bandwidth: simple parallel loops compiled with Numba (a pyneural dependency), with 1 thread
and with ``threads``: STREAM ``copy`` (c = a) and ``add`` (c = a + b), and the in-place
``update`` (a += s*b) that optimizer kernels do. Bytes are counted as STREAM does (2, 3 and
3 arrays; write-allocate not counted, so in-place updates, which need none, show more).
Sizes: 64 MiB arrays, the footprint of the dropout/ReLU/Adam kernels (their GB/s are
divided by the best result there) and, in the full run, 512 MiB arrays.
"""

from __future__ import annotations

import numpy as np

from . import torch_ref
from .timing import time_calls


def gemm_peak(dtypes, sizes, repeat) -> dict:
    out = {}
    for dt in dtypes:
        rows = []
        for n in sizes:
            rng = np.random.default_rng(0)
            A = rng.standard_normal((n, n)).astype(dt)
            B = rng.standard_normal((n, n)).astype(dt)
            C = np.empty((n, n), dt)
            r = time_calls(lambda: np.matmul(A, B, out=C), repeat)
            rows.append({"lib": "numpy", "n": n, "best_s": r["min_s"], "gflops": 2 * n**3 / r["min_s"] / 1e9})
            if torch_ref.available():
                import torch

                tA, tB, tC = torch.from_numpy(A), torch.from_numpy(B), torch.from_numpy(C)
                r = time_calls(lambda: torch.mm(tA, tB, out=tC), repeat)
                rows.append({"lib": "torch", "n": n, "best_s": r["min_s"], "gflops": 2 * n**3 / r["min_s"] / 1e9})
        best = max(rows, key=lambda row: row["gflops"])
        out[np.dtype(dt).name] = {"gflops": best["gflops"], "best": f"{best['lib']} n={best['n']}", "runs": rows}
    return out


_STREAM = {}


def _stream_kernels():
    """Numba loops, compiled once per process (not cached: nothing written to disk)."""
    if not _STREAM:
        import numba
        from numba import prange

        @numba.njit(parallel=True)
        def copy(a, b, c):
            for i in prange(a.size):
                c[i] = a[i]

        @numba.njit(parallel=True)
        def add(a, b, c):
            for i in prange(a.size):
                c[i] = a[i] + b[i]

        @numba.njit(parallel=True)
        def update(a, b, c):
            for i in prange(a.size):
                a[i] = a[i] + 1e-12 * b[i]

        _STREAM.update(copy=(copy, 2), add=(add, 3), update=(update, 3))
    return _STREAM


def bandwidth(nbytes, threads, repeat) -> dict:
    """GB/s of each loop on float64 arrays of ``nbytes``, with 1 and ``threads`` threads."""
    import numba

    n = nbytes // 8
    a, b, c = np.full(n, 1.0), np.full(n, 2.0), np.zeros(n)  # touched: no page faults in the timing
    out, previous = {}, numba.get_num_threads()
    try:
        for t in sorted({1, min(threads, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(t)
            for name, (fn, arrays) in _stream_kernels().items():
                r = time_calls(lambda fn=fn: fn(a, b, c), repeat)
                out[f"{name}_{t}t"] = arrays * nbytes / r["min_s"] / 1e9
    finally:
        numba.set_num_threads(previous)
    return out


def measure(dtypes, threads, quick, repeat=None) -> dict:
    sizes = [256] if quick else [1024, 2048, 4096]
    rep = repeat or (1 if quick else 5)
    gemm = gemm_peak(dtypes, sizes, rep)
    bw = {}
    for label, mib in ([("1 MiB", 1)] if quick else [("64 MiB", 64), ("512 MiB", 512)]):
        bw[label] = bandwidth(mib << 20, threads, repeat or (1 if quick else 10))
    kernel_label = next(iter(bw))
    limit = max(bw[kernel_label].values())
    return {
        "gemm": gemm,
        "bandwidth": bw,
        "bandwidth_gbs": limit,
        "bandwidth_basis": f"best of copy/add/update, {kernel_label} arrays, 1 or {threads} threads",
    }
