"""The course's ``predict``: forward pass, threshold at 0.5 (or argmax for softmax)."""

from __future__ import annotations

import numpy as np

from .forward import L_model_forward

__all__ = ["predict"]


def predict(X, y, parameters, hidden_activation="relu", output_activation="sigmoid", print_accuracy=True):
    """Predictions ``p`` of shape ``(1, m)``: ``AL > 0.5`` for one output unit, the argmax
    class for softmax. With labels ``y`` it prints ``Accuracy: ...`` as the course does."""
    AL, _ = L_model_forward(X, parameters, hidden_activation, output_activation)
    if AL.shape[0] == 1:
        p = (AL > 0.5).astype(np.float64)
    else:
        p = np.argmax(AL, axis=0).reshape(1, -1).astype(np.float64)
    if y is not None and print_accuracy:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[0] > 1:
            y = np.argmax(y, axis=0)
        print("Accuracy: " + str(np.mean(p[0, :] == y.reshape(-1))))
    return p
