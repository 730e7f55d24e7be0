"""What every beyondadam optimizer shares: validation, the step loop, path selection, projection.

A subclass states its math in three small methods:

- ``_init_state(p, group)``: the per-parameter buffers (the step counter ``t`` is kept here);
- ``_single_tensor(group, t, p, g, state)``: the update of one tensor, the readable reference;
- ``_multi_tensor(group, t, params, grads, states)``: the same update with ``torch._foreach_*``;

and optionally ``_fused`` (one kernel for the whole list) and ``_preconditioner`` (the diagonal
``A`` of the paper's weighted projection). The base class turns gradients into the ``g`` of the
equations (sign for ``maximize``, coupled weight decay), increments ``t``, buckets tensors so each
bucket shares device, dtype and ``t`` (so per-step scalars are computed once per bucket), and
projects onto the group's constraint set after the update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import torch
from torch import Tensor

from beyondadam.optim._validation import Check, check_optional_bool
from beyondadam.optim.constraints import Box, Constraint, constraint_from_spec

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]
#: a param group, one tensor's state, and lists of tensors and states (the hooks' arguments).
Group = dict[str, Any]
State = dict[str, Any]
Tensors = list[Tensor]
States = list[State]

_TAG = "beyondadam"


def zeros(p: Tensor, *names: str) -> State:
    """Fresh zero buffers shaped like ``p``, one per name (the usual ``_init_state``)."""
    return {n: torch.zeros_like(p, memory_format=torch.preserve_format) for n in names}


class BeyondOptimizer(torch.optim.Optimizer):
    """Base class of the beyondadam optimizers (not used directly).

    Every subclass accepts, besides its own hyperparameters:

    - ``maximize`` (bool): ascend instead of descend (the update uses ``-grad``);
    - ``foreach`` (None | bool): ``True`` selects the multi-tensor path, ``False`` the
      single-tensor reference path; ``None`` picks the fastest exact path available
      (the fused kernel where the class has one, else multi-tensor on CUDA, else single-tensor);
    - ``constraint`` (per param group): a :class:`~beyondadam.optim.constraints.Constraint`;
      after each update every tensor of the group is projected onto it in the norm weighted by
      the optimizer's preconditioner, as in the paper's algorithms.
    """

    #: name -> check, for every hyperparameter of the class (besides the shared switches).
    hyperparameters: ClassVar[dict[str, Check]] = {}
    #: whether the single-tensor path accepts sparse gradients (as torch.optim's counterpart does).
    supports_sparse: ClassVar[bool] = False
    #: whether the class has a fused kernel.
    has_fused: ClassVar[bool] = False
    #: hyperparameters that select a different algorithm: a state_dict saved with another value
    #: of these cannot be loaded.
    identity_keys: ClassVar[tuple[str, ...]] = ()

    #: group entries a subclass fixes rather than exposes (NAG: no dampening).
    fixed: ClassVar[dict[str, Any]] = {}

    def __init__(self, params: ParamsT, arguments: dict[str, Any]) -> None:
        """Build the param-group defaults from the subclass constructor's ``locals()``.

        Every name of ``hyperparameters`` is read from ``arguments`` (so a subclass states each
        hyperparameter once, in its signature), and so are the switches ``maximize``,
        ``foreach`` and, where the class has a fused path, ``fused``.
        """
        defaults = {name: arguments[name] for name in self.hyperparameters}
        if isinstance(defaults.get("betas"), list):
            defaults["betas"] = tuple(defaults["betas"])
        defaults.update(self.fixed)
        defaults.update(
            maximize=arguments.get("maximize", False),
            foreach=arguments.get("foreach"),
            constraint=None,
        )
        if self.has_fused:
            defaults["fused"] = arguments.get("fused")
        self._validate_group(defaults)
        super().__init__(params, defaults)

    # ----------------------------------------------------------------- validation

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a param group, validating its hyperparameters and ``constraint`` first."""
        merged = {**self.defaults, **{k: v for k, v in param_group.items() if k != "params"}}
        self._validate_group(merged)
        super().add_param_group(param_group)
        for p in self.param_groups[-1]["params"]:
            if p.is_complex() or not p.is_floating_point():
                del self.param_groups[-1]
                raise ValueError(
                    f"{type(self).__name__}: parameters must be real floating-point tensors, "
                    f"got {p.dtype} (for complex parameters optimize torch.view_as_real(p))"
                )

    @classmethod
    def check_group(cls, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` naming the first hyperparameter of ``group`` out of its range.

        Checks the class's ``hyperparameters`` table and the ``maximize``/``foreach`` switches;
        used at construction and by every layer that accepts hyperparameters before any work.
        """
        owner = cls.__name__
        for name, check in cls.hyperparameters.items():
            check(owner, name, group[name])
        maximize = group.get("maximize", False)
        if not isinstance(maximize, bool):
            raise ValueError(f"{owner}: maximize must be True or False, got {maximize!r}")
        check_optional_bool(owner, "foreach", group.get("foreach"))

    def _validate_group(self, group: Group) -> None:
        owner = type(self).__name__
        self.check_group(group)
        if self.has_fused:
            check_optional_bool(owner, "fused", group["fused"])
            if group["fused"] and group["foreach"]:
                raise ValueError(f"{owner}: fused=True and foreach=True cannot be combined")
            if group["fused"] and not self._fused_supported(group):
                raise ValueError(f"{owner}: fused=True is not available {self._fused_unsupported}")
        constraint = group.get("constraint")
        if constraint is not None and not isinstance(constraint, Constraint):
            raise ValueError(
                f"{owner}: constraint must be None or a beyondadam.optim.constraints.Constraint "
                f"(Box, L2Ball, L1Ball), got {constraint!r}"
            )

    #: why ``_fused_supported`` may say no, for the error message.
    _fused_unsupported: ClassVar[str] = ""

    def _fused_supported(self, group: Group) -> bool:
        return self.has_fused

    # ----------------------------------------------------------------- state_dict

    def state_dict(self) -> dict[str, Any]:
        """The usual torch state_dict, tagged with the optimizer's class.

        The identity keys (``flavor``, ``decoupled_weight_decay``) travel in the param groups;
        :meth:`load_state_dict` compares both.  A group's ``constraint`` is stored as plain
        data (:meth:`~beyondadam.optim.constraints.Constraint.to_spec`), so the state_dict
        loads with ``torch.load``'s default ``weights_only=True``.
        """
        sd = super().state_dict()
        sd["param_groups"] = [
            {**g, "constraint": g["constraint"].to_spec()}
            if isinstance(g.get("constraint"), Constraint)
            else g
            for g in sd["param_groups"]
        ]
        sd[_TAG] = {"optimizer": type(self).__name__}
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state_dict saved by the same optimizer class (and the same flavor).

        Constraints saved as plain data are rebuilt (``ValueError`` naming the group if a spec
        is not one :func:`~beyondadam.optim.constraints.constraint_from_spec` accepts).
        """
        owner = type(self).__name__
        tag = state_dict.get(_TAG)
        if not isinstance(tag, dict) or tag.get("optimizer") != owner:
            source = tag.get("optimizer") if isinstance(tag, dict) else "not beyondadam.optim"
            raise ValueError(
                f"{owner}.load_state_dict: this state_dict was saved by a different optimizer "
                f"({source}); its buffers mean something else and cannot be loaded"
            )
        for saved, current in zip(state_dict["param_groups"], self.param_groups, strict=False):
            for key in self.identity_keys:
                if saved.get(key) != current.get(key):
                    raise ValueError(
                        f"{owner}.load_state_dict: saved {key}={saved.get(key)!r} differs from "
                        f"this optimizer's {key}={current.get(key)!r}; the saved buffers follow "
                        "different equations"
                    )
        groups = []
        for i, saved in enumerate(state_dict["param_groups"]):
            if self.has_fused and "fused" not in saved:
                saved = {**saved, "fused": None}  # saved before the class had a fused path
            spec = saved.get("constraint")
            if spec is not None and not isinstance(spec, Constraint):
                try:
                    saved = {**saved, "constraint": constraint_from_spec(spec)}
                except ValueError as err:
                    raise ValueError(f"{owner}.load_state_dict: param group {i}: {err}") from None
            groups.append(saved)
        state_dict = {k: v for k, v in state_dict.items() if k != _TAG}
        super().load_state_dict({**state_dict, "param_groups": groups})
        for group in self.param_groups:
            self._validate_group(group)

    # ----------------------------------------------------------------- the step

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._step_group(group, params)
        return loss

    def _step_group(self, group: Group, params: list[Tensor]) -> None:
        grads = [p.grad for p in params]
        sparse = any(g.is_sparse for g in grads)
        if sparse and not self.supports_sparse:
            raise RuntimeError(
                f"{type(self).__name__} does not support sparse gradients "
                "(use a dense embedding, or SGD/AdaGrad, which accept them)"
            )
        states = []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0
                state.update(self._init_state(p, group))
            state["step"] += 1
            states.append(state)
        path = self._path(group, params, sparse)
        buckets: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for i, (p, state) in enumerate(zip(params, states, strict=True)):
            buckets[(p.device, p.dtype, state["step"])].append(i)
        for (_, _, t), idx in buckets.items():
            ps = [params[i] for i in idx]
            gs = [grads[i] for i in idx]
            ss = [states[i] for i in idx]
            if path == "fused":
                # The same memory-order assumption holds for gradients (a transposed gradient
                # gives a wrong step): hand the kernel a contiguous copy where needed.
                gs = [g.contiguous() for g in gs]
                self._fused(group, t, ps, gs, ss)
            else:
                gs = self._gradient(group, ps, gs, foreach=path == "foreach")
                if path == "foreach":
                    self._multi_tensor(group, t, ps, gs, ss)
                else:
                    for p, g, s in zip(ps, gs, ss, strict=True):
                        self._single_tensor(group, t, p, g, s)
            self._project(group, t, ps, ss)

    def _path(self, group: Group, params: list[Tensor], sparse: bool) -> str:
        if sparse:
            if group["foreach"] or group.get("fused"):
                raise RuntimeError(
                    f"{type(self).__name__}: sparse gradients need foreach=False (and no fused)"
                )
            return "single"
        fused = group.get("fused")
        # torch's fused kernels walk each tensor's memory in order and give wrong results for a
        # parameter that is not contiguous (measured with torch 2.13 on CPU), so such a bucket
        # takes the multi-tensor path, which computes the same update.
        contiguous = all(p.is_contiguous() for p in params)
        if fused:
            return "fused" if contiguous else "foreach"
        if group["foreach"] is not None:
            return "foreach" if group["foreach"] else "single"
        if (
            fused is None
            and self._fused_supported(group)
            and contiguous
            and all(_fused_device_ok(p) for p in params)
        ):
            return "fused"
        return "foreach" if all(p.is_cuda for p in params) else "single"

    def _gradient(
        self, group: Group, params: list[Tensor], grads: list[Tensor], foreach: bool
    ) -> list[Tensor]:
        """The ``g`` of the equations: the gradient, negated under ``maximize``, plus L2 decay."""
        if group["maximize"]:
            grads = torch._foreach_neg(grads) if foreach else [-g for g in grads]
        wd = group.get("weight_decay", 0.0)
        if wd != 0 and self._coupled_weight_decay(group):
            if any(g.is_sparse for g in grads):
                raise RuntimeError(
                    f"{type(self).__name__}: weight_decay is not compatible with sparse gradients"
                )
            if foreach:
                grads = torch._foreach_add(grads, params, alpha=wd)
            else:
                grads = [g.add(p, alpha=wd) for g, p in zip(grads, params, strict=True)]
        return grads

    def _coupled_weight_decay(self, group: Group) -> bool:
        return True

    def _project(
        self, group: Group, t: int, params: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        constraint = group["constraint"]
        if constraint is None:
            return
        for p, state in zip(params, states, strict=True):
            # Clipping ignores the weights, so Box skips computing them.
            weight = None if isinstance(constraint, Box) else self._preconditioner(group, t, state)
            constraint.project_(p, weight)

    # ----------------------------------------------------------------- subclass hooks

    #: the zero-initialised state buffers of the default ``_init_state``.
    state_buffers: ClassVar[tuple[str, ...]] = ()

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return zeros(p, *self.state_buffers)

    def _single_tensor(self, group: Group, t: int, p: Tensor, g: Tensor, state: State) -> None:
        raise NotImplementedError

    def _multi_tensor(
        self, group: Group, t: int, params: Tensors, grads: Tensors, states: States
    ) -> None:
        raise NotImplementedError

    def _fused(self, group: Group, t: int, params: Tensors, grads: Tensors, states: States) -> None:
        raise NotImplementedError

    def _preconditioner(self, group: Group, t: int, state: dict[str, Any]) -> Tensor | None:
        """The diagonal of ``A`` in the weighted projection; ``None`` means the identity."""
        return None


def _fused_device_ok(p: Tensor) -> bool:
    return p.device.type in ("cpu", "cuda") and p.dtype in (
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
    )
