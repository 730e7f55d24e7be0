"""``results.json``: the numbers a report reads, and the reproduction's resumable state.

Layout (all JSON)::

    {
      "schema_version": 1,
      "profile": {...},                # the Profile's fields
      "started": "...", "finished": "...",
      "environment": {...},            # see environment.py
      "stages": {
        "<stage id>": {
          "status": "done" | "not run" | "failed",
          "title": "...", "wall_s": 12.3, "config": {...}, "numbers": {...},
          "figures": [{"path": "<stage>/fig.png", "title": "...", "caption": "...",
                       "paper": "...", "config": {...}}],
          "notes": ["..."], "reason": "...", "command": "..."
        }
      }
    }

Figure paths are relative to the output directory so the directory can be moved.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "RESULTS_FILE",
    "SCHEMA_VERSION",
    "FigureRecord",
    "StageRecord",
    "jsonable",
    "load",
    "save",
]

RESULTS_FILE = "results.json"
SCHEMA_VERSION = 1


@dataclass
class FigureRecord:
    """A figure produced by a stage."""

    path: str
    """Path relative to the output directory (PNG or SVG)."""
    title: str
    caption: str = ""
    paper: str = ""
    """What the paper's counterpart shows, for a side-by-side reading."""
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageRecord:
    """What a stage stores in ``results.json``."""

    status: str
    """``"done"``, ``"not run"`` or ``"failed"``."""
    title: str = ""
    wall_s: float | None = None
    config: dict[str, Any] = field(default_factory=dict)
    numbers: dict[str, Any] = field(default_factory=dict)
    figures: list[FigureRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str | None = None
    """Why the stage did not run or failed."""
    command: str | None = None
    """The command that runs it, when it did not run."""

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-friendly data."""
        return jsonable(asdict(self))


def jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and paths; non-finite floats become strings."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy scalars and arrays
        return jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj


def load(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``out_dir/results.json``; an absent file gives an empty state.

    Raises:
        ValueError: If the file is not valid JSON or has an unknown schema version.

    """
    path = Path(out_dir) / RESULTS_FILE
    if not path.exists():
        return {"schema_version": SCHEMA_VERSION, "stages": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"{path} has schema version {data.get('schema_version')!r}; "
            f"this beyondadam reads version {SCHEMA_VERSION}"
        )
    data.setdefault("stages", {})
    return data


def save(out_dir: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write ``data`` to ``out_dir/results.json`` atomically (a crash never leaves half a file)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / RESULTS_FILE
    fd, tmp = tempfile.mkstemp(prefix=".results.", suffix=".json", dir=out)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(jsonable(data), fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
