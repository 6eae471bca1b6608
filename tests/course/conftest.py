from __future__ import annotations

import pytest

import pyneural as pn


@pytest.fixture
def require_backend():
    """Call with a backend name: skips the test when that backend cannot load (with
    PYNEURAL_REQUIRE_CORE=1 the session has already failed in that case)."""

    def _require(name):
        try:
            pn.backends.load(name)
        except pn.BackendUnavailableError as exc:
            pytest.skip(str(exc))

    return _require
