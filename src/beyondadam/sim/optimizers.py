"""Optimizer specifications for the simulator, read from the optimizer catalog.

An :class:`OptimizerSpec` is the name of a :mod:`beyondadam.optim` class and the keyword
arguments its constructor takes (``lr``, ``betas``, ``flavor``, ``beta1_decay``, ...).  Defaults
and checks are the class's own (:meth:`beyondadam.optim.catalog.Entry.validate`), so the simulator
refuses exactly what the optimizer refuses; :meth:`OptimizerSpec.pack` turns the options into the
named parameters and flags of its simulator rule (:mod:`beyondadam.sim.rules`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from beyondadam.optim import catalog
from beyondadam.sim.rules import Rule, rule_for


def canonical_name(name: str) -> str:
    """Return the class name for ``name`` (case-insensitive); raise ValueError if unknown."""
    return catalog.get(name).name


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer of :mod:`beyondadam.optim`: its class name and constructor keyword arguments.

    Example: ``OptimizerSpec("AMSGrad", {"lr": 0.1, "betas": (0.9, 0.99)})``.  Unknown keywords
    and out-of-range values raise ValueError when the spec is created.
    """

    name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        entry = catalog.get(self.name)
        object.__setattr__(self, "name", entry.name)
        object.__setattr__(self, "kwargs", dict(self.kwargs))
        # Validated once (an atlas creates hundreds of thousands of specs); options() copies it.
        object.__setattr__(self, "_options", entry.validate(self.kwargs))
        rule_for(entry)  # the simulator must have its rule

    @property
    def entry(self) -> catalog.Entry:
        """The catalog entry of the class."""
        return catalog.get(self.name)

    @property
    def rule(self) -> Rule:
        """The simulator rule (``Entry.sim``) that runs it."""
        return rule_for(self.entry)

    def options(self) -> dict[str, Any]:
        """All constructor options, defaults filled in (validated by the class's checks)."""
        return dict(self._options)

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

    def pack(self) -> tuple[dict[str, float], int]:
        """The rule's parameters by row name (common rows included) and its flag bits."""
        return self.rule.parameters(self.options())


def spec(name: str, **kwargs: Any) -> OptimizerSpec:
    """Shorthand: ``spec("Adam", lr=0.1, betas=(0.9, 0.99))``."""
    return OptimizerSpec(name, kwargs)
