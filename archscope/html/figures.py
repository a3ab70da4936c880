"""Plotly figures of a model report, each built from a DataFrame (see :mod:`.data`).

Every function returns a :class:`plotly.graph_objects.Figure` and writes no file, so tests can
assert on trace data. Exact integers travel in ``customdata`` and hovers print them with
thousands separators (``%{customdata:,}``); bars carry the same ints as ``y``. Colour means
*model* throughout the page (:func:`model_colors`); quantities that are not models
(parameters vs MACs, layer kinds) use slate shades outside the model palette. Plotly reads text
as pseudo-HTML, so every model and layer name goes through :func:`escape` first.

Log axes get explicit ticks (1-2-5 per decade over few decades, 1-3 or powers of ten over
more) with SI labels, so every tick says its value in full (no bare "2" or "5" minor digits).
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    import pandas as pd

# Tableau 10: distinct at a glance and readable for the common colour-vision deficiencies.
# Reserved for models: one colour per model, the same in every chart.
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
# Quantities and layer kinds: slate shades, none of them a model colour.
PARAMS_COLOUR = "#34495e"
MACS_COLOUR = "#93a3b3"
KIND_COLOURS = {"convolution": "#34495e", "linear": "#93a3b3", "other": "#dfe5eb"}
KIND_TEXT = {"convolution": "white", "linear": "#1f2933", "other": "#1f2933"}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
# Vertical room (px) for the title and, below it, a row of buttons (updatemenus) on the left;
# plotly's modebar sits at the top right, so neither covers the other.
TOP_PLAIN = 60
TOP_BUTTONS = 100
# A title longer than one line of a chart in an 800 px window (about 760 px: 76 characters at
# 16 px) wraps, and each extra line makes room for itself above the plot.
TITLE_CHARS = 76
TITLE_LINE = 22


def escape(text: str) -> str:
    """``text`` for plotly's pseudo-HTML: ``&``, ``<`` and ``>`` as entities, quotes as they
    are. Plotly decodes ``&lt;``, ``&gt;``, ``&amp;`` and numeric entities but shows ``&quot;``
    literally, and its text has no attributes for a quote to end."""
    return html.escape(text, quote=False)


def model_colors(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per model name, in the order the models were given."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(names))}


def _literal(text: str) -> str:
    """Text placed inside a hovertemplate, where ``%{`` would start a placeholder."""
    return text.replace("%{", "%&#123;")  # plotly decodes the entity when it draws


# ---------------------------------------------------------------------------------------------
# Numbers and log axes

_SI = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def si(value: float, digits: int = 3) -> str:
    """``4.17e9`` → ``4.17G``, ``61706`` → ``61.7k``, ``0.0042`` → ``0.0042``: SI prefixes above
    1000, plain decimals below, ``digits`` significant digits, trailing zeros dropped."""
    if value == 0 or value != value:
        return "0" if value == 0 else ""
    for scale, prefix in _SI:
        if abs(value) >= scale * (1 - 0.5 * 10 ** -digits):
            return f"{value / scale:.{digits}g}{prefix}"
    return f"{value:.{digits}g}"


def si_unit(value: float, unit: str, digits: int = 3) -> str:
    """``si_unit(4.17e9, "FLOP/s")`` → ``4.17 GFLOP/s``; ``si_unit(850, "B")`` → ``850 B``."""
    text = si(value, digits)
    prefix = text[-1] if text and text[-1] in "kMGTP" else ""
    return f"{text[:-1] if prefix else text} {prefix}{unit}"


def sig(value: float, digits: int = 4) -> str:
    """A measured value to ``digits`` significant digits, never in exponent notation."""
    if value == 0 or value != value:
        return "0" if value == 0 else ""
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= digits - 1:
        return f"{round(value):,}"
    return f"{value:,.{digits - 1 - magnitude}f}"


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Tick values and SI labels for a log axis from ``lo`` to ``hi`` (both > 0).

    1-2-5 per decade when the axis spans at most 2.5 decades, 1-3 up to 5, powers of ten
    beyond (every other one past 12), 1…9 when it spans less than one decade: about ten
    labels at most, so they stay apart on a 250 px axis.
    """
    a, b = math.log10(lo), math.log10(hi)
    span = b - a
    if span < 1:
        steps: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9)
    elif span <= 2.5:
        steps = (1, 2, 5)
    elif span <= 5:
        steps = (1, 3)
    else:
        steps = (1,)
    every = 2 if span > 12 else 1
    vals = []
    for e in range(math.floor(a), math.ceil(b) + 1):
        if e % every:
            continue
        for m in steps:
            v = float(f"{m}e{e}")  # exact decimal, no 2 * 10**-3 rounding noise
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                vals.append(v)
    return vals, [si(v) for v in vals]


