"""Differential test: the compiled engine against the beyondadam.optim (PyTorch) classes.

Every catalog entry runs in every one of its ``variants`` (the settings that select different
equations; an explicit ``lr`` where the class has no default) on each problem through both paths
(float64, a 1-element parameter with ``constraint=Box(-1, 1)``, the inverse-sqrt or constant
schedule) and must agree to 1e-10 at every step.  The full 10,000-step version is marked slow (the
PyTorch loop runs ~2,000 steps/s); a 400-step version runs always.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from beyondadam.optim import catalog
from beyondadam.sim import Config, paper_online, paper_stochastic, run_batch, spec, theorem1
from beyondadam.sim.optimizers import OptimizerSpec
from beyondadam.sim.reference import torch_loop

LR_WHERE_REQUIRED = 0.01


def catalog_variants() -> list[OptimizerSpec]:
    """One spec per (catalog entry, variant)."""
    out = []
    for entry in catalog.ENTRIES:
        for variant in entry.variants:
            kw = dict(variant)
            if entry.defaults()["lr"] is inspect.Parameter.empty:
                kw.setdefault("lr", LR_WHERE_REQUIRED)
            out.append(spec(entry.name, **kw))
    return out


VARIANTS = catalog_variants()
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


def test_every_entry_and_variant_is_compared():
    names = {v.name for v in VARIANTS}
    assert names == {e.name for e in catalog.ENTRIES}
    assert len(VARIANTS) == sum(len(e.variants) for e in catalog.ENTRIES)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.label)
def test_engine_matches_torch_short(variant):
    _compare(400, [variant])
    _compare(200, [variant], schedule="constant")


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.label)
def test_engine_matches_torch_10k_steps(variant):
    _compare(10_000, [variant])
