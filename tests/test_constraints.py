"""Tests of the weighted projections in beyondadam.optim.constraints.

The projections must solve  min_{y in F} sum_i a_i (y_i - x_i)^2  exactly.  They are checked
against a general-purpose solver (scipy SLSQP), against their first-order optimality
conditions to ~1e-12, against the known unweighted closed forms, and for the in-place contract
(dtype, shape, bit-identity inside the set, input validation).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import lsq_linear, minimize

from beyondadam.optim.constraints import Box, Constraint, L1Ball, L2Ball

F64 = torch.float64
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCIPY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- helpers


def objective(y: np.ndarray, x: np.ndarray, a: np.ndarray) -> float:
    return float(np.sum(a * (y - x) ** 2))


@st.composite
def random_instance(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(x, a, radius, center): weights spanning up to 4 orders of magnitude, x in or out."""
    n = draw(st.integers(1, 20))
    seed = draw(st.integers(0, 2**32 - 1))
    spread = draw(st.floats(0.0, 4.0))
    scale = draw(st.sampled_from([0.2, 0.9, 1.5, 4.0, 30.0]))
    radius = draw(st.sampled_from([0.1, 1.0, 7.0]))
    center = draw(st.sampled_from([0.0, 0.0, -0.5, 2.0]))
    rng = np.random.default_rng(seed)
    a = 10.0 ** rng.uniform(-spread / 2, spread / 2, n)
    d = rng.standard_normal(n)
    d *= scale * radius / max(np.linalg.norm(d), 1e-300)
    return center + d, a, radius, center


finite = st.floats(-100.0, 100.0, allow_nan=False, allow_subnormal=False)
log_weight = st.floats(-3.0, 3.0)


