"""The synthetic stages (Figure 1, Theorem 1, the atlas), run through :mod:`beyondadam.sim`.

Each ``run_*`` function runs one stage with the profile's optimizers, lets the simulator write its
figures into ``ctx.stage_dir`` and returns a :class:`~beyondadam.reporting.results.StageRecord`
whose numbers are the typed classes of :mod:`beyondadam.reporting.numbers`. The training stages
are in :mod:`beyondadam.reporting.training`. The simulator is imported inside the functions only so
that importing the report does not compile or load it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from beyondadam.reporting.interactive import TRAJECTORY_POINTS, write_atlas_data
from beyondadam.reporting.numbers import (
    AtlasNumbers,
    AtlasOptimizer,
    FamilyNumbers,
    FamilyRun,
    Figure1Numbers,
    SettingNumbers,
    SimOptimizer,
    Theorem1Numbers,
    Theorem1Optimizer,
)
from beyondadam.reporting.results import StageRecord
from beyondadam.reporting.stage import StageContext, display_names, figure_records

ATLAS_DATA = "atlas_interactive.json"
"""The atlas stage's file for the report's interactive atlas (cells' values and trajectories)."""

__all__ = ["ATLAS_DATA", "atlas_note", "run_atlas", "run_family", "run_figure1", "run_theorem1"]


def _half_index(steps: np.ndarray) -> int:
    return int(np.argmin(np.abs(np.asarray(steps, dtype=float) - steps[-1] / 2)))


def _setting_numbers(res: Any, names: dict[str, str], n_seeds: int) -> SettingNumbers:
    """Numbers of one Figure 1 setting from a :class:`beyondadam.sim.Result` (optimizer-major)."""
    i_half = _half_index(res.steps)
    optimizers = {}
    for k, (key, name) in enumerate(names.items()):
        rows = slice(k * n_seeds, (k + 1) * n_seeds)
        xs = res.final_x[rows]
        optimizers[key] = SimOptimizer(
            name=name,
            label=res.configs[k * n_seeds].optimizer.label,
            x_final=float(np.mean(xs)),
            x_final_seeds=tuple(float(v) for v in xs),
            avg_regret_final=float(np.mean(res.final_avg_regret[rows])),
            avg_regret_half=float(np.mean(res.avg_regret[rows, i_half])),
        )
    return SettingNumbers(
        T=int(res.horizon),
        x_star=float(res.configs[0].problem.optimum),
        t_half=int(res.steps[i_half]),
        seeds=n_seeds,
        optimizers=optimizers,
    )


def run_figure1(ctx: StageContext) -> StageRecord:
    """Figure 1: the profile's optimizers on the online and stochastic problems of Section 5."""
    from beyondadam import sim

    p = ctx.profile
    names = display_names(p.optimizers)
    seeds = [p.seed + i for i in range(p.figure1_seeds)]
    config = {
        "steps": p.figure1_steps,
        "betas": [0.9, 0.99],
        "lr": f"{p.sim_lr} / sqrt(t)",
        "eps": 1e-8,
        "x0": 0.0,
        "stochastic seeds": seeds,
    }
    res = sim.figure1(
        tuple(names.values()), lr=p.sim_lr, betas=(0.9, 0.99), steps=p.figure1_steps, seeds=seeds
    )
    paths = res.write(ctx.stage_dir)
    numbers = Figure1Numbers(
        online=_setting_numbers(res.online, names, 1),
        stochastic=_setting_numbers(res.stochastic, names, len(seeds)),
    )
    figures = figure_records(
        ctx,
        paths,
        f"Figure 1: {' vs '.join(names.values())} on the synthetic problems",
        "Left: average regret R_t/t on the online problem; center: x_t on the online problem; "
        f"right: x_t on the stochastic problem (mean and min-max over {len(seeds)} seeds).",
        "Figure 1 (left, center): on the online problem Adam's R_t/t does not vanish and its "
        "x_t goes to +1, while AMSGrad's R_t/t goes to 0 and x_t to -1; (right) the same split "
        "for x_t on the stochastic problem.",
        config,
    )
    return StageRecord(status="done", config=config, numbers=numbers, figures=figures)


_THEOREM_BETA2 = "1/(1+C^2)"
"""The simulator's label of the theorem's beta2 = 1/(1 + C^2) curve."""


def run_theorem1(ctx: StageContext) -> StageRecord:
    """Theorem 1's example over several C, with beta1 = 0 and beta2 = 1/(1 + C^2)."""
    from beyondadam import sim

    p = ctx.profile
    names = display_names(p.optimizers)
    cs = [float(c) for c in p.theorem1_cs]
    config = {
        "C": cs,
        "beta1": 0.0,
        "beta2": _THEOREM_BETA2,
        "lr": f"{p.sim_lr} / sqrt(t)",
        "steps": p.theorem1_steps,
        "needed steps (sim.theorem1_horizon)": {
            f"{c:g}": int(sim.theorem1_horizon(c, p.sim_lr)) for c in cs
        },
    }
    res = sim.theorem1_sweep(
        cs,
        beta2=("theorem",),
        beta1=0.0,
        optimizers=tuple(names.values()),
        lr=p.sim_lr,
        horizon=p.theorem1_steps,
    )
    numbers = Theorem1Numbers(
        x_star=-1.0,
        T=p.theorem1_steps,
        beta1=0.0,
        C=tuple(cs),
        beta2=tuple(1.0 / (1.0 + c * c) for c in cs),
        optimizers={
            key: Theorem1Optimizer(
                name=name,
                x_final=tuple(float(v) for v in res.final_x[(name, _THEOREM_BETA2)]),
                avg_regret=tuple(float(v) for v in res.avg_regret[(name, _THEOREM_BETA2)]),
            )
            for key, name in names.items()
        },
    )
    paths = res.write(ctx.stage_dir)
    figures = figure_records(
        ctx,
        paths,
        "Theorem 1 example: final iterate and average regret against C",
        f"f_t(x) = Cx when t mod 3 = 1, else -x, on [-1, 1]; T = {p.theorem1_steps:,}.",
        "Theorem 1 (no figure in the paper): with beta1 = 0 and beta2 = 1/(1+C^2), Adam "
        "converges to x = +1 for every C > 2 while the optimum is x = -1.",
        {k: v for k, v in config.items() if not k.startswith("needed")},
    )
    return StageRecord(status="done", config=config, numbers=numbers, figures=figures)


def run_atlas(ctx: StageContext) -> StageRecord:
    """Each atlas optimizer over a (beta1, beta2) grid on the online problem: x_T and its rate."""
    from beyondadam import sim

    p = ctx.profile
    names = display_names(p.atlas_optimizers)
    config = {
        "problem": "paper_online",
        "optimizers": list(names.values()),
        "grid": f"{p.atlas_grid} x {p.atlas_grid}, log-spaced in [0, 0.9999]",
        "steps": p.atlas_steps,
        "lr": f"{p.sim_lr} / sqrt(t)",
        "verdict": "regret exponent p over the last decade: converges if p <= 0.75, fails if "
        "p >= 0.9, undecided between (beyondadam.sim.rates)",
    }
    res = sim.atlas(
        "paper_online",
        tuple(names.values()),
        grid=p.atlas_grid,
        spacing="log",
        horizon=p.atlas_steps,
        lr=p.sim_lr,
        trajectory_points=TRAJECTORY_POINTS,
    )
    b1, b2 = np.meshgrid(res.beta1, res.beta2, indexing="ij")
    cond = b1 < np.sqrt(b2)
    optimizers = {}
    for key, name in names.items():
        wrong = res.final_x[name] > 0
        optimizers[key] = AtlasOptimizer(
            name,
            int(wrong.sum()),
            int((wrong & cond).sum()),
            verdicts=res.verdict_counts(name),
            verdicts_where_beta1_lt_sqrt_beta2=res.verdict_counts(name, cond),
            wrong_side_verdicts=res.verdict_counts(name, wrong & cond),
        )
    numbers = AtlasNumbers(int(b1.size), int(cond.sum()), optimizers, T=p.atlas_steps)
    notes = tuple(atlas_note(o, numbers) for o in optimizers.values())
    paths = res.write(ctx.stage_dir)
    live = write_atlas_data(res, ctx.stage_dir / ATLAS_DATA).relative_to(ctx.out_dir).as_posix()
    figures = figure_records(
        ctx,
        paths,
        "Convergence atlas over (beta1, beta2) on the online problem",
        " ".join(notes),
        "No atlas in the paper; Theorems 2 and 3 state that Adam fails on some problem for "
        "every beta1 < sqrt(beta2) (the dashed curve).",
        config,
    )
    figures = tuple(replace(f, interactive=live) for f in figures)
    return StageRecord(status="done", config=config, numbers=numbers, figures=figures, notes=notes)


def atlas_note(o: AtlasOptimizer, n: AtlasNumbers) -> str:
    """One sentence: an optimizer's verdicts over the atlas and what its wrong-side cells are."""
    v, w = o.verdicts, o.wrong_side_verdicts
    text = (
        f"{o.name} at T = {n.T:,}: converges in {v.get('converges', 0)}, fails in "
        f"{v.get('fails', 0)}, undecided in {v.get('undecided', 0)} of {n.cells} cells"
    )
    if o.wrong_side_where_beta1_lt_sqrt_beta2:
        text += (
            f"; of its {o.wrong_side_where_beta1_lt_sqrt_beta2} cells ending at x_T > 0 with "
            f"beta1 < sqrt(beta2), the rate says {w.get('converges', 0)} converge, "
            f"{w.get('undecided', 0)} are undecided (a slow start: the horizon is too short to "
            f"tell) and {w.get('fails', 0)} fail"
        )
    return text + "."


def run_family(ctx: StageContext) -> StageRecord:
    """Every catalog optimizer on the counterexamples, with its regret-rate verdict."""
    from beyondadam.optim import catalog
    from beyondadam.sim.family import PAPER_BETAS, SETTINGS, default_problems, family

    p = ctx.profile
    problems = default_problems()
    if p.family_problems:
        known = {pr.name: pr for pr in problems}
        unknown = [n for n in p.family_problems if n not in known]
        if unknown:
            raise ValueError(f"family_problems: unknown {unknown}; known: {sorted(known)}")
        problems = tuple(known[n] for n in p.family_problems)
    config = {
        "optimizers": "the whole catalog",
        "problems": [pr.name for pr in problems],
        "steps": p.family_steps,
        "stochastic seeds": p.family_seeds,
        "lr": f"lr / sqrt(t), lr = {p.sim_lr} or the optimizer's default",
        "paper betas": list(PAPER_BETAS),
    }
    res = family(None, p.family_steps, problems=problems, seeds=p.family_seeds, lr=p.sim_lr)
    keys = {e.name: e.key for e in catalog.ENTRIES}
    runs = tuple(
        FamilyRun(
            key=keys[r.optimizer],
            name=r.optimizer,
            setting=r.setting,
            problem=r.problem,
            hyperparameters=r.hyperparameters,
            x_final=float(r.x_final),
            x_star=float(r.x_star),
            avg_regret=float(r.avg_regret),
            exponent=float(r.exponent),
            verdict=str(r.verdict),
        )
        for r in res.rows
    )
    settings = tuple(s for s in SETTINGS if any(r.setting == s for r in runs))
    numbers = FamilyNumbers(
        p.family_steps, p.family_seeds, tuple(res.problems), settings, runs, tuple(res.missing)
    )
    paths = res.write(ctx.stage_dir)
    figures = figure_records(
        ctx,
        paths,
        "Which fixes fix it: every optimizer on the counterexamples",
        f"Verdict of the regret-rate rule (colour) and regret exponent (in each cell), "
        f"T = {p.family_steps:,}, one panel per setting.",
        "The paper shows Adam failing and AMSGrad converging on these problems (Theorems 1-3, "
        "Figure 1); the other optimizers are later fixes, shown without a claim.",
        config,
    )
    return StageRecord(status="done", config=config, numbers=numbers, figures=figures)
