"""The interactive atlas and family figures of ``report.html``: their data and their HTML.

The stages store what an interactive figure needs next to its PNG (:func:`write_atlas_data`: one
JSON file with every cell's values and trajectory); the renderer embeds that JSON in the page with
a small hand-written script (``interactive.js``, canvas drawing, no library) that draws the grids,
shows a cell's values on hover and draws a clicked atlas cell's x_t and R_t/t. The family grid
needs no side file: its numbers are in ``results.json`` (:func:`family_data`).

Why no plotting library: Bokeh's standalone page adds about 1.3 MB of JavaScript (more than the
data of a 64 x 64 atlas) and carries CDN and documentation URLs in its bundle, which would end the
page's "no http(s) URL anywhere" check; the few hundred lines of canvas code here are enough for
heatmaps and two line plots, and they have no version to drift.

Compactness: arrays travel as base64 little-endian buffers; trajectories as float16 (3 significant
digits, enough to draw), the cells' values as float32 (the hover shows 4 digits).
"""

from __future__ import annotations

import base64
import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from beyondadam.reporting.numbers import FamilyNumbers

if TYPE_CHECKING:
    from beyondadam.sim.atlas import AtlasResult

__all__ = [
    "STYLE",
    "TRAJECTORY_POINTS",
    "VERDICT_CODES",
    "atlas_data",
    "decode_array",
    "encode_array",
    "family_data",
    "figure_html",
    "script_html",
    "write_atlas_data",
]

TRAJECTORY_POINTS = 40
"""Log-spaced steps of each atlas cell's trajectory (the rate checkpoints are added to them)."""
VERDICT_CODES = ("converges", "undecided", "fails")
"""Verdict of code 0, 1, 2 in the atlas data (the order of the static figure's colours)."""
_F16_MAX = float(np.finfo(np.float16).max)


def encode_array(a: np.ndarray, dtype: str) -> dict[str, Any]:
    """``{"dtype", "shape", "b64"}``: ``a`` as a little-endian ``dtype`` (f2, f4, i4, u1) buffer."""
    arr = np.asarray(a)
    if dtype == "f2":  # float16 overflows to inf above 65504: clip, keep NaN
        arr = np.clip(arr.astype(np.float64), -_F16_MAX, _F16_MAX)
    arr = np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "shape": list(arr.shape), "b64": base64.b64encode(arr).decode()}


def decode_array(obj: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`encode_array` (as float64 for the float types)."""
    raw = base64.b64decode(obj["b64"])
    arr = np.frombuffer(raw, dtype=np.dtype(obj["dtype"]).newbyteorder("<"))
    return arr.reshape(obj["shape"])


def atlas_data(res: AtlasResult) -> dict[str, Any]:
    """The interactive atlas's data from an atlas run with trajectories.

    Raises:
        ValueError: If ``res`` was run without ``trajectory_points``.

    """
    traj = res.trajectories
    if traj is None:
        raise ValueError("the atlas was run without trajectory_points: no trajectories to embed")
    from beyondadam.sim.engine import log_checkpoints

    # Only the log-spaced steps: the rate checkpoints crowd the last decade (12 more points,
    # +25% of the page's weight) and add nothing a reader sees at this scale.
    wanted = log_checkpoints(res.horizon, TRAJECTORY_POINTS)
    keep = np.isin(traj.steps, wanted)
    if not np.isin(wanted, traj.steps).all():  # recorded at other points: keep them all
        keep[:] = True
    code = {v: k for k, v in enumerate(VERDICT_CODES)}
    optimizers = []
    for name in res.final_x:
        verdicts = np.vectorize(code.__getitem__, otypes=[np.uint8])(res.verdict[name])
        optimizers.append(
            {
                "name": name,
                "cells": encode_array(traj.cells[name], "i4"),
                "x": encode_array(res.final_x[name], "f4"),
                "r": encode_array(res.avg_regret[name], "f4"),
                "p": encode_array(res.exponent[name], "f4"),
                "v": encode_array(verdicts, "u1"),
            }
        )
    return {
        "kind": "atlas",
        "problem": res.problem.name,
        "T": int(res.horizon),
        "beta1": [float(b) for b in res.beta1],
        "beta2": [float(b) for b in res.beta2],
        "steps": [int(s) for s in traj.steps[keep]],
        "optimizers": optimizers,
        "traj_x": encode_array(traj.x[:, keep], "f2"),
        "traj_r": encode_array(traj.avg_regret[:, keep], "f2"),
    }


def write_atlas_data(res: AtlasResult, path: str | os.PathLike[str]) -> Path:
    """Write :func:`atlas_data` as compact JSON to ``path``; return it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(atlas_data(res), separators=(",", ":")))
    return out


def _finite(v: float) -> float | None:
    """``v``, or None (JSON null: drawn as missing) when it is NaN or infinite."""
    return float(v) if np.isfinite(v) else None


def family_data(numbers: FamilyNumbers) -> dict[str, Any]:
    """The interactive family grid's data: one row per run, indices into the name lists."""
    names = list(dict.fromkeys(r.name for r in numbers.runs))
    settings, problems = list(numbers.settings), list(numbers.problems)
    runs = [
        [
            names.index(r.name),
            settings.index(r.setting),
            problems.index(r.problem),
            _finite(r.x_final),
            _finite(r.x_star),
            _finite(r.avg_regret),
            _finite(r.exponent),
            r.verdict,
            r.hyperparameters,
        ]
        for r in numbers.runs
        if r.setting in settings and r.problem in problems
    ]
    return {
        "kind": "family",
        "T": numbers.T,
        "optimizers": names,
        "settings": settings,
        "problems": problems,
        "runs": runs,
    }


def figure_html(data: dict[str, Any], element_id: str) -> str:
    """The figure's container and its data (``<script type="application/json">``)."""
    # "</" inside a script element would end it; JSON allows the escaped form.
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return (
        f'<div class="ia ia-{data["kind"]}" data-payload="{element_id}"></div>'
        f'<script type="application/json" id="{element_id}">{payload}</script>'
    )


@cache
def _script() -> str:
    return resources.files("beyondadam.reporting").joinpath("interactive.js").read_text("utf-8")


STYLE = """
.ia{position:relative;margin:6px 0}.ia-row{display:flex;flex-wrap:wrap;gap:10px}
.ia-panel{display:inline-block}.ia-title{font-weight:600;font-size:.9em;margin:6px 0 2px}
.ia-bar,.ia-hint,.ia-info{font-size:.88em;color:#39424e;margin:4px 0}
.ia canvas{background:#fff;border:1px solid #e3e7ed}
.ia-tip{position:absolute;display:none;white-space:pre;background:#1d2430;color:#fff;
font-size:12px;padding:6px 8px;border-radius:4px;pointer-events:none;z-index:5}
"""
"""CSS of the interactive figures (the renderer adds it to the page's style)."""


def script_html() -> str:
    """The ``<script>`` that draws every interactive figure of the page (include it once)."""
    return f"<script>{_script()}</script>"
