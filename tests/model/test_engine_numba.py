"""The Numba training engine (``numba_jit.engine.engine_run``) against the per-layer loop.

A plan built by :func:`pyneural.engine.plan.build_plan` and run through the engine must give
the numbers of ``fit(engine=False)`` on the ``numba`` backend (the same kernels, in the
same order): weights, batch-norm running statistics, optimizer state, per-epoch cost and
accuracy, and the NaN stop. Also: the engine's MT19937 permutation is NumPy's.
"""

from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pytest

import pyneural as pn
from pyneural.engine import plan as P
from pyneural.layers import Activation, BatchNorm, Dense, Dropout
from pyneural.model.training import fit

pytest.importorskip("numba")
engine = pytest.importorskip("pyneural.backends.numba_jit.engine")
mt19937 = pytest.importorskip("pyneural.backends.numba_jit.mt19937")

SEED = 11


# ------------------------------------------------------------------------- permutation


@pytest.mark.parametrize("seed", [0, 1, 2, 11, 12345, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1])
@pytest.mark.parametrize("m", [0, 1, 2, 3, 300, 623, 624, 625, 60000])
def test_permutation_is_numpys(seed, m):
    perm = np.full(m, -1, np.int64)
    mt19937.permutation(seed, perm, np.empty(mt19937.N, np.uint64))
    np.testing.assert_array_equal(perm, np.random.RandomState(seed).permutation(m))


def test_permutation_many_seeds():
    key = np.empty(mt19937.N, np.uint64)
    perm = np.empty(300, np.int64)
    for seed in list(range(200)) + [2**32 - 1 - s for s in range(50)]:
        mt19937.permutation(seed, perm, key)
        np.testing.assert_array_equal(perm, np.random.RandomState(seed).permutation(300))


# ------------------------------------------------------------------------ engine vs fit


