"""AdaBelief (Zhuang et al., NeurIPS 2020): Adam with the variance of g around its momentum.

The second moment tracks the gradient's deviation from its own momentum, the "belief" in the
observed gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from beyondadam.optim._adam_family import ADAM_HYPERPARAMETERS
from beyondadam.optim._base import BeyondOptimizer, Group, ParamsT, State, States, Tensors, zeros
from beyondadam.optim._entry import (
    Entry,
    Oracle,
    sample_adam,
    sample_rectified_betas,
)
from beyondadam.optim._validation import boolean


@dataclass(frozen=True)
class _Plan:
    """One step's scalars: ``x -= step_size * m / (sqrt(s)/bc2_sqrt + eps)``.

    Where ``bc2_sqrt`` is ``None``, the momentum-SGD step ``x -= step_size * m``.
    """

    step_size: float
    bc2_sqrt: float | None
    use_max: bool


class AdaBelief(BeyondOptimizer):
    r"""AdaBelief; equals the authors' package ``adabelief-pytorch`` 0.2.1 step by step.

    (That package with ``weight_decouple=decoupled_weight_decay``, ``fixed_decay=False``,
    ``degenerated_to_sgd=True``; every combination of ``rectify``, ``amsgrad`` and decoupling.)

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        s_t = \beta_2 s_{t-1} + (1 - \beta_2)(g_t - m_t)^2 + \epsilon, \qquad
        \hat s_t = \max(\hat s_{t-1}, s_t) \ (\text{amsgrad}),

    ``rectify=False``:

    .. math::
        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \frac{\eta}{1-\beta_1^t}\frac{m_t}{d_t}\Big), \qquad
        d_t = \frac{\sqrt{s_t}}{\sqrt{1-\beta_2^t}} + \epsilon
        \ (\sqrt{\hat s_t} \text{ with amsgrad}), \qquad A_t = \operatorname{diag}(d_t);

    ``rectify=True`` (RAdam's rectification, with :math:`\rho_t` and :math:`r_t` as in
    :class:`~beyondadam.optim.RAdam`):

    .. math::
        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \frac{\eta\, r_t\sqrt{1-\beta_2^t}}{1-\beta_1^t}
            \frac{m_t}{\sqrt{s_t} + \epsilon}\Big), \quad
            A_t = \operatorname{diag}(\sqrt{s_t} + \epsilon) \qquad (\rho_t \ge 5),

        x_{t+1} = \Pi_F\Big(x_t - \frac{\eta}{1-\beta_1^t} m_t\Big) \qquad (\rho_t < 5).

    :math:`g_t` includes ``weight_decay`` :math:`\lambda x_t`, or, with
    ``decoupled_weight_decay=True`` (the default, as in the package),
    :math:`x_t \leftarrow (1-\eta\lambda)x_t` first.

    Details of the package that we follow (and that differ from the paper's Algorithm 2 or from
    RAdam): :math:`\epsilon` enters twice, inside :math:`s_t` (kept in the state, as in the paper)
    and outside the root; the rectified threshold is :math:`\rho_t \ge 5` (torch's RAdam:
    :math:`> 5`); the rectified step ignores ``amsgrad``'s maximum, and its root is not
    bias-corrected except through :math:`r_t\sqrt{1-\beta_2^t}`. Where the maximum is never used
    (``rectify=True``) we do not keep it (the package does, without using it). The package shares
    its cache of :math:`(\rho_t, r_t)` between param groups that were added with different betas
    after construction; each of our groups uses its own betas. The package computes float16
    parameters in float32; we compute in the parameter's dtype, as torch.optim does. No fused
    kernel (the second moment is of :math:`g_t - m_t`, not :math:`g_t`).

    State: ``step``, ``exp_avg`` (:math:`m_t`), ``exp_avg_var`` (:math:`s_t`) and, with
    ``amsgrad=True, rectify=False``, ``max_exp_avg_var`` (:math:`\hat s_t`).
    """

    hyperparameters = {
        **ADAM_HYPERPARAMETERS,
        "decoupled_weight_decay": boolean,
        "rectify": boolean,
        "amsgrad": boolean,
    }
    identity_keys = ("decoupled_weight_decay", "rectify", "amsgrad")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = True,
        rectify: bool = True,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    @staticmethod
    def _keeps_max(group: dict[str, Any]) -> bool:
        return group["amsgrad"] and not group["rectify"]

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        names = ["exp_avg", "exp_avg_var"]
        if self._keeps_max(group):
            names.append("max_exp_avg_var")
        return zeros(p, *names)

    def _coupled_weight_decay(self, group: dict[str, Any]) -> bool:
        return not group["decoupled_weight_decay"]

    @staticmethod
    def _plan(group: dict[str, Any], t: int) -> _Plan:
        (b1, b2), lr = group["betas"], group["lr"]
        bc1, b2t = 1.0 - b1**t, b2**t
        if not group["rectify"]:
            return _Plan(lr / bc1, math.sqrt(1.0 - b2t), group["amsgrad"])
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * b2t / (1.0 - b2t)
        if rho_t < 5.0:
            return _Plan(lr / bc1, None, False)
        rect = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        return _Plan(lr * math.sqrt((1.0 - b2t) * rect) / bc1, 1.0, False)

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        (b1, b2), eps, wd = group["betas"], group["eps"], group["weight_decay"]
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1.0 - group["lr"] * wd)
        m, s = state["exp_avg"], state["exp_avg_var"]
        m.mul_(b1).add_(g, alpha=1 - b1)
        r = g - m
        s.mul_(b2).addcmul_(r, r, value=1 - b2).add_(eps)
        if self._keeps_max(group):
            torch.maximum(state["max_exp_avg_var"], s, out=state["max_exp_avg_var"])
        plan = self._plan(group, t)
        if plan.bc2_sqrt is None:
            p.add_(m, alpha=-plan.step_size)
            return
        d = state["max_exp_avg_var" if plan.use_max else "exp_avg_var"].sqrt()
        if plan.bc2_sqrt != 1.0:
            d.div_(plan.bc2_sqrt)
        p.addcdiv_(m, d.add_(eps), value=-plan.step_size)

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        (b1, b2), eps, wd = group["betas"], group["eps"], group["weight_decay"]
        if wd != 0 and group["decoupled_weight_decay"]:
            torch._foreach_mul_(params, 1.0 - group["lr"] * wd)
        ms = [st["exp_avg"] for st in states]
        ss = [st["exp_avg_var"] for st in states]
        torch._foreach_mul_(ms, b1)
        torch._foreach_add_(ms, grads, alpha=1 - b1)
        r = torch._foreach_sub(grads, ms)
        torch._foreach_mul_(ss, b2)
        torch._foreach_addcmul_(ss, r, r, value=1 - b2)
        del r
        torch._foreach_add_(ss, eps)
        if self._keeps_max(group):
            vmax = [st["max_exp_avg_var"] for st in states]
            torch._foreach_maximum_(vmax, ss)
        plan = self._plan(group, t)
        if plan.bc2_sqrt is None:
            torch._foreach_add_(params, ms, alpha=-plan.step_size)
            return
        d = torch._foreach_sqrt(vmax if plan.use_max else ss)
        if plan.bc2_sqrt != 1.0:
            torch._foreach_div_(d, plan.bc2_sqrt)
        torch._foreach_add_(d, eps)
        torch._foreach_addcdiv_(params, ms, d, value=-plan.step_size)

    def _preconditioner(
        self, group: dict[str, Any], t: int, state: dict[str, Any]
    ) -> Tensor | None:
        plan = self._plan(group, t)
        if plan.bc2_sqrt is None:
            return None
        s = state["max_exp_avg_var" if plan.use_max else "exp_avg_var"]
        return s.sqrt().div_(plan.bc2_sqrt).add_(group["eps"])


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_adam(rng, (1e-16, 1e-8), sample_rectified_betas(rng)),
        "decoupled_weight_decay": bool(rng.integers(2)),
        "rectify": bool(rng.integers(2)),
        "amsgrad": bool(rng.integers(2)),
    }


def _to_package(kw: dict[str, Any]) -> dict[str, Any]:
    return {
        "lr": kw["lr"],
        "betas": kw["betas"],
        "eps": kw["eps"],
        "weight_decay": kw["weight_decay"],
        "amsgrad": kw["amsgrad"],
        "weight_decouple": kw["decoupled_weight_decay"],
        "fixed_decay": False,
        "rectify": kw["rectify"],
        "degenerated_to_sgd": True,
        "print_change_log": False,
    }


ENTRY = Entry(
    AdaBelief,
    _sample,
    (Oracle("adabelief_pytorch:AdaBelief", _to_package, package="adabelief-pytorch"),),
    sim="adabelief",
    variants=(
        *(
            {"lr": 0.1, "betas": (0.9, 0.99), "rectify": rectify, "amsgrad": amsgrad}
            for rectify in (False, True)
            for amsgrad in (False, True)
        ),
        {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": False},
    ),
)
