"""Reference optimizer updates, in place, on 1-D arrays (one parameter or a flat buffer)."""

from __future__ import annotations

import numpy as np


def gd_update(param, grad, lr):
    param -= lr * grad


def momentum_update(param, grad, v, lr, beta):
    v *= beta
    v += (1 - beta) * grad
    param -= lr * v


def rmsprop_update(param, grad, s, lr, beta, eps):
    s *= beta
    s += (1 - beta) * grad * grad
    param -= lr * grad / (np.sqrt(s) + eps)


def adam_update(param, grad, v, s, lr, beta1, beta2, eps, t, eps_inside_sqrt):
    v *= beta1
    v += (1 - beta1) * grad
    s *= beta2
    s += (1 - beta2) * grad * grad
    v_hat = v / (1 - beta1**t)
    s_hat = s / (1 - beta2**t)
    denom = np.sqrt(s_hat + eps) if eps_inside_sqrt else np.sqrt(s_hat) + eps
    param -= lr * v_hat / denom
