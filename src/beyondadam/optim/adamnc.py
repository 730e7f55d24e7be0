"""AdamNC (Algorithm 3 of the paper): Adam with a second moment that averages all past gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from beyondadam.optim._adam_family import StepScalars, _AdamFamily, beta1_at, check_beta1_decay
from beyondadam.optim._base import ParamsT
from beyondadam.optim._entry import (
    Entry,
    Oracle,
    log_uniform,
    sample_beta1_decay,
    sample_common,
)
from beyondadam.optim._validation import NON_NEGATIVE, UNIT_HALF_OPEN, interval
from beyondadam.optim.amsgrad import to_reference


class AdamNC(_AdamFamily):
    r"""AdamNC: :math:`\beta_{2,t} = 1 - 1/t`, so :math:`v_t` is the plain mean of past :math:`g^2`.

    .. math::
        m_t = \beta_{1,t} m_{t-1} + (1 - \beta_{1,t}) g_t, \qquad
        v_t = \Big(1 - \frac1t\Big) v_{t-1} + \frac1t g_t^2 = \frac1t \sum_{s \le t} g_s^2,

        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \eta_t \frac{m_t}{\sqrt{v_t} + \epsilon}\Big), \qquad
        A_t = \operatorname{diag}(\sqrt{v_t} + \epsilon)

    with :math:`\beta_{1,t}` as in :class:`AMSGrad` (``beta1_decay``), no bias correction and no
    maximum (:math:`\hat v_t = v_t`). State: ``step``, ``exp_avg`` (:math:`m_t`),
    ``exp_avg_sq`` (:math:`v_t`).
    """

    hyperparameters = {
        "lr": interval(NON_NEGATIVE),
        "beta1": interval(UNIT_HALF_OPEN),
        "eps": interval(NON_NEGATIVE),
        "weight_decay": interval(NON_NEGATIVE),
        "beta1_decay": check_beta1_decay,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        beta1: float = 0.9,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        beta1_decay: float | str | None = None,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _scalars(self, group: dict[str, Any], t: int) -> StepScalars:
        return StepScalars(
            beta1_at(group["beta1"], group["beta1_decay"], t), 1 - 1 / t, group["lr"]
        )


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_common(rng),
        "beta1": float(rng.uniform(0.0, 0.99)),
        "eps": log_uniform(rng, 1e-10, 1e-6),
        "beta1_decay": sample_beta1_decay(rng),
    }


ENTRY = Entry(
    AdamNC,
    _sample,
    (
        Oracle(
            "tests.reference:adam_family", lambda kw: to_reference(kw, "adamnc"), kind="reference"
        ),
    ),
    sim="adamnc",
    variants=tuple({"lr": 0.1, "beta1_decay": decay} for decay in (None, 0.99, "inverse")),
)
