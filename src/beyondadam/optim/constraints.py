"""Convex feasible sets and their exact projections in a diagonally weighted norm.

Reddi, Kale and Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018), state every
algorithm for an online problem over a convex set ``F``.  After the unconstrained step
``x' = x_t - alpha_t m_t / sqrt(vhat_t)`` the iterate is projected back onto ``F``, not in the
Euclidean norm but in the norm weighted by the optimizer's own preconditioner::

    x_{t+1} = argmin_{y in F} || A^{1/2} (y - x') ||_2,     A = diag(a),  a > 0,

with ``a = sqrt(vhat_t)`` (plus ``eps``) for the Adam family and ``a = 1`` for SGD.  The weighting
is what the regret analysis needs: the proofs use the fact that the projection is
non-expansive *in the A-norm*, ``||A^{1/2}(P(u) - P(v))|| <= ||A^{1/2}(u - v)||``, and that the
optimum ``x*`` in ``F`` is a fixed point of the same projection.  A Euclidean projection would
break both properties whenever ``a`` is not constant, so the theory would no longer apply.

For a diagonal ``A`` the weighted projection is

* a plain elementwise clamp for a :class:`Box` (the problem separates per coordinate);
* *not* a rescaling for an :class:`L2Ball`: coordinates with large weight move less; the exact
  solution is ``y - c = a z / (a + mu)`` with ``z = x - c`` and a scalar ``mu >= 0`` found by a
  safeguarded Newton iteration on a monotone secular equation;
* a soft threshold with coordinate-dependent levels ``theta / a_i`` for an :class:`L1Ball`, with
  ``theta`` found exactly from the sorted breakpoints of a piecewise-linear function.

Each constraint works on one tensor at a time (``F`` lives in the space of that tensor's shape),
in place, under ``torch.no_grad()``.  The arithmetic of the ball projections is done in float64
and the result is written back into the input's dtype, with a final tiny shrink when rounding
would leave the written point outside the set.
"""

from __future__ import annotations

import abc
import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import torch

__all__ = ["Box", "Constraint", "L1Ball", "L2Ball", "constraint_from_spec"]

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)

# Cap on Newton steps (a handful are needed; bisection takes over if rounding misleads them).
_NEWTON_MAX_STEPS = 200
_EPS64 = float(torch.finfo(torch.float64).eps)
# L1Ball: sample size for screening, and screening rounds before taking every coordinate.
_SAMPLE = 2048
_SCREEN_TRIES = 4
# Attempts at making the rounded result feasible before giving up (best effort).
_COMMIT_TRIES = 8


def _fmt(value: float) -> str:
    return repr(float(value))


def _work_dtype(x: torch.Tensor) -> torch.dtype:
    """Float64, except on devices without float64 support (Apple MPS)."""
    return torch.float32 if x.device.type == "mps" else torch.float64


