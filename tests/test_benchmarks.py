"""benchmarks/run.py's pure helpers on hand-made numbers, and its --help (no peer tool runs here)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

RUN_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("bench_run", RUN_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_median_odd_even_and_empty(run):
    assert run.median([0.5, 0.1, 0.3]) == 0.3  # sorted 0.1, 0.3, 0.5 → middle
    assert run.median([4.0, 1.0, 3.0, 2.0]) == 2.5  # sorted 1, 2, 3, 4 → (2 + 3) / 2
    with pytest.raises(ValueError):
        run.median([])


def test_ratio(run):
    assert run.ratio(1.5, 1.2) == pytest.approx(1.25)  # 1.5 / 1.2
    with pytest.raises(ValueError):
        run.ratio(1.0, 0.0)


def test_formatting(run):
    assert run.fmt_seconds(0.0423) == "42.3 ms"  # 0.0423 s × 1000
    assert run.fmt_seconds(1.234) == "1.23 s"
    assert run.fmt_ratio(1.25) == "1.25×"
    assert run.fmt_int(1814073344) == "1,814,073,344"
    assert run.fmt_int(None) == "—"
    # 1,819,065,856 − 1,814,073,344 = 4,992,512; / 1,814,073,344 = 0.2752 % → +0.28 %
    assert run.fmt_delta(1819065856, 1814073344) == "+4,992,512 (+0.28 %)"
    assert run.fmt_delta(90, 100) == "-10 (-10.00 %)"  # (90 − 100) / 100


def test_target_status(run):
    assert run.target_status(0.3, 0.3) == "met"  # the limit itself passes
    assert run.target_status(1.5, 1.25) == "missed by 20 %"  # (1.5 − 1.25) / 1.25


def test_md_table(run):
    out = run.md_table(["a", "b"], [[1, "x|y"]], right=[1])
    assert out == "| a | b |\n|---|---:|\n| 1 | x\\|y |"
    with pytest.raises(ValueError):
        run.md_table(["a", "b"], [[1]])


def test_replace_block(run):
    text = "top\n<!-- bench:cold:start -->\nold\n<!-- bench:cold:end -->\nbottom\n"
    new = run.replace_block(text, "cold", "| new |")
    assert new == "top\n<!-- bench:cold:start -->\n| new |\n<!-- bench:cold:end -->\nbottom\n"
    assert run.replace_block(new, "cold", "| new |") == new  # idempotent
    with pytest.raises(ValueError):
        run.replace_block(text, "report", "x")


def test_time_calls_with_a_fake_clock(run):
    ticks = iter([0.0, 2.0, 10.0, 13.0])  # two timed calls: 2 − 0 and 13 − 10
    calls = []
    times = run.time_calls(lambda: calls.append(1), runs=2, warmup=1, clock=lambda: next(ticks))
    assert times == [2.0, 3.0]
    assert len(calls) == 3  # the warm-up call is made but not timed


def test_run_help():
    done = subprocess.run([sys.executable, str(RUN_PY), "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    assert "--only" in done.stdout and "--quick" in done.stdout


def test_unknown_section_is_refused():
    done = subprocess.run([sys.executable, str(RUN_PY), "--only", "nope", "--no-write"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "unknown section(s) nope" in done.stderr
