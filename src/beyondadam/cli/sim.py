"""Commands of the simulator: ``synthetic`` (Figure 1), ``atlas``, ``theorem1-sweep``, ``family``.

Each writes into its own folder (``out/sim/figure1``, ``out/sim/atlas``, ``out/sim/theorem1``,
``out/sim/family``)
and refuses a folder that already holds files unless ``--force``. Every option is checked, the
output folder tried and the memory estimated before the simulation starts.
"""

from __future__ import annotations

import math
from pathlib import Path

import click

from beyondadam.cli._options import (
    OPTIMIZER_HELP,
    check_memory,
    check_new_outputs,
    check_out_dir,
    compose,
    explicit,
    fail,
    library_errors,
    optimizer_entry,
    out_option,
    parse_floats,
    parse_names,
    pick,
    quiet_option,
    seed_option,
    steps_option,
)

__all__ = ["COMMANDS", "atlas_cmd", "family_cmd", "synthetic", "theorem1_sweep_cmd"]

#: the simulator's problems (tests/test_cli.py checks them against ``sim.PROBLEMS``).
PROBLEM_NAMES = ("theorem1", "paper_online", "paper_stochastic")
#: bytes per simulated configuration besides its recorded curve (specs, state, results).
BYTES_PER_CONFIG = 3000
#: bytes per recorded checkpoint of one configuration (x and regret, then the curves table).
BYTES_PER_CHECKPOINT = 48

_problem = click.Choice(PROBLEM_NAMES, case_sensitive=False)


def _count(name: str, default: int, minimum: int = 1, help: str | None = None) -> object:
    """An integer option >= ``minimum`` with its default shown."""
    return click.option(
        name, type=click.IntRange(min=minimum), default=default, show_default=True, help=help
    )


_horizon = click.option(
    "--horizon", "-T", type=click.IntRange(min=1), default=1_000_000, show_default=True
)


def _outputs(default_out: str) -> object:
    """--out, --force, --data-format, --formats and --quiet: every simulator command's outputs."""
    return compose(
        out_option(default_out, "Output folder (refused if it holds files, unless --force).", True),
        click.option(
            "--data-format", type=click.Choice(["csv", "parquet"], case_sensitive=False),
            default="csv", show_default=True,
        ),
        click.option(
            "--formats", default="png,svg", show_default=True,
            help="Comma-separated image formats (any matplotlib writes; '' for none).",
        ),
        quiet_option,
    )  # fmt: skip


def _common(default_out: str) -> object:
    return compose(
        _outputs(default_out),
        click.option(
            "--lr", type=float, default=0.5, show_default=True,
            help="Base step size (lr_t = lr/sqrt(t) unless --constant-lr).",
        ),
        click.option("--eps", type=float, default=1e-8, show_default=True),
        click.option("--constant-lr", is_flag=True, help="Use a constant step size."),
        click.option("--x0", type=float, default=0.0, show_default=True, help="Start point x_1."),
    )  # fmt: skip


def _prepare(
    out_dir: Path, force: bool, lr: float, eps: float | None, formats: str
) -> tuple[Path, list]:
    """The checks every simulator command makes first; the output folder and image formats."""
    if not (math.isfinite(lr) and lr > 0):
        fail("--lr", f"must be a finite number > 0, got {lr:g}")
    if eps is not None and not (math.isfinite(eps) and eps >= 0):
        fail("--eps", f"must be a finite number >= 0, got {eps:g}")
    from matplotlib.backend_bases import FigureCanvasBase

    known = sorted(FigureCanvasBase.get_supported_filetypes())
    fmts = [pick(f, known, "--formats") for f in parse_names(formats)]
    out = check_out_dir(out_dir)
    check_new_outputs(out, force)
    return out, fmts


def _schedule(constant_lr: bool) -> str:
    return "constant" if constant_lr else "inverse_sqrt"


def _wrote(paths: list[Path]) -> str:
    return f"wrote {', '.join(str(p) for p in paths)}"


