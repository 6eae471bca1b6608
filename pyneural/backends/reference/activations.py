"""Reference activations: readable NumPy, the oracle for the other backends."""

from __future__ import annotations

import numpy as np

from ..contract import (
    ACT_IDENTITY,
    ACT_LEAKY_RELU,
    ACT_RELU,
    ACT_SIGMOID,
    ACT_SOFTMAX,
    ACT_TANH,
)


def _sigmoid(Z, out):
    # Stable on both tails: exp is only ever taken of a non-positive number.
    e = np.exp(-np.abs(Z))
    np.divide(1.0, 1.0 + e, out=out)
    neg = Z < 0
    out[neg] = e[neg] / (1.0 + e[neg])


def activation_forward(Z, A, act, alpha):
    if act == ACT_IDENTITY:
        A[...] = Z
    elif act == ACT_SIGMOID:
        _sigmoid(Z, A)
    elif act == ACT_TANH:
        np.tanh(Z, out=A)
    elif act == ACT_RELU:
        A[...] = np.where(Z > 0, Z, 0)
    elif act == ACT_LEAKY_RELU:
        A[...] = np.where(Z > 0, Z, alpha * Z)
    elif act == ACT_SOFTMAX:
        e = np.exp(Z - Z.max(axis=0, keepdims=True))
        A[...] = e / e.sum(axis=0, keepdims=True)
    else:
        raise ValueError(f"unknown activation code {act}")


def activation_backward(dA, Z, A, dZ, act, alpha):
    if act == ACT_IDENTITY:
        dZ[...] = dA
    elif act == ACT_SIGMOID:
        dZ[...] = dA * A * (1 - A)
    elif act == ACT_TANH:
        dZ[...] = dA * (1 - A * A)
    elif act == ACT_RELU:
        dZ[...] = np.where(Z > 0, dA, 0)
    elif act == ACT_LEAKY_RELU:
        dZ[...] = np.where(Z > 0, dA, alpha * dA)
    elif act == ACT_SOFTMAX:
        dZ[...] = A * (dA - (dA * A).sum(axis=0, keepdims=True))
    else:
        raise ValueError(f"unknown activation code {act}")
