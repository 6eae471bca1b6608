"""The course's activation helpers (dnn_utils): ``A, cache = relu(Z)``; ``dZ = relu_backward(dA, cache)``.

Like the course's ``dnn_utils``, each forward returns ``(A, cache)`` with ``cache = Z``
(the logistic-regression notebook's one-value ``sigmoid(z)`` is ``sigmoid(z)[0]``).
"""

from __future__ import annotations

from .. import kernels
from .._validation import as_float

__all__ = [
    "identity",
    "identity_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "relu",
    "relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softmax_backward",
    "tanh",
    "tanh_backward",
]


def _forward(name, Z, alpha=0.01):
    Z = as_float(Z, "Z")
    return kernels.activation_forward(Z, name, alpha=alpha), Z


def _backward(name, dA, cache, alpha=0.01):
    return kernels.activation_backward(dA, cache, name, alpha=alpha)


def sigmoid(Z):
    """``A = 1 / (1 + exp(-Z))``, computed without overflow; returns ``(A, cache=Z)``."""
    return _forward("sigmoid", Z)


def sigmoid_backward(dA, cache):
    """``dZ = dA * s * (1 - s)`` with ``s = sigmoid(Z)``, ``Z = cache``."""
    return _backward("sigmoid", dA, cache)


def relu(Z):
    """``A = max(0, Z)``; returns ``(A, cache=Z)``."""
    return _forward("relu", Z)


def relu_backward(dA, cache):
    """``dZ = dA`` where ``Z > 0``, else 0 (ReLU'(0) = 0, as the course's ``Z > 0`` mask)."""
    return _backward("relu", dA, cache)


def tanh(Z):
    """``A = tanh(Z)``; returns ``(A, cache=Z)``."""
    return _forward("tanh", Z)


def tanh_backward(dA, cache):
    """``dZ = dA * (1 - tanh(Z)²)``."""
    return _backward("tanh", dA, cache)


def leaky_relu(Z, alpha=0.01):
    """``A = Z`` where ``Z > 0``, else ``alpha * Z`` (the notes' slope 0.01); ``(A, cache=Z)``."""
    return _forward("leaky_relu", Z, alpha)


def leaky_relu_backward(dA, cache, alpha=0.01):
    """``dZ = dA`` where ``Z > 0``, else ``alpha * dA``. The notes write g'(0) = 1; pyneural
    uses the ReLU convention g'(0) = alpha so both kinks agree."""
    return _backward("leaky_relu", dA, cache, alpha)


def softmax(Z):
    """Column-wise softmax, max-subtracted so large ``Z`` cannot overflow; ``(A, cache=Z)``."""
    return _forward("softmax", Z)


def softmax_backward(dA, cache):
    """``dZ = A * (dA - Σ_k dA_k A_k)`` per column (the softmax Jacobian applied to ``dA``).

    With cross-entropy the combined gradient is simply ``dZ = A - Y``, which
    :func:`L_model_backward` uses directly.
    """
    return _backward("softmax", dA, cache)


def identity(Z):
    """``A = Z``; returns ``(A, cache=Z)``."""
    return _forward("identity", Z)


def identity_backward(dA, cache):
    """``dZ = dA``."""
    return _backward("identity", dA, cache)
