"""In-place optimizer updates, several steps in a row, against the reference.

At every step the reference runs on a copy of the backend's current state, so each
comparison is a one-step forward-error bound (``K u`` times the sizes of the terms that
were rounded) and errors never compound across steps.
"""

from __future__ import annotations

import numpy as np
import pytest
import pyneural_backend_test_helpers as H

from pyneural.backends import reference as ref

SIZES = [1, 7, 1000, 4097, 70001]
K = 8
LR = 0.01


def _buf(values):
    return H.Buf(values.shape, values.dtype, "C").set(values)


def _grads(rng, n, dtype, steps):
    out = []
    for _ in range(steps):
        g = rng.normal(size=n)
        g[:: max(2, n // 3)] = 0.0  # zero gradients (rmsprop/adam denominators at eps)
        out.append(g.astype(dtype))
    return out


def _run(backend, op, dtype, rng, n, state_names, scalars_for_step, bounds, steps=5, init=None, readonly_grad=False):
    """Run ``steps`` updates on the backend; check each against the reference."""
    param = rng.normal(size=n).astype(dtype)
    state = {name: np.zeros(n, dtype) for name in state_names}
    if init is not None:
        state.update({k: v.astype(dtype) for k, v in init(rng, n).items()})
    bufs = {"param": _buf(param), **{k: _buf(v) for k, v in state.items()}}
    for step, g in enumerate(_grads(rng, n, dtype, steps), start=1):
        grad = _buf(g)
        if readonly_grad:
            grad.a.setflags(write=False)
        before = {k: b.a.copy() for k, b in bufs.items()}
        want = {k: v.copy() for k, v in before.items()}
        scalars = scalars_for_step(step)
        ref_args = [want["param"], g.copy()] + [want[s] for s in state_names]
        getattr(ref, op)(*ref_args, **scalars)
        ret = getattr(backend, op)(bufs["param"].a, grad.a, *(bufs[s].a for s in state_names), **scalars)
        assert ret is None
        grad.assert_unchanged(f"{op} grad")
        for k, b in bufs.items():
            b.assert_padding_intact(f"{op} {k}")
        f64 = {k: v.astype(np.float64) for k, v in before.items()}
        for k, bound in bounds(f64, g.astype(np.float64), scalars, H.eps(dtype)).items():
            H.assert_within(bufs[k].a, want[k], bound + H.tiny(dtype), f"{backend.NAME}.{op} {k} at step {step}")


def _gd_bounds(s, g, sc, u):
    return {"param": K * u * (np.abs(s["param"]) + np.abs(sc["lr"] * g))}


def _momentum_bounds(s, g, sc, u):
    b = sc["beta"]
    Mv = b * np.abs(s["v"]) + (1 - b) * np.abs(g)
    return {"v": K * u * Mv, "param": K * u * (np.abs(s["param"]) + sc["lr"] * Mv)}


def _rmsprop_bounds(s, g, sc, u):
    b = sc["beta"]
    s_new = b * s["s"] + (1 - b) * g * g
    delta = sc["lr"] * np.abs(g) / (np.sqrt(s_new) + sc["eps"])
    return {"s": K * u * s_new, "param": K * u * (np.abs(s["param"]) + delta)}


def _adam_bounds(s, g, sc, u):
    b1, b2, t = sc["beta1"], sc["beta2"], sc["t"]
    Mv = b1 * np.abs(s["v"]) + (1 - b1) * np.abs(g)
    v_new = b1 * s["v"] + (1 - b1) * g
    s_new = b2 * s["s"] + (1 - b2) * g * g
    bc1, bc2 = 1 - b1**t, 1 - b2**t
    if sc["eps_inside_sqrt"]:
        denom = np.sqrt(s_new / bc2 + sc["eps"])
    else:
        denom = np.sqrt(s_new / bc2) + sc["eps"]
    delta = sc["lr"] * np.abs(v_new) / bc1 / denom
    carried = sc["lr"] * Mv / bc1 / denom  # rounding error of v, carried into the step
    return {
        "v": K * u * Mv,
        "s": K * u * s_new,
        "param": K * u * (np.abs(s["param"]) + delta + carried),
    }


@pytest.mark.parametrize("n", SIZES)
def test_gd_update(backend, dtype, rng, n):
    _run(backend, "gd_update", dtype, rng, n, [], lambda t: {"lr": LR}, _gd_bounds)


@pytest.mark.parametrize("n", SIZES)
def test_momentum_update(backend, dtype, rng, n):
    _run(backend, "momentum_update", dtype, rng, n, ["v"], lambda t: {"lr": LR, "beta": 0.9}, _momentum_bounds)


@pytest.mark.parametrize("n", SIZES)
def test_rmsprop_update(backend, dtype, rng, n):
    scal = {"lr": LR, "beta": 0.999, "eps": 1e-8}
    _run(backend, "rmsprop_update", dtype, rng, n, ["s"], lambda t: scal, _rmsprop_bounds)


def _adam_scalars(eps_inside_sqrt, t0=0, beta1=0.9, beta2=0.999, eps=1e-8):
    def scalars(step):
        return {
            "lr": LR,
            "beta1": beta1,
            "beta2": beta2,
            "eps": eps,
            "t": t0 + step,
            "eps_inside_sqrt": eps_inside_sqrt,
        }

    return scalars


@pytest.mark.parametrize("eps_inside_sqrt", [False, True], ids=["eps_outside", "eps_inside"])
@pytest.mark.parametrize("n", SIZES)
def test_adam_update(backend, dtype, rng, n, eps_inside_sqrt):
    _run(backend, "adam_update", dtype, rng, n, ["v", "s"], _adam_scalars(eps_inside_sqrt), _adam_bounds, steps=6)


def _warm_state(rng, n):
    return {"v": rng.normal(0, 0.1, size=n), "s": rng.uniform(0, 0.05, size=n)}


@pytest.mark.parametrize("t0", [99, 10**6], ids=["t100", "t1e6"])
@pytest.mark.parametrize("eps_inside_sqrt", [False, True], ids=["eps_outside", "eps_inside"])
def test_adam_update_late_steps(backend, dtype, rng, eps_inside_sqrt, t0):
    """Large t (bias corrections ~1; beta**t underflows at t=1e6) from a warm state."""
    _run(
        backend, "adam_update", dtype, rng, 513, ["v", "s"], _adam_scalars(eps_inside_sqrt, t0), _adam_bounds,
        steps=3, init=_warm_state,
    )


@pytest.mark.parametrize("eps", [1e-8, 1e-2])
def test_adam_update_hyperparameters(backend, dtype, rng, eps):
    scal = _adam_scalars(False, beta1=0.5, beta2=0.75, eps=eps)
    _run(backend, "adam_update", dtype, rng, 257, ["v", "s"], scal, _adam_bounds, steps=4, init=_warm_state)


@pytest.mark.parametrize("op", ["gd_update", "momentum_update", "rmsprop_update", "adam_update"])
def test_read_only_grad(backend, dtype, rng, op):
    state, scal, bounds = {
        "gd_update": ([], lambda t: {"lr": LR}, _gd_bounds),
        "momentum_update": (["v"], lambda t: {"lr": LR, "beta": 0.9}, _momentum_bounds),
        "rmsprop_update": (["s"], lambda t: {"lr": LR, "beta": 0.9, "eps": 1e-8}, _rmsprop_bounds),
        "adam_update": (["v", "s"], _adam_scalars(True), _adam_bounds),
    }[op]
    _run(backend, op, dtype, rng, 33, state, scal, bounds, steps=2, readonly_grad=True)


def test_adam_first_step_closed_form(backend, dtype):
    """From zero state, step 1 moves every parameter by lr * sign(g) * |g| / (|g| + eps)."""
    g = np.array([1.0, -2.0, 0.5, -0.25, 0.0], dtype)
    p = np.zeros(5, dtype)
    v = np.zeros(5, dtype)
    s = np.zeros(5, dtype)
    backend.adam_update(p, g, v, s, 0.1, 0.9, 0.999, 1e-8, 1, False)
    g64 = g.astype(np.float64)
    want = -0.1 * g64 / (np.abs(g64) + 1e-8)
    H.assert_within(p, want, 16 * H.eps(dtype) * np.abs(want) + H.tiny(dtype), "adam step 1")
    H.assert_within(v, 0.1 * g64, H.elem_bound(0.1 * g64, dtype), "adam v")
    H.assert_within(s, 0.001 * g64**2, 8 * H.eps(dtype) * 0.001 * g64**2 + H.tiny(dtype), "adam s")
