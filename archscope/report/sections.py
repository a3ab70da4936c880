"""The report's sections in reading order, each a heading, a sentence and its charts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import bench_figures as BF
from . import data as D
from . import figures as F
from .page import Chart, Section, Table

if TYPE_CHECKING:
    import pandas as pd


def _mib(value) -> str:
    return f"{int(value) / 2**20:,.2f} MiB"


def model_sections(models: list[D.ModelData], colors: dict[str, str]) -> list[Section]:
    summary = D.summary_frame(models)
    headers = {"model": "model", "year": "year", "input": "input (N×C×H×W)",
               "params": "parameters", "macs": "MACs", "flops": "FLOPs",
               "param_bytes": "parameter memory", "activation_bytes": "activation memory",
               "weight_layers": "weight layers"}
    caption = "Exact counts for one forward at the input shown; memory in MiB (2^20 bytes)."
    text = ()
    if any(m.spec != m.name for m in models):
        headers = {"model": "model", "spec": "given as",
                   **{k: v for k, v in headers.items() if k != "model"}}
        text = ("spec",)
        caption += " Models given as a file are named by file and factory; “given as” shows " \
                   "the full spec."
    table = Table(
        summary, headers, caption=caption, text=text,
        formats={"param_bytes": _mib, "activation_bytes": _mib,
                 "year": lambda v: "" if v is None or v != v else str(int(v))},
    )
    out = [
        Section("summary", "Summary", "The models side by side: size, work and memory.", [table]),
        Section("totals", "Parameters and MACs per model",
                "Bars show exact totals on hover; use the Linear/Log buttons when the models "
                "differ by orders of magnitude.",
                [Chart(F.totals_bar(summary, "params", "Parameters per model", "parameters",
                                    colors),
                       "How many weights and biases each model stores."),
                 Chart(F.totals_bar(summary, "macs", "MACs per model (one forward)", "MACs",
                                    colors),
                       "How many multiply-accumulates one forward costs at the input shown.")]),
    ]
    items = []
    for m in models:
        rows = m.table.rows
        stages = D.stage_frame(rows)
        depth = stages.attrs["depth"]
        where = ("top-level module" if depth == 1 else
                 f"module {depth} levels down (the first depth at which no module holds more "
                 "than half of the MACs)")
        items.append(Chart(F.stage_bars(stages, m.name, colors.get(m.name, F.PALETTE[0])),
                           f"{m.name}: parameters (left) and MACs (right) summed per {where}, "
                           "in forward order; modules with neither (pooling, dropout, "
                           "activations) keep their place with an empty bar, so the bars read "
                           "as the network from input to output."))
        items.append(Chart(F.hierarchy_treemap(D.hierarchy_frame(rows, m.name), m.name),
                           f"{m.name}: every module as a box whose area is its share of the "
                           "parameters (or MACs, with the button); click to zoom into a block."))
    out.append(Section("layers", "Per-layer breakdown",
                       "Where each model keeps its weights and where it spends its work.", items))
    out.append(Section(
        "shares", "Parameter share vs MAC share",
        "Where a model stores its weights is not where it does its work: convolutions reuse "
        "each weight at every position of the feature map, a fully connected layer uses each "
        "weight once per sample.",
        [Chart(F.kind_share_bars(D.kind_frame(models)),
               "Per model, the left bar splits the parameters and the right bar the MACs by "
               "layer kind (convolution, linear, everything else); each bar is 100 % of that "
               "model, hover for the exact counts."),
         Chart(F.share_scatter(D.share_frame(models), colors),
               "One point per layer with weights or MACs. Layers above the diagonal do more "
               "work than their weight count suggests (early convolutions on large maps); "
               "layers below it store many weights for little work (fully connected layers). "
               "Log spreads the many small layers apart; layers with a zero share (no MACs, "
               "e.g. batch-norm) cannot sit on a log axis and drop out there.")]))
    return out


DTYPE_BYTES = {"fp64": 8, "fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2}


def bench_frame(bench: pd.DataFrame) -> pd.DataFrame:
    """Successful configurations, each with its device label, variant and legend name.

    ``device_label``: ``cpu · AMD EPYC``, ``cuda · NVIDIA H100 …`` (:func:`.data.device_labels`);
    ``variant``: eager, CUDA graph or compile (MODE); ``series``: the legend name of the line
    a configuration belongs to. A line joins batch sizes of one model, dtype, device, mode,
    variant, memory layout and results file, so no line zig-zags between two of them; the
    name shows the parts that tell it apart from the other lines.
    """
    df = bench
    if "status" in df.columns:
        df = df[df["status"].fillna("ok") == "ok"]
    df = df.copy()
    df["device_label"] = D.device_labels(df) if len(df) else []
    n = len(df)

    def col(name: str, default: Any) -> list:
        return list(df[name]) if name in df.columns else [default] * n

    df["variant"] = [D.variant_label(g, c) for g, c in zip(col("graph", False),
                                                             col("compile", None))]
    df["mode"] = [m if isinstance(m, str) and m else "infer" for m in col("mode", "infer")]
    df["layout"] = ["channels_last" if isinstance(c, bool) and c or c == 1 else "NCHW"
                    for c in col("channels_last", False)]
    df["source"] = [str(s) if isinstance(s, str) else "" for s in col("source", "")]
    base = list(zip(df["model"], df["dtype"], df["device_label"], df["mode"], df["variant"],
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


def _moved_bytes(flops: Any, intensity: Any) -> int | None:
    """Bytes a layer (or model) moves at batch 1, from the table: FLOPs / intensity."""
    try:
        f, i = float(flops), float(intensity)
    except (TypeError, ValueError):
        return None
    if not (f > 0 and i > 0):
        return None
    return round(f / i)


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
    """FLOPs per byte at ``batch``: weights read once, inputs and outputs ``batch`` times,
    every element at the timed dtype's size (the table counted ``elem`` bytes)."""
    scale = DTYPE_BYTES.get(str(dtype), elem) / elem
    io1 = moved1 - param_bytes
    return batch * flops1 / (scale * (param_bytes + batch * io1))


