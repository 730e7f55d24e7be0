"""End to end through the real simulator and training code, with a tiny profile."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from beyondadam.reporting.claims import VERDICTS
from beyondadam.reporting.pipeline import STAGES, reproduce
from beyondadam.reporting.profiles import QUICK, TrainingProfile
from tests.datasets import DATA, HAS_MNIST

pytestmark = pytest.mark.slow

TINY = replace(
    QUICK,
    name="tiny",
    figure1_steps=20_000,
    figure1_seeds=2,
    theorem1_steps=5_000,
    theorem1_cs=(3.0, 5.0),
    atlas_grid=3,
    atlas_steps=2_000,
    family_steps=2_000,
    family_problems=("paper_online", "paper_stochastic"),
    family_seeds=2,
    training={
        "mnist-logreg": TrainingProfile(
            steps=60, lrs=(1e-2,), beta2s=(0.999,), seeds=2, eval_every=30
        ),
        "mnist-mlp": TrainingProfile(
            steps=60, lrs=(1e-3,), beta2s=(0.999,), seeds=2, eval_every=30
        ),
        "cifarnet": TrainingProfile(steps=2, lrs=(1e-3,), beta2s=(0.999,), seeds=2, eval_every=1),
    },
)


def _data_dir() -> Path | None:
    return DATA.resolve() if HAS_MNIST else None


def test_synthetic_stages_end_to_end(tmp_path):
    out = tmp_path / "out"
    res = reproduce(TINY, out, only=["figure1", "theorem1", "atlas"], quiet=True)
    assert res.ran == ["figure1", "theorem1", "atlas"]
    data = json.loads((out / "results.json").read_text())
    f1 = data["stages"]["figure1"]["numbers"]
    assert f1["online"]["T"] == 20_000
    assert len(f1["stochastic"]["optimizers"]["amsgrad"]["x_T_seeds"]) == 2
    for setting in ("online", "stochastic"):
        for opt in ("adam", "amsgrad"):
            o = f1[setting]["optimizers"][opt]
            assert -1.0 <= o["x_T"] <= 1.0
            assert o["avg_regret_T"] == pytest.approx(o["avg_regret_T"])  # finite
    assert data["stages"]["theorem1"]["numbers"]["C"] == [3.0, 5.0]
    for sid in ("figure1", "theorem1", "atlas"):
        figs = data["stages"][sid]["figures"]
        assert figs
        assert all((out / f["path"]).is_file() for f in figs)
    page = (out / "report.html").read_text()
    assert page.count('<img src="data:image/png;base64,') == 3
    # the atlas's interactive data: every cell of every optimizer with its trajectory
    live = data["stages"]["atlas"]["figures"][0]["interactive"]
    atlas_data = json.loads((out / live).read_text())
    assert [o["name"] for o in atlas_data["optimizers"]] == ["Adam", "AMSGrad", "ADOPT"]
    assert atlas_data["traj_x"]["shape"] == [3 * 3 * 3, len(atlas_data["steps"])]
    assert 'class="ia ia-atlas"' in page
    # the family stage: every catalog optimizer on the two problems, its table and figure
    res = reproduce(TINY, out, only=["family"], quiet=True)
    assert res.ran == ["family"]
    fam = json.loads((out / "results.json").read_text())["stages"]["family"]
    n = fam["numbers"]
    assert (n["kind"], n["T"], n["seeds"]) == ("family", 2_000, 2)
    assert n["problems"] == ["paper_online", "paper_stochastic"]
    assert {r["key"] for r in n["runs"]} >= {"adam", "amsgrad", "adopt", "sgd"}
    assert {r["verdict"] for r in n["runs"]} <= {"converges", "fails", "undecided"}
    assert [Path(f["path"]).name for f in fam["figures"]] == ["family.png"]
    md = (out / "report.md").read_text()
    assert "| AMSGrad | paper betas, lr=0.5 |" in md
    assert "by the rate of its regret, Adam fails to converge and AMSGrad converges" in md
    assert (out / "report.html").read_text().count('<img src="data:image/png;base64,') == 4
    # rerun: every stage is stored as done, nothing reruns
    again = reproduce(TINY, out, only=["figure1", "theorem1", "atlas", "family"], quiet=True)
    assert again.ran == []
    assert again.skipped == ["figure1", "theorem1", "atlas", "family"]


def test_training_stages_end_to_end(tmp_path):
    data_dir = _data_dir()
    if data_dir is None:
        pytest.skip("MNIST not found: set BEYONDADAM_DATA to a folder with mnist/")
    out = tmp_path / "out"
    only = ["mnist-logreg"] + (["cifarnet"] if (data_dir / "cifar-10-batches-bin").is_dir() else [])
    res = reproduce(TINY, out, data_dir=data_dir, only=only, workers=1, quiet=True)
    assert res.failed == []
    data = json.loads((out / "results.json").read_text())
    rec = data["stages"]["mnist-logreg"]
    assert rec["status"] == "done"
    for opt in ("adam", "amsgrad"):
        o = rec["numbers"]["optimizers"][opt]
        assert len(o["final_train_loss"]) == 2
        assert len(o["final_test_accuracy"]) == 2
    assert (out / "mnist-logreg" / "results.sqlite").is_file()
    assert all((out / f["path"]).is_file() for f in rec["figures"])
    if "cifarnet" in only:
        cif = data["stages"]["cifarnet"]
        assert cif["status"] == "done"
        full = (data_dir / "cifar-10-batches-bin" / "test_batch.bin").is_file()
        assert cif["numbers"]["n_test"] == (10_000 if full else 1000)
        assert cif["numbers"]["test_complete"] is full
    md = (out / "report.md").read_text()
    assert "MNIST logistic regression" in md
    from beyondadam.reporting.claims import evaluate_claims
    from beyondadam.reporting.results import parse_stages

    outcomes = {c.id: o for c, o in evaluate_claims(parse_stages(data))}
    assert outcomes["mnist-logreg-train"].verdict in VERDICTS
    assert outcomes["mnist-logreg-train"].verdict != "not run"


def test_cifar_absent_is_not_run_with_reason(tmp_path):
    data_dir = _data_dir()
    if data_dir is None:
        pytest.skip("MNIST not found: set BEYONDADAM_DATA to a folder with mnist/")
    # a data dir with MNIST only
    only_mnist = tmp_path / "data"
    (only_mnist / "mnist").mkdir(parents=True)
    for f in (data_dir / "mnist").iterdir():
        (only_mnist / "mnist" / f.name).symlink_to(f)
    res = reproduce(TINY, tmp_path / "out", data_dir=only_mnist, only=["cifarnet"], quiet=True)
    rec = res.data["stages"]["cifarnet"]
    assert rec["status"] == "not run"
    assert "CIFAR-10 (binary version) not found" in rec["reason"]
    assert "beyondadam reproduce" in rec["command"]
    assert "--data-dir" in rec["command"]
    assert [s.id for s in STAGES][-2:] == ["cifarnet", "benchmark"]
