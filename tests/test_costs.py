"""The op-cost registry, op family by op family, in both engines (figures derived by hand).

Each case is a small module whose every op has a cost stated in archscope.analysis.costs; the
meta engine sees the dispatched ops, the fvcore engine the TorchScript nodes, and both must give
the hand-derived figures.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from archscope.analysis.costs import Cost, lookup, registry
from archscope.analysis.record import record_model

ENGINES = ["meta", "fvcore"]


class Fn(nn.Module):
    """A module whose forward is one function of its input."""

    def __init__(self, fn, *children):
        super().__init__()
        self.fn = fn
        self.children_ = nn.ModuleList(children)

    def forward(self, *xs):
        return self.fn(self, *xs)


def cost(module, inputs, engine) -> Cost:
    # every input a full shape (batch first) with its dtype, float32 unless given
    full = ",".join(g if ":" in g else f"{g}:float32" for g in inputs.split(","))
    rec = record_model(module, full, engine=engine)
    assert rec.uncounted == {}, rec.uncounted
    return rec.cost


CASES = [
    # (id, module, input, MACs, other FLOPs)
    # grouped conv: 8 → 8 in 4 groups, 3x3 on 6x6 (pad 1): out 8·36 = 288, taps 2·9 = 18
    ("grouped_conv", nn.Conv2d(8, 8, 3, padding=1, groups=4, bias=False), "1x8x6x6",
     288 * 18, {}),
    # depthwise 3x3: 8 channels, each 1 tap-channel · 9 → 288 · 9; bias 288
    ("depthwise_conv", nn.Conv2d(8, 8, 3, padding=1, groups=8), "1x8x6x6", 288 * 9,
     {"bias": 288}),
    # conv1d 4 → 6, k 5 on length 20: out 6·16 = 96, taps 4·5
    ("conv1d", nn.Conv1d(4, 6, 5, bias=False), "1x4x20", 96 * 20, {}),
    # conv3d 2 → 3, k 3 on 5³: out 3·3³ = 81, taps 2·27 = 54
    ("conv3d", nn.Conv3d(2, 3, 3, bias=False), "1x2x5x5x5", 81 * 54, {}),
    # dilated 3x3, dilation 2, on 9x9: out 4·5·5 = 100, taps 2·9
    ("dilated_conv", nn.Conv2d(2, 4, 3, dilation=2, bias=False), "1x2x9x9", 100 * 18, {}),
    # transposed 1d 4 → 2, k 3 stride 2, on 5: every input element (4·5) × 2·3
    ("conv_transpose1d", nn.ConvTranspose1d(4, 2, 3, stride=2, bias=False), "1x4x5", 20 * 6, {}),
    # transposed 3d 2 → 2, k 2 stride 2, on 3³: input 2·27 = 54 elements × 2·8; bias 2·6³
    ("conv_transpose3d", nn.ConvTranspose3d(2, 2, 2, stride=2), "1x2x3x3x3", 54 * 16,
     {"bias": 2 * 216}),
    # layer norm over 16 of 2x16: 4 per element + 2 with γ, β → 6·32
    ("layer_norm", nn.LayerNorm(16), "2x16", 0, {"norm": 6 * 32}),
    ("layer_norm_plain", nn.LayerNorm(16, elementwise_affine=False), "2x16", 0, {"norm": 4 * 32}),
    # group norm 4 groups of 8 channels on 4x4: 6 per element of 8·16
    ("group_norm", nn.GroupNorm(4, 8), "1x8x4x4", 0, {"norm": 6 * 128}),
    # instance norm (no affine, statistics from the input): 4 per element of 8·16
    ("instance_norm", nn.InstanceNorm2d(8), "1x8x4x4", 0, {"norm": 4 * 128}),
    # RMS norm with γ over 16 of 2x16: 3 + 1 per element
    ("rms_norm", nn.RMSNorm(16), "2x16", 0, {"norm": 4 * 32}),
    # batch norm in eval: 2 per element
    ("batch_norm", nn.BatchNorm2d(3), "1x3x4x4", 0, {"norm": 2 * 48}),
    ("gelu", nn.GELU(), "2x10", 0, {"activation": 20}),
    ("silu", nn.SiLU(), "2x10", 0, {"activation": 20}),
    ("hardswish", nn.Hardswish(), "2x10", 0, {"activation": 20}),
    ("hardsigmoid", nn.Hardsigmoid(), "2x10", 0, {"activation": 20}),
    ("mish", nn.Mish(), "2x10", 0, {"activation": 20}),
    ("sigmoid", nn.Sigmoid(), "2x10", 0, {"activation": 20}),
    ("relu6", nn.ReLU6(), "2x10", 0, {"activation": 20}),
    # softmax: 3 per element
    ("softmax", nn.Softmax(dim=-1), "2x10", 0, {"softmax": 60}),
    ("log_softmax", nn.LogSoftmax(dim=-1), "2x10", 0, {"softmax": 60}),
    # reductions: 1 per input element
    ("mean", Fn(lambda m, x: x.mean(dim=(2, 3), keepdim=True)), "1x4x3x3", 0, {"reduction": 36}),
    ("sum", Fn(lambda m, x: x.sum(-1)), "2x10", 0, {"reduction": 20}),
    ("amax", Fn(lambda m, x: x.amax(-1)), "2x10", 0, {"reduction": 20}),
    ("var", Fn(lambda m, x: x.var(-1)), "2x10", 0, {"reduction": 60}),
    # a squeeze-excite gate: mean (36) → 1x1 conv 4→2 (MACs 8, bias 2) → relu (2)
    # → 1x1 conv 2→4 (MACs 8, bias 4) → sigmoid (4) → multiply (36)
    ("squeeze_excite",
     Fn(lambda m, x: x * m.children_[1](m.children_[0](x.mean((2, 3), keepdim=True)).relu()).sigmoid(),
        nn.Conv2d(4, 2, 1), nn.Conv2d(2, 4, 1)),
     "1x4x3x3", 16, {"bias": 6, "activation": 6, "elementwise": 36, "reduction": 36}),
    # masked_fill, where, floor_divide: 1 per output element
    ("masked_fill", Fn(lambda m, x: x.masked_fill(x > 0, 0.0)), "2x10", 0,
     {"elementwise": 20 + 20}),  # the comparison x > 0, then the fill
    ("where", Fn(lambda m, x: torch.where(x > 0, x, x * 2)), "2x10", 0, {"elementwise": 60}),
    ("floor_divide", Fn(lambda m, x: torch.floor_divide(x, 3.0)), "2x10", 0, {"elementwise": 20}),
    # padding and nearest resampling only copy; bilinear: 2^3 − 1 per output element (4·4·2)
    ("pad", Fn(lambda m, x: F.pad(x, (1, 1, 1, 1))), "1x2x4x4", 0, {}),
    ("reflect_pad", Fn(lambda m, x: F.pad(x, (1, 1, 1, 1), mode="reflect")), "1x2x4x4", 0, {}),
    ("nearest", nn.Upsample(scale_factor=2, mode="nearest"), "1x2x2x2", 0, {}),
    ("bilinear", nn.Upsample(scale_factor=2, mode="bilinear"), "1x2x2x2", 0,
     {"resample": 7 * 32}),
    # an embedding reads rows: no arithmetic
    ("embedding", nn.Embedding(10, 4), "2x5:int64", 0, {}),
    # matrix products: output × inner dimension
    ("bmm", Fn(lambda m, x: torch.bmm(x, x.transpose(1, 2))), "3x4x5", 3 * 4 * 4 * 5, {}),
    ("matmul", Fn(lambda m, x: x @ x.transpose(-1, -2)), "2x3x4x5", 6 * 4 * 4 * 5, {}),
    ("baddbmm", Fn(lambda m, x: torch.baddbmm(x, x, x)), "2x3x3", 2 * 9 * 3,
     {"elementwise": 18}),
    ("einsum", Fn(lambda m, x: torch.einsum("bij,bkj->bik", x, x)), "2x3x4", 2 * 3 * 3 * 4, {}),
    ("einsum_reduce", Fn(lambda m, x: torch.einsum("bij->bi", x)), "2x3x4", 0, {"reduction": 24}),
    # attention, 2 heads × 5 queries × 7 keys of width 8 (values width 8):
    # MACs 2·5·7·8 (q·kᵀ) + 2·5·7·8 (attn·v); scores 70 → softmax 3·70;
    # scaling q (2·5·8) and k (2·7·8)
    ("sdpa", Fn(lambda m, q, k, v: F.scaled_dot_product_attention(q, k, v)),
     "1x2x5x8,1x2x7x8,1x2x7x8", 2 * 560, {"attention": 210, "elementwise": 80 + 112}),
    # with a float mask (5x7): + the mask added to every score
    ("sdpa_mask",
     Fn(lambda m, q, k, v, mask: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)),
     "1x2x5x8,1x2x7x8,1x2x7x8,5x7", 2 * 560, {"attention": 210, "elementwise": 192 + 70}),
    # causal on 7 queries × 7 keys: the −∞/0 mask built once (49), added to 2·49 scores
    ("sdpa_causal", Fn(lambda m, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
     "1x2x7x8,1x2x7x8,1x2x7x8", 2 * 2 * 49 * 8, {"attention": 3 * 98,
                                                 "elementwise": 2 * 112 + 98 + 49}),
    # adaptive pools by their exact windows: 5 → 3 windows [0,2) [1,4) [3,5) = 2+3+2 = 7 per
    # axis, so Σ windows 7·7 = 49 per channel (average); max: Σ (window − 1) = 49 − 9
    ("adaptive_avg", nn.AdaptiveAvgPool2d(3), "1x2x5x5", 0, {"pool": 2 * 49}),
    ("adaptive_max", nn.AdaptiveMaxPool2d(3), "1x2x5x5", 0, {"pool": 2 * 40}),
    ("adaptive_avg_1x1", nn.AdaptiveAvgPool2d(1), "1x2x5x5", 0, {"pool": 50}),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_family_costs(case, engine):
    _, module, inputs, macs, other = case
    c = cost(module, inputs, engine)
    assert c.macs == macs
    assert c.other == other


def test_every_registered_name_has_one_handle_and_in_place_forms():
    table = registry()
    assert lookup("aten::conv2d") is table["conv2d"] is lookup("conv2d")
    assert lookup("relu_") is lookup("relu")  # in-place forms cost the same
    assert lookup("aten::no_such_op") is None
    # data movement is declared by name, at zero cost, not missing
    assert lookup("view") is not None and not lookup("view")(None)


def test_scalar_results_cost_nothing():
    # H // 2 on a traced size is shape arithmetic in a TorchScript trace: a 0-d result is free
    class ShapeMath(nn.Module):
        def forward(self, x):
            return x.reshape(x.shape[0], x.shape[1] // 2, -1)

    for engine in ENGINES:
        assert cost(ShapeMath(), "2x4x3", engine) == Cost()
