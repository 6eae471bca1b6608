"""The kernels as users call them: validated, allocating, dispatched to the active backend.

Every function checks and converts its input once (see :mod:`pyneural._validation`),
allocates the outputs, and makes one call into the backend chosen by ``backend=`` or the
resolution order of :mod:`pyneural.backends`. Inputs are never modified, except by the
``*_update`` functions, whose purpose is to update ``param`` and the optimizer state in
place.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_float,
    as_labels,
    cast,
    check_finite,
    check_number,
    check_prob,
    common_dtype,
)
from .backends import ACTIVATIONS, get_backend

__all__ = [
    "activation_backward",
    "activation_code",
    "activation_forward",
    "adam_update",
    "batchnorm_backward",
    "batchnorm_forward",
    "batchnorm_inference",
    "cost",
    "dropout_apply",
    "dropout_forward",
    "gd_update",
    "linear_backward",
    "linear_forward",
    "momentum_update",
    "output_delta",
    "rmsprop_update",
    "sum_squares",
]

LOSSES = ("binary_crossentropy", "categorical_crossentropy", "mse")
_LOSS_ALIASES = {
    "bce": "binary_crossentropy",
    "binary_cross_entropy": "binary_crossentropy",
    "cross_entropy": "binary_crossentropy",
    "categorical_cross_entropy": "categorical_crossentropy",
    "softmax_cross_entropy": "categorical_crossentropy",
    "cce": "categorical_crossentropy",
    "mean_squared_error": "mse",
}


def activation_code(name) -> int:
    """Integer code of an activation name (``"relu"``, ``"sigmoid"``, ...); raises ValueError."""
    if isinstance(name, str):
        key = name.lower().replace("-", "_")
        key = {"linear": "identity", "none": "identity", "leakyrelu": "leaky_relu"}.get(key, key)
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]
    raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")


def loss_name(loss) -> str:
    if isinstance(loss, str):
        key = loss.lower()
        key = _LOSS_ALIASES.get(key, key)
        if key in LOSSES:
            return key
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def _alpha(alpha) -> float:
    return check_number(alpha, "alpha")


# ---------------------------------------------------------------- activations and layers


def activation_forward(Z, activation="relu", *, alpha=0.01, backend=None):
    """``A = g(Z)`` for ``Z`` of shape ``(n, m)``; softmax normalises each column."""
    act = activation_code(activation)
    Z = as_float(Z, "Z")
    A = np.empty(Z.shape, Z.dtype)
    get_backend(backend).activation_forward(Z, A, act, _alpha(alpha))
    return A


def activation_backward(dA, Z, activation="relu", *, A=None, alpha=0.01, backend=None):
    """``dZ = dA * g'(Z)``; pass the forward output ``A`` to avoid recomputing it."""
    act = activation_code(activation)
    dA = as_float(dA, "dA")
    Z = as_float(Z, "Z")
    if dA.shape != Z.shape:
        raise ValueError(f"dA must have the shape of Z {Z.shape}, got {dA.shape}")
    dt = common_dtype(dA, Z)
    dA, Z = cast(dA, dt), cast(Z, dt)
    be = get_backend(backend)
    alpha = _alpha(alpha)
    if A is None:
        A = np.empty(Z.shape, dt)
        be.activation_forward(Z, A, act, alpha)
    else:
        A = cast(as_float(A, "A"), dt)
        if A.shape != Z.shape:
            raise ValueError(f"A must have the shape of Z {Z.shape}, got {A.shape}")
    dZ = np.empty(Z.shape, dt)
    be.activation_backward(dA, Z, A, dZ, act, alpha)
    return dZ


def _check_linear(W, A_prev, b):
    W = as_float(W, "W")
    A_prev = as_float(A_prev, "A_prev")
    b = as_float(b, "b", ndim=None)
    n, k = W.shape
    if A_prev.shape[0] != k:
        raise ValueError(
            f"A_prev must have shape ({k}, m) to match W of shape {W.shape}, got {A_prev.shape}"
        )
    if b.ndim == 1 and b.shape[0] == n:
        b = b.reshape(n, 1)
    elif b.ndim == 0:
        b = np.full((n, 1), b, dtype=b.dtype)
    if b.shape != (n, 1):
        raise ValueError(f"b must have shape ({n}, 1) to match W of shape {W.shape}, got {b.shape}")
    dt = common_dtype(W, A_prev, b)
    return cast(W, dt), cast(A_prev, dt), cast(b, dt)


