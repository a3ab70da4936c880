"""The receptive-field lesson of ``archscope explain``: VGG's argument made geometric.

Stacked 3×3 convolutions against one large kernel that sees as far (two against a 5×5, three
against a 7×7), at 256 channels on 56×56 (VGG-16's third stage), then GoogLeNet's receptive
field stage by stage against its 224×224 input. Every receptive field is traced live from the
built modules (:mod:`.receptive`), every weight and MAC counted as in every other lesson.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from torch import nn

    from .explain import Design

MAP_SIZE = (56, 56)
TITLE = "Receptive fields: stacked 3×3 vs one 5×5 or 7×7 convolution on 56×56"
SUMMARY = ("what stacked 3×3 convolutions see against one 5×5 or 7×7 on 56×56, and GoogLeNet's "
           "receptive field stage by stage")
# GoogLeNet's stages shown (its modules run in this order up to each one)
STAGES = ("conv1", "maxpool2", "inception3b", "inception4e", "maxpool4", "inception5b")


def _googlenet_to(stage: str):
    def make():
        from collections import OrderedDict

        from torch import nn

        from ..zoo import build

        net = build("googlenet", aux_logits=False)
        parts = OrderedDict()
        for name, child in net.named_children():
            if name in ("avgpool", "dropout", "fc"):
                break
            parts[name] = child
            if name == stage:
                break
        return nn.Sequential(parts)

    return make


def designs():
    from .explain import Design, _conv, _stack

    c, (h, w) = 256, MAP_SIZE
    out = [
        Design("one 5×5 conv 256→256", "one 5×5", _conv(c, c, 5), (c, h, w)),
        Design("two 3×3 convs 256→256", "two 3×3", _stack(_conv(c, c, 3), _conv(c, c, 3)),
               (c, h, w)),
        Design("one 7×7 conv 256→256", "one 7×7", _conv(c, c, 7), (c, h, w)),
        Design("three 3×3 convs 256→256", "three 3×3",
               _stack(_conv(c, c, 3), _conv(c, c, 3), _conv(c, c, 3)), (c, h, w)),
    ]
    out += [Design(f"GoogLeNet up to {s}", s, _googlenet_to(s), (3, 224, 224), compared=False)
            for s in STAGES]
    return out


def measure(module: nn.Module, design: Design) -> dict:
    """The traced receptive field of the design's output: ``rf``, ``jump``, ``whole_input``."""
    from .receptive import call_field, field_columns, record_receptive

    record = record_receptive(module, design.input_size)
    f = call_field(record.root)
    cols = field_columns(f)
    return {"rf": cols["rf"], "jump": cols["jump"],
            "whole_input": bool(f is not None and f.covers(record.geometry.spatial))}


def _googlenet_borders() -> tuple[str | None, str | None]:
    """GoogLeNet's first top-level module whose window is larger than its 224×224 input, and
    the first where every unit sees the whole input (traced live)."""
    from .receptive import border_layers, record_receptive, top_level_fields

    record = record_receptive("googlenet")
    return border_layers(record, top_level_fields(record))


def _pct(a: int, b: int) -> str:
    return f"{100 * (1 - a / b):.1f}%"


def story(df: pd.DataFrame) -> str:
    w, m, rf = [int(v) for v in df.weights], [int(v) for v in df.macs], list(df.rf)
    stages = {d.removeprefix("GoogLeNet up to "): (r, whole)
              for d, r, whole in zip(df.design[4:], rf[4:], df.whole_input[4:])}
    growth = ", ".join(f"{s} {r}" for s, (r, _) in stages.items())
    wider, whole = _googlenet_borders()
    return (
        f"Two stacked 3×3 convolutions see a {rf[1]}×{rf[1]} window, as one 5×5 does "
        f"({rf[0]}×{rf[0]}), with {w[1]:,} instead of {w[0]:,} weights ({_pct(w[1], w[0])} "
        f"fewer); three see {rf[3]}×{rf[3]}, as one 7×7 does ({rf[2]}×{rf[2]}), with {w[3]:,} "
        f"instead of {w[2]:,} ({_pct(w[3], w[2])} fewer). On a 56×56 map with 256 channels "
        f"that is {m[1]:,} against {m[0]:,} MACs and {m[3]:,} against {m[2]:,}, with a ReLU "
        "between each pair: each 3×3 adds 2 pixels (times the stride so far) to what a unit "
        f"sees. GoogLeNet's receptive field on its 224×224 input grows to {growth}: larger than "
        f"the image from {wider} on (units see zero padding past the border), and from {whole} "
        "on every unit sees the whole image."
    )
