"""What a run's profile trimmed relative to the paper profile, per stage, for every verdict.

A budget profile can change a verdict through what it trims (a quick run on a two-value lr grid
once found AMSGrad below Adam on MNIST, which the full grid does not), so each verdict says which
settings of the stages it rests on differ from :data:`~beyondadam.reporting.profiles.PAPER`.
The comparison reads the profile stored in ``results.json`` (a re-rendered report says the same);
a training setting of ``None`` is resolved to the task's own default, as the run resolved it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from beyondadam.reporting.profiles import PAPER

__all__ = ["stage_trims", "trim_note"]


def _num(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _values(xs: Sequence[Any]) -> str:
    return "{" + ", ".join(_num(x) for x in xs) + "}"


def _diff(what: str, run: Any, paper: Any, fmt: Callable[[Any], str] = _num) -> list[str]:
    if run is None or run == paper:
        return []
    return [f"{what} {fmt(run)} instead of {fmt(paper)}"]


def _task_default(task: str, field: str) -> Any:
    """The task's own value of a training setting left ``None`` by a profile."""
    from beyondadam.experiments import TASKS

    spec = TASKS[task]
    return {"steps": spec.steps, "lrs": list(spec.lr_grid), "beta2s": list(spec.beta2_grid)}.get(
        field
    )


def _training(task: str, run: Mapping[str, Any], paper: Mapping[str, Any]) -> list[str]:
    def value(tp: Mapping[str, Any], field: str) -> Any:
        v = tp.get(field)
        v = _task_default(task, field) if v is None else v
        return [float(x) for x in v] if isinstance(v, (list, tuple)) else v

    out = _diff("iterations", value(run, "steps"), value(paper, "steps"))
    out += _diff("lr grid", value(run, "lrs"), value(paper, "lrs"), _values)
    out += _diff("β2 grid", value(run, "beta2s"), value(paper, "beta2s"), _values)
    out += _diff("seeds", run.get("seeds"), paper.get("seeds"))
    return out


def stage_trims(profile: Mapping[str, Any], stage_id: str) -> list[str]:
    """How ``profile`` (as stored in ``results.json``) departs from the paper profile in a stage.

    Returns one phrase per setting that differs (e.g. ``"iterations 1,500 instead of 3,000"``);
    an empty list when the stage runs as in the paper profile or is not known.
    """
    paper = PAPER.as_dict()
    p = dict(profile)
    if stage_id == "figure1":
        return _diff("steps", p.get("figure1_steps"), paper["figure1_steps"]) + _diff(
            "stochastic seeds", p.get("figure1_seeds"), paper["figure1_seeds"]
        )
    if stage_id == "theorem1":
        cs = p.get("theorem1_cs")
        return _diff("steps", p.get("theorem1_steps"), paper["theorem1_steps"]) + _diff(
            "C", [float(c) for c in cs] if cs else None, list(paper["theorem1_cs"]), _values
        )
    if stage_id == "atlas":
        return _diff("grid side", p.get("atlas_grid"), paper["atlas_grid"]) + _diff(
            "steps", p.get("atlas_steps"), paper["atlas_steps"]
        )
    if stage_id == "family":
        probs = p.get("family_problems")
        return (
            _diff("steps", p.get("family_steps"), paper["family_steps"])
            + _diff("stochastic seeds", p.get("family_seeds"), paper["family_seeds"])
            + _diff("problems", ", ".join(probs) if probs else "all", "all", str)
        )
    run_tp = (p.get("training") or {}).get(stage_id)
    paper_tp = paper["training"].get(stage_id)
    if not isinstance(run_tp, Mapping) or paper_tp is None:
        return []
    return _training(stage_id, run_tp, paper_tp)


def trim_note(profile: Mapping[str, Any] | None, stage_ids: Sequence[str]) -> str:
    """One line: what the stages ``stage_ids`` trimmed against the paper profile.

    Empty when they trimmed nothing, or when no profile is stored.
    """
    if not profile:
        return ""
    parts = [f"{sid}: {', '.join(t)}" for sid in stage_ids if (t := stage_trims(profile, sid))]
    if not parts:
        return ""
    return f"rests on a protocol trimmed against the {PAPER.name} profile: " + "; ".join(parts)
