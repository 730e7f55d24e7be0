"""The run types every engine and the store share: a configuration, its result, its seeds.

Determinism: a run's model initialisation uses ``torch.manual_seed(seed)`` and its data order a
separate generator seeded by :func:`data_seed`; with the same seed on the same machine (and the
same engine) the curves are bit-identical.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from beyondadam.experiments.optimizers import validate_hparams
from beyondadam.experiments.tasks import get_task

__all__ = ["CHECK_EVERY", "RunConfig", "RunResult", "data_seed", "validate_config"]

_KEY_VERSION = 1
#: iterations between the engines' checks for a non-finite loss.
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
    validation: bool = False  # train without the task's validation split, report its loss

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
        validation: bool = False,
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
            validation=bool(validation),
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
        """Plain-dict form (``hparams`` as a JSON string).

        ``validation`` appears only when True, so a run without it keeps the key (and the
        stored form) it had before the field existed.
        """
        out: dict[str, Any] = {
            "task": self.task,
            "optimizer": self.optimizer,
            "hparams": self.hparams,
            "seed": self.seed,
            "steps": self.steps,
            "eval_every": self.eval_every,
            "batch_size": self.batch_size,
        }
        if self.validation:
            out["validation"] = True
        return out

    def label(self) -> str:
        """Short human-readable description."""
        hp = ", ".join(f"{k}={v}" for k, v in self.hp.items())
        val = " validation" if self.validation else ""
        return f"{self.task}/{self.optimizer}({hp}) seed={self.seed}{val}"


@dataclass
class RunResult:
    """The outcome of one run.

    ``train_loss[i]`` is the minibatch loss at iteration ``i + 1``; test metrics are at
    ``test_steps`` (``test_acc`` NaN for a task without accuracy), and so is ``val_loss`` (the
    validation split's loss; empty unless ``config.validation``). ``status`` is ``"done"`` or
    ``"diverged"`` (then ``diverged_step`` is the first iteration with a non-finite loss and the
    curves stop there).
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
    val_loss: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float64))

    def final_train_loss(self, last_frac: float = 0.1) -> float:
        """Mean training loss over the last ``last_frac`` of the iterations (NaN if diverged)."""
        if self.status != "done" or len(self.train_loss) == 0:
            return math.nan
        n = max(1, round(len(self.train_loss) * last_frac))
        return float(np.mean(self.train_loss[-n:], dtype=np.float64))

    def final_val_loss(self) -> float:
        """The last validation loss; ``inf`` when diverged, absent or not finite."""
        if self.status != "done" or len(self.val_loss) == 0:
            return math.inf
        last = float(self.val_loss[-1])
        return last if math.isfinite(last) else math.inf


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
    if not isinstance(cfg.validation, bool):
        raise ValueError(f"validation must be True or False, got {cfg.validation!r}")
    validate_hparams(cfg.optimizer, cfg.hp)
