"""Everything `reproduce` checks before its first stage, and how it writes and records a run."""

import contextlib
import json
import os
import shlex
import shutil
import socket
import stat
import threading
import time

import pytest
from click.testing import CliRunner

from beyondadam.cli import main
from beyondadam.experiments.data import MNIST_FILES
from beyondadam.reporting.pipeline import ReproduceError, Stage, reproduce
from beyondadam.reporting.preflight import check_scheduler
from beyondadam.reporting.profiles import QUICK
from beyondadam.reporting.results import StageRecord
from tests.datasets import DATA, needs_mnist


def _stages(calls):
    """A simulator-like stage (no data) first, then an MNIST and a CIFAR-10 stage."""

    def make(sid):
        def run(ctx):
            calls.append(sid)
            return StageRecord(status="done")

        return run

    needs = {"sim": "none", "mnist-logreg": "mnist", "cifarnet": "cifar"}
    return [Stage(sid, sid, make(sid), need) for sid, need in needs.items()]


def _refused(tmp_path, calls, match, **kwargs):
    out = tmp_path / "out"
    t0 = time.perf_counter()
    with pytest.raises(ReproduceError, match=match) as err:
        reproduce(QUICK, out, stages=_stages(calls), quiet=True, **kwargs)
    assert calls == []  # not even the simulator stage ran
    assert not out.exists()  # nor the output directory created
    assert "\n" not in str(err.value)
    return time.perf_counter() - t0


def test_corrupt_mnist_fails_before_the_simulator_stages(tmp_path):
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for name in MNIST_FILES:
        (folder / name).write_bytes(b"not the official file")
    calls = []
    _refused(tmp_path, calls, r"MNIST cannot be used: .*md5", data_dir=tmp_path / "data")


@needs_mnist
def test_corrupt_copy_of_real_mnist_fails_before_work(tmp_path):
    folder = tmp_path / "data" / "mnist"
    shutil.copytree(DATA / "mnist", folder)
    victim = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte
    victim.write_bytes(bytes(raw))
    calls = []
    _refused(tmp_path, calls, "t10k-labels-idx1-ubyte.gz: md5", data_dir=tmp_path / "data")
    # the intact copy passes, and only the stages that need data read it
    shutil.copy(DATA / "mnist" / victim.name, victim)
    reproduce(QUICK, tmp_path / "ok", data_dir=tmp_path / "data", stages=_stages(calls), quiet=True)
    assert calls == ["sim", "mnist-logreg", "cifarnet"]


def test_corrupt_cifar_fails_before_work_but_absent_cifar_does_not(tmp_path):
    calls = []
    data = tmp_path / "data"
    (data / "cifar-10-batches-bin").mkdir(parents=True)
    for i in range(1, 6):
        (data / "cifar-10-batches-bin" / f"data_batch_{i}.bin").write_bytes(b"x" * 3073)
    (data / "cifar-10-batches-bin" / "test_batch.bin").write_bytes(b"x" * 3073)
    only = ["sim", "cifarnet"]
    _refused(tmp_path, calls, "CIFAR-10 cannot be used: .*sha256", data_dir=data, only=only)
    shutil.rmtree(data / "cifar-10-batches-bin")
    reproduce(QUICK, tmp_path / "out", data_dir=data, stages=_stages(calls), only=only, quiet=True)
    assert calls == ["sim", "cifarnet"]


def test_unreachable_scheduler_fails_fast_before_work(tmp_path):
    calls = []
    wall = _refused(
        tmp_path,
        calls,
        r"--scheduler: no Dask scheduler answered at tcp://127\.0\.0\.1:1 within 3 s",
        executor="local",
        scheduler="tcp://127.0.0.1:1",
    )
    assert wall < 10
    _refused(tmp_path, calls, "expected an address", scheduler="tcp://nowhere")


@pytest.fixture(scope="module")
def scheduler():
    """The address of a real Dask scheduler (no workers), in this process."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=0,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=":0",
    ) as cluster:
        yield cluster.scheduler_address


def test_a_running_scheduler_passes(scheduler):
    check_scheduler(scheduler, "dask")
    check_scheduler(scheduler, "local")


def test_a_port_that_is_not_a_scheduler_is_refused():
    # e.g. a proxy that accepts every connection: a plain TCP check would pass it
    pytest.importorskip("distributed")
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        done = threading.Event()

        def answer():
            server.settimeout(5)
            with contextlib.suppress(OSError):
                conn, _ = server.accept()
                with conn:
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4)
                    done.wait(5)

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        t0 = time.perf_counter()
        with pytest.raises(ReproduceError, match="not in Dask's protocol"):
            check_scheduler(f"tcp://127.0.0.1:{port}", "dask", timeout=2)
        done.set()
        assert time.perf_counter() - t0 < 10


def test_cli_unreachable_scheduler_is_one_line_before_work(tmp_path):
    pytest.importorskip("distributed")
    res = CliRunner().invoke(
        main,
        ["reproduce", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1",
         "--out", str(tmp_path / "o"), "--quiet"],
    )  # fmt: skip
    assert res.exit_code == 1
    assert "no Dask scheduler answered at tcp://127.0.0.1:1" in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "results.json").exists()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_are_written_with_the_umask_mode(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        res = reproduce(QUICK, tmp_path / "out", stages=_stages([])[:1], quiet=True)
    finally:
        os.umask(old)
    for path in (tmp_path / "out" / "results.json", res.report_md, res.report_html):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path.name
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_stored_command_reproduces_the_run(tmp_path):
    out = tmp_path / "out"
    res = reproduce(
        QUICK, out, executor="local", workers=1, stages=_stages([])[:1], only=["sim"], quiet=True
    )
    data = json.loads((out / "results.json").read_text())
    whole = shlex.split(data["command"])
    assert whole[:2] == ["beyondadam", "reproduce"]
    assert "--only" not in whole  # the whole reproduction (what "to run it" hints append to)
    invocation = shlex.split(data["invocations"][-1]["command"])
    # the command parses with the real CLI and gives back every option of the run
    ctx = main.commands["reproduce"].make_context("reproduce", invocation[2:])
    assert ctx.params["executor"] == "local"
    assert ctx.params["workers"] == 1
    assert ctx.params["profile_name"] == "quick"
    assert ctx.params["only"] == ("sim",)
    assert str(ctx.params["out_dir"]) == str(out.resolve())
    assert "--executor local" in res.report_md.read_text()


def test_stored_command_keeps_the_dask_executor(tmp_path, scheduler):
    reproduce(
        QUICK, tmp_path, executor="dask", scheduler=scheduler, stages=_stages([])[:1], quiet=True
    )
    data = json.loads((tmp_path / "results.json").read_text())
    assert f"--executor dask --scheduler {scheduler}" in data["command"]
