"""Both engines agree call by call beyond the zoo: on random small networks and the examples.

The meta engine sees torch's dispatched aten ops on the meta device, the fvcore engine a
TorchScript trace of a real forward; both cost every op through the one registry. On networks
hypothesis builds from the layer kinds real models use (grouped and dilated convolutions,
norms, activations, pools, squeeze-excite, resampling, attention, modules called more than
once), every module call must get the same cost and the parameters must agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from archscope.analysis.record import record_model

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class Twice(nn.Module):
    """Calls its layer twice around an activation module it also calls twice."""

    def __init__(self, layer: nn.Module, act: nn.Module):
        super().__init__()
        self.layer, self.act = layer, act

    def forward(self, x):
        return self.act(self.layer(self.act(self.layer(x)))) + x


class SqueezeExcite(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.reduce = nn.Conv2d(c, max(1, c // 2), 1)
        self.expand = nn.Conv2d(max(1, c // 2), c, 1)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.expand(F.relu(self.reduce(s))))


class Attention(nn.Module):
    """timm-style: fused qkv, F.scaled_dot_product_attention (optionally causal), projection."""

    def __init__(self, dim: int, heads: int, causal: bool):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        return x + self.proj(a.transpose(1, 2).reshape(b, n, d))


class TorchAttention(nn.Module):
    """torchvision-style: nn.MultiheadAttention, which calls out_proj's weight functionally."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mha = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x):
        y = self.norm(x)
        return x + self.mha(y, y, y, need_weights=False)[0]


C = 8  # channels throughout the image stage

IMAGE_LAYERS = st.sampled_from([
    "conv1", "conv3", "conv3_stride2", "conv3_dilated", "depthwise", "grouped", "bn", "gn",
    "in", "relu", "gelu", "silu", "hardswish", "sigmoid", "maxpool", "avgpool", "se", "twice",
    "up_nearest", "up_bilinear", "ln_channels",
])
TOKEN_LAYERS = st.sampled_from(["attention", "causal", "mha", "ln", "mlp", "rms"])


def image_layer(kind: str) -> nn.Module:
    return {
        "conv1": lambda: nn.Conv2d(C, C, 1),
        "conv3": lambda: nn.Conv2d(C, C, 3, padding=1, bias=False),
        "conv3_stride2": lambda: nn.Conv2d(C, C, 3, stride=2, padding=1),
        "conv3_dilated": lambda: nn.Conv2d(C, C, 3, padding=2, dilation=2),
        "depthwise": lambda: nn.Conv2d(C, C, 3, padding=1, groups=C),
        "grouped": lambda: nn.Conv2d(C, C, 1, groups=2),
        "bn": lambda: nn.BatchNorm2d(C),
        "gn": lambda: nn.GroupNorm(2, C),
        "in": lambda: nn.InstanceNorm2d(C, affine=True),
        "relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "hardswish": nn.Hardswish,
        "sigmoid": nn.Sigmoid,
        "maxpool": lambda: nn.MaxPool2d(3, stride=1, padding=1),
        "avgpool": lambda: nn.AvgPool2d(3, stride=1, padding=1),
        "se": lambda: SqueezeExcite(C),
        "twice": lambda: Twice(nn.Conv2d(C, C, 3, padding=1), nn.ReLU()),
        "up_nearest": lambda: nn.Sequential(nn.Upsample(scale_factor=2), nn.MaxPool2d(2)),
        "up_bilinear": lambda: nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"),
                                             nn.AvgPool2d(2)),
        "ln_channels": lambda: nn.GroupNorm(1, C),
    }[kind]()


def token_layer(kind: str, dim: int) -> nn.Module:
    return {
        "attention": lambda: Attention(dim, 2, False),
        "causal": lambda: Attention(dim, 2, True),
        "mha": lambda: TorchAttention(dim, 2),
        "ln": lambda: nn.LayerNorm(dim),
        "mlp": lambda: nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim)),
        "rms": lambda: nn.RMSNorm(dim),
    }[kind]()


class Net(nn.Module):
    """An image stage, then the feature map as tokens through a token stage, then a head."""

    def __init__(self, image: list[str], tokens: list[str]):
        super().__init__()
        self.stem = nn.Conv2d(3, C, 3, padding=1)
        self.image = nn.Sequential(*(image_layer(k) for k in image))
        self.tokens = nn.Sequential(*(token_layer(k, C) for k in tokens))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(C, 5)

    def forward(self, x):
        x = self.image(self.stem(x))
        t = self.tokens(x.flatten(2).transpose(1, 2))  # N x HW x C
        x = t.transpose(1, 2).reshape(x.shape)
        return self.head(self.pool(x).flatten(1))


def assert_engines_agree(model: nn.Module, inputs) -> None:
    a = record_model(model, inputs, engine="meta")
    b = record_model(model, inputs, engine="fvcore")
    assert a.uncounted == {} and b.uncounted == {}, (a.uncounted, b.uncounted)
    assert [(c.path, c.index) for c in a.calls] == [(c.path, c.index) for c in b.calls]
    for x, y in zip(a.calls, b.calls):
        assert x.cost == y.cost, (x.path, x.index, x.cost, y.cost)
        assert (x.weights, x.biases) == (y.weights, y.biases), x.path
        assert [s.shape for s in x.outputs] == [s.shape for s in y.outputs], x.path
    assert a.params == b.params == sum(p.numel() for p in model.parameters())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(IMAGE_LAYERS, min_size=1, max_size=5), st.lists(TOKEN_LAYERS, max_size=3),
       st.sampled_from([6, 8]))
def test_engines_agree_on_random_networks(image, tokens, size):
    torch.manual_seed(0)
    assert_engines_agree(Net(image, tokens), (3, size, size))


@pytest.mark.parametrize("spec", ["my_model.py:build", "token_model.py:build",
                                  "two_inputs.py:build"])
def test_engines_agree_on_the_examples(spec):
    from archscope.models import load_target, resolve_inputs

    target = load_target(str(EXAMPLES / spec), device="cpu")
    assert_engines_agree(target.model, resolve_inputs(target).text())
