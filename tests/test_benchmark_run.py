"""The benchmark runner: spec checks, search space, a tiny run end to end, determinism, kill -9."""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from beyondadam.experiments.benchmark import (
    LR_RANGE,
    SEARCH_SEED,
    BenchmarkData,
    BenchmarkSpec,
    load_benchmark,
    lr_range,
    run_benchmark,
    search_configs,
    select_trial,
    trial_hparams,
    validate_spec,
)
from beyondadam.experiments.executors import Executor
from beyondadam.experiments.runs import RunConfig, RunResult
from beyondadam.optim.catalog import ENTRIES
from tests.datasets import DATA, needs_mnist

REPO = Path(__file__).resolve().parents[1]
ALL = tuple(e.key for e in ENTRIES)
#: the issue's tiny benchmark: two tasks, three optimizers, budget 3, 2 seeds (30 runs).
TINY = BenchmarkSpec(
    tasks=("mnist-logreg", "mnist-mlp"),
    optimizers=("adam", "amsgrad", "sgd"),
    budget=3,
    seeds=2,
    steps=(("mnist-logreg", 30), ("mnist-mlp", 30)),
)
TINY_RUNS = 2 * 3 * (3 + 2)


class TwoWorkersInProcess(Executor):
    """Units cut for two workers (batched groups of up to 5 here), trained in this process.

    The local pool's grouping without its processes: a resumed run must train what is left in
    the same groups, else the batched engine's last bits change.
    """

    workers = 2


# the subprocess of the kill test runs exactly this
_RUN_TINY = f"""
import sys, torch
from beyondadam.experiments.benchmark import BenchmarkSpec, run_benchmark
from tests.test_benchmark_run import TwoWorkersInProcess
torch.set_num_threads(1)
run_benchmark(BenchmarkSpec(**{dataclasses.asdict(TINY)!r}), sys.argv[1], data_dir=sys.argv[2],
              executor=TwoWorkersInProcess(), quiet=True)
"""


def _run(out: Path) -> BenchmarkData:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run_benchmark(
            TINY, out, data_dir=str(DATA), executor=TwoWorkersInProcess(), quiet=True
        )
    finally:
        torch.set_num_threads(before)


def _stored(db: Path) -> dict[str, float]:
    """key -> finished_at of every stored run (empty while the store is absent or busy)."""
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return dict(conn.execute("SELECT key, finished_at FROM runs"))
    except sqlite3.OperationalError:
        return {}


def _results(records):
    """The records without their wall times (the one field that is not deterministic)."""
    return [dataclasses.replace(r, wall_time=0.0) for r in records]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    return out, _run(out)


# ----------------------------------------------------------------- checks (no training)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tasks": ()}, "tasks must name"),
        ({"tasks": ("mnist-logreg", "nope")}, "task must be one of"),
        ({"tasks": ("mnist-logreg", "mnist-logreg")}, "tasks must not repeat"),
        ({"optimizers": ()}, "optimizers must name"),
        ({"optimizers": ("adam", "adamm")}, "unknown optimizer 'adamm'"),
        ({"optimizers": ("Adam",)}, "catalog's names: 'adam'"),
        ({"budget": 0}, "budget must be an integer >= 1"),
        ({"budget": 2.5}, "budget must be an integer >= 1"),
        ({"seeds": 0}, "seeds must be an integer >= 1"),
        ({"steps": (("mnist-logreg", 0),)}, "steps of mnist-logreg must be an integer >= 1"),
        ({"steps": (("cifarnet", 10),)}, "steps must be (task, steps) pairs"),
        ({"tune": ("betas",)}, "tune must be one of"),
        ({"tune": ("lr", "eps")}, "tune must be one of"),
    ],
)
def test_validate_spec_names_the_option(change, message, tmp_path):
    spec = dataclasses.replace(TINY, **change)
    with pytest.raises(ValueError) as err:
        validate_spec(spec)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError):  # before any work: nothing written
        run_benchmark(spec, tmp_path / "out", data_dir=str(DATA), quiet=True)
    assert not (tmp_path / "out").exists()


