"""The simulator's update rules, keyed by the catalog's ``Entry.sim``.

A :class:`Rule` is a compiled :class:`~beyondadam.sim._runner.Kernel` (which may serve several
rules: Adam, AMSGrad and AdamNC share the Adam-family kernel) and a pure-Python ``pack`` that maps
an optimizer's validated options (:meth:`beyondadam.optim.catalog.Entry.validate`: defaults filled,
the class's own checks passed) to the kernel's named parameters and flag bits.  ``RULES`` is the
registry; :func:`check_coverage` fails when a catalog entry names no rule.

Adding a rule: write its kernel (a step function and a ``Kernel(...)`` layout, in
``_kernels.py`` or its own module) or reuse one, write a ``pack``, and add one line to ``RULES``
under the name its ``Entry.sim`` gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from beyondadam.optim import catalog
from beyondadam.sim import _adam_kernel as ak
from beyondadam.sim import _kernels as k
from beyondadam.sim._runner import Kernel

Params = dict[str, float]
Pack = Callable[[Mapping[str, Any]], tuple[Params, int]]


@dataclass(frozen=True)
class Rule:
    """One simulator rule: its kernel and ``pack(options) -> (parameters by row name, flags)``."""

    kernel: Kernel
    pack: Pack

    def parameters(self, options: Mapping[str, Any]) -> tuple[Params, int]:
        """``pack`` plus the rows every kernel has; checks that every row is filled exactly."""
        own, flags = self.pack(options)
        params = {
            "lr": float(options["lr"]),
            "weight_decay": float(options["weight_decay"]),
            "sign": -1.0 if options.get("maximize", False) else 1.0,
            **{name: float(v) for name, v in own.items()},
        }
        if set(params) != set(self.kernel.param_rows):
            raise AssertionError(
                f"pack for kernel {self.kernel.name} gave {sorted(params)}, "
                f"expected {sorted(self.kernel.param_rows)}"
            )
        return params, flags


def _plain(options: Mapping[str, Any]) -> tuple[Params, int]:
    return {}, 0


def _momentum(options: Mapping[str, Any]) -> tuple[Params, int]:
    return {"momentum": options["momentum"], "dampening": options["dampening"]}, 0


def _nag(options: Mapping[str, Any]) -> tuple[Params, int]:
    return {"momentum": options["momentum"], "dampening": 0.0}, k.NESTEROV


def _adagrad(options: Mapping[str, Any]) -> tuple[Params, int]:
    keys = ("lr_decay", "eps", "initial_accumulator_value")
    return {key: options[key] for key in keys}, 0


def _rmsprop(options: Mapping[str, Any]) -> tuple[Params, int]:
    flags = (k.CENTERED if options["centered"] else 0) | (
        k.HEAVY_BALL if options["momentum"] > 0 else 0
    )
    return {key: options[key] for key in ("alpha", "momentum", "eps")}, flags


def _adadelta(options: Mapping[str, Any]) -> tuple[Params, int]:
    return {"rho": options["rho"], "eps": options["eps"]}, 0


def _nadam(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    return {
        "beta1": b1,
        "beta2": b2,
        "eps": options["eps"],
        "momentum_decay": options["momentum_decay"],
    }, 0


def _beta1_decay(decay: float | str | None) -> tuple[float, int]:
    """(lambda row, flag bits) of a ``beta1_decay`` option."""
    if decay is None:
        return 1.0, 0
    if decay == "inverse":
        return 1.0, ak.DECAY_INVERSE
    return float(decay), ak.DECAY_GEOMETRIC


def _adam(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    flags = ak.BIAS_TORCH | (ak.DECOUPLED if options["decoupled_weight_decay"] else 0)
    return {"beta1": b1, "beta2": b2, "eps": options["eps"], "beta1_decay": 1.0}, flags


_FLAVOR_BIAS = {"paper": 0, "pytorch": ak.BIAS_TORCH, "optax": ak.BIAS_DEBIASED}


def _amsgrad(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    lam, flags = _beta1_decay(options["beta1_decay"])
    flags |= ak.MAX | _FLAVOR_BIAS[options["flavor"]]
    return {"beta1": b1, "beta2": b2, "eps": options["eps"], "beta1_decay": lam}, flags


def _adamnc(options: Mapping[str, Any]) -> tuple[Params, int]:
    lam, flags = _beta1_decay(options["beta1_decay"])
    params = {"beta1": options["beta1"], "beta2": 0.0, "eps": options["eps"], "beta1_decay": lam}
    return params, flags | ak.NC


#: simulator rules by ``Entry.sim`` name.
RULES: dict[str, Rule] = {
    "sgd": Rule(k.SGD, _plain),
    "momentum": Rule(k.MOMENTUM, _momentum),
    "nag": Rule(k.MOMENTUM, _nag),
    "adagrad": Rule(k.ADAGRAD, _adagrad),
    "rmsprop": Rule(k.RMSPROP, _rmsprop),
    "adadelta": Rule(k.ADADELTA, _adadelta),
    "adam": Rule(ak.ADAM_FAMILY, _adam),
    "nadam": Rule(k.NADAM, _nadam),
    "amsgrad": Rule(ak.ADAM_FAMILY, _amsgrad),
    "adamnc": Rule(ak.ADAM_FAMILY, _adamnc),
}


def rule_for(entry: catalog.Entry) -> Rule:
    """The rule an entry names; ``ValueError`` if the simulator has none."""
    try:
        return RULES[entry.sim]
    except KeyError:
        raise ValueError(
            f"{entry.name}: the simulator has no rule {entry.sim!r} (Entry.sim); "
            f"add it to beyondadam.sim.rules.RULES"
        ) from None


def check_coverage() -> None:
    """Raise ``ValueError`` naming every catalog entry whose ``sim`` rule is not registered."""
    missing = [f"{e.name} ({e.sim!r})" for e in catalog.ENTRIES if e.sim not in RULES]
    if missing:
        raise ValueError(f"no simulator rule for {', '.join(missing)}")
