"""Differential test: the compiled engine against the beyondadam.optim (PyTorch) classes.

Each optimizer variant runs on each problem through both paths (float64, a 1-element parameter
with ``constraint=Box(-1, 1)``, the inverse-sqrt or constant schedule) and must agree to 1e-10 at
every step.  The full 10,000-step version is marked slow (the PyTorch loop runs ~2,000 steps/s);
a 400-step version runs always.
"""

from __future__ import annotations

import numpy as np
import pytest

from beyondadam.sim import Config, paper_online, paper_stochastic, run_batch, spec, theorem1
from beyondadam.sim.reference import torch_loop

pytest.importorskip("beyondadam.optim")

VARIANTS = [
    spec("SGD", lr=0.01),
    spec("Momentum", lr=0.01, dampening=0.1, weight_decay=0.01),
    spec("NAG", lr=0.01),
    spec("AdaGrad", lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    spec("RMSProp", lr=0.01),
    spec("RMSProp", lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    spec("AdaDelta", lr=1.0),
    spec("Adam", lr=0.1, betas=(0.9, 0.99)),
    spec("Adam", lr=0.1, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
    spec("NAdam", lr=0.1),
    spec("AMSGrad", lr=0.1, betas=(0.9, 0.99)),
    spec("AMSGrad", lr=0.1, betas=(0.9, 0.99), flavor="pytorch"),
    spec("AMSGrad", lr=0.1, betas=(0.9, 0.99), flavor="optax"),
    spec("AMSGrad", lr=0.1, beta1_decay=0.99),
    spec("AMSGrad", lr=0.1, flavor="pytorch", beta1_decay="inverse"),
    spec("AMSGrad", lr=0.1, flavor="optax", beta1_decay=0.9),
    spec("AdamNC", lr=0.1),
    spec("AdamNC", lr=0.1, beta1_decay=0.99),
    spec("AdamNC", lr=0.1, beta1_decay="inverse"),
]
PROBLEMS = [theorem1(3), paper_online(), paper_stochastic()]


def _compare(steps: int, variants, schedule: str = "inverse_sqrt") -> None:
    for prob in PROBLEMS:
        cfgs = [Config(v, prob, schedule, seed=11, x0=0.0) for v in variants]
        r = run_batch(cfgs, steps, "all")
        for i, cfg in enumerate(cfgs):
            xt, rt = torch_loop(cfg, steps)
            diff = np.abs(xt - r.x[i])
            bad = np.flatnonzero(diff > 1e-10)
            assert bad.size == 0, (
                f"{cfg.label} on {prob.name}: first divergence at step {bad[0] + 1}: "
                f"torch {xt[bad[0]]!r} engine {r.x[i, bad[0]]!r}"
            )
            np.testing.assert_allclose(r.avg_regret[i], rt, rtol=0, atol=1e-9)


def test_engine_matches_torch_short():
    _compare(400, VARIANTS)
    _compare(200, [VARIANTS[0], VARIANTS[7], VARIANTS[10]], schedule="constant")


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.label)
def test_engine_matches_torch_10k_steps(variant):
    _compare(10_000, [variant])
