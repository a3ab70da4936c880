"""Report figures and frames, asserted on the Figure's data built from small synthetic tables.

The synthetic model ``toy`` has two stages: ``features`` (conv 3->8, 3x3, on a 3x8x8 input,
padding 1, and a ReLU) and ``head`` (linear 512->10). Hand counts:
- features.0: weights 8*3*3*3 = 216, biases 8 → params 224; MACs 8*8*8 (outputs) * 27 = 13,824
- head.fc: weights 512*10 = 5,120, biases 10 → params 5,130; MACs 10 * 512 = 5,120
- totals: params 224 + 5,130 = 5,354; MACs 13,824 + 5,120 = 18,944
"""

from __future__ import annotations

import pandas as pd
import pytest

from archscope.analysis.records import LayerTable
from archscope.report import bench_figures as BF
from archscope.report import data as D
from archscope.report import figures as F
from archscope.report import sections as S


def toy_model(name: str = "toy") -> D.ModelData:
    rows = pd.DataFrame(
        {
            "layer": ["features.0", "features.1", "head.fc"],
            "type": ["Conv2d", "ReLU", "Linear"],
            "weights": [216, 0, 5120],
            "params": [224, 0, 5130],
            "macs": [13824, 0, 5120],
        }
    )
    total = {"params": 5354, "macs": 18944, "flops": 2 * 18944 + 512,
             "param_bytes": 4 * 5354, "activation_bytes": 4 * (512 + 512 + 10)}
    return D.ModelData(name, LayerTable("flops", name, (1, 3, 8, 8), rows, total), 2024, "toy")


def test_summary_frame_counts_weight_layers_and_keeps_exact_totals():
    s = D.summary_frame([toy_model()])
    row = s.iloc[0]
    assert (row["params"], row["macs"]) == (5354, 18944)
    # conv and linear hold weights and do MACs; the ReLU does neither → 2 weight layers
    assert row["weight_layers"] == 2
    assert row["input"] == "1x3x8x8"


def test_stage_frame_sums_per_top_level_module_in_forward_order():
    st = D.stage_frame(toy_model().table.rows)
    assert list(st["stage"]) == ["features", "head"]
    assert list(st["params"]) == [224, 5130]  # 224 + 0 ; 5,130
    assert list(st["macs"]) == [13824, 5120]


def test_hierarchy_values_are_subtree_sums_and_root_is_the_total():
    nodes = D.hierarchy_frame(toy_model().table.rows, "toy").set_index("id")
    assert nodes.at["toy", "params"] == 5354 and nodes.at["toy", "parent"] == ""
    assert nodes.at["features", "params"] == 224 and nodes.at["features", "macs"] == 13824
    assert nodes.at["features.0", "parent"] == "features"
    # a bare Sequential index is named with its parent, leaves with their type
    assert nodes.at["features.0", "label"] == "features.0 (Conv2d)"
    assert nodes.at["head.fc", "label"] == "fc (Linear)"


def test_totals_bar_carries_exact_ints_and_a_log_toggle():
    a, b = toy_model("a"), toy_model("b")
    colors = F.model_colors(["a", "b"])
    fig = F.totals_bar(D.summary_frame([a, b]), "macs", "MACs", "MACs", colors)
    bar = fig.data[0]
    assert list(bar.x) == ["a", "b"] and list(bar.y) == [18944, 18944]
    assert list(bar.customdata) == [18944, 18944]
    assert "%{customdata:,}" in bar.hovertemplate
    assert list(bar.marker.color) == [colors["a"], colors["b"]]
    labels = [btn.label for btn in fig.layout.updatemenus[0].buttons]
    assert labels == ["Linear", "Log"]
    assert fig.layout.updatemenus[0].buttons[1].args[0] == {"yaxis.type": "log"}


def test_model_colours_are_stable_and_distinct():
    c = F.model_colors(["vgg16", "resnet50", "vgg16", "googlenet"])
    assert list(c) == ["vgg16", "resnet50", "googlenet"]
    assert len(set(c.values())) == 3


