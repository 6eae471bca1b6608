"""What the numbers were measured on: versions, CPU, threads, pyneural's configuration."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import sys

#: Environment variables that change BLAS or thread behaviour (recorded, never changed here).
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "NUMBA_NUM_THREADS", "PYNEURAL_BACKEND",
            "PYNEURAL_NUM_THREADS", "NVPL_BLAS_DEBUG_CPU_TYPE")


def cpu_info() -> dict:
    info = {"machine": platform.machine(), "logical_cpus": os.cpu_count()}
    try:
        info["affinity_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        for line in text.splitlines():
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "model name" and "model" not in info:
                info["model"] = value
            elif key == "cpu MHz" and "mhz" not in info:
                info["mhz"] = float(value)
            elif key == "cache size" and "cache" not in info:
                info["cache"] = value
            elif key == "flags" and "simd" not in info:
                flags = set(value.split())
                info["simd"] = sorted(f for f in flags if f.startswith(("avx", "fma", "amx")))
                info["hypervisor"] = "hypervisor" in flags
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["mem_total_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return info


def _version(dist):
    """Installed version of a distribution, without importing it."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def numba_cache_counts() -> dict:
    """Compiled versions of pyneural's Numba kernels so far: loaded from the disk cache
    (``hits``) or compiled (``misses``). Empty when the Numba backend is not loaded."""
    hits = misses = 0
    for name, mod in list(sys.modules.items()):
        if not name.startswith("pyneural.backends.numba_jit") or mod is None:
            continue
        for obj in vars(mod).values():
            if not (hasattr(obj, "fast") and callable(getattr(obj, "dispatchers", None))):
                continue  # pyneural's Entry kernels hold their compiled dispatchers
            for disp in obj.dispatchers():
                try:
                    hits += sum(disp.stats.cache_hits.values())
                    misses += sum(disp.stats.cache_misses.values())
                except AttributeError:
                    pass
    return {"cache_hits": hits, "cache_misses": misses}


def collect(threads) -> dict:
    """Everything about the run's environment, as a JSON-able dict."""
    import numpy as np

    import pyneural as pn

    from . import torch_ref

    env = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_info(),
        "threads": threads,
        "numpy": np.__version__,
        "numba": _version("numba"),
        "threadpoolctl": _version("threadpoolctl"),
        "torch": torch_ref.version() if torch_ref.available() else None,
        "scikit-learn": _version("scikit-learn"),
        "pyneural_file": pn.__file__,
        "pyneural_config": pn.config(),
        "env_vars": {k: os.environ[k] for k in ENV_VARS if k in os.environ},
    }
    try:
        from threadpoolctl import threadpool_info

        env["threadpools"] = [{k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version",
                                                     "architecture", "filepath")} for p in threadpool_info()]
    except ImportError:
        env["threadpools"] = "threadpoolctl not installed"
    return env


def describe(env) -> str:
    cpu = env["cpu"]
    blas = env["threadpools"]
    blas_txt = ", ".join(f"{p['internal_api']} {p.get('version') or ''} {p.get('architecture') or ''} "
                         f"x{p['num_threads']}".replace("  ", " ") for p in blas) if isinstance(blas, list) else blas
    core = env["pyneural_config"].get("core", {})
    lines = [
        f"date: {env['date']}   python {env['python']}   {env['platform']}",
        f"cpu: {cpu.get('model', '?')}, {cpu.get('affinity_cpus', cpu.get('logical_cpus'))} cpus, "
        f"{cpu.get('mem_total_gib', '?')} GiB, simd {' '.join(s for s in cpu.get('simd', []) if s in ('avx2', 'avx512f', 'avx512_bf16', 'amx_tile'))}",
        f"numpy {env['numpy']}, numba {env['numba']}, torch: {env['torch'] or 'not installed'}, "
        f"scikit-learn {env['scikit-learn'] or 'not installed'}",
        f"threads: {env['threads']} (pyneural, BLAS{', torch' if env['torch'] else ''}); thread pools: {blas_txt}",
        f"pyneural {env['pyneural_config']['pyneural']} from {env['pyneural_file']}; core: "
        + (", ".join(f"{k}={core[k]}" for k in ("compiler", "simd", "gemm_kernel_float32") if k in core) or "none"),
        "env: " + (" ".join(f"{k}={v}" for k, v in env["env_vars"].items()) or "(none of the BLAS/thread variables set)"),
    ]
    return "\n".join(lines)
