"""The benchmark's tasks: new models and losses, the validation split, targets, store v2."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3

import numpy as np
import pytest
import torch

from beyondadam.experiments import ResultStore, RunConfig, get_task, load_dataset, train
from beyondadam.experiments import batched as engine
from beyondadam.experiments import store as store_mod
from beyondadam.experiments import tasks as tasks_mod
from beyondadam.experiments.data import Dataset
from beyondadam.experiments.interrupt import Interrupted, handle_signals
from beyondadam.experiments.losses import RECONSTRUCTION
from beyondadam.experiments.models import Autoencoder, QuadraticDeep, deep_quadratic_hessian
from beyondadam.experiments.splits import validation_indices, with_validation
from beyondadam.experiments.stacked import StackedModel
from beyondadam.experiments.tasks import TASKS, Target
from tests.conftest import sigterm_after

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def cfg(task, lr=1e-3, seed=0, steps=12, ev=6, opt="adam", validation=False, batch_size=None):
    return RunConfig.make(
        task,
        opt,
        {"lr": lr},
        seed=seed,
        steps=steps,
        eval_every=ev,
        validation=validation,
        batch_size=batch_size,
    )


# ------------------------------------------------------------------------------------ the tasks


def test_every_task_declares_the_benchmark_fields():
    assert {"quadratic-deep", "mnist-cnn", "mnist-ae", "cifar-vgg"} <= set(TASKS)
    for name, task in TASKS.items():
        assert task.target is not None, name
        assert 0 < task.val_size, name
        assert task.cpu == (task.dataset != "cifar10"), name
        with torch.device("meta"):
            model = task.make_model()
        assert sum(p.numel() for p in model.parameters()) == task.params, name
    assert not get_task("mnist-ae").has_accuracy
    assert not get_task("quadratic-deep").has_accuracy
    assert get_task("mnist-cnn").has_accuracy


def test_deep_quadratic_matches_its_definition():
    """DeepOBS's spectrum (90 in (0, 1), 10 in (30, 60)), theta0 = 1, 0.5 q^T Q q per example."""
    hessian = deep_quadratic_hessian()
    eig = np.linalg.eigvalsh(hessian)
    assert np.allclose(hessian, hessian.T)
    assert ((eig[:90] > 0) & (eig[:90] < 1)).all()
    assert ((eig[90:] > 30) & (eig[90:] < 60)).all()
    assert not np.allclose(hessian, np.diag(np.diag(hessian)))  # rotated
    model = QuadraticDeep()
    assert torch.equal(model.theta.detach(), torch.ones(100))
    x = torch.randn(3, 100)
    q = (torch.ones(100) - x).double()
    ref = 0.5 * torch.einsum("bi,ij,bj->b", q, torch.from_numpy(hessian.copy()), q)
    torch.testing.assert_close(model(x).double(), ref, rtol=1e-5, atol=1e-3)
    data = load_dataset("quadratic")  # synthetic: no files, same every time
    assert data.x_train.shape == data.x_test.shape == (1000, 100)
    assert abs(float(data.x_train.std()) - 0.6) < 0.01
    assert not torch.equal(data.x_train, data.x_test)


def test_quadratic_trains_deterministically_without_accuracy():
    c = cfg("quadratic-deep", lr=0.03, steps=40, ev=20)
    r1, r2 = train(c), train(c)
    assert r1.status == "done"
    assert r1.test_loss[-1] < 0.5 * r1.train_loss[0]  # theta starts far from the optimum
    assert np.isnan(r1.test_acc).all()
    assert np.array_equal(r1.train_loss, r2.train_loss)
    assert np.array_equal(r1.test_loss, r2.test_loss)
    assert not engine.supports(c)
    other = train(dataclasses.replace(c, seed=1))
    assert not np.array_equal(r1.train_loss, other.train_loss)  # the data order differs


@pytest.mark.parametrize("task", ["mnist-cnn", "mnist-ae"])
def test_mnist_tasks_train_and_are_bit_identical(mnist, task):
    c = cfg(task, steps=30, ev=15)
    r1, r2 = train(c, mnist), train(c, mnist)
    assert r1.status == "done"
    assert r1.train_loss[-5:].mean() < 0.9 * r1.train_loss[:3].mean()
    assert np.array_equal(r1.train_loss, r2.train_loss)
    assert np.array_equal(r1.test_loss, r2.test_loss)
    assert np.isnan(r1.test_acc).all() == (task == "mnist-ae")
    assert engine.supports(c) == (task == "mnist-ae")


