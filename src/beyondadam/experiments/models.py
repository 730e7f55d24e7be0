"""The paper's three models as ``torch.nn.Module`` s: each model is defined here and only here.

The plain loop calls them directly; the batched engine reads the layers of the sequential ones
(:class:`LogReg`, :class:`MLP`) and stacks them (:mod:`beyondadam.experiments.stacked`).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

__all__ = ["MLP", "CifarNet", "LogReg", "count_parameters"]


class LogReg(nn.Sequential):
    """Softmax (multinomial logistic) regression 784 -> 10: logits ``(B, 10)`` of ``(B, 784)``.

    A sequence of ``nn.Linear`` / ``nn.ReLU`` layers (as :class:`MLP`), so the batched engine can
    train many configurations of it at once (:mod:`beyondadam.experiments.stacked`).
    """

    def __init__(self, in_features: int = 784, classes: int = 10) -> None:
        super().__init__(OrderedDict(linear=nn.Linear(in_features, classes)))


class MLP(nn.Sequential):
    """One hidden layer of 100 ReLU units, 784 -> 100 -> 10: logits ``(B, 10)`` of ``(B, 784)``."""

    def __init__(self, in_features: int = 784, hidden: int = 100, classes: int = 10) -> None:
        super().__init__(
            OrderedDict(
                fc1=nn.Linear(in_features, hidden), relu=nn.ReLU(), fc2=nn.Linear(hidden, classes)
            )
        )


class CifarNet(nn.Module):
    """The paper's CIFARNET.

    conv 6x6 (64) -> ReLU -> max-pool 2x2 -> LRN -> conv 6x6 (64) -> ReLU -> LRN -> max-pool 2x2
    -> fc 384 -> ReLU -> dropout(keep 0.5) -> fc 192 -> ReLU -> dropout(keep 0.5) -> fc 10.
    Convolutions use TensorFlow's "SAME" padding (2 before, 3 after), so a 32x32 input gives
    64 x 8 x 8 features.
    """

    def __init__(self, classes: int = 10, keep_prob: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ZeroPad2d((2, 3, 2, 3)),
            nn.Conv2d(3, 64, kernel_size=6),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0),
            nn.ZeroPad2d((2, 3, 2, 3)),
            nn.Conv2d(64, 64, kernel_size=6),
            nn.ReLU(),
            nn.LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 8 * 8, 384),
            nn.ReLU(),
            nn.Dropout(1.0 - keep_prob),
            nn.Linear(384, 192),
            nn.ReLU(),
            nn.Dropout(1.0 - keep_prob),
            nn.Linear(192, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 10)`` for images ``(B, 3, 32, 32)``."""
        return self.classifier(self.features(x))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
