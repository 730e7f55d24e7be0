"""`beyondadam benchmark`, the reproduction's benchmark stage and its report section.

The runs are not trained here: ``run_benchmark`` is replaced by one returning the sample's
constructed data (the end-to-end benchmark is tested with the runner); what is checked is the
option contract, the files written, the summary and the report section.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner

from beyondadam.cli import main
from beyondadam.experiments import benchmark as bench
from beyondadam.reporting import QUICK, get_profile, reproduce
from beyondadam.reporting.benchmark_stage import resolve_tasks
from beyondadam.reporting.datasets import DatasetStatus
from beyondadam.reporting.pipeline import STAGES
from beyondadam.reporting.render import render_html, render_markdown
from beyondadam.reporting.results import StageRecord
from beyondadam.reporting.sample import sample_benchmark_data, sample_results
from tests.test_cli import refused

BENCH = [s for s in STAGES if s.id == "benchmark"]


@pytest.fixture
def fake_runs(monkeypatch):
    """No training: run_benchmark returns the sample's runs; the data and pool are not touched."""
    calls = []

    def run_benchmark(spec, out_dir, *, data_dir=None, executor=None, quiet=False, device=None):
        calls.append(spec)
        data = sample_benchmark_data({"mnist-logreg": {"amsgrad": -0.1}})
        return replace(data, tasks=spec.tasks)

    class Pool:
        def close(self):
            pass

    monkeypatch.setattr(bench, "run_benchmark", run_benchmark, raising=False)
    monkeypatch.setattr(
        "beyondadam.reporting.datasets.dataset_status", lambda *a: DatasetStatus(ready=True)
    )
    monkeypatch.setattr("beyondadam.experiments.make_executor", lambda *a, **k: Pool())
    return calls


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--task", "imagenet"], "--task"),
        (["--optimizer", "adamw2"], "--optimizer"),
        (["--optimizer", "amsgrad"], "--optimizer"),  # no Adam to compare with
        (["--optimizer", "adam"], "--optimizer"),  # nothing to compare
        (["--budget", "0"], "--budget"),
        (["--seeds", "0"], "--seeds"),
        (["--steps", "many"], "--steps"),
        (["--steps", "cifarnet=10"], "--steps"),  # not a benchmarked task
        (["--steps", "0"], "--steps"),
        (["--tune", "eps"], "--tune"),
        (["--executor", "dask"], "--scheduler"),
        (["--executor", "dask", "--scheduler", "nowhere"], "--scheduler"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_mistakes_are_refused_naming_the_option(tmp_path, fake_runs, args, option):
    refused(["benchmark", "--task", "mnist-logreg", "--out", str(tmp_path / "o"), *args], option)
    assert fake_runs == []
    assert not (tmp_path / "o").exists()


def test_a_folder_of_other_outputs_is_refused(tmp_path, fake_runs):
    (tmp_path / "mine.txt").write_text("x")
    refused(["benchmark", "--optimizer", "adam,amsgrad", "--out", str(tmp_path)], "--out")
    assert fake_runs == []


def test_run_writes_outputs_prints_the_summary_and_resumes(tmp_path, fake_runs):
    out = tmp_path / "b"
    args = ["benchmark", "--task", "cpu", "--optimizer", "ADAM", "--optimizer", "amsgrad,Yogi"]
    args += ["--budget", "4", "--seeds", "5", "--steps", "mnist-mlp=30", "--out", str(out), "-q"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    spec = fake_runs[0]
    assert spec.optimizers == ("adam", "amsgrad", "yogi")
    assert spec.tasks == resolve_tasks(["cpu"])
    assert spec.steps == (("mnist-mlp", 30),)
    assert spec.budget == 4
    assert spec.tune == ("lr",)
    assert "mnist-logreg: beat Adam: AMSGrad" in r.output
    assert "Holm" in r.output
    for name in ("benchmark.json", "records.csv", "analysis.md", "benchmark_outcomes.csv",
                 "benchmark_results.csv", "benchmark_test_loss.png", "benchmark_profile.svg",
                 "benchmark_budget.png", "spec.json"):  # fmt: skip
        assert (out / name).is_file(), name
    stored = json.loads((out / "benchmark.json").read_text())
    assert stored["kind"] == "benchmark"
    assert len(stored["comparisons"]) == 2 * len(spec.tasks)
    assert "| AMSGrad | WIN" in (out / "analysis.md").read_text()
    # the same command again resumes into the same folder; another spec is refused
    assert CliRunner().invoke(main, args).exit_code == 0
    refused([*args, "--budget", "3"], "--out")
    assert CliRunner().invoke(main, [*args, "--budget", "3", "--force"]).exit_code == 0


def test_quick_profile_records_the_benchmark_as_not_run(tmp_path):
    res = reproduce(QUICK, tmp_path, stages=BENCH, quiet=True)
    rec = StageRecord.from_json(res.data["stages"]["benchmark"])
    assert rec.status == "not run"
    assert "quick profile runs no benchmark" in rec.reason
    assert "--profile family" in rec.command
    assert f"--out {tmp_path.parent / 'family'}" in rec.command  # not the quick run's folder
    md = res.report_md.read_text()
    assert "## Does anything beat Adam?" in md
    assert "--profile family" in md


def test_family_profile_runs_the_stage_and_the_report_shows_it(tmp_path, fake_runs):
    family = replace(get_profile("family"), benchmark_optimizers=("adam", "amsgrad", "yogi"))
    assert family.benchmark_tasks == ("cpu",)
    res = reproduce(family, tmp_path, stages=BENCH, quiet=True)
    assert res.ran == ["benchmark"], res.data["stages"]
    assert fake_runs[0].budget == family.benchmark_budget
    md, page = res.report_md.read_text(), res.report_html.read_text()
    for text in ("Does anything beat Adam?", "Holm", "Win/tie/loss against Adam", "WIN"):
        assert text in md
        assert text in page
    assert page.count("data:image/png;base64,") == 3  # the three figures, inlined
    # a second run skips the stage (resumable like the others)
    assert reproduce(family, tmp_path, stages=BENCH, quiet=True).skipped == ["benchmark"]


def test_section_says_what_was_not_run(tmp_path):
    data = sample_results()
    md = render_markdown(data)
    assert "Tasks of the catalog not in this benchmark: cifarnet." in md
    assert "Optimizers that beat Adam on a majority of the 2 tasks: none." in md
    assert "Tasks of the catalog not in this benchmark: cifarnet." in render_html(data, tmp_path)
    del data["stages"]["benchmark"]
    assert "Does anything beat Adam?" not in render_markdown(data)
