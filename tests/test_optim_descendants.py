"""What the catalog's generic oracle test does not cover for the descendants of AMSGrad.

``tests/test_optim_catalog.py`` checks every entry (these nine included) against each of its
oracles on random hyperparameters, every path and dtype, and every declared variant. Here: every
rectify/amsgrad/decoupling combination of AdaBelief, AdaBound's final_lr under a scheduler, and
RAdam against each of torch's own paths.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from beyondadam.optim import adabelief, adabound, radam
from beyondadam.optim._entry import Entry
from tests.oracles import PATHS, Problem, resolve, run_oracle, run_ours

# The authors' packages call torch APIs that now warn; their warnings are not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore:.*is deprecated:UserWarning"
)
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}


def assert_trajectories(ours, theirs, dtype, context: str = "") -> None:
    tol = TOL[dtype]
    assert len(ours) == len(theirs)
    for t, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"step {t} {context}")


def problem(seed: int) -> Problem:
    return Problem.random(np.random.default_rng(seed), 60)


@pytest.mark.parametrize("rectify", [False, True])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("path", ["single", "foreach"])
def test_adabelief_every_combination(rectify, amsgrad, decoupled, path):
    entry = adabelief.ENTRY
    kw = entry.validate(
        {
            "lr": 0.05,
            "betas": (0.8, 0.99),
            "eps": 1e-10,
            "weight_decay": 0.05,
            "decoupled_weight_decay": decoupled,
            "rectify": rectify,
            "amsgrad": amsgrad,
        }
    )
    oracle = entry.oracles[0]
    prob = problem(5)
    ours = run_ours(entry, kw, prob, torch.float64, path, maximize=False)
    theirs = run_oracle(oracle, oracle.translate(kw), prob, torch.float64, path, maximize=False)
    assert_trajectories(ours, theirs, torch.float64)


@pytest.mark.parametrize(
    "entry", [adabound.ADABOUND_ENTRY, adabound.AMSBOUND_ENTRY], ids=lambda e: e.key
)
@pytest.mark.parametrize("path", ["single", "foreach"])
def test_adabound_rescales_final_lr_under_a_scheduler(entry: Entry, path: str):
    """The package decays final_lr with lr (final_lr * lr / initial lr); so do we."""
    oracle = entry.oracles[0]
    kw = entry.validate({"lr": 0.05, "final_lr": 0.02, "gamma": 0.05, "weight_decay": 0.01})
    prob = problem(11)
    runs = []
    for make in (
        lambda p: entry.cls(p, **kw, **PATHS[path]),
        lambda p: resolve(oracle)(p, **oracle.translate(kw)),
    ):
        params = [torch.tensor(x, requires_grad=True) for x in prob.x0]
        opt = make(params)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.3)
        out = []
        for gs in prob.grads:
            for p, g in zip(params, gs, strict=True):
                p.grad = torch.tensor(g)
            opt.step()
            sched.step()
            out.append([p.detach().numpy().copy() for p in params])
        runs.append(out)
    assert_trajectories(runs[0], runs[1], torch.float64)
    # Without the rescaling the bounds would not follow the schedule: a real difference.
    plain = run_ours(entry, kw, prob, torch.float64, path, maximize=False)
    assert not np.allclose(plain[-1][0], runs[0][-1][0], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("theirs", ["single", "foreach"])
@pytest.mark.parametrize("path", list(PATHS))
def test_radam_equals_each_torch_path(path, theirs, dtype):
    """torch.optim.RAdam's own single and foreach paths, against each of ours."""
    entry = radam.ENTRY
    for seed in range(3):
        rng = np.random.default_rng(100 + seed)
        kw = entry.validate(entry.sample(rng))
        maximize = bool(rng.integers(2))
        prob = Problem.random(rng, 60)
        ours = run_ours(entry, kw, prob, dtype, path, maximize)
        ref = _torch_radam(kw, prob, dtype, maximize, theirs == "foreach")
        assert_trajectories(ours, ref, dtype, str(kw))


def _torch_radam(kw, prob: Problem, dtype, maximize: bool, foreach: bool):
    params = [torch.tensor(x, dtype=dtype, requires_grad=True) for x in prob.x0]
    opt = torch.optim.RAdam(params, **kw, maximize=maximize, foreach=foreach)
    out = []
    for gs in prob.grads:
        for p, g in zip(params, gs, strict=True):
            p.grad = torch.tensor(g, dtype=dtype)
        opt.step()
        out.append([p.detach().to(torch.float64).numpy().copy() for p in params])
    return out
