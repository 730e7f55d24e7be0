"""AdaDelta: an exponential-moving-average method of the family the paper's analysis covers."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from beyondadam.optim._base import BeyondOptimizer, Group, ParamsT, State, States, Tensors
from beyondadam.optim._entry import Entry, Oracle, log_uniform, same, sample_common
from beyondadam.optim._validation import NON_NEGATIVE, UNIT, interval


class AdaDelta(BeyondOptimizer):
    r"""AdaDelta; equals ``torch.optim.Adadelta`` step by step.

    .. math::
        v_t = \rho v_{t-1} + (1 - \rho) g_t^2, \qquad
        \Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \qquad
        u_t = \rho u_{t-1} + (1 - \rho) \Delta_t^2, \qquad
        x_{t+1} = \Pi_F^{A_t}(x_t - \eta\, \Delta_t)

    The projection is weighted by the inverse of the per-coordinate step scale,
    :math:`A_t = \operatorname{diag}(\sqrt{v_t + \epsilon} / \sqrt{u_{t-1} + \epsilon})`.
    State: ``step``, ``square_avg`` (:math:`v_t`), ``acc_delta`` (:math:`u_t`).
    """

    state_buffers = ("square_avg", "acc_delta")
    hyperparameters = {
        "lr": interval(NON_NEGATIVE),
        "rho": interval(UNIT),
        "eps": interval(NON_NEGATIVE),
        "weight_decay": interval(NON_NEGATIVE),
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        rho, eps = group["rho"], group["eps"]
        v, u = state["square_avg"], state["acc_delta"]
        v.mul_(rho).addcmul_(g, g, value=1 - rho)
        std = v.add(eps).sqrt_()
        delta = u.add(eps).sqrt_()
        if group["constraint"] is not None:
            # Kept for the projection: the scale applied at this step used u_{t-1}.
            state["_scale"] = delta.div(std)
        delta.div_(std).mul_(g)
        u.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-group["lr"])

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        rho, eps = group["rho"], group["eps"]
        vs = [s["square_avg"] for s in states]
        us = [s["acc_delta"] for s in states]
        torch._foreach_mul_(vs, rho)
        torch._foreach_addcmul_(vs, grads, grads, value=1 - rho)
        std = torch._foreach_add(vs, eps)
        torch._foreach_sqrt_(std)
        deltas = torch._foreach_add(us, eps)
        torch._foreach_sqrt_(deltas)
        if group["constraint"] is not None:
            for s, scale in zip(states, torch._foreach_div(deltas, std), strict=True):
                s["_scale"] = scale
        torch._foreach_div_(deltas, std)
        torch._foreach_mul_(deltas, grads)
        torch._foreach_mul_(us, rho)
        torch._foreach_addcmul_(us, deltas, deltas, value=1 - rho)
        torch._foreach_add_(params, deltas, alpha=-group["lr"])

    def _preconditioner(self, group: dict[str, Any], t: int, state: dict[str, Any]) -> Tensor:
        return state.pop("_scale").reciprocal_()


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_common(rng),
        "lr": float(rng.uniform(0.1, 1.0)),
        "rho": float(rng.uniform(0.5, 0.9999)),
        "eps": log_uniform(rng, 1e-10, 1e-6),
    }


ENTRY = Entry(
    AdaDelta, _sample, (Oracle("torch.optim:Adadelta", same, same_paths=True),), sim="adadelta"
)
