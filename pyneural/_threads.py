"""One thread setting for every pool pyneural drives: OpenMP in the core and Numba."""

from __future__ import annotations

import os
import sys

_num_threads: int | None = None


def _default_threads() -> int:
    env = os.environ.get("PYNEURAL_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    if env:
        try:
            return max(1, int(env.split(",")[0]))
        except ValueError:
            pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _apply_to_backend(name: str, module) -> None:
    """Called when a backend is first loaded, so it starts with the current setting."""
    if hasattr(module, "set_num_threads"):
        module.set_num_threads(get_num_threads())


def set_num_threads(n: int) -> None:
    """Set the number of threads for OpenMP (``cpp``) and Numba (``numba``).

    Results do not depend on it: every reduction runs in a fixed order.
    """
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be a positive int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be a positive int, got {n}")
    _num_threads = n
    from .backends import _loaded

    for module in list(_loaded.values()):
        if hasattr(module, "set_num_threads"):
            module.set_num_threads(n)


def get_num_threads() -> int:
    """The thread count pyneural's kernels use."""
    return _num_threads if _num_threads is not None else _default_threads()


def numba_loaded() -> bool:
    return "numba" in sys.modules
