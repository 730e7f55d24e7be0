r"""One update for Adam, AMSGrad (every flavor) and AdamNC.

All of them take the same step with per-step scalars that differ by algorithm:

.. math::
    m_t = \\beta_{1,t} m_{t-1} + (1 - \\beta_{1,t}) g_t, \\qquad
    v_t = \\beta_{2,t} v_{t-1} + (1 - \\beta_{2,t}) g_t^2, \\qquad
    \\hat v_t = \\max(\\hat v_{t-1}, v_t) \\ \\text{(AMSGrad only)},

    x_{t+1} = \\Pi_F^{A_t}\\big(x_t - \\eta_t\\, m_t / d_t\\big), \\qquad
    d_t = \\sqrt{\\hat v_t}/c_t + \\epsilon, \\qquad A_t = \\operatorname{diag}(d_t),

so a subclass only states :math:`(\\beta_{1,t}, \\beta_{2,t}, \\eta_t, c_t)` as a function of ``t``
(:meth:`_AdamFamily._scalars`). One consequence: whenever :math:`c_t = 1` the step is exactly
torch's fused Adam kernel with its bias corrections switched off (an infinite step count makes
:math:`1 - \\beta^t = 1` exactly), so every flavor gets the memory-bandwidth-bound fused kernel,
not only the one torch ships.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from beyondadam.optim._base import (
    BeyondOptimizer,
    Group,
    ParamsT,
    State,
    States,
    Tensors,
    zeros,
)
from beyondadam.optim._validation import NON_NEGATIVE, OPEN_UNIT, boolean, check_betas, interval


@dataclass(frozen=True)
class StepScalars:
    """The per-step scalars of the shared update (see the module docstring)."""

    beta1: float
    beta2: float
    step_size: float
    bc2_sqrt: float = 1.0
    #: ``False`` for a step without the denominator, ``x -= step_size * m`` (RAdam's warm-up).
    adaptive: bool = True
    #: :math:`c_t` in :math:`\hat v_t = \max(c_t \hat v_{t-1}, v_t)` (AdamX); 1 elsewhere.
    max_scale: float = 1.0


def check_betas_param(owner: str, name: str, value: Any) -> None:
    """Table-style wrapper of :func:`check_betas`."""
    check_betas(owner, value, name)


#: the checks every optimizer with Adam's hyperparameters shares.
ADAM_HYPERPARAMETERS = {
    "lr": interval(NON_NEGATIVE),
    "betas": check_betas_param,
    "eps": interval(NON_NEGATIVE),
    "weight_decay": interval(NON_NEGATIVE),
}


def check_beta1_decay(owner: str, name: str, value: Any) -> None:
    """``None``, a float ``lambda`` in (0, 1), or ``"inverse"``."""
    if value is None or value == "inverse":
        return
    if isinstance(value, float | int) and not isinstance(value, bool) and OPEN_UNIT.contains(value):
        return
    raise ValueError(
        f"{owner}: {name} must be None (constant beta1), a float lambda in (0, 1) "
        f"(beta1_t = beta1 * lambda**(t-1)) or 'inverse' (beta1_t = beta1 / t); got {value!r}"
    )


def beta1_at(beta1: float, decay: float | str | None, t: int) -> float:
    r""":math:`\\beta_{1,t}`: constant, ``beta1 * lambda**(t-1)`` (Theorem 4) or ``beta1 / t``."""
    if decay is None:
        return beta1
    if decay == "inverse":
        return beta1 / t
    return beta1 * decay ** (t - 1)


def beta1_product(beta1: float, decay: float | str | None, t: int) -> float:
    r""":math:`\\prod_{s \\le t} \\beta_{1,s}`, whose complement bias-corrects the first moment."""
    if t == 0:
        return 1.0
    if decay is None:
        return beta1**t
    if beta1 == 0.0:
        return 0.0
    if decay == "inverse":
        return math.exp(t * math.log(beta1) - math.lgamma(t + 1))
    return beta1**t * decay ** (t * (t - 1) / 2)


def debiased_ema_beta(beta: float, previous_product: float, product: float) -> float:
    r"""The coefficient that makes a bias-corrected moving average a moving average itself.

    With :math:`P_t = \\prod_{s\\le t}\\beta_s`, :math:`\\hat m_t = m_t / (1 - P_t)` satisfies
    :math:`\\hat m_t = \\beta'_t \\hat m_{t-1} + (1 - \\beta'_t) g_t` with
    :math:`\\beta'_t = \\beta_t (1 - P_{t-1}) / (1 - P_t)` (so :math:`\\beta'_1 = 0`).
    """
    return beta * (1.0 - previous_product) / (1.0 - product)


_INFINITE_STEPS: dict[torch.device, Tensor] = {}


def _infinite_step(device: torch.device) -> Tensor:
    """A step count of +inf on ``device``, made once (the kernel only reads it).

    ``1 - beta**inf == 1`` exactly, so the fused kernel's bias corrections become identities.
    """
    if device not in _INFINITE_STEPS:
        _INFINITE_STEPS[device] = torch.tensor(math.inf, device=device)
    return _INFINITE_STEPS[device]


class _AdamFamily(BeyondOptimizer):
    """Shared machinery; subclasses define ``_scalars`` and whether the max is kept."""

    has_fused = True
    _fused_unsupported = "for this configuration"
    #: whether the running maximum of the second moment is kept (AMSGrad, AdamX, Padam).
    keeps_max: ClassVar[bool] = False

    def _amsgrad(self, group: dict[str, Any]) -> bool:
        return self.keeps_max

    def _scalars(self, group: dict[str, Any], t: int) -> StepScalars:
        raise NotImplementedError

    def _native_fused(self, group: dict[str, Any]) -> bool:
        """Whether torch's fused kernel computes this update with its own bias corrections."""
        return False

    def _power(self, group: dict[str, Any]) -> float:
        r"""The exponent of the denominator, :math:`\hat v^p`: 1/2 except in Padam."""
        return 0.5

    def _fused_supported(self, group: dict[str, Any]) -> bool:
        if self._power(group) != 0.5:
            return False
        return self._native_fused(group) or self._scalars(group, 2).bc2_sqrt == 1.0

    def _root(self, group: dict[str, Any], v: Tensor) -> Tensor:
        power = self._power(group)
        return v.sqrt() if power == 0.5 else v.pow(power)

    def _coupled_weight_decay(self, group: dict[str, Any]) -> bool:
        return not group.get("decoupled_weight_decay", False)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        names = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if self._amsgrad(group) else ())
        return zeros(p, *names)

    def _decay_decoupled(self, group: dict[str, Any], params: list[Tensor]) -> None:
        wd = group["weight_decay"]
        if wd != 0 and group.get("decoupled_weight_decay", False):
            torch._foreach_mul_(params, 1 - group["lr"] * wd)

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        s = self._scalars(group, t)
        self._decay_decoupled(group, [p])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(g, 1 - s.beta1)
        v.mul_(s.beta2).addcmul_(g, g, value=1 - s.beta2)
        if self._amsgrad(group):
            vmax = state["max_exp_avg_sq"]
            if s.max_scale != 1.0:
                vmax.mul_(s.max_scale)
            v = torch.maximum(vmax, v, out=vmax)
        if not s.adaptive:
            p.add_(m, alpha=-s.step_size)
            return
        d = self._root(group, v)
        if s.bc2_sqrt != 1.0:
            d.div_(s.bc2_sqrt)
        p.addcdiv_(m, d.add_(group["eps"]), value=-s.step_size)

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        s = self._scalars(group, t)
        self._decay_decoupled(group, params)
        ms = [st["exp_avg"] for st in states]
        vs = [st["exp_avg_sq"] for st in states]
        torch._foreach_lerp_(ms, grads, 1 - s.beta1)
        torch._foreach_mul_(vs, s.beta2)
        torch._foreach_addcmul_(vs, grads, grads, value=1 - s.beta2)
        if self._amsgrad(group):
            vmax = [st["max_exp_avg_sq"] for st in states]
            if s.max_scale != 1.0:
                torch._foreach_mul_(vmax, s.max_scale)
            torch._foreach_maximum_(vmax, vs)
            vs = vmax
        if not s.adaptive:
            torch._foreach_add_(params, ms, alpha=-s.step_size)
            return
        power = self._power(group)
        d = torch._foreach_sqrt(vs) if power == 0.5 else torch._foreach_pow(vs, power)
        if s.bc2_sqrt != 1.0:
            torch._foreach_div_(d, s.bc2_sqrt)
        torch._foreach_add_(d, group["eps"])
        torch._foreach_addcdiv_(params, ms, d, value=-s.step_size)

    def _fused(self, group: Group, t: int, params: Tensors, grads: Tensors, states: States) -> None:
        device = params[0].device
        decoupled = group.get("decoupled_weight_decay", False)
        amsgrad = self._amsgrad(group)
        wd = group["weight_decay"]
        if self._native_fused(group):
            beta1, beta2 = group["betas"]
            lr = group["lr"]
            step = torch.tensor(float(t), device=device)
        else:
            s = self._scalars(group, t)
            if not s.adaptive:
                # No kernel takes a step without the denominator (RAdam's first steps).
                grads = self._gradient(group, params, grads, foreach=True)
                self._multi_tensor(group, t, params, grads, states)
                return
            beta1, beta2, lr = s.beta1, s.beta2, s.step_size
            step = _infinite_step(device)
            if decoupled:
                # The kernel would decay by step_size * wd; the decay is lr * wd.
                self._decay_decoupled(group, params)
                decoupled, wd = False, 0.0
            if amsgrad and s.max_scale != 1.0:
                torch._foreach_mul_([st["max_exp_avg_sq"] for st in states], s.max_scale)
        kernel = torch._fused_adamw_ if decoupled else torch._fused_adam_
        kernel(
            params,
            grads,
            [st["exp_avg"] for st in states],
            [st["exp_avg_sq"] for st in states],
            [st["max_exp_avg_sq"] for st in states] if amsgrad else [],
            [step] * len(params),
            amsgrad=amsgrad,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            weight_decay=wd,
            eps=group["eps"],
            maximize=group["maximize"],
            grad_scale=None,
            found_inf=None,
        )

    def _preconditioner(
        self, group: dict[str, Any], t: int, state: dict[str, Any]
    ) -> Tensor | None:
        s = self._scalars(group, t)
        if not s.adaptive:
            return None
        v = state["max_exp_avg_sq" if self._amsgrad(group) else "exp_avg_sq"]
        return self._root(group, v).div_(s.bc2_sqrt).add_(group["eps"])


class AdamSignature(_AdamFamily):
    """Adam's constructor, shared by the members that take exactly Adam's hyperparameters.

    ``lr``, ``betas``, ``eps``, ``weight_decay`` and ``decoupled_weight_decay`` (AdamW's
    decay), plus the switches ``maximize``, ``foreach`` and ``fused``.
    """

    hyperparameters = {
        **ADAM_HYPERPARAMETERS,
        "decoupled_weight_decay": boolean,
    }
    identity_keys = ("decoupled_weight_decay",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, locals())
