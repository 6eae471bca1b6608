"""Costs and the L2 sum: float64 sums over fixed-size chunks of the row-major element order.

Each chunk is summed in index order, then the chunk sums are added in chunk order, so the
result is the same whether the chunks ran on one thread or many.

The logs are the vectorisable :func:`.simd_math.log` (the C++ backend's formula). A loop
adding into one float64 in order cannot be vectorised without reordering the sum, so the
costs with logs write their float64 terms into a chunk-sized scratch row first (a loop that
vectorises), then add them up in element order: the same sum, term for term.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import PAR_MIN, RED_CHUNK, entry, kernel
from .simd_math import log

_BCE, _CE, _MSE, _SQUARES = 0, 1, 2, 3
_TINY32 = float(np.finfo(np.float32).tiny)
_TINY64 = float(np.finfo(np.float64).tiny)


@kernel
def _tiny(X):
    """The smallest normal number of ``X``'s dtype, in that dtype."""
    return X.dtype.type(_TINY32 if X.itemsize == 4 else _TINY64)


@kernel
def _log_clamped(x, tiny):
    """``log(max(x, tiny))`` in ``x``'s dtype, then float64 (NaN still propagates)."""
    return np.float64(log(tiny if x < tiny else x))


@kernel
def _add_in_order(acc, t):
    """``acc + t[0] + t[1] + ...``, added one by one in index order."""
    for j in range(t.shape[0]):
        acc += t[j]
    return acc


@kernel
def _chunk_sum(kind, AL, Y, start, stop):
    """Sum of the terms of elements ``start:stop`` (row-major order), in float64."""
    m = AL.shape[1]
    one = AL.dtype.type(1.0)
    tiny = _tiny(AL)
    acc = 0.0
    terms = np.empty(stop - start if kind == _BCE or kind == _CE else 0)  # scratch: the log terms
    pos = start
    while pos < stop:  # one row segment per pass
        i = pos // m
        j0 = pos - i * m
        j1 = min(m, j0 + (stop - pos))
        a, y = AL[i, j0:j1], Y[i, j0:j1]
        if kind == _BCE:
            t = terms[:a.shape[0]]
            for j in range(a.shape[0]):
                yj = np.float64(y[j])
                t[j] = yj * _log_clamped(a[j], tiny) + (1.0 - yj) * _log_clamped(one - a[j], tiny)
            acc = _add_in_order(acc, t)
        elif kind == _CE:
            t = terms[:a.shape[0]]
            for j in range(a.shape[0]):
                yj = np.float64(y[j])
                t[j] = yj * _log_clamped(a[j], tiny) if yj != 0.0 else 0.0
            acc = _add_in_order(acc, t)
        elif kind == _MSE:
            for j in range(a.shape[0]):
                d = np.float64(a[j]) - np.float64(y[j])
                acc += d * d
        else:
            for j in range(a.shape[0]):
                w = np.float64(a[j])
                acc += w * w
        pos += j1 - j0
    return acc


@entry("int in in", parallel=True)
def _reduce(kind, AL, Y):
    size = AL.shape[0] * AL.shape[1]
    n_chunks = (size + RED_CHUNK - 1) // RED_CHUNK
    total = 0.0
    if size >= PAR_MIN and n_chunks > 1:
        part = np.empty(n_chunks)  # one float64 per chunk
        for c in prange(n_chunks):
            part[c] = _chunk_sum(kind, AL, Y, c * RED_CHUNK, min((c + 1) * RED_CHUNK, size))
        for c in range(n_chunks):  # combined in chunk order, as the serial path does
            total += part[c]
    else:
        for c in range(n_chunks):
            total += _chunk_sum(kind, AL, Y, c * RED_CHUNK, min((c + 1) * RED_CHUNK, size))
    return total


@kernel
def _labels_chunk(AL, labels, j0, j1):
    tiny = _tiny(AL)
    t = np.empty(j1 - j0)  # the logs first (a loop that vectorises), then their sum in order
    for j in range(j0, j1):
        t[j - j0] = _log_clamped(AL[labels[j], j], tiny)
    return _add_in_order(0.0, t)


@entry("in labels", parallel=True)
def _labels_sum(AL, labels):
    m = AL.shape[1]
    n_chunks = (m + RED_CHUNK - 1) // RED_CHUNK
    total = 0.0
    if m >= PAR_MIN and n_chunks > 1:
        part = np.empty(n_chunks)
        for c in prange(n_chunks):
            part[c] = _labels_chunk(AL, labels, c * RED_CHUNK, min((c + 1) * RED_CHUNK, m))
        for c in range(n_chunks):
            total += part[c]
    else:
        for c in range(n_chunks):
            total += _labels_chunk(AL, labels, c * RED_CHUNK, min((c + 1) * RED_CHUNK, m))
    return total


def _sum(kind, AL, Y):
    return _reduce.pick(AL.dtype, AL, Y)(kind, AL, Y)


def bce_cost(AL, Y):
    return -_sum(_BCE, AL, Y)


def softmax_ce_cost(AL, Y):
    return -_sum(_CE, AL, Y)


def softmax_ce_labels_cost(AL, labels):
    return -_labels_sum.pick(AL.dtype, AL, labels)(AL, labels)


def mse_cost(AL, Y):
    return _sum(_MSE, AL, Y)


def sum_squares(W):
    return _sum(_SQUARES, W, W)
