"""Linear layer: loop GEMMs (no BLAS, so results do not depend on which BLAS is installed).

Every output element is summed over the inner dimension in index order, by one thread;
threads only split output tiles, so results are identical for any thread count (and for
any tiling). Sums accumulate in the array dtype, like the BLAS call in the reference.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ..contract import ACT_SOFTMAX
from ._jit import PAR_MIN_FLOPS, entry, kernel, n_tiles, tile
from .activations import check_act, forward_row, softmax


@kernel
def _gemm_tile(M, B, C, i0, i1, j0, j1):
    """``C[i0:i1, j0:j1] = M[i0:i1] @ B[:, j0:j1]``, i-k-j order along rows of ``B``.

    Four output rows share each load of ``B[s, j]``; every element still gets
    ``sum_s M[i, s] * B[s, j]`` added in order s = 0, 1, ...
    """
    zero = C.dtype.type(0.0)
    i = i0
    while i + 4 <= i1:
        c0, c1, c2, c3 = C[i, j0:j1], C[i + 1, j0:j1], C[i + 2, j0:j1], C[i + 3, j0:j1]
        c0[:] = zero
        c1[:] = zero
        c2[:] = zero
        c3[:] = zero
        for s in range(M.shape[1]):
            w0, w1, w2, w3 = M[i, s], M[i + 1, s], M[i + 2, s], M[i + 3, s]
            b = B[s, j0:j1]
            for j in range(b.shape[0]):
                x = b[j]
                c0[j] += w0 * x
                c1[j] += w1 * x
                c2[j] += w2 * x
                c3[j] += w3 * x
        i += 4
    while i < i1:
        c = C[i, j0:j1]
        c[:] = zero
        for s in range(M.shape[1]):
            w = M[i, s]
            b = B[s, j0:j1]
            for j in range(b.shape[0]):
                c[j] += w * b[j]
        i += 1


@kernel
def _forward_tile(W, A_prev, b, Z, A, act, alpha, t):
    i0, i1, j0, j1 = tile(t, Z.shape[0], Z.shape[1])
    _gemm_tile(W, A_prev, Z, i0, i1, j0, j1)
    for i in range(i0, i1):
        z = Z[i, j0:j1]
        bi = b[i, 0]
        for j in range(z.shape[0]):
            z[j] += bi  # added after the full sum, as matmul-then-add does
        if act != ACT_SOFTMAX:  # softmax needs whole columns: the wrapper runs it after
            forward_row(z, A[i, j0:j1], act, alpha)


@entry("in in in out out int float", parallel=True)
def _forward(W, A_prev, b, Z, A, act, alpha):
    n, m = Z.shape
    nt = n_tiles(n, m)
    if n * m * W.shape[1] >= PAR_MIN_FLOPS and nt > 1:
        for t in prange(nt):  # np.int64: one helper version for both loops (see activations)
            _forward_tile(W, A_prev, b, Z, A, act, alpha, np.int64(t))
    else:
        for t in range(nt):
            _forward_tile(W, A_prev, b, Z, A, act, alpha, t)


@kernel
def _dw_tile(dZ, A_prev, W, dW, lambd, t):
    """``dW[i, k] = (dZ[i] . A_prev[k]) / m + (lambd / m) * W[i, k]`` over one tile.

    Dot products along ``m`` (both operands contiguous in C order); four run together
    for instruction-level parallelism, each still summed in order j = 0, 1, ...
    """
    i0, i1, k0, k1 = tile(t, dW.shape[0], dW.shape[1])
    m = A_prev.shape[1]
    m_t = dW.dtype.type(m)
    reg = dW.dtype.type(lambd / m)  # (lambd / m) in float64, then the array dtype
    zero = dW.dtype.type(0.0)
    for i in range(i0, i1):
        dz = dZ[i]
        k = k0
        while k + 4 <= k1:
            a0, a1, a2, a3 = A_prev[k], A_prev[k + 1], A_prev[k + 2], A_prev[k + 3]
            s0 = s1 = s2 = s3 = zero
            for j in range(m):
                d = dz[j]
                s0 += d * a0[j]
                s1 += d * a1[j]
                s2 += d * a2[j]
                s3 += d * a3[j]
            dW[i, k] = s0 / m_t + reg * W[i, k]
            dW[i, k + 1] = s1 / m_t + reg * W[i, k + 1]
            dW[i, k + 2] = s2 / m_t + reg * W[i, k + 2]
            dW[i, k + 3] = s3 / m_t + reg * W[i, k + 3]
            k += 4
        while k < k1:
            a = A_prev[k]
            s = zero
            for j in range(m):
                s += dz[j] * a[j]
            dW[i, k] = s / m_t + reg * W[i, k]
            k += 1


@entry("in in in out out float", parallel=True)
def _param_grads(dZ, A_prev, W, dW, db, lambd):
    n, k = dW.shape
    m = A_prev.shape[1]
    nt = n_tiles(n, k)
    if n * k * m >= PAR_MIN_FLOPS and nt > 1:
        for t in prange(nt):
            _dw_tile(dZ, A_prev, W, dW, lambd, np.int64(t))
    else:
        for t in range(nt):
            _dw_tile(dZ, A_prev, W, dW, lambd, t)
    m_t = db.dtype.type(m)
    for i in range(n):  # n*m adds: small next to the n*k*m GEMM
        dz = dZ[i]
        s = db.dtype.type(0.0)
        for j in range(m):
            s += dz[j]
        db[i, 0] = s / m_t


@kernel
def _input_tile(W, dZ, dA_prev, t):
    i0, i1, j0, j1 = tile(t, dA_prev.shape[0], dA_prev.shape[1])
    _gemm_tile(W.T, dZ, dA_prev, i0, i1, j0, j1)


@entry("in in out", parallel=True)
def _input_grad(W, dZ, dA_prev):
    k, m = dA_prev.shape
    nt = n_tiles(k, m)
    if k * m * W.shape[0] >= PAR_MIN_FLOPS and nt > 1:
        for t in prange(nt):
            _input_tile(W, dZ, dA_prev, np.int64(t))
    else:
        for t in range(nt):
            _input_tile(W, dZ, dA_prev, t)


@entry("in in out")
def _output_delta(AL, Y, dZ):
    # Serial: the output layer is a few rows, and a subtraction is memory-bound anyway.
    for i in range(dZ.shape[0]):
        a, y, d = AL[i], Y[i], dZ[i]
        for j in range(d.shape[0]):
            d[j] = a[j] - y[j]


@entry("in labels out")
def _output_delta_labels(AL, labels, dZ):
    one = dZ.dtype.type(1.0)
    for i in range(dZ.shape[0]):
        a, d = AL[i], dZ[i]
        for j in range(d.shape[0]):
            d[j] = a[j]
    for j in range(dZ.shape[1]):
        dZ[labels[j], j] -= one


def linear_forward(W, A_prev, b, Z, A, act, alpha):
    act = check_act(act)
    run = _forward.pick(Z.dtype, W, A_prev, b, Z, A)
    run(W, A_prev, b, Z, A, act, float(alpha))
    if act == ACT_SOFTMAX:  # whole columns, after the GEMM
        softmax.pick(Z.dtype, Z, A)(Z, A)


def linear_backward(dZ, A_prev, W, dW, db, dA_prev, lambd):
    _param_grads.pick(dW.dtype, dZ, A_prev, W, dW, db)(dZ, A_prev, W, dW, db, float(lambd))
    if dA_prev is not None:  # the first layer needs no input gradient
        _input_grad.pick(dA_prev.dtype, W, dZ, dA_prev)(W, dZ, dA_prev)


def output_delta(AL, Y, dZ):
    _output_delta.pick(dZ.dtype, AL, Y, dZ)(AL, Y, dZ)


def output_delta_labels(AL, labels, dZ):
    _output_delta_labels.pick(dZ.dtype, AL, labels, dZ)(AL, labels, dZ)
