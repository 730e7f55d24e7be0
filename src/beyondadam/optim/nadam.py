"""NAdam: Adam with Nesterov momentum, another member of the family the paper's analysis covers."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from beyondadam.optim._adam_family import ADAM_HYPERPARAMETERS
from beyondadam.optim._base import BeyondOptimizer, Group, ParamsT, State, States, Tensors, zeros
from beyondadam.optim._entry import (
    Entry,
    Oracle,
    same,
    sample_adam,
)
from beyondadam.optim._validation import NON_NEGATIVE, interval


def _scalar_dtype() -> torch.dtype:
    # torch.optim keeps the running product of momentum coefficients as a scalar tensor of this
    # dtype (float32 unless the default dtype is float64); the same rounding keeps us equal to it.
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


class NAdam(BeyondOptimizer):
    r"""NAdam (Dozat, 2016); equals ``torch.optim.NAdam`` step by step.

    .. math::
        \mu_t = \beta_1\big(1 - \tfrac12\, 0.96^{t\psi}\big), \qquad
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,

        x_{t+1} = \Pi_F^{A_t}\Big(x_t
          - \eta \frac{(1 - \mu_t)}{1 - \prod_{s \le t}\mu_s} \frac{g_t}{d_t}
          - \eta \frac{\mu_{t+1}}{1 - \prod_{s \le t+1}\mu_s} \frac{m_t}{d_t}\Big), \qquad
        d_t = \sqrt{v_t / (1 - \beta_2^t)} + \epsilon

    with :math:`\psi` = ``momentum_decay`` and the projection weighted by
    :math:`A_t = \operatorname{diag}(d_t)`.
    State: ``step``, ``mu_product`` (scalar tensor), ``exp_avg`` (:math:`m_t`),
    ``exp_avg_sq`` (:math:`v_t`).
    """

    hyperparameters = {**ADAM_HYPERPARAMETERS, "momentum_decay": interval(NON_NEGATIVE)}

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "mu_product": torch.ones((), dtype=_scalar_dtype()),
            **zeros(p, "exp_avg", "exp_avg_sq"),
        }

    @staticmethod
    def _coefficients(group: dict[str, Any], t: int, state: dict[str, Any]) -> tuple[float, ...]:
        """Advance ``mu_product`` and return (bias_correction2, coef of g, coef of m)."""
        (b1, b2), psi, lr = group["betas"], group["momentum_decay"], group["lr"]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        prod = state["mu_product"].item()
        return 1 - b2**t, -lr * (1.0 - mu) / (1.0 - prod), -lr * mu_next / (1.0 - prod * mu_next)

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        (b1, b2), eps = group["betas"], group["eps"]
        bc2, coef_g, coef_m = self._coefficients(group, t, state)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        d = v.div(bc2).sqrt_().add_(eps)
        p.addcdiv_(g, d, value=coef_g)
        p.addcdiv_(m, d, value=coef_m)

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        (b1, b2), eps = group["betas"], group["eps"]
        coefs = [self._coefficients(group, t, s) for s in states]
        ms = [s["exp_avg"] for s in states]
        vs = [s["exp_avg_sq"] for s in states]
        torch._foreach_lerp_(ms, grads, 1 - b1)
        torch._foreach_mul_(vs, b2)
        torch._foreach_addcmul_(vs, grads, grads, value=1 - b2)
        d = torch._foreach_div(vs, coefs[0][0])
        torch._foreach_sqrt_(d)
        torch._foreach_add_(d, eps)
        torch._foreach_addcdiv_(params, grads, d, [c[1] for c in coefs])
        torch._foreach_addcdiv_(params, ms, d, [c[2] for c in coefs])

    def _preconditioner(self, group: dict[str, Any], t: int, state: dict[str, Any]) -> Tensor:
        bc2 = 1 - group["betas"][1] ** t
        return state["exp_avg_sq"].div(bc2).sqrt_().add_(group["eps"])


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_adam(rng),
        "momentum_decay": float(rng.uniform(0.0, 0.01)),
    }


ENTRY = Entry(NAdam, _sample, (Oracle("torch.optim:NAdam", same, same_paths=True),), sim="nadam")
