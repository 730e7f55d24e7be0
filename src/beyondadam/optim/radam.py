"""RAdam (Liu et al., 2020): Adam whose adaptive step waits until its variance is tractable."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from beyondadam.optim._adam_family import (
    AdamSignature,
    StepScalars,
)
from beyondadam.optim._entry import (
    Entry,
    Oracle,
    same,
    sample_adam,
    sample_rectified_betas,
)

#: the length of the approximated simple moving average above which the step is rectified.
RHO_THRESHOLD = 5.0


def rectification(beta2: float, t: int) -> float | None:
    r"""The rectification factor :math:`r_t`, or ``None`` while :math:`\rho_t \le 5`.

    :math:`\rho_\infty = 2/(1-\beta_2) - 1`,
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`,
    :math:`r_t = \sqrt{(\rho_t-4)(\rho_t-2)\rho_\infty / ((\rho_\infty-4)(\rho_\infty-2)\rho_t)}`.
    """
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    b2t = beta2**t
    rho_t = rho_inf - 2.0 * t * b2t / (1.0 - b2t)
    if rho_t <= RHO_THRESHOLD:
        return None
    return math.sqrt(
        (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)
    )


class RAdam(AdamSignature):
    r"""RAdam (Liu et al., ICLR 2020); equals ``torch.optim.RAdam`` step by step.

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,

        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \frac{\eta\, r_t \sqrt{1-\beta_2^t}}{1 - \beta_1^t}
            \frac{m_t}{\sqrt{v_t} + \epsilon}\Big), \quad
            A_t = \operatorname{diag}(\sqrt{v_t} + \epsilon) \qquad (\rho_t > 5),

        x_{t+1} = \Pi_F\Big(x_t - \frac{\eta}{1 - \beta_1^t} m_t\Big)
            \qquad (\rho_t \le 5: \text{momentum SGD, Euclidean projection}),

    with :math:`\rho_\infty = 2/(1-\beta_2) - 1`,
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)` and
    :math:`r_t = \sqrt{(\rho_t-4)(\rho_t-2)\rho_\infty/((\rho_\infty-4)(\rho_\infty-2)\rho_t)}`.
    :math:`g_t` includes ``weight_decay`` :math:`\lambda x_t`, or, with
    ``decoupled_weight_decay=True``, :math:`x_t \leftarrow (1-\eta\lambda)x_t` first.

    Implementations differ in two details, and we follow ``torch.optim.RAdam``: epsilon is added
    to :math:`\sqrt{v_t}` before the :math:`\sqrt{1-\beta_2^t}` correction (the authors' code
    divides by :math:`\sqrt{v_t/(1-\beta_2^t)} + \epsilon`), and the threshold is
    :math:`\rho_t > 5` (AdaBelief's rectified branch uses :math:`\rho_t \ge 5`). With
    :math:`\beta_2 < 0.6`, :math:`\rho_\infty < 4` and every step is the momentum-SGD one.

    Rectified steps are the Adam family's shape with per-step scalars, so they run through
    torch's fused Adam kernel; the first few (momentum-SGD) steps take the multi-tensor path.
    State: ``step``, ``exp_avg`` (:math:`m_t`), ``exp_avg_sq`` (:math:`v_t`).
    """

    def _scalars(self, group: dict[str, Any], t: int) -> StepScalars:
        (b1, b2), lr = group["betas"], group["lr"]
        bc1 = 1.0 - b1**t
        rect = rectification(b2, t)
        if rect is None:
            return StepScalars(b1, b2, lr / bc1, adaptive=False)
        return StepScalars(b1, b2, lr * rect * (1.0 - b2**t) ** 0.5 / bc1)


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_adam(rng, betas=sample_rectified_betas(rng)),
        "decoupled_weight_decay": bool(rng.integers(2)),
    }


ENTRY = Entry(
    RAdam,
    _sample,
    # torch.optim.RAdam has single and foreach paths but no fused one, so it is run on its
    # default path; tests/test_optim_descendants.py also compares path against path.
    (Oracle("torch.optim:RAdam", same),),
    sim="radam",
    variants=(
        {"lr": 0.1, "betas": (0.9, 0.99)},
        {"lr": 0.1, "betas": (0.9, 0.5)},
        {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
)
