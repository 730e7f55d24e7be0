"""Options shared by the commands, declared once, and the command line's one error contract.

Error contract. A user mistake (a bad option value, an unknown name, an output folder that cannot
be written or would be overwritten, a size that cannot be allocated) is found before any work and
raised through :func:`fail` as :class:`click.BadParameter`: click prints the usage and one line
``Error: Invalid value for '--option': ...`` and exits with status 2. A failure found while
running (missing or corrupt data, an unreachable scheduler, a foreign result store) goes through
:func:`library_errors`: one ``Error: ...`` line, status 1. Neither shows a traceback.

This module imports only click and the standard library so that ``--help`` stays fast; what needs
the optimizer catalog (hence torch) is imported inside the functions that validate at run time.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from beyondadam.optim import Entry

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

#: the names ``--task`` accepts (tests/test_cli.py checks them against ``experiments.TASKS``).
TASK_NAMES = (
    "mnist-logreg",
    "mnist-mlp",
    "cifarnet",
    "quadratic-deep",
    "mnist-cnn",
    "mnist-ae",
    "cifar-vgg",
)
#: the executors (checked against ``experiments.executors.EXECUTORS``).
EXECUTOR_NAMES = ("local", "dask")
#: refuse a computation whose estimated memory exceeds this fraction of the available memory.
MEMORY_FRACTION = 0.8
OPTIMIZER_HELP = "Any case; `beyondadam optimizers` lists them."


# ----------------------------------------------------------------------- the error contract


def fail(option: str, message: str) -> NoReturn:
    """Refuse the value of ``option`` (exit status 2, one line naming the option)."""
    raise click.BadParameter(message, param_hint=f"'{option}'")


@contextlib.contextmanager
def library_errors(store: Path | None = None) -> Iterator[None]:
    """Turn the library's errors (bad values, data, files) into an error message (status 1).

    ``store``: the result store the block opens, named in an SQLite error (a file that is not a
    database, a table of another shape).
    """
    try:
        yield
    except sqlite3.Error as exc:
        where = f"{store}: " if store is not None else ""
        raise click.ClickException(f"{where}{exc} (is it a beyondadam result store?)") from None
    except (ValueError, RuntimeError, OSError, ImportError) as exc:
        raise click.ClickException(str(exc) or type(exc).__name__) from None


def compose(*decorators: Decorator) -> Decorator:
    """Apply several option decorators in the order they are listed (as if stacked)."""

    def apply(f: Callable[..., Any]) -> Callable[..., Any]:
        for d in reversed(decorators):
            f = d(f)
        return f

    return apply


def explicit(name: str) -> bool:
    """Whether the user gave parameter ``name`` on the command line (not its default)."""
    ctx = click.get_current_context()
    return ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE


# ----------------------------------------------------------------------- value parsers


def parse_floats(text: str, option: str) -> list[float]:
    """Comma-separated finite numbers, e.g. ``"0.01,0.1"``."""
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        fail(option, f"expected comma-separated numbers, got {text!r}")
    if not vals or not all(math.isfinite(v) for v in vals):
        fail(option, f"expected comma-separated finite numbers, got {text!r}")
    return vals


def parse_names(text: str) -> list[str]:
    """Comma-separated names, blanks dropped."""
    return [v.strip() for v in text.split(",") if v.strip()]


def parse_json_object(text: str, option: str) -> dict[str, Any]:
    """A JSON object such as ``'{"eps": 1e-6}'``."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(option, f"not valid JSON ({exc.msg} at column {exc.colno}): {text!r}")
    if not isinstance(value, dict):
        fail(option, f"must be a JSON object such as '{{\"eps\": 1e-6}}', got {text!r}")
    return value


def optimizer_entry(name: str, option: str) -> Entry:
    """The catalog entry of ``name`` (any case)."""
    from beyondadam.optim import catalog

    try:
        return catalog.get(name)
    except ValueError as exc:
        fail(option, str(exc))


def pick(name: str, choices: tuple[str, ...] | list[str], option: str) -> str:
    """The member of ``choices`` equal to ``name`` ignoring case."""
    for choice in choices:
        if choice.lower() == name.lower():
            return choice
    fail(option, f"unknown name {name!r}; choose from {', '.join(choices)}")


# ----------------------------------------------------------------------- checks before work


