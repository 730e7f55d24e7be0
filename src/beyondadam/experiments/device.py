"""Where the engines train: the CPU (the default) or a CUDA device.

The device is not part of a configuration (:attr:`RunConfig.key` is the same on every device);
results on a GPU differ from the CPU's in the last bits, so the engines record it in
:attr:`RunResult.engine` (``"plain[cuda:0]"``; a CPU run keeps the bare name, as every store
written before devices existed). The engines keep the data in host memory and move each
minibatch (uint8, before preprocessing: 4x fewer bytes than float32) to the device; on the CPU
they add no transfer at all, so a CPU run is bit-identical to one from before.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["check_device", "engine_name", "resolve", "to_device", "to_host"]


def check_device(name: str | torch.device) -> torch.device:
    """The torch device ``name`` ("cpu", "cuda" or "cuda:N"); a one-line ValueError otherwise.

    Call it before any work: a CUDA device must exist here.
    """
    allowed = "device must be 'cpu', 'cuda' or 'cuda:N' and available here"
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"{allowed}; got {str(name)!r}") from None
    if dev.type == "cpu" and dev.index in (None, 0):
        return torch.device("cpu")
    if dev.type != "cuda":
        raise ValueError(f"{allowed}; got {str(name)!r}")
    if not torch.cuda.is_available():
        raise ValueError(f"{allowed}; got {str(name)!r} but torch.cuda.is_available() is False")
    count = torch.cuda.device_count()
    if dev.index is not None and dev.index >= count:
        raise ValueError(
            f"{allowed}; got {str(name)!r} but this machine has {count} CUDA device(s)"
        )
    return dev


def resolve(device: str | torch.device | None) -> torch.device | None:
    """``None`` for the CPU (the engines' untouched path), else the checked device."""
    if device is None:
        return None
    dev = check_device(device)
    return None if dev.type == "cpu" else dev


def engine_name(engine: str, dev: torch.device | None) -> str:
    """``engine`` with the device it ran on (``"plain[cuda:0]"``); bare on the CPU."""
    return engine if dev is None else f"{engine}[{dev}]"


def to_device(x: torch.Tensor, dev: torch.device | None) -> torch.Tensor:
    """A host tensor (a gathered minibatch) on ``dev``: itself on the CPU.

    On CUDA the batch is pinned first so the copy is asynchronous; torch's pinned-memory cache
    keeps the pinned block alive until the copy has finished.
    """
    if dev is None:
        return x
    if dev.type != "cuda":
        return x.to(dev)
    return x.pin_memory().to(dev, non_blocking=True)


def to_host(obj: Any) -> Any:
    """``obj`` (a state dict: nested dicts, lists, tuples) with every tensor copied to the CPU."""
    if torch.is_tensor(obj):
        return obj.cpu()
    if isinstance(obj, dict):
        return {k: to_host(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_host(v) for v in obj)
    return obj
