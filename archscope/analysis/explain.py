"""The design lessons of the classic CNNs: one registry, read by ``archscope explain`` and the report.

Each lesson builds its competing designs as real ``nn.Module``s (on the meta device, so no
weights are allocated), counts them with :func:`~archscope.analysis.flops.flop_report`, the same
engine as every other figure, and states the lesson with the figures it just computed; nothing
here is a typed-in result. Every lesson runs on one feature-map size, which its text states
(``map_size``, height × width). Biases are counted apart: ``weights`` and ``macs`` exclude them
(a batch-norm β is a bias, its γ a weight, as everywhere in archscope), ``biases`` lists them and
``params`` = weights + biases; each lesson's notes say how many biases its designs hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ArchscopeError, closest
from . import explain_rf as rf_lesson
from . import explain_train as train_lesson
from .engines import DEFAULT_ENGINE

if TYPE_CHECKING:
    import pandas as pd
    from torch import nn

COLUMNS = ["design", "input", "output", "weights", "biases", "params", "macs"]
BIASES_NOTE = "weights and MACs exclude biases; params = weights + biases"


@dataclass(frozen=True)
class Design:
    """One way to do a lesson's job, or one part of a way (``compared=False``: not charted)."""

    name: str  # the row of `archscope explain`
    label: str  # the report's bar (short)
    build: Callable[[], nn.Module]
    input_size: tuple[int, int, int]  # one sample, C×H×W
    compared: bool = True
    setup: Any = None  # what the lesson's measure reads beside the module (a training step's)


@dataclass(frozen=True)
class Lesson:
    """A registry entry: the designs to count and the paragraph that reads their figures."""

    topic: str
    title: str
    summary: str  # the line in `archscope explain` without a topic
    map_size: tuple[int, int]  # H×W of the compared designs' input
    designs: Callable[[], list[Design]]
    story: Callable[[pd.DataFrame], str]
    # columns measured on each built design beside the counts (the receptive field, the
    # training step)
    measure: Callable[[nn.Module, Design], dict] | None = None
    notes: tuple[str, ...] = ()  # what the measured columns count, after the common notes
    # the report shows a lesson with its subject: "training" lessons only in `report --train`
    # (the training lesson counts whole networks' steps and memory: about a second)
    report_with: str | None = None


@dataclass
class Explanation:
    """One lesson, counted: every design's row, the compared ones, and the text that reads them.

    ``rows`` has :data:`COLUMNS` plus any the lesson adds; ``compared`` is the subset of rows the
    lesson compares (the report's bars), with the chart ``label`` in front and the measured
    columns after the counts; ``notes`` state the map size and the bias convention, then what
    the lesson's own columns count.
    """

    topic: str
    title: str
    rows: pd.DataFrame
    compared: pd.DataFrame
    text: str
    notes: list[str]
    map_size: tuple[int, int]


def _count(d: Design, engine: str, measure: Callable | None = None) -> dict:
    import torch

    from .flops import flop_report

    from ..building import MetaBuild

    with torch.device("meta"), MetaBuild(small=0):  # shapes only: no weight initialisation
        module = d.build()
    t = flop_report(module, d.input_size, engine=engine).total
    row = {
        "design": d.name,
        "input": "x".join(map(str, d.input_size)),
        "output": t["output_shape"].partition("x")[2],  # one sample: drop the batch of 1
        "weights": int(t["weights"]),
        "biases": int(t["biases"]),
        "params": int(t["params"]),
        "macs": int(t["macs"]),
    }
    return {**row, **measure(module, d)} if measure is not None else row


def _pct(a: int, b: int) -> str:
    """How much smaller ``a`` is than ``b``, as ``95.3%``."""
    return f"{100 * (1 - a / b):.1f}%"


def _receptive_field(kernels: list[int]) -> int:
    # stride-1 stack: each k×k layer widens the field by k − 1
    return 1 + sum(k - 1 for k in kernels)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


# ---------------------------------------------------------------------------------------------
# The designs. Convolutions carry a bias where the paper's network has one (GoogLeNet, VGG);
# ResNet's have none, its batch norms carry γ and β.


def _conv(c_in: int, c_out: int, k: int, bias: bool = True) -> Callable[[], nn.Module]:
    def make():
        from torch import nn

        return nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias)

    return make


