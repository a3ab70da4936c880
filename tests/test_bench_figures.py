"""The report's timing section and its figures, asserted on Figure data from small frames.

The synthetic model ``toy`` and its hand counts are described in test_report_figures.py.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from archscope.html import bench_figures as BF
from archscope.html import bench_section as BS
from archscope.html import data as D
from archscope.html import figures
from test_report_figures import toy_model


# ---------------------------------------------------------------------------------------------
# Timing figures. Rows follow `archscope.load_results`: record fields, then env_* columns.


def bench_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["toy"] * 4,
            "device": ["cpu", "cpu", "cuda", "cuda"],
            "env_device": ["cpu", "cpu", "cuda", "cuda"],
            "env_device_name": ["AMD EPYC", "AMD EPYC", "NVIDIA H100", "NVIDIA H100"],
            "batch_size": [4, 1, 1, 4],
            "dtype": ["fp32", "fp32", "fp16", "fp16"],
            "graph": [False] * 4,
            "compile": [None] * 4,
            "channels_last": [False] * 4,
            "mode": ["infer"] * 4,
            "median_ms": [2.0, 1.0, 0.5, 0.8],
            "throughput_items_s": [2000.0, 1000.0, 2000.0, 5000.0],
            "tflops": [0.02, 0.01, 0.5, 1.0],
            "tflops_from_macs": [0.02, 0.01, 0.5, 1.0],
            "peak_tflops": [None, None, None, None],
            "peak_share": [None, None, 0.001, 0.002],
            "status": ["ok", "ok", "ok", "ok"],
        }
    )


def test_latency_lines_group_by_model_dtype_device_sorted_by_batch():
    bench = BS.bench_frame(bench_rows())
    fig = BF.latency_vs_batch(bench, figures.model_colors(["toy"]))
    names = [t.name for t in fig.data]
    assert names == ["toy · fp32 · cpu · AMD EPYC", "toy · fp16 · cuda · NVIDIA H100"]
    assert list(fig.data[0].x) == [1, 4] and list(fig.data[0].y) == [1.0, 2.0]
    assert fig.data[0].line.dash != fig.data[1].line.dash  # dtype sets the dash
    # the batch axis is ticked at the batch sizes timed
    assert list(fig.layout.xaxis.tickvals) == [1, 4] and fig.layout.xaxis.type == "log"


def test_variants_get_lines_of_their_own():
    """Eager and compiled runs of one model/dtype/device were one zig-zag line; now two."""
    rows = bench_rows().iloc[:2]
    compiled = rows.assign(compile="default", median_ms=[1.0, 0.5])
    cl = rows.assign(channels_last=True, median_ms=[1.5, 0.8])
    bench = BS.bench_frame(pd.concat([rows, compiled, cl], ignore_index=True))
    fig = BF.latency_vs_batch(bench, figures.model_colors(["toy"]))
    assert [t.name for t in fig.data] == [
        "toy · fp32 · cpu · AMD EPYC · eager · NCHW",
        "toy · fp32 · cpu · AMD EPYC · compile (default) · NCHW",
        "toy · fp32 · cpu · AMD EPYC · eager · channels_last",
    ]
    assert [list(t.x) for t in fig.data] == [[1, 4]] * 3  # each line once through each batch
    assert [list(t.y) for t in fig.data] == [[1.0, 2.0], [0.5, 1.0], [0.8, 1.5]]
    assert fig.data[0].marker.symbol == "circle" and fig.data[1].marker.symbol == "circle-dot"


def test_same_configuration_from_two_files_is_two_lines():
    a = bench_rows().iloc[:2].assign(source="runs/machine-a.json")
    b = bench_rows().iloc[:2].assign(source="runs/machine-b.json", median_ms=[3.0, 1.5])
    fig = BF.latency_vs_batch(BS.bench_frame(pd.concat([a, b])), {})
    assert [t.name for t in fig.data] == ["toy · fp32 · cpu · AMD EPYC · machine-a.json",
                                          "toy · fp32 · cpu · AMD EPYC · machine-b.json"]


def test_device_label_comes_from_the_run_environment():
    rows = bench_rows()
    # a hand-made file whose env describes the CPU but whose records ran on CUDA: no name
    rows.loc[2:, "env_device"] = "cpu"
    rows.loc[2:, "env_device_name"] = "AMD EPYC"
    assert D.device_labels(rows) == ["cpu · AMD EPYC"] * 2 + ["cuda"] * 2


def test_failed_configurations_are_left_out():
    rows = bench_rows()
    rows.loc[0, "status"] = "oom"
    bench = BS.bench_frame(rows)
    assert len(bench) == 3
    rows["status"] = "oom"  # nothing finished: a sentence, no empty charts
    [section] = BS.bench_sections(rows, [toy_model()], {}, None)
    assert section.items == [] and "None of the 4 timed configurations" in section.intro


def test_roofline_model_intensity_follows_the_table_at_batch_and_dtype():
    m = toy_model()
    bench = BS.bench_frame(bench_rows())
    pts = BS.roofline_points(bench, [m]).set_index(["label", "config"])
    # batch 4, fp32: 4 × 38,922 / (21,416 + 4 × 9,000) = 155,688 / 57,416
    cpu4 = pts.loc[("toy · batch 4", "fp32 · cpu · AMD EPYC · eager")]
    assert cpu4["intensity"] == pytest.approx(155688 / 57416)
    assert cpu4["flop_s"] == pytest.approx(0.02e12) and cpu4["flops"] == 155688
    # fp16 moves 2 bytes per element, not 4: twice the intensity of fp32 at the same batch
    gpu4 = pts.loc[("toy · batch 4", "fp16 · cuda · NVIDIA H100 · eager")]
    assert gpu4["intensity"] == pytest.approx(2 * 155688 / 57416)


def test_roofline_layer_points_from_per_layer_timings():
    m = toy_model()
    per_layer = pd.DataFrame({
        "model": "toy", "config": "cpu · AMD EPYC · fp32 · batch 2", "batch_size": 2,
        "dtype": "fp32", "device_label": "cpu · AMD EPYC", "input_shape": [(2, 3, 8, 8)] * 3,
        "layer": ["features.0", "features.1", "head.fc"], "type": ["Conv2d", "ReLU", "Linear"],
        "time_ms": [0.01, 0.002, 0.004], "time_share": [0.5, 0.1, 0.2],
        "macs": [2 * 13824, 0, 2 * 5120], "mac_share": [13824 / 18944, 0, 5120 / 18944]})
    bench = BS.bench_frame(bench_rows())
    pts = BS.roofline_points(bench, [m], per_layer)
    layers = pts[pts["kind"] == "layer"].set_index("label")
    conv = layers.loc["features.0 (Conv2d)"]
    # 2 × 28,160 FLOPs in 0.01 ms → 5.632 GFLOP/s; bytes: 896 weights + 2 × 2,816 in/out
    assert conv["flop_s"] == pytest.approx(2 * 28160 / 1e-5)
    assert conv["intensity"] == pytest.approx(2 * 28160 / (896 + 2 * 2816))
    relu = layers.loc["features.1 (ReLU)"]
    assert relu["intensity"] == pytest.approx(2 * 512 / (2 * 4096))  # no weights: as at batch 1
    fig = BF.roofline(pts, BS.peak_frame(bench), figures.model_colors(["toy"]))
    trace = next(t for t in fig.data if "layers" in t.name)
    assert trace.name == "toy · layers · cpu · AMD EPYC · fp32 · batch 2"
    i = list(trace.text).index("features.0 (Conv2d)")
    assert trace.customdata[i][1] == "5.63 GFLOP/s" and trace.customdata[i][2] == 56320
    # a timed input other than the counted one gives no layer points
    other = per_layer.assign(input_shape=[(2, 3, 16, 16)] * 3)
    assert not (BS.roofline_points(bench, [m], other)["kind"] == "layer").any()


def test_roofline_rug_shows_layer_intensities_without_a_time():
    m = toy_model()
    rug = BS.layer_intensities([m], skip=set())
    assert list(rug["intensity"]) == [pytest.approx(28160 / 3712), 0.125,
                                      pytest.approx(10250 / 22608)]
    bench = BS.bench_frame(bench_rows())
    fig = BF.roofline(BS.roofline_points(bench, [m]), BS.peak_frame(bench), {}, rug)
    ticks = next(t for t in fig.data if "no time" in t.name)
    assert ticks.yaxis == "y2" and ticks.marker.symbol == "line-ns-open"
    assert BS.layer_intensities([m], skip={"toy"}).empty


def test_peaks_per_device_and_math_mode_on_the_bench_basis():
    rows = pd.concat([bench_rows(), bench_rows().iloc[2:].assign(
        env_device_name="NVIDIA A100", dtype="bf16", peak_tflops=312.0)], ignore_index=True)
    peaks = BS.peak_frame(BS.bench_frame(rows)).set_index(["device_label", "math"])
    # fallback: tflops_from_macs / peak_share = 0.5 / 0.001 (the bench's basis: 2 × MACs)
    assert peaks.at[("cuda · NVIDIA H100", "fp16"), "peak_tflops"] == pytest.approx(500.0)
    assert peaks.at[("cuda · NVIDIA A100", "bf16"), "peak_tflops"] == 312.0
    assert len(peaks) == 2  # the CPU has no peak, and two GPUs never merge
    fig = BF.roofline(BS.roofline_points(BS.bench_frame(rows), [toy_model()]),
                      peaks.reset_index(), {})
    lines = {t.name: t.y[0] for t in fig.data if t.name.startswith("peak")}
    assert lines == {"peak · cuda · NVIDIA H100 · fp16": pytest.approx(500e12),
                     "peak · cuda · NVIDIA A100 · bf16": pytest.approx(312e12)}


def test_tf32_peak_is_named_as_such():
    rows = bench_rows().iloc[2:].assign(dtype="fp32", peak_tflops=494.7, env_tf32_conv=True)
    peaks = BS.peak_frame(BS.bench_frame(rows))
    assert list(peaks["math"]) == ["fp32 (TF32)"]


def test_results_without_a_peak_claim_no_peak_line():
    m = toy_model()
    bench = BS.bench_frame(bench_rows().iloc[:2])
    [section] = BS.bench_sections(bench_rows().iloc[:2], [m], figures.model_colors(["toy"]), None)
    caption = section.items[-1].caption
    assert "No peak is recorded for cpu · AMD EPYC" in caption and "Dashed" not in caption
    assert not [t for t in section.items[-1].figure.data if t.name.startswith("peak")]
    assert len(BS.peak_frame(bench)) == 0


def test_a_measured_cpu_peak_is_drawn_and_named_measured():
    rows = bench_rows().iloc[:2].assign(
        peak_tflops=0.2, peak_source="measured: median of 3 1024x1024x1024 fp32 matmuls")
    [section] = BS.bench_sections(rows, [toy_model()], figures.model_colors(["toy"]), None)
    caption = section.items[-1].caption
    assert "measured by the bench, warm" in caption and "No peak" not in caption
    peak = [t for t in section.items[-1].figure.data if t.name.startswith("peak")]
    assert peak and max(peak[0].y) == pytest.approx(0.2e12)  # FLOP/s on the y axis


def test_macs_vs_latency_bubbles_area_proportional_to_params_shape_by_dtype():
    m = toy_model()
    worked, params = BS.work_frame(BS.bench_frame(bench_rows()), D.model_totals_frame([m]))
    assert params == {"toy": 5354}
    fig = BF.macs_vs_latency(worked, params, figures.model_colors(["toy"]))
    assert list(fig.data[0].x) == [18944, 4 * 18944]
    marker = fig.data[0].marker
    assert marker.sizemode == "area" and list(marker.size) == [5354, 5354]
    # the largest model's bubble is BUBBLE_MAX_PX across: sizeref = 2 × 5,354 / 56²
    assert marker.sizeref == pytest.approx(2 * 5354 / 56 ** 2)
    assert fig.data[0].marker.symbol != fig.data[1].marker.symbol  # fp32 vs fp16


def test_time_share_scatter_names_the_run_and_hovers_exact_macs():
    per_layer = pd.DataFrame({
        "model": "toy", "config": "cpu · AMD EPYC · fp32 · batch 2", "batch_size": 2,
        "layer": ["features.0", "head.fc"], "type": ["Conv2d", "Linear"],
        "time_ms": [0.01, 0.004], "time_share": [0.5, 0.2],
        "macs": [27648, 10240], "mac_share": [13824 / 18944, 5120 / 18944]})
    fig = BF.time_share_scatter(per_layer, figures.model_colors(["toy"]))
    pts = fig.data[0]
    assert pts.name == "toy · cpu · AMD EPYC · fp32 · batch 2"
    assert [c[0] for c in pts.customdata] == [27648, 10240]
    assert "%{customdata[0]:,}" in pts.hovertemplate and "batch 2" in pts.hovertemplate
    assert list(pts.y) == [50.0, 20.0]


def test_share_scatters_open_on_log_axes():
    shares = figures.share_scatter(D.share_frame([toy_model()]), figures.model_colors(["toy"]))
    per_layer = pd.DataFrame({
        "model": "toy", "config": "cpu · fp32 · batch 1", "batch_size": 1,
        "layer": ["features.0", "head.fc"], "type": ["Conv2d", "Linear"],
        "time_ms": [0.01, 0.004], "time_share": [0.5, 0.2],
        "macs": [13824, 5120], "mac_share": [13824 / 18944, 5120 / 18944]})
    times = BF.time_share_scatter(per_layer, figures.model_colors(["toy"]))
    for fig in (shares, times):
        assert fig.layout.xaxis.type == fig.layout.yaxis.type == "log"
        assert fig.layout.updatemenus[0].active == 1  # "Log" lit; "Linear" one click away
        # the y = x guide stays inside both log ranges: its path never runs past the plot
        guide = fig.data[-1]
        (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
        assert list(guide.x) == list(guide.y)
        assert max(x0, y0) == pytest.approx(math.log10(guide.x[0]))
        assert math.log10(guide.x[1]) == pytest.approx(min(x1, y1))


def _only_in_bench(**extra) -> pd.DataFrame:
    """A model the report does not count, timed on the CPU: its record carries its own work."""
    return pd.DataFrame({
        "model": ["mystery", "mystery"], "device": ["cpu"] * 2, "env_device": ["cpu"] * 2,
        "env_device_name": ["AMD EPYC"] * 2, "batch_size": [1, 2], "dtype": ["fp32"] * 2,
        "graph": [False] * 2, "compile": [None] * 2, "channels_last": [False] * 2,
        "mode": ["infer"] * 2, "median_ms": [1.0, 1.5], "throughput_items_s": [1000.0, 1333.3],
        "tflops": [0.002, 0.0027], "status": ["ok", "ok"], **extra})


def test_a_model_only_in_the_bench_gets_a_colour_and_its_charts():
    rows = pd.concat([bench_rows(), _only_in_bench(macs=[10**6, 2 * 10**6],
                                                   flops=[2 * 10**6, 4 * 10**6],
                                                   bytes_moved=[10**6, 10**6],
                                                   intensity=[2.0, 4.0])], ignore_index=True)
    [section] = BS.bench_sections(rows, [toy_model()], figures.model_colors(["toy"]), None)
    assert "Timed but not in this report: mystery" in section.intro
    latency = section.items[0].figure
    colours = {t.name.split(" · ")[0]: t.line.color for t in latency.data}
    assert colours["toy"] != colours["mystery"]
    work = section.items[2].figure
    mystery = next(t for t in work.data if t.name.startswith("mystery"))
    assert list(mystery.x) == [10**6, 2 * 10**6]  # the record's MACs at its batch
    assert "mystery: no parameter count in this report" in section.items[2].caption
    roof = section.items[-1].figure
    point = next(t for t in roof.data if t.name.startswith("mystery"))
    assert list(point.x) == [2.0, 4.0]  # the record's own FLOPs per byte


def test_what_cannot_be_drawn_is_said():
    rows = _only_in_bench().assign(status=["ok", "unstable"])
    [section] = BS.bench_sections(rows, [toy_model()], figures.model_colors(["toy"]), None)
    assert "Left out: 1 unstable" in section.intro
    assert "No work-vs-latency chart: the results carry no MAC counts" in section.intro
    assert "Not on the roofline: mystery" in section.intro
    assert [i.figure.layout.title.text for i in section.items] == [
        "Latency vs batch size", "Throughput vs batch size"]