def _data(task, m, n_x, n_out, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    if task == "binary":
        W = rng.standard_normal((n_out, n_x))
        Y = (W @ X + 0.5 * rng.standard_normal((n_out, m)) > 0).astype(float)
    elif task == "labels":
        Y = rng.integers(0, n_out, m)
    elif task == "onehot":
        Y = np.eye(n_out)[:, rng.integers(0, n_out, m)]
    else:
        Y = rng.standard_normal((n_out, m))
    return X, Y


# name: (layers, task, n_x, n_out, m, batch_size, optimizer, loss, l2, schedule)
CASES = {
    "dense-adam-short-last-batch": (
        lambda: [Dense(5, "relu"), Dense(2, "relu"), Dense(1, "sigmoid")], "binary", 2, 1, 150, 64,
        lambda: pn.optimizers.Adam(0.02), None, 0.0, None),
    "dropout-momentum-l2": (
        lambda: [Dense(8, "relu"), Dropout(0.8), Dense(6, "tanh"), Dropout(0.6), Dense(1, "sigmoid")],
        "binary", 3, 1, 130, 32, lambda: pn.optimizers.Momentum(0.05), None, 0.3, None),
    "batchnorm-rmsprop": (
        lambda: [Dense(8, "relu"), BatchNorm(), Dense(6, "leaky_relu", alpha=0.2), BatchNorm(momentum=0.8),
                 Dense(1, "sigmoid")],
        "binary", 3, 1, 150, 40, lambda: pn.optimizers.RMSprop(0.005), None, 0.0, None),
    "batchnorm-identity-activation-layer": (
        lambda: [Dense(5), BatchNorm(), Activation("tanh"), Dense(1, "sigmoid")],
        "binary", 3, 1, 100, 30, lambda: pn.optimizers.Adam(0.01), None, 0.2, None),
    "batchnorm-output": (
        lambda: [Dense(4, "relu"), Dense(1, "sigmoid"), BatchNorm()], "binary", 3, 1, 100, 25,
        lambda: pn.optimizers.Adam(0.01), None, 0.0, None),
    "softmax-onehot-adam-eps-inside-l2": (
        lambda: [Dense(7, "relu"), Dense(4, "softmax")], "onehot", 3, 4, 150, 50,
        lambda: pn.optimizers.Adam(0.01, eps_inside_sqrt=True), None, 0.1, None),
    "softmax-labels-dropout-gd": (
        lambda: [Dense(7, "tanh"), Dropout(0.9), Dense(4, "softmax")], "labels", 3, 4, 150, 64,
        lambda: pn.optimizers.GD(0.1), None, 0.0, None),
    "softmax-labels-activation-layers": (
        lambda: [Dense(6), Activation("relu"), Dense(3), Activation("softmax")], "labels", 3, 3, 120, 64,
        lambda: pn.optimizers.Adam(0.01), None, 0.0, None),
    "mse-fullbatch-adam-l2": (
        lambda: [Dense(6, "tanh"), Dense(2, "identity")], "regression", 3, 2, 90, None,
        lambda: pn.optimizers.Adam(0.01), None, 0.05, None),
    "mse-minibatch-momentum-schedule": (
        lambda: [Dense(6, "leaky_relu"), Dense(2)], "regression", 3, 2, 90, 16,
        lambda: pn.optimizers.Momentum(0.02, beta=0.8), None, 0.0,
        lambda: pn.schedules.InverseTimeDecay(decay_rate=0.5)),
    "planar-fullbatch-gd": (
        lambda: [Dense(4, "tanh"), Dense(1, "sigmoid")], "binary", 2, 1, 200, None,
        lambda: pn.optimizers.GD(1.2), None, 0.0, None),
    "unfused-sigmoid-mse": (
        lambda: [Dense(5, "relu"), Dense(1, "sigmoid")], "binary", 3, 1, 100, 32,
        lambda: pn.optimizers.Momentum(0.1), "mse", 0.0, None),
    "unfused-softmax-mse": (
        lambda: [Dense(5, "relu"), Dense(3, "softmax")], "onehot", 3, 3, 100, 32,
        lambda: pn.optimizers.Adam(0.01), "mse", 0.0, None),
    "unfused-sigmoid-cce-multilabel": (
        lambda: [Dense(5, "tanh"), Dense(3, "sigmoid")], "binary", 3, 3, 100, 32,
        lambda: pn.optimizers.RMSprop(0.01), "categorical_crossentropy", 0.0, None),
    "multilabel-bce": (
        lambda: [Dense(5, "tanh"), Dense(3, "sigmoid")], "binary", 3, 3, 100, 48,
        lambda: pn.optimizers.Adam(0.01), None, 0.0, None),
    "dropout-first-and-keep-one": (
        lambda: [Dropout(0.9), Dense(5, "relu"), Dropout(1.0), Dense(1, "sigmoid")], "binary", 3, 1, 100, 32,
        lambda: pn.optimizers.Adam(0.01), None, 0.0, None),
    "full-batch-dropout-batchnorm-labels": (
        lambda: [Dense(6, "relu"), BatchNorm(), Dropout(0.7), Dense(3, "softmax")], "labels", 3, 3, 80, None,
        lambda: pn.optimizers.Adam(0.01), None, 0.1, None),
}


def _setup(case, dtype):
    layers, task, n_x, n_out, m, batch_size, make_opt, loss_name, l2, make_schedule = CASES[case]
    X, Y = _data(task, m, n_x, n_out)
    model = pn.Sequential(layers(), input_dim=n_x, seed=3, dtype=dtype)
    return model, X, Y, batch_size, make_opt, loss_name, l2, make_schedule


def _reference(model, X, Y, epochs, batch_size, optimizer, loss_name, l2, schedule):
    """The per-layer loop on the numba backend, on a deep copy."""
    ref = copy.deepcopy(model)
    with pn.use_backend("numba"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hist = fit(ref, X, Y, epochs=epochs, batch_size=batch_size, optimizer=optimizer, loss=loss_name, l2=l2,
                   schedule=schedule, seed=SEED, engine=False)
    return ref, hist


def _plan(model, X, Y, batch_size, optimizer, loss_name, l2):
    dtype = model.dtype
    Xd = np.ascontiguousarray(X, dtype=dtype)
    Yd = np.asarray(Y, np.int64) if Y.ndim == 1 else np.ascontiguousarray(Y, dtype=dtype)
    loss = pn.losses.get(loss_name) if loss_name else pn.losses.default_for(model.output_activation)
    bs = None if batch_size is None else min(batch_size, X.shape[1])
    return P.build_plan(model, Xd, Yd, bs, loss, optimizer, l2, SEED)


def _run(plan, epoch0, n_epochs, lrs, step0=0, t0=0):
    out = np.zeros((n_epochs, P.OUT_FIELDS))
    status, done = engine.engine_run(*plan.args(), epoch0, n_epochs, np.asarray(lrs, np.float64), step0, t0,
                                     out, None)
    return status, done, out


def _close(actual, desired, dtype, what):
    actual, desired = np.asarray(actual), np.asarray(desired)
    if np.dtype(dtype) == np.float64:
        np.testing.assert_allclose(actual, desired, rtol=1e-12, atol=1e-12, err_msg=what)
    else:  # a few float32 ulps, scaled by the array's magnitude
        ulp = np.finfo(np.float32).eps
        scale = max(1.0, float(np.max(np.abs(desired)))) if desired.size else 1.0
        np.testing.assert_allclose(actual, desired, rtol=4 * ulp, atol=4 * ulp * scale, err_msg=what)


def _compare_models(model, ref, plan, optimizer, ref_opt, dtype):
    for (i, k, a), (_, _, b) in zip(model.weights(), ref.weights()):
        _close(a, b, dtype, f"layer {i} {k}")
    for i, (la, lb) in enumerate(zip(model.layers, ref.layers)):
        for k in lb.state:
            _close(la.state[k], lb.state[k], dtype, f"layer {i} state {k}")
    for name, flat in (("v", plan.slot_v), ("s", plan.slot_s)):
        if name in ref_opt.slots:
            _close(flat, np.concatenate([a.ravel() for a in ref_opt.slots[name]]), dtype, f"optimizer slot {name}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", list(CASES))
def test_engine_matches_per_layer_loop(case, dtype):
    model, X, Y, batch_size, make_opt, loss_name, l2, make_schedule = _setup(case, dtype)
    epochs = 3
    ref_opt = make_opt()
    schedule = make_schedule() if make_schedule else None
    ref, hist = _reference(model, X, Y, epochs, batch_size, ref_opt, loss_name, l2, schedule)

    optimizer = make_opt()
    plan = _plan(model, X, Y, batch_size, optimizer, loss_name, l2)
    lr0 = optimizer.learning_rate
    lrs = [schedule(e, lr0) if schedule else lr0 for e in range(epochs)]
    status, done, out = _run(plan, 0, epochs, lrs)

    assert (status, done) == (P.STATUS_OK, epochs)
    m = X.shape[1]
    steps = 1 if batch_size is None else -(-m // batch_size)
    np.testing.assert_array_equal(out[:, P.STEPS], steps)
    np.testing.assert_array_equal(out[:, P.SEEN], m)
    _close(out[:, P.COST] / out[:, P.SEEN], hist["loss"], np.float64 if dtype == np.float64 else np.float32, "loss")
    if "accuracy" in hist.history:
        units = model.layers[-1].output_dim if model.task == "binary" else 1  # binary: every unit counts
        np.testing.assert_allclose(out[:, P.CORRECT] / (out[:, P.SEEN] * units), hist["accuracy"], rtol=1e-12,
                                   atol=1e-12)
    else:
        np.testing.assert_array_equal(out[:, P.CORRECT], 0)
    _compare_models(model, ref, plan, optimizer, ref_opt, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", ["dropout-momentum-l2", "softmax-labels-dropout-gd", "batchnorm-identity-activation-layer"])
def test_engine_calls_continue_the_run(case, dtype):
    """epoch0, step0 (dropout keys) and t0 (Adam) carry a run over several calls."""
    model, X, Y, batch_size, make_opt, loss_name, l2, _ = _setup(case, dtype)
    ref_opt = make_opt()
    ref, _ = _reference(model, X, Y, 4, batch_size, ref_opt, loss_name, l2, None)

    optimizer = make_opt()
    plan = _plan(model, X, Y, batch_size, optimizer, loss_name, l2)
    lr = optimizer.learning_rate
    steps = 0
    for epoch0, n in ((0, 1), (1, 2), (3, 1)):
        status, done, out = _run(plan, epoch0, n, [lr] * n, step0=steps, t0=steps)
        assert (status, done) == (P.STATUS_OK, n)
        steps += int(out[:, P.STEPS].sum())
    _compare_models(model, ref, plan, optimizer, ref_opt, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("batch_size", [None, 16], ids=["full", "mini"])
def test_nonfinite_cost_restores_the_epoch_start(dtype, batch_size):
    """A huge learning rate: the engine stops at the epoch the per-layer loop stops at, names
    the same layer and leaves the weights of the last finished epoch."""
    X, Y = _data("regression", 64, 3, 2)
    model = pn.Sequential([Dense(8, "leaky_relu"), Dense(6), Dense(2)], input_dim=3, seed=3, dtype=dtype)
    lr = 3.0 if batch_size is None else 0.7
    make_opt = lambda: pn.optimizers.GD(lr)  # noqa: E731
    ref_opt = make_opt()
    ref, hist = _reference(model, X, Y, 60, batch_size, ref_opt, "mse", 0.0, None)
    match = re.search(r"non-finite cost at epoch (\d+)(?: \(first non-finite output: layer (\d+))?",
                      hist.stopped_reason or "")
    assert match, "the learning rate must make the per-layer loop diverge"
    bad_epoch = int(match.group(1))
    assert bad_epoch >= 1

    optimizer = make_opt()
    plan = _plan(model, X, Y, batch_size, optimizer, "mse", 0.0)
    status, done, out = _run(plan, 0, 60, [lr] * 60)
    assert (status, done) == (P.STATUS_NONFINITE, bad_epoch)
    expected_layer = -1 if match.group(2) is None else int(match.group(2))
    assert out[done, P.NAN_LAYER] == expected_layer
    _close(out[:done, P.COST] / out[:done, P.SEEN], hist["loss"], dtype, "loss")
    for (i, k, a), (_, _, b) in zip(model.weights(), ref.weights()):
        _close(a, b, dtype, f"layer {i} {k}")
        assert np.all(np.isfinite(a))
    assert np.array_equal(plan.snapshot[:plan.params.size], plan.params)


def test_engine_rejects_short_tables():
    model = pn.Sequential([Dense(3, "relu"), Dense(1, "sigmoid")], input_dim=2, seed=0)
    X, Y = _data("binary", 20, 2, 1)
    plan = _plan(model, X, Y, 8, pn.optimizers.Adam(), None, 0.0)
    with pytest.raises(ValueError):
        engine.engine_run(*plan.args(), 0, 3, np.ones(2), 0, 0, np.zeros((3, P.OUT_FIELDS)), None)
    with pytest.raises(ValueError):
        engine.engine_run(*plan.args(), 0, 3, np.ones(3), 0, 0, np.zeros((2, P.OUT_FIELDS)), None)


@pytest.mark.parametrize("batch_size", [None, 32], ids=["full", "mini"])
def test_fortran_ordered_inputs(batch_size):
    """X and Y of any layout (the engine reads them in full batch only)."""
    X, Y = _data("binary", 90, 3, 1)
    results = []
    for order in "CF":
        model = pn.Sequential([Dense(4, "tanh"), Dense(1, "sigmoid")], input_dim=3, seed=3)
        plan = P.build_plan(model, np.asarray(X, order=order), np.asarray(Y, order=order), batch_size,
                            pn.losses.get("binary_crossentropy"), pn.optimizers.Adam(0.01), 0.0, SEED)
        status, done, out = _run(plan, 0, 2, [0.01, 0.01])
        assert (status, done) == (P.STATUS_OK, 2)
        results.append((out, plan.params.copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
