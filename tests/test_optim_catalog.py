"""Every optimizer of the catalog equals each of its oracles on every path; the catalog is complete.

Like torch's ``optim_db``: the tests are parametrized over ``beyondadam.optim.catalog.ENTRIES``,
so a new optimizer is tested as soon as its entry is listed, and ``test_entry_is_complete`` fails
until the entry has everything the other layers read.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import torch

import tests.reference
from beyondadam import optim as bo
from beyondadam.optim.catalog import CATALOG, ENTRIES
from tests.oracles import Problem, run_oracle, run_ours, sample_for, tolerance

STEPS = 60
DTYPES = {"f64": torch.float64, "f32": torch.float32}


def _fused_ok(entry, kwargs) -> bool:
    try:
        entry.cls([torch.zeros(1, requires_grad=True)], **kwargs, fused=True)
    except ValueError as exc:
        if "fused=True is not available" not in str(exc):
            raise
        return False
    return True


CASES = [
    pytest.param(entry, k, path, id=f"{entry.key}-{oracle.label}-{path}")
    for entry in ENTRIES
    for k, oracle in enumerate(entry.oracles)
    for path in ("single", "foreach", "fused")
    if path != "fused" or entry.fused
]


@pytest.mark.parametrize("dtype", list(DTYPES.values()), ids=list(DTYPES))
@pytest.mark.parametrize(("entry", "k", "path"), CASES)
@pytest.mark.parametrize("seed", range(3))
def test_equals_oracle(entry, k, path, dtype, seed):
    oracle = entry.oracles[k]
    rng = np.random.default_rng([seed, k, *entry.key.encode()])
    for _ in range(50):
        ours, theirs = sample_for(entry, oracle, rng)
        if path != "fused" or _fused_ok(entry, ours):
            break
    else:
        pytest.fail(f"{entry.name}: no sampled configuration has a fused path")
    maximize = bool(rng.integers(2))
    problem = Problem.random(rng, STEPS)
    a = run_ours(entry, ours, problem, dtype, path, maximize, closure=seed == 1)
    b = run_oracle(oracle, theirs, problem, dtype, path, maximize)
    tol = tolerance(oracle, dtype)
    for t, (xs, ys) in enumerate(zip(a, b, strict=True), start=1):
        for x, y in zip(xs, ys, strict=True):
            np.testing.assert_allclose(
                x, y, rtol=tol, atol=tol, err_msg=f"{entry.name} vs {oracle.label}, step {t}"
            )
    assert not np.allclose(a[-1][0], problem.x0[0]), "the parameters never moved"


# ----------------------------------------------------------------- completeness


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.key for e in ENTRIES])
def test_entry_is_complete(entry):
    cls = entry.cls
    assert cls.__name__ in bo.__all__, f"{cls.__name__} is not exported by beyondadam.optim"
    assert bo.OPTIMIZERS[entry.key] is cls
    # Every hyperparameter of the signature is checked, and nothing else is.
    assert set(cls.hyperparameters) == set(entry.hyperparameters()), (
        f"{entry.name}.hyperparameters must check exactly its signature's hyperparameters"
    )
    doc = inspect.getdoc(cls) or ""
    assert ".. math::" in doc, f"{entry.name}'s docstring must state its update in math"
    assert not hasattr(cls, "update_rule") or not cls.update_rule, "drop update_rule strings"
    # The sampler yields valid configurations that every oracle covers at least sometimes.
    assert entry.oracles, f"{entry.name} has no oracle"
    rng = np.random.default_rng(0)
    for oracle in entry.oracles:
        sample_for(entry, oracle, rng)
        if oracle.kind == "reference":
            module, attr = oracle.target.split(":")
            assert module == "tests.reference"
            assert callable(getattr(tests.reference, attr, None)), f"no reference {attr}"
    for variant in entry.variants:
        entry.validate({k: v for k, v in variant.items() if k != "maximize"})
    assert re.fullmatch(r"[a-z0-9_]+", entry.sim), f"{entry.name}: bad simulator rule name"


def test_catalog_keys_are_unique_lowercase_class_names():
    assert list(CATALOG) == [e.cls.__name__.lower() for e in ENTRIES]
    assert len(set(CATALOG)) == len(ENTRIES)


def test_get_is_case_insensitive_and_lists_choices():
    assert bo.get("AMSGRAD") is CATALOG["amsgrad"]
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'; choose from SGD"):
        bo.get("adamm")


# ----------------------------------------------------------------- validation, generically


def _interval_checks(entry):
    for name, check in entry.cls.hyperparameters.items():
        spec = getattr(check, "interval", None)
        if spec is not None:
            yield name, spec


VALIDATION = [
    pytest.param(e, name, spec, id=f"{e.key}-{name}")
    for e in ENTRIES
    for name, spec in _interval_checks(e)
]


@pytest.mark.parametrize(("entry", "name", "spec"), VALIDATION)
def test_out_of_range_values_are_refused_naming_the_parameter(entry, name, spec):
    base = {k: v for k, v in entry.sample(np.random.default_rng(1)).items()}
    bad = [float("nan"), "0.1", True]
    if np.isfinite(spec.low):
        bad.append(spec.low - 1e-3 if spec.low_closed else spec.low)
    if np.isfinite(spec.high):
        bad.append(spec.high + 1e-3 if spec.high_closed else spec.high)
    for value in bad:
        with pytest.raises(ValueError, match=re.escape(f"{name} must be a real number in {spec}")):
            entry.cls([torch.zeros(2, requires_grad=True)], **{**base, name: value})
        with pytest.raises(ValueError, match=re.escape(name)):
            entry.validate({**base, name: value})


def test_unknown_and_missing_hyperparameters():
    with pytest.raises(ValueError, match="Adam takes no hyperparameter 'momentum'"):
        CATALOG["adam"].validate({"momentum": 0.9})
    with pytest.raises(ValueError, match="SGD needs an explicit lr"):
        CATALOG["sgd"].validate({})
    assert CATALOG["amsgrad"].validate({"betas": [0.9, 0.99]})["betas"] == (0.9, 0.99)


def _covers(entry, variant, oracle) -> bool:
    kw = {k: v for k, v in variant.items() if k != "maximize"}
    return oracle.translate(entry.validate(kw)) is not None


VARIANTS = [
    pytest.param(e, i, k, id=f"{e.key}-{i}-{o.label}")
    for e in ENTRIES
    for i, v in enumerate(e.variants)
    for k, o in enumerate(e.oracles)
    if _covers(e, v, o)
]


@pytest.mark.parametrize(("entry", "i", "k"), VARIANTS)
def test_every_declared_variant_equals_its_oracles(entry, i, k):
    """Each setting the entry says selects different equations, in float64 on the default path."""
    variant = dict(entry.variants[i])
    maximize = bool(variant.pop("maximize", False))
    kw = entry.validate(variant)
    oracle = entry.oracles[k]
    theirs = oracle.translate(kw)
    problem = Problem.random(np.random.default_rng([i, k, *entry.key.encode()]), STEPS)
    a = run_ours(entry, kw, problem, torch.float64, "default", maximize)
    b = run_oracle(oracle, theirs, problem, torch.float64, "default", maximize)
    tol = tolerance(oracle, torch.float64)
    for t, (xs, ys) in enumerate(zip(a, b, strict=True), start=1):
        for x, y in zip(xs, ys, strict=True):
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"step {t}")
