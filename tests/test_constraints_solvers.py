"""Stress tests of the projection solvers' fast paths (issue 12).

Non-float64 tensors are solved in float32 passes and certified in float64; the first Newton
step on the L2 multiplier comes from the bracket's upper end; the L1 screen works on float32
breakpoints.  Each case is checked against the float64 solve of the same (rounded) input, and
float64 against the optimality conditions of ``tests/test_constraints.py``.
"""

from __future__ import annotations

import pytest
import torch

from beyondadam import optim as bo
from beyondadam.optim.constraints import L1Ball, L2Ball
from tests.test_constraints import assert_l1_kkt, assert_l2_kkt

F64 = torch.float64


def instance(n: int, spread: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g, dtype=F64)
    a = 10.0 ** (spread * (torch.rand(n, generator=g, dtype=F64) - 0.5))
    return x, a


def assert_matches_float64(ball, x: torch.Tensor, a: torch.Tensor, dtype: torch.dtype) -> None:
    """The low-precision solve is feasible and within a few ulps of the float64 solve."""
    xd, ad = x.to(dtype), a.to(dtype)
    got = ball.project(xd, ad)
    assert ball.contains(got, atol=0.0)
    ref = ball.project(xd.to(F64), ad.to(F64))
    info = torch.finfo(dtype)
    scale = max(ball.radius, float(ref.abs().max()))
    # Plus the dtype's smallest subnormal: tiny radii push float16 results into underflow.
    atol = 4 * info.eps * scale + 2 * info.eps * info.smallest_normal
    torch.testing.assert_close(got.to(F64), ref, rtol=4 * info.eps, atol=atol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("spread", [0.0, 6.0, 14.0])
def test_low_precision_matches_float64(dtype: torch.dtype, spread: float) -> None:
    # Huge weight ranges (1e-7..1e7), radii from tiny to just inside the norm.
    if dtype == torch.float16 and spread > 6:
        pytest.skip("float16 cannot hold weights beyond 1e+-4.8")
    x, a = instance(12_000, spread, seed=int(spread))
    norm2, norm1 = float(x.norm()), float(x.abs().sum())
    for r in (1e-6, 0.5, 0.9 * norm2):
        assert_matches_float64(L2Ball(r), x, a, dtype)
        assert_matches_float64(L2Ball(r, 0.25), x, a, dtype)
    for r in (1e-6, 0.5, 0.99 * norm1):
        assert_matches_float64(L1Ball(r), x, a, dtype)


def test_radius_at_the_norm_is_decided_exactly() -> None:
    # Radii one float64 ulp either side of ||x||: the float32 sum cannot decide, float64 must.
    x, a = instance(5_000, 4.0, seed=7)
    x32 = x.to(torch.float32)
    norm = float(torch.linalg.vector_norm(x32.to(F64)))
    for r, inside in ((norm, True), (norm * (1 + 1e-15), True), (norm * (1 - 1e-15), False)):
        ball = L2Ball(r)
        got = ball.project(x32, a.to(torch.float32))
        assert ball.contains(got, atol=0.0)
        assert torch.equal(got, x32) == inside


def test_many_ties_and_zero_entries() -> None:
    # Few distinct values and weights: every Newton piece and breakpoint is tied many times.
    g = torch.Generator().manual_seed(8)
    n = 12_000
    x = torch.randint(-2, 3, (n,), generator=g).to(F64)
    a = 10.0 ** torch.randint(-3, 4, (n,), generator=g).to(F64)
    for r in (1.0, 40.0, float(x.abs().sum()) - 0.5):
        assert_l1_kkt(x, a, L1Ball(r).project(x, a), r)
        assert_matches_float64(L1Ball(r), x, a, torch.float32)
    for r in (1.0, 40.0, float(x.norm()) - 1e-3):
        assert_l2_kkt(x, a, L2Ball(r).project(x, a), r, 0.0)
        assert_matches_float64(L2Ball(r), x, a, torch.float32)


def test_first_newton_step_from_the_upper_end_stays_exact() -> None:
    # One huge weight among tiny ones: the step from a_max (||z||/r - 1) lands far left of
    # lo, which must then be taken as the start (not a bisection, not a wrong root).
    x = torch.ones(1000, dtype=F64)
    a = torch.full((1000,), 1e-6, dtype=F64)
    a[0] = 1e6
    for r in (1e-3, 1.0, 30.0):
        assert_l2_kkt(x, a, L2Ball(r).project(x, a), r, 0.0)
        assert_matches_float64(L2Ball(r), x, a, torch.float32)


def test_optimizer_groups_with_several_params_project_each_tensor() -> None:
    # AMSGrad with an L2Ball on a group of float32 params of different shapes: every tensor
    # is projected onto its own ball, in its own preconditioner's norm.
    g = torch.Generator().manual_seed(9)
    params = [torch.randn(shape, generator=g) * 10 for shape in ((300,), (20, 30), (7,))]
    for radius, ball in ((3.0, L2Ball(3.0)), (5.0, L1Ball(5.0))):
        ps = [p.clone().requires_grad_() for p in params]
        opt = bo.AMSGrad([{"params": ps, "constraint": ball}], lr=0.1)
        for p in ps:
            p.grad = torch.randn(p.shape, generator=g)
        opt.step()
        for p in ps:
            assert ball.contains(p.detach(), atol=0.0)
            norm = p.detach().norm() if isinstance(ball, L2Ball) else p.detach().abs().sum()
            assert float(norm) == pytest.approx(radius, rel=1e-5)
