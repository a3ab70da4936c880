"""Bench results as tables: one row per configuration, and one per layer for ``--per-layer``.

Returns DataFrames and strings; only the CLI prints. The summary puts eager, CUDA-graph and
compiled variants of the same configuration next to each other with ``speedup`` = eager median /
this median, so launch overhead and compiler gains read off directly. It always shows ``n``
(timed iterations) and ``ci_pct`` (the median's 95 % CI half-width, % of the median): the
figures that say whether a median can be trusted.
"""

from __future__ import annotations

from ..conventions import LATENCY, RATES
from .results import TIMED, precision_label, variant_label
from .stats import PEAK_SOURCE

SUMMARY_NOTES = [LATENCY, RATES]  # texts in archscope.conventions


def variant(rec: dict) -> str:
    """How a record's forward was run: :func:`~archscope.timing.results.variant_label`."""
    return variant_label(rec.get("graph"), rec.get("compile"))


def precision(rec: dict) -> str:
    """``bf16`` (the model cast) or ``bf16 amp`` (fp32 weights under autocast)."""
    return precision_label(rec["dtype"], bool(rec.get("amp")))


def record_label(rec: dict) -> str:
    """``lenet5 b1 fp32 NHWC train eager``: one configuration, as the progress bar names it."""
    return (f"{rec['model']} b{rec['batch_size']} {precision(rec)}"
            f"{' NHWC' if rec['channels_last'] else ''} {rec['mode']} {variant(rec)}")


def rate_unit(tflops: list) -> tuple[str, float]:
    """``(column, scale)`` for FLOP/s values given in TFLOP/s: GFLOP/s while every value is
    under 1 TFLOP/s (a CPU: ``8.2`` reads, ``8.2e-06`` does not), TFLOP/s above."""
    present = [v for v in tflops if v is not None and v == v]
    if present and max(present) >= 1:
        return "tflop_s", 1.0
    return "gflop_s", 1000.0


def _key(r: dict) -> tuple:
    return (r["model"], r["batch_size"], r["dtype"], bool(r.get("amp")), r["channels_last"], r["mode"])


# Every column config_frame can show (a column empty on every row is left out of a run's table).
CONFIG_COLUMNS = ("model", "batch", "dtype", "layout", "variant", "mode", "median_ms", "n", "ci_pct",
                  "p95_ms", "throughput_items_s", "speedup", "tflop_s", "gflop_s", "peak_pct",
                  "bound", "peak_mem_mib", "j_per_item", "compile_s", "status")


def config_frame(records: list[dict], text: bool = False):
    """One row per configuration. ``text=True`` (tables for people): ``ci_pct`` as ``"1.2%"``."""
    import pandas as pd

    eager = {_key(r): r["median_ms"] for r in records
             if variant(r) == "eager" and r["status"] in ("ok", "unstable")}
    rate, scale = rate_unit([r["tflops"] for r in records])
    rows = []
    for r in records:
        timed = r["status"] in TIMED and r["median_ms"]
        base = eager.get(_key(r))
        ci = 100 * r["ci_rel"] if r["ci_rel"] is not None else None
        rows.append({
            "model": r["model"], "batch": r["batch_size"], "dtype": precision(r),
            "layout": "NHWC" if r["channels_last"] else "NCHW", "variant": variant(r),
            "mode": r["mode"], "median_ms": r["median_ms"], "n": r["iters"],
            "ci_pct": (f"{ci:.1f}%" if ci is not None else ("no CI" if timed else None)) if text else ci,
            "p95_ms": r["p95_ms"], "throughput_items_s": r["throughput_items_s"],
            "speedup": base / r["median_ms"] if timed and base and r["status"] != "fallback" else None,
            rate: r["tflops"] * scale if r["tflops"] is not None else None,
            "peak_pct": 100 * r["peak_share"] if r["peak_share"] is not None else None,
            "bound": r.get("bound"),
            "peak_mem_mib": r["peak_mem_bytes"] / 2**20 if r["peak_mem_bytes"] is not None else None,
            "j_per_item": r.get("energy_j_per_item"),
            "compile_s": r["compile_s"],
            "status": r["status"] if r["status"] in ("ok", "unstable") else f"{r['status']}: {r['reason']}",
        })
    df = pd.DataFrame(rows)
    if len(df):
        df["n"] = df["n"].astype("Int64")  # a count, also beside a failed row's None
    # Columns that are empty for every row (no CUDA, no compile, …) only add noise; n and ci_pct
    # always stay: they say whether the medians can be trusted.
    keep = [c for c in df.columns if c in ("model", "status", "n", "ci_pct") or df[c].notna().any()]
    if len(df) and set(df["variant"]) == {"eager"}:
        keep = [c for c in keep if c != "speedup"]  # eager / eager = 1 on every row
    return df[keep] if len(df) else df


