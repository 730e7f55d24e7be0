"""The solvers behind :mod:`beyondadam.optim.constraints`: shared pieces and the weighted L2 ball.

Both balls reduce to one scalar equation: the multiplier ``mu`` of the L2 ball (here) and the
threshold ``theta`` of the L1 ball (:mod:`beyondadam.optim._l1_projection`).  Each is found by
Newton's method from a point where it cannot overshoot, in vectorised passes over the tensor (a
host read per step for the stopping test), and the written result is checked against the set in
float64 and shrunk by rounding-level margins if it falls outside (:func:`commit`).

Precision: a float64 tensor is solved in float64.  Any other dtype is solved in float32 (its
own precision or better): the multiplier then carries a relative error of a few float32
roundoffs, which moves the result by about one float32 ulp, and every pass reads half the
bytes.  Only the decisions that must be exact (inside or not; feasible after rounding) are
certified in float64.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import torch

EPS64 = float(torch.finfo(torch.float64).eps)
# Cap on Newton steps (a handful are needed; bisection takes over if rounding misleads them).
NEWTON_MAX_STEPS = 200
# Attempts at making the rounded result feasible before giving up (best effort).
COMMIT_TRIES = 8
# CPU temporaries up to this many elements come from a per-thread pool (see :func:`scratch`).
POOL_MAX_NUMEL = 1 << 24
_POOL = threading.local()


@dataclass(frozen=True)
class Weight:
    """Validated diagonal weights and their range (measured once, reused by the solvers)."""

    a: torch.Tensor
    low: float
    high: float


def check_weight(owner: str, weight: object, x: torch.Tensor) -> Weight | None:
    """Validate the diagonal weights: same shape as ``x``, finite and strictly positive."""
    if weight is None:
        return None
    if not isinstance(weight, torch.Tensor):
        raise TypeError(
            f"{owner}: weight must be a torch.Tensor or None, got {type(weight).__name__}"
        )
    if weight.dtype.is_complex or weight.dtype == torch.bool:
        raise TypeError(f"{owner}: weight must have a real dtype, got {weight.dtype}")
    if weight.shape != x.shape:
        raise ValueError(
            f"{owner}: weight must have the same shape as x; "
            f"got weight {tuple(weight.shape)} for x {tuple(x.shape)}"
        )
    if weight.numel() == 0:
        return Weight(weight, 1.0, 1.0)
    # One pass for the whole check: NaN propagates into both extremes and fails both tests.
    low, high = torch.stack(torch.aminmax(weight)).to(torch.float64).tolist()
    if not (low > 0 and high < math.inf):
        raise ValueError(
            f"{owner}: weight must be finite and strictly positive (> 0) everywhere; "
            f"it defines the norm ||A^(1/2) (y - x)|| with A = diag(weight)"
        )
    return Weight(weight, low, high)


def scratch(slot: str, n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A 1-D temporary of ``n`` elements, reused across calls (one buffer per slot and thread).

    A fresh CPU tensor of a few hundred KiB is mapped anew by the allocator and pays a page
    fault per 4 KiB on first touch: measured slower than the pass that fills it.  Callers
    never let a slot's contents escape, and never hold two uses of one slot at once.  The
    buffers stay allocated for the thread's lifetime (one per slot and dtype, each as large as
    the largest tensor projected, up to ``POOL_MAX_NUMEL`` elements): memory traded for speed.
    """
    if device.type != "cpu" or n > POOL_MAX_NUMEL:
        return torch.empty(n, dtype=dtype, device=device)
    pool = _POOL.__dict__.setdefault("buffers", {})
    buf = pool.get((slot, dtype))
    if buf is None or buf.numel() < n:
        buf = pool[slot, dtype] = torch.empty(n, dtype=dtype, device=device)
    return buf[:n]


def exact_dtype(x: torch.Tensor) -> torch.dtype:
    """Float64, except on devices without float64 support (Apple MPS)."""
    return torch.float32 if x.device.type == "mps" else torch.float64


