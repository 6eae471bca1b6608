"""Backend selection: one op table (:mod:`.contract`), three implementations.

Resolution order: an explicit ``backend=`` argument > ``with pyneural.use_backend(name)``
> ``pyneural.set_backend(name)`` > the ``PYNEURAL_BACKEND`` environment variable > auto
(``cpp``, then ``numba``, then ``numpy``). An explicitly named backend that cannot be
loaded raises; the auto choice falls back with a one-time warning, and
``PYNEURAL_REQUIRE_CORE=1`` turns a missing compiled core into an error.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import threading
import warnings
from types import ModuleType

from .contract import ACTIVATIONS, OPS

__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "OPS",
    "BackendUnavailableError",
    "available_backends",
    "fallback_reason",
    "get_backend",
    "load",
    "set_backend",
    "use_backend",
]

#: Backend names in auto-selection order.
BACKENDS = ("cpp", "numba", "numpy")
_ALIASES = {"reference": "numpy", "c++": "cpp", "core": "cpp"}
_MODULES = {
    "cpp": "pyneural.backends.cpp",
    "numba": "pyneural.backends.numba_jit",
    "numpy": "pyneural.backends.reference",
}


class BackendUnavailableError(ImportError, ValueError):
    """A backend that was asked for by name cannot be loaded (the reason is in the message).

    An ``ImportError`` (it is one) and a ``ValueError`` (as all of pyneural's errors are)."""


_loaded: dict[str, ModuleType] = {}
_failed: dict[str, str] = {}
_lock = threading.Lock()
_context: contextvars.ContextVar[str | None] = contextvars.ContextVar("pyneural_backend", default=None)
_global_choice: str | None = None
_auto_warned = False
_auto_reason: str | None = None


def _canonical(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"backend must be a str naming one of {BACKENDS}, got {type(name).__name__}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _MODULES and key != "auto":
        raise ValueError(f"backend must be one of {BACKENDS} or 'auto', got {name!r}")
    return key


def load(name: str) -> ModuleType:
    """Import and return the backend module ``name``; raise :class:`BackendUnavailableError`."""
    key = _canonical(name)
    if key == "auto":
        return _auto()
    with _lock:
        if key in _loaded:
            return _loaded[key]
        if key in _failed:
            raise BackendUnavailableError(f"backend {key!r} is unavailable: {_failed[key]}")
        try:
            module = importlib.import_module(_MODULES[key])
        except Exception as exc:  # any import failure means "unavailable", with the reason kept
            _failed[key] = f"{type(exc).__name__}: {exc}"
            raise BackendUnavailableError(f"backend {key!r} is unavailable: {_failed[key]}") from exc
        _loaded[key] = module
    from .._threads import _apply_to_backend

    _apply_to_backend(key, module)
    return module


def available_backends() -> list[str]:
    """Names of the backends that load on this machine (this imports them)."""
    names = []
    for name in BACKENDS:
        try:
            load(name)
        except BackendUnavailableError:
            continue
        names.append(name)
    return names


def fallback_reason() -> str | None:
    """Why auto-selection did not pick ``cpp`` (``None`` if it did or has not run)."""
    return _auto_reason


def _require_core() -> bool:
    return os.environ.get("PYNEURAL_REQUIRE_CORE", "").strip().lower() in {"1", "true", "yes", "on"}


def _source_tree_hint() -> str:
    """A hint when pyneural is imported from its source folder, which has no compiled core."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.path.exists(os.path.join(here, "CMakeLists.txt")) and os.path.exists(os.path.join(here, "csrc")):
        return (f" (pyneural was imported from its source folder {here}, which has no compiled "
                "core: run from another directory to use the installed package, or install "
                "with 'pip install -e .')")
    return ""


def _auto() -> ModuleType:
    global _auto_warned, _auto_reason
    try:
        return load("cpp")
    except BackendUnavailableError as exc:
        if _require_core():
            raise BackendUnavailableError(
                f"PYNEURAL_REQUIRE_CORE is set but the compiled core did not load: {exc}"
            ) from exc
        reasons = [str(exc)]
    for name in BACKENDS[1:]:
        try:
            module = load(name)
        except BackendUnavailableError as exc:
            reasons.append(str(exc))
            continue
        _auto_reason = "; ".join(reasons) + _source_tree_hint()
        if not _auto_warned:
            _auto_warned = True
            warnings.warn(
                f"pyneural is using the {name!r} backend because {_auto_reason}. "
                "Reinstall with a C++17 compiler to get the compiled core.",
                RuntimeWarning,
                stacklevel=3,
            )
        return module
    raise BackendUnavailableError("no backend could be loaded: " + "; ".join(reasons))


def current_backend_name() -> str:
    """The name the resolution order gives right now (without an explicit argument)."""
    return get_backend().NAME


def get_backend(name: str | ModuleType | None = None) -> ModuleType:
    """Resolve a backend: explicit ``name`` > context > ``set_backend`` > env > auto."""
    if isinstance(name, ModuleType):
        return name
    if name is None:
        name = _context.get() or _global_choice or os.environ.get("PYNEURAL_BACKEND") or "auto"
    return load(name)


def set_backend(name: str | None) -> None:
    """Choose the process-wide default backend (``None`` or ``"auto"`` restores auto)."""
    global _global_choice
    if name is None or _canonical(name) == "auto":
        _global_choice = None
        return
    load(name)  # fail now, not at the first kernel call
    _global_choice = _canonical(name)


@contextlib.contextmanager
def use_backend(name: str):
    """Context manager: run the enclosed code on backend ``name`` (thread- and task-local)."""
    load(name)
    token = _context.set(_canonical(name))
    try:
        yield get_backend()
    finally:
        _context.reset(token)
