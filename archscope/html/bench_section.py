"""The report's timing section: frames built from bench results, and the charts they feed.

Rows follow ``archscope.load_results``: record fields, then ``env_*`` columns; the frame's
``attrs["runs"]`` holds each file's document (its measured ``roofs`` included). Models timed in
the bench but absent from the report get colours and charts of their own wherever the records
carry what a chart needs; where they do not, the section says so in a sentence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import bench_figures as BF
from . import data as D
from . import figures
from ..timing.results import precision_label, variant_label
from ..dtypes import ALIASES, ITEMSIZE
from .page import Chart, Section

if TYPE_CHECKING:
    import pandas as pd

def bench_frame(bench: pd.DataFrame) -> pd.DataFrame:
    """Successful configurations, each with its device label, variant and legend name.

    ``device_label``: ``cpu · AMD EPYC``, ``cuda · NVIDIA H100 …`` (:func:`.data.device_labels`);
    ``variant``: eager, CUDA graph or compile (MODE); ``series``: the legend name of the line
    a configuration belongs to. A line joins batch sizes of one model, dtype, device, mode,
    variant, memory layout and results file, so no line zig-zags between two of them; the
    name shows the parts that tell it apart from the other lines. ``unstable`` timings (CI over
    5 %) are left out with the failures: :func:`left_out` says how many.
    """
    df = bench
    if "status" in df.columns:
        df = df[df["status"].fillna("ok") == "ok"]
    df = df.copy()
    df["device_label"] = D.device_labels(df) if len(df) else []
    n = len(df)

    def col(name: str, default: Any) -> list:
        return list(df[name]) if name in df.columns else [default] * n

    amp = [a is True for a in col("amp", False)]
    df["precision"] = [precision_label(d, a) for d, a in zip(df["dtype"], amp)]
    df["variant"] = [variant_label(g, c) for g, c in zip(col("graph", False), col("compile", None))]
    df["mode"] = [m if isinstance(m, str) and m else "infer" for m in col("mode", "infer")]
    df["layout"] = ["channels_last" if isinstance(c, bool) and c or c == 1 else "NCHW"
                    for c in col("channels_last", False)]
    df["source"] = [str(s) if isinstance(s, str) else "" for s in col("source", "")]
    base = list(zip(df["model"], df["precision"], df["device_label"], df["mode"], df["variant"],
                    df["layout"]))
    sources: dict = {}
    for key, src in zip(base, df["source"]):
        sources.setdefault(key, set()).add(src)
    show_variant = len(set(df["variant"])) > 1
    show_layout = len(set(df["layout"])) > 1
    show_mode = len(set(df["mode"])) > 1
    names = []
    for key, src in zip(base, df["source"]):
        model, dtype, device, mode, variant, layout = key
        parts = [str(model), str(dtype), device]
        if show_variant or variant != "eager":
            parts.append(variant)
        if show_layout or layout != "NCHW":
            parts.append(layout)
        if show_mode or mode != "infer":
            parts.append(mode)
        if len(sources[key]) > 1:
            parts.append(src.replace("\\", "/").rsplit("/", 1)[-1])
        names.append(" · ".join(parts))
    df["series"] = names
    return df


def left_out(bench: pd.DataFrame) -> str:
    """``"2 unstable, 1 oom"``: the configurations :func:`bench_frame` drops, by status."""
    if "status" not in bench.columns:
        return ""
    statuses = [s for s in bench["status"].fillna("ok") if s != "ok"]
    return ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))


def _number(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if v == v and v > 0 else None


def _moved_bytes(flops: Any, intensity: Any) -> int | None:
    """Bytes a layer (or model) moves at batch 1, from the table: FLOPs / intensity."""
    f, i = _number(flops), _number(intensity)
    return round(f / i) if f and i else None


def _element_size(total: dict) -> float:
    params = int(total.get("params") or 0)
    return int(total.get("param_bytes") or 0) / params if params else 4.0


def _same_input(shape: Any, table_input: tuple) -> bool:
    """Whether a timed input (N, C, H, W) is the counted one but for the batch size."""
    if not isinstance(shape, (list, tuple)) or not len(shape):
        return True  # the record does not say; trust it
    return list(shape)[1:] == list(table_input)[1:]


def _intensity(batch: int, flops1: int, moved1: int, param_bytes: float, dtype: str,
               elem: float) -> float:
    """FLOPs per byte at ``batch`` from a batch-1 table (results without bytes moved): weights
    read once, inputs and outputs ``batch`` times, every element at the timed dtype's size."""
    name = ALIASES.get(str(dtype), str(dtype))  # fp16 → float16 (archscope.dtypes' one table)
    scale = ITEMSIZE.get(name, elem) / elem
    io1 = moved1 - param_bytes
    return batch * flops1 / (scale * (param_bytes + batch * io1))


