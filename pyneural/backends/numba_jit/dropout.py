"""Inverted dropout: Philox mask and ``A * mask / keep_prob`` in one pass.

Element ``(i, j)`` of an ``(n, m)`` array uses word ``idx % 4`` of block ``idx // 4`` with
``idx = i * m + j``; every row segment recomputes the block it starts in, so any tiling
(and any thread count) draws the same mask.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ..reference.philox import keep_threshold
from ._jit import PAR_MIN, entry, kernel, n_tiles, tile
from .philox import block_words

_U64_ONE = np.uint64(1)


@kernel
def _forward_tile(A, out, mask, threshold, keep_prob, key0, key1, step, layer, t):
    n, m = A.shape
    kp = out.dtype.type(keep_prob)
    one = out.dtype.type(1.0)
    zero = out.dtype.type(0.0)
    k0, k1 = np.uint64(key0), np.uint64(key1)
    c2, c3 = np.uint64(step), np.uint64(layer)
    i0, i1, j0, j1 = tile(t, n, m)
    for i in range(i0, i1):
        a, o, mk = A[i, j0:j1], out[i, j0:j1], mask[i, j0:j1]
        idx = i * m + j0
        block = np.uint64(idx // 4)
        lane = idx % 4
        words = block_words(block, c2, c3, k0, k1)
        for j in range(a.shape[0]):
            if lane == 4:
                block += _U64_ONE
                words = block_words(block, c2, c3, k0, k1)
                lane = 0
            keep = np.int64(words[lane]) < threshold
            mk[j] = np.uint8(1) if keep else np.uint8(0)
            # Multiply then divide, as the reference does (A * mask, then / keep_prob).
            o[j] = (a[j] * (one if keep else zero)) / kp
            lane += 1


@entry("in out mask_out int float int int int int", parallel=True)
def _forward(A, out, mask, threshold, keep_prob, key0, key1, step, layer):
    nt = n_tiles(A.shape[0], A.shape[1])
    if A.size >= PAR_MIN and nt > 1:
        for t in prange(nt):  # np.int64: one helper version for both loops
            _forward_tile(A, out, mask, threshold, keep_prob, key0, key1, step, layer, np.int64(t))
    else:
        for t in range(nt):
            _forward_tile(A, out, mask, threshold, keep_prob, key0, key1, step, layer, t)


@kernel
def _apply_tile(A, mask, out, keep_prob, t):
    kp = out.dtype.type(keep_prob)
    i0, i1, j0, j1 = tile(t, A.shape[0], A.shape[1])
    for i in range(i0, i1):
        a, mk, o = A[i, j0:j1], mask[i, j0:j1], out[i, j0:j1]
        for j in range(o.shape[0]):
            o[j] = (a[j] * o.dtype.type(mk[j])) / kp


@entry("in mask out float", parallel=True)
def _apply(A, mask, out, keep_prob):
    nt = n_tiles(A.shape[0], A.shape[1])
    if A.size >= PAR_MIN and nt > 1:
        for t in prange(nt):
            _apply_tile(A, mask, out, keep_prob, np.int64(t))
    else:
        for t in range(nt):
            _apply_tile(A, mask, out, keep_prob, t)


def dropout_forward(A, out, mask, keep_prob, seed, step, layer):
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    run = _forward.pick(out.dtype, A, out, mask)
    run(
        A,
        out,
        mask,
        keep_threshold(keep_prob),  # the reference's integer threshold (up to 2**32)
        float(keep_prob),
        seed & 0xFFFFFFFF,
        seed >> 32,
        int(step) & 0xFFFFFFFF,
        int(layer) & 0xFFFFFFFF,
    )


def dropout_apply(A, mask, out, keep_prob):
    _apply.pick(out.dtype, A, mask, out)(A, mask, out, float(keep_prob))
