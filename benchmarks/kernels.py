"""Isolated kernels: pyneural (``cpp``, ``numba``) against NumPy and PyTorch.

For each pyneural backend two variants are timed: the public ``pyneural.kernels`` function
(validation + fresh output arrays, what ``Sequential.fit`` calls) and the bare backend op
writing into preallocated outputs ("raw"). NumPy is timed in the course's form and in the
form ``numpy_ref`` trains with, torch as a torch user writes it.

Each result is also a fraction of the machine's limit: GFLOP/s over the dtype's best GEMM,
or GB/s (minimum traffic, STREAM counting) over the measured bandwidth.
"""

from __future__ import annotations

import time

import numpy as np

from . import torch_ref
from .timing import repeats_for, time_calls

FULL_SIZES = {"linear": [(1024, 1024, 1024), (4096, 4096, 1024)], "elementwise": (4096, 4096), "adam": 10_000_000}
QUICK_SIZES = {"linear": [(128, 128, 128), (256, 256, 128)], "elementwise": (256, 256), "adam": 10_000}
KEEP_PROB = 0.8


def _pn_variants(backends, public, raw):
    """``{name: fn}`` for each backend: the public kernel and the raw backend op."""
    from pyneural.backends import load

    out = {}
    for be in backends:
        out[f"pyneural-{be}"] = public(be)
        out[f"pyneural-{be} raw"] = raw(load(be))
    return out


def linear_relu(n, k, m, dt, backends, torch_on):
    import pyneural as pn
    from pyneural.backends import ACTIVATIONS

    rng = np.random.default_rng(0)
    W = rng.standard_normal((n, k)).astype(dt)
    A = rng.standard_normal((k, m)).astype(dt)
    b = rng.standard_normal((n, 1)).astype(dt)
    Z, Aout = np.empty((n, m), dt), np.empty((n, m), dt)
    relu = ACTIVATIONS["relu"]

    def course():
        Z = np.dot(W, A) + b
        return Z, np.maximum(0, Z)

    fns = {"numpy (course)": course}
    if torch_on:
        import torch

        tW, tA, tb = torch.from_numpy(W), torch.from_numpy(A), torch.from_numpy(b)
        fns["torch relu(addmm)"] = lambda: torch.relu(torch.addmm(tb, tW, tA))
    fns.update(_pn_variants(
        backends,
        lambda be: lambda: pn.kernels.linear_forward(W, A, b, "relu", backend=be),
        lambda mod: lambda: mod.linear_forward(W, A, b, Z, Aout, relu, 0.01)))
    return fns, {"flops": 2.0 * n * k * m}


def relu_backward(shape, dt, backends, torch_on):
    import pyneural as pn
    from pyneural.backends import ACTIVATIONS

    rng = np.random.default_rng(1)
    dA = rng.standard_normal(shape).astype(dt)
    Z = rng.standard_normal(shape).astype(dt)
    A = np.maximum(Z, 0)
    dZ = np.empty(shape, dt)
    relu = ACTIVATIONS["relu"]

    def course():
        dZ = np.array(dA, copy=True)
        dZ[Z <= 0] = 0
        return dZ

    fns = {"numpy (course)": course, "numpy dA*(Z>0)": lambda: dA * (Z > 0)}
    if torch_on:
        import torch

        tdA, tZ = torch.from_numpy(dA), torch.from_numpy(Z)
        fns["torch threshold_backward"] = lambda: torch.ops.aten.threshold_backward(tdA, tZ, 0)
    fns.update(_pn_variants(
        backends,
        lambda be: lambda: pn.kernels.activation_backward(dA, Z, "relu", A=A, backend=be),
        lambda mod: lambda: mod.activation_backward(dA, Z, A, dZ, relu, 0.01)))
    return fns, {"bytes": 3.0 * dA.size * dA.itemsize}  # read dA, Z; write dZ


def dropout(shape, dt, backends, torch_on):
    import pyneural as pn

    A = np.random.default_rng(2).standard_normal(shape).astype(dt)
    out, mask = np.empty(shape, dt), np.empty(shape, np.uint8)
    rs, gen = np.random.RandomState(1), np.random.default_rng(1)
    steps = iter(range(10**9))

    def course():  # forward_propagation_with_dropout, with a local RandomState
        D = rs.rand(A.shape[0], A.shape[1])
        D = (D < KEEP_PROB).astype(int)
        return A * D / KEEP_PROB

    def ref():  # numpy_ref's form
        D = gen.random(A.shape, dtype=A.dtype) < KEEP_PROB
        return A * D / KEEP_PROB, D

    fns = {"numpy (course)": course, "numpy Generator": ref}
    if torch_on:
        import torch

        tA = torch.from_numpy(A)
        fns["torch F.dropout"] = lambda: torch.nn.functional.dropout(tA, p=1 - KEEP_PROB, training=True)
    fns.update(_pn_variants(
        backends,
        lambda be: lambda: pn.kernels.dropout_forward(A, KEEP_PROB, 7, next(steps), 1, backend=be),
        lambda mod: lambda: mod.dropout_forward(A, out, mask, KEEP_PROB, 7, next(steps), 1)))
    return fns, {"bytes": (2.0 * A.itemsize + 1) * A.size}  # read A; write out and a 1-byte mask


