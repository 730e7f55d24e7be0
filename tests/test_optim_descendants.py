"""The descendants of AMSGrad equal their oracles (authors' packages, torch, optax, float64
references) step by step, on every path, in float64 and float32.

Each case draws random hyperparameters with the entry's own ``sample`` and random shapes, feeds
the same gradient sequence (with occasional spikes, so maxima and clips bind) to ours and to the
oracle for 60 steps, and compares every iterate. ``maximize`` is drawn too: where an oracle has
no ``maximize`` it receives the negated gradients, which is what maximizing means.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest
import torch

from beyondadam.optim import adabelief, adabound, adamx, adopt, nosadam, padam, radam, yogi
from beyondadam.optim._entry import Entry, Oracle

# The authors' packages call torch APIs that now warn; their warnings are not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore:.*is deprecated:UserWarning"
)

bo_radam = radam.RAdam
NEW: tuple[Entry, ...] = (
    radam.ENTRY,
    adopt.ENTRY,
    adabelief.ENTRY,
    adabound.ADABOUND_ENTRY,
    adabound.AMSBOUND_ENTRY,
    yogi.ENTRY,
    padam.ENTRY,
    adamx.ENTRY,
    nosadam.ENTRY,
)
STEPS = 60
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
PATHS = {"single": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}


def problem(seed: int, steps: int = STEPS):
    """Random shapes, a start point and a gradient sequence (float64 NumPy)."""
    rng = np.random.default_rng(seed)
    shapes = [tuple(int(d) for d in rng.integers(1, 7, size=rng.integers(1, 4))) for _ in range(3)]
    x0 = [rng.normal(size=s) for s in shapes]
    grads = [
        [rng.normal(size=s) * (20.0 if rng.random() < 0.1 else 1.0) for s in shapes]
        for _ in range(steps)
    ]
    return rng, x0, grads


def run_ours(make, x0, grads, dtype) -> list[list[np.ndarray]]:
    """Iterates after each step of the optimizer ``make(params)`` fed ``grads``."""
    params = [torch.tensor(x, dtype=dtype, requires_grad=True) for x in x0]
    opt = make(params)
    out = []
    for gs in grads:
        for p, g in zip(params, gs, strict=True):
            p.grad = torch.tensor(g, dtype=dtype)
        opt.step()
        out.append([p.detach().to(torch.float64).numpy().copy() for p in params])
    return out


def _import(target: str):
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def _need(oracle: Oracle) -> None:
    if oracle.package is not None:
        module = oracle.target.split(":")[0]
        pytest.importorskip(
            module,
            reason=f"the oracle {oracle.label} needs the test-only package {oracle.package!r} "
            "(pip install 'beyondadam[test]')",
        )


def run_oracle(oracle: Oracle, okw: dict, x0, grads, dtype, maximize: bool, path: str):
    """Iterates of the oracle on the same problem."""
    _need(oracle)
    factory = _import(oracle.target)
    if oracle.kind == "reference":
        per_tensor = [
            factory(x, [gs[i] for gs in grads], maximize=maximize, **okw) for i, x in enumerate(x0)
        ]
        return [list(step) for step in zip(*per_tensor, strict=True)]
    if oracle.kind == "optax":
        return _run_optax(factory, okw, x0, grads, dtype, maximize)
    kw = dict(okw)
    takes = inspect.signature(factory.__init__).parameters
    sign = 1.0
    if "maximize" in takes:
        kw["maximize"] = maximize
    elif maximize:
        sign = -1.0
    if oracle.same_paths and "foreach" in takes:
        kw["foreach"] = path == "foreach"
    elif "foreach" in takes:
        kw["foreach"] = False
    return run_ours(lambda p: factory(p, **kw), x0, [[sign * g for g in gs] for gs in grads], dtype)


def _run_optax(factory, okw, x0, grads, dtype, maximize):
    jax = pytest.importorskip("jax", reason="optax oracles need jax")
    import optax

    with jax.enable_x64(dtype == torch.float64):
        jdt = jax.numpy.float64 if dtype == torch.float64 else jax.numpy.float32
        params = [jax.numpy.asarray(x, dtype=jdt) for x in x0]
        opt = factory(**okw)
        state = opt.init(params)
        out = []
        sign = -1.0 if maximize else 1.0
        for gs in grads:
            g = [jax.numpy.asarray(sign * x, dtype=jdt) for x in gs]
            updates, state = opt.update(g, state, params)
            params = optax.apply_updates(params, updates)
            out.append([np.asarray(p, dtype=np.float64) for p in params])
        return out


def fused_available(entry: Entry, kw: dict) -> bool:
    """Whether ``kw`` selects a configuration with a fused kernel."""
    try:
        entry.cls([torch.zeros(1)], **kw, fused=True)
    except ValueError:
        return False
    return True


def assert_trajectories(ours, theirs, dtype, context: str = "") -> None:
    tol = TOL[dtype]
    assert len(ours) == len(theirs)
    for t, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"step {t} {context}")


def _cases():
    for entry in NEW:
        for oracle in entry.oracles:
            for path in PATHS:
                if path == "fused" and not entry.fused:
                    continue
                yield pytest.param(entry, oracle, path, id=f"{entry.key}-{oracle.label}-{path}")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("entry", "oracle", "path"), list(_cases()))
@pytest.mark.parametrize("seed", range(3))
def test_equals_oracle(entry: Entry, oracle: Oracle, path: str, dtype, seed: int):
    _need(oracle)
    for attempt in range(40):
        rng, x0, grads = problem(1000 * seed + attempt + len(entry.key))
        kw = entry.validate(entry.sample(rng))
        okw = oracle.translate(kw)
        if okw is not None and (path != "fused" or fused_available(entry, kw)):
            break
    else:
        pytest.skip(f"no sampled configuration of {entry.name} is covered by {oracle.label}")
    maximize = bool(rng.integers(2))
    make = lambda p: entry.cls(p, **kw, maximize=maximize, **PATHS[path])  # noqa: E731
    ours = run_ours(make, x0, grads, dtype)
    theirs = run_oracle(oracle, okw, x0, grads, dtype, maximize, path)
    assert_trajectories(ours, theirs, dtype, f"{kw} maximize={maximize}")
    moved = any(not np.array_equal(a, np.asarray(x)) for a, x in zip(ours[-1], x0, strict=True))
    assert moved


def _variant_cases():
    for entry in NEW:
        for i, variant in enumerate(entry.variants):
            for oracle in entry.oracles:
                yield pytest.param(entry, variant, oracle, id=f"{entry.key}-{i}-{oracle.label}")


@pytest.mark.parametrize(("entry", "variant", "oracle"), list(_variant_cases()))
def test_every_variant_equals_oracle(entry: Entry, variant: dict, oracle: Oracle):
    """Every code path the entry declares, in float64 on the default path."""
    kw = entry.validate({k: v for k, v in variant.items() if k != "maximize"})
    okw = oracle.translate(kw)
    if okw is None:
        pytest.skip(f"{oracle.label} does not implement {variant}")
    maximize = bool(variant.get("maximize", False))
    _, x0, grads = problem(len(entry.key))
    ours = run_ours(lambda p: entry.cls(p, **kw, maximize=maximize), x0, grads, torch.float64)
    theirs = run_oracle(oracle, okw, x0, grads, torch.float64, maximize, "single")
    assert_trajectories(ours, theirs, torch.float64, str(variant))


@pytest.mark.parametrize("rectify", [False, True])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("path", ["single", "foreach"])
def test_adabelief_every_combination(rectify, amsgrad, decoupled, path):
    entry = adabelief.ENTRY
    kw = entry.validate(
        {
            "lr": 0.05,
            "betas": (0.8, 0.99),
            "eps": 1e-10,
            "weight_decay": 0.05,
            "decoupled_weight_decay": decoupled,
            "rectify": rectify,
            "amsgrad": amsgrad,
        }
    )
    oracle = entry.oracles[0]
    _, x0, grads = problem(5)
    ours = run_ours(lambda p: entry.cls(p, **kw, **PATHS[path]), x0, grads, torch.float64)
    theirs = run_oracle(oracle, oracle.translate(kw), x0, grads, torch.float64, False, path)
    assert_trajectories(ours, theirs, torch.float64)


@pytest.mark.parametrize("entry", [adabound.ADABOUND_ENTRY, adabound.AMSBOUND_ENTRY], ids=str)
@pytest.mark.parametrize("path", ["single", "foreach"])
def test_adabound_rescales_final_lr_under_a_scheduler(entry: Entry, path: str):
    """The package decays final_lr with lr (final_lr * lr / initial lr); so do we."""
    oracle = entry.oracles[0]
    _need(oracle)
    kw = entry.validate({"lr": 0.05, "final_lr": 0.02, "gamma": 0.05, "weight_decay": 0.01})
    _, x0, grads = problem(11)
    runs = []
    for make in (
        lambda p: entry.cls(p, **kw, **PATHS[path]),
        lambda p: _import(oracle.target)(p, **oracle.translate(kw)),
    ):
        params = [torch.tensor(x, requires_grad=True) for x in x0]
        opt = make(params)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.3)
        out = []
        for gs in grads:
            for p, g in zip(params, gs, strict=True):
                p.grad = torch.tensor(g)
            opt.step()
            sched.step()
            out.append([p.detach().numpy().copy() for p in params])
        runs.append(out)
    assert_trajectories(runs[0], runs[1], torch.float64)
    # Without the rescaling the bounds would not follow the schedule: a real difference.
    plain = run_ours(lambda p: entry.cls(p, **kw), x0, grads, torch.float64)
    assert not np.allclose(plain[-1][0], runs[0][-1][0], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("theirs", ["single", "foreach"])
@pytest.mark.parametrize("path", list(PATHS))
def test_radam_equals_each_torch_path(path, theirs, dtype):
    """torch.optim.RAdam's own single and foreach paths, against each of ours."""
    for seed in range(3):
        rng, x0, grads = problem(100 + seed)
        kw = radam.ENTRY.validate(radam.ENTRY.sample(rng))
        maximize = bool(rng.integers(2))
        ours = run_ours(
            lambda p, kw=kw, mx=maximize: bo_radam(p, **kw, maximize=mx, **PATHS[path]),
            x0,
            grads,
            dtype,
        )
        ref = run_ours(
            lambda p, kw=kw, mx=maximize: torch.optim.RAdam(
                p, **kw, maximize=mx, foreach=theirs == "foreach"
            ),
            x0,
            grads,
            dtype,
        )
        assert_trajectories(ours, ref, dtype, str(kw))