def solve_dtype(x: torch.Tensor) -> torch.dtype:
    """The precision of the solver's passes: float64 for float64 tensors, else float32."""
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def commit(
    x: torch.Tensor,
    d: torch.Tensor,
    center: torch.Tensor | float,
    radius: float,
    dist: Callable[[torch.Tensor], float],
    place: Callable[[torch.Tensor], object] | None = None,
    placed: bool = False,
) -> None:
    """Write ``center + d`` into ``x``; shrink ``d`` until ``dist(x) <= radius``.

    ``place(d)``, if given, writes ``d`` into ``x`` instead (a zero center; e.g. a scatter);
    ``placed`` says the solver already wrote ``d`` (a view of ``x``) there.

    ``d`` and ``center`` are in the solver's precision; ``dist`` measures the written ``x``'s
    distance to the center in float64.  Rounding in the solver, in ``center + d`` or in the
    cast to ``x.dtype`` may put the written point a few ulps outside the set.  Each retry
    shrinks ``d`` to the radius minus a margin of one unit of roundoff of the written point
    (its rounding error, which is relative to ``|center + d|``, not to ``|d|``), doubling the
    margin at every retry.  If the set contains no representable point near the solution the
    last attempt is kept; it is within rounding of the set.
    """
    origin = isinstance(center, float) and center == 0.0
    # Unit roundoff: rounding ``center + d`` moves it by at most ``rel * |center + d|``.
    rel = 0.5 * max(torch.finfo(d.dtype).eps, torch.finfo(x.dtype).eps)
    for attempt in range(COMMIT_TRIES):
        if placed and attempt == 0:
            pass
        elif place is not None:
            place(d)
        elif origin:
            x.copy_(d.view(x.shape))
        else:
            x.copy_(center + d)
        norm = dist(x)
        if norm <= radius or attempt == COMMIT_TRIES - 1:
            return
        reach = max(radius, norm if origin else norm64(x))
        margin = rel * 2.0**attempt * reach
        d = d * (max(radius - margin, 0.0) / norm)


def norm64(v: torch.Tensor) -> float:
    """``||v||_2`` in float64 (float32 on MPS); a converted copy and a dot for other dtypes.

    Projections and ``contains`` share it: the order of a long sum changes its last bits.
    """
    exact = exact_dtype(v)
    if v.dtype == exact:
        return float(torch.linalg.vector_norm(v))
    flat = scratch("norm64", v.numel(), exact, v.device).copy_(v.reshape(-1))
    return math.sqrt(float(torch.dot(flat, flat)))


def project_l2(
    x: torch.Tensor,
    weight: Weight | None,
    center: Callable[[torch.dtype], torch.Tensor | float],
    r: float,
) -> None:
    """Replace ``x`` by its projection on ``{y : ||y - c||_2 <= r}`` in the norm of ``weight``.

    ``center(dtype)`` gives ``c`` as a float or as a tensor of ``dtype`` broadcastable to
    ``x``.  A point inside is left bit-identical.
    """
    exact = exact_dtype(x)
    work = solve_dtype(x)
    c = center(work)
    origin = isinstance(c, float) and c == 0.0
    if origin:
        z = x.reshape(-1) if x.dtype == work else x.reshape(-1).to(work)
    else:
        z = (x.to(work) - c).reshape(-1)
    c_exact = c if work == exact else center(exact)

    def dist(v: torch.Tensor) -> float:
        return norm64(v if origin else v.to(exact) - c_exact)

    # In float64: inside or not must be decided exactly, and an optimizer's iterate sits
    # just outside the ball, where no float32 sum can decide.
    nz = norm64(z) if work == exact else dist(x)
    if not math.isfinite(nz):
        raise ValueError("L2Ball: x must be finite (its distance to the center is not)")
    if nz <= r:
        return
    if r == 0.0:
        x.copy_(torch.zeros_like(x, dtype=work) + c)
        return
    if weight is None or weight.low == weight.high:  # Euclidean: a rescaling
        commit(x, (z * (r / nz)).view(x.shape), c, r, dist)
        return
    a = weight.a
    if work != torch.float64 and not (
        r / nz > 1e-8 and weight.low / weight.high > 1e-12 and 1e-10 < nz < 1e10
    ):
        # Float32 sums would underflow or lose the small terms: solve this one in float64.
        work = torch.float64
        c = center(work)
        z = x.reshape(-1).to(work) if origin else (x.to(work) - c).reshape(-1)
    # The solver's last pass may write straight into x (it has read z = x by then).
    direct = origin and x.dtype == work and x.is_contiguous()
    out = x.view(-1) if direct else None
    d = weighted_l2(z, a.reshape(-1).to(work), weight, r, nz, work, out)
    commit(x, d.view(x.shape), c, r, dist, placed=direct)


