"""Figures of the report's receptive-field and differences sections (frames from
:mod:`.compare`). Conventions as in :mod:`.figures`: exact integers in ``customdata``, names
escaped, colour means model, quantities in slate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .figures import MACS_COLOUR, PALETTE, PARAMS_COLOUR, base_layout, escape, log_toggle

if TYPE_CHECKING:
    import pandas as pd


def rf_growth(frame: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Per model: each layer's receptive field (markers) in forward order, the largest so far
    (a line), and the model's input size (dashed)."""
    fig = go.Figure()
    values = []
    for i, (model, part) in enumerate(frame.groupby("model", sort=False)):
        colour = colors.get(model, PALETTE[i % len(PALETTE)])
        name = escape(str(model))
        steps = [int(v) for v in part["step"]]
        rfs = [int(v) for v in part["rf"]]
        values += rfs
        hover = [f"{escape(str(layer))} ({escape(str(kind))})<br>rf {escape(str(text))}, jump "
                 f"{escape(str(jump))}" for layer, kind, text, jump in
                 zip(part["layer"], part["type"], part["rf_text"], part["jump"])]
        group = {"legendgroup": name, "legendgrouptitle": {"text": name}}
        fig.add_trace(go.Scatter(x=steps, y=rfs, mode="markers", name="each layer", **group,
                                 marker={"color": colour, "size": 5, "opacity": 0.55},
                                 hovertext=hover, customdata=rfs,
                                 hovertemplate="%{hovertext}<extra>" + name + "</extra>"))
        fig.add_trace(go.Scatter(x=steps, y=[int(v) for v in part["largest"]], mode="lines",
                                 line={"color": colour, "width": 2, "shape": "hv"},
                                 name="largest so far", hoverinfo="skip", **group))
        side = int(part["input_side"].iloc[0])
        values.append(side)
        fig.add_trace(go.Scatter(x=[min(steps), max(steps)], y=[side, side], mode="lines",
                                 line={"color": colour, "width": 1.5, "dash": "dash"},
                                 name=f"input side {side}", hoverinfo="name", **group))
    base_layout(fig, "Receptive field per layer against the input size", height=460)
    fig.update_xaxes(title_text="layer, in forward order")
    fig.update_yaxes(title_text="receptive field (input pixels)", rangemode="tozero")
    return log_toggle(fig, {"yaxis": values}, bars=False)


def diff_bars(blocks: pd.DataFrame, title: str) -> go.Figure:
    """Per block, the difference (B − A) in parameters (left) and MACs (right)."""
    names = [escape(str(b)) for b in blocks["block"]]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("parameters, B − A", "MACs, B − A"))
    for col, (column, colour, label) in enumerate(
            [("params", PARAMS_COLOUR, "parameters"), ("macs", MACS_COLOUR, "MACs")], start=1):
        values = [int(v) for v in blocks[column]]
        fig.add_trace(go.Bar(x=names, y=values, name=label, marker_color=colour,
                             customdata=values,
                             hovertemplate="%{x}<br>" + label + ": %{customdata:+,}"
                             "<extra></extra>"), row=1, col=col)
        fig.update_yaxes(title_text=f"{label}, B − A", exponentformat="SI", zeroline=True,
                         zerolinecolor="#999", row=1, col=col)
        fig.update_xaxes(tickangle=-45, automargin=True,
                         tickfont={"size": 11 if len(names) > 12 else 13}, row=1, col=col)
    base_layout(fig, title, height=440)
    fig.update_layout(showlegend=False, margin={"b": 110})
    return fig