def linear_forward(W, A_prev, b, activation="identity", *, alpha=0.01, backend=None):
    """Fused ``Z = W @ A_prev + b`` and ``A = g(Z)``; returns ``(Z, A)``."""
    act = activation_code(activation)
    W, A_prev, b = _check_linear(W, A_prev, b)
    shape = (W.shape[0], A_prev.shape[1])
    Z = np.empty(shape, W.dtype)
    A = np.empty(shape, W.dtype)
    get_backend(backend).linear_forward(W, A_prev, b, Z, A, act, _alpha(alpha))
    return Z, A


def linear_backward(dZ, A_prev, W, lambd=0.0, *, need_dA_prev=True, backend=None):
    """Returns ``(dA_prev, dW, db)`` with ``dW = dZ A_prevᵀ/m + (λ/m) W`` and ``db = Σ dZ/m``.

    ``dA_prev`` is ``None`` when ``need_dA_prev`` is false (the first layer).
    """
    W = as_float(W, "W")
    A_prev = as_float(A_prev, "A_prev")
    dZ = as_float(dZ, "dZ")
    n, k = W.shape
    m = A_prev.shape[1]
    if A_prev.shape[0] != k:
        raise ValueError(
            f"A_prev must have shape ({k}, m) to match W of shape {W.shape}, got {A_prev.shape}"
        )
    if dZ.shape != (n, m):
        raise ValueError(f"dZ must have shape ({n}, {m}) (W rows, A_prev columns), got {dZ.shape}")
    if m == 0:
        raise ValueError("A_prev must have at least one column (m >= 1)")
    lambd = check_number(lambd, "lambd", minimum=0.0)
    dt = common_dtype(W, A_prev, dZ)
    W, A_prev, dZ = cast(W, dt), cast(A_prev, dt), cast(dZ, dt)
    dW = np.empty((n, k), dt)
    db = np.empty((n, 1), dt)
    dA_prev = np.empty((k, m), dt) if need_dA_prev else None
    get_backend(backend).linear_backward(dZ, A_prev, W, dW, db, dA_prev, lambd)
    return dA_prev, dW, db


# ------------------------------------------------------------------------------- costs


def _check_targets(AL, Y, loss):
    """Validate ``AL`` and ``Y``; returns (AL, Y-or-labels, is_labels)."""
    AL = as_float(AL, "AL")
    C, m = AL.shape
    if m == 0:
        raise ValueError("AL must have at least one column (m >= 1)")
    Yarr = np.asarray(Y)
    if loss == "categorical_crossentropy" and (Yarr.ndim == 1 or (Yarr.ndim == 2 and Yarr.shape[0] == 1 and C > 1)):
        return AL, as_labels(Yarr, "Y", m, C), True
    Y = as_float(Yarr, "Y")
    if Y.shape != AL.shape:
        raise ValueError(f"Y must have the shape of AL {AL.shape}, got {Y.shape}")
    check_finite(Y, "Y")
    return AL, cast(Y, AL.dtype), False


def cost(AL, Y, loss="binary_crossentropy", *, reduction="mean", backend=None) -> float:
    """Cost of predictions ``AL`` against targets ``Y``, averaged (or summed) over examples.

    ``binary_crossentropy``: ``-(1/m) Σ y log a + (1-y) log(1-a)``;
    ``categorical_crossentropy``: ``-(1/m) Σ y log a`` with ``Y`` one-hot ``(C, m)`` or
    integer labels ``(m,)``; ``mse``: ``(1/m) Σ ½ (a - y)²``. Logs are clamped, so a
    saturated output gives a large finite cost, never ``inf``.
    """
    loss = loss_name(loss)
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    AL, Y, is_labels = _check_targets(AL, Y, loss)
    be = get_backend(backend)
    if loss == "binary_crossentropy":
        total = be.bce_cost(AL, Y)
    elif is_labels:
        total = be.softmax_ce_labels_cost(AL, Y)
    elif loss == "categorical_crossentropy":
        total = be.softmax_ce_cost(AL, Y)
    else:
        total = 0.5 * be.mse_cost(AL, Y)
    return total / AL.shape[1] if reduction == "mean" else total


