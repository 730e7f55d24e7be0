import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from beyondadam.cli import main
from beyondadam.experiments.data import MNIST_FILES
from beyondadam.reporting.datasets import dataset_status
from beyondadam.reporting.pipeline import STAGES, ReproduceError, Stage, reproduce
from beyondadam.reporting.profiles import PAPER, PROFILES, QUICK, get_profile
from beyondadam.reporting.results import FigureRecord, StageRecord
from tests.datasets import DATA, HAS_MNIST, needs_cifar

MNIST = tuple(MNIST_FILES)


def _fake_stages(calls, fail=()):
    def make(sid):
        def run(ctx):
            calls.append(sid)
            if sid in fail:
                raise RuntimeError(f"boom in {sid}")
            assert ctx.stage_dir == ctx.out_dir / sid
            assert ctx.stage_dir.is_dir()
            (ctx.stage_dir / "fig.svg").write_text(
                '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
            )
            return StageRecord(
                status="done",
                notes=(f"call {len(calls)}",),
                figures=(FigureRecord(path=f"{sid}/fig.svg", title=sid),),
            )

        return run

    return [Stage(sid, sid.title(), make(sid)) for sid in ("one", "two", "three")]


def test_stages_run_in_order_and_resume(tmp_path):
    calls = []
    logs = []
    res = reproduce(QUICK, tmp_path / "out", stages=_fake_stages(calls), log=logs.append)
    assert calls == ["one", "two", "three"]
    assert res.ran == ["one", "two", "three"]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(data["stages"]) == ["one", "two", "three"]
    assert all(r["status"] == "done" and r["wall_s"] >= 0 for r in data["stages"].values())
    assert data["profile"]["name"] == "quick"
    assert data["environment"]["versions"]["python"]
    assert res.report_html.is_file()
    assert res.report_md.is_file()
    assert any("[1/3] One" in m for m in logs)

    # a rerun skips what is stored as done; an interrupted stage (not stored) reruns
    del data["stages"]["two"]
    (tmp_path / "out" / "results.json").write_text(json.dumps(data))
    calls.clear()
    res = reproduce(QUICK, tmp_path / "out", stages=_fake_stages(calls), log=logs.append)
    assert calls == ["two"]
    assert res.skipped == ["one", "three"]
    stored = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(stored["stages"]) == ["one", "two", "three"]


def test_quiet_prints_nothing(tmp_path):
    logs = []
    reproduce(QUICK, tmp_path, stages=_fake_stages([]), quiet=True, log=logs.append)
    assert logs == []


def test_stage_returning_garbage_is_a_failure(tmp_path):
    res = reproduce(QUICK, tmp_path, stages=[Stage("bad", "Bad", lambda ctx: None)], quiet=True)
    assert res.failed == ["bad"]
    assert "not a StageRecord" in res.data["stages"]["bad"]["reason"]


def test_failed_stage_does_not_stop_the_others(tmp_path):
    calls = []
    res = reproduce(QUICK, tmp_path, stages=_fake_stages(calls, fail={"two"}), quiet=True)
    assert calls == ["one", "two", "three"]
    assert res.failed == ["two"]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["stages"]["two"]["status"] == "failed"
    assert "boom in two" in data["stages"]["two"]["reason"]
    # the failed stage is retried on the next run
    calls.clear()
    reproduce(QUICK, tmp_path, stages=_fake_stages(calls), quiet=True)
    assert calls == ["two"]


def test_only_and_fresh(tmp_path):
    calls = []
    reproduce(QUICK, tmp_path, stages=_fake_stages(calls), only=["two"], quiet=True)
    assert calls == ["two"]
    with pytest.raises(ReproduceError, match="unknown stage"):
        reproduce(QUICK, tmp_path, stages=_fake_stages(calls), only=["nope"], quiet=True)
    calls.clear()
    reproduce(QUICK, tmp_path, stages=_fake_stages(calls), quiet=True)
    assert calls == ["one", "three"]
    calls.clear()
    reproduce(QUICK, tmp_path, stages=_fake_stages(calls), quiet=True, fresh=True)
    assert calls == ["one", "two", "three"]
    # --only X --fresh redoes X and keeps the other stages' records
    calls.clear()
    res = reproduce(
        QUICK, tmp_path, stages=_fake_stages(calls), only=["two"], quiet=True, fresh=True
    )
    assert calls == ["two"]
    assert [res.data["stages"][s]["status"] for s in ("one", "two", "three")] == ["done"] * 3


