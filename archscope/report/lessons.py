"""The design lessons of the seed posts, counted on real modules (never typed-in figures).

Each lesson is two ways to do the same job; :func:`lesson_frames` counts both with the same
engine as the rest of the report and returns one small frame per lesson (variant, params, MACs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    caption: str
    input_size: tuple[int, int, int]
    variants: tuple[tuple[str, Callable], ...]


def _bottleneck_direct():
    from torch import nn

    # Seed 000: a 3x3 convolution 192 -> 128 channels; weights only, as the post counts them.
    return nn.Conv2d(192, 128, 3, padding=1, bias=False)


def _bottleneck_reduced():
    from torch import nn

    # The same job with a 1x1 reduction to 96 channels first (seed 000).
    return nn.Sequential(nn.Conv2d(192, 96, 1, bias=False),
                         nn.Conv2d(96, 128, 3, padding=1, bias=False))


def _conv5x5():
    from torch import nn

    # Seed 001 (VGG): one 5x5 convolution, 256 -> 256 channels, no bias.
    return nn.Conv2d(256, 256, 5, padding=2, bias=False)


def _two_conv3x3():
    from torch import nn

    # Two stacked 3x3 convolutions see the same 5x5 window.
    return nn.Sequential(nn.Conv2d(256, 256, 3, padding=1, bias=False),
                         nn.Conv2d(256, 256, 3, padding=1, bias=False))


def _zoo(name: str) -> Callable:
    def make():
        import torch

        from ..zoo import build

        with torch.device("meta"):
            return build(name)

    return make


LESSONS = (
    Lesson("bottleneck", "1×1 bottleneck: 3×3 conv 192→128 on 28×28",
           "A 1×1 convolution that first squeezes 192 channels to 96 makes the 3×3 convolution "
           "behind it cheaper in both parameters and MACs.",
           (192, 28, 28),
           (("3×3 direct", _bottleneck_direct), ("1×1 to 96, then 3×3", _bottleneck_reduced))),
    Lesson("inception", "Naive vs reduced Inception module on 32×32×256",
           "The naive module runs 3×3 and 5×5 convolutions on all 256 input channels; the "
           "GoogLeNet module puts 1×1 reductions in front of them (and behind the pool).",
           (256, 32, 32),
           (("naive (Fig. 2a)", _zoo("inception_naive")),
            ("1×1 reductions (Fig. 2b)", _zoo("inception_v1_block")))),
    Lesson("receptive", "One 5×5 vs two stacked 3×3 convolutions, 256 channels on 28×28",
           "Two 3×3 layers cover the same 5×5 window as one 5×5 layer with 18/25 of its "
           "weights and MACs, plus an extra non-linearity when each is followed by a ReLU.",
           (256, 28, 28),
           (("one 5×5", _conv5x5), ("two 3×3", _two_conv3x3))),
)


def lesson_frames(engine: str = "meta") -> list[tuple[Lesson, pd.DataFrame]]:
    """Each lesson with its counted variants: columns variant, params, macs (exact ints)."""
    import pandas as pd

    from ..analysis.flops import flop_report

    out = []
    for lesson in LESSONS:
        records = []
        for label, make in lesson.variants:
            table = flop_report(make(), lesson.input_size, engine=engine)
            records.append({"variant": label, "params": int(table.total["params"]),
                            "macs": int(table.total["macs"])})
        out.append((lesson, pd.DataFrame.from_records(records)))
    return out
