"""GoogLeNet / Inception v1 (Szegedy et al., Going Deeper with Convolutions, CVPR 2015), and the
Fashion-MNIST variant of Dive into Deep Learning (d2l.ai).

Built from the paper's Table 1 and Section 5, not from torchvision (which adds BatchNorm, drops
the LRNs and uses 3x3 in place of the 5x5 convolutions). Here every convolution has a bias and a
ReLU and no BatchNorm, and the 5x5 branches are real 5x5 convolutions. Deviations from the paper:

* Max pools use ``ceil_mode=True`` (Caffe's rounding, as in the reference Caffe model) so the maps
  are exactly 112, 56, 28, 14, 7 at 224x224; PyTorch's default floor rounding would give 55.
* LRN uses size 5, alpha 1e-4, beta 0.75 and k = 1, the Caffe defaults of the reference model;
  the paper names the layer but gives no constants.
* The final average pool is adaptive (1x1), so inputs other than 224 run; at 224 it is the
  paper's 7x7 average pool.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple, Optional

import torch
from torch import nn

from .registry import register_model

__all__ = ["BasicConv2d", "Inception", "InceptionAux", "GoogLeNet", "GoogLeNetOutputs",
           "inception_rows", "googlenet", "googlenet_d2l"]


class GoogLeNetOutputs(NamedTuple):
    logits: torch.Tensor
    aux_logits1: Optional[torch.Tensor]
    aux_logits2: Optional[torch.Tensor]


# Table 1: (in, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)
inception_rows: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "3a": (192, 64, 96, 128, 16, 32, 32),  # -> 256
    "3b": (256, 128, 128, 192, 32, 96, 64),  # -> 480
    "4a": (480, 192, 96, 208, 16, 48, 64),  # -> 512
    "4b": (512, 160, 112, 224, 24, 64, 64),  # -> 512
    "4c": (512, 128, 128, 256, 24, 64, 64),  # -> 512
    "4d": (512, 112, 144, 288, 32, 64, 64),  # -> 528
    "4e": (528, 256, 160, 320, 32, 128, 128),  # -> 832
    "5a": (832, 256, 160, 320, 32, 128, 128),  # -> 832
    "5b": (832, 384, 192, 384, 48, 128, 128),  # -> 1024
}


class BasicConv2d(nn.Module):
    """Convolution with bias, then ReLU: the paper's unit ("all the convolutions ... use ReLU")."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=True, **kwargs)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x))


