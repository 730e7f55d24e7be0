"""The ``beyondadam`` command line.

Each subpackage contributes its commands through a module here exposing ``COMMANDS``; this file
only assembles them, so adding a command never touches another command's module.
"""

from __future__ import annotations

import importlib

import click

from beyondadam import __version__

_COMMAND_MODULES = ("optimizers", "sim", "train", "reproduce", "benchmark", "explore")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="beyondadam")
def main() -> None:
    """Adam, AMSGrad and beyond: optimizers, simulations and the paper's experiments."""


for _name in _COMMAND_MODULES:
    _module = importlib.import_module(f"beyondadam.cli.{_name}")
    for _command in _module.COMMANDS:
        main.add_command(_command)
