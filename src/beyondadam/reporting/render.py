"""Render ``report.md`` and a single self-contained ``report.html`` from ``results.json`` data.

The HTML page embeds every figure as a ``data:`` URI (PNG or SVG), carries its own CSS and
references no external URL, so it opens offline and can be mailed as one file. The atlas and
family figures are also drawn interactively (hover, click) by an inline script from data embedded
in the page (:mod:`beyondadam.reporting.interactive`); without JavaScript the PNGs remain.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from beyondadam.reporting.benchmark_report import STAGE_ID as BENCHMARK
from beyondadam.reporting.benchmark_report import section_html, section_markdown
from beyondadam.reporting.claims import (
    CLAIMS,
    HOLDS,
    NOT_RUN,
    NOT_SUPPORTED,
    Claim,
    ClaimOutcome,
    evaluate_claims,
)
from beyondadam.reporting.interactive import STYLE, family_data, figure_html, script_html
from beyondadam.reporting.numbers import FamilyNumbers
from beyondadam.reporting.results import FigureRecord, StageRecord, parse_stages, write_atomic
from beyondadam.reporting.tables import Table, numbers_table

__all__ = ["render_html", "render_markdown", "write_report"]

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_TITLE = 'Reproduction of "On the Convergence of Adam and Beyond" (Reddi, Kale, Kumar, ICLR 2018)'


def _fmt_seconds(s: Any) -> str:
    if s is None or not isinstance(s, (int, float)):
        return "—"
    if s < 90:
        return f"{s:.1f} s"
    if s < 5400:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def _config_text(config: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in config.items())


def _summary(outcomes: Sequence[tuple[Claim, ClaimOutcome]]) -> str:
    counts = {
        v: sum(1 for _, o in outcomes if o.verdict == v) for v in (HOLDS, NOT_SUPPORTED, NOT_RUN)
    }
    trimmed = sum(1 for _, o in outcomes if o.trimmed)
    text = (
        f"{len(outcomes)} claims: {counts[HOLDS]} hold, {counts[NOT_SUPPORTED]} not supported, "
        f"{counts[NOT_RUN]} not run."
    )
    if trimmed:
        text += (
            f" {trimmed} verdicts rest on a protocol trimmed against the paper profile "
            "(each says what was trimmed)."
        )
    return text


def _stage_rows(data: Mapping[str, Any]) -> list[tuple[str, StageRecord]]:
    return list(parse_stages(data).items())


def _tables(data: Mapping[str, Any]) -> list[tuple[str, StageRecord, Table]]:
    """Each done stage's per-optimizer table, in stage order."""
    out = []
    for sid, rec in _stage_rows(data):
        if rec.done and (table := numbers_table(rec.numbers)) is not None:
            out.append((sid, rec, table))
    return out


def _total_wall(data: Mapping[str, Any]) -> float | None:
    if isinstance(data.get("wall_s"), (int, float)):
        return float(data["wall_s"])
    times = [r.wall_s for _, r in _stage_rows(data) if r.wall_s is not None]
    return float(sum(times)) if times else None


