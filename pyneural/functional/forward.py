"""Forward propagation as in the course: ``linear_forward``, ``linear_activation_forward``,
``L_model_forward``, each one fused call into the active backend per layer."""

from __future__ import annotations

from .. import kernels
from .._validation import as_float
from ._params import num_layers

__all__ = ["L_model_forward", "linear_activation_forward", "linear_forward"]


def linear_forward(A, W, b):
    """``Z = W·A + b``; returns ``(Z, cache)`` with ``cache = (A, W, b)``."""
    A, W, b = as_float(A, "A"), as_float(W, "W"), as_float(b, "b", ndim=None)
    Z, _ = kernels.linear_forward(W, A, b, "identity")
    return Z, (A, W, b)


def linear_activation_forward(A_prev, W, b, activation="relu", alpha=0.01):
    """``A = g(W·A_prev + b)`` in one fused kernel; returns ``(A, cache)`` with
    ``cache = ((A_prev, W, b), Z)``. ``activation`` is any of "sigmoid", "relu", "tanh",
    "leaky_relu", "softmax", "identity"."""
    A_prev, W, b = as_float(A_prev, "A_prev"), as_float(W, "W"), as_float(b, "b", ndim=None)
    Z, A = kernels.linear_forward(W, A_prev, b, activation, alpha=alpha)
    return A, ((A_prev, W, b), Z)


def L_model_forward(X, parameters, hidden_activation="relu", output_activation="sigmoid"):
    """[LINEAR -> hidden]×(L-1) -> LINEAR -> output; returns ``(AL, caches)`` with one
    ``((A_prev, W, b), Z)`` cache per layer (index 0 .. L-1), as the course does."""
    L = num_layers(parameters)
    X = as_float(X, "X")
    n_x = parameters["W1"].shape[1]
    if X.shape[0] != n_x:
        raise ValueError(f"X must have shape ({n_x}, m) to match W1 of shape {parameters['W1'].shape}, got {X.shape}")
    caches = []
    A = X
    for l in range(1, L + 1):
        act = hidden_activation if l < L else output_activation
        A, cache = linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)], act)
        caches.append(cache)
    return A, caches
