"""``results.json``: the numbers a report reads, and the reproduction's resumable state.

Layout (all JSON)::

    {
      "schema_version": 2,
      "profile": {...},                # the Profile's fields
      "started": "...", "finished": "...",
      "environment": {...},            # see environment.py
      "stages": {
        "<stage id>": {
          "status": "done" | "not run" | "failed",
          "title": "...", "wall_s": 12.3, "config": {...},
          "numbers": {"kind": ..., ...} | null,    # see numbers.py
          "figures": [{"path": "<stage>/fig.png", "title": "...", "caption": "...",
                       "paper": "...", "config": {...}}],
          "notes": ["..."], "reason": "...", "command": "..."
        }
      }
    }

Stage ids are those of :data:`beyondadam.reporting.pipeline.STAGES`; a training stage's id is its
task's id (``mnist-logreg``). Figure paths are relative to the output directory so the directory
can be moved. :class:`StageRecord` reads and writes one stage; :func:`parse_stages` all of them.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from beyondadam.reporting.numbers import StageNumbers, numbers_from_json

__all__ = [
    "RESULTS_FILE",
    "SCHEMA_VERSION",
    "STATUSES",
    "FigureRecord",
    "StageRecord",
    "jsonable",
    "load",
    "parse_stages",
    "save",
    "write_atomic",
]

RESULTS_FILE = "results.json"
STATUSES = ("done", "not run", "failed")
SCHEMA_VERSION = 2
"""Version 2: stage ids are the task ids (``mnist-logreg``); numbers are typed (``"kind"``)."""


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class FigureRecord:
    """A figure produced by a stage."""

    path: str
    """Path relative to the output directory (PNG or SVG)."""
    title: str
    caption: str = ""
    paper: str = ""
    """What the paper's counterpart shows, for a side-by-side reading."""
    config: dict[str, Any] = field(default_factory=dict)
    interactive: str = ""
    """Path (relative to the output directory) of the JSON data the HTML report draws an
    interactive version of the figure from (:mod:`beyondadam.reporting.interactive`); empty
    for a static figure."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return jsonable(asdict(self))

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> FigureRecord:
        """Inverse of :meth:`to_json`."""
        return cls(
            path=str(obj["path"]),
            title=str(obj.get("title", "")),
            caption=str(obj.get("caption", "")),
            paper=str(obj.get("paper", "")),
            config=dict(obj.get("config") or {}),
            interactive=str(obj.get("interactive", "")),
        )


@dataclass(frozen=True)
class StageRecord:
    """What a stage stores in ``results.json``."""

    status: str
    """One of :data:`STATUSES`: ``"done"``, ``"not run"`` or ``"failed"``."""
    title: str = ""
    wall_s: float | None = None
    config: dict[str, Any] = field(default_factory=dict)
    numbers: StageNumbers | None = None
    figures: tuple[FigureRecord, ...] = ()
    notes: tuple[str, ...] = ()
    reason: str | None = None
    """Why the stage did not run or failed."""
    command: str | None = None
    """The command that runs it, when it did not run."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.numbers is not None and not hasattr(self.numbers, "KIND"):
            raise TypeError(f"numbers must be a stage numbers dataclass, got {self.numbers!r}")

    @property
    def done(self) -> bool:
        """Whether the stage completed."""
        return self.status == "done"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (the layout in this module's docstring)."""
        return jsonable(
            {
                "status": self.status,
                "title": self.title,
                "wall_s": self.wall_s,
                "config": self.config,
                "numbers": self.numbers.to_json() if self.numbers is not None else None,
                "figures": [f.to_json() for f in self.figures],
                "notes": list(self.notes),
                "reason": self.reason,
                "command": self.command,
            }
        )

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> StageRecord:
        """Inverse of :meth:`to_json`.

        Raises:
            KeyError, TypeError, ValueError: A field is missing or malformed.

        """
        if not isinstance(obj, Mapping):
            raise TypeError(f"a stage record must be a mapping, got {type(obj).__name__}")
        wall = obj.get("wall_s")
        return cls(
            status=str(obj["status"]),
            title=str(obj.get("title") or ""),
            wall_s=float(wall) if isinstance(wall, (int, float)) else None,
            config=dict(obj.get("config") or {}),
            numbers=numbers_from_json(obj.get("numbers")),
            figures=tuple(FigureRecord.from_json(f) for f in obj.get("figures") or ()),
            notes=tuple(str(n) for n in obj.get("notes") or ()),
            reason=_str_or_none(obj.get("reason")),
            command=_str_or_none(obj.get("command")),
        )


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
        ValueError: (one line) If the file is not valid JSON, has another schema version, or its
            stages cannot be read (e.g. a results.json of an older beyondadam).

    """
    path = Path(out_dir) / RESULTS_FILE
    if not path.exists():
        return {"schema_version": SCHEMA_VERSION, "stages": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"{path} has schema version {version!r}; this beyondadam reads version {SCHEMA_VERSION}"
        )
    data.setdefault("stages", {})
    try:
        parse_stages(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return data


def parse_stages(data: Mapping[str, Any]) -> dict[str, StageRecord]:
    """The typed stage records of a ``results.json`` mapping, in stored order.

    Raises:
        ValueError: (one line, naming the stage) When a record cannot be read.

    """
    stages = data.get("stages", {})
    if not isinstance(stages, Mapping):
        raise ValueError(f"'stages' must be a mapping, got {type(stages).__name__}")
    out: dict[str, StageRecord] = {}
    for sid, rec in stages.items():
        try:
            out[str(sid)] = StageRecord.from_json(rec)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"stage {sid!r} cannot be read: {type(exc).__name__}: {exc}") from None
    return out


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (a crash never leaves half a file).

    The temporary file is created with mode 0o666 filtered by the process umask, as ``open()``
    would (``tempfile.mkstemp`` would make it 0o600, and ``os.replace`` keeps that mode).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save(out_dir: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write ``data`` to ``out_dir/results.json`` atomically, with the usual umask-given mode."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n"
    return write_atomic(out / RESULTS_FILE, text)
