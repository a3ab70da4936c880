"""Report figures and frames, asserted on the Figure's data built from small synthetic tables.

The synthetic model ``toy`` has two stages: ``features`` (conv 3->8, 3x3, on a 3x8x8 input,
padding 1, and a ReLU) and ``head`` (linear 512->10). Hand counts:
- features.0: weights 8*3*3*3 = 216, biases 8 → params 224; MACs 8*8*8 (outputs) * 27 = 13,824;
  FLOPs 2 * 13,824 + 512 (bias) = 28,160; moves 224 params + 192 in + 512 out = 928 elements
  = 3,712 bytes (fp32)
- features.1 (ReLU): FLOPs 512; moves 512 in + 512 out = 4,096 bytes
- head.fc: weights 512*10 = 5,120, biases 10 → params 5,130; MACs 10 * 512 = 5,120;
  FLOPs 2 * 5,120 + 10 = 10,250; moves 5,130 + 512 + 10 = 5,652 elements = 22,608 bytes
- totals: params 224 + 5,130 = 5,354 (21,416 bytes); MACs 13,824 + 5,120 = 18,944;
  FLOPs 28,160 + 512 + 10,250 = 38,922; bytes moved 3,712 + 4,096 + 22,608 = 30,416, of which
  30,416 − 21,416 = 9,000 are inputs and outputs (4 × (192 + 512 + 512 + 512 + 512 + 10))
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from archscope.analysis.records import LayerTable
from archscope.html import data as D
from archscope.html import figures


def toy_model(name: str = "toy") -> D.ModelData:
    rows = pd.DataFrame(
        {
            "layer": ["features.0", "features.1", "head.fc"],
            "type": ["Conv2d", "ReLU", "Linear"],
            "weights": [216, 0, 5120],
            "params": [224, 0, 5130],
            "macs": [13824, 0, 5120],
            "flops": [28160, 512, 10250],
            "intensity": [28160 / 3712, 512 / 4096, 10250 / 22608],
        }
    )
    total = {"params": 5354, "macs": 18944, "flops": 38922,
             "param_bytes": 4 * 5354, "activation_bytes": 4 * (512 + 512 + 10),
             "intensity": 38922 / 30416}
    return D.ModelData(name, LayerTable("flops", name, (1, 3, 8, 8), rows, total), 2024, "toy")


def test_model_totals_frame_counts_weight_layers_and_keeps_exact_totals():
    s = D.model_totals_frame([toy_model()])
    row = s.iloc[0]
    assert (row["params"], row["macs"]) == (5354, 18944)
    # conv and linear hold weights and do MACs; the ReLU does neither → 2 weight layers
    assert row["weight_layers"] == 2
    assert row["input"] == "1x3x8x8"


def test_stage_frame_sums_per_top_level_module_in_forward_order():
    st = D.stage_frame(toy_model().table.rows, depth=1)
    assert list(st["stage"]) == ["features", "head"]
    assert list(st["params"]) == [224, 5130]  # 224 + 0 ; 5,130
    assert list(st["macs"]) == [13824, 5120]
    assert st.attrs["depth"] == 1


def test_stages_go_down_until_no_module_holds_more_than_half_the_macs():
    # toy: features holds 13,824 of 18,944 MACs (73 %) → depth 2, where the largest stage,
    # features.0 (the same 73 %), is one layer and cannot be split further
    st = D.stage_frame(toy_model().table.rows)
    assert st.attrs["depth"] == 2
    assert list(st["stage"]) == ["features.0", "features.1", "head.fc"]
    assert list(st["macs"]) == [13824, 0, 5120]

    def rows(layers: dict[str, int]) -> pd.DataFrame:
        return pd.DataFrame({"layer": list(layers), "params": [1] * len(layers),
                             "macs": list(layers.values())})

    # ConvNeXt's shape: stages holds 30 + 20 + 25 + 5 = 80 of 100 → depth 2, where stages.0
    # holds 50: not more than half
    convnext = rows({"stem.0": 10, "stages.0.a": 30, "stages.0.b": 20, "stages.1.a": 25,
                     "stages.1.b": 5, "head.fc": 10})
    st = D.stage_frame(convnext)
    assert st.attrs["depth"] == 2
    assert list(st["stage"]) == ["stem.0", "stages.0", "stages.1", "head.fc"]
    assert list(st["macs"]) == [10, 30 + 20, 25 + 5, 10] and list(st["params"]) == [1, 2, 2, 1]
    # exactly half is not more than half: depth 1
    assert D.stage_depth(rows({"a.x": 50, "b.y": 50})) == 1
    # one layer deep down holds 90 %: the descent stops at that layer, depth 3
    assert D.stage_depth(rows({"a.b.c": 90, "a.b.d": 0, "e": 10})) == 3
    # no MACs at all: top-level modules
    assert D.stage_depth(rows({"a.b": 0, "c.d": 0})) == 1


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
    colors = figures.model_colors(["a", "b"])
    fig = figures.totals_bar(D.model_totals_frame([a, b]), "macs", "MACs", "MACs", colors)
    bar = fig.data[0]
    assert list(bar.x) == ["a", "b"] and list(bar.y) == [18944, 18944]
    assert list(bar.customdata) == [18944, 18944]
    assert "%{customdata:,}" in bar.hovertemplate
    assert list(bar.marker.color) == [colors["a"], colors["b"]]
    labels = [btn.label for btn in fig.layout.updatemenus[0].buttons]
    assert labels == ["Linear", "Log"]
    assert fig.layout.updatemenus[0].buttons[1].args[0]["yaxis.type"] == "log"


def test_log_button_starts_a_decade_below_the_smallest_bar_and_linear_autoranges():
    summary = pd.DataFrame({"model": ["small", "big"], "params": [1_000, 100_000]})
    fig = figures.totals_bar(summary, "params", "p", "parameters", figures.model_colors(["small", "big"]))
    linear, log = (b.args[0] for b in fig.layout.updatemenus[0].buttons)
    # log10(1,000) − 1 = 2 (one decade below the smallest bar); log10(100,000) + 0.3 on top
    assert log["yaxis.range"] == pytest.approx([2.0, 5.3])
    # 3.3 decades → 1-3 steps, every tick labelled in full with an SI prefix
    assert log["yaxis.tickvals"] == [100, 300, 1000, 3000, 10000, 30000, 100000]
    assert log["yaxis.ticktext"] == ["100", "300", "1k", "3k", "10k", "30k", "100k"]
    assert linear == {"yaxis.type": "linear", "yaxis.autorange": True, "yaxis.tickmode": "auto"}
    assert fig.layout.yaxis.type in (None, "linear")  # starts linear


def test_log_ticks_are_1_2_5_over_few_decades_and_sparser_over_many():
    vals, text = figures.log_ticks(1, 100)
    assert vals == [1, 2, 5, 10, 20, 50, 100]
    assert text == ["1", "2", "5", "10", "20", "50", "100"]
    vals, text = figures.log_ticks(0.002, 0.03)  # no float noise: 0.005, not 0.005000000000000001
    assert vals == [0.002, 0.005, 0.01, 0.02] and text == ["0.002", "0.005", "0.01", "0.02"]
    vals, _ = figures.log_ticks(1, 1e9)  # 9 decades: powers of ten only
    assert vals == [10.0 ** e for e in range(10)]
    assert figures.log_ticks(60, 400)[0] == [60, 70, 80, 90, 100, 200, 300, 400]  # < 1 decade: 1…9


def test_si_and_significant_digit_formats():
    assert [figures.si(v) for v in (61706, 138_357_544, 4.17e9, 0.0042, 850)] == \
        ["61.7k", "138M", "4.17G", "0.0042", "850"]
    assert figures.si_unit(5.632e9, "FLOP/s") == "5.63 GFLOP/s"
    assert figures.si_unit(989.4e12, "FLOP/s") == "989 TFLOP/s"
    assert figures.sig(0.0102232) == "0.01022" and figures.sig(218.631646) == "218.6"
    assert figures.sig(123456.7) == "123,457"


def test_model_colours_are_stable_and_distinct():
    c = figures.model_colors(["vgg16", "resnet50", "vgg16", "googlenet"])
    assert list(c) == ["vgg16", "resnet50", "googlenet"]
    assert len(set(c.values())) == 3


def test_quantity_and_kind_colours_are_never_model_colours():
    reserved = {figures.PARAMS_COLOUR, figures.MACS_COLOUR, *figures.KIND_COLOURS.values()}
    assert not reserved & set(figures.PALETTE)


def test_stage_bars_use_the_model_colour_and_toggle_both_axes():
    m = toy_model()
    colour = figures.model_colors(["x", "toy"])["toy"]
    fig = figures.stage_bars(D.stage_frame(m.table.rows, depth=1), "toy", colour)
    assert [t.marker.color for t in fig.data] == [colour, colour]
    assert fig.layout.xaxis.title.text == "stage (top-level module)"
    assert list(fig.data[0].y) == [224, 5130] and list(fig.data[1].y) == [13824, 5120]
    log = fig.layout.updatemenus[0].buttons[1].args[0]
    # params axis: log10(224) − 1 … log10(5,130) + 0.3; MACs axis: log10(5,120) − 1 …
    assert log["yaxis.range"][0] == pytest.approx(1.35024, abs=1e-4)
    assert log["yaxis2.range"][0] == pytest.approx(2.70927, abs=1e-4)
    deeper = figures.stage_bars(D.stage_frame(m.table.rows), "toy", colour)
    assert deeper.layout.xaxis.title.text == "stage (module at depth 2)"


def test_buttons_sit_at_the_left_under_the_title_clear_of_the_modebar():
    fig = figures.totals_bar(D.model_totals_frame([toy_model()]), "params", "p", "parameters", {})
    menu = fig.layout.updatemenus[0]
    assert (menu.x, menu.xanchor, menu.yanchor) == (0, "left", "top")
    # 40 px below the top edge: 1 + (margin top 100 − 40) / plot height (380 − 100 − 60)
    assert menu.y == pytest.approx(1 + 60 / 220)
    assert fig.layout.title.yref == "container" and fig.layout.margin.t == 100


def test_treemap_toggles_between_params_and_macs():
    m = toy_model()
    fig = figures.hierarchy_treemap(D.hierarchy_frame(m.table.rows, "toy"), "toy")
    tm = fig.data[0]
    assert tm.branchvalues == "total"
    assert tm.values[list(tm.ids).index("toy")] == 5354
    by_macs = fig.layout.updatemenus[0].buttons[1].args[0]["values"][0]
    assert by_macs[list(tm.ids).index("toy")] == 18944


def test_share_scatter_places_each_layer_at_its_shares():
    fig = figures.share_scatter(D.share_frame([toy_model()]), figures.model_colors(["toy"]))
    pts = fig.data[0]
    assert list(pts.text) == ["features.0", "head.fc"]  # the ReLU holds neither
    # conv: 224/5,354 params, 13,824/18,944 MACs
    assert pts.x[0] == pytest.approx(100 * 224 / 5354, abs=1e-4)
    assert pts.y[0] == pytest.approx(100 * 13824 / 18944, abs=1e-4)
    assert [list(c[:2]) for c in pts.customdata] == [[224, 13824], [5130, 5120]]
    linear, log = (b.args[0] for b in fig.layout.updatemenus[0].buttons)
    assert log["xaxis.type"] == log["yaxis.type"] == "log"
    # Log hugs the points: 0.08 decade around the smallest and largest share
    assert log["xaxis.range"][0] == pytest.approx(math.log10(100 * 224 / 5354) - 0.08)
    assert linear["xaxis.range"] == [-2, 102] and linear["xaxis.type"] == "linear"


def test_kind_frame_splits_each_total_by_layer_kind():
    k = D.kind_frame([toy_model()]).set_index("kind")
    assert k.loc["convolution", ["params", "macs"]].tolist() == [224, 13824]
    assert k.loc["linear", ["params", "macs"]].tolist() == [5130, 5120]
    assert k.loc["other", ["params", "macs"]].tolist() == [0, 0]  # the ReLU
    assert k["params_share"].sum() == pytest.approx(1) and k["mac_share"].sum() == pytest.approx(1)
    assert k.at["linear", "params_share"] == pytest.approx(5130 / 5354)


def test_kind_bars_are_100_percent_per_model_with_exact_counts():
    fig = figures.kind_share_bars(D.kind_frame([toy_model()]))
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["convolution layers", "linear layers", "other layers"]
    conv, linear, other = fig.data
    # bars: (toy, params), (toy, MACs)
    assert [list(conv.x[0]), list(conv.x[1])] == [["toy", "toy"], ["params", "MACs"]]
    assert list(conv.y) == [pytest.approx(100 * 224 / 5354), pytest.approx(100 * 13824 / 18944)]
    assert list(linear.y) == [pytest.approx(100 * 5130 / 5354), pytest.approx(100 * 5120 / 18944)]
    assert [c[0] for c in linear.customdata] == [5130, 5120]
    assert list(other.y) == [0, 0]
    assert conv.marker.color not in figures.PALETTE


def test_lesson_bars_show_weights_and_macs_exactly():
    lesson = pd.DataFrame({"label": ["3x3", "1x1+3x3"], "weights": [221184, 129024],
                           "biases": [128, 224], "macs": [1, 2]})
    fig = figures.lesson_bars(lesson, "t")
    assert list(fig.data[0].y) == [221184, 129024] and list(fig.data[1].y) == [1, 2]
    assert list(fig.data[0].x) == ["3x3", "1x1+3x3"]
    # a label longer than 14 characters wraps at a space: "1×1 to 96, then" / "3×3"
    long = figures.lesson_bars(lesson.assign(label=["1×1 to 96, then 3×3", "x"]), "t")
    assert list(long.data[0].x) == ["1×1 to 96,<br>then 3×3", "x"]
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["Linear", "Log"]


def test_short_names_for_file_specs():
    assert D.short_name("/tmp/x/m<b>/net.py:make") == "net.py:make"
    assert D.short_name(r"C:\nets\m.py:build") == "m.py:build"
    for spec in ("vgg16", "torchvision:resnet50", "timm:resnet50", "pkg.mod:factory"):
        assert D.short_name(spec) == spec
    # two files with the same name keep their full specs
    assert D.display_names(["/a/net.py:f", "/b/net.py:f", "vgg16"]) == \
        ["/a/net.py:f", "/b/net.py:f", "vgg16"]


def test_long_titles_wrap_and_push_the_buttons_down():
    name = "net.py:make_torchvision_mobilenet_v3_large_with_a_long_name"  # 59 characters
    fig = figures.stage_bars(D.stage_frame(toy_model().table.rows), name)
    # "<name>: where parameters …" passes 76 characters at "parameters" (59 + 7 + 11 = 77)
    assert fig.layout.title.text == f"{name}: where<br>parameters and MACs sit, by stage"
    # one extra line of 22 px: on the height (470 + 22) and the top margin (100 + 22); the
    # buttons 40 + 22 px below the top: y = 1 + (122 − 62) / (492 − 122 − 110)
    assert fig.layout.height == 492 and fig.layout.margin.t == 122
    assert fig.layout.updatemenus[0].y == pytest.approx(1 + 60 / 260)
    # a run longer than the limit breaks after a separator
    assert figures.title_lines("a" * 10 + "/" + "b" * 10, 12) == ["a" * 10 + "/", "b" * 10]
    # a short title stays one line, with the plain margins
    short = figures.stage_bars(D.stage_frame(toy_model().table.rows), "toy")
    assert "<br>" not in short.layout.title.text and short.layout.height == 470
