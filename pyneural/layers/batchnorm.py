"""``BatchNorm``: the notes' batch normalisation of ``Z[l]``, with running statistics."""

from __future__ import annotations

import numpy as np

from .. import kernels
from .._validation import check_number
from .base import Layer


class BatchNorm(Layer):
    """Normalises each unit over the mini-batch, ``Z̃ = γ (Z - μ)/√(σ² + ε) + β``.

    In training it uses the batch's μ, σ² and updates exponentially weighted running
    averages ``μ_run = momentum·μ_run + (1 - momentum)·μ`` (likewise σ²); outside ``fit``
    it uses the running averages (the notes' test-time rule). γ and β are learned.

    Placed right after a ``Dense`` layer it normalises that layer's ``Z`` (before the
    activation), as in the notes: the Dense layer's bias is dropped (β plays its role) and
    its activation is applied after the normalisation.
    """

    kind = "batchnorm"

    def __init__(self, momentum=0.9, epsilon=1e-5):
        super().__init__()
        self.momentum = check_number(momentum, "momentum", minimum=0.0)
        if self.momentum >= 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.epsilon = check_number(epsilon, "epsilon", minimum=0.0, strict=True)
        self.activation = "identity"  # set to the preceding Dense's activation by the model

    def build(self, input_dim, rng, dtype):
        self.params = {"gamma": np.ones((input_dim, 1), dtype), "beta": np.zeros((input_dim, 1), dtype)}
        self.state = {"running_mean": np.zeros((input_dim, 1), dtype), "running_var": np.ones((input_dim, 1), dtype)}
        self.input_dim = self.output_dim = input_dim
        return input_dim

    def forward(self, Z, ctx):
        p, s = self.params, self.state
        if ctx.training:
            out, Zn, mean, var = kernels.batchnorm_forward(Z, p["gamma"], p["beta"], self.epsilon)
            if ctx.update_stats:
                mom = self.momentum
                # In place: the arrays may be views of the model's flat state buffer.
                s["running_mean"][...] = mom * s["running_mean"] + (1 - mom) * mean
                s["running_var"][...] = mom * s["running_var"] + (1 - mom) * var
        else:
            out = kernels.batchnorm_inference(Z, p["gamma"], p["beta"], s["running_mean"], s["running_var"], self.epsilon)
            Zn = var = None
        A = out if self.activation == "identity" else kernels.activation_forward(out, self.activation)
        return A, (Zn, var, out, A)

    def backward(self, dA, cache, ctx, dZ=None):
        Zn, var, out, A = cache
        if dZ is None:
            dZ = dA if self.activation == "identity" else kernels.activation_backward(dA, out, self.activation, A=A)
        dZin, dgamma, dbeta = kernels.batchnorm_backward(dZ, Zn, self.params["gamma"], var, self.epsilon)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        return dZin

    def get_config(self):
        return {"momentum": self.momentum, "epsilon": self.epsilon}
