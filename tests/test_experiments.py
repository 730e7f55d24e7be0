"""Models, training loop, batched engine vs beyondadam.optim, store, protocol, CLI."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from beyondadam.cli import main as cli
from beyondadam.experiments import (
    ResultStore,
    RunConfig,
    compute_protocol,
    get_task,
    load_curves,
    load_results,
    make_executor,
    mean_ci95,
    run_configs,
    run_protocol,
    train,
)
from beyondadam.experiments import batched as engine
from beyondadam.experiments import stats as engine_stats
from beyondadam.experiments.models import (
    MLP,
    CifarNet,
    LocalResponseNorm,
    LogReg,
    count_parameters,
)
from beyondadam.experiments.stacked import StackedModel, stackable
from tests.datasets import DATA

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def adam(task="mnist-logreg", lr=1e-2, b2=0.999, seed=0, steps=60, ev=30, opt="adam"):
    return RunConfig.make(
        task, opt, {"lr": lr, "betas": [0.9, b2]}, seed=seed, steps=steps, eval_every=ev
    )


# ----------------------------------------------------------------------------------------- models


@pytest.mark.parametrize(
    ("model", "shape", "params"),
    [
        (LogReg(), (5, 784), 7850),
        (MLP(), (5, 784), 784 * 100 + 100 + 100 * 10 + 10),
        (
            CifarNet(),
            (5, 3, 32, 32),
            3 * 64 * 36
            + 64
            + 64 * 64 * 36
            + 64
            + 4096 * 384
            + 384
            + 384 * 192
            + 192
            + 192 * 10
            + 10,
        ),
    ],
)
def test_model_output_shape_and_parameter_count(model, shape, params):
    assert model(torch.zeros(shape)).shape == (5, 10)
    assert count_parameters(model) == params
    name = {LogReg: "mnist-logreg", MLP: "mnist-mlp", CifarNet: "cifarnet"}[type(model)]
    assert get_task(name).params == params


def test_cifarnet_has_lrn_pool_dropout():
    kinds = [type(m).__name__ for m in CifarNet().modules()]
    assert kinds.count("LocalResponseNorm") == 2
    assert kinds.count("MaxPool2d") == 2
    assert kinds.count("Dropout") == 2
    assert kinds.count("Conv2d") == 2
    convs = [m for m in CifarNet().modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(c.kernel_size == (6, 6) and c.out_channels == 64 for c in convs)


@pytest.mark.parametrize(
    ("size", "shape"), [(9, (6, 64, 5, 4)), (4, (3, 10, 7, 7)), (5, (2, 3, 4))]
)
def test_local_response_norm_is_bit_identical_to_torch(size, shape):
    """CIFARNET's faster LRN gives torch's bits, forward and backward (any window, 3-D inputs)."""
    torch.manual_seed(size)
    ours = LocalResponseNorm(size, alpha=0.01, beta=0.75, k=1.0)
    ref = torch.nn.LocalResponseNorm(size, alpha=0.01, beta=0.75, k=1.0)
    x = (torch.randn(shape) * 3).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    y, y_ref = ours(x), ref(x_ref)
    g = torch.randn_like(y)
    y.backward(g)
    y_ref.backward(g)
    assert torch.equal(y, y_ref)
    assert torch.equal(x.grad, x_ref.grad)


# ------------------------------------------------------------------------------------- training


@pytest.mark.parametrize("task", ["mnist-logreg", "mnist-mlp"])
def test_short_run_lowers_loss_and_is_bit_identical(mnist, task):
    cfg = adam(task, lr=1e-2 if task == "mnist-logreg" else 1e-3, steps=120, ev=60)
    r1, r2 = train(cfg, mnist), train(cfg, mnist)
    assert r1.status == "done"
    assert len(r1.train_loss) == 120
    assert r1.train_loss[-20:].mean() < 0.6 * r1.train_loss[:5].mean()
    assert r1.test_steps.tolist() == [60, 120]
    assert r1.test_acc[-1] > 0.8
    assert np.array_equal(r1.train_loss, r2.train_loss)
    assert np.array_equal(r1.test_loss, r2.test_loss)
    other = train(adam(task, lr=cfg.hp["lr"], steps=120, ev=60, seed=1), mnist)
    assert not np.array_equal(r1.train_loss, other.train_loss)


def test_both_engines_use_the_tasks_one_lr_rule(mnist, monkeypatch):
    """lr_t = lr / sqrt(t) for logreg, constant for the MLP, from Task.scheduler in both engines."""
    import beyondadam.experiments.tasks as tasks_mod

    seen = []
    real = tasks_mod.inverse_sqrt

    def spy(opt):
        s = real(opt)
        seen.append(opt)
        return s

    monkeypatch.setattr(tasks_mod, "inverse_sqrt", spy)
    train(adam(steps=4, ev=4), mnist)
    assert len(seen) == 1
    assert math.isclose(seen[0].param_groups[0]["lr"], 1e-2 / math.sqrt(5), rel_tol=1e-9)
    train(adam("mnist-mlp", steps=4, ev=4), mnist)
    assert len(seen) == 1  # the MLP keeps a constant lr
    engine.train_batched([adam(steps=4, ev=4), adam(steps=4, ev=4, opt="amsgrad")], mnist)
    assert len(seen) == 3  # one scheduler per optimizer class of the batch
    for opt in seen[1:]:
        assert all(math.isclose(g["lr"], 1e-2 / math.sqrt(5)) for g in opt.param_groups)
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        dataclasses.replace(get_task("mnist-mlp"), lr_schedule="cosine")


@pytest.mark.parametrize("task", ["mnist-logreg", "mnist-mlp"])
def test_batched_engine_equals_real_optimizers_step_by_step(mnist, task):
    """Whole batched runs (one real optimizer per row) equal the plain loop, step by step."""
    cfgs = [
        adam(task, lr=3e-3, b2=0.99, seed=0, steps=40, ev=20),
        adam(task, lr=1e-2, b2=0.999, seed=0, steps=40, ev=20, opt="amsgrad"),
        adam(task, lr=1e-3, b2=0.99, seed=1, steps=40, ev=20, opt="amsgrad"),
        RunConfig.make(task, "sgd", {"lr": 0.1}, seed=2, steps=40, eval_every=20),
    ]
    assert all(engine.supports(c) for c in cfgs)
    batched = engine.train_batched(cfgs, mnist)
    for cfg, rb in zip(cfgs, batched, strict=True):
        ref = train(cfg, mnist)
        assert ref.engine == "plain"
        assert rb.engine == "batched[4]"
        np.testing.assert_allclose(rb.train_loss, ref.train_loss, rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(rb.test_loss, ref.test_loss, rtol=2e-4)
        np.testing.assert_allclose(rb.test_acc, ref.test_acc, atol=3e-4)
    # the shared-minibatch path (one seed) as well
    same_seed = [
        adam(task, seed=5, steps=25, ev=25),
        adam(task, seed=5, steps=25, ev=25, opt="amsgrad"),
    ]
    for cfg, rb in zip(same_seed, engine.train_batched(same_seed, mnist), strict=True):
        np.testing.assert_allclose(
            rb.train_loss, train(cfg, mnist).train_loss, rtol=2e-4, atol=2e-5
        )


def test_batched_engine_runs_any_optimizer(mnist):
    """Optimizers and flavors beyond Adam run batched too, equal to the plain loop."""
    cfgs = [
        RunConfig.make("mnist-logreg", "adagrad", {"lr": 0.1}, steps=30, eval_every=30),
        RunConfig.make(
            "mnist-logreg",
            "amsgrad",
            {"lr": 0.01, "flavor": "optax", "weight_decay": 1e-4},
            steps=30,
            eval_every=30,
        ),
        RunConfig.make("mnist-logreg", "adamnc", {"lr": 0.01}, seed=3, steps=30, eval_every=30),
    ]
    assert all(engine.supports(c) for c in cfgs)
    for cfg, rb in zip(cfgs, engine.train_batched(cfgs, mnist), strict=True):
        assert rb.engine == "batched[3]"
        np.testing.assert_allclose(
            rb.train_loss, train(cfg, mnist).train_loss, rtol=2e-4, atol=2e-5
        )


def test_cifarnet_falls_back_to_the_plain_loop():
    cfg = RunConfig.make("cifarnet", "adam", {"lr": 1e-3}, steps=1, eval_every=1)
    assert not engine.supports(cfg)
    assert not stackable(CifarNet())
    with pytest.raises(ValueError, match=r"model must be a sequence of nn\.Linear and nn\.ReLU"):
        StackedModel(CifarNet())
    torch.manual_seed(0)
    before = torch.rand(3)
    torch.manual_seed(0)
    assert engine.supports(adam())  # asking does not draw from torch's RNG
    assert torch.equal(torch.rand(3), before)


@pytest.mark.parametrize("make", [LogReg, MLP])
def test_stacked_model_is_the_module_itself(make):
    """The batched engine's forward and gradients are those of the task's own nn.Module."""
    torch.manual_seed(0)
    models = [make() for _ in range(3)]
    net, params = StackedModel(models[0]), StackedModel.stack(models)
    x, y = torch.rand(16, 784), torch.randint(0, 10, (16,))
    per_x = torch.rand(3, 16, 784)
    for shared in (True, False):
        loss, grads = net.loss_and_grads(params, x if shared else per_x, y)
        for c, m in enumerate(models):
            m.zero_grad()
            xc = x if shared else per_x[c]
            ref = torch.nn.functional.cross_entropy(m(xc), y)
            ref.backward()
            torch.testing.assert_close(net.logits(params, x)[c], m(x), rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(loss[c], ref.detach(), rtol=1e-5, atol=1e-6)
            for g, p in zip(grads, m.parameters(), strict=True):
                torch.testing.assert_close(g[c], p.grad, rtol=1e-4, atol=1e-6)


def test_divergence_is_recorded_and_others_go_on(mnist, tmp_path):
    bad = RunConfig.make("mnist-logreg", "sgd", {"lr": 1e38}, steps=100, eval_every=50)
    good = adam(steps=100, ev=50)
    ref = train(bad, mnist)
    assert ref.status == "diverged"
    assert 1 <= ref.diverged_step <= 5
    assert len(ref.train_loss) == ref.diverged_step - 1
    out = run_configs(
        [bad, good],
        tmp_path,
        data_dir=str(DATA),
        quiet=True,
        executor=make_executor(workers=1, threads=1),
    )
    assert out[bad.key].status == "diverged"
    assert out[bad.key].diverged_step == ref.diverged_step
    assert out[good.key].status == "done"
    assert len(out[good.key].train_loss) == 100
    df = load_results(tmp_path)
    assert sorted(df.status) == ["diverged", "done"]
    assert int(df.set_index("key").loc[bad.key, "diverged_step"]) == ref.diverged_step


# ----------------------------------------------------------------------------------------- store


def test_store_roundtrip_idempotent_and_exports(mnist, tmp_path):
    cfg = adam(steps=30, ev=15)
    res = train(cfg, mnist)
    with ResultStore(tmp_path) as st:
        st.put(res)
        st.put(res)  # a duplicate is ignored
        back = st.get(cfg.key)
        assert st.finished_keys() == {cfg.key}
        assert np.array_equal(back.train_loss, res.train_loss)
        assert np.array_equal(back.test_steps, res.test_steps)
        assert back.config == cfg
        st.export(tmp_path / "runs.csv")
        st.export(tmp_path / "curves.parquet", curves=True)
        with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
            st.export(tmp_path / "x.txt")
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert runs.loc[0, "key"] == cfg.key
    assert runs.loc[0, "hp_beta2"] == 0.999
    curves = pd.read_parquet(tmp_path / "curves.parquet")
    assert (curves.curve == "train_loss").sum() == 30
    assert len(load_curves(tmp_path)) == 30 + 2 + 2


def test_config_key_is_stable():
    a = RunConfig.make("mnist-mlp", "adam", {"lr": 1e-3, "betas": [0.9, 0.99]}, steps=10)
    b = RunConfig.make("mnist-mlp", "adam", {"betas": [0.9, 0.99], "lr": 1e-3}, steps=10)
    assert a.key == b.key
    assert len(a.key) == 16
    assert (
        a.key
        != RunConfig.make("mnist-mlp", "adam", {"lr": 1e-3, "betas": [0.9, 0.99]}, steps=11).key
    )


def test_mean_ci95():
    m, lo, hi = mean_ci95(np.array([1.0, 2.0, 3.0]))
    assert m == 2.0
    # scipy.stats.t.ppf(0.975, 2) = 4.302652729911275
    assert math.isclose(hi - m, 4.302652729911275 / math.sqrt(3), rel_tol=1e-6)
    m, lo, hi = mean_ci95(np.array([[1.0, 5.0]]), axis=0)
    assert np.array_equal(lo, hi)


def test_mean_ci95_matches_scipy_for_any_seed_count():
    """One t-interval for experiments and reporting; no table that stops at 31 seeds."""
    scipy_stats = pytest.importorskip("scipy.stats")
    from beyondadam.reporting.stats import mean_band, t_quantile

    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 12, 31, 32, 45):
        v = rng.normal(size=(n, 3))
        _, lo, hi = mean_ci95(v, axis=0)
        want = scipy_stats.t.interval(0.95, n - 1, loc=v.mean(0), scale=scipy_stats.sem(v, axis=0))
        np.testing.assert_allclose(lo, want[0], rtol=1e-6)
        np.testing.assert_allclose(hi, want[1], rtol=1e-6)
        band = mean_band(v[:, 0])
        assert math.isclose(band.hi, float(hi[0]), rel_tol=1e-12)
    assert t_quantile is engine_stats.t_quantile


# -------------------------------------------------------------------------------------- protocol


def test_protocol_selects_by_criterion_and_reruns_seeds(mnist, tmp_path):
    res = run_protocol(
        "mnist-logreg", ["adam", "amsgrad"], lrs=[1e-3, 1e-1], beta2s=[0.99, 0.999], seeds=3,
        steps=60, eval_every=30, out_dir=tmp_path, data_dir=str(DATA),
        workers=1, threads=1, quiet=True,
        select_last_frac=0.5,
    )  # fmt: skip
    assert len(res.grid) == 8
    for opt in ("adam", "amsgrad"):
        g = res.grid[res.grid.optimizer == opt]
        assert res.selected[opt].key == g.loc[g.criterion.idxmin(), "key"]
        assert res.selected[opt].hp["lr"] == 0.1  # the larger lr wins at this horizon
        assert [r.config.seed for r in res.runs[opt]] == [0, 1, 2]
        assert res.train_curves(opt).shape == (3, 60)
    assert set(res.summary.optimizer) == {"adam", "amsgrad"}
    row = res.summary.set_index("optimizer").loc["adam"]
    vals = [r.final_train_loss(0.5) for r in res.runs["adam"]]
    assert math.isclose(row.final_train_loss_mean, np.mean(vals))
    assert row.final_train_loss_lo < row.final_train_loss_mean < row.final_train_loss_hi
    assert "full official" in row.test_note
    assert all(p.is_file() and p.stat().st_size > 1000 for p in res.plots)
    assert (
        json.loads((tmp_path / f"{res.stem}_protocol.json").read_text())["task"] == "mnist-logreg"
    )
    assert res.stem.startswith("mnist-logreg-")
    # 8 grid + 2 x 2 new seeds (seed 0 reuses the grid run)
    assert len(load_results(tmp_path)) == 12
    again = run_protocol(
        "mnist-logreg", ["adam", "amsgrad"], lrs=[1e-3, 1e-1], seeds=3, steps=60, eval_every=30,
        out_dir=tmp_path, data_dir=str(DATA),
        workers=1, threads=1, quiet=True, select_last_frac=0.5,
        plot=False,
    )  # fmt: skip
    assert len(load_results(tmp_path)) == 12
    pd.testing.assert_frame_equal(again.summary, res.summary)
    assert again.tag == res.tag  # the same configuration names the same files


def test_compute_protocol_returns_data_and_writes_only_the_store(mnist, tmp_path):
    res = compute_protocol(
        "mnist-logreg", ["adam"], lrs=[1e-2], beta2s=[0.999], seeds=2, steps=20, eval_every=20,
        out_dir=tmp_path, data_dir=str(DATA), workers=1, threads=1, quiet=True,
    )  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.sqlite"]
    assert res.plots == []
    assert res.train_curves("adam").shape == (2, 20)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"task": "mnist-rnn"}, "task must be one of"),
        ({"optimizers": ["adamw"]}, "unknown optimizer .adamw."),
        ({"lrs": [-1.0]}, "lr must be"),
        ({"beta2s": [1.0]}, "beta2"),
        ({"seeds": 0}, "seeds must be"),
        ({"select_last_frac": 0.0}, "select_last_frac"),
        ({"data_dir": "/nonexistent-dir"}, "MNIST files not found"),
        ({"executor": "ray"}, "executor must be one of"),
        ({"executor": "dask"}, "needs a scheduler"),
    ],
)
def test_protocol_bad_input_fails_before_training(tmp_path, monkeypatch, kwargs, match):
    import beyondadam.experiments.protocol as protocol_mod

    monkeypatch.setattr(
        protocol_mod, "run_configs", lambda *a, **k: pytest.fail("training started")
    )
    args = {
        "task": "mnist-logreg",
        "optimizers": ["adam"],
        "out_dir": tmp_path,
        "data_dir": str(DATA),
        "quiet": True,
    }
    args |= kwargs
    with pytest.raises((ValueError, RuntimeError), match=match):
        run_protocol(args.pop("task"), **args)


# ------------------------------------------------------------------------------------------- CLI


def test_cli_train_and_sweep_and_export(mnist, tmp_path):
    runner = CliRunner()
    r = runner.invoke(
        cli, ["train", "--task", "mnist-mlp", "-o", "amsgrad", "--lr", "1e-3", "--steps", "30",
              "--eval-every", "30", "--out", str(tmp_path), "--data-dir", str(DATA), "-q",
              "--threads", "1"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "done; final train loss" in r.output
    assert "full official test set" in r.output
    r = runner.invoke(
        cli, ["sweep", "--task", "mnist-logreg", "--lrs", "0.01,0.1", "--beta2s", "0.999",
              "--seeds", "2", "--steps", "20", "--eval-every", "20",
              "--workers", "1", "--threads", "1",
              "--out", str(tmp_path), "--data-dir", str(DATA), "--quiet", "--no-plot"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "adam " in r.output
    assert "amsgrad" in r.output
    assert "final train loss" in r.output
    r = runner.invoke(cli, ["export-results", str(tmp_path), str(tmp_path / "r.csv")])
    assert r.exit_code == 0
    assert len(pd.read_csv(tmp_path / "r.csv")) == 1 + 4 + 2


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["train", "--task", "nope"], "Invalid value for '--task'"),
        (["train", "--task", "mnist-mlp", "-o", "adamw"], "unknown optimizer 'adamw'"),
        (["train", "--task", "mnist-mlp", "--beta2", "1.5"], "beta2"),
        (["train", "--task", "mnist-mlp", "--lr", "0"], "Invalid value for '--lr'"),
        (["train", "--task", "mnist-mlp", "--steps", "0"], "Invalid value for '--steps'"),
        (["sweep", "--seeds", "0"], "Invalid value for '--seeds'"),
        (["sweep", "--lrs", "a,b"], "comma-separated numbers"),
    ],
)
def test_cli_bad_input(tmp_path, args, match):
    r = CliRunner().invoke(cli, [*args, "--out", str(tmp_path), "--data-dir", str(DATA)])
    assert r.exit_code != 0
    assert match in r.output, r.output
    assert not (tmp_path / "results.sqlite").exists()


def test_cli_missing_data_dir(tmp_path):
    r = CliRunner().invoke(cli, ["train", "--task", "mnist-mlp", "--out", str(tmp_path / "o"),
                                 "--data-dir", str(tmp_path)])  # fmt: skip
    assert r.exit_code == 1
    assert "t10k-images-idx3-ubyte.gz" in r.output
