"""Costs and the L2 sum: float64 sums over fixed-size chunks of the row-major element order.

Each chunk is summed in index order, then the chunk sums are added in chunk order, so the
result is the same whether the chunks ran on one thread or many.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import PAR_MIN, RED_CHUNK, entry, kernel

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
    return np.float64(np.log(tiny if x < tiny else x))


@kernel
def _chunk_sum(kind, AL, Y, start, stop):
    """Sum of the terms of elements ``start:stop`` (row-major order), in float64."""
    m = AL.shape[1]
    one = AL.dtype.type(1.0)
    tiny = _tiny(AL)
    acc = 0.0
    pos = start
    while pos < stop:  # one row segment per pass
        i = pos // m
        j0 = pos - i * m
        j1 = min(m, j0 + (stop - pos))
        a, y = AL[i, j0:j1], Y[i, j0:j1]
        if kind == _BCE:
            for j in range(a.shape[0]):
                yj = np.float64(y[j])
                acc += yj * _log_clamped(a[j], tiny) + (1.0 - yj) * _log_clamped(one - a[j], tiny)
        elif kind == _CE:
            for j in range(a.shape[0]):
                yj = np.float64(y[j])
                acc += yj * _log_clamped(a[j], tiny) if yj != 0.0 else 0.0
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
    acc = 0.0
    for j in range(j0, j1):
        acc += _log_clamped(AL[labels[j], j], tiny)
    return acc


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
