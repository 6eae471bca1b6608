"""The planar-flower notebook (C1W3): 2-4-1 tanh/sigmoid, lr 1.2, 10,000 iterations."""

from __future__ import annotations

import numpy as np

import pyneural as pn
from pyneural import functional as F

# Printed by the course (seed 003, OUT-05) at iterations 0, 1000, ..., 7000.
COURSE_COSTS = [0.693048, 0.288083, 0.254385, 0.233864, 0.226792, 0.222644, 0.219731, 0.217504]


def nn_model(X, Y, n_h, num_iterations=10000):
    """The learner's nn_model, written with pyneural.functional."""
    parameters = F.initialize_parameters(X.shape[0], n_h, Y.shape[0])
    costs = []
    for i in range(num_iterations):
        A2, caches = F.L_model_forward(X, parameters, "tanh", "sigmoid")
        cost = F.compute_cost(A2, Y, parameters)
        grads = F.L_model_backward(A2, Y, caches, "tanh", "sigmoid")
        parameters = F.update_parameters(parameters, grads)
        if i % 1000 == 0:
            costs.append(cost)
    return parameters, costs


def test_planar_flower_reproduces_course(backend_name):
    X, Y = pn.datasets.planar()
    with pn.use_backend(backend_name):
        parameters, costs = nn_model(X, Y, n_h=4)
        predictions = F.predict(X, Y, parameters, "tanh", "sigmoid", print_accuracy=False)
    printed = ["%f" % c for c in costs[:8]]
    assert printed == ["%f" % c for c in COURSE_COSTS]
    accuracy = float(np.mean(predictions == Y))
    assert accuracy >= 0.90
