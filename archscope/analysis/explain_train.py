"""The training lesson of ``archscope explain``: why a step costs about 3 × a forward, where it
departs from 3 ×, and why activations rather than weights fill a training step's memory.

Every figure is counted live: the MACs of each design's training step by
:func:`~archscope.analysis.train.count.training_record` (the backward ops autograd dispatches,
on the meta device), its memory at batch :data:`BATCH` with Adam by
:func:`~archscope.analysis.memory.view.memory_report`. The blocks run on 56×56 (VGG-16's third
stage, ResNet-50's first); GoogLeNet, VGG-16 and ResNet-50 run whole, on 224×224.

Each design's ``setup`` is a :class:`Step`: inside a network (its input needs a gradient,
because layers before it train) or first, as a network's stem is (its first layer computes no
input gradient), and which parameters are frozen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .memory import binary

if TYPE_CHECKING:
    import pandas as pd
    from torch import nn

    from .explain import Design

MAP_SIZE = (56, 56)
BATCH = 32  # the memory columns' batch
OPTIMIZER = "adam"
TITLE = "A training step against a forward: two 3×3 convolutions 256→256 on 56×56"
SUMMARY = ("why a training step costs about 3× a forward and where it does not, on 56×56; why "
           "activations fill VGG-16's and ResNet-50's memory at batch 32")
NOTES = (
    "MACs for one image (the step's grow with the batch as the forward's do); "
    "step_x_forward: the step's MACs over the inference forward's (eval mode: no auxiliary "
    "heads); step_x_forward_flops: the same in FLOPs (2 × MACs + other FLOPs)",
    f"bytes at batch {BATCH}, fp32: state_bytes = parameters + their gradients + Adam's two "
    "moments (trainable parameters only); saved_bytes = the activations autograd saves for "
    "the backward (archscope memory)",
    "training counts use the meta engine (the only one that runs a backward); a block 'inside "
    "a network' is counted with its input needing a gradient",
)


@dataclass(frozen=True)
class Step:
    """How a design sits in its training step: ``input_grad``, inside a network (its input needs
    a gradient); ``freeze``, shell patterns of the parameters given none (as ``--freeze``)."""

    input_grad: bool = False
    freeze: tuple[str, ...] = ()


INSIDE, FIRST = Step(input_grad=True), Step()


def _pair():
    from .explain import _conv, _stack

    return _stack(_conv(256, 256, 3), _conv(256, 256, 3))


def designs() -> list[Design]:
    from .explain import Design, _zoo

    pair, block, size, image = _pair(), _zoo("bottleneck_block"), (256, *MAP_SIZE), (3, 224, 224)
    frozen = ("0",)  # the pair's first convolution
    return [
        Design("two 3×3 convs 256→256, inside a network", "inside a network", pair, size,
               setup=INSIDE),
        Design("the same, as a network's first layers", "first layers", pair, size, setup=FIRST),
        Design("the same inside a network, first conv frozen", "1st conv frozen", pair, size,
               setup=Step(input_grad=True, freeze=frozen)),
        Design("the same as first layers, first conv frozen", "1st frozen, first layers", pair,
               size, setup=Step(freeze=frozen)),
        Design("ResNet-50 bottleneck with batch norm, inside a network", "bottleneck + BN",
               block, size, setup=INSIDE),
        Design("GoogLeNet (auxiliary heads run in training)", "GoogLeNet", _zoo("googlenet"),
               image, compared=False, setup=FIRST),
        Design("VGG-16", "VGG-16", _zoo("vgg16"), image, compared=False, setup=FIRST),
        Design("ResNet-50", "ResNet-50", _zoo("resnet50"), image, compared=False, setup=FIRST),
    ]


def measure(module: nn.Module, design: Design) -> dict:
    """The training step of one design: its MACs for one image, its memory at :data:`BATCH`."""
    from .flops import flop_report
    from .memory.view import memory_report
    from .train.count import training_record

    step = design.setup or FIRST
    freeze = step.freeze
    rec = training_record(module, design.input_size, freeze=freeze, input_grad=step.input_grad)
    infer = flop_report(module, design.input_size).total
    memory = memory_report(module, design.input_size, batch_size=BATCH, optimizer=OPTIMIZER,
                           freeze=freeze).total
    forward, backward = rec.forward_cost, rec.backward_cost
    macs = forward.macs + backward.macs
    return {
        "step_params": int(rec.record.params),
        "forward_macs": forward.macs,
        "grad_input_macs": rec.grad_input_macs,
        "grad_weight_macs": rec.grad_weight_macs,
        "step_x_forward": round(macs / infer["macs"], 4),
        "step_x_forward_flops": round((forward.flops + backward.flops) / infer["flops"], 4),
        "state_bytes": int(memory["param_bytes"] + memory["grad_bytes"]
                           + memory["optimizer_bytes"]),
        "saved_bytes": int(memory["saved_activation_bytes"]),
    }


# ---------------------------------------------------------------------------------------------
# The figures the story reads beyond the table, each counted live.


def _batch_norm_flops(channels: int = 64) -> tuple[float, float, float]:
    """Batch norm's FLOPs per element: the inference forward (running statistics), the forward
    in train mode (the batch's statistics), and its backward (input, γ and β gradients)."""
    import torch
    from torch import nn

    from .flops import flop_report
    from .train.count import training_record

    size = (channels, *MAP_SIZE)
    n = channels * MAP_SIZE[0] * MAP_SIZE[1]
    with torch.device("meta"):
        bn = nn.BatchNorm2d(channels)
    infer = flop_report(bn, size).total["flops"]
    rec = training_record(bn, size, input_grad=True)
    return infer / n, rec.forward_cost.flops / n, rec.backward_cost.flops / n


@dataclass
class MemoryFigures:
    """One network's training memory at :data:`BATCH`: where its weights and saved activations
    sit (``early``: layers whose output map is at least ``side`` pixels wide), and the batch from
    which the saved activations outgrow the weights' state."""

    state: int
    saved: int
    per_image: int
    crossover: int
    side: int
    early_weights: float
    early_saved: float


def _memory(name: str, side: int) -> MemoryFigures:
    import math

    from .memory.view import memory_report

    full = memory_report(name, batch_size=BATCH, optimizer=OPTIMIZER)
    one = memory_report(name, batch_size=1, optimizer=OPTIMIZER).total["saved_activation_bytes"]
    t = full.total
    state = t["param_bytes"] + t["grad_bytes"] + t["optimizer_bytes"]
    saved = t["saved_activation_bytes"]
    # saved(N) = base + per_image · N: batch-norm statistics are per channel, the rest per image
    per_image = (saved - one) // (BATCH - 1)
    base = one - per_image
    crossover = math.floor((state - base) / per_image) + 1  # first batch with saved > state
    rows = full.frame()
    early = [_side(s) >= side for s in rows["output_shape"]]
    weights, kept = rows["param_bytes"], rows["saved_activation_bytes"]
    return MemoryFigures(int(state), int(saved), int(per_image), int(crossover), side,
                         float(weights[early].sum() / weights.sum()),
                         float(kept[early].sum() / kept.sum()))


def _side(shape: str) -> int:
    dims = str(shape).split("x")
    return int(dims[-1]) if len(dims) == 4 else 0


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %" if x >= 0.01 else f"{100 * x:.2f} %"


def story(df: pd.DataFrame) -> str:
    rows = {d: r for d, r in zip(df.design, df.to_dict(orient="records"))}
    pair = rows["two 3×3 convs 256→256, inside a network"]
    first = rows["the same, as a network's first layers"]
    frozen = rows["the same inside a network, first conv frozen"]
    frozen_first = rows["the same as first layers, first conv frozen"]
    block = rows["ResNet-50 bottleneck with batch norm, inside a network"]
    goog = rows["GoogLeNet (auxiliary heads run in training)"]
    bn_infer, bn_train, bn_back = _batch_norm_flops()
    aux_macs = goog["forward_macs"] - goog["macs"]
    v, r = _memory("vgg16", 112), _memory("resnet50", 56)
    return (
        "A convolution's backward is two convolutions as large as its forward: the gradient "
        "of its input (the output's gradient through the flipped kernel) and of its weights "
        "(the output's gradient correlated with its input). Two 3×3 convolutions 256→256 on a "
        f"56×56 map (VGG-16's third stage) cost {pair['macs']:,} MACs forward; inside a network, "
        f"where their input needs a gradient, the backward adds {pair['grad_input_macs']:,} "
        f"for inputs and {pair['grad_weight_macs']:,} for weights: the step is "
        f"{pair['step_x_forward']:.2f}× the forward. It departs from 3× where a gradient is not "
        f"needed. As a network's first layers the first convolution computes no input gradient "
        f"({first['step_x_forward']:.2f}×); a frozen convolution computes no weight gradient "
        f"but still passes the gradient on to the layers before it "
        f"({frozen['step_x_forward']:.2f}×), and a frozen first layer computes nothing in the "
        f"backward ({frozen_first['step_x_forward']:.2f}×). Batch norm has no MACs, but in "
        f"train mode its forward computes the batch's statistics ({bn_train:g} FLOPs per "
        f"element against {bn_infer:g} with running statistics) and its backward costs "
        f"{bn_back:g}: ResNet-50's bottleneck on the same map costs "
        f"{block['step_x_forward']:.2f}× its forward in MACs and "
        f"{block['step_x_forward_flops']:.2f}× in FLOPs. GoogLeNet's two auxiliary heads run "
        f"only in training: {goog['step_params'] - goog['params']:,} more parameters and "
        f"{aux_macs:,} more MACs per image ({_pct(aux_macs / goog['macs'])} of the forward); "
        f"with its stem's missing input gradient its step is {goog['step_x_forward']:.2f}× its "
        f"inference forward. In memory the weights are the smaller part: at batch {BATCH} "
        f"with Adam (fp32), VGG-16's parameters, their gradients and Adam's two moments take "
        f"{binary(v.state)}, whatever the batch, while the activations autograd saves for the "
        f"backward take {binary(v.saved)}, {binary(v.per_image)} per image: they outgrow the "
        f"weights from batch {v.crossover} on. ResNet-50's weights and their state take "
        f"{binary(r.state)}, {_pct(r.state / v.state)} of VGG-16's, yet it saves "
        f"{binary(r.saved)} "
        f"({r.saved / r.state:.1f}×; from batch {r.crossover} on). A layer keeps a map for the "
        "backward (its input, or its output) at every position and for every image, while a "
        "weight is stored once whatever the map's size: VGG-16's layers with outputs of "
        f"{v.side}×{v.side} or more hold {_pct(v.early_weights)} of its weights and save "
        f"{_pct(v.early_saved)} of its activations; ResNet-50's of {r.side}×{r.side} or more "
        f"{_pct(r.early_weights)} and {_pct(r.early_saved)}."
    )
