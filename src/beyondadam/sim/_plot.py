"""Matplotlib helpers shared by the figure modules (Agg backend, PNG and SVG output)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

#: rows of a CSV table written at a time (a progress bar advances after each).
TABLE_CHUNK = 100_000


def pyplot():
    """Return ``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save(fig, outdir: Path, stem: str, formats: Iterable[str], close: bool = True) -> list[Path]:
    """Save ``fig`` as ``outdir/stem.<fmt>`` for each format and close it (unless ``close``)."""
    paths = []
    for fmt in formats:
        path = outdir / f"{stem}.{fmt}"
        fig.savefig(path, dpi=130, bbox_inches="tight")
        paths.append(path)
    if close:
        pyplot().close(fig)
    return paths


class Outputs:
    """A simulator result written as a figure ``<stem>.<fmt>`` and a table ``<stem>.<csv|...>``.

    A subclass sets ``stem`` and defines ``plot()`` (a matplotlib figure) and ``to_frame()``.
    """

    stem: ClassVar[str] = ""

    def plot(self) -> Any:
        """The figure."""
        raise NotImplementedError

    def to_frame(self) -> Any:
        """The data, one row per run or cell (a pandas DataFrame)."""
        raise NotImplementedError

    def extra_outputs(self, outdir: Path) -> list[Path]:
        """Files a subclass writes besides the figure and the table (none by default)."""
        return []

    def write(
        self,
        outdir: str | Path,
        formats: Sequence[str] = ("png", "svg"),
        data_format: str = "csv",
        *,
        progress: bool = False,
    ) -> list[Path]:
        """Write ``<stem>.<fmt>`` for each image format (no figure if none) and the table.

        ``progress``: a tqdm bar over drawing, each image and the table's rows (a 500 x 500
        atlas takes seconds for each).
        """
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        formats = list(formats)
        frame = self.to_frame()
        chunks = -(-len(frame) // TABLE_CHUNK) if data_format == "csv" else 1
        bar = None
        if progress:
            from tqdm.auto import tqdm

            total = bool(formats) + len(formats) + max(chunks, 1)
            bar = tqdm(total=total, desc=f"writing {self.stem}", unit="part")

        def done(what: str) -> None:
            if bar is not None:
                bar.set_postfix_str(what, refresh=False)
                bar.update(1)

        paths = []
        if formats:
            fig = self.plot()
            done("figure drawn")
            for fmt in formats:
                paths += save(fig, outdir, self.stem, [fmt], close=False)
                done(f"{self.stem}.{fmt}")
            pyplot().close(fig)
        paths.append(write_table(frame, outdir, self.stem, data_format, lambda: done("table")))
        paths += self.extra_outputs(outdir)
        if bar is not None:
            bar.close()
        return paths


def finish(fig, axes, legend_size: int) -> Any:
    """Grid and legend on every axis, tight layout; returns ``fig``."""
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=legend_size)
    fig.tight_layout()
    return fig


def write_table(
    frame, outdir: Path, stem: str, data_format: str, tick: Callable[[], None] | None = None
) -> Path:
    """Write a DataFrame as CSV or Parquet; ``tick()`` after each chunk of rows written.

    CSV is written :data:`TABLE_CHUNK` rows at a time (the same text as one ``to_csv``).
    """
    if data_format == "csv":
        path = outdir / f"{stem}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            for start in range(0, max(len(frame), 1), TABLE_CHUNK):
                frame.iloc[start : start + TABLE_CHUNK].to_csv(f, index=False, header=start == 0)
                if tick is not None:
                    tick()
    elif data_format == "parquet":
        path = outdir / f"{stem}.parquet"
        frame.to_parquet(path, index=False)
        if tick is not None:
            tick()
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
