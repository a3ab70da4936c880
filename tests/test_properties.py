"""Property tests: random single layers against the closed-form formulas, written out here.

For a Conv2d with Cin inputs, Cout outputs, ``groups`` g, kernel kh×kw, stride s, padding p,
dilation d on an N×Cin×H×W input:

    Hout   = ⌊(H + 2·p_h − d_h·(kh − 1) − 1) / s_h⌋ + 1        (Wout likewise)
    params = Cout · (Cin/g) · kh · kw  +  Cout · [bias]
    MACs   = N · Cout · Hout · Wout · (Cin/g) · kh · kw          (bias adds excluded)

Linear(in, out) on N×…×in:  params = out·in + out·[bias];  MACs = (N·…) · in · out.
Either one's bias adds: one per output element when it has a bias (other FLOPs, ``bias``).
Pooling has no parameters and no MACs; its output follows the same Hout formula (ceil mode:
⌈…⌉ instead of ⌊…⌋, the last window starting inside the input; adaptive pooling: the
requested size). Its other FLOPs, ``pool``, per output element: max k·k − 1, average k·k;
adaptive windows [⌊i·in/out⌋, ⌈(i+1)·in/out⌉) summed exactly (max: window − 1 each).
The two counting engines (meta and fvcore) must agree on MACs and on every other category.
"""

from __future__ import annotations

import math

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


def out_len_ceil(size: int, k: int, s: int, p: int, d: int = 1) -> int:
    out = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
    return out - 1 if (out - 1) * s >= size + p else out  # the last window starts inside


def windows(n_in: int, n_out: int) -> list[int]:
    return [-(-(i + 1) * n_in // n_out) - (i * n_in // n_out) for i in range(n_out)]


@st.composite
def pool_cases(draw):
    """(layer, input shape, output shape, pool FLOPs) with the FLOPs in closed form."""
    kind = draw(st.sampled_from(["max", "avg", "adaptive_avg", "adaptive_max"]))
    c, n = draw(st.integers(1, 4)), draw(st.integers(1, 2))
    if kind.startswith("adaptive"):
        oh, ow = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        h, w = draw(st.integers(1, 20)), draw(st.integers(1, 20))
        wh, ww = windows(h, oh), windows(w, ow)
        if kind == "adaptive_avg":  # every window element added (or divided) once
            layer, flops = nn.AdaptiveAvgPool2d((oh, ow)), n * c * sum(wh) * sum(ww)
        else:  # a·b − 1 comparisons for an a×b window
            layer = nn.AdaptiveMaxPool2d((oh, ow))
            flops = n * c * sum(a * b - 1 for a in wh for b in ww)
        return layer, (n, c, h, w), (n, c, oh, ow), flops
    k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    p = draw(st.integers(0, k // 2))  # torch: padding at most half the kernel
    d = draw(st.integers(1, 2)) if kind == "max" else 1
    ceil = draw(st.booleans())
    h = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 20))
    w = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 20))
    length = out_len_ceil if ceil else out_len
    out = (n, c, length(h, k, s, p, d), length(w, k, s, p, d))
    if kind == "max":
        layer, per_output = nn.MaxPool2d(k, s, p, dilation=d, ceil_mode=ceil), k * k - 1
    else:
        layer, per_output = nn.AvgPool2d(k, s, p, ceil_mode=ceil), k * k
    return layer, (n, c, h, w), out, per_output * out[0] * out[1] * out[2] * out[3]


@SETTINGS
@given(pool_cases())
def test_pooling_has_no_params_and_known_shape(case):
    layer, shape, out_shape, _ = case
    assert tuple(layer(torch.zeros(shape)).shape) == out_shape  # the formulas are torch's
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


def _both(layer, shape):
    from archscope.analysis.flops import flop_report

    return [flop_report(layer, shape[1:], batch_size=shape[0], engine=e).total
            for e in ("meta", "fvcore")]


@SETTINGS
@given(conv_cases())
def test_conv2d_macs_and_bias_adds_both_engines(case):
    conv, shape = case
    out_shape, _, biases, macs = conv_figures(conv, shape)
    bias_adds = math.prod(out_shape) if biases else 0  # one add per output element
    for total in _both(conv, shape):
        assert total["macs"] == macs
        assert total["other_flops"] == ({"bias": bias_adds} if bias_adds else {})
        assert total["flops"] == 2 * macs + bias_adds


@SETTINGS
@given(linear_cases())
def test_linear_macs_and_bias_adds_both_engines(case):
    lin, shape = case
    rows = math.prod(shape[:-1])
    macs = rows * lin.in_features * lin.out_features  # one multiply-add per weight per row
    bias_adds = rows * lin.out_features if lin.bias is not None else 0
    for total in _both(lin, shape):
        assert total["macs"] == macs
        assert total["flops"] == 2 * macs + bias_adds


@SETTINGS
@given(pool_cases())
def test_pooling_flops_closed_form_both_engines(case):
    layer, shape, _, flops = case
    for total in _both(layer, shape):
        assert total["macs"] == 0
        assert total["other_flops"] == ({"pool": flops} if flops else {})
        assert "uncounted_ops" not in total


def test_formulas_themselves_on_one_known_case():
    # Guard the helper formulas with one case worked by hand: 3→8 conv, 3×3, stride 2, pad 1 on
    # 1×3×32×32: Hout = ⌊(32 + 2 − 2 − 1)/2⌋ + 1 = 16; weights 8·3·9 = 216; MACs 8·16·16·27 = 55,296.
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    out_shape, weights, biases, macs = conv_figures(conv, (1, 3, 32, 32))
    assert out_shape == (1, 8, 16, 16) and weights == 216 and biases == 8 and macs == 55_296
    assert tuple(conv(torch.zeros(1, 3, 32, 32)).shape) == out_shape
