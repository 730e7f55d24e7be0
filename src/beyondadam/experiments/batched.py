"""Many configurations of an MNIST task trained at once as one batched model.

Each configuration keeps its own parameters, optimizer state, hyperparameters, seed and data order;
they are stacked along a leading "config" axis so that one step of C configurations costs a few
large matrix products instead of C small Python loops; gradients are written out by hand (softmax
cross-entropy, linear and ReLU layers), which avoids autograd's overhead for these tiny models.
Each configuration is updated by its own real :mod:`beyondadam.optim` optimizer over its row
of the stacked parameters, so any optimizer and hyperparameter runs here; the tests check whole
batched runs against the plain loop (:func:`beyondadam.experiments.train`).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from beyondadam.experiments.data import Dataset, epoch_batches
from beyondadam.experiments.optimizers import as_kwargs, build_optimizer
from beyondadam.experiments.runner import CHECK_EVERY, RunConfig, RunResult, data_seed
from beyondadam.experiments.tasks import get_task

__all__ = ["supports", "train_batched"]

BATCHED_TASKS = ("mnist-logreg", "mnist-mlp")


def supports(cfg: RunConfig) -> bool:
    """Whether ``cfg`` can run in the batched engine: the MNIST tasks, with any optimizer."""
    return cfg.task in BATCHED_TASKS


class _BatchedOptim:
    """Real :mod:`beyondadam.optim` optimizers over the rows of the stacked parameters.

    Row ``c`` of every stacked parameter is a contiguous view, so configuration ``c`` becomes a
    param group (with its own hyperparameters) of an optimizer of its class, updated in place with
    the library's own update (its fused kernel where it has one): the optimizer math has a single
    definition, and one ``step()`` per optimizer class keeps the per-step overhead small.
    """

    def __init__(self, params: list[torch.Tensor], cfgs: list[RunConfig]) -> None:
        self.rows = [[p[c] for p in params] for c in range(len(cfgs))]
        indexed: list[tuple[int, dict]] = []
        self.opts: list[torch.optim.Optimizer] = []
        for name in dict.fromkeys(cfg.optimizer for cfg in cfgs):
            members = [c for c, cfg in enumerate(cfgs) if cfg.optimizer == name]
            groups = [{"params": self.rows[c], **as_kwargs(cfgs[c].hp)} for c in members]
            opt = build_optimizer(name, groups, cfgs[members[0]].hp)
            self.opts.append(opt)
            for c, group in zip(members, opt.param_groups, strict=True):
                indexed.append((c, group))
        self.groups = [group for _, group in sorted(indexed, key=lambda cg: cg[0])]
        self.base_lrs = [g["lr"] for g in self.groups]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], lr_factor: float, alive: torch.Tensor) -> None:
        """One update of every live configuration from ``grads``, with lr_t = lr * lr_factor."""
        for c, (rows, group, base) in enumerate(
            zip(self.rows, self.groups, self.base_lrs, strict=True)
        ):
            for p, g in zip(rows, grads, strict=True):
                # A retired row has no gradient, so its optimizer skips it.
                p.grad = g[c] if alive[c] else None
            # The same product torch's LambdaLR forms in the plain loop (base_lr * factor).
            group["lr"] = base * lr_factor
        for opt in self.opts:
            opt.step()

    def retire(self, c: int) -> None:
        """Zero a diverged configuration's row and state, keeping NaNs out of the arithmetic."""
        for opt in self.opts:
            for p in self.rows[c]:
                for value in opt.state.get(p, {}).values():
                    if torch.is_tensor(value) and value.dim() > 0:
                        value.zero_()
        for p in self.rows[c]:
            p.zero_()


def _init_params(cfgs: list[RunConfig]) -> list[torch.Tensor]:
    """Stack each config's freshly seeded model parameters (identical to the plain loop's init)."""
    task = get_task(cfgs[0].task)
    per_cfg = []
    for c in cfgs:
        torch.manual_seed(c.seed)
        per_cfg.append([p.detach().clone() for p in task.make_model().parameters()])
    return [torch.stack(ps) for ps in zip(*per_cfg, strict=True)]