LAYER_COLUMNS = ["layer", "type", "calls", "time_ms", "time_share", "macs", "mac_share",
                 "intensity", "gflop_s", "bound"]


def record_layers_frame(record: dict):
    import pandas as pd

    return pd.DataFrame(record["per_layer"], columns=LAYER_COLUMNS)


def run_title(env: dict) -> str:
    where = env.get("device_name") or env.get("device")
    if env.get("sm_count"):
        where += f" ({env['sm_count']} SMs)"
    threads = env.get("threads")
    return (f"archscope bench · {env.get('device')} · {where} · {threads} CPU "
            f"thread{'' if threads == 1 else 's'} · torch {env.get('torch')}"
            + (f" · CUDA {env['cuda']}" if env.get("cuda") else "") + f" · {env.get('date')}")


def roof_notes(roofs: list[dict]) -> list[str]:
    """One line per device and math mode: the measured roofs and their ridge point."""
    out = []
    for r in roofs:
        peak = r.get("peak_tflops")
        shown = "not measured" if not peak else (
            f"{peak * 1000:.4g} GFLOP/s" if peak < 1 else f"{peak:.4g} TFLOP/s")
        bw = r.get("bandwidth_gbs")
        ridge = r.get("ridge_flop_per_byte")
        out.append(f"roof {r['math']} on {r['device']}: peak {shown}"
                   + (f", bandwidth {bw:.4g} GB/s, ridge {ridge:.3g} FLOP/byte" if bw and ridge else "")
                   + f" ({r.get('peak_source')})")
    if roofs and roofs[0].get("bandwidth_source"):
        out.append(f"bandwidth: {roofs[0]['bandwidth_source']}")
    return out


def roof_frame(roofs: list[dict], text: bool = False):
    """``(frame, notes)``: ``archscope device``'s table, one row per math mode."""
    import pandas as pd

    rate, scale = rate_unit([r.get("peak_tflops") for r in roofs])
    rows = [{"device": r["device"], "math": r["math"], f"peak_{rate}": (r["peak_tflops"] or 0) * scale
             if r.get("peak_tflops") is not None else None,
             "peak_ci_pct": 100 * r["peak_ci_rel"] if r.get("peak_ci_rel") is not None else None,
             "datasheet_tflop_s": r.get("peak_tflops_datasheet"),
             "bandwidth_gbs": r.get("bandwidth_gbs"), "copy_gbs": r.get("copy_gbs"),
             "triad_gbs": r.get("triad_gbs"), "ridge_flop_per_byte": r.get("ridge_flop_per_byte")}
            for r in roofs]
    df = pd.DataFrame(rows)
    if text and "peak_ci_pct" in df:
        df["peak_ci_pct"] = [f"{v:.1f}%" if v == v and v is not None else None for v in df["peak_ci_pct"]]
    keep = [c for c in df.columns if df[c].notna().any()]
    notes = [f"{r['math']}: {r['peak_source']}" for r in roofs]
    if roofs and roofs[0].get("bandwidth_source"):
        notes.append(f"bandwidth: {roofs[0]['bandwidth_source']}")
    notes.append("ridge_flop_per_byte = peak / bandwidth: layers of lower intensity (FLOPs per byte "
                 "moved) are memory-bound, higher ones compute-bound; GB/s = 10⁹ bytes/s")
    return df[keep], notes


