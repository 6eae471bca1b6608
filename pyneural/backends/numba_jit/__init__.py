"""The ``numba`` backend: the kernel contract as Numba nopython loops.

Imported only by ``pyneural.backends.load("numba")``, so ``import pyneural`` never pays for
importing Numba. Each kernel compiles on first use, at most twice per dtype (one version for
C-contiguous arrays, one for any other layout; see :mod:`._jit`), and is cached on disk
(``cache=True``), so later processes reuse it.
"""

from __future__ import annotations

import numba

from .activations import activation_backward, activation_forward
from .batchnorm import batchnorm_backward, batchnorm_forward, batchnorm_inference
from .dropout import dropout_apply, dropout_forward
from .linear import linear_backward, linear_forward, output_delta, output_delta_labels
from .losses import bce_cost, mse_cost, softmax_ce_cost, softmax_ce_labels_cost, sum_squares
from .optimizers import adam_update, gd_update, momentum_update, rmsprop_update

NAME = "numba"

__all__ = [
    "NAME",
    "activation_backward",
    "activation_forward",
    "adam_update",
    "batchnorm_backward",
    "batchnorm_forward",
    "batchnorm_inference",
    "bce_cost",
    "dropout_apply",
    "dropout_forward",
    "get_num_threads",
    "gd_update",
    "linear_backward",
    "linear_forward",
    "momentum_update",
    "mse_cost",
    "output_delta",
    "output_delta_labels",
    "rmsprop_update",
    "set_num_threads",
    "softmax_ce_cost",
    "softmax_ce_labels_cost",
    "sum_squares",
]


def set_num_threads(n: int) -> None:
    """Use ``n`` threads, clamped to ``[1, NUMBA_NUM_THREADS]`` (the pool size fixed at launch).

    Numba keeps this setting per calling thread; results never depend on it.
    """
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))


def get_num_threads() -> int:
    return numba.get_num_threads()