class Inception(nn.Module):
    """Figure 2(b): 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1, concatenated."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int,
                 ch5x5red: int, ch5x5: int, pool_proj: int) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=5, padding=2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Section 5 auxiliary classifier: 5x5/3 avg pool, 1x1 conv 128, FC 1024, dropout 0.7, FC."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7) -> None:
        super().__init__()
        # The paper's fixed 5x5/3 pool: 14x14 -> 4x4, so aux heads need the 224-sized 14x14 map.
        self.avgpool = nn.AvgPool2d(kernel_size=5, stride=3)
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(p=dropout)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(x)  # N x 512 (or 528) x 4 x 4
        x = self.conv(x)  # N x 128 x 4 x 4
        x = torch.flatten(x, 1)  # N x 2048
        x = self.relu(self.fc1(x))  # N x 1024
        return self.fc2(self.dropout(x))  # N x num_classes


class GoogLeNet(nn.Module):
    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 dropout: float = 0.4, dropout_aux: float = 0.7) -> None:
        super().__init__()
        self.aux_logits = aux_logits
        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.lrn1 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.lrn2 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(*inception_rows["3a"])
        self.inception3b = Inception(*inception_rows["3b"])
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(*inception_rows["4a"])
        self.inception4b = Inception(*inception_rows["4b"])
        self.inception4c = Inception(*inception_rows["4c"])
        self.inception4d = Inception(*inception_rows["4d"])
        self.inception4e = Inception(*inception_rows["4e"])
        self.maxpool4 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception5a = Inception(*inception_rows["5a"])
        self.inception5b = Inception(*inception_rows["5b"])
        if aux_logits:
            self.aux1: Optional[InceptionAux] = InceptionAux(512, num_classes, dropout_aux)
            self.aux2: Optional[InceptionAux] = InceptionAux(528, num_classes, dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor):
        # N x 3 x 224 x 224
        x = self.conv1(x)  # N x 64 x 112 x 112
        x = self.maxpool1(x)  # N x 64 x 56 x 56
        x = self.lrn1(x)
        x = self.conv2(x)  # N x 64 x 56 x 56
        x = self.conv3(x)  # N x 192 x 56 x 56
        x = self.lrn2(x)
        x = self.maxpool2(x)  # N x 192 x 28 x 28
        x = self.inception3a(x)  # N x 256 x 28 x 28
        x = self.inception3b(x)  # N x 480 x 28 x 28
        x = self.maxpool3(x)  # N x 480 x 14 x 14
        x = self.inception4a(x)  # N x 512 x 14 x 14
        run_aux = self.training and self.aux1 is not None and self.aux2 is not None
        aux1 = self.aux1(x) if run_aux else None  # type: ignore[misc]
        x = self.inception4b(x)  # N x 512 x 14 x 14
        x = self.inception4c(x)  # N x 512 x 14 x 14
        x = self.inception4d(x)  # N x 528 x 14 x 14
        aux2 = self.aux2(x) if run_aux else None  # type: ignore[misc]
        x = self.inception4e(x)  # N x 832 x 14 x 14
        x = self.maxpool4(x)  # N x 832 x 7 x 7
        x = self.inception5a(x)  # N x 832 x 7 x 7
        x = self.inception5b(x)  # N x 1024 x 7 x 7
        x = self.avgpool(x)  # N x 1024 x 1 x 1
        x = torch.flatten(x, 1)  # N x 1024
        x = self.fc(self.dropout(x))  # N x num_classes
        if run_aux:
            return GoogLeNetOutputs(x, aux1, aux2)
        # Eval mode (or no aux heads): the logits alone; aux1/aux2 are never called.
        return x


def _d2l(num_classes: int, in_channels: int) -> nn.Sequential:
    # d2l's network verbatim, with the blocks named instead of numbered. Its Inception (ReLU after every
    # conv, pool-proj included) has the same branches as the paper's, so the class is shared. Unlike
    # the paper there is no LRN, the pools use padding 1 instead of ceil mode, and no aux heads.
    b1 = nn.Sequential(nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))  # N x 64 x 24 x 24
    b2 = nn.Sequential(nn.Conv2d(64, 64, kernel_size=1), nn.ReLU(),
                       nn.Conv2d(64, 192, kernel_size=3, padding=1), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))  # N x 192 x 12 x 12
    b3 = nn.Sequential(Inception(*inception_rows["3a"]), Inception(*inception_rows["3b"]),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))  # N x 480 x 6 x 6
    b4 = nn.Sequential(*(Inception(*inception_rows[k]) for k in ("4a", "4b", "4c", "4d", "4e")),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))  # N x 832 x 3 x 3
    b5 = nn.Sequential(Inception(*inception_rows["5a"]), Inception(*inception_rows["5b"]),
                       nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())  # N x 1024
    return nn.Sequential(OrderedDict(b1=b1, b2=b2, b3=b3, b4=b4, b5=b5, fc=nn.Linear(1024, num_classes)))


_PAPER = "Szegedy et al., Going Deeper with Convolutions, CVPR 2015"


@register_model(
    family="googlenet",
    year=2014,
    input_size=(3, 224, 224),
    num_classes=1000,
    paper=_PAPER,
    description="Inception v1: nine Inception modules (Table 1), LRN, two auxiliary classifiers",
)
def googlenet(*, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
              dropout: float = 0.4, dropout_aux: float = 0.7) -> GoogLeNet:
    """GoogLeNet from Szegedy et al., 2015 (Table 1; biases and ReLU, no BatchNorm)."""
    return GoogLeNet(num_classes, in_channels, aux_logits, dropout, dropout_aux)


@register_model(
    family="googlenet",
    year=2014,
    input_size=(1, 96, 96),
    num_classes=10,
    paper=_PAPER + "; as adapted by Zhang et al., Dive into Deep Learning (d2l.ai)",
    description="GoogLeNet for Fashion-MNIST as in Dive into Deep Learning: b1..b5, no LRN, no aux heads",
)
def googlenet_d2l(*, num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """GoogLeNet (Szegedy et al., 2015) as adapted for Fashion-MNIST in Dive into Deep Learning."""
    return _d2l(num_classes, in_channels)