def _check_real(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    return float(value)


def _check_radius(owner: str, radius: object) -> float:
    r = _check_real(owner, "radius", radius)
    if not (math.isfinite(r) and r >= 0.0):
        raise ValueError(f"{owner}: radius must be a finite number >= 0, got {r!r}")
    return r


def _check_x(owner: str, x: object) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{owner}: x must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in _FLOAT_DTYPES:
        raise TypeError(
            f"{owner}: x must have a real floating dtype "
            f"(float16, bfloat16, float32 or float64), got {x.dtype}"
        )
    return x


@dataclass(frozen=True)
class _Weight:
    """Validated diagonal weights and their range (measured once, reused by the solvers)."""

    a: torch.Tensor
    low: float
    high: float


def _check_weight(owner: str, weight: object, x: torch.Tensor) -> _Weight | None:
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
        return _Weight(weight, 1.0, 1.0)
    # One pass for the whole check: NaN propagates into both extremes and fails both tests.
    low, high = torch.stack(torch.aminmax(weight)).to(torch.float64).tolist()
    if not (low > 0 and high < math.inf):
        raise ValueError(
            f"{owner}: weight must be finite and strictly positive (> 0) everywhere; "
            f"it defines the norm ||A^(1/2) (y - x)|| with A = diag(weight)"
        )
    return _Weight(weight, low, high)


class Constraint(abc.ABC):
    """A closed convex set ``F`` with an exact projection in a diagonally weighted norm.

    Subclasses implement :meth:`_project_` (the arithmetic), :meth:`contains` and
    :meth:`to_spec`; the public :meth:`project_` validates its arguments, runs under
    ``torch.no_grad()`` and returns ``x``.
    """

    def project_(self, x: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """Replace ``x`` in place by ``argmin_{y in F} sum_i weight_i (y_i - x_i)^2``.

        Args:
            x: the point to project, any shape, dtype float16/bfloat16/float32/float64.
            weight: diagonal weights ``a`` of the norm, same shape as ``x``, finite and
                strictly positive; ``None`` means all ones (the Euclidean projection).

        Returns:
            ``x`` itself, now inside the set.  Points already inside are left bit-identical.

        Raises:
            TypeError: ``x`` is not a floating tensor or ``weight`` is not a real tensor.
            ValueError: ``weight`` has the wrong shape or a non-positive / non-finite entry,
                or ``x`` is not finite where the projection needs its norm.

        """
        owner = type(self).__name__
        _check_x(owner, x)
        w = _check_weight(owner, weight, x)
        if x.numel() == 0:
            return x
        with torch.no_grad():
            self._project_(x, w)
        return x

    def project(self, x: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """Out-of-place :meth:`project_`: return the projection of a detached copy of ``x``."""
        return self.project_(x.detach().clone(), weight)

    @abc.abstractmethod
    def _project_(self, x: torch.Tensor, weight: _Weight | None) -> None:
        """Project ``x`` in place; arguments are already validated and ``x`` is non-empty."""

    @abc.abstractmethod
    def contains(self, x: torch.Tensor, atol: float = 1e-12) -> bool:
        """Whether ``x`` lies in the set, up to an absolute tolerance ``atol`` (float64 check)."""

    @abc.abstractmethod
    def to_spec(self) -> dict[str, Any]:
        """The set as plain data (``{"type": ..., field: value}``), loadable by ``torch.load``.

        :func:`constraint_from_spec` rebuilds it; optimizers store this in their state_dict.
        """


def _commit(
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
    for attempt in range(_COMMIT_TRIES):
        if place is not None:
            place(d)
        else:
            x.copy_(d if origin else center + d)
        norm = float(dist(x if origin else x.to(work) - center))
        if norm <= radius or attempt == _COMMIT_TRIES - 1:
            return
        margin = rel * 2.0**attempt * max(radius, float(dist(x)))
        d = d * (max(radius - margin, 0.0) / norm)


@functools.lru_cache(maxsize=256)
def _box_bounds(low: float, high: float, dtype: torch.dtype) -> tuple[float | None, float | None]:
    """Return Box bounds as values of ``dtype``, rounded inward when possible (None: no bound)."""

    def rounded(bound: float, inward: float) -> float:
        t = torch.tensor(bound, dtype=torch.float64).to(dtype)
        if (float(t) - bound) * inward < 0:  # rounded outward: step one ulp inward
            t = torch.nextafter(t, torch.tensor(inward * math.inf, dtype=dtype))
        return float(t)

    lo = None if low == -math.inf else rounded(low, +1.0)
    hi = None if high == math.inf else rounded(high, -1.0)
    if lo is not None and hi is not None and lo > hi:
        # No representable value in [low, high]: fall back to round-to-nearest.
        lo = float(torch.tensor(low, dtype=torch.float64).to(dtype))
        hi = float(torch.tensor(high, dtype=torch.float64).to(dtype))
    return lo, hi


@dataclass(frozen=True)
class Box(Constraint):
    """The box ``{y : low <= y_i <= high for every i}``; its weighted projection is a clamp.

    The weighted problem separates per coordinate, so the weights play no role.  ``low`` may
    be ``-inf`` and ``high`` may be ``+inf`` (one-sided or no bound).  When a finite bound is
    not representable in the dtype of ``x`` it is rounded *inward* so the clamped values stay
    inside the set.  NaN entries of ``x`` stay NaN.
    """

    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self) -> None:
        low = _check_real("Box", "low", self.low)
        high = _check_real("Box", "high", self.high)
        if math.isnan(low) or low == math.inf:
            raise ValueError(f"Box: low must be a number in [-inf, inf), got {low!r}")
        if math.isnan(high) or high == -math.inf:
            raise ValueError(f"Box: high must be a number in (-inf, inf], got {high!r}")
        if low > high:
            raise ValueError(
                f"Box: low ({low!r}) must be <= high ({high!r}); "
                "an empty constraint set cannot be projected onto"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def __repr__(self) -> str:
        if self.low == -math.inf and self.high == math.inf:
            return "Box{y : y_i unconstrained}"
        if self.low == -math.inf:
            return f"Box{{y : y_i <= {_fmt(self.high)}}}"
        if self.high == math.inf:
            return f"Box{{y : y_i >= {_fmt(self.low)}}}"
        return f"Box{{y : {_fmt(self.low)} <= y_i <= {_fmt(self.high)}}}"

    def to_spec(self) -> dict[str, Any]:
        """``{"type": "Box", "low": low, "high": high}`` (infinite bounds as float infinities)."""
        return {"type": "Box", "low": self.low, "high": self.high}

    def _project_(self, x: torch.Tensor, weight: _Weight | None) -> None:
        low, high = _box_bounds(self.low, self.high, x.dtype)
        if low is None and high is None:
            return
        x.clamp_(min=low, max=high)

    def contains(self, x: torch.Tensor, atol: float = 1e-12) -> bool:
        """Whether every entry satisfies ``low - atol <= x_i <= high + atol`` (NaN: False)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"Box: x must be a torch.Tensor, got {type(x).__name__}")
        v = x.detach().to(_work_dtype(x))
        return bool(((v >= self.low - atol) & (v <= self.high + atol)).all())


@dataclass(frozen=True, eq=False)
class L2Ball(Constraint):
    """The Euclidean ball ``{y : ||y - center||_2 <= radius}``.

    ``center`` is a number (the point ``center * ones``) or a tensor broadcastable to the shape
    of the projected tensor.  The weighted projection of ``x`` outside the ball is
    ``y = c + a z / (a + mu)``, ``z = x - c``, where ``mu > 0`` solves
    ``sum_i (a_i z_i / (a_i + mu))^2 = radius^2``.  ``mu`` lies in
    ``[a_min (||z|| / r - 1), a_max (||z|| / r - 1)]`` and is found to machine precision by
    Newton's method on ``1 / ||y(mu) - c|| - 1 / r`` (increasing and concave, so Newton from the
    left end converges monotonically) safeguarded by bisection.  Without weights this is the
    rescaling ``c + r z / ||z||``; ``radius = 0`` gives ``y = c``.
    """

    radius: float
    center: float | torch.Tensor = 0.0
    _device_centers: dict[torch.device, torch.Tensor] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "radius", _check_radius("L2Ball", self.radius))
        c = self.center
        if isinstance(c, torch.Tensor):
            if not (c.dtype.is_floating_point or c.dtype in (torch.int32, torch.int64)):
                raise TypeError(f"L2Ball: a tensor center must be real, got dtype {c.dtype}")
            c = c.detach().to("cpu", torch.float64).clone()
            if not bool(torch.isfinite(c).all()):
                raise ValueError("L2Ball: center must be finite everywhere (no NaN or inf)")
        else:
            c = _check_real("L2Ball", "center", c)
            if not math.isfinite(c):
                raise ValueError(f"L2Ball: center must be a finite number, got {c!r}")
        object.__setattr__(self, "center", c)

    def __repr__(self) -> str:
        r = _fmt(self.radius)
        c = self.center
        if isinstance(c, torch.Tensor):
            return f"L2Ball{{y : ||y - c||_2 <= {r}, c a tensor of shape {tuple(c.shape)}}}"
        if c == 0.0:
            return f"L2Ball{{y : ||y||_2 <= {r}}}"
        return f"L2Ball{{y : ||y - {_fmt(c)}||_2 <= {r}}}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, L2Ball):
            return NotImplemented
        a, b = self.center, other.center
        if isinstance(a, torch.Tensor) != isinstance(b, torch.Tensor):
            return False
        same = torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b
        return self.radius == other.radius and bool(same)

    def __hash__(self) -> int:
        c = self.center
        key = ("tensor", tuple(c.shape)) if isinstance(c, torch.Tensor) else c
        return hash((L2Ball, self.radius, key))

    def _center_for(self, x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor | float:
        c = self.center
        if not isinstance(c, torch.Tensor):
            return c
        try:
            shape = torch.broadcast_shapes(c.shape, x.shape)
        except RuntimeError:
            shape = None
        if shape != x.shape:
            raise ValueError(
                f"L2Ball: center of shape {tuple(c.shape)} does not broadcast to the shape "
                f"{tuple(x.shape)} of x"
            )
        cached = self._device_centers.get(x.device)
        if cached is None or cached.dtype != dtype:
            cached = c.to(x.device, dtype)
            self._device_centers[x.device] = cached
        return cached

    def contains(self, x: torch.Tensor, atol: float = 1e-12) -> bool:
        """Whether ``||x - center||_2 <= radius + atol`` (computed in float64)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"L2Ball: x must be a torch.Tensor, got {type(x).__name__}")
        work = _work_dtype(x)
        z = x.detach().to(work) - self._center_for(x, work)
        return bool(torch.linalg.vector_norm(z) <= self.radius + atol)

    def to_spec(self) -> dict[str, Any]:
        """``{"type": "L2Ball", "radius": r, "center": c}`` (``c`` a float or a CPU tensor)."""
        c = self.center
        return {
            "type": "L2Ball",
            "radius": self.radius,
            "center": c.clone() if isinstance(c, torch.Tensor) else c,
        }

    def _project_(self, x: torch.Tensor, weight: _Weight | None) -> None:
        work = _work_dtype(x)
        c = self._center_for(x, work)
        r = self.radius

        def dist(v: torch.Tensor) -> torch.Tensor:
            return torch.linalg.vector_norm(v, dtype=work)

        # The distance first: a point inside costs one pass and is left bit-identical.
        origin = isinstance(c, float) and c == 0.0
        z = None if origin else x.to(work) - c
        nz = float(dist(x if origin else z))
        if not math.isfinite(nz):
            raise ValueError("L2Ball: x must be finite (its distance to the center is not)")
        if nz <= r:
            return
        if r == 0.0:
            x.copy_(torch.zeros_like(x, dtype=work) + c)
            return
        if weight is None or weight.low == weight.high:  # Euclidean: a rescaling
            _commit(x, (x.to(work) if z is None else z) * (r / nz), c, r, dist)
            return
        tol = max(_EPS64, torch.finfo(x.dtype).eps * 1e-6)
        # z = x itself when the center is 0: the solver's first product reads it directly.
        _commit(x, _weighted_l2(x if z is None else z, weight, r, nz, tol, work), c, r, dist)


def _weighted_l2(
    z: torch.Tensor, weight: _Weight, r: float, nz: float, tol: float, work: torch.dtype
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
    for _ in range(_NEWTON_MAX_STEPS):
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
        if f == 0 or hi - lo <= 2 * _EPS64 * hi:
            break
        new = mu - f / (psi / phi * slope)
        was_newton, newton = newton, lo <= new <= hi  # also False for NaN
        if not newton:
            new = 0.5 * (lo + hi)
        step, mu = abs(new - mu) / new, new
        if step <= 2 * _EPS64 or (newton and was_newton and step**3 <= tol * prev**2):
            break
        prev = step
    torch.add(a, mu, out=d)
    torch.div(w, d, out=t)
    t = t.view(z.shape)
    return t * scale if scale != 1.0 else t


@dataclass(frozen=True)
class L1Ball(Constraint):
    """The l1 ball ``{y : ||y||_1 <= radius}``, centred at the origin.

    The weighted projection of ``x`` outside the ball is the soft threshold
    ``y_i = sign(x_i) max(|x_i| - theta / a_i, 0)`` with ``theta > 0`` solving
    ``g(theta) = sum_i max(|x_i| - theta / a_i, 0) = radius``.  ``g`` is piecewise linear and
    decreasing with breakpoints ``b_i = a_i |x_i|``; sorting them in decreasing order and taking
    cumulative sums of ``|x_i|`` and ``1 / a_i`` gives ``g`` at every breakpoint, hence the
    linear piece containing the root and ``theta`` in closed form (vectorised, ``O(n log n)``).
    One exact Newton step on the found active set then removes the rounding of the cumulative
    sums.  ``radius = 0`` gives ``y = 0``.
    """

    radius: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "radius", _check_radius("L1Ball", self.radius))

    def __repr__(self) -> str:
        return f"L1Ball{{y : ||y||_1 <= {_fmt(self.radius)}}}"

    def contains(self, x: torch.Tensor, atol: float = 1e-12) -> bool:
        """Whether ``||x||_1 <= radius + atol`` (computed in float64)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"L1Ball: x must be a torch.Tensor, got {type(x).__name__}")
        v = x.detach().to(_work_dtype(x))
        return bool(v.abs().sum() <= self.radius + atol)

    def to_spec(self) -> dict[str, Any]:
        """``{"type": "L1Ball", "radius": r}``."""
        return {"type": "L1Ball", "radius": self.radius}

    def _project_(self, x: torch.Tensor, weight: _Weight | None) -> None:
        work = _work_dtype(x)
        r = self.radius

        def dist(v: torch.Tensor) -> torch.Tensor:
            # The same sum as ``contains`` (the order of a long sum changes its last bits).
            return v.to(work).abs().sum()

        norm1 = float(dist(x))
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
        b = flat_x.to(fast).abs()
        if flat_a is not None:
            b.mul_(flat_a.to(fast))
        tau = _l1_screen(b, flat_x, flat_a, r, work)
        idx = None
        for attempt in range(_SCREEN_TRIES):
            if attempt == _SCREEN_TRIES - 1:
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
            theta = _l1_threshold(bc, mag, inv_a, r, tau)
            # Every coordinate screened out has a breakpoint <= tau <= theta, so it is zero in
            # the solution and theta is exact; otherwise theta <= theta* is a safe new screen.
            if idx is None or theta >= tau:
                break
            tau = theta
        y = torch.sub(mag, inv_a, alpha=theta).clamp_(min=0.0)
        torch.copysign(y, xc, out=y)
        if idx is None:
            _commit(x, y.view(x.shape), 0.0, r, dist)
            return

        def scatter(values: torch.Tensor) -> None:
            # Only the screened coordinates can be nonzero: write them into a zeroed x.
            if x.is_contiguous():
                x.zero_().view(-1)[idx] = values.to(x.dtype)
            else:
                full = torch.zeros(x.numel(), dtype=x.dtype, device=x.device)
                full[idx] = values.to(x.dtype)
                x.copy_(full.view(x.shape))

        _commit(x, y, 0.0, r, dist, place=scatter)


def _l1_screen(
    b: torch.Tensor, x: torch.Tensor, a: torch.Tensor | None, r: float, work: torch.dtype
) -> float:
    """A screening level ``tau``, most likely below the root ``theta*``; 0 means none.

    Solves the projection of an evenly strided sample of ``_SAMPLE`` coordinates (its ``g``
    scaled up to the whole tensor) by sorting it, and returns the sample breakpoint of rank
    ``2 k + 8``, ``k`` the sample's active count: coordinates below it are almost surely
    zero in the solution.  Small tensors are not screened.
    """
    n = b.numel()
    if n < 4 * _SAMPLE:
        return 0.0
    stride = n // _SAMPLE
    bs = b[::stride].to(work)
    mag = x[::stride].abs().to(work)
    inv_a = torch.ones_like(mag) if a is None else a[::stride].to(work).reciprocal()
    scale = n / bs.numel()
    bs, order = torch.sort(bs, descending=True)
    total = torch.cumsum(mag[order], 0).mul_(scale)
    slope = torch.cumsum(inv_a[order], 0).mul_(scale)
    k = int(((total - bs * slope) < r).sum())  # g at the sample breakpoints is nondecreasing
    rank = 2 * k + 8
    return float(bs[rank]) if rank < bs.numel() else 0.0


def _l1_threshold(
    b: torch.Tensor, mag: torch.Tensor, inv_a: torch.Tensor, r: float, start: float
) -> float:
    """``theta`` with ``g(theta) = sum_i max(mag_i - theta inv_a_i, 0) = r``, ``r < g(0)``.

    ``g`` is convex, decreasing and piecewise linear with breakpoints ``b_i = mag_i / inv_a_i``.
    Newton's method solves the linear piece at the current point,
    ``theta' = (sum_active mag - r) / sum_active inv_a`` over ``active = {b > theta}``; by
    convexity the first step lands at or left of the root from any start, and from there
    ``theta`` only grows and the active set only shrinks.  Once a step changes no coordinate,
    ``theta`` is the closed form on the final piece: exact.  At most ``n`` steps; a handful
    from a screened start.
    """
    rows = torch.stack((mag, inv_a))
    theta = start
    active = b > theta
    if not bool(active.any()):
        theta, active = 0.0, b > 0.0
    for step in range(b.numel() + 2):
        total, slope = (rows @ active.to(rows.dtype)).tolist()
        new = (total - r) / slope
        now = b > new
        if (step > 0 and new <= theta) or torch.equal(now, active):
            return new
        theta, active = new, now
    return theta


_SPEC_TYPES: dict[str, type[Constraint]] = {"Box": Box, "L2Ball": L2Ball, "L1Ball": L1Ball}


def constraint_from_spec(spec: object) -> Constraint:
    """Rebuild a constraint from :meth:`Constraint.to_spec`'s plain data.

    Raises:
        ValueError: ``spec`` is not such a dict, names another type, has unknown keys, or its
            values are refused by the constraint's own checks.

    """
    if not isinstance(spec, dict) or spec.get("type") not in _SPEC_TYPES:
        kind = spec.get("type") if isinstance(spec, dict) else type(spec).__name__
        raise ValueError(
            f"constraint spec must be a dict with 'type' one of {', '.join(_SPEC_TYPES)}; "
            f"got {kind!r}"
        )
    cls = _SPEC_TYPES[spec["type"]]
    allowed = {f.name for f in fields(cls) if f.init}
    unknown = sorted(set(spec) - allowed - {"type"})
    if unknown:
        raise ValueError(
            f"constraint spec for {cls.__name__} has unknown key {unknown[0]!r}; "
            f"it takes {', '.join(sorted(allowed))}"
        )
    try:
        return cls(**{k: v for k, v in spec.items() if k != "type"})
    except (TypeError, ValueError) as err:
        raise ValueError(f"constraint spec for {cls.__name__} is invalid: {err}") from None
