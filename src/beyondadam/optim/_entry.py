"""What the catalog knows about one optimizer: :class:`Entry` and :class:`Oracle`.

Each optimizer module ends with one ``ENTRY = Entry(...)`` beside its class; the catalog
(:mod:`beyondadam.optim.catalog`) lists those entries, and every other layer reads them: the CLI
(names, defaults, docs), the simulator (``sim``: the name of its rule there), experiments (the
hyperparameters an optimizer takes), and the tests (``sample`` and ``oracles``). Defaults come
from the class signature and checks from its ``hyperparameters`` table, so neither is written
twice.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np

    from beyondadam.optim._base import BeyondOptimizer

#: keyword arguments every optimizer takes besides its own hyperparameters.
SWITCHES = ("maximize", "foreach", "fused")

Translate = Callable[[dict[str, Any]], dict[str, Any] | None]


@functools.cache
def _signature_defaults(cls: type) -> tuple[tuple[str, Any], ...]:
    # Cached: the simulator validates every configuration of an atlas (hundreds of thousands),
    # and inspect.signature costs tens of microseconds each time.
    params = list(inspect.signature(cls.__init__).parameters.values())[2:]
    return tuple((p.name, p.default) for p in params if p.name not in SWITCHES)


@dataclass(frozen=True)
class Oracle:
    """An independent implementation the optimizer must equal, step by step.

    ``target`` is ``"module:attribute"``: a ``torch.optim.Optimizer`` class (``kind="torch"``:
    torch.optim or an author's package), an optax transformation factory (``kind="optax"``), or a
    float64 NumPy function of ``tests/reference.py`` (``kind="reference"``, called as
    ``f(x0, grads, maximize=..., **kwargs)`` and returning the iterates). ``translate`` maps our
    complete keyword arguments (defaults filled in) to the oracle's, or returns ``None`` where the
    oracle does not implement that configuration. ``package`` is the pip package that provides a
    test-only oracle (tests skip, saying so, where it is absent). ``same_paths``: the oracle has
    our single/foreach/fused paths (torch.optim), so each path is compared with its twin.
    """

    target: str
    translate: Translate
    kind: Literal["torch", "optax", "reference"] = "torch"
    package: str | None = None
    same_paths: bool = False

    @property
    def label(self) -> str:
        """``module.attribute``, for test ids and docs."""
        return self.target.replace(":", ".")


@dataclass(frozen=True)
class Entry:
    """One optimizer of the catalog.

    - ``cls``: the :class:`~beyondadam.optim.BeyondOptimizer` subclass;
    - ``sample``: random valid hyperparameters (every code path reachable), for the generic tests;
    - ``oracles``: what it is checked against (at least one);
    - ``sim``: the name of its update rule in the simulator (:mod:`beyondadam.sim`);
    - ``variants``: hyperparameter settings that select different equations (flavors, decoupled
      decay, beta1 schedules), each of which the simulator's differential test runs.
    """

    cls: type[BeyondOptimizer]
    sample: Callable[[np.random.Generator], dict[str, Any]]
    oracles: tuple[Oracle, ...]
    sim: str
    variants: tuple[Mapping[str, Any], ...] = field(default=({},))

    @property
    def name(self) -> str:
        """The class name, e.g. ``"AMSGrad"``."""
        return self.cls.__name__

    @property
    def key(self) -> str:
        """The lowercase name used on command lines and in stores, e.g. ``"amsgrad"``."""
        return self.cls.__name__.lower()

    @property
    def fused(self) -> bool:
        """Whether the class has a fused path (for some configurations)."""
        return self.cls.has_fused

    @property
    def sparse(self) -> bool:
        """Whether its single-tensor path accepts sparse gradients."""
        return self.cls.supports_sparse

    def defaults(self) -> dict[str, Any]:
        """Hyperparameter defaults from the constructor signature, switches excluded.

        A required hyperparameter (SGD's ``lr``) maps to ``inspect.Parameter.empty``.
        """
        return dict(_signature_defaults(self.cls))

    def hyperparameters(self) -> tuple[str, ...]:
        """The names of its hyperparameters, in signature order."""
        return tuple(self.defaults())

    def validate(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """``kwargs`` with defaults filled in; ``ValueError`` naming the bad parameter otherwise.

        The checks are the class's own (``hyperparameters`` table), so the simulator, the CLI
        and the experiments refuse exactly what the optimizer refuses.
        """
        defaults = self.defaults()
        allowed = (*defaults, *(s for s in SWITCHES if s != "fused" or self.fused))
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise ValueError(
                f"{self.name} takes no hyperparameter {unknown[0]!r}; it takes {', '.join(allowed)}"
            )
        full = {**defaults, **kwargs}
        missing = [k for k, v in full.items() if v is inspect.Parameter.empty]
        if missing:
            raise ValueError(f"{self.name} needs an explicit {missing[0]}")
        if isinstance(full.get("betas"), list):
            full["betas"] = tuple(full["betas"])
        self.cls.check_group(full)
        return full


# ----------------------------------------------------------------- sampling helpers


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A float drawn log-uniformly from ``[low, high]``."""
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def sample_common(rng: np.random.Generator) -> dict[str, float]:
    """``lr`` in [1e-3, 1e-1] and ``weight_decay`` (zero half of the time): shared by all."""
    wd = 0.0 if rng.integers(2) == 0 else log_uniform(rng, 1e-3, 1e-1)
    return {"lr": log_uniform(rng, 1e-3, 1e-1), "weight_decay": wd}


def sample_betas(rng: np.random.Generator) -> tuple[float, float]:
    """``(beta1, beta2)`` with beta1 in [0, 0.99) and beta2 in [0.5, 0.9999)."""
    return float(rng.uniform(0.0, 0.99)), float(rng.uniform(0.5, 0.9999))


def sample_adam(
    rng: np.random.Generator,
    eps: tuple[float, float] = (1e-10, 1e-6),
    betas: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Adam's hyperparameters: common ones, ``betas`` (drawn unless given), then ``eps``.

    ``eps`` is log-uniform in the range ``eps``; the draws are in this order.
    """
    common = sample_common(rng)
    return {
        **common,
        "betas": sample_betas(rng) if betas is None else betas,
        "eps": log_uniform(rng, *eps),
    }


def sample_rectified_betas(rng: np.random.Generator) -> tuple[float, float]:
    """:func:`sample_betas` with beta2 mostly in [0.9, 0.9999) (rectified early; sometimes never).

    For the rectified optimizers, RAdam and AdaBelief.
    """
    b1, b2 = sample_betas(rng)
    if rng.random() < 0.75:
        b2 = float(rng.uniform(0.9, 0.9999))
    return b1, b2


def sample_beta1_decay(rng: np.random.Generator) -> float | str | None:
    """``None``, a geometric rate in [0.9, 0.999] or ``"inverse"``, each a third of the time."""
    return (None, float(rng.uniform(0.9, 0.999)), "inverse")[int(rng.integers(3))]


def same(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The identity translation: the oracle takes our keyword arguments as they are."""
    return dict(kwargs)


def split_betas(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Our keyword arguments with ``betas`` as ``beta1``/``beta2`` (the float64 references')."""
    beta1, beta2 = kwargs["betas"]
    rest = {k: v for k, v in kwargs.items() if k != "betas"}
    return {**rest, "beta1": beta1, "beta2": beta2}
