"""Shared Numba settings and the tiling every 2-D kernel uses.

Inner loops run over 1-D row views (``Z[i, j0:j1]``) indexed from 0: Numba then knows the
index is non-negative, drops its negative-index wraparound and LLVM can vectorise the loop
(with ``range(j0, j1)`` on the 2-D array it cannot).

Layouts: Numba compiles one specialisation per combination of argument layouts. The public
wrappers send all-C-contiguous calls to the kernels directly (the fast, vectorised
specialisation) and everything else through a small ``*_any`` entry that re-views the
arrays as ``X[:, :]`` (layout 'A'), so F-ordered, padded, strided and negative-stride
inputs all share one more specialisation per dtype instead of one per combination.
"""

from __future__ import annotations

import hashlib
import os

import numba

#: Never fastmath: it lets LLVM reassociate sums and fuse multiply-adds, which breaks the
#: "same formulas as the reference, identical results for any thread count" contract.
FASTMATH = False

#: Below this many elements (or multiply-adds for GEMMs) the serial path runs: waking the
#: thread pool costs more than it saves on small arrays.
PAR_MIN = 1 << 15
PAR_MIN_FLOPS = 1 << 18

#: A 2-D tile is ROWS rows by COLS columns; tiles are fixed by the shape alone, never by the
#: thread count. RED_CHUNK: elements per partial sum in reductions and 1-D updates.
ROWS = 4
COLS = 512
RED_CHUNK = 8192



def _drop_stale_cache():
    """Clear this package's on-disk kernel cache when any of its sources changed.

    Numba revalidates a cached kernel against the timestamp of its own file only, so a kernel
    in linear.py would keep a stale copy of a helper edited in activations.py or here. Keying
    the whole in-tree cache on a hash of all the sources closes that gap. (A read-only
    install caches elsewhere and never changes in place, so failures are ignored.)
    """
    here = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha1()
    for path in sorted(os.listdir(here)) + [os.path.join(os.pardir, "contract.py")]:
        if path.endswith(".py"):
            with open(os.path.join(here, path), "rb") as f:
                digest.update(path.encode() + b"\0" + f.read())
    cache = os.path.join(here, "__pycache__")
    stamp = os.path.join(cache, "numba_sources.sha1")
    try:
        with open(stamp) as f:
            if f.read() == digest.hexdigest():
                return
    except OSError:
        pass
    try:
        os.makedirs(cache, exist_ok=True)
        for name in os.listdir(cache):
            if name.endswith((".nbi", ".nbc")):
                os.remove(os.path.join(cache, name))
        with open(stamp, "w") as f:
            f.write(digest.hexdigest())
    except OSError:
        pass


_drop_stale_cache()

# error_model="numpy": float division by zero gives inf/nan as NumPy does, and no
# ZeroDivisionError checks in inner loops.
_OPTIONS = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")


def kernel(fn):
    """Serial nopython kernel."""
    return numba.njit(**_OPTIONS)(fn)


def par_kernel(fn):
    """Kernel whose ``prange`` loops run on Numba's thread pool."""
    return numba.njit(parallel=True, **_OPTIONS)(fn)


@kernel
def n_tiles(n, m):
    """Number of ROWS x COLS tiles covering an ``(n, m)`` array."""
    return ((n + ROWS - 1) // ROWS) * ((m + COLS - 1) // COLS)


@kernel
def tile(t, n, m):
    """Bounds ``(i0, i1, j0, j1)`` of tile ``t``, column-tile-major: consecutive tiles
    share their columns, so a GEMM keeps reusing the same block of its right operand."""
    row_tiles = (n + ROWS - 1) // ROWS
    jt = t // row_tiles
    i0 = (t - jt * row_tiles) * ROWS
    j0 = jt * COLS
    return i0, min(i0 + ROWS, n), j0, min(j0 + COLS, m)


def c_order(*arrays):
    """True when every array is C-contiguous (the wrappers' fast path)."""
    for a in arrays:
        if not a.flags.c_contiguous:
            return False
    return True
