"""The report in a real browser: headless Chromium from file://, every plot drawn, no network.

Uses Debian's /usr/bin/chromium (never a downloaded browser); skips only when it is absent.
The timings are a real (tiny) CPU run of `archscope bench --per-layer`, written to a results
file and read back the way the CLI does, so the page sees the real column layout (env_* columns,
per-layer lists). One model comes from a file whose path and the page title are hostile HTML: any
dialog (alert) fails the test; another has a long name, which must wrap in the summary table.
The page is drawn at 1,280 and 800 px wide: no element may be wider than the viewport or reach
past its right edge (so the summary table needs no horizontal scroll). Full-page screenshots at
both widths land in tests/artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from archscope.analysis.explain import LESSONS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"
EVIL = "<img src=x onerror=alert(1)>"
TITLE = "browser test </script><script>alert(2)</script>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

# Elements wider than the viewport or reaching past either edge, measured in layout pixels.
# Plotly's off-screen text-measuring node (#js-plotly-tester) is not part of the page.
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('#js-plotly-tester')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    if (r.width > vw + 0.5 || r.right > vw + 0.5 || r.left < -0.5) {
      const cls = typeof el.className === 'string' ? el.className : el.className.baseVal;
      out.push(`${el.tagName.toLowerCase()}.${cls}#${el.id} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  const wrap = document.querySelector('.table-wrap');
  return {vw, page: document.documentElement.scrollWidth, out,
          table: [wrap.scrollWidth, wrap.clientWidth]};
}"""
WIDTHS = (1280, 800)
LONG = "make_torchvision_mobilenet_v3_large_with_a_long_name"

# Per plot: its trace count, and how many marks it drew (bars, markers, line paths, treemap
# boxes), read from plotly's own state and from the SVG.
DRAWN_JS = """els => els.map(e => ({
  id: e.id,
  svgs: e.querySelectorAll('.main-svg').length,
  traces: (e._fullData || []).length,
  marks: e.querySelectorAll('.point, .slice, .js-line').length,
}))"""


def hostile_model(tmp_path: Path) -> str:
    folder = tmp_path / EVIL
    folder.mkdir()
    (folder / "net.py").write_text(
        "import torch.nn as nn\n\n\ndef make():\n"
        "    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(),\n"
        "                         nn.Linear(4 * 6 * 6, 5)), '3x8x8'\n\n\n"
        f"{LONG} = make\n")
    return f"{folder / 'net.py'}:make"


def real_bench(tmp_path: Path, models: list[str]) -> Path:
    import archscope
    from archscope.timing.results import write_results

    res = archscope.bench(models, batch_sizes=[1, 2], per_layer=True, warmup=1, iters=3,
                          threads=1, roofs=False)
    for rec in res.records:  # 3 iterations give no CI ("unstable"); the page plots "ok" rows
        rec["status"] = "ok"
    return write_results(tmp_path / "bench.json", res.document())


def test_report_renders_offline_in_chromium(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from archscope.html.build import build_report

    spec = hostile_model(tmp_path)
    long_spec = spec.rsplit(":", 1)[0] + ":" + LONG
    results = real_bench(tmp_path, ["lenet5", spec])
    path = build_report(["lenet5", spec, long_spec], [results], tmp_path / "report.html", TITLE,
                        train=True, train_batch_size=2)
    requests, errors, dialogs, overflow = [], [], [], {}
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

        def open_page(width: int):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(path.resolve().as_uri())
            page.wait_for_function(
                "() => document.querySelectorAll('.plot .main-svg').length > 0 && "
                "[...document.querySelectorAll('.plot')].every(d => d.querySelector('.main-svg'))",
                timeout=30_000)
            return page

        try:
            for width in reversed(WIDTHS):  # the widest last: the checks below use it
                page = open_page(width)
                overflow[width] = page.evaluate(OVERFLOW_JS)
                page.screenshot(path=str(ARTIFACTS / f"report-{width}.png"), full_page=True)
            n_plots = page.locator(".plot").count()
            drawn = page.eval_on_selector_all(".plot", DRAWN_JS)
            titles = page.eval_on_selector_all(
                ".plot", "els => els.map(e => (e.querySelector('.gtitle') || {}).textContent)")
            heading, doc_title = page.inner_text("header h1"), page.title()

            # Log on the params bars: log axis from a decade below the smallest bar
            page.locator("#plot-0 .updatemenu-button").nth(1).click()
            page.wait_for_timeout(300)
            y0 = page.evaluate("() => { const a = document.getElementById('plot-0')._fullLayout"
                               ".yaxis; return [a.type, a.range[0]]; }")
            # the modebar (shown on hover) must not cover the Linear/Log buttons
            box = page.locator("#plot-0").bounding_box()
            page.mouse.move(box["x"] + box["width"] - 20, box["y"] + 20)
            page.wait_for_timeout(300)
            modebar = page.locator("#plot-0 .modebar").bounding_box()
            buttons = page.locator("#plot-0 .updatemenu-container").bounding_box()
            names = page.eval_on_selector_all(
                "table tbody td.name", "els => els.map(e => [e.textContent, e.offsetHeight])")
            # the training memory chart's Share button: each bar as 100 %, the peak hidden
            memory = page.locator("#training .plot").first
            memory.locator(".updatemenu-button").nth(1).click()
            page.wait_for_timeout(300)
            shared = memory.evaluate("e => [e._fullLayout.yaxis.range, "
                                     "e._fullData.map(t => t.visible)]")
        finally:
            browser.close()
    for width in WIDTHS:  # nothing wider than the window, the summary table unscrolled
        o = overflow[width]
        assert o["vw"] == width and o["page"] <= width and o["out"] == [], (width, o)
        assert o["table"][0] <= o["table"][1], (width, o["table"])
    # the long name is whole in its cell and wraps onto more lines than a short one takes
    heights = dict(names)
    assert f"net.py:{LONG}" in heights and heights[f"net.py:{LONG}"] > heights["lenet5"]
    # 3 totals + 3 × (stage bars, treemap) + kind bars + share scatter + receptive fields
    # + training memory + 3 × (per-layer memory, forward vs backward by stage)
    # + latency, throughput, work, per-layer time share, roofline + every lesson
    assert n_plots == 2 + 3 * 2 + 2 + 1 + 1 + 3 * 2 + 5 + len(LESSONS)
    assert shared == [[0, 100], [True] * 4 + [False]], shared
    assert all(d["svgs"] > 0 for d in drawn), drawn
    assert all(d["traces"] > 0 and d["marks"] > 0 for d in drawn), drawn
    assert errors == []
    assert dialogs == []  # no user-supplied string ran as markup
    assert heading == doc_title == TITLE  # shown as text, whole
    assert any(t and t.startswith("net.py:make: where parameters") for t in titles), titles
    assert "Roofline: achieved FLOP/s against arithmetic intensity" in titles
    assert requests and all(u.startswith("file://") for u in requests), requests
    # the smallest bar: net.py's conv 4·3·3·3 + 4 = 112 and linear 144·5 + 5 = 725 → 837 params
    assert y0[0] == "log" and y0[1] == pytest.approx(math.log10(837) - 1, abs=1e-6)
    assert modebar and buttons
    overlap = (modebar["x"] < buttons["x"] + buttons["width"] and buttons["x"] < modebar["x"]
               + modebar["width"] and modebar["y"] < buttons["y"] + buttons["height"]
               and buttons["y"] < modebar["y"] + modebar["height"])
    assert not overlap, (modebar, buttons)
