"""Claims checked from regret-rate verdicts (the atlas and the family stage), not from x_T alone.

A verdict is :func:`beyondadam.sim.rates.classify`'s: the regret exponent p fitted over the last
decade of the run, *converges* when p <= 0.75 (or the regret is not positive), *fails* when
p >= 0.9, *undecided* between. An undecided cell is a run too short to tell (a slow start), so
the checks count it and say so, and never read it as a failure.
"""

from __future__ import annotations

from collections.abc import Mapping

from beyondadam.reporting.checks import (
    BASELINE,
    REMEDY,
    ClaimOutcome,
    Stages,
    typed_numbers,
    verdict_from,
)
from beyondadam.reporting.numbers import AtlasNumbers, AtlasOptimizer, FamilyNumbers

__all__ = [
    "FAMILY_PROBLEM",
    "FAMILY_SETTING",
    "FIX",
    "adopt_every_beta2",
    "amsgrad_where_theory",
    "family_online",
]

FIX = "adopt"
"""Catalog key of ADOPT, the fix that claims convergence for any beta2."""
FAMILY_SETTING = "paper betas, lr=0.5"
"""The family setting the paper's own claims are checked in (beta1 = 0.9, beta2 = 0.99)."""
FAMILY_PROBLEM = "paper_online"


def _counts(v: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v.get(k, 0)}" for k in ("converges", "fails", "undecided"))


def _undecided_note(n: AtlasNumbers, undecided: int) -> str:
    if not undecided:
        return ""
    cells = "cell" if undecided == 1 else "cells"
    return (
        f"{undecided} undecided {cells}: regret exponent between 0.75 and 0.9 at T = {n.T:,}, a "
        "horizon too short to tell (not failures)"
    )


def adopt_every_beta2(stages: Stages) -> ClaimOutcome:
    """ADOPT: no atlas cell 'fails'."""
    n = typed_numbers(stages["atlas"], AtlasNumbers)
    o: AtlasOptimizer = n.optimizers[FIX]
    fails = o.verdicts.get("fails", 0)
    measured = f"{o.name} at T = {n.T:,}, cells of {n.cells}: {_counts(o.verdicts)}"
    why = [f"{o.name} fails in {fails} of {n.cells} cells"] if fails else []
    out = verdict_from(measured, why)
    note = _undecided_note(n, o.verdicts.get("undecided", 0))
    if note and not why:
        return ClaimOutcome(out.verdict, out.measured, note)
    return out


def amsgrad_where_theory(stages: Stages) -> ClaimOutcome:
    """AMSGrad: no 'fails' cell where beta1 < sqrt(beta2); undecided cells counted, not failed."""
    n = typed_numbers(stages["atlas"], AtlasNumbers)
    o: AtlasOptimizer = n.optimizers[REMEDY]
    v, w = o.verdicts_where_beta1_lt_sqrt_beta2, o.wrong_side_verdicts
    measured = (
        f"{o.name} at T = {n.T:,}, cells with β1 < √β2 (of {n.cells_beta1_lt_sqrt_beta2}): "
        f"{_counts(v)}; of its {o.wrong_side_where_beta1_lt_sqrt_beta2} of them ending at "
        f"x_T > 0: {_counts(w)}"
    )
    fails = v.get("fails", 0)
    why = [f"{o.name} fails in {fails} cells with β1 < √β2"] if fails else []
    out = verdict_from(measured, why)
    note = _undecided_note(n, v.get("undecided", 0))
    if note and not why:
        return ClaimOutcome(out.verdict, out.measured, note)
    return out


def family_online(stages: Stages) -> ClaimOutcome:
    """Family stage: Adam fails and AMSGrad converges on the online problem (the paper's betas)."""
    n = typed_numbers(stages["family"], FamilyNumbers)
    expected = {BASELINE: "fails", REMEDY: "converges"}
    parts, why = [], []
    for key, want in expected.items():
        r = n.run(key, FAMILY_SETTING, FAMILY_PROBLEM)
        parts.append(
            f"{r.name} {r.verdict} (exponent {r.exponent:.2f}, R_T/T {r.avg_regret:.4g}, "
            f"x_T {r.x_final:+.4f})"
        )
        if r.verdict != want:
            why.append(f"{r.name} {r.verdict}, not {want}")
    return verdict_from(f"T = {n.T:,}, {FAMILY_SETTING}: " + "; ".join(parts), why)
