"""Constraints in checkpoints: plain data in the state_dict, rebuilt on load.

The usual pattern ``torch.save(opt.state_dict(), f)`` then ``opt.load_state_dict(torch.load(f))``
uses torch.load's default ``weights_only=True``, which refuses arbitrary Python objects.
"""

from __future__ import annotations

import io
import math

import pytest
import torch

from beyondadam import optim as bo
from beyondadam.optim.constraints import Box, L1Ball, L2Ball, constraint_from_spec

CONSTRAINTS = [
    Box(-0.2, 0.3),
    Box(low=0.0),
    Box(high=0.25),
    L2Ball(0.5, 0.1),
    L2Ball(0.7, torch.tensor([0.1, -0.2, 0.3])),
    L1Ball(0.6),
]


def _grads(t: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(t)
    return [torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(3, generator=g)]


def _run(opt, params, start: int, stop: int) -> None:
    for t in range(start, stop):
        for p, g in zip(params, _grads(t), strict=True):
            p.grad = g.to(p.dtype)
        opt.step()


def _make(params, constraint):
    return bo.AMSGrad([{"params": params, "constraint": constraint}], lr=0.05)


@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=repr)
def test_checkpoint_round_trip_with_default_torch_load(constraint):
    init = [torch.randn(4, 3, dtype=torch.float64), torch.randn(3)]
    ref = [p.clone().requires_grad_() for p in init]
    _run(_make(ref, constraint), ref, 0, 12)

    run = [p.clone().requires_grad_() for p in init]
    opt = _make(run, constraint)
    _run(opt, run, 0, 6)
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    buf.seek(0)
    saved = torch.load(buf)  # the default: weights_only=True
    assert saved["param_groups"][0]["constraint"]["type"] == type(constraint).__name__

    resumed = [p.detach().clone().requires_grad_() for p in run]
    opt2 = _make(resumed, None)  # the constraint comes from the checkpoint
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["constraint"] == constraint
    _run(opt2, resumed, 6, 12)
    for a, b in zip(resumed, ref, strict=True):
        assert torch.equal(a, b)
        assert constraint.contains(a.detach(), atol=1e-6) or isinstance(constraint, L2Ball)


def test_groups_without_constraint_stay_none():
    p = torch.zeros(2, requires_grad=True)
    sd = bo.SGD([p], lr=0.1).state_dict()
    assert sd["param_groups"][0]["constraint"] is None
    opt = bo.SGD([p], lr=0.1)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["constraint"] is None


@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=repr)
def test_spec_round_trip(constraint):
    spec = constraint.to_spec()
    assert constraint_from_spec(spec) == constraint
    rebuilt = constraint_from_spec(constraint_from_spec(spec).to_spec())
    assert rebuilt == constraint


def test_box_spec_keeps_infinite_bounds():
    spec = Box(low=1.0).to_spec()
    assert spec == {"type": "Box", "low": 1.0, "high": math.inf}


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"type": "Sphere", "radius": 1.0}, r"param group 0: constraint spec must be a dict with"),
        ("L2Ball(1.0)", r"constraint spec must be a dict with 'type' one of Box, L2Ball, L1Ball"),
        ({"radius": 1.0}, r"'type' one of Box, L2Ball, L1Ball; got None"),
        ({"type": "L2Ball", "radius": -1.0}, r"L2Ball is invalid: L2Ball: radius must be"),
        ({"type": "L1Ball"}, r"constraint spec for L1Ball is invalid: .*radius"),
        ({"type": "L1Ball", "radius": "2"}, r"L1Ball is invalid: L1Ball: radius must be a real"),
        ({"type": "Box", "low": 2.0, "high": 1.0}, r"Box is invalid: Box: low \(2.0\) must be"),
        ({"type": "L1Ball", "radius": 1.0, "centre": 0.0}, r"unknown key 'centre'; it takes"),
    ],
)
def test_tampered_spec_is_refused_clearly(spec, match):
    p = torch.zeros(2, requires_grad=True)
    opt = _make([p], L1Ball(1.0))
    sd = opt.state_dict()
    sd["param_groups"][0]["constraint"] = spec
    with pytest.raises(ValueError, match=match):
        _make([p], L1Ball(1.0)).load_state_dict(sd)


def test_state_dicts_holding_constraint_objects_still_load():
    p = torch.zeros(2, requires_grad=True)
    sd = _make([p], None).state_dict()
    sd["param_groups"][0]["constraint"] = L2Ball(2.0)
    opt = _make([p], None)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["constraint"] == L2Ball(2.0)


@pytest.mark.parametrize("cls", [bo.SGD, bo.Momentum, bo.NAG, bo.AdaGrad])
def test_state_dicts_saved_before_the_fused_switch_still_load(cls):
    p = torch.ones(3, requires_grad=True)
    opt = cls([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    sd = opt.state_dict()
    for group in sd["param_groups"]:
        del group["fused"]
    fresh = cls([p], lr=0.1)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["fused"] is None
    p.grad = torch.ones(3)
    fresh.step()