@st.composite
def array_instance(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    """Adversarial float64 arrays (ties, zeros, repeated values) and weights 1e-3..1e3."""
    n = draw(st.integers(1, 30))
    x = draw(hnp.arrays(np.float64, n, elements=finite))
    e = draw(hnp.arrays(np.float64, n, elements=log_weight))
    return torch.from_numpy(x), torch.from_numpy(10.0**e)


def bits(t: torch.Tensor) -> bytes:
    return t.contiguous().view(torch.uint8).numpy().tobytes()


def scipy_l2(x: np.ndarray, a: np.ndarray, r: float, c: float) -> np.ndarray:
    s = a.sum()
    z = x - c
    start = c + z * (r / np.linalg.norm(z))
    res = minimize(
        lambda y: np.sum(a * (y - x) ** 2) / s,
        start,
        jac=lambda y: 2 * a * (y - x) / s,
        method="SLSQP",
        constraints=[
            {
                "type": "ineq",
                "fun": lambda y: (r**2 - np.sum((y - c) ** 2)) / r**2,
                "jac": lambda y: -2 * (y - c) / r**2,
            }
        ],
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    return res.x


def scipy_l1(x: np.ndarray, a: np.ndarray, r: float) -> np.ndarray:
    # Smooth reformulation: y = u - v, u, v >= 0, sum(u + v) <= r.
    n = x.size
    s = a.sum()

    def f(w: np.ndarray) -> float:
        return float(np.sum(a * (w[:n] - w[n:] - x) ** 2) / s)

    def g(w: np.ndarray) -> np.ndarray:
        gy = 2 * a * (w[:n] - w[n:] - x) / s
        return np.concatenate([gy, -gy])

    start = np.zeros(2 * n)
    res = minimize(
        f,
        start,
        jac=g,
        method="SLSQP",
        bounds=[(0.0, None)] * (2 * n),
        constraints=[
            {
                "type": "ineq",
                "fun": lambda w: (r - w.sum()) / r,
                "jac": lambda w: -np.ones(2 * n) / r,
            }
        ],
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    return res.x[:n] - res.x[n:]


def l1_unweighted_reference(x: np.ndarray, r: float) -> np.ndarray:
    """Classical sort-based Euclidean projection onto the l1 ball (Duchi et al., 2008)."""
    if np.abs(x).sum() <= r:
        return x.copy()
    u = np.sort(np.abs(x))[::-1]
    css = np.cumsum(u)
    j = np.arange(1, x.size + 1)
    rho = np.nonzero(u - (css - r) / j > 0)[0][-1]
    theta = (css[rho] - r) / (rho + 1)
    return np.sign(x) * np.maximum(np.abs(x) - theta, 0.0)


# ---------------------------------------------------------------- against a general solver


@SCIPY
@given(random_instance())
def test_l2_matches_scipy(inst: tuple[np.ndarray, np.ndarray, float, float]) -> None:
    x, a, r, c = inst
    y = L2Ball(r, c).project(torch.from_numpy(x), torch.from_numpy(a)).numpy()
    assert np.linalg.norm(y - c) <= r + 1e-12
    if np.linalg.norm(x - c) <= r:
        np.testing.assert_array_equal(y, x)
        return
    assert_l2_kkt(torch.from_numpy(x), torch.from_numpy(a), torch.from_numpy(y), r, c)
    ref = scipy_l2(x, a, r, c)
    # SLSQP stops at ~1e-7 of the problem's scale (||x - c|| far outside: 1.4e-6 r found).
    atol = 1e-6 * max(r, 1.0, 0.1 * np.linalg.norm(x - c))
    np.testing.assert_allclose(y, ref, atol=atol, rtol=0)
    # The solver may be slightly infeasible, which only lowers its objective; account for it.
    slack = max(np.linalg.norm(ref - c) - r, 0.0) * 2 * np.sqrt(np.sum((a * (ref - x)) ** 2))
    assert objective(y, x, a) <= objective(ref, x, a) * (1 + 1e-9) + slack + 1e-12


@SCIPY
@given(random_instance())
def test_l1_matches_scipy(inst: tuple[np.ndarray, np.ndarray, float, float]) -> None:
    x, a, r, c = inst
    x = x - c  # the l1 ball is centred at the origin
    y = L1Ball(r).project(torch.from_numpy(x), torch.from_numpy(a)).numpy()
    assert np.abs(y).sum() <= r + 1e-12
    if np.abs(x).sum() <= r:
        np.testing.assert_array_equal(y, x)
        return
    ref = scipy_l1(x, a, r)
    np.testing.assert_allclose(y, ref, atol=1e-6 * max(r, 1.0), rtol=0)
    slack = max(np.abs(ref).sum() - r, 0.0) * 2 * np.max(np.abs(a * (ref - x)))
    assert objective(y, x, a) <= objective(ref, x, a) * (1 + 1e-9) + slack + 1e-12


@settings(max_examples=10, deadline=None)
@given(random_instance(), st.sampled_from([(-0.5, 0.5), (0.0, math.inf), (-math.inf, 1.0)]))
def test_box_matches_scipy(
    inst: tuple[np.ndarray, np.ndarray, float, float], bounds: tuple[float, float]
) -> None:
    x, a, _, _ = inst
    low, high = bounds
    y = Box(low, high).project(torch.from_numpy(x), torch.from_numpy(a)).numpy()
    # Reference: bounded linear least squares min ||diag(sqrt a) (v - x)|| (exact BVLS).
    sa = np.sqrt(a)
    res = lsq_linear(
        np.diag(sa),
        sa * x,
        bounds=(np.full_like(x, low), np.full_like(x, high)),
        method="bvls",
        tol=1e-14,
    )
    np.testing.assert_allclose(y, res.x, atol=1e-9 * max(1.0, np.abs(x).max()), rtol=0)
    assert np.all((y >= low) & (y <= high))
    assert objective(y, x, a) <= objective(res.x, x, a) + 1e-12


# ------------------------------------------------------------ optimality without scipy


EPS = torch.finfo(F64).eps


def assert_l2_kkt(x: torch.Tensor, a: torch.Tensor, y: torch.Tensor, r: float, c: float) -> None:
    """First-order optimality of y for min sum a (y - x)^2 s.t. ||y - c|| <= r, x outside.

    Tolerances are a few units of roundoff of the float64 numbers involved: y itself is only
    representable to eps * |y_i| (which matters when |c| >> r).
    """
    d = y - c
    ny = torch.linalg.vector_norm(y).item()
    norm = torch.linalg.vector_norm(d).item()
    assert norm <= r  # feasible, exactly
    # On the boundary, up to rounding of y and the margin the final feasibility fix may take.
    assert abs(norm - r) <= 1e-13 * r + 4 * EPS * ny
    # a (y - x) = -mu (y - c) with a single mu >= 0 (least-squares estimate of mu).
    mu = (torch.dot(a * (x - y), d) / torch.dot(d, d)).item()
    assert mu >= 0
    residual = torch.linalg.vector_norm(a * (y - x) + mu * d).item()
    scale = (
        torch.linalg.vector_norm(a * (x - c)).item()
        + torch.linalg.vector_norm(a * y).item()
        + mu * (r + ny)
    )
    assert residual <= 1e-12 * scale


def assert_l1_kkt(x: torch.Tensor, a: torch.Tensor, y: torch.Tensor, r: float) -> None:
    """Optimality of y for min sum a (y - x)^2 s.t. ||y||_1 <= r, x outside the ball.

    There is one theta > 0 with a_i (|x_i| - |y_i|) = theta on the active set (y_i != 0,
    same sign as x_i) and a_j |x_j| <= theta off it, i.e. y is the soft threshold
    sign(x) max(|x| - theta / a, 0); and ||y||_1 = r.  Each estimate a_i (|x_i| - |y_i|)
    carries a rounding error of about eps * a_i |x_i|, which sets the tolerances.
    """
    xmax = x.abs().max().item()
    total = y.abs().sum().item()
    assert total <= r  # feasible, exactly
    assert abs(total - r) <= 1e-13 * r + 4 * EPS * x.numel() * xmax  # on the boundary
    assert bool(torch.all(y * x >= 0))  # no sign flips
    active = y != 0
    assert bool(active.any())
    assert bool(torch.all(y.abs() <= x.abs()))
    thetas = a[active] * (x[active].abs() - y[active].abs())
    tol = 1e-13 * a[active] * x[active].abs() + 1e-300
    # All active estimates agree: the intervals [theta_i - tol_i, theta_i + tol_i] intersect.
    low, high = (thetas - tol).max().item(), (thetas + tol).min().item()
    assert low <= high
    assert high > 0
    # Inactive coordinates have their breakpoint a_j |x_j| below theta.
    if bool((~active).any()):
        assert (a[~active] * x[~active].abs()).max().item() <= high * (1 + 1e-12)


@FAST
@given(array_instance(), st.floats(0.01, 50.0), st.sampled_from([0.0, 1.5, -20.0]))
def test_l2_kkt(inst: tuple[torch.Tensor, torch.Tensor], r: float, c: float) -> None:
    x, a = inst
    y = L2Ball(r, c).project(x, a)
    if torch.linalg.vector_norm(x - c) <= r:
        assert bits(y) == bits(x)
        return
    assert_l2_kkt(x, a, y, r, c)


@FAST
@given(array_instance(), st.floats(1e-6, 50.0))
def test_l1_soft_threshold_structure(inst: tuple[torch.Tensor, torch.Tensor], r: float) -> None:
    x, a = inst
    y = L1Ball(r).project(x, a)
    if x.abs().sum() <= r:
        assert bits(y) == bits(x)
        return
    assert_l1_kkt(x, a, y, r)


def test_kkt_checkers_reject_wrong_answers() -> None:
    # The checkers above are what the exactness tests rely on: make sure they can fail.
    x = torch.tensor([3.0, -1.0, 0.5, 2.0], dtype=F64)
    a = torch.tensor([1.0, 10.0, 0.1, 2.0], dtype=F64)
    y2 = L2Ball(1.0).project(x, a)
    assert_l2_kkt(x, a, y2, 1.0, 0.0)
    for wrong in (x / x.norm(), y2 * (1 - 1e-9), y2 + torch.tensor([1e-9, 0, 0, -1e-9], dtype=F64)):
        with pytest.raises(AssertionError):
            assert_l2_kkt(x, a, wrong, 1.0, 0.0)
    y1 = L1Ball(1.0).project(x, a)
    assert_l1_kkt(x, a, y1, 1.0)
    for wrong in (L1Ball(1.0).project(x), y1 * (1 - 1e-9), y1.flip(0)):
        with pytest.raises(AssertionError):
            assert_l1_kkt(x, a, wrong, 1.0)


def test_regressions_newton_stalls_and_cancellation() -> None:
    # Found by random search: Newton alternates between two neighbouring floats at the root;
    # a large center with a small radius makes y = c + d lose digits of d.
    cases = [
        ([-1.0, -3.0, -2.0] + [0.0] * 18, [1e3, 1.0, 1e-3] + [1.0] * 18, 8.75, 1.5),
        ([100.0, -1.0, -100.0, 16.3404], [1e3, 1.2739e-3, 1e-3, 1.119e-3], 0.01, -20.0),
        ([1e-3, 1.0, 1.0, 70.297, 0.0], [1.0, 1e3, 1.0, 3.0097e-11, 1.1534e10], 50.0, -20.0),
    ]
    for xs, ws, r, c in cases:
        x, a = torch.tensor(xs, dtype=F64), torch.tensor(ws, dtype=F64)
        assert_l2_kkt(x, a, L2Ball(r, c).project(x, a), r, c)
    x = torch.tensor([-1.0, 0.0, 0.0, -1.0], dtype=F64)
    a = torch.tensor([5.3862e8, 1.0, 1e-3, 4.9511e-9], dtype=F64)
    y = L1Ball(1.0).project(x, a)
    assert y.abs().sum().item() <= 1.0
    assert y.abs().sum().item() == pytest.approx(1.0, rel=1e-15)


def test_l2_weighted_is_not_a_rescaling() -> None:
    # 2-d example with a hand-checkable answer: a = (1, 3), x = (2, 2), r = 1.
    x = torch.tensor([2.0, 2.0], dtype=F64)
    a = torch.tensor([1.0, 3.0], dtype=F64)
    y = L2Ball(1.0).project(x, a)
    # mu solves (2/(1+mu))^2 + (6/(3+mu))^2 = 1.
    from scipy.optimize import brentq

    mu = brentq(lambda m: (2 / (1 + m)) ** 2 + (6 / (3 + m)) ** 2 - 1, 0.0, 100.0, xtol=1e-15)
    expected = torch.tensor([2 / (1 + mu), 6 / (3 + mu)], dtype=F64)
    torch.testing.assert_close(y, expected, rtol=1e-13, atol=0)
    assert not torch.allclose(y, x / x.norm(), atol=1e-3)


# ---------------------------------------------------------- unweighted closed forms


@FAST
@given(array_instance(), st.floats(0.01, 50.0), st.floats(0.1, 10.0))
def test_unweighted_closed_forms(
    inst: tuple[torch.Tensor, torch.Tensor], r: float, k: float
) -> None:
    x, _ = inst
    const = torch.full_like(x, k)  # a constant weight is the Euclidean projection too
    n = torch.linalg.vector_norm(x).item()
    expected_l2 = x if n <= r else x * (r / n)
    expected_l1 = torch.from_numpy(l1_unweighted_reference(x.numpy(), r))
    for w in (None, const):
        torch.testing.assert_close(L2Ball(r).project(x, w), expected_l2, rtol=1e-13, atol=0)
        # |x_i| - theta cancels: both sides carry an absolute error ~ eps * max|x|.
        atol = 1e-13 * x.abs().max().item() + 1e-12 * r
        torch.testing.assert_close(L1Ball(r).project(x, w), expected_l1, rtol=1e-11, atol=atol)
        torch.testing.assert_close(Box(-r, r / 2).project(x, w), x.clamp(-r, r / 2))


def test_box_ignores_weights() -> None:
    x = torch.linspace(-3, 3, 13, dtype=F64)
    w = 10.0 ** torch.linspace(-4, 4, 13, dtype=F64)
    assert torch.equal(Box(-1.0, 2.0).project(x, w), x.clamp(-1.0, 2.0))
    assert torch.equal(Box(low=0.0).project(x, w), x.clamp(min=0.0))
    assert torch.equal(Box(high=0.5).project(x, w), x.clamp(max=0.5))
    assert torch.equal(Box().project(x, w), x)
    assert torch.equal(Box(1.0, 1.0).project(x, w), torch.ones_like(x))


def test_radius_zero() -> None:
    x = torch.randn(4, 3, dtype=F64)
    w = torch.rand(4, 3, dtype=F64) + 0.1
    assert torch.equal(L2Ball(0.0, 0.25).project(x, w), torch.full_like(x, 0.25))
    assert torch.equal(L1Ball(0.0).project(x, w), torch.zeros_like(x))
    assert torch.equal(L2Ball(0.0).project(torch.zeros(3)), torch.zeros(3))


def test_l2_tensor_center() -> None:
    c = torch.tensor([1.0, -2.0, 0.5], dtype=F64)
    x = torch.tensor([[4.0, 2.0, 0.5], [1.0, -2.0, 0.6]], dtype=F64)
    w = torch.tensor([[1.0, 5.0, 0.2], [1.0, 1.0, 1.0]], dtype=F64)
    ball = L2Ball(1.0, c)
    y = ball.project(x, w)  # one ball in R^(2x3): the center is broadcast over rows
    assert torch.linalg.vector_norm(y - c).item() <= 1.0
    ref = scipy_l2(x.numpy().ravel(), w.numpy().ravel(), 1.0, np.tile(c.numpy(), 2))
    np.testing.assert_allclose(y.numpy().ravel(), ref, atol=1e-6)
    assert ball.contains(y)
    # A later change to the caller's tensor does not move the ball.
    c2 = c.clone()
    ball2 = L2Ball(1.0, c2)
    c2.fill_(100.0)
    assert ball2 == ball


# ------------------------------------------------- in-place contract, dtypes and shapes


CONSTRAINTS = [L2Ball(1.0), L2Ball(2.0, 0.5), L1Ball(1.5), Box(-0.3, 0.7)]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=repr)
def test_dtypes_and_shapes(constraint: Constraint, dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(1)
    x64 = 3 * torch.randn(3, 4, 5, generator=g, dtype=F64)
    w = 10.0 ** (2 * torch.rand(3, 4, 5, generator=g, dtype=F64) - 1)
    x = x64.to(dtype)
    ptr = x.data_ptr()
    out = constraint.project_(x, w.to(dtype))
    assert out is x
    assert x.data_ptr() == ptr
    assert x.dtype == dtype
    assert x.shape == (3, 4, 5)
    # Same answer as the float64 projection of the same (rounded) input and weights.
    ref = constraint.project(x64.to(dtype).to(F64), w.to(dtype).to(F64))
    eps = torch.finfo(dtype).eps
    torch.testing.assert_close(x.to(F64), ref, rtol=2 * eps, atol=2 * eps)
    # Feasible after rounding to the output dtype (exactly where the center is 0).
    exact = not (isinstance(constraint, L2Ball) and constraint.center != 0.0)
    assert constraint.contains(x, atol=0.0 if exact else 4 * eps)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=repr)
def test_inside_points_are_bit_identical(constraint: Constraint, dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(2)
    center = constraint.center if isinstance(constraint, L2Ball) else 0.0
    for _ in range(5):
        x = (center + 0.02 * torch.randn(2, 3, 4, generator=g, dtype=F64) + 0.03).to(dtype)
        w = (torch.rand(2, 3, 4, generator=g, dtype=F64) + 0.5).to(dtype)
        assert constraint.contains(x, atol=0.0)
        before = bits(x)
        constraint.project_(x, w)
        assert bits(x) == before
        constraint.project_(x)
        assert bits(x) == before


@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=repr)
def test_non_contiguous_and_empty(constraint: Constraint) -> None:
    g = torch.Generator().manual_seed(3)
    base = 3 * torch.randn(6, 5, generator=g, dtype=torch.float32)
    w = torch.rand(6, 5, generator=g) + 0.1
    expected = constraint.project(base.t().contiguous(), w.t().contiguous())
    view = base.t()
    assert not view.is_contiguous()
    constraint.project_(view, w.t())
    torch.testing.assert_close(base.t(), expected, rtol=0, atol=0)
    empty = torch.empty(0, 3)
    assert constraint.project_(empty, torch.ones(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=repr)
def test_works_on_leaf_parameters_outside_no_grad(constraint: Constraint) -> None:
    p = torch.nn.Parameter(4 * torch.ones(7))
    constraint.project_(p, torch.linspace(0.5, 2.0, 7))
    assert p.requires_grad
    assert p.grad_fn is None
    assert constraint.contains(p.detach(), atol=1e-6)
    with torch.no_grad():
        constraint.project_(p)


def test_extreme_weights_and_scales() -> None:
    g = torch.Generator().manual_seed(4)
    for spread in (8.0, 12.0):
        for scale in (1e-8, 1.0, 1e8):
            x = scale * torch.randn(50, generator=g, dtype=F64)
            a = 10.0 ** (spread * (torch.rand(50, generator=g, dtype=F64) - 0.5))
            r = 0.1 * scale
            assert_l2_kkt(x, a, L2Ball(r).project(x, a), r, 0.0)
            assert_l1_kkt(x, a, L1Ball(r).project(x, a), r)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=repr)
def test_cuda_matches_cpu(constraint: Constraint) -> None:
    x = 3 * torch.randn(1000, dtype=torch.float32)
    w = torch.rand(1000) + 0.01
    expected = constraint.project(x, w)
    got = constraint.project(x.cuda(), w.cuda()).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------- repr and equality


def test_repr_and_equality() -> None:
    assert repr(Box(-1.0, 2.0)) == "Box{y : -1.0 <= y_i <= 2.0}"
    assert repr(Box(low=0)) == "Box{y : y_i >= 0.0}"
    assert repr(Box(high=1)) == "Box{y : y_i <= 1.0}"
    assert repr(L2Ball(1)) == "L2Ball{y : ||y||_2 <= 1.0}"
    assert repr(L2Ball(2.0, 0.5)) == "L2Ball{y : ||y - 0.5||_2 <= 2.0}"
    assert "tensor of shape (3,)" in repr(L2Ball(1.0, torch.zeros(3)))
    assert repr(L1Ball(3)) == "L1Ball{y : ||y||_1 <= 3.0}"
    assert Box(0, 1) == Box(0.0, 1.0)
    assert Box(0, 1) != Box(0, 2)
    assert L2Ball(1) == L2Ball(1.0)
    assert hash(L2Ball(1)) == hash(L2Ball(1.0))
    assert L2Ball(1, torch.ones(2)) == L2Ball(1, torch.ones(2))
    assert hash(L2Ball(1, torch.ones(2))) == hash(L2Ball(1, torch.ones(2)))
    assert L2Ball(1, torch.ones(2)) != L2Ball(1, torch.zeros(2))
    assert L2Ball(1, 1.0) != L2Ball(1, torch.ones(2))
    assert L1Ball(1) == L1Ball(1.0)
    assert L1Ball(1) != L2Ball(1)
    assert len({L1Ball(1), L1Ball(1.0), Box(0, 1)}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        L1Ball(1).radius = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        Constraint()  # type: ignore[abstract]


# ---------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Box(2.0, 1.0), r"Box: low \(2.0\) must be <= high \(1.0\); an empty"),
        (lambda: Box(math.nan, 1.0), r"Box: low must be a number in \[-inf, inf\), got nan"),
        (lambda: Box(0.0, math.nan), r"Box: high must be a number in \(-inf, inf\], got nan"),
        (lambda: Box(low=math.inf), r"Box: low must be a number in \[-inf, inf\)"),
        (lambda: Box(high=-math.inf), r"Box: high must be a number in \(-inf, inf\]"),
        (lambda: L2Ball(-1.0), r"L2Ball: radius must be a finite number >= 0, got -1.0"),
        (lambda: L2Ball(math.nan), r"L2Ball: radius must be a finite number >= 0, got nan"),
        (lambda: L2Ball(math.inf), r"L2Ball: radius must be a finite number >= 0, got inf"),
        (lambda: L2Ball(1.0, math.nan), r"L2Ball: center must be a finite number, got nan"),
        (lambda: L2Ball(1.0, torch.tensor([0.0, math.inf])), r"L2Ball: center must be finite"),
        (lambda: L1Ball(-0.5), r"L1Ball: radius must be a finite number >= 0, got -0.5"),
        (lambda: L1Ball(math.nan), r"L1Ball: radius must be a finite number >= 0, got nan"),
        (lambda: L1Ball(-math.inf), r"L1Ball: radius must be a finite number >= 0"),
    ],
)
def test_bad_parameters(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Box("0", 1.0),
        lambda: Box(0.0, None),
        lambda: L2Ball("1"),
        lambda: L2Ball(True),
        lambda: L2Ball(1.0, "c"),
        lambda: L2Ball(1.0, torch.tensor([1j])),
        lambda: L1Ball(None),
    ],
)
def test_bad_parameter_types(make) -> None:
    with pytest.raises(TypeError, match="must be"):
        make()