def adam(n, dt, backends, torch_on):
    import pyneural as pn

    rng = np.random.default_rng(3)
    shape = (n // 1000, 1000)
    p0 = rng.standard_normal(shape).astype(dt)
    g = (rng.standard_normal(shape) * 1e-2).astype(dt)
    state = {"p": p0.copy(), "v": np.zeros(shape, dt), "s": np.zeros(shape, dt), "t": 0}

    def course():  # update_parameters_with_adam for one parameter (allocating)
        st = state
        st["t"] += 1
        st["v"] = 0.9 * st["v"] + (1 - 0.9) * g
        v_corrected = st["v"] / (1 - 0.9 ** st["t"])
        st["s"] = 0.999 * st["s"] + (1 - 0.999) * np.power(g, 2)
        s_corrected = st["s"] / (1 - 0.999 ** st["t"])
        st["p"] = st["p"] - 0.001 * v_corrected / (np.sqrt(s_corrected) + 1e-8)

    fns = {"numpy (course)": course}
    if torch_on:
        import torch

        tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
        tp.grad = torch.from_numpy(g)
        opt, mode = torch_ref.make_adam([tp], 0.001)
        fns[f"torch Adam ({mode})"] = opt.step

    def public(be):
        p, v, s, t = p0.copy(), np.zeros(shape, dt), np.zeros(shape, dt), iter(range(1, 10**9))
        return lambda: pn.kernels.adam_update(p, g, v, s, next(t), 0.001, backend=be)

    def raw(mod):
        p, v, s, t = p0.copy().ravel(), np.zeros(n, dt), np.zeros(n, dt), iter(range(1, 10**9))
        gf = g.ravel()
        return lambda: mod.adam_update(p, gf, v, s, 0.001, 0.9, 0.999, 1e-8, next(t), False)

    fns.update(_pn_variants(backends, public, raw))
    return fns, {"bytes": 7.0 * n * np.dtype(dt).itemsize}  # read p, g, v, s; write p, v, s


def run(dtypes, backends, limits, quick, repeat=None, pause=0.0, log=print) -> list:
    """Time every kernel variant; ``pause`` seconds of rest before each (see
    ``training.SWITCH_PAUSE_S``)."""
    sizes = QUICK_SIZES if quick else FULL_SIZES
    torch_on = torch_ref.available()
    default_rep = repeat or (1 if quick else 7)
    cases = []
    for dt in dtypes:
        dt = np.dtype(dt)
        for n, k, m in sizes["linear"]:
            cases.append((f"linear+bias+ReLU {n}x{k} @ {k}x{m}", dt, lambda n=n, k=k, m=m, dt=dt:
                          linear_relu(n, k, m, dt, backends, torch_on)))
        shape = sizes["elementwise"]
        mb = np.prod(shape) * dt.itemsize / 1e6
        cases.append((f"ReLU backward {shape[0]}x{shape[1]} ({mb:.0f} MB)", dt,
                      lambda dt=dt: relu_backward(shape, dt, backends, torch_on)))
        cases.append((f"dropout kp={KEEP_PROB} {shape[0]}x{shape[1]} ({mb:.0f} MB)", dt,
                      lambda dt=dt: dropout(shape, dt, backends, torch_on)))
        cases.append((f"Adam step, {sizes['adam']:,} params", dt, lambda dt=dt: adam(sizes["adam"], dt, backends, torch_on)))
    results = []
    for name, dt, make in cases:
        fns, work = make()
        for impl, fn in fns.items():
            time.sleep(pause)
            r = time_calls(fn, repeats_for(default_rep))
            row = {"kernel": name, "dtype": dt.name, "impl": impl, **r}
            if "flops" in work:
                row["gflops"] = work["flops"] / r["median_s"] / 1e9
                row["fraction"] = row["gflops"] / limits["gemm"][dt.name]["gflops"] if limits else None
            else:
                row["gbs"] = work["bytes"] / r["median_s"] / 1e9
                row["fraction"] = row["gbs"] / limits["bandwidth_gbs"] if limits else None
            results.append(row)
            log(row)
        del fns
    return results
