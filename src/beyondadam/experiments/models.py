"""The tasks' models as ``torch.nn.Module`` s: each model is defined here and only here.

The paper's three (:class:`LogReg`, :class:`MLP`, :class:`CifarNet`) and the benchmark's
(:class:`MnistCNN`, :class:`Autoencoder`, :class:`QuadraticDeep`, :class:`CifarVGG`). The plain
loop calls them directly; the batched engine reads the layers of the sequential ones made of
``nn.Linear`` and ``nn.ReLU`` (:class:`LogReg`, :class:`MLP`, :class:`Autoencoder`) and stacks
them (:mod:`beyondadam.experiments.stacked`).
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from itertools import pairwise

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

__all__ = [
    "MLP",
    "Autoencoder",
    "CifarNet",
    "CifarVGG",
    "LocalResponseNorm",
    "LogReg",
    "MnistCNN",
    "QuadraticDeep",
    "count_parameters",
    "deep_quadratic_hessian",
]


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


class MnistCNN(nn.Sequential):
    """Two convolutions and two dense layers on MNIST: logits ``(B, 10)`` of ``(B, 784)``.

    conv 5x5 stride 2 (8) -> ReLU -> conv 5x5 stride 2 (16) -> ReLU -> fc 128 -> ReLU -> fc 10,
    "same" padding (28 -> 14 -> 7). Strided convolutions instead of conv + max-pool: on one CPU
    thread a batch of 128 took 14 ms with them against 24 ms (8/16 channels, pooled) and 57 ms
    (16/32, pooled) on the 2-core development machine.
    """

    def __init__(self, channels: tuple[int, int] = (8, 16), hidden: int = 128) -> None:
        c1, c2 = channels
        super().__init__(
            OrderedDict(
                image=nn.Unflatten(1, (1, 28, 28)),
                conv1=nn.Conv2d(1, c1, 5, stride=2, padding=2),
                relu1=nn.ReLU(),
                conv2=nn.Conv2d(c1, c2, 5, stride=2, padding=2),
                relu2=nn.ReLU(),
                flat=nn.Flatten(),
                fc1=nn.Linear(c2 * 7 * 7, hidden),
                relu3=nn.ReLU(),
                fc2=nn.Linear(hidden, 10),
            )
        )


class Autoencoder(nn.Sequential):
    """784-128-32-128-784 ReLU autoencoder: reconstruction logits ``(B, 784)`` of ``(B, 784)``.

    The output is logits (the sigmoid lives in the loss,
    :data:`~beyondadam.experiments.losses.RECONSTRUCTION`), so the model is a plain sequence of
    ``nn.Linear`` and ``nn.ReLU`` and the batched engine stacks it.
    """

    def __init__(self, sizes: tuple[int, ...] = (784, 128, 32, 128, 784)) -> None:
        layers: list[tuple[str, nn.Module]] = []
        for i, (n_in, n_out) in enumerate(pairwise(sizes)):
            if i:
                layers.append((f"relu{i}", nn.ReLU()))
            layers.append((f"fc{i + 1}", nn.Linear(n_in, n_out)))
        super().__init__(OrderedDict(layers))


@lru_cache(maxsize=4)
def deep_quadratic_hessian(dim: int = 100, seed: int = 42) -> np.ndarray:
    """The deep quadratic's fixed Hessian ``Q = R^T diag(lambda) R`` (float64, read-only).

    As DeepOBS's ``quadratic_deep``: 90% of the eigenvalues uniform in (0, 1), 10% uniform in
    (30, 60), and ``R`` a uniformly random rotation. Drawn here from numpy's PCG64 seeded with
    ``seed``, the rotation as the Q factor of a Gaussian matrix with its signs fixed (Haar
    distributed), so the matrix is the same on every machine; the draws are not DeepOBS's.
    """
    rng = np.random.default_rng(seed)
    n_big = dim // 10
    eig = np.concatenate([rng.uniform(0.0, 1.0, dim - n_big), rng.uniform(30.0, 60.0, n_big)])
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    rot = q * np.sign(np.diag(r))
    if np.linalg.det(rot) < 0:  # a rotation, not a reflection
        rot[:, 0] = -rot[:, 0]
    hessian = rot.T @ np.diag(eig) @ rot
    hessian = (hessian + hessian.T) / 2
    hessian.setflags(write=False)
    return hessian


class QuadraticDeep(nn.Module):
    """DeepOBS's noisy deep quadratic: per-example loss ``0.5 (theta - x)^T Q (theta - x)``.

    After DeepOBS (Schneider, Balles & Hennig, ICLR 2019), test problem ``quadratic_deep``: 100
    parameters, the Hessian of :func:`deep_quadratic_hessian`, noise samples ``x`` from its
    ``quadratic`` data set (:func:`beyondadam.experiments.data.load_quadratic`).

    ``theta`` (``dim`` parameters) starts at ones, as in DeepOBS; ``Q`` is
    :func:`deep_quadratic_hessian`. The output ``(B,)`` is the loss itself
    (:data:`~beyondadam.experiments.losses.MODEL_OUTPUT`).
    """

    def __init__(self, dim: int = 100) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.ones(dim))
        self.register_buffer(
            "hessian", torch.tensor(deep_quadratic_hessian(dim), dtype=torch.float32)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-example losses ``(B,)`` for noise samples ``x`` ``(B, dim)``."""
        q = self.theta - x
        return 0.5 * ((q @ self.hessian) * q).sum(1)


class CifarVGG(nn.Module):
    """A small VGG-style CIFAR-10 net (for GPU or cluster runs): logits ``(B, 10)``.

    Three blocks of two 3x3 convolutions (32, 64, 128 channels; each conv -> batch norm -> ReLU)
    with a 2x2 max-pool after each block, global average pooling and one linear layer.
    """

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128), classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        n_in = 3
        for w in widths:
            for _ in range(2):
                layers += [nn.Conv2d(n_in, w, 3, padding=1, bias=False), nn.BatchNorm2d(w)]
                layers.append(nn.ReLU())
                n_in = w
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(n_in, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 10)`` for images ``(B, 3, 32, 32)``."""
        return self.head(self.features(x))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
