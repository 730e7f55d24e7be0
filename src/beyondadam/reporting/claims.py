"""The paper's claims, each checked from a run's stored numbers only.

A :class:`Claim` names the stages it reads; :func:`evaluate_claims` hands it those stages' stored
records (the ``stages`` mapping of ``results.json``) and gets back a :class:`ClaimOutcome`: the
measured value as text and a verdict in :data:`VERDICTS`. Nothing here runs an experiment, so a
report can be re-rendered (and a verdict re-derived) from ``results.json`` alone.

Numbers each stage stores under ``numbers`` (written by :mod:`beyondadam.reporting.collect`):

- ``figure1``: ``{"online": S, "stochastic": S}`` with ``S = {"T", "x_star", "optimizers":
  {"adam" | "amsgrad": {"x_T", "x_T_seeds", "avg_regret_T", "avg_regret_half"}}}``:
  ``x_T_seeds`` lists the final iterate of each seed (one for the online problem), ``x_T`` is
  their mean, ``avg_regret_T`` is R_T/T and ``avg_regret_half`` is R_t/t at the checkpoint
  closest to T/2 (both averaged over seeds).
- ``theorem1``: ``{"x_star", "cases": [{"C", "beta1", "beta2", "x_T_adam", "x_T_amsgrad"}]}``.
- ``mnist_logreg`` / ``mnist_mlp`` / ``cifarnet``: ``{"optimizers": {"adam" | "amsgrad":
  {"final_train_loss": [per seed], "final_test_loss": [...], "final_test_accuracy": [...]}},
  "n_test"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from beyondadam.reporting.stats import compare_lower, mean_band

__all__ = [
    "CLAIMS",
    "HOLDS",
    "NOT_RUN",
    "NOT_SUPPORTED",
    "VERDICTS",
    "Claim",
    "ClaimOutcome",
    "evaluate_claims",
]

HOLDS = "holds"
NOT_SUPPORTED = "not supported"
NOT_RUN = "not run"
VERDICTS = (HOLDS, NOT_SUPPORTED, NOT_RUN)

X_TOL = 0.1
"""How close x_T must be to a boundary point to count as having reached it."""
REGRET_FLOOR = 0.01
"""Average regret above which Adam's regret counts as bounded away from zero."""
REGRET_RATIO = 0.25
"""AMSGrad's R_T/T must be at most this fraction of Adam's to count as vanishing."""

Stages = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class ClaimOutcome:
    """The result of checking one claim against a run's numbers."""

    verdict: str
    """One of :data:`VERDICTS`."""
    measured: str
    """The measured values, as text."""
    detail: str = ""
    """Why (e.g. "difference inside the seed spread", or why a stage did not run)."""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def verdict_text(self) -> str:
        """The verdict with its detail in parentheses, e.g. ``not supported (…)``."""
        return f"{self.verdict} ({self.detail})" if self.detail else self.verdict


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
        missing = [s for s in self.stages if stages.get(s, {}).get("status") != "done"]
        if missing and (not self.any_stage or len(missing) == len(self.stages)):
            reasons = []
            for s in missing:
                rec = stages.get(s, {})
                why = rec.get("reason") or (
                    "not selected" if not rec else f"status {rec.get('status')}"
                )
                reasons.append(f"{s}: {why}")
            return ClaimOutcome(NOT_RUN, "—", "; ".join(reasons))
        done = {s: stages[s] for s in self.stages if stages.get(s, {}).get("status") == "done"}
        try:
            return self.check(done)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            return ClaimOutcome(NOT_RUN, "—", f"stored numbers incomplete: {exc!r}")


def _num(stage: Mapping[str, Any]) -> Mapping[str, Any]:
    return stage["numbers"]


def _fmt(x: float) -> str:
    return f"{x:+.4f}" if abs(x) < 1e4 else f"{x:+.3e}"


# ---------------------------------------------------------------- synthetic problems (Figure 1)


def _within(values: Sequence[float], target: float) -> int:
    return sum(1 for v in values if abs(float(v) - target) <= X_TOL)


