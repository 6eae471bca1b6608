"""The course's NumPy training loop, written as the notebooks write it: dicts of parameters,
``random_mini_batches``, ``L_model_forward`` with caches, the cost, ``L_model_backward``,
``update_parameters_with_adam`` - allocating and readable.

Differences from the notebooks, all speed-neutral or in NumPy's favour:
- the permutation is an array, not ``list(np.random.permutation(m))``, and comes from a
  local ``RandomState`` (the course seeds the global one);
- dropout masks come from a local ``np.random.Generator`` in the working dtype
  (the course: ``np.random.rand`` in float64, then ``.astype(int)``);
- ReLU's derivative is ``dA * (Z > 0)`` (the course: ``dZ[Z <= 0] = 0`` on a copy, slower);
- ``dA0`` is not computed; Adam puts ε outside the square root, as pyneural does.
"""

from __future__ import annotations

import time

import numpy as np

from .workloads import SHUFFLE_SEED, he_parameters


def random_mini_batches(X, Y, mini_batch_size, seed):
    m = X.shape[1]
    permutation = np.random.RandomState(seed).permutation(m)
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation]
    return [(shuffled_X[:, k:k + mini_batch_size], shuffled_Y[:, k:k + mini_batch_size])
            for k in range(0, m, mini_batch_size)]


def L_model_forward(X, parameters, hidden, output, keep_prob, rng):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L + 1):
        A_prev = A
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = np.dot(W, A_prev) + b
        D = None
        if l < L:
            A = np.maximum(0, Z) if hidden == "relu" else np.tanh(Z)
            if keep_prob < 1:
                D = rng.random(A.shape, dtype=A.dtype) < keep_prob
                A = A * D / keep_prob
        elif output == "sigmoid":
            A = 1 / (1 + np.exp(-Z))
        else:
            e = np.exp(Z - np.max(Z, axis=0, keepdims=True))
            A = e / np.sum(e, axis=0, keepdims=True)
        caches.append((A_prev, W, Z, A, D))
    return A, caches


def compute_cost(AL, Y, output):
    m = Y.shape[1]
    if output == "sigmoid":
        cost = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    else:
        cost = -np.sum(Y * np.log(AL)) / m
    return float(np.squeeze(cost))


def L_model_backward(AL, Y, caches, hidden, keep_prob):
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    dZ = AL - Y  # sigmoid + cross-entropy, softmax + categorical cross-entropy
    for l in range(L, 0, -1):
        A_prev, W, _, _, _ = caches[l - 1]
        grads["dW" + str(l)] = np.dot(dZ, A_prev.T) / m
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
        if l > 1:
            dA_prev = np.dot(W.T, dZ)
            _, _, Z_prev, A_prev_out, D = caches[l - 2]
            if D is not None:
                dA_prev = dA_prev * D / keep_prob
            if hidden == "relu":
                dZ = dA_prev * (Z_prev > 0)
            else:
                dZ = dA_prev * (1 - np.power(A_prev_out, 2))
    return grads


def initialize_adam(parameters):
    L = len(parameters) // 2
    v, s = {}, {}
    for l in range(1, L + 1):
        for p in ("W", "b"):
            v["d" + p + str(l)] = np.zeros_like(parameters[p + str(l)])
            s["d" + p + str(l)] = np.zeros_like(parameters[p + str(l)])
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for p in ("W", "b"):
            key = "d" + p + str(l)
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            v_corrected = v[key] / (1 - beta1 ** t)
            s[key] = beta2 * s[key] + (1 - beta2) * np.power(grads[key], 2)
            s_corrected = s[key] / (1 - beta2 ** t)
            parameters[p + str(l)] = parameters[p + str(l)] - learning_rate * v_corrected / (
                np.sqrt(s_corrected) + epsilon)
    return parameters, v, s


class Trainer:
    """The course loop for one workload; ``run_epochs`` returns seconds per epoch."""

    name = "numpy"

    def __init__(self, wl, X, Y, dtype, keep_prob):
        self.wl, self.X, self.Y, self.keep_prob = wl, X, Y, keep_prob
        self.parameters = {}
        for l, (W, b) in enumerate(he_parameters(wl, dtype), start=1):
            self.parameters["W" + str(l)], self.parameters["b" + str(l)] = W, b
        self.v, self.s = initialize_adam(self.parameters)
        self.t = 0
        self.rng = np.random.default_rng(0)

    def run_epochs(self, start, n):
        with np.errstate(divide="ignore", invalid="ignore"):  # the course's cost is nan if AL hits 0
            return self._run_epochs(start, n)

    def _run_epochs(self, start, n):
        wl, times = self.wl, []
        for epoch in range(start, start + n):
            t0 = time.perf_counter()
            if wl.batch_size is None:
                minibatches = [(self.X, self.Y)]
            else:
                minibatches = random_mini_batches(self.X, self.Y, wl.batch_size, SHUFFLE_SEED + epoch)
            cost_total = 0.0
            for minibatch_X, minibatch_Y in minibatches:
                AL, caches = L_model_forward(minibatch_X, self.parameters, wl.hidden, wl.output, self.keep_prob,
                                             self.rng)
                cost_total += compute_cost(AL, minibatch_Y, wl.output) * minibatch_X.shape[1]
                grads = L_model_backward(AL, minibatch_Y, caches, wl.hidden, self.keep_prob)
                self.t += 1
                self.parameters, self.v, self.s = update_parameters_with_adam(
                    self.parameters, grads, self.v, self.s, self.t, wl.lr)
            times.append(time.perf_counter() - t0)
        return times

    def params(self):
        """``[W1, b1, W2, b2, ...]`` in the course layout."""
        L = len(self.parameters) // 2
        return [self.parameters[p + str(l)] for l in range(1, L + 1) for p in ("W", "b")]
