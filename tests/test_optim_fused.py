"""SGD, Momentum, NAG and AdaGrad on torch's fused kernels.

Each fused path must equal torch.optim's own ``fused=True`` bit for bit (same kernel, same
arguments) and our single-tensor reference path to rounding; sparse gradients keep the
single-tensor path.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from beyondadam import optim as bo
from beyondadam.optim.catalog import CATALOG
from tests.oracles import Problem, run_oracle, run_ours, sample_for

NAMES = ["sgd", "momentum", "nag", "adagrad"]
PAIRS = {name: (CATALOG[name].cls,) for name in NAMES}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", range(4))
def test_fused_equals_torch_fused_bit_for_bit(name, dtype, seed):
    """The tolerance-based catalog test cannot tell one kernel from another; this one can."""
    entry = CATALOG[name]
    (oracle,) = entry.oracles
    rng = np.random.default_rng([seed, 17, len(name)])
    ours, theirs = sample_for(entry, oracle, rng)
    if seed > 1:  # every seed above 1 exercises weight decay
        ours["weight_decay"] = theirs["weight_decay"] = 0.03
    problem = Problem.random(rng, 30)
    maximize = bool(seed % 2)
    a = run_ours(entry, ours, problem, dtype, "fused", maximize)
    b = run_oracle(oracle, theirs, problem, dtype, "fused", maximize)
    for xs, ys in zip(a, b, strict=True):
        for x, y in zip(xs, ys, strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", NAMES)
def test_default_path_is_the_fused_kernel(name, monkeypatch):
    calls = []
    kernel = "_fused_adagrad_" if name == "adagrad" else "_fused_sgd_"
    original = getattr(torch, kernel)
    monkeypatch.setattr(torch, kernel, lambda *a, **k: calls.append(1) or original(*a, **k))
    p = torch.ones(3, requires_grad=True)
    opt = PAIRS[name][0]([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    assert calls
    calls.clear()
    PAIRS[name][0]([p], lr=0.1, foreach=False).step()
    assert not calls


def test_momentum_switched_on_mid_run_starts_its_buffer_like_the_reference():
    # momentum 0 keeps no buffer; turning it on later makes the next step a first step.
    runs = []
    for switch in ({"fused": True}, {"foreach": False}):
        p = torch.linspace(-1, 1, 5, dtype=torch.float64).requires_grad_()
        opt = bo.Momentum([p], lr=0.1, momentum=0.0, dampening=0.3, **switch)
        for t in range(6):
            if t == 2:
                opt.param_groups[0]["momentum"] = 0.9
            p.grad = torch.sin(p.detach() * (t + 1))
            opt.step()
        runs.append(p.detach())
    torch.testing.assert_close(runs[0], runs[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adagrad"])
def test_sparse_gradients_keep_the_single_tensor_path(name):
    cls = PAIRS[name][0]
    emb = torch.nn.Embedding(10, 3, sparse=True)
    emb(torch.tensor([1, 2, 2])).sum().backward()
    cls(emb.parameters(), lr=0.1).step()  # default: falls back to the single-tensor path
    with pytest.raises(RuntimeError, match="sparse gradients need foreach=False"):
        cls(emb.parameters(), lr=0.1, fused=True).step()


def test_fused_and_foreach_together_are_refused():
    with pytest.raises(ValueError, match="fused=True and foreach=True cannot be combined"):
        bo.SGD([torch.zeros(1)], lr=0.1, fused=True, foreach=True)
