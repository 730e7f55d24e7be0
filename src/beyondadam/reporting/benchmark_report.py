"""The report's section "Does anything beat Adam?", from the benchmark stage's record.

The section states the test and the claim's criterion, gives the win/tie/loss table and the
intervals table, shows the benchmark's figures and says what was not run here (tasks left out,
such as the GPU ones, or the whole benchmark when the profile has none). :mod:`render` calls it
with its own figure renderer so both formats show figures the same way as elsewhere.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from beyondadam.reporting.benchmark_stats import BenchmarkNumbers
from beyondadam.reporting.benchmark_tables import (
    markdown_table,
    outcome_table,
    results_table,
    summary_lines,
)
from beyondadam.reporting.results import FigureRecord, StageRecord, parse_stages
from beyondadam.reporting.tables import Table

__all__ = ["STAGE_ID", "TITLE", "benchmark_record", "section_html", "section_markdown"]

STAGE_ID = "benchmark"
TITLE = "Does anything beat Adam?"
_INTRO = (
    "Every optimizer gets the same random-search budget on each task (log-uniform learning "
    "rate around its own default, other hyperparameters at their defaults), the configuration "
    "with the lowest validation loss is selected, and that configuration is rerun with the same "
    "seeds for every optimizer; the final test losses of those seeds are compared with Adam's."
)


def benchmark_record(data: Mapping[str, Any]) -> StageRecord | None:
    """The benchmark stage's record, ``None`` when the run has none."""
    return parse_stages(data).get(STAGE_ID)


def _not_done(rec: StageRecord) -> str:
    text = f"The benchmark was not run here ({rec.status}): {rec.reason or 'no reason stored'}."
    if rec.command:
        text += f" To run it: `{rec.command}`."
    return text


def section_markdown(data: Mapping[str, Any]) -> list[str]:
    """The section's Markdown lines (empty when the run has no benchmark stage)."""
    rec = benchmark_record(data)
    if rec is None:
        return []
    lines = [f"## {TITLE}", ""]
    if not rec.done or not isinstance(rec.numbers, BenchmarkNumbers):
        return [*lines, _not_done(rec), ""]
    n = rec.numbers
    lines += [_INTRO, "", *(f"- {s}" for s in summary_lines(n)), ""]
    lines += ["### Win/tie/loss against Adam (final test loss)", ""]
    lines += [*markdown_table(outcome_table(n)), ""]
    lines += ["### Final test loss, accuracy and time-to-target (95% intervals)", ""]
    lines += [*markdown_table(results_table(n)), ""]
    for fig in rec.figures:
        lines += [f"### {fig.title}", "", f"![{fig.title}]({fig.path})", "", fig.caption, ""]
    return lines


def _html_table(table: Table) -> str:
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section_html(data: Mapping[str, Any], figure: Callable[[FigureRecord, str], str]) -> list[str]:
    """The section's HTML parts; ``figure(record, stage_id)`` renders one ``<figure>``."""
    rec = benchmark_record(data)
    if rec is None:
        return []
    e = html.escape
    parts = [f'<h2 id="benchmark">{e(TITLE)}</h2>']
    if not rec.done or not isinstance(rec.numbers, BenchmarkNumbers):
        return [*parts, f"<p>{e(_not_done(rec))}</p>"]
    n = rec.numbers
    parts.append(f"<p>{e(_INTRO)}</p>")
    parts.append("<ul>" + "".join(f"<li>{e(s)}</li>" for s in summary_lines(n)) + "</ul>")
    parts.append("<h3>Win/tie/loss against Adam (final test loss)</h3>")
    parts.append(_html_table(outcome_table(n)))
    parts.append("<h3>Final test loss, accuracy and time-to-target (95% intervals)</h3>")
    parts.append(_html_table(results_table(n)))
    parts.append('<div class="figs">')
    parts += [figure(fig, STAGE_ID) for fig in rec.figures]
    parts.append("</div>")
    return parts
