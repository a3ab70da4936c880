"""One page from a ``gpu_proof.sh`` results folder: each target of the GPU proof, measured or not.

Reads what the proof wrote (``nvidia-smi.txt``, ``versions.txt``, ``device.json``,
``pytest.xml``, ``resnet50-b256.json``, ``resnet50-b64-per-layer.json``, ``gpu_bench-*.json``,
``steps.tsv``) and writes ``summary.md`` beside them: the GPU variant, torch, the measured roofs
against the datasheet, ResNet-50's best batch-256 configuration against 22,000 images/s, the
per-layer sum against the forward, the agreement with ``torch.utils.benchmark``, energy per
image, and which steps timed out. A missing file is a line saying so, never a crash.

    python benchmarks/gpu_summary.py benchmarks/results/gpu-proof-<time>
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# Datasheet memory bandwidth (TB/s) per GPU variant, as named by torch.cuda.get_device_name();
# the dense compute peaks are in archscope.timing.stats.PEAK_TFLOPS.
HBM_TBS = [("H100 NVL", 3.9), ("H100 PCIe", 2.0), ("H100", 3.35), ("GH200", 4.0), ("H200", 4.8),
           ("A100", 2.0)]
TARGET_IMAGES_S = 22_000
BF16_SHARE, BW_SHARE = 0.70, 0.80


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _datasheet_bw(name: str) -> float | None:
    return next((tbs for key, tbs in HBM_TBS if key.lower() in (name or "").lower()), None)


def roofs_lines(doc) -> list[str]:
    from archscope.timing.stats import peak_tflops

    if not doc:
        return ["- roofs: device.json missing (the device step failed or timed out)"]
    out = []
    for r in doc["roofs"]:
        sheet = peak_tflops(r.get("device_name") or "", r["math"])
        share = f" = {100 * r['peak_tflops'] / sheet:.0f} % of the datasheet's {sheet:g}" if sheet else ""
        verdict = ""
        if r["math"] == "bf16" and sheet:
            met = r["peak_tflops"] >= BF16_SHARE * sheet
            verdict = f" (target ≥ 70 %: {'met' if met else 'MISSED'})"
        out.append(f"- peak {r['math']}: {r['peak_tflops']:.1f} TFLOP/s{share}{verdict}")
    r = doc["roofs"][0]
    bw, sheet = r.get("bandwidth_gbs"), _datasheet_bw(r.get("device_name"))
    if bw:
        tail = ""
        if sheet:
            tail = (f" = {100 * bw / (sheet * 1000):.0f} % of the datasheet's {sheet:g} TB/s (target ≥ 80 %: "
                    + ("met" if bw >= BW_SHARE * sheet * 1000 else "MISSED") + ")")
        out.append(f"- bandwidth: {bw:,.0f} GB/s{tail}; {r.get('bandwidth_source')}")
    return out


def best_lines(doc) -> list[str]:
    if not doc:
        return ["- ResNet-50 batch 256: resnet50-b256.json missing"]
    timed = [r for r in doc["records"] if r["status"] in ("ok", "unstable", "fallback")]
    if not timed:
        return ["- ResNet-50 batch 256: nothing timed"]
    from archscope.timing.results import variant_label

    out = []
    for r in sorted(timed, key=lambda r: -r["throughput_items_s"]):
        variant = variant_label(r["graph"], r["compile"])
        share = f", {100 * r['peak_share']:.0f} % of the measured bf16 peak" if r.get("peak_share") else ""
        energy = f", {r['energy_j_per_item']:.3f} J/image at {r['power_w']:.0f} W" \
            if r.get("energy_j_per_item") else ""
        out.append(f"- {variant}: {r['throughput_items_s']:,.0f} images/s ({r['median_ms']:.2f} ms, "
                   f"{r['status']}){share}{energy}")
    best = max(r["throughput_items_s"] for r in timed)
    out.insert(0, f"- best: {best:,.0f} images/s against the {TARGET_IMAGES_S:,} target: "
               + ("met" if best >= TARGET_IMAGES_S else "MISSED"))
    return out


def per_layer_lines(doc) -> list[str]:
    rec = next((r for r in (doc or {}).get("records", []) if r.get("per_layer")), None)
    if rec is None:
        return ["- per-layer: resnet50-b64-per-layer.json missing or without rows"]
    whole, total = rec["layers_pass_ms"], rec["layers_sum_ms"]
    return [f"- per-layer sum {total:.3f} ms vs profiled forward {whole:.3f} ms: "
            f"{100 * (whole - total) / whole:.1f} % unattributed (target: within 10 %: "
            + ("met" if abs(whole - total) <= 0.10 * whole else "MISSED") + f"); {rec['per_layer_source']}"]


def bench_lines(paths: list[Path]) -> list[str]:
    out = []
    for path in paths:
        doc = _load(path) or {}
        rows = doc.get("comparison", [])
        for col, what in (("agree_2pct", "medians over 1 ms within 2 % of Timer"),
                          ("cv_1pct", "CV ≤ 1 % at batch ≥ 64")):
            kept = [r[col] for r in rows if r.get(col) is not None]
            failed = [f"{r['model']} b{r['batch']} {r['dtype']} {r['layout']} {r['variant']}"
                      for r in rows if r.get(col) is False]
            shown = "; ".join(failed[:8]) + (" …" if len(failed) > 8 else "")
            out.append(f"- {path.name}: {what}: {sum(kept)} of {len(kept)}"
                       + (f" (failing: {shown})" if failed else ""))
    return out or ["- latency table: no gpu_bench-*.json"]


def pytest_lines(path: Path) -> list[str]:
    try:
        suite = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return ["- pytest -m cuda: pytest.xml missing"]
    suite = suite.find("testsuite") if suite.tag == "testsuites" else suite
    out = [f"- pytest -m cuda: {suite.get('tests')} tests, {suite.get('failures')} failed, "
           f"{suite.get('errors')} errors, {suite.get('skipped')} skipped, {float(suite.get('time')):.0f} s"]
    for case in suite.iter("testcase"):
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:
            out.append(f"  - {case.get('name')}: {(bad.get('message') or '').splitlines()[0][:200]}")
    return out


def _text(path: Path, missing: str = "missing") -> str:
    return path.read_text().strip() if path.exists() else missing


def main(argv=None) -> int:
    folder = Path((argv or sys.argv[1:])[0])
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    steps = _text(folder / "steps.tsv", "").splitlines()
    lines = ["# GPU proof summary", "", f"- torch / CUDA / device: {_text(folder / 'versions.txt')}",
             "- steps (name, exit code, seconds; 124/143: timed out, partial results kept): "
             + "; ".join(" ".join(s.split("\t")) for s in steps), "",
             "## Roofs", *roofs_lines(_load(folder / "device.json")), "",
             "## pytest -m cuda", *pytest_lines(folder / "pytest.xml"), "",
             "## ResNet-50, batch 256, bf16, channels_last",
             *best_lines(_load(folder / "resnet50-b256.json")),
             "", "## Per-layer CUDA time, ResNet-50 batch 64 bf16",
             *per_layer_lines(_load(folder / "resnet50-b64-per-layer.json")), "",
             "## Latency table against torch.utils.benchmark",
             *bench_lines(sorted(folder.glob("gpu_bench-*.json"))), "", "## nvidia-smi", "", "```",
             _text(folder / "nvidia-smi.txt"), "```", ""]
    (folder / "summary.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