@click.command("synthetic")
@click.option(
    "--optimizers", default="Adam,AMSGrad", show_default=True,
    help=f"Comma-separated optimizer names. {OPTIMIZER_HELP}",
)  # fmt: skip
@click.option("--beta1", type=float, default=0.9, show_default=True, help="Where it applies.")
@click.option("--beta2", type=float, default=0.99, show_default=True, help="Where it applies.")
@steps_option(None, 5_000_000)
@click.option(
    "--stochastic-steps", type=click.IntRange(min=1), default=None, help="Default: --steps."
)
@_count("--seeds", 5, 0, "Seeds of the stochastic runs (0 skips them).")
@click.option("--online-problem", type=_problem, default="paper_online", show_default=True)
@click.option("--stochastic-problem", type=_problem, default="paper_stochastic", show_default=True)
@click.option("--C", "C", type=float, default=3.0, show_default=True, help="C of theorem1.")
@_count("--checkpoints", 400, 2, "Log-spaced points recorded per curve.")
@_common("out/sim/figure1")
def synthetic(optimizers, beta1, beta2, steps, stochastic_steps, seeds, online_problem,
              stochastic_problem, C, checkpoints, out_dir, force, lr, eps, constant_lr, x0,
              data_format, formats, quiet):  # fmt: skip
    """Reproduce Figure 1: Adam vs AMSGrad on the paper's online and stochastic problems.

    --beta1/--beta2 go to the optimizers that have them (betas, or beta1 for AdamNC).
    """
    out, fmts = _prepare(out_dir, force, lr, eps, formats)
    entries = [optimizer_entry(n, "--optimizers") for n in parse_names(optimizers)]
    if not entries:
        fail("--optimizers", "name at least one optimizer")
    takes = {k for e in entries for k in e.defaults()}
    if explicit("beta2") and "betas" not in takes:
        fail("--beta2", "none of the chosen optimizers has a beta2")
    if explicit("beta1") and not takes & {"betas", "beta1"}:
        fail("--beta1", "none of the chosen optimizers has a beta1")
    n = len(entries) * (1 + seeds)
    per = BYTES_PER_CONFIG + BYTES_PER_CHECKPOINT * checkpoints
    check_memory(n * per, f"{n:,} simulated runs", "--seeds")
    from beyondadam.sim import figure1, get_problem
    from beyondadam.sim.engine import MAX_RECORDED, log_checkpoints

    # The stochastic curves are recorded per seed; say which option to lower before any work.
    k = len(log_checkpoints(stochastic_steps or steps, checkpoints))
    if len(entries) * seeds * k > MAX_RECORDED:
        most = MAX_RECORDED // (len(entries) * k)
        fail(
            "--seeds",
            f"{seeds:,} seeds x {len(entries)} optimizers x {k} recorded checkpoints exceed the "
            f"{MAX_RECORDED:,} values a curve array may hold; use at most {most:,} seeds with "
            "these --checkpoints, or fewer --checkpoints",
        )

    with library_errors():
        res = figure1(
            [e.name for e in entries], lr=lr, betas=(beta1, beta2), eps=eps, steps=steps,
            stochastic_steps=stochastic_steps, seeds=range(seeds),
            online_problem=get_problem(online_problem, C),
            stochastic_problem=get_problem(stochastic_problem, C),
            schedule=_schedule(constant_lr), x0=x0, checkpoints=checkpoints, progress=not quiet,
        )  # fmt: skip
        paths = res.write(out, fmts, data_format=data_format)
    if not quiet:
        click.echo(res.summary().to_string(index=False, float_format=lambda v: f"{v:.6g}"))
        secs = res.online.seconds + (res.stochastic.seconds if res.stochastic else 0.0)
        click.echo(f"compute: {secs:.2f} s; {_wrote(paths)}")
    else:
        for _, row in res.summary().iterrows():
            click.echo(
                f"{row['setting']}\t{row['optimizer']}\t{row['x_T']:.6g}\t{row['R_T/T']:.6g}"
            )