def _env_rows(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    env = data.get("environment", {})
    rows = [(f"{k} version", str(v)) for k, v in env.get("versions", {}).items()]
    for key in (
        "cpu_model",
        "cpu_count",
        "cpus_usable",
        "memory_gib",
        "os",
        "torch_threads",
        "cuda_available",
        "cuda_device",
    ):
        if key in env:
            rows.append((key.replace("_", " "), str(env[key])))
    profile = data.get("profile", {})
    if profile:
        rows.append(("profile", str(profile.get("name"))))
    if "seeds" in data:
        rows.append(("seeds", ", ".join(str(s) for s in data["seeds"])))
    for key in ("started", "finished", "command"):
        if data.get(key):
            rows.append((key, str(data[key])))
    rows.append(("total wall time (sum of stages)", _fmt_seconds(_total_wall(data))))
    for i, inv in enumerate(data.get("invocations", []), 1):
        rows.append(
            (
                f"invocation {i}",
                f"{inv.get('started')}: {_fmt_seconds(inv.get('wall_s'))}, ran "
                f"{', '.join(inv.get('ran', [])) or 'nothing'}"
                + (f"; skipped {', '.join(inv['skipped'])}" if inv.get("skipped") else ""),
            )
        )
    return rows


# ---------------------------------------------------------------- Markdown


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(data: Mapping[str, Any], claims: Sequence[Claim] = CLAIMS) -> str:
    """Return the Markdown report (figures linked by relative path)."""
    profile = data.get("profile", {})
    outcomes = evaluate_claims(parse_stages(data), claims, profile)
    lines = [f"# {_TITLE}", ""]
    lines.append(f"Profile **{profile.get('name', '?')}**: {profile.get('description', '')}  ")
    lines.append(
        f"Total wall time: {_fmt_seconds(_total_wall(data))} (profile's expectation: "
        f"{profile.get('expected_wall_time', '?')}). {_summary(outcomes)}"
    )
    lines += ["", "## Claims", ""]
    lines.append("| # | Claim | Source | Criterion | Measured | Verdict |")
    lines.append("|---|---|---|---|---|---|")
    for i, (claim, out) in enumerate(outcomes, 1):
        cells = [
            str(i),
            claim.statement,
            claim.source,
            claim.criterion,
            out.measured,
            f"**{out.verdict}**"
            + (f" ({out.detail})" if out.detail else "")
            + (f" *Note: this verdict {out.trimmed}.*" if out.trimmed else ""),
        ]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    lines += ["", *section_markdown(data)]
    lines += ["", "## Stages", "", "| Stage | Status | Wall time | Notes |", "|---|---|---|---|"]
    for sid, rec in _stage_rows(data):
        notes = list(rec.notes)
        if rec.reason:
            notes.append(f"Reason: {rec.reason}")
        if rec.command:
            notes.append(f"To run it: `{rec.command}`")
        cells = [
            f"{rec.title or sid} (`{sid}`)",
            rec.status,
            _fmt_seconds(rec.wall_s),
            " ".join(notes),
        ]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    lines += ["", "## Numbers", ""]
    for sid, rec, table in _tables(data):
        lines += [f"### {rec.title or sid} (`{sid}`)", ""]
        lines.append("| " + " | ".join(_md_cell(c) for c in table.header) + " |")
        lines.append("|" + "---|" * len(table.header))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
        lines.append("")
    lines += ["", "## Figures", ""]
    for sid, rec in _stage_rows(data):
        for fig in rec.figures if sid != BENCHMARK else ():  # in its own section
            lines += [f"### {fig.title or sid}", "", f"![{fig.title}]({fig.path})", ""]
            if fig.caption:
                lines += [fig.caption, ""]
            if fig.paper:
                lines += [f"*In the paper:* {fig.paper}", ""]
            if fig.config:
                lines += [f"Configuration: `{_config_text(fig.config)}`", ""]
    lines += ["## Environment", "", "| | |", "|---|---|"]
    for k, v in _env_rows(data):
        lines.append(f"| {_md_cell(k)} | {_md_cell(v)} |")
    lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
color:#1d2430;background:#fff;line-height:1.45}
main{max-width:1200px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:1.55em;margin:.2em 0 .3em}h2{margin-top:1.8em;border-bottom:1px solid #d8dde5;
padding-bottom:.2em}h3{margin:.2em 0 .4em;font-size:1.05em}
.summary{font-size:1.05em;margin:.4em 0 1em}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border:1px solid #d8dde5;padding:6px 8px;vertical-align:top;text-align:left}
th{background:#f3f5f8}
td.id{white-space:nowrap;color:#59636e}
.verdict{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;white-space:nowrap}
.v-holds{background:#d9f2df;color:#14532d}.v-not-supported{background:#fde2cf;color:#7c2d12}
.v-not-run{background:#e5e7eb;color:#374151}
.detail{display:block;color:#59636e;font-size:.9em;margin-top:3px}
.trim{display:block;color:#7c4a03;font-size:.88em;margin-top:4px;border-left:3px solid #e0a030;
padding-left:6px}
.src{color:#59636e;font-size:.88em}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:18px}
figure{margin:0;border:1px solid #d8dde5;border-radius:6px;padding:12px;background:#fcfcfd}
figure.wide{grid-column:1/-1}
figure img{width:100%;height:auto;display:block;background:#fff}
figcaption{font-size:.9em;margin-top:8px}
.paper{border-left:3px solid #7a8aa0;padding-left:8px;margin-top:6px;color:#39424e}
code{font-size:.86em;background:#f3f5f8;padding:1px 4px;border-radius:3px;word-break:break-word}
.missing{color:#7c2d12}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _verdict_html(out: ClaimOutcome) -> str:
    cls = "v-" + out.verdict.replace(" ", "-")
    detail = f'<span class="detail">{_e(out.detail)}</span>' if out.detail else ""
    trim = f'<span class="trim">Note: this verdict {_e(out.trimmed)}.</span>' if out.trimmed else ""
    return f'<span class="verdict {cls}">{_e(out.verdict)}</span>{detail}{trim}'


def _is_wide(path: Path) -> bool:
    """Whether a PNG is more than twice as wide as high (read from its IHDR header)."""
    if path.suffix.lower() != ".png" or not path.is_file():
        return False
    with path.open("rb") as fh:
        head = fh.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return False
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return height > 0 and width > 2 * height


def _data_uri(path: Path) -> str | None:
    mime = _MIME.get(path.suffix.lower())
    if mime is None or not path.is_file():
        return None
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _interactive_data(out_dir: Path, rec: StageRecord, fig: FigureRecord) -> dict | None:
    """The data of the figure's interactive version, or None (a static figure)."""
    if isinstance(rec.numbers, FamilyNumbers) and rec.numbers.runs:
        return family_data(rec.numbers)
    if fig.interactive and (out_dir / fig.interactive).is_file():
        try:
            return json.loads((out_dir / fig.interactive).read_text())
        except ValueError:  # an unreadable side file leaves the static figure
            return None
    return None


def _figure_html(
    fig: FigureRecord, sid: str, out_dir: Path, live: dict | None = None, element_id: str = ""
) -> str:
    """One ``<figure>``: image (data URI), caption, paper's counterpart, config.

    With ``live`` (the data of :func:`_interactive_data`), the interactive version comes first
    and the image folds under "Static figure".
    """
    uri = _data_uri(out_dir / fig.path)
    if uri is None:
        img = f'<p class="missing">Figure file missing: {_e(fig.path)}</p>'
    else:
        img = f'<img src="{uri}" alt="{_e(fig.title or sid)}">'
    if live is not None:  # the PNG stays one click away (it carries the theory's overlays)
        img = (
            f"{figure_html(live, element_id)}<details><summary>Static figure "
            f"(as in report.md)</summary>{img}</details>"
        )
    caption = f"<div>{_e(fig.caption)}</div>" if fig.caption else ""
    paper = f'<div class="paper"><b>In the paper:</b> {_e(fig.paper)}</div>' if fig.paper else ""
    config = (
        f"<div>Configuration: <code>{_e(_config_text(fig.config))}</code></div>"
        if fig.config
        else ""
    )
    wide = ' class="wide"' if live is not None or _is_wide(out_dir / fig.path) else ""
    return (
        f"<figure{wide}><h3>{_e(fig.title or sid)}</h3>{img}"
        f"<figcaption>{caption}{paper}{config}</figcaption></figure>"
    )


def render_html(
    data: Mapping[str, Any], out_dir: str | os.PathLike[str], claims: Sequence[Claim] = CLAIMS
) -> str:
    """Return the self-contained HTML report; figure paths are resolved against ``out_dir``."""
    out_dir = Path(out_dir)
    profile = data.get("profile", {})
    outcomes = evaluate_claims(parse_stages(data), claims, profile)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(_TITLE)}</title>",
        f"<style>{_CSS}{STYLE}</style></head><body><main>",
        f"<h1>{_e(_TITLE)}</h1>",
        f'<p class="summary">Profile <b>{_e(profile.get("name", "?"))}</b>: '
        f"{_e(profile.get('description', ''))}<br>Total wall time: "
        f"{_e(_fmt_seconds(_total_wall(data)))} (profile's expectation: "
        f"{_e(profile.get('expected_wall_time', '?'))}). {_e(_summary(outcomes))}</p>",
        '<h2 id="claims">Claims</h2>',
        "<table><thead><tr><th>#</th><th>Claim</th><th>Criterion</th><th>Measured</th>"
        "<th>Verdict</th></tr></thead><tbody>",
    ]
    for i, (claim, out) in enumerate(outcomes, 1):
        parts.append(
            f'<tr id="claim-{_e(claim.id)}"><td class="id">{i}</td><td>{_e(claim.statement)}'
            f'<span class="detail src">{_e(claim.source)}</span></td>'
            f"<td>{_e(claim.criterion)}</td><td>{_e(out.measured)}</td>"
            f"<td>{_verdict_html(out)}</td></tr>"
        )
    parts.append("</tbody></table>")

    parts += section_html(data, lambda fig, sid: _figure_html(fig, sid, out_dir))
    parts.append('<h2 id="figures">Figures</h2><div class="figs">')
    interactive = 0
    for sid, rec in _stage_rows(data):
        if sid == BENCHMARK:  # in its own section
            continue
        for fig in rec.figures:
            live = _interactive_data(out_dir, rec, fig)
            if live is not None:
                interactive += 1
            parts.append(_figure_html(fig, sid, out_dir, live, f"ia-data-{interactive}"))
    parts.append("</div>")

    parts.append(
        '<h2 id="stages">Stages</h2><table><thead><tr><th>Stage</th><th>Status</th>'
        "<th>Wall time</th><th>Configuration and notes</th></tr></thead><tbody>"
    )
    for sid, rec in _stage_rows(data):
        notes = [f"<div>{_e(n)}</div>" for n in rec.notes]
        if rec.reason:
            notes.append(f"<div><b>Reason:</b> {_e(rec.reason)}</div>")
        if rec.command:
            notes.append(f"<div><b>To run it:</b> <code>{_e(rec.command)}</code></div>")
        if rec.config:
            notes.append(f"<div><code>{_e(_config_text(rec.config))}</code></div>")
        parts.append(
            f"<tr><td>{_e(rec.title or sid)}<span class='detail'>{_e(sid)}</span></td>"
            f"<td>{_e(rec.status)}</td><td>{_e(_fmt_seconds(rec.wall_s))}</td>"
            f"<td>{''.join(notes)}</td></tr>"
        )
    parts.append("</tbody></table>")

    parts.append('<h2 id="numbers">Numbers</h2>')
    for sid, rec, table in _tables(data):
        head = "".join(f"<th>{_e(c)}</th>" for c in table.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in table.rows
        )
        parts.append(
            f"<h3>{_e(rec.title or sid)} <span class='src'>{_e(sid)}</span></h3>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )
    parts.append('<h2 id="environment">Environment</h2><table><tbody>')
    for k, v in _env_rows(data):
        parts.append(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>")
    parts.append("</tbody></table>")
    parts.append(
        "<p class='src'>Verdicts are computed from the numbers in results.json; "
        "<code>beyondadam report DIR</code> re-renders this page from them.</p>"
    )
    if interactive:
        parts.append(script_html())
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write_report(
    data: Mapping[str, Any], out_dir: str | os.PathLike[str], claims: Sequence[Claim] = CLAIMS
) -> tuple[Path, Path]:
    """Write ``out_dir/report.md`` and ``out_dir/report.html``; return their paths."""
    out_dir = Path(out_dir)
    md = out_dir / "report.md"
    page = out_dir / "report.html"
    write_atomic(md, render_markdown(data, claims))
    write_atomic(page, render_html(data, out_dir, claims))
    return md, page
