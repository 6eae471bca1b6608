"""The course's cost functions, computed stably on the active backend."""

from __future__ import annotations

from .. import kernels
from .._validation import as_float
from ._params import num_layers

__all__ = ["compute_cost", "compute_cost_with_regularization", "l2_cost"]


def compute_cost(AL, Y, parameters=None, loss="binary_crossentropy", reduction="mean"):
    """Cross-entropy ``-(1/m) Σ [y log a + (1-y) log(1-a)]`` as a Python float.

    ``parameters`` is accepted and ignored, as in the planar notebook's
    ``compute_cost(A2, Y, parameters)``. ``loss="categorical_crossentropy"`` (softmax,
    one-hot ``(C, m)`` or integer labels) and ``"mse"`` (half squared error) are extensions;
    ``reduction="sum"`` gives the optimisation notebook's summed mini-batch cost. Logs are
    clamped: a saturated output gives a large finite cost where the course prints ``inf``.
    """
    return kernels.cost(AL, Y, loss, reduction=reduction)


def l2_cost(parameters, lambd, m) -> float:
    """``λ/(2m) Σ_l ‖W[l]‖²_F`` (biases are not regularised)."""
    L = num_layers(parameters)
    total = sum(kernels.sum_squares(parameters["W" + str(l)]) for l in range(1, L + 1))
    return lambd / (2 * m) * total


def compute_cost_with_regularization(AL, Y, parameters, lambd, loss="binary_crossentropy"):
    """Cross-entropy plus the L2 term ``λ/(2m) Σ_l ‖W[l]‖²_F`` (every layer, not just three)."""
    m = as_float(AL, "AL").shape[1]
    return compute_cost(AL, Y, loss=loss) + l2_cost(parameters, lambd, m)
