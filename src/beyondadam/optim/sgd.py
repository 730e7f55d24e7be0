"""Stochastic gradient descent, heavy-ball momentum and Nesterov momentum.

These are the non-adaptive baselines of the paper's comparisons. Their preconditioner is the
identity, so the paper's projection is the Euclidean one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from beyondadam.optim._base import BeyondOptimizer, Group, ParamsT, State, States, Tensors
from beyondadam.optim._entry import Entry, Oracle, same, sample_common
from beyondadam.optim._validation import NON_NEGATIVE, OPEN_UNIT, UNIT, UNIT_HALF_OPEN, interval


class _MomentumFamily(BeyondOptimizer):
    """Shared update: ``b_t = mu b_{t-1} + (1 - dampening) g_t`` (``b_1 = g_1``), then a step."""

    supports_sparse = True
    has_fused = True
    nesterov: bool = False

    def _fused(self, group: Group, t: int, params: Tensors, grads: Tensors, states: States) -> None:
        """Torch's fused SGD kernel: the same update (decay, sign, momentum, Nesterov), one pass.

        Its first step copies ``g`` into the buffer (``is_first_step``) as ``b_1 = g_1`` says;
        tensors whose buffer already exists and fresh ones go in separate calls.
        """
        mu = group.get("momentum", 0.0)
        kwargs = {
            "weight_decay": group["weight_decay"],
            "momentum": mu,
            "lr": group["lr"],
            "dampening": group.get("dampening", 0.0),
            "nesterov": self.nesterov,
            "maximize": group["maximize"],
        }
        if mu == 0:
            torch._fused_sgd_(params, grads, [], is_first_step=False, **kwargs)
            return
        fresh = [s.get("momentum_buffer") is None for s in states]
        for first in (True, False):
            idx = [i for i, f in enumerate(fresh) if f == first]
            if not idx:
                continue
            if first:
                for i in idx:
                    states[i]["momentum_buffer"] = torch.empty_like(grads[i])
            torch._fused_sgd_(
                [params[i] for i in idx],
                [grads[i] for i in idx],
                [states[i]["momentum_buffer"] for i in idx],
                is_first_step=first,
                **kwargs,
            )

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        mu = group.get("momentum", 0.0)
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.detach().clone()
            else:
                buf.mul_(mu).add_(g, alpha=1 - group["dampening"])
            g = g.add(buf, alpha=mu) if self.nesterov else buf
        p.add_(g, alpha=-group["lr"])

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        mu = group.get("momentum", 0.0)
        if mu != 0:
            if any(s.get("momentum_buffer") is None for s in states):
                bufs = [g.detach().clone() for g in grads]
                for s, b in zip(states, bufs, strict=True):
                    s["momentum_buffer"] = b
            else:
                bufs = [s["momentum_buffer"] for s in states]
                torch._foreach_mul_(bufs, mu)
                torch._foreach_add_(bufs, grads, alpha=1 - group["dampening"])
            grads = torch._foreach_add(grads, bufs, alpha=mu) if self.nesterov else bufs
        torch._foreach_add_(params, grads, alpha=-group["lr"])


class SGD(_MomentumFamily):
    r"""Plain stochastic gradient descent; equals ``torch.optim.SGD`` with ``momentum=0``.

    .. math::
        g_t = \nabla f_t(x_t) + \lambda x_t, \qquad x_{t+1} = \Pi_F(x_t - \eta\, g_t)

    with :math:`\eta` = ``lr``, :math:`\lambda` = ``weight_decay`` and :math:`\Pi_F` the Euclidean
    projection onto the group's ``constraint`` (none by default).
    """

    hyperparameters = {"lr": interval(NON_NEGATIVE), "weight_decay": interval(NON_NEGATIVE)}

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, locals())


class Momentum(_MomentumFamily):
    r"""Heavy-ball momentum; equals ``torch.optim.SGD(momentum=..., dampening=...)``.

    .. math::
        b_1 = g_1, \quad b_t = \mu b_{t-1} + (1 - \tau) g_t, \qquad
        x_{t+1} = \Pi_F(x_t - \eta\, b_t)

    with :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening``, :math:`\eta` = ``lr``.
    State: ``momentum_buffer`` (:math:`b_t`).
    """

    hyperparameters = {
        "lr": interval(NON_NEGATIVE),
        "momentum": interval(UNIT_HALF_OPEN),
        "dampening": interval(UNIT),
        "weight_decay": interval(NON_NEGATIVE),
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        momentum: float = 0.9,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, locals())


class NAG(_MomentumFamily):
    r"""Nesterov momentum; equals ``torch.optim.SGD(momentum=..., nesterov=True)``.

    .. math::
        b_1 = g_1, \quad b_t = \mu b_{t-1} + g_t, \qquad
        x_{t+1} = \Pi_F(x_t - \eta\,(g_t + \mu b_t))

    State: ``momentum_buffer`` (:math:`b_t`).
    """

    nesterov = True
    fixed = {"dampening": 0.0}
    hyperparameters = {
        "lr": interval(NON_NEGATIVE),
        "momentum": interval(OPEN_UNIT),
        "weight_decay": interval(NON_NEGATIVE),
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, locals())


def _momentum_sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_common(rng),
        "momentum": float(rng.uniform(0.0, 0.99)),
        "dampening": float(rng.uniform(0.0, 0.5)),
    }


def _nag_sample(rng: np.random.Generator) -> dict[str, Any]:
    return {**sample_common(rng), "momentum": float(rng.uniform(0.1, 0.99))}


_TORCH_SGD = "torch.optim:SGD"
SGD_ENTRY = Entry(
    SGD,
    sample_common,
    (Oracle(_TORCH_SGD, same, same_paths=True),),
    sim="sgd",
    variants=({"lr": 0.01},),
)
MOMENTUM_ENTRY = Entry(
    Momentum,
    _momentum_sample,
    (Oracle(_TORCH_SGD, same, same_paths=True),),
    sim="momentum",
    variants=({"lr": 0.01, "dampening": 0.1, "weight_decay": 0.01},),
)
NAG_ENTRY = Entry(
    NAG,
    _nag_sample,
    (Oracle(_TORCH_SGD, lambda kw: {**kw, "nesterov": True}, same_paths=True),),
    sim="nag",
    variants=({"lr": 0.01},),
)
