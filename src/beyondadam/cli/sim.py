"""Commands of the simulator: ``synthetic`` (Figure 1), ``atlas`` and ``theorem1-sweep``."""

from __future__ import annotations

import math
from pathlib import Path

import click


def _floats(text: str, name: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {text!r}") from None
    if not vals or any(math.isnan(v) for v in vals):
        raise click.BadParameter(f"{name}: expected comma-separated numbers, got {text!r}")
    return vals


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _fail(exc: ValueError) -> click.ClickException:
    return click.ClickException(str(exc))


_PROBLEM_CHOICE = click.Choice(["theorem1", "paper_online", "paper_stochastic"])
_common = [
    click.option("--out", "outdir", type=click.Path(file_okay=False, path_type=Path),
                 default=Path("out/sim"), show_default=True, help="Output directory."),
    click.option("--lr", type=float, default=0.5, show_default=True,
                 help="Base step size (lr_t = lr/sqrt(t) unless --constant-lr)."),
    click.option("--eps", type=float, default=1e-8, show_default=True),
    click.option("--constant-lr", is_flag=True, help="Use a constant step size."),
    click.option("--x0", type=float, default=0.0, show_default=True, help="Start point x_1."),
    click.option("--data-format", type=click.Choice(["csv", "parquet"]), default="csv",
                 show_default=True),
    click.option("--formats", default="png,svg", show_default=True,
                 help="Comma-separated image formats."),
    click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table."),
]  # fmt: skip


def _with_common(f):
    for opt in reversed(_common):
        f = opt(f)
    return f


@click.command("synthetic")
@click.option(
    "--optimizers",
    default="Adam,AMSGrad",
    show_default=True,
    help="Comma-separated optimizer names (beyondadam.optim classes).",
)
@click.option("--beta1", type=float, default=0.9, show_default=True)
@click.option("--beta2", type=float, default=0.99, show_default=True)
@click.option("--steps", type=int, default=5_000_000, show_default=True)
@click.option("--stochastic-steps", type=int, default=None, help="Default: --steps.")
@click.option(
    "--seeds",
    type=int,
    default=5,
    show_default=True,
    help="Seeds of the stochastic runs (0 skips them).",
)
@click.option("--online-problem", type=_PROBLEM_CHOICE, default="paper_online", show_default=True)
@click.option(
    "--stochastic-problem", type=_PROBLEM_CHOICE, default="paper_stochastic", show_default=True
)
@click.option(
    "--C", "C", type=float, default=3.0, show_default=True, help="C of the theorem1 problem."
)
@click.option(
    "--checkpoints",
    type=int,
    default=400,
    show_default=True,
    help="Log-spaced points recorded per curve.",
)
@_with_common
def synthetic(optimizers, beta1, beta2, steps, stochastic_steps, seeds, online_problem,
              stochastic_problem, C, checkpoints, outdir, lr, eps, constant_lr, x0, data_format,
              formats, quiet):  # fmt: skip
    """Reproduce Figure 1: Adam vs AMSGrad on the paper's online and stochastic problems."""
    from beyondadam.sim import figure1, get_problem

    if seeds < 0:
        raise click.BadParameter("must be >= 0", param_hint="--seeds")
    try:
        res = figure1(
            _names(optimizers), lr=lr, betas=(beta1, beta2), eps=eps, steps=steps,
            stochastic_steps=stochastic_steps, seeds=range(seeds),
            online_problem=get_problem(online_problem, C),
            stochastic_problem=get_problem(stochastic_problem, C),
            schedule="constant" if constant_lr else "inverse_sqrt", x0=x0,
            checkpoints=checkpoints, progress=not quiet,
        )  # fmt: skip
    except ValueError as exc:
        raise _fail(exc) from exc
    paths = res.write(outdir, _names(formats), data_format=data_format)
    if not quiet:
        click.echo(res.summary().to_string(index=False, float_format=lambda v: f"{v:.6g}"))
        secs = res.online.seconds + (res.stochastic.seconds if res.stochastic else 0.0)
        click.echo(f"compute: {secs:.2f} s; wrote {', '.join(str(p) for p in paths)}")
    else:
        for _, row in res.summary().iterrows():
            click.echo(
                f"{row['setting']}\t{row['optimizer']}\t{row['x_T']:.6g}\t{row['R_T/T']:.6g}"
            )


@click.command("atlas")
@click.option("--problem", type=_PROBLEM_CHOICE, default="paper_online", show_default=True)
@click.option(
    "--C", "C", type=float, default=3.0, show_default=True, help="C of the theorem1 problem."
)
@click.option(
    "--optimizers",
    default="Adam,AMSGrad,AdamNC,RMSProp",
    show_default=True,
    help="Any of Adam, AMSGrad, AdamNC, RMSProp (= Adam with beta1 = 0).",
)
@click.option("--grid", type=int, default=64, show_default=True, help="Grid points per axis.")
@click.option(
    "--spacing",
    type=click.Choice(["log", "linear"]),
    default="log",
    show_default=True,
    help="log: 1 - 10^(-4 i/(n-1)), dense near 1; linear: i/n.",
)
@click.option("--horizon", "-T", type=int, default=1_000_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@_with_common
def atlas_cmd(problem, C, optimizers, grid, spacing, horizon, seed, outdir, lr, eps, constant_lr,
              x0, data_format, formats, quiet):  # fmt: skip
    """Heatmaps of x_T and R_T/T over (beta1, beta2), with the curve beta1 = sqrt(beta2)."""
    from beyondadam.sim import atlas, get_problem

    try:
        res = atlas(
            get_problem(problem, C), _names(optimizers), grid=grid, spacing=spacing,
            horizon=horizon, lr=lr, eps=eps, seed=seed, x0=x0,
            schedule="constant" if constant_lr else "inverse_sqrt", progress=not quiet,
        )  # fmt: skip
    except ValueError as exc:
        raise _fail(exc) from exc
    paths = res.write(outdir, _names(formats), data_format=data_format)
    if not quiet:
        for name, x in res.final_x.items():
            frac = float((x > 0).mean())
            click.echo(f"{name:8s} fraction of cells with x_T > 0 (wrong side): {frac:.3f}")
        rate = res.configs_run * res.horizon / res.seconds / 1e6 if res.seconds else float("nan")
        click.echo(f"{res.configs_run} configurations x {res.horizon:,} steps in "
                   f"{res.seconds:.1f} s ({rate:.0f} M config-steps/s)")  # fmt: skip
        click.echo(f"wrote {', '.join(str(p) for p in paths)}")


@click.command("theorem1-sweep")
@click.option(
    "--C-values",
    "c_values",
    default=None,
    help="Comma-separated C > 2 (default: 80 values from 2.1 to 20).",
)
@click.option("--beta1", type=float, default=0.0, show_default=True)
@click.option(
    "--beta2",
    "beta2",
    default="theorem,0.3,0.6,0.9,0.99",
    show_default=True,
    help="Comma-separated beta2 values; 'theorem' means 1/(1+C^2).",
)
@click.option("--horizon", "-T", type=int, default=1_000_000, show_default=True)
@_with_common
def theorem1_sweep_cmd(c_values, beta1, beta2, horizon, outdir, lr, eps, constant_lr, x0,
                       data_format, formats, quiet):  # fmt: skip
    """Sweep C of Theorem 1's problem and show where Adam flips to +1."""
    from beyondadam.sim import theorem1_sweep

    b2 = [v if v == "theorem" else _floats(v, "--beta2")[0] for v in _names(beta2)]
    kwargs = {} if c_values is None else {"C": _floats(c_values, "--C-values")}
    try:
        res = theorem1_sweep(
            **kwargs, beta2=b2, beta1=beta1, lr=lr, eps=eps, horizon=horizon, x0=x0,
            schedule="constant" if constant_lr else "inverse_sqrt", progress=not quiet,
        )  # fmt: skip
    except ValueError as exc:
        raise _fail(exc) from exc
    paths = res.write(outdir, _names(formats), data_format=data_format)
    for (opt, rule), (lo, hi) in res.wrong_side().items():
        where = "none" if math.isnan(lo) else f"[{lo:g}, {hi:g}]"
        click.echo(f"{opt}\tbeta2={rule}\tC with x_T > 0: {where}")
    if not quiet:
        click.echo(f"wrote {', '.join(str(p) for p in paths)}")


COMMANDS: list[click.Command] = [synthetic, atlas_cmd, theorem1_sweep_cmd]
