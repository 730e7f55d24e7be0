"""AdamX (Tran & Phong, 2019): AMSGrad whose maximum is rescaled as beta1 decays."""

from __future__ import annotations

from typing import Any

import numpy as np

from beyondadam.optim._adam_family import (
    ADAM_HYPERPARAMETERS,
    StepScalars,
    _AdamFamily,
    beta1_at,
    check_beta1_decay,
)
from beyondadam.optim._base import ParamsT
from beyondadam.optim._entry import (
    Entry,
    Oracle,
    sample_adam,
    sample_beta1_decay,
    split_betas,
)


class AdamX(_AdamFamily):
    r"""AdamX: AMSGrad with the maximum rescaled by :math:`(1-\beta_{1,t})^2/(1-\beta_{1,t-1})^2`.

    Tran Thi Phuong and Le Trieu Phong, "On the Convergence Proof of AMSGrad and a New Version",
    IEEE Access 7, 2019, doi:10.1109/ACCESS.2019.2916341; arXiv:1904.03590.

    They show that the proof of the paper's Theorem 4 treats :math:`\beta_{1,t}` and
    :math:`\beta_{1,t+1}` as equal; AdamX rescales the running maximum so that
    :math:`\hat v_t / (1-\beta_{1,t})^2` is non-decreasing, which is what the proof needs:

    .. math::
        m_t = \beta_{1,t} m_{t-1} + (1 - \beta_{1,t}) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,

        \hat v_t = \max\Big(\frac{(1-\beta_{1,t})^2}{(1-\beta_{1,t-1})^2}\hat v_{t-1},
            \ v_t\Big), \qquad
        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \eta_t \frac{m_t}{\sqrt{\hat v_t} + \epsilon}\Big),
        \qquad A_t = \operatorname{diag}(\sqrt{\hat v_t} + \epsilon)

    with :math:`\beta_{1,t}` as in :class:`~beyondadam.optim.AMSGrad` (``beta1_decay``: ``None``
    constant, ``lambda`` for :math:`\beta_1\lambda^{t-1}`, ``"inverse"`` for :math:`\beta_1/t`),
    :math:`\beta_{1,0} = \beta_1`, :math:`\hat v_0 = 0`, no bias correction, :math:`\eta_t` =
    ``lr`` (a scheduler gives the paper's :math:`\eta/\sqrt t`) and :math:`g_t` including
    ``weight_decay`` :math:`\lambda x_t`. The paper has no epsilon; ``eps = 0`` is its update.
    With a constant :math:`\beta_1` the factor is 1 and AdamX is
    :class:`~beyondadam.optim.AMSGrad` (``flavor="paper"``) exactly. The rescaling is one
    multiply of :math:`\hat v` before torch's fused AMSGrad kernel, so every schedule is fused.

    State: ``step``, ``exp_avg`` (:math:`m_t`), ``exp_avg_sq`` (:math:`v_t`),
    ``max_exp_avg_sq`` (:math:`\hat v_t`).
    """

    hyperparameters = {**ADAM_HYPERPARAMETERS, "beta1_decay": check_beta1_decay}
    keeps_max = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        beta1_decay: float | str | None = None,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _scalars(self, group: dict[str, Any], t: int) -> StepScalars:
        (b1, b2), decay = group["betas"], group["beta1_decay"]
        b1_t = beta1_at(b1, decay, t)
        b1_prev = beta1_at(b1, decay, t - 1) if t > 1 else b1
        scale = ((1.0 - b1_t) / (1.0 - b1_prev)) ** 2
        return StepScalars(b1_t, b2, group["lr"], max_scale=scale)


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_adam(rng),
        "beta1_decay": sample_beta1_decay(rng),
    }


ENTRY = Entry(
    AdamX,
    _sample,
    (Oracle("tests.reference:adamx", split_betas, kind="reference"),),
    sim="adamx",
    variants=tuple(
        {"lr": 0.1, "betas": (0.9, 0.99), "beta1_decay": decay} for decay in (None, 0.99, "inverse")
    ),
)
