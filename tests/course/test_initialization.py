"""The initialisation notebook (C2W1): layers 2-10-5-1, lr 0.01, 15,000 iterations on circles."""

from __future__ import annotations

import numpy as np
import pytest

import pyneural as pn
from pyneural import functional as F

# (initialiser, train accuracy, test accuracy) as printed by the course (OUT-10/11/12).
CASES = [
    ("zeros", 0.5, 0.5),
    ("random", 0.83, 0.86),
    ("he", 0.9933, 0.96),
]
INITS = {
    "zeros": F.initialize_parameters_zeros,
    "random": F.initialize_parameters_random,
    "he": F.initialize_parameters_he,
}


def model(X, Y, initialization, learning_rate=0.01, num_iterations=15000):
    parameters = INITS[initialization]([X.shape[0], 10, 5, 1])
    for _ in range(num_iterations):
        a3, caches = F.L_model_forward(X, parameters)
        grads = F.L_model_backward(a3, Y, caches)
        parameters = F.update_parameters(parameters, grads, learning_rate)
    return parameters


@pytest.mark.parametrize(("initialization", "train_acc", "test_acc"), CASES)
def test_initialization_reproduces_course(backend_name, initialization, train_acc, test_acc):
    train_X, train_Y, test_X, test_Y = pn.datasets.circles()
    with pn.use_backend(backend_name):
        parameters = model(train_X, train_Y, initialization)
        p_train = F.predict(train_X, train_Y, parameters, print_accuracy=False)
        p_test = F.predict(test_X, test_Y, parameters, print_accuracy=False)
    assert round(float(np.mean(p_train == train_Y)), 4) == train_acc
    assert round(float(np.mean(p_test == test_Y)), 4) == test_acc


def test_random_init_cost_is_large_but_finite(backend_name):
    # The course prints "inf" for iteration 0; pyneural's clamped logs keep it finite.
    train_X, train_Y, _, _ = pn.datasets.circles()
    with pn.use_backend(backend_name):
        parameters = F.initialize_parameters_random([2, 10, 5, 1])
        a3, caches = F.L_model_forward(train_X, parameters)
        cost = F.compute_cost(a3, train_Y)
        grads = F.L_model_backward(a3, train_Y, caches)
    assert np.isfinite(cost) and cost > 10
    assert all(np.all(np.isfinite(g)) for g in grads.values())
