"""Figures of a training step: the report's "Training" section (frames from :mod:`.training`) and
the chart of ``archscope explain training``. Conventions as in :mod:`.figures`: exact integers in
``customdata``, names escaped, colour means model; the parts of a step (parameters, gradients,
optimizer state, saved activations; forward, grad-input, grad-weight MACs) are slate shades,
darkest first. Bytes are plotted as bytes (SI ticks: k = 10³, M = 10⁶, G = 10⁹) and hovered
exactly, with binary units (MiB = 2²⁰ bytes) beside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from ..analysis.memory import binary
from .figures import (MACS_COLOUR, PALETTE, PARAMS_COLOUR, base_layout, escape, log_toggle,
                      wrap_label, _buttons_under_title)

if TYPE_CHECKING:
    import pandas as pd

# What a step keeps, bottom to top, and the slate shade of each (none is a model colour).
MEMORY_PARTS = (("param_bytes", "parameters", PARAMS_COLOUR, "white"),
                ("grad_bytes", "gradients", "#5d6d7e", "white"),
                ("optimizer_bytes", "optimizer state", MACS_COLOUR, "#1f2933"),
                ("saved_activation_bytes", "saved activations", "#d5dde5", "#1f2933"))
STEP_PARTS = (("forward_macs", "forward", PARAMS_COLOUR),
              ("grad_input_macs", "backward: input gradients", "#7f8c9d"),
              ("grad_weight_macs", "backward: weight gradients", "#c3ccd6"))
PEAK_COLOUR = "#1f2933"
MANY_LAYERS = 40  # beyond this, layer names leave the axis for the hover
BYTES_AXIS = "bytes (k = 10³, M = 10⁶, G = 10⁹)"


def _bytes_hover(values: list[int]) -> list[str]:
    return [f"{v:,} B ({binary(v)})" if v >= 1024 else f"{v:,} B" for v in values]


def memory_stack(frame: pd.DataFrame, where: str) -> go.Figure:
    """Per model, one stacked bar: parameters, gradients, optimizer state and saved activations
    (bytes), and a mark at the step's peak; buttons switch between bytes and each bar as 100 %.
    """
    models = [str(m) for m in frame["model"]]
    x = [wrap_label(escape(m), 24) for m in models]
    parts = {column: [int(v) for v in frame[column]] for column, *_ in MEMORY_PARTS}
    sums = [sum(col[i] for col in parts.values()) for i in range(len(models))]
    fig = go.Figure()
    shares = []
    for column, label, colour, text_colour in MEMORY_PARTS:
        values = parts[column]
        share = [round(100 * v / s, 6) if s else 0.0 for v, s in zip(values, sums)]
        shares.append(share)
        fig.add_trace(go.Bar(
            x=x, y=values, name=label, marker_color=colour,
            marker_line={"color": "white", "width": 1},
            customdata=list(zip(_bytes_hover(values), share)),
            text=[f"{p:.0f}%" if p >= 8 else "" for p in share], textposition="inside",
            insidetextanchor="middle", textfont={"color": text_colour},
            hovertemplate="<b>%{x}</b><br>" + label + ": %{customdata[0]} "
            "(%{customdata[1]:.1f}% of the four)<extra></extra>"))
    peaks = [int(v) for v in frame["peak_train_bytes"]]
    phases = [str(p) for p in frame["peak_phase"]]
    fig.add_trace(go.Scatter(
        x=x, y=peaks, mode="markers", name="peak of the step",
        marker={"symbol": "line-ew-open", "size": 44, "color": PEAK_COLOUR,
                "line": {"width": 3, "color": PEAK_COLOUR}},
        customdata=list(zip(_bytes_hover(peaks), phases)),
        hovertemplate="<b>%{x}</b><br>peak of the step: %{customdata[0]}, in the "
        "%{customdata[1]}<extra></extra>"))
    base_layout(fig, f"What one training step keeps in memory ({escape(where)})", height=440)
    byte_values = [list(parts[c]) for c, *_ in MEMORY_PARTS]
    fig.update_layout(
        barmode="stack", bargap=0.35,
        legend={"traceorder": "normal", "orientation": "h", "x": 0, "y": 1.02,
                "xanchor": "left", "yanchor": "bottom"},
        updatemenus=[{
            "type": "buttons", "direction": "right", "showactive": True, "active": 0,
            "buttons": [
                {"label": "Bytes", "method": "update",
                 "args": [{"y": byte_values + [peaks], "visible": [True] * 5},
                          {"yaxis.title.text": BYTES_AXIS, "yaxis.ticksuffix": "",
                           "yaxis.autorange": True}]},
                {"label": "Share", "method": "update",
                 "args": [{"y": shares + [peaks], "visible": [True] * 4 + [False]},
                          {"yaxis.title.text": "share of the four (%)", "yaxis.ticksuffix": "%",
                           "yaxis.range": [0, 100], "yaxis.autorange": False}]},
            ],
        }],
    )
    # the buttons under the title, then the legend (two lines in a narrow window)
    fig.update_layout(margin={"t": 145})
    _buttons_under_title(fig, top=145, offset=40)
    fig.update_yaxes(title_text=BYTES_AXIS, exponentformat="SI", rangemode="tozero")
    fig.update_xaxes(title_text="model", tickangle=0, type="category")
    return fig


def _layer_axis(fig: go.Figure, n: int) -> None:
    fig.update_xaxes(type="category")  # layer "0", "1", … are names, not numbers
    if n > MANY_LAYERS:
        fig.update_xaxes(showticklabels=False,
                         title_text=f"the {n} layers, in order (hover for each one's name)")
    else:
        fig.update_xaxes(title_text="layer, in order", tickangle=-45, automargin=True,
                         tickfont={"size": 11})


def layer_memory_bars(layers: pd.DataFrame, model: str, colour: str = PALETTE[0]
                      ) -> go.Figure:
    """Per layer of one model: the activation bytes it saves for the backward (the model's
    colour) beside the bytes of its parameters (slate), with a log toggle."""
    names = [escape(str(v)) for v in layers["layer"]]
    kinds = [escape(str(v)) for v in layers["type"]]
    fig = go.Figure()
    axis = []
    for column, label, col in (("saved_activation_bytes", "saved activations", colour),
                               ("param_bytes", "parameters", PARAMS_COLOUR)):
        values = [int(v) for v in layers[column]]
        axis += values
        fig.add_trace(go.Bar(
            x=names, y=values, name=label, marker_color=col,
            customdata=list(zip(kinds, _bytes_hover(values))),
            hovertemplate="<b>%{x}</b> (%{customdata[0]})<br>" + label +
            ": %{customdata[1]}<extra></extra>"))
    base_layout(fig, f"{escape(model)}: activations saved vs parameters, per layer", height=440)
    # the legend at the right, clear of the Linear/Log buttons at the left
    fig.update_layout(barmode="group", bargap=0.15, bargroupgap=0.0,
                      legend={"orientation": "h", "x": 1, "y": 1.02, "xanchor": "right",
                              "yanchor": "bottom"})
    fig.update_yaxes(title_text=BYTES_AXIS, exponentformat="SI")
    _layer_axis(fig, len(names))
    return log_toggle(fig, {"yaxis": axis})


def step_stage_bars(stages: pd.DataFrame, model: str, colour: str = PALETTE[0]) -> go.Figure:
    """Per stage of one model: the forward's MACs (left bar, in the model's colour) and the
    backward's (right bar: input gradients below, weight gradients above)."""
    names = [escape(str(s)) for s in stages["stage"]]
    depth = int(stages.attrs.get("depth", 1))
    forward = [int(v) for v in stages["forward_macs"]]
    grad_in = [int(v) for v in stages["grad_input_macs"]]
    grad_w = [int(v) for v in stages["grad_weight_macs"]]
    fig = go.Figure()
    for values, label, col, group, base in (
            (forward, "forward", colour, "forward", None),
            (grad_in, "backward: input gradients", STEP_PARTS[1][2], "backward", None),
            (grad_w, "backward: weight gradients", STEP_PARTS[2][2], "backward", grad_in)):
        fig.add_trace(go.Bar(
            x=names, y=values, base=base, name=label, marker_color=col, offsetgroup=group,
            marker_line={"color": "white", "width": 0.5}, customdata=values,
            hovertemplate="<b>%{x}</b><br>" + label + ": %{customdata:,} MACs<extra></extra>"))
    base_layout(fig, f"{escape(model)}: forward vs backward MACs of a training step, by stage",
                height=470)
    fig.update_layout(margin={"t": fig.layout.margin.t + 20})  # room for the legend
    axis = "stage (top-level module)" if depth == 1 else f"stage (module at depth {depth})"
    fig.update_layout(barmode="group", bargap=0.2, bargroupgap=0.05,
                      legend={"orientation": "h", "x": 0, "y": 1.02, "xanchor": "left",
                              "yanchor": "bottom"}, margin={"b": 110})
    fig.update_yaxes(title_text="MACs", exponentformat="SI", rangemode="tozero")
    fig.update_xaxes(title_text=axis, tickangle=-45, automargin=True, type="category",
                     tickfont={"size": 11 if len(names) > 12 else 13})
    return fig