def test_validate_spec_accepts_the_tiny_and_the_full_spec():
    validate_spec(TINY)
    validate_spec(BenchmarkSpec(tasks=("mnist-logreg",), optimizers=ALL, tune=("lr", "betas")))


# ----------------------------------------------------------------- search space


def test_lr_within_range_around_each_default_and_spread_over_it():
    for entry in ENTRIES:
        low, high = lr_range(entry.key)
        default = entry.defaults()["lr"]
        if isinstance(default, float):
            assert math.isclose(low * LR_RANGE, default)
            assert math.isclose(high / LR_RANGE, default)
        lrs = [trial_hparams(entry.key, i)["lr"] for i in range(200)]
        assert all(low <= lr <= high for lr in lrs)
        # log-uniform: about half the trials below the centre, some in each outer decade
        below = sum(lr < math.sqrt(low * high) for lr in lrs)
        assert 70 < below < 130
        assert min(lrs) < low * 10
        assert max(lrs) > high / 10


def test_common_random_numbers_across_optimizers():
    """Trial i sits at the same relative place of every optimizer's range; trials differ."""
    for i in range(10):
        where = set()
        for entry in ENTRIES:
            low, high = lr_range(entry.key)
            lr = trial_hparams(entry.key, i)["lr"]
            where.add(round(math.log(lr / low) / math.log(high / low), 9))
        assert len(where) == 1
    assert len({trial_hparams("adam", i)["lr"] for i in range(10)}) == 10
    assert trial_hparams("adam", 3) == trial_hparams("adam", 3)  # no global RNG involved


def test_betas_tuned_only_when_asked_and_only_where_they_exist():
    for entry in ENTRIES:
        names = entry.hyperparameters()
        plain = trial_hparams(entry.key, 1)
        assert set(plain) == {"lr"}
        tuned = trial_hparams(entry.key, 1, ("lr", "betas"))
        assert tuned["lr"] == plain["lr"]  # the lr draw does not depend on tune
        if "betas" in names:
            b1, b2 = tuned["betas"]
            assert 0.5 <= b1 <= 0.99
            assert 0.9 <= b2 <= 0.9999
            assert set(tuned) == {"lr", "betas"}
        elif "beta1" in names:
            assert set(tuned) == {"lr", "beta1"}
            assert 0.5 <= tuned["beta1"] <= 0.99
        else:
            assert tuned == plain
    b1s = {trial_hparams("adam", i, ("lr", "betas"))["betas"][0] for i in range(5)}
    assert len(b1s) == 5


def test_search_configs_equal_budget_one_seed_validation():
    search = search_configs(TINY)
    assert set(search) == {(t, o) for t in TINY.tasks for o in TINY.optimizers}
    for (task, _), cfgs in search.items():
        assert len(cfgs) == TINY.budget
        assert {c.seed for c in cfgs} == {SEARCH_SEED}
        assert all(c.validation and c.steps == 30 and c.task == task for c in cfgs)


def _result(val: list[float], status: str = "done") -> RunResult:
    import numpy as np

    cfg = RunConfig.make("mnist-logreg", "adam", {"lr": 0.1}, validation=True)
    empty = np.empty(0)
    return RunResult(
        cfg, status, empty, empty, empty, empty, 0.0, "", "plain", val_loss=np.asarray(val)
    )


def test_selection_lowest_validation_loss_diverged_is_inf_ties_to_lowest_index():
    assert select_trial([_result([0.5]), _result([0.3]), _result([0.4])]) == 1
    assert select_trial([_result([0.1], "diverged"), _result([0.3])]) == 1
    assert select_trial([_result([float("nan")]), _result([0.3])]) == 1
    assert select_trial([_result([0.1, 0.5]), _result([0.3])]) == 1  # the final loss counts
    assert select_trial([_result([0.2, 0.3]), _result([0.3]), _result([0.3])]) == 0  # a tie
    assert select_trial([_result([], "diverged"), _result([], "diverged")]) == 0


# ----------------------------------------------------------------- runs


