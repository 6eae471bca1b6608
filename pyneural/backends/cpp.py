"""The ``cpp`` backend: the compiled C++17/OpenMP core (:mod:`pyneural._core`).

Each op forwards to the extension with the contract's parameter names and order (see
:mod:`pyneural.backends.contract`). Importing this module raises ``ImportError`` when the
core was not built, which backend selection reports as the fallback reason.
"""

from __future__ import annotations

from .. import _core

NAME = "cpp"

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF

__all__ = [
    "activation_backward",
    "activation_forward",
    "adam_update",
    "batchnorm_backward",
    "batchnorm_forward",
    "batchnorm_inference",
    "bce_cost",
    "build_info",
    "dropout_apply",
    "dropout_forward",
    "gd_update",
    "get_num_threads",
    "linear_backward",
    "linear_forward",
    "momentum_update",
    "mse_cost",
    "output_delta",
    "output_delta_labels",
    "rmsprop_update",
    "set_num_threads",
    "softmax_ce_cost",
    "softmax_ce_labels_cost",
    "sum_squares",
]


def activation_forward(Z, A, act, alpha):
    _core.activation_forward(Z, A, act, alpha)


def activation_backward(dA, Z, A, dZ, act, alpha):
    _core.activation_backward(dA, Z, A, dZ, act, alpha)


def linear_forward(W, A_prev, b, Z, A, act, alpha):
    _core.linear_forward(W, A_prev, b, Z, A, act, alpha)


def linear_backward(dZ, A_prev, W, dW, db, dA_prev, lambd):
    _core.linear_backward(dZ, A_prev, W, dW, db, dA_prev, lambd)


def output_delta(AL, Y, dZ):
    _core.output_delta(AL, Y, dZ)


def output_delta_labels(AL, labels, dZ):
    _core.output_delta_labels(AL, labels, dZ)


def bce_cost(AL, Y):
    return _core.bce_cost(AL, Y)


def softmax_ce_cost(AL, Y):
    return _core.softmax_ce_cost(AL, Y)


def softmax_ce_labels_cost(AL, labels):
    return _core.softmax_ce_labels_cost(AL, labels)


def mse_cost(AL, Y):
    return _core.mse_cost(AL, Y)


def sum_squares(W):
    return _core.sum_squares(W)


def dropout_forward(A, out, mask, keep_prob, seed, step, layer):
    # Philox takes the seed's low 64 bits and step/layer's low 32 (two's complement for
    # negatives), exactly as reference.philox does with Python ints.
    _core.dropout_forward(
        A, out, mask, keep_prob, int(seed) & _MASK64, int(step) & _MASK32, int(layer) & _MASK32
    )


def dropout_apply(A, mask, out, keep_prob):
    _core.dropout_apply(A, mask, out, keep_prob)


def batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, eps):
    _core.batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, eps)


def batchnorm_inference(Z, gamma, beta, mean, var, out, eps):
    _core.batchnorm_inference(Z, gamma, beta, mean, var, out, eps)


def batchnorm_backward(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps):
    _core.batchnorm_backward(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps)


def gd_update(param, grad, lr):
    _core.gd_update(param, grad, lr)


def momentum_update(param, grad, v, lr, beta):
    _core.momentum_update(param, grad, v, lr, beta)


def rmsprop_update(param, grad, s, lr, beta, eps):
    _core.rmsprop_update(param, grad, s, lr, beta, eps)


def adam_update(param, grad, v, s, lr, beta1, beta2, eps, t, eps_inside_sqrt):
    _core.adam_update(param, grad, v, s, lr, beta1, beta2, eps, t, eps_inside_sqrt)


def set_num_threads(n: int) -> None:
    """Threads for every parallel kernel of the core (process-wide; results do not depend on it)."""
    _core.set_num_threads(n)


def get_num_threads() -> int:
    return _core.get_num_threads()


def build_info() -> dict:
    """Compiler, C++ standard, OpenMP and SIMD details of the compiled core."""
    return _core.build_info()
