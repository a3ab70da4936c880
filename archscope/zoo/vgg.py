"""VGG (Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition,
ICLR 2015): configurations A, B, D, E of the paper's Table 1, keyed by name as timm does.

Deviations from the paper, both as torchvision has them (parameter counts equal torchvision's):

* ``nn.AdaptiveAvgPool2d((7, 7))`` before the classifier. At 224x224 the map is already 7x7 and the
  pool is an identity; it lets any input of at least 32x32 run (archscope runs vgg16 at 2048x2048)
  where the paper's fixed FC layers would need exactly 224.
* The ``_bn`` variants add BatchNorm after every conv; BatchNorm postdates the paper.
"""

from __future__ import annotations

from typing import Union

import torch
from torch import nn

from .registry import register_model

__all__ = ["VGG", "cfgs", "make_layers"] + [f"vgg{d}{s}" for d in (11, 13, 16, 19) for s in ("", "_bn")]

# Output channels of each 3x3 conv (padding 1); "M" is a 2x2 stride-2 max pool.
cfgs: dict[str, list[Union[str, int]]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],  # config A
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],  # B
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"],  # D
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],  # E
}


def make_layers(cfg: list[Union[str, int]], batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            conv = nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv, nn.BatchNorm2d(int(v)), nn.ReLU(inplace=True)]
            else:
                layers += [conv, nn.ReLU(inplace=True)]
            in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, features: nn.Module, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features  # N x 512 x 7 x 7 at 224
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))  # identity at 224 (see module docstring)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)  # N x 512 x 7 x 7
        x = torch.flatten(x, 1)  # N x 25088
        return self.classifier(x)


def _build(cfg: str, batch_norm: bool, num_classes: int, in_channels: int, dropout: float) -> VGG:
    return VGG(make_layers(cfgs[cfg], batch_norm, in_channels), num_classes=num_classes, dropout=dropout)


_PAPER = "Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, ICLR 2015"


def _register(depth: int, bn: bool, letter: str):
    suffix = " with BatchNorm" if bn else ""
    return register_model(
        family="vgg",
        year=2014,
        input_size=(3, 224, 224),
        num_classes=1000,
        paper=_PAPER,
        description=f"VGG-{depth} (configuration {letter}){suffix}: stacks of 3x3 convs, three FC layers",
    )


@_register(11, False, "A")
def vgg11(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-11, configuration A of Simonyan & Zisserman, 2015."""
    return _build("vgg11", False, num_classes, in_channels, dropout)


@_register(11, True, "A")
def vgg11_bn(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-11 with BatchNorm, configuration A of Simonyan & Zisserman, 2015."""
    return _build("vgg11", True, num_classes, in_channels, dropout)


@_register(13, False, "B")
def vgg13(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-13, configuration B of Simonyan & Zisserman, 2015."""
    return _build("vgg13", False, num_classes, in_channels, dropout)


@_register(13, True, "B")
def vgg13_bn(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-13 with BatchNorm, configuration B of Simonyan & Zisserman, 2015."""
    return _build("vgg13", True, num_classes, in_channels, dropout)


@_register(16, False, "D")
def vgg16(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-16, configuration D of Simonyan & Zisserman, 2015."""
    return _build("vgg16", False, num_classes, in_channels, dropout)


@_register(16, True, "D")
def vgg16_bn(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-16 with BatchNorm, configuration D of Simonyan & Zisserman, 2015."""
    return _build("vgg16", True, num_classes, in_channels, dropout)


@_register(19, False, "E")
def vgg19(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-19, configuration E of Simonyan & Zisserman, 2015."""
    return _build("vgg19", False, num_classes, in_channels, dropout)


@_register(19, True, "E")
def vgg19_bn(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-19 with BatchNorm, configuration E of Simonyan & Zisserman, 2015."""
    return _build("vgg19", True, num_classes, in_channels, dropout)
