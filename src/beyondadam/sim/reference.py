"""Slow reference paths: a plain Python loop and a ``beyondadam.optim`` (PyTorch) loop.

They are the baselines of the benchmark and the oracle of the differential test; the compiled
engine must agree with :func:`torch_loop` to 1e-10.
"""

from __future__ import annotations

import math

import numpy as np

from beyondadam.sim.engine import Config


def python_loop(config: Config, horizon: int) -> tuple[float, float]:
    """Run Adam (torch semantics) or AMSGrad (paper flavor) in plain Python floats.

    Returns (x after ``horizon`` steps, R_T / T).  Only these two rules are supported: this is the
    "plain Python loop" baseline of the benchmark, not a second engine.
    """
    o = config.optimizer.options()
    name = config.optimizer.name
    if name not in ("Adam", "AMSGrad") or (name == "AMSGrad" and o["flavor"] != "paper"):
        raise ValueError("python_loop supports Adam and AMSGrad(flavor='paper') only")
    b1, b2 = o["betas"]
    lr, eps = o["lr"], o["eps"]
    pr = config.problem
    xs = pr.optimum
    g_all = pr.gradients(horizon, config.seed).tolist()
    x, m, v, vh, p1, p2, regret = float(config.x0), 0.0, 0.0, 0.0, 1.0, 1.0, 0.0
    inv = config.schedule == "inverse_sqrt"
    for t in range(1, horizon + 1):
        g = g_all[t - 1]
        regret += g * (x - xs)
        lrt = lr / math.sqrt(t) if inv else lr
        m = m * b1 + (1.0 - b1) * g
        v = v * b2 + (1.0 - b2) * g * g
        if name == "Adam":
            p1 *= b1
            p2 *= b2
            x = x - lrt / (1.0 - p1) * m / (math.sqrt(v) / math.sqrt(1.0 - p2) + eps)
        else:
            vh = max(vh, v)
            x = x - lrt * m / (math.sqrt(vh) + eps)
        x = min(max(x, -1.0), 1.0)
    return x, regret / horizon


def torch_loop(config: Config, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Run the :mod:`beyondadam.optim` class of ``config`` on a 1-element float64 parameter.

    The parameter group carries ``constraint=Box(-1, 1)``; ``schedule="inverse_sqrt"`` uses
    :func:`beyondadam.schedules.inverse_sqrt`.  Returns (x after each step, R_t / t), both of
    shape (horizon,).
    """
    import torch

    import beyondadam.optim as bo
    from beyondadam.optim.constraints import Box

    cls = getattr(bo, config.optimizer.name)
    p = torch.tensor([float(config.x0)], dtype=torch.float64, requires_grad=True)
    opt = cls([{"params": [p], "constraint": Box(-1.0, 1.0)}], **config.optimizer.torch_kwargs())
    sched = None
    if config.schedule == "inverse_sqrt":
        from beyondadam.schedules import inverse_sqrt

        sched = inverse_sqrt(opt)
    g_all = config.problem.gradients(horizon, config.seed)
    xs = config.problem.optimum
    out = np.empty(horizon)
    reg = np.empty(horizon)
    regret = 0.0
    grad = torch.zeros(1, dtype=torch.float64)
    with torch.no_grad():
        for t in range(horizon):
            g = float(g_all[t])
            regret += g * (p.item() - xs)
            grad.fill_(g)
            p.grad = grad
            opt.step()
            if sched is not None:
                sched.step()
            out[t] = p.item()
            reg[t] = regret / (t + 1)
    return out, reg
