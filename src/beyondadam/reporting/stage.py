"""What a stage of the reproduction is, what it receives, and the helpers every stage uses.

Kept apart from :mod:`~beyondadam.reporting.pipeline` so that the stage functions
(:mod:`~beyondadam.reporting.collect`, :mod:`~beyondadam.reporting.training`) and the pipeline
that calls them both import it, and neither imports the other's caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from beyondadam.reporting.profiles import Profile
from beyondadam.reporting.results import FigureRecord, StageRecord

__all__ = ["TASK_TITLES", "Stage", "StageContext", "display_names", "figure_records"]

TASK_TITLES: dict[str, str] = {
    "mnist-logreg": "MNIST logistic regression",
    "mnist-mlp": "MNIST 1-hidden-layer MLP",
    "cifarnet": "CIFARNET",
}
"""The report's name of each training task, keyed by its id in
:data:`beyondadam.experiments.TASKS` (which is also the stage id)."""


@dataclass(frozen=True)
class StageContext:
    """What a stage function receives."""

    profile: Profile
    out_dir: Path
    stage_dir: Path
    data_dir: Path | None
    executor: str
    scheduler: str | None
    workers: int | None
    quiet: bool
    log: Callable[[str], None]
    command: str
    """The command line that reruns the whole reproduction (for "how to run it" hints)."""
    device: str | None = None
    """Where the training stages train (``None``: the CPU; not part of a run's key)."""


@dataclass(frozen=True)
class Stage:
    """One step of the reproduction."""

    id: str
    """The stage id; a training stage's id is its task's id (``"mnist-logreg"``)."""
    title: str
    run: Callable[[StageContext], StageRecord]
    needs: str = "none"
    """``"none"``, ``"mnist"`` (required: checked before work) or ``"cifar"`` (optional)."""


def display_names(keys: tuple[str, ...]) -> dict[str, str]:
    """Catalog key -> the optimizer's display name (``"amsgrad"`` -> ``"AMSGrad"``), in order."""
    from beyondadam.optim import catalog

    return {k: catalog.get(k).name for k in keys}


def figure_records(
    ctx: StageContext, paths: list[Path], title: str, caption: str, paper: str, config: dict
) -> tuple[FigureRecord, ...]:
    """Figure records for the PNGs among ``paths`` (the SVG twins stay on disk)."""
    return tuple(
        FigureRecord(
            path=Path(p).relative_to(ctx.out_dir).as_posix(),
            title=title,
            caption=caption,
            paper=paper,
            config=config,
        )
        for p in paths
        if Path(p).suffix == ".png"
    )
