"""``pyneural.show_config()``: what this installation is and what it runs on."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys

from . import backends
from ._threads import get_num_threads


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def config() -> dict:
    """The configuration as a dict (what :func:`show_config` prints)."""
    import numpy as np

    from . import __version__

    info: dict = {
        "pyneural": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "numba": _version("numba"),
        "backends": {},
    }
    for name in backends.BACKENDS:
        try:
            module = backends.load(name)
            info["backends"][name] = {"available": True, "threads": module.get_num_threads()}
        except backends.BackendUnavailableError as exc:
            info["backends"][name] = {"available": False, "reason": str(exc)}
    try:
        info["active_backend"] = backends.get_backend().NAME
    except backends.BackendUnavailableError as exc:
        info["active_backend"] = f"none ({exc})"
    info["fallback_reason"] = backends.fallback_reason()
    info["num_threads"] = get_num_threads()
    info["env"] = {k: os.environ[k] for k in ("PYNEURAL_BACKEND", "PYNEURAL_REQUIRE_CORE",
                                               "PYNEURAL_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ}
    if info["backends"]["cpp"]["available"]:
        info["core"] = dict(backends.load("cpp").build_info())
    return info


def show_config(file=None) -> dict:
    """Print versions, the available backends (and why one is not), the active backend,
    the compiled core's build (compiler, OpenMP, SIMD level) and the thread count.
    Returns the same information as a dict."""
    info = config()
    out = file or sys.stdout
    print(f"pyneural {info['pyneural']} (Python {info['python']}, NumPy {info['numpy']}, "
          f"Numba {info['numba'] or 'not installed'})", file=out)
    print(f"platform: {info['platform']}", file=out)
    print("backends:", file=out)
    for name, b in info["backends"].items():
        state = f"available, {b['threads']} thread(s)" if b["available"] else f"UNAVAILABLE: {b['reason']}"
        print(f"  {name:6s} {state}", file=out)
    print(f"active backend: {info['active_backend']}", file=out)
    if info["fallback_reason"]:
        print(f"fallback reason: {info['fallback_reason']}", file=out)
    if "core" in info:
        core = info["core"]
        print("compiled core: " + ", ".join(f"{k}={v}" for k, v in core.items()), file=out)
    print(f"threads: {info['num_threads']}", file=out)
    for k, v in info["env"].items():
        print(f"env {k}={v}", file=out)
    return info
