"""The benchmark harness runs (``python -m benchmarks --quick``) and writes complete JSON.

A smoke run at tiny sizes, so the harness cannot rot; nothing here asserts on time. It runs
from the repository root, where the source tree shadows the installed pyneural unless the
harness takes the root off ``sys.path`` (as it does).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _positive_finite(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def _backends():
    """pyneural's compiled backends that load here (conftest already failed the session if
    PYNEURAL_REQUIRE_CORE=1 and one does not)."""
    from pyneural.backends import BackendUnavailableError, load

    out = []
    for name in ("cpp", "numba"):
        try:
            load(name)
            out.append(name)
        except BackendUnavailableError:
            pass
    return out


BACKENDS = _backends()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    if not BACKENDS:
        pytest.skip("neither the cpp nor the numba backend loads here")
    path = tmp_path_factory.mktemp("bench") / "quick.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYNEURAL_BACKEND")}
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--json", str(path), "--backends", ",".join(BACKENDS)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout, json.loads(path.read_text())


def test_every_section_is_present(quick_run):
    out, data = quick_run
    for key in ("meta", "env", "limits", "kernels", "check", "workloads"):
        assert key in data, key
    assert data["meta"]["quick"] is True
    assert "total time" in out and "Correctness" in out


def test_installed_pyneural_with_its_core_was_benchmarked(quick_run):
    _, data = quick_run
    cfg = data["env"]["pyneural_config"]
    assert all(cfg["backends"][name]["available"] for name in BACKENDS)
    assert data["meta"]["backends"] == BACKENDS
    assert isinstance(data["env"]["cpu"], dict) and data["env"]["threads"] >= 1


def test_limits_are_positive(quick_run):
    lim = quick_run[1]["limits"]
    for dt in ("float32", "float64"):
        assert _positive_finite(lim["gemm"][dt]["gflops"])
    assert _positive_finite(lim["bandwidth_gbs"])


def test_kernels_cover_every_implementation(quick_run):
    rows = quick_run[1]["kernels"]
    kernels = {r["kernel"].split()[0] for r in rows}
    assert kernels == {"linear+bias+ReLU", "ReLU", "dropout", "Adam"}
    impls = {r["impl"] for r in rows}
    assert {"numpy (course)"} | {f"pyneural-{b}" for b in BACKENDS} | {f"pyneural-{b} raw" for b in BACKENDS} <= impls
    for r in rows:
        assert _positive_finite(r["median_s"]) and _positive_finite(r["fraction"]), r
        assert _positive_finite(r.get("gflops", r.get("gbs"))), r


def test_every_workload_dtype_and_dropout_was_timed(quick_run):
    recs = quick_run[1]["workloads"]
    seen = {(r["workload"], r["dtype"], r["keep_prob"]) for r in recs}
    assert seen == {(w, dt, kp) for w in "abcde" for dt in ("float32", "float64") for kp in (1.0, 0.8)}
    for r in recs:
        assert {"numpy"} | {f"pyneural-{b}" for b in BACKENDS} <= set(r["impls"]), r["impls"].keys()
        for res in r["impls"].values():
            assert _positive_finite(res["median_s"]) and res["n"] >= 1
            assert all(_positive_finite(t) for t in res["times_s"])
        assert r["ratios"] and all(_positive_finite(v) for v in r["ratios"].values())
    scaled = [r for r in recs if r["workload"] in "de"]
    assert all(r["scale"] > 1 and r["scaling_note"] for r in scaled)


def test_correctness_check_agrees_with_the_numpy_reference(quick_run):
    checks = quick_run[1]["check"]
    assert [c["workload"] for c in checks] == list("abcde")
    for c in checks:
        assert {f"pyneural-{b}" for b in BACKENDS} <= set(c["diffs"])
        for name, d in c["diffs"].items():
            assert d["max_abs_diff"] < 1e-9, (c["workload"], name, d)


def test_numba_compile_time_is_reported_separately(quick_run):
    if "numba" not in BACKENDS:
        pytest.skip("the numba backend does not load here")
    comp = quick_run[1]["numba_compile"]
    assert set(comp) == {"float32", "float64"}
    assert all(_positive_finite(c["compile_s"]) for c in comp.values())
