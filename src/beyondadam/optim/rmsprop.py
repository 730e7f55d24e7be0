"""RMSProp: the exponential moving average of squared gradients that the paper shows can fail."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from beyondadam.optim._base import BeyondOptimizer, Group, ParamsT, State, States, Tensors, zeros
from beyondadam.optim._entry import Entry, Oracle, log_uniform, same, sample_common
from beyondadam.optim._validation import NON_NEGATIVE, UNIT, UNIT_HALF_OPEN, boolean, interval


class RMSProp(BeyondOptimizer):
    r"""RMSProp; equals ``torch.optim.RMSprop`` step by step.

    .. math::
        v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2, \qquad
        \bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t \ \text{(centered only)},

        d_t = \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centered)} \quad\text{or}\quad
        \sqrt{v_t} + \epsilon,

        b_t = \mu b_{t-1} + g_t / d_t, \qquad x_{t+1} = \Pi_F^{A_t}(x_t - \eta\, b_t)

    (with ``momentum`` :math:`\mu = 0`, simply :math:`x_{t+1} = x_t - \eta\, g_t / d_t`).
    The projection is weighted by :math:`A_t = \operatorname{diag}(d_t)`.
    State: ``step``, ``square_avg`` (:math:`v_t`), ``grad_avg`` (centered), ``momentum_buffer``.
    """

    hyperparameters = {
        "lr": interval(NON_NEGATIVE),
        "alpha": interval(UNIT),
        "eps": interval(NON_NEGATIVE),
        "weight_decay": interval(NON_NEGATIVE),
        "momentum": interval(UNIT_HALF_OPEN),
        "centered": boolean,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        names = ["square_avg"]
        if group["momentum"] > 0:
            names.append("momentum_buffer")
        if group["centered"]:
            names.append("grad_avg")
        return zeros(p, *names)

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        alpha = group["alpha"]
        v = state["square_avg"]
        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        if group["centered"]:
            gbar = state["grad_avg"]
            gbar.lerp_(g, 1 - alpha)
            d = v.addcmul(gbar, gbar, value=-1).sqrt_()
        else:
            d = v.sqrt()
        d.add_(group["eps"])
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).addcdiv_(g, d)
            p.add_(buf, alpha=-group["lr"])
        else:
            p.addcdiv_(g, d, value=-group["lr"])

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        alpha = group["alpha"]
        vs = [s["square_avg"] for s in states]
        torch._foreach_mul_(vs, alpha)
        torch._foreach_addcmul_(vs, grads, grads, value=1 - alpha)
        if group["centered"]:
            gbars = [s["grad_avg"] for s in states]
            torch._foreach_lerp_(gbars, grads, 1 - alpha)
            d = torch._foreach_addcmul(vs, gbars, gbars, value=-1)
            torch._foreach_sqrt_(d)
        else:
            d = torch._foreach_sqrt(vs)
        torch._foreach_add_(d, group["eps"])
        if group["momentum"] > 0:
            bufs = [s["momentum_buffer"] for s in states]
            torch._foreach_mul_(bufs, group["momentum"])
            torch._foreach_addcdiv_(bufs, grads, d)
            torch._foreach_add_(params, bufs, alpha=-group["lr"])
        else:
            torch._foreach_addcdiv_(params, grads, d, value=-group["lr"])

    def _preconditioner(self, group: dict[str, Any], t: int, state: dict[str, Any]) -> Tensor:
        v = state["square_avg"]
        if group["centered"]:
            gbar = state["grad_avg"]
            v = v.addcmul(gbar, gbar, value=-1)
        return v.sqrt().add_(group["eps"])


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_common(rng),
        "alpha": float(rng.uniform(0.5, 0.9999)),
        "eps": log_uniform(rng, 1e-10, 1e-6),
        "momentum": 0.0 if rng.integers(2) == 0 else float(rng.uniform(0.0, 0.9)),
        "centered": bool(rng.integers(2)),
    }


ENTRY = Entry(
    RMSProp,
    _sample,
    (Oracle("torch.optim:RMSprop", same, same_paths=True),),
    sim="rmsprop",
    variants=({}, {"momentum": 0.5, "centered": True, "weight_decay": 0.01}),
)
