"""Many configurations of a task trained at once as one batched model.

Each configuration keeps its own parameters, optimizer state, hyperparameters, seed and data order;
they are stacked along a leading "config" axis so that one step of C configurations costs a few
large matrix products instead of C small Python loops. The forward and backward passes come from
the task's own model (:class:`~beyondadam.experiments.stacked.StackedModel`), the step size from
the task's own scheduler (:meth:`Task.scheduler`), and each configuration is updated by its own
real :mod:`beyondadam.optim` optimizer over its row of the stacked parameters, so any optimizer
and hyperparameter runs here; the tests check whole batched runs against the plain loop
(:func:`beyondadam.experiments.train`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from beyondadam.experiments.checkpoint import CHECKPOINT_EVERY, Checkpoint, unit_key
from beyondadam.experiments.data import Dataset, epoch_batches
from beyondadam.experiments.device import engine_name, resolve, to_device, to_host
from beyondadam.experiments.interrupt import Interrupted, deferred, pending
from beyondadam.experiments.optimizers import as_kwargs, build_optimizer
from beyondadam.experiments.runs import CHECK_EVERY, RunConfig, RunResult, data_seed
from beyondadam.experiments.splits import run_data
from beyondadam.experiments.stacked import StackedModel, stackable
from beyondadam.experiments.tasks import Task, get_task

__all__ = ["Progress", "group_key", "supports", "train_batched"]

#: ``progress(n, loss)``: ``n`` more run-iterations done; ``loss`` the last minibatch loss of a
#: single run (a 0-d tensor), or ``None``.
Progress = Callable[[int, "torch.Tensor | None"], None]


def _architecture(task: Task) -> torch.nn.Module:
    """The task's model on the meta device: its structure, without touching torch's RNG."""
    with torch.device("meta"):
        return task.make_model()


def supports(cfg: RunConfig) -> bool:
    """Whether ``cfg`` can run in the batched engine: a task whose model and loss stack.

    Any optimizer. The MNIST logistic regression, MLP and autoencoder do (sequences of linear
    and ReLU layers); the convolutional nets and the quadratic do not.
    """
    task = get_task(cfg.task)
    return task.objective.stackable and stackable(_architecture(task))


def group_key(cfg: RunConfig) -> tuple[str, int, int, int, bool]:
    """Supported configurations with equal keys can train together as one batched model."""
    return (cfg.task, cfg.steps, cfg.eval_every, cfg.batch_size, cfg.validation)


class _BatchedOptim:
    """Real :mod:`beyondadam.optim` optimizers over the rows of the stacked parameters.

    Row ``c`` of every stacked parameter is a contiguous view, so configuration ``c`` becomes a
    param group (with its own hyperparameters) of an optimizer of its class, updated in place with
    the library's own update (its fused kernel where it has one): the optimizer math has a single
    definition, and one ``step()`` per optimizer class keeps the per-step overhead small.
    """

    def __init__(self, params: list[torch.Tensor], cfgs: list[RunConfig], task: Task) -> None:
        self.rows = [[p[c] for p in params] for c in range(len(cfgs))]
        self.opts: list[torch.optim.Optimizer] = []
        for name in dict.fromkeys(cfg.optimizer for cfg in cfgs):
            members = [c for c, cfg in enumerate(cfgs) if cfg.optimizer == name]
            groups = [{"params": self.rows[c], **as_kwargs(cfgs[c].hp)} for c in members]
            opt = build_optimizer(name, groups, cfgs[members[0]].hp)
            self.opts.append(opt)
        # The plain loop's lr rule, one scheduler per optimizer (it scales every group's lr).
        self.scheds = [task.scheduler(opt) for opt in self.opts]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], alive: torch.Tensor) -> None:
        """One update of every live configuration from ``grads``, then the lr schedule's step."""
        for c, rows in enumerate(self.rows):
            for p, g in zip(rows, grads, strict=True):
                # A retired row has no gradient, so its optimizer skips it.
                p.grad = g[c] if alive[c] else None
        for opt, sched in zip(self.opts, self.scheds, strict=True):
            opt.step()
            if sched is not None:
                sched.step()

    def state_dict(self) -> dict:
        """The optimizers' and schedulers' states (for a checkpoint)."""
        return {
            "optimizers": [opt.state_dict() for opt in self.opts],
            "schedulers": [None if s is None else s.state_dict() for s in self.scheds],
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s output (same configurations)."""
        for opt, saved in zip(self.opts, state["optimizers"], strict=True):
            opt.load_state_dict(saved)
        for sched, saved in zip(self.scheds, state["schedulers"], strict=True):
            if sched is not None:
                sched.load_state_dict(saved)

    def retire(self, c: int) -> None:
        """Zero a diverged configuration's row and state, keeping NaNs out of the arithmetic."""
        for opt in self.opts:
            for p in self.rows[c]:
                for value in opt.state.get(p, {}).values():
                    if torch.is_tensor(value) and value.dim() > 0:
                        value.zero_()
        for p in self.rows[c]:
            p.zero_()


def _init_params(cfgs: list[RunConfig], task: Task) -> list[torch.Tensor]:
    """Stack each config's freshly seeded model parameters (identical to the plain loop's init)."""
    models = []
    for c in cfgs:
        torch.manual_seed(c.seed)
        models.append(task.make_model())
    return StackedModel.stack(models)


@torch.no_grad()
def _evaluate(
    net: StackedModel,
    params: list[torch.Tensor],
    task: Task,
    xs: torch.Tensor,
    ys: torch.Tensor,
    chunk: int = 2500,
    dev: torch.device | None = None,
) -> tuple[list[float], list[float]]:
    """Per-configuration mean loss and accuracy (NaN without one) on stored ``xs``, ``ys``."""
    C = params[0].shape[0]
    n = len(ys)
    loss = torch.zeros(C, dtype=torch.float64, device=dev)
    correct = torch.zeros(C, dtype=torch.int64, device=dev)
    for i in range(0, n, chunk):
        x = task.preprocess(to_device(xs[i : i + chunk], dev))
        y = to_device(ys[i : i + chunk], dev)
        z = net.logits(params, x)
        loss += task.objective.stacked_total(z, x, y)
        if task.has_accuracy:
            correct += task.objective.stacked_correct(z, y)
    acc = (correct.double() / n).tolist() if task.has_accuracy else [math.nan] * C
    return (loss / n).tolist(), acc


def train_batched(
    cfgs: list[RunConfig],
    data: Dataset,
    progress: Progress | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = CHECKPOINT_EVERY,
    device: str | torch.device | None = None,
) -> list[RunResult]:
    """Train ``cfgs`` (same task, steps, eval cadence and batch size) as one batched model.

    ``progress(len(cfgs), loss)`` is called after every iteration (``loss``: the minibatch loss
    when ``cfgs`` is one configuration, else ``None``). ``checkpoint``, ``checkpoint_every``: as
    for the plain loop (:func:`beyondadam.experiments.train`), for the whole group. ``device``:
    where the stacked parameters, optimizer state and loss log live (``None``: the CPU); the
    data order, the initialisation and the divergence bookkeeping (``alive``) stay on the host.
    """
    dev = resolve(device)
    if len({group_key(c) for c in cfgs}) != 1:
        raise ValueError(
            "cfgs must be non-empty and share task, steps, eval_every, batch_size, validation"
        )
    task = get_task(cfgs[0].task)
    validation = cfgs[0].validation
    data = run_data(data, task.val_size, validation)
    steps, eval_every, B = cfgs[0].steps, cfgs[0].eval_every, cfgs[0].batch_size
    t0 = time.perf_counter()
    C = len(cfgs)
    net = StackedModel(_architecture(task))
    params = _init_params(cfgs, task)
    if dev is not None:
        params = [p.to(dev) for p in params]
    opt = _BatchedOptim(params, cfgs, task)
    seeds = sorted({c.seed for c in cfgs})
    gidx = torch.tensor([seeds.index(c.seed) for c in cfgs])
    gens = [torch.Generator().manual_seed(data_seed(s)) for s in seeds]
    shared = len(seeds) == 1
    N = len(data.y_train)
    nb = N // B
    epochs: list[torch.Tensor] = []
    losses = torch.empty(steps, C, device=dev)  # on the device: read only at the checks
    alive = torch.ones(C, dtype=torch.bool)
    diverged: list[int | None] = [None] * C
    tests: list[tuple[int, list[float], list[float]]] = []
    vals: list[list[float]] = []  # validation losses, aligned with tests
    checked, start, before = 0, 0, 0.0
    path = None if checkpoint is None else Path(checkpoint)
    ck = None if path is None else Checkpoint.load(path, cfgs)
    if ck is not None:
        s = ck.state
        for p, saved in zip(params, s["params"], strict=True):
            p.copy_(saved)
        opt.load_state_dict(s["optimizer"])
        for g, state in zip(gens, s["epoch_rngs"], strict=True):
            g.set_state(state)
        start, checked, before, tests = ck.step, s["checked"], s["elapsed"], s["tests"]
        vals = s.get("vals", [])
        losses[:start] = s["losses"]
        alive, diverged = s["alive"], s["diverged"]
        if progress is not None:
            progress(start * C, None)
    epoch_rngs = [g.get_state() for g in gens]
    if start % nb:  # resumed mid-epoch: draw the epoch's permutations again
        epochs = [epoch_batches(N, B, g) for g in gens]

    def save(step: int) -> None:
        assert path is not None
        state = dict(
            params=[p.clone() for p in params], optimizer=opt.state_dict(),
            # at an epoch's end the next epoch is drawn from the generators' current states
            epoch_rngs=epoch_rngs if step % nb else [g.get_state() for g in gens],
            checked=checked, elapsed=before + time.perf_counter() - t0, tests=tests, vals=vals,
            losses=losses[:step].clone(), alive=alive.clone(), diverged=list(diverged),
        )  # fmt: skip
        Checkpoint(unit_key(cfgs), step, state if dev is None else to_host(state)).save(path)

    with deferred():
        for step in range(start + 1, steps + 1):
            j = (step - 1) % nb
            if j == 0:
                epoch_rngs = [g.get_state() for g in gens]
                epochs = [epoch_batches(N, B, g) for g in gens]
            if shared:
                idx = epochs[0][j]
            else:
                idx = torch.stack([e[j] for e in epochs])[gidx]  # (C, B)
            x = task.preprocess(to_device(data.x_train[idx], dev))
            y = to_device(data.y_train[idx], dev)
            per, grads = net.loss_and_grads(params, x, y, task.objective)
            opt.step(grads, alive)
            losses[step - 1] = per
            if step % CHECK_EVERY == 0 or step % eval_every == 0 or step == steps:
                bad = (~torch.isfinite(losses[checked:step])).cpu()  # the host's copy
                for c in (bad.any(0) & alive).nonzero().flatten().tolist():
                    diverged[c] = checked + int(bad[:, c].nonzero()[0]) + 1
                    alive[c] = False
                    opt.retire(c)
                checked = step
                if not bool(alive.any()):
                    break
                if step % eval_every == 0 or step == steps:
                    tl, ta = _evaluate(net, params, task, data.x_test, data.y_test, dev=dev)
                    tests.append((step, tl, ta))
                    if validation:
                        assert data.x_val is not None
                        assert data.y_val is not None
                        val = _evaluate(net, params, task, data.x_val, data.y_val, dev=dev)
                        vals.append(val[0])
            if progress is not None:
                progress(C, per[0] if C == 1 else None)
            signum = pending()
            if path is not None and step < steps and (signum or step % checkpoint_every == 0):
                save(step)
            if signum:
                raise Interrupted(signum)
    wall = before + time.perf_counter() - t0
    losses = losses.cpu()
    out = []
    for c, cfg in enumerate(cfgs):
        d = diverged[c]
        keep = [(s, tl[c], ta[c]) for s, tl, ta in tests if d is None or s < d]
        val = [v[c] for v in vals[: len(keep)]]
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
                engine=engine_name(f"batched[{C}]", dev),
                diverged_step=d,
                val_loss=np.asarray(val, dtype=np.float64),
            )
        )
    return out