def _positive(values: Iterable) -> list[float]:
    out = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if f > 0 and f == f and f != math.inf:
            out.append(f)
    return out


def log_range(values: Iterable, below: float = 0.08, above: float = 0.08) -> list[float] | None:
    """``[log10(min) - below, log10(max) + above]`` over the positive values (None: none)."""
    xs = _positive(values)
    if not xs:
        return None
    return [math.log10(min(xs)) - below, math.log10(max(xs)) + above]


def diagonal(xs: Iterable, ys: Iterable) -> list[float]:
    """The ends of a y = x guide line inside both log ranges of the points (as :func:`log_toggle`
    sets them with ``bars=False``), so the line never reaches past the plot on either scale."""
    rx, ry = log_range(xs), log_range(ys)
    if rx is None or ry is None:
        return [0.01, 100.0]
    lo, hi = max(rx[0], ry[0]), min(rx[1], ry[1])
    return [10 ** lo, 10 ** max(lo, hi)]


def log_axis(values: Iterable, below: float = 0.08, above: float = 0.08) -> dict:
    """Axis settings for a log axis over ``values``: type, range and explicit ticks."""
    rng = log_range(values, below, above)
    if rng is None:
        return {"type": "log"}
    vals, text = log_ticks(10 ** rng[0], 10 ** rng[1])
    return {"type": "log", "range": rng, "tickmode": "array", "tickvals": vals,
            "ticktext": text}


def _relayout(axis: str, settings: Mapping) -> dict:
    return {f"{axis}.{k}": v for k, v in settings.items()}


def log_toggle(fig: go.Figure, axes: Mapping[str, Iterable], start_log: bool = False,
               bars: bool = True, linear: Mapping[str, list] | None = None) -> go.Figure:
    """Linear/Log buttons (top left, under the title) for the given axes.

    ``axes`` maps an axis name (``yaxis``, ``xaxis2``, …) to the values it shows. Log sets a
    range from one decade below the smallest non-zero value (``bars``: a bar needs a base to
    stand on; 0.08 decade otherwise) to just above the largest, with explicit 1-2-5 ticks;
    Linear goes back to autorange (or to the range in ``linear``) and automatic ticks.
    """
    linear = linear or {}
    to_log: dict = {}
    to_linear: dict = {}
    for axis, values in axes.items():
        values = list(values)
        to_log.update(_relayout(axis, log_axis(values, below=1.0 if bars else 0.08,
                                               above=0.3 if bars else 0.08)))
        if axis in linear:
            lin = {"type": "linear", "range": list(linear[axis]), "autorange": False,
                   "tickmode": "auto"}
        else:
            lin = {"type": "linear", "autorange": True, "tickmode": "auto"}
        to_linear.update(_relayout(axis, lin))
    fig.update_layout(
        updatemenus=[{
            "type": "buttons", "direction": "right", "showactive": True,
            "active": 1 if start_log else 0,
            "buttons": [
                {"label": "Linear", "method": "relayout", "args": [to_linear]},
                {"label": "Log", "method": "relayout", "args": [to_log]},
            ],
        }],
    )
    _buttons_under_title(fig)
    if start_log:
        fig.update_layout(to_log)
    return fig


