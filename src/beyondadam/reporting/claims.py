"""The paper's claims, each checked from a run's stored numbers only.

A :class:`Claim` names the stages it reads; :func:`evaluate_claims` hands it those stages' typed
records (:func:`beyondadam.reporting.results.parse_stages` of ``results.json``) and gets back a
:class:`~beyondadam.reporting.checks.ClaimOutcome`: the measured value as text and a verdict in
:data:`VERDICTS`. Nothing here runs an experiment, so a report can be re-rendered (and a verdict
re-derived) from ``results.json`` alone. The numbers each stage stores are the classes of
:mod:`beyondadam.reporting.numbers`; the checks are in :mod:`beyondadam.reporting.checks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from beyondadam.reporting.checks import (
    BASELINE,
    HOLDS,
    IN_GENERAL_SHARE,
    METRICS,
    NOT_RUN,
    NOT_SUPPORTED,
    REGRET_FLOOR,
    REGRET_RATIO,
    REMEDY,
    VERDICTS,
    X_TOL,
    ClaimOutcome,
    Stages,
    not_in_general,
    regret_split,
    remedy_lower,
    theorem1,
    x_split,
)
from beyondadam.reporting.rate_checks import (
    FAMILY_SETTING,
    adopt_every_beta2,
    amsgrad_where_theory,
    family_online,
)
from beyondadam.reporting.trims import trim_note

__all__ = [
    "BASELINE",
    "CLAIMS",
    "HOLDS",
    "NOT_RUN",
    "NOT_SUPPORTED",
    "REMEDY",
    "VERDICTS",
    "Claim",
    "ClaimOutcome",
    "evaluate_claims",
]


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and how a run checks it."""

    id: str
    source: str
    """Where the paper makes it (figure, theorem, section)."""
    statement: str
    criterion: str
    stages: tuple[str, ...]
    check: Callable[[Stages], ClaimOutcome]
    """Maps the records of :attr:`stages` (all of them done) to the outcome."""
    any_stage: bool = False
    """Evaluate as soon as one of :attr:`stages` is done (instead of all of them)."""

    def evaluate(self, stages: Stages) -> ClaimOutcome:
        """Check the claim; ``not run`` when a stage it needs did not complete."""
        done = {s: stages[s] for s in self.stages if s in stages and stages[s].done}
        missing = [s for s in self.stages if s not in done]
        if missing and (not self.any_stage or not done):
            reasons = []
            for s in missing:
                rec = stages.get(s)
                why = "not selected" if rec is None else rec.reason or f"status {rec.status}"
                reasons.append(f"{s}: {why}")
            return ClaimOutcome(NOT_RUN, "—", "; ".join(reasons))
        try:
            return self.check(done)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            return ClaimOutcome(NOT_RUN, "—", f"stored numbers incomplete: {exc!r}")


def _x_claim(cid: str, source: str, statement: str, setting: str) -> Claim:
    """A Figure 1 claim: Adam's x_T ends at +1, AMSGrad's at x* (in most seeds if several)."""
    each = "in a majority of seeds: " if setting == "stochastic" else ""
    joiner = ", and " if each else " and "
    criterion = f"{each}|x_T(Adam) − 1| ≤ {X_TOL}{joiner}{each}|x_T(AMSGrad) − x*| ≤ {X_TOL}"
    return Claim(cid, source, statement, criterion, ("figure1",), x_split(setting))


def _regret_claim(cid: str, source: str, statement: str, setting: str) -> Claim:
    """A Figure 1 claim: Adam's R_T/T stays away from 0 while AMSGrad's vanishes."""
    criterion = "R_T/T averaged over seeds; " if setting == "stochastic" else ""
    criterion += (
        f"Adam: R_T/T ≥ {REGRET_FLOOR} and ≥ half its value at T/2; AMSGrad: R_T/T ≤ "
        f"{REGRET_RATIO} × Adam's and below its value at T/2"
    )
    return Claim(cid, source, statement, criterion, ("figure1",), regret_split(setting))


def _training_claim(cid: str, source: str, statement: str, task: str, metric: str) -> Claim:
    """A Figure 2 claim: AMSGrad's final ``metric`` on ``task`` is below Adam's."""
    return Claim(
        id=cid,
        source=source,
        statement=statement,
        criterion=(
            f"95% Welch interval of mean final {METRICS[metric][0]} (Adam − AMSGrad) over seeds "
            "lies entirely above 0"
        ),
        stages=(task,),
        check=remedy_lower(task, metric),
    )


# ---------------------------------------------------------------- the list

