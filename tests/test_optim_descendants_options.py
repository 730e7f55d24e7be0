"""The descendants: exact reductions, validation, state_dict, param groups, closures, bf16 and the
weighted projection."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from beyondadam import optim as bo
from beyondadam.optim import L2Ball
from beyondadam.optim.catalog import ENTRIES
from tests.oracles import PATHS as _ALL_PATHS
from tests.oracles import Problem, run_torch
from tests.reference import weighted_l2_projection

#: the nine descendants of AMSGrad (issue 9), as listed in the catalog.
NEW = tuple(
    e
    for e in ENTRIES
    if e.cls.__module__.rsplit(".", 1)[-1]
    in {"radam", "adopt", "adabelief", "adabound", "yogi", "padam", "adamx", "nosadam"}
)
PATHS = {k: v for k, v in _ALL_PATHS.items() if k != "default"}


def problem(seed: int, steps: int = 60):
    """``(rng, x0, grads)``: random shapes, a start point and a gradient sequence."""
    rng = np.random.default_rng(seed)
    prob = Problem.random(rng, steps)
    return rng, prob.x0, prob.grads


def run_ours(make, x0, grads, dtype):
    """Iterates after each step of ``make(params)`` fed ``grads``."""
    return run_torch(make, Problem(x0, grads), dtype)


def fused_available(entry, kw: dict) -> bool:
    """Whether ``kw`` selects a configuration with a fused kernel."""
    try:
        entry.cls([torch.zeros(1)], **kw, fused=True)
    except ValueError:
        return False
    return True


P = [torch.zeros(2, requires_grad=True)]


# ----------------------------------------------------------------- exact reductions

REDUCTIONS = {
    "padam-1/2=amsgrad": (
        lambda p, kw, path: bo.Padam(p, partial=0.5, **kw, **PATHS[path]),
        lambda p, kw, path: bo.AMSGrad(p, flavor="paper", **kw, **PATHS[path]),
    ),
    "adamx-constant=amsgrad": (
        lambda p, kw, path: bo.AdamX(p, beta1_decay=None, **kw, **PATHS[path]),
        lambda p, kw, path: bo.AMSGrad(p, flavor="paper", beta1_decay=None, **kw, **PATHS[path]),
    ),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduces_to_amsgrad_paper_exactly(name, path, dtype):
    _, x0, grads = problem(3)
    kw = {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-7, "weight_decay": 0.01}
    ours, theirs = REDUCTIONS[name]
    a = run_ours(lambda p: ours(p, kw, path), x0, grads, dtype)
    b = run_ours(lambda p: theirs(p, kw, path), x0, grads, dtype)
    for xa, xb in zip(a, b, strict=True):
        for u, v in zip(xa, xb, strict=True):
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("path", list(PATHS))
def test_nosadam_gamma_zero_is_adamnc_exactly(path, dtype):
    _, x0, grads = problem(4)
    kw = {"lr": 0.05, "beta1": 0.7, "eps": 1e-7, "weight_decay": 0.01}
    a = run_ours(lambda p: bo.NosAdam(p, gamma=0.0, **kw, **PATHS[path]), x0, grads, dtype)
    b = run_ours(lambda p: bo.AdamNC(p, **kw, **PATHS[path]), x0, grads, dtype)
    for xa, xb in zip(a, b, strict=True):
        for u, v in zip(xa, xb, strict=True):
            np.testing.assert_array_equal(u, v)


def test_reductions_are_not_vacuous():
    """Away from the reduction the trajectories differ (so the exact tests could fail)."""
    _, x0, grads = problem(3)
    kw = {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-7}
    amsgrad = run_ours(lambda p: bo.AMSGrad(p, **kw), x0, grads, torch.float64)[-1][0]
    padam = run_ours(lambda p: bo.Padam(p, partial=0.25, **kw), x0, grads, torch.float64)[-1][0]
    adamx = run_ours(lambda p: bo.AdamX(p, beta1_decay=0.9, **kw), x0, grads, torch.float64)
    amsgrad_decay = run_ours(
        lambda p: bo.AMSGrad(p, beta1_decay=0.9, **kw), x0, grads, torch.float64
    )
    assert not np.allclose(amsgrad, padam)
    assert not np.allclose(adamx[-1][0], amsgrad_decay[-1][0])
    nc = {"lr": 0.05, "beta1": 0.7}
    nos = run_ours(lambda p: bo.NosAdam(p, gamma=0.5, **nc), x0, grads, torch.float64)[-1][0]
    adamnc = run_ours(lambda p: bo.AdamNC(p, **nc), x0, grads, torch.float64)[-1][0]
    assert not np.allclose(nos, adamnc)


# ----------------------------------------------------------------- validation

BAD = [
    (bo.RAdam, {"betas": (0.9, 1.0)}, r"betas\[1\] \(beta2\) must be a real number in \[0, 1\)"),
    (bo.RAdam, {"decoupled_weight_decay": 1}, "decoupled_weight_decay must be True or False"),
    (bo.ADOPT, {"clip_exponent": -0.1}, r"clip_exponent \(None: no clipping\) must be"),
    (bo.ADOPT, {"eps": -1.0}, r"eps must be a real number in \[0, inf\)"),
    (bo.AdaBelief, {"rectify": "yes"}, "rectify must be True or False"),
    (bo.AdaBelief, {"amsgrad": None}, "amsgrad must be True or False"),
    (bo.AdaBound, {"gamma": 0.0}, r"gamma must be a real number in \(0, 1\)"),
    (bo.AMSBound, {"gamma": 1.0}, r"gamma must be a real number in \(0, 1\)"),
    (bo.AdaBound, {"final_lr": -0.1}, r"final_lr must be a real number in \[0, inf\)"),
    (bo.Yogi, {"flavor": "keras"}, "flavor must be one of 'paper', 'optax'"),
    (bo.Yogi, {"initial_accumulator_value": -1e-6}, "initial_accumulator_value must be"),
    (bo.Padam, {"partial": 0.0}, r"partial must be a real number in \(0, 0.5\]"),
    (bo.Padam, {"partial": 0.75}, r"partial must be a real number in \(0, 0.5\]"),
    (bo.Padam, {"partial": 0.25, "fused": True}, "fused=True is not available for partial"),
    (bo.AdamX, {"beta1_decay": 1.5}, "beta1_decay must be None"),
    (bo.NosAdam, {"gamma": 1.5}, r"gamma must be a real number in \[0, 1\]"),
    (bo.NosAdam, {"beta1": 1.0}, r"beta1 must be a real number in \[0, 1\)"),
]


@pytest.mark.parametrize(("cls", "kw", "match"), BAD, ids=lambda v: getattr(v, "__name__", None))
def test_bad_hyperparameters_are_refused_at_construction(cls, kw, match):
    with pytest.raises(ValueError, match=f"^{cls.__name__}: {match}"):
        cls(P, **kw)


@pytest.mark.parametrize("entry", NEW, ids=lambda e: e.key)
def test_every_hyperparameter_is_checked(entry):
    """NaN (or a string) for each hyperparameter is refused, naming it."""
    for name, default in entry.defaults().items():
        bad = "x" if isinstance(default, bool | str) or default is None else math.nan
        if isinstance(default, tuple):
            bad = (math.nan, default[1])
        with pytest.raises(ValueError, match=rf"^{entry.name}: {name}"):
            entry.cls(P, **{name: bad})


# ----------------------------------------------------------------- options


def _kw(entry, seed: int) -> dict:
    return entry.validate(entry.sample(np.random.default_rng(seed)))


def _paths(entry, kw):
    return [p for p in PATHS if p != "fused" or (entry.fused and fused_available(entry, kw))]


@pytest.mark.parametrize("entry", NEW, ids=lambda e: e.key)
def test_state_dict_round_trip_continues_exactly(entry):
    kw = _kw(entry, 1)
    for path in _paths(entry, kw):
        _, x0, grads = problem(8, steps=12)
        whole = run_ours(
            lambda p, path=path: entry.cls(p, **kw, **PATHS[path]), x0, grads, torch.float64
        )
        params = [torch.tensor(x, requires_grad=True) for x in x0]
        opt = entry.cls(params, **kw, **PATHS[path])
        for gs in grads[:6]:
            for p, g in zip(params, gs, strict=True):
                p.grad = torch.tensor(g)
            opt.step()
        saved = opt.state_dict()
        params2 = [p.detach().clone().requires_grad_() for p in params]
        opt2 = entry.cls(params2, **kw, **PATHS[path])
        opt2.load_state_dict(saved)
        for gs in grads[6:]:
            for p, g in zip(params2, gs, strict=True):
                p.grad = torch.tensor(g)
            opt2.step()
        for p, x in zip(params2, whole[-1], strict=True):
            np.testing.assert_array_equal(p.detach().numpy(), x, err_msg=path)


@pytest.mark.parametrize("entry", NEW, ids=lambda e: e.key)
def test_param_groups_and_closure(entry):
    """Two groups with different hyperparameters equal two separate optimizers; the closure's
    loss is returned."""
    kw_a, kw_b = _kw(entry, 2), _kw(entry, 3)
    _, x0, grads = problem(9, steps=20)
    xs = [torch.tensor(x, requires_grad=True) for x in x0[:2]]
    opt = entry.cls([{"params": [xs[0]], **kw_a}, {"params": [xs[1]], **kw_b}])
    sep = [torch.tensor(x, requires_grad=True) for x in x0[:2]]
    opts = [entry.cls([sep[0]], **kw_a), entry.cls([sep[1]], **kw_b)]
    for gs in grads:

        def closure(gs=gs):
            for p, g in zip(xs, gs, strict=False):
                p.grad = torch.tensor(g)
            return 42.0

        assert opt.step(closure) == 42.0
        for o, p, g in zip(opts, sep, gs, strict=False):
            p.grad = torch.tensor(g)
            o.step()
    for a, b in zip(xs, sep, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("entry", NEW, ids=lambda e: e.key)
def test_bfloat16_parameters(entry):
    """bf16 parameters stay bf16 and follow the float32 run on every path."""
    kw = entry.validate({"lr": 0.01})
    _, x0, grads = problem(10, steps=10)
    ref = run_ours(lambda p: entry.cls(p, **kw), x0, grads, torch.float32)
    for path in _paths(entry, kw):
        params = [torch.tensor(x, dtype=torch.bfloat16, requires_grad=True) for x in x0]
        opt = entry.cls(params, **kw, **PATHS[path])
        for gs in grads:
            for p, g in zip(params, gs, strict=True):
                p.grad = torch.tensor(g, dtype=torch.bfloat16)
            opt.step()
        for p, x in zip(params, ref[-1], strict=True):
            assert p.dtype == torch.bfloat16
            np.testing.assert_allclose(p.float().detach().numpy(), x, rtol=0.03, atol=0.03)


def test_default_path_is_fused_where_exact():
    assert bo.RAdam(P)._path(bo.RAdam(P).param_groups[0], P, False) == "fused"
    padam = bo.Padam(P)
    assert padam._path(padam.param_groups[0], P, False) == "single"
    half = bo.Padam(P, partial=0.5)
    assert half._path(half.param_groups[0], P, False) == "fused"


# ----------------------------------------------------------------- weighted projection


@pytest.mark.parametrize("entry", NEW, ids=lambda e: e.key)
def test_projection_is_weighted_by_the_preconditioner(entry):
    """A projected step equals the reference weighted projection of the free step, with the
    weights the optimizer reports (``_preconditioner``), on the steps where the ball binds."""
    kw = entry.validate({"lr": 0.3})
    _, x0, grads = problem(12, steps=8)
    radius = 1.0
    x = torch.tensor(x0[0] * 0.3, requires_grad=True)
    opt = entry.cls([{"params": [x], "constraint": L2Ball(radius)}], **kw, foreach=False)
    bound = 0
    for gs in grads:
        free_x = x.detach().clone().requires_grad_()
        free = entry.cls([free_x], **kw, foreach=False)
        free.load_state_dict(copy.deepcopy(opt.state_dict()))
        free.param_groups[0]["constraint"] = None
        for p in (x, free_x):
            p.grad = torch.tensor(gs[0])
        opt.step()
        free.step()
        t = free.state[free_x]["step"]
        weight = free._preconditioner(free.param_groups[0], t, free.state[free_x])
        y = free_x.detach().numpy()
        a = np.ones_like(y) if weight is None else weight.numpy()
        expected = weighted_l2_projection(y, a, radius)
        np.testing.assert_allclose(x.detach().numpy(), expected, rtol=1e-9, atol=1e-12)
        assert np.linalg.norm(x.detach().numpy()) <= radius * (1 + 1e-12)
        bound += np.linalg.norm(y) > radius
    assert bound > 0


def test_nosadam_weight_sums_match_a_fresh_sum_at_every_step():
    """The running B_t (one term a step, probes at earlier t) equals summing 1..t afresh."""
    from beyondadam.optim.nosadam import weight_sums

    cache: dict[float, tuple[int, float]] = {}
    for t in range(1, 300):
        weight_sums(0.3, 2, cache)  # the fused-path probe must not disturb the running sum
        b_t, big_b = weight_sums(0.3, t, cache)
        assert big_b == sum(float(k) ** -0.3 for k in range(1, t + 1))
        assert b_t == float(t) ** -0.3
    assert cache[0.3][0] == 299
