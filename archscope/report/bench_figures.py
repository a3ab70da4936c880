"""Plotly figures of timing results (one row per configuration, see ``archscope.load_results``).

Lines are grouped per model × dtype × device; the model decides the colour, the dtype the dash
and the device the marker, so the same model keeps its colour across the page. Times are
milliseconds (median of the timed runs), throughput is items (samples) per second, achieved
compute is TFLOP/s (10^12 FLOPs per second).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from .figures import PALETTE, _literal, base_layout, log_toggle

if TYPE_CHECKING:
    import pandas as pd

DASHES = ["solid", "dash", "dot", "dashdot", "longdash"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star"]


def _series(bench: pd.DataFrame):
    """Groups (model, dtype, device) in the order they first appear, with their line style."""
    dtypes = list(dict.fromkeys(bench["dtype"]))
    devices = list(dict.fromkeys(bench["device_label"]))
    for (model, dtype, device), part in bench.groupby(
        ["model", "dtype", "device_label"], sort=False
    ):
        style = {
            "dash": DASHES[dtypes.index(dtype) % len(DASHES)],
            "symbol": SYMBOLS[devices.index(device) % len(SYMBOLS)],
        }
        yield escape(f"{model} · {dtype} · {device}"), str(model), part.sort_values("batch_size"), style


def _line_vs_batch(bench: pd.DataFrame, column: str, axis_title: str, title: str,
                   colors: dict[str, str], fmt: str) -> go.Figure:
    fig = go.Figure()
    for name, model, part, style in _series(bench):
        fig.add_trace(
            go.Scatter(
                x=[int(b) for b in part["batch_size"]],
                y=[round(float(v), 4) for v in part[column]],
                mode="lines+markers",
                name=name,
                line={"color": colors.get(model, PALETTE[0]), "dash": style["dash"], "width": 2},
                marker={"symbol": style["symbol"], "size": 8},
                hovertemplate="<b>" + _literal(name) + "</b><br>batch %{x}<br>"
                + axis_title + ": %{y:" + fmt + "}<extra></extra>",
            )
        )
    base_layout(fig, title, height=430)
    fig.update_xaxes(title_text="batch size (samples)", type="log", dtick=0.30103)
    fig.update_yaxes(title_text=axis_title)
    # models differ by orders of magnitude: start on a log axis, Linear is one click away
    return log_toggle(fig, axes=("yaxis",), start_log=True)


def latency_vs_batch(bench: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Median latency of one forward against batch size."""
    return _line_vs_batch(bench, "median_ms", "median latency (ms)",
                          "Latency vs batch size", colors, ",.3f")


