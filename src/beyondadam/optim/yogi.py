"""Yogi (Zaheer et al., NeurIPS 2018): an additive second-moment update that cannot grow fast."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from beyondadam.optim._adam_family import ADAM_HYPERPARAMETERS
from beyondadam.optim._base import BeyondOptimizer, Group, ParamsT, State, States, Tensors
from beyondadam.optim._entry import (
    Entry,
    Oracle,
    log_uniform,
    sample_adam,
    split_betas,
)
from beyondadam.optim._validation import NON_NEGATIVE, check_choice, interval

YOGI_FLAVORS = ("paper", "optax")


def _check_flavor(owner: str, name: str, value: Any) -> None:
    check_choice(owner, name, value, YOGI_FLAVORS)


class Yogi(BeyondOptimizer):
    r"""Yogi: Adam whose :math:`v_t` moves to :math:`g_t^2` by at most :math:`(1-\beta_2) g_t^2`.

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = v_{t-1} - (1 - \beta_2)\operatorname{sign}(v_{t-1} - g_t^2)\, g_t^2,

    ``flavor="paper"`` (Algorithm 2 of Zaheer et al. 2018; the default): no bias correction,
    :math:`m_0 = 0`, :math:`v_0 = ` ``initial_accumulator_value`` (the algorithm's
    :math:`v_0 = 0` is ``initial_accumulator_value=0``),

    .. math::
        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \eta \frac{m_t}{\sqrt{v_t} + \epsilon}\Big), \qquad
        A_t = \operatorname{diag}(\sqrt{v_t} + \epsilon);

    ``flavor="optax"`` (``optax.yogi``): both moments start at ``initial_accumulator_value``
    (``optax.yogi`` fixes it at 1e-6) and both are bias-corrected as in Adam,

    .. math::
        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \frac{\eta}{1-\beta_1^t}\frac{m_t}{d_t}\Big), \qquad
        d_t = \sqrt{v_t/(1-\beta_2^t)} + \epsilon, \qquad A_t = \operatorname{diag}(d_t).

    :math:`g_t` includes ``weight_decay`` :math:`\lambda x_t` (optax's ``yogi`` has none).
    :math:`\operatorname{sign}(0) = 0`. No fused kernel (the sign is per coordinate).
    State: ``step``, ``exp_avg`` (:math:`m_t`), ``exp_avg_sq`` (:math:`v_t`).
    """

    hyperparameters = {
        **ADAM_HYPERPARAMETERS,
        "initial_accumulator_value": interval(NON_NEGATIVE),
        "flavor": _check_flavor,
    }
    identity_keys = ("flavor",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-3,
        initial_accumulator_value: float = 1e-6,
        weight_decay: float = 0.0,
        flavor: str = "paper",
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        init = group["initial_accumulator_value"]
        m0 = init if group["flavor"] == "optax" else 0.0
        return {
            "exp_avg": torch.full_like(p, m0, memory_format=torch.preserve_format),
            "exp_avg_sq": torch.full_like(p, init, memory_format=torch.preserve_format),
        }

    @staticmethod
    def _scalars(group: dict[str, Any], t: int) -> tuple[float, float]:
        """(step size, square root of the second moment's bias correction)."""
        if group["flavor"] == "paper":
            return group["lr"], 1.0
        b1, b2 = group["betas"]
        return group["lr"] / (1 - b1**t), math.sqrt(1 - b2**t)

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        b1, b2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(b1).add_(g, alpha=1 - b1)
        g2 = g * g
        v.addcmul_(torch.sign(v - g2), g2, value=-(1 - b2))
        p.addcdiv_(m, self._preconditioner(group, t, state), value=-self._scalars(group, t)[0])

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        b1, b2 = group["betas"]
        ms = [s["exp_avg"] for s in states]
        vs = [s["exp_avg_sq"] for s in states]
        torch._foreach_mul_(ms, b1)
        torch._foreach_add_(ms, grads, alpha=1 - b1)
        g2 = torch._foreach_mul(grads, grads)
        sign = torch._foreach_sub(vs, g2)
        torch._foreach_sign_(sign)
        torch._foreach_addcmul_(vs, sign, g2, value=-(1 - b2))
        del sign, g2
        step_size, bc2_sqrt = self._scalars(group, t)
        d = torch._foreach_sqrt(vs)
        if bc2_sqrt != 1.0:
            torch._foreach_div_(d, bc2_sqrt)
        torch._foreach_add_(d, group["eps"])
        torch._foreach_addcdiv_(params, ms, d, value=-step_size)

    def _preconditioner(self, group: dict[str, Any], t: int, state: dict[str, Any]) -> Tensor:
        d = state["exp_avg_sq"].sqrt()
        bc2_sqrt = self._scalars(group, t)[1]
        if bc2_sqrt != 1.0:
            d.div_(bc2_sqrt)
        return d.add_(group["eps"])


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    init = 1e-6 if rng.integers(2) == 0 else log_uniform(rng, 1e-8, 1e-1)
    return {
        **sample_adam(rng, (1e-8, 1e-2)),
        "initial_accumulator_value": init,
        "flavor": YOGI_FLAVORS[int(rng.integers(len(YOGI_FLAVORS)))],
    }


def _to_optax(kw: dict[str, Any]) -> dict[str, Any] | None:
    """``optax.yogi``: the optax flavor, its fixed initial value 1e-6, no weight decay."""
    if kw["flavor"] != "optax" or kw["initial_accumulator_value"] != 1e-6 or kw["weight_decay"]:
        return None
    b1, b2 = kw["betas"]
    return {"learning_rate": kw["lr"], "b1": b1, "b2": b2, "eps": kw["eps"]}


ENTRY = Entry(
    Yogi,
    _sample,
    (
        Oracle("tests.reference:yogi", split_betas, kind="reference"),
        Oracle("optax:yogi", _to_optax, kind="optax", package="optax"),
    ),
    sim="yogi",
    variants=tuple({"lr": 0.1, "betas": (0.9, 0.99), "flavor": flavor} for flavor in YOGI_FLAVORS),
)
