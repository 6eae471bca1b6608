"""The regularisation notebook's dropout network, generalised to L layers.

Hidden layers are LINEAR -> RELU -> DROPOUT, the output LINEAR -> SIGMOID. Masks are drawn
as the course draws them, ``D = RandomState(seed).rand(*A.shape) < keep_prob`` layer after
layer (the course seeds 1 at every call), and applied with the backend's fused kernel.
The cache is the course's flat tuple ``(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, ...,
ZL, AL, WL, bL)``.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from .._validation import as_float, check_prob
from ._params import num_layers

__all__ = ["backward_propagation_with_dropout", "forward_propagation_with_dropout"]


def forward_propagation_with_dropout(X, parameters, keep_prob=0.5, seed=1):
    """Returns ``(AL, cache)``; no dropout on the input or the output layer."""
    keep_prob = check_prob(keep_prob, "keep_prob")
    L = num_layers(parameters)
    rng = np.random.RandomState(seed)
    A = as_float(X, "X")
    cache = []
    for l in range(1, L + 1):
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        act = "relu" if l < L else "sigmoid"
        Z, A = kernels.linear_forward(W, A, b, act)
        if l < L:
            D = (rng.rand(A.shape[0], A.shape[1]) < keep_prob).astype(np.uint8)
            A = kernels.dropout_apply(A, D, keep_prob)
            cache += [Z, D, A, W, b]
        else:
            cache += [Z, A, W, b]
    return A, tuple(cache)


def backward_propagation_with_dropout(X, Y, cache, keep_prob):
    """Gradients ``{"dZL", "dWL", "dbL", "dA{L-1}", "dZ{L-1}", ..., "dW1", "db1"}``: the
    upstream gradient of each hidden layer is masked with the same ``D`` and scaled by
    ``1/keep_prob``, as in the course."""
    keep_prob = check_prob(keep_prob, "keep_prob")
    X = as_float(X, "X")
    cache = tuple(cache)
    if len(cache) < 4 or (len(cache) - 4) % 5 != 0:
        raise ValueError("cache must be the tuple returned by forward_propagation_with_dropout")
    L = (len(cache) - 4) // 5 + 1
    ZL, AL, WL, _ = cache[-4:]
    hidden = [cache[5 * i : 5 * i + 5] for i in range(L - 1)]  # (Z, D, A, W, b) per layer
    grads = {}
    dZ = kernels.output_delta(AL, np.asarray(Y).reshape(AL.shape))
    for l in range(L, 0, -1):
        W_l = WL if l == L else hidden[l - 1][3]
        A_prev = hidden[l - 2][2] if l > 1 else X
        dA_prev, dW, db = kernels.linear_backward(dZ, A_prev, W_l, need_dA_prev=l > 1)
        grads["dZ" + str(l)], grads["dW" + str(l)], grads["db" + str(l)] = dZ, dW, db
        if l > 1:
            Z_prev, D_prev = hidden[l - 2][0], hidden[l - 2][1]
            dA_prev = kernels.dropout_apply(dA_prev, D_prev, keep_prob)
            grads["dA" + str(l - 1)] = dA_prev
            dZ = kernels.activation_backward(dA_prev, Z_prev, "relu")
    return grads
