"""The training engine (whole epochs in C++ or Numba) against the per-layer loop on NumPy.

``fit(engine=True)`` on ``cpp``/``numba`` must give the numbers of ``fit(engine=False)`` on
the ``numpy`` backend (the oracle): weights, batch-norm statistics, optimizer state, the
history and the step counters, for every layer kind, loss and optimizer.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import pyneural as pn
from pyneural.engine import executor_for
from pyneural.layers import Activation, BatchNorm, Dense, Dropout

ENGINES = ["cpp", "numba"]


@pytest.fixture(params=ENGINES)
def engine_backend(request, require_backend):
    require_backend(request.param)
    assert executor_for(pn.backends.load(request.param)) is not None, f"{request.param} has no engine_run"
    return request.param


def _data(task, m, n_x, n_out, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    if task == "binary":
        Y = (X[0:1] * X[1:2] + 0.3 * rng.standard_normal((1, m)) > 0).astype(float)
    elif task == "labels":
        Y = rng.integers(0, n_out, m)
    elif task == "onehot":
        Y = np.eye(n_out)[:, rng.integers(0, n_out, m)]
    else:
        Y = rng.standard_normal((n_out, m))
    return X, Y


# (name, layers, task, n_x, n_out, fit kwargs)
CASES = [
    ("moons-adam", lambda: [Dense(5, "relu"), Dense(2, "relu"), Dense(1, "sigmoid")], "binary", 2, 1,
     dict(batch_size=64, optimizer="adam")),
    ("planar-fullbatch-gd", lambda: [Dense(4, "tanh"), Dense(1, "sigmoid")], "binary", 2, 1,
     dict(batch_size=None, optimizer=pn.optimizers.GD(1.2))),
    ("dropout-bn-onehot-momentum-l2",
     lambda: [Dense(16, "relu"), BatchNorm(), Dropout(0.8), Dense(8, "tanh"), Dropout(0.7), Dense(4, "softmax")],
     "onehot", 6, 4, dict(batch_size=32, optimizer="momentum", l2=0.7)),
    ("labels-rmsprop-schedule", lambda: [Dense(12, "leaky_relu", alpha=0.05), Dense(3, "softmax")], "labels", 5, 3,
     dict(batch_size=50, optimizer="rmsprop", schedule="inverse_time")),
    ("mse-adam-inside", lambda: [Dense(7, "sigmoid"), Dense(2, "identity")], "regression", 3, 2,
     dict(batch_size=16, optimizer=pn.optimizers.Adam(0.01, eps_inside_sqrt=True))),
    ("unfused-mse-on-sigmoid", lambda: [Dense(6, "relu"), Dense(1, "sigmoid")], "binary", 2, 1,
     dict(batch_size=40, optimizer="adam", loss="mse")),
    ("activation-layers-bn-last", lambda: [Dense(9), Activation("tanh"), Dense(3), BatchNorm(), Activation("softmax")],
     "labels", 4, 3, dict(batch_size=64, optimizer="adam", l2=0.1)),
    ("input-dropout-bn-sigmoid", lambda: [Dropout(0.9), Dense(8, "relu"), Dense(1), BatchNorm(momentum=0.5)],
     "regression", 5, 1, dict(batch_size=25, optimizer="gd")),
]


def _train(model, X, Y, backend, engine, epochs, kwargs):
    kwargs = dict(kwargs)
    if "optimizer" in kwargs and not isinstance(kwargs["optimizer"], str):
        kwargs["optimizer"] = copy.deepcopy(kwargs["optimizer"])
    with pn.use_backend(backend):
        history = model.fit(X, Y, epochs=epochs, seed=5, engine=engine, **kwargs)
    return history


def _state(model):
    out = {}
    for i, layer in enumerate(model.layers):
        for k, a in {**layer.params, **layer.state}.items():
            out[f"{i}.{k}"] = a.copy()
    for name, arrays in model.optimizer.slots.items():
        for j, a in enumerate(arrays):
            out[f"slot.{name}.{j}"] = a.copy()
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_engine_matches_per_layer_numpy_float64(engine_backend, case):
    name, make, task, n_x, n_out, kwargs = case
    m = 300 if task != "regression" else 203
    X, Y = _data(task, m, n_x, n_out)
    ref = pn.Sequential(make(), input_dim=n_x, seed=2, dtype=np.float64)
    got = copy.deepcopy(ref)
    h_ref = _train(ref, X, Y, "numpy", False, 3, kwargs)
    h_got = _train(got, X, Y, engine_backend, True, 3, kwargs)
    a, b = _state(ref), _state(got)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-10, atol=1e-12, err_msg=k)
    for key in h_ref.history:
        if key != "time":
            np.testing.assert_allclose(h_got[key], h_ref[key], rtol=1e-10, err_msg=key)
    assert got._step == ref._step and got.optimizer.iterations == ref.optimizer.iterations


@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[3]], ids=[CASES[i][0] for i in (0, 2, 3)])
def test_engine_matches_per_layer_float32(engine_backend, case):
    name, make, task, n_x, n_out, kwargs = case
    X, Y = _data(task, 300, n_x, n_out)
    ref = pn.Sequential(make(), input_dim=n_x, seed=2, dtype=np.float32)
    got = copy.deepcopy(ref)
    _train(ref, X.astype(np.float32), Y, "numpy", False, 2, kwargs)
    _train(got, X.astype(np.float32), Y, engine_backend, True, 2, kwargs)
    a, b = _state(ref), _state(got)
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=2e-4, atol=2e-5, err_msg=k)


def test_engine_is_bitwise_the_per_layer_loop_on_its_own_backend(engine_backend):
    """Same kernels, same order: the engine and the Python loop agree to the last bit."""
    X, Y = _data("onehot", 300, 6, 4)
    make, kwargs = CASES[2][1], CASES[2][5]
    ref = pn.Sequential(make(), input_dim=6, seed=2)
    got = copy.deepcopy(ref)
    _train(ref, X, Y, engine_backend, False, 2, kwargs)
    _train(got, X, Y, engine_backend, True, 2, kwargs)
    a, b = _state(ref), _state(got)
    for k in a:
        np.testing.assert_array_equal(b[k], a[k], err_msg=k)


def test_chunked_epochs_equal_one_epoch_per_call(engine_backend):
    """Without callbacks fit runs many epochs per engine call; with a callback one per
    call. Both give the same weights and history."""
    X, Y = _data("binary", 300, 2, 1)
    make = CASES[0][1]
    a = pn.Sequential(make(), input_dim=2, seed=2)
    b = copy.deepcopy(a)
    with pn.use_backend(engine_backend):
        ha = a.fit(X, Y, epochs=40, batch_size=64, seed=9)
        hb = b.fit(X, Y, epochs=40, batch_size=64, seed=9, callbacks=[pn.callbacks.Callback()])
    np.testing.assert_array_equal(ha["loss"], hb["loss"])
    for (_, _, wa), (_, _, wb) in zip(a.weights(), b.weights()):
        np.testing.assert_array_equal(wa, wb)
    assert len(ha["loss"]) == 40 and a._step == 40 * 5


def test_second_fit_continues_optimizer_state(engine_backend):
    X, Y = _data("binary", 300, 2, 1)
    make = CASES[0][1]
    ref = pn.Sequential(make(), input_dim=2, seed=2)
    got = copy.deepcopy(ref)
    opt_ref, opt_got = pn.optimizers.Adam(0.01), pn.optimizers.Adam(0.01)
    for seed in (1, 2):
        with pn.use_backend("numpy"):
            ref.fit(X, Y, epochs=2, batch_size=64, optimizer=opt_ref, seed=seed, engine=False)
        with pn.use_backend(engine_backend):
            got.fit(X, Y, epochs=2, batch_size=64, optimizer=opt_got, seed=seed)
    for (_, _, wa), (_, _, wb) in zip(ref.weights(), got.weights()):
        np.testing.assert_allclose(wb, wa, rtol=1e-10, atol=1e-12)
    assert opt_got.iterations == opt_ref.iterations == 20


@pytest.mark.parametrize("scale", [1e3, 1e150], ids=["cost-overflows", "output-overflows"])
def test_nonfinite_cost_restores_the_epoch_start_and_names_the_layer(engine_backend, scale):
    X, Y = _data("regression", 200, 3, 1)
    X = X * scale
    model = pn.Sequential([Dense(8, "relu"), Dense(1)], input_dim=3, seed=0)
    ref = copy.deepcopy(model)
    with pn.use_backend(engine_backend), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = model.fit(X, Y, epochs=50, batch_size=50, optimizer=pn.optimizers.GD(10.0), seed=1)
    with pn.use_backend("numpy"), warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        h_ref = ref.fit(X, Y, epochs=50, batch_size=50, optimizer=pn.optimizers.GD(10.0), seed=1, engine=False)
    assert any("NaN or infinite" in str(w.message) for w in caught)
    assert h.stopped_reason == h_ref.stopped_reason
    assert ("layer" in h.stopped_reason) == (scale > 1e100)
    assert len(h.history.get("loss", [])) == len(h_ref.history.get("loss", []))
    for (_, _, wa), (_, _, wb) in zip(ref.weights(), model.weights()):
        np.testing.assert_array_equal(np.isfinite(wb), True)
        np.testing.assert_allclose(wb, wa, rtol=1e-10)
    assert model._step == ref._step


def test_engine_true_on_numpy_is_refused():
    X, Y = _data("binary", 20, 2, 1)
    model = pn.Sequential([Dense(1, "sigmoid")], input_dim=2, seed=0)
    with pn.use_backend("numpy"), pytest.raises(ValueError, match="no training engine"):
        model.fit(X, Y, engine=True)


def test_layer_arrays_are_views_of_the_flat_buffers():
    model = pn.Sequential([Dense(4, "relu"), BatchNorm(), Dense(1, "sigmoid")], input_dim=3, seed=0)
    W = model.parameters["W1"]
    X, Y = _data("binary", 64, 3, 1)
    model.fit(X, Y, epochs=1, batch_size=16, seed=0)
    assert model.parameters["W1"] is W  # references taken before fit stay live
    assert all(np.shares_memory(a, model._flat_params) for _, _, a in model.weights())
    assert all(np.shares_memory(a, model._flat_state) for a in model.layers[1].state.values())


def test_engine_results_do_not_depend_on_the_thread_count(engine_backend):
    """Big enough for every kernel's parallel path (GEMMs over 2**18 multiply-adds)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((64, 1024)).astype(np.float32)
    Y = rng.integers(0, 10, 1024)
    layers = lambda: [Dense(256, "relu"), BatchNorm(), Dropout(0.8), Dense(128, "tanh"), Dense(10, "softmax")]  # noqa: E731
    runs = []
    previous = pn.get_num_threads()
    try:
        for threads in (1, 2):
            pn.set_num_threads(threads)
            model = pn.Sequential(layers(), input_dim=64, seed=4, dtype=np.float32)
            with pn.use_backend(engine_backend):
                h = model.fit(X, Y, epochs=2, batch_size=512, seed=3, l2=0.01)
            runs.append((h["loss"], [a.copy() for _, _, a in model.weights()]))
    finally:
        pn.set_num_threads(previous)
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
