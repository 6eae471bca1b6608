"""Backward propagation as in the course, with the ``1/m`` and the L2 term fused into
``linear_backward``. The output layer's ``dZ`` is ``AL - Y`` for sigmoid or softmax with
cross-entropy, so saturated outputs (AL of exactly 0 or 1) never produce NaN."""

from __future__ import annotations

import numpy as np

from .. import kernels
from .._validation import as_float
from ..losses import BinaryCrossentropy

__all__ = ["L_model_backward", "linear_activation_backward", "linear_backward"]


def linear_backward(dZ, cache, lambd=0.0):
    """Returns ``(dA_prev, dW, db)``: ``dW = dZ·A_prevᵀ/m + (λ/m)W``, ``db = Σ dZ/m``,
    ``dA_prev = Wᵀ·dZ``; ``cache = (A_prev, W, b)``."""
    A_prev, W, _ = cache
    return kernels.linear_backward(dZ, A_prev, W, lambd)


def linear_activation_backward(dA, cache, activation="relu", lambd=0.0, alpha=0.01):
    """``dZ = dA * g'(Z)`` then :func:`linear_backward`; ``cache = ((A_prev, W, b), Z)``."""
    linear_cache, Z = cache
    dZ = kernels.activation_backward(dA, Z, activation, alpha=alpha)
    return linear_backward(dZ, linear_cache, lambd)


def L_model_backward(AL, Y, caches, hidden_activation="relu", output_activation="sigmoid",
                     lambd=0.0, loss="cross_entropy"):
    """Gradients ``{"dA{l-1}", "dW{l}", "db{l}"}`` for every layer, as the course's
    ``L_model_backward``. ``Y`` is ``(1, m)`` / one-hot ``(C, m)`` (or integer labels
    ``(m,)`` with a softmax output). ``loss`` is "cross_entropy" or "mse" (half squared
    error). ``lambd`` adds the L2 gradient ``(λ/m)W``."""
    if not isinstance(caches, (list, tuple)) or not caches:
        raise ValueError("caches must be the non-empty list returned by L_model_forward")
    AL = as_float(AL, "AL")
    L = len(caches)
    grads = {}
    out = str(output_activation).lower()
    if loss not in ("cross_entropy", "mse"):
        raise ValueError(f"loss must be 'cross_entropy' or 'mse', got {loss!r}")
    Yarr = np.asarray(Y)
    direct = (loss == "cross_entropy" and out in ("sigmoid", "softmax")) or (
        loss == "mse" and out in ("identity", "linear")
    )
    if direct:
        if not (out == "softmax" and Yarr.ndim == 1) and Yarr.size == AL.size:
            Yarr = Yarr.reshape(AL.shape)  # as the course does
        dZ = kernels.output_delta(AL, Yarr)
        dA_prev, dW, db = linear_backward(dZ, caches[L - 1][0], lambd)
    else:
        if Yarr.size != AL.size:
            raise ValueError(f"Y must have the shape of AL {AL.shape}, got {Yarr.shape}")
        Yf = as_float(Yarr.reshape(AL.shape), "Y").astype(AL.dtype, copy=False)
        dAL = (AL - Yf) if loss == "mse" else BinaryCrossentropy().output_dA(AL, Yf)
        dA_prev, dW, db = linear_activation_backward(dAL, caches[L - 1], output_activation, lambd)
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = dA_prev, dW, db
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = linear_activation_backward(grads["dA" + str(l + 1)], caches[l], hidden_activation, lambd)
        grads["dA" + str(l)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = dA_prev, dW, db
    return grads
