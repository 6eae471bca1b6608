"""``python -m benchmarks``: pyneural against NumPy and PyTorch, side by side, in one process.

Sections: ``limits`` (best GEMM GFLOP/s, STREAM-like bandwidth), ``kernels`` (isolated
kernels, as a fraction of those limits), ``workloads`` (the float64 correctness check, then
``Sequential.fit`` seconds per epoch against the course-style NumPy loop and PyTorch).
The environment is always recorded. Results go to a JSON file (``--json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import sys
import tempfile
import time

from . import REPO_ROOT

SECTIONS = ("limits", "kernels", "workloads")
WORKLOADS = ("a", "b", "c", "d", "e")
DTYPES = ("float32", "float64")
BACKENDS = ("cpp", "numba")


def _csv(choices):
    def parse(text):
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {','.join(choices)}; got {text!r}")
        return [c for c in choices if c in items]

    return parse


def _keep_probs(text):
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if not values or not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"keep probabilities must be in (0, 1], got {text!r}")
    return values


def _positive(text):
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return n


def _default_threads():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: a smoke run of seconds")
    p.add_argument("--json", metavar="PATH", help="results file (default: a time-stamped file in the temp dir)")
    p.add_argument("--sections", type=_csv(SECTIONS), default=list(SECTIONS), help="limits,kernels,workloads")
    p.add_argument("--workloads", type=_csv(WORKLOADS), default=list(WORKLOADS), help="a,b,c,d,e")
    p.add_argument("--dtypes", type=_csv(DTYPES), default=list(DTYPES), help="float32,float64")
    p.add_argument("--keep-probs", type=_keep_probs, default=[1.0, 0.8], help="dropout keep_prob values (1.0,0.8)")
    p.add_argument("--backends", type=_csv(BACKENDS), default=list(BACKENDS), help="pyneural backends: cpp,numba")
    p.add_argument("--repeat", type=_positive, help="timed rounds per workload and repeats per kernel "
                   "(default: per workload, fewer for (d) and (e); 7 per kernel)")
    p.add_argument("--threads", type=_positive, default=_default_threads(),
                   help="threads for pyneural, torch and BLAS (default: the usable CPUs)")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when it is installed")
    p.add_argument("--full-epochs", action="store_true", help="time whole epochs of (d) and (e) (slower)")
    return p.parse_args(argv)


def import_pyneural(backends):
    """Import the installed pyneural; exit with a clear message if a requested backend is
    missing (e.g. a source tree without the compiled core)."""
    try:
        import pyneural
        from pyneural.backends import BackendUnavailableError, load
    except ImportError as exc:
        sys.exit(f"benchmarks: pyneural is not installed ({exc}); run `pip install {REPO_ROOT}` first")
    for be in backends:
        try:
            load(be)
        except BackendUnavailableError as exc:
            hint = ""
            if be == "cpp":
                hint = (f" pyneural was imported from {os.path.dirname(pyneural.__file__)}; if that is a source "
                        f"tree, install the package (`pip install {REPO_ROOT}`), or pass --backends numba.")
            sys.exit(f"benchmarks: pyneural {exc}.{hint}")
    return pyneural


def set_threads(n, torch_on):
    """One thread count for pyneural, torch and every BLAS pool; returns what keeps the
    BLAS limit alive (threadpoolctl), if anything."""
    import pyneural as pn

    pn.set_num_threads(n)
    if torch_on:
        from . import torch_ref

        torch_ref.set_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=n)
    except ImportError:
        return None


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    import_pyneural(args.backends)

    from . import env as env_mod
    from . import kernels, limits, report, torch_ref, training
    from .workloads import FULL, QUICK, for_check

    torch_on = torch_ref.available() and not args.no_torch
    if torch_on:
        import torch  # noqa: F401  (so its thread pool shows in the environment)
    _limits_guard = set_threads(args.threads, torch_on)  # noqa: F841
    json_path = args.json or os.path.join(
        tempfile.gettempdir(), f"pyneural-benchmarks-{datetime.datetime.now():%Y%m%d-%H%M%S}.json")
    results = {"meta": {"argv": sys.argv[1:], "quick": args.quick, "sections": args.sections,
                        "workloads": args.workloads, "dtypes": args.dtypes, "keep_probs": args.keep_probs,
                        "backends": args.backends, "torch": torch_on}}
    results["env"] = env_mod.collect(args.threads)
    print("pyneural benchmarks" + (" (--quick: tiny sizes, timings meaningless)" if args.quick else ""))
    print(env_mod.describe(results["env"]))
    if not torch_on:
        print("torch: " + ("left out (--no-torch)" if torch_ref.available() else "not installed"))
    print(flush=True)
    ok = True

    def save():
        results["meta"]["elapsed_s"] = time.perf_counter() - start
        report.write_json(json_path, results)

    if "numba" in args.backends and ("kernels" in args.sections or "workloads" in args.sections):
        results["numba_compile"] = training.numba_compile(args.dtypes)
        print(report.compile_text(results["numba_compile"]) + "\n", flush=True)

    lim = None
    if "limits" in args.sections:
        print("measuring the machine's limits ...", flush=True)
        lim = results["limits"] = limits.measure(args.dtypes, args.threads, args.quick, args.repeat)
        print(report.limits_text(lim) + "\n", flush=True)
        save()

    if "kernels" in args.sections:
        print("Isolated kernels (median of repeated calls)" + ("" if lim else "; no limits section: no fractions"),
              flush=True)
        print(report.kernel_line(report.KERNEL_HEADER), flush=True)
        results["kernels"] = kernels.run(args.dtypes, args.backends, lim, args.quick, args.repeat,
                                         pause=0.0 if args.quick else training.SWITCH_PAUSE_S,
                                         log=lambda row: print(report.kernel_line(report.kernel_row(row)), flush=True))
        print(flush=True)
        save()

    if "workloads" in args.sections:
        specs = QUICK if args.quick else FULL
        if args.full_epochs:
            specs = {k: dataclasses.replace(v, m_timed=None) for k, v in specs.items()}
        impls = training.implementations(args.backends, torch_on)
        pause = 0.0 if args.quick else training.SWITCH_PAUSE_S
        print("Correctness: one float64 epoch from the same start, parameters vs the NumPy reference", flush=True)
        results["check"] = [training.check(for_check(specs[k], args.quick), impls) for k in args.workloads]
        print(report.check_text(results["check"]) + "\n", flush=True)
        ok = all(c["ok"] for c in results["check"])
        save()
        results["workloads"] = []
        for key in args.workloads:
            wl = specs[key]
            recs = []
            for dt in args.dtypes:
                for kp in args.keep_probs:
                    print(f"  timing {wl.describe()} {dt} kp={kp} ...", flush=True)
                    recs.append(training.time_workload(wl, dt, kp, impls, args.repeat, pause=pause))
                    results["workloads"].append(recs[-1])
                    save()
            print("\n" + report.workload_text(recs), flush=True)

    save()
    print(f"total time {time.perf_counter() - start:.1f} s; results: {json_path}")
    if not ok:
        print("benchmarks: the correctness check FAILED (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