def test_other_profile_in_out_dir_is_refused(tmp_path):
    reproduce(QUICK, tmp_path, stages=_fake_stages([]), quiet=True)
    with pytest.raises(ReproduceError, match="another profile"):
        reproduce(PAPER, tmp_path, stages=_fake_stages([]), quiet=True)


def test_editing_profile_prose_does_not_block_resume(tmp_path):
    from dataclasses import replace

    reproduce(QUICK, tmp_path, stages=_fake_stages([]), quiet=True)
    calls = []
    reworded = replace(QUICK, description="new words", expected_wall_time="soon")
    reproduce(reworded, tmp_path, stages=_fake_stages(calls), quiet=True)
    assert calls == []
    with pytest.raises(ReproduceError, match="another profile"):
        reproduce(replace(QUICK, figure1_steps=10), tmp_path, stages=_fake_stages([]), quiet=True)


def test_unwritable_out_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReproduceError, match="cannot write to the output directory"):
        reproduce(QUICK, blocker / "out", stages=_fake_stages([]), quiet=True)
    with pytest.raises(ReproduceError, match="not a directory"):
        reproduce(QUICK, blocker, stages=_fake_stages([]), quiet=True)


def _mnist_stage(calls):
    def run(ctx):
        calls.append(1)
        return StageRecord(status="done")

    return [Stage("mnist-logreg", "MNIST", run, needs="mnist")]