def step_lesson_bars(lesson: pd.DataFrame, title: str) -> go.Figure:
    """``explain training``: per design, the step's MACs in multiples of its inference forward
    (forward, input gradients, weight gradients stacked), and the same ratio in FLOPs as a
    mark."""
    labels = [wrap_label(escape(str(v)), 14) for v in lesson["label"]]
    infer = [int(v) for v in lesson["macs"]]
    fig = go.Figure()
    for column, label, colour in STEP_PARTS:
        values = [int(v) for v in lesson[column]]
        ratio = [round(v / f, 6) if f else 0.0 for v, f in zip(values, infer)]
        fig.add_trace(go.Bar(
            x=labels, y=ratio, name=label, marker_color=colour,
            marker_line={"color": "white", "width": 1}, customdata=values,
            texttemplate="%{y:.2f}×", textposition="inside", insidetextanchor="middle",
            textfont={"color": "white" if colour == PARAMS_COLOUR else "#1f2933"},
            hovertemplate="%{x}<br>" + label + ": %{customdata:,} MACs (%{y:.3f}× the "
            "forward)<extra></extra>"))
    flops = [float(v) for v in lesson["step_x_forward_flops"]]
    fig.add_trace(go.Scatter(
        x=labels, y=flops, mode="markers+text", name="the step in FLOPs",
        marker={"symbol": "diamond", "size": 11, "color": PEAK_COLOUR},
        text=[f"{v:.2f}×" for v in flops], textposition="middle right", cliponaxis=False,
        textfont={"size": 12, "color": PEAK_COLOUR},
        hovertemplate="%{x}<br>the step: %{y:.3f}× the forward's FLOPs<extra></extra>"))
    base_layout(fig, escape(title), height=440)
    # room for the legend on two lines in a narrow window
    fig.update_layout(margin={"t": fig.layout.margin.t + 44})
    fig.update_layout(barmode="stack", bargap=0.3,
                      legend={"traceorder": "normal", "orientation": "h", "x": 0, "y": 1.02,
                              "xanchor": "left", "yanchor": "bottom"})
    fig.update_yaxes(title_text="× the inference forward's MACs", rangemode="tozero",
                     ticksuffix="×")
    return fig
