"""``archscope compare`` on two hand-written results files: speedups and verdicts by hand."""

from __future__ import annotations

import json

import pytest

from archscope.timing.compare import compare_results
from archscope.timing.results import SCHEMA, new_record
from archscope.cli import app


def _rec(batch, median=None, ci=None, status="unstable", **extra):
    low, high = ci if ci else (None, None)
    return new_record(model="lenet5", device="cpu", batch_size=batch, dtype="fp32",
                      channels_last=False, graph=False, compile=None, mode="infer", threads=2,
                      status=status, median_ms=median, ci_low_ms=low, ci_high_ms=high,
                      ci_rel=(max(median - low, high - median) / median) if ci else None, **extra)


def _file(path, records, name):
    path.write_text(json.dumps({"schema": SCHEMA, "env": {"device": "cpu", "device_name": name,
                                                          "threads": 2, "torch": "2.13.0",
                                                          "date": "2026-12-06"},
                                "records": records}))
    return path


@pytest.fixture
def files(tmp_path):
    base = _file(tmp_path / "base.json", [
        _rec(1, 1.0, (0.98, 1.02), "ok"), _rec(2, 2.0, (1.95, 2.05), "ok"),
        _rec(4, 4.0, (3.9, 4.1), "ok"), _rec(8, 8.0, (7.9, 8.1), "ok"),
        _rec(16, 16.0, (15.0, 17.0)), _rec(32, 30.0, None, iters=4)], "old box")
    new = _file(tmp_path / "new.json", [
        _rec(1, 0.8, (0.78, 0.82), "ok"), _rec(2, 2.5, (2.4, 2.6), "ok"),
        _rec(4, 4.05, (3.95, 4.15), "ok"), _rec(16, status="oom", reason="out of memory"),
        _rec(32, 29.0, (28.0, 30.0)), _rec(64, 60.0, (59.0, 61.0), "ok")], "new box")
    return base, new


def test_verdicts_and_speedups_by_hand(files):
    frame, notes = compare_results(*files)
    rows = {r["batch"]: r for r in frame.to_dict(orient="records")}
    assert list(frame["batch"]) == [1, 2, 4, 16, 32, 64, 8]  # NEW's order, then BASE's leftovers
    assert rows[1]["verdict"] == "faster" and rows[1]["speedup"] == pytest.approx(1.0 / 0.8)
    assert rows[2]["verdict"] == "slower" and rows[2]["speedup"] == pytest.approx(2.0 / 2.5)
    # [3.95, 4.15] overlaps [3.9, 4.1]: within the noise, whatever the medians say
    assert rows[4]["verdict"] == "no change" and rows[4]["speedup"] == pytest.approx(4.0 / 4.05)
    assert rows[16]["verdict"] == "not timed (oom)" and rows[16]["speedup"] != rows[16]["speedup"]
    assert rows[32]["verdict"] == "no CI" and rows[32]["speedup"] == pytest.approx(30 / 29)
    assert rows[64]["verdict"] == "only in NEW" and rows[64]["base_ms"] != rows[64]["base_ms"]
    assert rows[8]["verdict"] == "only in BASE" and rows[8]["base_ms"] == 8.0
    assert rows[1]["base_ci_pct"] == pytest.approx(2.0) and rows[1]["new_ci_pct"] == pytest.approx(2.5)
    assert notes[0] == f"BASE: {files[0]} (old box, 2 threads, torch 2.13.0, 2026-12-06)"


def test_compare_command_in_every_format(runner, files):
    base, new = files
    table = runner.invoke(app, ["compare", str(base), str(new)])
    assert table.exit_code == 0, table.output
    assert "only in BASE" in table.output and "no change" in table.output
    csv = runner.invoke(app, ["compare", str(base), str(new), "-f", "csv"]).output
    assert "model,batch,dtype,layout,variant,mode,base_ms,new_ms,speedup" in csv
    rows = json.loads(runner.invoke(app, ["compare", str(base), str(new), "-f", "json"]).output)
    assert [r["verdict"] for r in rows["rows"]][:3] == ["faster", "slower", "no change"]
    md = runner.invoke(app, ["compare", str(base), str(new), "-f", "markdown"]).output
    assert "| lenet5 | 1 | fp32 | NCHW | eager | infer |" in md


def test_a_damaged_file_is_one_line(runner, files, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    res = runner.invoke(app, ["compare", str(files[0]), str(bad)])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "is not valid JSON" in res.output
