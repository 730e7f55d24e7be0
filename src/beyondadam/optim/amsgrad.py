"""AMSGrad (Algorithm 2 of the paper) in each of its three published flavors."""

from __future__ import annotations

from typing import Any

import numpy as np

from beyondadam.optim._adam_family import (
    ADAM_HYPERPARAMETERS,
    StepScalars,
    _AdamFamily,
    beta1_at,
    beta1_product,
    check_beta1_decay,
    debiased_ema_beta,
)
from beyondadam.optim._base import ParamsT
from beyondadam.optim._entry import (
    Entry,
    Oracle,
    sample_adam,
    sample_beta1_decay,
)
from beyondadam.optim._validation import check_choice

FLAVORS = ("paper", "pytorch", "optax")


def _check_flavor(owner: str, name: str, value: Any) -> None:
    check_choice(owner, name, value, FLAVORS)


class AMSGrad(_AdamFamily):
    r"""AMSGrad: Adam that keeps the maximum of its second-moment estimate.

    Frameworks disagree on where the maximum is taken and which bias corrections apply, so each
    published variant is offered exactly. With
    :math:`\beta_{1,t} = \beta_1` (``beta1_decay=None``), :math:`\beta_1\lambda^{t-1}`
    (``beta1_decay=lambda``, Theorem 4 of the paper) or :math:`\beta_1/t`
    (``beta1_decay="inverse"``), and :math:`P_t = \prod_{s \le t} \beta_{1,s}`:

    ``flavor="paper"`` (Algorithm 2; the default; no bias correction)

    .. math::
        m_t = \beta_{1,t} m_{t-1} + (1 - \beta_{1,t}) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \quad
        \hat v_t = \max(\hat v_{t-1}, v_t), \quad
        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \eta_t \frac{m_t}{\sqrt{\hat v_t} + \epsilon}\Big)

    ``flavor="pytorch"`` (``torch.optim.Adam(amsgrad=True)``: the max over the raw :math:`v_t`,
    then both bias corrections)

    .. math::
        \hat v_t = \max(\hat v_{t-1}, v_t), \quad
        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \frac{\eta_t}{1 - P_t}
            \frac{m_t}{\sqrt{\hat v_t / (1 - \beta_2^t)} + \epsilon}\Big)

    ``flavor="optax"`` (``optax.amsgrad``: the max over the bias-corrected second moment)

    .. math::
        \hat v_t = \max\Big(\hat v_{t-1}, \frac{v_t}{1 - \beta_2^t}\Big), \quad
        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \eta_t \frac{m_t / (1 - P_t)}
            {\sqrt{\hat v_t} + \epsilon}\Big)

    In every flavor :math:`A_t = \operatorname{diag}` of the denominator, :math:`\eta_t` is
    ``lr`` (use :func:`beyondadam.schedules.inverse_sqrt` for the paper's
    :math:`\eta/\sqrt t`), and :math:`g_t` includes ``weight_decay`` :math:`\cdot x_t`.

    State: ``step``, ``exp_avg`` (:math:`m_t`), ``exp_avg_sq`` (:math:`v_t`),
    ``max_exp_avg_sq`` (:math:`\hat v_t`). In the ``optax`` flavor the first two hold the
    bias-corrected moments :math:`m_t/(1 - P_t)` and :math:`v_t/(1 - \beta_2^t)`, which are
    moving averages themselves (with coefficients :math:`\beta_t (1 - P_{t-1})/(1 - P_t)`), so
    every flavor runs through the same fused kernel. ``pytorch`` with ``beta1_decay`` has no fused
    kernel (its two bias corrections cannot both be folded in) and uses the multi-tensor path.
    """

    hyperparameters = {
        **ADAM_HYPERPARAMETERS,
        "flavor": _check_flavor,
        "beta1_decay": check_beta1_decay,
    }
    identity_keys = ("flavor",)
    keeps_max = True
    _fused_unsupported = "for flavor='pytorch' with beta1_decay (use 'paper' or 'optax')"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        flavor: str = "paper",
        beta1_decay: float | str | None = None,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _native_fused(self, group: dict[str, Any]) -> bool:
        return group["flavor"] == "pytorch" and group["beta1_decay"] is None

    def _scalars(self, group: dict[str, Any], t: int) -> StepScalars:
        (b1, b2), decay, lr = group["betas"], group["beta1_decay"], group["lr"]
        b1_t = beta1_at(b1, decay, t)
        flavor = group["flavor"]
        if flavor == "paper":
            return StepScalars(b1_t, b2, lr)
        if flavor == "pytorch":
            return StepScalars(b1_t, b2, lr / (1 - beta1_product(b1, decay, t)), (1 - b2**t) ** 0.5)
        beta1 = debiased_ema_beta(
            b1_t, beta1_product(b1, decay, t - 1), beta1_product(b1, decay, t)
        )
        beta2 = debiased_ema_beta(b2, b2 ** (t - 1), b2**t)
        return StepScalars(beta1, beta2, lr)


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_adam(rng),
        "flavor": FLAVORS[int(rng.integers(len(FLAVORS)))],
        "beta1_decay": sample_beta1_decay(rng),
    }


def _to_torch(kw: dict[str, Any]) -> dict[str, Any] | None:
    """torch.optim.Adam(amsgrad=True) is the ``pytorch`` flavor with a constant beta1."""
    if kw["flavor"] != "pytorch" or kw["beta1_decay"] is not None:
        return None
    drop = ("flavor", "beta1_decay")
    return {**{k: v for k, v in kw.items() if k not in drop}, "amsgrad": True}


def _to_optax(kw: dict[str, Any]) -> dict[str, Any] | None:
    """optax.amsgrad is the ``optax`` flavor with a constant beta1 (and no weight decay)."""
    if kw["flavor"] != "optax" or kw["beta1_decay"] is not None or kw["weight_decay"] != 0:
        return None
    (b1, b2) = kw["betas"]
    return {"learning_rate": kw["lr"], "b1": b1, "b2": b2, "eps": kw["eps"]}


def to_reference(kw: dict[str, Any], algorithm: str) -> dict[str, Any]:
    """Keyword arguments of ``tests/reference.py:adam_family`` for ``algorithm``."""
    b1, b2 = kw["betas"] if "betas" in kw else (kw["beta1"], 0.0)
    return {
        "algorithm": algorithm,
        "lr": kw["lr"],
        "beta1": b1,
        "beta2": b2,
        "eps": kw["eps"],
        "weight_decay": kw["weight_decay"],
        "beta1_decay": kw["beta1_decay"],
    }


ENTRY = Entry(
    AMSGrad,
    _sample,
    (
        Oracle(
            "tests.reference:adam_family",
            lambda kw: to_reference(kw, kw["flavor"]),
            kind="reference",
        ),
        Oracle("torch.optim:Adam", _to_torch, same_paths=True),
        Oracle("optax:amsgrad", _to_optax, kind="optax", package="optax"),
    ),
    sim="amsgrad",
    variants=tuple(
        {"lr": 0.1, "betas": (0.9, 0.99), "flavor": flavor, "beta1_decay": decay}
        for flavor in FLAVORS
        for decay in (None, 0.99, "inverse")
    ),
)
