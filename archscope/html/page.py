"""One self-contained HTML page: the template, plotly.js embedded once, figures as JSON.

The page makes no network request: plotly.js comes from the installed plotly package, MathJax
is off, and the figures use no maps (the only plotly traces that fetch tiles or topojson).
Every user-supplied string is HTML-escaped where it appears in markup, and the embedded JSON
has ``</`` written as ``<\\/`` so no string can close the ``<script>`` element it sits in.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence, Union

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    # a short modebar (save, zoom, pan, reset) stays clear of the titles at the top left
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d",
                               "toggleSpikelines", "hoverClosestCartesian",
                               "hoverCompareCartesian"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


@dataclass
class Chart:
    """A figure and the sentence under it saying what it shows (plain text, escaped here)."""

    figure: go.Figure
    caption: str


@dataclass
class Table:
    """A DataFrame shown as an HTML table; ``formats`` maps a column to a formatter."""

    frame: pd.DataFrame
    headers: dict[str, str]
    caption: str = ""
    formats: dict[str, Any] = field(default_factory=dict)
    text: tuple = ()  # columns of words (left-aligned, may wrap), besides the first


@dataclass
class Section:
    anchor: str
    heading: str
    intro: str
    items: list[Union[Chart, Table]]


def embed_json(obj: Any) -> str:
    """JSON safe inside a ``<script>`` element.

    Every ``<``, ``>`` and ``&`` is written as a ``\\u00XX`` escape (the same string to a JSON
    parser), so no ``</script>``, ``<!--`` or ``<script`` can appear in the markup at all.
    """
    text = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _cell(column: str, value: Any, formats: dict[str, Any]) -> str:
    if column in formats:
        return html.escape(formats[column](value))
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return html.escape(str(value))


# After these, a long name may wrap (torchvision:mobilenet_<wbr>v3_<wbr>large, a/b/<wbr>net.py):
# between its parts rather than mid-word. None of them occurs in an entity html.escape writes.
_BREAK_AFTER = re.compile(r"([/\\:_.\-])(?=.)")


def wrappable(escaped: str) -> str:
    """Escaped text with a ``<wbr>`` (a line-break opportunity) after each separator."""
    return _BREAK_AFTER.sub(r"\1<wbr>", escaped)


def table_html(table: Table) -> str:
    cols = list(table.headers)
    text_th = ' class="text"'
    # a number column's header on two lines ("parameter<br>memory"), so that the numbers, not
    # the headers, set the column widths and the names get the room that is left
    head = "".join(
        f"<th{text_th if c in table.text else ''}>"
        + (html.escape(table.headers[c]) if c in table.text or not i
           else "<br>".join(html.escape(w) for w in table.headers[c].split(" ", 1))) + "</th>"
        for i, c in enumerate(cols))
    body = []
    for rec in table.frame[cols].to_dict(orient="records"):
        cells = "".join(
            f'<td class="{"text" if c in table.text else "num" if i else "name"}">'
            + (wrappable(_cell(c, rec[c], table.formats)) if c in table.text or not i
               else _cell(c, rec[c], table.formats)) + "</td>"
            for i, c in enumerate(cols)
        )
        body.append(f"<tr>{cells}</tr>")
    caption = f"<p class=\"caption\">{html.escape(table.caption)}</p>" if table.caption else ""
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>{caption}')


def figure_payload(fig: go.Figure) -> tuple[dict, dict]:
    """The figure as a plain dict without its template, and the template apart.

    Each plotly figure carries its whole template (~10 KB); the page stores one copy and puts
    it back in the browser, which keeps a 20-chart report small.
    """
    spec = json.loads(fig.to_json())
    template = spec.get("layout", {}).pop("template", {})
    return spec, template


def render_page(title: str, subtitle: str, sections: Sequence[Section], notes: Sequence[str],
                plotly_js: str) -> str:
    """The whole HTML document as one string."""
    figures: list[dict] = []
    template: dict = {}
    nav, body = [], []
    for section in sections:
        anchor = html.escape(section.anchor, quote=True)
        nav.append(f'<a href="#{anchor}">{html.escape(section.heading)}</a>')
        parts = [f'<section id="{anchor}"><h2>{html.escape(section.heading)}</h2>']
        if section.intro:
            parts.append(f'<p class="intro">{html.escape(section.intro)}</p>')
        for item in section.items:
            if isinstance(item, Table):
                parts.append(table_html(item))
                continue
            spec, tpl = figure_payload(item.figure)
            template = template or tpl
            figures.append(spec)
            parts.append(
                f'<figure class="chart"><div class="plot" id="plot-{len(figures) - 1}"></div>'
                f"<figcaption>{html.escape(item.caption)}</figcaption></figure>"
            )
        parts.append("</section>")
        body.append("".join(parts))
    note_items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    payload = embed_json({"figures": figures, "template": template, "config": PLOTLY_CONFIG})
    return TEMPLATE.format(
        title=html.escape(title),
        subtitle=html.escape(subtitle),
        nav="".join(nav),
        body="\n".join(body),
        notes=note_items,
        plotly_js=plotly_js.replace("</script", "<\\/script"),
        payload=payload,
    )


# Literal braces of CSS and JS are doubled for str.format.
TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
:root {{ --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #4e79a7; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
  sans-serif; color: var(--ink); background: #f5f7fa; line-height: 1.5; }}
header {{ background: #1f2933; color: #fff; padding: 28px 40px 20px; }}
header h1 {{ margin: 0 0 4px; font-size: 26px; font-weight: 600; }}
header p {{ margin: 0; color: #cbd2d9; }}
nav {{ position: sticky; top: 0; z-index: 10; background: #fff; border-bottom: 1px solid var(--line);
  padding: 10px 40px; display: flex; flex-wrap: wrap; gap: 18px; font-size: 14px; }}
nav a {{ color: var(--accent); text-decoration: none; }}
section {{ scroll-margin-top: calc(var(--nav-height, 44px) + 12px); }}
nav a:hover {{ text-decoration: underline; }}
main {{ max-width: 1200px; margin: 0 auto; padding: 10px 24px 40px; }}
section {{ background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px 24px;
  margin: 24px 0; }}
/* after the rules it overrides, or it would lose to them */
@media (max-width: 900px) {{
  header, nav {{ padding-left: 16px; padding-right: 16px; }}
  main {{ padding: 4px 8px 24px; }}
  section {{ padding: 14px 10px; }}
}}
h2 {{ margin: 0 0 6px; font-size: 20px; }}
.intro {{ color: var(--muted); margin: 0 0 14px; }}
figure.chart {{ margin: 18px 0 8px; }}
.plot {{ width: 100%; min-height: 320px; }}
figcaption, .caption {{ color: var(--muted); font-size: 14px; margin: 4px 8px 0; }}
/* The summary table fits its section (no horizontal scroll down to 800 px): names wrap at
   their separators (<wbr>), and only a part longer than the column breaks mid-word. */
.table-wrap {{ overflow-x: auto; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ padding: 7px 8px; border-bottom: 1px solid var(--line); }}
th {{ text-align: right; font-weight: 600; background: #f9fafb; vertical-align: bottom; }}
th:first-child, td.name {{ text-align: left; }}
th.text {{ text-align: left; }}
td.name, td.text {{ text-align: left; overflow-wrap: break-word; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
@media (max-width: 900px) {{
  table {{ font-size: 12px; }}
  th, td {{ padding: 5px 4px; }}
}}
header h1, header p {{ overflow-wrap: anywhere; }}
footer {{ max-width: 1200px; margin: 0 auto; padding: 0 24px 40px; color: var(--muted);
  font-size: 13px; }}
</style>
<script>window.PlotlyConfig = {{MathJaxConfig: "local"}};</script>
<script>{plotly_js}</script>
</head>
<body>
<header><h1>{title}</h1><p>{subtitle}</p></header>
<nav>{nav}</nav>
<main>
{body}
</main>
<footer><strong>Conventions</strong><ul>{notes}</ul></footer>
<script type="application/json" id="archscope-data">{payload}</script>
<script>
(function () {{
  // Headings scrolled to from the nav stop below it, however many lines it wraps to.
  var nav = document.querySelector("nav");
  function navHeight() {{
    document.documentElement.style.setProperty("--nav-height", nav.offsetHeight + "px");
  }}
  navHeight();
  window.addEventListener("resize", navHeight);
  var data = JSON.parse(document.getElementById("archscope-data").textContent);
  data.figures.forEach(function (fig, i) {{
    var layout = fig.layout || {{}};
    layout.template = data.template;
    Plotly.newPlot("plot-" + i, fig.data, layout, data.config);
  }});
}})();
</script>
</body>
</html>
"""
