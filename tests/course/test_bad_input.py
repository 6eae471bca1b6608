"""Bad input at the public boundary raises ValueError/TypeError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

import pyneural as pn
from pyneural import functional as F
from pyneural import kernels

PARAMS = F.initialize_parameters_deep([2, 3, 1])
X = np.ones((2, 5))
Y = np.ones((1, 5))


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: F.L_model_forward(np.ones((3, 5)), PARAMS), ValueError, r"X must have shape \(2, m\)"),
        (lambda: F.L_model_forward(np.ones(5), PARAMS), ValueError, "X must be a 2-D array"),
        (lambda: F.compute_cost(np.full((1, 5), 0.5), np.ones((1, 4))), ValueError, r"Y must have the shape of AL \(1, 5\)"),
        (lambda: F.compute_cost(np.full((1, 5), 0.5), np.array([[1, 0, np.nan, 1, 0]])), ValueError, "Y contains NaN"),
        (lambda: F.compute_cost(np.full((3, 5), 0.3), np.array([0, 1, 2, 3, 1]), loss="categorical_crossentropy"), ValueError, r"Y must be class labels in \[0, 3\)"),
        (lambda: F.L_model_forward(X.astype(complex), PARAMS), TypeError, "X must hold real numbers"),
        (lambda: F.L_model_forward(np.array([["a", "b"]] * 2), PARAMS), TypeError, "X must hold real numbers"),
        (lambda: F.forward_propagation_with_dropout(X, PARAMS, keep_prob=0), ValueError, r"keep_prob must be in \(0, 1\]"),
        (lambda: F.forward_propagation_with_dropout(X, PARAMS, keep_prob=1.5), ValueError, r"keep_prob must be in \(0, 1\]"),
        (lambda: kernels.dropout_forward(X, -0.1, seed=1), ValueError, "keep_prob"),
        (lambda: kernels.linear_forward(np.ones((3, 2)), np.ones((4, 5)), np.zeros((3, 1))), ValueError, r"A_prev must have shape \(2, m\)"),
        (lambda: kernels.linear_forward(np.ones((3, 2)), X, np.zeros((4, 1))), ValueError, r"b must have shape \(3, 1\)"),
        (lambda: kernels.linear_backward(np.ones((3, 4)), X, np.ones((3, 2))), ValueError, r"dZ must have shape \(3, 5\)"),
        (lambda: kernels.activation_forward(X, "swish"), ValueError, "activation must be one of"),
        (lambda: F.update_parameters_with_gd(dict(PARAMS), {"dW1": np.ones((3, 2))}, 0.1), ValueError, "grads has no 'db1'"),
        (lambda: F.update_parameters_with_gd(dict(PARAMS), {k: np.ones((7, 7)) for k in ("dW1", "db1", "dW2", "db2")}, 0.1), ValueError, r"grads\['dW1'\] must have shape \(3, 2\)"),
        (lambda: F.update_parameters_with_gd(dict(PARAMS), {"d" + k: v for k, v in PARAMS.items()}, -1.0), ValueError, "learning_rate must be >= 0"),
        (lambda: F.L_model_forward(X, {"W1": np.ones((3, 2)), "b1": np.ones((3, 1)), "W2": np.ones((1, 4)), "b2": np.ones((1, 1))}), ValueError, r"parameters\['W2'\] has shape \(1, 4\)"),
        (lambda: F.random_mini_batches(X, np.ones((1, 4))), ValueError, r"Y must have shape \(n_y, 5\)"),
        (lambda: F.random_mini_batches(X, Y, mini_batch_size=0), ValueError, "mini_batch_size"),
        (lambda: pn.set_backend("tensorflow"), ValueError, "backend must be one of"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_integer_and_bool_inputs_convert_to_float64():
    AL, _ = F.L_model_forward(np.ones((2, 5), dtype=np.int32), PARAMS)
    assert AL.dtype == np.float64
    Z = kernels.activation_forward(np.array([[True, False]]), "relu")
    assert Z.dtype == np.float64 and Z.tolist() == [[1.0, 0.0]]
    assert kernels.activation_forward(np.ones((2, 2), np.float16), "relu").dtype == np.float32
