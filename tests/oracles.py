"""Run an optimizer of the catalog and one of its oracles on the same gradients.

The gradients are a fixed random sequence (with occasional spikes, so that AMSGrad-style maxima
bind), independent of the iterate; weight decay still makes the step depend on x. Every oracle
kind is driven the same way: a ``torch.optim.Optimizer`` (torch.optim or an author's package)
through ``.grad``, an optax transformation through ``update``, and a float64 reference of
``tests/reference.py`` through its ``(x0, grads)`` signature.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

from beyondadam.optim import Entry
from beyondadam.optim._entry import Oracle

PATHS = {
    "single": {"foreach": False},
    "foreach": {"foreach": True},
    "fused": {"fused": True},
    "default": {},
}


@dataclass(frozen=True)
class Problem:
    """Initial points and a gradient sequence for a few tensors of random shapes."""

    x0: list[np.ndarray]
    grads: list[list[np.ndarray]]  # grads[t][i]: step t, tensor i

    @classmethod
    def random(cls, rng: np.random.Generator, steps: int, tensors: int = 3) -> Problem:
        shapes = [
            tuple(int(d) for d in rng.integers(1, 7, size=rng.integers(1, 4)))
            for _ in range(tensors)
        ]
        x0 = [rng.normal(size=s) for s in shapes]
        grads = [
            [rng.normal(size=s) * (30.0 if rng.random() < 0.1 else 1.0) for s in shapes]
            for _ in range(steps)
        ]
        return cls(x0, grads)

    def rounded(self, dtype: torch.dtype) -> Problem:
        """The same problem with every number rounded to ``dtype`` (what a run in it sees)."""

        def r(a: np.ndarray) -> np.ndarray:
            return torch.tensor(a).to(dtype).to(torch.float64).numpy()

        return Problem([r(x) for x in self.x0], [[r(g) for g in gs] for gs in self.grads])


def resolve(oracle: Oracle) -> Any:
    """The oracle's class or function; skips the test (saying why) when its package is absent."""
    module, attr = oracle.target.split(":")
    if oracle.package is not None:
        pytest.importorskip(
            module.split(".")[0],
            reason=f"oracle {oracle.label} needs the test-only package {oracle.package!r} "
            "(pip install -e '.[test]')",
        )
    return getattr(importlib.import_module(module), attr)


def run_torch(make, problem: Problem, dtype: torch.dtype, closure: bool = False):
    """Iterates after each step of the optimizer ``make(params)`` fed ``problem``'s gradients."""
    params = [torch.tensor(x, dtype=torch.float64).to(dtype).requires_grad_() for x in problem.x0]
    opt = make(params)
    out = []
    for gs in problem.grads:

        def set_grads(gs=gs) -> float:
            for p, g in zip(params, gs, strict=True):
                p.grad = torch.tensor(g, dtype=torch.float64).to(dtype)
            return 0.0

        if closure:
            opt.step(set_grads)
        else:
            set_grads()
            opt.step()
        out.append([p.detach().to(torch.float64).numpy().copy() for p in params])
    return out


def run_ours(
    entry: Entry,
    kwargs: dict[str, Any],
    problem: Problem,
    dtype: torch.dtype,
    path: str,
    maximize: bool,
    closure: bool = False,
):
    """Iterates of ``entry.cls`` with ``kwargs`` on ``path`` (single/foreach/fused)."""
    return run_torch(
        lambda ps: entry.cls(ps, **kwargs, maximize=maximize, **PATHS[path]),
        problem,
        dtype,
        closure,
    )


def run_oracle(
    oracle: Oracle,
    theirs: dict[str, Any],
    problem: Problem,
    dtype: torch.dtype,
    path: str,
    maximize: bool,
):
    """Iterates of the oracle with its keyword arguments ``theirs``.

    An oracle without ``maximize`` is given the negated gradients instead.
    """
    impl = resolve(oracle)
    if oracle.kind == "reference":
        exact = problem.rounded(dtype)
        per_tensor = [
            impl(x0, [gs[i] for gs in exact.grads], maximize=maximize, **theirs)
            for i, x0 in enumerate(exact.x0)
        ]
        return [list(step) for step in zip(*per_tensor, strict=True)]
    takes_maximize = "maximize" in inspect.signature(impl).parameters
    if not takes_maximize and maximize:
        problem = Problem(problem.x0, [[-g for g in gs] for gs in problem.grads])
    if oracle.kind == "optax":
        return _optax_run(impl(**theirs), problem, dtype)
    if takes_maximize:
        theirs = {**theirs, "maximize": maximize}
    if oracle.same_paths:
        theirs = {**theirs, **PATHS[path]}
    return run_torch(lambda ps: impl(ps, **theirs), problem, dtype)


def _optax_run(tx: Any, problem: Problem, dtype: torch.dtype):
    jax = pytest.importorskip("jax", reason="the optax oracles need jax (CPU)")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    jdtype = {torch.float64: jnp.float64, torch.float32: jnp.float32}[dtype]
    params = [jnp.asarray(x, dtype=jdtype) for x in problem.x0]
    state = tx.init(params)
    out = []
    for gs in problem.grads:
        grads = [jnp.asarray(g, dtype=jdtype) for g in gs]
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        out.append([np.asarray(p, dtype=np.float64) for p in params])
    return out


def tolerance(oracle: Oracle, dtype: torch.dtype) -> float:
    """torch.optim twins run the same arithmetic: tight; other oracles round differently."""
    if dtype == torch.float64:
        return 1e-12 if oracle.same_paths else 1e-10
    return 1e-6 if oracle.same_paths else 1e-5


def sample_for(entry: Entry, oracle: Oracle, rng: np.random.Generator, tries: int = 200):
    """Hyperparameters from ``entry.sample`` that ``oracle`` implements, and their translation."""
    for _ in range(tries):
        ours = entry.sample(rng)
        theirs = oracle.translate(entry.validate(ours))
        if theirs is not None:
            return ours, theirs
    raise AssertionError(
        f"{entry.name}.sample never produces a configuration {oracle.label} covers"
    )
