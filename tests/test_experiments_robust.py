"""Result store checks, outputs named by configuration, checkpointed runs, progress."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from beyondadam.cli import main as cli
from beyondadam.experiments import (
    ResultStore,
    RunConfig,
    load_dataset,
    make_executor,
    run_configs,
    run_protocol,
    train,
)
from beyondadam.experiments import batched as engine
from beyondadam.experiments import store as store_mod
from beyondadam.experiments.checkpoint import checkpoint_path
from beyondadam.experiments.interrupt import Interrupted, handle_signals
from beyondadam.experiments.store import StoreError, check_store
from tests.conftest import sigterm_after
from tests.datasets import DATA, needs_cifar

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _cfg(steps=120, ev=60, task="mnist-logreg", seed=3):
    return RunConfig.make(
        task, "amsgrad", {"lr": 1e-2, "betas": [0.9, 0.99]}, seed=seed, steps=steps, eval_every=ev
    )


# ----------------------------------------------------------------------------------- the store


def test_new_store_records_its_version(tmp_path):
    with ResultStore(tmp_path) as st:
        assert st.conn.execute("PRAGMA user_version").fetchone()[0] == store_mod.SCHEMA_VERSION
        assert st.conn.execute("PRAGMA application_id").fetchone()[0] == store_mod.APPLICATION_ID
    check_store(tmp_path)  # reopens cleanly
    with ResultStore(tmp_path) as st:
        assert st.finished_keys() == set()


def test_corrupt_store_file_is_a_clear_error_before_work(tmp_path):
    (tmp_path / "results.sqlite").write_bytes(b"not a database at all\n" * 50)
    with pytest.raises(StoreError, match=r"results\.sqlite is not a result store: not an SQLite"):
        check_store(tmp_path)
    with pytest.raises(StoreError, match="use another --out"):
        ResultStore(tmp_path)
    assert (tmp_path / "results.sqlite").read_bytes().startswith(b"not a database")


def test_foreign_schema_store_is_refused_untouched(tmp_path):
    db = tmp_path / "results.sqlite"
    with sqlite3.connect(db) as conn:  # the store: a 2-column runs table
        conn.execute("CREATE TABLE runs (key TEXT, value REAL)")
    with pytest.raises(StoreError, match=r"another program or schema \(tables: runs\)"):
        ResultStore(tmp_path)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["runs"]


def test_store_of_another_version_is_refused(tmp_path, monkeypatch):
    with ResultStore(tmp_path):
        pass
    version = store_mod.SCHEMA_VERSION
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", version + 1)
    with pytest.raises(StoreError, match=rf"version {version} \(written by an older beyondadam\)"):
        ResultStore(tmp_path)
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 0)
    with pytest.raises(StoreError, match="written by a newer beyondadam"):
        check_store(tmp_path)


def test_unstamped_store_of_this_schema_is_adopted(tmp_path):
    """Stores written before the version was recorded have the same tables: they keep working."""
    with sqlite3.connect(tmp_path / "results.sqlite") as conn:
        conn.executescript(store_mod._SCHEMA)
    with ResultStore(tmp_path) as st:
        assert st.conn.execute("PRAGMA user_version").fetchone()[0] == store_mod.SCHEMA_VERSION


def test_cli_refuses_a_bad_store_before_training(tmp_path, monkeypatch):
    import beyondadam.experiments.protocol as protocol_mod

    monkeypatch.setattr(protocol_mod, "split_units", lambda *a: pytest.fail("training started"))
    (tmp_path / "results.sqlite").write_text("x" * 500)
    for args in (
        ["train", "--task", "mnist-logreg", "--steps", "5"],
        ["sweep", "--task", "mnist-logreg", "--steps", "5", "--no-plot"],
    ):
        r = CliRunner().invoke(cli, [*args, "--out", str(tmp_path), "--data-dir", str(DATA)])
        assert r.exit_code == 1, r.output
        lines = r.output.strip().splitlines()
        assert len(lines) == 1
        assert "results.sqlite is not a result store" in lines[0]
        assert "use another --out" in lines[0]


# ------------------------------------------------------------------------ outputs per config


def test_another_configuration_does_not_replace_the_summary(mnist, tmp_path):
    kw = dict(
        beta2s=[0.999], seeds=2, steps=20, eval_every=20, out_dir=tmp_path,
        data_dir=str(DATA), workers=1, threads=1, quiet=True,
    )  # fmt: skip
    a = run_protocol("mnist-logreg", ["adam"], lrs=[1e-2], **kw)
    first = (tmp_path / f"{a.stem}_summary.csv").read_bytes()
    b = run_protocol("mnist-logreg", ["adam"], lrs=[1e-1], **kw)
    assert a.stem != b.stem
    assert (tmp_path / f"{a.stem}_summary.csv").read_bytes() == first
    for stem in (a.stem, b.stem):
        for suffix in ("_grid.csv", "_summary.csv", "_protocol.json", "_train_loss.png"):
            assert (tmp_path / f"{stem}{suffix}").is_file()
    again = run_protocol("mnist-logreg", ["adam"], lrs=[1e-2], **kw)
    assert again.stem == a.stem
    assert (tmp_path / f"{a.stem}_summary.csv").read_bytes() == first


# ---------------------------------------------------------------------- checkpoint and resume


@pytest.mark.parametrize("kill_at", [37, 117, 234])  # mid-epoch, mid-epoch, at an epoch's end
def test_sigterm_checkpoints_and_resume_is_bit_identical(mnist, tmp_path, kill_at):
    # a small training set so that the run crosses epochs (468 // 4 batches would not)
    n = 117 * 128
    small = dataclasses.replace(mnist, x_train=mnist.x_train[:n], y_train=mnist.y_train[:n])
    cfg = _cfg(steps=300, ev=100)
    ref = train(cfg, small)
    ck = tmp_path / "ck.pt"
    with handle_signals(), pytest.raises(Interrupted):
        train(cfg, small, progress=sigterm_after(kill_at), checkpoint=ck, checkpoint_every=10**9)
    assert ck.is_file()
    seen = []
    res = train(cfg, small, progress=lambda n, loss: seen.append(n), checkpoint=ck)
    assert seen[0] == kill_at  # resumed, not restarted
    assert np.array_equal(res.train_loss, ref.train_loss)
    assert np.array_equal(res.test_loss, ref.test_loss)
    assert np.array_equal(res.test_steps, ref.test_steps)


@pytest.mark.parametrize("kill_at", [37, 117])
def test_batched_group_checkpoint_resumes_bit_identically(mnist, tmp_path, kill_at):
    n = 117 * 128
    small = dataclasses.replace(mnist, x_train=mnist.x_train[:n], y_train=mnist.y_train[:n])
    group = [
        _cfg(steps=300, ev=100, seed=1),
        RunConfig.make(
            "mnist-logreg",
            "adam",
            {"lr": 3e-2, "betas": [0.9, 0.999]},
            seed=2,
            steps=300,
            eval_every=100,
        ),
        RunConfig.make("mnist-logreg", "sgd", {"lr": 1e38}, seed=1, steps=300, eval_every=100),
    ]  # fmt: skip  (the last one diverges before the kill: its retirement is resumed too)
    ref = engine.train_batched(group, small)
    ck = tmp_path / "group.pt"
    with handle_signals(), pytest.raises(Interrupted):
        engine.train_batched(group, small, sigterm_after(kill_at * 3), ck, checkpoint_every=10**9)
    res = engine.train_batched(group, small, checkpoint=ck)
    assert ref[2].status == res[2].status == "diverged"
    for a, b in zip(ref, res, strict=True):
        assert np.array_equal(a.train_loss, b.train_loss)
        assert np.array_equal(a.test_loss, b.test_loss)
        assert a.diverged_step == b.diverged_step


def test_periodic_checkpoint_survives_a_crash(mnist, tmp_path):
    cfg = _cfg(task="mnist-mlp", steps=90, ev=45)
    ref = train(cfg, mnist)
    ck = tmp_path / "ck.pt"

    def crash(n, loss):
        crash.n = getattr(crash, "n", 0) + n
        if crash.n == 65:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        train(cfg, mnist, progress=crash, checkpoint=ck, checkpoint_every=20)
    res = train(cfg, mnist, checkpoint=ck, checkpoint_every=20)
    assert np.array_equal(res.train_loss, ref.train_loss)
    assert np.array_equal(res.test_acc, ref.test_acc)


def test_unusable_checkpoint_is_ignored_with_a_warning(mnist, tmp_path):
    cfg = _cfg(steps=20, ev=20)
    ck = tmp_path / "ck.pt"
    ck.write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match="ignoring the checkpoint"):
        res = train(cfg, mnist, checkpoint=ck)
    assert np.array_equal(res.train_loss, train(cfg, mnist).train_loss)


def test_run_configs_removes_the_checkpoint_once_stored(mnist, tmp_path, monkeypatch):
    import beyondadam.experiments.runner as runner_mod

    cfg = _cfg(task="mnist-mlp", steps=40, ev=20)
    ex = make_executor(workers=1, threads=1)
    real = runner_mod.train

    def interrupted(c, data, **kw):
        return real(c, data, **{**kw, "progress": sigterm_after(25)})

    monkeypatch.setattr(runner_mod, "supports", lambda c: False)  # the plain loop, as CIFARNET
    monkeypatch.setattr(runner_mod, "train", interrupted)
    with pytest.raises(Interrupted):
        run_configs([cfg], tmp_path, data_dir=str(DATA), executor=ex, quiet=True)
    assert checkpoint_path(tmp_path, cfg).is_file()
    monkeypatch.setattr(runner_mod, "train", real)
    out = run_configs([cfg], tmp_path, data_dir=str(DATA), executor=ex, quiet=True)
    assert np.array_equal(out[cfg.key].train_loss, train(cfg, mnist).train_loss)
    assert not (tmp_path / "checkpoints").exists()


# ------------------------------------------------------------------------------------ progress


def test_single_run_progress_shows_iterations_loss_and_eta(mnist, tmp_path, capsys):
    r = CliRunner().invoke(
        cli, ["train", "--task", "mnist-logreg", "--steps", "400", "--eval-every", "200",
              "--threads", "1", "--out", str(tmp_path), "--data-dir", str(DATA)],
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "400/400" in r.stderr
    assert "loss=" in r.stderr
    assert "<" in r.stderr  # tqdm's elapsed<remaining
    quiet = CliRunner().invoke(
        cli, ["train", "--task", "mnist-logreg", "--steps", "30", "-q", "--threads", "1",
              "--out", str(tmp_path), "--data-dir", str(DATA)],
    )  # fmt: skip
    assert quiet.exit_code == 0
    assert quiet.stderr == ""


def test_sweep_progress_counts_iterations_within_runs(mnist, tmp_path):
    ticks = []
    ex = make_executor(workers=2, threads=1, max_batch=2)
    cfgs = [_cfg(steps=400, ev=400, seed=s) for s in range(4)]
    try:
        units = ex.map_units(
            [cfgs[:2], cfgs[2:]], str(DATA), progress=lambda n, loss: ticks.append(n)
        )
        results = [r for unit in units for r in unit]
    finally:
        ex.close()
    assert len(results) == 4
    assert sum(ticks) == 4 * 400
    assert len(ticks) > 2  # reports arrived while the units ran, not only at their ends


@pytest.mark.slow
@needs_cifar
def test_cifarnet_train_killed_by_sigterm_resumes_bit_identically(tmp_path):
    """The issue's case end to end: `beyondadam train --task cifarnet`, SIGTERM, same command."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get(
        "PYTHONPATH", "")}  # fmt: skip
    cmd = [
        sys.executable, "-m", "beyondadam", "train", "--task", "cifarnet", "--lr", "1e-3",
        "--steps", "16", "--eval-every", "8", "--seed", "1", "--threads", "1",
        "--out", str(tmp_path), "--data-dir", str(DATA),
    ]  # fmt: skip
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            if re.search(r"\b([3-9]|1[0-3])/16\b", log.read_text()):
                break
            time.sleep(0.05)
        assert proc.poll() is None, log.read_text()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, log.read_text()
    assert "run the same command again to resume" in log.read_text()
    cfg = RunConfig.make("cifarnet", "amsgrad", {"lr": 1e-3, "betas": [0.9, 0.999]}, seed=1,
                         steps=16, eval_every=8)  # fmt: skip
    ck = checkpoint_path(tmp_path, cfg)
    assert ck.is_file()
    resumed_at = torch.load(ck, weights_only=True)["step"]
    assert 3 <= resumed_at < 16
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not ck.exists()
    with ResultStore(tmp_path) as st:
        stored = st.get(cfg.key)
    ref = train(cfg, load_dataset("cifar10", str(DATA)))
    assert np.array_equal(stored.train_loss, ref.train_loss)  # dropout RNG restored too
    assert np.array_equal(stored.test_loss, ref.test_loss)
