"""Printed tables and the JSON file."""

from __future__ import annotations

import json
import math
import os
import tempfile

from .timing import fmt_time


def table(header, rows) -> str:
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(header, widths))
    out = [line, "-" * len(line)]
    out += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join(out)


def _x(r) -> str:
    return "-" if r is None else f"{r:.2f}x"


def limits_text(lim) -> str:
    lines = ["Machine limits"]
    for dt, g in lim["gemm"].items():
        runs = ", ".join(f"{r['lib']} n={r['n']}: {r['gflops']:.0f}" for r in g["runs"])
        lines.append(f"  GEMM {dt}: best {g['gflops']:.1f} GFLOP/s ({g['best']})   [{runs}]")
    for label, bw in lim["bandwidth"].items():
        lines.append(f"  bandwidth, {label} arrays: " + ", ".join(f"{k} {v:.1f}" for k, v in bw.items()) + " GB/s")
    lines.append(f"  bandwidth limit used for fractions: {lim['bandwidth_gbs']:.1f} GB/s ({lim['bandwidth_basis']})")
    return "\n".join(lines)


def kernel_row(r) -> list:
    rate = f"{r['gflops']:.1f} GFLOP/s" if "gflops" in r else f"{r['gbs']:.1f} GB/s"
    frac = "-" if r.get("fraction") is None else f"{100 * r['fraction']:.0f}%"
    first = fmt_time(r["first_call_s"]) if r["impl"].startswith("pyneural-numba") else ""
    return [r["kernel"], r["dtype"], r["impl"], fmt_time(r["median_s"]), rate, frac, first]


KERNEL_HEADER = ["kernel", "dtype", "impl", "median", "achieved", "of limit", "numba 1st call"]
_KERNEL_WIDTHS = (38, 8, 28, 10, 15, 8, 14)


def kernel_line(cells) -> str:
    """One fixed-width line of the kernel table (printed as each result comes in)."""
    return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, _KERNEL_WIDTHS)))


def check_text(checks) -> str:
    rows = []
    for c in checks:
        for name, d in c["diffs"].items():
            rows.append([c["title"], name, f"{d['max_abs_diff']:.2e}", f"{d['max_rel_diff']:.2e}", "ok" if d["ok"] else "FAIL"])
    return table(["workload (float64, 1 epoch, no dropout)", "vs numpy", "max |Δparam|", "relative", ""], rows)


def workload_text(records) -> str:
    """One table per workload: rows dtype x keep_prob, columns s/epoch and speed-ups."""
    out, by_key = [], {}
    for rec in records:
        by_key.setdefault(rec["workload"], []).append(rec)
    for key, recs in by_key.items():
        impls = list(recs[0]["impls"])
        ratio_names = list(recs[0]["ratios"])
        header = ["dtype", "kp"] + impls + [n.replace("pyneural-", "") for n in ratio_names]
        rows = []
        for rec in recs:
            rows.append([rec["dtype"], rec["keep_prob"]] + [fmt_time(rec["impls"][n]["median_s"]) for n in impls]
                        + [_x(rec["ratios"].get(n)) for n in ratio_names])
        out.append(recs[0]["title"] + "  - median s/epoch; speed-up = reference time / pyneural time")
        if recs[0]["scaling_note"]:
            out.append("  " + recs[0]["scaling_note"])
        counts = {name: res["n"] for name, res in recs[0]["impls"].items()}
        if len(set(counts.values())) == 1:
            out.append(f"  median of {counts[impls[0]]} epochs per implementation after 1 warm-up epoch")
        else:
            out.append("  epochs timed (median taken) after 1 warm-up epoch: "
                       + ", ".join(f"{k} {v}" for k, v in counts.items()))
        slow = sorted({name for rec in recs for name, res in rec["impls"].items() if res.get("warmup_counted")})
        if slow:
            out.append(f"  {', '.join(slow)}: slow epochs, so the warm-up epoch is counted and the number of "
                       "epochs is cut to the time budget (--repeat N to override)")
        out.append(table(header, rows))
        extra = []
        for rec in recs:
            parts = []
            if "pyneural-numba" in rec["impls"]:
                parts.append(f"numba warm-up epoch {fmt_time(rec['impls']['pyneural-numba']['warmup_s'])}")
            for name, res in rec["impls"].items():
                if "fit_call_overhead_s" in res:
                    parts.append(f"{name} fit() set-up {fmt_time(res['fit_call_overhead_s'])}")
                spread = res["max_s"] / res["min_s"] if res["min_s"] > 0 else float("nan")
                if spread > 1.5:
                    parts.append(f"{name} spread max/min {spread:.1f}")
            extra.append(f"  {rec['dtype']} kp={rec['keep_prob']}: " + "; ".join(parts))
        out.append("\n".join(extra))
        out.append("")
    return "\n".join(out)


def _clean(obj):
    """JSON-safe: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path, data) -> None:
    """Atomic write (a crash never leaves half a file)."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(_clean(data), f, indent=1, default=str)
    os.replace(tmp, path)


def compile_text(comp) -> str:
    parts = [f"{dt} {fmt_time(c['compile_s'])} ({c['cache_misses']} kernel versions compiled, "
             f"{c['cache_hits']} loaded from Numba's cache)" for dt, c in comp.items()]
    return "Numba first use (compile or cache load, not in any timing below): " + "; ".join(parts)
