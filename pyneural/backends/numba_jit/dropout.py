"""Inverted dropout: Philox mask and ``A * mask / keep_prob`` in one pass.

Element ``(i, j)`` of an ``(n, m)`` array uses word ``idx % 4`` of block ``idx // 4`` with
``idx = i * m + j``; a tile recomputes the block it starts in, so any tiling (and any
thread count) draws the same mask.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ..reference.philox import keep_threshold
from ._jit import COL_BLOCK, PAR_MIN, kernel, n_tiles, par_kernel
from .philox import block_words

_U64_ONE = np.uint64(1)


@kernel
def _forward_span(A, out, mask, threshold, keep_prob, key0, key1, step, layer, i, j0, j1):
    kp = out.dtype.type(keep_prob)
    one = out.dtype.type(1.0)
    zero = out.dtype.type(0.0)
    k0 = np.uint64(key0)
    k1 = np.uint64(key1)
    c2 = np.uint64(step)
    c3 = np.uint64(layer)
    idx = i * A.shape[1] + j0
    block = np.uint64(idx // 4)
    lane = idx % 4
    words = block_words(block, c2, c3, k0, k1)
    for j in range(j0, j1):
        if lane == 4:
            block += _U64_ONE
            words = block_words(block, c2, c3, k0, k1)
            lane = 0
        keep = np.int64(words[lane]) < threshold
        mask[i, j] = np.uint8(1) if keep else np.uint8(0)
        # Multiply then divide, as the reference does (A * mask, then / keep_prob).
        out[i, j] = (A[i, j] * (one if keep else zero)) / kp
        lane += 1


@par_kernel
def _forward_par(A, out, mask, threshold, keep_prob, key0, key1, step, layer):
    m = A.shape[1]
    nb = n_tiles(m, COL_BLOCK)
    for t in prange(A.shape[0] * nb):
        i = t // nb
        j0 = (t - i * nb) * COL_BLOCK
        _forward_span(A, out, mask, threshold, keep_prob, key0, key1, step, layer, i, j0, min(j0 + COL_BLOCK, m))


@kernel
def _forward(A, out, mask, threshold, keep_prob, key0, key1, step, layer):
    n, m = A.shape
    if A.size >= PAR_MIN:
        _forward_par(A, out, mask, threshold, keep_prob, key0, key1, step, layer)
    else:
        for i in range(n):
            _forward_span(A, out, mask, threshold, keep_prob, key0, key1, step, layer, i, 0, m)


@kernel
def _apply_span(A, mask, out, keep_prob, i, j0, j1):
    kp = out.dtype.type(keep_prob)
    for j in range(j0, j1):
        out[i, j] = (A[i, j] * out.dtype.type(mask[i, j])) / kp


@par_kernel
def _apply_par(A, mask, out, keep_prob):
    m = A.shape[1]
    nb = n_tiles(m, COL_BLOCK)
    for t in prange(A.shape[0] * nb):
        i = t // nb
        j0 = (t - i * nb) * COL_BLOCK
        _apply_span(A, mask, out, keep_prob, i, j0, min(j0 + COL_BLOCK, m))


@kernel
def _apply(A, mask, out, keep_prob):
    n, m = A.shape
    if A.size >= PAR_MIN:
        _apply_par(A, mask, out, keep_prob)
    else:
        for i in range(n):
            _apply_span(A, mask, out, keep_prob, i, 0, m)


def dropout_forward(A, out, mask, keep_prob, seed, step, layer):
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    _forward(
        A,
        out,
        mask,
        keep_threshold(keep_prob),
        float(keep_prob),
        seed & 0xFFFFFFFF,
        seed >> 32,
        int(step) & 0xFFFFFFFF,
        int(layer) & 0xFFFFFFFF,
    )


def dropout_apply(A, mask, out, keep_prob):
    _apply(A, mask, out, float(keep_prob))
