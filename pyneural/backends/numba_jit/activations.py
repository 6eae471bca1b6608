"""Activations: row-segment loops for the pointwise ones, column tiles for softmax.

Constants are made in the array dtype (``a.dtype.type``) so float32 arrays are computed in
float32, as NumPy does with Python-float scalars; a bare ``1.0`` would promote to float64.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ..contract import ACT_IDENTITY, ACT_LEAKY_RELU, ACT_RELU, ACT_SIGMOID, ACT_SOFTMAX, ACT_TANH
from ._jit import COLS, PAR_MIN, entry, kernel, n_tiles, tile
from .simd_math import exp, sigmoid, tanh


@kernel
def forward_row(z, a, act, alpha):
    """``a[:] = g(z)`` on 1-D views, for a pointwise activation (sigmoid and tanh through
    the vectorisable :mod:`.simd_math` functions, the C++ backend's formulas)."""
    zero = a.dtype.type(0.0)
    slope = a.dtype.type(alpha)
    if act == ACT_IDENTITY:
        for j in range(z.shape[0]):
            a[j] = z[j]
    elif act == ACT_SIGMOID:
        for j in range(z.shape[0]):
            a[j] = sigmoid(z[j])  # exp of -|z| only, as the reference: no overflow
    elif act == ACT_TANH:
        for j in range(z.shape[0]):
            a[j] = tanh(z[j])
    elif act == ACT_RELU:
        for j in range(z.shape[0]):
            x = z[j]
            a[j] = x if x > zero else zero
    elif act == ACT_LEAKY_RELU:
        for j in range(z.shape[0]):
            x = z[j]
            a[j] = x if x > zero else slope * x


@kernel
def _backward_row(da, z, a, dz, act, alpha):
    """``dz[:] = da * g'(z)`` on 1-D views (the reference's products, in its order)."""
    one = dz.dtype.type(1.0)
    zero = dz.dtype.type(0.0)
    slope = dz.dtype.type(alpha)
    if act == ACT_IDENTITY:
        for j in range(dz.shape[0]):
            dz[j] = da[j]
    elif act == ACT_SIGMOID:
        for j in range(dz.shape[0]):
            dz[j] = da[j] * a[j] * (one - a[j])
    elif act == ACT_TANH:
        for j in range(dz.shape[0]):
            dz[j] = da[j] * (one - a[j] * a[j])
    elif act == ACT_RELU:
        for j in range(dz.shape[0]):
            dz[j] = da[j] if z[j] > zero else zero
    elif act == ACT_LEAKY_RELU:
        for j in range(dz.shape[0]):
            dz[j] = da[j] if z[j] > zero else slope * da[j]


@kernel
def _softmax_cols(Z, A, j0, j1):
    """Softmax of columns ``j0:j1``, walked row by row (contiguous for C order).

    The two scratch vectors are one tile wide, not data sized. Each column sum runs over
    rows 0..n-1 in order, as NumPy's axis-0 sum of a C-ordered array does.
    """
    n = Z.shape[0]
    if n == 0 or j1 <= j0:
        return
    mx = Z[0, j0:j1].copy()
    sm = np.zeros(j1 - j0, A.dtype)
    for i in range(1, n):
        z = Z[i, j0:j1]
        for j in range(z.shape[0]):
            if z[j] > mx[j] or z[j] != z[j]:  # propagate NaN like np.max
                mx[j] = z[j]
    for i in range(n):
        z = Z[i, j0:j1]
        a = A[i, j0:j1]
        for j in range(a.shape[0]):
            e = exp(z[j] - mx[j])
            a[j] = e
            sm[j] += e
    for i in range(n):
        a = A[i, j0:j1]
        for j in range(a.shape[0]):
            a[j] = a[j] / sm[j]


@kernel
def _softmax_backward_cols(dA, A, dZ, j0, j1):
    """``dZ = A * (dA - sum_k dA_k A_k)`` for columns ``j0:j1`` (sums over rows in order)."""
    n = A.shape[0]
    if n == 0 or j1 <= j0:
        return
    s = np.zeros(j1 - j0, dZ.dtype)
    for i in range(n):
        da = dA[i, j0:j1]
        a = A[i, j0:j1]
        for j in range(s.shape[0]):
            s[j] += da[j] * a[j]
    for i in range(n):
        da = dA[i, j0:j1]
        a = A[i, j0:j1]
        dz = dZ[i, j0:j1]
        for j in range(s.shape[0]):
            dz[j] = a[j] * (da[j] - s[j])


@entry("in out", parallel=True)
def softmax(Z, A):
    """Column softmax of the whole array, parallel over column tiles when large."""
    m = Z.shape[1]
    nt = (m + COLS - 1) // COLS
    if Z.size >= PAR_MIN and nt > 1:
        for t in prange(nt):
            _softmax_cols(Z, A, np.int64(t) * COLS, min((np.int64(t) + 1) * COLS, m))
    else:
        _softmax_cols(Z, A, np.int64(0), m)


@entry("in in out", parallel=True)
def _softmax_backward(dA, A, dZ):
    m = A.shape[1]
    nt = (m + COLS - 1) // COLS
    if A.size >= PAR_MIN and nt > 1:
        for t in prange(nt):
            _softmax_backward_cols(dA, A, dZ, np.int64(t) * COLS, min((np.int64(t) + 1) * COLS, m))
    else:
        _softmax_backward_cols(dA, A, dZ, np.int64(0), m)


@kernel
def _forward_tile(Z, A, act, alpha, t):
    i0, i1, j0, j1 = tile(t, Z.shape[0], Z.shape[1])
    for i in range(i0, i1):
        forward_row(Z[i, j0:j1], A[i, j0:j1], act, alpha)


@kernel
def _backward_tile(dA, Z, A, dZ, act, alpha, t):
    i0, i1, j0, j1 = tile(t, Z.shape[0], Z.shape[1])
    for i in range(i0, i1):
        _backward_row(dA[i, j0:j1], Z[i, j0:j1], A[i, j0:j1], dZ[i, j0:j1], act, alpha)


# Pointwise activations only: softmax needs whole columns and has its own entries, which
# the wrappers call directly (one kernel per Numba compilation stays small: compile time
# grows with everything a kernel calls, since LLVM re-optimises callees in every caller).
# The prange index is a uint64 and a bare 0 a literal: both are passed as int64 so a
# helper compiles once for the serial and the parallel loop.


@entry("in out int float", parallel=True)
def _forward(Z, A, act, alpha):
    nt = n_tiles(Z.shape[0], Z.shape[1])
    if Z.size >= PAR_MIN and nt > 1:
        for t in prange(nt):
            _forward_tile(Z, A, act, alpha, np.int64(t))
    else:
        for t in range(nt):
            _forward_tile(Z, A, act, alpha, t)


@entry("in in in out int float", parallel=True)
def _backward(dA, Z, A, dZ, act, alpha):
    nt = n_tiles(Z.shape[0], Z.shape[1])
    if Z.size >= PAR_MIN and nt > 1:
        for t in prange(nt):
            _backward_tile(dA, Z, A, dZ, act, alpha, np.int64(t))
    else:
        for t in range(nt):
            _backward_tile(dA, Z, A, dZ, act, alpha, t)


def check_act(act):
    """The activation code as an int; unknown codes raise like the reference."""
    code = int(act)
    if not ACT_IDENTITY <= code <= ACT_SOFTMAX:
        raise ValueError(f"unknown activation code {act}")
    return code


def activation_forward(Z, A, act, alpha):
    act = check_act(act)
    if act == ACT_SOFTMAX:
        softmax.pick(A.dtype, Z, A)(Z, A)
    else:
        _forward.pick(A.dtype, Z, A)(Z, A, act, float(alpha))


def activation_backward(dA, Z, A, dZ, act, alpha):
    act = check_act(act)
    if act == ACT_SOFTMAX:
        _softmax_backward.pick(dZ.dtype, dA, A, dZ)(dA, A, dZ)
    else:
        _backward.pick(dZ.dtype, dA, Z, A, dZ)(dA, Z, A, dZ, act, float(alpha))
