"""Test problems (DeepOBS style): data, model, loss and the paper's protocol defaults.

A :class:`Task` knows nothing about optimizers or runners. The defaults follow Section 5 and
Figure 2 of the paper: minibatch 128, beta1 = 0.9, beta2 in {0.99, 0.999}, a log grid of step sizes,
and horizons of a few thousand iterations for the MNIST tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from beyondadam.experiments.models import MLP, CifarNet, LogReg
from beyondadam.schedules import inverse_sqrt

__all__ = ["LR_SCHEDULES", "TASKS", "Task", "get_task"]

#: the step-size rules a task may name (see :meth:`Task.scheduler`).
LR_SCHEDULES = ("inverse_sqrt", "constant")

_CIFAR_MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
_CIFAR_STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)


def _mnist_pre(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.float32).mul_(1.0 / 255.0)


def _cifar_pre(x: torch.Tensor) -> torch.Tensor:
    return (x.to(torch.float32).mul_(1.0 / 255.0) - _CIFAR_MEAN) / _CIFAR_STD


@dataclass(frozen=True)
class Task:
    """A test problem and its protocol defaults.

    Attributes:
        name: task id (``mnist-logreg``, ``mnist-mlp``, ``cifarnet``).
        dataset: ``"mnist"`` or ``"cifar10"`` (see :func:`.data.load_dataset`).
        make_model: builds a freshly initialised model (uses torch's global RNG).
        preprocess: maps a ``uint8`` minibatch to the model's float input.
        lr_schedule: ``"inverse_sqrt"`` (lr_t = lr / sqrt(t)) or ``"constant"``.
        steps: default number of iterations.
        eval_every: default test-evaluation interval (iterations).
        lr_grid: default log grid of step sizes for the protocol.
        beta2_grid: beta2 values searched by the protocol.
        batch_size: minibatch size.
        params: parameter count of the model.

    """

    name: str
    dataset: str
    make_model: Callable[[], nn.Module]
    preprocess: Callable[[torch.Tensor], torch.Tensor]
    lr_schedule: str
    steps: int
    eval_every: int
    lr_grid: tuple[float, ...]
    beta2_grid: tuple[float, ...] = (0.99, 0.999)
    beta1: float = 0.9
    batch_size: int = 128
    params: int = 0
    description: str = ""

    def __post_init__(self) -> None:
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy."""
        return nn.functional.cross_entropy(logits, target)

    def scheduler(
        self, optimizer: torch.optim.Optimizer
    ) -> torch.optim.lr_scheduler.LRScheduler | None:
        """The task's step-size rule for ``optimizer`` (``None``: constant lr).

        The one lr rule of both engines: step it after each ``optimizer.step()``; with
        ``"inverse_sqrt"`` it is :func:`beyondadam.schedules.inverse_sqrt` (lr_t = lr / sqrt(t)).
        """
        return inverse_sqrt(optimizer) if self.lr_schedule == "inverse_sqrt" else None


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task(
            name="mnist-logreg",
            dataset="mnist",
            make_model=LogReg,
            preprocess=_mnist_pre,
            lr_schedule="inverse_sqrt",
            steps=3000,
            eval_every=250,
            lr_grid=(3e-3, 1e-2, 3e-2, 1e-1, 3e-1),
            params=7850,
            description="softmax regression 784->10 on MNIST, lr_t = lr/sqrt(t)",
        ),
        Task(
            name="mnist-mlp",
            dataset="mnist",
            make_model=MLP,
            preprocess=_mnist_pre,
            lr_schedule="constant",
            steps=3000,
            eval_every=250,
            lr_grid=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2),
            params=79510,
            description="784->100 (ReLU)->10 on MNIST, constant lr",
        ),
        Task(
            name="cifarnet",
            dataset="cifar10",
            make_model=CifarNet,
            preprocess=_cifar_pre,
            lr_schedule="constant",
            steps=2500,
            eval_every=250,
            lr_grid=(1e-4, 3e-4, 1e-3),
            params=1803594,
            description="CIFARNET (2 conv 6x6x64 + LRN, fc 384-192, dropout 0.5) on CIFAR-10",
        ),
    )
}


def get_task(name: str) -> Task:
    """The task named ``name``; ValueError listing the known tasks otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {name!r}") from None
