"""The kernel contract: one op table that every backend implements.

Each backend (``numpy`` reference, ``numba``, ``cpp``) is a module exposing exactly the
functions below, with the same parameter names and order. The functions here are the
specification (their docstrings are the contract); ``tests/backends/test_contract.py``
checks that every backend matches these signatures.

Rules every kernel obeys
------------------------
* Arrays are NumPy ``ndarray`` of dtype float32 or float64; all float arrays of one call
  share one dtype. 2-D arrays may have any element-aligned strides (C order, F order,
  slices, negative strides). The Python boundary (:mod:`pyneural.kernels`) validates
  shapes, dtypes and alignment before calling a kernel; kernels trust their inputs.
* Kernels write into caller-provided outputs and return ``None`` (costs return a Python
  float). They never allocate on the hot path, never mutate inputs, and outputs never
  alias inputs unless a docstring says so.
* Reductions run in a fixed order that does not depend on the thread count, so results
  are identical for any number of threads.
* ``act`` is an activation code from :data:`ACTIVATIONS`; ``alpha`` is the leaky-ReLU slope.
* Layout is the course's: examples are columns. ``Z``, ``A`` are ``(n, m)``; ``W`` is
  ``(n, n_prev)``; ``b`` is ``(n, 1)``; softmax normalises each column (axis 0).
"""

from __future__ import annotations

import inspect

#: Activation name -> integer code passed to kernels.
ACTIVATIONS = {
    "identity": 0,
    "sigmoid": 1,
    "tanh": 2,
    "relu": 3,
    "leaky_relu": 4,
    "softmax": 5,
}
ACT_IDENTITY, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_LEAKY_RELU, ACT_SOFTMAX = range(6)


def activation_forward(Z, A, act, alpha):
    """``A[:] = g(Z)``.

    identity: z; sigmoid: 1/(1+e^-z) computed stably (e^z/(1+e^z) for z<0);
    tanh; relu: z if z>0 else 0; leaky_relu: z if z>0 else alpha*z;
    softmax: per column, exp(z - max_col) / sum_col exp(z - max_col).
    ``Z``, ``A`` are ``(n, m)``.
    """


def activation_backward(dA, Z, A, dZ, act, alpha):
    """``dZ[:] = dA * g'(Z)`` where ``A = g(Z)`` is the forward output.

    identity: dA; sigmoid: dA*A*(1-A); tanh: dA*(1-A*A); relu: dA if Z>0 else 0
    (ReLU'(0) = 0, the course's ``Z > 0`` mask); leaky_relu: dA if Z>0 else alpha*dA;
    softmax: per column ``A * (dA - sum_k dA_k A_k)`` (the full Jacobian product).
    """


def linear_forward(W, A_prev, b, Z, A, act, alpha):
    """``Z[:] = W @ A_prev + b`` (b broadcast over columns) and ``A[:] = g(Z)``.

    ``W`` is ``(n, k)``, ``A_prev`` ``(k, m)``, ``b`` ``(n, 1)``, ``Z`` and ``A`` ``(n, m)``.
    """


def linear_backward(dZ, A_prev, W, dW, db, dA_prev, lambd):
    """Gradients of a linear layer, with the ``1/m`` and the L2 term fused.

    ``m = A_prev.shape[1]``; ``dW[:] = dZ @ A_prev.T / m + (lambd / m) * W``;
    ``db[:] = sum(dZ, axis=1) / m``; ``dA_prev[:] = W.T @ dZ``, skipped when
    ``dA_prev`` is ``None`` (the first layer needs no input gradient).
    ``dZ`` is ``(n, m)``, ``A_prev`` ``(k, m)``, ``W`` and ``dW`` ``(n, k)``, ``db`` ``(n, 1)``.
    """


def output_delta(AL, Y, dZ):
    """``dZ[:] = AL - Y``: the output layer's dZ for sigmoid + binary cross-entropy,
    softmax + categorical cross-entropy (one-hot ``Y``) and identity + half-MSE."""


def output_delta_labels(AL, labels, dZ):
    """``dZ[:] = AL - onehot(labels)`` for softmax + cross-entropy with integer labels.

    ``labels`` is a 1-D int64 array of length ``m`` with values in ``[0, C)``.
    """


def bce_cost(AL, Y):
    """Sum over all elements of ``-(y log a + (1-y) log(1-a))``, as a Python float.

    Logs are clamped at the smallest normal number of the dtype, so ``a`` of exactly 0
    or 1 gives a large finite cost, never ``inf``/``nan``. Accumulated in float64.
    """


