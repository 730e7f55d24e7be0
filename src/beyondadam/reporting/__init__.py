"""The reproduction of the paper and its report, claim by claim.

``beyondadam reproduce`` (:func:`reproduce`) runs the stages of :data:`STAGES` in order (Figure 1,
the Theorem 1 example, an atlas, every optimizer on the counterexamples (``family``), MNIST
logistic regression and MLP, CIFARNET; a training stage's
id is its task's id, e.g. ``mnist-logreg``) for the profile's optimizers with a
:class:`Profile` (:data:`QUICK` or :data:`PAPER`), stores every number in ``OUT/results.json``,
and writes ``OUT/report.md`` and a self-contained ``OUT/report.html``. ``beyondadam report OUT``
(:func:`rerender`) re-renders both from ``results.json`` alone.

Modules:

- :mod:`~beyondadam.reporting.claims`: the paper's claims; verdicts from stored numbers only
  (:mod:`~beyondadam.reporting.checks`: how each is checked).
- :mod:`~beyondadam.reporting.numbers`: each stage's numbers, as frozen dataclasses with
  ``to_json``/``from_json``; :mod:`~beyondadam.reporting.results`: ``results.json`` and its
  stage records.
- :mod:`~beyondadam.reporting.stats`: t quantiles, 95% bands, Welch intervals (numpy only).
- :mod:`~beyondadam.reporting.render`: Markdown and HTML rendering.
- :mod:`~beyondadam.reporting.environment`: versions, CPU, OS.
- :mod:`~beyondadam.reporting.profiles`: the profiles, as dataclasses.
- :mod:`~beyondadam.reporting.pipeline`: stage orchestration, resume;
  :mod:`~beyondadam.reporting.preflight`: every check before work (output directory, catalog,
  Dask scheduler, data checksums); :mod:`~beyondadam.reporting.stage`: what a stage is and
  receives.
- :mod:`~beyondadam.reporting.rate_checks`: the claims read from regret-rate verdicts (atlas,
  family).
- :mod:`~beyondadam.reporting.trims`: what a run trimmed against the paper profile, noted on
  every verdict that rests on it.
- :mod:`~beyondadam.reporting.collect` (Figure 1, Theorem 1, atlas, family through
  :mod:`beyondadam.sim`)
  and :mod:`~beyondadam.reporting.training` (the training tasks through
  :mod:`beyondadam.experiments`): the stages; :mod:`~beyondadam.reporting.datasets`: whether their
  data is there, as the experiments' loaders say.
- :mod:`~beyondadam.reporting.figures`: the test-loss figure of a training stage.
- The family benchmark ("Does anything beat Adam?", the ``benchmark`` stage, run by the
  ``family`` profile and ``beyondadam benchmark``): :mod:`~beyondadam.reporting.benchmark_stats`
  (Welch + Holm, performance profile, best-of-b; typed numbers),
  :mod:`~beyondadam.reporting.benchmark_tables`, :mod:`~beyondadam.reporting.benchmark_figures`,
  :mod:`~beyondadam.reporting.benchmark_report` (the report section) and
  :mod:`~beyondadam.reporting.benchmark_stage`; :mod:`~beyondadam.reporting.records`: the JSON
  round trip of every stage's numbers.
- :mod:`~beyondadam.reporting.browser`: open a report in headless Chromium and check it.
- :mod:`~beyondadam.reporting.sample`: made-up results for tests and demos.
"""

from __future__ import annotations

from beyondadam.reporting.claims import CLAIMS, Claim, ClaimOutcome, evaluate_claims
from beyondadam.reporting.pipeline import STAGES, ReproduceError, Stage, reproduce, rerender
from beyondadam.reporting.profiles import FAMILY, PAPER, PROFILES, QUICK, Profile, get_profile
from beyondadam.reporting.render import render_html, render_markdown, write_report

__all__ = [
    "CLAIMS",
    "FAMILY",
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
