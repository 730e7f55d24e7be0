r"""Every optimizer of the catalog on every counterexample of the paper, with a regret-rate verdict.

:func:`family` runs each selected catalog optimizer that has a simulator rule on each problem of
:func:`default_problems`, in up to four settings, all with the paper's step sizes
:math:`\mathrm{lr}_t = \mathrm{lr}/\sqrt t`, from :math:`x_1 = 0`, in one :func:`run_batch` call:

- ``defaults, lr=0.5``: the class's default hyperparameters, except the base step size;
- ``defaults, own lr``: the class's defaults, its default ``lr`` included (skipped for SGD,
  Momentum and NAG, which have none);
- ``paper betas, lr=0.5`` and ``paper betas, own lr``: the same with the paper's
  :math:`\beta_1 = 0.9, \beta_2 = 0.99` (``betas``) or :math:`\beta_1 = 0.9` (``beta1`` only);
  skipped for optimizers without betas.

**Which lr.**  The catalog's default step sizes differ by 1000x (AdaDelta 1.0, Padam 0.1, Adam
1e-3), and the step size decides how far a run gets in T steps, so a single "default" setting
would compare step sizes, not update rules.  The paper does not state the base step size of its
synthetic experiment; the project uses lr = 0.5 there (Figure 1, the atlas), and so does the
first setting of every optimizer here (``lr`` argument).  Each optimizer's own default lr is the
second setting, so that a fix that only works at its own step size shows it.

**Problems** (:func:`default_problems`; see :mod:`beyondadam.sim.problems`):

- Theorem 1: ``theorem1(C)`` for C = 3, 5, 10, 20 (C > 2; the proof takes beta1 = 0 and
  beta2 = 1/(1 + C^2));
- Section 5: ``paper_online`` (1010 once every 101 steps, else -10) and ``paper_stochastic``
  (1010 with probability 0.01, else -10), the latter over ``seeds`` seeds;
- Theorem 2: ``periodic(C, 1, C)`` (C once every C steps, else -1; x* = -1) for C = 10 and 100;
  the theorem proves Adam fails on such a problem for any beta1 < sqrt(beta2) once C is large
  enough for those betas, and gives no single C, so we take two;
- Theorem 3: ``bernoulli(C, 1, (1 + delta) / (C + 1))`` (C with that probability, else -1; mean
  gradient delta, x* = -1) with C = 100, delta = 0.1, over ``seeds`` seeds.

**Verdict.**  :func:`beyondadam.sim.rates.classify` on the last decade of log-spaced checkpoints
(on the seed-mean of :math:`R_t/t` for the stochastic problems): *converges* (regret exponent
<= 0.75, or no positive regret), *fails* (>= 0.9), *undecided* otherwise.

Catalog entries without a simulator rule yet are listed in :attr:`FamilyResult.missing`
("no simulator rule yet") instead of failing the run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from beyondadam.optim import catalog
from beyondadam.sim._plot import Outputs, pyplot, write_markdown
from beyondadam.sim.engine import Config, check_horizon, log_checkpoints, run_batch
from beyondadam.sim.optimizers import OptimizerSpec
from beyondadam.sim.problems import Problem, bernoulli, paper_online, paper_stochastic, periodic
from beyondadam.sim.problems import theorem1 as theorem1_problem
from beyondadam.sim.rates import Verdict, classify
from beyondadam.sim.rules import RULES

PAPER_LR = 0.5
PAPER_BETAS = (0.9, 0.99)
THEOREM1_C = (3.0, 5.0, 10.0, 20.0)
THEOREM2_C = (10, 100)
THEOREM3 = (100.0, 0.1)  # (C, delta)
#: log-spaced checkpoints per run (about 30 in the last decade at T = 5e6).
CHECKPOINTS = 200
#: the settings, in table order.
SETTINGS = ("defaults, lr=0.5", "defaults, own lr", "paper betas, lr=0.5", "paper betas, own lr")
NO_RULE = "no simulator rule yet"


def default_problems() -> tuple[Problem, ...]:
    """The counterexamples of the module docstring, in table order."""
    c3, delta = THEOREM3
    return (
        *(theorem1_problem(c) for c in THEOREM1_C),
        paper_online(),
        paper_stochastic(),
        *(periodic(c, 1.0, c, name=f"theorem2(C={c})") for c in THEOREM2_C),
        bernoulli(c3, 1.0, (1 + delta) / (c3 + 1), name=f"theorem3(C={c3:g}, delta={delta:g})"),
    )


@dataclass(frozen=True)
class FamilyRow:
    """One (optimizer, setting, problem): its final iterate, average regret, exponent, verdict.

    ``x_final`` is x_T.  For a stochastic problem ``x_final`` and ``avg_regret`` are means over
    ``seeds`` runs and the verdict is drawn from the seed-mean curve.
    """

    optimizer: str
    setting: str
    problem: str
    hyperparameters: str
    seeds: int
    x_final: float
    x_star: float
    avg_regret: float
    exponent: float
    verdict: Verdict


@dataclass
class FamilyResult(Outputs):
    """The outcome of :func:`family`.

    ``rows`` in (optimizer, setting, problem) order; ``curves[i]`` is row i's R_t / t at
    ``steps``; ``missing`` names the catalog entries that have no simulator rule yet.
    """

    rows: list[FamilyRow]
    horizon: int
    steps: np.ndarray
    curves: np.ndarray
    problems: list[str]
    missing: list[str]
    seconds: float
    configs_run: int
    meta: dict[str, Any] = field(default_factory=dict)
    stem = "family"

    def row(self, optimizer: str, setting: str, problem: str) -> FamilyRow:
        """The row of (optimizer, setting, problem); ``KeyError`` if it was not run."""
        name = catalog.get(optimizer).name
        for r in self.rows:
            if (r.optimizer, r.setting, r.problem) == (name, setting, problem):
                return r
        raise KeyError((name, setting, problem))

    def to_frame(self):
        """Long DataFrame, one line per row (``verdict`` as its string)."""
        import pandas as pd

        frame = pd.DataFrame([r.__dict__ for r in self.rows])
        frame["verdict"] = frame["verdict"].astype(str)
        return frame.rename(columns={"x_final": "x_T", "x_star": "x*", "avg_regret": "R_T/T"})

    def verdict_table(self, setting: str):
        """Optimizers x problems: ``verdict (exponent)`` for one setting."""
        frame = self.to_frame()
        frame = frame[frame["setting"] == setting]
        cell = frame["verdict"] + " (" + frame["exponent"].map(_exponent_text) + ")"
        table = frame.assign(cell=cell).pivot(index="optimizer", columns="problem", values="cell")
        order = [n for n in dict.fromkeys(frame["optimizer"])]
        return table.reindex(index=order, columns=self.problems)

    def markdown(self) -> str:
        """The verdict tables of every setting, then the full table, as Markdown."""
        from beyondadam.sim._plot import markdown_table

        parts = [
            f"# Every optimizer on every counterexample (T = {self.horizon:,})\n",
            "Verdict of the regret-rate rule (beyondadam.sim.rates) and the regret exponent "
            "fitted over the last decade; lr_t = lr / sqrt(t), x_1 = 0.\n",
        ]
        for setting in self.meta.get("settings", SETTINGS):
            table = self.verdict_table(setting)
            if table.empty:
                continue
            parts.append(f"## {setting}\n")
            parts.append(markdown_table(table.reset_index()) + "\n")
        if self.missing:
            parts.append(f"{NO_RULE}: {', '.join(self.missing)}\n")
        parts.append("## All runs\n")
        frame = self.to_frame()
        for col in ("x_T", "R_T/T", "exponent"):
            frame[col] = frame[col].map(lambda v: f"{v:.4g}")
        parts.append(markdown_table(frame) + "\n")
        return "\n".join(parts)

    def plot(self):
        """Optimizers x problems, one panel per setting, coloured by verdict, exponent in cells."""
        from matplotlib.colors import ListedColormap

        plt = pyplot()
        settings = [s for s in self.meta.get("settings", SETTINGS) if self._has(s)]
        colours = {Verdict.CONVERGES: 0, Verdict.UNDECIDED: 1, Verdict.FAILS: 2}
        cmap = ListedColormap(["#4daf4a", "#ffd92f", "#e41a1c", "#d9d9d9"])
        names = list(dict.fromkeys(r.optimizer for r in self.rows))
        ncol = min(2, len(settings))
        nrow = -(-len(settings) // ncol)
        w = 1.0 + 0.75 * len(self.problems)
        h = 1.2 + 0.32 * len(names)
        fig, axes = plt.subplots(nrow, ncol, figsize=(w * ncol, h * nrow), squeeze=False)
        for ax, setting in zip(axes.flat, settings, strict=False):
            grid = np.full((len(names), len(self.problems)), 3)
            for r in self.rows:
                if r.setting != setting:
                    continue
                i, j = names.index(r.optimizer), self.problems.index(r.problem)
                grid[i, j] = colours[r.verdict]
                ax.text(j, i, _exponent_text(r.exponent), ha="center", va="center", fontsize=7)
            ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=3.5, aspect="auto")
            ax.set_xticks(range(len(self.problems)), self.problems, rotation=40, ha="right",
                          fontsize=7)  # fmt: skip
            ax.set_yticks(range(len(names)), names, fontsize=7)
            ax.set_title(setting, fontsize=9)
        for ax in axes.flat[len(settings) :]:
            ax.axis("off")
        from matplotlib.patches import Patch

        handles = [Patch(color=cmap(colours[v]), label=str(v)) for v in colours]
        handles.append(Patch(color=cmap(3), label="not applicable"))
        fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
        title = (
            f"Regret exponent (in each cell) and verdict, T = {self.horizon:,}, lr_t = lr/sqrt(t)"
        )
        if self.missing:
            title += f"\n{NO_RULE}: {', '.join(self.missing)}"
        fig.suptitle(title, fontsize=10)
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        return fig

    def _has(self, setting: str) -> bool:
        return any(r.setting == setting for r in self.rows)

    def extra_outputs(self, outdir: Path) -> list[Path]:
        """``family.md`` (written besides ``family.<fmt>`` and ``family.<csv|parquet>``)."""
        return [write_markdown(self.markdown(), outdir, "family")]


def _exponent_text(p: float) -> str:
    """Two decimals, no ``-0.00``; ``-`` where no exponent could be fitted."""
    if np.isnan(p):
        return "-"
    return f"{0.0 if abs(p) < 0.005 else p:.2f}"


def _settings(entry: catalog.Entry, lr: float) -> dict[str, dict[str, Any]]:
    """The kwargs of each applicable setting of ``entry``."""
    defaults = entry.defaults()
    own_lr = isinstance(defaults.get("lr"), float)
    paper: dict[str, Any] | None = None
    if "betas" in defaults:
        paper = {"betas": PAPER_BETAS}
    elif "beta1" in defaults:
        paper = {"beta1": PAPER_BETAS[0]}
    out: dict[str, dict[str, Any]] = {SETTINGS[0]: {"lr": lr}}
    if own_lr:
        out[SETTINGS[1]] = {}
    if paper is not None:
        out[SETTINGS[2]] = {"lr": lr, **paper}
        if own_lr:
            out[SETTINGS[3]] = dict(paper)
    return out


def select(optimizers: Sequence[str] | None) -> tuple[list[catalog.Entry], list[str]]:
    """(entries with a simulator rule, names of those without) among ``optimizers`` (any case).

    ``None`` selects the whole catalog; an unknown name raises ``ValueError``.
    """
    entries = list(catalog.ENTRIES) if optimizers is None else []
    for name in optimizers or ():
        entry = catalog.get(name)
        if entry not in entries:
            entries.append(entry)
    if not entries:
        raise ValueError("optimizers must name at least one optimizer")
    ready = [e for e in entries if e.sim in RULES]
    return ready, [e.name for e in entries if e.sim not in RULES]


def _label(entry: catalog.Entry, kwargs: dict[str, Any]) -> str:
    full = entry.validate(kwargs)
    keys = [k for k in ("lr", "betas", "beta1") if k in full]
    return ", ".join(f"{k}={full[k]!r}" for k in keys)


def family(
    optimizers: Sequence[str] | None = None,
    horizon: int = 5_000_000,
    *,
    problems: Sequence[Problem] | None = None,
    seeds: int = 3,
    lr: float = PAPER_LR,
    checkpoints: int = CHECKPOINTS,
    progress: bool = False,
) -> FamilyResult:
    """Run every selected optimizer on every problem in every setting (see the module docstring).

    Args:
        optimizers: catalog names (any case); ``None`` for the whole catalog.  Names without a
            simulator rule are listed in ``missing``, not run.
        horizon: steps T (the paper's 5,000,000 by default).
        problems: default :func:`default_problems`.
        seeds: runs of each stochastic problem (seeds 0 .. seeds - 1).
        lr: the common base step size of the ``lr=0.5`` settings.
        checkpoints: log-spaced checkpoints recorded per run (the rate needs >= 3 in the last
            decade).
        progress: a progress bar over steps.

    """
    horizon = check_horizon(horizon)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {seeds!r}")
    if not (isinstance(lr, int | float) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    entries, missing = select(optimizers)
    problems = list(default_problems() if problems is None else problems)
    if not problems:
        raise ValueError("problems must hold at least one Problem")
    ck = log_checkpoints(horizon, checkpoints)
    # Distinct configurations only: a setting may repeat another (AdamNC's paper beta1 is its
    # default), and each runs once.
    index: dict[tuple, int] = {}
    configs: list[Config] = []
    plan: list[tuple[str, str, str, str, Problem, list[int]]] = []
    for entry in entries:
        for setting, kwargs in _settings(entry, lr).items():
            spec = OptimizerSpec(entry.name, kwargs)
            key_opt = (entry.name, repr(sorted(spec.options().items())))
            for pr in problems:
                ids = []
                for seed in range(seeds) if pr.stochastic else (0,):
                    key = (key_opt, pr, seed)
                    if key not in index:
                        index[key] = len(configs)
                        configs.append(Config(spec, pr, "inverse_sqrt", seed, 0.0))
                    ids.append(index[key])
                plan.append((entry.name, setting, _label(entry, kwargs), pr.name, pr, ids))
    start = time.perf_counter()
    res = run_batch(configs, horizon, checkpoints=ck, progress=progress)
    curves = np.stack([res.avg_regret[ids].mean(axis=0) for *_, ids in plan])
    rates = classify(res.steps, curves)
    rows = [
        FamilyRow(name, setting, pname, label, len(ids), float(res.final_x[ids].mean()),
                  pr.optimum, rate.final_avg_regret, rate.exponent, rate.verdict)
        for (name, setting, label, pname, pr, ids), rate in zip(plan, rates, strict=True)
    ]  # fmt: skip
    meta = {"lr": lr, "seeds": seeds, "settings": SETTINGS, "wall": time.perf_counter() - start}
    return FamilyResult(rows, horizon, res.steps, curves, [p.name for p in problems], missing,
                        res.seconds, len(configs), meta)  # fmt: skip
