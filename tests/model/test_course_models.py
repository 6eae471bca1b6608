"""The course's results through the model API (Sequential + fit), on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import pyneural as pn
from pyneural.layers import Dense

PLANAR_COSTS = [0.693048, 0.288083, 0.254385, 0.233864, 0.226792, 0.222644, 0.219731, 0.217504]


def test_planar_flower(backend_name):
    X, Y = pn.datasets.planar()
    with pn.use_backend(backend_name):
        model = pn.Sequential([Dense(4, "tanh", init="random"), Dense(1, "sigmoid", init="random")],
                              input_dim=2, seed=2)
        history = model.fit(X, Y, epochs=10000, optimizer=pn.optimizers.GD(1.2))
        acc = model.evaluate(X, Y)["accuracy"]
    costs = history["loss"][:7001:1000]
    assert ["%f" % c for c in costs] == ["%f" % c for c in PLANAR_COSTS]
    assert acc >= 0.90


@pytest.mark.parametrize(("init", "train_acc", "test_acc"), [("zeros", 0.5, 0.5), (10.0, 0.83, 0.86), ("he", 0.9933, 0.96)])
def test_initialization(backend_name, init, train_acc, test_acc):
    train_X, train_Y, test_X, test_Y = pn.datasets.circles()
    with pn.use_backend(backend_name):
        model = pn.Sequential([Dense(10, "relu", init), Dense(5, "relu", init), Dense(1, "sigmoid", init)],
                              input_dim=2, seed=3)
        model.fit(train_X, train_Y, epochs=15000, optimizer=pn.optimizers.GD(0.01))
        assert round(model.evaluate(train_X, train_Y)["accuracy"], 4) == train_acc
        assert round(model.evaluate(test_X, test_Y)["accuracy"], 4) == test_acc


def _slow_on_numpy(backend):
    return pytest.param(backend, marks=pytest.mark.slow) if backend == "numpy" else backend


@pytest.mark.parametrize(("optimizer", "expected"), [("gd", 0.797), ("momentum", 0.797), ("adam", 0.94)])
@pytest.mark.parametrize("course_backend", [_slow_on_numpy(b) for b in ("cpp", "numba", "numpy")])
def test_optimization_assignment(require_backend, course_backend, optimizer, expected):
    require_backend(course_backend)
    X, Y = pn.datasets.moons()
    opt = {"gd": pn.optimizers.GD(0.0007), "momentum": pn.optimizers.Momentum(0.0007, beta=0.9),
           "adam": pn.optimizers.Adam(0.0007)}[optimizer]
    with pn.use_backend(course_backend):
        model = pn.Sequential([Dense(5, "relu", "he"), Dense(2, "relu", "he"), Dense(1, "sigmoid", "he")],
                              input_dim=2, seed=3)
        history = model.fit(X, Y, epochs=10000, batch_size=64, optimizer=opt, seed=11)
        assert round(model.evaluate(X, Y)["accuracy"], 3) == expected
    assert history["loss"][-1] < history["loss"][0]


def test_model_init_matches_course_initializer():
    model = pn.Sequential([Dense(5, "relu", "he"), Dense(2, "relu", "he"), Dense(1, "sigmoid", "he")], input_dim=2, seed=3)
    course = pn.functional.initialize_parameters_he([2, 5, 2, 1])
    for k, v in course.items():
        np.testing.assert_array_equal(model.parameters[k], v)
