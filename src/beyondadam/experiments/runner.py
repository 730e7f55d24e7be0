"""One training run (or a batch of runs) of a task with an optimizer: configs, results, the loop.

Determinism: a run's model initialisation uses ``torch.manual_seed(seed)`` and its data order a
separate generator seeded from ``seed``; with the same seed on the same machine (and the same
engine) the curves are bit-identical.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from beyondadam.experiments.data import Dataset, epoch_batches, load_dataset
from beyondadam.experiments.optimizers import build_optimizer, inverse_sqrt, validate_hparams
from beyondadam.experiments.tasks import Task, get_task

__all__ = ["RunConfig", "RunResult", "data_seed", "train", "train_many", "validate_config"]

_KEY_VERSION = 1
CHECK_EVERY = 50


@dataclass(frozen=True)
class RunConfig:
    """One training configuration; :attr:`key` is a stable hash of all its fields."""

    task: str
    optimizer: str
    hparams: str  # canonical JSON of the optimizer's keyword arguments
    seed: int = 0
    steps: int = 1000
    eval_every: int = 250
    batch_size: int = 128

    @classmethod
    def make(
        cls,
        task: str,
        optimizer: str,
        hparams: dict[str, Any],
        *,
        seed: int = 0,
        steps: int | None = None,
        eval_every: int | None = None,
        batch_size: int | None = None,
    ) -> RunConfig:
        """Build a config; ``None`` takes the task's default."""
        t = get_task(task)
        return cls(
            task=task,
            optimizer=optimizer,
            hparams=json.dumps(hparams, sort_keys=True),
            seed=int(seed),
            steps=int(t.steps if steps is None else steps),
            eval_every=int(t.eval_every if eval_every is None else eval_every),
            batch_size=int(t.batch_size if batch_size is None else batch_size),
        )

    @property
    def hp(self) -> dict[str, Any]:
        """The optimizer's keyword arguments as a dict."""
        return json.loads(self.hparams)

    @property
    def key(self) -> str:
        """Stable 16-hex-digit hash identifying this configuration."""
        payload = json.dumps({"v": _KEY_VERSION, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (``hparams`` as a JSON string)."""
        return {
            "task": self.task,
            "optimizer": self.optimizer,
            "hparams": self.hparams,
            "seed": self.seed,
            "steps": self.steps,
            "eval_every": self.eval_every,
            "batch_size": self.batch_size,
        }

    def label(self) -> str:
        """Short human-readable description."""
        hp = ", ".join(f"{k}={v}" for k, v in self.hp.items())
        return f"{self.task}/{self.optimizer}({hp}) seed={self.seed}"


@dataclass
class RunResult:
    """The outcome of one run.

    ``train_loss[i]`` is the minibatch loss at iteration ``i + 1``; test metrics are at
    ``test_steps``. ``status`` is ``"done"`` or ``"diverged"`` (then ``diverged_step`` is the first
    iteration with a non-finite loss and the curves stop there).
    """

    config: RunConfig
    status: str
    train_loss: np.ndarray
    test_steps: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray
    wall_time: float
    test_note: str
    engine: str
    diverged_step: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def final_train_loss(self, last_frac: float = 0.1) -> float:
        """Mean training loss over the last ``last_frac`` of the iterations (NaN if diverged)."""
        if self.status != "done" or len(self.train_loss) == 0:
            return math.nan
        n = max(1, round(len(self.train_loss) * last_frac))
        return float(np.mean(self.train_loss[-n:], dtype=np.float64))


def data_seed(seed: int) -> int:
    """The data-order generator's seed for a run seed (distinct from the init seed)."""
    return (int(seed) * 1_000_003 + 12345) % (2**63)


def validate_config(cfg: RunConfig) -> None:
    """ValueError on an unknown task/optimizer or an out-of-range value (before any training)."""
    get_task(cfg.task)
    for name, low in (("steps", 1), ("eval_every", 1), ("batch_size", 1)):
        value = getattr(cfg, name)
        if not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if cfg.seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {cfg.seed}")
    validate_hparams(cfg.optimizer, cfg.hp)


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, task: Task, data: Dataset, chunk: int = 2500
) -> tuple[float, float]:
    """Mean test loss and accuracy of ``model`` on the dataset's test set."""
    was = model.training
    model.eval()
    total, correct, n = 0.0, 0, len(data.y_test)
    for i in range(0, n, chunk):
        x = task.preprocess(data.x_test[i : i + chunk])
        y = data.y_test[i : i + chunk]
        logits = model(x)
        total += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
    model.train(was)
    return total / n, correct / n


def train(cfg: RunConfig, data: Dataset | None = None, data_dir: str | None = None) -> RunResult:
    """Train one configuration with the real ``beyondadam.optim`` class (the reference loop)."""
    task = get_task(cfg.task)
    data = data if data is not None else load_dataset(task.dataset, data_dir)
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    model = task.make_model()
    model.train()
    opt = build_optimizer(cfg.optimizer, model.parameters(), cfg.hp)
    sched = inverse_sqrt(opt) if task.lr_schedule == "inverse_sqrt" else None
    gen = torch.Generator().manual_seed(data_seed(cfg.seed))
    x_train, y_train = data.x_train, data.y_train
    losses = torch.empty(cfg.steps)
    test_steps: list[int] = []
    test_loss: list[float] = []
    test_acc: list[float] = []
    step, checked, diverged = 0, 0, None
    while step < cfg.steps and diverged is None:
        for idx in epoch_batches(len(y_train), cfg.batch_size, gen):
            xb = task.preprocess(x_train[idx])
            yb = y_train[idx]
            opt.zero_grad(set_to_none=True)
            loss = task.loss(model(xb), yb)
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
                    tl, ta = evaluate(model, task, data)
                    test_steps.append(step)
                    test_loss.append(tl)
                    test_acc.append(ta)
            if step >= cfg.steps:
                break
    n_logged = step if diverged is None else diverged - 1
    return RunResult(
        config=cfg,
        status="done" if diverged is None else "diverged",
        train_loss=losses[:n_logged].numpy().copy(),
        test_steps=np.asarray(test_steps, dtype=np.int64),
        test_loss=np.asarray(test_loss, dtype=np.float64),
        test_acc=np.asarray(test_acc, dtype=np.float64),
        wall_time=time.perf_counter() - t0,
        test_note=data.test_note,
        engine="plain",
        diverged_step=diverged,
    )


def train_many(
    cfgs: list[RunConfig], data_dir: str | None = None, *, batched: bool = True
) -> list[RunResult]:
    """Train several configurations; those the batched engine supports run as one batched model."""
    from beyondadam.experiments import batched as engine

    results: dict[str, RunResult] = {}
    groups: dict[tuple[str, int, int, int], list[RunConfig]] = {}
    for cfg in cfgs:
        if batched and engine.supports(cfg):
            groups.setdefault((cfg.task, cfg.steps, cfg.eval_every, cfg.batch_size), []).append(cfg)
        else:
            data = load_dataset(get_task(cfg.task).dataset, data_dir)
            results[cfg.key] = train(cfg, data)
    for group in groups.values():
        data = load_dataset(get_task(group[0].task).dataset, data_dir)
        for res in engine.train_batched(group, data):
            results[res.config.key] = res
    return [results[c.key] for c in cfgs]