POINT_COLUMNS = ["model", "kind", "series", "label", "config", "intensity", "flop_s", "flops",
                 "time_ms"]


def roofline_points(bench: pd.DataFrame, models: list[D.ModelData],
                    per_layer: pd.DataFrame | None = None) -> pd.DataFrame:
    """Whole-model points (``kind="model"``) and, with per-layer timings, layer points.

    Intensity follows the counting table: FLOPs / bytes moved, where each leaf layer reads its
    weights and its input and writes its output once. At batch B and the timed dtype:
    B × FLOPs / (bytes per element / table's bytes per element × (weight bytes + B × in/out
    bytes)), with the batch-1 figures of the table. Achieved FLOP/s: the record's ``tflops``
    for a model; for a layer, B × its table FLOPs / its per-layer time. Inference records
    only (training moves gradients too), and only where the timed input is the counted one.
    """
    import pandas as pd

    tables = {m.name: m.table for m in models}
    recs = []
    for _, row in bench.iterrows():
        table = tables.get(row["model"])
        if table is None or not row.get("tflops") or row.get("mode", "infer") != "infer":
            continue
        if not _same_input(row.get("input_shape"), table.input_size):
            continue
        t = table.total
        flops1 = int(t.get("flops") or 0)
        moved1 = _moved_bytes(flops1, t.get("intensity"))
        if not moved1:
            continue
        b = int(row["batch_size"])
        config = f"{row['dtype']} · {row['device_label']} · {row.get('variant', 'eager')}"
        recs.append({"model": row["model"], "kind": "model", "series": row.get("series", ""),
                     "label": f"{row['model']} · batch {b}", "config": config,
                     "intensity": _intensity(b, flops1, moved1, int(t.get("param_bytes") or 0),
                                             row["dtype"], _element_size(t)),
                     "flop_s": float(row["tflops"]) * 1e12, "flops": b * flops1,
                     "time_ms": float(row["median_ms"])})
    if per_layer is not None and len(per_layer):
        for model, part in per_layer.groupby("model", sort=False):
            table = tables.get(model)
            if table is None:
                continue
            first = part.iloc[0]
            if not _same_input(first.get("input_shape"), table.input_size):
                continue
            b, dtype = int(first["batch_size"]), str(first["dtype"])
            elem = _element_size(table.total)
            rows = table.rows.set_index("layer")
            for layer, time_ms in zip(part["layer"], part["time_ms"]):
                if layer not in rows.index or not time_ms or time_ms != time_ms:
                    continue
                r = rows.loc[layer]
                flops1 = int(r["flops"])
                moved1 = _moved_bytes(flops1, r["intensity"])
                if not moved1:
                    continue
                recs.append({"model": model, "kind": "layer", "series": "",
                             "label": f"{layer} ({r['type']})", "config": first["config"],
                             "intensity": _intensity(b, flops1, moved1,
                                                     elem * int(r["params"]), dtype, elem),
                             "flop_s": b * flops1 / (float(time_ms) / 1000),
                             "flops": b * flops1, "time_ms": float(time_ms)})
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
    """The math mode a peak belongs to: the dtype, or TF32 for fp32 on CUDA with TF32 on."""
    if str(dtype) == "fp32" and str(device).startswith("cuda") and tf32 is True:
        return "fp32 (TF32)"
    return str(dtype)


