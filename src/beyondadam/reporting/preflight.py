"""Everything ``beyondadam reproduce`` checks before its first stage starts.

docs/reproduce.md promises that a mistake is reported before any work: an output directory that
cannot be written or holds another profile's run, an optimizer missing from the catalog, a Dask
scheduler that does not answer, and for every selected stage that reads data, files that are
missing or fail their checksums (MNIST is required; CIFAR-10 may be absent, the ``cifarnet``
stage then reports "not run", but a CIFAR-10 copy that is there and corrupt is an error too).
Each problem is one :class:`ReproduceError` whose message says what to do.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from beyondadam.reporting import datasets
from beyondadam.reporting import results as _results
from beyondadam.reporting.profiles import Profile
from beyondadam.reporting.stage import Stage

__all__ = ["SCHEDULER_TIMEOUT_S", "ReproduceError", "check_scheduler", "preflight", "settings"]

SCHEDULER_TIMEOUT_S = 3.0
"""How long to wait for the Dask scheduler's port to accept a connection."""

_PROSE = ("description", "expected_wall_time")
_ADDRESS = re.compile(
    r"(?:(?P<scheme>[a-z]+)://)?(?:\[(?P<ip6>[0-9a-fA-F:]+)\]|(?P<host>[^\s/:\[\]]+)):(?P<port>\d{1,5})/?"
)


class ReproduceError(Exception):
    """A problem found before any work was done (bad option, unusable directory, missing data)."""


def settings(profile: dict[str, Any]) -> dict[str, Any]:
    """A stored profile without its prose fields (editing a description must not block a resume)."""
    return {k: v for k, v in profile.items() if k not in _PROSE}


def _check_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".beyondadam-write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ReproduceError(
            f"cannot write to the output directory {out_dir}: {exc.strerror or exc}. "
            "Pick another one with --out DIR."
        ) from exc


def _check_optimizers(profile: Profile) -> None:
    """Every optimizer of the profile (the atlas' included) must be in the catalog."""
    from beyondadam.optim import catalog

    keys = dict.fromkeys((*profile.optimizers, *profile.atlas_optimizers))
    unknown = [k for k in keys if k not in catalog.CATALOG]
    if unknown:
        raise ReproduceError(
            f"profile {profile.name!r}: unknown optimizer(s) {', '.join(unknown)}; "
            f"the catalog has {', '.join(catalog.CATALOG)}"
        )


async def _identity(address: str, timeout: float) -> Any:
    """Ask the server at ``address`` who it is, with Dask's own protocol."""
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await asyncio.wait_for(comm.read(), timeout)
    finally:
        comm.abort()


def _ask_identity(address: str, timeout: float) -> Any:
    # a thread of its own, so that a caller already inside an event loop (a notebook) works too
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _identity(address, timeout)).result()


def check_scheduler(scheduler: str, executor: str, timeout: float = SCHEDULER_TIMEOUT_S) -> None:
    """A Dask scheduler answers at ``scheduler`` within ``timeout`` seconds.

    With distributed installed, the server is asked its identity over Dask's protocol, so a port
    that accepts connections without being a scheduler (e.g. behind a proxy) is refused too;
    without it (only possible with ``executor="local"``, which does not use the address) a TCP
    connection is tried. Seconds, instead of a failure after the simulator stages.

    Raises:
        ReproduceError: (one line) Malformed address, no scheduler answering, or dask not
            installed for ``executor="dask"``.

    """
    m = _ADDRESS.fullmatch(scheduler)
    if m is None:
        raise ReproduceError(
            f"--scheduler: expected an address such as tcp://HOST:PORT, got {scheduler!r}"
        )
    has_dask = importlib.util.find_spec("distributed") is not None
    if executor == "dask" and not has_dask:
        raise ReproduceError(
            "--executor dask needs dask and distributed: pip install 'beyondadam[dask]'"
        )
    where = f"--scheduler: no Dask scheduler answered at {scheduler} within {timeout:g} s"
    hint = "start it (`dask scheduler`) or fix the address"
    try:
        if not has_dask:
            with socket.create_connection((m["ip6"] or m["host"], int(m["port"])), timeout):
                return
        identity = _ask_identity(scheduler, timeout)
    except (OSError, TimeoutError) as exc:
        why = (str(exc).strip().splitlines() or [""])[0][:160] or type(exc).__name__
        raise ReproduceError(f"{where} ({why}); {hint}") from None
    except Exception:  # a reply that is not Dask's protocol (any parse error)
        identity = None
    kind = identity.get("type") if isinstance(identity, dict) else None
    if kind != "Scheduler":
        said = f"it says it is a {kind}" if kind else "the port answers, but not in Dask's protocol"
        raise ReproduceError(f"{where} ({said}); {hint}")


