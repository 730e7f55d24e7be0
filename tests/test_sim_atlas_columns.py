"""The atlas' array path (no object per cell) against one Config per cell through run_batch."""

from __future__ import annotations

import numpy as np
import pytest

from beyondadam.sim import Config, atlas, get_problem, run_batch, spec
from beyondadam.sim.atlas import beta_grid, rate_checkpoints
from beyondadam.sim.rates import classify, classify_arrays


def _cell_spec(name: str, b1: float, b2: float):
    if name == "RMSProp":
        return spec("Adam", lr=0.3, eps=1e-8, betas=(0.0, b2))
    if name == "AdamNC":
        return spec(name, lr=0.3, eps=1e-8, beta1=b1)
    return spec(name, lr=0.3, eps=1e-8, betas=(b1, b2))


@pytest.mark.parametrize("problem", ["paper_stochastic", "theorem1"])
def test_atlas_equals_one_config_per_cell(problem):
    names = ["Adam", "AMSGrad", "AdamNC", "RMSProp", "Yogi", "AdaBound"]
    prob = get_problem(problem, 5.0)
    res = atlas(prob, names, grid=4, spacing="linear", horizon=400, lr=0.3, seed=2)
    b = beta_grid(4, "linear")
    for name in names:
        cfgs = [Config(_cell_spec(name, b1, b2), prob, seed=2) for b1 in b for b2 in b]
        ref = run_batch(cfgs, 400, rate_checkpoints(400))
        np.testing.assert_array_equal(res.final_x[name].ravel(), ref.final_x)
        np.testing.assert_array_equal(res.avg_regret[name].ravel(), ref.final_avg_regret)
        p, v = classify_arrays(ref.steps, ref.avg_regret)
        np.testing.assert_array_equal(res.exponent[name].ravel(), p)
        assert res.verdict[name].ravel().tolist() == v.tolist()


def test_classify_arrays_is_classify():
    t = np.array([10, 20, 40, 80, 100])
    rng = np.random.default_rng(0)
    avg = np.abs(rng.normal(size=(50, 5))) / t ** rng.uniform(0, 1.2, size=(50, 1))
    avg[3] = 0.0  # no regret: converges
    avg[4, :] = -1.0  # negative: converges, no exponent
    p, v = classify_arrays(t, avg)
    rates = classify(t, avg)
    np.testing.assert_array_equal(p, [r.exponent for r in rates])
    assert v.tolist() == [str(r.verdict) for r in rates]
    assert {"converges", "fails"} <= set(v.tolist())
