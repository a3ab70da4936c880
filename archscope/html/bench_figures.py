"""Plotly figures of timing results (one row per configuration, see ``archscope.load_results``).

The frame comes through :func:`.sections.bench_frame`, which adds ``device_label``, ``variant``
and ``series`` (the legend name). One line per series: a model × dtype × device × mode ×
variant (eager, CUDA graph, compiled) × memory layout × results file, so a line never joins
two different runs. The model decides the colour, the dtype the dash, the device the marker
shape and the variant its fill (open: CUDA graph, dotted: compiled), so the same model keeps
its colour across the page. Times are milliseconds (median of the timed runs), throughput is
items (samples) per second, achieved compute is FLOP/s with SI prefixes (G = 10⁹, T = 10¹²).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from .figures import (PALETTE, _literal, _positive, base_layout, diagonal, escape, log_axis,
                      log_toggle, si, si_unit, sig)

if TYPE_CHECKING:
    import pandas as pd

DASHES = ["solid", "dash", "dot", "dashdot", "longdash"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "star", "hexagon"]
MODEL_SYMBOLS = ["diamond", "square", "pentagon", "triangle-up"]  # roofline: one per dtype
VARIANT_FILL = {"eager": "", "CUDA graph": "-open"}  # compile (…): "-dot"


def _variant_suffix(variant: str) -> str:
    return VARIANT_FILL.get(variant, "-dot" if variant.startswith("compile") else "")


def _series(bench: pd.DataFrame):
    """(legend name escaped, model, rows sorted by batch, style) per series, in first-seen order."""
    dtypes = list(dict.fromkeys(bench["dtype"]))
    devices = list(dict.fromkeys(bench["device_label"]))
    for name, part in bench.groupby("series", sort=False):
        first = part.iloc[0]
        style = {
            "dash": DASHES[dtypes.index(first["dtype"]) % len(DASHES)],
            "symbol": SYMBOLS[devices.index(first["device_label"]) % len(SYMBOLS)]
            + _variant_suffix(str(first.get("variant", "eager"))),
        }
        yield escape(str(name)), str(first["model"]), part.sort_values("batch_size"), style


def batch_axis(batches) -> dict:
    """A log axis whose ticks are the batch sizes timed (powers of two read as 1, 2, 4, 8…)."""
    sizes = sorted({int(b) for b in batches if b and b > 0})
    if len(sizes) > 12:  # keep every other one so the labels do not collide
        sizes = sizes[::2] + ([sizes[-1]] if len(sizes) % 2 == 0 else [])
    axis = log_axis(sizes, below=0.12, above=0.12)
    axis.update(tickmode="array", tickvals=sizes, ticktext=[f"{b:,}" for b in sizes])
    return axis


def _line_vs_batch(bench: pd.DataFrame, column: str, axis_title: str, title: str,
                   colors: dict[str, str], unit: str) -> go.Figure:
    fig = go.Figure()
    values = []
    for name, model, part, style in _series(bench):
        ys = [float(v) for v in part[column]]
        values += ys
        fig.add_trace(
            go.Scatter(
                x=[int(b) for b in part["batch_size"]],
                y=ys,
                mode="lines+markers",
                name=name,
                line={"color": colors.get(model, PALETTE[0]), "dash": style["dash"], "width": 2},
                marker={"symbol": style["symbol"], "size": 9, "line": {"width": 1.5}},
                customdata=[sig(v) for v in ys],
                hovertemplate="<b>" + _literal(name) + "</b><br>batch %{x}<br>"
                + axis_title + ": %{customdata} " + unit + "<extra></extra>",
            )
        )
    base_layout(fig, title, height=460)
    fig.update_xaxes(title_text="batch size (samples)", **batch_axis(bench["batch_size"]))
    fig.update_yaxes(title_text=f"{axis_title} ({unit})")
    _legend_below(fig)
    # models differ by orders of magnitude: start on a log axis, Linear is one click away
    return log_toggle(fig, {"yaxis": values}, start_log=True, bars=False)


def _legend_below(fig: go.Figure) -> None:
    """Legends of long series names go under the plot, where the page's width is theirs."""
    fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.2,
                              "yanchor": "top", "font": {"size": 12}},
                      margin={"b": 40})
    n = len(fig.data)
    fig.update_layout(height=(fig.layout.height or 450) + 22 * math.ceil(n / 2))


