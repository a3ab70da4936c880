"""Plotly figures of a model report, each built from a DataFrame (see :mod:`.data`).

Every function returns a :class:`plotly.graph_objects.Figure` and writes no file, so tests can
assert on trace data. Exact integers travel in ``customdata`` and hovers print them with
thousands separators (``%{customdata:,}``); bars carry the same ints as ``y``. One colour per
model throughout the page (:func:`model_colors`). Plotly reads text as pseudo-HTML, so every
model and layer name is HTML-escaped (plotly shows ``&lt;`` as ``<``).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    import pandas as pd

# Tableau 10: distinct at a glance and readable for the common colour-vision deficiencies.
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
PARAMS_COLOUR = "#4e79a7"
MACS_COLOUR = "#f28e2b"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


def model_colors(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per model name, in the order the models were given."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(names))}


def _literal(text: str) -> str:
    """Text placed inside a hovertemplate, where ``%{`` would start a placeholder."""
    return text.replace("%{", "%&#123;")  # plotly decodes the entity when it draws


def base_layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        height=height,
        margin={"l": 70, "r": 30, "t": 60, "b": 60},
        font={"family": FONT, "size": 13, "color": "#222"},
        plot_bgcolor="white",
        paper_bgcolor="white",
        hoverlabel={"font": {"family": FONT}},
        legend={"bgcolor": "rgba(255,255,255,0.8)"},
    )
    fig.update_xaxes(showline=True, linecolor="#999", gridcolor="#eee", zeroline=False)
    fig.update_yaxes(showline=True, linecolor="#999", gridcolor="#eee", zeroline=False)
    return fig


def log_toggle(fig: go.Figure, axes: Sequence[str] = ("yaxis",), start_log: bool = False) -> go.Figure:
    """Two buttons that switch the given axes between linear and log scale."""
    def scale(kind: str) -> dict:
        return {f"{ax}.type": kind for ax in axes}

    fig.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 1,
                "xanchor": "right",
                "y": 1.13,
                "yanchor": "bottom",
                "showactive": True,
                "active": 1 if start_log else 0,
                "buttons": [
                    {"label": "Linear", "method": "relayout", "args": [scale("linear")]},
                    {"label": "Log", "method": "relayout", "args": [scale("log")]},
                ],
            }
        ]
    )
    if start_log:
        fig.update_layout({ax: {"type": "log"} for ax in axes})
    return fig


def totals_bar(summary: pd.DataFrame, column: str, title: str, axis_title: str,
               colors: dict[str, str]) -> go.Figure:
    """One bar per model for an exact total (``params``, ``macs``, ...), with a log toggle."""
    models = [str(m) for m in summary["model"]]
    values = [int(v) for v in summary[column]]
    fig = go.Figure(
        go.Bar(
            x=[escape(m) for m in models],
            y=values,
            marker_color=[colors.get(m, PALETTE[0]) for m in models],
            customdata=values,
            hovertemplate="%{x}<br>" + axis_title + ": %{customdata:,}<extra></extra>",
            texttemplate="%{y:.3s}",
            textposition="outside",
            cliponaxis=False,
        )
    )
    base_layout(fig, title, height=380)
    fig.update_yaxes(title_text=axis_title, exponentformat="SI")
    fig.update_xaxes(title_text="model")
    return log_toggle(fig)


def stage_bars(stages: pd.DataFrame, model: str) -> go.Figure:
    """Params and MACs per depth-1 module of one model, side by side."""
    names = [escape(str(s)) for s in stages["stage"]]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("parameters per stage", "MACs per stage"))
    for col, (column, colour, label) in enumerate(
        [("params", PARAMS_COLOUR, "parameters"), ("macs", MACS_COLOUR, "MACs")], start=1
    ):
        values = [int(v) for v in stages[column]]
        fig.add_trace(
            go.Bar(x=names, y=values, name=label, marker_color=colour, customdata=values,
                   hovertemplate="%{x}<br>" + label + ": %{customdata:,}<extra></extra>"),
            row=1, col=col,
        )
        fig.update_yaxes(title_text=label, exponentformat="SI", row=1, col=col)
        fig.update_xaxes(title_text="stage (top-level module)", tickangle=-45, row=1, col=col)
    base_layout(fig, f"{escape(model)}: where parameters and MACs sit, by stage", height=450)
    fig.update_layout(showlegend=False, margin={"b": 110, "t": 90})
    return log_toggle(fig, axes=("yaxis", "yaxis2"))


def hierarchy_treemap(nodes: pd.DataFrame, model: str) -> go.Figure:
    """The module tree of one model as a treemap sized by params, or by MACs (buttons)."""
    params = [int(v) for v in nodes["params"]]
    macs = [int(v) for v in nodes["macs"]]
    custom = [[p, m] for p, m in zip(params, macs)]
    fig = go.Figure(
        go.Treemap(
            ids=[escape(str(v)) for v in nodes["id"]],
            parents=[escape(str(v)) for v in nodes["parent"]],
            labels=[escape(str(v)) for v in nodes["label"]],
            values=params,
            branchvalues="total",
            customdata=custom,
            maxdepth=3,
            hovertemplate="<b>%{id}</b><br>parameters: %{customdata[0]:,}"
            "<br>MACs: %{customdata[1]:,}<br>%{percentRoot:.1%} of the model<extra></extra>",
            texttemplate="%{label}<br>%{percentRoot:.1%}",
            marker={"colorscale": "Blues"},
            root={"color": "#f7f7f7"},
        )
    )
    base_layout(fig, f"{escape(model)}: module hierarchy (click a block to zoom in)", height=480)
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        updatemenus=[{
            "type": "buttons", "direction": "right", "x": 1, "xanchor": "right",
            "y": 1.08, "yanchor": "bottom", "showactive": True, "active": 0,
            "buttons": [
                {"label": "Size by parameters", "method": "restyle", "args": [{"values": [params]}]},
                {"label": "Size by MACs", "method": "restyle", "args": [{"values": [macs]}]},
            ],
        }],
    )
    return fig


def share_scatter(shares: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Each layer's share of the model's parameters (x) against its share of the MACs (y)."""
    fig = go.Figure()
    for model, part in shares.groupby("model", sort=False):
        fig.add_trace(
            go.Scatter(
                x=[round(v * 100, 4) for v in part["params_share"]],
                y=[round(v * 100, 4) for v in part["mac_share"]],
                mode="markers",
                name=escape(str(model)),
                marker={"color": colors.get(model), "size": 9, "opacity": 0.8,
                        "line": {"width": 0.5, "color": "white"}},
                text=[escape(str(v)) for v in part["layer"]],
                customdata=[[int(p), int(m), t] for p, m, t in
                            zip(part["params"], part["macs"], part["type"])],
                hovertemplate="<b>%{text}</b> (%{customdata[2]})<br>parameters: %{customdata[0]:,}"
                " (%{x:.2f}%)<br>MACs: %{customdata[1]:,} (%{y:.2f}%)<extra>"
                + _literal(escape(str(model))) + "</extra>",
            )
        )
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 100], mode="lines", name="equal shares",
                             line={"color": "#aaa", "dash": "dot", "width": 1}, hoverinfo="skip"))
    base_layout(fig, "Share of parameters vs share of MACs, per layer", height=480)
    fig.update_xaxes(title_text="share of the model's parameters (%)", range=[-2, 102])
    fig.update_yaxes(title_text="share of the model's MACs (%)", range=[-2, 102])
    return fig


def lesson_bars(lesson: pd.DataFrame, title: str) -> go.Figure:
    """Two designs of the same job (``variant``): params (left) and MACs (right) per design."""
    variants = [escape(str(v)) for v in lesson["variant"]]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("parameters", "MACs"))
    for col, (column, colour, label) in enumerate(
        [("params", PARAMS_COLOUR, "parameters"), ("macs", MACS_COLOUR, "MACs")], start=1
    ):
        values = [int(v) for v in lesson[column]]
        fig.add_trace(go.Bar(x=variants, y=values, name=label, marker_color=colour,
                             customdata=values, texttemplate="%{y:,}", textposition="inside",
                             insidetextanchor="end", textfont={"color": "white"},
                             hovertemplate="%{x}<br>" + label + ": %{customdata:,}"
                             "<extra></extra>"), row=1, col=col)
        fig.update_yaxes(title_text=label, exponentformat="SI", row=1, col=col)
    base_layout(fig, title, height=360)
    fig.update_layout(showlegend=False, margin={"t": 90})
    return fig
