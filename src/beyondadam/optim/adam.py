"""Adam (Kingma and Ba, 2015), the method whose non-convergence the paper proves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from beyondadam.optim._adam_family import (
    AdamSignature,
    StepScalars,
)
from beyondadam.optim._entry import (
    Entry,
    Oracle,
    sample_adam,
)


class Adam(AdamSignature):
    r"""Adam; equals ``torch.optim.Adam`` (and ``torch.optim.AdamW`` when decoupled) step by step.

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,

        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \frac{\eta}{1 - \beta_1^t}
            \frac{m_t}{d_t}\Big), \qquad
        d_t = \frac{\sqrt{v_t}}{\sqrt{1 - \beta_2^t}} + \epsilon, \qquad
        A_t = \operatorname{diag}(d_t)

    where :math:`g_t = \nabla f_t(x_t) + \lambda x_t` (``weight_decay`` :math:`\lambda`), or,
    with ``decoupled_weight_decay=True``, :math:`g_t = \nabla f_t(x_t)` and
    :math:`x_t \leftarrow (1 - \eta\lambda) x_t` first (AdamW).

    ``fused`` (None | bool) selects torch's fused kernel (the default where the device and dtype
    allow it: CPU or CUDA, floating point). State: ``step``, ``exp_avg`` (:math:`m_t`),
    ``exp_avg_sq`` (:math:`v_t`).
    """

    def _native_fused(self, group: dict[str, Any]) -> bool:
        return True

    def _scalars(self, group: dict[str, Any], t: int) -> StepScalars:
        b1, b2 = group["betas"]
        return StepScalars(b1, b2, group["lr"] / (1 - b1**t), (1 - b2**t) ** 0.5)


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_adam(rng),
        "decoupled_weight_decay": bool(rng.integers(2)),
    }


def _to_torch(decoupled: bool) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """torch.optim.Adam for coupled weight decay, torch.optim.AdamW for decoupled."""

    def translate(kw: dict[str, Any]) -> dict[str, Any] | None:
        if kw["decoupled_weight_decay"] != decoupled:
            return None
        return {k: v for k, v in kw.items() if k != "decoupled_weight_decay"}

    return translate


ENTRY = Entry(
    Adam,
    _sample,
    (
        Oracle("torch.optim:Adam", _to_torch(False), same_paths=True),
        Oracle("torch.optim:AdamW", _to_torch(True), same_paths=True),
    ),
    sim="adam",
    variants=(
        {"lr": 0.1, "betas": (0.9, 0.99)},
        {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True},
    ),
)