def test_missing_mnist_files_are_named_before_work(tmp_path, monkeypatch):
    monkeypatch.delenv("BEYONDADAM_DATA", raising=False)
    calls = []
    data = tmp_path / "data"
    (data / "mnist").mkdir(parents=True)
    (data / "mnist" / MNIST[0]).write_bytes(b"")
    with pytest.raises(ReproduceError) as err:
        reproduce(QUICK, tmp_path / "out", data_dir=data, stages=_mnist_stage(calls))
    msg = str(err.value)
    assert all(name in msg for name in MNIST[1:])
    assert MNIST[0] + "," not in msg.split("missing in")[1].split(".")[0]
    assert str(data / "mnist") in msg
    assert calls == []
    monkeypatch.setenv("BEYONDADAM_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ReproduceError, match="no data directory"):
        reproduce(QUICK, tmp_path / "out", stages=_mnist_stage(calls))
    # MNIST in the experiments' cache is enough when no data directory is given, once its
    # files pass their checksums (empty files do not)
    cache = tmp_path / "cache" / "mnist"
    cache.mkdir(parents=True)
    for name in MNIST:
        (cache / name).write_bytes(b"")
    monkeypatch.setenv("BEYONDADAM_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ReproduceError, match=r"MNIST cannot be used: .*md5"):
        reproduce(QUICK, tmp_path / "out", stages=_mnist_stage(calls), quiet=True)
    assert calls == []
    if not HAS_MNIST:
        return
    for name in MNIST:
        (cache / name).unlink()
        (cache / name).symlink_to((DATA / "mnist" / name).resolve())
    reproduce(QUICK, tmp_path / "out", stages=_mnist_stage(calls), quiet=True)
    assert calls == [1]


def test_dataset_status_asks_the_loader(tmp_path, monkeypatch):
    monkeypatch.delenv("BEYONDADAM_DATA", raising=False)
    monkeypatch.setenv("BEYONDADAM_CACHE", str(tmp_path / "empty-cache"))
    st = dataset_status("cifar10", tmp_path)
    assert not st.ready
    assert "not found" in st.reason
    assert "\n" not in st.reason
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for i in range(1, 5):
        (folder / f"data_batch_{i}.bin").write_bytes(b"")
    assert not dataset_status("cifar10", tmp_path).ready  # data_batch_5.bin missing
    (folder / "data_batch_5.bin").write_bytes(b"")
    (folder / "test_batch_first1000.bin").write_bytes(b"")
    st = dataset_status("cifar10", tmp_path)  # all there, but not the official files
    assert not st.ready
    assert "sha256" in st.reason
    assert not dataset_status("cifar10", None).ready  # no directory, empty cache: no download
    with pytest.raises(ValueError, match="dataset must be one of"):
        dataset_status("imagenet", tmp_path)


@needs_cifar
def test_dataset_status_counts_the_test_images():
    st = dataset_status("cifar10", DATA)
    assert st.ready
    # the shared copy holds the documented 1,000-record subset, or the full official test set
    has_full = (DATA / "cifar-10-batches-bin" / "test_batch.bin").is_file()
    assert (st.n_test, st.test_complete) == ((10_000, True) if has_full else (1000, False))


def test_profiles_are_data():
    assert set(PROFILES) == {"quick", "paper", "family"}
    assert PAPER.training["mnist-logreg"].seeds == 5
    assert QUICK.training["mnist-logreg"].seeds == 3
    assert PAPER.training["mnist-logreg"].beta2s == (0.99, 0.999)
    assert QUICK.training["mnist-logreg"].beta2s == (0.99, 0.999)
    assert PAPER.training["mnist-logreg"].lrs is None  # the task's full grid
    assert PAPER.training["mnist-logreg"].steps is None  # the task's default length
    from beyondadam.experiments import TASKS

    for p in (QUICK, PAPER):
        # one id per task: the profile, the stages and the experiments use the task's own id
        assert set(p.training) <= set(TASKS)
        assert set(p.training) == {s.id for s in STAGES if s.needs != "none"}
        assert not p.benchmark_tasks  # only the family profile runs the benchmark
        assert p.optimizers[0] == "adam"
    for task in ("mnist-logreg", "mnist-mlp"):
        # quick trims iterations (and its report says so), never the lr grid: a trimmed grid
        # once made a quick verdict that the full protocol contradicts
        assert QUICK.training[task].lrs is None
        assert QUICK.training[task].beta2s == TASKS[task].beta2_grid
    assert PAPER.figure1_steps == 5_000_000
    assert QUICK.training["cifarnet"].seeds == 1  # one seed: the claims table says it is too few
    with pytest.raises(KeyError, match="known profiles"):
        get_profile("fast")


def test_cifar_absent_is_not_run_with_reason_and_command(tmp_path):
    res = reproduce(QUICK, tmp_path / "out", data_dir=tmp_path, only=["cifarnet"], quiet=True)
    rec = res.data["stages"]["cifarnet"]
    assert rec["status"] == "not run"
    assert "CIFAR-10 (binary version) not found" in rec["reason"]
    assert "beyondadam reproduce" in rec["command"]
    assert f"--data-dir {tmp_path}" in rec["command"]
    md = res.report_md.read_text()
    assert "CIFAR-10 (binary version) not found" in md


def test_stage_list_matches_issue_order():
    assert [s.id for s in STAGES] == [
        "figure1",
        "theorem1",
        "atlas",
        "family",
        "mnist-logreg",
        "mnist-mlp",
        "cifarnet",
        "benchmark",
    ]


def test_cli_errors_before_work(tmp_path, monkeypatch):
    monkeypatch.delenv("BEYONDADAM_DATA", raising=False)
    runner = CliRunner()
    res = runner.invoke(main, ["reproduce", "--profile", "fast", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "unknown profile 'fast'" in res.output
    res = runner.invoke(
        main, ["reproduce", "--out", str(tmp_path / "o"), "--data-dir", str(tmp_path)]
    )
    assert res.exit_code == 1
    assert "MNIST files missing" in res.output
    assert not (tmp_path / "o" / "results.json").exists()
    res = runner.invoke(
        main, ["reproduce", "--executor", "dask", "--out", str(tmp_path / "d"), "--only", "atlas"]
    )
    assert res.exit_code == 1
    assert "--scheduler" in res.output
    res = runner.invoke(main, ["reproduce", "--help"])
    assert res.exit_code == 0
    assert "--profile" in res.output
    assert {"reproduce", "report"} <= set(main.commands)


def test_docs_profiles_not_left_stale():
    # the README/docs quote each profile's expected wall time from the profile itself
    for p in PROFILES.values():
        assert p.expected_wall_time
    assert Path(__file__).name.startswith("test_reproduce")


def test_profile_optimizers_are_checked_before_work(tmp_path):
    from dataclasses import replace

    calls = []
    bad = replace(QUICK, optimizers=("adam", "amsgrad", "adamw2"))
    with pytest.raises(ReproduceError, match=r"unknown optimizer.*adamw2"):
        reproduce(bad, tmp_path, stages=_fake_stages(calls), quiet=True)
    assert calls == []
    assert not (tmp_path / "results.json").exists()
    with pytest.raises(ReproduceError, match=r"unknown optimizer.*adopt2"):
        reproduce(
            replace(QUICK, atlas_optimizers=("adopt2",)),
            tmp_path,
            stages=_fake_stages(calls),
            quiet=True,
        )
    with pytest.raises(ValueError, match="optimizers must be"):
        replace(QUICK, optimizers=())
    with pytest.raises(ValueError, match="optimizers must be"):
        replace(QUICK, optimizers=("adam", "adam"))
