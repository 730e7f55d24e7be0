"""Every optimizer equals its torch.optim counterpart, step by step, on every path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from beyondadam import optim as bo

T = torch.optim
STEPS = 60
TOL = {torch.float64: 1e-12, torch.float32: 1e-6}


def _hyper(name: str, rng: np.random.Generator) -> tuple[dict, dict]:
    """Random hyperparameters: (ours, torch counterpart's)."""
    lr = float(10 ** rng.uniform(-3, -1))
    wd = float(rng.choice([0.0, 10 ** rng.uniform(-3, -1)]))
    b1, b2 = float(rng.uniform(0, 0.99)), float(rng.uniform(0.5, 0.9999))
    eps = float(10 ** rng.uniform(-10, -6))
    if name == "sgd":
        return {"lr": lr, "weight_decay": wd}, {"lr": lr, "weight_decay": wd}
    if name == "momentum":
        mu, damp = float(rng.uniform(0, 0.99)), float(rng.uniform(0, 0.5))
        ours = {"lr": lr, "momentum": mu, "dampening": damp, "weight_decay": wd}
        return ours, dict(ours)
    if name == "nag":
        mu = float(rng.uniform(0.1, 0.99))
        return {"lr": lr, "momentum": mu, "weight_decay": wd}, {
            "lr": lr,
            "momentum": mu,
            "nesterov": True,
            "weight_decay": wd,
        }
    if name == "adagrad":
        ours = {
            "lr": lr,
            "lr_decay": float(rng.uniform(0, 0.05)),
            "weight_decay": wd,
            "initial_accumulator_value": float(rng.uniform(0, 0.5)),
            "eps": eps,
        }
        return ours, dict(ours)
    if name == "rmsprop":
        ours = {
            "lr": lr,
            "alpha": b2,
            "eps": eps,
            "weight_decay": wd,
            "momentum": float(rng.choice([0.0, rng.uniform(0, 0.9)])),
            "centered": bool(rng.integers(2)),
        }
        return ours, dict(ours)
    if name == "adadelta":
        ours = {"lr": float(rng.uniform(0.1, 1.0)), "rho": b2, "eps": eps, "weight_decay": wd}
        return ours, dict(ours)
    if name in ("adam", "adamw"):
        ours = {"lr": lr, "betas": (b1, b2), "eps": eps, "weight_decay": wd}
        return {**ours, "decoupled_weight_decay": name == "adamw"}, ours
    if name == "nadam":
        ours = {
            "lr": lr,
            "betas": (b1, b2),
            "eps": eps,
            "weight_decay": wd,
            "momentum_decay": float(rng.uniform(0, 0.01)),
        }
        return ours, dict(ours)
    if name == "amsgrad":
        ours = {"lr": lr, "betas": (b1, b2), "eps": eps, "weight_decay": wd}
        return {**ours, "flavor": "pytorch"}, {**ours, "amsgrad": True}
    raise AssertionError(name)


PAIRS = {
    "sgd": (bo.SGD, T.SGD),
    "momentum": (bo.Momentum, T.SGD),
    "nag": (bo.NAG, T.SGD),
    "adagrad": (bo.AdaGrad, T.Adagrad),
    "rmsprop": (bo.RMSProp, T.RMSprop),
    "adadelta": (bo.AdaDelta, T.Adadelta),
    "adam": (bo.Adam, T.Adam),
    "adamw": (bo.Adam, T.AdamW),
    "nadam": (bo.NAdam, T.NAdam),
    "amsgrad": (bo.AMSGrad, T.Adam),
}
FUSED = {"adam", "adamw", "amsgrad"}


def _shapes(rng: np.random.Generator) -> list[tuple[int, ...]]:
    return [tuple(int(d) for d in rng.integers(1, 9, size=rng.integers(1, 4))) for _ in range(3)]


def run_pair(ours_factory, theirs_factory, shapes, dtype, steps, seed, closure=False):
    gen = torch.Generator().manual_seed(seed)
    init = [torch.randn(s, generator=gen, dtype=torch.float64).to(dtype) for s in shapes]
    a = [p.clone().requires_grad_() for p in init]
    b = [p.clone().requires_grad_() for p in init]
    opt_a, opt_b = ours_factory(a), theirs_factory(b)
    targets = [torch.randn(s, generator=gen, dtype=torch.float64).to(dtype) for s in shapes]
    for _ in range(steps):
        noise = [torch.randn(s, generator=gen, dtype=torch.float64).to(dtype) for s in shapes]
        for params, opt in ((a, opt_a), (b, opt_b)):

            def loss_fn(params=params, opt=opt, noise=noise):
                opt.zero_grad()
                loss = sum(
                    ((p - t) ** 2 * (1 + n)).sum()
                    for p, t, n in zip(params, targets, noise, strict=False)
                )
                loss.backward()
                return loss

            if closure:
                opt.step(loss_fn)
            else:
                loss_fn()
                opt.step()
    return a, b


CASES = [
    (name, path)
    for name in PAIRS
    for path in ("single", "foreach", "fused")
    if path != "fused" or name in FUSED
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("name", "path"), CASES)
@pytest.mark.parametrize("seed", range(3))
def test_equals_torch_optim(name, path, dtype, seed):
    rng = np.random.default_rng([seed, len(name)])
    ours_kw, theirs_kw = _hyper(name, rng)
    maximize = bool(rng.integers(2))
    switch = {"single": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
    ours_cls, theirs_cls = PAIRS[name]
    a, b = run_pair(
        lambda p: ours_cls(p, **ours_kw, maximize=maximize, **switch[path]),
        lambda p: theirs_cls(p, **theirs_kw, maximize=maximize, **switch[path]),
        _shapes(rng),
        dtype,
        STEPS,
        seed,
        closure=seed % 2 == 1,
    )
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=TOL[dtype], atol=TOL[dtype])
        assert not torch.equal(x, torch.zeros_like(x))


@pytest.mark.parametrize("name", ["adam", "amsgrad", "sgd", "rmsprop", "adagrad"])
def test_bfloat16_parameters_follow_torch(name):
    rng = np.random.default_rng(7)
    ours_kw, theirs_kw = _hyper(name, rng)
    ours_cls, theirs_cls = PAIRS[name]
    a, b = run_pair(
        lambda p: ours_cls(p, **ours_kw, foreach=False),
        lambda p: theirs_cls(p, **theirs_kw, foreach=False),
        [(5, 4), (3,)],
        torch.bfloat16,
        20,
        0,
    )
    for x, y in zip(a, b, strict=True):
        assert x.dtype == torch.bfloat16
        torch.testing.assert_close(x, y, rtol=0, atol=0)


def test_default_path_is_fused_and_equals_torch_fused():
    a, b = run_pair(
        lambda p: bo.Adam(p, lr=0.01),
        lambda p: T.Adam(p, lr=0.01, fused=True),
        [(10, 10)],
        torch.float32,
        30,
        3,
    )
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=0)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adagrad"])
def test_sparse_gradients_where_torch_supports_them(name):
    ours_cls, theirs_cls = PAIRS[name]
    kw = {"lr": 0.1} if name != "momentum" else {"lr": 0.1, "momentum": 0.9}
    results = []
    for cls in (ours_cls, theirs_cls):
        torch.manual_seed(0)
        emb = torch.nn.Embedding(10, 3, sparse=True)
        opt = cls(emb.parameters(), **kw)
        for step in range(5):
            opt.zero_grad()
            emb(torch.tensor([step % 10, 3, 3])).pow(2).sum().backward()
            opt.step()
        results.append(emb.weight.detach())
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)


@pytest.mark.parametrize("cls", [bo.Adam, bo.AMSGrad, bo.AdamNC, bo.RMSProp, bo.NAdam])
def test_sparse_gradients_rejected_elsewhere(cls):
    emb = torch.nn.Embedding(10, 3, sparse=True)
    opt = cls(emb.parameters())
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()
