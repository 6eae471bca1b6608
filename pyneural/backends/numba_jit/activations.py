"""Activations: elementwise tiles for the pointwise ones, column tiles for softmax.

Constants are made in the array dtype (``A.dtype.type``) so float32 arrays are computed in
float32, as NumPy does with Python-float scalars; a bare ``1.0`` would promote to float64.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ..contract import ACT_IDENTITY, ACT_LEAKY_RELU, ACT_RELU, ACT_SIGMOID, ACT_SOFTMAX, ACT_TANH
from ._jit import COL_BLOCK, PAR_MIN, kernel, n_tiles, par_kernel


@kernel
def forward_span(Z, A, act, alpha, i, j0, j1):
    """``A[i, j0:j1] = g(Z[i, j0:j1])`` for a pointwise activation."""
    one = A.dtype.type(1.0)
    zero = A.dtype.type(0.0)
    slope = A.dtype.type(alpha)
    if act == ACT_IDENTITY:
        for j in range(j0, j1):
            A[i, j] = Z[i, j]
    elif act == ACT_SIGMOID:
        for j in range(j0, j1):
            z = Z[i, j]
            e = np.exp(-abs(z))  # exp of a non-positive number only: no overflow
            A[i, j] = e / (one + e) if z < zero else one / (one + e)
    elif act == ACT_TANH:
        for j in range(j0, j1):
            A[i, j] = np.tanh(Z[i, j])
    elif act == ACT_RELU:
        for j in range(j0, j1):
            z = Z[i, j]
            A[i, j] = z if z > zero else zero
    elif act == ACT_LEAKY_RELU:
        for j in range(j0, j1):
            z = Z[i, j]
            A[i, j] = z if z > zero else slope * z


@kernel
def _backward_span(dA, Z, A, dZ, act, alpha, i, j0, j1):
    """``dZ[i, j0:j1] = dA * g'(Z)`` for a pointwise activation (same products as the reference)."""
    one = dZ.dtype.type(1.0)
    zero = dZ.dtype.type(0.0)
    slope = dZ.dtype.type(alpha)
    if act == ACT_IDENTITY:
        for j in range(j0, j1):
            dZ[i, j] = dA[i, j]
    elif act == ACT_SIGMOID:
        for j in range(j0, j1):
            a = A[i, j]
            dZ[i, j] = dA[i, j] * a * (one - a)
    elif act == ACT_TANH:
        for j in range(j0, j1):
            a = A[i, j]
            dZ[i, j] = dA[i, j] * (one - a * a)
    elif act == ACT_RELU:
        for j in range(j0, j1):
            dZ[i, j] = dA[i, j] if Z[i, j] > zero else zero
    elif act == ACT_LEAKY_RELU:
        for j in range(j0, j1):
            d = dA[i, j]
            dZ[i, j] = d if Z[i, j] > zero else slope * d


@kernel
def _softmax_cols(Z, A, j0, j1):
    """Softmax of columns ``j0:j1``, walked row by row (contiguous for C order).

    The two scratch vectors are one tile wide, not data sized. Each column's sum runs over
    rows 0..n-1 in order, as NumPy's axis-0 sum of a C-ordered array does.
    """
    n = Z.shape[0]
    w = j1 - j0
    if n == 0 or w <= 0:
        return
    mx = np.empty(w, A.dtype)
    sm = np.zeros(w, A.dtype)
    for j in range(w):
        mx[j] = Z[0, j0 + j]
    for i in range(1, n):
        for j in range(w):
            z = Z[i, j0 + j]
            if z > mx[j] or z != z:  # propagate NaN like np.max
                mx[j] = z
    for i in range(n):
        for j in range(w):
            e = np.exp(Z[i, j0 + j] - mx[j])
            A[i, j0 + j] = e
            sm[j] += e
    for i in range(n):
        for j in range(w):
            A[i, j0 + j] = A[i, j0 + j] / sm[j]


@kernel
def _softmax_backward_cols(dA, A, dZ, j0, j1):
    """``dZ = A * (dA - sum_k dA_k A_k)`` for columns ``j0:j1``."""
    n = A.shape[0]
    w = j1 - j0
    if n == 0 or w <= 0:
        return
    s = np.zeros(w, dZ.dtype)
    for i in range(n):
        for j in range(w):
            s[j] += dA[i, j0 + j] * A[i, j0 + j]
    for i in range(n):
        for j in range(w):
            dZ[i, j0 + j] = A[i, j0 + j] * (dA[i, j0 + j] - s[j])


@par_kernel
def _forward_par(Z, A, act, alpha):
    m = Z.shape[1]
    nb = n_tiles(m, COL_BLOCK)
    for t in prange(Z.shape[0] * nb):
        i = t // nb
        j0 = (t - i * nb) * COL_BLOCK
        forward_span(Z, A, act, alpha, i, j0, min(j0 + COL_BLOCK, m))


@par_kernel
def _backward_par(dA, Z, A, dZ, act, alpha):
    m = Z.shape[1]
    nb = n_tiles(m, COL_BLOCK)
    for t in prange(Z.shape[0] * nb):
        i = t // nb
        j0 = (t - i * nb) * COL_BLOCK
        _backward_span(dA, Z, A, dZ, act, alpha, i, j0, min(j0 + COL_BLOCK, m))


@par_kernel
def _softmax_par(Z, A):
    m = Z.shape[1]
    for t in prange(n_tiles(m, COL_BLOCK)):
        j0 = t * COL_BLOCK
        _softmax_cols(Z, A, j0, min(j0 + COL_BLOCK, m))


@par_kernel
def _softmax_backward_par(dA, A, dZ):
    m = A.shape[1]
    for t in prange(n_tiles(m, COL_BLOCK)):
        j0 = t * COL_BLOCK
        _softmax_backward_cols(dA, A, dZ, j0, min(j0 + COL_BLOCK, m))


@kernel
def softmax(Z, A):
    """Column softmax of the whole array; parallel over column tiles when large."""
    m = Z.shape[1]
    if Z.size >= PAR_MIN and m > COL_BLOCK:
        _softmax_par(Z, A)
    else:
        _softmax_cols(Z, A, 0, m)


@kernel
def _forward(Z, A, act, alpha):
    n, m = Z.shape
    if act == ACT_SOFTMAX:
        softmax(Z, A)
    elif Z.size >= PAR_MIN:
        _forward_par(Z, A, act, alpha)
    else:
        for i in range(n):
            forward_span(Z, A, act, alpha, i, 0, m)


@kernel
def _backward(dA, Z, A, dZ, act, alpha):
    n, m = Z.shape
    if act == ACT_SOFTMAX:
        if Z.size >= PAR_MIN and m > COL_BLOCK:
            _softmax_backward_par(dA, A, dZ)
        else:
            _softmax_backward_cols(dA, A, dZ, 0, m)
    elif Z.size >= PAR_MIN:
        _backward_par(dA, Z, A, dZ, act, alpha)
    else:
        for i in range(n):
            _backward_span(dA, Z, A, dZ, act, alpha, i, 0, m)


def check_act(act):
    """The activation code as an int; unknown codes raise like the reference."""
    code = int(act)
    if not ACT_IDENTITY <= code <= ACT_SOFTMAX:
        raise ValueError(f"unknown activation code {act}")
    return code


def activation_forward(Z, A, act, alpha):
    _forward(Z, A, check_act(act), float(alpha))


def activation_backward(dA, Z, A, dZ, act, alpha):
    _backward(dA, Z, A, dZ, check_act(act), float(alpha))