def _x_split(setting: str) -> Callable[[Stages], ClaimOutcome]:
    def check(stages: Stages) -> ClaimOutcome:
        n = _num(stages["figure1"])[setting]
        opt = n["optimizers"]
        x_star = float(n.get("x_star", -1.0))
        targets = {"adam": 1.0, "amsgrad": x_star}
        parts, why = [], []
        for name, label in (("adam", "Adam"), ("amsgrad", "AMSGrad")):
            o = opt[name]
            seeds = [float(v) for v in o.get("x_T_seeds") or [o["x_T"]]]
            hit = _within(seeds, targets[name])
            if len(seeds) == 1:
                parts.append(f"{label} x_T = {_fmt(seeds[0])}")
            else:
                parts.append(
                    f"{label} x_T mean {_fmt(sum(seeds) / len(seeds))} (min {_fmt(min(seeds))}, "
                    f"max {_fmt(max(seeds))}; {hit} of {len(seeds)} seeds within {X_TOL} of "
                    f"{targets[name]:+g})"
                )
            if not 2 * hit > len(seeds):
                why.append(f"{label}'s x_T is not within {X_TOL} of {targets[name]:+g}")
        measured = f"T = {int(n['T']):,}: " + "; ".join(parts)
        if why:
            return ClaimOutcome(NOT_SUPPORTED, measured, "; ".join(why))
        return ClaimOutcome(HOLDS, measured)

    return check


def _regret_split(setting: str) -> Callable[[Stages], ClaimOutcome]:
    def check(stages: Stages) -> ClaimOutcome:
        n = _num(stages["figure1"])[setting]
        a, m = n["optimizers"]["adam"], n["optimizers"]["amsgrad"]
        ra, ra_half = float(a["avg_regret_T"]), float(a["avg_regret_half"])
        rm, rm_half = float(m["avg_regret_T"]), float(m["avg_regret_half"])
        measured = (
            f"R_T/T: Adam {ra:.4g} (at T/2: {ra_half:.4g}), "
            f"AMSGrad {rm:.4g} (at T/2: {rm_half:.4g})"
        )
        why = []
        if not (ra >= REGRET_FLOOR and ra >= 0.5 * ra_half):
            why.append("Adam's average regret is not bounded away from 0")
        if not (rm <= REGRET_RATIO * ra and rm < rm_half):
            why.append("AMSGrad's average regret is not vanishing")
        if why:
            return ClaimOutcome(NOT_SUPPORTED, measured, "; ".join(why))
        return ClaimOutcome(HOLDS, measured)

    return check


def _theorem1(stages: Stages) -> ClaimOutcome:
    n = _num(stages["theorem1"])
    cases = [c for c in n["cases"] if float(c["C"]) > 2]
    if not cases:
        return ClaimOutcome(NOT_RUN, "—", "no case with C > 2 was stored")
    parts, failed = [], []
    for c in cases:
        xa = float(c["x_T_adam"])
        text = f"C={float(c['C']):g}: Adam x_T = {_fmt(xa)}"
        if c.get("x_T_amsgrad") is not None:
            text += f", AMSGrad x_T = {_fmt(float(c['x_T_amsgrad']))}"
        parts.append(text)
        if abs(xa - 1.0) > X_TOL:
            failed.append(f"C={float(c['C']):g}")
    measured = "; ".join(parts)
    if failed:
        return ClaimOutcome(
            NOT_SUPPORTED, measured, "Adam's x_T not at +1 for " + ", ".join(failed)
        )
    return ClaimOutcome(HOLDS, measured)


# ---------------------------------------------------------------- training (Figure 2)

_TASK_NAMES = {
    "mnist_logreg": "MNIST logistic regression",
    "mnist_mlp": "MNIST 1-hidden-layer MLP",
    "cifarnet": "CIFARNET",
}
_METRICS = {
    "final_train_loss": ("training loss", True),
    "final_test_loss": ("test loss", True),
    "final_test_accuracy": ("test accuracy", False),
}


def _values(stage: Mapping[str, Any], opt: str, metric: str) -> Sequence[float]:
    vals = _num(stage)["optimizers"][opt][metric]
    if isinstance(vals, (int, float)):
        vals = [vals]
    vals = [float(v) for v in vals]
    if not vals:
        raise ValueError(f"no {metric} values for {opt}")
    return vals


