"""A sweep killed with SIGKILL in the middle and rerun ends with every result exactly once."""

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

REPO = Path(__file__).resolve().parents[1]
pytestmark = needs_mnist


def _sweep(out: Path) -> list[str]:
    return [
        sys.executable, "-m", "beyondadam", "sweep", "--task", "mnist-logreg",
        "--lrs", "0.001,0.003,0.01,0.03,0.1", "--beta2s", "0.99,0.999", "--seeds", "3",
        "--steps", "80", "--eval-every", "80", "--workers", "1",
        "--threads", "1", "--max-batch", "2",
        "--out", str(out), "--data-dir", str(DATA), "--quiet", "--no-plot",
    ]  # fmt: skip


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    out = tmp_path / "out"
    db = out / "results.sqlite"
    proc = subprocess.Popen(_sweep(out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _count(db) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, f"sweep ended before the kill: {proc.communicate()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _count(db)
    # 2 optimizers x 5 lr x 2 beta2 = 20 grid configs, then 2 x 2 extra seeds
    assert 4 <= killed_at < 24
    done = subprocess.run(_sweep(out), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    df = load_results(out)
    assert len(df) == 24
    assert df.key.is_unique
    with sqlite3.connect(db) as conn:
        per_key = conn.execute("SELECT key, COUNT(*) FROM curves GROUP BY key").fetchall()
    assert len(per_key) == 24
    assert {n for _, n in per_key} == {4}
    assert (df.status == "done").all()
    assert df.final_train_loss.notna().all()
    assert "adam" in done.stdout
    assert "amsgrad" in done.stdout
