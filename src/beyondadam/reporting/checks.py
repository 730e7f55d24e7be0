"""How each claim of the paper is checked: typed stage numbers in, a :class:`ClaimOutcome` out.

Every check compares the paper's remedy, AMSGrad (:data:`REMEDY`), with the baseline Adam
(:data:`BASELINE`) by the criterion its claim states in :mod:`~beyondadam.reporting.claims`; the
measured text lists every optimizer the run has, baseline first. A check raises ``KeyError``,
``TypeError`` or ``ValueError`` when the numbers it needs are absent; the claim reports that as
"not run".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from beyondadam.reporting.benchmark_stats import BenchmarkNumbers
from beyondadam.reporting.numbers import (
    TRAINING_RANGES,
    Figure1Numbers,
    SimOptimizer,
    Theorem1Numbers,
    TrainingNumbers,
    TrainingOptimizer,
)
from beyondadam.reporting.results import StageRecord
from beyondadam.reporting.stats import compare_lower, mean_band

__all__ = [
    "BASELINE",
    "HOLDS",
    "IN_GENERAL_SHARE",
    "METRICS",
    "NOT_RUN",
    "NOT_SUPPORTED",
    "REGRET_FLOOR",
    "REGRET_RATIO",
    "REMEDY",
    "VERDICTS",
    "X_TOL",
    "ClaimOutcome",
    "Stages",
    "not_in_general",
    "regret_split",
    "remedy_lower",
    "theorem1",
    "typed_numbers",
    "verdict_from",
    "x_split",
]

HOLDS = "holds"
NOT_SUPPORTED = "not supported"
NOT_RUN = "not run"
VERDICTS = (HOLDS, NOT_SUPPORTED, NOT_RUN)

BASELINE = "adam"
"""Catalog key of the optimizer every comparison is made against."""
REMEDY = "amsgrad"
"""Catalog key of the paper's remedy, the subject of its claims."""

X_TOL = 0.1
"""How close x_T must be to a boundary point to count as having reached it."""
REGRET_FLOOR = 0.01
"""Average regret above which Adam's regret counts as bounded away from zero."""
REGRET_RATIO = 0.25
"""AMSGrad's R_T/T must be at most this fraction of Adam's to count as vanishing."""

Stages = Mapping[str, StageRecord]
N = TypeVar("N")
V = TypeVar("V")


@dataclass(frozen=True)
class ClaimOutcome:
    """The result of checking one claim against a run's numbers."""

    verdict: str
    """One of :data:`VERDICTS`."""
    measured: str
    """The measured values, as text."""
    detail: str = ""
    """Why (e.g. "difference inside the seed spread", or why a stage did not run)."""
    trimmed: str = ""
    """What the stages it rests on trimmed against the paper profile ("" when nothing); set by
    :func:`beyondadam.reporting.claims.evaluate_claims` from the stored profile."""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def verdict_text(self) -> str:
        """The verdict with its detail in parentheses, e.g. ``not supported (…)``."""
        return f"{self.verdict} ({self.detail})" if self.detail else self.verdict


def typed_numbers(stage: StageRecord, kind: type[N]) -> N:
    """The stage's numbers as ``kind`` (``TypeError`` when they are another class)."""
    if not isinstance(stage.numbers, kind):
        raise TypeError(f"expected {kind.__name__}, got {type(stage.numbers).__name__}")
    return stage.numbers


def _pair(optimizers: Mapping[str, V]) -> tuple[V, V]:
    """The baseline's and the remedy's numbers (KeyError, i.e. incomplete, when one is absent)."""
    return optimizers[BASELINE], optimizers[REMEDY]


def _ordered(optimizers: Mapping[str, V]) -> list[tuple[str, V]]:
    """Every optimizer of the run, baseline first, then in the run's order."""
    return [(BASELINE, optimizers[BASELINE])] + [
        (k, o) for k, o in optimizers.items() if k != BASELINE
    ]


def _fmt(x: float) -> str:
    return f"{x:+.4f}" if abs(x) < 1e4 else f"{x:+.3e}"


def verdict_from(measured: str, why: Sequence[str]) -> ClaimOutcome:
    """``holds`` when nothing speaks against the claim, else ``not supported`` with the reasons."""
    if why:
        return ClaimOutcome(NOT_SUPPORTED, measured, "; ".join(why))
    return ClaimOutcome(HOLDS, measured)


