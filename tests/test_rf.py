"""Receptive fields from the geometry trace: every figure derived by hand in its comment.

Recurrence per layer (kernel k, stride s, padding p, dilation d, on an input whose units see
[lo, hi] with jump j): lo' = lo − p·j, hi' = hi + ((k−1)·d − p)·j, j' = s·j; rf = hi − lo + 1,
start = (lo + hi)/2. The input: lo = hi = 0, j = 1.
"""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from archscope.analysis.receptive import call_field, record_receptive, rf_report
from archscope.analysis.summary import summary_report
from archscope.cli import app
from archscope.errors import ArchscopeError


def field(model, input_size, path=""):
    rec = record_receptive(model, input_size)
    return call_field(rec.by_path[path][0])


def conv(c_in, c_out, k, s=1, p=None, d=1):
    return nn.Conv2d(c_in, c_out, k, stride=s, padding=(k // 2) * d if p is None else p,
                     dilation=d)


@pytest.mark.parametrize("n, rf", [(1, 3), (2, 5), (3, 7)])
def test_stacked_3x3_convolutions_see_2n_plus_1(n, rf):
    # each stride-1 3×3 widens the window by (3−1)·1 = 2: 3, 5, 7
    f = field(nn.Sequential(*[conv(4, 4, 3) for _ in range(n)]), (4, 16, 16))
    assert f.rf == (rf, rf) and f.jump == (1, 1) and f.start == (0, 0)


def test_a_strided_3x3_after_a_3x3_sees_5_with_jump_2():
    # conv1 3×3/1 p1: lo −1, hi 1, j 1; conv2 3×3/2 p1: lo −1 −1 = −2, hi 1 + (2−1)·1 = 2, j 2
    f = field(nn.Sequential(conv(3, 4, 3), conv(4, 4, 3, s=2)), (3, 16, 16))
    assert (f.rf, f.jump, f.start, f.lo, f.hi) == ((5, 5), (2, 2), (0, 0), (-2, -2), (2, 2))


def test_alexnet_conv1_is_11_with_jump_4():
    # 11×11/4, no padding: lo 0, hi 10 → rf 11, jump 4, centre 5
    rec = record_receptive("alexnet")
    first = next(c for c in rec.calls if c.type == "Conv2d")
    f = call_field(first)
    assert (f.rf, f.jump, f.start) == ((11, 11), (4, 4), (5, 5))


def _vgg16_by_hand():
    """VGG-16's rf after each pool and at conv5_3, from the recurrence: block b has jump
    2^(b−1) and n_b 3×3 convs (each + 2·jump), then a 2×2/2 pool (+ 1·jump, jump doubles)."""
    rf, jump, pools = 1, 1, []
    conv5_3 = None
    for n in (2, 2, 3, 3, 3):
        rf += n * 2 * jump
        conv5_3 = rf
        rf += jump
        jump *= 2
        pools.append(rf)
    return pools, conv5_3


def test_vgg16_at_each_pool_and_conv5_3():
    pools, conv5_3 = _vgg16_by_hand()
    assert pools == [6, 16, 44, 100, 212] and conv5_3 == 196  # the figures
    rec = record_receptive("vgg16")
    pool_rfs = [call_field(c).rf[0] for c in rec.calls if c.type == "MaxPool2d"]
    assert pool_rfs == pools
    convs = [c for c in rec.calls if c.type == "Conv2d"]
    assert call_field(convs[-1]).rf == (196, 196)
    # the classifier after flatten sees the 7 pool5 units: 212 + (7 − 1)·32 = 404
    assert call_field(rec.by_path["classifier.0"][0]).rf == (404, 404)
    assert call_field(rec.by_path["classifier.0"][0]).jump == (None, None)


def test_dilated_convolutions():
    # 3×3 dilation 2: taps at −2, 0, 2 → extent 5; stack d = 1, 2, 4: 3 + 4 + 8 = 15
    assert field(conv(2, 2, 3, d=2), (2, 32, 32)).rf == (5, 5)
    stack = nn.Sequential(conv(2, 2, 3, d=1), conv(2, 2, 3, d=2), conv(2, 2, 3, d=4))
    assert field(stack, (2, 32, 32)).rf == (15, 15)


def test_padding_and_pools_move_the_start():
    # 3×3 without padding: unit 0 sees 0..2, centre 1; then 2×2/2 pool: lo 0, hi 2 + 1 = 3,
    # centre 1.5, jump 2
    f = field(nn.Sequential(conv(1, 1, 3, p=0), nn.MaxPool2d(2)), (1, 16, 16))
    assert (f.rf, f.jump, f.start) == ((4, 4), (2, 2), (1.5, 1.5))


def test_rectangular_kernels_give_one_rf_per_axis():
    # 1×7 then 7×1 (Inception v3's factorised 7×7): after the first, height 1 and width 7
    net = nn.Sequential(nn.Conv2d(1, 1, (1, 7), padding=(0, 3)),
                        nn.Conv2d(1, 1, (7, 1), padding=(3, 0)))
    rec = record_receptive(net, (1, 17, 17))
    assert call_field(rec.by_path["0"][0]).rf == (1, 7)
    assert call_field(rec.by_path["1"][0]).rf == (7, 7)


def test_an_inception_block_sees_the_union_of_its_branches():
    # inception_v1_block: 1×1 | 1×1 → 3×3 | 1×1 → 5×5 | 3×3 pool → 1×1; the largest is 5
    rec = record_receptive("inception_v1_block")
    fields = {p: call_field(rec.by_path[p][0]).rf[0]
              for p in ("branch1", "branch2", "branch3", "branch4", "")}
    assert fields == {"branch1": 1, "branch2": 3, "branch3": 5, "branch4": 3, "": 5}


def test_a_residual_block_joins_body_and_shortcut():
    # bottleneck with a stride-2 3×3 and a 1×1/2 projection: body 1×1, 3×3/2 → lo −1, hi 1,
    # j 2; shortcut 1×1/2 → lo 0, hi 0, j 2: union −1..1 → rf 3, jump 2
    from archscope.zoo import build

    with torch.device("meta"):
        block = build("bottleneck_block", in_channels=64, planes=64)
    block.conv2.stride = (2, 2)
    block.downsample[0].stride = (2, 2)
    rec = record_receptive(block, (64, 16, 16))
    assert call_field(rec.by_path["downsample"][0]).rf == (1, 1)
    f = call_field(rec.root)
    assert (f.rf, f.jump, f.lo) == ((3, 3), (2, 2), (-1, -1))


class Squeeze(nn.Module):
    """A 3×3 convolution gated by its own global average (squeeze-and-excitation)."""

    def __init__(self):
        super().__init__()
        self.conv = conv(2, 2, 3)
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        y = self.conv(x)
        gate = torch.sigmoid(self.fc(y.mean((2, 3))))
        return y * gate[:, :, None, None]


def test_a_global_gate_makes_every_unit_see_the_whole_map():
    # conv 3×3 p1 on 8×8: units see i−1..i+1; the mean over its 8 units sees −1..8 (10 wide),
    # which holds every unit's window, so the product sees −1..8 everywhere: rf 10, no jump
    rec = record_receptive(Squeeze(), (2, 8, 8))
    f = call_field(rec.root)
    assert (f.rf, f.jump, f.lo, f.hi) == ((10, 10), (None, None), (-1, -1), (8, 8))
    assert f.covers((8, 8))
    assert rec.geometry.global_gate == ("aten::mul", "")
    notes = rf_report(Squeeze(), (2, 8, 8)).notes
    assert any("from (model) on every unit sees its whole input map" in n for n in notes)


class ChannelsLast(nn.Module):
    """ConvNeXt's pattern: depthwise 7×7, then LayerNorm and Linear on a channels-last view."""

    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(4, 4, 7, padding=3, groups=4)
        self.norm = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 8)

    def forward(self, x):
        y = self.dw(x).permute(0, 2, 3, 1)
        return self.fc(self.norm(y)).permute(0, 3, 1, 2)