CLAIMS: tuple[Claim, ...] = (
    _x_claim(
        "online-x",
        "Figure 1 (center), Section 5",
        "On the online problem (g_t = 1010 if t mod 101 = 1, else −10; F = [−1, 1]; x* = −1), "
        "Adam's iterate x_t tends to +1 while AMSGrad's tends to the optimum −1.",
        "online",
    ),
    _regret_claim(
        "online-regret",
        "Figure 1 (left), Section 5",
        "On the online problem, Adam's average regret R_T/T stays bounded away from 0 while "
        "AMSGrad's vanishes.",
        "online",
    ),
    _x_claim(
        "stochastic-x",
        "Figure 1 (right), Section 5",
        "On the stochastic problem (g = 1010 with probability 0.01, else −10), Adam's x_t "
        "tends to +1 while AMSGrad's tends to −1.",
        "stochastic",
    ),
    _regret_claim(
        "stochastic-regret",
        "Section 5 (stochastic setting)",
        "On the stochastic problem, Adam's average regret stays bounded away from 0 while "
        "AMSGrad's vanishes.",
        "stochastic",
    ),
    Claim(
        id="theorem1",
        source="Theorem 1, Section 3",
        statement=(
            "With β1 = 0 and β2 = 1/(1 + C²), Adam on f_t(x) = Cx (t mod 3 = 1), −x otherwise, "
            "over F = [−1, 1] with C > 2 ends at x = +1 although the optimum is −1."
        ),
        criterion=f"|x_T(Adam) − 1| ≤ {X_TOL} for every C > 2 of the sweep",
        stages=("theorem1",),
        check=theorem1,
    ),
    Claim(
        id="atlas-amsgrad",
        source="Theorem 4, Section 4; Corollary 1",
        statement=(
            "AMSGrad converges on the online problem wherever β1 < √β2 (the condition of its "
            "analysis), for every (β1, β2) of the atlas."
        ),
        criterion=(
            "no atlas cell with β1 < √β2 has the verdict 'fails' (regret exponent ≥ 0.9 over the "
            "last decade); 'undecided' cells (0.75 < exponent < 0.9) are counted and reported "
            "as too short a horizon, not as failures"
        ),
        stages=("atlas",),
        check=amsgrad_where_theory,
    ),
    Claim(
        id="atlas-adopt",
        source="Taniguchi et al. 2024, ADOPT (not a claim of this paper)",
        statement=(
            "ADOPT converges on the online counterexample for every β2 of the atlas "
            '("converges with any β2").'
        ),
        criterion="no atlas cell of ADOPT has the verdict 'fails' (regret exponent ≥ 0.9)",
        stages=("atlas",),
        check=adopt_every_beta2,
    ),
    Claim(
        id="family-online",
        source="Figure 1, Section 5; Theorem 4",
        statement=(
            "On the online problem, by the rate of its regret, Adam fails to converge and "
            "AMSGrad converges."
        ),
        criterion=(
            f"family stage, setting '{FAMILY_SETTING}' (β1 = 0.9, β2 = 0.99): verdict 'fails' "
            "for Adam (regret exponent ≥ 0.9 over the last decade) and 'converges' for AMSGrad "
            "(exponent ≤ 0.75)"
        ),
        stages=("family",),
        check=family_online,
    ),
    _training_claim(
        "mnist-logreg-train",
        "Figure 2 (top), Section 5",
        "On MNIST logistic regression, AMSGrad's training loss is below Adam's.",
        "mnist-logreg",
        "final_train_loss",
    ),
    _training_claim(
        "mnist-mlp-train",
        "Figure 2 (top right), Section 5",
        "On the MNIST 1-hidden-layer feedforward network, AMSGrad's training loss is below Adam's.",
        "mnist-mlp",
        "final_train_loss",
    ),
    _training_claim(
        "cifarnet-train",
        "Figure 2 (bottom left), Section 5",
        "On CIFARNET (CIFAR-10), AMSGrad's training loss is below Adam's.",
        "cifarnet",
        "final_train_loss",
    ),
    _training_claim(
        "cifarnet-test",
        "Figure 2 (bottom right), Section 5",
        "On CIFARNET (CIFAR-10), AMSGrad's test loss is below Adam's.",
        "cifarnet",
        "final_test_loss",
    ),
    Claim(
        id="not-in-general",
        source="Later work (not a claim of the paper)",
        statement=(
            "Later empirical studies found that AMSGrad does not outperform Adam in general. "
            "Judged from this run's family benchmark: an equal random-search budget per "
            "optimizer, selection by validation loss, then seeds of the selected configuration."
        ),
        criterion=(
            "stated before the run, read from the benchmark stage only: holds unless AMSGrad "
            "beats Adam in general, which means: its final test loss is significantly lower "
            "than Adam's (Welch t-test over the seeds, Holm's correction over all the "
            "benchmark's comparisons, family-wise α = 0.05) on at least "
            f"{IN_GENERAL_SHARE:.0%} of the tasks run and significantly higher on none; not "
            "supported if it does; not run when the benchmark did not run."
        ),
        stages=("benchmark",),
        check=not_in_general,
    ),
)


def evaluate_claims(
    stages: Stages,
    claims: Sequence[Claim] = CLAIMS,
    profile: Mapping[str, Any] | None = None,
) -> list[tuple[Claim, ClaimOutcome]]:
    """Evaluate every claim against ``stages`` (``results.parse_stages`` of ``results.json``).

    With the run's ``profile`` (``results.json``'s ``"profile"``), every verdict that rests on a
    stage run with fewer steps, seeds or grid values than the paper profile says so in
    :attr:`ClaimOutcome.trimmed`.
    """
    out = []
    for claim in claims:
        outcome = claim.evaluate(stages)
        if profile and outcome.verdict != NOT_RUN:
            used = [s for s in claim.stages if s in stages and stages[s].done]
            outcome = replace(outcome, trimmed=trim_note(profile, used))
        out.append((claim, outcome))
    return out
