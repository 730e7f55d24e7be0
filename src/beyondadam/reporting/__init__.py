"""The reproduction of the paper and its report, claim by claim.

``beyondadam reproduce`` (:func:`reproduce`) runs the stages of :data:`STAGES` in order (Figure 1,
the Theorem 1 example, an atlas, MNIST logistic regression and MLP, CIFARNET) with a
:class:`Profile` (:data:`QUICK` or :data:`PAPER`), stores every number in ``OUT/results.json``,
and writes ``OUT/report.md`` and a self-contained ``OUT/report.html``. ``beyondadam report OUT``
(:func:`rerender`) re-renders both from ``results.json`` alone.

Modules:

- :mod:`~beyondadam.reporting.claims`: the paper's claims; verdicts from stored numbers only.
- :mod:`~beyondadam.reporting.stats`: t quantiles, 95% bands, Welch intervals (numpy only).
- :mod:`~beyondadam.reporting.render`: Markdown and HTML rendering.
- :mod:`~beyondadam.reporting.environment`: versions, CPU, OS.
- :mod:`~beyondadam.reporting.profiles`: the profiles, as dataclasses.
- :mod:`~beyondadam.reporting.pipeline`: stage orchestration, resume, checks before work.
- :mod:`~beyondadam.reporting.collect`: the only module calling :mod:`beyondadam.sim` and
  :mod:`beyondadam.experiments`.
- :mod:`~beyondadam.reporting.browser`: open a report in headless Chromium and check it.
- :mod:`~beyondadam.reporting.sample`: made-up results for tests and demos.
"""

from __future__ import annotations

from beyondadam.reporting.claims import CLAIMS, Claim, ClaimOutcome, evaluate_claims
from beyondadam.reporting.pipeline import STAGES, ReproduceError, Stage, reproduce, rerender
from beyondadam.reporting.profiles import PAPER, PROFILES, QUICK, Profile, get_profile
from beyondadam.reporting.render import render_html, render_markdown, write_report

__all__ = [
    "CLAIMS",
    "PAPER",
    "PROFILES",
    "QUICK",
    "STAGES",
    "Claim",
    "ClaimOutcome",
    "Profile",
    "ReproduceError",
    "Stage",
    "evaluate_claims",
    "get_profile",
    "render_html",
    "render_markdown",
    "reproduce",
    "rerender",
    "write_report",
]