def throughput_vs_batch(bench: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Samples per second against batch size."""
    return _line_vs_batch(bench, "throughput_items_s", "throughput (samples/s)",
                          "Throughput vs batch size", colors, ",.1f")


def macs_vs_latency(bench: pd.DataFrame, summary: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Work per forward (MACs × batch) against latency; bubble area ∝ the model's params."""
    totals = summary.set_index("model")
    largest = max(int(totals["params"].max()), 1)
    fig = go.Figure()
    for name, model, part, style in _series(bench):
        if model not in totals.index:
            continue
        macs = int(totals.at[model, "macs"])
        params = int(totals.at[model, "params"])
        work = [macs * int(b) for b in part["batch_size"]]
        fig.add_trace(
            go.Scatter(
                x=work,
                y=[round(float(v), 4) for v in part["median_ms"]],
                mode="markers",
                name=name,
                marker={"color": colors.get(model, PALETTE[0]), "symbol": style["symbol"],
                        "size": 14 + 36 * (params / largest) ** 0.5, "opacity": 0.75,
                        "line": {"width": 1, "color": "white"}},
                customdata=[[w, int(b), params] for w, b in zip(work, part["batch_size"])],
                hovertemplate="<b>" + _literal(name) + "</b><br>batch %{customdata[1]}"
                "<br>MACs: %{customdata[0]:,}<br>latency: %{y:,.3f} ms<br>parameters: "
                "%{customdata[2]:,}<extra></extra>",
            )
        )
    base_layout(fig, "Work vs latency (bubble area: parameters)", height=450)
    fig.update_xaxes(title_text="MACs per forward (model MACs × batch size)", type="log",
                     exponentformat="SI", dtick=1)
    fig.update_yaxes(title_text="median latency (ms)", type="log", dtick=1)
    return fig


def roofline(points: pd.DataFrame, peaks: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Achieved TFLOP/s against arithmetic intensity, under each device's peak.

    ``points``: model, label, intensity (FLOPs/byte), tflops, kind (``model`` or ``layer``).
    ``peaks``: device_label, peak_tflops and, when known, peak_gbs (memory bandwidth, GB/s),
    which adds the slanted memory roof (TFLOP/s = intensity × GB/s / 1000).
    """
    fig = go.Figure()
    for (model, kind), part in points.groupby(["model", "kind"], sort=False):
        layer = kind == "layer"
        fig.add_trace(
            go.Scatter(
                x=[round(float(v), 3) for v in part["intensity"]],
                y=[round(float(v), 5) for v in part["tflops"]],
                mode="markers",
                name=escape(f"{model} ({'layers' if layer else 'whole model'})"),
                marker={"color": colors.get(model, PALETTE[0]), "size": 7 if layer else 13,
                        "symbol": "circle" if layer else "diamond", "opacity": 0.7 if layer else 1,
                        "line": {"width": 1, "color": "white"}},
                text=[escape(str(v)) for v in part["label"]],
                hovertemplate="<b>%{text}</b><br>intensity: %{x:,.1f} FLOPs/byte<br>achieved: "
                "%{y:,.3f} TFLOP/s<extra></extra>",
            )
        )
    xs = [float(v) for v in points["intensity"] if v and v > 0] or [1.0]
    lo, hi = min(xs) / 2, max(xs) * 2
    for _, peak in peaks.iterrows():
        label = str(peak["device_label"])
        top = float(peak["peak_tflops"])
        gbs = float(peak["peak_gbs"]) if "peak_gbs" in peak and peak["peak_gbs"] == peak["peak_gbs"] \
            and peak["peak_gbs"] else None
        if gbs:
            ridge = top * 1000 / gbs
            x = [lo, max(lo, min(ridge, hi)), hi]
            y = [min(top, v * gbs / 1000) for v in x]
        else:
            x, y = [lo, hi], [top, top]
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=escape(f"peak · {label}"),
                                 line={"color": "#444", "dash": "dash", "width": 1.5},
                                 hovertemplate=f"peak {top:,.2f} TFLOP/s<extra></extra>"))
    base_layout(fig, "Roofline: achieved TFLOP/s against arithmetic intensity", height=480)
    fig.update_xaxes(title_text="arithmetic intensity (FLOPs per byte of params + activations)",
                     type="log", dtick=1)
    fig.update_yaxes(title_text="achieved TFLOP/s", type="log", dtick=1)
    return fig


def time_share_scatter(layers: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Each layer's share of the measured time (y) against its share of the MACs (x)."""
    fig = go.Figure()
    for model, part in layers.groupby("model", sort=False):
        fig.add_trace(
            go.Scatter(
                x=[round(float(v) * 100, 4) for v in part["mac_share"]],
                y=[round(float(v) * 100, 4) for v in part["time_share"]],
                mode="markers",
                name=escape(str(model)),
                marker={"color": colors.get(model, PALETTE[0]), "size": 9, "opacity": 0.8},
                text=[escape(str(v)) for v in part["layer"]],
                customdata=[round(float(v), 4) for v in part["time_ms"]],
                hovertemplate="<b>%{text}</b><br>MACs: %{x:.2f}%<br>time: %{y:.2f}% "
                "(%{customdata:,.3f} ms)<extra>" + _literal(escape(str(model)))
                + "</extra>",
            )
        )
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 100], mode="lines", name="time ∝ MACs",
                             line={"color": "#aaa", "dash": "dot", "width": 1}, hoverinfo="skip"))
    base_layout(fig, "Per-layer share of time vs share of MACs", height=460)
    fig.update_xaxes(title_text="share of the model's MACs (%)", range=[-2, 102])
    fig.update_yaxes(title_text="share of the measured time (%)", range=[-2, 102])
    return fig
