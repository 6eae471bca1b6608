"""Reference costs. They return sums (the boundary divides by ``m``), in float64."""

from __future__ import annotations

import numpy as np


def _safe_log(x):
    # Clamp at the dtype's smallest normal: a saturated output gives a large finite
    # cost instead of inf/nan (the course's random x10 initialisation prints inf).
    return np.log(np.maximum(x, np.finfo(x.dtype).tiny)).astype(np.float64)


def bce_cost(AL, Y):
    a = AL
    y = Y.astype(np.float64)
    return float(-np.sum(y * _safe_log(a) + (1 - y) * _safe_log(1 - a)))


def softmax_ce_cost(AL, Y):
    y = Y.astype(np.float64)
    return float(-np.sum(np.where(y != 0, y * _safe_log(AL), 0.0)))


def softmax_ce_labels_cost(AL, labels):
    picked = AL[labels, np.arange(AL.shape[1])]
    return float(-np.sum(_safe_log(picked)))


def mse_cost(AL, Y):
    d = AL.astype(np.float64) - Y.astype(np.float64)
    return float(np.sum(d * d))


def sum_squares(W):
    w = W.astype(np.float64)
    return float(np.sum(w * w))