@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=repr)
def test_bad_projection_arguments(constraint: Constraint) -> None:
    x = torch.ones(3, 2)
    name = type(constraint).__name__
    with pytest.raises(ValueError, match=rf"{name}: weight must have the same shape as x"):
        constraint.project_(x, torch.ones(6))
    with pytest.raises(ValueError, match=rf"{name}: weight must have the same shape as x"):
        constraint.project_(x, torch.ones(2, 3))
    for bad in (0.0, -1.0, math.nan, math.inf):
        w = torch.ones(3, 2)
        w[1, 1] = bad
        with pytest.raises(ValueError, match=r"weight must be finite and strictly positive"):
            constraint.project_(x, w)
        assert torch.equal(x, torch.ones(3, 2))  # untouched on error
    with pytest.raises(TypeError, match=r"weight must be a torch\.Tensor"):
        constraint.project_(x, np.ones((3, 2)))
    with pytest.raises(TypeError, match="x must have a real floating dtype"):
        constraint.project_(torch.ones(3, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"x must be a torch\.Tensor"):
        constraint.project_(np.ones(3))


@pytest.mark.parametrize("constraint", [L2Ball(1.0), L1Ball(1.0)], ids=repr)
def test_non_finite_x_is_rejected_by_balls(constraint: Constraint) -> None:
    for bad in (math.nan, math.inf):
        x = torch.tensor([0.1, bad])
        with pytest.raises(ValueError, match="x must be finite"):
            constraint.project_(x)


def test_center_shape_mismatch() -> None:
    ball = L2Ball(1.0, torch.zeros(3))
    with pytest.raises(ValueError, match=r"center of shape \(3,\) does not broadcast"):
        ball.project_(torch.ones(4))
    with pytest.raises(ValueError, match="does not broadcast"):
        ball.contains(torch.ones(3, 2))
    ball.project_(torch.ones(2, 3))  # broadcasting along leading dimensions is fine


# ------------------------------------------------------------- hard cases, large tensors


def l1_sorted_reference(x: np.ndarray, a: np.ndarray, r: float) -> np.ndarray:
    """Exact weighted l1 projection by sorting all breakpoints a_i |x_i| (float64, O(n log n))."""
    mag = np.abs(x)
    if mag.sum() <= r:
        return x.copy()
    b = a * mag
    order = np.argsort(-b, kind="stable")
    total, slope = np.cumsum(mag[order]), np.cumsum(1.0 / a[order])
    k = max(int(np.sum(total - b[order] * slope < r)), 1) - 1
    theta = (total[k] - r) / slope[k]
    return np.sign(x) * np.maximum(mag - theta / a, 0.0)


@pytest.mark.parametrize("spread", [0.0, 4.0, 12.0])
@pytest.mark.parametrize("radius", [1e-9, 0.3, 30.0, 3000.0])
def test_large_tensors_are_exact(spread: float, radius: float) -> None:
    # Large enough for the L1 screening sample and many Newton steps on the L2 multiplier.
    g = torch.Generator().manual_seed(int(spread * 10 + radius))
    n = 40_000
    x = torch.randn(n, generator=g, dtype=F64)
    a = 10.0 ** (spread * (torch.rand(n, generator=g, dtype=F64) - 0.5))
    y2 = L2Ball(radius).project(x, a)
    if torch.linalg.vector_norm(x) <= radius:
        assert bits(y2) == bits(x)
    else:
        assert_l2_kkt(x, a, y2, radius, 0.0)
    y = L1Ball(radius).project(x, a)
    assert_l1_kkt(x, a, y, radius)
    ref = l1_sorted_reference(x.numpy(), a.numpy(), radius)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-13 * max(radius, 1.0))


