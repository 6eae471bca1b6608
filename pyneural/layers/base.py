"""The layer protocol: explicit parameters, ``forward`` returns a cache, ``backward`` uses it.

Gradients follow the pipeline's convention (see ``backends/contract.py``): the gradient that
flows between layers is per example (``m`` times ``∂J/∂A``, as the output layer's ``AL - Y``
is), and parameter gradients are means over the batch (``dW = dZ·Aᵀ/m``).
"""

from __future__ import annotations

import numpy as np


class Context:
    """What a forward/backward pass needs besides the data: training mode, dropout keys, L2."""

    __slots__ = ("dropout", "l2", "layer_index", "seed", "step", "training", "update_stats")

    def __init__(self, training=False, dropout=True, seed=0, step=0, l2=0.0, update_stats=True):
        self.training = training
        self.update_stats = update_stats
        self.dropout = dropout
        self.seed = seed
        self.step = step
        self.l2 = l2
        self.layer_index = 0


class Layer:
    """Base class. Subclasses set ``self.params`` (name -> array) in :meth:`build` and fill
    ``self.grads`` (same names) in :meth:`backward`."""

    #: Short name used in summaries and saved files.
    kind = "layer"

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}  # non-trainable arrays (batch-norm statistics)
        self.input_dim: int | None = None
        self.output_dim: int | None = None

    def build(self, input_dim: int, rng: np.random.RandomState, dtype) -> int:
        self.input_dim = self.output_dim = input_dim
        return input_dim

    def forward(self, A, ctx: Context):
        raise NotImplementedError

    def backward(self, dA, cache, ctx: Context):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    def n_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
