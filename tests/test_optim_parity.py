"""What the generic oracle test does not cover: bf16, the default path, sparse gradients.

The step-by-step equality of every optimizer with its oracles, on every path and dtype, is
``tests/test_optim_catalog.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from beyondadam import optim as bo
from beyondadam.optim.catalog import CATALOG, ENTRIES
from tests.oracles import Problem, resolve, run_ours, sample_for


def _torch_twin(entry):
    """The entry's torch.optim oracle (the same arithmetic on the same path), if it has one."""
    return next((o for o in entry.oracles if o.same_paths), None)


TWINS = [e for e in ENTRIES if _torch_twin(e) is not None]


@pytest.mark.parametrize("entry", TWINS, ids=[e.key for e in TWINS])
def test_bfloat16_parameters_follow_torch_bit_for_bit(entry):
    oracle = _torch_twin(entry)
    ours, theirs = sample_for(entry, oracle, np.random.default_rng(7))
    problem = Problem.random(np.random.default_rng(8), 20)
    a = run_ours(entry, ours, problem, torch.bfloat16, "single", maximize=False)
    impl = resolve(oracle)
    params = [torch.tensor(x).to(torch.bfloat16).requires_grad_() for x in problem.x0]
    opt = impl(params, **theirs, foreach=False)
    for gs, xs in zip(problem.grads, a, strict=True):
        for p, g in zip(params, gs, strict=True):
            p.grad = torch.tensor(g).to(torch.bfloat16)
        opt.step()
        for p, x in zip(params, xs, strict=True):
            assert p.dtype == torch.bfloat16
            np.testing.assert_array_equal(p.detach().double().numpy(), x)


def test_default_path_is_fused_and_equals_torch_fused():
    torch.manual_seed(3)
    init = torch.randn(10, 10)
    a, b = init.clone().requires_grad_(), init.clone().requires_grad_()
    opt_a, opt_b = bo.Adam([a], lr=0.01), torch.optim.Adam([b], lr=0.01, fused=True)
    for step in range(30):
        g = torch.randn(10, 10, generator=torch.Generator().manual_seed(step))
        a.grad, b.grad = g.clone(), g.clone()
        opt_a.step()
        opt_b.step()
    torch.testing.assert_close(a, b, rtol=0, atol=0)


SPARSE = [e for e in ENTRIES if e.sparse]
DENSE_ONLY = [e for e in ENTRIES if not e.sparse]


@pytest.mark.parametrize("entry", SPARSE, ids=[e.key for e in SPARSE])
def test_sparse_gradients_where_torch_supports_them(entry):
    oracle = _torch_twin(entry)
    kw = {"lr": 0.1, **({"momentum": 0.9} if "momentum" in entry.defaults() else {})}
    theirs = oracle.translate(entry.validate(kw))
    results = []
    for make in (lambda ps: entry.cls(ps, **kw), lambda ps: resolve(oracle)(ps, **theirs)):
        torch.manual_seed(0)
        emb = torch.nn.Embedding(10, 3, sparse=True)
        opt = make(emb.parameters())
        for step in range(5):
            opt.zero_grad()
            emb(torch.tensor([step % 10, 3, 3])).pow(2).sum().backward()
            opt.step()
        results.append(emb.weight.detach())
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)


@pytest.mark.parametrize("entry", DENSE_ONLY, ids=[e.key for e in DENSE_ONLY])
def test_sparse_gradients_rejected_elsewhere(entry):
    emb = torch.nn.Embedding(10, 3, sparse=True)
    opt = entry.cls(emb.parameters(), **entry.variants[0])
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()


def test_catalog_has_the_ten_paper_era_optimizers():
    paper = {"sgd", "momentum", "nag", "adagrad", "rmsprop", "adadelta", "adam", "nadam"}
    assert paper | {"amsgrad", "adamnc"} <= set(CATALOG)


FUSED = [e for e in ENTRIES if e.fused]


def _has_fused(entry, kwargs) -> bool:
    try:
        entry.cls([torch.zeros(1, requires_grad=True)], **kwargs, fused=True)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("entry", FUSED, ids=[e.key for e in FUSED])
@pytest.mark.parametrize("fused", [None, True], ids=["auto", "fused"])
def test_non_contiguous_parameters_and_gradients_give_the_reference_step(entry, fused):
    """torch's CPU fused kernels mishandle non-contiguous tensors; we must not inherit that."""
    kwargs = next(v for v in map(dict, entry.variants) if _has_fused(entry, v))
    torch.manual_seed(0)
    base = torch.randn(4, 6, 5)
    grads = [torch.randn(4, 5, 6).transpose(1, 2) for _ in range(3)]  # non-contiguous
    outs = []
    for switch in ({"fused": fused}, {"foreach": False}):
        whole = base.clone()
        params = [whole[c] for c in range(2)] + [whole.transpose(1, 2)[2]]  # views, one strided
        for p in params:
            p.requires_grad_()
        opt = entry.cls([{"params": [p]} for p in params], **kwargs, **switch)
        for g in grads:
            for c, p in enumerate(params):
                p.grad = g[c] if c < 2 else g[c].t()
            opt.step()
        outs.append([p.detach().clone() for p in params])
    for a, b in zip(*outs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("path", ["single", "foreach", "fused"])
def test_amsgrad_pytorch_flavor_is_torch_adam_amsgrad_bit_for_bit_on_the_same_path(path):
    """What the README promises: the same path gives the same bits (float32, 40 steps)."""
    entry = CATALOG["amsgrad"]
    kw = {"lr": 0.01, "betas": (0.9, 0.99), "eps": 1e-8, "weight_decay": 0.01}
    switch = {"single": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
    problem = Problem.random(np.random.default_rng(5), 40)
    a = run_ours(entry, {**kw, "flavor": "pytorch"}, problem, torch.float32, path, False)
    params = [torch.tensor(x, dtype=torch.float32).requires_grad_() for x in problem.x0]
    opt = torch.optim.Adam(params, **kw, amsgrad=True, **switch[path])
    for gs, xs in zip(problem.grads, a, strict=True):
        for p, g in zip(params, gs, strict=True):
            p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
        for p, x in zip(params, xs, strict=True):
            np.testing.assert_array_equal(p.detach().double().numpy(), x)
