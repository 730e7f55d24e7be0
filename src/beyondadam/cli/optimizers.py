"""``beyondadam optimizers``: list the optimizers, their defaults and the update they implement."""

from __future__ import annotations

import inspect

import click

from beyondadam.optim import OPTIMIZERS


def _defaults(cls: type) -> str:
    params = list(inspect.signature(cls.__init__).parameters.values())[2:]
    parts = []
    for p in params:
        if p.default is inspect.Parameter.empty:
            parts.append(f"{p.name} (required)")
        else:
            parts.append(f"{p.name}={p.default!r}")
    return ", ".join(parts)


def _summary(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ")


@click.command("optimizers")
@click.option("--math", "show_math", is_flag=True, help="Print each optimizer's full docstring.")
@click.argument("names", nargs=-1)
def optimizers(show_math: bool, names: tuple[str, ...]) -> None:
    """List the optimizers of beyondadam.optim with their defaults and updates.

    NAMES restricts the list (e.g. `beyondadam optimizers amsgrad --math`).
    """
    unknown = [n for n in names if n.lower() not in OPTIMIZERS]
    if unknown:
        raise click.BadParameter(
            f"unknown optimizer(s) {', '.join(unknown)}; choose from {', '.join(OPTIMIZERS)}",
            param_hint="NAMES",
        )
    selected = [n.lower() for n in names] or list(OPTIMIZERS)
    for name in selected:
        cls = OPTIMIZERS[name]
        click.secho(f"{name}  ({cls.__module__.rsplit('.', 1)[0]}.{cls.__name__})", bold=True)
        click.echo(f"  defaults: {_defaults(cls)}")
        click.echo(f"  {_summary(cls)}")
        if show_math:
            click.echo("\n".join("    " + line for line in inspect.getdoc(cls).splitlines()))
        click.echo()


COMMANDS = [optimizers]
