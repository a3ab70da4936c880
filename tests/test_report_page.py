"""The HTML page: escaping of user-supplied names, safe embedded JSON, no external resource."""

from __future__ import annotations

import json
import re

import plotly.offline
import pytest

from archscope.html import figures
from archscope.html import sections as S
from archscope.html.page import embed_json, render_page

from test_report_figures import toy_model

EVIL = "</script><script>alert(1)</script>"


@pytest.fixture(scope="module")
def plotly_js() -> str:
    return plotly.offline.get_plotlyjs()


def evil_page(plotly_js: str) -> str:
    model = toy_model(EVIL)
    model.table.rows.loc[0, "layer"] = "features.<img src=x onerror=alert(2)>"
    sections = S.model_sections([model], figures.model_colors([EVIL]))
    return render_page(f"<b>{EVIL}</b>", EVIL, sections, ["a < b"], plotly_js)


def test_embed_json_cannot_close_the_script_element():
    text = embed_json({"name": EVIL, "c": "<!-- x"})
    assert "</" not in text and "<!--" not in text
    assert json.loads(text) == {"name": EVIL, "c": "<!-- x"}


def test_user_names_never_appear_unescaped(plotly_js):
    page = evil_page(plotly_js)
    outside_bundle = page.replace(plotly_js.replace("</script", "<\\/script"), "")
    assert "<script>alert(1)" not in outside_bundle
    assert "<img src=x" not in outside_bundle
    assert "&lt;b&gt;&lt;/script&gt;" in page  # the title, escaped in <title> and <h1>
    # the names survive, escaped, in the embedded figure data
    data = re.search(r'<script type="application/json" id="archscope-data">(.*?)</script>',
                     page, re.S).group(1)
    figs = json.loads(data)["figures"]
    escaped = "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"  # plotly shows it as text
    assert any(escaped in json.dumps(f) for f in figs)


def test_page_is_self_contained(plotly_js):
    page = evil_page(plotly_js)
    assert page.count(plotly_js.replace("</script", "<\\/script")) == 1  # plotly.js exactly once
    assert not re.search(r"<script[^>]*\bsrc=", page, re.I)
    assert not re.search(r"<link[^>]*href=", page, re.I)
    outside_bundle = page.replace(plotly_js.replace("</script", "<\\/script"), "")
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", outside_bundle, re.I)
    assert "https://" not in outside_bundle and "http://" not in outside_bundle


def test_one_template_for_all_figures(plotly_js):
    page = evil_page(plotly_js)
    data = json.loads(re.search(r'id="archscope-data">(.*?)</script>', page, re.S).group(1))
    assert data["template"]  # stored once ...
    assert all("template" not in f["layout"] for f in data["figures"])  # ... not per figure
    n_plots = len(re.findall(r'<div class="plot" id="plot-\d+">', page))
    # 2 totals, stage bars, treemap, kind bars, share scatter
    assert n_plots == len(data["figures"]) == 6


def test_summary_table_shows_exact_counts(plotly_js):
    page = evil_page(plotly_js)
    assert "<td class=\"num\">5,354</td>" in page  # params 224 + 5,130
    assert "<td class=\"num\">18,944</td>" in page  # MACs 13,824 + 5,120
    # number columns' headers on two lines, so the numbers set the widths
    assert "<th>parameter<br>memory</th>" in page and "<th>MACs</th>" in page


def test_file_spec_is_named_short_with_the_full_spec_escaped_in_the_table(plotly_js):
    model = toy_model("net.py:make")
    model.spec = "/tmp/<img src=x onerror=alert(3)>/net.py:make"
    sections = S.model_sections([model], figures.model_colors(["net.py:make"]))
    page = render_page("t", "s", sections, [], plotly_js)
    # escaped, with a line-break opportunity (<wbr>) after each / . : _ but none inside an entity
    assert ('<td class="text">/<wbr>tmp/<wbr>&lt;img src=x onerror=alert(3)&gt;/<wbr>net.<wbr>'
            'py:<wbr>make</td>') in page
    assert '<td class="name">net.<wbr>py:<wbr>make</td>' in page
    totals = sections[1].items[0].figure.data[0]
    assert list(totals.x) == ["net.py:make"]  # the charts use the short name ...
    assert list(totals.hovertext) == ["/tmp/&lt;img src=x onerror=alert(3)&gt;/net.py:make"]


def test_headings_stop_below_the_sticky_nav(plotly_js):
    page = evil_page(plotly_js)
    assert "scroll-margin-top: calc(var(--nav-height" in page
    assert 'setProperty("--nav-height"' in page


def test_default_output_name():
    from archscope.html.build import default_output

    assert str(default_output(["googlenet", "vgg16", "resnet50"])) == \
        "reports/googlenet-vgg16-resnet50.html"
    assert "/" not in default_output(["../../x"]).name.replace(".html", "")
