"""Shared Numba settings: one decorator pair so every kernel compiles the same way."""

from __future__ import annotations

import numba

#: Never fastmath: it lets LLVM reassociate sums and fuse multiply-adds, which breaks the
#: "same formulas as the reference, identical results for any thread count" contract.
FASTMATH = False

#: Below this many elements (or multiply-adds for GEMMs) the serial path runs: waking the
#: thread pool costs more than it saves on small arrays.
PAR_MIN = 1 << 15
PAR_MIN_FLOPS = 1 << 18

#: Columns per tile in 2-D loops (a tile is one row times this many columns), and elements
#: per partial sum in reductions. Fixed, so tiling never depends on the thread count.
COL_BLOCK = 512
RED_CHUNK = 8192

# error_model="numpy": float division by zero gives inf/nan as NumPy does, and no
# ZeroDivisionError checks in inner loops.
_OPTIONS = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")


def kernel(fn):
    """Serial nopython kernel."""
    return numba.njit(**_OPTIONS)(fn)


def par_kernel(fn):
    """Parallel kernel: its ``prange`` loops run on Numba's thread pool."""
    return numba.njit(parallel=True, **_OPTIONS)(fn)


def n_tiles(m, block):
    """Number of column tiles of width ``block`` covering ``m`` columns."""
    return (m + block - 1) // block


n_tiles = kernel(n_tiles)
