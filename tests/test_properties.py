"""Property tests: random single layers against the closed-form formulas, written out here.

For a Conv2d with Cin inputs, Cout outputs, ``groups`` g, kernel kh×kw, stride s, padding p,
dilation d on an N×Cin×H×W input:

    Hout   = ⌊(H + 2·p_h − d_h·(kh − 1) − 1) / s_h⌋ + 1        (Wout likewise)
    params = Cout · (Cin/g) · kh · kw  +  Cout · [bias]
    MACs   = N · Cout · Hout · Wout · (Cin/g) · kh · kw          (bias adds excluded)

Linear(in, out) on N×…×in:  params = out·in + out·[bias];  MACs = (N·…) · in · out.
Pooling has no parameters and no MACs; its output follows the same Hout formula (adaptive
pooling: the requested size). The two counting engines (meta and fvcore) must agree on MACs.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from archscope.analysis.params import param_report

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def out_len(size: int, k: int, s: int, p: int, d: int = 1) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 4))
    cout = groups * draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    bias = draw(st.booleans())
    # the smallest input that leaves one output position: H + 2p ≥ d(k−1) + 1
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 24))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 24))
    n = draw(st.integers(1, 3))
    conv = nn.Conv2d(cin, cout, (kh, kw), stride=(sh, sw), padding=(ph, pw),
                     dilation=(dh, dw), groups=groups, bias=bias)
    return conv, (n, cin, h, w)


def conv_figures(conv: nn.Conv2d, shape):
    n, cin, h, w = shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = conv.kernel_size, conv.stride, conv.padding, conv.dilation
    g, cout = conv.groups, conv.out_channels
    hout, wout = out_len(h, kh, sh, ph, dh), out_len(w, kw, sw, pw, dw)
    weights = cout * (cin // g) * kh * kw
    biases = cout if conv.bias is not None else 0
    macs = n * cout * hout * wout * (cin // g) * kh * kw
    return (n, cout, hout, wout), weights, biases, macs


def fmt(shape) -> str:
    return "x".join(map(str, shape))


@SETTINGS
@given(conv_cases())
def test_conv2d_params_and_shape(case):
    conv, shape = case
    out_shape, weights, biases, _ = conv_figures(conv, shape)
    report = param_report(conv, shape[1:], batch_size=shape[0])
    assert report.total["weights"] == weights
    assert report.total["biases"] == biases
    assert report.total["params"] == weights + biases
    assert report.total["output_shape"] == fmt(out_shape)


@st.composite
def linear_cases(draw):
    fin, fout = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    lead = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))  # extra dims, e.g. tokens
    n = draw(st.integers(1, 4))
    return nn.Linear(fin, fout, bias=draw(st.booleans())), (n, *lead, fin)


@SETTINGS
@given(linear_cases())
def test_linear_params_and_shape(case):
    lin, shape = case
    report = param_report(lin, shape[1:], batch_size=shape[0])
    assert report.total["weights"] == lin.out_features * lin.in_features
    assert report.total["biases"] == (lin.out_features if lin.bias is not None else 0)
    assert report.total["output_shape"] == fmt((*shape[:-1], lin.out_features))


@st.composite
def pool_cases(draw):
    kind = draw(st.sampled_from(["max", "avg", "adaptive"]))
    c, n = draw(st.integers(1, 4)), draw(st.integers(1, 2))
    if kind == "adaptive":
        oh, ow = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        h, w = draw(st.integers(1, 20)), draw(st.integers(1, 20))
        return nn.AdaptiveAvgPool2d((oh, ow)), (n, c, h, w), (n, c, oh, ow)
    k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    p = draw(st.integers(0, k // 2))  # torch: padding at most half the kernel
    d = draw(st.integers(1, 2)) if kind == "max" else 1
    h = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 20))
    w = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 20))
    layer = (nn.MaxPool2d(k, s, p, dilation=d) if kind == "max" else nn.AvgPool2d(k, s, p))
    return layer, (n, c, h, w), (n, c, out_len(h, k, s, p, d), out_len(w, k, s, p, d))


@SETTINGS
@given(pool_cases())
def test_pooling_has_no_params_and_known_shape(case):
    layer, shape, out_shape = case
    report = param_report(layer, shape[1:], batch_size=shape[0])
    assert report.total["params"] == 0
    assert report.total["output_shape"] == fmt(out_shape)


@SETTINGS
@given(conv_cases(), st.integers(1, 32))
def test_conv_then_linear_params_add_up(case, classes):
    # A two-layer network: the totals are the sums of the two closed forms, and the rows
    # carry each layer's own share.
    conv, shape = case
    out_shape, weights, biases, _ = conv_figures(conv, shape)
    flat = out_shape[1] * out_shape[2] * out_shape[3]
    net = nn.Sequential(conv, nn.Flatten(), nn.Linear(flat, classes))
    report = param_report(net, shape[1:], batch_size=shape[0])
    assert report.total["params"] == weights + biases + flat * classes + classes
    assert report.rows["params"].sum() == report.total["params"]


# --- MACs: both counting engines against the formulas ---------------------------------------


def _macs(layer, shape, engine):
    from archscope.analysis.flops import flop_report

    table = flop_report(layer, shape[1:], batch_size=shape[0], engine=engine)
    return int(table.total["macs"])


@SETTINGS
@given(conv_cases())
def test_conv2d_macs_both_engines(case):
    conv, shape = case
    _, _, _, macs = conv_figures(conv, shape)
    assert _macs(conv, shape, "meta") == macs
    assert _macs(conv, shape, "fvcore") == macs


@SETTINGS
@given(linear_cases())
def test_linear_macs_both_engines(case):
    lin, shape = case
    rows = 1
    for d in shape[:-1]:
        rows *= d
    macs = rows * lin.in_features * lin.out_features  # one multiply-add per weight per row
    assert _macs(lin, shape, "meta") == macs
    assert _macs(lin, shape, "fvcore") == macs


@SETTINGS
@given(pool_cases())
def test_pooling_has_no_macs_and_engines_agree(case):
    layer, shape, _ = case
    assert _macs(layer, shape, "meta") == 0
    assert _macs(layer, shape, "fvcore") == 0
    from archscope.analysis.flops import flop_report

    meta = flop_report(layer, shape[1:], batch_size=shape[0], engine="meta")
    fv = flop_report(layer, shape[1:], batch_size=shape[0], engine="fvcore")
    assert int(meta.total["flops"]) == int(fv.total["flops"])


def test_formulas_themselves_on_one_known_case():
    # Guard the helper formulas with one case worked by hand: 3→8 conv, 3×3, stride 2, pad 1 on
    # 1×3×32×32: Hout = ⌊(32 + 2 − 2 − 1)/2⌋ + 1 = 16; weights 8·3·9 = 216; MACs 8·16·16·27 = 55,296.
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    out_shape, weights, biases, macs = conv_figures(conv, (1, 3, 32, 32))
    assert out_shape == (1, 8, 16, 16) and weights == 216 and biases == 8 and macs == 55_296
    assert tuple(conv(torch.zeros(1, 3, 32, 32)).shape) == out_shape
