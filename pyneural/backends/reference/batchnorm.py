"""Reference batch normalisation (the notes' algorithm) and its gradients."""

from __future__ import annotations

import numpy as np


def batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, eps):
    mean[...] = Z.mean(axis=1, keepdims=True)
    centred = Z - mean
    var[...] = (centred * centred).mean(axis=1, keepdims=True)
    Zn[...] = centred / np.sqrt(var + Z.dtype.type(eps))
    out[...] = gamma * Zn + beta


def batchnorm_inference(Z, gamma, beta, mean, var, out, eps):
    out[...] = gamma * ((Z - mean) / np.sqrt(var + Z.dtype.type(eps))) + beta


def batchnorm_backward(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps):
    dbeta[...] = dout.mean(axis=1, keepdims=True)
    dgamma[...] = (dout * Zn).mean(axis=1, keepdims=True)
    dZ[...] = gamma / np.sqrt(var + dout.dtype.type(eps)) * (dout - dbeta - Zn * dgamma)
