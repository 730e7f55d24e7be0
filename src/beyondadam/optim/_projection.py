"""The solvers behind :mod:`beyondadam.optim.constraints`: weighted L2 and L1 projections.

Both balls reduce to one scalar equation: the multiplier ``mu`` of the L2 ball and the
threshold ``theta`` of the L1 ball.  Each is found by Newton's method from a point where it
cannot overshoot, in vectorised passes over the tensor (a host read per step for the stopping
test), and the written result is checked against the set and shrunk by rounding-level margins if
it falls outside (:func:`commit`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

EPS64 = float(torch.finfo(torch.float64).eps)
# Cap on Newton steps (a handful are needed; bisection takes over if rounding misleads them).
NEWTON_MAX_STEPS = 200
# L1: sample size for screening, and screening rounds before taking every coordinate.
SAMPLE = 2048
SCREEN_TRIES = 4
# Attempts at making the rounded result feasible before giving up (best effort).
COMMIT_TRIES = 8


@dataclass(frozen=True)
class Weight:
    """Validated diagonal weights and their range (measured once, reused by the solvers)."""

    a: torch.Tensor
    low: float
    high: float


def commit(
    x: torch.Tensor,
    d: torch.Tensor,
    center: torch.Tensor | float,
    radius: float,
    dist: Callable[[torch.Tensor], torch.Tensor],
    place: Callable[[torch.Tensor], object] | None = None,
) -> None:
    """Write ``center + d`` into ``x``; shrink ``d`` until ``dist(x - center) <= radius``.

    ``place(d)``, if given, writes ``d`` into ``x`` instead (a zero center; e.g. a scatter).

    ``d`` and ``center`` are in the working precision and ``dist`` measures in it.  Rounding
    in the solver, in ``center + d`` or in the cast to ``x.dtype`` may put the written point a
    few ulps outside the set.  Each retry shrinks ``d`` to the radius minus a margin of one
    unit of roundoff of the written point (its rounding error, which is relative to
    ``|center + d|``, not to ``|d|``), doubling the margin at every retry.  If the set
    contains no representable point near the solution the last attempt is kept; it is within
    rounding of the set.
    """
    work = d.dtype
    # A zero center costs no pass: write d, measure x itself.
    origin = isinstance(center, float) and center == 0.0
    # Unit roundoff: rounding ``center + d`` moves it by at most ``rel * |center + d|``.
    rel = 0.5 * max(torch.finfo(work).eps, torch.finfo(x.dtype).eps)
    for attempt in range(COMMIT_TRIES):
        if place is not None:
            place(d)
        else:
            x.copy_(d if origin else center + d)
        norm = float(dist(x if origin else x.to(work) - center))
        if norm <= radius or attempt == COMMIT_TRIES - 1:
            return
        margin = rel * 2.0**attempt * max(radius, float(dist(x)))
        d = d * (max(radius - margin, 0.0) / norm)


def weighted_l2(
    z: torch.Tensor, weight: Weight, r: float, nz: float, tol: float, work: torch.dtype
) -> torch.Tensor:
    """``d = a z / (a + mu)`` with ``||d|| = r``: the weighted projection of ``z`` on the ball.

    ``phi(mu) = ||d(mu)||^2`` is convex and decreasing; ``psi = phi^(-1/2)`` is increasing,
    concave, and linear when the weights are equal, so Newton's method on ``psi = 1/r`` started
    at the lower bound ``a_min (||z||/r - 1)`` climbs monotonically to the root and converges
    quadratically.  Each iteration is five vectorised passes (two sums) and one host read; the
    loop stops when the predicted error of the last step, ``step^3 / previous_step^2``
    (quadratic convergence), is below ``tol`` relative, so no pass is spent confirming it.
    A bracket ``[lo, hi]`` catches rounding (bisection if a step leaves it).
    """
    a = weight.a.to(work)
    a_min, a_max = weight.low, weight.high
    scale = 1.0
    if not (1e-100 < nz < 1e100 and 1e-100 < a_min and a_max < 1e100):
        # Keep squares away from overflow and underflow; d is invariant to scaling a.
        z, scale, r, nz = z.to(work) / nz, nz, r / nz, 1.0
        a, a_min, a_max = a / a_max, a_min / a_max, 1.0
    w = torch.mul(a, z).reshape(-1)  # in ``work`` precision whatever the dtype of z
    a = a.reshape(-1)
    growth = nz / r - 1.0
    lo, hi = a_min * growth, a_max * growth  # phi(lo) >= r^2 >= phi(hi)
    mu, inv_r, prev, newton = lo, 1.0 / r, math.inf, False
    d, t = torch.empty_like(w), torch.empty_like(w)
    for _ in range(NEWTON_MAX_STEPS):
        torch.add(a, mu, out=d)
        torch.div(w, d, out=t)
        s0 = torch.dot(t, t)
        torch.div(t, d, out=d)
        phi, slope = torch.stack((s0, torch.dot(t, d))).tolist()  # phi, -phi'/2
        psi = phi**-0.5
        f = psi - inv_r  # increasing in mu; < 0 left of the root
        if f <= 0:
            lo = max(lo, mu)
        if f >= 0:
            hi = min(hi, mu)
        if f == 0 or hi - lo <= 2 * EPS64 * hi:
            break
        new = mu - f / (psi / phi * slope)
        was_newton, newton = newton, lo <= new <= hi  # also False for NaN
        if not newton:
            new = 0.5 * (lo + hi)
        step, mu = abs(new - mu) / new, new
        if step <= 2 * EPS64 or (newton and was_newton and step**3 <= tol * prev**2):
            break
        prev = step
    torch.add(a, mu, out=d)
    torch.div(w, d, out=t)
    t = t.view(z.shape)
    return t * scale if scale != 1.0 else t


def project_l1(
    x: torch.Tensor,
    weight: Weight | None,
    r: float,
    work: torch.dtype,
    dist: Callable[[torch.Tensor], torch.Tensor],
) -> None:
    """Replace ``x`` (outside the ball ``||y||_1 <= r``, ``r > 0``) by its weighted projection.

    The soft threshold ``y_i = sign(x_i) max(|x_i| - theta / a_i, 0)`` with ``theta`` from
    :func:`l1_threshold`, solved only on the coordinates a screen keeps (see
    :func:`l1_screen`); ``dist`` is the l1 norm used to check the written result.
    """
    flat_x = x.reshape(-1)
    flat_a = None if weight is None else weight.a.reshape(-1)
    # Breakpoints a_i |x_i| in a cheap dtype, only to screen out coordinates.
    fast = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    mag = flat_x.to(fast).abs()
    inv_a = None if flat_a is None else flat_a.to(fast).reciprocal()
    b = mag if flat_a is None else mag * flat_a.to(fast)
    levels = l1_screen(b, mag, inv_a, r)
    tau, idx = levels[0], None
    for attempt in range(SCREEN_TRIES):
        if attempt == SCREEN_TRIES - 1:
            tau = 0.0  # last resort: every coordinate
        # Rounding of b moves it by < 2 eps relative: screening below tau (1 - 4 eps) keeps
        # every coordinate whose exact breakpoint exceeds tau.
        cut = tau * (1.0 - 4.0 * torch.finfo(fast).eps)
        idx = torch.nonzero(b > cut).squeeze(1) if cut > 4 * torch.finfo(fast).tiny else None
        xc = flat_x if idx is None else flat_x[idx]
        ac = None if flat_a is None else (flat_a if idx is None else flat_a[idx])
        xc, mag = xc.to(work), xc.abs().to(work)
        inv_a = torch.ones_like(mag) if ac is None else ac.to(work).reciprocal()
        bc = mag if ac is None else mag * ac.to(work)
        theta = l1_threshold(bc, mag, inv_a, r, tau)
        # Every coordinate screened out has a breakpoint <= tau <= theta, so it is zero in
        # the solution and theta is exact; otherwise theta <= theta* is a safe new screen.
        if idx is None or theta >= tau:
            break
        # theta > 0 solves a relaxation (fewer coordinates), so theta <= theta*: a safe level.
        tau = theta if theta > 0 else levels[min(attempt + 1, len(levels) - 1)]
    y = torch.sub(mag, inv_a, alpha=theta).clamp_(min=0.0)
    torch.copysign(y, xc, out=y)
    if idx is None:
        commit(x, y.view(x.shape), 0.0, r, dist)
        return

    def scatter(values: torch.Tensor) -> None:
        # Only the screened coordinates can be nonzero: write them into a zeroed x.
        if x.is_contiguous():
            x.zero_().view(-1)[idx] = values.to(x.dtype)
        else:
            full = torch.zeros(x.numel(), dtype=x.dtype, device=x.device)
            full[idx] = values.to(x.dtype)
            x.copy_(full.view(x.shape))

    commit(x, y, 0.0, r, dist, place=scatter)


def l1_screen(
    b: torch.Tensor, mag: torch.Tensor, inv_a: torch.Tensor | None, r: float
) -> list[float]:
    """Screening levels for :func:`project_l1`: the first at or just below the root ``theta*``.

    An evenly strided sample of ``SAMPLE`` coordinates is solved by sorting (its ``g`` scaled
    up to the whole tensor), which estimates ``theta*``; one Newton step of the full ``g`` from
    that estimate then lands at or below ``theta*`` whatever side the estimate fell on (``g``
    is convex), and close to it when the estimate is close; a second step from there climbs
    closer (Newton from the left is monotone).  A first step that lands at or below 0
    (an estimate far above the root: heavy tails fool small samples) is retried from the
    sample's root for a larger radius.  Coordinates whose breakpoint is below the level are
    zero in the solution.  The arrays are in a cheap dtype, so the level is lowered by a
    margin of 1e-3; small tensors are not screened (the only level is 0).
    """
    n = b.numel()
    if n < 4 * SAMPLE:
        return [0.0]
    f64 = torch.float64
    stride = n // SAMPLE
    bs, order = torch.sort(b[::stride].to(f64), descending=True)
    scale = n / bs.numel()
    total = torch.cumsum(mag[::stride].to(f64)[order], 0).mul_(scale)
    weights = torch.ones_like(bs) if inv_a is None else inv_a[::stride].to(f64)[order]
    slope = torch.cumsum(weights, 0).mul_(scale)
    g = total - bs * slope  # g at the sample breakpoints, nondecreasing

    rows = torch.stack((mag, torch.ones_like(mag) if inv_a is None else inv_a))

    def newton(theta: float) -> float:
        # Solve the linear piece of the full g at theta: by convexity the root is <= theta*.
        # (A matrix-vector product in the cheap dtype: fast; its rounding only moves the
        # level, which is lowered by a margin and checked afterwards.)
        total_active, slope_active = (rows @ (b > theta).to(rows.dtype)).tolist()
        return (total_active - r) / slope_active if slope_active > 0 else 0.0

    for inflate in (1.0, 2.0, 8.0):
        # The sample's root for radius inflate * r: larger radii give lower estimates.
        k = int((g < inflate * r).sum())
        level = newton(
            float((total[k - 1] - inflate * r) / slope[k - 1]) if k > 0 else float(bs[0])
        )
        if level > 0:
            # A second step, from the left now, only climbs towards theta*.
            level = max(level, newton(level))
            return [level * (1.0 - 1e-3), 0.0]
    return [0.0]


def l1_threshold(
    b: torch.Tensor, mag: torch.Tensor, inv_a: torch.Tensor, r: float, start: float
) -> float:
    """``theta`` with ``g(theta) = sum_i max(mag_i - theta inv_a_i, 0) = r``, ``r < g(0)``.

    ``g`` is convex, decreasing and piecewise linear with breakpoints ``b_i = mag_i / inv_a_i``.
    Newton's method solves the linear piece at the current point,
    ``theta' = (sum_active mag - r) / sum_active inv_a`` over ``active = {b > theta}``; by
    convexity every step lands at or left of the root, whatever the start, so from the first
    step on ``theta`` only grows and the active set only shrinks: coordinates that leave it
    are dropped from the arrays once they are half of them.  Once a step changes no
    coordinate, ``theta`` is the closed form on the final piece: exact.  At most ``n`` steps;
    a handful from a screened start.
    """
    rows = torch.stack((b, mag, inv_a))
    theta = max(start, 0.0)
    active = rows[0] > theta
    if not bool(active.any()):
        theta, active = 0.0, rows[0] > 0.0
    for step in range(b.numel() + 2):
        # torch's (cascaded) sum, not a matrix-vector product: its error stays ~eps, not n eps.
        total, slope = (rows[1:] * active).sum(1).tolist()
        new = (total - r) / slope
        now = rows[0] > new
        if (step > 0 and new <= theta) or torch.equal(now, active):
            return new
        theta, active = new, now
        kept = int(active.sum())
        if 2 * kept < rows.shape[1]:
            rows, active = rows[:, active], torch.ones(kept, dtype=torch.bool, device=b.device)
    return theta
