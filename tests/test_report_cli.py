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
    from archscope.html import data as D
    from archscope.html import figures
    from archscope.html.build import gather_models

    models = gather_models(["lenet5"])
    fig_p = figures.totals_bar(D.model_totals_frame(models), "params", "p", "parameters", {})
    fig_m = figures.totals_bar(D.model_totals_frame(models), "macs", "m", "MACs", {})
    # params: C1 6*(1*25)+6=156, C3 16*(6*25)+16=2,416, C5 120*(16*25)+120=48,120,
    # F6 84*120+84=10,164, out 10*84+10=850 → 61,706
    assert list(fig_p.data[0].y) == [156 + 2416 + 48120 + 10164 + 850] == [61706]
    # MACs: C1 6*28*28*25=117,600, C3 16*10*10*150=240,000, C5 120*400=48,000,
    # F6 84*120=10,080, out 10*84=840 → 416,520
    assert list(fig_m.data[0].y) == [117600 + 240000 + 48000 + 10080 + 840]
    # weight layers: 3 convolutions + 2 linear
    assert D.model_totals_frame(models).at[0, "weight_layers"] == 5


def test_report_lessons_are_the_explain_registry_with_the_480_to_48_headline():
    from archscope.analysis.explain import LESSONS
    from archscope.html.sections import lesson_section

    section = lesson_section("meta")
    charts = {c.figure.layout.title.text: c for c in section.items}
    # every lesson once, but the training lesson only beside the training section
    shown = [t for t, lesson in LESSONS.items() if lesson.report_with is None]
    assert "training" not in shown and len(charts) == len(shown)
    by_title = {LESSONS[t].title: t for t in shown}
    assert set(by_title) == set(charts)
    with_training = lesson_section("meta", training=True)
    assert len(with_training.items) == len(LESSONS)
    bars = {by_title[title]: (list(c.figure.data[0].y), list(c.figure.data[1].y), c.caption)
            for title, c in charts.items()}
    # the README's headline: 5×5 480→48 on 14×14 = (14·14·48)·(5·5·480) = 112,896,000 MACs;
    # 1×1 480→16 (14·14·16·480 = 1,505,280) then 5×5 16→48 (14·14·48·25·16 = 3,763,200)
    weights, macs, caption = bars["bottleneck"]
    assert weights == [48 * 480 * 25, 16 * 480 + 48 * 16 * 25] == [576_000, 26_880]
    assert macs == [112_896_000, 1_505_280 + 3_763_200]
    assert "112.9M vs 5.3M" in caption and "14×14" in caption and "48 and 64 biases" in caption
    # the 3×3 192→128 case is `explain 1x1` in the report too, on 28×28
    weights, macs, caption = bars["1x1"]
    assert weights == [192 * 128 * 9, 192 * 96 + 96 * 128 * 9] == [221_184, 129_024]
    assert macs == [28 * 28 * 221_184, 28 * 28 * 129_024] and "28×28" in caption
    # VGG on one map size everywhere: 56×56
    weights, macs, caption = bars["vgg"]
    assert weights == [25 * 256 * 256, 2 * 9 * 256 * 256] == [1_638_400, 1_179_648]
    assert macs == [56 * 56 * 1_638_400, 56 * 56 * 1_179_648] and "56×56" in caption
    # naive vs reduced Inception, weights only: 1,089,536 and 346,112
    assert bars["inception"][0] == [1_089_536, 346_112]
    assert all("seed" not in c.caption.lower() for c in section.items)


def test_python_api_returns_the_path(tmp_path):
    import archscope

    path = archscope.report(["lenet5"], output=tmp_path / "a.html", title="x")
    assert path == tmp_path / "a.html" and path.is_file()
    assert archscope.report(["lenet5"], output=tmp_path / "b.html").is_file()  # module callable


def test_per_layer_timings_reach_the_report(tmp_path):
    import archscope
    from archscope.html.data import timed_layers_frame

    res = archscope.bench("lenet5", batch_sizes=[1, 2], per_layer=True, warmup=1, iters=3,
                          roofs=False)
    # 3 iterations give no CI ("unstable"); the report plots "ok" timings only
    records = pd.DataFrame(res.records).assign(status="ok")
    frame = timed_layers_frame(records)
    # one configuration per model: the 12 LeNet-5 leaves once, not once per batch size
    assert len(frame) == 12 and set(frame.config) == {"cpu · fp32 · batch 1"}
    assert frame.loc[frame.layer == "features.c1", "mac_share"].item() == pytest.approx(117_600 / 416_520)
    out = archscope.report(["lenet5"], bench=records, output=tmp_path / "r.html")
    assert "share of time vs share of MACs" in out.read_text()


def test_file_spec_models_get_a_short_name(tmp_path, monkeypatch):
    from archscope.html.build import build_report, gather_models

    net = tmp_path / "net.py"
    net.write_text("import torch.nn as nn\n\ndef make():\n"
                   "    return nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), '3x2x2'\n")
    spec = f"{net}:make"
    [m] = gather_models([spec])
    assert (m.name, m.spec) == ("net.py:make", spec)
    monkeypatch.chdir(tmp_path)
    assert build_report([spec]).as_posix() == "reports/net.py_make.html"