def _check_mnist(data_dir: Path | None) -> None:
    """MNIST's four files present (named when missing) and matching their official checksums."""
    if data_dir is None:
        if datasets.mnist_cached() is None:
            raise ReproduceError(
                "no data directory: pass --data-dir DIR or set BEYONDADAM_DATA. "
                + datasets.mnist_help(None)
            )
    elif missing := datasets.mnist_missing(data_dir):
        raise ReproduceError(
            f"MNIST files missing in {datasets.mnist_dir(data_dir)}: {', '.join(missing)}. "
            + datasets.mnist_help(data_dir)
        )
    status = datasets.dataset_status("mnist", data_dir)
    if not status.ready:
        raise ReproduceError(f"MNIST cannot be used: {status.reason}")


def _check_cifar(data_dir: Path | None) -> None:
    """CIFAR-10 may be absent (its stage is then "not run"); when present it must verify."""
    if not datasets.cifar_present(data_dir):
        return
    status = datasets.dataset_status("cifar10", data_dir)
    if not status.ready:
        raise ReproduceError(
            f"CIFAR-10 cannot be used: {status.reason}. Replace the files, or leave the "
            "cifarnet stage out (--only with the other stages)."
        )


def preflight(
    profile: Profile,
    out_dir: Path,
    data_dir: Path | None,
    stages: Sequence[Stage],
    fresh: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
) -> dict[str, Any]:
    """Check everything that can fail before work starts; return the stored state to resume.

    Raises:
        ReproduceError: Unwritable output directory, a stored run of another profile, an
            optimizer not in the catalog, an unreachable scheduler, or the data of a selected
            stage missing (naming the files and where they go) or failing its checksums.

    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ReproduceError(f"--out {out_dir} exists and is not a directory")
    try:
        state = _results.load(out_dir)
    except ValueError as exc:
        raise ReproduceError(f"{exc}. Use --fresh to start over in this directory.") from exc
    stored = state.get("profile")
    same = not stored or settings(stored) == settings(_results.jsonable(profile.as_dict()))
    if fresh and same:
        # Redo only the selected stages: the others' records (and the report's numbers) stay.
        redo = {s.id for s in stages}
        kept = {k: v for k, v in state.get("stages", {}).items() if k not in redo}
        state = {**state, "stages": kept}
    elif fresh:
        state = {"schema_version": _results.SCHEMA_VERSION, "stages": {}}
    elif not same:
        raise ReproduceError(
            f"{out_dir} holds a reproduction with another profile "
            f"({stored.get('name')!r}, or the same name with other settings); "
            "use another --out, or --fresh to redo every stage here."
        )
    _check_optimizers(profile)
    if executor == "dask" and not scheduler:
        raise ReproduceError("--executor dask needs --scheduler tcp://HOST:PORT")
    if scheduler:
        check_scheduler(scheduler, executor)
    # only the data of the stages that will run: a resumed run skips those stored as done
    done = {sid for sid, rec in state.get("stages", {}).items() if rec.get("status") == "done"}
    needs = {s.needs for s in stages if s.id not in done}
    if "mnist" in needs:
        _check_mnist(data_dir)
    if "cifar" in needs:
        _check_cifar(data_dir)
    _check_writable(out_dir)  # last: it creates the directory, which a refusal should not leave
    return state
