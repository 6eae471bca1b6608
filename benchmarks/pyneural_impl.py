"""pyneural as users train it: ``Sequential([...]).fit(...)`` on one backend.

Per-epoch times are the ``History``'s ``"time"``: what ``fit`` measures around the training
engine's calls (the shuffle, the gather, every step's forward, cost, backward and Adam, the
epoch's weight snapshot), divided by the epochs of the call when several run in one call.
The wall time of each ``fit`` call is kept too; the difference is the per-call set-up (input
checks, building the engine's plan, callbacks), which ``fit(epochs=N)`` pays once.
"""

from __future__ import annotations

import time

import pyneural as pn
from pyneural.layers import Dense, Dropout

from .workloads import INIT_SEED, SHUFFLE_SEED


def build_model(wl, dtype, keep_prob):
    layers = []
    for n in wl.dims[1:-1]:
        layers.append(Dense(n, wl.hidden, init="he"))
        if keep_prob < 1:
            layers.append(Dropout(keep_prob))
    layers.append(Dense(wl.dims[-1], wl.output, init="he"))
    return pn.Sequential(layers, input_dim=wl.dims[0], seed=INIT_SEED, dtype=dtype)


class Trainer:
    def __init__(self, backend, wl, X, Y, dtype, keep_prob):
        self.backend = backend
        self.name = "pyneural-" + backend
        self.wl, self.X, self.Y = wl, X, Y
        self.model = build_model(wl, dtype, keep_prob)
        self.optimizer = pn.optimizers.Adam(learning_rate=wl.lr)
        self.call_overhead = []  # fit wall time minus its epochs, per call

    def run_epochs(self, start, n):
        # fit(seed=s) shuffles its epoch j with RandomState(s + j): global epoch start + j.
        t0 = time.perf_counter()
        with pn.use_backend(self.backend):
            history = self.model.fit(self.X, self.Y, epochs=n, batch_size=self.wl.batch_size,
                                     optimizer=self.optimizer, seed=SHUFFLE_SEED + start)
        wall = time.perf_counter() - t0
        times = list(history["time"])
        if len(times) != n:
            raise RuntimeError(f"{self.name}: fit ran {len(times)} of {n} epochs ({history.stopped_reason})")
        self.call_overhead.append(wall - sum(times))
        return times

    def params(self):
        return [a for _, _, a in self.model.weights()]