# ---------------------------------------------------------------- synthetic problems (Figure 1)


def _within(values: Sequence[float], target: float) -> int:
    return sum(1 for v in values if abs(float(v) - target) <= X_TOL)


def _x_text(o: SimOptimizer, target: float | None) -> str:
    seeds = o.x_final_seeds or (o.x_final,)
    if len(seeds) == 1:
        return f"{o.name} x_T = {_fmt(seeds[0])}"
    text = f"{o.name} x_T mean {_fmt(sum(seeds) / len(seeds))} (min {_fmt(min(seeds))}, "
    text += f"max {_fmt(max(seeds))}"
    if target is None:
        return text + ")"
    hit = _within(seeds, target)
    return text + f"; {hit} of {len(seeds)} seeds within {X_TOL} of {target:+g})"


def x_split(setting: str) -> Callable[[Stages], ClaimOutcome]:
    """Figure 1 ``setting``: Adam's x_T at +1 and AMSGrad's at x*, each in a majority of seeds."""

    def check(stages: Stages) -> ClaimOutcome:
        n = getattr(typed_numbers(stages["figure1"], Figure1Numbers), setting)
        _pair(n.optimizers)
        targets = {BASELINE: 1.0, REMEDY: n.x_star}
        parts, why = [], []
        for key, o in _ordered(n.optimizers):
            target = targets.get(key)
            parts.append(_x_text(o, target))
            seeds = o.x_final_seeds or (o.x_final,)
            if target is not None and not 2 * _within(seeds, target) > len(seeds):
                why.append(f"{o.name}'s x_T is not within {X_TOL} of {target:+g}")
        return verdict_from(f"T = {n.T:,}: " + "; ".join(parts), why)

    return check


def regret_split(setting: str) -> Callable[[Stages], ClaimOutcome]:
    """Figure 1 ``setting``: Adam's R_T/T bounded away from 0, AMSGrad's vanishing."""

    def check(stages: Stages) -> ClaimOutcome:
        n = getattr(typed_numbers(stages["figure1"], Figure1Numbers), setting)
        a, m = _pair(n.optimizers)
        measured = "R_T/T: " + ", ".join(
            f"{o.name} {o.avg_regret_final:.4g} (at T/2: {o.avg_regret_half:.4g})"
            for _, o in _ordered(n.optimizers)
        )
        ra, rm = a.avg_regret_final, m.avg_regret_final
        why = []
        if not (ra >= REGRET_FLOOR and ra >= 0.5 * a.avg_regret_half):
            why.append(f"{a.name}'s average regret is not bounded away from 0")
        if not (rm <= REGRET_RATIO * ra and rm < m.avg_regret_half):
            why.append(f"{m.name}'s average regret is not vanishing")
        return verdict_from(measured, why)

    return check


def theorem1(stages: Stages) -> ClaimOutcome:
    """Theorem 1: Adam's x_T at +1 for every stored C > 2."""
    n = typed_numbers(stages["theorem1"], Theorem1Numbers)
    ordered = _ordered(n.optimizers)  # the theorem is about Adam alone; AMSGrad is optional
    adam = n.optimizers[BASELINE]
    cases = [i for i, c in enumerate(n.C) if c > 2]
    if not cases:
        return ClaimOutcome(NOT_RUN, "—", "no case with C > 2 was stored")
    parts, failed = [], []
    for i in cases:
        values = ", ".join(f"{o.name} x_T = {_fmt(o.x_final[i])}" for _, o in ordered)
        parts.append(f"C={n.C[i]:g}: {values}")
        if abs(adam.x_final[i] - 1.0) > X_TOL:
            failed.append(f"C={n.C[i]:g}")
    why = [f"{adam.name}'s x_T not at +1 for " + ", ".join(failed)] if failed else []
    return verdict_from("; ".join(parts), why)


# ---------------------------------------------------------------- training (Figure 2)

METRICS = {
    "final_train_loss": ("training loss", True),
    "final_test_loss": ("test loss", True),
    "final_test_accuracy": ("test accuracy", False),
}


