"""Bench results as tables: one row per configuration, and one per layer for ``--per-layer``.

Returns DataFrames and strings; only the CLI prints. The summary puts eager, CUDA-graph and
compiled variants of the same configuration next to each other with ``speedup`` = eager median /
this median, so launch overhead and compiler gains read off directly.
"""

from __future__ import annotations

from .stats import PEAK_SOURCE

SUMMARY_NOTES = [
    "median_ms: median per-iteration latency; ci_pct: half-width of the median's 95 % CI "
    "(order statistics, distribution-free) as % of the median",
    "throughput_items_s = batch / median; tflops = FLOPs per iteration / median (counting engine); "
    "speedup = eager median / this median",
]


def _variant(rec: dict) -> str:
    if rec["graph"]:
        return "cuda-graph"
    if rec["compile"]:
        return f"compile:{rec['compile']}"
    return "eager"


def record_label(rec: dict) -> str:
    """``lenet5 b1 fp32 NHWC train eager``: one configuration, as the progress bar names it."""
    return (f"{rec['model']} b{rec['batch_size']} {rec['dtype']}{' NHWC' if rec['channels_last'] else ''} "
            f"{rec['mode']} {_variant(rec)}")


def summary_frame(records: list[dict]):
    import pandas as pd

    eager = {}
    for r in records:
        if _variant(r) == "eager" and r["status"] == "ok":
            eager[(r["model"], r["batch_size"], r["dtype"], r["channels_last"], r["mode"])] = r["median_ms"]
    rows = []
    for r in records:
        ok = r["status"] == "ok"
        base = eager.get((r["model"], r["batch_size"], r["dtype"], r["channels_last"], r["mode"]))
        rows.append({
            "model": r["model"], "batch": r["batch_size"], "dtype": r["dtype"],
            "layout": "NHWC" if r["channels_last"] else "NCHW", "variant": _variant(r),
            "mode": r["mode"], "median_ms": r["median_ms"],
            "ci_pct": 100 * r["ci_rel"] if r["ci_rel"] is not None else None,
            "p95_ms": r["p95_ms"], "iters": r["iters"],
            "throughput_items_s": r["throughput_items_s"],
            "speedup": base / r["median_ms"] if ok and base else None,
            "tflops": r["tflops"],
            "peak_pct": 100 * r["peak_share"] if r["peak_share"] is not None else None,
            "peak_mem_mib": r["peak_mem_bytes"] / 2**20 if r["peak_mem_bytes"] is not None else None,
            "compile_s": r["compile_s"],
            "status": r["status"] if ok else f"{r['status']}: {r['reason']}",
        })
    df = pd.DataFrame(rows)
    # Columns that are empty for every row (no CUDA, no compile, …) only add noise.
    keep = [c for c in df.columns if c in ("model", "status") or df[c].notna().any()]
    return df[keep] if len(df) else df


def per_layer_frame(record: dict):
    import pandas as pd

    return pd.DataFrame(record["per_layer"], columns=["layer", "type", "calls", "time_ms", "time_share",
                                                      "macs", "mac_share"])


def run_title(env: dict) -> str:
    where = env.get("device_name") or env.get("device")
    if env.get("sm_count"):
        where += f" ({env['sm_count']} SMs)"
    return (f"archscope bench · {env.get('device')} · {where} · {env.get('threads')} CPU threads · "
            f"torch {env.get('torch')}" + (f" · CUDA {env['cuda']}" if env.get("cuda") else "")
            + f" · {env.get('date')}")


def render_results(results, fmt) -> str:
    """The summary table (plus per-layer tables) in ``fmt``; JSON is the full results document."""
    from ..render import Format, render_frame, to_json

    fmt = Format(fmt)
    if fmt is Format.json:
        return to_json(results.document())
    notes = SUMMARY_NOTES + list(results.notes)
    if any(r.get("peak_source") for r in results.records):
        notes.append(PEAK_SOURCE)
    if results.interrupted:
        notes.append("interrupted: the sweep stopped early (Ctrl-C); rows are the configurations done")
    out = [render_frame(summary_frame(results.records), fmt, title=run_title(results.env), notes=notes)]
    for rec in results.records:
        if rec.get("per_layer"):
            unhooked = rec["median_ms"]
            title = (f"{rec['model']} · batch {rec['batch_size']} · {rec['dtype']} · per layer "
                     f"(leaf modules)")
            layer_notes = [
                f"sum of layer times {rec['layers_sum_ms']:.4g} ms vs whole hooked forward "
                f"{rec['layers_pass_ms']:.4g} ms (mean over passes) and unhooked median {unhooked:.4g} ms",
                "time_share: layer time / whole hooked forward; mac_share: layer MACs / model MACs",
            ]
            out.append(render_frame(per_layer_frame(rec), fmt, title=title, notes=layer_notes))
    return "\n".join(out)