POINT_COLUMNS = ["model", "kind", "series", "label", "config", "intensity", "flop_s", "flops",
                 "time_ms", "bound"]


def _model_point(row: Any, table) -> dict | None:
    """A whole-model point: the record's own bytes moved, else the report's table (older files)."""
    b = int(row["batch_size"])
    config = f"{row['dtype']} · {row['device_label']} · {row.get('variant', 'eager')}"
    point = {"model": row["model"], "kind": "model", "series": row.get("series", ""),
             "label": f"{row['model']} · batch {b}", "config": config,
             "flop_s": float(row["tflops"]) * 1e12, "time_ms": float(row["median_ms"]),
             "bound": row.get("bound") if isinstance(row.get("bound"), str) else None}
    if _number(row.get("intensity")) and _number(row.get("flops")):
        return {**point, "intensity": float(row["intensity"]), "flops": int(row["flops"])}
    if table is None or not _same_input(row.get("input_shape"), table.input_size):
        return None
    t = table.total
    flops1 = int(t.get("flops") or 0)
    moved1 = _moved_bytes(flops1, t.get("intensity"))
    if not moved1:
        return None
    return {**point, "flops": b * flops1,
            "intensity": _intensity(b, flops1, moved1, int(t.get("param_bytes") or 0),
                                    row["dtype"], _element_size(t))}


def _layer_points(part: pd.DataFrame, table) -> list[dict]:
    """One model's per-layer points: each row's own FLOPs and bytes (recorded since the
    profiler-based per-layer times), else the report's table scaled to the timed batch."""
    first = part.iloc[0]
    b, dtype = int(first["batch_size"]), str(first["dtype"])
    own = "intensity" in part.columns and "flops" in part.columns
    rows = table.rows.set_index("layer") if table is not None else None
    same = table is not None and _same_input(first.get("input_shape"), table.input_size)
    out = []
    for rec in part.to_dict(orient="records"):
        time_ms = _number(rec.get("time_ms"))
        if not time_ms:
            continue
        point = {"model": rec["model"], "kind": "layer", "series": "",
                 "label": f"{rec['layer']} ({rec.get('type')})", "config": first["config"],
                 "time_ms": time_ms, "bound": rec.get("bound") if isinstance(rec.get("bound"), str) else None}
        if own and _number(rec.get("intensity")) and _number(rec.get("flops")):
            flops, intensity = int(rec["flops"]), float(rec["intensity"])
        elif same and rec["layer"] in rows.index:
            r = rows.loc[rec["layer"]]
            moved1 = _moved_bytes(r["flops"], r["intensity"])
            if not moved1:
                continue
            elem = _element_size(table.total)
            flops = b * int(r["flops"])
            intensity = _intensity(b, int(r["flops"]), moved1, elem * int(r["params"]), dtype, elem)
        else:
            continue
        out.append({**point, "flops": flops, "intensity": intensity,
                    "flop_s": flops / (time_ms / 1000)})
    return out