def _stack(*parts: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    """The parts in sequence with a ReLU between each two."""

    def make():
        from torch import nn

        layers: list = []
        for part in parts:
            layers += [nn.ReLU()] if layers else []
            layers.append(part())
        return nn.Sequential(*layers)

    return make


def _zoo(name: str, **kwargs) -> Callable[[], nn.Module]:
    def make():
        from ..zoo import build

        return build(name, **kwargs)

    return make


LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601: gray = 0.299 R + 0.587 G + 0.114 B


def _gray():
    import torch
    from torch import nn

    gray = nn.Conv2d(3, 1, 1, bias=False)
    with torch.no_grad():  # a 1×1 convolution is a per-pixel channel mix
        gray.weight.copy_(torch.tensor(LUMA).view(1, 3, 1, 1))
    return gray


def _head(*widths: int) -> Callable[[], nn.Module]:
    """Flatten, then linear layers through ``widths`` (ReLU and dropout between them)."""

    def make():
        from torch import nn

        layers: list = [nn.Flatten()]
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            layers += [nn.ReLU(), nn.Dropout(0.5)] if i else []
            layers.append(nn.Linear(a, b))
        return nn.Sequential(*layers)

    return make


def _gap_head():
    from torch import nn

    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000))


# ---------------------------------------------------------------------------------------------
# The stories: each reads the counted rows, in the order the designs were given.


def _bottleneck_designs() -> list[Design]:
    return [
        Design("5×5 conv 480→48", "5×5 direct", _conv(480, 48, 5), (480, 14, 14)),
        Design("1×1 conv 480→16", "1×1", _conv(480, 16, 1), (480, 14, 14), compared=False),
        Design("then 5×5 conv 16→48", "5×5", _conv(16, 48, 5), (16, 14, 14), compared=False),
        Design("1×1 480→16 + 5×5 16→48", "1×1 to 16, then 5×5",
               _stack(_conv(480, 16, 1), _conv(16, 48, 5)), (480, 14, 14)),
    ]


def _bottleneck_story(df: pd.DataFrame) -> str:
    a, b = int(df.macs[0]), int(df.macs[3])
    return (
        f"A 5×5 convolution from 480 to 48 channels on a 14×14 map (GoogLeNet's Inception 4a, "
        f"5×5 branch) costs (14·14·48)·(5·5·480) = {a:,} MACs. Reducing the depth to 16 with a "
        f"1×1 convolution first costs {int(df.macs[1]):,} + {int(df.macs[2]):,} = {b:,} MACs "
        f"({a / 1e6:.1f}M vs {b / 1e6:.1f}M, {_pct(b, a)} fewer) and "
        f"{_pct(int(df.weights[3]), int(df.weights[0]))} fewer weights, for the same output "
        "shape: this 1×1 'bottleneck' is what lets GoogLeNet afford its 5×5 branches."
    )


def _inception_designs() -> list[Design]:
    return [
        Design("naive Inception (1×1 128 | 3×3 192 | 5×5 96 | pool)", "naive (Fig. 2a)",
               _zoo("inception_naive"), (256, 32, 32)),
        Design("with 1×1 reductions (128 | 64→192 | 64→96 | pool→64)",
               "1×1 reductions (Fig. 2b)", _zoo("inception_v1_block"), (256, 32, 32)),
    ]


def _inception_story(df: pd.DataFrame) -> str:
    df.insert(3, "out_channels", [int(s.split("x")[0]) for s in df.output])
    w, m = [int(v) for v in df.weights], [int(v) for v in df.macs]
    return (
        f"On a 32×32 map with 256 channels (Szegedy et al. 2015, Fig. 2) the naive module needs "
        f"{w[0]:,} weights and its output grows to {int(df.out_channels[0])} channels, because "
        f"the pooling branch passes all 256 input channels through. With 1×1 reductions before "
        f"the 3×3 and 5×5 branches and after the pool it needs {w[1]:,} weights "
        f"({_pct(w[1], w[0])} fewer) and {_pct(m[1], m[0])} fewer MACs ({m[0]:,} vs {m[1]:,}), "
        f"and its output is {int(df.out_channels[1])} channels deep, so depth no longer "
        "explodes from one module to the next."
    )


def _vgg_designs() -> list[Design]:
    return [
        Design("one 5×5 conv 256→256", "one 5×5", _conv(256, 256, 5), (256, 56, 56)),
        Design("two 3×3 convs 256→256", "two 3×3",
               _stack(_conv(256, 256, 3), _conv(256, 256, 3)), (256, 56, 56)),
    ]


