"""Linear layer: loop GEMMs (no BLAS, so results do not depend on which BLAS is installed).

Every output element is summed over the inner dimension in index order by one thread;
threads only split output rows and column tiles, so results are identical for any thread
count. Sums accumulate in the array dtype, like the BLAS call in the reference.
"""

from __future__ import annotations

from numba import prange

from ..contract import ACT_SOFTMAX
from ._jit import COL_BLOCK, PAR_MIN, PAR_MIN_FLOPS, kernel, n_tiles, par_kernel
from .activations import check_act, forward_span, softmax


@kernel
def _forward_span(W, A_prev, b, Z, A, act, alpha, i, j0, j1):
    """``Z[i, j0:j1] = W[i] @ A_prev[:, j0:j1] + b[i]``, then the pointwise activation.

    i-k-j order: the inner loop runs along a row of ``A_prev`` and of ``Z``.
    """
    zero = Z.dtype.type(0.0)
    for j in range(j0, j1):
        Z[i, j] = zero
    for k in range(W.shape[1]):
        w = W[i, k]
        for j in range(j0, j1):
            Z[i, j] += w * A_prev[k, j]
    bi = b[i, 0]
    for j in range(j0, j1):
        Z[i, j] += bi
    if act != ACT_SOFTMAX:  # softmax needs whole columns: done after the GEMM
        forward_span(Z, A, act, alpha, i, j0, j1)


@par_kernel
def _forward_par(W, A_prev, b, Z, A, act, alpha):
    m = Z.shape[1]
    nb = n_tiles(m, COL_BLOCK)
    for t in prange(Z.shape[0] * nb):
        i = t // nb
        j0 = (t - i * nb) * COL_BLOCK
        _forward_span(W, A_prev, b, Z, A, act, alpha, i, j0, min(j0 + COL_BLOCK, m))


@kernel
def _forward(W, A_prev, b, Z, A, act, alpha):
    n, m = Z.shape
    if n * m * W.shape[1] >= PAR_MIN_FLOPS:
        _forward_par(W, A_prev, b, Z, A, act, alpha)
    else:
        for i in range(n):
            _forward_span(W, A_prev, b, Z, A, act, alpha, i, 0, m)
    if act == ACT_SOFTMAX:
        softmax(Z, A)


@kernel
def _param_grads_span(dZ, A_prev, W, dW, db, lambd, i, k0, k1):
    """``dW[i, k0:k1]`` as row-by-row dot products (both operands walk along ``m``);
    the tile starting at column 0 also does ``db[i]``."""
    m = A_prev.shape[1]
    m_t = dW.dtype.type(m)
    reg = dW.dtype.type(lambd / m)  # (lambd / m) in float64, then the array dtype
    for k in range(k0, k1):
        acc = dW.dtype.type(0.0)
        for j in range(m):
            acc += dZ[i, j] * A_prev[k, j]
        dW[i, k] = acc / m_t + reg * W[i, k]
    if k0 == 0:
        acc = db.dtype.type(0.0)
        for j in range(m):
            acc += dZ[i, j]
        db[i, 0] = acc / m_t


@par_kernel
def _param_grads_par(dZ, A_prev, W, dW, db, lambd):
    k = dW.shape[1]
    nb = n_tiles(k, COL_BLOCK)
    for t in prange(dW.shape[0] * nb):
        i = t // nb
        k0 = (t - i * nb) * COL_BLOCK
        _param_grads_span(dZ, A_prev, W, dW, db, lambd, i, k0, min(k0 + COL_BLOCK, k))


@kernel
def _param_grads(dZ, A_prev, W, dW, db, lambd):
    n, k = dW.shape
    if n * k * A_prev.shape[1] >= PAR_MIN_FLOPS:
        _param_grads_par(dZ, A_prev, W, dW, db, lambd)
    else:
        for i in range(n):
            # k0 = 0 also when k == 0, so db is still written
            _param_grads_span(dZ, A_prev, W, dW, db, lambd, i, 0, k)


@kernel
def _input_grad_span(W, dZ, dA_prev, k, j0, j1):
    """``dA_prev[k, j0:j1] = W[:, k] @ dZ[:, j0:j1]``, summed over rows of ``dZ`` in order."""
    zero = dA_prev.dtype.type(0.0)
    for j in range(j0, j1):
        dA_prev[k, j] = zero
    for i in range(W.shape[0]):
        w = W[i, k]
        for j in range(j0, j1):
            dA_prev[k, j] += w * dZ[i, j]


@par_kernel
def _input_grad_par(W, dZ, dA_prev):
    m = dA_prev.shape[1]
    nb = n_tiles(m, COL_BLOCK)
    for t in prange(dA_prev.shape[0] * nb):
        k = t // nb
        j0 = (t - k * nb) * COL_BLOCK
        _input_grad_span(W, dZ, dA_prev, k, j0, min(j0 + COL_BLOCK, m))


@kernel
def _input_grad(W, dZ, dA_prev):
    k, m = dA_prev.shape
    if k * m * W.shape[0] >= PAR_MIN_FLOPS:
        _input_grad_par(W, dZ, dA_prev)
    else:
        for kk in range(k):
            _input_grad_span(W, dZ, dA_prev, kk, 0, m)


@par_kernel
def _subtract_par(AL, Y, dZ):
    for i in prange(dZ.shape[0]):
        for j in range(dZ.shape[1]):
            dZ[i, j] = AL[i, j] - Y[i, j]


@kernel
def _output_delta(AL, Y, dZ):
    if dZ.size >= PAR_MIN:
        _subtract_par(AL, Y, dZ)
    else:
        for i in range(dZ.shape[0]):
            for j in range(dZ.shape[1]):
                dZ[i, j] = AL[i, j] - Y[i, j]


@kernel
def _output_delta_labels(AL, labels, dZ):
    one = dZ.dtype.type(1.0)
    for i in range(dZ.shape[0]):
        for j in range(dZ.shape[1]):
            dZ[i, j] = AL[i, j]
    for j in range(dZ.shape[1]):
        dZ[labels[j], j] -= one


def linear_forward(W, A_prev, b, Z, A, act, alpha):
    _forward(W, A_prev, b, Z, A, check_act(act), float(alpha))


def linear_backward(dZ, A_prev, W, dW, db, dA_prev, lambd):
    _param_grads(dZ, A_prev, W, dW, db, float(lambd))
    if dA_prev is not None:  # the first layer needs no input gradient
        _input_grad(W, dZ, dA_prev)


def output_delta(AL, Y, dZ):
    _output_delta(AL, Y, dZ)


def output_delta_labels(AL, labels, dZ):
    _output_delta_labels(AL, labels, dZ)
