"""Batch normalisation, one feature row at a time with the reference's operation order.

Rows are independent, so threads split rows only (whole rows, fixed order inside each):
results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import PAR_MIN, entry, kernel


@kernel
def _forward_rows(Z, gamma, beta, Zn, out, mean, var, eps, i0, i1):
    t = Z.dtype.type
    m = Z.shape[1]
    eps_t = t(eps)
    for i in range(i0, i1):
        z, zn, o = Z[i], Zn[i], out[i]
        s = t(0.0)
        for j in range(m):
            s += z[j]
        mu = t(s / m)
        acc = t(0.0)
        for j in range(m):
            d = z[j] - mu
            acc += d * d
        v = t(acc / m)
        mean[i, 0] = mu
        var[i, 0] = v
        den = np.sqrt(v + eps_t)
        g, b = gamma[i, 0], beta[i, 0]
        for j in range(m):
            x = (z[j] - mu) / den
            zn[j] = x
            o[j] = g * x + b


@kernel
def _inference_rows(Z, gamma, beta, mean, var, out, eps, i0, i1):
    t = Z.dtype.type
    eps_t = t(eps)
    for i in range(i0, i1):
        z, o = Z[i], out[i]
        mu, den = mean[i, 0], np.sqrt(var[i, 0] + eps_t)
        g, b = gamma[i, 0], beta[i, 0]
        for j in range(z.shape[0]):
            o[j] = g * ((z[j] - mu) / den) + b


@kernel
def _backward_rows(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps, i0, i1):
    t = dout.dtype.type
    m = dout.shape[1]
    eps_t = t(eps)
    for i in range(i0, i1):
        d, zn, dz = dout[i], Zn[i], dZ[i]
        sb = t(0.0)
        sg = t(0.0)
        for j in range(m):
            sb += d[j]
            sg += d[j] * zn[j]
        db = t(sb / m)
        dg = t(sg / m)
        dbeta[i, 0] = db
        dgamma[i, 0] = dg
        k = gamma[i, 0] / np.sqrt(var[i, 0] + eps_t)
        for j in range(m):
            dz[j] = k * (d[j] - db - zn[j] * dg)


@entry("in in in out out out out float", parallel=True)
def _forward(Z, gamma, beta, Zn, out, mean, var, eps):
    n, m = Z.shape
    if n * m >= PAR_MIN and n > 1:
        for i in prange(n):
            r = np.int64(i)
            _forward_rows(Z, gamma, beta, Zn, out, mean, var, eps, r, r + 1)
    else:
        _forward_rows(Z, gamma, beta, Zn, out, mean, var, eps, np.int64(0), np.int64(n))


@entry("in in in in in out float", parallel=True)
def _inference(Z, gamma, beta, mean, var, out, eps):
    n, m = Z.shape
    if n * m >= PAR_MIN and n > 1:
        for i in prange(n):
            r = np.int64(i)
            _inference_rows(Z, gamma, beta, mean, var, out, eps, r, r + 1)
    else:
        _inference_rows(Z, gamma, beta, mean, var, out, eps, np.int64(0), np.int64(n))


@entry("in in in in out out out float", parallel=True)
def _backward(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps):
    n, m = dout.shape
    if n * m >= PAR_MIN and n > 1:
        for i in prange(n):
            r = np.int64(i)
            _backward_rows(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps, r, r + 1)
    else:
        _backward_rows(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps, np.int64(0), np.int64(n))


def batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, eps):
    arrays = (Z, gamma, beta, Zn, out, mean, var)
    _forward.pick(Z.dtype, *arrays)(*arrays, float(eps))


def batchnorm_inference(Z, gamma, beta, mean, var, out, eps):
    arrays = (Z, gamma, beta, mean, var, out)
    _inference.pick(Z.dtype, *arrays)(*arrays, float(eps))


def batchnorm_backward(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps):
    arrays = (dout, Zn, gamma, var, dZ, dgamma, dbeta)
    _backward.pick(dout.dtype, *arrays)(*arrays, float(eps))
