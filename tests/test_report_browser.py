"""The report in a real browser: headless Chromium from file://, every plot drawn, no network.

Uses Debian's /usr/bin/chromium (never a downloaded browser); skips only when it is absent.
The screenshot lands in tests/artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def synthetic_bench():
    """Timings in the results schema of `archscope bench` (one row per configuration)."""
    import pandas as pd

    rows = []
    for model, base in (("lenet5", 0.05), ("cifar_cnn", 0.2), ("googlenet", 9.0)):
        for dtype, scale in (("fp32", 1.0), ("bf16", 0.7)):
            for b in (1, 2, 4, 8):
                ms = base * scale * (1 + 0.8 * (b - 1))
                rows.append({"model": model, "device": "cpu", "device_name": "", "batch_size": b,
                             "dtype": dtype, "median_ms": ms,
                             "throughput_items_s": b / ms * 1000, "tflops": 0.001 * b / scale,
                             "peak_share": 0.001 * b / scale / 1.2, "status": "ok"})
    return pd.DataFrame(rows)


def test_report_renders_offline_in_chromium(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from archscope.report.build import build_report

    path = build_report(["lenet5", "cifar_cnn", "googlenet"], synthetic_bench(),
                        tmp_path / "report.html", "browser test")
    requests, errors = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.resolve().as_uri())
            n_plots = page.locator(".plot").count()
            page.wait_for_function(
                "n => document.querySelectorAll('.plot .main-svg').length > 0 && "
                "[...document.querySelectorAll('.plot')].every(d => d.querySelector('.main-svg'))",
                arg=n_plots, timeout=30_000)
            drawn = page.eval_on_selector_all(
                ".plot", "els => els.map(e => e.querySelectorAll('.main-svg').length)")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    # 2 totals + 3 × (stage bars, treemap) + share + latency, throughput, work, roofline + 3 lessons
    assert n_plots == 2 + 3 * 2 + 1 + 4 + 3
    assert all(n > 0 for n in drawn), drawn
    assert errors == []
    assert requests and all(u.startswith("file://") for u in requests), requests
