"""The protocol with its files: :func:`run_protocol` runs it and writes its tables and figures.

The layer on top of :mod:`~beyondadam.experiments.protocol` (data) and
:mod:`~beyondadam.experiments.plots` (figures of that data): ``OUT/<stem>_grid.csv``,
``OUT/<stem>_summary.csv``, ``OUT/<stem>_protocol.json`` and, with ``plot``,
``OUT/<stem>_train_loss.png`` and ``.svg``, where ``<stem>`` is ``<task>-<tag>`` and the tag a
hash of the protocol's configuration (:attr:`ProtocolResult.stem`). The store keeps the runs of
every configuration swept into one folder, so the files are named by the configuration that
produced them: another configuration writes files of its own and never replaces these (the
configuration is spelled out in the JSON file).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from beyondadam.experiments.plots import plot_training_loss
from beyondadam.experiments.protocol import ProtocolResult, compute_protocol

__all__ = ["run_protocol", "write_protocol_files"]


def write_protocol_files(result: ProtocolResult, *, plot: bool = True) -> ProtocolResult:
    """Write ``result``'s tables, JSON summary and (with ``plot``) figures to its ``out_dir``.

    Returns ``result`` with :attr:`ProtocolResult.plots` set to the figures written.
    """
    out, stem = Path(result.out_dir), result.stem
    out.mkdir(parents=True, exist_ok=True)
    result.grid.to_csv(out / f"{stem}_grid.csv", index=False)
    result.summary.to_csv(out / f"{stem}_summary.csv", index=False)
    (out / f"{stem}_protocol.json").write_text(json.dumps(result.to_json(), indent=2))
    if plot:
        result.plots = [
            plot_training_loss(result, out / f"{stem}_train_loss.{e}") for e in ("png", "svg")
        ]
    return result


def run_protocol(task: str, *args: Any, plot: bool = True, **kwargs: Any) -> ProtocolResult:
    """The paper's protocol for ``task`` (:func:`.protocol.compute_protocol`, same arguments).

    Then its files are written to ``out_dir`` (:func:`write_protocol_files`); with ``plot`` the
    training-loss figure too, listed in the result's ``plots``.
    """
    return write_protocol_files(compute_protocol(task, *args, **kwargs), plot=plot)


# help() and IDEs show the protocol's own arguments (and ``plot``) instead of *args, **kwargs.
_sig = inspect.signature(compute_protocol)
run_protocol.__signature__ = _sig.replace(  # type: ignore[attr-defined]
    parameters=[
        *_sig.parameters.values(),
        inspect.Parameter("plot", inspect.Parameter.KEYWORD_ONLY, default=True, annotation="bool"),
    ]
)
