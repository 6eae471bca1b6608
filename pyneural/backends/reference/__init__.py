"""The ``numpy`` backend: readable NumPy transcriptions of the course formulas.

It is the specification and the test oracle; the ``numba`` and ``cpp`` backends are
tested against it op by op.
"""

from __future__ import annotations

from .activations import activation_backward, activation_forward
from .batchnorm import batchnorm_backward, batchnorm_forward, batchnorm_inference
from .dropout import dropout_apply, dropout_forward
from .linear import linear_backward, linear_forward, output_delta, output_delta_labels
from .losses import bce_cost, mse_cost, softmax_ce_cost, softmax_ce_labels_cost, sum_squares
from .optimizers import adam_update, gd_update, momentum_update, rmsprop_update

NAME = "numpy"

__all__ = [
    "activation_backward",
    "activation_forward",
    "adam_update",
    "batchnorm_backward",
    "batchnorm_forward",
    "batchnorm_inference",
    "bce_cost",
    "dropout_apply",
    "dropout_forward",
    "gd_update",
    "linear_backward",
    "linear_forward",
    "momentum_update",
    "mse_cost",
    "output_delta",
    "output_delta_labels",
    "rmsprop_update",
    "softmax_ce_cost",
    "softmax_ce_labels_cost",
    "sum_squares",
]


def set_num_threads(n: int) -> None:
    """NumPy's own BLAS pool is left alone; the reference backend has no threads of its own."""


def get_num_threads() -> int:
    return 1
