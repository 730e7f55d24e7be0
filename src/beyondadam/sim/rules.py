"""The simulator's update rules, keyed by the catalog's ``Entry.sim``.

A :class:`Rule` is a compiled :class:`~beyondadam.sim._runner.Kernel` (which may serve several
rules: Adam, AMSGrad, AdamNC, NosAdam, AdamX, Padam, RAdam and AdaBelief share the Adam-family
kernel; AdaBound and AMSBound share one) and a pure-Python ``pack`` that maps
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

import numpy as np

from beyondadam.optim import catalog
from beyondadam.sim import _adam_kernel as ak
from beyondadam.sim import _descendant_kernels as dk
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
        return self._rows(options, float)

    def columns(self, options: Mapping[str, Any], n: int) -> tuple[dict[str, np.ndarray], int]:
        """:meth:`parameters` of ``n`` configurations at once, each row an (n,) float64 array.

        ``options`` may hold (n,) arrays where configurations differ (``betas`` as a pair of
        arrays); the flags must not depend on them (a ``pack`` that branches on an array raises).
        """
        return self._rows(options, lambda v: np.broadcast_to(np.asarray(v, np.float64), (n,)))

    def _rows(self, options: Mapping[str, Any], number: Callable[[Any], Any]) -> tuple[dict, int]:
        own, flags = self.pack(options)
        params = {
            "lr": number(options["lr"]),
            "weight_decay": number(options["weight_decay"]),
            "sign": number(-1.0 if options.get("maximize", False) else 1.0),
            **{name: number(v) for name, v in own.items()},
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


def _family(
    b1: float, b2: float, eps: float, lam: float = 1.0, gamma: float = 0.0, partial: float = 0.5
) -> Params:
    """The Adam-family kernel's rows (``gamma``: NosAdam only; ``partial``: Padam only)."""
    return {"beta1": b1, "beta2": b2, "eps": eps, "beta1_decay": lam, "gamma": gamma,
            "partial": partial}  # fmt: skip


def _decoupled(options: Mapping[str, Any]) -> int:
    return ak.DECOUPLED if options["decoupled_weight_decay"] else 0


def _adam(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    return _family(b1, b2, options["eps"]), ak.BIAS_TORCH | _decoupled(options)


_FLAVOR_BIAS = {"paper": 0, "pytorch": ak.BIAS_TORCH, "optax": ak.BIAS_DEBIASED}


def _amsgrad(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    lam, flags = _beta1_decay(options["beta1_decay"])
    flags |= ak.MAX | _FLAVOR_BIAS[options["flavor"]]
    return _family(b1, b2, options["eps"], lam), flags


def _adamnc(options: Mapping[str, Any]) -> tuple[Params, int]:
    lam, flags = _beta1_decay(options["beta1_decay"])
    return _family(options["beta1"], 0.0, options["eps"], lam), flags | ak.NC


def _nosadam(options: Mapping[str, Any]) -> tuple[Params, int]:
    return _family(options["beta1"], 0.0, options["eps"], gamma=options["gamma"]), ak.NOS


def _adamx(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    lam, flags = _beta1_decay(options["beta1_decay"])
    # With a constant beta1 the rescaling factor is exactly 1: AMSGrad's paper path.
    rescale = ak.RESCALE if options["beta1_decay"] is not None else 0
    return _family(b1, b2, options["eps"], lam), flags | ak.MAX | rescale


def _padam(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    p = options["partial"]
    # partial = 1/2 is AMSGrad's paper flavor exactly (a square root, as the class takes).
    return _family(b1, b2, options["eps"], partial=p), ak.MAX | (ak.POWER if p != 0.5 else 0)


def _decay_if_any(options: Mapping[str, Any]) -> int:
    # Without weight decay the decoupled step is the coupled one (the classes skip both when
    # weight_decay == 0); leaving the bit off keeps these rules on their vectorized paths.
    return _decoupled(options) if options["weight_decay"] != 0 else 0


def _radam(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    return _family(b1, b2, options["eps"]), ak.RECTIFY | _decay_if_any(options)


def _adabelief(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    if options["rectify"]:
        # The rectified steps ignore amsgrad's maximum (as the class does).
        flags = ak.RECTIFY
    else:
        flags = ak.BIAS_TORCH | (ak.MAX if options["amsgrad"] else 0)
    return _family(b1, b2, options["eps"]), flags | ak.BELIEF | _decay_if_any(options)


def _adopt(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    p = options["clip_exponent"]
    flags = (dk.DECOUPLED if options["decoupled_weight_decay"] else 0) | (
        dk.NO_CLIP if p is None else 0
    )
    return {"beta1": b1, "beta2": b2, "eps": options["eps"], "clip_exponent": p or 0.0}, flags


def _yogi(options: Mapping[str, Any]) -> tuple[Params, int]:
    b1, b2 = options["betas"]
    init = options["initial_accumulator_value"]
    optax = options["flavor"] == "optax"
    params = {"beta1": b1, "beta2": b2, "eps": options["eps"], "initial_accumulator_value": init}
    # optax starts both moments at the initial value, the paper's Algorithm 2 only v.
    return {**params, "initial_m": init if optax else 0.0}, dk.OPTAX if optax else 0


def _bounded(amsbound: bool) -> Pack:
    def pack(options: Mapping[str, Any]) -> tuple[Params, int]:
        b1, b2 = options["betas"]
        keys = ("eps", "final_lr", "gamma")
        params = {"beta1": b1, "beta2": b2, **{key: options[key] for key in keys}}
        return params, dk.AMSBOUND if amsbound else 0

    return pack


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
    "nosadam": Rule(ak.ADAM_FAMILY, _nosadam),
    "adamx": Rule(ak.ADAM_FAMILY, _adamx),
    "padam": Rule(ak.ADAM_FAMILY, _padam),
    "radam": Rule(ak.ADAM_FAMILY, _radam),
    "adabelief": Rule(ak.ADAM_FAMILY, _adabelief),
    "adopt": Rule(dk.ADOPT, _adopt),
    "yogi": Rule(dk.YOGI, _yogi),
    "adabound": Rule(dk.ADABOUND, _bounded(False)),
    "amsbound": Rule(dk.ADABOUND, _bounded(True)),
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