def roofline_points(bench: pd.DataFrame, models: list[D.ModelData],
                    per_layer: pd.DataFrame | None = None) -> pd.DataFrame:
    """Whole-model points (``kind="model"``) and, with per-layer timings, layer points.

    Intensity is FLOPs per byte moved (every input and weight read, every output written, at the
    timed batch and dtype), as the record gives it; for results that predate it, derived from
    the counting table at batch 1. Achieved FLOP/s: the record's ``tflops`` for a model; a
    layer's FLOPs over its per-layer time. Inference records only (training moves gradients too).
    """
    import pandas as pd

    tables = {m.name: m.table for m in models}
    recs = []
    for _, row in bench.iterrows():
        if not _number(row.get("tflops")) or row.get("mode", "infer") != "infer":
            continue
        point = _model_point(row, tables.get(row["model"]))
        if point is not None:
            recs.append(point)
    if per_layer is not None and len(per_layer):
        for model, part in per_layer.groupby("model", sort=False):
            recs += _layer_points(part, tables.get(model))
    return pd.DataFrame.from_records(recs, columns=POINT_COLUMNS)


def layer_intensities(models: list[D.ModelData], skip: set) -> pd.DataFrame:
    """Each layer's intensity as counted (batch 1, the table's dtype), for models not in
    ``skip``: columns model, label, intensity, flops (layers with FLOPs only)."""
    import pandas as pd

    recs = []
    for m in models:
        if m.name in skip:
            continue
        rows = m.table.rows
        for layer, kind, flops, intensity in zip(rows["layer"], rows["type"], rows["flops"],
                                                 rows["intensity"]):
            if flops and intensity and float(intensity) > 0:
                recs.append({"model": m.name, "label": f"{layer} ({kind})",
                             "intensity": float(intensity), "flops": int(flops)})
    return pd.DataFrame.from_records(recs, columns=["model", "label", "intensity", "flops"])


def _math_mode(dtype: Any, device: Any, tf32: Any) -> str:
    """The math mode of a record's peak: the dtype, or TF32 for fp32 on CUDA with TF32 on."""
    if str(dtype) == "fp32" and str(device).startswith("cuda") and tf32 is True:
        return "fp32 (TF32)"
    return str(dtype)


ROOF_COLUMNS = ["device_label", "math", "peak_tflops", "peak_gbs"]


def _measured_roofs(runs: list[dict]) -> list[dict]:
    """Roofs from the results documents (``archscope bench`` measures them per math mode)."""
    out = []
    for run in runs:
        for roof in run.get("roofs") or []:
            device, name = roof.get("device"), roof.get("device_name")
            label = f"{device} · {name}" if name and name != device else str(device)
            out.append({"device_label": label, "math": "fp32 (TF32)" if roof.get("math") == "tf32"
                        else str(roof.get("math")), "peak_tflops": roof.get("peak_tflops"),
                        "peak_gbs": roof.get("bandwidth_gbs")})
    return out


def peak_frame(bench: pd.DataFrame, runs: list[dict] | None = None) -> pd.DataFrame:
    """Each device's roofs per math mode: device_label, math, peak_tflops, peak_gbs (bandwidth,
    GB/s; NaN where not measured).

    From the documents' measured ``roofs`` where the runs have them; else from the records: the
    record's ``peak_tflops``, or ``tflops_from_macs / peak_share`` (the basis the bench divides
    by), and its ``bandwidth_gbs``.
    """
    import pandas as pd

    measured = _measured_roofs(runs or [])
    if measured:
        df = pd.DataFrame(measured, columns=ROOF_COLUMNS)
        df = df[pd.to_numeric(df["peak_tflops"], errors="coerce") > 0]
        return df.groupby(["device_label", "math"], sort=False, as_index=False)[
            ["peak_tflops", "peak_gbs"]].max()
    if not len(bench):
        return pd.DataFrame(columns=ROOF_COLUMNS)
    df = bench.copy()
    nan = float("nan")
    peak = df["peak_tflops"] if "peak_tflops" in df.columns else pd.Series(nan, index=df.index)
    if "peak_share" in df.columns and "tflops_from_macs" in df.columns:
        share = pd.to_numeric(df["peak_share"], errors="coerce")
        fallback = pd.to_numeric(df["tflops_from_macs"], errors="coerce") / share.where(share > 0)
        peak = pd.to_numeric(peak, errors="coerce").fillna(fallback)
    df["peak_tflops"] = pd.to_numeric(peak, errors="coerce")
    df["peak_gbs"] = pd.to_numeric(df["bandwidth_gbs"], errors="coerce") \
        if "bandwidth_gbs" in df.columns else nan
    tf32 = df["env_tf32_conv"] if "env_tf32_conv" in df.columns else [None] * len(df)
    df["math"] = [_math_mode(d, dev, t) for d, dev, t in zip(df["dtype"], df["device"], tf32)]
    df = df[df["peak_tflops"].notna() & (df["peak_tflops"] > 0)]
    return df.groupby(["device_label", "math"], sort=False, as_index=False)[
        ["peak_tflops", "peak_gbs"]].max()


