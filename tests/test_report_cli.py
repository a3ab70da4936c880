"""`archscope report` end to end: CLI, default and explicit outputs, atomic write, Python API."""

from __future__ import annotations

import re

import pandas as pd
import pytest


from archscope.cli import app  # noqa: E402


def test_report_writes_one_self_contained_file(runner, tmp_path):
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", "lenet5", "cifar_cnn", "-o", str(out), "--title", "T<1>"])
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert "<title>T&lt;1&gt;</title>" in page
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temp file left behind


def test_default_output_goes_under_reports(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["report", "lenet5"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "reports" / "lenet5.html").is_file()


def test_missing_output_directory_is_exit_2(runner, tmp_path):
    res = runner.invoke(app, ["report", "lenet5", "-o", str(tmp_path / "nope" / "r.html")])
    assert res.exit_code == 2
    assert "does not exist" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "nope").exists()


def test_unknown_model_is_exit_2(runner, tmp_path):
    res = runner.invoke(app, ["report", "lenet6", "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "lenet5" in res.output


def test_a_mistake_leaves_no_empty_reports_folder(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["report", "lenett5"])
    assert res.exit_code == 2 and "unknown model" in res.stderr
    assert list(tmp_path.iterdir()) == []  # no reports/ made for nothing


def test_lenet5_bars_are_the_hand_counts():
    from archscope.report import data as D
    from archscope.report import figures as F
    from archscope.report.build import gather_models

    models = gather_models(["lenet5"])
    fig_p = F.totals_bar(D.summary_frame(models), "params", "p", "parameters", {})
    fig_m = F.totals_bar(D.summary_frame(models), "macs", "m", "MACs", {})
    # params: C1 6*(1*25)+6=156, C3 16*(6*25)+16=2,416, C5 120*(16*25)+120=48,120,
    # F6 84*120+84=10,164, out 10*84+10=850 → 61,706
    assert list(fig_p.data[0].y) == [156 + 2416 + 48120 + 10164 + 850] == [61706]
    # MACs: C1 6*28*28*25=117,600, C3 16*10*10*150=240,000, C5 120*400=48,000,
    # F6 84*120=10,080, out 10*84=840 → 416,520
    assert list(fig_m.data[0].y) == [117600 + 240000 + 48000 + 10080 + 840]
    # weight layers: 3 convolutions + 2 linear
    assert D.summary_frame(models).at[0, "weight_layers"] == 5


def test_lessons_are_counted_from_real_modules():
    from archscope.report.lessons import lesson_frames

    frames = {lesson.key: f.set_index("variant") for lesson, f in lesson_frames()}
    b = frames["bottleneck"]
    assert b.at["3×3 direct", "params"] == 3 * 3 * 192 * 128 == 221184  # seed 000
    assert b.at["1×1 to 96, then 3×3", "params"] == 192 * 96 + 9 * 96 * 128 == 129024
    # MACs on 28x28 outputs: per output pixel the weight count
    assert b.at["3×3 direct", "macs"] == 28 * 28 * 221184
    r = frames["receptive"]
    assert r.at["one 5×5", "params"] == 25 * 256 * 256 == 1638400  # seed 001
    assert r.at["two 3×3", "params"] == 2 * 9 * 256 * 256 == 1179648
    i = frames["inception"]
    # seed 002 counts weights only: 1,089,536 naive, 346,112 reduced; the zoo modules have
    # biases on every conv: naive 128+192+96 = 416, reduced 128+64+192+64+96+64 = 608
    assert i.at["naive (Fig. 2a)", "params"] == 1089536 + 416
    assert i.at["1×1 reductions (Fig. 2b)", "params"] == 346112 + 608


def test_python_api_returns_the_path(tmp_path):
    import archscope

    path = archscope.report(["lenet5"], output=tmp_path / "a.html", title="x")
    assert path == tmp_path / "a.html" and path.is_file()
    assert archscope.report(["lenet5"], output=tmp_path / "b.html").is_file()  # module callable


def test_per_layer_timings_reach_the_report(tmp_path):
    import archscope
    from archscope.report.data import per_layer_frame

    res = archscope.bench("lenet5", batch_sizes=[1, 2], per_layer=True, warmup=1, iters=3,
                          roofs=False)
    # 3 iterations give no CI ("unstable"); the report plots "ok" timings only
    records = pd.DataFrame(res.records).assign(status="ok")
    frame = per_layer_frame(records)
    # one configuration per model: the 12 LeNet-5 leaves once, not once per batch size
    assert len(frame) == 12 and set(frame.config) == {"cpu · fp32 · batch 1"}
    assert frame.loc[frame.layer == "features.c1", "mac_share"].item() == pytest.approx(117_600 / 416_520)
    out = archscope.report(["lenet5"], bench=records, output=tmp_path / "r.html")
    assert "share of time vs share of MACs" in out.read_text()


def test_file_spec_models_get_a_short_name(tmp_path, monkeypatch):
    from archscope.report.build import build_report, gather_models

    net = tmp_path / "net.py"
    net.write_text("import torch.nn as nn\n\ndef make():\n"
                   "    return nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), '3x2x2'\n")
    spec = f"{net}:make"
    [m] = gather_models([spec])
    assert (m.name, m.spec) == ("net.py:make", spec)
    monkeypatch.chdir(tmp_path)
    assert build_report([spec]).as_posix() == "reports/net.py_make.html"
