"""Optimizer specifications for the simulator, mirroring :mod:`beyondadam.optim`.

An :class:`OptimizerSpec` is a class name of :mod:`beyondadam.optim` and the keyword arguments its
constructor takes (``lr``, ``betas``, ``flavor``, ``beta1_decay``, ...), with the same defaults.
:meth:`OptimizerSpec.pack` validates them and turns them into the integer codes and float64
parameters the compiled engine reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Integer codes of the update rules in the compiled engine.
SGD, MOMENTUM, NAG, ADAGRAD, RMSPROP, ADADELTA, ADAM, NADAM = range(8)
AMSGRAD_PAPER, AMSGRAD_PYTORCH, AMSGRAD_OPTAX, ADAMNC = range(8, 12)

# Flag bits.
B1_NONE, B1_GEOMETRIC, B1_INVERSE = 0, 1, 2  # bits 0-1: beta1 decay mode
F_CENTERED = 4  # RMSProp centered
F_MOMENTUM = 8  # RMSProp momentum > 0
F_DECOUPLED = 16  # Adam decoupled weight decay (AdamW)

# Rows of the per-configuration parameter matrix.
N_PARAMS = 8
R_LR, R_A, R_B, R_EPS, R_WD, R_LAM, R_SIGN, R_INIT = range(N_PARAMS)

_REQUIRED = object()
_BETAS = (0.9, 0.999)
DEFAULTS: dict[str, dict[str, Any]] = {
    "SGD": {"lr": _REQUIRED, "weight_decay": 0.0},
    "Momentum": {"lr": _REQUIRED, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
    "NAG": {"lr": _REQUIRED, "momentum": 0.9, "weight_decay": 0.0},
    "AdaGrad": {
        "lr": 1e-2,
        "lr_decay": 0.0,
        "weight_decay": 0.0,
        "initial_accumulator_value": 0.0,
        "eps": 1e-10,
    },
    "RMSProp": {
        "lr": 1e-2,
        "alpha": 0.99,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum": 0.0,
        "centered": False,
    },
    "AdaDelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    "Adam": {
        "lr": 1e-3,
        "betas": _BETAS,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "decoupled_weight_decay": False,
    },
    "NAdam": {
        "lr": 2e-3,
        "betas": _BETAS,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum_decay": 4e-3,
    },
    "AMSGrad": {
        "lr": 1e-3,
        "betas": _BETAS,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "flavor": "paper",
        "beta1_decay": None,
    },
    "AdamNC": {"lr": 1e-3, "beta1": 0.9, "eps": 1e-8, "weight_decay": 0.0, "beta1_decay": None},
}
_COMMON = {"maximize": False, "foreach": None, "fused": None}
_BY_LOWER = {name.lower(): name for name in DEFAULTS}
FLAVORS = ("paper", "pytorch", "optax")


def canonical_name(name: str) -> str:
    """Return the class name for ``name`` (case-insensitive); raise ValueError if unknown."""
    try:
        return _BY_LOWER[str(name).lower()]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; expected one of {', '.join(DEFAULTS)}"
        ) from None


def _real(name: str, value: Any, lo: float, hi: float, lo_open: bool, hi_open: bool) -> float:
    lo_s = "(" if lo_open else "["
    hi_s = ")" if hi_open else "]"
    rng = f"{lo_s}{lo:g}, {'inf' if math.isinf(hi) else f'{hi:g}'}{hi_s}"
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number in {rng}, got {value!r}") from None
    bad = (
        math.isnan(x)
        or (x < lo or (lo_open and x == lo))
        or (x > hi or (hi_open and x == hi))
        or math.isinf(x)
    )
    if bad:
        raise ValueError(f"{name} must be a finite real number in {rng}, got {value!r}")
    return x


def _unit(name: str, value: Any, hi_open: bool = True) -> float:
    return _real(name, value, 0.0, 1.0, False, hi_open)


def _nonneg(name: str, value: Any) -> float:
    return _real(name, value, 0.0, math.inf, False, True)


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer of :mod:`beyondadam.optim`: its class name and constructor keyword arguments.

    Example: ``OptimizerSpec("AMSGrad", {"lr": 0.1, "betas": (0.9, 0.99)})``.  Unknown keywords
    and out-of-range values raise ValueError when the spec is created.
    """

    name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", canonical_name(self.name))
        object.__setattr__(self, "kwargs", dict(self.kwargs))
        allowed = {**DEFAULTS[self.name], **_COMMON}
        unknown = sorted(set(self.kwargs) - set(allowed))
        if unknown:
            raise ValueError(
                f"{self.name} does not take {', '.join(unknown)}; "
                f"its options are {', '.join(allowed)}"
            )
        self.pack()  # validates

    def options(self) -> dict[str, Any]:
        """All constructor options, defaults filled in."""
        opts = {**DEFAULTS[self.name], **_COMMON, **self.kwargs}
        if opts["lr"] is _REQUIRED:
            raise ValueError(f"{self.name} needs an explicit lr")
        return opts

    def torch_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the :mod:`beyondadam.optim` class (as given by the user)."""
        return dict(self.kwargs)

    @property
    def label(self) -> str:
        """A short human-readable label, e.g. ``AMSGrad(lr=0.1, betas=(0.9, 0.99))``."""
        if not self.kwargs:
            return self.name
        inner = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.name}({inner})"

    def pack(self) -> tuple[int, int, list[float]]:
        """Validate and return (kind code, flag bits, parameter row of length ``N_PARAMS``)."""
        o = self.options()
        row = [0.0] * N_PARAMS
        row[R_LR] = _nonneg("lr", o["lr"])
        row[R_WD] = _nonneg("weight_decay", o["weight_decay"])
        row[R_SIGN] = -1.0 if bool(o["maximize"]) else 1.0
        row[R_LAM] = 1.0
        flags = 0
        name = self.name
        if "eps" in o:
            row[R_EPS] = _nonneg("eps", o["eps"])
        if "betas" in o:
            betas = o["betas"]
            try:
                b1, b2 = betas
            except (TypeError, ValueError):
                raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
            row[R_A] = _unit("beta1 (betas[0])", b1)
            row[R_B] = _unit("beta2 (betas[1])", b2)
        if name in ("AMSGrad", "AdamNC"):
            if name == "AdamNC":
                row[R_A] = _unit("beta1", o["beta1"])
            decay = o["beta1_decay"]
            if decay is None:
                flags |= B1_NONE
            elif isinstance(decay, str):
                if decay != "inverse":
                    raise ValueError(
                        f"beta1_decay must be None, 'inverse' or a float in (0, 1), got {decay!r}"
                    )
                flags |= B1_INVERSE
            else:
                row[R_LAM] = _real("beta1_decay", decay, 0.0, 1.0, True, True)
                flags |= B1_GEOMETRIC
        if name == "SGD":
            kind = SGD
        elif name in ("Momentum", "NAG"):
            kind = MOMENTUM if name == "Momentum" else NAG
            row[R_A] = _nonneg("momentum", o["momentum"])
            if name == "Momentum":
                row[R_B] = _real("dampening", o["dampening"], 0.0, 1.0, False, False)
        elif name == "AdaGrad":
            kind = ADAGRAD
            row[R_B] = _nonneg("lr_decay", o["lr_decay"])
            row[R_INIT] = _nonneg("initial_accumulator_value", o["initial_accumulator_value"])
        elif name == "RMSProp":
            kind = RMSPROP
            row[R_A] = _unit("alpha", o["alpha"], hi_open=False)
            row[R_B] = _nonneg("momentum", o["momentum"])
            if row[R_B] > 0:
                flags |= F_MOMENTUM
            if bool(o["centered"]):
                flags |= F_CENTERED
        elif name == "AdaDelta":
            kind = ADADELTA
            row[R_A] = _unit("rho", o["rho"], hi_open=False)
        elif name == "Adam":
            kind = ADAM
            if bool(o["decoupled_weight_decay"]):
                flags |= F_DECOUPLED
        elif name == "NAdam":
            kind = NADAM
            # NAdam keeps momentum_decay in its own slot: R_INIT is free for it.
            row[R_INIT] = _nonneg("momentum_decay", o["momentum_decay"])
        elif name == "AMSGrad":
            flavor = o["flavor"]
            if flavor not in FLAVORS:
                raise ValueError(f"flavor must be one of {', '.join(FLAVORS)}, got {flavor!r}")
            kind = {"paper": AMSGRAD_PAPER, "pytorch": AMSGRAD_PYTORCH, "optax": AMSGRAD_OPTAX}[
                flavor
            ]
        else:
            kind = ADAMNC
        return kind, flags, row


def spec(name: str, **kwargs: Any) -> OptimizerSpec:
    """Shorthand: ``spec("Adam", lr=0.1, betas=(0.9, 0.99))``."""
    return OptimizerSpec(name, kwargs)