@needs_mnist
def test_tiny_benchmark_end_to_end(tiny):
    out, data = tiny
    assert (data.tasks, data.optimizers, data.budget, data.seeds) == (
        TINY.tasks, TINY.optimizers, 3, 2,
    )  # fmt: skip
    assert len(data.records) == TINY_RUNS
    assert len(_stored(out / "results.sqlite")) == TINY_RUNS  # the seeds are fresh runs
    for task in TINY.tasks:
        for opt in TINY.optimizers:
            mine = [r for r in data.records if (r.task, r.optimizer) == (task, opt)]
            search = [r for r in mine if r.phase == "search"]
            seeds = [r for r in mine if r.phase == "seed"]
            assert [r.index for r in search] == [0, 1, 2]
            assert [(r.index, r.seed) for r in seeds] == [(0, 0), (1, 1)]
            best = min(search, key=lambda r: (r.val_loss, r.index))
            assert all(r.hparams == best.hparams for r in seeds)
            for r in mine:
                assert r.steps == 30
                if r.status == "done":
                    assert math.isfinite(r.val_loss)
                    assert 0 <= r.test_acc <= 1
                    assert r.test_loss > 0
    # trial i has the same uniform draw for every optimizer
    lrs = {r.optimizer: r.hparams["lr"] for r in data.records if r.index == 0}
    assert lrs["adam"] == lrs["amsgrad"] != lrs["sgd"]
    again = load_benchmark(TINY, out)
    assert again == data
    assert BenchmarkData.from_json(data.to_json()) == data
    assert "NaN" not in data.to_json()
    assert "Infinity" not in data.to_json()


@needs_mnist
def test_same_spec_twice_gives_bit_identical_records(tiny, tmp_path):
    _, first = tiny
    second = _run(tmp_path / "again")
    assert _results(second.records) == _results(first.records)
    changed = dataclasses.replace(TINY, budget=2)  # a check that can fail: the data differ
    assert _results(load_benchmark(changed, tmp_path / "again").records) != _results(first.records)


def test_load_benchmark_without_a_store_fails(tmp_path):
    with pytest.raises(FileNotFoundError, match="no result store"):
        load_benchmark(TINY, tmp_path)


@needs_mnist
@pytest.mark.slow
def test_kill_9_mid_benchmark_then_rerun_repeats_nothing_loses_nothing(tiny, tmp_path):
    _, reference = tiny
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            (str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", ""))
        ),
    }
    out = tmp_path / "killed"
    db = out / "results.sqlite"
    cmd = [sys.executable, "-c", _RUN_TINY, str(out), str(DATA)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(_stored(db)) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, f"benchmark ended before the kill: {proc.communicate()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _stored(db)
    assert 4 <= len(before) < TINY_RUNS
    data = _run(out)
    after = _stored(db)
    assert len(after) == TINY_RUNS
    assert {k: after[k] for k in before} == before  # nothing stored before was trained again
    assert _results(data.records) == _results(reference.records)


@needs_mnist
def test_resume_keeps_the_batched_groups(tiny, tmp_path):
    """A store missing its last unit (three logreg seed runs) is completed bit-identically.

    Cut again from the three left, the groups would be of two and one, and a logreg run
    trained alone differs from one trained in a group in the last bits.
    """
    out, reference = tiny
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(out / "results.sqlite", partial / "results.sqlite")
    with sqlite3.connect(partial / "results.sqlite") as conn:
        last = [k for (k,) in conn.execute("SELECT key FROM runs ORDER BY rowid DESC LIMIT 3")]
        for table in ("curves", "runs"):
            conn.executemany(f"DELETE FROM {table} WHERE key = ?", [(k,) for k in last])
    kept = _stored(partial / "results.sqlite")
    assert len(kept) == TINY_RUNS - 3
    data = _run(partial)
    after = _stored(partial / "results.sqlite")
    assert {k: after[k] for k in kept} == kept
    assert sorted(set(after) - set(kept)) == sorted(last)
    assert _results(data.records) == _results(reference.records)
