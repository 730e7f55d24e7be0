"""SIGTERM/SIGINT during a multi-process sweep: no worker left, finished runs kept, resumable."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from beyondadam.experiments import load_results
from tests.datasets import DATA, needs_mnist

psutil = pytest.importorskip("psutil")

REPO = Path(__file__).resolve().parents[1]
pytestmark = needs_mnist


def _sweep(out: Path) -> list[str]:
    # mnist-mlp units of 1 config: each takes a few seconds, so the kill lands mid-unit
    return [
        sys.executable, "-m", "beyondadam", "sweep", "--task", "mnist-mlp",
        "--lrs", "0.001,0.003,0.01", "--beta2s", "0.999", "--seeds", "2",
        "--steps", "200", "--eval-every", "200", "--workers", "2",
        "--threads", "1", "--max-batch", "1",
        "--out", str(out), "--data-dir", str(DATA), "--no-plot",
    ]  # fmt: skip


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _alive(p) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_sweep_stops_workers_keeps_runs_and_resumes(tmp_path, signum):
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    out = tmp_path / "out"
    db = out / "results.sqlite"
    proc = subprocess.Popen(
        _sweep(out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 180
    while _count(db) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, f"sweep ended before the signal: {proc.communicate()}"
    children = psutil.Process(proc.pid).children(recursive=True)
    workers = [c for c in children if _alive(c) and c.cpu_percent(interval=0.2) > 0]
    assert workers, "no worker process was computing"
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 128 + signum, stderr
    assert "run the same command again to resume" in stderr
    assert "Traceback" not in stderr
    time.sleep(0.5)
    assert [c.pid for c in children if _alive(c)] == []
    kept = _count(db)
    assert kept >= 1
    keys_before = set(load_results(out).key)
    # 2 optimizers x 3 lrs = 6 grid runs, then 1 more seed each
    done = subprocess.run(_sweep(out), env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    df = load_results(out)
    assert len(df) == 8
    assert df.key.is_unique
    assert keys_before <= set(df.key)
    # the runs kept from before were not trained again: their rows are the older ones
    first_new = df[~df.key.isin(keys_before)].finished_at.min()
    assert (df[df.key.isin(keys_before)].finished_at < first_new).all()
