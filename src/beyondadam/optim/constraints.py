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
  ``theta`` found exactly by Newton's method on a piecewise-linear equation (no sort), on the
  coordinates a sampled screen keeps.

The solvers live in :mod:`beyondadam.optim._projection`; each takes a few vectorised passes.

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
from dataclasses import dataclass, field, fields
from typing import Any

import torch

from beyondadam.optim._l1_projection import l1_norm, project_l1
from beyondadam.optim._projection import Weight, check_weight, exact_dtype, norm64, project_l2

__all__ = ["Box", "Constraint", "L1Ball", "L2Ball", "constraint_from_spec"]

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _fmt(value: float) -> str:
    return repr(float(value))


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
        w = check_weight(owner, weight, x)
        if x.numel() == 0:
            return x
        with torch.no_grad():
            self._project_(x, w)
        return x

    def project(self, x: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """Out-of-place :meth:`project_`: return the projection of a detached copy of ``x``."""
        return self.project_(x.detach().clone(), weight)

    @abc.abstractmethod
    def _project_(self, x: torch.Tensor, weight: Weight | None) -> None:
        """Project ``x`` in place; arguments are already validated and ``x`` is non-empty."""

    @abc.abstractmethod
    def contains(self, x: torch.Tensor, atol: float = 1e-12) -> bool:
        """Whether ``x`` lies in the set, up to an absolute tolerance ``atol`` (float64 check)."""

    @abc.abstractmethod
    def to_spec(self) -> dict[str, Any]:
        """The set as plain data (``{"type": ..., field: value}``), loadable by ``torch.load``.

        :func:`constraint_from_spec` rebuilds it; optimizers store this in their state_dict.
        """


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

    def _project_(self, x: torch.Tensor, weight: Weight | None) -> None:
        low, high = _box_bounds(self.low, self.high, x.dtype)
        if low is None and high is None:
            return
        x.clamp_(min=low, max=high)

    def contains(self, x: torch.Tensor, atol: float = 1e-12) -> bool:
        """Whether every entry satisfies ``low - atol <= x_i <= high + atol`` (NaN: False)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"Box: x must be a torch.Tensor, got {type(x).__name__}")
        v = x.detach().to(exact_dtype(x))
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
    _device_centers: dict[tuple[torch.device, torch.dtype], torch.Tensor] = field(
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
        cached = self._device_centers.get((x.device, dtype))
        if cached is None:
            cached = c.to(x.device, dtype)
            self._device_centers[x.device, dtype] = cached
        return cached

    def contains(self, x: torch.Tensor, atol: float = 1e-12) -> bool:
        """Whether ``||x - center||_2 <= radius + atol`` (computed in float64)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"L2Ball: x must be a torch.Tensor, got {type(x).__name__}")
        c = self._center_for(x, exact_dtype(x))
        v = x.detach()
        return norm64(v if isinstance(c, float) and c == 0.0 else v.to(exact_dtype(x)) - c) <= (
            self.radius + atol
        )

    def to_spec(self) -> dict[str, Any]:
        """``{"type": "L2Ball", "radius": r, "center": c}`` (``c`` a float or a CPU tensor)."""
        c = self.center
        return {
            "type": "L2Ball",
            "radius": self.radius,
            "center": c.clone() if isinstance(c, torch.Tensor) else c,
        }

    def _project_(self, x: torch.Tensor, weight: Weight | None) -> None:
        project_l2(x, weight, lambda dtype: self._center_for(x, dtype), self.radius)


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
        return l1_norm(x.detach()) <= self.radius + atol

    def to_spec(self) -> dict[str, Any]:
        """``{"type": "L1Ball", "radius": r}``."""
        return {"type": "L1Ball", "radius": self.radius}

    def _project_(self, x: torch.Tensor, weight: Weight | None) -> None:
        project_l1(x, weight, self.radius)


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
