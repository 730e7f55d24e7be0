"""Saving and loading mid-run, schedules, and param groups."""

from __future__ import annotations

import io

import pytest
import torch

from beyondadam import optim as bo
from beyondadam.optim.catalog import ENTRIES
from beyondadam.schedules import inverse_sqrt

# Every configuration the catalog marks as selecting different equations.
FACTORIES = {
    f"{e.key}-{i}": (lambda p, e=e, v=v: e.cls(p, **v))
    for e in ENTRIES
    for i, v in enumerate(e.variants)
}


def _grad(step: int, shape) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(step), dtype=torch.float64)


def _steps(opt, sched, params, start, stop):
    for t in range(start, stop):
        for i, p in enumerate(params):
            p.grad = _grad(1000 * i + t, p.shape)
        opt.step()
        sched.step()


@pytest.mark.parametrize("name", list(FACTORIES))
def test_save_load_mid_run_is_bit_identical(name):
    make = FACTORIES[name]
    init = [torch.randn(4, 3, dtype=torch.float64), torch.randn(5, dtype=torch.float64)]
    ref = [p.clone().requires_grad_() for p in init]
    opt = make(ref)
    sched = inverse_sqrt(opt)
    _steps(opt, sched, ref, 0, 50)

    run = [p.clone().requires_grad_() for p in init]
    opt1 = make(run)
    sched1 = inverse_sqrt(opt1)
    _steps(opt1, sched1, run, 0, 25)
    buf = io.BytesIO()
    torch.save({"opt": opt1.state_dict(), "sched": sched1.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=False)

    resumed = [p.detach().clone().requires_grad_() for p in run]
    opt2 = make(resumed)
    sched2 = inverse_sqrt(opt2)  # as with any torch scheduler: build both, then load both
    opt2.load_state_dict(saved["opt"])
    sched2.load_state_dict(saved["sched"])
    _steps(opt2, sched2, resumed, 25, 50)
    for a, b in zip(resumed, ref, strict=True):
        assert torch.equal(a, b)


def test_load_from_another_optimizer_is_refused():
    p = [torch.zeros(3, requires_grad=True)]
    adam = bo.Adam(p)
    p[0].grad = torch.ones(3)
    adam.step()
    with pytest.raises(ValueError, match="different optimizer"):
        bo.AMSGrad(p).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="different optimizer"):
        bo.Adam(p).load_state_dict(torch.optim.Adam(p).state_dict())


def test_load_from_another_flavor_is_refused():
    p = [torch.zeros(3, requires_grad=True)]
    saved = bo.AMSGrad(p, flavor="optax").state_dict()
    with pytest.raises(ValueError, match="flavor"):
        bo.AMSGrad(p, flavor="paper").load_state_dict(saved)
    with pytest.raises(ValueError, match="decoupled_weight_decay"):
        bo.Adam(p).load_state_dict(bo.Adam(p, decoupled_weight_decay=True).state_dict())


def test_inverse_sqrt_schedule():
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = bo.SGD([p], lr=2.0)
    sched = inverse_sqrt(opt)
    seen = []
    for _ in range(5):
        seen.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        sched.step()
    assert seen == pytest.approx([2.0 / t**0.5 for t in range(1, 6)], rel=1e-15)
    assert p.item() == pytest.approx(-sum(seen), rel=1e-15)


def test_param_groups_keep_their_own_hyperparameters():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    opt = bo.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = torch.ones(2)
    b.grad = torch.ones(2)
    opt.step()
    assert torch.allclose(a, torch.full((2,), 0.9))
    assert torch.allclose(b, torch.full((2,), 0.5))


def test_params_without_grad_keep_their_own_step_count():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    opt = bo.AMSGrad([a, b], lr=0.1, flavor="optax")
    for t in range(3):
        a.grad = torch.ones(2)
        b.grad = torch.ones(2) if t == 0 else None
        opt.step()
    assert opt.state[a]["step"] == 3
    assert opt.state[b]["step"] == 1


def test_box_constraint_clamps_every_step():
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = bo.Adam([{"params": [p], "constraint": bo.Box(-0.05, 0.05)}], lr=0.1)
    for _ in range(3):
        p.grad = torch.tensor([1.0, -1.0, 0.0], dtype=torch.float64)
        opt.step()
        assert p.detach().tolist() == [-0.05, 0.05, 0.0]


def test_zero_grad_and_closure():
    p = torch.ones(2, requires_grad=True)
    opt = bo.AMSGrad([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(2.0)
    opt.zero_grad()
    assert p.grad is None