def _record_notes(records: list[dict], cores: int | None) -> list[str]:
    from .gate import contended

    out, busy = [], []
    for r in records:
        if r["status"] == "unstable":
            out.append(f"unstable {record_label(r)}: {r['reason']}")
        if r.get("peak_check"):
            out.append(f"{record_label(r)}: {r['peak_check']}")
        load = contended(r.get("load_before"), r.get("load_after"), r["threads"] or 1, cores or 1) \
            if r["status"] == "ok" and r["device"] == "cpu" and cores else None
        if load is not None:
            busy.append(f"{record_label(r)} (load {load:.2f})")
    if busy:
        out.append(f"ok by their CI, but timed while other processes competed for the {cores} "
                   f"cores (load average above the bench's threads): {'; '.join(busy)}; a median "
                   "can be steady at a contended level, so compare them with care")
    return out


def layer_notes(rec: dict) -> list[str]:
    whole, total = rec.get("layers_pass_ms"), rec.get("layers_sum_ms")
    notes = [f"times: {rec.get('per_layer_source') or 'hooks'}"]
    if whole and total is not None:
        left = rec.get("unattributed_ms")
        notes.append(
            f"sum of layer times {total:.4g} ms vs whole profiled forward {whole:.4g} ms"
            + (f": {left:.3g} ms ({100 * left / whole:.1f} %) unattributed (Python between "
               "operators, the hooks, idle gaps)" if left is not None else "")
            + f"; unprofiled median {rec['median_ms']:.4g} ms")
    notes.append("time_share: layer time / whole profiled forward; mac_share: layer MACs / model "
                 "MACs; intensity: FLOPs per byte moved; bound: against the ridge point of the "
                 "layer's own roof (conv or matmul math mode)")
    if rec.get("trace_file"):
        notes.append(f"profiler trace: {rec['trace_file']} (open in Perfetto or chrome://tracing)")
    return notes


def render_results(results, fmt, view=None) -> str:
    """The summary table (plus per-layer tables) in ``fmt``, as ``view`` asks
    (:class:`~archscope.render.View`); JSON is the full results document."""
    from ..render import Format, View, render_frame, to_json

    from dataclasses import replace

    view = view or View()
    fmt = Format(fmt)
    if fmt is Format.json:
        return to_json(results.document())
    text = fmt in (Format.table, Format.markdown)
    notes = SUMMARY_NOTES + roof_notes(getattr(results, "roofs", [])) + list(results.notes)
    if any(r.get("peak_source") for r in results.records):
        notes.append(PEAK_SOURCE)
    notes += _record_notes(results.records, results.env.get("cpu_count"))
    if results.interrupted:
        stop = getattr(results, "stopped_by", None)
        how = str(stop) if stop is not None and str(stop).startswith("SIG") else "Ctrl-C"
        notes.append(f"interrupted: the sweep stopped early ({how}); rows are the configurations done")
    frame = config_frame(results.records, text=text)
    # --columns was checked against CONFIG_COLUMNS before the run; a column this run left empty
    # (speedup with eager only, compile_s without --compile) is simply absent
    shown = replace(view, columns=tuple(c for c in view.columns if c in frame.columns))
    out = [render_frame(frame, fmt, title=run_title(results.env), notes=notes, view=shown,
                        kind="bench")]
    for rec in results.records:
        if rec.get("per_layer"):
            title = (f"{rec['model']} · batch {rec['batch_size']} · {precision(rec)} · per layer "
                     "(each module's own operators)")
            out.append(render_frame(record_layers_frame(rec), fmt, title=title, notes=layer_notes(rec),
                                    view=replace(view, columns=()), kind="bench-layers"))
    return "\n".join(out)
