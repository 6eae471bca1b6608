"""pyneural.gradient_check on random architectures: every activation, L2, batch norm, softmax."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import pyneural as pn
from pyneural.layers import Activation, BatchNorm, Dense, Dropout

HIDDEN = ["relu", "tanh", "sigmoid", "leaky_relu", "identity"]


def random_model(rng, hidden, output, batchnorm, dropout, n_x):
    layers = []
    for _ in range(int(rng.integers(1, 3))):
        layers.append(Dense(int(rng.integers(2, 6)), hidden, init="xavier"))
        if batchnorm:
            layers.append(BatchNorm())
        if dropout:
            layers.append(Dropout(0.8))
    n_out = {"sigmoid": 1, "softmax": 3, "identity": 2}[output]
    layers.append(Dense(n_out, output, init="xavier"))
    model = pn.Sequential(layers, input_dim=n_x, seed=int(rng.integers(0, 1000)))
    for layer in model.layers:
        if "b" in layer.params:
            # Zero biases behind dead ReLUs give Z == 0 exactly: a kink that finite
            # differences straddle. Random biases keep every Z off the kink.
            layer.params["b"][...] = rng.uniform(-0.5, 0.5, layer.params["b"].shape)
    return model


def targets(rng, output, m):
    if output == "sigmoid":
        return (rng.random((1, m)) > 0.5).astype(float)
    if output == "softmax":
        return rng.integers(0, 3, m)
    return rng.standard_normal((2, m))


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "identity"])
@pytest.mark.parametrize(("batchnorm", "l2"), [(False, 0.0), (False, 0.7), (True, 0.0), (True, 0.3)])
def test_gradient_check_below_1e7(backend_name, hidden, output, batchnorm, l2):
    rng = np.random.default_rng(zlib.crc32(f"{hidden}-{output}-{batchnorm}-{l2}".encode()))
    m = int(rng.integers(1, 9)) if not batchnorm else int(rng.integers(3, 9))
    model = random_model(rng, hidden, output, batchnorm, dropout=bool(rng.integers(0, 2)), n_x=3)
    X = rng.standard_normal((3, m))
    with pn.use_backend(backend_name):
        result = pn.gradient_check(model, X, targets(rng, output, m), l2=l2)
    assert float(result) < 1e-7, str(result)
    assert set(result.per_parameter) == {f"layer{i}.{k}" for i, k, _ in model.weights()}


def test_gradient_check_of_a_float32_model_runs_in_float64():
    rng = np.random.default_rng(0)
    model = pn.Sequential([Dense(4, "tanh"), BatchNorm(), Dense(1, "sigmoid")], input_dim=3, seed=1, dtype=np.float32)
    before = [w.copy() for _, _, w in model.weights()]
    result = pn.gradient_check(model, rng.standard_normal((3, 6)).astype(np.float32), targets(rng, "sigmoid", 6))
    assert result.passed()
    for (_, _, w), b in zip(model.weights(), before):
        np.testing.assert_array_equal(w, b)  # the model itself is untouched


def test_a_broken_backward_is_detected(monkeypatch):
    rng = np.random.default_rng(1)
    model = pn.Sequential([Dense(4, "relu"), Dense(3, "tanh"), Activation("identity"), Dense(1, "sigmoid")],
                          input_dim=3, seed=2)
    X, Y = rng.standard_normal((3, 7)), targets(rng, "sigmoid", 7)
    assert pn.gradient_check(model, X, Y).passed()
    original = Dense.backward

    def broken(self, dA, cache, ctx, dZ=None):
        out = original(self, dA, cache, ctx, dZ)
        self.grads["W"] = self.grads["W"] * 1.05  # a 5% error in every dW
        return out

    monkeypatch.setattr(Dense, "backward", broken)
    result = pn.gradient_check(model, X, Y)
    assert not result.passed() and float(result) > 1e-3
    assert max(result.per_parameter, key=result.per_parameter.get).endswith(".W")