def test_l1_screening_recovers_when_the_sample_misleads() -> None:
    # The big entries sit exactly between the sampled positions, so the sample's estimate of
    # the threshold is far too high: the screen must be lowered, not trusted.
    n, r = 40_000, 50.0
    stride = n // 2048
    x = torch.full((n,), 1e-3, dtype=F64)
    x[stride // 2 :: stride] = torch.linspace(1.0, 3.0, len(range(stride // 2, n, stride)))
    x[::stride] = 0.5
    a = torch.ones(n, dtype=F64)
    y = L1Ball(r).project(x, a)
    assert_l1_kkt(x, a, y, r)
    np.testing.assert_allclose(y.numpy(), l1_sorted_reference(x.numpy(), a.numpy(), r), atol=1e-12)
    x[stride // 2 :: stride] = 0.0  # now the sample sees only the large entries: too low
    x[::stride] = 10.0
    y = L1Ball(r).project(x, a)
    assert_l1_kkt(x, a, y, r)
    # The sample sees only equal large entries while small unsampled ones carry the mass the
    # radius needs: the screened problem is feasible (its threshold is negative), every
    # sampled level fails, and only the unscreened solve is right.
    x = torch.full((n,), 0.01, dtype=F64)
    x[::stride] = 1.0
    r = float(x[::stride].sum()) + 50.0
    y = L1Ball(r).project(x, a)
    assert_l1_kkt(x, a, y, r)
    np.testing.assert_allclose(y.numpy(), l1_sorted_reference(x.numpy(), a.numpy(), r), atol=1e-12)


def test_l1_ties_at_the_root_and_zero_entries() -> None:
    x = torch.tensor([3.0, -3.0, 1.0, -1.0, 0.0, 1.0], dtype=F64)
    a = torch.ones(6, dtype=F64)
    # g(1) = 2 + 2 = 4: the root is exactly the breakpoint shared by three coordinates.
    y = L1Ball(4.0).project(x, a)
    assert torch.equal(y, torch.tensor([2.0, -2.0, 0.0, 0.0, 0.0, 0.0], dtype=F64))
    # Equal breakpoints from different (x, a): a_i |x_i| = 2 for all; every coordinate ties.
    x = torch.tensor([1.0, -2.0, 0.5, 4.0], dtype=F64)
    a = torch.tensor([2.0, 1.0, 4.0, 0.5], dtype=F64)
    for r in (0.1, 3.0, 7.0):
        y = L1Ball(r).project(x, a)
        assert_l1_kkt(x, a, y, r)
        np.testing.assert_allclose(y.numpy(), l1_sorted_reference(x.numpy(), a.numpy(), r))
    big = torch.ones(20_000, dtype=F64)  # 20 000 tied breakpoints, screened
    y = L1Ball(5000.0).project(big, torch.ones_like(big))
    torch.testing.assert_close(y, torch.full_like(big, 0.25), rtol=1e-15, atol=0)


def test_points_exactly_on_the_boundary_are_untouched() -> None:
    x = torch.tensor([3.0, 4.0], dtype=F64)
    w = torch.tensor([1e-6, 1e6], dtype=F64)
    for ball, point in ((L2Ball(5.0), x), (L2Ball(5.0, 1.0), x + 1.0), (L1Ball(7.0), x)):
        before = bits(point)
        ball.project_(point, w)
        assert bits(point) == before


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_optimizer_like_weights_and_tiny_radius(dtype: torch.dtype) -> None:
    # AMSGrad's first-step weights: |g| * sqrt(1 - beta2) + eps, a spread of about 1e7.
    g = torch.Generator().manual_seed(5)
    n = 30_000
    x = torch.randn(n, generator=g, dtype=F64)
    a = (1e-2 * torch.randn(n, generator=g, dtype=F64)).abs() * 0.03 + 1e-8
    xd, ad = x.to(dtype), a.to(dtype)
    eps = torch.finfo(dtype).eps
    for r in (1e-12, 1e-3, 50.0):
        for ball in (L2Ball(r), L1Ball(r)):
            got = ball.project(xd, ad)
            assert ball.contains(got, atol=0.0)
            ref = ball.project(xd.to(F64), ad.to(F64))
            tol = 4 * eps * max(r, float(ref.abs().max()))
            torch.testing.assert_close(got.to(F64), ref, rtol=4 * eps, atol=tol)
            if dtype == F64:
                check = assert_l2_kkt if isinstance(ball, L2Ball) else assert_l1_kkt
                args = (r, 0.0) if isinstance(ball, L2Ball) else (r,)
                check(x, a, got, *args)