def peak_frame(bench: pd.DataFrame) -> pd.DataFrame:
    """Each device's peak TFLOP/s per math mode: columns device_label, math, peak_tflops.

    The peak is the record's ``peak_tflops``, else ``tflops_from_macs / peak_share`` (the bench
    computes ``peak_share`` from 2 × MACs per second, so that is the basis to undo). fp32 and
    bf16 peaks differ, so a device has one row per math mode.
    """
    import pandas as pd

    cols = ["device_label", "math", "peak_tflops"]
    if not len(bench):
        return pd.DataFrame(columns=cols)
    df = bench.copy()
    nan = float("nan")
    peak = df["peak_tflops"] if "peak_tflops" in df.columns else pd.Series(nan, index=df.index)
    if "peak_share" in df.columns and "tflops_from_macs" in df.columns:
        share = pd.to_numeric(df["peak_share"], errors="coerce")
        fallback = pd.to_numeric(df["tflops_from_macs"], errors="coerce") / share.where(share > 0)
        peak = pd.to_numeric(peak, errors="coerce").fillna(fallback)
    df["peak_tflops"] = pd.to_numeric(peak, errors="coerce")
    tf32 = df["env_tf32_conv"] if "env_tf32_conv" in df.columns else [None] * len(df)
    df["math"] = [_math_mode(d, dev, t) for d, dev, t in zip(df["dtype"], df["device"], tf32)]
    df = df[df["peak_tflops"].notna() & (df["peak_tflops"] > 0)]
    extra = ["peak_gbs"] if "peak_gbs" in df.columns else []
    return df.groupby(["device_label", "math"], sort=False, as_index=False)[
        ["peak_tflops"] + extra].max()


def _roofline_caption(points: pd.DataFrame, peaks: pd.DataFrame, bench: pd.DataFrame,
                      rug: pd.DataFrame) -> str:
    parts = ["Achieved FLOP/s against arithmetic intensity: FLOPs per byte moved, where each "
             "layer reads its weights and input and writes its output once, at the timed "
             "dtype's bytes per element. Large markers: whole models, one per timed inference "
             "configuration (the shape is the dtype, as in the legend)."]
    layers = points[points["kind"] == "layer"]
    if len(layers):
        runs = dict(zip(layers["model"], layers["config"]))
        configs = (next(iter(runs.values())) if len(set(runs.values())) == 1
                   else "; ".join(f"{m}: {c}" for m, c in runs.items()))
        parts.append(f"Circles: single layers of one per-layer run per model ({configs}), "
                     "timed with hooks one layer at a time, so small layers include the hook "
                     "overhead "
                     "and sit lower than they would in the plain forward.")
    if len(rug):
        parts.append("Ticks along the bottom: each layer's intensity as counted (batch 1, "
                     "fp32) for models timed without --per-layer; no layer time was measured, "
                     "so they have no height.")
    if len(peaks):
        sources = bench["peak_source"].astype(str) if "peak_source" in bench.columns else None
        measured = sources is not None and sources.str.startswith("measured").any()
        how = ("the rate of a dense matmul that the bench measured in that dtype with its own "
               "clock" if measured else "NVIDIA's datasheet figure")
        parts.append(f"Dashed lines: each device's peak per math mode ({how}); a point belongs "
                     "under the line of its own device and dtype, and sits above it only when "
                     "the library did fewer multiplies than the nominal MACs (Winograd or FFT "
                     "convolutions, common for 3×3 kernels on CPUs).")
    infer = bench[bench["mode"] == "infer"] if "mode" in bench.columns else bench
    known = set(peaks["device_label"]) if len(peaks) else set()
    missing = sorted(set(infer["device_label"]) - known)
    if missing:
        parts.append(f"No peak is recorded for {', '.join(missing)} (results from before "
                     "archscope measured peaks, or a measurement that failed), so no roof is "
                     f"drawn for {'it' if len(missing) == 1 else 'them'}.")
    return " ".join(parts)