def output_delta(AL, Y, *, backend=None):
    """``dZ = AL - Y`` (``Y`` one-hot/binary ``(C, m)``, or integer labels ``(m,)``)."""
    AL = as_float(AL, "AL")
    is_labels = np.ndim(Y) == 1 or (np.ndim(Y) == 2 and np.shape(Y)[0] == 1 and AL.shape[0] > 1)
    AL, Y, is_labels = _check_targets(
        AL, Y, "categorical_crossentropy" if is_labels else "binary_crossentropy"
    )
    dZ = np.empty(AL.shape, AL.dtype)
    be = get_backend(backend)
    if is_labels:
        be.output_delta_labels(AL, Y, dZ)
    else:
        be.output_delta(AL, Y, dZ)
    return dZ


def sum_squares(W, *, backend=None) -> float:
    """``Σ W²`` (for the L2 term ``λ/(2m) Σ‖W‖²``), accumulated in float64."""
    W = as_float(W, "W", ndim=None)
    if W.ndim != 2:
        W = W.reshape(W.shape[0] if W.ndim else 1, -1) if W.size else W.reshape(0, 0)
    return get_backend(backend).sum_squares(W)


# ----------------------------------------------------------------------------- dropout


def _check_seed(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a non-negative int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value}")
    return int(value)


def dropout_forward(A, keep_prob, seed, step=0, layer=0, *, backend=None):
    """Inverted dropout: returns ``(A * mask / keep_prob, mask)`` with a uint8 mask that
    depends only on ``(seed, step, layer)`` (Philox4x32-10), not on the thread count."""
    A = as_float(A, "A")
    keep_prob = check_prob(keep_prob, "keep_prob")
    seed, step, layer = (_check_seed(v, n) for v, n in ((seed, "seed"), (step, "step"), (layer, "layer")))
    out = np.empty(A.shape, A.dtype)
    mask = np.empty(A.shape, np.uint8)
    get_backend(backend).dropout_forward(A, out, mask, keep_prob, seed, step, layer)
    return out, mask


def dropout_apply(A, mask, keep_prob, *, backend=None):
    """``A * mask / keep_prob`` for a given 0/1 mask (the backward pass uses ``dA``)."""
    A = as_float(A, "A")
    keep_prob = check_prob(keep_prob, "keep_prob")
    mask = np.asarray(mask)
    if mask.shape != A.shape:
        raise ValueError(f"mask must have the shape of A {A.shape}, got {mask.shape}")
    if mask.dtype != np.uint8:
        if mask.dtype.kind not in "biuf":
            raise TypeError(f"mask must hold 0/1 values, got dtype {mask.dtype}")
        mask = mask.astype(np.uint8)
    out = np.empty(A.shape, A.dtype)
    get_backend(backend).dropout_apply(A, mask, out, keep_prob)
    return out


# ------------------------------------------------------------------- optimizer updates


def _flat_pair(param, grad, states):
    """1-D views of ``param``, ``grad`` and state arrays for the in-place kernels."""
    if not isinstance(param, np.ndarray) or param.dtype not in (np.float32, np.float64):
        raise TypeError("param must be a float32 or float64 ndarray (it is updated in place)")
    if not param.flags.writeable:
        raise ValueError("param is read-only; it is updated in place")
    if not (param.flags.c_contiguous or param.flags.f_contiguous):
        raise ValueError("param must be contiguous (C or F order) to be updated in place")
    order = "C" if param.flags.c_contiguous else "F"
    flat = param.reshape(-1, order=order)
    grad = as_float(grad, "grad", ndim=None)
    if grad.shape != param.shape:
        raise ValueError(f"grad must have the shape of param {param.shape}, got {grad.shape}")
    g = np.ascontiguousarray(cast(grad, param.dtype).reshape(-1, order=order))
    flats = []
    for name, s in states:
        if not isinstance(s, np.ndarray) or s.shape != param.shape or s.dtype != param.dtype:
            raise ValueError(f"{name} must be an ndarray with the shape and dtype of param")
        if not s.flags.writeable or not (s.flags.c_contiguous if order == "C" else s.flags.f_contiguous):
            raise ValueError(f"{name} must be writeable and laid out like param ({order} order)")
        flats.append(s.reshape(-1, order=order))
    return flat, g, flats


def _lr(lr):
    return check_number(lr, "learning_rate", minimum=0.0)


def _beta(beta, name):
    b = check_number(beta, name, minimum=0.0)
    if b >= 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
    return b


def gd_update(param, grad, lr, *, backend=None):
    """In place: ``param -= lr * grad``."""
    p, g, _ = _flat_pair(param, grad, ())
    get_backend(backend).gd_update(p, g, _lr(lr))


