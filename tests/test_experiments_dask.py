"""The sweep on a real Dask distributed LocalCluster (loopback), end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from beyondadam.experiments import (
    ExecutorError,
    RunConfig,
    load_results,
    make_executor,
    run_protocol,
)
from beyondadam.experiments.executors import DaskExecutor
from tests.datasets import DATA, needs_mnist

distributed = pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_unreachable_scheduler_is_a_clear_error():
    import beyondadam.experiments.executors as executors_mod

    with pytest.raises(
        ExecutorError, match=r"cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1:9'"
    ):
        executors_mod.DaskExecutor("tcp://127.0.0.1:9", timeout=1.0)


@pytest.mark.slow
@needs_mnist
def test_protocol_on_local_cluster_matches_local(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "PYTHONPATH", str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    kw = dict(
        lrs=[0.01, 0.1],
        beta2s=[0.999],
        seeds=2,
        steps=40,
        eval_every=20,
        data_dir=str(DATA),
        quiet=True,
        plot=False,
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, worker_dashboard_address=None,
    ) as cluster:  # fmt: skip
        ex = make_executor("dask", scheduler=cluster.scheduler_address)
        assert ex.workers == 2
        try:
            res = run_protocol("mnist-logreg", ["adam", "amsgrad"], out_dir=tmp_path / "d",
                               executor=ex, **kw)  # fmt: skip
        finally:
            ex.close()
    local = run_protocol("mnist-logreg", ["adam", "amsgrad"], out_dir=tmp_path / "l",
                         workers=1, threads=1, **kw)  # fmt: skip
    assert len(load_results(tmp_path / "d")) == len(load_results(tmp_path / "l")) == 6
    for opt in ("adam", "amsgrad"):
        assert res.selected[opt] == local.selected[opt]
        np.testing.assert_allclose(res.train_curves(opt), local.train_curves(opt), rtol=1e-4)


def test_unreachable_scheduler_fails_fast_by_default():
    t0 = time.monotonic()
    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler"):
        make_executor("dask", scheduler="tcp://127.0.0.1:9")
    assert time.monotonic() - t0 < 2  # refused at once, not after the 5 s connect timeout


@pytest.mark.slow
@needs_mnist
def test_only_worker_killed_fails_clearly_instead_of_hanging():
    """The cluster's one worker dies mid-sweep: a clear error within lost_timeout, runs kept."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    cfgs = [
        RunConfig.make("mnist-mlp", "adam", {"lr": lr, "betas": [0.9, 0.999]}, steps=150,
                       eval_every=150)
        for lr in (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
    ]  # fmt: skip
    with distributed.LocalCluster(
        n_workers=0, host="127.0.0.1", dashboard_address=None, protocol="tcp"
    ) as cluster:  # a scheduler only; its one worker is a process of its own
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
             "--nthreads", "1", "--no-nanny", "--no-dashboard"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            ex = DaskExecutor(cluster.scheduler_address, timeout=30, max_batch=1, lost_timeout=3)
            deadline = time.monotonic() + 60
            while ex._worker_count() == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            ex.workers = 1

            def kill_after_first(n, loss):
                if worker.poll() is None:
                    worker.kill()  # SIGKILL: no goodbye to the scheduler

            got = []
            units = ex.map_units([[c] for c in cfgs], str(DATA), progress=kill_after_first)
            t0 = time.monotonic()
            with pytest.raises(ExecutorError, match="no worker for 3 s") as err:
                got.extend(r for results in units for r in results)
            assert time.monotonic() - t0 < 30
            assert "run the same command again" in str(err.value)
            assert 1 <= len(got) < len(cfgs)
        finally:
            worker.kill()
            worker.wait()
            ex.close()
