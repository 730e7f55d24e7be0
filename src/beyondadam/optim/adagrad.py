"""AdaGrad: per-coordinate steps from an increasing accumulator, as the paper's analysis needs."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from beyondadam.optim._base import BeyondOptimizer, Group, ParamsT, State, States, Tensors
from beyondadam.optim._entry import Entry, Oracle, log_uniform, same, sample_common
from beyondadam.optim._validation import NON_NEGATIVE, interval


class AdaGrad(BeyondOptimizer):
    r"""AdaGrad; equals ``torch.optim.Adagrad`` step by step (sparse gradients included).

    .. math::
        \eta_t = \frac{\eta}{1 + (t - 1)\,\delta}, \qquad
        s_t = s_{t-1} + g_t^2, \qquad
        x_{t+1} = \Pi_F^{A_t}\!\Big(x_t - \eta_t \frac{g_t}{\sqrt{s_t} + \epsilon}\Big)

    with :math:`s_0` = ``initial_accumulator_value``, :math:`\delta` = ``lr_decay`` and the
    projection weighted by :math:`A_t = \operatorname{diag}(\sqrt{s_t} + \epsilon)`.
    State: ``step``, ``sum`` (:math:`s_t`).
    """

    supports_sparse = True
    has_fused = True
    hyperparameters = {
        "lr": interval(NON_NEGATIVE),
        "lr_decay": interval(NON_NEGATIVE),
        "weight_decay": interval(NON_NEGATIVE),
        "initial_accumulator_value": interval(NON_NEGATIVE),
        "eps": interval(NON_NEGATIVE),
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        s0 = group["initial_accumulator_value"]
        return {"sum": torch.full_like(p, s0, memory_format=torch.preserve_format)}

    @staticmethod
    def _lr(group: dict[str, Any], t: int) -> float:
        return group["lr"] / (1 + (t - 1) * group["lr_decay"])

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        s, eps, lr_t = state["sum"], group["eps"], self._lr(group, t)
        if g.is_sparse:
            # The update is nonlinear in g, so duplicate indices must be summed first.
            g = g.coalesce()
            idx, val = g._indices(), g._values()
            s.add_(torch.sparse_coo_tensor(idx, val.pow(2), g.shape, check_invariants=False))
            std = s.sparse_mask(g)._values().sqrt_().add_(eps)
            p.add_(
                torch.sparse_coo_tensor(idx, val / std, g.shape, check_invariants=False),
                alpha=-lr_t,
            )
            return
        s.addcmul_(g, g, value=1)
        p.addcdiv_(g, s.sqrt().add_(eps), value=-lr_t)

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        sums = [s["sum"] for s in states]
        torch._foreach_addcmul_(sums, grads, grads, value=1)
        std = torch._foreach_sqrt(sums)
        torch._foreach_add_(std, group["eps"])
        torch._foreach_addcdiv_(params, grads, std, value=-self._lr(group, t))

    def _fused(self, group: Group, t: int, params: Tensors, grads: Tensors, states: States) -> None:
        """Torch's fused AdaGrad kernel: the same update, ``lr / (1 + (t - 1) lr_decay)`` inside."""
        # The kernel reads the (already counted) step from a tensor; torch keeps it in float32.
        step = torch.full((), float(t), dtype=torch.float32, device=params[0].device)
        torch._fused_adagrad_(
            params,
            grads,
            [s["sum"] for s in states],
            [step] * len(params),
            lr=group["lr"],
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
        )

    def _preconditioner(self, group: dict[str, Any], t: int, state: dict[str, Any]) -> Tensor:
        return state["sum"].sqrt().add_(group["eps"])


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_common(rng),
        "lr_decay": float(rng.uniform(0.0, 0.05)),
        "initial_accumulator_value": float(rng.uniform(0.0, 0.5)),
        "eps": log_uniform(rng, 1e-10, 1e-6),
    }


ENTRY = Entry(
    AdaGrad,
    _sample,
    (Oracle("torch.optim:Adagrad", same, same_paths=True),),
    sim="adagrad",
    variants=({"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},),
)
