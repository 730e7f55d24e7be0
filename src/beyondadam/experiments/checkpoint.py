"""Checkpoints of a plain-loop run, so that a killed single run resumes bit-identically.

A checkpoint holds everything the reference loop (:func:`beyondadam.experiments.train`) carries
from one iteration to the next: the model's and the optimizer's state, the lr scheduler's, torch's
global RNG (dropout draws from it), the data-order generator's state at the start of the current
epoch (the epoch's permutation is drawn again on resume), the loss curve and test points so far.
It is written atomically (a temporary file, then a rename) to ``OUT/checkpoints/<key>.pt`` and
read with ``torch.load(weights_only=True)``; one that cannot be read, or belongs to another
configuration, is ignored (the run starts over) with a warning, never an error.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from beyondadam.experiments.runs import RunConfig

__all__ = ["CHECKPOINT_DIR", "CHECKPOINT_EVERY", "Checkpoint", "checkpoint_path"]

#: the folder of the checkpoints inside an output folder.
CHECKPOINT_DIR = "checkpoints"
#: iterations between a plain-loop run's checkpoints (and at SIGTERM/SIGINT).
CHECKPOINT_EVERY = 250
_FORMAT = 1


def checkpoint_path(out_dir: str | Path, cfg: RunConfig) -> Path:
    """Where the checkpoint of ``cfg`` lives under the output folder ``out_dir``."""
    return Path(out_dir) / CHECKPOINT_DIR / f"{cfg.key}.pt"


@dataclass
class Checkpoint:
    """The state of a plain-loop run after iteration ``step`` (see the module docstring)."""

    key: str
    step: int
    checked: int
    model: dict[str, Any]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any] | None
    torch_rng: torch.Tensor
    epoch_rng: torch.Tensor
    losses: torch.Tensor
    test_steps: list[int] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    def save(self, path: Path) -> None:
        """Write atomically: a reader sees the previous checkpoint or this one, never a part."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save({"format": _FORMAT, **self.__dict__}, tmp)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, cfg: RunConfig) -> Checkpoint | None:
        """The checkpoint of ``cfg`` at ``path``; ``None`` if there is none or it is unusable."""
        if not path.is_file():
            return None
        try:
            raw = torch.load(path, weights_only=True)
            if raw.pop("format") != _FORMAT or raw["key"] != cfg.key:
                raise ValueError("written for another configuration or format")
            ck = cls(**raw)
            if not (0 < ck.step <= cfg.steps and len(ck.losses) == ck.step):
                raise ValueError(f"step {ck.step} is outside 1..{cfg.steps}")
            return ck
        except Exception as exc:  # any unreadable file means: start over
            warnings.warn(
                f"ignoring the checkpoint {path} ({exc}); the run starts from iteration 0",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
