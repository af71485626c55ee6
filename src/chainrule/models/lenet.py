"""LeNet-5 (LeCun et al. 1998): the classic convolutional network for handwritten digits.

    conv 5×5 → 6 maps → pool 2 → conv 5×5 → 16 maps → pool 2 → fc 120 → fc 84 → fc classes

Two ideas of the deck in one small net: weight sharing (each 5×5 filter is slid over the whole
image) and a filter hierarchy (edges in the first layer, strokes and shapes in the second).
"""
from __future__ import annotations

from .. import nn


class LeNet5(nn.Module):
    """LeNet-5 for 1×28×28 (MNIST; the first convolution pads by 2) or 1×32×32 input.

    Args: in_channels=1, num_classes=10, input_size=28 (or 32), activation 'relu' (default) or
    'tanh' (the original), pool 'max' (default) or 'avg' (the original's subsampling).
    Shapes: (N, in_channels, input_size, input_size) -> (N, num_classes) logits.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28,
                 activation: str = "relu", pool: str = "max"):
        super().__init__()
        if input_size not in (28, 32):
            raise ValueError(f"LeNet5: input_size must be 28 or 32, got {input_size}")
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        pooling = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[pool]
        self.input_size = input_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2 if input_size == 28 else 0), act(), pooling(2),
            nn.Conv2d(6, 16, 5), act(), pooling(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), act(), nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes))

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[2:]) != (self.input_size, self.input_size):
            raise ValueError(f"LeNet5: expected input (N, C, {self.input_size}, {self.input_size}),"
                             f" got {tuple(x.shape)}")
        return self.classifier(self.features(x))
