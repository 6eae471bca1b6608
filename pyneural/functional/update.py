"""The course's parameter updates: gradient descent, momentum, RMSprop, Adam.

Like the course's code (``parameters["W1"] = parameters["W1"] - ...``), each function
stores new arrays in the dictionaries it is given and returns them; arrays that a caller
still holds are not modified. The arithmetic is one fused kernel call per parameter.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ._params import grad_of, num_layers, param_keys

__all__ = [
    "initialize_adam",
    "initialize_rmsprop",
    "initialize_velocity",
    "update_parameters",
    "update_parameters_with_adam",
    "update_parameters_with_gd",
    "update_parameters_with_momentum",
    "update_parameters_with_rmsprop",
]


def _fresh(a) -> np.ndarray:
    """A new float array holding ``a`` (the updates then run in place on it)."""
    a = np.asarray(a)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    return np.array(a, order="C", copy=True)


def _zeros_like_params(parameters):
    L = num_layers(parameters)
    return {"d" + k: np.zeros(np.shape(parameters[k]), dtype=_fresh(parameters[k]).dtype) for k in param_keys(L)}


def update_parameters_with_gd(parameters, grads, learning_rate):
    """``W[l] := W[l] - α dW[l]``, ``b[l] := b[l] - α db[l]`` for every layer."""
    for key in param_keys(num_layers(parameters)):
        p = _fresh(parameters[key])
        kernels.gd_update(p, grad_of(grads, key, p), learning_rate)
        parameters[key] = p
    return parameters


def update_parameters(parameters, grads, learning_rate=1.2):
    """Gradient descent; the default α = 1.2 is the planar notebook's."""
    return update_parameters_with_gd(parameters, grads, learning_rate)


def initialize_velocity(parameters):
    """Momentum state ``v["dW1"], v["db1"], ...``: zeros shaped like the parameters."""
    return _zeros_like_params(parameters)


def update_parameters_with_momentum(parameters, grads, v, beta=0.9, learning_rate=0.01):
    """``v = βv + (1-β)dW``; ``W := W - α v``. Returns ``(parameters, v)``."""
    for key in param_keys(num_layers(parameters)):
        p = _fresh(parameters[key])
        vel = _fresh(v["d" + key]).astype(p.dtype, copy=False)
        kernels.momentum_update(p, grad_of(grads, key, p), vel, learning_rate, beta)
        parameters[key], v["d" + key] = p, vel
    return parameters, v


def initialize_rmsprop(parameters):
    """RMSprop state ``s["dW1"], s["db1"], ...``: zeros shaped like the parameters."""
    return _zeros_like_params(parameters)


def update_parameters_with_rmsprop(parameters, grads, s, beta=0.999, learning_rate=0.01, epsilon=1e-8):
    """``s = βs + (1-β)dW²``; ``W := W - α dW/(√s + ε)``. Returns ``(parameters, s)``."""
    for key in param_keys(num_layers(parameters)):
        p = _fresh(parameters[key])
        sq = _fresh(s["d" + key]).astype(p.dtype, copy=False)
        kernels.rmsprop_update(p, grad_of(grads, key, p), sq, learning_rate, beta, epsilon)
        parameters[key], s["d" + key] = p, sq
    return parameters, s


def initialize_adam(parameters):
    """Adam state ``(v, s)``: two dicts of zeros shaped like the parameters."""
    return _zeros_like_params(parameters), _zeros_like_params(parameters)


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9,
                                beta2=0.999, epsilon=1e-8, eps_inside_sqrt=False):
    """One Adam step ``t`` (the course increments ``t`` before each call, so it starts at 1).

    ``W := W - α v̂/(√ŝ + ε)`` with bias-corrected ``v̂ = v/(1-β1^t)``, ``ŝ = s/(1-β2^t)``:
    the standard Adam of the lectures and the paper. The course's code puts ε inside the
    square root, ``√(ŝ + ε)``; pass ``eps_inside_sqrt=True`` for that variant.
    Returns ``(parameters, v, s)``.
    """
    for key in param_keys(num_layers(parameters)):
        p = _fresh(parameters[key])
        vk = _fresh(v["d" + key]).astype(p.dtype, copy=False)
        sk = _fresh(s["d" + key]).astype(p.dtype, copy=False)
        kernels.adam_update(p, grad_of(grads, key, p), vk, sk, t, learning_rate, beta1, beta2,
                            epsilon, eps_inside_sqrt=eps_inside_sqrt)
        parameters[key], v["d" + key], s["d" + key] = p, vk, sk
    return parameters, v, s
