"""pyneural's benchmark harness: ``python -m benchmarks --help``.

It times the *installed* pyneural. ``python -m benchmarks`` run from the repository root
puts the root first on ``sys.path``, where ``pyneural/`` is the source tree without the
compiled ``_core`` (with a non-editable install the benchmark would silently time the
Numba fall back). So, as ``tests/conftest.py`` does, the root (and ``''``/the cwd when it is
the root) is removed from ``sys.path`` here, before anything imports pyneural; this package's
own submodules are still found through ``benchmarks.__path__``. An editable install keeps
working (it is served by an import hook, not by a ``sys.path`` entry). Escape hatch:
``PYTHONPATH`` naming the root leaves it in place.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _is_repo_root(entry: str) -> bool:
    try:
        return Path(entry or os.getcwd()).resolve() == REPO_ROOT
    except (OSError, RuntimeError):
        return False


if not any(e and _is_repo_root(e) for e in os.environ.get("PYTHONPATH", "").split(os.pathsep)):
    sys.path[:] = [e for e in sys.path if not _is_repo_root(e)]
