"""A small CIFAR-10 network (3 conv, 2 linear), as CNN tutorials build it: the first net archscope
takes apart.

Three 5x5 convolutions (padding 2, so only the pools shrink the map), each followed by ReLU and a
2x2 max pool, then two linear layers. The tutorial network it comes from puts a ReLU
between the two linear layers (``relu4``); so do we.
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import register_model

__all__ = ["CifarCNN", "cifar_cnn"]


class CifarCNN(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=5, padding=2),  # N x 32 x 32 x 32
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # N x 32 x 16 x 16
            nn.Conv2d(32, 32, kernel_size=5, padding=2),  # N x 32 x 16 x 16
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # N x 32 x 8 x 8
            nn.Conv2d(32, 64, kernel_size=5, padding=2),  # N x 64 x 8 x 8
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # N x 64 x 4 x 4
        )
        self.flatten = nn.Flatten()  # N x 1024
        self.classifier = nn.Sequential(
            nn.Linear(64 * 4 * 4, 64),
            nn.ReLU(inplace=True),  # relu4, between the two linear layers
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.features(x)))


@register_model(
    family="small",
    year=2009,
    input_size=(3, 32, 32),
    num_classes=10,
    paper="Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009 (the CIFAR-10 "
    "data set; the network is a tutorial one, from no paper)",
    description="A small CIFAR-10 network (3 conv, 2 linear): 5x5 convs with 2x2 max pools, FC 1024-64-10",
)
def cifar_cnn(*, num_classes: int = 10, in_channels: int = 3) -> CifarCNN:
    """A small CIFAR-10 network (3 conv, 2 linear); the data set is Krizhevsky 2009."""
    return CifarCNN(num_classes=num_classes, in_channels=in_channels)