def bench_sections(bench: pd.DataFrame, models: list[D.ModelData],
                   colors: dict[str, str], per_layer: pd.DataFrame | None) -> list[Section]:
    n_timed = len(bench)
    bench = bench_frame(bench)
    if not len(bench):
        return [Section("timing", "Timing",
                        f"None of the {n_timed} timed configurations finished (out of memory or "
                        "skipped, see the results file), so there is nothing to plot.", [])]
    summary = D.summary_frame(models)
    items = [
        Chart(BF.latency_vs_batch(bench, colors),
              "Median latency of one forward; colour: model, dash: dtype, marker: device "
              "(open or dotted marker: CUDA graph or compiled)."),
        Chart(BF.throughput_vs_batch(bench, colors),
              "Samples per second; it flattens once the device is busy."),
        Chart(BF.macs_vs_latency(bench, summary, colors),
              "More MACs usually cost more time; models off the trend use the device better or "
              "worse. Bubble area is proportional to the model's parameter count (at least a "
              "few pixels wide); the marker shape is the dtype."),
    ]
    if per_layer is not None and len(per_layer):
        items.append(Chart(BF.time_share_scatter(per_layer, colors),
                           "Layers above the diagonal take more time than their MACs suggest "
                           "(memory-bound work: pooling, normalisation, activations); the "
                           "legend names the run each model's layers come from."))
    points = roofline_points(bench, models, per_layer)
    if len(points):
        timed = set(points.loc[points["kind"] == "layer", "model"])
        rug = layer_intensities([m for m in models if m.name in set(points["model"])], timed)
        peaks = peak_frame(bench[bench["mode"] == "infer"])
        items.append(Chart(BF.roofline(points, peaks, colors, rug),
                           _roofline_caption(points, peaks, bench, rug)))
    return [Section("timing", "Timing", "Measured with `archscope bench`.", items)]


def lesson_section(engine: str) -> Section:
    """Every lesson of the registry that ``archscope explain`` reads, counted with ``engine``."""
    from ..analysis.explain import LESSONS, explain

    items = []
    for topic in LESSONS:
        e = explain(topic, engine)
        bias = e.notes[-1]
        items.append(Chart(F.lesson_bars(e.compared, e.title),
                           f"{e.text} {bias[:1].upper()}{bias[1:]}. The table of every design: "
                           f"archscope explain {topic}."))
    return Section("lessons", "Design lessons",
                   "Two or more ways to do the same job, built as real modules and counted by the "
                   "same engine as the models above; each states the feature-map size it runs "
                   "on.", items)


def build_sections(models: list[D.ModelData], bench: pd.DataFrame | None, engine: str,
                   per_layer: pd.DataFrame | None = None, differences: Any = None
                   ) -> list[Section]:
    from .compare import diff_section, rf_section

    colors = F.model_colors([m.name for m in models])
    sections = model_sections(models, colors)
    if differences is not None:
        sections.append(diff_section(differences))
    fields = rf_section(models, colors)
    if fields is not None:
        sections.append(fields)
    if bench is not None and len(bench):
        sections += bench_sections(bench, models, colors, per_layer)
    sections.append(lesson_section(engine))
    return sections