def _buttons_under_title(fig: go.Figure, top: int = TOP_BUTTONS, offset: int = 40) -> None:
    """Put the figure's updatemenus ``offset`` px below the top edge, at the left.

    Plotly places buttons in paper coordinates (the plot area is 0..1), so the height in pixels
    decides where that is: y = 1 + (margin top − offset) / plot-area height.
    """
    extra = _extra_title_px(fig)  # a title on several lines pushes the buttons down
    top, offset = top + extra, offset + extra
    height = fig.layout.height or 450
    margin_b = fig.layout.margin.b if fig.layout.margin.b is not None else 60
    margin_t = max(fig.layout.margin.t or 0, top)
    fig.update_layout(margin={"t": margin_t})
    y = 1 + (margin_t - offset) / (height - margin_t - margin_b)
    for menu in fig.layout.updatemenus:
        menu.update(x=0, xanchor="left", y=y, yanchor="top", pad={"t": 0, "b": 0, "l": 0})


def title_lines(title: str, limit: int = TITLE_CHARS) -> list[str]:
    """A chart title (HTML-escaped) in lines of at most ``limit`` characters: broken at spaces,
    and a longer run (a path-like model name) after ``/``, ``:``, ``_`` or ``.``."""
    import textwrap

    out = []
    for line in textwrap.wrap(title, limit, break_long_words=False,
                              break_on_hyphens=False) or [title]:
        while len(line) > limit:
            cut = max(line.rfind(c, 0, limit) for c in "/:_.")
            if cut <= 0:
                break
            out.append(line[: cut + 1])
            line = line[cut + 1:]
        out.append(line)
    return out


def wrap_label(text: str, limit: int) -> str:
    """A category label (HTML-escaped) on lines of at most ``limit`` characters, so a long
    model name stands level under its bar instead of being turned on its side."""
    return "<br>".join(title_lines(text, limit))


def _extra_title_px(fig: go.Figure) -> int:
    return TITLE_LINE * str(fig.layout.title.text or "").count("<br>")


def base_layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    lines = title_lines(title)
    extra = TITLE_LINE * (len(lines) - 1)
    fig.update_layout(
        title={"text": "<br>".join(lines), "x": 0.005, "xanchor": "left", "xref": "container",
               "y": 1, "yanchor": "top", "yref": "container", "pad": {"t": 12},
               "font": {"size": 16}},
        height=height + extra,
        margin={"l": 70, "r": 30, "t": TOP_PLAIN + extra, "b": 60},
        font={"family": FONT, "size": 13, "color": "#222"},
        plot_bgcolor="white",
        paper_bgcolor="white",
        hoverlabel={"font": {"family": FONT}},
        legend={"bgcolor": "rgba(255,255,255,0.8)"},
    )
    fig.update_xaxes(showline=True, linecolor="#999", gridcolor="#eee", zeroline=False)
    fig.update_yaxes(showline=True, linecolor="#999", gridcolor="#eee", zeroline=False)
    return fig


# ---------------------------------------------------------------------------------------------
# Model charts


def totals_bar(summary: pd.DataFrame, column: str, title: str, axis_title: str,
               colors: dict[str, str]) -> go.Figure:
    """One bar per model for an exact total (``params``, ``macs``, ...), with a log toggle."""
    models = [str(m) for m in summary["model"]]
    values = [int(v) for v in summary[column]]
    labels = [str(v) for v in summary["spec"]] if "spec" in summary.columns else models
    fig = go.Figure(
        go.Bar(
            x=[wrap_label(escape(m), 24) for m in models],
            y=values,
            marker_color=[colors.get(m, PALETTE[0]) for m in models],
            customdata=values,
            hovertext=[escape(v) for v in labels],
            hovertemplate="%{hovertext}<br>" + axis_title + ": %{customdata:,}<extra></extra>",
            texttemplate="%{y:.3s}",
            textposition="outside",
            cliponaxis=False,
        )
    )
    base_layout(fig, title, height=380)
    fig.update_yaxes(title_text=axis_title, exponentformat="SI")
    fig.update_xaxes(title_text="model")
    return log_toggle(fig, {"yaxis": values})