def _vgg_story(df: pd.DataFrame) -> str:
    df["receptive_field"] = [_receptive_field([5]), _receptive_field([3, 3])]
    w, m = [int(v) for v in df.weights], [int(v) for v in df.macs]
    side = int(df.receptive_field[1])
    return (
        f"Two stacked 3×3 convolutions see a {side}×{side} window, the same as one 5×5, with "
        f"{w[1]:,} instead of {w[0]:,} weights ({_pct(w[1], w[0])} fewer) and, on a 56×56 map "
        f"with 256 channels (VGG-16's third stage), {m[1]:,} instead of {m[0]:,} MACs "
        f"({_pct(m[1], m[0])} fewer), plus an extra non-linearity between them: VGG's reason "
        "for building only from 3×3 convolutions (Simonyan and Zisserman 2015, Sec. 2.3)."
    )


def _one_by_one_designs() -> list[Design]:
    return [
        Design("3×3 conv 192→128", "3×3 direct", _conv(192, 128, 3), (192, 28, 28)),
        Design("1×1 192→96, then 3×3 96→128", "1×1 to 96, then 3×3",
               _stack(_conv(192, 96, 1), _conv(96, 128, 3)), (192, 28, 28)),
        Design("1×1 conv RGB→gray (0.299, 0.587, 0.114)", "RGB→gray", _gray, (3, 224, 224),
               compared=False),
    ]


def _one_by_one_story(df: pd.DataFrame) -> str:
    import torch

    w, m = [int(v) for v in df.weights], [int(v) for v in df.macs]
    with torch.no_grad():
        luma = float(_gray()(torch.tensor([200.0, 100.0, 50.0]).view(1, 3, 1, 1)).item())
    return (
        f"A 1×1 convolution mixes channels at each pixel without looking at its neighbours. On "
        f"a 28×28 map (GoogLeNet's Inception 3a, 3×3 branch), a 1×1 reduction from 192 to 96 "
        f"channels before a 3×3 convolution to 128 cuts the weights from {w[0]:,} to {w[1]:,} "
        f"and the MACs from {m[0]:,} to {m[1]:,} ({_pct(m[1], m[0])} fewer). With three "
        f"weights it turns RGB into gray: the pixel (200, 100, 50) becomes 0.299·200 + "
        f"0.587·100 + 0.114·50 = {luma:.1f}, at 3 MACs a pixel ({m[2]:,} on a 224×224 image)."
    )


def _gap_designs() -> list[Design]:
    return [
        Design("GoogLeNet: global avg pool + FC 1024→1000", "avg pool + FC", _gap_head,
               (1024, 7, 7)),
        Design("flatten + FC 50,176→1000", "flatten + FC", _head(1024 * 49, 1000),
               (1024, 7, 7)),
        Design("AlexNet-style: flatten + FC 4096, 4096, 1000", "flatten + 3 FC (AlexNet)",
               _head(1024 * 49, 4096, 4096, 1000), (1024, 7, 7)),
    ]


def _gap_story(df: pd.DataFrame) -> str:
    w = [int(v) for v in df.weights]
    return (
        f"On GoogLeNet's final 7×7 map with 1024 channels, averaging each channel to one number "
        f"before the classifier leaves {w[0]:,} weights in the head; flattening into one FC layer "
        f"would need {w[1]:,}, and an AlexNet-style three-layer head {w[2]:,} ({w[2] / w[0]:.0f}× "
        "as many). Global average pooling removes most of a classic CNN's parameters and works "
        "at any input size."
    )


def _residual_designs() -> list[Design]:
    return [
        Design("basic block, ResNet-34 (3×3 64, 3×3 64)", "basic, 64",
               _zoo("basic_block", in_channels=64, planes=64), (64, 56, 56)),
        Design("bottleneck block, ResNet-50 (1×1 64, 3×3 64, 1×1 256)", "bottleneck, 256",
               _zoo("bottleneck_block"), (256, 56, 56)),
        Design("basic block at 256 (3×3 256, 3×3 256)", "basic, 256", _zoo("basic_block"),
               (256, 56, 56)),
    ]


def _residual_story(df: pd.DataFrame) -> str:
    w, m = [int(v) for v in df.weights], [int(v) for v in df.macs]
    return (
        f"He et al.'s Fig. 5, on a 56×56 map: a ResNet-34 basic block (two 3×3 convolutions at "
        f"64 channels) holds {w[0]:,} weights and costs {m[0]:,} MACs; a ResNet-50 bottleneck "
        f"(1×1 down to 64, 3×3, 1×1 back up to 256) holds {w[1]:,} and costs {m[1]:,}, about "
        f"the same, while carrying a 256-channel signal, four times wider. A basic block at "
        f"256 channels would cost {m[2]:,} MACs, {m[2] / m[1]:.0f}× the bottleneck: the 1×1 "
        "convolutions are what let ResNet-50/101/152 go deeper and wider than ResNet-34 for a "
        "similar cost per block. The weights include batch norm's γ; MACs count the "
        "convolutions."
    )


