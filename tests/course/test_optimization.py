"""The optimisation notebook (C2W2): 2-5-2-1 on moons, He init (seed 3), batch 64,
lr 0.0007, 10,000 epochs, mini-batch seed 10 incremented before each epoch."""

from __future__ import annotations

import numpy as np
import pytest

import pyneural as pn
from pyneural import functional as F

# Training accuracy printed by the course (OUT-18).
EXPECTED = {"gd": 0.797, "momentum": 0.797, "adam": 0.94}


def model(X, Y, layers_dims, optimizer, learning_rate=0.0007, mini_batch_size=64, beta=0.9,
          beta1=0.9, beta2=0.999, epsilon=1e-8, num_epochs=10000, eps_inside_sqrt=False):
    """The learner's optimisation model, written with pyneural.functional."""
    parameters = F.initialize_parameters_he(layers_dims)
    v = s = None
    if optimizer == "momentum":
        v = F.initialize_velocity(parameters)
    elif optimizer == "adam":
        v, s = F.initialize_adam(parameters)
    t = 0
    seed = 10
    costs = []
    for i in range(num_epochs):
        seed = seed + 1
        cost_total = 0.0
        for mini_X, mini_Y in F.random_mini_batches(X, Y, mini_batch_size, seed):
            a3, caches = F.L_model_forward(mini_X, parameters)
            cost_total += F.compute_cost(a3, mini_Y, reduction="sum")
            grads = F.L_model_backward(a3, mini_Y, caches)
            if optimizer == "gd":
                parameters = F.update_parameters_with_gd(parameters, grads, learning_rate)
            elif optimizer == "momentum":
                parameters, v = F.update_parameters_with_momentum(parameters, grads, v, beta, learning_rate)
            else:
                t = t + 1
                parameters, v, s = F.update_parameters_with_adam(
                    parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon,
                    eps_inside_sqrt=eps_inside_sqrt,
                )
        if i % 1000 == 0:
            costs.append(cost_total / X.shape[1])
    return parameters, costs


def _slow_on_numpy(backend):
    return pytest.param(backend, marks=pytest.mark.slow) if backend == "numpy" else backend


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
@pytest.mark.parametrize("course_backend", [_slow_on_numpy(b) for b in ("cpp", "numba", "numpy")])
def test_optimizers_reproduce_course(require_backend, course_backend, optimizer):
    require_backend(course_backend)
    X, Y = pn.datasets.moons()
    with pn.use_backend(course_backend):
        parameters, costs = model(X, Y, [2, 5, 2, 1], optimizer)
        p = F.predict(X, Y, parameters, print_accuracy=False)
    assert round(float(np.mean(p == Y)), 3) == EXPECTED[optimizer]
    assert costs[-1] < costs[0]


@pytest.mark.parametrize("course_backend", ["cpp", pytest.param("numpy", marks=pytest.mark.slow)])
def test_adam_with_the_course_epsilon_placement(require_backend, course_backend):
    # The course's code puts epsilon inside the square root; the result is the same 94%.
    require_backend(course_backend)
    X, Y = pn.datasets.moons()
    with pn.use_backend(course_backend):
        parameters, _ = model(X, Y, [2, 5, 2, 1], "adam", eps_inside_sqrt=True)
        p = F.predict(X, Y, parameters, print_accuracy=False)
    assert round(float(np.mean(p == Y)), 3) == 0.94