def latency_vs_batch(bench: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Median latency of one forward against batch size."""
    return _line_vs_batch(bench, "median_ms", "median latency", "Latency vs batch size",
                          colors, "ms")


def throughput_vs_batch(bench: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Samples per second against batch size."""
    return _line_vs_batch(bench, "throughput_items_s", "throughput",
                          "Throughput vs batch size", colors, "samples/s")


BUBBLE_MAX_PX = 56  # diameter of the largest model's bubble
BUBBLE_MIN_PX = 6


def macs_vs_latency(bench: pd.DataFrame, params: dict[str, int],
                    colors: dict[str, str]) -> go.Figure:
    """Work per forward (``work_macs``: MACs at the timed batch) against latency; bubble area ∝
    the model's params (``params``; a model missing there is drawn at the smallest size).

    ``sizemode="area"`` with ``sizeref = 2 × largest params / BUBBLE_MAX_PX²`` makes the
    largest model's bubble BUBBLE_MAX_PX wide and every area proportional to the parameters
    (down to BUBBLE_MIN_PX, so a small model stays visible). The marker shape is the dtype.
    """
    largest = max([int(v) for v in params.values()] + [1])
    dtypes = list(dict.fromkeys(bench["dtype"]))
    fig = go.Figure()
    xs, ys = [], []
    for name, model, part, style in _series(bench):
        n_params = params.get(model)
        work = [int(w) for w in part["work_macs"]]
        lat = [float(v) for v in part["median_ms"]]
        xs += work
        ys += lat
        dtype = part.iloc[0]["dtype"]
        fig.add_trace(
            go.Scatter(
                x=work,
                y=lat,
                mode="markers",
                name=name,
                marker={"color": colors.get(model, PALETTE[0]),
                        "symbol": SYMBOLS[dtypes.index(dtype) % len(SYMBOLS)],
                        "size": [n_params or 0] * len(work), "sizemode": "area",
                        "sizeref": 2 * largest / BUBBLE_MAX_PX ** 2, "sizemin": BUBBLE_MIN_PX,
                        "opacity": 0.7, "line": {"width": 1, "color": "white"}},
                cliponaxis=False,
                customdata=[[w, int(b), f"{n_params:,}" if n_params else "not counted", sig(v)]
                            for w, b, v in zip(work, part["batch_size"], lat)],
                hovertemplate="<b>" + _literal(name) + "</b><br>batch %{customdata[1]}"
                "<br>MACs: %{customdata[0]:,}<br>latency: %{customdata[3]} ms<br>parameters: "
                "%{customdata[2]}<extra></extra>",
            )
        )
    base_layout(fig, "Work vs latency (bubble area ∝ parameters, shape: dtype)", height=480)
    fig.update_xaxes(title_text="MACs per forward (at the timed batch size)",
                     **log_axis(xs, below=0.3, above=0.3))
    fig.update_yaxes(title_text="median latency (ms)", **log_axis(ys, below=0.3, above=0.3))
    _legend_below(fig)
    fig.update_layout(legend={"itemsizing": "constant"})
    return fig


def roofline(points: pd.DataFrame, peaks: pd.DataFrame, colors: dict[str, str],
             rug: pd.DataFrame | None = None) -> go.Figure:
    """Achieved FLOP/s against arithmetic intensity, under each device's peak per math mode.

    ``points``: model, kind (``model`` or ``layer``), label, config, intensity (FLOPs/byte),
    flop_s, flops (per forward, exact), time_ms and bound (``memory-bound`` layers are open
    circles). ``peaks``: device_label, math, peak_tflops and, when known, peak_gbs (memory
    bandwidth, GB/s), which adds the slanted memory roof and marks the ridge point where the
    two meet (peak / bandwidth FLOPs per byte).
    ``rug``: model, label, intensity, flops: layers' intensities without a time, drawn as
    ticks along the bottom (a hidden 0..1 axis), since they have no achieved rate.
    """
    fig = go.Figure()
    dtypes = list(dict.fromkeys(points.loc[points["kind"] == "model", "config"].map(
        lambda c: str(c).split(" · ", 1)[0])))
    # layers first, so the whole-model diamonds are drawn on top of them (and listed first)
    order = points.assign(_layer=points["kind"] == "layer").sort_values("_layer", kind="stable",
                                                                          ascending=False)
    for (model, kind, series), part in order.groupby(["model", "kind", "series"], sort=False):
        layer = kind == "layer"
        name = f"{model} · layers · {part.iloc[0]['config']}" if layer else f"{series} (model)"
        bounds = list(part["bound"]) if "bound" in part.columns else [None] * len(part)
        # layers: filled when compute-bound, open when memory-bound (against their own roof)
        symbol = ["circle-open" if b == "memory-bound" else "circle" for b in bounds]
        if not layer:
            config = str(part.iloc[0]["config"])
            symbol = MODEL_SYMBOLS[dtypes.index(config.split(" · ", 1)[0]) % len(MODEL_SYMBOLS)] \
                + _variant_suffix(config.rsplit(" · ", 1)[-1])
        fig.add_trace(
            go.Scatter(
                x=[float(v) for v in part["intensity"]],
                y=[float(v) for v in part["flop_s"]],
                mode="markers",
                name=escape(name),
                legendrank=2000 if layer else 1000,
                marker={"color": colors.get(model, PALETTE[0]), "size": 7 if layer else 13,
                        "symbol": symbol, "opacity": 0.6 if layer else 1,
                        "line": {"width": 1, "color": "white"}},
                text=[escape(str(v)) for v in part["label"]],
                customdata=[[si(i), si_unit(f, "FLOP/s"), int(n), sig(t), escape(str(c)),
                             b if isinstance(b, str) else "bound: no roof measured"]
                            for i, f, n, t, c, b in zip(part["intensity"], part["flop_s"],
                                                        part["flops"], part["time_ms"],
                                                        part["config"], bounds)],
                hovertemplate="<b>%{text}</b><br>%{customdata[4]}<br>intensity: "
                "%{customdata[0]} FLOPs/byte (%{customdata[5]})<br>achieved: %{customdata[1]}"
                "<br>FLOPs: %{customdata[2]:,} in %{customdata[3]} ms<extra>"
                + _literal(escape(str(model))) + "</extra>",
            )
        )
    if rug is not None and len(rug):
        for model, part in rug.groupby("model", sort=False):
            fig.add_trace(go.Scatter(
                x=[float(v) for v in part["intensity"]], y=[0.035] * len(part), yaxis="y2",
                mode="markers", name=escape(f"{model} · layer intensities (no time)"),
                marker={"color": colors.get(model, PALETTE[0]), "symbol": "line-ns-open",
                        "size": 16, "line": {"width": 1.5}},
                text=[escape(str(v)) for v in part["label"]],
                customdata=[[si(i), int(f)] for i, f in zip(part["intensity"], part["flops"])],
                hovertemplate="<b>%{text}</b><br>intensity at batch 1: %{customdata[0]} "
                "FLOPs/byte<br>FLOPs: %{customdata[1]:,}<extra>" + _literal(escape(str(model)))
                + "</extra>",
            ))
    xs = _positive(list(points["intensity"]) + (list(rug["intensity"]) if rug is not None
                                                 and len(rug) else [])) or [1.0]
    # every ridge point in view, so each device shows its slope, its bend and its flat roof
    xs += _positive([float(p) / float(g) * 1000 for p, g in
                     zip(peaks.get("peak_tflops", []), peaks.get("peak_gbs", []))
                     if g is not None and g == g and g])
    lo, hi = min(xs) / 2, max(xs) * 2
    ys = _positive(points["flop_s"])
    dashes = ["dash", "dot", "dashdot", "longdash"]
    maths = list(dict.fromkeys(peaks["math"])) if len(peaks) else []
    for _, peak in peaks.iterrows():
        top = float(peak["peak_tflops"]) * 1e12
        ys.append(top)
        gbs = peak.get("peak_gbs")
        gbs = float(gbs) if gbs is not None and gbs == gbs and gbs else None
        if gbs:
            ridge = top / (gbs * 1e9)
            x = [lo, max(lo, min(ridge, hi)), hi]
            y = [min(top, v * gbs * 1e9) for v in x]
        else:
            x, y = [lo, hi], [top, top]
        label = f"peak · {peak['device_label']} · {peak['math']}"
        roof = f"{si_unit(top, 'FLOP/s')}" + (f", {si_unit(gbs * 1e9, 'B/s')}" if gbs else "")
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines+text", name=escape(label),
            line={"color": "#444", "dash": dashes[maths.index(peak["math"]) % len(dashes)],
                  "width": 1.5},
            text=[""] * (len(x) - 1) + [escape(f"{peak['math']} peak {si_unit(top, 'FLOP/s')}")],
            textposition="top left", textfont={"size": 11, "color": "#444"},
            hovertemplate=escape(label) + f": {roof}<extra></extra>"))
        if gbs and lo <= ridge <= hi:
            fig.add_trace(go.Scatter(
                x=[ridge], y=[top], mode="markers", name=escape(f"ridge · {peak['device_label']} · "
                                                               f"{peak['math']}"),
                showlegend=False, marker={"symbol": "x-thin-open", "size": 12, "color": "#444",
                                          "line": {"width": 2}},
                hovertemplate=escape(label) + f": ridge point {sig(ridge)} FLOPs/byte (left: "
                "memory-bound, right: compute-bound)<extra></extra>"))
    base_layout(fig, "Roofline: achieved FLOP/s against arithmetic intensity", height=520)
    fig.update_xaxes(title_text="arithmetic intensity (FLOPs per byte moved)",
                     **log_axis([lo, hi], below=0, above=0))
    fig.update_yaxes(title_text="achieved FLOP/s", **log_axis(ys or [1e9], below=0.3,
                                                                above=0.3))
    fig.update_layout(yaxis2={"overlaying": "y", "range": [0, 1], "visible": False,
                              "fixedrange": True})
    _legend_below(fig)
    return fig


