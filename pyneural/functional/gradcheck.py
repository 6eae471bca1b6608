"""The course's gradient checking: parameters <-> one vector, two-sided differences, and
the relative difference ``‖g - ĝ‖₂ / (‖g‖₂ + ‖ĝ‖₂)``."""

from __future__ import annotations

import numpy as np

from .cost import compute_cost, l2_cost
from .forward import L_model_forward
from ._params import num_layers, param_keys

__all__ = ["dictionary_to_vector", "gradient_check_n", "gradients_to_vector", "vector_to_dictionary"]

#: The shapes the course's ``gc_utils.vector_to_dictionary`` hard-codes (a 4-5-3-1 net).
COURSE_SHAPES = {"W1": (5, 4), "b1": (5, 1), "W2": (3, 5), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)}


def dictionary_to_vector(parameters):
    """``(theta, keys)``: all of W1, b1, ..., WL, bL raveled into one ``(n, 1)`` column, and
    for each entry the name of the parameter it came from."""
    names = param_keys(num_layers(parameters))
    parts, keys = [], []
    for name in names:
        v = np.asarray(parameters[name], dtype=np.float64).reshape(-1, 1)
        parts.append(v)
        keys += [name] * v.shape[0]
    return np.concatenate(parts, axis=0), keys


def vector_to_dictionary(theta, shapes=None):
    """Inverse of :func:`dictionary_to_vector`. ``shapes`` is a dict ``{"W1": (5, 4), ...}``
    or a parameters dict to take the shapes from; by default the course's 4-5-3-1 shapes."""
    theta = np.asarray(theta).reshape(-1)
    if shapes is None:
        shapes = COURSE_SHAPES
    else:
        L = sum(1 for k in shapes if isinstance(k, str) and k[:1] == "W" and k[1:].isdigit())
        shapes = {k: tuple(shapes[k]) if isinstance(shapes[k], tuple) else np.shape(shapes[k]) for k in param_keys(L)}
    total = sum(int(np.prod(s)) for s in shapes.values())
    if theta.shape[0] != total:
        raise ValueError(f"theta has {theta.shape[0]} entries but the shapes need {total}")
    out, i = {}, 0
    for name, shape in shapes.items():
        n = int(np.prod(shape))
        out[name] = theta[i : i + n].reshape(shape).copy()
        i += n
    return out


def gradients_to_vector(gradients):
    """dW1, db1, ..., dWL, dbL raveled into one ``(n, 1)`` column (other keys are ignored)."""
    L = sum(1 for k in gradients if k[:2] == "dW" and k[2:].isdigit())
    if L == 0:
        raise ValueError("gradients must contain dW1, db1, ...")
    return np.concatenate(
        [np.asarray(gradients["d" + k], dtype=np.float64).reshape(-1, 1) for k in param_keys(L)], axis=0
    )


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, hidden_activation="relu",
                     output_activation="sigmoid", lambd=0.0, loss="binary_crossentropy",
                     threshold=2e-7, print_msg=True):
    """Relative difference between ``gradients`` (from backprop) and two-sided numerical
    derivatives ``(J(θ+ε) - J(θ-ε)) / 2ε`` of the cost of :func:`L_model_forward` (plus the
    L2 term when ``lambd > 0``). Prints the course's verdict against ``threshold`` (the
    course's 2e-7) and returns the difference."""
    shapes = {k: np.shape(parameters[k]) for k in param_keys(num_layers(parameters))}
    theta, _ = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    if grad.shape != theta.shape:
        raise ValueError(f"gradients hold {grad.shape[0]} values but parameters hold {theta.shape[0]}")
    m = np.shape(X)[1]

    def J(vec):
        params = vector_to_dictionary(vec, shapes)
        AL, _ = L_model_forward(X, params, hidden_activation, output_activation)
        c = compute_cost(AL, Y, loss=loss)
        return c + (l2_cost(params, lambd, m) if lambd else 0.0)

    gradapprox = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus = theta.copy()
        plus[i, 0] += epsilon
        minus = theta.copy()
        minus[i, 0] -= epsilon
        gradapprox[i, 0] = (J(plus) - J(minus)) / (2.0 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    difference = float(numerator / denominator) if denominator else 0.0
    if print_msg:
        if difference > threshold:
            print("There is a mistake in the backward propagation! difference = " + str(difference))
        else:
            print("Your backward propagation works perfectly fine! difference = " + str(difference))
    return difference