@pytest.mark.parametrize(
    ("task", "validation"),
    [("mnist-ae", False), ("mnist-ae", True), ("mnist-logreg", True), ("mnist-mlp", True)],
)
def test_batched_equals_plain_with_validation_and_the_autoencoder(mnist, task, validation):
    """The stacked losses give the plain loop's runs (any seed mix, with or without validation)."""
    cfgs = [
        cfg(task, lr=1e-3, seed=0, ev=12, validation=validation),
        cfg(task, lr=3e-3, seed=1, ev=12, opt="amsgrad", validation=validation),
        cfg(task, lr=0.05, seed=0, ev=12, opt="sgd", validation=validation),
    ]
    for c, rb in zip(cfgs, engine.train_batched(cfgs, mnist), strict=True):
        ref = train(c, mnist)
        assert rb.engine == "batched[3]"
        np.testing.assert_allclose(rb.train_loss, ref.train_loss, rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(rb.test_loss, ref.test_loss, rtol=2e-4)
        assert len(rb.val_loss) == (1 if validation else 0)
        np.testing.assert_allclose(rb.val_loss, ref.val_loss, rtol=2e-4)


def test_stacked_reconstruction_gradients_are_autograds():
    torch.manual_seed(0)
    models = [Autoencoder() for _ in range(2)]
    net, params = StackedModel(models[0]), StackedModel.stack(models)
    x = torch.rand(2, 8, 784)
    y = torch.zeros(2, 8, dtype=torch.int64)
    loss, grads = net.loss_and_grads(params, x, y, RECONSTRUCTION)
    for c, m in enumerate(models):
        m.zero_grad()
        ref = RECONSTRUCTION.mean(m(x[c]), x[c], y[c])
        ref.backward()
        torch.testing.assert_close(loss[c], ref.detach(), rtol=1e-5, atol=1e-4)
        for g, p in zip(grads, m.parameters(), strict=True):
            torch.testing.assert_close(g[c], p.grad, rtol=1e-4, atol=1e-5)


def _fake_cifar(n_train: int = 64, n_test: int = 16) -> Dataset:
    gen = torch.Generator().manual_seed(0)

    def images(n):
        return torch.randint(0, 256, (n, 3, 32, 32), generator=gen, dtype=torch.uint8)

    return Dataset(
        name="cifar10",
        x_train=images(n_train),
        y_train=torch.randint(0, 10, (n_train,), generator=gen),
        x_test=images(n_test),
        y_test=torch.randint(0, 10, (n_test,), generator=gen),
        test_note="test: synthetic",
        test_complete=False,
        source="test",
    )


def test_cifar_vgg_trains_a_few_steps_on_cpu():
    c = cfg("cifar-vgg", steps=3, ev=3, batch_size=8)
    r1, r2 = train(c, _fake_cifar()), train(c, _fake_cifar())
    assert r1.status == "done"
    assert len(r1.train_loss) == 3
    assert np.isfinite(r1.test_loss).all()
    assert 0 <= r1.test_acc[-1] <= 1
    assert np.array_equal(r1.train_loss, r2.train_loss)
    assert not engine.supports(c)


# ---------------------------------------------------------------------------- validation split


def test_validation_split_is_fixed_and_disjoint():
    tr, val = validation_indices(1000, 200)
    assert len(tr) == 800
    assert len(val) == 200
    assert set(tr.tolist()).isdisjoint(val.tolist())
    assert sorted(tr.tolist() + val.tolist()) == list(range(1000))
    tr2, val2 = validation_indices(1000, 200)
    assert torch.equal(val, val2)
    assert torch.equal(tr, tr2)
    assert val.tolist() != list(range(800, 1000))  # a permutation, not the last rows
    with pytest.raises(ValueError, match=r"val_size must be in 1\.\.999"):
        validation_indices(1000, 1000)


def test_validation_run_never_trains_on_the_split(monkeypatch):
    """Every training minibatch of a validation run avoids the split, for every seed."""
    task = get_task("quadratic-deep")
    data = load_dataset("quadratic")
    split = with_validation(data, task.val_size)
    assert split.x_val is not None
    held_out = {tuple(row) for row in split.x_val.tolist()}
    seen: list[torch.Tensor] = []

    def spy(x):
        seen.append(x.clone())
        return x

    monkeypatch.setitem(TASKS, task.name, dataclasses.replace(task, preprocess=spy))
    results = []
    for seed in (0, 1):
        seen.clear()
        results.append(train(cfg(task.name, lr=0.03, seed=seed, steps=14, ev=7, validation=True)))
        trained = [b for b in seen if len(b) == 128]
        assert len(trained) == 14
        rows = {tuple(row) for b in trained for row in b.tolist()}
        assert rows.isdisjoint(held_out)
        assert any(len(b) == task.val_size and torch.equal(b, split.x_val) for b in seen)
    r = results[0]
    assert r.test_steps.tolist() == [7, 14]
    assert len(r.val_loss) == 2
    assert r.final_val_loss() == r.val_loss[-1]
    # without validation the run trains on all 1,000 points and has no validation curve
    plain = train(cfg(task.name, lr=0.03, steps=14, ev=7))
    assert len(plain.val_loss) == 0
    assert plain.final_val_loss() == math.inf


def test_validation_run_resumes_bit_identically(tmp_path):
    c = cfg("quadratic-deep", lr=0.03, steps=40, ev=10, validation=True)
    ref = train(c)
    ck = tmp_path / "ck.pt"
    with handle_signals(), pytest.raises(Interrupted):
        train(c, progress=sigterm_after(23), checkpoint=ck, checkpoint_every=10**9)
    res = train(c, checkpoint=ck)
    assert np.array_equal(res.train_loss, ref.train_loss)
    assert np.array_equal(res.val_loss, ref.val_loss)
    assert len(res.val_loss) == 4


def test_batched_validation_group_resumes_bit_identically(mnist, tmp_path):
    group = [cfg("mnist-logreg", lr=1e-2, seed=s, steps=20, ev=5, validation=True) for s in (0, 1)]
    ref = engine.train_batched(group, mnist)
    ck = tmp_path / "group.pt"
    with handle_signals(), pytest.raises(Interrupted):
        engine.train_batched(group, mnist, sigterm_after(2 * 12), ck, checkpoint_every=10**9)
    res = engine.train_batched(group, mnist, checkpoint=ck)
    for a, b in zip(ref, res, strict=True):
        assert np.array_equal(a.train_loss, b.train_loss)
        assert np.array_equal(a.val_loss, b.val_loss)
        assert len(b.val_loss) == 4


def test_validation_changes_the_key_only_when_set():
    base = RunConfig.make("mnist-logreg", "adam", {"lr": 0.01, "betas": [0.9, 0.999]}, seed=3)
    # pinned: the key of this configuration before the validation field existed
    assert base.key == "12d44098f821544a"
    assert "validation" not in base.to_dict()
    val = dataclasses.replace(base, validation=True)
    assert val.key != base.key
    assert val.to_dict()["validation"] is True
    assert RunConfig(**val.to_dict()) == val


# ------------------------------------------------------------------------------------- targets


def test_target_first_reached():
    steps = np.array([100, 200, 300, 400])
    acc = Target("test_acc", 0.9)
    assert acc.first_reached(steps, np.array([0.5, 0.89, 0.9, 0.95])) == 300
    assert acc.first_reached(steps, np.array([0.5, np.nan, 0.6, 0.7])) is None
    loss = Target("test_loss", 1.0)
    assert loss.first_reached(steps, np.array([3.0, 0.99, 2.0, 0.5])) == 200
    assert loss.first_reached(steps, np.array([np.nan, 1.5, 1.2, 1.01])) is None
    assert loss.first_reached(steps[:0], np.array([])) is None
    with pytest.raises(ValueError, match="metric must be one of"):
        Target("val_loss", 1.0)


# --------------------------------------------------------------------------------------- store

_V1_SCHEMA = """
CREATE TABLE runs (
    key TEXT PRIMARY KEY, task TEXT NOT NULL, optimizer TEXT NOT NULL, hparams TEXT NOT NULL,
    seed INTEGER NOT NULL, steps INTEGER NOT NULL, eval_every INTEGER NOT NULL,
    batch_size INTEGER NOT NULL, status TEXT NOT NULL, diverged_step INTEGER,
    final_train_loss REAL, final_test_loss REAL, final_test_acc REAL, wall_time REAL,
    test_note TEXT, engine TEXT, finished_at REAL
);
CREATE TABLE curves (
    key TEXT NOT NULL REFERENCES runs(key), name TEXT NOT NULL, data BLOB NOT NULL,
    dtype TEXT NOT NULL, PRIMARY KEY (key, name)
);
"""


@pytest.mark.parametrize("stamped", [True, False])
def test_version_1_store_is_migrated_in_place(tmp_path, stamped):
    old = RunConfig.make("mnist-logreg", "adam", {"lr": 0.01}, steps=3, eval_every=3)
    with sqlite3.connect(tmp_path / "results.sqlite") as conn:
        conn.executescript(_V1_SCHEMA)
        if stamped:
            conn.execute(f"PRAGMA application_id = {store_mod.APPLICATION_ID}")
            conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (old.key, old.task, old.optimizer, old.hparams, old.seed, old.steps,
             old.eval_every, old.batch_size, "done", None, 0.5, 0.4, 0.9, 1.0, "t", "plain", 0.0),
        )  # fmt: skip
        curves = {
            "train_loss": np.array([1.0, 0.7, 0.5], dtype=np.float32),
            "test_steps": np.array([3]),
            "test_loss": np.array([0.4]),
            "test_acc": np.array([0.9]),
        }
        for name, arr in curves.items():
            conn.execute(
                "INSERT INTO curves VALUES (?,?,?,?)",
                (old.key, name, arr.tobytes(), arr.dtype.str),
            )
    store_mod.check_store(tmp_path)  # accepted: it will be migrated, not refused
    with ResultStore(tmp_path) as st:
        assert st.conn.execute("PRAGMA user_version").fetchone()[0] == 2
        back = st.get(old.key)
        assert back.config == old
        assert back.config.key == old.key
        assert np.array_equal(back.train_loss, curves["train_loss"])
        assert len(back.val_loss) == 0
        new = train(cfg("quadratic-deep", lr=0.03, steps=4, ev=2, validation=True))
        st.put(new)
        df = st.runs().set_index("key")
    assert df.loc[old.key, "validation"] == 0
    assert np.isnan(df.loc[old.key, "final_val_loss"])
    assert df.loc[new.config.key, "validation"] == 1
    assert df.loc[new.config.key, "final_val_loss"] == new.final_val_loss()
    with ResultStore(tmp_path) as st:  # reopening a migrated store changes nothing
        columns = [c[1] for c in st.conn.execute("PRAGMA table_info(runs)")]
        assert columns == list(store_mod._TABLES["runs"])
        again = st.get(new.config.key)
        assert again.config == new.config
        assert np.array_equal(again.val_loss, new.val_loss)
        assert set(st.curves().curve) == {"train_loss", "test_loss", "test_acc", "val_loss"}


def test_diverged_validation_run_stores_an_infinite_val_loss(tmp_path):
    bad = train(cfg("quadratic-deep", lr=1e38, opt="sgd", steps=60, ev=30, validation=True))
    assert bad.status == "diverged"
    assert bad.final_val_loss() == math.inf
    with ResultStore(tmp_path) as st:
        st.put(bad)
        assert st.runs().final_val_loss.tolist() == [math.inf]
        assert json.loads(st.get(bad.config.key).config.hparams) == {"lr": 1e38}


def test_task_module_has_no_string_switch_on_losses():
    """Engines read the loss from the task's Objective, never from its name."""
    import inspect

    from beyondadam.experiments import batched, runner

    for module in (runner, batched):
        source = inspect.getsource(module)
        assert "cross_entropy" not in source
        assert "mnist-ae" not in source
    assert tasks_mod.TASKS["mnist-ae"].objective is RECONSTRUCTION
