"""Timing helpers: noisy machines, so medians, with the spread kept for the record."""

from __future__ import annotations

import statistics
import time


def summary(times, scale=1.0) -> dict:
    """Median, min, max (times ``scale``) and the raw measured times."""
    return {
        "median_s": statistics.median(times) * scale,
        "min_s": min(times) * scale,
        "max_s": max(times) * scale,
        "n": len(times),
        "times_s": list(times),
    }


def time_calls(fn, repeat, setup=None) -> dict:
    """Call ``fn`` once to warm up (JIT compile, first-touch page faults), then time it
    ``repeat`` times (or ``repeat(seconds of the first timed call)`` times); ``setup``
    (untimed) runs before every call. Returns ``summary`` plus ``first_call_s``."""

    def timed():
        if setup:
            setup()
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    first = timed()
    times = [timed()]
    n = repeat(times[0]) if callable(repeat) else repeat
    while len(times) < n:
        times.append(timed())
    out = summary(times)
    out["first_call_s"] = first
    return out


def repeats_for(default, budget_s=3.0, minimum=3):
    """For ``time_calls``: fewer repeats for slow calls, about ``budget_s`` per measurement
    but at least ``minimum`` (or ``default`` when it is smaller, e.g. 1 in --quick)."""
    if default <= minimum:
        return default
    return lambda seconds: max(minimum, min(default, int(budget_s / max(seconds, 1e-9))))


def fmt_time(s) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.3f} s"
