"""LeNet-5 (LeCun et al., Gradient-Based Learning Applied to Document Recognition, 1998).

Written as the modern reading of the paper has it. Deviations from the paper:

* C3 connects every one of its 16 maps to all 6 S2 maps (2,416 parameters); the paper's Table I
  connects each map to only 3, 4 or 6 of them (1,516 parameters).
* S2 and S4 are plain 2x2 average pools; the paper's subsampling units also multiply by a
  trainable coefficient and add a trainable bias (12 and 32 parameters), then squash.
* tanh instead of the paper's scaled tanh ``1.7159 * tanh(2x/3)``.
* The output layer is a linear layer, not the paper's Euclidean RBF units.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .registry import register_model

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        # Layers named as in the paper (C1, S2, C3, S4, C5, F6), so tables read like Fig. 2.
        self.features = nn.Sequential(OrderedDict([
            ("c1", nn.Conv2d(in_channels, 6, kernel_size=5)),  # N x 6 x 28 x 28
            ("tanh1", nn.Tanh()),
            ("s2", nn.AvgPool2d(2)),  # N x 6 x 14 x 14
            ("c3", nn.Conv2d(6, 16, kernel_size=5)),  # fully connected to S2: N x 16 x 10 x 10
            ("tanh3", nn.Tanh()),
            ("s4", nn.AvgPool2d(2)),  # N x 16 x 5 x 5
            # C5 is a convolution whose 5x5 kernel covers the whole 5x5 map, as in the paper.
            ("c5", nn.Conv2d(16, 120, kernel_size=5)),  # N x 120 x 1 x 1
            ("tanh5", nn.Tanh()),
        ]))
        self.flatten = nn.Flatten()  # N x 120
        self.classifier = nn.Sequential(OrderedDict([
            ("f6", nn.Linear(120, 84)),
            ("tanh6", nn.Tanh()),
            ("output", nn.Linear(84, num_classes)),  # paper: Euclidean RBF units
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.features(x)))


@register_model(
    family="lenet",
    year=1998,
    input_size=(1, 32, 32),
    num_classes=10,
    paper="LeCun et al., Gradient-Based Learning Applied to Document Recognition, Proc. IEEE 1998",
    description="LeNet-5: tanh convolutions C1, C3, C5 with average-pool subsampling S2, S4",
)
def lenet5(*, num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """LeNet-5 from LeCun et al., 1998 (full C3 connections; see the module docstring)."""
    return LeNet5(num_classes=num_classes, in_channels=in_channels)
