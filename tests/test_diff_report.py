"""The report's Differences (``report A B --diff``) and Receptive fields sections."""

from __future__ import annotations

import pytest
from torch import nn

from archscope.analysis.diff_view import diff_models
from archscope.cli import app
from archscope.html import compare as C
from archscope.html import data as D
from archscope.html import figures as F
from archscope.html.build import gather_models


def test_rf_frame_and_chart_follow_the_trace():
    models = gather_models(["vgg11", "lenet5"])
    frame = C.rf_frame(models)
    vgg = frame[frame.model == "vgg11"]
    # VGG-11: 3×3 convs and 2×2/2 pools: conv1 3, pool1 4, conv2 4 + 2·2 = 8, pool2 10, …
    assert list(vgg.rf[:6]) == [3, 3, 4, 8, 8, 10]  # conv, relu, pool, conv, relu, pool
    assert list(vgg.largest) == sorted(vgg.largest) and vgg.input_side.iloc[0] == 224
    fig = C.CF.rf_growth(frame, F.model_colors(["vgg11", "lenet5"]))
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [list(t.y) for t in markers] == [list(vgg.rf), list(frame[frame.model == "lenet5"].rf)]
    dashed = [t for t in fig.data if t.line.dash == "dash"]
    assert [list(t.y) for t in dashed] == [[224, 224], [32, 32]]


def test_no_rf_section_for_models_without_an_image_input():
    models = [D.ModelData("mlp", C.count_with_fields(nn.Sequential(nn.Linear(4, 4)),
                                                     "1x4:float32", "meta", None))]
    assert C.rf_section(models, {}) is None


def test_diff_section_tables_and_bars_add_up():
    d = diff_models("vgg16", "vgg16_bn")
    section = C.diff_section(d)
    assert section.heading == "Differences" and "13 BatchNorm2d added" in section.intro
    totals, causes, chart = section.items
    assert list(totals.frame.delta) == [8_448, 0, d.total["delta"]["flops"]]
    assert list(causes.frame.params) == [8_448]
    bars = chart.figure.data
    assert sum(bars[0].y) == 8_448 and sum(bars[1].y) == 0


def test_report_diff_cli(runner, tmp_path):
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", "resnet18", "resnet34", "--diff", "-o", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert 'id="differences"' in page and 'id="receptive"' in page
    assert "8 BasicBlock added" in page


@pytest.mark.parametrize("models", [["vgg16"], ["vgg16", "vgg11", "lenet5"]])
def test_report_diff_needs_two_models(runner, tmp_path, models):
    res = runner.invoke(app, ["report", *models, "--diff", "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "--diff compares two models" in res.output
    assert not (tmp_path / "r.html").exists()
