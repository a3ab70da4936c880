"""Building blocks registered alone (``kind="block"``), so archscope can take one module apart.

The naive Inception module lives here; the others are the classes of their family modules.
Defaults are the usual worked examples: a 32x32x256 input to a naive and to a
reduced Inception module, and a 56x56x256 map (ResNet's layer1 resolution) for the residual blocks.
"""

from __future__ import annotations

import torch
from torch import nn

from .googlenet import BasicConv2d, Inception
from .registry import register_model
from .resnet import BasicBlock, Bottleneck, conv1x1

__all__ = ["InceptionNaive", "inception_naive", "inception_v1_block", "basic_block",
           "bottleneck_block"]


class InceptionNaive(nn.Module):
    """Figure 2(a) of Going Deeper with Convolutions: 1x1 | 3x3 | 5x5 | 3x3 max pool, no reductions.

    Convolutions have a bias and a ReLU, as every convolution in the paper does. The pool branch
    passes all input channels through, which is why the output grows with every module.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = BasicConv2d(in_channels, ch3x3, kernel_size=3, padding=1)
        self.branch3 = BasicConv2d(in_channels, ch5x5, kernel_size=5, padding=2)
        self.branch4 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


_V1 = "Szegedy et al., Going Deeper with Convolutions, CVPR 2015"
_RESNET = "He et al., Deep Residual Learning for Image Recognition, CVPR 2016"


@register_model(
    family="googlenet", year=2014, input_size=(256, 32, 32), num_classes=None, paper=_V1, kind="block",
    description="Naive Inception module (Fig. 2a) on a 32x32x256 input: 128 | 192 | 96 | pool -> 672",
)
def inception_naive(*, in_channels: int = 256, ch1x1: int = 128, ch3x3: int = 192,
                    ch5x5: int = 96) -> InceptionNaive:
    """Naive Inception module, Figure 2(a) of Szegedy et al., 2015, on a 32x32x256 input."""
    return InceptionNaive(in_channels, ch1x1, ch3x3, ch5x5)


@register_model(
    family="googlenet", year=2014, input_size=(256, 32, 32), num_classes=None, paper=_V1, kind="block",
    description="Inception module with 1x1 reductions (Fig. 2b) on 32x32x256: "
    "128 | 64-192 | 64-96 | pool-64 -> 480",
)
def inception_v1_block(*, in_channels: int = 256, ch1x1: int = 128, ch3x3red: int = 64,
                       ch3x3: int = 192, ch5x5red: int = 64, ch5x5: int = 96,
                       pool_proj: int = 64) -> Inception:
    """Inception module with dimension reductions, Figure 2(b) of Szegedy et al., 2015."""
    return Inception(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)


@register_model(
    family="resnet", year=2015, input_size=(256, 56, 56), num_classes=None, paper=_RESNET, kind="block",
    description="ResNet basic block: two 3x3 convs with BatchNorm and an identity shortcut (256 -> 256)",
)
def basic_block(*, in_channels: int = 256, planes: int = 256) -> BasicBlock:
    """BasicBlock of He et al., 2016 (Figure 5 left); a projection shortcut when channels change."""
    downsample = None
    if in_channels != planes:
        downsample = nn.Sequential(conv1x1(in_channels, planes), nn.BatchNorm2d(planes))
    return BasicBlock(in_channels, planes, downsample=downsample)


@register_model(
    family="resnet", year=2015, input_size=(256, 56, 56), num_classes=None, paper=_RESNET, kind="block",
    description="ResNet bottleneck block: 1x1 256->64, 3x3 64, 1x1 64->256, identity shortcut",
)
def bottleneck_block(*, in_channels: int = 256, planes: int = 64) -> Bottleneck:
    """Bottleneck of He et al., 2016 (Figure 5 right); a projection shortcut when channels change."""
    out = planes * Bottleneck.expansion
    downsample = None
    if in_channels != out:
        downsample = nn.Sequential(conv1x1(in_channels, out), nn.BatchNorm2d(out))
    return Bottleneck(in_channels, planes, downsample=downsample)
