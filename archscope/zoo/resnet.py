"""ResNet (He et al., Deep Residual Learning for Image Recognition, CVPR 2016).

Written from scratch to torchvision's structure (same module names, parameter counts equal to
torchvision's). Deviations from the paper, shared with torchvision:

* ``Bottleneck`` puts the stride on its 3x3 convolution ("ResNet v1.5"); the paper puts it on the
  first 1x1. Parameters are the same; MACs are not: here the first 1x1 of a downsampling block runs
  at the input resolution (4x its cost in the paper), the 3x3 costs the same either way.
* Shortcuts are identities except where shape changes, where they are 1x1 conv + BatchNorm
  projections (the paper's option B). The paper's Table 2 ResNet-18/34 use option A instead
  (zero-padded identity, no parameters), so its 18/34 counts are slightly lower than these.
* The final pool is adaptive (1x1), the paper's global average pool at any input size.
"""

from __future__ import annotations

from typing import Optional, Type, Union

import torch
from torch import nn

from .registry import register_model

__all__ = ["conv3x3", "conv1x1", "BasicBlock", "Bottleneck", "ResNet",
           "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding, no bias (BatchNorm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias (BatchNorm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs (paper Figure 5 left), used by ResNet-18/34."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand by 4 (paper Figure 5 right), used by ResNet-50/101/152.

    The stride sits on the 3x3 (torchvision's v1.5); the paper strides the first 1x1.
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


Block = Type[Union[BasicBlock, Bottleneck]]


class ResNet(nn.Module):
    def __init__(self, block: Block, layers: list[int], num_classes: int = 1000,
                 in_channels: int = 3, zero_init_residual: bool = False) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:  # Goyal et al. 2017: each residual branch starts as zero
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.zeros_(m.bn3.weight)
                elif isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def _make_layer(self, block: Block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x 3 x 224 x 224
        x = self.relu(self.bn1(self.conv1(x)))  # N x 64 x 112 x 112
        x = self.maxpool(x)  # N x 64 x 56 x 56
        x = self.layer1(x)  # N x 64e x 56 x 56  (e = block.expansion)
        x = self.layer2(x)  # N x 128e x 28 x 28
        x = self.layer3(x)  # N x 256e x 14 x 14
        x = self.layer4(x)  # N x 512e x 7 x 7
        x = self.avgpool(x)  # N x 512e x 1 x 1
        return self.fc(torch.flatten(x, 1))  # N x num_classes


def _build(block: Block, layers: list[int], num_classes: int, in_channels: int,
           zero_init_residual: bool) -> ResNet:
    return ResNet(block, layers, num_classes, in_channels, zero_init_residual)


def _register(depth: int, kind: str):
    return register_model(
        family="resnet",
        year=2015,
        input_size=(3, 224, 224),
        num_classes=1000,
        paper="He et al., Deep Residual Learning for Image Recognition, CVPR 2016",
        description=f"ResNet-{depth}: {kind} residual blocks in four stages, BatchNorm, projection shortcuts",
    )


@_register(18, "basic (two 3x3)")
def resnet18(*, num_classes: int = 1000, in_channels: int = 3, zero_init_residual: bool = False) -> ResNet:
    """ResNet-18 from He et al., 2016."""
    return _build(BasicBlock, [2, 2, 2, 2], num_classes, in_channels, zero_init_residual)


@_register(34, "basic (two 3x3)")
def resnet34(*, num_classes: int = 1000, in_channels: int = 3, zero_init_residual: bool = False) -> ResNet:
    """ResNet-34 from He et al., 2016."""
    return _build(BasicBlock, [3, 4, 6, 3], num_classes, in_channels, zero_init_residual)


@_register(50, "bottleneck")
def resnet50(*, num_classes: int = 1000, in_channels: int = 3, zero_init_residual: bool = False) -> ResNet:
    """ResNet-50 from He et al., 2016 (stride on the bottleneck's 3x3, torchvision v1.5)."""
    return _build(Bottleneck, [3, 4, 6, 3], num_classes, in_channels, zero_init_residual)


@_register(101, "bottleneck")
def resnet101(*, num_classes: int = 1000, in_channels: int = 3, zero_init_residual: bool = False) -> ResNet:
    """ResNet-101 from He et al., 2016 (stride on the bottleneck's 3x3, torchvision v1.5)."""
    return _build(Bottleneck, [3, 4, 23, 3], num_classes, in_channels, zero_init_residual)


@_register(152, "bottleneck")
def resnet152(*, num_classes: int = 1000, in_channels: int = 3, zero_init_residual: bool = False) -> ResNet:
    """ResNet-152 from He et al., 2016 (stride on the bottleneck's 3x3, torchvision v1.5)."""
    return _build(Bottleneck, [3, 8, 36, 3], num_classes, in_channels, zero_init_residual)