def _logits(params: list[torch.Tensor], x: torch.Tensor, shared: bool) -> torch.Tensor:
    """Logits ``(C, B, 10)``; ``x`` is ``(B, D)`` if ``shared`` else ``(C, B, D)``."""
    C = params[0].shape[0]
    if len(params) == 2:  # logreg: W (C, 10, D), b (C, 10)
        W, b = params
        if shared:
            out = (x @ W.reshape(C * 10, -1).T).view(-1, C, 10).transpose(0, 1)
        else:
            out = torch.bmm(x, W.transpose(1, 2))
        return out + b.unsqueeze(1)
    W1, b1, W2, b2 = params  # mlp: W1 (C, H, D), b1 (C, H), W2 (C, 10, H), b2 (C, 10)
    H = W1.shape[1]
    if shared:
        h = torch.relu(x @ W1.reshape(C * H, -1).T + b1.reshape(-1))
        h = h.view(-1, C, H).transpose(0, 1)
    else:
        h = torch.relu(torch.bmm(x, W1.transpose(1, 2)) + b1.unsqueeze(1))
    return torch.baddbmm(b2.unsqueeze(1), h, W2.transpose(1, 2))


def _loss_and_grads(
    params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, shared: bool
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Per-config mean cross-entropy ``(C,)`` and its gradients, by hand (no autograd).

    ``y`` is ``(B,)`` if ``shared`` else ``(C, B)``.
    """
    C = params[0].shape[0]
    mlp = len(params) == 4
    if mlp:
        W1, b1, W2, b2 = params
        H = W1.shape[1]
        if shared:
            a = (x @ W1.reshape(C * H, -1).T).view(-1, C, H).transpose(0, 1) + b1.unsqueeze(1)
        else:
            a = torch.bmm(x, W1.transpose(1, 2)) + b1.unsqueeze(1)
        h = torch.relu(a)
        z = torch.baddbmm(b2.unsqueeze(1), h, W2.transpose(1, 2))
    else:
        W, b = params
        K = W.shape[1]
        if shared:
            z = (x @ W.reshape(C * K, -1).T).view(-1, C, K).transpose(0, 1) + b.unsqueeze(1)
        else:
            z = torch.bmm(x, W.transpose(1, 2)) + b.unsqueeze(1)
    B = z.shape[1]
    logp = torch.log_softmax(z, dim=2)
    yy = (y.expand(C, B) if shared else y).unsqueeze(2)
    loss = -logp.gather(2, yy).squeeze(2).mean(1)
    dz = logp.exp_()
    dz.scatter_add_(2, yy, torch.full_like(yy, -1.0, dtype=dz.dtype)).mul_(1.0 / B)  # (C, B, K)
    if not mlp:
        return loss, [_grad_w(dz, x, shared), dz.sum(1)]
    gW2 = torch.bmm(dz.transpose(1, 2), h)
    da = torch.bmm(dz, W2).mul_(a > 0)
    return loss, [_grad_w(da, x, shared), da.sum(1), gW2, dz.sum(1)]


def _grad_w(d: torch.Tensor, x: torch.Tensor, shared: bool) -> torch.Tensor:
    """dL/dW ``(C, O, D)`` for a layer ``x @ W^T`` with output gradient ``d`` ``(C, B, O)``."""
    if shared:
        C, B, n_out = d.shape
        return (d.permute(0, 2, 1).reshape(C * n_out, B) @ x).view(C, n_out, -1)
    return torch.bmm(d.transpose(1, 2), x)


@torch.no_grad()
def _evaluate(params: list[torch.Tensor], task, data: Dataset, chunk: int = 2500):
    C = params[0].shape[0]
    n = len(data.y_test)
    loss = torch.zeros(C, dtype=torch.float64)
    correct = torch.zeros(C, dtype=torch.int64)
    for i in range(0, n, chunk):
        x = task.preprocess(data.x_test[i : i + chunk])
        y = data.y_test[i : i + chunk]
        logits = _logits(params, x, shared=True)
        ce = torch.nn.functional.cross_entropy(
            logits.reshape(-1, 10), y.repeat(C), reduction="none"
        )
        loss += ce.view(C, -1).sum(1).double()
        correct += (logits.argmax(2) == y).sum(1)
    return (loss / n).tolist(), (correct.double() / n).tolist()


def train_batched(cfgs: list[RunConfig], data: Dataset) -> list[RunResult]:
    """Train ``cfgs`` (same task, steps, eval cadence and batch size) as one batched model."""
    task = get_task(cfgs[0].task)
    steps, eval_every, B = cfgs[0].steps, cfgs[0].eval_every, cfgs[0].batch_size
    assert all(
        (c.task, c.steps, c.eval_every, c.batch_size) == (task.name, steps, eval_every, B)
        for c in cfgs
    )
    t0 = time.perf_counter()
    C = len(cfgs)
    params = _init_params(cfgs)
    opt = _BatchedOptim(params, cfgs)
    seeds = sorted({c.seed for c in cfgs})
    gidx = torch.tensor([seeds.index(c.seed) for c in cfgs])
    gens = [torch.Generator().manual_seed(data_seed(s)) for s in seeds]
    shared = len(seeds) == 1
    N = len(data.y_train)
    nb = N // B
    epochs: list[torch.Tensor] = []
    losses = torch.empty(steps, C)
    alive = torch.ones(C, dtype=torch.bool)
    diverged: list[int | None] = [None] * C
    tests: list[tuple[int, list[float], list[float]]] = []
    checked = 0
    for step in range(1, steps + 1):
        j = (step - 1) % nb
        if j == 0:
            epochs = [epoch_batches(N, B, g) for g in gens]
        if shared:
            idx = epochs[0][j]
        else:
            idx = torch.stack([e[j] for e in epochs])[gidx]  # (C, B)
        x = task.preprocess(data.x_train[idx])
        y = data.y_train[idx]
        per, grads = _loss_and_grads(params, x, y, shared)
        lr_factor = 1.0 / math.sqrt(step) if task.lr_schedule == "inverse_sqrt" else 1.0
        opt.step(grads, lr_factor, alive)
        losses[step - 1] = per
        if step % CHECK_EVERY == 0 or step % eval_every == 0 or step == steps:
            bad = ~torch.isfinite(losses[checked:step])
            for c in (bad.any(0) & alive).nonzero().flatten().tolist():
                diverged[c] = checked + int(bad[:, c].nonzero()[0]) + 1
                alive[c] = False
                opt.retire(c)
            checked = step
            if not bool(alive.any()):
                break
            if step % eval_every == 0 or step == steps:
                tl, ta = _evaluate(params, task, data)
                tests.append((step, tl, ta))
    wall = time.perf_counter() - t0
    out = []
    for c, cfg in enumerate(cfgs):
        d = diverged[c]
        keep = [(s, tl[c], ta[c]) for s, tl, ta in tests if d is None or s < d]
        n_logged = steps if d is None else d - 1
        out.append(
            RunResult(
                config=cfg,
                status="done" if d is None else "diverged",
                train_loss=losses[:n_logged, c].numpy().copy(),
                test_steps=np.asarray([k[0] for k in keep], dtype=np.int64),
                test_loss=np.asarray([k[1] for k in keep], dtype=np.float64),
                test_acc=np.asarray([k[2] for k in keep], dtype=np.float64),
                wall_time=wall / C,
                test_note=data.test_note,
                engine=f"batched[{C}]",
                diverged_step=d,
            )
        )
    return out
