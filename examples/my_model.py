"""A small network of your own, for `archscope params examples/my_model.py:build`.

archscope calls ``build()`` (with ``--kwargs key=value,...`` as keyword arguments) and takes the
returned module, or ``(module, input_size)`` where input_size is one sample C×H×W; with that,
``--input-size`` may be left out.
"""

from torch import nn


class TinyNet(nn.Module):
    """Two 3×3 conv blocks and a linear classifier, for 64×64 RGB input."""

    def __init__(self, num_classes: int = 10, width: int = 16) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1),  # N x width x 64 x 64
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # N x width x 32 x 32
            nn.Conv2d(width, 2 * width, 3, padding=1),  # N x 2width x 32 x 32
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),  # N x 2width x 1 x 1
        )
        self.classifier = nn.Linear(2 * width, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def build(num_classes: int = 10, width: int = 16):
    """The network and its input size (one sample, C×H×W)."""
    return TinyNet(num_classes, width), (3, 64, 64)
