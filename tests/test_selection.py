"""Backend selection, fall back, PYNEURAL_REQUIRE_CORE, threads, show_config, import cost."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import pyneural as pn


def run_py(code, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYNEURAL_")}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300, env=full_env, cwd="/")


def test_import_is_lazy():
    out = run_py("""
        import sys, pyneural
        assert "numba" not in sys.modules, "numba imported by import pyneural"
        assert "pyneural._core" not in sys.modules, "core loaded by import pyneural"
        print("ok")
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_resolution_order(backend_name):
    others = [b for b in ("numpy", "numba", "cpp") if b != backend_name]
    with pn.use_backend(backend_name):
        assert pn.get_backend().NAME == backend_name
        with pn.use_backend("numpy"):
            assert pn.get_backend().NAME == "numpy"
        assert pn.get_backend().NAME == backend_name
        assert pn.get_backend(others[0]).NAME == others[0]  # explicit argument wins


def test_set_backend_and_env_var():
    out = run_py("""
        import pyneural as pn
        print(pn.get_backend().NAME)
        pn.set_backend("numba"); print(pn.get_backend().NAME)
        pn.set_backend(None); print(pn.get_backend().NAME)
    """, PYNEURAL_BACKEND="numpy")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["numpy", "numba", "numpy"]


CORE_MISSING = """
    import sys, warnings
    sys.modules["pyneural._core"] = None          # as if the extension had not been built
    import pyneural as pn
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        name = pn.get_backend().NAME
        pn.get_backend()
    print(name, len([x for x in w if "backend" in str(x.message)]))
    print(pn.available_backends())
"""


def test_fallback_warns_once_when_core_is_missing():
    out = run_py(CORE_MISSING)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.strip().splitlines()
    assert first == "numba 1"
    assert "cpp" not in second


def test_require_core_turns_a_missing_core_into_an_error():
    out = run_py(CORE_MISSING, PYNEURAL_REQUIRE_CORE="1")
    assert out.returncode != 0
    assert "PYNEURAL_REQUIRE_CORE" in out.stderr


def test_explicit_unavailable_backend_raises():
    out = run_py("""
        import sys
        sys.modules["pyneural._core"] = None
        import pyneural as pn
        try:
            pn.set_backend("cpp")
        except pn.BackendUnavailableError as e:
            print("raised", isinstance(e, ImportError))
    """)
    assert out.stdout.strip() == "raised True", out.stderr


def test_threads_setting_is_validated_and_reported():
    before = pn.get_num_threads()
    try:
        pn.set_num_threads(1)
        assert pn.get_num_threads() == 1
        for name in pn.available_backends():
            if name != "numpy":
                assert pn.backends.load(name).get_num_threads() == 1
    finally:
        pn.set_num_threads(before)
    with pytest.raises(ValueError, match="n must be a positive int"):
        pn.set_num_threads(0)
    with pytest.raises(TypeError, match="n must be a positive int"):
        pn.set_num_threads(1.5)


def test_show_config_lists_every_backend(capsys):
    info = pn.show_config()
    text = capsys.readouterr().out
    for name in ("cpp", "numba", "numpy"):
        assert name in info["backends"] and name in text
    if info["backends"]["cpp"]["available"]:
        core = info["core"]
        assert {"openmp", "simd"} <= set(core)
        assert "compiled core:" in text

