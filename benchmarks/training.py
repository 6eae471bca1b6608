"""Whole-epoch timing of the workloads and the float64 correctness check.

Every implementation starts from the same He draws and sees the same mini-batches in the
same order (global epoch ``k`` shuffles with ``RandomState(SHUFFLE_SEED + k)``). Timing:
one warm-up epoch each, then ``rounds`` rounds; in each round every implementation runs
``epochs_per_round`` epochs in turn (the order rotates), so slow drifts of a noisy machine
hit all of them alike. The result is the median epoch, scaled to a full epoch when the
workload times a subset of its steps.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from . import numpy_ref, pyneural_impl, torch_ref
from .env import numba_cache_counts
from .timing import summary
from .workloads import FULL, make_data

CHECK_TOL = 1e-9  # max |Δparam| after one float64 epoch
#: Rest before each implementation's turn. Worker threads of the library that ran last keep
#: spinning for a while (OpenBLAS for about 0.1 s); on 2 cores, OpenMP code started meanwhile
#: was measured up to 17x slower for its first epoch.
SWITCH_PAUSE_S = 0.15
#: An implementation whose warm-up epoch takes longer than SLOW_EPOCH_S has it counted as a
#: timed epoch, and gets only the rounds that fit in BUDGET_S (unless --repeat is given).
SLOW_EPOCH_S = 5.0
BUDGET_S = 40.0


def implementations(backends, torch_on):
    """``{name: factory(wl, X, Y, dtype, keep_prob)}`` in report order."""
    impls = {"numpy": numpy_ref.Trainer}
    if torch_on:
        impls["torch"] = torch_ref.Trainer
    for be in backends:
        impls["pyneural-" + be] = lambda *a, be=be: pyneural_impl.Trainer(be, *a)
    return impls


def _tiny(wl):
    """Same layer kinds and output as ``wl`` at toy size (its first fit is all JIT work)."""
    dims = (wl.dims[0],) + (4,) * (len(wl.dims) - 2) + (wl.dims[-1],)
    return dataclasses.replace(wl, dims=dims, m=16, m_timed=None,
                               batch_size=None if wl.batch_size is None else 8)


def numba_compile(dtypes) -> dict:
    """Numba's first-use cost, reported apart from every timing: the first ``fit`` of toy
    networks that together use every kernel the benchmarks call (ReLU and tanh hidden
    layers, sigmoid and softmax outputs, dropout, Adam) compiles those kernels, or loads
    them from Numba's disk cache (``cache_hits``/``cache_misses`` say which)."""
    out = {}
    for dt in dtypes:
        before, t0 = numba_cache_counts(), time.perf_counter()
        for key, kp in (("a", 0.8), ("b", 1.0), ("c", 0.8)):
            tiny = _tiny(FULL[key])
            X, Y = make_data(tiny, dt)
            pyneural_impl.Trainer("numba", tiny, X, Y, dt, kp).run_epochs(0, 1)
        after = numba_cache_counts()
        out[np.dtype(dt).name] = {"compile_s": time.perf_counter() - t0,
                                  **{k: after[k] - before[k] for k in after}}
    return out


def time_workload(wl, dtype, keep_prob, impls, rounds=None, pause=SWITCH_PAUSE_S) -> dict:
    """``rounds=None``: the workload's default, with the time budget for slow implementations."""
    dtype = np.dtype(dtype)
    X, Y = make_data(wl, dtype)
    record = {"workload": wl.key, "title": wl.describe(), "dtype": dtype.name, "keep_prob": keep_prob,
              "m_timed": wl.timed_m, "scale": wl.scale, "scaling_note": wl.scaling_note(), "impls": {}}
    n_rounds = rounds or wl.rounds
    trainers, warm, times, allowed = {}, {}, {}, {}
    for name, factory in impls.items():
        trainers[name] = factory(wl, X, Y, dtype, keep_prob)
        time.sleep(pause)
        warm[name] = trainers[name].run_epochs(0, 1)[0]
        times[name], allowed[name] = [], n_rounds
        if rounds is None and warm[name] > SLOW_EPOCH_S:
            times[name] = [warm[name]]
            allowed[name] = int((BUDGET_S - warm[name]) // (warm[name] * wl.epochs_per_round))
    epoch, order = 1, list(impls)
    for r in range(n_rounds):
        for name in order[r % len(order):] + order[:r % len(order)]:
            if r < allowed[name]:
                time.sleep(pause)
                times[name] += trainers[name].run_epochs(epoch, wl.epochs_per_round)
        epoch += wl.epochs_per_round
    for name, trainer in trainers.items():
        res = summary(times[name], scale=wl.scale)
        res["warmup_s"] = warm[name]
        res["warmup_counted"] = rounds is None and warm[name] > SLOW_EPOCH_S
        if getattr(trainer, "call_overhead", None):
            res["fit_call_overhead_s"] = float(np.median(trainer.call_overhead))
        if getattr(trainer, "adam_mode", None):
            res["adam"] = trainer.adam_mode
        record["impls"][name] = res
    record["ratios"] = ratios(record["impls"])
    return record


def ratios(impls) -> dict:
    """Speed-ups of each pyneural backend: reference median / pyneural median (> 1: faster)."""
    out = {}
    for name, res in impls.items():
        if name.startswith("pyneural-"):
            for ref in ("numpy", "torch"):
                if ref in impls:
                    out[f"{name} vs {ref}"] = impls[ref]["median_s"] / res["median_s"]
    return out


def check(wl, impls) -> dict:
    """Train one float64 epoch (no dropout) with every implementation from the same start;
    the largest parameter difference to the NumPy reference must be tiny."""
    X, Y = make_data(wl, np.float64)
    trainers = {name: factory(wl, X, Y, np.float64, 1.0) for name, factory in impls.items()}
    for trainer in trainers.values():
        trainer.run_epochs(0, 1)
    ref = trainers["numpy"].params()
    scale = max(float(np.max(np.abs(p))) for p in ref)
    record = {"workload": wl.key, "title": wl.describe(), "dtype": "float64", "epochs": 1, "diffs": {}}
    for name, trainer in trainers.items():
        if name == "numpy":
            continue
        diff = max(float(np.max(np.abs(np.asarray(a, np.float64) - b))) for a, b in zip(trainer.params(), ref))
        record["diffs"][name] = {"max_abs_diff": diff, "max_rel_diff": diff / scale, "ok": diff <= CHECK_TOL}
    record["ok"] = all(d["ok"] for d in record["diffs"].values())
    return record
