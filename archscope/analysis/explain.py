"""The seeds' design lessons, computed live from real modules.

Each topic builds the competing designs as real ``nn.Module``s, counts them with the counting
engine, and states the lesson with the figures it just computed — nothing here is a typed-in
result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd
import torch
from torch import nn

from ..errors import ArchscopeError, closest


@dataclass
class Explanation:
    """One lesson: a small table of designs and a paragraph that reads its figures."""

    topic: str
    title: str
    rows: pd.DataFrame
    text: str


@dataclass
class Design:
    name: str
    module: nn.Module
    input_size: tuple[int, ...]  # one sample, C×H×W


def _count(d: Design) -> dict:
    from .flops import flop_report

    rep = flop_report(d.module, d.input_size, engine="fvcore")
    t = rep.total
    return {
        "design": d.name,
        "input": "x".join(map(str, d.input_size)),
        "output": t["output_shape"].partition("x")[2],  # one sample: drop the batch of 1
        "weights": t["weights"],
        "biases": t["biases"],
        "params": t["params"],
        "macs": t["macs"],
    }


def _table(designs: list[Design]) -> pd.DataFrame:
    return pd.DataFrame([_count(d) for d in designs])


def _seq(*layers: nn.Module) -> nn.Sequential:
    return nn.Sequential(*layers)


def _pct(a: int, b: int) -> str:
    return f"{100 * (1 - a / b):.1f}%"


def _receptive_field(kernels: list[int]) -> int:
    # stride-1 stack: each k×k layer widens the field by k − 1
    return 1 + sum(k - 1 for k in kernels)


def bottleneck() -> Explanation:
    direct = Design("5×5 conv 480→48", nn.Conv2d(480, 48, 5, padding=2), (480, 14, 14))
    reduce = Design("1×1 conv 480→16", nn.Conv2d(480, 16, 1), (480, 14, 14))
    after = Design("then 5×5 conv 16→48", nn.Conv2d(16, 48, 5, padding=2), (16, 14, 14))
    both = Design("1×1 480→16 + 5×5 16→48", _seq(nn.Conv2d(480, 16, 1), nn.ReLU(),
                  nn.Conv2d(16, 48, 5, padding=2)), (480, 14, 14))
    df = _table([direct, reduce, after, both])
    a, b = int(df.macs[0]), int(df.macs[3])
    text = (
        f"A 5×5 convolution from 480 to 48 channels on a 14×14 map costs (14·14·48)·(5·5·480) = "
        f"{a:,} MACs. Reducing the depth to 16 with a 1×1 convolution first costs {int(df.macs[1]):,}"
        f" + {int(df.macs[2]):,} = {b:,} MACs ({a / 1e6:.1f}M vs {b / 1e6:.1f}M, {_pct(b, a)} "
        f"fewer) and {_pct(int(df.params[3]), int(df.params[0]))} fewer parameters, for the same "
        "output shape: this 1×1 'bottleneck' is what lets GoogLeNet afford its 5×5 branches."
    )
    return Explanation("bottleneck", "1×1 bottleneck before a 5×5 convolution", df, text)


def inception() -> Explanation:
    from ..zoo import build

    naive = Design("naive Inception (1×1 128 | 3×3 192 | 5×5 96 | pool)",
                   build("inception_naive"), (256, 32, 32))
    reduced = Design("with 1×1 reductions (128 | 64→192 | 64→96 | pool→64)",
                     build("inception_v1_block"), (256, 32, 32))
    df = _table([naive, reduced])
    df.insert(3, "out_channels", [int(s.split("x")[0]) for s in df.output])
    text = (
        f"On a 32×32×256 input the naive module needs {int(df.weights[0]):,} weights and its "
        f"output grows to {int(df.out_channels[0])} channels, because the pooling branch passes "
        f"all 256 input channels through. With 1×1 reductions before the 3×3 and 5×5 branches "
        f"and after the pool it needs {int(df.weights[1]):,} weights "
        f"({_pct(int(df.weights[1]), int(df.weights[0]))} fewer), {_pct(int(df.macs[1]), int(df.macs[0]))}"
        f" fewer MACs, and its output is {int(df.out_channels[1])} channels deep — so depth no longer "
        "explodes from one module to the next."
    )
    return Explanation("inception", "Naive vs 1×1-reduced Inception module", df, text)


def vgg() -> Explanation:
    one = Design("one 5×5 conv 256→256", nn.Conv2d(256, 256, 5, padding=2), (256, 56, 56))
    two = Design("two 3×3 convs 256→256", _seq(nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(),
                 nn.Conv2d(256, 256, 3, padding=1)), (256, 56, 56))
    df = _table([one, two])
    df["receptive_field"] = [_receptive_field([5]), _receptive_field([3, 3])]
    text = (
        f"Two stacked 3×3 convolutions see a {df.receptive_field[1]}×{df.receptive_field[1]} "
        f"window, the same as one 5×5, with {int(df.weights[1]):,} instead of "
        f"{int(df.weights[0]):,} weights ({_pct(int(df.weights[1]), int(df.weights[0]))} fewer) "
        f"and {_pct(int(df.macs[1]), int(df.macs[0]))} fewer MACs on a 56×56 map, plus an extra "
        "non-linearity between them: VGG's reason for building only from 3×3 convolutions."
    )
    return Explanation("vgg", "One 5×5 vs two stacked 3×3 convolutions", df, text)


def one_by_one() -> Explanation:
    direct = Design("3×3 conv 192→128", nn.Conv2d(192, 128, 3, padding=1), (192, 28, 28))
    reduced = Design("1×1 192→96, then 3×3 96→128", _seq(nn.Conv2d(192, 96, 1), nn.ReLU(),
                     nn.Conv2d(96, 128, 3, padding=1)), (192, 28, 28))
    gray = nn.Conv2d(3, 1, 1, bias=False)
    with torch.no_grad():  # ITU-R BT.601 luma: a 1×1 conv is a per-pixel channel mix
        gray.weight.copy_(torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1))
    rgb = Design("1×1 conv RGB→gray (0.299, 0.587, 0.114)", gray, (3, 224, 224))
    df = _table([direct, reduced, rgb])
    pixel = torch.tensor([200.0, 100.0, 50.0]).view(1, 3, 1, 1)
    luma = float(gray(pixel).item())
    text = (
        f"A 1×1 convolution mixes channels at each pixel without looking at its neighbours. "
        f"Placed before a 3×3 convolution from 192 to 128 channels, a 1×1 reduction to 96 cuts "
        f"the weights from {int(df.weights[0]):,} to {int(df.weights[1]):,} and the MACs by "
        f"{_pct(int(df.macs[1]), int(df.macs[0]))}. With three weights it turns RGB into gray: "
        f"the pixel (200, 100, 50) becomes 0.299·200 + 0.587·100 + 0.114·50 = {luma:.1f}."
    )
    return Explanation("1x1", "1×1 convolutions: channel mixing and bottlenecks", df, text)


def gap() -> Explanation:
    head = Design("GoogLeNet: global avg pool + FC 1024→1000",
                  _seq(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000)), (1024, 7, 7))
    flat = Design("flatten + FC 50,176→1000", _seq(nn.Flatten(), nn.Linear(1024 * 49, 1000)),
                  (1024, 7, 7))
    alex = Design("AlexNet-style: flatten + FC 4096, 4096, 1000",
                  _seq(nn.Flatten(), nn.Linear(1024 * 49, 4096), nn.ReLU(), nn.Dropout(0.5),
                       nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000)),
                  (1024, 7, 7))
    df = _table([head, flat, alex])
    text = (
        f"On GoogLeNet's final 1024×7×7 map, averaging each channel to one number before the "
        f"classifier leaves {int(df.params[0]):,} parameters in the head; flattening into one FC "
        f"layer would need {int(df.params[1]):,}, and an AlexNet-style three-layer head "
        f"{int(df.params[2]):,} ({int(df.params[2]) / int(df.params[0]):.0f}× as many). Global "
        "average pooling removes most of a classic CNN's parameters and works at any input size."
    )
    return Explanation("gap", "Global average pooling vs an FC head", df, text)


def residual() -> Explanation:
    from ..zoo import build

    basic64 = Design("basic block, ResNet-34 (3×3 64, 3×3 64)",
                     build("basic_block", in_channels=64, planes=64), (64, 56, 56))
    neck = Design("bottleneck block, ResNet-50 (1×1 64, 3×3 64, 1×1 256)",
                  build("bottleneck_block"), (256, 56, 56))
    basic256 = Design("basic block at 256 (3×3 256, 3×3 256)", build("basic_block"),
                      (256, 56, 56))
    df = _table([basic64, neck, basic256])
    p, m = [int(v) for v in df.params], [int(v) for v in df.macs]
    text = (
        f"He et al.'s Fig. 5, on a 56×56 map: a ResNet-34 basic block (two 3×3 convolutions at "
        f"64 channels) holds {p[0]:,} parameters and costs {m[0]:,} MACs; a ResNet-50 bottleneck "
        f"(1×1 down to 64, 3×3, 1×1 back up to 256) holds {p[1]:,} and costs {m[1]:,} — about "
        f"the same — while carrying a 256-channel signal, four times wider. A basic block at "
        f"256 channels would cost {m[2]:,} MACs, {m[2] / m[1]:.0f}× the bottleneck: the 1×1 "
        "convolutions are what let ResNet-50/101/152 go deeper and wider than ResNet-34 for a "
        "similar cost per block. Batch-norm γ and β are in the parameters; MACs count the "
        "convolutions."
    )
    return Explanation("residual", "Basic vs bottleneck residual block (He et al. 2016, Fig. 5)",
                       df, text)


TOPICS: dict[str, tuple[str, Callable[[], Explanation]]] = {
    "bottleneck": ("5×5 conv 480→48 vs a 1×1 reduction to 16 first (GoogLeNet 4a)", bottleneck),
    "inception": ("naive vs 1×1-reduced Inception module on 256×32×32", inception),
    "vgg": ("one 5×5 vs two stacked 3×3 convolutions at 256 channels", vgg),
    "1x1": ("1×1 convolutions: a bottleneck before 3×3, and RGB→gray mixing", one_by_one),
    "gap": ("global average pooling head vs an FC head on 1024×7×7", gap),
    "residual": ("basic (64) vs bottleneck (256) residual block, as in the paper's Fig. 5",
                 residual),
}


def explain(topic: str) -> Explanation:
    """Compute one lesson; an unknown topic raises with the closest names."""
    try:
        _, fn = TOPICS[topic.lower()]
    except KeyError:
        hint = closest(topic, TOPICS)
        more = f"did you mean {', '.join(hint)}?" if hint else f"topics: {', '.join(TOPICS)}"
        raise ArchscopeError(f"unknown topic {topic!r}; {more}") from None
    return fn()


def topics_table() -> pd.DataFrame:
    return pd.DataFrame(
        [{"topic": name, "lesson": title} for name, (title, _) in TOPICS.items()]
    )