def stage_bars(stages: pd.DataFrame, model: str, colour: str = PALETTE[0]) -> go.Figure:
    """Params and MACs per stage of one model, side by side, in the model's colour.

    A stage is a module at the depth in ``stages.attrs["depth"]`` (1: top-level modules), as
    :func:`archscope.html.data.stage_frame` grouped them.
    """
    names = [escape(str(s)) for s in stages["stage"]]
    depth = int(stages.attrs.get("depth", 1))
    axis = "stage (top-level module)" if depth == 1 else f"stage (module at depth {depth})"
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("parameters per stage", "MACs per stage"))
    axes = {}
    for col, (column, label) in enumerate([("params", "parameters"), ("macs", "MACs")], start=1):
        values = [int(v) for v in stages[column]]
        axes["yaxis" if col == 1 else "yaxis2"] = values
        fig.add_trace(
            go.Bar(x=names, y=values, name=label, marker_color=colour, customdata=values,
                   hovertemplate="%{x}<br>" + label + ": %{customdata:,}<extra></extra>"),
            row=1, col=col,
        )
        fig.update_yaxes(title_text=label, exponentformat="SI", row=1, col=col)
        fig.update_xaxes(title_text=axis, tickangle=-45, automargin=True,
                         tickfont={"size": 11 if len(names) > 12 else 13}, row=1, col=col)
    base_layout(fig, f"{escape(model)}: where parameters and MACs sit, by stage", height=470)
    fig.update_layout(showlegend=False, margin={"b": 110})
    return log_toggle(fig, axes)


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
    base_layout(fig, f"{escape(model)}: module hierarchy (click a block to zoom in)", height=500)
    fig.update_layout(
        margin={"l": 10, "r": 10, "b": 10},
        updatemenus=[{
            "type": "buttons", "direction": "right", "showactive": True, "active": 0,
            "buttons": [
                {"label": "Size by parameters", "method": "restyle", "args": [{"values": [params]}]},
                {"label": "Size by MACs", "method": "restyle", "args": [{"values": [macs]}]},
            ],
        }],
    )
    _buttons_under_title(fig)
    return fig


def share_scatter(shares: pd.DataFrame, colors: dict[str, str]) -> go.Figure:
    """Each layer's share of the model's parameters (x) against its share of the MACs (y).

    Opens on log axes, which spread the many small layers apart (layers with a zero share, e.g.
    batch-norm's MACs, cannot sit on a log axis: the Linear button, 0–100 %, shows them).
    """
    fig = go.Figure()
    xs, ys = [], []
    for model, part in shares.groupby("model", sort=False):
        x = [round(v * 100, 6) for v in part["params_share"]]
        y = [round(v * 100, 6) for v in part["mac_share"]]
        xs += x
        ys += y
        fig.add_trace(
            go.Scatter(
                x=x, y=y,
                mode="markers",
                name=escape(str(model)),
                marker={"color": colors.get(model), "size": 9, "opacity": 0.8,
                        "line": {"width": 0.5, "color": "white"}},
                text=[escape(str(v)) for v in part["layer"]],
                customdata=[[int(p), int(m), escape(str(t))] for p, m, t in
                            zip(part["params"], part["macs"], part["type"])],
                hovertemplate="<b>%{text}</b> (%{customdata[2]})<br>parameters: %{customdata[0]:,}"
                " (%{x:.3g}%)<br>MACs: %{customdata[1]:,} (%{y:.3g}%)<extra>"
                + _literal(escape(str(model))) + "</extra>",
            )
        )
    both = [(x, y) for x, y in zip(xs, ys) if x > 0 and y > 0]  # what a log-log plot can show
    ends = diagonal([x for x, _ in both], [y for _, y in both])
    fig.add_trace(go.Scatter(x=ends, y=ends, mode="lines", name="equal shares",
                             line={"color": "#aaa", "dash": "dot", "width": 1}, hoverinfo="skip"))
    base_layout(fig, "Share of parameters vs share of MACs, per layer", height=500)
    fig.update_xaxes(title_text="share of the model's parameters (%)", range=[-2, 102])
    fig.update_yaxes(title_text="share of the model's MACs (%)", range=[-2, 102])
    return log_toggle(fig, {"xaxis": [x for x, _ in both], "yaxis": [y for _, y in both]},
                      start_log=True, bars=False,
                      linear={"xaxis": [-2, 102], "yaxis": [-2, 102]})