def _values(o: TrainingOptimizer, metric: str) -> Sequence[float]:
    vals = getattr(o, metric)
    if not vals:
        raise ValueError(f"no {metric} values for {o.name}")
    return vals


def _compare(n: TrainingNumbers, metric: str) -> tuple[str, str]:
    """Compare the remedy with the baseline on ``metric``: (outcome, measured text)."""
    label, lower_is_better = METRICS[metric]
    a, m = _pair(n.optimizers)
    base, ams = _values(a, metric), _values(m, metric)
    cmp = compare_lower(ams, base) if lower_is_better else compare_lower(base, ams)
    bands = ", ".join(
        f"{o.name} {mean_band(getattr(o, metric), bounds=TRAINING_RANGES[metric]).text()}"
        for _, o in _ordered(n.optimizers)
        if getattr(o, metric)
    )
    diff = f"{a.name} − {m.name}" if lower_is_better else f"{m.name} − {a.name}"
    measured = f"final {label}: {bands}; {diff} {cmp.text()}"
    outcome = {
        "below": "remedy better",
        "above": "baseline better",
        "inside spread": "inside spread",
        "one seed": "one seed",
    }[cmp.outcome]
    return outcome, measured


def remedy_lower(task: str, metric: str) -> Callable[[Stages], ClaimOutcome]:
    """Training ``task``: AMSGrad's final ``metric`` better than Adam's beyond the seed spread."""

    def check(stages: Stages) -> ClaimOutcome:
        n = typed_numbers(stages[task], TrainingNumbers)
        outcome, measured = _compare(n, metric)
        if metric != "final_train_loss" and n.n_test:
            measured += f" (test set: {n.n_test:,} images)"
        if outcome == "remedy better":
            return ClaimOutcome(HOLDS, measured)
        detail = {
            "inside spread": "difference inside the seed spread",
            "baseline better": f"{n.optimizers[BASELINE].name}'s is lower, beyond the seed spread",
            "one seed": "a single seed cannot separate the difference from the seed spread",
        }[outcome]
        return ClaimOutcome(NOT_SUPPORTED, measured, detail)

    return check


IN_GENERAL_SHARE = 0.5
"""AMSGrad "beats Adam in general" when it wins on at least this share of the benchmark's tasks
(and loses on none)."""


def not_in_general(stages: Stages) -> ClaimOutcome:
    """Benchmark: AMSGrad beats Adam in general iff it wins on >= half the tasks and loses on none.

    The claim (that it does *not*) holds otherwise. Wins and losses are the benchmark's
    Holm-corrected Welch tests of final test loss (:mod:`beyondadam.reporting.benchmark_stats`).
    """
    n = typed_numbers(stages["benchmark"], BenchmarkNumbers)
    outcomes = n.outcomes(REMEDY)
    if BASELINE not in n.optimizers or not outcomes:
        raise KeyError(f"the benchmark compared no {REMEDY!r} with {BASELINE!r}")
    name = n.names.get(REMEDY, REMEDY)
    by = {o: [t for t, v in outcomes.items() if v == o] for o in ("win", "tie", "loss", "untested")}
    parts = [f"{len(by[o])} ({', '.join(by[o])})" if by[o] else "0" for o in by]
    measured = (
        f"{name} vs Adam on {len(outcomes)} tasks: wins {parts[0]}, ties {parts[1]}, "
        f"losses {parts[2]}" + (f", untested {parts[3]}" if by["untested"] else "")
    )
    majority = [n.names.get(o, o) for o in n.majority_winners()]
    measured += (
        f". Optimizers that beat Adam on a majority of the {len(n.tasks)} tasks: "
        f"{', '.join(majority) or 'none'}"
    )
    if n.not_run:
        measured += f". tasks not in this benchmark: {', '.join(n.not_run)}"
    if len(by["untested"]) == len(outcomes):
        return ClaimOutcome(NOT_RUN, measured, "every comparison untested (< 2 finished seeds)")
    beats = len(by["win"]) >= IN_GENERAL_SHARE * len(outcomes) and not by["loss"]
    if beats:
        return ClaimOutcome(
            NOT_SUPPORTED, measured, f"{name} beat Adam in general on this benchmark's tasks"
        )
    return ClaimOutcome(HOLDS, measured, "on this benchmark's tasks, budget and seeds")
