"""Optimizer updates, in place on 1-D contiguous arrays, with the reference's operation order.

Python-float hyperparameters are rounded to the array dtype before use, as NumPy does when
it multiplies a float32 array by a Python float; ``1 - beta`` and the Adam bias corrections
are formed in float64 first, as in the reference.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import PAR_MIN, RED_CHUNK, entry, kernel

_GD, _MOMENTUM, _RMSPROP, _ADAM, _ADAM_EPS_INSIDE = range(5)


@kernel
def _span(kind, param, grad, v, s, lr, beta1, beta2, eps, bc1, bc2, j0, j1):
    """Update elements ``j0:j1``. ``v``/``s`` are unused (pass ``param``) when the rule has none."""
    t = param.dtype.type
    lr_t, eps_t = t(lr), t(eps)
    b1, c1 = t(beta1), t(1.0 - beta1)
    b2, c2 = t(beta2), t(1.0 - beta2)
    bc1_t, bc2_t = t(bc1), t(bc2)
    # Views indexed from 0, so the loops vectorise (see _jit).
    p, g, v, s = param[j0:j1], grad[j0:j1], v[j0:j1], s[j0:j1]
    if kind == _GD:
        for j in range(p.shape[0]):
            p[j] -= lr_t * g[j]
    elif kind == _MOMENTUM:
        for j in range(p.shape[0]):
            v[j] = v[j] * b1 + c1 * g[j]
            p[j] -= lr_t * v[j]
    elif kind == _RMSPROP:
        for j in range(p.shape[0]):
            s[j] = s[j] * b2 + c2 * g[j] * g[j]
            p[j] -= lr_t * g[j] / (np.sqrt(s[j]) + eps_t)
    else:
        inside = kind == _ADAM_EPS_INSIDE
        for j in range(p.shape[0]):
            v[j] = v[j] * b1 + c1 * g[j]
            s[j] = s[j] * b2 + c2 * g[j] * g[j]
            v_hat = v[j] / bc1_t
            s_hat = s[j] / bc2_t
            denom = np.sqrt(s_hat + eps_t) if inside else np.sqrt(s_hat) + eps_t
            p[j] -= lr_t * v_hat / denom


@entry("int out1 in1 out1 out1 float float float float float float", parallel=True)
def _update(kind, param, grad, v, s, lr, beta1, beta2, eps, bc1, bc2):
    size = param.shape[0]
    n_chunks = (size + RED_CHUNK - 1) // RED_CHUNK
    if size >= PAR_MIN and n_chunks > 1:
        for c in prange(n_chunks):
            j0 = c * RED_CHUNK
            _span(kind, param, grad, v, s, lr, beta1, beta2, eps, bc1, bc2, j0, min(j0 + RED_CHUNK, size))
    else:
        _span(kind, param, grad, v, s, lr, beta1, beta2, eps, bc1, bc2, np.int64(0), size)


# The boundary passes contiguous 1-D arrays, so the wrappers call the C version without
# checking layouts; Numba rejects anything else with a TypeError before running (nothing
# has been written yet), and the general version handles it.


def gd_update(param, grad, lr):
    args = (_GD, param, grad, param, param, float(lr), 0.0, 0.0, 0.0, 1.0, 1.0)
    try:
        _update.fast[param.dtype](*args)
    except TypeError:
        _update.general[param.dtype](*args)


def momentum_update(param, grad, v, lr, beta):
    args = (_MOMENTUM, param, grad, v, param, float(lr), float(beta), 0.0, 0.0, 1.0, 1.0)
    try:
        _update.fast[param.dtype](*args)
    except TypeError:
        _update.general[param.dtype](*args)


def rmsprop_update(param, grad, s, lr, beta, eps):
    args = (_RMSPROP, param, grad, param, s, float(lr), 0.0, float(beta), float(eps), 1.0, 1.0)
    try:
        _update.fast[param.dtype](*args)
    except TypeError:
        _update.general[param.dtype](*args)


def adam_update(param, grad, v, s, lr, beta1, beta2, eps, t, eps_inside_sqrt):
    beta1, beta2 = float(beta1), float(beta2)
    # Python's float ** int, exactly as the reference computes 1 - beta**t.
    bc1, bc2 = 1.0 - beta1 ** int(t), 1.0 - beta2 ** int(t)
    kind = _ADAM_EPS_INSIDE if eps_inside_sqrt else _ADAM
    args = (kind, param, grad, v, s, float(lr), beta1, beta2, float(eps), bc1, bc2)
    try:
        _update.fast[param.dtype](*args)
    except TypeError:
        _update.general[param.dtype](*args)