def check_out_dir(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """``path`` as an absolute folder that can be created and written, else :func:`fail`.

    The check really creates the folder and a probe file (root may write where permission bits
    say no, and ``/proc`` refuses anyway), then removes what it created, so a refused command
    leaves nothing behind.
    """
    out = Path(path).expanduser().absolute()
    created: list[Path] = []
    probe = out
    while not probe.exists():
        created.append(probe)
        probe = probe.parent
    if not probe.is_dir():
        fail(option, f"{out} is under {probe}, which is a file, not a folder")
    try:
        for p in reversed(created):
            p.mkdir()
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        fail(option, f"cannot write in {out}: {exc.strerror or exc}")
    finally:
        for p in created:
            with contextlib.suppress(OSError):
                p.rmdir()
    return out


def check_new_outputs(out: Path, force: bool, option: str = "--out") -> None:
    """Refuse a non-empty output folder unless ``--force`` (its files would be replaced)."""
    if not force and out.is_dir() and any(out.iterdir()):
        fail(option, f"{out} already holds outputs; pass --force to overwrite or choose another")


_ADDRESS = re.compile(r"(?:[a-z]+://)?(?:\[[0-9a-fA-F:]+\]|[^\s/:\[\]]+):\d{1,5}/?")


def check_scheduler(scheduler: str | None) -> None:
    """Refuse a ``--scheduler`` that is not an address (Dask would wait for its timeout)."""
    if scheduler is not None and not _ADDRESS.fullmatch(scheduler):
        fail("--scheduler", f"expected an address such as tcp://HOST:PORT, got {scheduler!r}")


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable on Linux)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: do not refuse


def check_memory(nbytes: float, what: str, option: str) -> None:
    """Refuse a computation estimated at ``nbytes`` above ``MEMORY_FRACTION`` of what is free."""
    free = available_memory()
    if nbytes > MEMORY_FRACTION * free:
        fail(
            option,
            f"{what} needs about {nbytes / 2**30:,.1f} GiB, more than "
            f"{MEMORY_FRACTION:.0%} of the {free / 2**30:,.1f} GiB available; make it smaller",
        )


# ----------------------------------------------------------------------- shared options


def out_option(default: str, help: str, force: bool = False) -> Decorator:
    """``--out DIR`` (checked writable before any work); with ``force``, also ``--force``."""
    opt = click.option(
        "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
        default=Path(default), show_default=True, help=help,
    )  # fmt: skip
    if not force:
        return opt
    flag = click.option("--force", is_flag=True, help="Overwrite outputs already in --out.")
    return compose(opt, flag)


data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    envvar="BEYONDADAM_DATA", show_envvar=True,
    help="Folder with mnist/ and/or cifar-10-batches-bin/ (default: the download cache).",
)  # fmt: skip
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress output.")
seed_option = click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
task_choice = click.Choice(TASK_NAMES, case_sensitive=False)
threads_option = click.option(
    "--threads", type=click.IntRange(min=1), default=None,
    help="Torch threads per worker (default: cores // workers).",
)  # fmt: skip
device_option = click.option(
    "--device", default="cpu", show_default=True,
    help="Where training runs: cpu, cuda or cuda:N (a GPU here). Not part of a run's key; "
    "results on a GPU differ from the CPU's in the last bits.",
)  # fmt: skip


def check_device_option(device: str) -> str | None:
    """The checked ``--device``: ``None`` for the CPU, else its name; a one-line error otherwise."""
    from beyondadam.experiments.device import check_device  # torch only once a command runs

    try:
        dev = check_device(device)
    except ValueError as exc:
        fail("--device", str(exc))
    return None if dev.type == "cpu" else str(dev)


executor_options = compose(
    click.option(
        "--executor", type=click.Choice(EXECUTOR_NAMES, case_sensitive=False), default="local",
        show_default=True,
        help="Where training runs: local (a process pool) or dask (a Dask cluster).",
    ),
    click.option("--scheduler", default=None, help="Dask scheduler address (tcp://HOST:PORT)."),
    click.option(
        "--workers", type=click.IntRange(min=1), default=None,
        help="Local worker processes (default: cores).",
    ),
)  # fmt: skip


def steps_option(help: str | None, default: int | None = None) -> Decorator:
    """``--steps`` (an integer >= 1), with ``default`` or ``None`` for the task's own."""
    return click.option(
        "--steps", type=click.IntRange(min=1), default=default,
        show_default=default is not None, help=help,
    )  # fmt: skip


@contextlib.contextmanager
def resumable(kept: str) -> Iterator[None]:
    """SIGTERM/SIGINT: workers stopped, what finished kept, a message how to resume, 128 + N.

    ``kept`` says where the finished work is (e.g. "the finished runs are kept in OUT/...").
    """
    from beyondadam.experiments.interrupt import Interrupted, handle_signals

    try:
        with handle_signals():
            yield
    except Interrupted as exc:
        click.echo(f"Interrupted ({exc}): {kept}; run the same command again to resume.", err=True)
        raise SystemExit(exc.exit_code) from None
