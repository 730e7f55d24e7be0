"""The environment a reproduction ran in, so two runs can be compared."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["collect_environment", "cpu_model", "package_versions"]

_PACKAGES = ("beyondadam", "torch", "numpy", "numba", "matplotlib", "pandas", "click", "scipy")


def package_versions(packages: tuple[str, ...] = _PACKAGES) -> dict[str, str]:
    """Return installed versions of ``packages`` (``"not installed"`` when absent)."""
    out: dict[str, str] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            module = sys.modules.get(name)
            out[name] = getattr(module, "__version__", "not installed")
    if out.get("beyondadam") == "not installed":
        try:
            import beyondadam

            out["beyondadam"] = beyondadam.__version__
        except ImportError:  # pragma: no cover
            pass
    return out


def cpu_model() -> str:
    """Return the CPU model name (from ``/proc/cpuinfo`` on Linux, else ``platform``)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def _memory_gib() -> float | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * size / 2**30, 1)


def _torch_info() -> dict[str, Any]:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return {}
    info: dict[str, Any] = {"torch_threads": torch.get_num_threads()}
    info["cuda_available"] = bool(torch.cuda.is_available())
    if info["cuda_available"]:
        info["cuda_device"] = torch.cuda.get_device_name(0)
    return info


def collect_environment() -> dict[str, Any]:
    """Return versions, machine and OS of the current process, as JSON-friendly data."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "versions": package_versions(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "machine": platform.machine(),
        "python_implementation": platform.python_implementation(),
        **_torch_info(),
    }
