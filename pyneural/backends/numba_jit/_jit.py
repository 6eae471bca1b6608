"""Shared Numba settings, the tiling every 2-D kernel uses, and lazily typed entry kernels.

Inner loops run over 1-D row views (``Z[i, j0:j1]``) indexed from 0: Numba then knows the
index is non-negative, drops its negative-index wraparound and LLVM can vectorise the loop
(with ``range(j0, j1)`` on the 2-D array it cannot).

Layouts: left to itself, Numba compiles one specialisation per combination of dtype, layout
(C/F/A) and read-only flag of every array argument, which for the layouts the tests feed
means hundreds of compilations on a cold cache. So every kernel the wrappers call is an
:class:`Entry` with fixed argument types and exactly two versions per dtype, each compiled
on first use (and cached on disk): ``fast`` takes C-contiguous arrays (the vectorised code
for the common case) and ``general`` takes layout 'A' (F order, padded, strided,
negative-stride, any mix). Inputs are typed read-only, which writable arrays convert to,
so read-only and writable inputs share a version too. Nothing is copied. Helpers called
from inside kernels stay ordinary ``@kernel`` functions, typed by their callers.
"""

from __future__ import annotations

import hashlib
import os

import numba
import numpy as np
from numba import types

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
    for path in sorted(os.listdir(here)) + [os.path.join(os.pardir, "contract.py"),
                                          os.path.join(os.pardir, os.pardir, "engine", "plan.py")]:
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
    """Serial nopython helper, called from other kernels and typed by its callers."""
    return numba.njit(**_OPTIONS)(fn)


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


#: Argument kinds of an :func:`entry` spec. Float arrays take the call's dtype; inputs are
#: read-only so writable and read-only arrays share one version.
_ARRAY_KINDS = {
    "in": (None, 2, True),  # 2-D float input
    "out": (None, 2, False),  # 2-D float output
    "in1": (None, 1, True),  # 1-D float input
    "out1": (None, 1, False),  # 1-D float output (updated in place)
    "mask": (types.uint8, 2, True),  # 2-D uint8 input
    "mask_out": (types.uint8, 2, False),  # 2-D uint8 output
    "labels": (types.int64, 1, True),  # 1-D int64 input
}
#: Scalars: the wrappers pass Python ints and floats, which Numba types as these.
_SCALAR_KINDS = {"int": types.int64, "float": types.float64}
_FLOATS = {np.dtype(np.float32): types.float32, np.dtype(np.float64): types.float64}


class _Versions(dict):
    """dtype -> compiled dispatcher for one layout, filled on first use."""

    def __init__(self, entry, layout):
        super().__init__()
        self._entry = entry
        self._layout = layout

    def __missing__(self, dtype):
        disp = self._entry.compile(dtype, self._layout)
        self[dtype] = disp
        return disp


class Entry:
    """A kernel called from Python, compiled for fixed argument types.

    ``spec`` names the kind of each argument (keys of ``_ARRAY_KINDS`` and
    ``_SCALAR_KINDS``). ``fast[dtype]`` is the version for C-contiguous arrays,
    ``general[dtype]`` the one for any layout (type 'A'); each is compiled (or loaded from
    the disk cache) the first time it is looked up, and never recompiled for other types:
    arguments that do not fit raise ``TypeError``.
    """

    def __init__(self, fn, spec, parallel):
        self.py_func = fn
        self.parallel = parallel
        self.spec = tuple(spec.split())
        for kind in self.spec:
            if kind not in _ARRAY_KINDS and kind not in _SCALAR_KINDS:
                raise ValueError(f"{fn.__name__}: unknown argument kind {kind!r}")
        self.fast = _Versions(self, "C")
        self.general = _Versions(self, "A")
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def signature(self, dtype, layout):
        """The argument types for float dtype ``dtype`` and array layout ``layout``."""
        ftype = _FLOATS.get(np.dtype(dtype))
        if ftype is None:
            raise TypeError(f"{self.__name__}: arrays must be float32 or float64, got {dtype}")
        args = []
        for kind in self.spec:
            if kind in _SCALAR_KINDS:
                args.append(_SCALAR_KINDS[kind])
            else:
                elem, ndim, readonly = _ARRAY_KINDS[kind]
                args.append(types.Array(elem or ftype, ndim, layout, readonly=readonly))
        return tuple(args)

    def compile(self, dtype, layout):
        """A dispatcher holding only the ``(dtype, layout)`` version (compiles it now)."""
        sig = self.signature(dtype, layout)
        return numba.njit([sig], parallel=self.parallel, **_OPTIONS)(self.py_func)

    def pick(self, dtype, *arrays):
        """The version to call: ``fast`` when every array is C-contiguous, else ``general``."""
        for a in arrays:
            if not a.flags.c_contiguous:
                return self.general[dtype]
        return self.fast[dtype]

    def dispatchers(self):
        """The versions compiled so far."""
        return list(self.fast.values()) + list(self.general.values())


def entry(spec, parallel=False):
    """Decorator: make ``fn`` an :class:`Entry` (``parallel``: its ``prange`` loops use the
    thread pool)."""

    def wrap(fn):
        return Entry(fn, spec, parallel)

    return wrap
