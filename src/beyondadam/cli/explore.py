"""``beyondadam explore``: serve the interactive explorer of the counterexamples on localhost.

Port policy: ``--port 0`` takes a free port; the default port (5006) falls back to a free port
when something else uses it; an explicit busy port is refused with a one-line error naming
``--port``.  Panel and the simulator are imported inside the command, so ``--help`` stays fast.
"""

from __future__ import annotations

import contextlib

import click

from beyondadam.cli._options import explicit, fail, library_errors

__all__ = ["COMMANDS", "explore"]

DEFAULT_PORT = 5006


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on; 0 picks a free one (so does the default when it is taken).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; keep 127.0.0.1 unless others on your network should reach it.",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser tab.")
def explore(port: int, host: str, no_browser: bool) -> None:
    """Serve the interactive explorer: drag beta1, beta2, lr, C and watch Adam and AMSGrad.

    Needs Panel (pip install 'beyondadam[explore]'). Ctrl-C stops the server.
    """
    import importlib.util

    if importlib.util.find_spec("panel") is None:
        raise click.ClickException("the explorer needs Panel: pip install 'beyondadam[explore]'")
    from beyondadam.reporting import explorer

    try:
        busy = explorer.port_in_use(host, port) if port else False
    except (OSError, OverflowError) as exc:
        fail("--host", f"cannot bind {host!r}: {exc}")
    if busy and explicit("port"):
        fail("--port", f"port {port} on {host} is in use; pick another or use --port 0")
    if busy or port == 0:
        port = explorer.free_port(host)
        if busy:
            click.echo(f"port {DEFAULT_PORT} is in use; serving on port {port} instead", err=True)
    click.echo("compiling the simulator's kernels (cached after the first time)...", err=True)
    with library_errors():
        seconds = explorer.warm_up()
    click.echo(f"kernels ready in {seconds:.1f} s", err=True)

    def ready(url: str) -> None:
        click.echo(f"beyondadam explorer: {url}  (Ctrl-C to stop)", err=False)

    # Ctrl-C: Bokeh's server stops its loop on SIGINT, or KeyboardInterrupt reaches here.
    with contextlib.suppress(KeyboardInterrupt):
        explorer.serve(host, port, open_browser=not no_browser, on_ready=ready)
    click.echo("stopped", err=True)


COMMANDS = [explore]
