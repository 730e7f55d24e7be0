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
from tests.test_optim_parity import PAIRS, TOL, _hyper, _shapes, run_pair

NAMES = ["sgd", "momentum", "nag", "adagrad"]


def _configs(name: str, seed: int) -> tuple[dict, dict, list[tuple[int, ...]]]:
    rng = np.random.default_rng([seed, 17, len(name)])
    ours, theirs = _hyper(name, rng)
    maximize = bool(seed % 2)
    # Every seed above 1 exercises weight decay (a random draw may have left it at zero).
    if seed > 1:
        ours["weight_decay"] = theirs["weight_decay"] = 0.03
    return {**ours, "maximize": maximize}, {**theirs, "maximize": maximize}, _shapes(rng)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", range(4))
def test_fused_equals_torch_fused_bit_for_bit(name, dtype, seed):
    ours_kw, theirs_kw, shapes = _configs(name, seed)
    ours_cls, theirs_cls = PAIRS[name]
    a, b = run_pair(
        lambda p: ours_cls(p, **ours_kw, fused=True),
        lambda p: theirs_cls(p, **theirs_kw, fused=True),
        shapes,
        dtype,
        30,
        seed,
    )
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
        assert not torch.equal(x, torch.zeros_like(x))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", range(4))
def test_fused_equals_single_tensor_reference(name, dtype, seed):
    ours_kw, _, shapes = _configs(name, seed)
    cls = PAIRS[name][0]
    a, b = run_pair(
        lambda p: cls(p, **ours_kw, fused=True),
        lambda p: cls(p, **ours_kw, foreach=False),
        shapes,
        dtype,
        30,
        seed,
    )
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=TOL[dtype], atol=TOL[dtype])


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
