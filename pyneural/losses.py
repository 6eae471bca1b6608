"""Losses for :class:`pyneural.Sequential`: the cost and the gradient at the output.

Each loss gives the cost ``J = (1/m) Σ L(ŷ, y)`` and the per-example gradient at the output.
When the output activation matches (sigmoid with binary cross-entropy, softmax with
categorical cross-entropy, identity with MSE) the gradient is taken directly as
``dZ = AL - Y``, which stays finite when the output saturates.
"""

from __future__ import annotations

import numpy as np

from . import kernels


class Loss:
    name = ""
    #: The output activation whose derivative cancels against this loss's.
    matching_activation = ""

    def cost(self, AL, Y) -> float:
        return kernels.cost(AL, Y, self.name)

    def fuses_with(self, activation) -> bool:
        return kernels.activation_code(activation) == kernels.activation_code(self.matching_activation)

    def output_dZ(self, AL, Y):
        """``dZ = AL - Y`` for the matching output activation."""
        return kernels.output_delta(AL, Y)

    def output_dA(self, AL, Y):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class BinaryCrossentropy(Loss):
    """``L = -(y log ŷ + (1 - y) log(1 - ŷ))``; labels ``Y`` of shape ``(1, m)`` in {0, 1}."""

    name = "binary_crossentropy"
    matching_activation = "sigmoid"

    def output_dA(self, AL, Y):
        tiny = np.finfo(AL.dtype).tiny
        return -(Y / np.maximum(AL, tiny) - (1 - Y) / np.maximum(1 - AL, tiny))


class CategoricalCrossentropy(Loss):
    """``L = -Σ_j y_j log ŷ_j``; ``Y`` one-hot ``(C, m)`` or integer labels ``(m,)``."""

    name = "categorical_crossentropy"
    matching_activation = "softmax"

    def output_dA(self, AL, Y):
        Y = np.asarray(Y)
        if Y.ndim == 1 or Y.shape[0] != AL.shape[0]:
            labels = Y.reshape(-1).astype(np.int64)
            Y = np.zeros(AL.shape, AL.dtype)
            Y[labels, np.arange(AL.shape[1])] = 1
        return -Y / np.maximum(AL, np.finfo(AL.dtype).tiny)


class MeanSquaredError(Loss):
    """``L = ½ Σ_k (ŷ_k - y_k)²`` per example (the notes' ½(ŷ - y)²), so ``dZ = AL - Y``
    for an identity output."""

    name = "mse"
    matching_activation = "identity"

    def output_dA(self, AL, Y):
        return AL - np.asarray(Y, dtype=AL.dtype).reshape(AL.shape)


_LOSSES = {cls.name: cls for cls in (BinaryCrossentropy, CategoricalCrossentropy, MeanSquaredError)}


def get(loss) -> Loss:
    """A :class:`Loss` from an instance or a name ("binary_crossentropy",
    "categorical_crossentropy", "mse" and their aliases)."""
    if isinstance(loss, Loss):
        return loss
    return _LOSSES[kernels.loss_name(loss)]()


def default_for(activation) -> Loss:
    """The loss that goes with an output activation (sigmoid → binary CE, softmax →
    categorical CE, anything else → MSE)."""
    code = kernels.activation_code(activation)
    if code == kernels.activation_code("sigmoid"):
        return BinaryCrossentropy()
    if code == kernels.activation_code("softmax"):
        return CategoricalCrossentropy()
    return MeanSquaredError()
