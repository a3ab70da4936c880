"""AlexNet (Krizhevsky, Sutskever & Hinton, ImageNet Classification with Deep CNNs, NeurIPS 2012).

Deviations from the paper:

* One tower: the paper splits conv2, conv4, conv5 (and the FC layers) across two GPUs, so conv2,
  conv4 and conv5 see only the half of the previous layer on their GPU (``groups=2``). Here every
  layer is fully connected across channels, the single-GPU form (62,378,344 parameters).
* Input 227x227, not the paper's stated 224: with an 11x11 stride-4 unpadded conv only 227 gives
  the paper's 55x55 maps.
* Order ReLU -> LRN -> max pool as the paper's Section 3.5 says (many tutorials pool before the LRN).
* LRN constants as printed (k 2, n 5, alpha 1e-4, beta 0.75), passed to PyTorch's
  ``LocalResponseNorm``, which divides alpha by n (Caffe's convention): in the paper's formula
  ``b = a / (k + alpha * sum a^2)^beta`` this is alpha = 2e-5. Kept as the Caffe reference model
  has it; the counts do not depend on alpha.
"""

from __future__ import annotations

import torch
from torch import nn

from .registry import register_model

__all__ = ["AlexNet", "alexnet"]


def _lrn() -> nn.LocalResponseNorm:
    # Paper Section 3.3: k = 2, n = 5, alpha = 1e-4, beta = 0.75.
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)


class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4),  # N x 96 x 55 x 55
            nn.ReLU(inplace=True),
            _lrn(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # N x 96 x 27 x 27 (overlapping pool)
            nn.Conv2d(96, 256, kernel_size=5, padding=2),  # N x 256 x 27 x 27
            nn.ReLU(inplace=True),
            _lrn(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # N x 256 x 13 x 13
            nn.Conv2d(256, 384, kernel_size=3, padding=1),  # N x 384 x 13 x 13
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),  # N x 384 x 13 x 13
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # N x 256 x 13 x 13
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # N x 256 x 6 x 6
        )
        self.flatten = nn.Flatten()  # N x 9216
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.features(x)))


@register_model(
    family="alexnet",
    year=2012,
    input_size=(3, 227, 227),
    num_classes=1000,
    paper="Krizhevsky et al., ImageNet Classification with Deep Convolutional Neural Networks, "
    "NeurIPS 2012",
    description="Five conv layers with ReLU, LRN and overlapping pooling, three FC layers with dropout",
)
def alexnet(*, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> AlexNet:
    """AlexNet from Krizhevsky et al., 2012 (one tower, no two-GPU groups)."""
    return AlexNet(num_classes=num_classes, in_channels=in_channels, dropout=dropout)
