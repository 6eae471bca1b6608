"""``Dense``: the course's fully connected layer ``A = g(W·A_prev + b)``, one fused kernel."""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..functional.init import layer_scale
from .base import Layer

INITS = ("he", "xavier", "glorot", "glorot_uniform", "random", "zeros")


class Dense(Layer):
    """Fully connected layer with ``units`` outputs.

    Parameters
    ----------
    units : int
        Number of units ``n[l]``.
    activation : str
        "relu", "sigmoid", "tanh", "leaky_relu", "softmax" or "identity"/"linear".
    init : str or float
        "he" (√(2/n[l-1]), default), "xavier" (√(1/n[l-1])), "glorot" (√(2/(n[l-1]+n[l]))),
        "glorot_uniform" (U(±√(6/(n[l-1]+n[l])))), "random" (×``scale``, default 0.01),
        "zeros", or a number (the ``randn`` multiplier). Normal draws are the course's
        ``randn(n[l], n[l-1]) * scale``, layer after layer from the model's seed.
    scale : float, optional
        Multiplier for ``init="random"`` (the course uses 0.01 and, to show its failure, 10).
    """

    kind = "dense"

    def __init__(self, units, activation="identity", init="he", scale=None, alpha=0.01):
        super().__init__()
        if isinstance(units, (bool, np.bool_)) or not isinstance(units, (int, np.integer)):
            raise TypeError(f"units must be a positive int, got {units!r}")
        if units < 1:
            raise ValueError(f"units must be >= 1, got {units}")
        if units > 2**31:
            raise ValueError(f"units must be at most 2**31, got {units}")
        kernels.activation_code(activation)  # fail early on unknown names
        if not (isinstance(init, (int, float)) and not isinstance(init, bool)) and init not in INITS:
            raise ValueError(f"init must be one of {INITS} or a number, got {init!r}")
        self.units = int(units)
        self.activation = activation
        self.init = init
        self.scale = scale
        self.alpha = alpha
        self.use_bias = True
        self._moved_activation = None  # set when a following BatchNorm takes the activation

    def build(self, input_dim, rng, dtype):
        n, k = self.units, input_dim
        init = self.init
        if init == "zeros":
            W = np.zeros((n, k))
        elif init == "glorot_uniform":
            limit = np.sqrt(6.0 / (n + k))
            W = rng.uniform(-limit, limit, size=(n, k))
        else:
            scale = (0.01 if self.scale is None else self.scale) if init == "random" else layer_scale(init, k, n)
            W = rng.randn(n, k) * scale
        self.params = {"W": np.ascontiguousarray(W, dtype=dtype)}
        if self.use_bias:
            self.params["b"] = np.zeros((n, 1), dtype=dtype)
        self.input_dim, self.output_dim = k, n
        return n

    def _bias(self):
        b = self.params.get("b")
        return b if b is not None else np.zeros((self.units, 1), self.params["W"].dtype)

    def forward(self, A, ctx):
        Z, out = kernels.linear_forward(self.params["W"], A, self._bias(), self.activation, alpha=self.alpha)
        return out, (A, Z, out)

    def backward(self, dA, cache, ctx, dZ=None):
        """``dZ`` may be given directly (the output layer with a matching loss)."""
        A_prev, Z, out = cache
        if dZ is None:
            dZ = kernels.activation_backward(dA, Z, self.activation, A=out, alpha=self.alpha)
        need = ctx.layer_index > 0
        dA_prev, dW, db = kernels.linear_backward(dZ, A_prev, self.params["W"], ctx.l2, need_dA_prev=need)
        self.grads = {"W": dW}
        if self.use_bias:
            self.grads["b"] = db
        return dA_prev

    def get_config(self):
        cfg = {"units": self.units, "activation": self._moved_activation or self.activation, "init": self.init}
        if self.scale is not None:
            cfg["scale"] = self.scale
        if self.alpha != 0.01:
            cfg["alpha"] = self.alpha
        return cfg
