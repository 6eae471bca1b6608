"""pyneural: neural networks from the Deep Learning Specialization, fast on the CPU.

    >>> import pyneural as pn
    >>> pn.show_config()                  # backends, threads, SIMD level
    >>> from pyneural import functional as F  # the course's functions, compiled

Importing pyneural is cheap: the compiled core loads at the first kernel call, and Numba
only when its backend is used.
"""

from __future__ import annotations

from . import (
    callbacks,
    data,
    datasets,
    errors,
    functional,
    kernels,
    layers,
    losses,
    metrics,
    optimizers,
    schedules,
    tune,
)
from ._config import config, show_config
from ._threads import get_num_threads, set_num_threads
from .gradcheck import GradientCheckResult, gradient_check
from .model import Sequential, load
from .backends import (
    BackendUnavailableError,
    available_backends,
    get_backend,
    set_backend,
    use_backend,
)

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailableError",
    "GradientCheckResult",
    "Sequential",
    "callbacks",
    "gradient_check",
    "layers",
    "load",
    "losses",
    "optimizers",
    "available_backends",
    "config",
    "data",
    "datasets",
    "errors",
    "functional",
    "get_backend",
    "get_num_threads",
    "kernels",
    "metrics",
    "schedules",
    "set_backend",
    "set_num_threads",
    "show_config",
    "tune",
    "use_backend",
]