@click.command("atlas")
@click.option("--problem", type=_problem, default="paper_online", show_default=True)
@click.option("--C", "C", type=float, default=3.0, show_default=True, help="C of theorem1.")
@click.option(
    "--optimizers", "--optimizer", "optimizers", multiple=True,
    default=("Adam,AMSGrad,AdamNC,RMSProp",), show_default=True,
    help="Comma-separated or repeated: any catalog optimizer with betas (or beta1) and a "
    "simulator rule, or RMSProp (= Adam with beta1 = 0, as in the paper). "
    f"{OPTIMIZER_HELP}",
)  # fmt: skip
@_count("--grid", 64, 2, "Grid points per axis.")
@click.option(
    "--spacing", type=click.Choice(["log", "linear"], case_sensitive=False), default="log",
    show_default=True, help="log: 1 - 10^(-4 i/(n-1)), dense near 1; linear: i/n.",
)  # fmt: skip
@_horizon
@seed_option
@_common("out/sim/atlas")
def atlas_cmd(problem, C, optimizers, grid, spacing, horizon, seed, out_dir, force, lr, eps,
              constant_lr, x0, data_format, formats, quiet):  # fmt: skip
    """Heatmaps over (beta1, beta2): x_T, R_T/T, the regret-rate verdict and exponent.

    The theory is drawn on every panel: the curve beta1 = sqrt(beta2) and, for theorem1, the
    region where the paper's proof says Adam fails.
    """
    out, fmts = _prepare(out_dir, force, lr, eps, formats)
    names = [_atlas_name(n) for n in parse_names(",".join(optimizers))]
    if not names:
        fail("--optimizers", "name at least one optimizer")
    n = len(names) * grid * grid
    check_memory(
        n * BYTES_PER_CONFIG, f"a {grid} x {grid} grid of {len(names)} optimizers", "--grid"
    )
    from beyondadam.sim import atlas, get_problem

    with library_errors():
        res = atlas(
            get_problem(problem, C), names, grid=grid, spacing=spacing, horizon=horizon, lr=lr,
            eps=eps, seed=seed, x0=x0, schedule=_schedule(constant_lr), progress=not quiet,
        )  # fmt: skip
        paths = res.write(out, fmts, data_format=data_format, progress=not quiet)
    if not quiet:
        for name, x in res.final_x.items():
            frac = float((x > 0).mean())
            counts = ", ".join(f"{k} {v}" for k, v in res.verdict_counts(name).items())
            click.echo(f"{name:8s} wrong side (x_T > 0): {frac:.3f} of cells; verdicts: {counts}")
        rate = res.configs_run * res.horizon / res.seconds / 1e6 if res.seconds else float("nan")
        click.echo(f"{res.configs_run} configurations x {res.horizon:,} steps in "
                   f"{res.seconds:.1f} s ({rate:.0f} M config-steps/s)")  # fmt: skip
        click.echo(_wrote(paths))


def _atlas_name(name: str) -> str:
    """The atlas' name for ``name``, validated through the catalog (any case)."""
    if name.lower() != "rmsprop":
        optimizer_entry(name, "--optimizers")  # an unknown name lists the catalog
    from beyondadam.sim.atlas import atlas_name

    try:
        return atlas_name(name)
    except ValueError as exc:
        fail("--optimizers", str(exc))


def _beta2_rules(text: str) -> list[float | str]:
    rules: list[float | str] = []
    for v in parse_names(text):
        b2 = "theorem" if v.lower() == "theorem" else parse_floats(v, "--beta2")[0]
        if b2 != "theorem" and not 0 <= b2 < 1:
            fail("--beta2", f"each value must be 'theorem' or in [0, 1), got {v!r}")
        rules.append(b2)
    if not rules:
        fail("--beta2", "name at least one value")
    return rules


