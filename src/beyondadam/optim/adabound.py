"""AdaBound and AMSBound (Luo et al., ICLR 2019): Adam and AMSGrad with bounded step sizes.

Each coordinate's step size is clipped into bounds that close in on an SGD step size.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from beyondadam.optim._adam_family import ADAM_HYPERPARAMETERS
from beyondadam.optim._base import BeyondOptimizer, Group, ParamsT, State, States, Tensors, zeros
from beyondadam.optim._entry import Entry, Oracle, log_uniform, sample_betas, sample_common
from beyondadam.optim._validation import NON_NEGATIVE, OPEN_UNIT, interval


class AdaBound(BeyondOptimizer):
    r"""AdaBound; equals the authors' package ``adabound`` 0.0.5 step by step.

    (``adabound.AdaBound(amsbound=False)``; :class:`AMSBound` is ``amsbound=True``.)

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \qquad
        \hat v_t = \max(\hat v_{t-1}, v_t) \ \text{(AMSBound; } \hat v_t = v_t
        \text{ in AdaBound)},

        \eta_t = \operatorname{clip}\Big(\frac{\alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)}
            {\sqrt{\hat v_t} + \epsilon},\ \eta^*\big(1 - \tfrac{1}{\gamma t + 1}\big),
            \ \eta^*\big(1 + \tfrac{1}{\gamma t}\big)\Big), \qquad
        x_{t+1} = \Pi_F^{A_t}(x_t - \eta_t m_t), \qquad
        A_t = \operatorname{diag}(1/\eta_t),

    with :math:`\alpha` = ``lr``, :math:`\eta^* = ` ``final_lr`` :math:`\cdot\,\alpha/\alpha_0`
    (:math:`\alpha_0` the group's ``lr`` when it was added, kept as ``base_lr`` in the group: a
    scheduler that decays ``lr`` decays the bounds with it, as the package does) and :math:`g_t`
    including ``weight_decay`` :math:`\lambda x_t`.

    The paper's Algorithm 2 has no bias correction and divides the clipped step by
    :math:`\sqrt t`; we follow the authors' code, which bias-corrects as Adam does and leaves any
    decay to a scheduler. Differences from the package: it records the base learning rates once,
    at construction, so a group added later is never updated (ours records each group's when it
    is added); with ``gamma = 0`` it divides by zero (refused here); ``lr = 0`` at construction
    makes its bounds divide by zero (ours then uses ``final_lr`` unscaled). No fused kernel
    (the clip is per coordinate). State: ``step``, ``exp_avg`` (:math:`m_t`), ``exp_avg_sq``
    (:math:`v_t`), and in AMSBound ``max_exp_avg_sq`` (:math:`\hat v_t`).
    """

    amsbound: ClassVar[bool] = False

    hyperparameters = {
        **ADAM_HYPERPARAMETERS,
        "final_lr": interval(NON_NEGATIVE),
        "gamma": interval(OPEN_UNIT),
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        final_lr: float = 0.1,
        gamma: float = 1e-3,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a param group, recording its learning rate as ``base_lr`` (see the class doc)."""
        param_group.setdefault("base_lr", param_group.get("lr", self.defaults["lr"]))
        super().add_param_group(param_group)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        names = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if self.amsbound else [])
        return zeros(p, *names)

    @staticmethod
    def _scalars(group: dict[str, Any], t: int) -> tuple[float, float, float]:
        """(step size before the clip, lower bound, upper bound) at step ``t``."""
        (b1, b2), lr, gamma = group["betas"], group["lr"], group["gamma"]
        step_size = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        base = group["base_lr"]
        final = group["final_lr"] * lr / base if base > 0 else group["final_lr"]
        return step_size, final * (1 - 1 / (gamma * t + 1)), final * (1 + 1 / (gamma * t))

    def _second_moment(self, state: dict[str, Any]) -> Tensor:
        return state["max_exp_avg_sq" if self.amsbound else "exp_avg_sq"]

    def _eta(self, group: dict[str, Any], t: int, state: dict[str, Any]) -> Tensor:
        step_size, low, high = self._scalars(group, t)
        d = self._second_moment(state).sqrt().add_(group["eps"])
        return d.reciprocal_().mul_(step_size).clamp_(low, high)

    def _moments(self, group: dict[str, Any], grads: list[Tensor], states: list[dict]) -> None:
        (b1, b2) = group["betas"]
        ms = [st["exp_avg"] for st in states]
        vs = [st["exp_avg_sq"] for st in states]
        torch._foreach_mul_(ms, b1)
        torch._foreach_add_(ms, grads, alpha=1 - b1)
        torch._foreach_mul_(vs, b2)
        torch._foreach_addcmul_(vs, grads, grads, value=1 - b2)
        if self.amsbound:
            torch._foreach_maximum_([st["max_exp_avg_sq"] for st in states], vs)

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        (b1, b2) = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        if self.amsbound:
            torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        p.addcmul_(self._eta(group, t, state), m, value=-1)

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        self._moments(group, grads, states)
        step_size, low, high = self._scalars(group, t)
        eta = torch._foreach_sqrt([self._second_moment(st) for st in states])
        torch._foreach_add_(eta, group["eps"])
        torch._foreach_reciprocal_(eta)
        torch._foreach_mul_(eta, step_size)
        torch._foreach_clamp_min_(eta, low)
        torch._foreach_clamp_max_(eta, high)
        torch._foreach_addcmul_(params, eta, [st["exp_avg"] for st in states], value=-1)

    def _preconditioner(self, group: dict[str, Any], t: int, state: dict[str, Any]) -> Tensor:
        return self._eta(group, t, state).reciprocal_()


class AMSBound(AdaBound):
    r"""AMSBound: :class:`AdaBound` on the running maximum of the second moment.

    .. math::
        \hat v_t = \max(\hat v_{t-1}, v_t), \qquad
        \eta_t = \operatorname{clip}\Big(\frac{\alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)}
            {\sqrt{\hat v_t} + \epsilon},\ \eta_l(t),\ \eta_u(t)\Big), \qquad
        x_{t+1} = \Pi_F^{A_t}(x_t - \eta_t m_t)

    Equals ``adabound.AdaBound(amsbound=True)`` (package ``adabound`` 0.0.5) step by step; the
    moments, bounds :math:`\eta_l, \eta_u`, projection and differences from the package are
    those of :class:`AdaBound`.
    """

    amsbound = True


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_common(rng),
        "betas": sample_betas(rng),
        "final_lr": log_uniform(rng, 1e-3, 1.0),
        "gamma": log_uniform(rng, 1e-3, 0.5),
        "eps": log_uniform(rng, 1e-10, 1e-6),
    }


def _to_package(amsbound: bool):
    def translate(kw: dict[str, Any]) -> dict[str, Any]:
        return {**kw, "amsbound": amsbound}

    return translate


def _entry(cls: type[AdaBound], sim: str) -> Entry:
    return Entry(
        cls,
        _sample,
        (Oracle("adabound:AdaBound", _to_package(cls.amsbound), package="adabound"),),
        sim=sim,
        variants=(
            {"lr": 0.1, "betas": (0.9, 0.99), "final_lr": 0.1, "gamma": 0.1},
            {"lr": 0.01, "final_lr": 1.0, "gamma": 0.5, "weight_decay": 0.1},
        ),
    )


ADABOUND_ENTRY = _entry(AdaBound, "adabound")
AMSBOUND_ENTRY = _entry(AMSBound, "amsbound")