def _compare(stage: Mapping[str, Any], metric: str) -> tuple[str, str, str]:
    """Compare AMSGrad with Adam on ``metric``: (outcome, measured text, detail)."""
    label, lower_is_better = _METRICS[metric]
    adam, ams = _values(stage, "adam", metric), _values(stage, "amsgrad", metric)
    if lower_is_better:
        cmp = compare_lower(ams, adam)
    else:
        cmp = compare_lower(adam, ams)
    measured = (
        f"final {label}: Adam {mean_band(adam).text()}, AMSGrad {mean_band(ams).text()}; "
        f"{'Adam − AMSGrad' if lower_is_better else 'AMSGrad − Adam'} {cmp.text()}"
    )
    outcome = {
        "below": "amsgrad better",
        "above": "adam better",
        "inside spread": "inside spread",
        "one seed": "one seed",
    }[cmp.outcome]
    return outcome, measured, cmp.outcome


def _amsgrad_lower(stage_id: str, metric: str) -> Callable[[Stages], ClaimOutcome]:
    def check(stages: Stages) -> ClaimOutcome:
        stage = stages[stage_id]
        outcome, measured, _ = _compare(stage, metric)
        n_test = _num(stage).get("n_test")
        if metric != "final_train_loss" and n_test:
            measured += f" (test set: {int(n_test):,} images)"
        if outcome == "amsgrad better":
            return ClaimOutcome(HOLDS, measured)
        detail = {
            "inside spread": "difference inside the seed spread",
            "adam better": "Adam's is lower, beyond the seed spread",
            "one seed": "a single seed cannot separate the difference from the seed spread",
        }[outcome]
        return ClaimOutcome(NOT_SUPPORTED, measured, detail)

    return check


def _not_in_general(stages: Stages) -> ClaimOutcome:
    counts = {"amsgrad better": [], "inside spread": [], "adam better": [], "one seed": []}
    for sid, stage in stages.items():
        for metric, (label, _) in _METRICS.items():
            if metric not in _num(stage)["optimizers"]["adam"]:
                continue
            outcome, _, _ = _compare(stage, metric)
            counts[outcome].append(f"{_TASK_NAMES.get(sid, sid)} {label}")
    total = sum(len(v) for v in counts.values())
    if total == 0:
        return ClaimOutcome(NOT_RUN, "—", "no comparable metric stored")
    ties = counts["inside spread"] + counts["one seed"]
    measured = (
        f"of {total} comparisons (tasks × final train loss, test loss, test accuracy): AMSGrad "
        f"better beyond the seed spread in {len(counts['amsgrad better'])}, inside the spread in "
        f"{len(ties)}, Adam better beyond the spread in {len(counts['adam better'])}"
    )
    for label, items in (("inside the spread", ties), ("Adam better", counts["adam better"])):
        if items:
            measured += f"; {label}: " + ", ".join(items)
    if len(counts["amsgrad better"]) == total:
        return ClaimOutcome(
            NOT_SUPPORTED, measured, "AMSGrad was better on every comparison of this run"
        )
    return ClaimOutcome(HOLDS, measured, "on this run's tasks only")


# ---------------------------------------------------------------- the list

CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="online-x",
        source="Figure 1 (center), Section 5",
        statement=(
            "On the online problem (g_t = 1010 if t mod 101 = 1, else −10; F = [−1, 1]; x* = −1), "
            "Adam's iterate x_t tends to +1 while AMSGrad's tends to the optimum −1."
        ),
        criterion=f"|x_T(Adam) − 1| ≤ {X_TOL} and |x_T(AMSGrad) − x*| ≤ {X_TOL}",
        stages=("figure1",),
        check=_x_split("online"),
    ),
    Claim(
        id="online-regret",
        source="Figure 1 (left), Section 5",
        statement=(
            "On the online problem, Adam's average regret R_T/T stays bounded away from 0 while "
            "AMSGrad's vanishes."
        ),
        criterion=(
            f"Adam: R_T/T ≥ {REGRET_FLOOR} and ≥ half its value at T/2; AMSGrad: R_T/T ≤ "
            f"{REGRET_RATIO} × Adam's and below its value at T/2"
        ),
        stages=("figure1",),
        check=_regret_split("online"),
    ),
    Claim(
        id="stochastic-x",
        source="Figure 1 (right), Section 5",
        statement=(
            "On the stochastic problem (g = 1010 with probability 0.01, else −10), Adam's x_t "
            "tends to +1 while AMSGrad's tends to −1."
        ),
        criterion=(
            f"in a majority of seeds: |x_T(Adam) − 1| ≤ {X_TOL}, and in a majority of seeds: "
            f"|x_T(AMSGrad) − x*| ≤ {X_TOL}"
        ),
        stages=("figure1",),
        check=_x_split("stochastic"),
    ),
    Claim(
        id="stochastic-regret",
        source="Section 5 (stochastic setting)",
        statement=(
            "On the stochastic problem, Adam's average regret stays bounded away from 0 while "
            "AMSGrad's vanishes."
        ),
        criterion=(
            f"R_T/T averaged over seeds; Adam: R_T/T ≥ {REGRET_FLOOR} and ≥ half its value at "
            f"T/2; AMSGrad: R_T/T ≤ {REGRET_RATIO} × Adam's and below its value at T/2"
        ),
        stages=("figure1",),
        check=_regret_split("stochastic"),
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
        check=_theorem1,
    ),
    Claim(
        id="mnist-logreg-train",
        source="Figure 2 (top), Section 5",
        statement="On MNIST logistic regression, AMSGrad's training loss is below Adam's.",
        criterion=(
            "95% Welch interval of mean final training loss (Adam − AMSGrad) over seeds lies "
            "entirely above 0"
        ),
        stages=("mnist_logreg",),
        check=_amsgrad_lower("mnist_logreg", "final_train_loss"),
    ),
    Claim(
        id="mnist-mlp-train",
        source="Figure 2 (top right), Section 5",
        statement="On the MNIST 1-hidden-layer feedforward network, AMSGrad's training loss is "
        "below Adam's.",
        criterion=(
            "95% Welch interval of mean final training loss (Adam − AMSGrad) over seeds lies "
            "entirely above 0"
        ),
        stages=("mnist_mlp",),
        check=_amsgrad_lower("mnist_mlp", "final_train_loss"),
    ),
    Claim(
        id="cifarnet-train",
        source="Figure 2 (bottom left), Section 5",
        statement="On CIFARNET (CIFAR-10), AMSGrad's training loss is below Adam's.",
        criterion=(
            "95% Welch interval of mean final training loss (Adam − AMSGrad) over seeds lies "
            "entirely above 0"
        ),
        stages=("cifarnet",),
        check=_amsgrad_lower("cifarnet", "final_train_loss"),
    ),
    Claim(
        id="cifarnet-test",
        source="Figure 2 (bottom right), Section 5",
        statement="On CIFARNET (CIFAR-10), AMSGrad's test loss is below Adam's.",
        criterion=(
            "95% Welch interval of mean final test loss (Adam − AMSGrad) over seeds lies "
            "entirely above 0"
        ),
        stages=("cifarnet",),
        check=_amsgrad_lower("cifarnet", "final_test_loss"),
    ),
    Claim(
        id="not-in-general",
        source="Later work (not a claim of the paper)",
        statement=(
            "Later empirical studies found that AMSGrad does not outperform Adam in general. "
            "Reported: what this run's own training comparisons say, nothing more."
        ),
        criterion=(
            "holds unless AMSGrad is better beyond the seed spread (95% Welch interval) on every "
            "final train loss, test loss and test accuracy comparison of the tasks run"
        ),
        stages=("mnist_logreg", "mnist_mlp", "cifarnet"),
        check=_not_in_general,
        any_stage=True,
    ),
)


def evaluate_claims(
    stages: Stages, claims: Sequence[Claim] = CLAIMS
) -> list[tuple[Claim, ClaimOutcome]]:
    """Evaluate every claim against ``stages`` (the ``stages`` mapping of ``results.json``)."""
    return [(claim, claim.evaluate(stages)) for claim in claims]