def _roofline_caption(points: pd.DataFrame, peaks: pd.DataFrame, bench: pd.DataFrame,
                      rug: pd.DataFrame) -> str:
    parts = ["Achieved FLOP/s against arithmetic intensity: FLOPs per byte moved, where each "
             "layer reads its weights and inputs and writes its outputs once, at the timed "
             "batch and dtype. Large markers: whole models, one per timed inference "
             "configuration (the shape is the dtype, as in the legend)."]
    layers = points[points["kind"] == "layer"]
    if len(layers):
        runs = dict(zip(layers["model"], layers["config"]))
        configs = (next(iter(runs.values())) if len(set(runs.values())) == 1
                   else "; ".join(f"{m}: {c}" for m, c in runs.items()))
        parts.append(f"Circles: single layers of one per-layer run per model ({configs}), each "
                     "the time of the operators it ran (torch.profiler), a block's residual add "
                     "or concatenation included; filled: compute-bound, open: memory-bound, "
                     "against the ridge point of the layer's own roof.")
    if len(rug):
        parts.append("Ticks along the bottom: each layer's intensity as counted (batch 1, "
                     "fp32) for models timed without --per-layer; no layer time was measured, "
                     "so they have no height.")
    if len(peaks):
        sources = bench["peak_source"].astype(str) if "peak_source" in bench.columns else None
        measured = sources is not None and sources.str.startswith("measured").any()
        how = ("measured by the bench, warm: the best rate of a dense matmul in that math mode"
               if measured else "NVIDIA's datasheet figure")
        slope = peaks["peak_gbs"].notna().any() if "peak_gbs" in peaks.columns else False
        parts.append(f"Grey lines: each device's roof per math mode ({how})"
                     + ("; the slanted part is the measured memory bandwidth (copy and triad "
                        "over a buffer larger than the caches), and they meet at the ridge point, "
                        "marked: work to its left is memory-bound, to its right compute-bound. A "
                        "memory-bound layer above the slope found its data in a cache, faster "
                        "than main memory" if slope else "")
                     + ". A point above its own roof is a measurement problem first (the "
                     "record's peak_check says which), then fewer multiplies than the nominal "
                     "MACs (Winograd or FFT convolutions).")
    infer = bench[bench["mode"] == "infer"] if "mode" in bench.columns else bench
    known = set(peaks["device_label"]) if len(peaks) else set()
    missing = sorted(set(infer["device_label"]) - known)
    if missing:
        parts.append(f"No peak is recorded for {', '.join(missing)} (results from before "
                     "archscope measured peaks, a run with --no-roofs, or a measurement that "
                     f"failed), so no roof is drawn for {'it' if len(missing) == 1 else 'them'}.")
    return " ".join(parts)