def test_treemap_toggles_between_params_and_macs():
    m = toy_model()
    fig = F.hierarchy_treemap(D.hierarchy_frame(m.table.rows, "toy"), "toy")
    tm = fig.data[0]
    assert tm.branchvalues == "total"
    assert tm.values[list(tm.ids).index("toy")] == 5354
    by_macs = fig.layout.updatemenus[0].buttons[1].args[0]["values"][0]
    assert by_macs[list(tm.ids).index("toy")] == 18944


def test_share_scatter_places_each_layer_at_its_shares():
    fig = F.share_scatter(D.share_frame([toy_model()]), F.model_colors(["toy"]))
    pts = fig.data[0]
    assert list(pts.text) == ["features.0", "head.fc"]  # the ReLU holds neither
    # conv: 224/5,354 params, 13,824/18,944 MACs
    assert pts.x[0] == pytest.approx(100 * 224 / 5354, abs=1e-4)
    assert pts.y[0] == pytest.approx(100 * 13824 / 18944, abs=1e-4)
    assert [list(c[:2]) for c in pts.customdata] == [[224, 13824], [5130, 5120]]


def test_lesson_bars_show_both_variants_exactly():
    lesson = pd.DataFrame({"variant": ["3x3", "1x1+3x3"], "params": [221184, 129024],
                           "macs": [1, 2]})
    fig = F.lesson_bars(lesson, "t")
    assert list(fig.data[0].y) == [221184, 129024] and list(fig.data[1].y) == [1, 2]


def bench_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["toy"] * 4,
            "device": ["cpu", "cpu", "cuda", "cuda"],
            "device_name": ["", "", "NVIDIA H100", "NVIDIA H100"],
            "batch_size": [4, 1, 1, 4],
            "dtype": ["fp32", "fp32", "fp16", "fp16"],
            "median_ms": [2.0, 1.0, 0.5, 0.8],
            "throughput_items_s": [2000.0, 1000.0, 2000.0, 5000.0],
            "tflops": [0.02, 0.01, 0.5, 1.0],
            "peak_share": [0.1, 0.05, 0.001, 0.002],
            "status": ["ok", "ok", "ok", "ok"],
        }
    )


def test_latency_lines_group_by_model_dtype_device_sorted_by_batch():
    bench = S.bench_frame(bench_rows())
    fig = BF.latency_vs_batch(bench, F.model_colors(["toy"]))
    names = [t.name for t in fig.data]
    assert names == ["toy · fp32 · cpu", "toy · fp16 · cuda · NVIDIA H100"]
    assert list(fig.data[0].x) == [1, 4] and list(fig.data[0].y) == [1.0, 2.0]
    assert fig.data[0].line.dash != fig.data[1].line.dash  # dtype sets the dash


def test_failed_configurations_are_left_out():
    rows = bench_rows()
    rows.loc[0, "status"] = "oom"
    bench = S.bench_frame(rows)
    assert len(bench) == 3


def test_roofline_intensity_and_peak():
    m = toy_model()
    bench = S.bench_frame(bench_rows())
    pts = S.roofline_points(bench, [m]).set_index("label")
    # batch 4: 4 * FLOPs / (param bytes + 4 * activation bytes)
    flops, pb, ab = m.table.total["flops"], m.table.total["param_bytes"], m.table.total[
        "activation_bytes"]
    assert pts.loc["toy · batch 4 · fp32 · cpu", "intensity"] == pytest.approx(
        4 * flops / (pb + 4 * ab))
    peaks = S.peak_frame(bench).set_index("device_label")
    assert peaks.at["cpu", "peak_tflops"] == pytest.approx(0.2)  # 0.02 TFLOP/s at 10 %
    fig = BF.roofline(S.roofline_points(bench, [m]), S.peak_frame(bench), F.model_colors(["toy"]))
    peak_lines = [t for t in fig.data if t.name.startswith("peak")]
    # cuda: 0.5 TFLOP/s at 0.1 % → 500 TFLOP/s
    assert sorted(t.y[0] for t in peak_lines) == [pytest.approx(0.2), pytest.approx(500.0)]


def test_macs_vs_latency_uses_model_macs_times_batch():
    m = toy_model()
    bench = S.bench_frame(bench_rows())
    fig = BF.macs_vs_latency(bench, D.summary_frame([m]), F.model_colors(["toy"]))
    assert list(fig.data[0].x) == [18944, 4 * 18944]