def momentum_update(param, grad, v, lr, beta=0.9, *, backend=None):
    """In place: ``v = βv + (1-β)grad``; ``param -= lr·v``."""
    p, g, (vf,) = _flat_pair(param, grad, (("v", v),))
    get_backend(backend).momentum_update(p, g, vf, _lr(lr), _beta(beta, "beta"))


def rmsprop_update(param, grad, s, lr, beta=0.999, epsilon=1e-8, *, backend=None):
    """In place: ``s = βs + (1-β)grad²``; ``param -= lr·grad/(√s + ε)``."""
    p, g, (sf,) = _flat_pair(param, grad, (("s", s),))
    eps = check_number(epsilon, "epsilon", minimum=0.0)
    get_backend(backend).rmsprop_update(p, g, sf, _lr(lr), _beta(beta, "beta"), eps)


def adam_update(param, grad, v, s, t, lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                *, eps_inside_sqrt=False, backend=None):
    """In place Adam step ``t`` (``t >= 1``) with bias correction; ε outside the square root
    unless ``eps_inside_sqrt`` (the course code's variant)."""
    p, g, (vf, sf) = _flat_pair(param, grad, (("v", v), ("s", s)))
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)) or t < 1:
        raise ValueError(f"t must be an int >= 1 (the Adam step count), got {t!r}")
    eps = check_number(epsilon, "epsilon", minimum=0.0)
    get_backend(backend).adam_update(
        p, g, vf, sf, _lr(lr), _beta(beta1, "beta1"), _beta(beta2, "beta2"), eps, int(t),
        bool(eps_inside_sqrt),
    )


# -------------------------------------------------------------------------- batch norm


def _check_bn_vectors(n, dt, **vectors):
    out = []
    for name, v in vectors.items():
        v = as_float(v, name, ndim=None)
        if v.shape == (n,):
            v = v.reshape(n, 1)
        if v.shape != (n, 1):
            raise ValueError(f"{name} must have shape ({n}, 1), got {v.shape}")
        out.append(cast(v, dt))
    return out


def batchnorm_forward(Z, gamma, beta, epsilon=1e-5, *, backend=None):
    """Batch normalisation over the columns (examples) of ``Z (n, m)`` with batch statistics.
    Returns ``(out, Zn, mean, var)``: ``out = gamma * Zn + beta``, ``Zn = (Z - mean)/√(var + ε)``."""
    Z = as_float(Z, "Z")
    n = Z.shape[0]
    gamma, beta = _check_bn_vectors(n, Z.dtype, gamma=gamma, beta=beta)
    eps = check_number(epsilon, "epsilon", minimum=0.0, strict=True)
    out, Zn = np.empty(Z.shape, Z.dtype), np.empty(Z.shape, Z.dtype)
    mean, var = np.empty((n, 1), Z.dtype), np.empty((n, 1), Z.dtype)
    get_backend(backend).batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, eps)
    return out, Zn, mean, var


def batchnorm_inference(Z, gamma, beta, mean, var, epsilon=1e-5, *, backend=None):
    """``gamma * (Z - mean)/√(var + ε) + beta`` with given (running) statistics."""
    Z = as_float(Z, "Z")
    n = Z.shape[0]
    gamma, beta, mean, var = _check_bn_vectors(n, Z.dtype, gamma=gamma, beta=beta, mean=mean, var=var)
    eps = check_number(epsilon, "epsilon", minimum=0.0, strict=True)
    out = np.empty(Z.shape, Z.dtype)
    get_backend(backend).batchnorm_inference(Z, gamma, beta, mean, var, out, eps)
    return out


def batchnorm_backward(dout, Zn, gamma, var, epsilon=1e-5, *, backend=None):
    """Returns ``(dZ, dgamma, dbeta)`` (per-example ``dZ``, batch-mean parameter gradients)."""
    dout = as_float(dout, "dout")
    Zn = cast(as_float(Zn, "Zn"), dout.dtype)
    if Zn.shape != dout.shape:
        raise ValueError(f"Zn must have the shape of dout {dout.shape}, got {Zn.shape}")
    n = dout.shape[0]
    gamma, var = _check_bn_vectors(n, dout.dtype, gamma=gamma, var=var)
    eps = check_number(epsilon, "epsilon", minimum=0.0, strict=True)
    dZ = np.empty(dout.shape, dout.dtype)
    dgamma, dbeta = np.empty((n, 1), dout.dtype), np.empty((n, 1), dout.dtype)
    get_backend(backend).batchnorm_backward(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps)
    return dZ, dgamma, dbeta