def kind_share_bars(kinds: pd.DataFrame) -> go.Figure:
    """Per model, two 100 % bars: parameters and MACs split by layer kind (conv, linear, other).

    ``kinds``: model, kind, params, macs, params_share, mac_share (exact ints, fractions).
    """
    models = list(dict.fromkeys(str(m) for m in kinds["model"]))
    x = [[escape(m) for m in models for _ in range(2)], ["params", "MACs"] * len(models)]
    fig = go.Figure()
    for kind in KIND_COLOURS:
        part = kinds[kinds["kind"] == kind].set_index("model")
        y, custom, text = [], [], []
        for m in models:
            for count, share, what in (("params", "params_share", "parameters"),
                                       ("macs", "mac_share", "MACs")):
                if m in part.index:
                    n, s = int(part.at[m, count]), float(part.at[m, share])
                else:
                    n, s = 0, 0.0
                y.append(round(100 * s, 6))
                custom.append([n, what])
                text.append(f"{100 * s:.1f}%" if s >= 0.05 else "")
        fig.add_trace(go.Bar(
            x=x, y=y, name=f"{kind} layers", marker_color=KIND_COLOURS[kind],
            marker_line={"color": "white", "width": 1},
            customdata=custom, text=text, textposition="inside", insidetextanchor="middle",
            textfont={"color": KIND_TEXT[kind]},
            hovertemplate="<b>%{x}</b><br>" + kind + " layers: %{customdata[0]:,} "
            "%{customdata[1]} (%{y:.2f}%)<extra></extra>",
        ))
    base_layout(fig, "Parameters vs MACs by layer kind, per model", height=440)
    fig.update_layout(barmode="stack", bargap=0.25,
                      legend={"traceorder": "normal", "orientation": "h", "x": 0, "y": 1.02,
                              "xanchor": "left", "yanchor": "bottom"})
    fig.update_xaxes(tickangle=0)
    fig.update_yaxes(title_text="share of the model's total (%)", range=[0, 100],
                     ticksuffix="%")
    return fig


def lesson_bars(lesson: pd.DataFrame, title: str) -> go.Figure:
    """Designs of the same job (``label``): weights (left) and MACs (right), biases excluded
    from both, as :mod:`archscope.analysis.explain` counts them; with a Linear/Log toggle."""
    labels = [wrap_label(escape(str(v)), 14) for v in lesson["label"]]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("weights (biases excluded)", "MACs (biases excluded)"))
    axes = {}
    for col, (column, colour, text, label) in enumerate(
        [("weights", PARAMS_COLOUR, "white", "weights"),
         ("macs", MACS_COLOUR, "#1f2933", "MACs")], start=1
    ):
        values = [int(v) for v in lesson[column]]
        axes["yaxis" if col == 1 else "yaxis2"] = values
        fig.add_trace(go.Bar(x=labels, y=values, name=label, marker_color=colour,
                             customdata=values, texttemplate="%{y:,}", textposition="auto",
                             insidetextanchor="end", textfont={"color": text},
                             outsidetextfont={"color": "#1f2933"}, cliponaxis=False,
                             hovertemplate="%{x}<br>" + label + ": %{customdata:,}"
                             "<extra></extra>"), row=1, col=col)
        fig.update_yaxes(title_text=label, exponentformat="SI", row=1, col=col)
    base_layout(fig, escape(title), height=380)
    fig.update_layout(showlegend=False)
    return log_toggle(fig, axes)
