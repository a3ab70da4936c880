"""A model with two inputs, for `archscope flops examples/two_inputs.py:build`.

An image and a vector of side information, fused before the classifier. The factory returns
``(module, (image, side))``: a tuple of example tensors, one per positional input. Give other
shapes with ``--input-size 8x3x32x32,8x6`` (each input's full shape, batch first).
"""

import torch
from torch import nn


class ImageAndSide(nn.Module):
    def __init__(self, side: int = 6, num_classes: int = 10) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)  # N x 8 x 32 x 32
        self.pool = nn.AdaptiveAvgPool2d(1)  # N x 8 x 1 x 1
        self.side = nn.Linear(side, 8)  # N x 8
        self.head = nn.Linear(16, num_classes)

    def forward(self, image, side):
        a = self.pool(torch.relu(self.conv(image))).flatten(1)
        return self.head(torch.cat([a, self.side(side)], dim=1))


def build(side: int = 6):
    """The model and an example (image, side) pair at batch 1."""
    return ImageAndSide(side), (torch.zeros(1, 3, 32, 32), torch.zeros(1, side))