@click.command("theorem1-sweep")
@click.option(
    "--C-values", "c_values", default=None,
    help="Comma-separated C > 2 (default: 80 values from 2.1 to 20).",
)  # fmt: skip
@click.option("--beta1", type=float, default=0.0, show_default=True)
@click.option(
    "--beta2", "beta2", default="theorem,0.3,0.6,0.9,0.99", show_default=True,
    help="Comma-separated beta2 values; 'theorem' means 1/(1+C^2).",
)  # fmt: skip
@_horizon
@_common("out/sim/theorem1")
def theorem1_sweep_cmd(c_values, beta1, beta2, horizon, out_dir, force, lr, eps, constant_lr, x0,
                       data_format, formats, quiet):  # fmt: skip
    """Sweep C of Theorem 1's problem and show where Adam flips to +1."""
    out, fmts = _prepare(out_dir, force, lr, eps, formats)
    rules = _beta2_rules(beta2)
    kwargs = {}
    if c_values is not None:
        kwargs["C"] = parse_floats(c_values, "--C-values")
        if min(kwargs["C"]) <= 2:
            fail("--C-values", f"each C must be > 2, got {min(kwargs['C']):g}")
    n = 2 * len(rules) * len(kwargs.get("C", range(80)))
    check_memory(n * BYTES_PER_CONFIG, f"{n:,} simulated runs", "--C-values")
    from beyondadam.sim import theorem1_sweep

    with library_errors():
        res = theorem1_sweep(
            **kwargs, beta2=rules, beta1=beta1, lr=lr, eps=eps, horizon=horizon, x0=x0,
            schedule=_schedule(constant_lr), progress=not quiet,
        )  # fmt: skip
        paths = res.write(out, fmts, data_format=data_format, progress=not quiet)
    for (opt, rule), (lo, hi) in res.wrong_side().items():
        where = "none" if math.isnan(lo) else f"[{lo:g}, {hi:g}]"
        click.echo(f"{opt}\tbeta2={rule}\tC with x_T > 0: {where}")
    if not quiet:
        click.echo(_wrote(paths))


@click.command("family")
@click.option(
    "--optimizer", "-o", "optimizers", multiple=True,
    help="Repeatable or comma-separated (default: the whole catalog; those without a simulator "
    f"rule are listed, not run). {OPTIMIZER_HELP}",
)  # fmt: skip
@steps_option("Horizon T (the paper's 5M).", 5_000_000)
@_count("--seeds", 3, 1, "Seeds of each stochastic problem.")
@click.option(
    "--lr", type=float, default=0.5, show_default=True,
    help="Common base step size of the 'lr=0.5' settings (lr_t = lr/sqrt(t)); the 'own lr' "
    "settings use each optimizer's default.",
)  # fmt: skip
@_outputs("out/sim/family")
def family_cmd(optimizers, steps, seeds, lr, out_dir, force, data_format, formats, quiet):
    """Every optimizer on every counterexample: x_T, R_T/T, regret exponent and verdict.

    Theorem 1 (C = 3, 5, 10, 20), the online and stochastic problems of Section 5, Theorem 2's
    and Theorem 3's families; each optimizer with its defaults and with the paper's
    beta1 = 0.9, beta2 = 0.99, at lr and at its own default lr. Writes family.csv, family.md
    and family.png/svg.
    """
    out, fmts = _prepare(out_dir, force, lr, None, formats)
    names = [n for text in optimizers for n in parse_names(text)]
    for n in names:
        optimizer_entry(n, "--optimizer")
    if optimizers and not names:
        fail("--optimizer", "name at least one optimizer")
    n = (len(names) or 19) * 4 * (7 + 2 * seeds)  # settings x runs per setting, at most
    check_memory(n * (BYTES_PER_CONFIG + BYTES_PER_CHECKPOINT * 200), f"{n:,} runs", "--seeds")
    from beyondadam.sim import family

    with library_errors():
        res = family(names or None, steps, seeds=seeds, lr=lr, progress=not quiet)
        paths = res.write(out, fmts, data_format=data_format, progress=not quiet)
    if quiet:
        for r in res.rows:
            click.echo(f"{r.optimizer}\t{r.setting}\t{r.problem}\t{r.verdict}\t{r.exponent:.3f}")
    for setting in res.meta["settings"]:
        table = res.verdict_table(setting)
        if not table.empty and not quiet:
            click.echo(f"\n{setting}:\n{table.to_string()}")
    if res.missing:
        click.echo(f"no simulator rule yet: {', '.join(res.missing)}")
    if not quiet:
        click.echo(f"{res.configs_run} runs x {res.horizon:,} steps in {res.seconds:.1f} s")
        click.echo(_wrote(paths))


COMMANDS: list[click.Command] = [synthetic, atlas_cmd, theorem1_sweep_cmd, family_cmd]
