"""One table per stage: a row for every optimizer the run has, from the stage's typed numbers.

The renderer prints them under "Numbers", so a run with nine optimizers shows all nine even where
the paper's claims compare only Adam and AMSGrad.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from beyondadam.reporting.numbers import (
    TRAINING_RANGES,
    AtlasNumbers,
    FamilyNumbers,
    Figure1Numbers,
    StageNumbers,
    Theorem1Numbers,
    TrainingNumbers,
)
from beyondadam.reporting.stats import mean_band

__all__ = ["Table", "numbers_table"]


@dataclass(frozen=True)
class Table:
    """A header and rows of text cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _g(x: float) -> str:
    return f"{x:.4g}"


def _band(values: tuple[float, ...], bounds: tuple[float | None, float | None]) -> str:
    return mean_band(values, bounds=bounds).text() if values else "—"


def _figure1(n: Figure1Numbers) -> Table:
    on, st = n.online, n.stochastic
    header = (
        "optimizer",
        "online x_T",
        "online R_T/T",
        "stochastic x_T (mean)",
        "stochastic R_T/T",
    )
    rows = []
    for key, o in on.optimizers.items():
        s = st.optimizers[key]
        rows.append(
            (o.name, _g(o.x_final), _g(o.avg_regret_final), _g(s.x_final), _g(s.avg_regret_final))
        )
    return Table(header, tuple(rows))


def _theorem1(n: Theorem1Numbers) -> Table:
    header = ("optimizer", *(f"x_T at C={c:g}" for c in n.C))
    return Table(header, tuple((o.name, *map(_g, o.x_final)) for o in n.optimizers.values()))


def _verdict_cells(v: dict[str, int]) -> tuple[str, str, str]:
    return tuple(str(v.get(k, 0)) for k in ("converges", "fails", "undecided"))  # type: ignore[return-value]


def _atlas(n: AtlasNumbers) -> Table:
    region = f"β1 < √β2 (of {n.cells_beta1_lt_sqrt_beta2})"
    header = (
        "optimizer",
        f"converges (of {n.cells})",
        "fails",
        "undecided",
        f"converges, {region}",
        "fails there",
        "undecided there",
        f"cells with x_T > 0 (of {n.cells})",
        "x_T > 0 with β1 < √β2: converges / fails / undecided",
    )
    rows = tuple(
        (
            o.name,
            *_verdict_cells(o.verdicts),
            *_verdict_cells(o.verdicts_where_beta1_lt_sqrt_beta2),
            str(o.wrong_side),
            f"{o.wrong_side_where_beta1_lt_sqrt_beta2}: "
            + " / ".join(_verdict_cells(o.wrong_side_verdicts)),
        )
        for o in n.optimizers.values()
    )
    return Table(header, rows)


def _family(n: FamilyNumbers) -> Table:
    """Optimizer x setting rows, problem columns: ``verdict (exponent)``."""
    header = ("optimizer", "setting", *n.problems)
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for r in n.runs:
        exp = "—" if r.exponent != r.exponent else f"{r.exponent:.2f}"  # NaN: no fit
        cells.setdefault((r.name, r.setting), {})[r.problem] = f"{r.verdict} ({exp})"
    rows = tuple(
        (name, setting, *(row.get(p, "—") for p in n.problems))
        for (name, setting), row in cells.items()
    )
    return Table(header, rows)


def _beta2(selected: dict[str, Any]) -> str:
    """The selected beta2, or "—" for an optimizer that has none (SGD, AdaGrad, AdamNC, ...)."""
    betas = selected.get("betas")
    if isinstance(betas, (list, tuple)) and len(betas) == 2:
        return f"{betas[1]:g}"
    return "—"


def _other(selected: dict[str, Any]) -> str:
    """The selected settings other than lr and beta2 (beta1 of a (beta1, beta2) pair included)."""
    parts = []
    for k, v in selected.items():
        if k == "lr":
            continue
        if k == "betas" and isinstance(v, (list, tuple)) and len(v) == 2:
            parts.append(f"β1={v[0]:g}")
        else:
            parts.append(f"{k}={v}")
    return ", ".join(parts) or "—"


def _training(n: TrainingNumbers) -> Table:
    header = (
        "optimizer",
        "selected lr",
        "selected β2",
        "other settings",
        "final training loss",
        f"final test loss ({n.n_test:,} test images{'' if n.test_complete else ', a subset'})",
        "final test accuracy",
        "diverged seeds",
    )
    rows = tuple(
        (
            o.name,
            f"{o.selected['lr']:g}" if isinstance(o.selected.get("lr"), (int, float)) else "—",
            _beta2(o.selected),
            _other(o.selected),
            *(_band(getattr(o, metric), TRAINING_RANGES[metric]) for metric in TRAINING_RANGES),
            f"{o.diverged} of {len(o.seeds)}",
        )
        for o in n.optimizers.values()
    )
    return Table(header, rows)


_TABLES: dict[type, Callable[[Any], Table]] = {
    Figure1Numbers: _figure1,
    Theorem1Numbers: _theorem1,
    AtlasNumbers: _atlas,
    FamilyNumbers: _family,
    TrainingNumbers: _training,
}


def numbers_table(numbers: StageNumbers | None) -> Table | None:
    """The per-optimizer table of a stage's numbers (``None`` for a stage without numbers)."""
    fn = _TABLES.get(type(numbers))
    # the benchmark has its own section (reporting.benchmark_report), not a row per optimizer here
    return None if numbers is None or fn is None else fn(numbers)
