"""The GPU proof's scripts, checked where no GPU is: the shell script parses, the reference timing
in gpu_bench.py stays independent of archscope's timing and capture code, the summary reads an
empty folder without crashing, and gpu_bench runs end to end on the CPU."""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_proof_script_parses():
    subprocess.run(["bash", "-n", str(BENCHMARKS / "gpu_proof.sh")], check=True)


def test_the_reference_imports_nothing_of_archscopes_timing_or_capture():
    tree = ast.parse((BENCHMARKS / "gpu_bench.py").read_text())
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    for name in ("timer_median_ms", "reference_fn"):
        imported = [a.name if isinstance(n, ast.Import) else (n.module or "")
                    for n in ast.walk(functions[name]) if isinstance(n, (ast.Import, ast.ImportFrom))
                    for a in n.names]
        assert not [m for m in imported if m.startswith("archscope.") or m.startswith(".")], imported
        calls = {n.func.attr for n in ast.walk(functions[name])
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        assert not calls & {"time_cuda", "time_cpu", "time_until_stable", "capture"}
    assert "blocked_autorange" in ast.unparse(functions["timer_median_ms"])


def test_compare_row_checks_by_hand():
    gb = _module("gpu_bench")
    rec = dict(median_ms=10.15, batch_size=64, dtype="bf16", channels_last=True, graph=True,
               compile=None, ci_rel=0.004, cv=0.009, status="ok")
    row = gb.compare_row("resnet50", rec, 10.0)
    # 10.15 / 10.0 = 1.015: within 2 %; CV 0.9 % ≤ 1 % at batch 64
    assert row["ratio"] == pytest.approx(1.015) and row["agree_2pct"] is True and row["cv_1pct"] is True
    small = gb.compare_row("lenet5", {**rec, "median_ms": 0.5, "batch_size": 1}, 0.4)
    assert small["agree_2pct"] is None and small["cv_1pct"] is None  # under 1 ms, batch < 64


def test_the_summary_says_what_is_missing(tmp_path):
    _module("gpu_summary").main([str(tmp_path)])
    text = (tmp_path / "summary.md").read_text()
    assert "device.json missing" in text and "pytest.xml missing" in text
    assert "resnet50-b256.json missing" in text and "no gpu_bench-*.json" in text


@pytest.mark.slow
def test_gpu_bench_runs_end_to_end_on_the_cpu(tmp_path):
    subprocess.run([sys.executable, str(BENCHMARKS / "gpu_bench.py"), "--device", "cpu", "--quick",
                    "--out-dir", str(tmp_path)], check=True, capture_output=True, timeout=300)
    [out] = tmp_path.glob("gpu_bench-cpu-*.json")
    doc = json.loads(out.read_text())
    assert len(doc["records"]) == 4 and len(doc["comparison"]) >= 1
    assert doc["roofs"] and all(r["timer_median_ms"] > 0 for r in doc["comparison"])
