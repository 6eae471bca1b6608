"""``Activation``: an activation function as a layer of its own."""

from __future__ import annotations

from .. import kernels
from .base import Layer


class Activation(Layer):
    """``A = g(Z)`` for any of "relu", "sigmoid", "tanh", "leaky_relu", "softmax", "identity"."""

    kind = "activation"

    def __init__(self, name, alpha=0.01):
        super().__init__()
        kernels.activation_code(name)
        self.name = name
        self.alpha = alpha

    def forward(self, A, ctx):
        out = kernels.activation_forward(A, self.name, alpha=self.alpha)
        return out, (A, out)

    def backward(self, dA, cache, ctx, dZ=None):
        if dZ is not None:
            return dZ
        Z, out = cache
        return kernels.activation_backward(dA, Z, self.name, A=out, alpha=self.alpha)

    @property
    def activation(self):
        return self.name

    def get_config(self):
        cfg = {"name": self.name}
        if self.alpha != 0.01:
            cfg["alpha"] = self.alpha
        return cfg