def test_channels_last_linear_layers_keep_the_geometry():
    # the norm and the linear layer mix channels only: the 7×7 window stays (rf 7, jump 1)
    rec = record_receptive(ChannelsLast(), (4, 14, 14))
    for path in ("dw", "norm", "fc", ""):
        assert call_field(rec.by_path[path][0]).rf == (7, 7)
    assert call_field(rec.root).jump == (1, 1)


class Strides(nn.Module):
    """Two branches with different jumps added: 1-D length 7 → 4 both ways."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv1d(1, 1, 1, stride=2)  # 7 → 4, jump 2
        self.b = nn.Conv1d(1, 1, 4)  # 7 → 4, jump 1
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        return self.up(self.a(x) + self.b(x))


def test_windows_that_are_not_one_sliding_window_are_left_blank_and_named():
    rep = rf_report(Strides(), (1, 7))
    rows = dict(zip(rep.columns["layer"], rep.columns["rf"]))
    assert rows["a"] == 1 and rows["b"] == 4
    assert rows["(model)"] is None and rows["up"] is None
    assert any("branches with effective strides [1, 2] meet" in n for n in rep.notes)


def test_upsampling_ends_the_trace_with_the_op_named():
    net = nn.Sequential(conv(1, 1, 3), nn.Upsample(scale_factor=2), conv(1, 1, 3))
    rep = rf_report(net, (1, 8, 8))
    assert rep.columns["rf"] == [None, 3, None, None]
    assert any("aten::upsample_nearest2d" in n and "in 1 " in n for n in rep.notes)


def test_where_the_units_see_past_the_border_and_the_whole_input():
    # googlenet at 224: inception4b is the first rf over 224 (235), maxpool4 the first where
    # unit 0 starts at ≤ 0 and the last unit (6) ends ≥ 223: lo = 30 − 229 = −199,
    # hi + 6·32 = 259 + 192
    rep = rf_report("googlenet", depth=1)
    rows = dict(zip(rep.columns["layer"], rep.columns["rf"]))
    assert rows["inception4a"] == 171 and rows["inception4b"] == 235
    assert any("larger than the 224×224 input from inception4b on" in n for n in rep.notes)
    assert any("covers the whole 224×224 input from maxpool4 on" in n for n in rep.notes)
    whole = dict(zip(rep.columns["layer"], rep.columns["whole_input"]))
    assert whole["inception4e"] is False and whole["maxpool4"] is True


def test_summary_has_rf_jump_and_start_columns():
    rep = summary_report("resnet18", depth=1)
    rows = {layer: (rf, jump, start) for layer, rf, jump, start in zip(
        rep.columns["layer"], rep.columns["rf"], rep.columns["jump"], rep.columns["start"])}
    # conv1 7×7/2 p3: lo −3, hi 3, j 2; maxpool 3×3/2 p1: lo −5, hi 5, j 4 → rf 11
    assert rows["conv1"] == (7, 2, 0) and rows["maxpool"] == (11, 4, 0)
    # layer1: four 3×3 at jump 4 → 11 + 4·2·4 = 43
    assert rows["layer1"] == (43, 4, 0)


def test_summary_of_a_model_without_spatial_layers_has_no_rf_columns():
    rep = summary_report(nn.Sequential(nn.Linear(4, 4)), "1x4:float32")
    assert "rf" not in rep.columns


def test_rf_of_a_model_without_spatial_layers_is_one_sentence(runner):
    with pytest.raises(ArchscopeError, match="no image-like input"):
        rf_report(nn.Sequential(nn.Linear(4, 4)), "1x4:float32")
    with pytest.raises(ArchscopeError, match="no convolution or pooling"):
        rf_report(nn.Sequential(nn.ReLU()), (3, 8, 8))


def test_rf_cli_formats(runner):
    res = runner.invoke(app, ["rf", "vgg16", "-d", "1", "-f", "json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    rows = {r["layer"]: r for r in obj["rows"]}
    assert rows["features"]["rf"] == 212 and rows["features"]["jump"] == 32
    text = runner.invoke(app, ["rf", "vgg16", "-d", "1"]).stdout
    assert "rf" in text and "212" in text


def test_rf_cli_error_is_one_line(runner):
    res = runner.invoke(app, ["rf", "lenet5", "-d", "-1"])
    assert res.exit_code == 2 and "depth" in res.output


def test_adaptive_pools():
    # 8 → 4: windows of 2, stride 2 (a 3×3 conv's 3 → 3 + 1 = 4, jump 2); 8 → 1: all 8 units
    # (3 + 7 = 10, no jump); 1 → 7 (VGG's head on a 32×32 input): every unit sees the one
    # input unit; 8 → 3 has windows of 3 and 4 pixels: not one sliding window
    body = conv(1, 1, 3)
    assert field(nn.Sequential(body, nn.AdaptiveAvgPool2d(4)), (1, 8, 8)).rf == (4, 4)
    f = field(nn.Sequential(body, nn.AdaptiveMaxPool2d(1)), (1, 8, 8))
    assert (f.rf, f.jump) == ((10, 10), (None, None))
    one = nn.Sequential(body, nn.AdaptiveAvgPool2d(1), nn.AdaptiveAvgPool2d(7))
    assert field(one, (1, 8, 8)).rf == (10, 10)
    rep = rf_report(nn.Sequential(body, nn.AdaptiveAvgPool2d(3)), (1, 8, 8))
    assert rep.columns["rf"][-1] is None
    assert any("adaptive windows of unequal size, 8 → 3" in n for n in rep.notes)


def test_activations_torch_does_not_tag_pointwise_keep_the_window():
    # hardswish, GELU in place, PReLU: elementwise, so the 3×3 window passes (rf 3)
    for act in (nn.Hardswish(), nn.Hardswish(inplace=True), nn.PReLU(2), nn.Mish(inplace=True)):
        assert field(nn.Sequential(conv(2, 2, 3), act), (2, 8, 8)).rf == (3, 3), act


def test_functional_pools_and_rectangular_inputs():
    # F.max_pool2d 3×3/2 on a 1×1 conv: rf 3 jump 2; a 1-D signal: Conv1d 5 → rf 5
    class Net(nn.Module):
        def forward(self, x):
            return F.max_pool2d(x, 3, 2)

    assert field(Net(), (1, 9, 5)).rf == (3, 3)
    assert field(nn.Conv1d(1, 1, 5), (1, 20)).rf == (5,)


def _googlenet_stage_rfs() -> dict[str, int]:
    """GoogLeNet (Table 1) by the recurrence: conv1 7×7/2 → 7 (jump 2); maxpool1 3×3/2 → 11
    (4); conv2 1×1, conv3 3×3 → 19; maxpool2 → 27 (8); each Inception block adds its 5×5
    branch's 4·jump (the largest branch; the pool branch's 3×3 adds 2·jump); maxpool3 → +2·8
    (16); maxpool4 → +2·16 (32)."""
    rf, out = 27, {"conv1": 7, "maxpool2": 27}
    rf += 2 * 4 * 8
    out["inception3b"] = rf  # 91
    rf += 2 * 8 + 5 * 4 * 16
    out["inception4e"] = rf  # 107 + 320 = 427
    rf += 2 * 16
    out["maxpool4"] = rf  # 459
    out["inception5b"] = rf + 2 * 4 * 32  # 715
    return out


def test_explain_receptive_field_lesson():
    from archscope.analysis.explain import explain

    e = explain("receptive-field")
    df = e.rows
    c = 256
    # weights: two 3×3 = 2·9·c², one 5×5 = 25·c², three 3×3 = 27·c², one 7×7 = 49·c²
    assert list(df.weights[:4]) == [25 * c * c, 18 * c * c, 49 * c * c, 27 * c * c]
    assert list(df.rf[:4]) == [5, 5, 7, 7]
    stages = {d.removeprefix("GoogLeNet up to "): rf for d, rf in zip(df.design[4:], df.rf[4:])}
    assert stages == _googlenet_stage_rfs()
    assert list(df.whole_input[4:]) == [False] * 4 + [True] * 2
    assert "1,179,648 instead of 1,638,400" in e.text and "28.0% fewer" in e.text
    assert "from inception4b on" in e.text and "from maxpool4 on" in e.text
    assert len(e.compared) == 4
