"""Checkpoints of a unit of work, so that a killed run resumes bit-identically.

A checkpoint holds everything an engine carries from one iteration to the next: the parameters,
the optimizers' and lr schedulers' states, torch's global RNG (dropout draws from it), the
data-order generators' states at the start of the current epoch (the epoch's permutation is drawn
again on resume), the loss curves and test points so far. What exactly is each engine's business
(:func:`beyondadam.experiments.train`, :func:`beyondadam.experiments.batched.train_batched`); this
module stores it (host tensors: a GPU run moves them first): atomically (a temporary file, then a
rename) at ``OUT/checkpoints/<unit key>.pt``, read back onto the CPU with
``torch.load(weights_only=True)``. One that cannot be read, or belongs to other configurations,
is ignored (the run starts over) with a warning, never an error.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from beyondadam.experiments.runs import RunConfig

__all__ = ["CHECKPOINT_DIR", "CHECKPOINT_EVERY", "Checkpoint", "checkpoint_path", "unit_key"]

#: the folder of the checkpoints inside an output folder.
CHECKPOINT_DIR = "checkpoints"
#: iterations between checkpoints (and one at SIGTERM/SIGINT).
CHECKPOINT_EVERY = 250
_FORMAT = 2


def unit_key(cfgs: list[RunConfig]) -> str:
    """A unit's key: its configuration's own key if it is one, else a hash of their keys."""
    if len(cfgs) == 1:
        return cfgs[0].key
    return hashlib.sha256(",".join(c.key for c in cfgs).encode()).hexdigest()[:16]


def checkpoint_path(out_dir: str | Path, cfgs: RunConfig | list[RunConfig]) -> Path:
    """Where the checkpoint of a unit (or of one configuration) lives under ``out_dir``."""
    unit = [cfgs] if isinstance(cfgs, RunConfig) else cfgs
    return Path(out_dir) / CHECKPOINT_DIR / f"{unit_key(unit)}.pt"


@dataclass
class Checkpoint:
    """An engine's ``state`` after iteration ``step`` of the unit ``key``.

    ``state["losses"]`` has one row per iteration done (checked on load).
    """

    key: str
    step: int
    state: dict[str, Any]

    def save(self, path: Path) -> None:
        """Write atomically: a reader sees the previous checkpoint or this one, never a part."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save({"format": _FORMAT, "key": self.key, "step": self.step, **self.state}, tmp)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, cfgs: list[RunConfig]) -> Checkpoint | None:
        """The checkpoint of the unit ``cfgs`` at ``path``; ``None`` if none or unusable."""
        if not path.is_file():
            return None
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if state.pop("format") != _FORMAT or state.pop("key") != unit_key(cfgs):
                raise ValueError("written for other configurations or another format")
            step = state.pop("step")
            if not (0 < step <= cfgs[0].steps and len(state["losses"]) == step):
                raise ValueError(f"step {step} is outside 1..{cfgs[0].steps}")
            return cls(unit_key(cfgs), step, state)
        except Exception as exc:  # any unreadable file means: start over
            warnings.warn(
                f"ignoring the checkpoint {path} ({exc}); the run starts from iteration 0",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
