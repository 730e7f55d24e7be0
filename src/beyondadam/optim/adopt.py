"""ADOPT (Taniguchi et al., NeurIPS 2024): "Modified Adam can converge with any beta2"."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from beyondadam.optim._adam_family import ADAM_HYPERPARAMETERS
from beyondadam.optim._base import BeyondOptimizer, Group, ParamsT, State, States, Tensors
from beyondadam.optim._entry import (
    Entry,
    Oracle,
    sample_adam,
)
from beyondadam.optim._validation import NON_NEGATIVE, boolean, check_in


def _check_clip_exponent(owner: str, name: str, value: Any) -> None:
    if value is not None:
        check_in(owner, f"{name} (None: no clipping)", value, NON_NEGATIVE)


class ADOPT(BeyondOptimizer):
    r"""ADOPT; equals the authors' package ``torch-adopt`` 0.1.0 (``adopt.ADOPT``) step by step.

    The gradient is normalised by the *previous* second moment before it enters the momentum,
    which removes the correlation between the two that lets Adam diverge; the authors prove
    convergence for any :math:`\beta_2`. The first step only initialises :math:`v`:

    .. math::
        t = 1: \quad v_1 = g_1^2, \quad x_2 = x_1;

        t \ge 2: \quad
        m_t = \beta_1 m_{t-1} + (1 - \beta_1)\,
            \operatorname{clip}\Big(\frac{g_t}{\max(\sqrt{v_{t-1}}, \epsilon)}, c_t\Big), \qquad
        x_{t+1} = \Pi_F^{A_t}(x_t - \eta\, m_t), \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2

    with :math:`m_1 = 0`, :math:`\operatorname{clip}(u, c) = \min(\max(u, -c), c)` and
    :math:`c_t = (t-1)^{p}` (``clip_exponent`` :math:`p`; the package's default
    ``clip_lambda = step ** 0.25`` where its ``step`` counts the updates, :math:`t - 1` here;
    ``clip_exponent=None`` disables clipping, the paper's Algorithm 2 without the clip). Epsilon
    bounds :math:`\sqrt{v}` from below (it is not added to it), and there is no bias correction.
    :math:`g_t` includes ``weight_decay`` :math:`\lambda x_t` (also on the first call), or, with
    ``decoupled_weight_decay=True`` (the package's ``decouple=True``),
    :math:`x_t \leftarrow (1-\eta\lambda)x_t` before each update (not on the first call).

    The step itself carries no per-coordinate scale, so the projection's weights are our choice:
    :math:`A_t = \operatorname{diag}(\max(\sqrt{v_t}, \epsilon))`, the normaliser of the next
    gradient. The package's multi-tensor path evaluates ``clip_lambda`` on its float32 step tensor
    (a float32 clip value); ours uses the exact float on every path. No fused kernel (the update
    is not the Adam family's shape). State: ``step``, ``exp_avg`` (:math:`m_t`), ``exp_avg_sq``
    (:math:`v_t`).
    """

    hyperparameters = {
        **ADAM_HYPERPARAMETERS,
        "decoupled_weight_decay": boolean,
        "clip_exponent": _check_clip_exponent,
    }
    identity_keys = ("decoupled_weight_decay",)
    state_buffers = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.9999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        clip_exponent: float | None = 0.25,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _coupled_weight_decay(self, group: dict[str, Any]) -> bool:
        return not group["decoupled_weight_decay"]

    @staticmethod
    def _clip(group: dict[str, Any], t: int) -> float | None:
        p = group["clip_exponent"]
        return None if p is None else float(t - 1) ** p

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if t == 1:
            v.addcmul_(g, g)
            return
        (b1, b2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
        if wd != 0 and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        normed = g.div(v.sqrt().clamp_(min=group["eps"]))
        clip = self._clip(group, t)
        if clip is not None:
            normed.clamp_(-clip, clip)
        m.lerp_(normed, 1 - b1)
        p.add_(m, alpha=-lr)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        ms = [s["exp_avg"] for s in states]
        vs = [s["exp_avg_sq"] for s in states]
        if t == 1:
            torch._foreach_addcmul_(vs, grads, grads)
            return
        (b1, b2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
        if wd != 0 and group["decoupled_weight_decay"]:
            torch._foreach_mul_(params, 1 - lr * wd)
        denom = torch._foreach_sqrt(vs)
        torch._foreach_maximum_(denom, group["eps"])
        normed = torch._foreach_div(grads, denom)
        del denom
        clip = self._clip(group, t)
        if clip is not None:
            torch._foreach_clamp_min_(normed, -clip)
            torch._foreach_clamp_max_(normed, clip)
        torch._foreach_lerp_(ms, normed, 1 - b1)
        del normed
        torch._foreach_add_(params, ms, alpha=-lr)
        torch._foreach_mul_(vs, b2)
        torch._foreach_addcmul_(vs, grads, grads, value=1 - b2)

    def _preconditioner(self, group: dict[str, Any], t: int, state: dict[str, Any]) -> Tensor:
        return state["exp_avg_sq"].sqrt().clamp_(min=group["eps"])


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_adam(rng, (1e-8, 1e-4)),
        "decoupled_weight_decay": bool(rng.integers(2)),
        "clip_exponent": None if rng.integers(3) == 0 else float(rng.uniform(0.0, 0.5)),
    }


def _to_package(kw: dict[str, Any]) -> dict[str, Any]:
    """``adopt.ADOPT`` takes the clip as a function of its update count and ``decouple=``."""
    p = kw["clip_exponent"]
    return {
        "lr": kw["lr"],
        "betas": kw["betas"],
        "eps": kw["eps"],
        "weight_decay": kw["weight_decay"],
        "decouple": kw["decoupled_weight_decay"],
        "clip_lambda": None if p is None else (lambda step: step**p),
    }


ENTRY = Entry(
    ADOPT,
    _sample,
    (Oracle("adopt:ADOPT", _to_package, package="torch-adopt"),),
    sim="adopt",
    variants=(
        {"lr": 0.1, "betas": (0.9, 0.99)},
        {"lr": 0.1, "betas": (0.9, 0.99), "clip_exponent": None},
        {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
)
