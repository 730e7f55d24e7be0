"""NosAdam (Huang, Wang & Dong, IJCAI 2019): Adam whose second moment weights the past more."""

from __future__ import annotations

from typing import Any

import numpy as np

from beyondadam.optim._adam_family import StepScalars, _AdamFamily
from beyondadam.optim._base import ParamsT
from beyondadam.optim._entry import Entry, Oracle, log_uniform, sample_common
from beyondadam.optim._validation import NON_NEGATIVE, UNIT, UNIT_HALF_OPEN, interval


def weight_sums(gamma: float, t: int, cache: dict[float, tuple[int, float]]) -> tuple[float, float]:
    r"""(:math:`b_t`, :math:`B_t`): :math:`b_k = k^{-\gamma}`, :math:`B_t = \sum_{k\le t} b_k`.

    ``cache`` maps ``gamma`` to the largest ``(t, B_t)`` seen: the next step adds one term; an
    earlier ``t`` (the fused-path probe at ``t = 2``) is summed afresh without touching it.
    The terms are always added in the order :math:`k = 1, 2, \ldots`, so :math:`B_t` is the same
    number either way.
    """
    last_t, total = cache.get(gamma, (0, 0.0))
    if last_t > t:
        last_t, total = 0, 0.0
    for k in range(last_t + 1, t + 1):
        total += float(k) ** -gamma
    if t >= cache.get(gamma, (0, 0.0))[0]:
        cache[gamma] = (t, total)
    return float(t) ** -gamma, total


class NosAdam(_AdamFamily):
    r"""NosAdam ("nostalgic Adam"), the NosAdam-HH schedule of Huang, Wang & Dong 2019.

    .. math::
        b_k = k^{-\gamma}, \qquad B_t = \sum_{k \le t} b_k, \qquad
        \beta_{2,t} = \frac{B_{t-1}}{B_t} = 1 - \frac{b_t}{B_t},

        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_{2,t} v_{t-1} + (1 - \beta_{2,t}) g_t^2
            = \frac{1}{B_t}\sum_{k \le t} b_k g_k^2,

        x_{t+1} = \Pi_F^{A_t}\Big(x_t - \eta_t \frac{m_t}{\sqrt{v_t} + \epsilon}\Big), \qquad
        A_t = \operatorname{diag}(\sqrt{v_t} + \epsilon)

    with ``gamma`` :math:`\gamma \in [0, 1]` (:math:`B_t \to \infty`, so :math:`\beta_{2,t} \to 1`:
    past gradients keep a weight at least as large as recent ones), no bias correction (the
    weights sum to one), :math:`\eta_t` = ``lr`` (the paper's :math:`\eta/\sqrt t` is a
    scheduler) and :math:`g_t` including ``weight_decay`` :math:`\lambda x_t`.
    :math:`\gamma = 0` is :class:`~beyondadam.optim.AdamNC` (:math:`\beta_{2,t} = 1 - 1/t`)
    exactly. :math:`B_t` is kept and advanced by one term a step. The step is the
    Adam family's shape, so it runs through torch's fused kernel.

    State: ``step``, ``exp_avg`` (:math:`m_t`), ``exp_avg_sq`` (:math:`v_t`).
    """

    hyperparameters = {
        "lr": interval(NON_NEGATIVE),
        "beta1": interval(UNIT_HALF_OPEN),
        "gamma": interval(UNIT),
        "eps": interval(NON_NEGATIVE),
        "weight_decay": interval(NON_NEGATIVE),
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        beta1: float = 0.9,
        gamma: float = 0.1,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        # gamma -> the last (t, B_t), so that each step adds one term (see weight_sums).
        self._weight_sums: dict[float, tuple[int, float]] = {}
        super().__init__(params, locals())

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load as usual; the running sums restart (the next step sums up to its ``t``)."""
        super().load_state_dict(state_dict)
        self._weight_sums.clear()

    def _scalars(self, group: dict[str, Any], t: int) -> StepScalars:
        b_t, big_b = weight_sums(group["gamma"], t, self._weight_sums)
        return StepScalars(group["beta1"], 1 - b_t / big_b, group["lr"])


def _sample(rng: np.random.Generator) -> dict[str, Any]:
    return {
        **sample_common(rng),
        "beta1": float(rng.uniform(0.0, 0.99)),
        "gamma": 0.0 if rng.integers(4) == 0 else float(rng.uniform(0.0, 1.0)),
        "eps": log_uniform(rng, 1e-10, 1e-6),
    }


def _to_reference(kw: dict[str, Any]) -> dict[str, Any]:
    keys = ("lr", "beta1", "gamma", "eps", "weight_decay")
    return {k: kw[k] for k in keys}


ENTRY = Entry(
    NosAdam,
    _sample,
    (Oracle("tests.reference:nosadam", _to_reference, kind="reference"),),
    sim="nosadam",
    variants=({"lr": 0.1, "gamma": 0.1}, {"lr": 0.1, "gamma": 0.0}),
)