def weighted_l2(
    z: torch.Tensor,
    a: torch.Tensor,
    weight: Weight,
    r: float,
    nz: float,
    work: torch.dtype,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """``d = a z / (a + mu)`` with ``||d|| = r``: the weighted projection of ``z`` (1-D).

    ``phi(mu) = ||d(mu)||^2`` is convex and decreasing; ``psi = phi^(-1/2)`` is increasing,
    concave, and linear when the weights are equal.  Newton's method on ``psi = 1/r`` lands at
    or left of the root from *any* point (the tangent of a concave function lies above it), and
    from the left it climbs monotonically and converges quadratically.  The first step is
    taken from the upper end ``a_max (||z||/r - 1)`` of the bracket, which lands much closer
    than the lower end ``a_min (||z||/r - 1)`` when the weights span orders of magnitude (the
    optimizer's ``sqrt(vhat) + eps`` does).  Each iteration is four elementwise passes, two
    cascaded sums and one host read; the loop stops when the predicted error of the last step,
    ``step^3 / previous_step^2``, is below the roundoff (a quarter of it in float32), or when
    rounding stalls the steps.  The bracket ``[lo, hi]`` catches rounding (bisection if a
    step leaves it).
    """
    eps = float(torch.finfo(work).eps)
    # float64: converged to the last bit; float32: a quarter ulp (below its sums' own noise).
    tol = eps if work == torch.float64 else eps / 4
    a_min, a_max = weight.low, weight.high
    scale = 1.0
    if not (1e-100 < nz < 1e100 and 1e-100 < a_min and a_max < 1e100):
        # Keep squares away from overflow and underflow; d is invariant to scaling a.
        scale = nz
        z, r, nz = z / scale, r / scale, 1.0
        a, a_min, a_max = a / a_max, a_min / a_max, 1.0
    n, dev = z.numel(), z.device
    w = torch.mul(a, z, out=scratch("l2.w", n, work, dev))
    lo, hi = a_min * (nz / r - 1.0), a_max * (nz / r - 1.0)  # phi(lo) >= r^2 >= phi(hi)
    mu, inv_r, prev, newton = hi, 1.0 / r, math.inf, False
    d, t, e = (scratch(f"l2.{k}", n, work, dev) for k in "dte")
    for _ in range(NEWTON_MAX_STEPS):
        torch.add(a, mu, out=d)
        torch.div(w, d, out=t)
        # torch's cascaded sums, not BLAS dot: in float32 a dot of 1e5 terms is off by ~1e-5
        # (one accumulator chain), a cascaded sum of positive terms by about one roundoff.
        s0 = torch.mul(t, t, out=e).sum()
        s1 = torch.div(e, d, out=e).sum()
        phi, slope = torch.stack((s0, s1)).tolist()  # phi, -phi'/2
        psi = phi**-0.5
        f = psi - inv_r  # increasing in mu; < 0 left of the root
        if f <= 0:
            lo = max(lo, mu)
        if f >= 0:
            hi = min(hi, mu)
        if f == 0 or hi - lo <= 2 * eps * hi:
            break
        new = mu - f / (psi / phi * slope)
        was_newton, newton = newton, lo <= new <= hi  # also False for NaN
        if not newton:
            # The first step (from hi) may land below lo: lo is then the better left point.
            new = lo if prev == math.inf and new < lo else 0.5 * (lo + hi)
        step, mu = abs(new - mu) / new, new
        if step <= 2 * eps or (newton and was_newton and step**3 <= tol * prev**2):
            break
        prev = step
    torch.add(a, mu, out=d)
    res = torch.div(w, d, out=t if out is None else out)
    return res.mul_(scale) if scale != 1.0 else res
