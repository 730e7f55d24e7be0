"""The benchmark's analysis: does any optimizer beat Adam, on each task and across tasks.

From a :class:`~beyondadam.experiments.benchmark.BenchmarkData` (every finished run),
:func:`analyse` computes, as typed records that round-trip through JSON:

- per task and optimizer (:class:`OptimizerResult`): the seeds' final test loss and accuracy,
  mean and Student-t 95% interval, and time-to-target: the median over seeds of the first step
  reaching the task's target, a seed that never reached it counting as infinitely late (so the
  median is finite only when at least half the seeds reached it), and the fraction that did;
- the comparisons with Adam (:class:`Comparison`): Welch's unequal-variance t-test of the seeds'
  final test losses, two-sided, and Holm's step-down correction over every comparison of the
  benchmark at family-wise error rate :data:`ALPHA`. A *win* is a significantly lower mean test
  loss than Adam's, a *loss* a significantly higher one, anything else a *tie*; a comparison with
  fewer than two finished seeds on either side is *untested* (counted as a tie, not in Holm's m);
- a Dolan–Moré performance profile over tasks (:class:`PerformanceProfile`) of each optimizer's
  mean final test loss m against the best optimizer's m* on that task, with the ratio
  r = 1 + (m − m*) / |m*|, which equals m / m* for positive losses and stays defined for a
  loss that can be zero or negative (the noisy quadratic); an optimizer without a finished seed
  on a task has r = inf;
- best-so-far against the tuning budget (:class:`BudgetCurve`): for b = 1..N, the expected best
  validation loss of b search trials drawn without replacement from the N run, by the exact
  order-statistic formula E[min] = sum_i v_(i) C(N − i, b − 1) / C(N, b); the losses are first
  normalised per task to (v − lo) / (hi − lo), lo the lowest validation loss of any trial on the
  task and hi the median of all its trials, clipped to [0, 1] (a diverged trial counts as 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from beyondadam.experiments.stats import mean_ci95, welch_test
from beyondadam.reporting.records import JsonRecord

if TYPE_CHECKING:
    from beyondadam.experiments.benchmark import BenchmarkData, TrialRecord

__all__ = [
    "ALPHA",
    "BASELINE",
    "OUTCOMES",
    "BenchmarkNumbers",
    "BudgetCurve",
    "Comparison",
    "OptimizerResult",
    "PerformanceProfile",
    "analyse",
    "expected_best_of",
    "holm",
    "performance_profile",
]

ALPHA = 0.05
"""Family-wise error rate of the comparisons with Adam (Holm's correction)."""
BASELINE = "adam"
"""Catalog key of the optimizer every comparison is made against."""
OUTCOMES = ("win", "tie", "loss", "untested")
TEST = (
    "Welch's unequal-variance t-test (two-sided) of the seeds' final test losses against Adam's; "
    f"Holm's correction over all comparisons at family-wise α = {ALPHA}; win = significantly "
    "lower mean test loss, loss = significantly higher, else tie (untested: < 2 finished seeds)"
)
"""The test, as stated in the report."""


@dataclass(frozen=True)
class OptimizerResult(JsonRecord):
    """One optimizer on one task: its selected configuration's seeds."""

    task: str
    optimizer: str
    """Catalog key."""
    selected: dict[str, Any]
    """Hyperparameters of the selected configuration (lowest validation loss of the search)."""
    seeds: int
    """Seed runs of the selected configuration (finished or diverged)."""
    diverged: int
    test_loss: tuple[float, ...]
    """Final test loss of each finished seed."""
    test_loss_mean: float
    test_loss_low: float
    test_loss_high: float
    test_acc_mean: float
    """NaN when the task has no accuracy."""
    test_acc_low: float
    test_acc_high: float
    steps_to_target: float
    """Median over seeds (never reached = inf)."""
    reached: float
    """Fraction of seeds that reached the target."""


@dataclass(frozen=True)
class Comparison(JsonRecord):
    """One optimizer against Adam on one task (final test loss)."""

    task: str
    optimizer: str
    diff: float
    """Mean test loss minus Adam's (negative: lower than Adam's)."""
    t: float
    df: float
    p: float
    p_holm: float
    """Holm-adjusted p-value (compared with :data:`ALPHA`)."""
    outcome: str
    """One of :data:`OUTCOMES`."""


@dataclass(frozen=True)
class PerformanceProfile(JsonRecord):
    """rho_o(tau): the fraction of tasks on which optimizer o is within a factor tau of the best."""

    tasks: tuple[str, ...]
    ratios: dict[str, tuple[float, ...]]
    """Optimizer -> its ratio on each task."""
    taus: tuple[float, ...]
    rho: dict[str, tuple[float, ...]]
    """Optimizer -> rho at each tau."""


@dataclass(frozen=True)
class BudgetCurve(JsonRecord):
    """Expected normalised best validation loss after b = 1..N search trials, one task."""

    task: str
    lo: float
    hi: float
    curves: dict[str, tuple[float, ...]]
    """Optimizer -> value at b = 1..N."""


@dataclass(frozen=True)
class BenchmarkNumbers(JsonRecord):
    """The benchmark stage's numbers (everything the report and the not-in-general claim read)."""

    KIND: ClassVar[str] = "benchmark"
    tasks: tuple[str, ...]
    optimizers: tuple[str, ...]
    names: dict[str, str]
    """Catalog key -> display name."""
    budget: int
    seeds: int
    results: tuple[OptimizerResult, ...]
    comparisons: tuple[Comparison, ...]
    profile: PerformanceProfile
    budget_curves: tuple[BudgetCurve, ...]
    test: str = TEST
    not_run: tuple[str, ...] = ()
    """Tasks of the benchmark that this run did not include (e.g. the GPU ones)."""

    def result(self, task: str, optimizer: str) -> OptimizerResult:
        """The result of ``optimizer`` on ``task`` (``KeyError`` when it has none)."""
        for r in self.results:
            if (r.task, r.optimizer) == (task, optimizer):
                return r
        raise KeyError(f"benchmark: no result of {optimizer!r} on {task!r}")

    def outcomes(self, optimizer: str) -> dict[str, str]:
        """Task -> outcome of ``optimizer`` against Adam."""
        return {c.task: c.outcome for c in self.comparisons if c.optimizer == optimizer}

    def tally(self, optimizer: str) -> dict[str, int]:
        """Outcome -> number of tasks, for ``optimizer`` against Adam."""
        got = list(self.outcomes(optimizer).values())
        return {o: got.count(o) for o in OUTCOMES}

    def majority_winners(self) -> list[str]:
        """Optimizers that beat Adam on more than half of the tasks."""
        return [o for o in self.optimizers if self.tally(o)["win"] > len(self.tasks) / 2]


# ---------------------------------------------------------------- the statistics


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (reject where adjusted p <= alpha); NaN stays NaN."""
    idx = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
    order = sorted(idx, key=lambda i: pvalues[i])
    m = len(order)
    out = [math.nan] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def expected_best_of(values: Sequence[float], b: int) -> float:
    """Expected minimum of ``b`` values drawn without replacement from ``values`` (exact)."""
    v = sorted(values)
    n = len(v)
    if not 1 <= b <= n:
        raise ValueError(f"b must lie in 1..{n}, got {b}")
    total = math.comb(n, b)
    # v_(i) (1-based) is the minimum of the draw iff it is drawn and the other b-1 come from
    # the n-i larger ones
    return sum(v[i] * math.comb(n - i - 1, b - 1) / total for i in range(n - b + 1))


def performance_profile(
    means: dict[str, dict[str, float]], taus: Sequence[float] | None = None
) -> PerformanceProfile:
    """Dolan–Moré profile of ``means[optimizer][task]`` (missing or NaN: never within tau)."""
    optimizers = list(means)
    tasks = list(dict.fromkeys(t for m in means.values() for t in m))
    ratios: dict[str, list[float]] = {o: [] for o in optimizers}
    for task in tasks:
        vals = {o: means[o].get(task, math.nan) for o in optimizers}
        finite = [v for v in vals.values() if math.isfinite(v)]
        best = min(finite) if finite else math.nan
        for o, v in vals.items():
            if not math.isfinite(v) or not finite:
                ratios[o].append(math.inf)
            elif v == best:
                ratios[o].append(1.0)
            else:
                ratios[o].append(1.0 + (v - best) / (abs(best) if best != 0 else 1.0))
    if taus is None:
        top = max([r for rs in ratios.values() for r in rs if math.isfinite(r)] + [1.0])
        taus = list(np.geomspace(1.0, max(top * 1.05, 1.01), 200))
    rho = {
        o: tuple(sum(r <= tau for r in rs) / max(len(tasks), 1) for tau in taus)
        for o, rs in ratios.items()
    }
    return PerformanceProfile(
        tasks=tuple(tasks),
        ratios={o: tuple(rs) for o, rs in ratios.items()},
        taus=tuple(float(t) for t in taus),
        rho=rho,
    )


def _result(task: str, opt: str, seeds: list[TrialRecord]) -> OptimizerResult:
    done = [r for r in seeds if r.status == "done" and math.isfinite(r.test_loss)]
    loss = np.array([r.test_loss for r in done])
    acc = np.array([r.test_acc for r in done if math.isfinite(r.test_acc)])
    # Every task's loss is >= 0 (cross-entropy, the autoencoder's BCE, the quadratic's form):
    # the band is clipped there, so two seeds far apart never give a negative bound.
    lm, ll, lh = mean_ci95(loss, bounds=(0.0, math.inf)) if loss.size else (math.nan,) * 3
    am, al, ah = mean_ci95(acc, bounds=(0.0, 1.0)) if acc.size else (math.nan,) * 3
    steps = [math.inf if r.steps_to_target is None else r.steps_to_target for r in seeds]
    return OptimizerResult(
        task=task,
        optimizer=opt,
        selected=dict(seeds[0].hparams) if seeds else {},
        seeds=len(seeds),
        diverged=len(seeds) - len(done),
        test_loss=tuple(float(x) for x in loss),
        test_loss_mean=float(lm),
        test_loss_low=float(ll),
        test_loss_high=float(lh),
        test_acc_mean=float(am),
        test_acc_low=float(al),
        test_acc_high=float(ah),
        steps_to_target=float(np.median(steps)) if steps else math.inf,
        reached=sum(math.isfinite(s) for s in steps) / len(steps) if steps else 0.0,
    )


def _comparisons(
    results: dict[tuple[str, str], OptimizerResult],
    tasks: Sequence[str],
    optimizers: Sequence[str],
) -> tuple[Comparison, ...]:
    """Each optimizer against Adam on each task, Holm-corrected together."""
    raw = []
    for task in tasks:
        base = results.get((task, BASELINE))
        for opt in optimizers:
            if opt == BASELINE:
                continue
            r = results.get((task, opt))
            if base is None or r is None or len(base.test_loss) < 2 or len(r.test_loss) < 2:
                diff = (
                    math.nan
                    if base is None or r is None
                    else r.test_loss_mean - base.test_loss_mean
                )
                raw.append((task, opt, diff, math.nan, math.nan, math.nan))
                continue
            t, df, p = welch_test(np.array(r.test_loss), np.array(base.test_loss))
            raw.append((task, opt, r.test_loss_mean - base.test_loss_mean, t, df, p))
    adjusted = holm([row[5] for row in raw])
    out = []
    for (task, opt, diff, t, df, p), pa in zip(raw, adjusted, strict=True):
        if math.isnan(pa):
            outcome = "untested"
        elif pa <= ALPHA:
            outcome = "win" if diff < 0 else "loss"
        else:
            outcome = "tie"
        out.append(Comparison(task, opt, float(diff), float(t), float(df), float(p), pa, outcome))
    return tuple(out)


def _budget_curve(task: str, search: dict[str, list[float]]) -> BudgetCurve:
    every = [v for vs in search.values() for v in vs]
    finite = [v for v in every if math.isfinite(v)]
    lo = min(finite) if finite else math.nan
    hi = float(np.median(every)) if every else math.nan
    span = hi - lo if math.isfinite(hi) and hi > lo else 1.0
    curves = {}
    for opt, vs in search.items():
        norm = [min(max((v - lo) / span, 0.0), 1.0) if math.isfinite(v) else 1.0 for v in vs]
        curves[opt] = tuple(expected_best_of(norm, b) for b in range(1, len(norm) + 1))
    return BudgetCurve(task=task, lo=float(lo), hi=float(hi), curves=curves)


def analyse(
    data: BenchmarkData, names: dict[str, str] | None = None, not_run: Sequence[str] = ()
) -> BenchmarkNumbers:
    """Every statistic of the benchmark from its finished runs (see the module docstring).

    Args:
        data: the runs.
        names: catalog key -> display name (default: the keys).
        not_run: tasks of the full benchmark this run did not include (listed in the report).

    """
    seeds: dict[tuple[str, str], list[TrialRecord]] = {}
    search: dict[str, dict[str, list[float]]] = {t: {} for t in data.tasks}
    for r in data.records:
        if r.phase == "seed":
            seeds.setdefault((r.task, r.optimizer), []).append(r)
        elif r.phase == "search":
            val = r.val_loss if r.status == "done" else math.inf
            search.setdefault(r.task, {}).setdefault(r.optimizer, []).append(val)
    results = {
        key: _result(key[0], key[1], sorted(rs, key=lambda r: r.index)) for key, rs in seeds.items()
    }
    ordered = tuple(
        results[(t, o)] for t in data.tasks for o in data.optimizers if (t, o) in results
    )
    means = {
        o: {
            t: results[(t, o)].test_loss_mean if (t, o) in results else math.nan for t in data.tasks
        }
        for o in data.optimizers
    }
    return BenchmarkNumbers(
        tasks=tuple(data.tasks),
        optimizers=tuple(data.optimizers),
        names=dict(names or {o: o for o in data.optimizers}),
        budget=data.budget,
        seeds=data.seeds,
        results=ordered,
        comparisons=_comparisons(results, data.tasks, data.optimizers),
        profile=performance_profile(means),
        budget_curves=tuple(
            _budget_curve(t, {o: search[t][o] for o in data.optimizers if o in search.get(t, {})})
            for t in data.tasks
        ),
        not_run=tuple(not_run),
    )