def time_share_scatter(layers: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Each layer's share of the measured time (y) against its share of the MACs (x), on log
    axes (a Linear button shows the 0–100 % view, where layers without MACs appear too).

    One series per model, named with the run its per-layer timings come from (device, dtype,
    batch); hovers give the layer's exact MACs at that batch and its time.
    """
    fig = go.Figure()
    configs = []
    for model, part in layers.groupby("model", sort=False):
        part = part[part["time_share"].notna() & part["mac_share"].notna()]
        if not len(part):
            continue
        config = str(part.iloc[0]["config"]) if "config" in part.columns else ""
        configs.append(config)
        batch = int(part.iloc[0]["batch_size"]) if "batch_size" in part.columns else None
        fig.add_trace(
            go.Scatter(
                x=[round(float(v) * 100, 6) for v in part["mac_share"]],
                y=[round(float(v) * 100, 6) for v in part["time_share"]],
                mode="markers",
                name=escape(f"{model} · {config}" if config else str(model)),
                marker={"color": colors.get(model, PALETTE[0]), "size": 9, "opacity": 0.8},
                text=[escape(f"{v} ({t})") for v, t in zip(part["layer"], part["type"])],
                customdata=[[int(m), sig(float(t))] for m, t in
                            zip(part["macs"], part["time_ms"])],
                hovertemplate="<b>%{text}</b><br>MACs"
                + (f" at batch {batch}" if batch else "")
                + ": %{customdata[0]:,} (%{x:.3g}%)<br>time: %{customdata[1]} ms "
                "(%{y:.3g}%)<extra>" + _literal(escape(str(model))) + "</extra>",
            )
        )
    both = [(x, y) for t in fig.data for x, y in zip(t.x, t.y) if x > 0 and y > 0]
    ends = diagonal([x for x, _ in both], [y for _, y in both])
    fig.add_trace(go.Scatter(x=ends, y=ends, mode="lines", name="time ∝ MACs",
                             line={"color": "#aaa", "dash": "dot", "width": 1}, hoverinfo="skip"))
    base_layout(fig, "Per-layer share of time vs share of MACs", height=480)
    if len(set(configs)) == 1:
        fig.update_layout(title_subtitle_text=escape(f"run: {configs[0]}"), margin={"t": 80})
    fig.update_xaxes(title_text="share of the model's MACs (%)", range=[-2, 102])
    fig.update_yaxes(title_text="share of the measured time (%)", range=[-2, 102])
    _legend_below(fig)
    # opens on log axes (the many small layers apart); Linear shows layers with no MACs too
    return log_toggle(fig, {"xaxis": [x for x, _ in both], "yaxis": [y for _, y in both]},
                      start_log=True, bars=False, linear={"xaxis": [-2, 102], "yaxis": [-2, 102]})
