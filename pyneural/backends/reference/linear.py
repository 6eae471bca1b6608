"""Reference linear layer: the course's ``Z = W·A + b`` and its gradients."""

from __future__ import annotations

import numpy as np

from .activations import activation_forward


def linear_forward(W, A_prev, b, Z, A, act, alpha):
    np.matmul(W, A_prev, out=Z)
    Z += b
    activation_forward(Z, A, act, alpha)


def linear_backward(dZ, A_prev, W, dW, db, dA_prev, lambd):
    m = A_prev.shape[1]
    dW[...] = (dZ @ A_prev.T) / m + (lambd / m) * W
    db[...] = dZ.sum(axis=1, keepdims=True) / m
    if dA_prev is not None:
        np.matmul(W.T, dZ, out=dA_prev)


def output_delta(AL, Y, dZ):
    np.subtract(AL, Y, out=dZ)


def output_delta_labels(AL, labels, dZ):
    dZ[...] = AL
    dZ[labels, np.arange(AL.shape[1])] -= 1
