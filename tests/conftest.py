"""Session setup shared by every test under ``tests/``.

Which pyneural is tested
------------------------
The tests import the *installed* pyneural, never the bare source tree: the source tree
has no compiled ``pyneural._core``, so importing it would silently test only the NumPy
and Numba backends. Before pyneural is imported, the repository root (the directory that
holds ``tests/``) is removed from ``sys.path``, together with ``''``/the cwd when the cwd
is the repository root (``python -m pytest`` puts it there; with ``--import-mode=importlib``
pytest itself adds nothing). An editable install (``pip install --no-build-isolation -e .``,
scikit-build-core) keeps working, because it is served by an import hook, not by a
``sys.path`` entry.

Escape hatch: if ``PYTHONPATH`` explicitly names the repository root
(``PYTHONPATH=/path/to/repo python -m pytest ...``), the root is left on ``sys.path`` and
the source tree is tested as is (the ``cpp`` backend then skips unless a built
``_core`` sits in the tree).

CI guard
--------
With ``PYNEURAL_REQUIRE_CORE=1`` the session aborts at collection (exit code 1) if the
``cpp`` or the ``numba`` backend fails to load, so CI can never pass by testing only
NumPy. Without it, tests of an unavailable backend are skipped with the reason.

Fixtures
--------
``backend_name`` (parametrised over ``cpp``, ``numba``, ``numpy``), ``backend`` (the
backend module), ``dtype`` (float32, float64) and ``rng`` (a fixed-seed
``numpy.random.Generator``, fresh for every test).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _is_repo_root(entry: str) -> bool:
    try:
        return Path(entry or os.getcwd()).resolve() == _REPO_ROOT
    except (OSError, RuntimeError):
        return False


def _pythonpath_names_repo_root() -> bool:
    entries = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    return any(entry and _is_repo_root(entry) for entry in entries)


if not _pythonpath_names_repo_root():
    sys.path[:] = [entry for entry in sys.path if not _is_repo_root(entry)]

import numpy as np  # noqa: E402
import pytest  # noqa: E402

try:
    import pyneural  # noqa: E402
    from pyneural.backends import BackendUnavailableError, load  # noqa: E402
except ImportError as _exc:  # pragma: no cover - a setup error, reported loudly
    raise ImportError(
        f"pyneural is not installed ({_exc}). The tests import the installed package, not "
        f"the source tree: run `pip install --no-build-isolation -e {_REPO_ROOT}`, or set "
        f"PYTHONPATH={_REPO_ROOT} to test the source tree as is."
    ) from _exc

#: Every backend, in the order the library auto-selects them.
BACKEND_NAMES = ("cpp", "numba", "numpy")
#: Backends that run their own thread pool.
THREADED_BACKENDS = ("cpp", "numba")
#: Seed of the ``rng`` fixture.
RNG_SEED = 20240917


def _require_core() -> bool:
    return os.environ.get("PYNEURAL_REQUIRE_CORE", "").strip().lower() in {"1", "true", "yes", "on"}


def _load_status(name: str):
    """``(module, None)`` or ``(None, reason)``."""
    try:
        return load(name), None
    except BackendUnavailableError as exc:
        return None, str(exc)


def pytest_report_header(config):
    lines = [f"pyneural {getattr(pyneural, '__version__', '?')} from {pyneural.__file__}"]
    status = []
    for name in BACKEND_NAMES:
        module, reason = _load_status(name)
        if module is None:
            status.append(f"{name}: UNAVAILABLE ({reason})")
        else:
            threads = module.get_num_threads() if hasattr(module, "get_num_threads") else "?"
            status.append(f"{name}: ok (threads={threads})")
    lines.append("pyneural backends: " + "; ".join(status))
    core = sys.modules.get("pyneural._core")
    if core is not None:
        lines.append(f"pyneural._core: {getattr(core, '__file__', '?')}")
    lines.append(
        f"pyneural threads: {pyneural.get_num_threads()}  "
        f"(PYNEURAL_REQUIRE_CORE={os.environ.get('PYNEURAL_REQUIRE_CORE', '')!r})"
    )
    return lines


def pytest_collection(session):
    """With PYNEURAL_REQUIRE_CORE=1 a backend that does not load aborts the session."""
    if not _require_core():
        return
    missing = []
    for name in THREADED_BACKENDS:
        module, reason = _load_status(name)
        if module is None:
            missing.append(f"  - {name}: {reason}")
    if missing:
        pytest.exit(
            "PYNEURAL_REQUIRE_CORE=1 but these backends failed to load "
            "(refusing to test only NumPy):\n" + "\n".join(missing) + f"\n  pyneural: {pyneural.__file__}",
            returncode=1,
        )


@pytest.fixture(params=BACKEND_NAMES)
def backend_name(request):
    """A backend name; the test is skipped if that backend does not load on this machine."""
    name = request.param
    _, reason = _load_status(name)
    if reason is not None:
        if _require_core():  # normally already fatal at collection
            pytest.fail(f"PYNEURAL_REQUIRE_CORE=1 and backend {name!r} is unavailable: {reason}")
        pytest.skip(f"backend {name!r} unavailable: {reason}")
    return name


@pytest.fixture
def backend(backend_name):
    """The backend module named by ``backend_name``."""
    return load(backend_name)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


@pytest.fixture
def rng():
    """A fixed-seed generator, fresh for each test (results do not depend on test order)."""
    return np.random.default_rng(RNG_SEED)


@pytest.fixture
def require_backend():
    """Call with a backend name: skips the test when that backend cannot load (with
    PYNEURAL_REQUIRE_CORE=1 the session has already failed in that case)."""

    def _require(name):
        _, reason = _load_status(name)
        if reason is not None:
            pytest.skip(reason)

    return _require
