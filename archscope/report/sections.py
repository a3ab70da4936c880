"""The report's sections in reading order, each a heading, a sentence and its charts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import bench_figures as BF
from . import data as D
from . import figures as F
from .page import Chart, Section, Table

if TYPE_CHECKING:
    import pandas as pd


def _mib(value) -> str:
    return f"{int(value) / 2**20:,.2f} MiB"


def _si(value: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {unit}"
    return str(value)


def model_sections(models: list[D.ModelData], colors: dict[str, str]) -> list[Section]:
    summary = D.summary_frame(models)
    table = Table(
        summary,
        {"model": "model", "year": "year", "input": "input (N×C×H×W)", "params": "parameters",
         "macs": "MACs", "flops": "FLOPs", "param_bytes": "parameter memory",
         "activation_bytes": "activation memory", "weight_layers": "weight layers"},
        caption="Exact counts for one forward at the input shown; memory in MiB (2^20 bytes).",
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
        items.append(Chart(F.stage_bars(D.stage_frame(rows), m.name),
                           f"{m.name}: parameters (left) and MACs (right) summed per top-level "
                           "module, in forward order."))
        items.append(Chart(F.hierarchy_treemap(D.hierarchy_frame(rows, m.name), m.name),
                           f"{m.name}: every module as a box whose area is its share of the "
                           "parameters (or MACs, with the button); click to zoom into a block."))
    out.append(Section("layers", "Per-layer breakdown",
                       "Where each model keeps its weights and where it spends its work.", items))
    out.append(Section(
        "shares", "Parameter share vs MAC share",
        "Layers above the diagonal do more work than their weight count suggests "
        "(early convolutions on large maps); layers below it store many weights for little "
        "work (fully connected layers).",
        [Chart(F.share_scatter(D.share_frame(models), colors),
               "One point per layer with weights or MACs; hover for the exact counts.")]))
    return out


def bench_frame(bench: pd.DataFrame) -> pd.DataFrame:
    """Successful configurations with a device label for legends (``cpu``, ``cuda · H100``)."""
    df = bench
    if "status" in df.columns:
        df = df[df["status"].fillna("ok") == "ok"]
    df = df.copy()
    names = df["device_name"] if "device_name" in df.columns else df["device"]
    df["device_label"] = [str(d) if not n or n != n or n == d else f"{d} · {n}"
                          for d, n in zip(df["device"], names)]
    return df


def roofline_points(bench: pd.DataFrame, models: list[D.ModelData]) -> pd.DataFrame:
    """Whole-model points: the model's FLOPs per byte at its batch, and the TFLOP/s achieved.

    Intensity at batch B = B × FLOPs / (param bytes + B × activation bytes), with the per-sample
    figures of the counted table (batch 1).
    """
    import pandas as pd

    totals = {m.name: m.table.total for m in models}
    recs = []
    for _, row in bench.iterrows():
        t = totals.get(row["model"])
        if t is None or not row.get("tflops"):
            continue
        b = int(row["batch_size"])
        moved = int(t.get("param_bytes", 0)) + b * int(t.get("activation_bytes", 0))
        if not moved:
            continue
        recs.append({"model": row["model"], "kind": "model",
                     "label": f"{row['model']} · batch {b} · {row['dtype']} · "
                              f"{row['device_label']}",
                     "intensity": b * int(t.get("flops", 0)) / moved,
                     "tflops": float(row["tflops"])})
    return pd.DataFrame.from_records(recs, columns=["model", "kind", "label", "intensity",
                                                    "tflops"])


def peak_frame(bench: pd.DataFrame) -> pd.DataFrame:
    """Each device's peak TFLOP/s (from ``peak_tflops``, or ``tflops / peak_share``)."""
    import pandas as pd

    df = bench.copy()
    if "peak_tflops" not in df.columns:
        if "peak_share" not in df.columns:
            return pd.DataFrame(columns=["device_label", "peak_tflops"])
        df["peak_tflops"] = df["tflops"] / df["peak_share"]
    df = df[df["peak_tflops"].notna() & (df["peak_tflops"] > 0)]
    cols = ["device_label", "peak_tflops"] + (["peak_gbs"] if "peak_gbs" in df.columns else [])
    return df.groupby("device_label", sort=False, as_index=False)[cols[1:]].max()


def bench_sections(bench: pd.DataFrame, models: list[D.ModelData],
                   colors: dict[str, str], per_layer: pd.DataFrame | None) -> list[Section]:
    bench = bench_frame(bench)
    summary = D.summary_frame(models)
    items = [
        Chart(BF.latency_vs_batch(bench, colors),
              "Median latency of one forward; colour: model, dash: dtype, marker: device."),
        Chart(BF.throughput_vs_batch(bench, colors),
              "Samples per second; it flattens once the device is busy."),
        Chart(BF.macs_vs_latency(bench, summary, colors),
              "More MACs usually cost more time; models off the trend use the device better or "
              "worse. Bubble area grows with the parameter count."),
    ]
    points = roofline_points(bench, models)
    if per_layer is not None and len(per_layer):
        items.append(Chart(BF.time_share_scatter(per_layer, colors),
                           "Layers above the diagonal take more time than their MACs suggest "
                           "(memory-bound work: pooling, normalisation, activations)."))
    if len(points):
        items.append(Chart(BF.roofline(points, peak_frame(bench), colors),
                           "Achieved compute against FLOPs per byte moved; the dashed line is "
                           "the device's peak."))
    return [Section("timing", "Timing", "Measured with `archscope bench`.", items)]


def lesson_section(engine: str) -> Section:
    from .lessons import lesson_frames

    items = [Chart(F.lesson_bars(frame, lesson.title), lesson.caption)
             for lesson, frame in lesson_frames(engine)]
    return Section("lessons", "Design lessons",
                   "Counted on real modules by the same engine as the models above.", items)


def build_sections(models: list[D.ModelData], bench: pd.DataFrame | None, engine: str,
                   per_layer: pd.DataFrame | None = None) -> list[Section]:
    colors = F.model_colors([m.name for m in models])
    sections = model_sections(models, colors)
    if bench is not None and len(bench):
        sections += bench_sections(bench, models, colors, per_layer)
    sections.append(lesson_section(engine))
    return sections
