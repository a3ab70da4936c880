"""The roofline in a real browser: per device, a memory slope that meets a flat compute roof at
the ridge point, drawn by plotly from a results file with measured roofs for two devices.

Hand-written results: lenet5 on a CPU (0.2 TFLOP/s, 20 GB/s: ridge 10 FLOPs/byte) and on a GPU
(400 TFLOP/s, 2,000 GB/s: ridge 200 FLOPs/byte), plus a model the report does not count
(``mystery``), which still gets its point from the bytes its record carries.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archscope.timing.results import SCHEMA, new_record
from test_report_browser import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

ROOFS = {"cpu": (0.2, 20.0, "Xeon"), "cuda": (400.0, 2000.0, "NVIDIA H100 80GB HBM3")}


def _run(path: Path, device: str, model: str, batch: int, flops: int, moved: int, ms: float) -> Path:
    peak, gbs, name = ROOFS[device]
    rec = new_record(model=model, device=device, batch_size=batch, dtype="fp32", channels_last=False,
                     graph=False, compile=None, mode="infer", threads=2, input_shape=[batch, 1, 32, 32],
                     status="ok", median_ms=ms, flops=flops, bytes_moved=moved, intensity=flops / moved,
                     tflops=flops / (ms / 1000) / 1e12, throughput_items_s=batch * 1000 / ms,
                     peak_tflops=peak, bandwidth_gbs=gbs)
    roof = {"device": device, "device_name": name, "math": "fp32", "peak_tflops": peak,
            "bandwidth_gbs": gbs, "ridge_flop_per_byte": 1000 * peak / gbs}
    path.write_text(json.dumps({"schema": SCHEMA, "env": {"device": device, "device_name": name},
                                "roofs": [roof], "records": [rec]}))
    return path


def test_roofline_has_a_slope_and_a_roof_per_device(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from archscope.html.build import build_report

    # lenet5: about 0.93 MFLOP per sample; intensities 3 and 40 FLOPs/byte
    files = [_run(tmp_path / "cpu.json", "cpu", "lenet5", 1, 930_000, 310_000, 0.5),
             _run(tmp_path / "gpu.json", "cuda", "lenet5", 64, 64 * 930_000, 1_488_000, 0.05),
             _run(tmp_path / "other.json", "cpu", "mystery", 1, 2_000_000, 100_000, 1.0)]
    path = build_report(["lenet5"], files, tmp_path / "report.html", "roofline")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(path.resolve().as_uri())
            page.wait_for_function("() => [...document.querySelectorAll('.plot')].some(d => "
                                   "d._fullLayout && (d._fullLayout.title.text || '')"
                                   ".startsWith('Roofline'))", timeout=30_000)
            traces = page.evaluate("""() => {
                const d = [...document.querySelectorAll('.plot')].find(e =>
                    (e._fullLayout.title.text || '').startsWith('Roofline'));
                return d._fullData.map(t => ({name: t.name, x: t.x, y: t.y,
                                              visible: t.visible}));
            }""")
            intro = page.inner_text("#timing")
        finally:
            browser.close()
    roofs = {t["name"]: t for t in traces if t["name"].startswith("peak · ")}
    assert set(roofs) == {"peak · cpu · Xeon · fp32", "peak · cuda · NVIDIA H100 80GB HBM3 · fp32"}
    for name, trace in roofs.items():
        peak, gbs, _ = ROOFS["cpu" if "cpu" in name else "cuda"]
        ridge = 1000 * peak / gbs  # FLOPs per byte where the slope meets the roof
        x, y = trace["x"], trace["y"]
        assert x[1] == pytest.approx(ridge)  # the line bends at the ridge point
        assert y[0] == pytest.approx(x[0] * gbs * 1e9)  # slope: intensity × bandwidth
        assert y[1] == pytest.approx(peak * 1e12) == pytest.approx(y[2])  # flat roof after it
    ridges = [t for t in traces if t["name"].startswith("ridge · ")]
    assert len(ridges) == 2
    points = {t["name"]: t for t in traces if t["name"].endswith("(model)")}
    assert any(n.startswith("mystery") for n in points)  # bench-only: still on the roofline
    assert "Timed but not in this report: mystery" in intro