def softmax_ce_cost(AL, Y):
    """Sum over all elements of ``-y log a`` (terms with ``y == 0`` contribute 0; log
    clamped as in :func:`bce_cost`), as a Python float accumulated in float64."""


def softmax_ce_labels_cost(AL, labels):
    """Sum over columns ``j`` of ``-log AL[labels[j], j]`` (clamped), as a Python float."""


def mse_cost(AL, Y):
    """Sum over all elements of ``(a - y)**2``, as a Python float accumulated in float64."""


def sum_squares(W):
    """Sum of the squares of all elements of ``W`` (for the L2 term), float64 accumulation."""


def dropout_forward(A, out, mask, keep_prob, seed, step, layer):
    """Inverted dropout, mask generation and apply in one pass.

    ``mask[i, j] = philox_u32(seed, step, layer, i * m + j) < floor(keep_prob * 2**32)``
    (uint8 0/1, C-contiguous ``(n, m)``), ``out[:] = A * mask / keep_prob``. The mask
    depends only on ``(seed, step, layer)`` and the logical element index, never on
    memory layout or thread count. See :mod:`pyneural.backends.reference.philox`.
    """


def dropout_apply(A, mask, out, keep_prob):
    """``out[:] = A * mask / keep_prob`` for a given uint8 mask (the backward pass, or a
    course-compatible mask drawn elsewhere)."""


def batchnorm_forward(Z, gamma, beta, Zn, out, mean, var, eps):
    """Batch normalisation in training (the notes' algorithm), per feature row over the batch.

    ``mean[:] = (1/m) Σ_j Z[:, j]``; ``var[:] = (1/m) Σ_j (Z[:, j] - mean)²`` (two passes);
    ``Zn[:] = (Z - mean) / sqrt(var + eps)``; ``out[:] = gamma * Zn + beta``.
    ``Z``, ``Zn``, ``out`` are ``(n, m)``; ``gamma``, ``beta``, ``mean``, ``var`` are ``(n, 1)``.
    """


def batchnorm_inference(Z, gamma, beta, mean, var, out, eps):
    """Batch normalisation at test time with given (running) statistics:
    ``out[:] = gamma * (Z - mean) / sqrt(var + eps) + beta``."""


def batchnorm_backward(dout, Zn, gamma, var, dZ, dgamma, dbeta, eps):
    """Gradients of :func:`batchnorm_forward`, in the pipeline's convention: ``dout`` and
    ``dZ`` are per-example gradients (``m`` times ``∂J/∂·``, as ``AL - Y`` is), parameter
    gradients are means over the batch (as ``linear_backward``'s ``dW`` and ``db``).

    ``dbeta[:] = (1/m) Σ_j dout``; ``dgamma[:] = (1/m) Σ_j dout * Zn``;
    ``dZ[:] = gamma / sqrt(var + eps) * (dout - dbeta - Zn * dgamma)``.
    """


def gd_update(param, grad, lr):
    """In place: ``param -= lr * grad``. 1-D contiguous arrays of equal length."""


def momentum_update(param, grad, v, lr, beta):
    """In place: ``v = beta*v + (1-beta)*grad``; ``param -= lr * v``."""


def rmsprop_update(param, grad, s, lr, beta, eps):
    """In place: ``s = beta*s + (1-beta)*grad**2``; ``param -= lr * grad / (sqrt(s) + eps)``."""


def adam_update(param, grad, v, s, lr, beta1, beta2, eps, t, eps_inside_sqrt):
    """In place Adam step ``t`` (t >= 1), bias-corrected.

    ``v = beta1*v + (1-beta1)*grad``; ``s = beta2*s + (1-beta2)*grad**2``;
    ``v_hat = v / (1 - beta1**t)``; ``s_hat = s / (1 - beta2**t)``;
    ``param -= lr * v_hat / (sqrt(s_hat) + eps)`` (standard Adam), or
    ``param -= lr * v_hat / sqrt(s_hat + eps)`` when ``eps_inside_sqrt`` (the course code).
    """


#: The op table, in a fixed order.
OPS = (
    "activation_forward",
    "activation_backward",
    "linear_forward",
    "linear_backward",
    "output_delta",
    "output_delta_labels",
    "bce_cost",
    "softmax_ce_cost",
    "softmax_ce_labels_cost",
    "mse_cost",
    "sum_squares",
    "dropout_forward",
    "dropout_apply",
    "batchnorm_forward",
    "batchnorm_inference",
    "batchnorm_backward",
    "gd_update",
    "momentum_update",
    "rmsprop_update",
    "adam_update",
)


def signature(name: str) -> list[str]:
    """Parameter names of op ``name``, in order."""
    return list(inspect.signature(globals()[name]).parameters)
