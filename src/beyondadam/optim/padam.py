"""Padam (Chen & Gu, 2018/IJCAI 2020): AMSGrad with a partially adaptive exponent."""

from __future__ import annotations

from typing import Any

import numpy as np

from beyondadam.optim._adam_family import ADAM_HYPERPARAMETERS, StepScalars, _AdamFamily
from beyondadam.optim._base import ParamsT
from beyondadam.optim._entry import (
    Entry,
    Oracle,
    log_uniform,
    sample_betas,
    sample_common,
    split_betas,
)
from beyondadam.optim._validation import Interval, interval

#: ``partial`` p in (0, 1/2]: p = 1/2 is AMSGrad, p -> 0 tends to momentum SGD.
PARTIAL = Interval(0.0, 0.5, low_closed=False)


class Padam(_AdamFamily):
    r"""Padam ("partially adaptive momentum estimation", Chen & Gu).

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \qquad
        \hat v_t = \max(\hat v_{t-1}, v_t),

        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \eta \frac{m_t}{\hat v_t^{\,p} + \epsilon}\Big), \qquad
        A_t = \operatorname{diag}(\hat v_t^{\,p} + \epsilon)

    with ``partial`` :math:`p \in (0, 1/2]`, no bias correction, and :math:`g_t` including
    ``weight_decay`` :math:`\lambda x_t`. The paper writes :math:`(\hat v_t)^{p}` with
    :math:`p \in (0, 1/2]` and recommends :math:`p = 1/8` with a larger ``lr`` (0.1) than Adam's;
    :math:`p = 1/2` is :class:`~beyondadam.optim.AMSGrad` (``flavor="paper"``) exactly, and only
    then does the fused kernel (a square root) apply. Implementations differ in bias corrections
    and in where epsilon sits; we follow the paper's equations.

    State: ``step``, ``exp_avg`` (:math:`m_t`), ``exp_avg_sq`` (:math:`v_t`),
    ``max_exp_avg_sq`` (:math:`\hat v_t`).
    """

    hyperparameters = {**ADAM_HYPERPARAMETERS, "partial": interval(PARTIAL)}
    keeps_max = True
    _fused_unsupported = "for partial != 0.5 (the kernel takes a square root)"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.1,
        betas: tuple[float, float] = (0.9, 0.999),
        partial: float = 0.125,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _power(self, group: dict[str, Any]) -> float:
        return group["partial"]

    def _scalars(self, group: dict[str, Any], t: int) -> StepScalars:
        b1, b2 = group["betas"]
        return StepScalars(b1, b2, group["lr"])


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_common(rng),
        "betas": sample_betas(rng),
        "partial": 0.5 if rng.integers(4) == 0 else float(rng.uniform(0.01, 0.5)),
        "eps": log_uniform(rng, 1e-10, 1e-6),
    }


ENTRY = Entry(
    Padam,
    _sample,
    (Oracle("tests.reference:padam", split_betas, kind="reference"),),
    sim="padam",
    variants=(
        {"lr": 0.1, "betas": (0.9, 0.99), "partial": 0.125},
        {"lr": 0.1, "betas": (0.9, 0.99), "partial": 0.5},
    ),
)