LESSONS: dict[str, Lesson] = {
    lesson.topic: lesson
    for lesson in [
        Lesson("bottleneck", "1×1 bottleneck before a 5×5 convolution: 480→48 channels on 14×14",
               "5×5 conv 480→48 vs a 1×1 reduction to 16 first, on 14×14 (GoogLeNet 4a)",
               (14, 14), _bottleneck_designs, _bottleneck_story),
        Lesson("inception", "Naive vs 1×1-reduced Inception module: 256 channels on 32×32",
               "naive vs 1×1-reduced Inception module, 256 channels on 32×32",
               (32, 32), _inception_designs, _inception_story),
        Lesson("vgg", "One 5×5 vs two stacked 3×3 convolutions: 256 channels on 56×56",
               "one 5×5 vs two stacked 3×3 convolutions, 256 channels on 56×56",
               (56, 56), _vgg_designs, _vgg_story),
        Lesson("1x1", "1×1 reduction before a 3×3 convolution: 192→128 channels on 28×28",
               "a 1×1 reduction before 3×3 192→128 on 28×28 (GoogLeNet 3a), and RGB→gray",
               (28, 28), _one_by_one_designs, _one_by_one_story),
        Lesson("gap", "Global average pooling vs FC heads: 1024 channels on 7×7",
               "global average pooling head vs FC heads on GoogLeNet's 1024×7×7 map",
               (7, 7), _gap_designs, _gap_story),
        Lesson("residual", "Basic vs bottleneck residual block (He et al. 2016, Fig. 5) on 56×56",
               "basic (64) vs bottleneck (256) residual block on 56×56, the paper's Fig. 5",
               (56, 56), _residual_designs, _residual_story),
        Lesson("receptive-field", rf_lesson.TITLE, rf_lesson.SUMMARY, rf_lesson.MAP_SIZE,
               rf_lesson.designs, rf_lesson.story, rf_lesson.measure),
        Lesson("training", train_lesson.TITLE, train_lesson.SUMMARY, train_lesson.MAP_SIZE,
               train_lesson.designs, train_lesson.story, train_lesson.measure,
               train_lesson.NOTES, report_with="training"),
    ]
}


def _bias_note(compared: pd.DataFrame) -> str:
    counts = _and([f"{int(b):,}" for b in compared["biases"]])
    if len(compared) == 1:
        return f"{BIASES_NOTE} (the design holds {counts} biases)"
    return f"{BIASES_NOTE} (the designs compared hold {counts} biases)"


def lesson(topic: str) -> Lesson:
    """The registry entry for ``topic``; an unknown topic raises with the closest names."""
    try:
        return LESSONS[topic.lower()]
    except KeyError:
        hint = closest(topic, LESSONS)
        more = f"did you mean {', '.join(hint)}?" if hint else f"topics: {', '.join(LESSONS)}"
        raise ArchscopeError(f"unknown topic {topic!r}; {more}") from None


def explain(topic: str, engine: str = DEFAULT_ENGINE) -> Explanation:
    """Count one lesson's designs with ``engine`` and read the figures (see module docstring)."""
    import pandas as pd

    entry = lesson(topic)
    designs = entry.designs()
    counted = [_count(d, engine, entry.measure) for d in designs]
    extra = [k for k in counted[0] if k not in COLUMNS]
    rows = pd.DataFrame(counted, columns=COLUMNS + extra)
    text = entry.story(rows)  # may add columns (out_channels, receptive_field)
    keep = [d.compared for d in designs]
    compared = rows.loc[keep, ["input", "weights", "biases", "params", "macs", *extra]]
    compared = compared.reset_index(drop=True)
    compared.insert(0, "label", [d.label for d in designs if d.compared])
    h, w = entry.map_size
    notes = [f"feature map {h}×{w} (height × width of the compared designs' input)",
             _bias_note(compared), *entry.notes]
    return Explanation(entry.topic, entry.title, rows, compared, text, notes, entry.map_size)


def topics_table() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([{"topic": t, "lesson": entry.summary} for t, entry in LESSONS.items()])
