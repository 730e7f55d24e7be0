"""The engines' entry points: the plain loop (:func:`train`) and :func:`train_many`.

:func:`train` is the reference loop: one configuration, the task's ``nn.Module`` and the real
``beyondadam.optim`` class. :func:`train_many` sends the configurations the batched engine
supports (:mod:`beyondadam.experiments.batched`) there, grouped, and the rest through
:func:`train`. The run types live in :mod:`beyondadam.experiments.runs` (re-exported here).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from beyondadam.experiments.batched import Progress, group_key, supports, train_batched
from beyondadam.experiments.checkpoint import CHECKPOINT_EVERY, Checkpoint, checkpoint_path
from beyondadam.experiments.data import Dataset, epoch_batches, load_dataset
from beyondadam.experiments.device import engine_name, resolve, to_device, to_host
from beyondadam.experiments.interrupt import Interrupted, deferred, pending
from beyondadam.experiments.optimizers import build_optimizer
from beyondadam.experiments.runs import (
    CHECK_EVERY,
    RunConfig,
    RunResult,
    data_seed,
    validate_config,
)
from beyondadam.experiments.splits import run_data
from beyondadam.experiments.tasks import get_task

__all__ = [
    "Progress",
    "RunConfig",
    "RunResult",
    "data_seed",
    "train",
    "train_many",
    "validate_config",
]


def train(
    cfg: RunConfig,
    data: Dataset | None = None,
    data_dir: str | None = None,
    *,
    progress: Progress | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = CHECKPOINT_EVERY,
    device: str | torch.device | None = None,
) -> RunResult:
    """Train one configuration with the real ``beyondadam.optim`` class (the reference loop).

    ``progress(n, loss)`` is called after every iteration (``n = 1``, ``loss`` its minibatch
    loss). With ``checkpoint`` (a file path) the run resumes from that checkpoint if it holds one
    of ``cfg``, and writes one every ``checkpoint_every`` iterations and when SIGTERM or SIGINT
    arrives inside :func:`~beyondadam.experiments.interrupt.handle_signals` (then it raises
    :class:`~beyondadam.experiments.interrupt.Interrupted`); a resumed run's curves are
    bit-identical to an uninterrupted one's. The caller removes the file once the result is kept.
    With ``cfg.validation`` the run trains without the task's validation split and evaluates
    the validation loss with the test metrics.

    ``device`` (``None``: the CPU; see :mod:`beyondadam.experiments.device`): where the model,
    the optimizer state and the loss log live; each minibatch is moved there. The data order and
    the model's initialisation are the CPU's on every device.
    """
    dev = resolve(device)
    task = get_task(cfg.task)
    data = data if data is not None else load_dataset(task.dataset, data_dir)
    data = run_data(data, task.val_size, cfg.validation)
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    model = task.make_model()
    if dev is not None:
        model.to(dev)
    model.train()
    opt = build_optimizer(cfg.optimizer, model.parameters(), cfg.hp)
    sched = task.scheduler(opt)
    gen = torch.Generator().manual_seed(data_seed(cfg.seed))
    x_train, y_train = data.x_train, data.y_train
    n_batches = len(y_train) // cfg.batch_size
    losses = torch.empty(cfg.steps, device=dev)  # on the device: read only at the checks
    test_steps: list[int] = []
    test_loss: list[float] = []
    test_acc: list[float] = []
    val_loss: list[float] = []
    step, checked, diverged, before = 0, 0, None, 0.0
    path = None if checkpoint is None else Path(checkpoint)
    ck = None if path is None else Checkpoint.load(path, [cfg])
    if ck is not None:
        s = ck.state
        model.load_state_dict(s["model"])
        opt.load_state_dict(s["optimizer"])
        if sched is not None:
            sched.load_state_dict(s["scheduler"])
        torch.set_rng_state(s["torch_rng"])
        if dev is not None and dev.type == "cuda" and "cuda_rng" in s:
            torch.cuda.set_rng_state(s["cuda_rng"], dev)
        gen.set_state(s["epoch_rng"])
        step, checked, before = ck.step, s["checked"], s["elapsed"]
        losses[:step] = s["losses"]
        test_steps, test_loss, test_acc = s["test_steps"], s["test_loss"], s["test_acc"]
        val_loss = s.get("val_loss", [])
        if progress is not None:
            progress(step, None)
    epoch_rng = gen.get_state()
    # a resumed run draws its current epoch's permutation again, from the saved generator state
    batches = epoch_batches(len(y_train), cfg.batch_size, gen) if step % n_batches else None

    def save() -> None:
        assert path is not None
        # at an epoch's end the next epoch is drawn from the generator's current state
        start = epoch_rng if step % n_batches else gen.get_state()
        state = dict(
            checked=checked, model=model.state_dict(), optimizer=opt.state_dict(),
            scheduler=None if sched is None else sched.state_dict(),
            torch_rng=torch.get_rng_state(), epoch_rng=start, losses=losses[:step].clone(),
            test_steps=test_steps, test_loss=test_loss, test_acc=test_acc, val_loss=val_loss,
            elapsed=before + time.perf_counter() - t0,
        )  # fmt: skip
        if dev is not None:  # a checkpoint holds host tensors (and CUDA's RNG: dropout draws there)
            state = to_host(state)
            if dev.type == "cuda":
                state["cuda_rng"] = torch.cuda.get_rng_state(dev)
        Checkpoint(cfg.key, step, state).save(path)

    with deferred():
        while step < cfg.steps and diverged is None:
            j = step % n_batches
            if j == 0:
                epoch_rng = gen.get_state()
                batches = epoch_batches(len(y_train), cfg.batch_size, gen)
            assert batches is not None
            idx = batches[j]
            xb = task.preprocess(to_device(x_train[idx], dev))
            yb = to_device(y_train[idx], dev)
            opt.zero_grad(set_to_none=True)
            loss = task.loss(model(xb), xb, yb)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            losses[step] = loss.detach()
            step += 1
            if step % CHECK_EVERY == 0 or step % cfg.eval_every == 0 or step == cfg.steps:
                bad = (~torch.isfinite(losses[checked:step])).nonzero()
                if len(bad):
                    diverged = checked + int(bad[0]) + 1
                    break
                checked = step
                if step % cfg.eval_every == 0 or step == cfg.steps:
                    tl, ta = task.evaluate(model, data.x_test, data.y_test, device=dev)
                    test_steps.append(step)
                    test_loss.append(tl)
                    test_acc.append(ta)
                    if cfg.validation:
                        assert data.x_val is not None
                        assert data.y_val is not None
                        val = task.evaluate(model, data.x_val, data.y_val, device=dev)
                        val_loss.append(val[0])
            if progress is not None:
                progress(1, losses[step - 1])
            signum = pending()
            if path is not None and step < cfg.steps and (signum or step % checkpoint_every == 0):
                save()
            if signum:
                raise Interrupted(signum)
    n_logged = step if diverged is None else diverged - 1
    return RunResult(
        config=cfg,
        status="done" if diverged is None else "diverged",
        train_loss=losses[:n_logged].cpu().numpy().copy(),
        test_steps=np.asarray(test_steps, dtype=np.int64),
        test_loss=np.asarray(test_loss, dtype=np.float64),
        test_acc=np.asarray(test_acc, dtype=np.float64),
        wall_time=before + time.perf_counter() - t0,
        test_note=data.test_note,
        engine=engine_name("plain", dev),
        diverged_step=diverged,
        val_loss=np.asarray(val_loss, dtype=np.float64),
    )


def train_many(
    cfgs: list[RunConfig],
    data_dir: str | None = None,
    *,
    batched: bool = True,
    progress: Progress | None = None,
    checkpoint_dir: str | Path | None = None,
    device: str | torch.device | None = None,
) -> list[RunResult]:
    """Train several configurations; those the batched engine supports run as one batched model.

    ``progress(n, loss)``: called as iterations finish (``n`` run-iterations, ``loss`` the
    minibatch loss of a single run, else ``None``). With ``checkpoint_dir`` (an output folder)
    each run or batched group checkpoints there and resumes (:func:`train`,
    :func:`~beyondadam.experiments.batched.train_batched`). ``device``: where they train (``None``:
    the CPU).
    """
    results: dict[str, RunResult] = {}
    groups: dict[tuple[str, int, int, int, bool], list[RunConfig]] = {}
    for cfg in cfgs:
        if batched and supports(cfg):
            groups.setdefault(group_key(cfg), []).append(cfg)
        else:
            data = load_dataset(get_task(cfg.task).dataset, data_dir)
            ck = None if checkpoint_dir is None else checkpoint_path(checkpoint_dir, cfg)
            results[cfg.key] = train(cfg, data, progress=progress, checkpoint=ck, device=device)
    for group in groups.values():
        task = get_task(group[0].task)
        data = run_data(load_dataset(task.dataset, data_dir), task.val_size, group[0].validation)
        ck = None if checkpoint_dir is None else checkpoint_path(checkpoint_dir, group)
        for res in train_batched(group, data, progress=progress, checkpoint=ck, device=device):
            results[res.config.key] = res
    return [results[c.key] for c in cfgs]