def work_frame(bench: pd.DataFrame, summary: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The rows with ``work_macs`` (MACs per timed forward: the record's, else the report's
    count × batch) and each model's parameter count where the report counted it."""
    totals = summary.set_index("model") if len(summary) else None
    params = {m: int(totals.at[m, "params"]) for m in totals.index} if totals is not None else {}
    work = []
    for model, batch, macs in zip(bench["model"], bench["batch_size"],
                                  bench["macs"] if "macs" in bench.columns else [None] * len(bench)):
        if _number(macs):
            work.append(int(macs))
        elif totals is not None and model in totals.index:
            work.append(int(totals.at[model, "macs"]) * int(batch))
        else:
            work.append(None)
    return bench.assign(work_macs=work), params


def bench_sections(bench: pd.DataFrame, models: list[D.ModelData],
                   colors: dict[str, str], per_layer: pd.DataFrame | None) -> list[Section]:
    runs = bench.attrs.get("runs") or []
    n_timed = len(bench)
    dropped = left_out(bench)
    bench = bench_frame(bench)
    if not len(bench):
        return [Section("timing", "Timing",
                        f"None of the {n_timed} timed configurations can be plotted ({dropped}; "
                        "see the results file), so there is nothing to plot.", [])]
    intro = ["Measured with `archscope bench`."]
    if dropped:
        intro.append(f"Left out: {dropped} (unstable: the median's 95 % CI is wider than 5 %).")
    reported = {m.name for m in models}
    extra = [m for m in dict.fromkeys(bench["model"]) if m not in reported]
    if extra:
        colors = figures.model_colors(list(colors) + extra)
        intro.append(f"Timed but not in this report: {', '.join(extra)}; they have their own "
                     "colours, and no per-layer counts beyond what the results file holds.")
    summary = D.model_totals_frame(models) if models else None
    items = [
        Chart(BF.latency_vs_batch(bench, colors),
              "Median latency of one forward; colour: model, dash: dtype, marker: device "
              "(open or dotted marker: CUDA graph or compiled)."),
        Chart(BF.throughput_vs_batch(bench, colors),
              "Samples per second; it flattens once the device is busy."),
    ]
    import pandas as pd

    worked, params = work_frame(bench, summary if summary is not None else pd.DataFrame())
    worked = worked[worked["work_macs"].notna()]
    if len(worked):
        unsized = sorted(set(worked["model"]) - set(params))
        items.append(Chart(
            BF.macs_vs_latency(worked, params, colors),
            "More MACs usually cost more time; models off the trend use the device better or "
            "worse. Bubble area is proportional to the model's parameter count (at least a few "
            "pixels wide); the marker shape is the dtype."
            + (f" {', '.join(unsized)}: no parameter count in this report, drawn at the "
               "smallest size." if unsized else "")))
    else:
        intro.append("No work-vs-latency chart: the results carry no MAC counts and none of "
                     "their models is in this report.")
    if per_layer is not None and len(per_layer):
        items.append(Chart(BF.time_share_scatter(per_layer, colors),
                           "Layers above the diagonal take more time than their MACs suggest "
                           "(memory-bound work: pooling, normalisation, activations); the "
                           "legend names the run each model's layers come from. Log axes "
                           "spread the many small layers apart; layers with no MACs sit on the "
                           "Linear view only."))
    points = roofline_points(bench, models, per_layer)
    unplaced = sorted(set(bench.loc[bench["mode"] == "infer", "model"]) - set(points["model"]))
    if len(points):
        timed = set(points.loc[points["kind"] == "layer", "model"])
        rug = layer_intensities([m for m in models if m.name in set(points["model"])], timed)
        peaks = peak_frame(bench[bench["mode"] == "infer"], runs)
        items.append(Chart(BF.roofline(points, peaks, colors, rug),
                           _roofline_caption(points, peaks, bench, rug)))
    if unplaced:
        intro.append(f"Not on the roofline: {', '.join(unplaced)} (no bytes moved in the results "
                     "and no count in this report, or no FLOP count).")
    return [Section("timing", "Timing", " ".join(intro), items)]
