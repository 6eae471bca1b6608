"""The training workloads (a)-(e) of issue 4 and their data.

Every network is ``Dense(relu|tanh) [Dropout] ... Dense(sigmoid|softmax)``, He-initialised
from ``RandomState(INIT_SEED)`` layer after layer (pyneural's ``Sequential(seed=...)`` draws),
trained with Adam; epoch ``k`` shuffles with ``RandomState(SHUFFLE_SEED + k).permutation(m)``
(pyneural's ``fit(seed=...)``). Data are ``(n_x, m)``, examples in columns, labels ``(1, m)``
0/1 for a sigmoid output and one-hot ``(C, m)`` for softmax.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

INIT_SEED = 3
SHUFFLE_SEED = 11


@dataclasses.dataclass(frozen=True)
class Workload:
    key: str  # "a" ... "e"
    title: str
    dims: tuple  # layer sizes n[0], ..., n[L]
    hidden: str  # hidden activation
    m: int  # examples in a full epoch
    batch_size: int | None  # None: full batch (no shuffle)
    lr: float
    data: str  # "moons", "planar", "digits", "synthetic"
    epochs_per_round: int = 1  # epochs timed back to back in one fit call
    rounds: int = 5  # rounds; every round times each implementation in turn
    m_timed: int | None = None  # time an epoch over these first examples only, then scale

    @property
    def output(self) -> str:
        return "sigmoid" if self.dims[-1] == 1 else "softmax"

    @property
    def timed_m(self) -> int:
        return self.m_timed or self.m

    @property
    def scale(self) -> float:
        """Factor from the timed epoch to a full epoch over ``m`` examples."""
        return self.m / self.timed_m

    def steps(self, m=None) -> int:
        m = self.m if m is None else m
        return 1 if self.batch_size is None else math.ceil(m / self.batch_size)

    def flops_per_epoch(self) -> float:
        """Multiply-adds x2 of the epoch's GEMMs (forward, dW, dA except dA0)."""
        pairs = list(zip(self.dims[:-1], self.dims[1:]))
        fwd = sum(k * n for k, n in pairs)
        dA = sum(k * n for k, n in pairs[1:])
        return 2.0 * self.m * (2 * fwd + dA)

    def describe(self) -> str:
        batch = "full batch" if self.batch_size is None else f"B={self.batch_size}"
        return f"({self.key}) {self.title} {'-'.join(map(str, self.dims))} {self.hidden}/{self.output}, m={self.m:,}, {batch}"

    def scaling_note(self) -> str | None:
        if self.m_timed is None or self.m_timed == self.m:
            return None
        return (f"timed on {self.steps(self.m_timed)} of {self.steps()} steps ({self.m_timed:,} of {self.m:,} "
                f"examples) and scaled x{self.scale:.3g} to a full epoch")


FULL = {
    "a": Workload("a", "moons", (2, 5, 2, 1), "relu", 300, 64, 0.007, "moons", epochs_per_round=20),
    "b": Workload("b", "planar", (2, 4, 1), "tanh", 400, None, 0.01, "planar", epochs_per_round=50),
    "c": Workload("c", "digits", (64, 128, 64, 10), "relu", 1797, 128, 0.001, "digits", epochs_per_round=5),
    "d": Workload("d", "MNIST-size", (784, 512, 256, 10), "relu", 60000, 256, 0.001, "synthetic",
                  rounds=3, m_timed=60 * 256),
    "e": Workload("e", "large", (4096, 4096, 4096, 10), "relu", 2048, 1024, 0.0001, "synthetic",
                  rounds=3, m_timed=1024),
}

#: --quick: tiny sizes, one round; (d) and (e) still exercise the step scaling.
QUICK = {
    "a": dataclasses.replace(FULL["a"], epochs_per_round=2, rounds=1),
    "b": dataclasses.replace(FULL["b"], epochs_per_round=2, rounds=1),
    "c": dataclasses.replace(FULL["c"], m=512, epochs_per_round=1, rounds=1),
    "d": dataclasses.replace(FULL["d"], dims=(784, 32, 16, 10), m=1024, rounds=1, m_timed=512),
    "e": dataclasses.replace(FULL["e"], dims=(256, 256, 256, 10), m=512, batch_size=256, rounds=1, m_timed=256),
}


def for_check(wl: Workload, quick: bool) -> Workload:
    """The size the float64 correctness check trains: the timed size, except (e) whose
    4096-wide layers take minutes on the loop-GEMM Numba backend (1024-wide instead)."""
    if wl.key == "e" and not quick:
        return dataclasses.replace(wl, dims=(4096, 1024, 1024, 10), m=1024, m_timed=None)
    return wl


def make_data(wl: Workload, dtype, m=None):
    """``(X, Y)`` of the workload, ``X (n_x, m)`` in ``dtype``; the first ``m`` examples."""
    m = wl.timed_m if m is None else m
    n_x, n_out = wl.dims[0], wl.dims[-1]
    if wl.data in ("moons", "planar"):
        import pyneural as pn

        X, Y = pn.datasets.moons(wl.m) if wl.data == "moons" else pn.datasets.planar(wl.m)
        return X[:, :m].astype(dtype), Y[:, :m].astype(dtype)
    if wl.data == "digits":
        X, labels = _digits(wl.m)
    else:  # synthetic: standard-normal features, labels of a random linear "teacher"
        rng = np.random.default_rng(1234)
        X = rng.standard_normal((n_x, m), dtype=np.float32)
        labels = np.argmax(rng.standard_normal((n_out, n_x), dtype=np.float32) @ X, axis=0)
    X, labels = X[:, :m], labels[:m]
    Y = np.zeros((n_out, X.shape[1]), dtype)
    Y[labels, np.arange(X.shape[1])] = 1
    return np.ascontiguousarray(X, dtype=dtype), Y


def _digits(m):
    """scikit-learn's 8x8 digits scaled to [0, 1] (synthetic of the same shape without it)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        rng = np.random.default_rng(0)
        return rng.random((64, m)), rng.integers(0, 10, m)
    d = load_digits()
    return d.data.T[:, :m] / 16.0, d.target[:m]


def he_parameters(wl: Workload, dtype):
    """``[(W1, b1), ...]``: pyneural's ``Dense(init="he")`` draws for ``Sequential(seed=INIT_SEED)``."""
    rng = np.random.RandomState(INIT_SEED)
    out = []
    for k, n in zip(wl.dims[:-1], wl.dims[1:]):
        W = rng.randn(n, k) * np.sqrt(2 / k)
        out.append((np.ascontiguousarray(W, dtype=dtype), np.zeros((n, 1), dtype)))
    return out


def batches(m, batch_size, epoch):
    """Index arrays of epoch ``epoch``'s mini-batches (``None``: the full batch, unshuffled)."""
    if batch_size is None:
        return [None]
    perm = np.random.RandomState(SHUFFLE_SEED + epoch).permutation(m)
    return [perm[k:k + batch_size] for k in range(0, m, batch_size)]
