"""Bad input fails at construction with a message naming the parameter and the allowed range."""

from __future__ import annotations

import inspect
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from beyondadam import optim as bo
from beyondadam.optim.catalog import ENTRIES

P = [torch.zeros(2, requires_grad=True)]
LR_REQUIRED = [e.cls for e in ENTRIES if e.defaults()["lr"] is inspect.Parameter.empty]
ALL = [e.cls for e in ENTRIES if e.cls not in LR_REQUIRED]
WITH_EPS = [e.cls for e in ENTRIES if "eps" in e.defaults()]
WITH_BETAS = [e.cls for e in ENTRIES if "betas" in e.defaults()]


def _make(cls, **kw):
    if cls in LR_REQUIRED:
        kw.setdefault("lr", 0.1)
    return cls(P, **kw)


@pytest.mark.parametrize("cls", ALL + LR_REQUIRED)
@given(lr=st.one_of(st.floats(max_value=-1e-300), st.just(math.nan), st.just(-math.inf)))
def test_bad_lr(cls, lr):
    with pytest.raises(ValueError, match=r"lr must be a real number in \[0, inf\)"):
        _make(cls, lr=lr)


@pytest.mark.parametrize("cls", WITH_BETAS)
@given(
    beta=st.one_of(st.floats(max_value=-1e-12), st.floats(min_value=1.0), st.just(math.nan)),
    index=st.integers(0, 1),
)
def test_bad_betas(cls, beta, index):
    betas = [0.9, 0.999]
    betas[index] = beta
    with pytest.raises(ValueError, match=rf"betas\[{index}\].*\[0, 1\)"):
        cls(P, betas=tuple(betas))


@pytest.mark.parametrize("cls", WITH_EPS)
def test_bad_eps(cls):
    with pytest.raises(ValueError, match="eps must be"):
        cls(P, eps=-1e-8)
    with pytest.raises(ValueError, match="eps must be"):
        cls(P, eps=math.nan)


@pytest.mark.parametrize("cls", ALL + LR_REQUIRED)
def test_bad_weight_decay(cls):
    with pytest.raises(ValueError, match="weight_decay must be"):
        _make(cls, weight_decay=-0.1)


def test_amsgrad_flavor_and_decay():
    with pytest.raises(ValueError, match="flavor must be one of 'paper', 'pytorch', 'optax'"):
        bo.AMSGrad(P, flavor="keras")
    for bad in (0.0, 1.0, 1.5, -0.5, math.nan, "linear", True):
        with pytest.raises(ValueError, match=r"beta1_decay must be None.*\(0, 1\)"):
            bo.AMSGrad(P, beta1_decay=bad)
        with pytest.raises(ValueError, match="beta1_decay"):
            bo.AdamNC(P, beta1_decay=bad)
    with pytest.raises(ValueError, match=r"beta1 must be a real number in \[0, 1\)"):
        bo.AdamNC(P, beta1=1.0)


def test_other_ranges():
    with pytest.raises(ValueError, match="momentum"):
        bo.Momentum(P, lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="momentum"):
        bo.NAG(P, lr=0.1, momentum=0.0)
    with pytest.raises(ValueError, match="alpha"):
        bo.RMSProp(P, alpha=1.5)
    with pytest.raises(ValueError, match="rho"):
        bo.AdaDelta(P, rho=math.nan)
    with pytest.raises(ValueError, match="lr_decay"):
        bo.AdaGrad(P, lr_decay=-1.0)
    with pytest.raises(ValueError, match="momentum_decay"):
        bo.NAdam(P, momentum_decay=-1.0)
    with pytest.raises(ValueError, match="centered must be True or False"):
        bo.RMSProp(P, centered="yes")


def test_switches():
    with pytest.raises(ValueError, match="fused=True and foreach=True"):
        bo.Adam(P, fused=True, foreach=True)
    with pytest.raises(ValueError, match="foreach must be None, True or False"):
        bo.Adam(P, foreach="yes")
    with pytest.raises(ValueError, match="fused=True is not available"):
        bo.AMSGrad(P, flavor="pytorch", beta1_decay=0.9, fused=True)


def test_param_group_values_are_checked_too():
    opt = bo.Adam(P)
    with pytest.raises(ValueError, match="lr must be"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": -1.0})
    with pytest.raises(ValueError, match="constraint must be None or"):
        bo.Adam([{"params": P, "constraint": (-1, 1)}])


def test_empty_constraint_sets():
    with pytest.raises(ValueError, match="low"):
        bo.Box(1.0, -1.0)
    with pytest.raises(ValueError, match="radius"):
        bo.L2Ball(-1.0)
    with pytest.raises(ValueError, match="radius"):
        bo.L1Ball(math.nan)


def test_no_work_done_before_the_error():
    p = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError):
        bo.Adam([p], lr=-1.0)
    assert torch.equal(p.detach(), torch.ones(2))


def test_complex_and_integer_parameters_are_refused():
    with pytest.raises(ValueError, match="real floating-point"):
        bo.AMSGrad([torch.zeros(2, dtype=torch.complex64, requires_grad=True)])
    with pytest.raises(ValueError, match="real floating-point"):
        bo.SGD([torch.zeros(2, dtype=torch.int64)], lr=0.1)
