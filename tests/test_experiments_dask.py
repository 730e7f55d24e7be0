"""The sweep on a real Dask distributed LocalCluster (loopback), end to end."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from beyondadam.experiments import ExecutorError, load_results, make_executor, run_protocol
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
