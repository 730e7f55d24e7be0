"""Step-size schedules of the paper, as standard ``torch.optim.lr_scheduler`` objects."""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR


class _InverseSqrtFactor:
    """``t -> 1/sqrt(t)`` for the scheduler's 0-based counter; an object, so it pickles."""

    def __call__(self, completed_steps: int) -> float:
        return 1.0 / math.sqrt(completed_steps + 1)


def inverse_sqrt(optimizer: torch.optim.Optimizer, last_epoch: int = -1) -> LambdaLR:
    r"""A scheduler giving :math:`\eta_t = \eta / \sqrt{t}` at the ``t``-th step (``t`` from 1).

    This is the step size of the paper's theory (Theorems 4 and 5) and of its logistic-regression
    and synthetic experiments. Call ``scheduler.step()`` after each ``optimizer.step()``, as with
    any torch scheduler::

        opt = AMSGrad(model.parameters(), lr=0.1)
        sched = inverse_sqrt(opt)
        for batch in data:
            ...
            opt.step()
            sched.step()
    """
    return LambdaLR(optimizer, _InverseSqrtFactor(), last_epoch=last_epoch)
