"""The training device: CPU results unchanged, the device path exact, CUDA where there is one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import beyondadam.experiments.batched as batched_mod
import beyondadam.experiments.runner as runner_mod
from beyondadam.cli import main
from beyondadam.experiments import RunConfig, check_device, train
from beyondadam.experiments.batched import train_batched
from beyondadam.experiments.device import engine_name

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CUDA = torch.cuda.is_available()


def cfg(task="mnist-logreg", opt="adam", seed=0, steps=20, ev=10):
    return RunConfig.make(task, opt, {"lr": 1e-2}, seed=seed, steps=steps, eval_every=ev)


def same(a, b):
    assert a.config.key == b.config.key
    assert np.array_equal(a.train_loss, b.train_loss)
    assert np.array_equal(a.test_loss, b.test_loss)
    assert np.array_equal(a.test_acc, b.test_acc)


def test_cpu_device_is_the_default_bit_for_bit(mnist):
    c = cfg()
    default, cpu = train(c, mnist), train(c, mnist, device="cpu")
    same(default, cpu)
    assert default.engine == cpu.engine == "plain"
    cs = [cfg(), cfg(opt="amsgrad", seed=1)]
    for a, b in zip(train_batched(cs, mnist), train_batched(cs, mnist, device="cpu"), strict=True):
        same(a, b)
        assert a.engine == b.engine == "batched[2]"


def test_device_path_on_the_cpu_is_exact_and_resumes(mnist, tmp_path, monkeypatch):
    """The engines' device branches (moves, host copies, checkpoints) with the CPU as device."""
    c = cfg(steps=30)
    ref = train(c, mnist)
    cs = [cfg(), cfg(opt="amsgrad", seed=1)]
    ref_b = train_batched(cs, mnist)
    as_device = lambda d: torch.device("cpu")  # noqa: E731 - the non-None branch on the CPU
    monkeypatch.setattr(runner_mod, "resolve", as_device)
    monkeypatch.setattr(batched_mod, "resolve", as_device)
    moved = train(c, mnist)
    same(ref, moved)
    assert moved.engine == "plain[cpu]"
    for a, b in zip(ref_b, train_batched(cs, mnist), strict=True):
        same(a, b)
        assert b.engine == "batched[2][cpu]"
    ck = tmp_path / "ck.pt"
    with pytest.raises(ZeroDivisionError):  # stop after step 17: a checkpoint at step 10 is kept
        train(c, mnist, checkpoint=ck, checkpoint_every=10, progress=_stop_at(17))
    assert ck.is_file()
    same(ref, train(c, mnist, checkpoint=ck))


def _stop_at(n):
    seen = {"n": 0}

    def progress(k, loss):
        seen["n"] += k
        if seen["n"] == n:
            raise ZeroDivisionError

    return progress


def test_engine_name_records_the_device():
    assert engine_name("plain", None) == "plain"
    assert engine_name("plain", torch.device("cuda", 0)) == "plain[cuda:0]"
    assert engine_name("batched[3]", torch.device("cuda")) == "batched[3][cuda]"


@pytest.mark.parametrize("name", ["tpu", "cuda:x", "", "mps"])
def test_check_device_refuses_unknown_names(name):
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda' or 'cuda:N'") as e:
        check_device(name)
    assert "\n" not in str(e.value)


def test_check_device_accepts_cpu():
    assert check_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(CUDA, reason="CUDA is available here")
def test_unavailable_cuda_is_one_line_from_library_and_cli(tmp_path):
    with pytest.raises(ValueError, match=r"torch.cuda.is_available\(\) is False"):
        check_device("cuda")
    with pytest.raises(ValueError, match="is_available"):
        train(cfg(), device="cuda")
    args = ["train", "--task", "mnist-logreg", "--optimizer", "adam", "--steps", "5"]
    r = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "o"), "--device", "cuda"])
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output
    last = r.output.strip().splitlines()[-1]
    assert "--device" in last, r.output
    assert "torch.cuda.is_available() is False" in last, r.output
    assert not (tmp_path / "o" / "results.sqlite").exists()  # refused before any work


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
def test_cuda_matches_cpu_and_resumes_bit_identically(mnist, tmp_path):
    c = cfg("mnist-mlp", steps=40, ev=20)
    cpu, gpu = train(c, mnist), train(c, mnist, device="cuda")
    assert gpu.engine == "plain[cuda]"
    assert gpu.config.key == cpu.config.key
    np.testing.assert_allclose(gpu.train_loss, cpu.train_loss, rtol=1e-4)
    np.testing.assert_allclose(gpu.test_loss, cpu.test_loss, rtol=1e-4)
    ck = tmp_path / "ck.pt"
    with pytest.raises(ZeroDivisionError):
        train(c, mnist, checkpoint=ck, checkpoint_every=10, progress=_stop_at(25), device="cuda")
    same(gpu, train(c, mnist, checkpoint=ck, device="cuda"))
    cs = [c, cfg("mnist-mlp", opt="amsgrad", seed=1, steps=40, ev=20)]
    cpu_b, gpu_b = train_batched(cs, mnist), train_batched(cs, mnist, device="cuda")
    for a, b in zip(cpu_b, gpu_b, strict=True):
        assert b.engine == "batched[2][cuda]"
        np.testing.assert_allclose(b.train_loss, a.train_loss, rtol=1e-4)
