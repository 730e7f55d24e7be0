"""Matplotlib helpers shared by the figure modules (Agg backend, PNG and SVG output)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def pyplot():
    """Return ``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save(fig, outdir: Path, stem: str, formats: Iterable[str]) -> list[Path]:
    """Save ``fig`` as ``outdir/stem.<fmt>`` for each format and close it."""
    paths = []
    for fmt in formats:
        path = outdir / f"{stem}.{fmt}"
        fig.savefig(path, dpi=130, bbox_inches="tight")
        paths.append(path)
    pyplot().close(fig)
    return paths


def write_outputs(
    fig, frame, outdir: str | Path, stem: str, formats: Iterable[str], data_format: str
) -> list[Path]:
    """Create ``outdir``; save ``fig`` as ``stem.<fmt>`` and ``frame`` as ``stem.<csv|parquet>``.

    The one write step of every simulator result (figure, atlas, sweep, family); no figure is
    drawn when ``formats`` is empty (``fig`` may then be ``None``).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = save(fig, outdir, stem, formats) if fig is not None else []
    paths.append(write_table(frame, outdir, stem, data_format))
    return paths


def write_table(frame, outdir: Path, stem: str, data_format: str) -> Path:
    """Write a DataFrame as CSV or Parquet."""
    if data_format == "csv":
        path = outdir / f"{stem}.csv"
        frame.to_csv(path, index=False)
    elif data_format == "parquet":
        path = outdir / f"{stem}.parquet"
        frame.to_parquet(path, index=False)
    else:
        raise ValueError(f"data_format must be 'csv' or 'parquet', got {data_format!r}")
    return path


def markdown_table(frame) -> str:
    """A DataFrame as a GitHub Markdown table (cells as ``str``, ``|`` escaped)."""

    def cell(v) -> str:
        return str(v).replace("|", "\\|")

    cols = [cell(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def write_markdown(text: str, outdir: Path, stem: str) -> Path:
    """Write ``outdir/stem.md``."""
    path = outdir / f"{stem}.md"
    path.write_text(text, encoding="utf-8")
    return path
