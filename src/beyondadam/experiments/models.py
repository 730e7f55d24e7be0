"""The paper's three models as ``torch.nn.Module`` s: each model is defined here and only here.

The plain loop calls them directly; the batched engine reads the layers of the sequential ones
(:class:`LogReg`, :class:`MLP`) and stacks them (:mod:`beyondadam.experiments.stacked`).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.autograd.function import once_differentiable

__all__ = ["MLP", "CifarNet", "LocalResponseNorm", "LogReg", "count_parameters"]


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


class _ChannelWindowMean(torch.autograd.Function):
    """Mean over each window of ``size`` channels of a channel-padded ``(N, C + size - 1, H, W)``.

    The arithmetic of torch's ``avg_pool3d`` over a ``(size, 1, 1)`` window, in the same order
    (forward: the window summed from its first channel to its last, then divided by ``size``;
    backward: ``grad / size`` added to each input from the first output window to the last), as
    whole-tensor adds instead of a strided loop per output: the same bits on CPU (tested), about
    3x faster there.
    """

    @staticmethod
    def forward(ctx, padded: torch.Tensor, size: int) -> torch.Tensor:
        C = padded.shape[1] - size + 1
        total = padded[:, 0:C].clone()
        for j in range(1, size):
            total.add_(padded[:, j : j + C])
        ctx.size = size
        return total.div_(size)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        size = ctx.size
        N, C, H, W = grad.shape
        share = grad / size
        out = grad.new_zeros(N, C + size - 1, H, W)
        for j in range(size - 1, -1, -1):  # output window c reaches input c + j: c ascending
            out[:, j : j + C].add_(share)
        return out, None


class LocalResponseNorm(nn.LocalResponseNorm):
    """``nn.LocalResponseNorm`` with bit-identical results, its channel-window sum faster on CPU.

    Follows ``torch.nn.functional.local_response_norm`` operation by operation for 4-D inputs,
    except that the window mean is :class:`_ChannelWindowMean` instead of ``avg_pool3d``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x / (k + alpha * mean of x^2 over the channel window) ** beta``."""
        if x.dim() != 4:
            return super().forward(x)
        size = self.size
        div = nn.functional.pad(x.mul(x), (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = _ChannelWindowMean.apply(div, size)
        return x / div.mul(self.alpha).add(self.k).pow(self.beta)


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
            LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0),
            nn.ZeroPad2d((2, 3, 2, 3)),
            nn.Conv2d(64, 64, kernel_size=6),
            nn.ReLU(),
            LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0),
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
