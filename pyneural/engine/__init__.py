"""The training engine: ``fit`` compiled into a plan (:mod:`.plan`) that a compiled executor
runs for whole epochs at a time (C++ on the ``cpp`` backend, Numba on ``numba``)."""

from __future__ import annotations


def executor_for(backend):
    """The plan executor ``engine_run`` of a backend module, or ``None`` (``numpy``: the
    readable per-layer loop)."""
    name = getattr(backend, "NAME", None)
    if name == "cpp":
        from .. import _core

        return getattr(_core, "engine_run", None)
    if name == "numba":
        from ..backends.numba_jit.engine import engine_run

        return engine_run
    return None


__all__ = ["executor_for"]
