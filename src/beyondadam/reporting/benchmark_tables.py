"""The benchmark's tables: win/tie/loss against Adam, and each optimizer's intervals per task.

Plain text cells (:class:`~beyondadam.reporting.tables.Table`) so the report renders them in
Markdown and HTML and ``beyondadam benchmark`` writes them as CSV and Markdown.
"""

from __future__ import annotations

import math

from beyondadam.reporting.benchmark_stats import BASELINE, BenchmarkNumbers, OptimizerResult
from beyondadam.reporting.tables import Table

__all__ = [
    "markdown_table",
    "markdown_tables",
    "outcome_table",
    "results_table",
    "summary_lines",
    "tables",
]

_MARK = {"win": "WIN", "loss": "LOSS", "tie": "tie", "untested": "untested"}


def _g(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:.4g}"


def _interval(mean: float, low: float, high: float, n: int) -> str:
    if not math.isfinite(mean):
        return "—"
    if n < 2:
        return f"{mean:.4g} (1 seed, no interval)"
    return f"{mean:.4g} [{low:.4g}, {high:.4g}]"


def outcome_table(n: BenchmarkNumbers) -> Table:
    """Optimizer rows, one column per task (outcome, difference, Holm p), then the tally."""
    header = ("optimizer", *n.tasks, "wins", "ties", "losses")
    rows = []
    for o in n.optimizers:
        if o == BASELINE:
            continue
        by_task = {c.task: c for c in n.comparisons if c.optimizer == o}
        cells = []
        for t in n.tasks:
            c = by_task.get(t)
            if c is None:
                cells.append("—")
            else:
                p = "" if math.isnan(c.p_holm) else f", p_Holm={c.p_holm:.2g}"
                cells.append(f"{_MARK[c.outcome]} (Δ={_g(c.diff)}{p})")
        tally = n.tally(o)
        ties = tally["tie"] + tally["untested"]
        rows.append((n.names.get(o, o), *cells, str(tally["win"]), str(ties), str(tally["loss"])))
    return Table(header, tuple(rows))


def _selected(r: OptimizerResult) -> str:
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.selected.items()
    )


def results_table(n: BenchmarkNumbers) -> Table:
    """One row per (task, optimizer): selected config, test loss/accuracy, time-to-target."""
    header = (
        "task",
        "optimizer",
        "selected",
        "final test loss (mean [95% CI])",
        "final test accuracy",
        "steps to target (median)",
        "seeds reaching target",
        "diverged seeds",
    )
    rows = []
    for r in n.results:
        steps = "never (median)" if math.isinf(r.steps_to_target) else f"{r.steps_to_target:,.0f}"
        rows.append(
            (
                r.task,
                n.names.get(r.optimizer, r.optimizer),
                _selected(r),
                _interval(r.test_loss_mean, r.test_loss_low, r.test_loss_high, len(r.test_loss)),
                _interval(r.test_acc_mean, r.test_acc_low, r.test_acc_high, len(r.test_loss)),
                steps,
                f"{r.reached:.0%}",
                f"{r.diverged} of {r.seeds}",
            )
        )
    return Table(header, tuple(rows))


def tables(n: BenchmarkNumbers) -> dict[str, Table]:
    """File stem -> table (``benchmark_outcomes``, ``benchmark_results``)."""
    return {"benchmark_outcomes": outcome_table(n), "benchmark_results": results_table(n)}


def markdown_table(table: Table) -> list[str]:
    """A Markdown table's lines."""

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    return [
        "| " + " | ".join(cell(c) for c in table.header) + " |",
        "|" + "---|" * len(table.header),
        *("| " + " | ".join(cell(c) for c in row) + " |" for row in table.rows),
    ]


def summary_lines(n: BenchmarkNumbers) -> list[str]:
    """The short answer: who beats Adam where, and the stated test."""
    lines = [f"Test: {n.test}."]
    for t in n.tasks:
        cs = [c for c in n.comparisons if c.task == t]
        wins = [n.names.get(c.optimizer, c.optimizer) for c in cs if c.outcome == "win"]
        losses = sum(c.outcome == "loss" for c in cs)
        lines.append(
            f"{t}: beat Adam: {', '.join(wins) or 'none'}; worse than Adam: {losses}; "
            f"ties: {len(cs) - len(wins) - losses}"
        )
    majority = [n.names.get(o, o) for o in n.majority_winners()]
    lines.append(
        f"Optimizers that beat Adam on a majority of the {len(n.tasks)} tasks: "
        f"{', '.join(majority) or 'none'}."
    )
    if n.not_run:
        lines.append(f"Tasks of the catalog not in this benchmark: {', '.join(n.not_run)}.")
    return lines


def markdown_tables(n: BenchmarkNumbers) -> str:
    """The whole analysis as Markdown (summary, win/tie/loss, intervals)."""
    lines = ["# Does anything beat Adam?", "", *(f"- {s}" for s in summary_lines(n)), ""]
    lines += ["## Win/tie/loss against Adam (final test loss)", ""]
    lines += [*markdown_table(outcome_table(n)), ""]
    lines += ["## Final test loss, accuracy and time-to-target (95% intervals)", ""]
    lines += [*markdown_table(results_table(n)), ""]
    return "\n".join(lines)
