"""The C++ training engine ``_core.engine_run`` itself: NumPy's legacy shuffle bit for bit,
the binding's checks, stopping, non-finite costs, resuming, and thread-count independence.
(Parity with the per-layer loop for every layer/loss/optimizer is ``test_engine.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest

import pyneural as pn
from pyneural.engine import plan as P
from pyneural.layers import BatchNorm, Dense, Dropout

core = pytest.importorskip("pyneural._core", reason="the compiled core is not built")
if not hasattr(core, "engine_run"):  # pragma: no cover - an old build
    pytest.skip("this _core has no engine_run", allow_module_level=True)


def _plan(layers, X, Y, batch_size, loss="mse", optimizer="adam", l2=0.0, seed=0, model_seed=1, dtype=np.float64):
    model = pn.Sequential(layers, input_dim=X.shape[0], seed=model_seed, dtype=dtype)
    Y = Y if Y.dtype == np.int64 else Y.astype(dtype)
    plan = P.build_plan(model, X.astype(dtype), Y, batch_size, pn.losses.get(loss), pn.optimizers.get(optimizer),
                        l2, seed)
    return model, plan


def _run(plan, epoch0=0, n_epochs=1, lr=0.01, step0=0, t0=0, stop=None):
    out = np.zeros((n_epochs, P.OUT_FIELDS))
    status, done = core.engine_run(*plan.args(), epoch0, n_epochs, np.full(n_epochs, lr), step0, t0, out, stop)
    return status, done, out


# ------------------------------------------------------------------ the legacy shuffle


def _perm_plan(m, seed):
    X = np.linspace(-1, 1, m).reshape(1, m)
    return _plan([Dense(1)], X, X.copy(), batch_size=m if m > 1 else 1, seed=seed)[1]


@pytest.mark.parametrize("m", [1, 2, 300, 60000])
@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1, 11, 1234567, 3141592653])
def test_permutation_is_numpy_legacy(m, seed):
    plan = _perm_plan(m, seed)
    for epoch in (0, 3):
        _run(plan, epoch0=epoch)
        expected = np.random.RandomState((seed + epoch) % 2**32).permutation(m)
        np.testing.assert_array_equal(plan.perm, expected)


def test_permutation_random_seeds_and_sizes():
    rng = np.random.default_rng(7)
    for _ in range(25):
        m, seed = int(rng.integers(1, 3000)), int(rng.integers(0, 2**62))
        plan = _perm_plan(m, seed)
        _run(plan)
        np.testing.assert_array_equal(plan.perm, np.random.RandomState(seed % 2**32).permutation(m))


# ------------------------------------------------------------------ binding checks


def _bad_args():
    """(description, function of the plan's arguments that breaks one, expected error)."""
    def at(name):
        return P.Plan.ARG_NAMES.index(name)

    def replace(name, value):
        def f(args):
            args[at(name)] = value(args[at(name)]) if callable(value) else value
        return f

    def meta(field, value):
        def f(args):
            m = args[at("meta")].copy()
            m[field] = value
            args[at("meta")] = m
        return f

    def op(row, col, value):
        def f(args):
            o = args[at("ops")].copy()
            o[row, col] = value
            args[at("ops")] = o
        return f

    return [
        ("X of another dtype", replace("X", lambda a: a.astype(np.float32)), TypeError),
        ("ws of another dtype", replace("ws", lambda a: a.astype(np.float32)), TypeError),
        ("ops as int32", replace("ops", lambda a: a.astype(np.int32)), TypeError),
        ("masks as int8", replace("masks", lambda a: a.astype(np.int8)), TypeError),
        ("params strided", replace("params", lambda a: np.repeat(a, 2)[::2]), ValueError),
        ("params read-only", replace("params", lambda a: np.frombuffer(a.tobytes(), a.dtype)), ValueError),
        ("params too short", replace("params", lambda a: a[:-1].copy()), ValueError),
        ("grads is params", lambda args: args.__setitem__(at("grads"), args[at("params")]), ValueError),
        ("ws too small", replace("ws", lambda a: a[: a.size // 2].copy()), ValueError),
        ("XT wrong shape", replace("XT", lambda a: a[:-1].copy()), ValueError),
        ("YT missing", replace("YT", lambda a: np.empty((0, 0), a.dtype)), ValueError),
        ("perm too short", replace("perm", lambda a: a[:-1].copy()), ValueError),
        ("slot_s missing for adam", replace("slot_s", lambda a: np.empty(0, a.dtype)), ValueError),
        ("snapshot too short", replace("snapshot", lambda a: a[:-1].copy()), ValueError),
        ("meta too short", replace("meta", lambda a: a[:-1].copy()), ValueError),
        ("n_ops mismatch", meta(P.M_N_OPS, 7), ValueError),
        ("batch larger than m", meta(P.M_B, 10**6), ValueError),
        ("unknown loss", meta(P.M_LOSS, 9), ValueError),
        ("unknown optimizer", meta(P.M_OPT, -1), ValueError),
        ("first_grad out of range", meta(P.M_FIRST_GRAD, 99), ValueError),
        ("Xb outside ws", meta(P.M_XB, 10**9), ValueError),
        ("broken op chain", op(1, P.N_IN, 3), ValueError),
        ("unknown op kind", op(0, P.KIND, 17), ValueError),
        ("unknown activation", op(0, P.ACT, 42), ValueError),
        ("W outside params", op(0, P.P0, 10**6), ValueError),
        ("output outside ws", op(1, P.OUT, -5), ValueError),
        ("dropout mask outside masks", op(2, P.AUX0, 10**8), ValueError),
        ("running stats outside state", op(3, P.STATE, 10**6), ValueError),
    ]


@pytest.fixture(scope="module")
def small_plan():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 50)), rng.standard_normal((2, 50))
    layers = [Dense(4, "relu"), Dense(6, "tanh"), Dropout(0.5), BatchNorm(), Dense(2)]
    return _plan(layers, X, Y, batch_size=16)[1]


def test_binding_rejects_non_contiguous_X_in_full_batch():
    """X is read only in full batch (mini-batches gather from XT), so it is checked there."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 50)), rng.standard_normal((2, 50))
    plan = _plan([Dense(4, "relu"), Dense(2)], X, Y, batch_size=None)[1]
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in plan.args()]
    at = P.Plan.ARG_NAMES.index("X")
    args[at] = np.asfortranarray(args[at])  # "X transposed (not C-contiguous)"
    with pytest.raises(ValueError, match=r"\[engine_run\]"):
        core.engine_run(*args, 0, 1, np.full(1, 0.01), 0, 0, np.zeros((1, P.OUT_FIELDS)), None)


@pytest.mark.parametrize("what,breaks,error", _bad_args(), ids=[c[0] for c in _bad_args()])
def test_binding_rejects_malformed_plans(small_plan, what, breaks, error):
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in small_plan.args()]
    breaks(args)
    with pytest.raises(error, match=r"\[engine_run\]"):
        core.engine_run(*args, 0, 1, np.full(1, 0.01), 0, 0, np.zeros((1, P.OUT_FIELDS)), None)


def test_binding_rejects_bad_call_arguments(small_plan):
    args = small_plan.args()
    ok_out, lrs = np.zeros((2, P.OUT_FIELDS)), np.full(2, 0.01)
    with pytest.raises(ValueError, match="out"):
        core.engine_run(*args, 0, 2, lrs, 0, 0, np.zeros((1, P.OUT_FIELDS)), None)
    with pytest.raises(ValueError, match="lrs"):
        core.engine_run(*args, 0, 2, np.full(1, 0.01), 0, 0, ok_out, None)
    with pytest.raises(ValueError, match=">= 0"):
        core.engine_run(*args, -1, 2, lrs, 0, 0, ok_out, None)
    with pytest.raises(TypeError, match="callable"):
        core.engine_run(*args, 0, 2, lrs, 0, 0, ok_out, 3)


def test_binding_rejects_out_of_range_labels():
    rng = np.random.default_rng(1)
    X, labels = rng.standard_normal((3, 40)), rng.integers(0, 3, 40)
    _, plan = _plan([Dense(3, "softmax")], X, labels, batch_size=8, loss="categorical_crossentropy")
    plan.labels[5] = 3
    with pytest.raises(ValueError, match="labels"):
        _run(plan)


# ------------------------------------------------------------------ run semantics


def _binary_data(m=400, n_x=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    return X, (X[0:1] * X[1:2] > 0).astype(float)


def test_split_calls_equal_one_call():
    X, Y = _binary_data()
    layers = lambda: [Dense(8, "relu"), Dropout(0.8), Dense(1, "sigmoid")]  # noqa: E731
    _, a = _plan(layers(), X, Y, 64, loss="bce", l2=0.01, seed=9)
    _, b = _plan(layers(), X, Y, 64, loss="bce", l2=0.01, seed=9)
    status, done, out_a = _run(a, n_epochs=4)
    assert (status, done) == (P.STATUS_OK, 4)
    assert np.all(out_a[:, P.STEPS] == 7) and np.all(out_a[:, P.SEEN] == 400)
    out_b, step = np.zeros_like(out_a), 0
    for e in range(4):
        status, done, row = _run(b, epoch0=e, step0=step, t0=step)
        assert (status, done) == (P.STATUS_OK, 1)
        out_b[e] = row[0]
        step += int(row[0, P.STEPS])
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.slot_v, b.slot_v)
    np.testing.assert_array_equal(out_a, out_b)


def test_stop_callable_ends_the_run_after_a_step():
    X, Y = _binary_data()
    _, plan = _plan([Dense(4, "tanh"), Dense(1, "sigmoid")], X, Y, 1, loss="bce")
    calls = []

    def stop():
        calls.append(1)
        return len(calls) >= 2

    status, done, out = _run(plan, n_epochs=10**6, stop=stop)
    assert status == P.STATUS_STOPPED and len(calls) == 2
    row = out[done]
    assert 0 < row[P.STEPS] <= 400 and row[P.SEEN] == row[P.STEPS]
    assert np.all(out[:done, P.STEPS] == 400) and np.all(out[done + 1:, P.SEEN] == 0)


def test_exception_in_stop_propagates():
    X, Y = _binary_data()
    _, plan = _plan([Dense(4, "tanh"), Dense(1, "sigmoid")], X, Y, 1, loss="bce")

    def stop():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(plan, n_epochs=10**6, stop=stop)


def test_nonfinite_cost_restores_the_epoch_and_names_the_layer():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((3, 500)) * 10, rng.standard_normal((2, 500)) * 10
    _, plan = _plan([Dense(16, "relu"), Dense(16, "relu"), Dense(2)], X, Y, 50, optimizer="gd", model_seed=2,
                    dtype=np.float32)
    status, done, out = _run(plan, n_epochs=30, lr=0.5)
    assert status == P.STATUS_NONFINITE
    row = out[done]
    assert row[P.NAN_LAYER] in (0, 1, 2) and row[P.STEPS] < 10
    # params and state are those at the start of the failed epoch
    np.testing.assert_array_equal(plan.params, plan.snapshot[: plan.params.size])
    assert np.all(np.isfinite(plan.params))


# ------------------------------------------------------------------ threads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_count_does_not_change_a_bit(dtype):
    rng = np.random.default_rng(5)
    X, labels = rng.standard_normal((100, 1200)), rng.integers(0, 10, 1200)

    def train():
        layers = [Dense(300, "relu"), BatchNorm(), Dropout(0.8), Dense(200, "tanh"), Dense(10, "softmax")]
        _, plan = _plan(layers, X, labels, 600, loss="categorical_crossentropy", l2=0.1, seed=4, dtype=dtype)
        _, _, out = _run(plan, n_epochs=2)
        return plan.params.copy(), plan.state.copy(), plan.slot_s.copy(), out

    pn.backends.load("cpp")  # pn.set_num_threads reaches the backends already loaded
    before = pn.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            pn.set_num_threads(n)
            assert core.get_num_threads() == n
            results.append(train())
    finally:
        pn.set_num_threads(before)
    one, two = results
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
