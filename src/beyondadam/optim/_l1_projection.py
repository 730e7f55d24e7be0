"""The weighted L1 ball's solver for :mod:`beyondadam.optim.constraints`.

The projection is a soft threshold with coordinate-dependent levels ``theta / a_i``; ``theta``
solves a piecewise-linear equation, found exactly by Newton's method on the linear pieces (no
sort), on the coordinates a sampled screen keeps.
"""

from __future__ import annotations

import math

import torch

from beyondadam.optim._projection import Weight, commit, exact_dtype, scratch

# Sample size for screening, and screening rounds before taking every coordinate.
SAMPLE = 2048
SCREEN_TRIES = 4


def l1_norm(v: torch.Tensor, slot: str = "l1.norm") -> float:
    """``sum |v_i|`` accumulated in float64 (float32 on MPS) without a float64 copy of ``v``.

    Projections and ``contains`` share it: the order of a long sum changes its last bits.
    """
    return float(_abs(v, slot).sum(dtype=exact_dtype(v)))


def _abs(v: torch.Tensor, slot: str) -> torch.Tensor:
    """``|v|`` into a pooled contiguous temporary of ``v``'s shape."""
    return torch.abs(v, out=scratch(slot, v.numel(), v.dtype, v.device).view(v.shape))


def project_l1(x: torch.Tensor, weight: Weight | None, r: float) -> None:
    """Replace ``x`` by its weighted projection on the ball ``||y||_1 <= r``.

    A point inside is left bit-identical.  Outside, the soft threshold
    ``y_i = sign(x_i) max(|x_i| - theta / a_i, 0)`` with ``theta`` from :func:`l1_threshold`,
    solved only on the coordinates a screen keeps (see :func:`l1_screen`).
    """
    work = exact_dtype(x)
    # |x| once: its sum is l1_norm(x) (the same two operations) and it feeds the screen.
    abs_x = _abs(x, "l1.abs")
    norm1 = float(abs_x.sum(dtype=work))
    if not math.isfinite(norm1):
        raise ValueError("L1Ball: x must be finite (its l1 norm is not)")
    if norm1 <= r:
        return  # inside: leave x bit-identical
    if r == 0.0:
        x.zero_()
        return
    flat_x = x.reshape(-1)
    flat_a = None if weight is None else weight.a.reshape(-1)
    # Breakpoints a_i |x_i| in a cheap dtype, only to screen out coordinates.
    fast = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    mag = abs_x.reshape(-1).to(fast)
    n, dev = mag.numel(), mag.device
    inv_a = None
    b = mag
    if flat_a is not None:
        a_fast = flat_a.to(fast)
        inv_a = torch.reciprocal(a_fast, out=scratch("l1.inv_a", n, fast, dev))
        b = torch.mul(mag, a_fast, out=scratch("l1.b", n, fast, dev))
    levels = l1_screen(b, mag, inv_a, r)
    tau, idx = levels[0], None
    for attempt in range(SCREEN_TRIES):
        if attempt == SCREEN_TRIES - 1:
            tau = 0.0  # last resort: every coordinate
        # Rounding of b moves it by < 2 eps relative: screening below tau (1 - 4 eps) keeps
        # every coordinate whose exact breakpoint exceeds tau.
        cut = tau * (1.0 - 4.0 * torch.finfo(fast).eps)
        idx = None
        if cut > 4 * torch.finfo(fast).tiny:
            keep = torch.gt(b, cut, out=scratch("l1.mask", b.numel(), torch.bool, b.device))
            idx = torch.nonzero(keep).squeeze(1)
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
        commit(x, y, 0.0, r, l1_norm)
        return

    written: list[torch.Tensor] = []

    def scatter(values: torch.Tensor) -> None:
        # Only the screened coordinates can be nonzero: write them into a zeroed x.
        written[:] = [values.to(x.dtype)]
        if x.is_contiguous():
            x.zero_().view(-1)[idx] = written[0]
        else:
            full = torch.zeros(x.numel(), dtype=x.dtype, device=x.device)
            full[idx] = written[0]
            x.copy_(full.view(x.shape))

    dist = l1_norm
    if x.dtype != work:
        # The written values are all of x's nonzeros: their float64 sum and l1_norm(x) are
        # each within (count - 1) unit roundoffs of the exact sum, so this sum, short of the
        # radius by (n + k) roundoffs, certifies l1_norm(x) <= r without a pass over x.  (The
        # margin is far below one roundoff of x's dtype, which commit's retries shrink by.)
        slack = 1.0 - (x.numel() + idx.numel()) * 0.5 * torch.finfo(work).eps

        def dist(_: torch.Tensor) -> float:
            return float(written[0].abs().sum(dtype=work)) / slack

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

    def newton(theta: float) -> float:
        # Solve the linear piece of the full g at theta: by convexity the root is <= theta*.
        # (Dot products with the active mask in the cheap dtype: fast; their rounding only
        # moves the level, which is lowered by a margin and checked afterwards.)
        active = scratch("l1.active", b.numel(), mag.dtype, b.device)
        active.copy_(torch.gt(b, theta, out=scratch("l1.mask", b.numel(), torch.bool, b.device)))
        weight_sum = active.sum() if inv_a is None else torch.dot(inv_a, active)
        total_active, slope_active = torch.stack((torch.dot(mag, active), weight_sum)).tolist()
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
