"""The computed receptive fields against empirical ones: the nonzero input gradient of one
output position (:mod:`rf_probe`), on real networks built with real tensors.

The computed window of unit i, lo + i·jump … hi + i·jump, clipped to the image, must be exactly
the span of pixels whose gradient is nonzero, per axis, for a unit at the corner, one in the
middle and the last one, at several depths. The networks are dense (no gaps between the pixels
a unit reads), so the span starts and ends where the window does.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from archscope.analysis.receptive import call_field, record_receptive

from rf_probe import constant_weights, probe

pytestmark = pytest.mark.slow


def computed(record, path: str, unit: tuple[int, ...]) -> list[tuple[int, int]]:
    f = call_field(record.by_path[path][0])
    return [(max(0, lo + i * (j or 0)), min(size - 1, hi + i * (j or 0)))
            for lo, hi, j, i, size in zip(f.lo, f.hi, f.jump, unit, record.geometry.spatial)]


def check(model: nn.Module, meta_model, sample, probes) -> None:
    """``probes``: (module path, 'first' | 'middle' | 'last' | index tuple)."""
    record = record_receptive(meta_model, sample)
    units = []
    for path, where in probes:
        shape = record.by_path[path][0].outputs[0].shape[2:]
        unit = {"first": tuple(0 for _ in shape), "middle": tuple(n // 2 for n in shape),
                "last": tuple(n - 1 for n in shape)}.get(where, where)
        units.append((path, unit))
    torch.manual_seed(0)
    seen = probe(constant_weights(model), tuple(record.inputs[0].shape[1:]), units)
    for (path, unit), got in zip(units, seen):
        assert got == computed(record, path, unit), (path, unit)


def zoo(name: str, **kwargs):
    from archscope.zoo import build

    return build(name, **kwargs), name


def test_vgg16_pool3_and_pool5_centres_are_44_and_212_wide():
    # pool5's middle unit (3 of 7) sees 15.5 + 3·32 ± 105.5 = 6 … 217: the whole 212, unclipped
    model, name = zoo("vgg16")
    check(model, name, None, [("features.16", "middle"), ("features.30", "middle"),
                              ("features.30", "first")])


def test_resnet50_stages():
    model, name = zoo("resnet50")
    check(model, name, None, [("maxpool", "first"), ("layer2", "middle"),
                              ("layer3", "middle"), ("layer4", "last")])


def test_resnet50_layer4_unclipped_at_448():
    # layer4's rf 427 fits a 448 input: the middle unit (7 of 14) sees 7·32 ± 213 = 11 … 437
    model, name = zoo("resnet50")
    check(model, name, (3, 448, 448), [("layer4", "middle")])


def test_googlenet_inception_blocks_see_the_union_of_their_branches():
    model, name = zoo("googlenet")
    check(model, name, None, [("maxpool2", "middle"), ("inception3a", "first"),
                              ("inception3b", "middle"), ("inception4a", "middle"),
                              ("inception4e", "last"), ("inception5b", "last")])


def test_inception_v3_factorised_and_grid_reduction_blocks():
    model, name = zoo("inception_v3")
    check(model, name, None, [("Mixed_5b", "middle"), ("Mixed_6a", "first"),
                              ("Mixed_6b", "middle"), ("Mixed_7a", "last")])


def test_dilated_stack_and_a_single_dilated_kernel():
    # 3×3 at dilations 1, 2, 4: rf 15, no gaps; a lone dilation-2 kernel's extent is 5 (gaps
    # inside, so its unit is taken in the middle, away from the border)
    def stack():
        return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(2, 2, 3, padding=2, dilation=2), nn.ReLU(),
                             nn.Conv2d(2, 2, 3, padding=4, dilation=4))

    check(stack(), stack(), (1, 32, 32), [("4", "first"), ("4", "middle"), ("4", (3, 30)),
                                          ("2", "middle")])

    def lone():
        return nn.Sequential(nn.Conv2d(1, 1, 3, padding=2, dilation=2))

    check(lone(), lone(), (1, 16, 16), [("0", "middle")])


def test_torchvision_googlenet_and_inception_v3():
    tv = pytest.importorskip("torchvision")
    for build, size, probes in (
        (tv.models.googlenet, None, [("inception4a", "middle"), ("inception5b", "last")]),
        (tv.models.inception_v3, None, [("Mixed_6a", "middle"), ("Mixed_7c", "last")]),
    ):
        model = build(weights=None, aux_logits=False, init_weights=False)
        check(model, build(weights=None, aux_logits=False, init_weights=False),
              (3, 299, 299) if build is tv.models.inception_v3 else (3, 224, 224), probes)
